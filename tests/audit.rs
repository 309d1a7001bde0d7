//! `sprawl audit` end to end: a temp repository with five fake keys and one inventory file
//! per vendor format, built so that every category fires, with a fixed `--now`.

use std::path::Path;

use git2::Repository;

use crate::util::*;

const NOW: &str = "2025-06-01T00:00:00Z";

pub struct Keys {
    pub openai: String,
    pub anthropic: String,
    aws_id: String,
    pub aws_secret: String,
    gcp_key_id: String,
    pub github: String,
}

fn keys() -> Keys {
    Keys {
        openai: openai_key("audit-openai"),
        anthropic: anthropic_key("audit-anthropic"),
        aws_id: key("AKIA{{b32:16}}", "audit-aws-id"),
        aws_secret: key("{{b64:40}}", "audit-aws-secret"),
        gcp_key_id: key("{{hex:40}}", "audit-gcp-id"),
        github: github_key("audit-github"),
    }
}

use crate::util::write_file as write;

/// The repository, a log directory, and the inventory set; returns the work directory.
pub fn fixture() -> (tempfile::TempDir, Keys) {
    let dir = tempfile::tempdir().unwrap();
    let k = keys();
    let root = dir.path();
    let repo_dir = root.join("repo");
    let repo = Repository::init(&repo_dir).unwrap();
    let gcp_pem = key(
        "-----BEGIN PRIVATE KEY-----\\n{{b64:64}}\\n{{b64:64}}\\n-----END PRIVATE KEY-----\\n",
        "audit-gcp-pem",
    );
    write(
        &repo_dir,
        "services/chat/.env",
        &format!("OPENAI_API_KEY={}\n", k.openai),
    );
    write(
        &repo_dir,
        "notebooks/eval.py",
        &format!(
            "import anthropic\nclient = anthropic.Anthropic(api_key=\"{}\")\n",
            k.anthropic
        ),
    );
    write(
        &repo_dir,
        "app/config.py",
        &format!(
            "AWS_ACCESS_KEY_ID = \"{}\"\nAWS_SECRET_ACCESS_KEY = \"{}\"\n",
            k.aws_id, k.aws_secret
        ),
    );
    write(
        &repo_dir,
        "deploy/sa.json",
        &format!(
            "{{\n  \"type\": \"service_account\",\n  \"project_id\": \"demo\",\n  \"private_key_id\": \"{}\",\n  \"private_key\": \"{gcp_pem}\",\n  \"client_email\": \"ci@demo.iam.gserviceaccount.com\"\n}}\n",
            k.gcp_key_id
        ),
    );
    write(
        &repo_dir,
        "scripts/deploy.sh",
        &format!("export GH_TOKEN={}\n", k.github),
    );
    write(
        &repo_dir,
        "CODEOWNERS",
        "* @platform\n/scripts/ @release-team\n",
    );
    commit_all(
        &repo,
        ("Alice", "alice@example.com"),
        1_700_000_000,
        "initial",
    );
    // The OpenAI key also sprawled into a log somewhere else.
    write(
        root,
        "logs/app.log",
        &format!("2025-05-01 DEBUG auth header Bearer {}\n", k.openai),
    );

    let inv = root.join("inventory");
    let openai_hint = format!("{}...{}", &k.openai[..11], &k.openai[k.openai.len() - 4..]);
    write(
        &inv,
        "openai-project-keys.json",
        &format!(
            r#"{{"object": "list", "data": [
  {{"object": "organization.project.api_key", "id": "key_chatbot", "name": "chatbot prod",
    "redacted_value": "{openai_hint}", "created_at": 1672531200, "last_used_at": 1717200000,
    "owner": {{"type": "user", "user": {{"object": "organization.project.user", "id": "user_c", "name": "Carol", "email": "carol@example.com", "role": "owner"}}}}}},
  {{"object": "organization.project.api_key", "id": "key_unused", "name": "old pilot",
    "redacted_value": "sk-proj-zz...QQQQ", "created_at": 1704067200, "last_used_at": null,
    "owner": {{"type": "service_account", "service_account": {{"id": "svc_1", "name": "pilot-bot"}}}}}}
], "first_id": "key_chatbot", "last_id": "key_unused", "has_more": false}}"#
        ),
    );
    let a = &k.anthropic;
    let tail = &a[a.len() - 4..];
    write(
        &inv,
        "anthropic-api-keys.json",
        &format!(
            r#"{{"data": [
  {{"id": "apikey_eval", "type": "api_key", "name": "eval", "workspace_id": "wrkspc_research",
    "created_at": "2024-09-01T10:00:00Z", "created_by": {{"id": "user_b", "type": "user"}},
    "partial_key_hint": "{}...{tail}", "status": "active", "expires_at": null}},
  {{"id": "apikey_eval_copy", "type": "api_key", "name": "eval (copy)", "workspace_id": "wrkspc_research",
    "created_at": "2024-10-01T10:00:00Z", "created_by": {{"id": "user_b", "type": "user"}},
    "partial_key_hint": "sk-ant-api03-...{tail}", "status": "active", "expires_at": null}}
], "has_more": false, "first_id": "apikey_eval", "last_id": "apikey_eval_copy"}}"#,
            &a[..16]
        ),
    );
    write(
        &inv,
        "aws-list-access-keys.json",
        &format!(
            r#"{{"AccessKeyMetadata": [
  {{"UserName": "deploy-bot", "AccessKeyId": "{}", "Status": "Inactive", "CreateDate": "2024-01-15T08:00:00+00:00"}}
]}}"#,
            k.aws_id
        ),
    );
    write(
        &inv,
        "aws-last-used.json",
        &format!(
            r#"{{"UserName": "deploy-bot", "AccessKeyId": "{}", "AccessKeyLastUsed": {{"LastUsedDate": "2025-05-30T12:00:00+00:00", "ServiceName": "s3", "Region": "us-east-1"}}}}"#,
            k.aws_id
        ),
    );
    write(
        &inv,
        "gcp-keys.json",
        &format!(
            r#"[{{"name": "projects/demo/serviceAccounts/ci@demo.iam.gserviceaccount.com/keys/{}",
  "validAfterTime": "2024-01-01T00:00:00Z", "validBeforeTime": "2025-01-01T00:00:00Z",
  "keyAlgorithm": "KEY_ALG_RSA_2048", "keyOrigin": "GOOGLE_PROVIDED", "keyType": "USER_MANAGED", "disabled": false}}]"#,
            k.gcp_key_id
        ),
    );
    write(
        &inv,
        "github-credential-authorizations.json",
        r#"[{"login": "erin", "credential_id": 161195, "credential_type": "personal access token",
  "token_last_eight": "Zx81Qa9w", "credential_authorized_at": "2024-02-01T00:00:00Z",
  "credential_accessed_at": "2024-03-01T00:00:00Z", "authorized_credential_expires_at": null,
  "scopes": ["repo", "read:org"]}]"#,
    );
    write(
        &inv,
        "register.json",
        &format!(
            r#"[
  {{"id": "aws-deploy", "name": "deploy bot key", "provider": "aws", "key_id": "{}",
    "owner": "dave@example.com", "purpose": "CI deploys", "approved_by": "secops",
    "environment": "prod", "scope": ["infra/**"], "status": "active",
    "created_at": "2024-01-15", "expires_at": "2026-01-15", "review_due": "2025-03-01"}},
  {{"id": "gcp-ci", "provider": "gcp", "key_id": "{}", "owner": "alice@example.com",
    "purpose": "CI builds", "status": "active", "created_at": "2024-01-01", "review_due": "2025-02-01"}},
  {{"id": "cohere-pilot", "provider": "cohere", "owner": "frank@example.com", "purpose": "2023 pilot",
    "status": "retired", "hint": "abc...wxyz", "created_at": "2023-01-01", "expires_at": "2025-12-31"}}
]"#,
            k.aws_id, k.gcp_key_id
        ),
    );
    write(
        root,
        "roster.csv",
        "name,email\nAlice,alice@example.com\nDave,dave@example.com\n",
    );
    write(
        root,
        "policy.toml",
        "[audit]\nstale_after_days = 90\nmax_age_days = 365\napproved_providers = [\"openai\", \"anthropic\", \"aws\", \"gcp\", \"google\"]\nretired_providers = [\"cohere\"]\n",
    );
    (dir, k)
}

/// Run the end-to-end audit in `dir` (made by `fixture`) with an output format.
pub fn run_audit(dir: &Path, format: &str) -> std::process::Output {
    sprawl()
        .current_dir(dir)
        .args(audit_args(format))
        .output()
        .unwrap()
}

/// The end-to-end audit as JSON.
pub fn audit_json(dir: &Path) -> serde_json::Value {
    serde_json::from_slice(&run_audit(dir, "json").stdout).unwrap()
}

pub fn audit_args(format: &str) -> Vec<String> {
    let mut v: Vec<String> = [
        "audit",
        "--now",
        NOW,
        "--roster",
        "roster.csv",
        "--policy",
        "policy.toml",
        "--format",
        format,
        "--git",
        "repo",
        "--scan",
        "logs",
        "--inventory",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for f in [
        "register.json",
        "openai-project-keys.json",
        "anthropic-api-keys.json",
        "aws-list-access-keys.json",
        "aws-last-used.json",
        "gcp-keys.json",
        "github-credential-authorizations.json",
    ] {
        v.push(format!("inventory/{f}"));
    }
    v
}

#[test]
fn end_to_end_every_category_fires() {
    let (dir, k) = fixture();
    let out = run_audit(dir.path(), "json");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let text = String::from_utf8(out.stdout).unwrap();
    for secret in [&k.openai, &k.anthropic, &k.aws_secret, &k.github] {
        assert!(
            !text.contains(secret.as_str()),
            "a secret leaked into the audit"
        );
    }
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["schema"], "sprawl.audit/v1");
    let cats = v["summary"]["by_category"].as_object().unwrap();
    for c in [
        "exposed",
        "uninventoried",
        "ambiguous",
        "orphaned",
        "past_purpose",
        "revoked_but_present",
        "stale",
        "long_lived",
        "out_of_scope",
        "shared",
        "unapproved_provider",
    ] {
        assert!(cats.contains_key(c), "category {c} did not fire: {cats:?}");
    }
    // Matching: AWS by key id (register and IAM listing merged), OpenAI by hint.
    let creds = v["credentials"].as_array().unwrap();
    let by_rule = |r: &str| creds.iter().find(|c| c["rule"] == r).unwrap();
    let aws = by_rule("aws.access-key-pair");
    assert_eq!(aws["matched_by"], "key_id");
    assert_eq!(aws["record"]["id"], "aws-deploy");
    assert_eq!(aws["record"]["status"], "inactive");
    assert_eq!(aws["owner"], "dave@example.com");
    // OpenAI's hint shows 4 random characters: a candidate, never an attribution.
    let openai = by_rule("openai.project-key");
    assert!(openai["record"].is_null());
    assert_eq!(openai["candidates"], serde_json::json!(["key_chatbot"]));
    let anth = by_rule("anthropic.api-key");
    assert!(anth["record"].is_null());
    assert_eq!(
        anth["candidates"],
        serde_json::json!(["apikey_eval", "apikey_eval_copy"])
    );
    let gh = by_rule("github.pat-classic");
    assert_eq!(gh["suggested_owners"][0], "@release-team");
    assert!(gh["suggested_owners"]
        .as_array()
        .unwrap()
        .contains(&serde_json::json!("alice@example.com")));
    let gcp = by_rule("gcp.service-account-key");
    assert_eq!(gcp["matched_by"], "key_id");

    let mut settings = insta::Settings::clone_current();
    settings.add_filter(r#""version": "[^"]+""#, r#""version": "[version]""#);
    settings.bind(|| insta::assert_snapshot!("audit_json", text));
}

#[test]
fn end_to_end_text_names_owner_and_category() {
    let (dir, _) = fixture();
    let out = run_audit(dir.path(), "text");
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    for needle in [
        "uninventoried (",
        "ambiguous (",
        "owner dave@example.com",
        "owner carol@example.com",
        "suggested: @release-team",
        "revoked_but_present (",
        "record cohere-pilot",
        "owner email carol@example.com (",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
    }
    // Every credential appears with its owner (or the lack of one) and its categories.
    let v = audit_json(dir.path());
    for c in v["credentials"].as_array().unwrap() {
        let redacted = c["redacted"].as_str().unwrap();
        // Credential lines: "  SEVERITY REDACTED ..." (record lines read "  SEVERITY record ID ...").
        let lines: Vec<&str> = text
            .lines()
            .filter(|l| {
                l.trim_start()
                    .split_once(' ')
                    .is_some_and(|(_, rest)| rest.trim_start().starts_with(redacted))
            })
            .collect();
        let owner = match c["owner"].as_str() {
            Some(o) => format!("owner {o}"),
            None => "no owner".to_string(),
        };
        assert!(
            lines.iter().all(|l| l.contains(&owner)),
            "{redacted}: {owner}\n{text}"
        );
        let n_cats = c["categories"].as_array().unwrap().len();
        assert_eq!(lines.len(), n_cats, "{redacted} listed once per category");
        for cat in c["categories"].as_array().unwrap() {
            assert!(text.contains(&format!("{} (", cat["category"].as_str().unwrap())));
        }
    }
}

#[test]
fn fail_on_and_reports_from_earlier_runs() {
    let (dir, _) = fixture();
    // A report from an earlier run, audited later.
    let out = sprawl()
        .current_dir(dir.path())
        .args(["git", "repo", "--format", "json", "-o", "repo-report.json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let run = |fail_on: &str| {
        sprawl()
            .current_dir(dir.path())
            .args([
                "audit",
                "repo-report.json",
                "--now",
                NOW,
                "--fail-on",
                fail_on,
            ])
            .args([
                "--format",
                "json",
                "--inventory",
                "inventory/openai-project-keys.json",
            ])
            .output()
            .unwrap()
    };
    let out = run("critical");
    // The AWS key pair is critical and uninventoried here.
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let openai = v["credentials"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["rule"] == "openai.project-key")
        .unwrap();
    // From a report the vendor hint is known; it fits, on too few random characters.
    assert!(openai["record"].is_null());
    assert_eq!(openai["candidates"], serde_json::json!(["key_chatbot"]));
    assert_eq!(openai["occurrences"][0]["origin"], "repo-report");
}

#[test]
fn bad_inventory_rows_are_reported_and_skipped() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "register.json",
        r#"[{"id": "ok", "owner": "a@example.com", "status": "active"},
            {"id": "bad-date", "expires_at": "next tuesday"},
            {"id": "bad-status", "status": "sort of"},
            "not an object"]"#,
    );
    write(dir.path(), "weird.json", r#"{"hello": "world"}"#);
    let out = sprawl()
        .current_dir(dir.path())
        .args([
            "audit",
            "--now",
            NOW,
            "--format",
            "json",
            "--inventory",
            "register.json",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("register.json: records[1]: `expires_at`"),
        "{stderr}"
    );
    assert!(stderr.contains("records[2]: `status`"), "{stderr}");
    assert!(stderr.contains("records[3]: not an object"), "{stderr}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["summary"]["records"], 1);

    let out = sprawl()
        .current_dir(dir.path())
        .args(["audit", "--now", NOW, "--inventory", "weird.json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("weird.json") && stderr.contains("format not recognised"),
        "{stderr}"
    );
}
