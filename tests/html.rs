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
    assert_eq!(dom.matches("<tr class=\"credential\" ").count(), n);
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
    // Readable without hovering (issue 9 item 10): a labelled row per dated credential and
    // dated ticks on the axis.
    let rows = tl.matches("class=\"row-label\"").count();
    assert!(
        rows >= 1 && rows <= n,
        "{rows} timeline rows for {n} credentials"
    );
    assert_eq!(tl.matches("class=\"tick\"").count(), 5, "dated axis ticks");
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

/// Issue 9 item 10: the scan/git page shows what a scan knows (severity, provider, who
/// introduced a secret, whether HEAD still holds it, where), worst first, and no audit tiles.
#[test]
fn git_html_shows_what_a_scan_knows_in_headless_chromium() {
    use crate::util::{github_key, openai_key};
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let git = |args: &[&str]| {
        let st = Std::new("git")
            .current_dir(d)
            .args([
                "-c",
                "user.name=Ada Author",
                "-c",
                "user.email=ada@example.com",
            ])
            .args(["-c", "commit.gpgsign=false"])
            .args(args)
            .output()
            .unwrap();
        assert!(st.status.success(), "{st:?}");
    };
    git(&["init", "-q", "-b", "main"]);
    let (gh, oa) = (github_key("html-gone"), openai_key("html-kept"));
    std::fs::write(d.join("old.env"), format!("T={gh}\n")).unwrap();
    std::fs::write(d.join("app.env"), format!("OPENAI_API_KEY={oa}\n")).unwrap();
    git(&["add", "-A"]);
    git(&["commit", "-q", "-m", "add config"]);
    std::fs::remove_file(d.join("old.env")).unwrap();
    git(&["add", "-A"]);
    git(&["commit", "-q", "-m", "remove the token"]);
    let out = crate::util::sprawl()
        .current_dir(d)
        .args(["git", "--format", "html", "--no-progress"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let html = String::from_utf8(out.stdout).unwrap();
    for k in [&gh, &oa] {
        assert!(!html.contains(&k[8..24]), "a secret in the page");
    }
    for absent in ["uninventoried", "orphaned", "stale", "Owner", "Record"] {
        assert!(
            !html.contains(absent),
            "audit vocabulary `{absent}` in a scan page"
        );
    }
    assert!(
        html.contains("Ada Author") && html.contains("removed</b>"),
        "{html}"
    );
    // Worst first: the high OpenAI key before the GitHub token.
    let rows: Vec<&str> = html.split("<tr class=\"secret\"").skip(1).collect();
    assert_eq!(rows.len(), 2);
    let sev = |r: &str| {
        r.split("data-key=\"").nth(1).unwrap()[..1]
            .parse::<u8>()
            .unwrap()
    };
    assert!(sev(rows[0]) >= sev(rows[1]));

    let Some(bin) = chromium() else {
        assert!(std::env::var_os("CI").is_none(), "CI must have Chromium");
        eprintln!("skipped the browser part: no Chromium");
        return;
    };
    let page = d.join("scan.html");
    std::fs::write(&page, &html).unwrap();
    let url = format!("file://{}", page.display());
    let profile = d.join("chromium-profile");
    let dom = headless(&bin, &profile)
        .arg("--dump-dom")
        .arg(&url)
        .output()
        .unwrap();
    let dom = String::from_utf8_lossy(&dom.stdout).into_owned();
    for id in [
        "tile-secrets",
        "tile-critical",
        "tile-removed",
        "chart-severity",
        "chart-provider",
        "secrets",
    ] {
        assert!(dom.contains(&format!("id=\"{id}\"")), "{id} missing");
    }
    let shot = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .unwrap()
        .join("scan-report.png");
    let st = headless(&bin, &profile)
        .arg(format!("--screenshot={}", shot.display()))
        .arg("--window-size=1400,900")
        .arg(&url)
        .output()
        .unwrap();
    assert!(st.status.success());
    assert!(std::fs::metadata(&shot).unwrap().len() > 10_000);
}
