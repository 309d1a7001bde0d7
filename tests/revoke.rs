//! `sprawl revoke`: a dry run prints the GitHub revocation request it would send (redacted);
//! with `--send`, against the 127.0.0.1 mock, it sends the tokens in one batch; everything
//! else gets its rule's revocation checklist line.

use crate::{
    util::{github_key, key, openai_key, sprawl, write_tree},
    validate::{Answer, Mock, HOOK},
};
use sprawl::validate::http::TEST_BASE_URL_VAR;

fn tree() -> (tempfile::TempDir, Vec<String>, String) {
    let dir = tempfile::tempdir().unwrap();
    let gh = vec![github_key("revoke-1"), github_key("revoke-2")];
    let fine = key("github_pat_{{alnum:22}}_{{alnum:59}}", "revoke-3");
    let openai = openai_key("revoke-4");
    write_tree(
        dir.path(),
        &[
            (
                "a.env",
                format!("GH={}\nOPENAI_API_KEY={openai}\n", gh[0]).as_bytes(),
            ),
            (
                "b.env",
                format!("GH={}\nGH2={}\nFINE={fine}\n", gh[1], gh[0]).as_bytes(),
            ),
        ],
    );
    let mut tokens = gh;
    tokens.push(fine);
    (dir, tokens, openai)
}

#[test]
fn dry_run_prints_the_redacted_request_and_a_checklist() {
    let (dir, tokens, openai) = tree();
    let out = sprawl()
        .args(["revoke", "--scan"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("3 token(s) for GitHub's credential revocation API, 1 request(s) (dry run: nothing sent)"), "{text}");
    assert!(text.contains("POST https://api.github.com/credentials/revoke"));
    assert!(text.contains(r#"{"credentials":["#), "{text}");
    assert!(text.contains("ghp_…"), "{text}");
    assert!(text.contains("--send"));
    assert!(text.contains("Checklist (1 credential(s)):"), "{text}");
    assert!(text.contains("[ ] OpenAI"), "{text}");
    for t in tokens.iter().chain([&openai]) {
        assert!(!text.contains(t.as_str()), "a secret in the dry run");
    }
}

#[test]
fn send_posts_one_batch_to_the_mock() {
    let _g = HOOK.lock().unwrap_or_else(|e| e.into_inner());
    let mock = Mock::start(|_, _| Answer::json(202, "{}"));
    let (dir, tokens, openai) = tree();
    let out = sprawl()
        .env(TEST_BASE_URL_VAR, &mock.base)
        .args(["revoke", "--send", "--scan"])
        .arg(dir.path())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{text} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("GitHub accepted 3 token(s) for revocation (202)"),
        "{text}"
    );
    let seen = mock.requests();
    assert_eq!(seen.len(), 1, "one batch");
    let r = &seen[0];
    assert_eq!(
        (r.method.as_str(), r.path.as_str()),
        ("POST", "/credentials/revoke")
    );
    assert_eq!(r.host, "api.github.com");
    assert!(
        r.header("authorization").is_none(),
        "the API takes no authentication"
    );
    let body: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    let mut sent: Vec<String> = body["credentials"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    sent.sort();
    let mut want = tokens.clone();
    want.sort();
    assert_eq!(sent, want, "each distinct GitHub token once, nothing else");
    assert!(!r.body.contains(&openai));
    for t in &tokens {
        assert!(!text.contains(t.as_str()));
    }
}

#[test]
fn a_rejected_batch_is_an_error_without_the_secret() {
    let _g = HOOK.lock().unwrap_or_else(|e| e.into_inner());
    let (dir, tokens, _) = tree();
    let echo = tokens[0].clone();
    let mock =
        Mock::start(move |_, _| Answer::json(422, &format!(r#"{{"message":"bad {echo}"}}"#)));
    let out = sprawl()
        .env(TEST_BASE_URL_VAR, &mock.base)
        .args(["revoke", "--send", "--scan"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("answered 422"), "{err}");
    assert!(!err.contains(&tokens[0]));
}

#[test]
fn a_report_gives_a_checklist_and_says_how_to_revoke_github_tokens() {
    let (dir, tokens, _) = tree();
    let report = dir.path().join("report.json");
    let scan = sprawl()
        .arg("scan")
        .arg(dir.path())
        .args(["--format", "json", "--output"])
        .arg(&report)
        .output()
        .unwrap();
    assert_eq!(scan.status.code(), Some(1));
    let out = sprawl().arg("revoke").arg(&report).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Checklist (4 credential(s)):"), "{text}");
    assert!(text.contains("sprawl revoke --scan PATH"), "{text}");
    assert!(!text.contains("POST "), "no secrets, no request");
    for t in &tokens {
        assert!(!text.contains(t.as_str()));
    }
}
