//! Offline expiry, always on, no network: JWT claims, Amazon Bedrock short-term keys (built
//! here the way AWS's token generator builds them: presign with SigV4, base64, prefix), AWS
//! `ASIA` temporary keys, GitHub `ghu_`/`ghr_`/`ghs_` and Slack `xoxe.` lifetimes.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use git2::{Repository, Signature};
use sprawl::validate::sigv4::{presign_query, Signable};

use crate::util::{key, run_expecting, sprawl, write_tree};

fn b64url(s: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s)
}

/// A JWT with these claims and a random-looking signature (never verified).
pub fn jwt(claims: &str, seed: &str) -> String {
    format!(
        "{}.{}.{}",
        b64url(r#"{"alg":"HS256","typ":"JWT"}"#),
        b64url(claims),
        key("{{b64url:43}}", seed)
    )
}

/// An Amazon Bedrock short-term API key signed at `signed` by this temporary key pair.
pub fn bedrock_key(access_key_id: &str, signed: SystemTime, seed: &str) -> String {
    bedrock_key_signed_by(access_key_id, true, signed, seed)
}

/// An Amazon Bedrock short-term API key signed at `signed` by `access_key_id`: temporary
/// credentials (with a session token) or an IAM user's long-term key (without).
pub fn bedrock_key_signed_by(
    access_key_id: &str,
    temporary: bool,
    signed: SystemTime,
    seed: &str,
) -> String {
    let secret = key("{{b64:40}}", seed);
    let session = temporary.then(|| key("IQoJb3JpZ2luX2Vj{{b64:200}}", seed));
    let url = "https://bedrock.amazonaws.com/?Action=CallWithBearerToken";
    let headers = vec![("host".to_string(), "bedrock.amazonaws.com".to_string())];
    let params = presign_query(
        &Signable {
            method: "POST",
            url,
            headers: &headers,
            body: &[],
            region: "us-east-1",
            service: "bedrock",
        },
        access_key_id,
        &secret,
        session.as_deref(),
        signed,
        Duration::from_secs(12 * 3600),
    )
    .unwrap();
    let mut query = form_urlencoded::Serializer::new(String::new());
    query.append_pair("Action", "CallWithBearerToken");
    for (k, v) in &params {
        query.append_pair(k, v);
    }
    let presigned = format!("bedrock.amazonaws.com/?{}&Version=1", query.finish());
    format!(
        "bedrock-api-key-{}",
        base64::engine::general_purpose::STANDARD.encode(presigned)
    )
}

fn scan_dir(dir: &std::path::Path) -> serde_json::Value {
    let out = run_expecting(sprawl().arg("scan").arg(dir).args(["--format", "json"]), 1);
    serde_json::from_slice(&out.stdout).unwrap()
}

fn finding<'a>(v: &'a serde_json::Value, rule: &str) -> &'a serde_json::Value {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == rule)
        .unwrap_or_else(|| panic!("no {rule} finding in {v:#}"))
}

#[test]
fn jwt_exp_feeds_expires_at_and_expired() {
    let dir = tempfile::tempdir().unwrap();
    let old = jwt(
        r#"{"sub":"svc-build","iss":"https://issuer.example","iat":1599996400,"exp":1600000000}"#,
        "old",
    );
    let new = jwt(r#"{"sub":"svc-deploy","exp":4000000000}"#, "new");
    write_tree(
        dir.path(),
        &[
            (
                "old.txt",
                format!("Authorization: Bearer {old}\n").as_bytes(),
            ),
            (
                "new.txt",
                format!("Authorization: Bearer {new}\n").as_bytes(),
            ),
        ],
    );
    let v = scan_dir(dir.path());
    let fs = v["findings"].as_array().unwrap();
    let by_path = |p: &str| fs.iter().find(|f| f["location"]["path"] == p).unwrap();
    let o = by_path("old.txt");
    assert_eq!(o["expires_at"], "2020-09-13T12:26:40Z");
    assert_eq!(o["expired"], true);
    assert_eq!(o["token"]["issuer"], "https://issuer.example");
    assert_eq!(o["token"]["subject"], "svc-build");
    assert_eq!(o["token"]["lifetime_seconds"], 3600);
    assert_eq!(o["token"]["basis"], "token");
    let n = by_path("new.txt");
    assert_eq!(n["expired"], false);
    assert_eq!(n["expires_at"], "2096-10-02T07:06:40Z");
}

#[test]
fn bedrock_short_term_key_gives_expiry_and_the_signing_key_id() {
    let dir = tempfile::tempdir().unwrap();
    let id_old = key("ASIA{{b32:16}}", "bedrock-old");
    let id_now = key("ASIA{{b32:16}}", "bedrock-now");
    let signed_old = UNIX_EPOCH + Duration::from_secs(1_735_689_600); // 2025-01-01T00:00:00Z
    let old = bedrock_key(&id_old, signed_old, "old");
    let now = bedrock_key(&id_now, SystemTime::now(), "now");
    write_tree(
        dir.path(),
        &[
            (
                "a.env",
                format!("AWS_BEARER_TOKEN_BEDROCK={old}\n").as_bytes(),
            ),
            (
                "b.env",
                format!("AWS_BEARER_TOKEN_BEDROCK={now}\n").as_bytes(),
            ),
        ],
    );
    let v = scan_dir(dir.path());
    let fs = v["findings"].as_array().unwrap();
    let by_path = |p: &str| {
        fs.iter()
            .find(|f| f["location"]["path"] == p && f["rule"] == "aws.bedrock-short-term-key")
            .unwrap_or_else(|| panic!("no bedrock finding in {p}: {v:#}"))
    };
    let a = by_path("a.env");
    assert_eq!(a["expires_at"], "2025-01-01T12:00:00Z");
    assert_eq!(a["expired"], true);
    assert_eq!(
        a["key_id"],
        id_old.as_str(),
        "the signing key id joins to IAM exports"
    );
    assert_eq!(a["token"]["lifetime_seconds"], 43200);
    let b = by_path("b.env");
    assert_eq!(b["expired"], false);
    assert_eq!(b["key_id"], id_now.as_str());
    let text = serde_json::to_string(&v).unwrap();
    assert!(!text.contains(&old) && !text.contains(&now));
}

fn commit_at(repo: &Repository, path: &str, body: &str, when: i64) {
    let root = repo.workdir().unwrap().to_path_buf();
    std::fs::write(root.join(path), body).unwrap();
    let mut index = repo.index().unwrap();
    index.add_path(std::path::Path::new(path)).unwrap();
    index.write().unwrap();
    let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
    let s = Signature::new("Dev", "dev@example.com", &git2::Time::new(when, 0)).unwrap();
    let parent = repo.head().ok().and_then(|h| h.peel_to_commit().ok());
    let parents: Vec<&git2::Commit> = parent.iter().collect();
    repo.commit(Some("HEAD"), &s, &s, "add", &tree, &parents)
        .unwrap();
}

#[test]
fn short_lived_prefixes_expire_a_lifetime_after_their_commit() {
    let dir = tempfile::tempdir().unwrap();
    let repo = Repository::init(dir.path()).unwrap();
    let ghu = key("ghu_{{alnum:30}}{{crc32}}", "ghu");
    let ghr = key("ghr_{{alnum:30}}{{crc32}}", "ghr");
    let ghs = key("ghs_{{alnum:30}}{{crc32}}", "ghs");
    let xoxe = key("xoxe.xoxp-1-{{alnum:140}}", "xoxe");
    let asia = key("ASIA{{b32:16}}", "asia");
    let body = format!(
        "token={ghu}\nrefresh_token={ghr}\nGH_TOKEN={ghs}\nSLACK_REFRESH={xoxe}\nAWS_ACCESS_KEY_ID={asia}\n"
    );
    let when = 1_577_836_800; // 2020-01-01T00:00:00Z
    commit_at(&repo, "tokens.env", &body, when);
    let out = sprawl()
        .arg("git")
        .arg(dir.path())
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for (rule, expires, lifetime) in [
        (
            "github.user-to-server-token",
            "2020-01-01T08:00:00Z",
            8 * 3600,
        ),
        ("github.refresh-token", "2020-07-03T00:00:00Z", 184 * 86400),
        (
            "github.server-to-server-token",
            "2020-01-01T01:00:00Z",
            3600,
        ),
        ("aws.access-key-id", "2020-01-02T12:00:00Z", 36 * 3600),
    ] {
        let f = finding(&v, rule);
        assert_eq!(f["expires_at"], expires, "{rule}");
        assert_eq!(f["expired"], true, "{rule}");
        assert_eq!(f["token"]["basis"], "lifetime", "{rule}");
        assert_eq!(f["token"]["lifetime_seconds"], lifetime, "{rule}");
    }
    let slack = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"].as_str().unwrap().starts_with("slack."))
        .unwrap();
    assert_eq!(slack["expires_at"], "2020-01-01T12:00:00Z");

    // In a plain file there is no commit date: the lifetime is known, not when it ends.
    let plain = tempfile::tempdir().unwrap();
    write_tree(plain.path(), &[("t.env", body.as_bytes())]);
    let v = scan_dir(plain.path());
    let f = finding(&v, "github.user-to-server-token");
    assert!(f.get("expires_at").is_none());
    assert_eq!(f["token"]["lifetime_seconds"], 8 * 3600);
    // A static key says nothing about expiry.
    let aki = tempfile::tempdir().unwrap();
    let static_id = key("AKIA{{b32:16}}", "static");
    write_tree(
        aki.path(),
        &[(
            "k.env",
            format!("AWS_ACCESS_KEY_ID={static_id}\n").as_bytes(),
        )],
    );
    let v = scan_dir(aki.path());
    let f = finding(&v, "aws.access-key-id");
    assert!(f.get("token").is_none() && f.get("expired").is_none());
}

#[test]
fn text_report_shows_expiry() {
    let dir = tempfile::tempdir().unwrap();
    let old = jwt(r#"{"exp":1600000000}"#, "text");
    write_tree(
        dir.path(),
        &[("a.txt", format!("Authorization: Bearer {old}\n").as_bytes())],
    );
    let out = sprawl().arg("scan").arg(dir.path()).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("expiry       expired 2020-09-13T12:26:40Z (read from the token)"),
        "{text}"
    );
}

/// An audit credential by the rule that found it.
fn audited<'a>(v: &'a serde_json::Value, rule: &str) -> &'a serde_json::Value {
    v["credentials"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["rule"] == rule)
        .unwrap_or_else(|| panic!("no {rule} credential in {v:#}"))
}

fn audit_json(dir: &std::path::Path, args: &[&str]) -> serde_json::Value {
    std::fs::write(dir.join("register.json"), "[]").unwrap();
    let out = sprawl()
        .current_dir(dir)
        .args([
            "audit",
            "--inventory",
            "native-json:register.json",
            "--now",
            "2025-06-01",
        ])
        .args(["--format", "json"])
        .args(args)
        .output()
        .unwrap();
    // 0 when everything found is a low clean-up (below the default --fail-on high).
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Issue 13 acceptance 3: expiry read offline feeds the audit. A token that expired on its own
/// is a low clean-up (`revoked_but_present`, "not a live risk"), whether the expiry comes from
/// the token (JWT, Bedrock) or from a short lifetime after its commit (ghu_, ghr_, ghs_, Slack
/// `xoxe.`); the same kind of token still valid is not lowered.
#[test]
fn tokens_that_expired_on_their_own_are_low_clean_ups_in_the_audit() {
    let clean_up = |c: &serde_json::Value, what: &str| {
        assert_eq!(c["severity"], "low", "{what}: {c:#}");
        let h = c["categories"]
            .as_array()
            .unwrap()
            .iter()
            .find(|h| h["category"] == "revoked_but_present")
            .unwrap_or_else(|| panic!("{what}: no revoked_but_present in {c:#}"));
        let why = h["evidence"].as_str().unwrap();
        assert!(why.contains("clean-up, not a live risk"), "{what}: {why}");
    };

    let tree = tempfile::tempdir().unwrap();
    let old = jwt(r#"{"sub":"svc-build","exp":1600000000}"#, "audit-old");
    let new = jwt(r#"{"sub":"svc-deploy","exp":4000000000}"#, "audit-new");
    let signed = UNIX_EPOCH + Duration::from_secs(1_735_689_600); // 2025-01-01
    let bedrock = bedrock_key(&key("ASIA{{b32:16}}", "audit-bedrock"), signed, "audit");
    std::fs::create_dir(tree.path().join("src")).unwrap();
    write_tree(
        &tree.path().join("src"),
        &[
            (
                "old.txt",
                format!("Authorization: Bearer {old}\n").as_bytes(),
            ),
            (
                "new.txt",
                format!("Authorization: Bearer {new}\n").as_bytes(),
            ),
            (
                "b.env",
                format!("AWS_BEARER_TOKEN_BEDROCK={bedrock}\n").as_bytes(),
            ),
        ],
    );
    let v = audit_json(tree.path(), &["--scan", "src"]);
    let jwts: Vec<&serde_json::Value> = v["credentials"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["rule"].as_str().unwrap().starts_with("jwt"))
        .collect();
    assert_eq!(jwts.len(), 2, "{v:#}");
    let place = |c: &serde_json::Value| {
        c["occurrences"][0]["path"]
            .as_str()
            .unwrap_or("")
            .to_string()
    };
    let (expired, valid): (Vec<_>, Vec<_>) = jwts
        .into_iter()
        .partition(|c| serde_json::to_string(c).unwrap().contains("old.txt"));
    clean_up(expired[0], "expired JWT");
    assert_ne!(
        valid[0]["severity"],
        "low",
        "a valid JWT is not a clean-up: {}",
        place(valid[0])
    );
    clean_up(
        audited(&v, "aws.bedrock-short-term-key"),
        "Bedrock short-term key",
    );

    let dir = tempfile::tempdir().unwrap();
    let repo = Repository::init(dir.path()).unwrap();
    let body = format!(
        "token={}\nrefresh_token={}\nGH_TOKEN={}\nSLACK_REFRESH={}\n",
        key("ghu_{{alnum:30}}{{crc32}}", "audit-ghu"),
        key("ghr_{{alnum:30}}{{crc32}}", "audit-ghr"),
        key("ghs_{{alnum:30}}{{crc32}}", "audit-ghs"),
        key("xoxe.xoxp-1-{{alnum:140}}", "audit-xoxe"),
    );
    commit_at(&repo, "tokens.env", &body, 1_577_836_800); // 2020-01-01
                                                          // AWS temporary credentials (an `ASIA` id with its secret): at most 36 h after the commit.
    let asia = |seed: &str| {
        format!(
            "AWS_ACCESS_KEY_ID={}\nAWS_SECRET_ACCESS_KEY={}\n",
            key("ASIA{{b32:16}}", seed),
            key("{{b64:40}}", seed)
        )
    };
    commit_at(&repo, "sts.env", &asia("audit-asia-old"), 1_577_836_800);
    // The same kind, committed 6 hours before the audit's --now: still within its lifetime.
    commit_at(&repo, "sts-now.env", &asia("audit-asia-now"), 1_748_714_400); // 2025-05-31T18:00Z
    let v = audit_json(dir.path(), &["--git", "."]);
    for rule in [
        "github.user-to-server-token",
        "github.refresh-token",
        "github.server-to-server-token",
    ] {
        clean_up(audited(&v, rule), rule);
    }
    let slack = v["credentials"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["rule"].as_str().unwrap().starts_with("slack."))
        .expect("a Slack credential");
    clean_up(slack, "Slack xoxe. refresh token");
    // The ASIA pairs: one credential each (the pair rule), read as temporary.
    let by_path = |p: &str| {
        v["credentials"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["occurrences"][0]["path"] == p)
            .unwrap_or_else(|| panic!("nothing audited in {p}: {v:#}"))
    };
    let old = by_path("sts.env");
    assert_eq!(old["rule"], "aws.access-key-pair");
    clean_up(old, "expired ASIA temporary credentials");
    assert_eq!(
        categories(old),
        ["exposed", "revoked_but_present", "uninventoried"],
        "{old:#}"
    );
    // Still live and in no inventory: a risk (not lowered), but not `long_lived`, since a
    // temporary credential is the short-lived kind lifecycle guidance asks for.
    let now = by_path("sts-now.env");
    assert_eq!(now["rule"], "aws.access-key-pair");
    assert_eq!(categories(now), ["exposed", "uninventoried"], "{now:#}");
    assert_eq!(now["severity"], "critical", "{now:#}");
}

/// Sorted categories of an audited credential.
fn categories(c: &serde_json::Value) -> Vec<String> {
    let mut cats: Vec<String> = c["categories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["category"].as_str().unwrap().to_string())
        .collect();
    cats.sort();
    cats.dedup();
    cats
}

/// Issue 13 item 4: a Bedrock short-term key's `X-Amz-Credential` is the signing access key
/// id, "which joins to IAM exports". Signed by an IAM user's long-term key, it joins to that
/// key's `aws iam list-access-keys` record, in-process and from a saved scan report; a key
/// signed by temporary credentials (an `ASIA` id IAM does not list) stays uninventoried.
#[test]
fn a_bedrock_key_joins_to_the_iam_key_that_signed_it() {
    let dir = tempfile::tempdir().unwrap();
    let iam_id = key("AKIA{{b32:16}}", "bedrock-iam");
    let other_id = key("AKIA{{b32:16}}", "bedrock-iam-other");
    let signed = UNIX_EPOCH + Duration::from_secs(1_748_714_400); // 2025-05-31T18:00Z
    let by_iam = bedrock_key_signed_by(&iam_id, false, signed, "bedrock-iam");
    let by_sts = bedrock_key(&key("ASIA{{b32:16}}", "bedrock-sts"), signed, "bedrock-sts");
    write_tree(
        dir.path(),
        &[
            (
                "src/a.env",
                format!("AWS_BEARER_TOKEN_BEDROCK={by_iam}\n").as_bytes(),
            ),
            (
                "src/b.env",
                format!("AWS_BEARER_TOKEN_BEDROCK={by_sts}\n").as_bytes(),
            ),
            (
                "aws-keys.json",
                format!(
                    r#"{{"AccessKeyMetadata": [
  {{"UserName": "bedrock-caller", "AccessKeyId": "{iam_id}", "Status": "Active", "CreateDate": "2025-02-01T08:00:00+00:00"}},
  {{"UserName": "bedrock-caller", "AccessKeyId": "{other_id}", "Status": "Active", "CreateDate": "2025-02-01T08:00:00+00:00"}}],
  "IsTruncated": false}}"#
                )
                .as_bytes(),
            ),
        ],
    );
    run_expecting(
        sprawl()
            .current_dir(dir.path())
            .args(["scan", "src", "--format", "json", "-o", "src.json"]),
        1,
    );
    for source in [&["--scan", "src"][..], &["src.json"][..]] {
        let out = sprawl()
            .current_dir(dir.path())
            .args(["audit", "--now", "2025-06-01", "--format", "json"])
            .args(["--inventory", "aws-keys.json"])
            .args(source)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        let v: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{source:?}: {e}: {stderr}"));
        let fp = |s: &str| sprawl::finding::Fingerprint::of(s.as_bytes()).to_string();
        let cred = |s: &str| {
            v["credentials"]
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["fingerprint"] == fp(s))
                .unwrap_or_else(|| panic!("{source:?}: not audited: {v:#}"))
        };
        let c = cred(&by_iam);
        assert_eq!(c["rule"], "aws.bedrock-short-term-key", "{source:?}");
        assert_eq!(c["key_id"], iam_id.as_str(), "{source:?}");
        assert_eq!(c["matched_by"], "key_id", "{source:?}: {c:#}");
        assert_eq!(c["record"]["id"], iam_id.as_str(), "{source:?}");
        // The IAM user holds it, and no export names a human owner.
        assert_eq!(
            categories(c),
            ["exposed", "unowned_machine_identity"],
            "{source:?}: {c:#}"
        );
        let c = cred(&by_sts);
        assert!(c["record"].is_null(), "{source:?}: {c:#}");
        assert_eq!(categories(c), ["exposed", "uninventoried"], "{source:?}");
        // The record it joined is not also listed as found nowhere; the other one is.
        let ids: Vec<&str> = v["records"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, [other_id.as_str()], "{source:?}");
        let text = v.to_string();
        assert!(!text.contains(&by_iam) && !text.contains(&by_sts));
    }
}

/// A bare access key id beside a Bedrock key that key signed is its own credential: the
/// Bedrock key names the id that signed it, it does not hold it (the id + secret pair does).
#[test]
fn a_bare_key_id_is_not_merged_into_the_bedrock_key_it_signed() {
    let dir = tempfile::tempdir().unwrap();
    let iam_id = key("AKIA{{b32:16}}", "bedrock-bare-iam");
    let signed = UNIX_EPOCH + Duration::from_secs(1_748_714_400); // 2025-05-31T18:00Z
    let by_iam = bedrock_key_signed_by(&iam_id, false, signed, "bedrock-bare");
    write_tree(
        dir.path(),
        &[
            (
                "src/a.env",
                format!("AWS_BEARER_TOKEN_BEDROCK={by_iam}\n").as_bytes(),
            ),
            (
                "src/c.env",
                format!("AWS_ACCESS_KEY_ID={iam_id}\n").as_bytes(),
            ),
            ("register.json", b"[]"),
        ],
    );
    let out = sprawl()
        .current_dir(dir.path())
        .args(["audit", "--now", "2025-06-01", "--format", "json"])
        .args([
            "--inventory",
            "register.json",
            "--inventory-format",
            "native-json",
        ])
        .args(["--scan", "src"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    let fp = |s: &str| sprawl::finding::Fingerprint::of(s.as_bytes()).to_string();
    let creds = v["credentials"].as_array().unwrap();
    let bedrock = creds
        .iter()
        .find(|c| c["fingerprint"] == fp(&by_iam))
        .unwrap_or_else(|| panic!("not audited: {v:#}"));
    let places: Vec<&str> = bedrock["occurrences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["path"].as_str().unwrap())
        .collect();
    assert_eq!(places, ["src/a.env"], "{bedrock:#}");
    assert!(
        creds.iter().any(|c| c["fingerprint"] == fp(&iam_id)),
        "the bare id is its own credential: {v:#}"
    );
}
