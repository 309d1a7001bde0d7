//! What every report must answer (issue 10 item 9, issue 13 items 3 and 5): per credential,
//! in every audit format (text, JSON, CSV, SARIF, HTML), who owns it and by which export,
//! what it is for, when it stops working, when it was last used and by which export, which
//! categories and why, what the provider said (`--validate`), and the rule's own revoke
//! text; and the rule's revoke text in the scan's JSON, CSV and HTML. Each format is read as
//! its own structure (JSON value, CSV columns, SARIF properties, HTML cells, text lines).

use std::path::Path;

use git2::Repository;
use scraper::{ElementRef, Html, Selector};

use crate::{
    audit::{audit_args, fixture},
    util::*,
    validate::{Answer, Mock},
};

fn sel(s: &str) -> Selector {
    Selector::parse(s).unwrap()
}

fn text_of(e: ElementRef<'_>) -> String {
    e.text().collect::<Vec<_>>().join(" ")
}

/// The revoke text of a built-in rule.
fn revoke_of(rule: &str) -> String {
    let set = sprawl::rules::RuleSet::builtin().unwrap();
    set.get(rule)
        .and_then(|r| r.revoke.clone())
        .unwrap_or_else(|| panic!("{rule} has no revoke text"))
}

/// CSV rows as maps from column to value.
fn csv_rows(text: &str) -> Vec<std::collections::BTreeMap<String, String>> {
    let mut rdr = csv::Reader::from_reader(text.as_bytes());
    let headers = rdr.headers().unwrap().clone();
    rdr.records()
        .map(|r| {
            let r = r.unwrap();
            headers
                .iter()
                .zip(r.iter())
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

fn sarif_results(text: &str) -> Vec<serde_json::Value> {
    let v: serde_json::Value = serde_json::from_str(text).unwrap();
    v["runs"][0]["results"].as_array().unwrap().clone()
}

/// One audit run's stdout in `format`, with the mock as the validators' base URL.
fn audit_out(dir: &Path, base: Option<&str>, args: &[String], format: &str) -> String {
    let mut cmd = sprawl();
    cmd.current_dir(dir);
    if let Some(b) = base {
        cmd.env(sprawl::validate::http::TEST_BASE_URL_VAR, b);
    }
    let mut args = args.to_vec();
    let at = args.iter().position(|a| a == "--format").unwrap();
    args[at + 1] = format.to_string();
    let out = cmd.args(&args).output().unwrap();
    assert!(
        out.status.code() == Some(0) || out.status.code() == Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn a_validated_audit_shows_status_and_time_in_every_format() {
    let live = github_key("rf-live");
    let unknown = github_key("rf-unknown");
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let repo = Repository::init(root.join("repo")).unwrap();
    write_file(
        &root.join("repo"),
        "ci/release.sh",
        &format!("GH_TOKEN={live}\n"),
    );
    write_file(
        &root.join("repo"),
        "ci/other.sh",
        &format!("GH_TOKEN={unknown}\n"),
    );
    commit_all(
        &repo,
        ("Bob", "bob@example.com"),
        1_700_000_000,
        "add tokens",
    );
    write_file(
        root,
        "register.csv",
        &format!(
            "id,provider,fingerprint,owner,purpose,status,created_at,expires_at\n\
             release-bot,github,{},dave@example.com,releases,active,2025-01-01,2026-01-01\n",
            sprawl::finding::Fingerprint::of(live.as_bytes())
        ),
    );
    let l = live.clone();
    let mock = Mock::start(move |s, _| {
        if s.header("authorization").unwrap_or("").ends_with(&l) {
            Answer::json(200, r#"{"login":"release-bot","id":7}"#)
        } else {
            Answer::json(503, "{}")
        }
    });
    let args: Vec<String> = [
        "audit",
        "--now",
        "2025-06-01T00:00:00Z",
        "--format",
        "json",
        "--inventory",
        "register.csv",
        "--git",
        "repo",
        "--validate",
        // One check for all five runs: the same `checked_at` in every format.
        "--validate-cache",
        "validate-cache.json",
    ]
    .map(String::from)
    .to_vec();
    let run = |format: &str| {
        let out = audit_out(root, Some(&mock.base), &args, format);
        for s in [&live, &unknown] {
            assert!(!out.contains(s.as_str()), "a secret in the {format} audit");
        }
        out
    };
    let fp_live = sprawl::finding::Fingerprint::of(live.as_bytes()).to_string();
    let fp_unknown = sprawl::finding::Fingerprint::of(unknown.as_bytes()).to_string();

    // JSON: `validation: {status, checked_at, identity}` on each credential.
    let json: serde_json::Value = serde_json::from_str(&run("json")).unwrap();
    let cred = |fp: &str| -> serde_json::Value {
        json["credentials"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["fingerprint"] == fp)
            .unwrap_or_else(|| panic!("{fp} not audited: {json:#}"))
            .clone()
    };
    let v = cred(&fp_live)["validation"].clone();
    assert_eq!(v["status"], "valid", "{v:#}");
    assert_eq!(v["identity"]["login"], "release-bot", "{v:#}");
    let checked_at = v["checked_at"].as_str().unwrap().to_string();
    assert!(checked_at.starts_with("20"), "{checked_at}");
    assert_eq!(cred(&fp_unknown)["validation"]["status"], "unknown");

    // CSV: status, time and identity columns.
    let rows = csv_rows(&run("csv"));
    let row = |fp: &str| {
        rows.iter()
            .find(|r| r["fingerprint"] == fp)
            .unwrap_or_else(|| panic!("no CSV row for {fp}"))
            .clone()
    };
    assert_eq!(row(&fp_live)["validation"], "valid");
    assert_eq!(row(&fp_live)["validation_checked_at"], checked_at);
    assert!(row(&fp_live)["validation_identity"].contains("login=release-bot"));
    assert_eq!(row(&fp_unknown)["validation"], "unknown");

    // SARIF: `properties.validation` on each of the credential's results.
    let results = sarif_results(&run("sarif"));
    for (fp, status) in [(&fp_live, "valid"), (&fp_unknown, "unknown")] {
        let mine: Vec<&serde_json::Value> = results
            .iter()
            .filter(|r| r["partialFingerprints"]["secretFingerprint/v1"] == fp.as_str())
            .collect();
        assert!(!mine.is_empty(), "no SARIF result for {fp}");
        for r in mine {
            assert_eq!(r["properties"]["validation"]["status"], status, "{r:#}");
            assert!(r["properties"]["validation"]["checked_at"].is_string());
        }
    }

    // HTML: a validation cell for every status, not only the invalid ones.
    let html = Html::parse_document(&run("html"));
    let cell = |fp: &str| -> ElementRef<'_> {
        let row = html
            .select(&sel("table#credentials tr.credential"))
            .find(|r| r.value().attr("data-fingerprint") == Some(fp))
            .unwrap_or_else(|| panic!("no HTML row for {fp}"));
        row.select(&sel("td[data-field=\"validation\"]"))
            .next()
            .expect("a validation cell")
    };
    let c = cell(&fp_live);
    assert_eq!(c.value().attr("data-status"), Some("valid"));
    let t = text_of(c);
    assert!(
        t.contains("valid") && t.contains(&checked_at) && t.contains("release-bot"),
        "{t}"
    );
    assert_eq!(
        cell(&fp_unknown).value().attr("data-status"),
        Some("unknown")
    );

    // Text: a `live?` line per credential.
    let text = run("text");
    assert!(
        text.lines()
            .any(|l| l.contains("live?: valid") && l.contains(&checked_at)),
        "{text}"
    );
    assert!(text.lines().any(|l| l.contains("live?: unknown")), "{text}");

    // The scan's page has the same cell.
    let out = sprawl()
        .current_dir(root)
        .env(sprawl::validate::http::TEST_BASE_URL_VAR, &mock.base)
        .args(["scan", "repo", "--validate", "--format", "html"])
        .output()
        .unwrap();
    let page = String::from_utf8(out.stdout).unwrap();
    assert!(!page.contains(live.as_str()) && !page.contains(unknown.as_str()));
    let html = Html::parse_document(&page);
    let statuses: Vec<&str> = html
        .select(&sel(
            "table#secrets tr.secret td[data-field=\"validation\"]",
        ))
        .filter_map(|c| c.value().attr("data-status"))
        .collect();
    assert!(
        statuses.contains(&"valid") && statuses.contains(&"unknown"),
        "{statuses:?}"
    );
}

#[test]
fn every_audit_format_answers_who_what_until_when_last_use_why_and_how_to_revoke() {
    let (dir, k) = fixture();
    let args = audit_args("json");
    let run = |format: &str| {
        let out = audit_out(dir.path(), None, &args, format);
        for s in [&k.openai, &k.anthropic, &k.aws_secret, &k.github] {
            assert!(!out.contains(s.as_str()), "a secret in the {format} audit");
        }
        out
    };
    // The AWS key (found, matched to its register row and two AWS exports) and the retired
    // Cohere pilot (a record found nowhere), with the facts each format must give.
    let aws_revoke = revoke_of("aws.access-key-pair");
    let cohere_revoke = revoke_of("cohere.api-key");
    let aws_facts = [
        "dave@example.com",
        "inventory/register.json#0",
        "CI deploys",
        "2026-01-15",
        "2025-05-30",
        "inventory/aws-last-used.json#0",
        "revoked_but_present",
        "status is inactive at the vendor",
        aws_revoke.as_str(),
    ];
    let cohere_facts = [
        "frank@example.com",
        "inventory/register.json#2",
        "2023 pilot",
        "2025-12-31",
        "past_purpose",
        "the register says retired",
        cohere_revoke.as_str(),
    ];
    let has_all = |what: &str, hay: &str, needles: &[&str]| {
        for n in needles {
            assert!(hay.contains(n), "{what} lacks `{n}`:\n{hay}");
        }
    };

    // JSON.
    let json: serde_json::Value = serde_json::from_str(&run("json")).unwrap();
    let aws = json["credentials"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["rule"] == "aws.access-key-pair")
        .unwrap();
    let rec = &aws["record"];
    assert_eq!(rec["owner"], "dave@example.com");
    assert_eq!(rec["sources"][0], "inventory/register.json#0");
    assert_eq!(rec["purpose"], "CI deploys");
    assert_eq!(rec["expires_at"], "2026-01-15T00:00:00Z");
    assert_eq!(rec["last_used_at"], "2025-05-30T12:00:00Z");
    assert_eq!(
        rec["facts"]["last_used_at"],
        "inventory/aws-last-used.json#0"
    );
    let hits = aws["categories"].as_array().unwrap();
    assert!(hits.iter().any(|h| h["category"] == "revoked_but_present"
        && h["evidence"]
            .as_str()
            .unwrap()
            .contains("status is inactive at the vendor")));
    assert_eq!(
        aws["what_to_do"][0],
        format!("revoke / rotate: {aws_revoke}")
    );
    let cohere = json["records"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "cohere-pilot")
        .unwrap();
    assert_eq!(
        cohere["what_to_do"][0],
        format!("revoke / rotate: {cohere_revoke}")
    );
    has_all("JSON record", &cohere.to_string(), &cohere_facts);

    // CSV: one column per question.
    let rows = csv_rows(&run("csv"));
    let aws_row = rows
        .iter()
        .find(|r| r["rule"] == "aws.access-key-pair")
        .unwrap();
    assert_eq!(aws_row["owner"], "dave@example.com");
    assert_eq!(aws_row["owner_source"], "inventory/register.json#0");
    assert_eq!(aws_row["purpose"], "CI deploys");
    assert_eq!(aws_row["purpose_source"], "inventory/register.json#0");
    assert_eq!(aws_row["expires_at"], "2026-01-15T00:00:00Z");
    assert_eq!(aws_row["expires_source"], "inventory/register.json#0");
    assert_eq!(aws_row["last_used_at"], "2025-05-30T12:00:00Z");
    assert_eq!(
        aws_row["last_used_source"],
        "inventory/aws-last-used.json#0"
    );
    assert!(aws_row["categories"].contains("revoked_but_present"));
    assert!(aws_row["evidence"].contains("revoked_but_present: status is inactive at the vendor"));
    assert!(aws_row["what_to_do"].starts_with(&format!("revoke / rotate: {aws_revoke}")));
    let cohere_row = rows.iter().find(|r| r["record"] == "cohere-pilot").unwrap();
    assert_eq!(cohere_row["item"], "record");
    assert_eq!(cohere_row["owner_source"], "inventory/register.json#2");
    has_all(
        "CSV record row",
        &cohere_row.values().cloned().collect::<Vec<_>>().join(","),
        &cohere_facts,
    );

    // SARIF: properties, and the message for people.
    let results = sarif_results(&run("sarif"));
    let aws_results: Vec<&serde_json::Value> = results
        .iter()
        .filter(|r| r["properties"]["rule"] == "aws.access-key-pair")
        .collect();
    assert!(!aws_results.is_empty());
    for r in &aws_results {
        let p = &r["properties"];
        assert_eq!(p["owner"], "dave@example.com");
        assert_eq!(p["ownerSource"], "inventory/register.json#0");
        assert_eq!(p["purpose"], "CI deploys");
        assert_eq!(p["expiresAt"], "2026-01-15T00:00:00Z");
        assert_eq!(p["lastUsedAt"], "2025-05-30T12:00:00Z");
        assert_eq!(p["lastUsedSource"], "inventory/aws-last-used.json#0");
        assert!(p["evidence"].is_string());
        assert_eq!(p["whatToDo"][0], format!("revoke / rotate: {aws_revoke}"));
        let msg = r["message"]["text"].as_str().unwrap();
        has_all("SARIF message", msg, &aws_facts[..6]);
    }
    assert!(aws_results.iter().any(|r| {
        r["properties"]["category"] == "revoked_but_present"
            && r["properties"]["evidence"]
                .as_str()
                .unwrap()
                .contains("status is inactive at the vendor")
    }));
    let cohere_result = results
        .iter()
        .find(|r| {
            r["properties"]["record"] == "cohere-pilot"
                && r["properties"]["category"] == "past_purpose"
        })
        .unwrap();
    has_all(
        "SARIF record result",
        &cohere_result.to_string(),
        &cohere_facts,
    );

    // HTML: the credential's row and the record's row.
    let page = run("html");
    let html = Html::parse_document(&page);
    let aws_fp = aws["fingerprint"].as_str().unwrap();
    let row = html
        .select(&sel("table#credentials tr.credential"))
        .find(|r| r.value().attr("data-fingerprint") == Some(aws_fp))
        .unwrap();
    has_all("HTML credential row", &text_of(row), &aws_facts);
    // The `exposed` evidence is shown too (it carries what the provider said, when validated).
    assert!(text_of(row).contains("exposed : AWS access key (id and secret) found in 2 places"));
    let todo = row
        .select(&sel("td[data-field=\"what-to-do\"]"))
        .next()
        .expect("a what-to-do cell");
    assert!(text_of(todo).starts_with(&format!("revoke / rotate: {aws_revoke}")));
    let rec_row = html
        .select(&sel("table#records tr.record"))
        .find(|r| r.text().next() == Some("cohere-pilot"))
        .unwrap();
    has_all("HTML record row", &text_of(rec_row), &cohere_facts);

    // Text: the credential's block and the record's block.
    let text = run("text");
    // A block: the line that starts it and the indented lines under it.
    let block = |start: &str| -> String {
        let lines: Vec<&str> = text.lines().collect();
        let i = lines
            .iter()
            .position(|l| l.starts_with(start))
            .unwrap_or_else(|| panic!("no `{start}`:\n{text}"));
        let n = lines[i + 1..]
            .iter()
            .take_while(|l| l.starts_with("    "))
            .count();
        lines[i..=i + n].join("\n")
    };
    let aws_block = block(&format!(
        "{} aws (aws.access-key-pair) fingerprint",
        aws["redacted"].as_str().unwrap()
    ));
    has_all(
        "text credential block",
        &aws_block,
        &[
            "dave@example.com",
            "inventory/register.json#0",
            "CI deploys",
            "2026-01-15",
            "2025-05-30",
            "inventory/aws-last-used.json#0",
            "revoked_but_present",
            aws_revoke.as_str(),
        ],
    );
    // Why: the category sections give each credential's evidence.
    assert!(text.contains("status is inactive at the vendor"), "{text}");
    let cohere_block = block("record cohere-pilot cohere");
    has_all(
        "text record block",
        &cohere_block,
        &[
            "frank@example.com",
            "inventory/register.json#2",
            "2023 pilot",
            "2025-12-31",
            "past_purpose",
            cohere_revoke.as_str(),
        ],
    );
    // Records found nowhere with nothing to report are counted, not listed.
    assert!(
        text.contains("2 inventory records found nowhere with nothing to report"),
        "{text}"
    );
}

#[test]
fn scan_json_csv_and_html_carry_the_rules_revoke_text() {
    let dir = tempfile::tempdir().unwrap();
    let secret = openai_key("rf-scan");
    write_file(dir.path(), ".env", &format!("OPENAI_API_KEY={secret}\n"));
    let revoke = revoke_of("openai.project-key");
    let run = |format: &str| {
        let out = sprawl()
            .current_dir(dir.path())
            .args(["scan", ".", "--format", format])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1));
        let s = String::from_utf8(out.stdout).unwrap();
        assert!(
            !s.contains(secret.as_str()),
            "a secret in the {format} scan"
        );
        s
    };
    let json: serde_json::Value = serde_json::from_str(&run("json")).unwrap();
    let f = &findings(&json)[0];
    assert_eq!(f["rule"], "openai.project-key");
    assert_eq!(f["revoke"], revoke.as_str());

    let rows = csv_rows(&run("csv"));
    assert_eq!(rows[0]["revoke"], revoke);

    let html = Html::parse_document(&run("html"));
    let todo = html
        .select(&sel(
            "table#secrets tr.secret td[data-field=\"what-to-do\"]",
        ))
        .next()
        .expect("a what-to-do cell");
    assert!(text_of(todo).contains(&revoke), "{}", text_of(todo));
    // A scan that was not validated says so rather than leaving the column blank.
    let live = html
        .select(&sel(
            "table#secrets tr.secret td[data-field=\"validation\"]",
        ))
        .next()
        .expect("a validation cell");
    assert!(text_of(live).contains("not checked"));

    // SARIF already had it in the rule's help; text in its `rotate` line.
    let text = run("text");
    assert!(text.contains(&format!("rotate       {revoke}")), "{text}");
}
