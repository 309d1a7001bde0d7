//! The HTML audit page answers, per credential, the lifecycle questions: who owns it, what it
//! is for, when it stops working (expiry, end of purpose), when it was last used, and when its
//! review is due, each with the export it came from. The page of the audit kit is parsed
//! (scraper) and each planted case's cells are read; no snapshot of the page.

use std::collections::BTreeMap;

use scraper::{ElementRef, Html, Selector};

use crate::{audit_kit::*, util::*};

const FIELDS: &[&str] = &["owner", "purpose", "stops", "last-used", "review-due"];

fn sel(s: &str) -> Selector {
    Selector::parse(s).unwrap()
}

/// Each row's lifecycle cells, by field, as text.
fn cells(row: ElementRef<'_>) -> BTreeMap<&'static str, String> {
    FIELDS
        .iter()
        .map(|f| {
            let c = row
                .select(&sel(&format!("td[data-field=\"{f}\"]")))
                .next()
                .unwrap_or_else(|| panic!("no {f} cell"));
            (*f, c.text().collect::<Vec<_>>().join(" "))
        })
        .collect()
}

#[test]
fn each_credential_shows_owner_purpose_end_last_use_and_review() {
    let k = kit();
    let dir = k.dir.path();
    let out = sprawl()
        .current_dir(dir)
        .args([
            "audit",
            "--now",
            "2025-06-01T00:00:00Z",
            "--roster",
            "roster.csv",
            "--policy",
            "policy.toml",
            "--format",
            "html",
            "--git",
            "repo",
            "--git",
            "svc",
        ])
        .args(inventory_args())
        .output()
        .unwrap();
    let html = String::from_utf8(out.stdout).unwrap();
    for s in &k.secrets {
        assert!(!html.contains(s.as_str()), "a secret in the page");
    }
    let doc = Html::parse_document(&html);
    let heads: Vec<String> = doc
        .select(&sel("table#credentials thead th"))
        .map(|h| h.text().collect())
        .collect();
    for h in [
        "Owner",
        "Purpose",
        "Stops working",
        "Last used",
        "Review due",
    ] {
        assert!(heads.iter().any(|x| x == h), "{h} column: {heads:?}");
    }
    let rows: Vec<ElementRef> = doc
        .select(&sel("table#credentials tr.credential"))
        .collect();
    assert_eq!(rows.len(), k.cases.len(), "one row per credential");
    let by_fp = |case: &str| -> BTreeMap<&'static str, String> {
        let fp = &k.cases[case];
        let row = rows
            .iter()
            .find(|r| r.value().attr("data-fingerprint") == Some(fp.as_str()))
            .unwrap_or_else(|| panic!("{case}: no row"));
        cells(*row)
    };
    let has = |c: &BTreeMap<&str, String>, field: &str, needles: &[&str]| {
        for n in needles {
            assert!(c[field].contains(n), "{field} lacks `{n}`: {c:?}");
        }
    };

    let chat = by_fp("openai by fingerprint, owner moved team");
    has(&chat, "owner", &["dave@example.com", "inv/register.csv"]);
    has(&chat, "purpose", &["chat backend"]);
    has(
        &chat,
        "stops",
        &["expires 2026-01-01", "set in the register"],
    );
    has(&chat, "last-used", &["no export reports its use"]);
    has(&chat, "review-due", &["2025-09-01", "inv/register.csv"]);

    let gh = by_fp("github token of a login who left");
    has(&gh, "owner", &["erin", "inv/github-auth.json"]);
    has(&gh, "purpose", &["release bot"]);
    has(&gh, "last-used", &["2025-05-20", "inv/github-auth.json"]);
    has(&gh, "stops", &["never on its own"]);
    has(&gh, "review-due", &["no review date set"]);

    let batch = by_fp("register expiry passed, still active");
    has(&batch, "stops", &["expired 2025-03-01"]);

    let aws = by_fp("revoked in the register, active at AWS");
    has(
        &aws,
        "owner",
        &["dave@example.com", "held by", "deploy-bot"],
    );
    has(&aws, "purpose", &["old deploys"]);

    let shadow = by_fp("anthropic shadow sharing last 4");
    has(&shadow, "owner", &["none recorded"]);
    has(&shadow, "purpose", &["not recorded"]);

    // The GCP key Google itself expired: the vendor enforces that date.
    let gcp = rows
        .iter()
        .find(|r| r.text().any(|t| t.contains("gcp.service-account-key")))
        .unwrap();
    has(
        &cells(*gcp),
        "stops",
        &["expired 2025-01-01", "enforced by the vendor"],
    );

    // Records found nowhere carry the same cells: the retired pilot's purpose has ended.
    let pilot = doc
        .select(&sel("table#records tr.record"))
        .find(|r| r.text().next() == Some("old-pilot"))
        .expect("old-pilot row");
    let p = cells(pilot);
    has(&p, "stops", &["end of purpose", "retired"]);
    has(&p, "purpose", &["2023 pilot"]);
    has(&p, "owner", &["carol@example.com"]);
}
