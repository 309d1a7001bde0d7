//! The audit kit (issue 10): a repository with planted keys and exports in the shapes the
//! vendors document (gh --paginate pages, the GCP REST wrapper, the credential-report JSON
//! with base64 Content, Anthropic's old and new shapes, OpenAI's flat admin owner, Azure key
//! lists), all generated here. Every planted case must come out with exactly its expected
//! categories, the same in-process (`--git`) and from a saved report; a work-tree run
//! (`--scan`, in-process and saved) gives the same answer for every key still in the tree.

use std::{collections::BTreeMap, path::Path};

use base64::Engine;
use git2::Repository;

use crate::util::*;

const NOW: &str = "2025-06-01T00:00:00Z";

/// The kit's two repositories, audited in-process.
const SOURCES: &[&str] = &["--git", "repo", "--git", "svc"];

/// Their work trees, audited in-process.
const SCAN_SOURCES: &[&str] = &["--scan", "repo", "--scan", "svc"];

/// Planted cases whose key is in history only (deleted from the work tree): a `--scan` of the
/// work tree does not find them, and their records are found nowhere there.
const HISTORY_ONLY: &[&str] = &["found, stale at the vendor (history only)"];

use crate::util::write_file as write;

fn commit_bob(repo: &Repository) {
    commit_all(
        repo,
        ("Bob", "bob@example.com"),
        1_700_000_000,
        "add config",
    );
}

pub struct Kit {
    pub dir: tempfile::TempDir,
    /// Planted case → (redacted-independent) fingerprint of the credential.
    pub cases: BTreeMap<&'static str, String>,
    pub secrets: Vec<String>,
}

/// Delete `rel` from the work tree and commit the deletion (the key stays in history).
fn remove_and_commit(repo: &Repository, rel: &str, time: i64) {
    std::fs::remove_file(repo.workdir().unwrap().join(rel)).unwrap();
    let mut index = repo.index().unwrap();
    index.remove_path(Path::new(rel)).unwrap();
    index.write().unwrap();
    commit_all(
        repo,
        ("Bob", "bob@example.com"),
        time,
        "remove release script",
    );
}

fn fp(s: &str) -> String {
    sprawl::finding::Fingerprint::of(s.as_bytes()).to_string()
}

pub fn kit() -> Kit {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let repo_dir = root.join("repo");
    let repo = Repository::init(&repo_dir).unwrap();
    let openai = openai_key("kit-openai");
    let shadow = anthropic_key("kit-shadow");
    let inventoried = anthropic_key("kit-inventoried");
    // The inventoried key shares the shadow's last 4 characters (of which only 2 are random).
    let inventoried = format!(
        "{}{}",
        &inventoried[..inventoried.len() - 4],
        &shadow[shadow.len() - 4..]
    );
    let aws_id = key("AKIA{{b32:16}}", "kit-aws-id");
    let aws_secret = key("{{b64:40}}", "kit-aws-secret");
    let github = github_key("kit-github");
    let gcp_id = key("{{hex:40}}", "kit-gcp-id");
    let gcp_pem = key(
        "-----BEGIN PRIVATE KEY-----\\n{{b64:64}}\\n{{b64:64}}\\n-----END PRIVATE KEY-----\\n",
        "kit-gcp-pem",
    );
    let azure = key("{{hex:32}}", "kit-azure");
    let expired = openai_key("kit-expired");
    let scoped = openai_key("kit-scoped");
    let shared = openai_key("kit-shared");
    let ambiguous = openai_key("kit-ambiguous");
    let groq = key("gsk_{{alnum:20}}WGdyb3FY{{alnum:24}}", "kit-groq");
    let aws2_id = key("AKIA{{b32:16}}", "kit-aws2-id");
    let aws2_secret = key("{{b64:40}}", "kit-aws2-secret");
    let aws3_id = key("AKIA{{b32:16}}", "kit-aws3-id");
    let aws3_secret = key("{{b64:40}}", "kit-aws3-secret");
    let github_stale = github_key("kit-github-stale");
    let no_purpose = openai_key("kit-no-purpose");
    let no_expiry = openai_key("kit-no-expiry");
    let review = openai_key("kit-review");
    // In the register only, never in code.
    let spare = openai_key("kit-spare");
    write(
        &repo_dir,
        "app/batch.env",
        &format!("OPENAI_API_KEY={expired}\n"),
    );
    write(
        &repo_dir,
        "app/scoped.env",
        &format!("OPENAI_API_KEY={scoped}\n"),
    );
    write(
        &repo_dir,
        "app/shared.env",
        &format!("OPENAI_API_KEY={shared}\n"),
    );
    write(
        &repo_dir,
        "app/project.env",
        &format!("OPENAI_API_KEY={ambiguous}\n"),
    );
    write(
        &repo_dir,
        "app/groq.py",
        &format!("GROQ_API_KEY = \"{groq}\"\n"),
    );
    write(
        &repo_dir,
        "infra/old.ini",
        &format!("aws_access_key_id = {aws2_id}\naws_secret_access_key = {aws2_secret}\n"),
    );
    write(
        &repo_dir,
        "infra/legacy.ini",
        &format!("aws_access_key_id = {aws3_id}\naws_secret_access_key = {aws3_secret}\n"),
    );
    write(
        &repo_dir,
        "app/no-purpose.env",
        &format!("OPENAI_API_KEY={no_purpose}\n"),
    );
    write(
        &repo_dir,
        "app/no-expiry.env",
        &format!("OPENAI_API_KEY={no_expiry}\n"),
    );
    write(
        &repo_dir,
        "app/review.env",
        &format!("OPENAI_API_KEY={review}\n"),
    );
    // Committed, then deleted from the work tree: in history only.
    write(
        &repo_dir,
        "scripts/release.sh",
        &format!("export GH_TOKEN={github_stale}\n"),
    );
    // A second repository holding the shared key too.
    let svc = Repository::init(root.join("svc")).unwrap();
    write(
        &root.join("svc"),
        "config/.env",
        &format!("OPENAI_API_KEY={shared}\n"),
    );
    commit_bob(&svc);
    write(
        &repo_dir,
        "app/openai.env",
        &format!("OPENAI_API_KEY={openai}\n"),
    );
    write(&repo_dir, "app/claude.py", &format!("KEY = \"{shadow}\"\n"));
    write(
        &repo_dir,
        "infra/aws.ini",
        &format!("aws_access_key_id = {aws_id}\naws_secret_access_key = {aws_secret}\n"),
    );
    // The same id alone elsewhere: still one credential.
    write(&repo_dir, "docs/notes.md", &format!("key id: {aws_id}\n"));
    write(
        &repo_dir,
        "ci/deploy.sh",
        &format!("export GH_TOKEN={github}\n"),
    );
    write(
        &repo_dir,
        "deploy/sa.json",
        &format!(
            "{{\n  \"type\": \"service_account\",\n  \"project_id\": \"demo\",\n  \"private_key_id\": \"{gcp_id}\",\n  \"private_key\": \"{gcp_pem}\",\n  \"client_email\": \"ci@demo.iam.gserviceaccount.com\"\n}}\n"
        ),
    );
    write(
        &repo_dir,
        "app/azure.env",
        &format!(
            "AZURE_OPENAI_ENDPOINT=https://x.openai.azure.com/\nAZURE_OPENAI_API_KEY={azure}\n"
        ),
    );
    // A team the roster knows, and a login who has left (never suggested).
    write(
        &repo_dir,
        "CODEOWNERS",
        "* @acme/platform\n/ci/ @carol-gh\n",
    );
    commit_bob(&repo);
    remove_and_commit(&repo, "scripts/release.sh", 1_700_000_050);

    let inv = root.join("inv");
    // Our register: the OpenAI key by fingerprint (owner present, purpose, expiry).
    write(
        &inv,
        "register.csv",
        &format!(
            "id,provider,fingerprint,key_id,owner,team,purpose,scope,status,created_at,expires_at,review_due\n\
             chat-prod,openai,{},,dave@example.com,payments,chat backend,,active,2025-01-01,2026-01-01,2025-09-01\n\
             old-pilot,openai,,,carol@example.com,,2023 pilot,,retired,2023-01-01,2026-01-01,\n\
             batch-job,openai,{},,dave@example.com,platform,nightly batch,,active,2025-01-01,2025-03-01,\n\
             infra-bot,openai,{},,dave@example.com,platform,infra automation,infra/**,active,2025-01-01,2026-01-01,\n\
             shared-key,openai,{},,dave@example.com,platform,chat and svc,,active,2025-01-01,2026-01-01,\n\
             groq-eval,groq,{},,dave@example.com,platform,model evaluation,,active,2025-01-01,2026-01-01,\n\
             old-deploy,aws,,{aws2_id},dave@example.com,platform,old deploys,,revoked,2024-01-01,2026-01-01,\n\
             legacy-sync,aws,,{aws3_id},dave@example.com,platform,legacy sync,,retired,2024-06-01,2026-01-01,\n\
             no-purpose,openai,{},,dave@example.com,platform,,,active,2025-01-01,2026-01-01,\n\
             no-expiry,openai,{},,dave@example.com,platform,search indexer,,active,2025-01-01,,\n\
             review-due,openai,{},,dave@example.com,platform,support bot,,active,2025-01-01,2026-01-01,2025-05-01\n\
             spare-key,openai,{},,dave@example.com,platform,,,active,2025-01-01,,\n",
            fp(&openai),
            fp(&expired),
            fp(&scoped),
            fp(&shared),
            fp(&groq),
            fp(&no_purpose),
            fp(&no_expiry),
            fp(&review),
            fp(&spare),
        ),
    );
    // Anthropic, old shape: the inventoried key (never in code) with its vendor hint.
    write(
        &inv,
        "anthropic-old.json",
        &format!(
            r#"{{"data": [{{"id": "apikey_inv", "type": "api_key", "name": "eval", "workspace_id": null,
  "created_at": "2025-03-01T10:00:00.123456Z", "created_by": {{"id": "user_01dave", "type": "user"}},
  "partial_key_hint": "{}...{}", "status": "active", "expires_at": null}}],
  "has_more": false, "first_id": "apikey_inv", "last_id": "apikey_inv"}}"#,
            &inventoried[..16],
            &inventoried[inventoried.len() - 4..]
        ),
    );
    // Anthropic, new shape: principal and scope, a null hint (hygiene only).
    write(
        &inv,
        "anthropic-new.json",
        r#"{"data": [{"id": "apikey_wif", "type": "api_key", "name": "wif", "created_at": "2025-05-01T00:00:00Z",
  "created_by": null, "principal": {"type": "service_account", "service_account_id": "svac_01"},
  "scope": {"type": "workspace", "workspace_id": "wrkspc_01"}, "partial_key_hint": null,
  "status": "active", "expires_at": null}], "has_more": false, "first_id": "apikey_wif", "last_id": "apikey_wif"}"#,
    );
    // OpenAI admin keys: flat owner, 3-character suffix in the redacted value.
    write(
        &inv,
        "openai-admin.json",
        r#"{"object": "list", "data": [{"object": "organization.admin_api_key", "id": "key_adm",
  "name": "ops", "redacted_value": "sk-admin...def", "created_at": 1711471533, "last_used_at": 1711471534,
  "expires_at": null, "owner": {"type": "user", "object": "organization.user", "id": "user-dave",
  "name": "Dave", "created_at": 1711471533, "role": "owner"}}], "first_id": "key_adm", "last_id": "key_adm", "has_more": true}"#,
    );
    // AWS: the key listing (UserName is the principal) and the credential report as JSON.
    write(
        &inv,
        "aws-keys.json",
        &format!(
            r#"{{"AccessKeyMetadata": [{{"UserName": "deploy-bot", "AccessKeyId": "{aws_id}", "Status": "Active",
  "CreateDate": "2025-02-01T08:00:00+00:00"}},
  {{"UserName": "deploy-bot", "AccessKeyId": "{aws2_id}", "Status": "Active", "CreateDate": "2024-03-01T08:00:00+00:00"}},
  {{"UserName": "deploy-bot", "AccessKeyId": "{aws3_id}", "Status": "Active", "CreateDate": "2024-06-01T08:00:00+00:00"}}],
  "IsTruncated": false}}"#
        ),
    );
    let report_csv = "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated\n\
<root_account>,arn:aws:iam::1:root,2020-01-01T00:00:00+00:00,not_supported,no_information,not_supported,not_supported,true,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\n\
deploy-bot,arn:aws:iam::1:user/deploy-bot,2024-01-01T00:00:00+00:00,false,N/A,N/A,N/A,false,true,2025-02-01T08:00:00+00:00,2025-05-30T00:00:00+00:00,us-east-1,s3,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\n";
    write(
        &inv,
        "credential-report.json",
        &format!(
            r#"{{"Content": "{}", "ReportFormat": "text/csv", "GeneratedTime": "2025-05-31T00:00:00Z"}}"#,
            base64::engine::general_purpose::STANDARD.encode(report_csv)
        ),
    );
    // GCP REST shape; the key expired at Google (vendor-enforced); a SYSTEM_MANAGED key.
    write(
        &inv,
        "gcp-keys.json",
        &format!(
            r#"{{"keys": [{{"name": "projects/demo/serviceAccounts/ci@demo.iam.gserviceaccount.com/keys/{gcp_id}",
  "validAfterTime": "2024-01-01T00:00:00Z", "validBeforeTime": "2025-01-01T00:00:00Z", "keyAlgorithm": "KEY_ALG_RSA_2048",
  "keyOrigin": "GOOGLE_PROVIDED", "keyType": "USER_MANAGED"}},
  {{"name": "projects/demo/serviceAccounts/ci@demo.iam.gserviceaccount.com/keys/{}", "keyType": "SYSTEM_MANAGED",
  "validAfterTime": "2024-01-01T00:00:00Z", "validBeforeTime": "9999-12-31T23:59:59Z"}}]}}"#,
            "0".repeat(40)
        ),
    );
    // GitHub credential authorizations as gh api --paginate writes them: [..][..].
    write(
        &inv,
        "github-auth.json",
        &format!(
            r#"[{{"login": "erin", "credential_id": 1, "credential_type": "personal access token",
  "token_last_eight": "{}", "credential_authorized_at": "2025-02-01T00:00:00Z",
  "credential_accessed_at": "2025-05-20T00:00:00Z", "authorized_credential_note": "release bot",
  "authorized_credential_expires_at": null, "scopes": ["repo"]}}]
[{{"login": "erin", "credential_id": 2, "credential_type": "SSH Key", "fingerprint": "jklmnop12345678"}},
 {{"login": "dave-gh", "credential_id": 3, "credential_type": "personal access token",
  "token_last_eight": "{}", "credential_authorized_at": "2024-12-01T00:00:00Z",
  "credential_accessed_at": "2025-01-15T00:00:00Z", "authorized_credential_note": "nightly release",
  "authorized_credential_expires_at": null, "scopes": ["repo"]}}]
"#,
            &github[github.len() - 8..],
            &github_stale[github_stale.len() - 8..]
        ),
    );
    // GitHub fine-grained PAT grants (slurped pages): hygiene only.
    write(
        &inv,
        "github-pats.json",
        r#"[[{"id": 25381, "owner": {"login": "dave-gh", "id": 1, "type": "User"}, "repository_selection": "all",
  "repositories_url": "https://api.github.com/organizations/1/personal-access-token-requests/25381/repositories",
  "permissions": {"organization": {}, "repository": {"metadata": "read"}}, "access_granted_at": "2025-05-16T08:47:09.000-07:00",
  "token_id": 98716, "token_name": "ci", "token_expired": false, "token_expires_at": "2025-11-16T08:47:09.000-07:00",
  "token_last_used_at": "2025-05-30T00:00:00Z"}]]"#,
    );
    // OpenAI project keys (one file per project): the hint rests on 4 random characters.
    write(
        &inv,
        "openai-project.json",
        &format!(
            r#"{{"object": "list", "data": [{{"object": "organization.project.api_key", "id": "key_proj1",
  "name": "project key", "redacted_value": "sk-proj-{}{}", "created_at": 1735689600,
  "last_used_at": 1748000000, "owner_project_access": "active",
  "owner": {{"type": "user", "user": {{"id": "user-dave", "email": "dave@example.com", "name": "Dave", "role": "owner"}}}}}}],
  "first_id": "key_proj1", "last_id": "key_proj1", "has_more": false}}"#,
            "*".repeat(40),
            &ambiguous[ambiguous.len() - 4..]
        ),
    );
    write(
        &inv,
        "azure-keys.json",
        &format!(r#"{{"key1": "{azure}", "key2": "{}"}}"#, "e".repeat(32)),
    );
    write(
        &inv,
        "gcp-api-keys.json",
        r#"[{"name": "projects/1/locations/global/keys/u1", "uid": "u1", "displayName": "gemini",
  "createTime": "2025-04-01T00:00:00Z", "updateTime": "2025-04-01T00:00:00Z", "restrictions": {}, "etag": "x"}]"#,
    );
    write(
        root,
        "roster.csv",
        "name,email,github_login,openai_user_id,anthropic_user_id,team\n\
         Dave,dave@example.com,dave-gh,user-dave,user_01dave,platform\n",
    );
    write(
        root,
        "policy.toml",
        "[audit]\nretired_providers = [\"groq\"]\n",
    );
    let cases = [
        ("openai by fingerprint, owner moved team", fp(&openai)),
        ("anthropic shadow sharing last 4", fp(&shadow)),
        ("aws pair and bare id, IAM user only", fp(&aws_secret)),
        ("github token of a login who left", fp(&github)),
        (
            "gcp key expired at google",
            "rule:gcp.service-account-key".to_string(),
        ),
        ("azure key from keys list", fp(&azure)),
        ("register expiry passed, still active", fp(&expired)),
        ("found outside its scope", fp(&scoped)),
        ("same key in two repositories", fp(&shared)),
        ("hint fits on 4 random characters", fp(&ambiguous)),
        ("a retired provider", fp(&groq)),
        ("revoked in the register, active at AWS", fp(&aws2_secret)),
        ("register retired, vendor active", fp(&aws3_secret)),
        (
            "found, stale at the vendor (history only)",
            fp(&github_stale),
        ),
        ("register row without a purpose", fp(&no_purpose)),
        ("register row without an expiry", fp(&no_expiry)),
        ("register review date passed", fp(&review)),
    ]
    .into_iter()
    .collect();
    Kit {
        dir,
        cases,
        secrets: vec![
            openai,
            shadow,
            aws_secret,
            github,
            azure,
            expired,
            scoped,
            shared,
            ambiguous,
            groq,
            aws2_secret,
            aws3_secret,
            github_stale,
            no_purpose,
            no_expiry,
            review,
            spare,
        ],
    }
}

pub fn inventory_args() -> Vec<String> {
    [
        "register.csv",
        "anthropic-old.json",
        "anthropic-new.json",
        "openai-admin.json",
        "aws-keys.json",
        "credential-report.json",
        "gcp-keys:gcp-keys.json",
        "github-auth.json",
        "github-pats.json",
        "azure-keys.json",
        "gcp-api-keys.json",
        "openai-project.json",
    ]
    .iter()
    .flat_map(|f| {
        let p = match f.split_once(':') {
            Some((fmt, file)) => format!("{fmt}:inv/{file}"),
            None => format!("inv/{f}"),
        };
        ["--inventory".to_string(), p]
    })
    .collect()
}

fn audit(dir: &Path, source: &[&str], extra: &[&str]) -> (serde_json::Value, i32, String) {
    audit_at(dir, NOW, source, extra)
}

fn audit_at(
    dir: &Path,
    now: &str,
    source: &[&str],
    extra: &[&str],
) -> (serde_json::Value, i32, String) {
    let mut args: Vec<&str> = vec!["--format", "json"];
    args.extend_from_slice(extra);
    let out = audit_with(dir, now, &inventory_args(), source, &args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let v = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {stderr}"));
    (v, out.status.code().unwrap(), stderr)
}

/// `sprawl audit` of the kit (roster, policy) with these inventory arguments and sources.
fn audit_with(
    dir: &Path,
    now: &str,
    inventory: &[String],
    source: &[&str],
    extra: &[&str],
) -> std::process::Output {
    sprawl()
        .current_dir(dir)
        .args(["audit", "--now", now, "--roster", "roster.csv"])
        .args(["--policy", "policy.toml"])
        .args(inventory)
        .args(source)
        .args(extra)
        .output()
        .unwrap()
}

/// fingerprint → sorted categories.
fn answers(v: &serde_json::Value) -> BTreeMap<String, Vec<String>> {
    v["credentials"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let mut cats: Vec<String> = c["categories"]
                .as_array()
                .unwrap()
                .iter()
                .map(|h| h["category"].as_str().unwrap().to_string())
                .collect();
            cats.sort();
            cats.dedup();
            (c["fingerprint"].as_str().unwrap().to_string(), cats)
        })
        .collect()
}

/// fingerprint → suggested owners.
fn suggestions(v: &serde_json::Value) -> BTreeMap<String, Vec<String>> {
    v["credentials"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let s = c["suggested_owners"]
                .as_array()
                .unwrap()
                .iter()
                .map(|o| o.as_str().unwrap().to_string())
                .collect();
            (c["fingerprint"].as_str().unwrap().to_string(), s)
        })
        .collect()
}

/// record id → sorted categories, for inventory records found nowhere.
fn records(v: &serde_json::Value) -> BTreeMap<String, Vec<String>> {
    v["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let mut c: Vec<String> = r["categories"]
                .as_array()
                .unwrap()
                .iter()
                .map(|h| h["category"].as_str().unwrap().to_string())
                .collect();
            c.sort();
            c.dedup();
            (r["id"].as_str().unwrap().to_string(), c)
        })
        .collect()
}

/// The credential with this fingerprint.
fn credential<'a>(v: &'a serde_json::Value, fp: &str) -> &'a serde_json::Value {
    v["credentials"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["fingerprint"] == fp)
        .unwrap_or_else(|| panic!("{fp} not audited"))
}

/// The evidence of `category` on the credential with this fingerprint.
fn evidence(v: &serde_json::Value, fp: &str, category: &str) -> Option<String> {
    credential(v, fp)["categories"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["category"] == category)
        .map(|h| h["evidence"].as_str().unwrap().to_string())
}

/// Save `sprawl CMD DIR --format json` reports of the kit's two repositories; their names.
fn save_reports(dir: &Path, cmd: &str) -> [String; 2] {
    ["repo", "svc"].map(|name| {
        let file = format!("{name}-{cmd}.json");
        let out = sprawl()
            .current_dir(dir)
            .args([cmd, name, "--format", "json", "-o", &file])
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(1),
            "{cmd} {name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        file
    })
}

#[test]
fn every_planted_case_has_exactly_its_categories_in_both_modes() {
    let k = kit();
    let dir = k.dir.path();
    let (live, code, stderr) = audit(dir, SOURCES, &[]);
    assert_eq!(code, 1, "{stderr}");
    let git_reports = save_reports(dir, "git");
    let git_reports: Vec<&str> = git_reports.iter().map(String::as_str).collect();
    let (saved, _, _) = audit(dir, &git_reports, &[]);
    let (a, b) = (answers(&live), answers(&saved));
    let mut cases = k.cases.clone();
    for c in cases.values_mut() {
        if let Some(rule) = c.strip_prefix("rule:") {
            let found = live["credentials"]
                .as_array()
                .unwrap()
                .iter()
                .find(|x| x["rule"] == rule)
                .unwrap_or_else(|| panic!("{rule} not found"));
            *c = found["fingerprint"].as_str().unwrap().to_string();
        }
    }
    assert_eq!(a, b, "in-process and report mode disagree");
    // Owner suggestions (CODEOWNERS, git authors) survive report mode.
    let (sa, sb) = (suggestions(&live), suggestions(&saved));
    assert_eq!(sa, sb, "suggestions differ between modes");
    for (case, want) in [
        (
            "openai by fingerprint, owner moved team",
            vec!["@acme/platform"],
        ),
        ("azure key from keys list", vec!["@acme/platform"]),
        // CODEOWNERS names @carol-gh, who is not on the roster: not suggested.
        ("github token of a login who left", vec![]),
    ] {
        assert_eq!(sa[&k.cases[case]], want, "{case}: {sa:?}");
    }
    let expected: BTreeMap<&str, Vec<&str>> = [
        (
            "openai by fingerprint, owner moved team",
            vec!["exposed", "owner_moved"],
        ),
        (
            "anthropic shadow sharing last 4",
            vec!["exposed", "long_lived", "uninventoried"],
        ),
        (
            "aws pair and bare id, IAM user only",
            vec!["exposed", "unowned_machine_identity"],
        ),
        (
            "github token of a login who left",
            vec!["exposed", "orphaned"],
        ),
        (
            "gcp key expired at google",
            vec!["exposed", "revoked_but_present", "unowned_machine_identity"],
        ),
        (
            "azure key from keys list",
            vec!["exposed", "long_lived", "orphaned"],
        ),
        (
            "register expiry passed, still active",
            vec!["expired", "exposed"],
        ),
        ("found outside its scope", vec!["exposed", "out_of_scope"]),
        ("same key in two repositories", vec!["exposed", "shared"]),
        (
            "hint fits on 4 random characters",
            vec!["ambiguous", "exposed", "long_lived"],
        ),
        ("a retired provider", vec!["exposed", "unapproved_provider"]),
        (
            "revoked in the register, active at AWS",
            vec!["exposed", "revoked_but_live"],
        ),
        (
            "register retired, vendor active",
            vec!["exposed", "past_purpose"],
        ),
        (
            "found, stale at the vendor (history only)",
            vec!["exposed", "stale"],
        ),
        (
            "register row without a purpose",
            vec!["exposed", "missing_purpose"],
        ),
        (
            "register row without an expiry",
            vec!["exposed", "no_expiry"],
        ),
        (
            "register review date passed",
            vec!["exposed", "review_overdue"],
        ),
    ]
    .into_iter()
    .collect();
    assert_eq!(
        expected.keys().collect::<Vec<_>>(),
        k.cases.keys().collect::<Vec<_>>(),
        "every planted case is in the table"
    );
    let mut table = String::new();
    for (case, want) in &expected {
        let got = a
            .get(&cases[case])
            .unwrap_or_else(|| panic!("{case}: not found: {a:?}"));
        assert_eq!(got, want, "{case}");
        table.push_str(&format!("{case}: {}\n", got.join(", ")));
    }
    assert_eq!(a.len(), expected.len(), "one credential, one row: {a:?}");
    // Register retired, vendor active (issue 10 item 5): past_purpose, both states shown.
    for v in [&live, &saved] {
        let why = evidence(v, &cases["register retired, vendor active"], "past_purpose").unwrap();
        assert!(
            why.contains("the register says retired (inv/register.csv")
                && why.contains("the vendor says active (inv/aws-keys.json"),
            "{why}"
        );
    }
    // The shadow key is never attributed to the record whose last 4 it shares.
    let shadow = credential(&live, &cases["anthropic shadow sharing last 4"]);
    assert!(shadow["record"].is_null() && shadow["candidates"].as_array().unwrap().is_empty());
    // Records found nowhere: their hygiene, with the export named; the same from reports.
    let recs = records(&live);
    assert_eq!(recs, records(&saved), "records differ between modes");
    let expected_records = [
        ("old-pilot", vec!["orphaned", "past_purpose"]),
        ("spare-key", vec!["missing_purpose", "no_expiry"]),
        ("apikey_wif", vec!["unowned_machine_identity"]),
        ("apikey_inv", vec![]),
        ("key_adm", vec!["long_lived", "stale"]),
        ("azure-keys key2", vec!["orphaned"]),
        ("fine-grained-pat-98716", vec![]),
        ("u1", vec!["orphaned"]),
        ("key_proj1", vec![]),
    ];
    for (id, want) in &expected_records {
        assert_eq!(
            recs.get(*id).map(Vec::as_slice),
            Some(&want.iter().map(|s| s.to_string()).collect::<Vec<_>>()[..]),
            "{id}: {recs:?}"
        );
        table.push_str(&format!("record {id}: {}\n", want.join(", ")));
    }
    assert_eq!(recs.len(), expected_records.len(), "{recs:?}");
    // Every category is planted: on a credential found, or on a record found nowhere.
    let planted: std::collections::BTreeSet<&str> = expected
        .values()
        .chain(expected_records.iter().map(|(_, c)| c))
        .flatten()
        .copied()
        .collect();
    for c in sprawl::audit::ALL_CATEGORIES {
        assert!(
            planted.contains(c.as_str()),
            "{} is not planted",
            c.as_str()
        );
    }

    // The work trees (`--scan`), in-process and from saved `scan` reports: the same answer
    // for every key still in a work tree. Two differences, both stated: a key in history
    // only is not in a work tree (its record is then found nowhere, with its hygiene), and
    // a work tree has no commit dates, so a `long_lived` that rests on how long the key has
    // been in the code ("in the code since", from its first commit) cannot be said.
    let (scan_live, code, scan_stderr) = audit(dir, SCAN_SOURCES, &[]);
    assert_eq!(code, 1, "{scan_stderr}");
    let scan_reports = save_reports(dir, "scan");
    let scan_reports: Vec<&str> = scan_reports.iter().map(String::as_str).collect();
    let (scan_saved, _, _) = audit(dir, &scan_reports, &[]);
    let (sa, sb) = (answers(&scan_live), answers(&scan_saved));
    assert_eq!(sa, sb, "--scan in-process and scan reports disagree");
    let mut want = a.clone();
    for case in HISTORY_ONLY {
        assert!(want.remove(&cases[*case]).is_some(), "{case}");
    }
    for (fp, cats) in want.iter_mut() {
        if evidence(&live, fp, "long_lived").is_some_and(|e| e.contains("in the code since")) {
            cats.retain(|c| c != "long_lived");
        }
    }
    assert_eq!(
        sa, want,
        "--scan and --git disagree on keys in the work tree"
    );
    let (ra, rb) = (records(&scan_live), records(&scan_saved));
    assert_eq!(ra, rb, "records differ between --scan and scan reports");
    let mut want = recs.clone();
    // The history-only GitHub token's record (credential authorization 3) is found nowhere.
    want.insert("3".into(), vec!["stale".into()]);
    assert_eq!(ra, want, "records differ between --scan and --git");
    for v in [&scan_live, &scan_saved] {
        let why = evidence(v, &cases["register retired, vendor active"], "past_purpose").unwrap();
        assert!(why.contains("register says retired") && why.contains("vendor says active"));
    }

    // Warnings name the file: has_more, SYSTEM_MANAGED, SSH keys, pages joined.
    for needle in [
        "inv/openai-admin.json: `has_more` is true",
        "SYSTEM_MANAGED key(s) skipped",
        "SSH-key authorization(s) left out",
        "inv/github-auth.json: 2 pages joined",
    ] {
        assert!(stderr.contains(needle), "{needle}: {stderr}");
    }
    for s in &k.secrets {
        for v in [&live, &saved, &scan_live, &scan_saved] {
            assert!(!v.to_string().contains(s.as_str()));
        }
        assert!(!stderr.contains(s.as_str()) && !scan_stderr.contains(s.as_str()));
    }
    insta::assert_snapshot!("audit_kit_table", table);
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(r#""version": "[^"]+""#, r#""version": "[version]""#);
    settings.bind(|| {
        insta::assert_snapshot!(
            "audit_kit_json",
            serde_json::to_string_pretty(&live).unwrap()
        )
    });
}

#[test]
fn orphaned_compares_like_with_like() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    write(
        p,
        "register.json",
        r#"[{"id": "e-here", "key_id": "K1", "owner": "dave@example.com", "purpose": "x", "expires_at": "2026-01-01"},
            {"id": "e-gone", "key_id": "K2", "owner": "carol@example.com", "purpose": "x", "expires_at": "2026-01-01"},
            {"id": "login-here", "key_id": "K3", "owner": "@dave-gh", "purpose": "x", "expires_at": "2026-01-01"},
            {"id": "login-gone", "key_id": "K4", "owner": "@carol-gh", "purpose": "x", "expires_at": "2026-01-01"},
            {"id": "team-here", "key_id": "K5", "owner": "@org/platform", "purpose": "x", "expires_at": "2026-01-01"},
            {"id": "team-gone", "key_id": "K6", "owner": "payments@", "purpose": "x", "expires_at": "2026-01-01"},
            {"id": "vendor-unknown", "key_id": "K7", "owner": "user_01x", "purpose": "x", "expires_at": "2026-01-01"},
            {"id": "vendor-gone", "key_id": "K8", "owner": "user-carol", "purpose": "x", "expires_at": "2026-01-01"},
            {"id": "sa", "key_id": "K9", "owner": "ci@demo.iam.gserviceaccount.com", "purpose": "x", "expires_at": "2026-01-01"},
            {"id": "moved", "key_id": "K10", "owner": "dave@example.com", "team": "payments", "purpose": "x", "expires_at": "2026-01-01"}]"#,
    );
    write(
        p,
        "roster.csv",
        "name,email,github_login,openai_user_id,team\nDave,dave@example.com,dave-gh,user-dave,platform\n",
    );
    let out = sprawl()
        .current_dir(p)
        .args([
            "audit",
            "--now",
            NOW,
            "--roster",
            "roster.csv",
            "--format",
            "json",
            "--inventory",
            "register.json",
        ])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let cats = |id: &str| -> Vec<String> {
        v["records"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == id)
            .unwrap()["categories"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h["category"].as_str().unwrap().to_string())
            .collect()
    };
    let orphaned = |id: &str| cats(id).contains(&"orphaned".to_string());
    for (id, want) in [
        ("e-here", false),
        ("e-gone", true),
        ("login-here", false),
        ("login-gone", true),
        ("team-here", false),
        ("team-gone", true),
        // No anthropic_user_id column: an Anthropic user id is neither here nor gone.
        ("vendor-unknown", false),
        ("vendor-gone", true),
        ("sa", false),
    ] {
        assert_eq!(orphaned(id), want, "{id}: {:?}", cats(id));
    }
    assert!(cats("sa").contains(&"unowned_machine_identity".to_string()));
    assert!(
        cats("moved").contains(&"owner_moved".to_string()),
        "{:?}",
        cats("moved")
    );
}

#[test]
fn bad_files_are_left_out_with_a_reason_and_the_rest_is_audited() {
    let k = kit();
    let dir = k.dir.path();
    write(dir, "inv/broken.json", "[{\"id\": ");
    write(dir, "inv/unknown.json", r#"{"hello": "world"}"#);
    write(
        dir,
        "inv/dates.csv",
        "id,fingerprint,expires_at\nx,,2024-02-30\ny,,10000-01-01\nz,,1e308\n",
    );
    let (v, code, stderr) = audit(
        dir,
        SOURCES,
        &[
            "--inventory",
            "inv/broken.json",
            "--inventory",
            "inv/unknown.json",
            "--inventory",
            "inv/dates.csv",
            "--inventory",
            "gcp-keys:inv/gcp-api-keys.json",
        ],
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("inv/broken.json: invalid JSON"), "{stderr}");
    assert!(
        stderr.contains("inv/unknown.json: format not recognised"),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            "inv/gcp-api-keys.json: given as gcp-keys, but its content is a gcp-api-keys export"
        ),
        "{stderr}"
    );
    for row in ["inv/dates.csv:2", "inv/dates.csv:3", "inv/dates.csv:4"] {
        assert!(stderr.contains(row), "{row}: {stderr}");
    }
    assert!(!stderr.contains("2024-02-30") && !stderr.contains("1e308"));
    assert_eq!(v["errors"].as_array().unwrap().len(), 3);
    // The rest was audited.
    assert_eq!(answers(&v).len(), 17);
}

#[test]
fn inventory_swallowing_reports_is_routed_and_said() {
    let k = kit();
    let dir = k.dir.path();
    sprawl()
        .current_dir(dir)
        .args(["git", "repo", "--format", "json", "-o", "repo-a.json"])
        .output()
        .unwrap();
    // The README's org-wide line: --inventory FILE REPORT.json (the report follows it).
    let out = sprawl()
        .current_dir(dir)
        .args([
            "audit",
            "--now",
            NOW,
            "--format",
            "json",
            "--inventory",
            "inv/register.csv",
            "repo-a.json",
            "inv/aws-keys.json",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("inv/aws-keys.json is not a sprawl report; read as an inventory"),
        "{stderr}"
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(answers(&v).len(), 17);
    // And a report given with --inventory is audited as findings.
    let out = sprawl()
        .current_dir(dir)
        .args([
            "audit",
            "--now",
            NOW,
            "--format",
            "json",
            "--inventory",
            "inv/register.csv",
            "--inventory",
            "repo-a.json",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("repo-a.json is a sprawl report, not an inventory"),
        "{stderr}"
    );
}

#[test]
fn attestation_compare_and_fail_on_new() {
    let k = kit();
    let dir = k.dir.path();
    // The template lists what needs a decision; fill it in and nothing fails.
    let out = sprawl()
        .current_dir(dir)
        .args([
            "audit",
            "--now",
            NOW,
            "--roster",
            "roster.csv",
            "--attest-template",
            "-o",
            "review.toml",
            "--policy",
            "policy.toml",
        ])
        .args(SOURCES)
        .args(inventory_args())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let template = std::fs::read_to_string(dir.join("review.toml")).unwrap();
    assert!(template.contains("[[attestation]]"));
    let filled = template
        .replace("reviewed_by = \"\"", "reviewed_by = \"dave@example.com\"")
        .replace("until = \"2025-06-01\"", "until = \"2025-12-31\"");
    std::fs::write(dir.join("review.toml"), &filled).unwrap();
    let (_, code, stderr) = audit(dir, SOURCES, &["--attest", "review.toml"]);
    assert_eq!(code, 0, "attested: {stderr}");
    // Later, the attestation has expired: review_overdue, and the audit fails again.
    let (v, code, _) = audit_at(dir, "2026-02-01", SOURCES, &["--attest", "review.toml"]);
    assert_eq!(code, 1);
    assert!(v.to_string().contains("review_overdue"));

    // Audit over time: save, plant a new key, compare.
    let (previous, _, _) = audit(dir, SOURCES, &[]);
    std::fs::write(dir.join("previous.json"), previous.to_string()).unwrap();
    let (_, code, _) = audit(
        dir,
        SOURCES,
        &["--compare", "previous.json", "--fail-on-new"],
    );
    assert_eq!(code, 0, "nothing new");
    let repo = Repository::open(dir.join("repo")).unwrap();
    write(
        &dir.join("repo"),
        "app/new.env",
        &format!("OPENAI_API_KEY={}\n", openai_key("kit-new")),
    );
    commit_all(&repo, ("Bob", "bob@example.com"), 1_700_000_100, "more");
    let (v, code, _) = audit(
        dir,
        SOURCES,
        &["--compare", "previous.json", "--fail-on-new"],
    );
    assert_eq!(code, 1, "a new uninventoried key");
    let new: Vec<&serde_json::Value> = v["compare"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["change"] == "new")
        .collect();
    assert_eq!(new.len(), 1);
    assert_eq!(new[0]["key"], fp(&openai_key("kit-new")));
}

/// The other shapes users save: the AWS credential report decoded to CSV,
/// `get-access-key-last-used` answers saved as an array with `AccessKeyId` added (one left
/// without it, which must be said plainly), and GCP keys as gcloud's bare array. The audit must
/// give the same answer per credential as with the kit's base64 JSON report and REST wrapper.
#[test]
fn decoded_credential_report_last_used_answers_and_gcloud_arrays_give_the_same_audit() {
    let k = kit();
    let dir = k.dir.path();
    let inv = dir.join("inv");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(inv.join("credential-report.json")).unwrap())
            .unwrap();
    let csv = base64::engine::general_purpose::STANDARD
        .decode(report["Content"].as_str().unwrap())
        .unwrap();
    std::fs::write(inv.join("credential-report.csv"), csv).unwrap();
    let keys: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(inv.join("aws-keys.json")).unwrap()).unwrap();
    let ids: Vec<&str> = keys["AccessKeyMetadata"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["AccessKeyId"].as_str().unwrap())
        .collect();
    // The documented answer (UserName, AccessKeyLastUsed with LastUsedDate absent or null when
    // never used), with the AccessKeyId a user adds; the last entry lacks it.
    let last_used = format!(
        r#"[{{"UserName": "deploy-bot", "AccessKeyId": "{}",
  "AccessKeyLastUsed": {{"LastUsedDate": "2025-05-30T00:00:00+00:00", "ServiceName": "s3", "Region": "us-east-1"}}}},
 {{"UserName": "deploy-bot", "AccessKeyId": "{}",
  "AccessKeyLastUsed": {{"LastUsedDate": null, "ServiceName": "N/A", "Region": "N/A"}}}},
 {{"AccessKeyLastUsed": {{"ServiceName": "N/A", "Region": "N/A"}}}}]"#,
        ids[0], ids[1]
    );
    std::fs::write(inv.join("aws-last-used.json"), last_used).unwrap();
    // GCP service-account keys as `gcloud ... keys list --format=json` prints them: a bare
    // array of the items the REST API wraps in {"keys": [...]}.
    let rest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(inv.join("gcp-keys.json")).unwrap()).unwrap();
    std::fs::write(inv.join("gcp-keys-gcloud.json"), rest["keys"].to_string()).unwrap();

    let (base, code, stderr) = audit(dir, SOURCES, &[]);
    assert_eq!(code, 1, "{stderr}");
    let args: Vec<String> = inventory_args()
        .into_iter()
        .map(|a| {
            a.replace("credential-report.json", "credential-report.csv")
                .replace("gcp-keys.json", "gcp-keys-gcloud.json")
        })
        .chain(["--inventory".into(), "inv/aws-last-used.json".into()])
        .collect();
    let out = audit_with(dir, NOW, &args, SOURCES, &["--format", "json"]);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "{err}");
    // The text format also says how each file was read.
    let text = audit_with(dir, NOW, &args, SOURCES, &[]);
    let err = format!("{err}{}", String::from_utf8_lossy(&text.stderr));
    assert!(
        err.contains("read inv/credential-report.csv as aws-credential-report"),
        "{err}"
    );
    assert!(
        err.contains("read inv/aws-last-used.json as aws-last-used"),
        "{err}"
    );
    assert!(
        err.contains("read inv/gcp-keys-gcloud.json as gcp-keys"),
        "{err}"
    );
    assert!(
        err.contains("inv/aws-last-used.json: [2]") && err.contains("cannot be tied to a key"),
        "the entry without a key id is named: {err}"
    );
    let other: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // The decoded CSV gives what the base64 JSON gave. The one new fact is the last-used
    // answer saying the second key was never used: that credential (revoked in the register,
    // live at AWS) is now also stale, and nothing else changes.
    let mut want = answers(&base);
    let revoked = &k.cases["revoked in the register, active at AWS"];
    let cats = want.get_mut(revoked).unwrap();
    assert!(!cats.contains(&"stale".to_string()));
    cats.push("stale".into());
    cats.sort();
    assert_eq!(answers(&other), want);
}

/// Issue 10 acceptance 6: every `sprawl audit` recipe of the README's "exports" section runs on
/// the kit (its files in the vendors' documented shapes) as written, with the README's file
/// names mapped to the kit's, and every export the line names is read and cited.
#[test]
fn the_readme_recipes_run_on_the_kit() {
    let readme = include_str!("../README.md");
    let section = readme
        .split("### The exports, and the command that consumes each")
        .nth(1)
        .and_then(|s| s.split("\n### ").next())
        .expect("README section on exports");
    let lines: Vec<&str> = section
        .lines()
        .filter(|l| l.starts_with("sprawl audit --inventory"))
        .collect();
    assert!(lines.len() >= 7, "recipes: {lines:?}");
    // README name → the kit's file (the kit keeps two Anthropic shapes and two OpenAI listings).
    let names: BTreeMap<&str, &[&str]> = BTreeMap::from([
        ("openai-project-keys.json", &["openai-project.json"][..]),
        ("openai-admin-keys.json", &["openai-admin.json"][..]),
        (
            "anthropic-keys.json",
            &["anthropic-old.json", "anthropic-new.json"][..],
        ),
        ("aws-keys.json", &["aws-keys.json"][..]),
        ("aws-last-used.json", &["aws-last-used.json"][..]),
        ("credential-report.csv", &["credential-report.json"][..]),
        ("gcp-keys.json", &["gcp-keys.json"][..]),
        ("gcp-api-keys.json", &["gcp-api-keys.json"][..]),
        ("github-auth.json", &["github-auth.json"][..]),
        ("github-pats.json", &["github-pats.json"][..]),
        ("azure-keys.json", &["azure-keys.json"][..]),
        ("register.json", &["register.csv"][..]),
    ]);
    let k = kit();
    let dir = k.dir.path();
    // `get-access-key-last-used` as the CLI prints it, with the AccessKeyId the README says to
    // add (the kit's AWS user holds several keys).
    let listed: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("inv/aws-keys.json")).unwrap())
            .unwrap();
    let first = &listed["AccessKeyMetadata"][0];
    std::fs::write(
        dir.join("inv/aws-last-used.json"),
        serde_json::json!({
            "UserName": first["UserName"],
            "AccessKeyId": first["AccessKeyId"],
            "AccessKeyLastUsed": {"LastUsedDate": "2025-05-30T00:00:00+00:00",
                                  "ServiceName": "s3", "Region": "us-east-1"}
        })
        .to_string(),
    )
    .unwrap();
    // The README's saved-report example reads `repo-a.json`, a `sprawl git` report.
    let _ = sprawl()
        .current_dir(dir)
        .args(["git", "repo", "--format", "json", "-o", "repo-a.json"])
        .output()
        .unwrap();
    assert!(dir.join("repo-a.json").is_file());
    for line in lines {
        let mut args: Vec<String> = Vec::new();
        let mut cited: Vec<String> = Vec::new();
        let mut words = line.split_whitespace().skip(2).peekable();
        while let Some(w) = words.next() {
            match w {
                "--inventory" => {
                    let v = words.next().unwrap();
                    let (fmt, file) = match v.split_once(':') {
                        Some((f, p)) => (Some(f), p),
                        None => (None, v),
                    };
                    let kit_files = names
                        .get(file)
                        .unwrap_or_else(|| panic!("{line}: no kit file for {file}"));
                    for f in kit_files.iter() {
                        args.push("--inventory".into());
                        args.push(match fmt {
                            Some(fmt) => format!("{fmt}:inv/{f}"),
                            None => format!("inv/{f}"),
                        });
                        cited.push(f.to_string());
                    }
                }
                "--git" => {
                    assert_eq!(words.next(), Some("."), "{line}");
                    args.extend(["--git".into(), "repo".into(), "--git".into(), "svc".into()]);
                }
                "--roster" => {
                    words.next();
                    args.extend(["--roster".into(), "roster.csv".into()]);
                }
                "--now" => {
                    words.next();
                }
                other => args.push(other.to_string()),
            }
        }
        let out = sprawl()
            .current_dir(dir)
            .args(["audit", "--now", NOW])
            .args(&args)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            matches!(out.status.code(), Some(0 | 1)),
            "{line} → {args:?}: {stderr}"
        );
        assert!(
            !stderr.lines().any(|l| l.starts_with("error")),
            "{line}: {stderr}"
        );
        // Each export was read as what it is, and the answer rests on them.
        for f in &cited {
            assert!(
                stderr.contains(&format!("read inv/{f} as")),
                "{line}: inv/{f} not read: {stderr}"
            );
        }
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            cited.iter().any(|f| text.contains(&format!("inv/{f}"))),
            "{line}: no evidence cites {cited:?}"
        );
    }
}
