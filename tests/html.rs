//! The HTML report rendered in headless Chromium: tiles, both charts, the timeline and every
//! table row are in the DOM; no full secret is anywhere in the page. The screenshot goes to
//! `target/audit-report.png` for a person to look at.

use std::{path::PathBuf, process::Command as Std};

use crate::audit::{audit_json, fixture, run_audit};

fn chromium() -> Option<PathBuf> {
    [
        "/usr/bin/chromium",
        "/usr/bin/chromium-browser",
        "/usr/bin/google-chrome",
    ]
    .iter()
    .map(PathBuf::from)
    .find(|p| p.exists())
}

fn headless(bin: &PathBuf, profile: &std::path::Path) -> Std {
    let mut c = Std::new(bin);
    c.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
    ])
    .arg(format!("--user-data-dir={}", profile.display()));
    c
}

#[test]
fn audit_html_in_headless_chromium() {
    let Some(bin) = chromium() else {
        // CI installs Chromium; a developer machine without it skips, saying so.
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must have Chromium (see .ci/run)"
        );
        eprintln!("skipped: no Chromium (apt-get install chromium)");
        return;
    };
    let (dir, k) = fixture();
    let out = run_audit(dir.path(), "html");
    assert_eq!(out.status.code(), Some(1));
    let html = String::from_utf8(out.stdout).unwrap();
    assert!(
        !html.contains("http://") && !html.contains("https://cdn"),
        "no network"
    );
    let page = dir.path().join("report.html");
    std::fs::write(&page, &html).unwrap();
    let url = format!("file://{}", page.display());
    let profile = dir.path().join("chromium-profile");

    let dom = headless(&bin, &profile)
        .arg("--dump-dom")
        .arg(&url)
        .output()
        .unwrap();
    let dom = String::from_utf8_lossy(&dom.stdout).into_owned();
    for id in [
        "tile-credentials",
        "tile-critical",
        "tile-uninventoried",
        "tile-orphaned",
        "tile-stale",
        "tile-expired",
        "chart-category",
        "chart-provider",
        "chart-timeline",
        "credentials",
    ] {
        assert!(
            dom.contains(&format!("id=\"{id}\"")),
            "{id} missing from the DOM"
        );
    }
    let v = audit_json(dir.path());
    let n = v["credentials"].as_array().unwrap().len();
    assert_eq!(dom.matches("<tr class=\"credential\">").count(), n);
    let cats = v["summary"]["by_category"].as_object().unwrap().len();
    let cat_chart = dom
        .split("id=\"chart-category\"")
        .nth(1)
        .unwrap()
        .split("</svg>")
        .next()
        .unwrap();
    assert_eq!(cat_chart.matches("<rect").count(), cats);
    let prov_chart = dom
        .split("id=\"chart-provider\"")
        .nth(1)
        .unwrap()
        .split("</svg>")
        .next()
        .unwrap();
    assert!(prov_chart.matches("<rect").count() >= 5);
    let tl = dom
        .split("id=\"chart-timeline\"")
        .nth(1)
        .unwrap()
        .split("</svg>")
        .next()
        .unwrap();
    assert!(tl.contains("class=\"introduced\"") && tl.contains("class=\"expires\""));
    for s in [&k.openai, &k.anthropic, &k.aws_secret, &k.github] {
        assert!(
            !dom.contains(s.as_str()) && !html.contains(s.as_str()),
            "a secret in the page"
        );
    }

    let shot = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .unwrap()
        .join("audit-report.png");
    let st = headless(&bin, &profile)
        .arg(format!("--screenshot={}", shot.display()))
        .arg("--window-size=1400,1600")
        .arg(&url)
        .output()
        .unwrap();
    assert!(st.status.success());
    assert!(std::fs::metadata(&shot).unwrap().len() > 10_000);
}
