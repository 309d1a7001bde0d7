//! `sprawl audit --validate` (issue 13 item 3): what the provider says feeds the audit's
//! categories. GitHub tokens in a temp repository (recorded revoked, expired or retired in the
//! register, expired at the vendor, or in no inventory), checked by the built-in GitHub validator
//! against a mock started here on 127.0.0.1 (the `SPRAWL_TEST_VALIDATE_BASE_URL` hook, set
//! on the child process only), in-process and from a saved `git --validate` report.

use std::path::Path;

use git2::Repository;

use crate::{
    util::*,
    validate::{Answer, Mock, Seen},
};

const NOW: &str = "2025-06-01T00:00:00Z";

struct Tokens {
    /// Revoked in the register, still accepted by GitHub.
    revoked_live: String,
    /// Expired in the register, still accepted by GitHub.
    expired_live: String,
    /// Retired in the register, still accepted by GitHub.
    retired_live: String,
    /// Expired at the vendor (the SSO authorization's expiry passed), still accepted.
    vendor_expired_live: String,
    /// In no inventory, accepted by GitHub (the validator names its login).
    shadow_live: String,
    /// In no inventory, rejected by GitHub.
    dead: String,
    /// In no inventory; GitHub answers 503 (unknown), committed in 2023.
    old_static: String,
}

fn tokens() -> Tokens {
    Tokens {
        revoked_live: github_key("av-revoked-live"),
        expired_live: github_key("av-expired-live"),
        retired_live: github_key("av-retired-live"),
        vendor_expired_live: github_key("av-vendor-expired-live"),
        shadow_live: github_key("av-shadow-live"),
        dead: github_key("av-dead"),
        old_static: github_key("av-old-static"),
    }
}

fn answer(t: &Tokens, s: &Seen) -> Answer {
    let auth = s.header("authorization").unwrap_or("");
    let has = |k: &str| auth.ends_with(k);
    if has(&t.revoked_live)
        || has(&t.expired_live)
        || has(&t.retired_live)
        || has(&t.vendor_expired_live)
    {
        Answer::json(200, r#"{"login":"release-bot","id":7}"#)
    } else if has(&t.shadow_live) {
        Answer::json(200, r#"{"login":"dave-gh","id":8}"#)
    } else if has(&t.dead) {
        Answer::json(401, r#"{"message":"Bad credentials"}"#)
    } else {
        Answer::json(503, "{}")
    }
}

/// The repository (every token, committed in November 2023), the register, a GitHub SSO
/// authorizations export (`gh api --paginate`) and the roster.
fn fixture(t: &Tokens) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let repo = Repository::init(root.join("repo")).unwrap();
    let files = [
        ("ci/release.sh", &t.revoked_live),
        ("ci/nightly.sh", &t.expired_live),
        ("ci/pilot.sh", &t.retired_live),
        ("ci/sso.sh", &t.vendor_expired_live),
        ("ci/shadow.sh", &t.shadow_live),
        ("old/dead.env", &t.dead),
        ("old/static.env", &t.old_static),
    ];
    for (path, token) in files {
        write_file(&root.join("repo"), path, &format!("GH_TOKEN={token}\n"));
    }
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
             release-bot,github,{},dave@example.com,releases,revoked,2025-01-01,2026-01-01\n\
             nightly-bot,github,{},dave@example.com,nightly builds,expired,2024-01-01,2025-01-01\n\
             pilot-bot,github,{},dave@example.com,2024 pilot,retired,2024-01-01,2026-01-01\n",
            sprawl::finding::Fingerprint::of(t.revoked_live.as_bytes()),
            sprawl::finding::Fingerprint::of(t.expired_live.as_bytes()),
            sprawl::finding::Fingerprint::of(t.retired_live.as_bytes()),
        ),
    );
    write_file(
        root,
        "github-auth.json",
        &format!(
            r#"[{{"login": "dave-gh", "credential_id": 11, "credential_type": "personal access token",
  "token_last_eight": "{}", "credential_authorized_at": "2025-01-01T00:00:00Z",
  "credential_accessed_at": "2025-05-30T00:00:00Z", "authorized_credential_note": "sso bot",
  "authorized_credential_expires_at": "2025-03-01T00:00:00Z", "scopes": ["repo"]}}]
"#,
            &t.vendor_expired_live[t.vendor_expired_live.len() - 8..]
        ),
    );
    write_file(
        root,
        "roster.csv",
        "name,email,github_login\nDave,dave@example.com,dave-gh\n",
    );
    dir
}

fn run(dir: &Path, mock: &Mock, args: &[&str]) -> (serde_json::Value, String) {
    let out = sprawl()
        .current_dir(dir)
        .env(sprawl::validate::http::TEST_BASE_URL_VAR, &mock.base)
        .args(args)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let v = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {stderr}\n{}", String::from_utf8_lossy(&out.stdout)));
    (v, stderr)
}

const AUDIT: &[&str] = &[
    "audit",
    "--now",
    NOW,
    "--format",
    "json",
    "--inventory",
    "register.csv",
    "--inventory",
    "github-auth.json",
    "--roster",
    "roster.csv",
];

/// The audit in-process (`--git repo --validate`) and from a saved `git --validate` report.
fn both_modes() -> (Tokens, Vec<serde_json::Value>, usize) {
    let t = tokens();
    let dir = fixture(&t);
    let tk = tokens();
    let mock = Mock::start(move |s, _| answer(&tk, s));
    let mut live_args = AUDIT.to_vec();
    live_args.extend(["--git", "repo", "--validate"]);
    let (live, stderr) = run(dir.path(), &mock, &live_args);
    let report = sprawl()
        .current_dir(dir.path())
        .env(sprawl::validate::http::TEST_BASE_URL_VAR, &mock.base)
        .args([
            "git",
            "repo",
            "--validate",
            "--format",
            "json",
            "-o",
            "repo.json",
        ])
        .output()
        .unwrap();
    assert_eq!(report.status.code(), Some(1));
    let mut saved_args = AUDIT.to_vec();
    saved_args.push("repo.json");
    let (saved, _) = run(dir.path(), &mock, &saved_args);
    for s in [
        &t.revoked_live,
        &t.expired_live,
        &t.retired_live,
        &t.vendor_expired_live,
        &t.shadow_live,
        &t.dead,
        &t.old_static,
    ] {
        let all = format!("{live}{saved}{stderr}");
        assert!(!all.contains(s.as_str()), "a secret in the output");
    }
    let requests = mock.requests().len();
    (t, vec![live, saved], requests)
}

fn cred<'a>(v: &'a serde_json::Value, token: &str) -> &'a serde_json::Value {
    let fp = sprawl::finding::Fingerprint::of(token.as_bytes()).to_string();
    v["credentials"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["fingerprint"] == fp)
        .unwrap_or_else(|| panic!("{fp} not audited"))
}

fn hit<'a>(c: &'a serde_json::Value, category: &str) -> Option<&'a serde_json::Value> {
    c["categories"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["category"] == category)
}

#[test]
fn revoked_in_the_register_but_accepted_is_revoked_but_live_and_first() {
    let (t, runs, _) = both_modes();
    for v in &runs {
        let c = cred(v, &t.revoked_live);
        let h = hit(c, "revoked_but_live").unwrap_or_else(|| panic!("{c:#}"));
        assert_eq!(h["severity"], "critical");
        let why = h["evidence"].as_str().unwrap();
        assert!(
            why.contains("revoked") && why.contains("the provider accepts it"),
            "{why}"
        );
        assert!(hit(c, "revoked_but_present").is_none(), "it is not dead");
        assert_eq!(c["severity"], "critical");
        assert_listed_first(v, c);
    }
}

/// The credentials that are revoked_but_live come before every other, `c` among them.
fn assert_listed_first(v: &serde_json::Value, c: &serde_json::Value) {
    let list = v["credentials"].as_array().unwrap();
    let first: Vec<&serde_json::Value> = list
        .iter()
        .take_while(|x| hit(x, "revoked_but_live").is_some())
        .collect();
    assert!(
        list[first.len()..]
            .iter()
            .all(|x| hit(x, "revoked_but_live").is_none()),
        "revoked_but_live listed first"
    );
    assert!(first.contains(&c), "listed first");
}

/// Issue 13 item 3: "a key the inventory says is revoked, expired or retired that still
/// validates is revoked_but_live (critical)": the register's `expired` and `retired`, and an
/// expiry the vendor enforced (not only the register's `revoked`).
#[test]
fn expired_retired_or_vendor_expired_but_accepted_is_revoked_but_live() {
    let (t, runs, _) = both_modes();
    for v in &runs {
        for (token, said) in [
            (&t.expired_live, "the register says expired (register.csv"),
            (&t.retired_live, "the register says retired (register.csv"),
            (
                &t.vendor_expired_live,
                "the vendor expired it on 2025-03-01 (github-auth.json",
            ),
        ] {
            let c = cred(v, token);
            let h = hit(c, "revoked_but_live").unwrap_or_else(|| panic!("{said}: {c:#}"));
            assert_eq!(h["severity"], "critical", "{said}");
            let why = h["evidence"].as_str().unwrap();
            assert!(
                why.contains(said) && why.contains("but the provider accepts it"),
                "{why}"
            );
            assert!(hit(c, "revoked_but_present").is_none(), "{said}: it works");
            assert_eq!(c["severity"], "critical", "{said}");
            assert_listed_first(v, c);
        }
    }
}

#[test]
fn a_live_uninventoried_key_is_critical_and_its_login_is_suggested() {
    let (t, runs, _) = both_modes();
    for v in &runs {
        let c = cred(v, &t.shadow_live);
        let h = hit(c, "uninventoried").unwrap();
        assert_eq!(h["severity"], "critical", "{c:#}");
        assert!(h["evidence"].as_str().unwrap().contains("live"));
        let s: Vec<&str> = c["suggested_owners"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap())
            .collect();
        assert!(s.contains(&"@dave-gh (validator github)"), "{s:?}");
    }
}

#[test]
fn a_key_the_provider_rejects_is_a_low_clean_up() {
    let (t, runs, _) = both_modes();
    for v in &runs {
        let c = cred(v, &t.dead);
        assert_eq!(c["severity"], "low", "{c:#}");
        let h = hit(c, "revoked_but_present").unwrap();
        let why = h["evidence"].as_str().unwrap();
        assert!(
            why.contains("clean-up") && why.contains("the provider rejects it"),
            "{why}"
        );
        assert!(hit(c, "long_lived").is_none(), "a dead key is not a risk");
    }
}

#[test]
fn an_old_static_key_of_unknown_state_is_long_lived() {
    let (t, runs, requests) = both_modes();
    for v in &runs {
        let c = cred(v, &t.old_static);
        let h = hit(c, "long_lived").unwrap_or_else(|| panic!("{c:#}"));
        assert!(h["evidence"]
            .as_str()
            .unwrap()
            .contains("in the code since 2023-11-14"));
        assert_eq!(hit(c, "uninventoried").unwrap()["severity"], "high");
    }
    // One request per secret per run: 7 by the audit, 7 by the git run.
    assert_eq!(requests, 14);
}
