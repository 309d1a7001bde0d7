//! `--validate` against a mock provider this test starts on 127.0.0.1, through the same code
//! path as the real endpoints (the test hook `SPRAWL_TEST_VALIDATE_BASE_URL` rewrites only the
//! scheme, host and port; the allow-list is still checked against the real host). Nothing
//! here reaches the internet.

use std::{
    collections::HashMap,
    path::Path,
    sync::{Arc, Mutex},
    thread::JoinHandle,
    time::Duration,
};

use sprawl::{
    finding::Finding,
    matcher::Matcher,
    progress::Progress,
    rules::{check::example_text, RuleSet},
    scan::{scan_paths, ScanOptions},
    source::fs::WalkOptions,
    validate::{self, http::TEST_BASE_URL_VAR, Options, Status},
};

use crate::util::{key, sprawl, write_tree};

/// One request the mock saw.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub path: String,
    /// The validator's real host, as the test hook names it.
    pub host: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    /// Everything the request carried, for "did the secret travel" checks.
    pub fn all_text(&self) -> String {
        let h: Vec<String> = self
            .headers
            .iter()
            .map(|(k, v)| format!("{k}: {v}"))
            .collect();
        format!(
            "{} {}\n{}\n{}",
            self.method,
            self.path,
            h.join("\n"),
            self.body
        )
    }
}

/// What the mock answers: status, headers, body, and a delay before answering.
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
    pub delay: Duration,
}

impl Answer {
    pub fn json(status: u16, body: &str) -> Answer {
        Answer {
            status,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: body.into(),
            delay: Duration::ZERO,
        }
    }
}

type Handler = dyn Fn(&Seen, usize) -> Answer + Send + Sync;

/// A tiny_http server on 127.0.0.1 answering with `handler` (given the request and how many
/// requests came before it), recording every request. Stops when dropped.
pub struct Mock {
    pub base: String,
    server: Arc<tiny_http::Server>,
    pub seen: Arc<Mutex<Vec<Seen>>>,
    thread: Option<JoinHandle<()>>,
}

impl Mock {
    pub fn start(handler: impl Fn(&Seen, usize) -> Answer + Send + Sync + 'static) -> Mock {
        let server = Arc::new(tiny_http::Server::http("127.0.0.1:0").expect("bind 127.0.0.1"));
        let port = server.server_addr().to_ip().expect("ip").port();
        let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
        let handler: Arc<Handler> = Arc::new(handler);
        let (s2, seen2) = (Arc::clone(&server), Arc::clone(&seen));
        let thread = std::thread::spawn(move || {
            for mut req in s2.incoming_requests() {
                let mut body = String::new();
                let _ = req.as_reader().read_to_string(&mut body);
                let headers: Vec<(String, String)> = req
                    .headers()
                    .iter()
                    .map(|h| (h.field.to_string(), h.value.to_string()))
                    .collect();
                let host = headers
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(validate::http::TEST_HOST_HEADER))
                    .map(|(_, v)| v.clone())
                    .unwrap_or_default();
                let s = Seen {
                    method: req.method().to_string(),
                    path: req.url().to_string(),
                    host,
                    headers,
                    body,
                };
                let n = {
                    let mut all = seen2.lock().unwrap();
                    all.push(s.clone());
                    all.len() - 1
                };
                let handler = Arc::clone(&handler);
                std::thread::spawn(move || {
                    let a = handler(&s, n);
                    std::thread::sleep(a.delay);
                    let mut resp =
                        tiny_http::Response::from_string(a.body).with_status_code(a.status);
                    for (k, v) in a.headers {
                        resp.add_header(
                            tiny_http::Header::from_bytes(k.as_bytes(), v.as_bytes()).unwrap(),
                        );
                    }
                    let _ = req.respond(resp);
                });
            }
        });
        Mock {
            base: format!("http://127.0.0.1:{port}"),
            server,
            seen,
            thread: Some(thread),
        }
    }

    pub fn requests(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

impl Drop for Mock {
    fn drop(&mut self) {
        self.server.unblock();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The test hook is process-wide: tests that set it run one at a time.
pub static HOOK: Mutex<()> = Mutex::new(());

/// A rule file with one test rule and one validator on a made-up provider host.
pub const TEST_RULES: &str = r#"
[[rules]]
id = "test.key"
title = "Test provider key"
provider = "testprov"
kind = "api-key"
severity = "high"
keywords = ["tpk_"]
regex = '\b(?P<secret>tpk_[a-z0-9]{8}_[A-Za-z0-9]{24})\b'
revoke = "Delete it in the test provider's console"
examples = ["k = tpk_valid000_{{alnum:24}}", "tpk_other000_{{alnum:24}}"]
negative_examples = ["tpk_short"]

[[validators]]
id = "testprov"
rules = ["test.key"]
url = "https://api.testprov.example/v1/me"
hosts = ["api.testprov.example", "login.testprov.example"]
headers = { Authorization = "Bearer {{secret}}" }
invalid_status = [401]
identity = { account = "json:account", scopes = "header:x-scopes" }
"#;

/// A fake test-provider key whose 8-letter scenario tag tells the mock what to answer.
pub fn test_key(tag: &str, seed: &str) -> String {
    assert_eq!(tag.len(), 8);
    key(&format!("tpk_{tag}_{{{{alnum:24}}}}"), seed)
}

fn scenario(s: &Seen) -> String {
    let auth = s.header("authorization").unwrap_or("");
    auth.split("tpk_")
        .nth(1)
        .map(|r| r[..8].to_string())
        .unwrap_or_default()
}

/// The answers of every scenario.
fn provider(s: &Seen, _n: usize, seen: &Mutex<HashMap<String, usize>>) -> Answer {
    let tag = scenario(s);
    let count = {
        let mut m = seen.lock().unwrap();
        let c = m
            .entry(s.header("authorization").unwrap_or("").to_string())
            .or_default();
        *c += 1;
        *c
    };
    let auth = s.header("authorization").unwrap_or("").to_string();
    match tag.as_str() {
        "valid000" => {
            let mut a = Answer::json(200, r#"{"account":"acme-prod"}"#);
            a.headers.push(("x-scopes".into(), "read,write".into()));
            a
        }
        // A provider that echoes the key back: the echo must not reach any output.
        "echo0000" => Answer::json(
            200,
            &format!(r#"{{"account":"{}"}}"#, auth.trim_start_matches("Bearer ")),
        ),
        "badkey00" => Answer::json(401, r#"{"error":"bad key"}"#),
        "server50" => Answer::json(503, "{}"),
        "slow0000" => {
            let mut a = Answer::json(200, "{}");
            a.delay = Duration::from_secs(3);
            a
        }
        "limited0" if count == 1 => {
            let mut a = Answer::json(429, "{}");
            a.headers.push(("Retry-After".into(), "1".into()));
            a
        }
        "limited0" => Answer::json(200, r#"{"account":"after-wait"}"#),
        "always42" => {
            let mut a = Answer::json(429, "{}");
            a.headers.push(("Retry-After".into(), "1".into()));
            a
        }
        "redirect" => {
            let mut a = Answer::json(302, "");
            a.headers.push((
                "Location".into(),
                "https://collector.evil.example/steal".into(),
            ));
            a
        }
        "samehost" if s.path.starts_with("/v1/me") => {
            let mut a = Answer::json(307, "");
            a.headers.push((
                "Location".into(),
                "https://login.testprov.example/v2/me".into(),
            ));
            a
        }
        "samehost" => Answer::json(200, r#"{"account":"moved"}"#),
        _ => Answer::json(400, "{}"),
    }
}

fn findings_of(dir: &Path, rules: &RuleSet) -> Vec<Finding> {
    let matcher = Matcher::new(rules).unwrap();
    let opts = ScanOptions {
        paths: vec![dir.to_path_buf()],
        walk: WalkOptions {
            exclude: vec![],
            follow_symlinks: false,
            threads: 1,
        },
        max_file_size: 1 << 20,
        max_decompressed: 1 << 20,
    };
    scan_paths(&matcher, &opts, &Progress::disabled()).findings
}

fn test_rules() -> RuleSet {
    let mut set = RuleSet::default();
    set.add_text(TEST_RULES, "test-rules.toml").unwrap();
    set
}

#[test]
fn each_status_through_the_mock_and_no_secret_in_any_result() {
    let _g = HOOK.lock().unwrap_or_else(|e| e.into_inner());
    let counts = Mutex::new(HashMap::new());
    let mock = Mock::start(move |s, n| provider(s, n, &counts));
    std::env::set_var(TEST_BASE_URL_VAR, &mock.base);
    let tags = [
        "valid000", "echo0000", "badkey00", "server50", "slow0000", "limited0", "always42",
        "redirect", "samehost",
    ];
    let keys: Vec<String> = tags.iter().map(|t| test_key(t, t)).collect();
    let dir = tempfile::tempdir().unwrap();
    let files: Vec<(String, Vec<u8>)> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| (format!("f{i}.env"), format!("KEY={k}\n").into_bytes()))
        .collect();
    let refs: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(p, b)| (p.as_str(), b.as_slice()))
        .collect();
    write_tree(dir.path(), &refs);
    let rules = test_rules();
    let findings = findings_of(dir.path(), &rules);
    assert_eq!(findings.len(), keys.len());
    let opts = Options {
        timeout: Duration::from_millis(1500),
        max_retry_after: Duration::from_secs(2),
        ..Options::default()
    };
    let out = validate::validate(&findings, &rules.validators, &opts);
    std::env::remove_var(TEST_BASE_URL_VAR);
    let status_of = |tag: &str| {
        let f = findings
            .iter()
            .find(|f| String::from_utf8_lossy(&f.secret).contains(tag))
            .unwrap();
        out.results[&f.fingerprint].clone()
    };
    let v = status_of("valid000");
    assert_eq!(v.status, Status::Valid);
    assert_eq!(v.identity["account"], "acme-prod");
    assert_eq!(v.identity["scopes"], "read,write");
    assert_eq!(status_of("badkey00").status, Status::Invalid);
    let u = status_of("server50");
    assert_eq!((u.status, u.http_status), (Status::Unknown, Some(503)));
    let t = status_of("slow0000");
    assert_eq!(t.status, Status::Error);
    assert!(t.message.unwrap().contains("timed out"));
    let l = status_of("limited0");
    assert_eq!(l.status, Status::Valid, "{l:?}");
    assert_eq!(l.identity["account"], "after-wait");
    let a = status_of("always42");
    assert_eq!(a.status, Status::Unknown);
    assert!(a.message.unwrap().contains("429"));
    let r = status_of("redirect");
    assert_eq!(r.status, Status::Error);
    let msg = r.message.unwrap();
    assert!(
        msg.contains("refused") && msg.contains("collector.evil.example"),
        "{msg}"
    );
    let m = status_of("samehost");
    assert_eq!(m.status, Status::Valid, "{m:?}");
    assert_eq!(m.identity["account"], "moved");
    let e = status_of("echo0000");
    assert_eq!(e.status, Status::Valid);
    assert_eq!(e.identity["account"], "[redacted]");

    let seen = mock.requests();
    // Every request named an allow-listed host: the refused redirect never left.
    for s in &seen {
        assert!(
            s.host == "api.testprov.example" || s.host == "login.testprov.example",
            "request for {}",
            s.host
        );
    }
    let per = |tag: &str| seen.iter().filter(|s| scenario(s) == tag).count();
    assert_eq!(per("valid000"), 1);
    assert_eq!(per("redirect"), 1, "a refused redirect is not followed");
    assert_eq!(per("limited0"), 2, "one retry after Retry-After");
    assert_eq!(
        per("always42"),
        2,
        "no retry storm: one retry, then give up"
    );
    assert_eq!(per("samehost"), 2);
    // No secret in any result, message or the summary.
    let text = format!(
        "{}\n{}\n{:?}",
        serde_json::to_string(&out.results.values().collect::<Vec<_>>()).unwrap(),
        validate::summary(&out),
        out.warnings
    );
    for k in &keys {
        assert!(!text.contains(k.as_str()), "secret leaked into results");
        assert!(
            !text.contains(&k[4..20]),
            "part of a secret leaked into results"
        );
    }
}

#[test]
fn a_validator_whose_url_leaves_its_allow_list_is_rejected() {
    let bad = TEST_RULES.replace(
        r#"hosts = ["api.testprov.example", "login.testprov.example"]"#,
        r#"hosts = ["other.example"]"#,
    );
    let mut set = RuleSet::default();
    let err = set.add_text(&bad, "bad.toml").unwrap_err();
    assert!(format!("{err:#}").contains("not in its hosts allow-list"));
    let in_url = TEST_RULES.replace("/v1/me", "/v1/me?key={{secret}}");
    let err = RuleSet::default()
        .add_text(&in_url, "bad.toml")
        .unwrap_err();
    assert!(format!("{err:#}").contains("placeholders"));
    let plain = TEST_RULES.replace("https://api.testprov", "http://api.testprov");
    assert!(RuleSet::default().add_text(&plain, "bad.toml").is_err());
}

#[test]
fn the_test_hook_only_rewrites_to_loopback() {
    let _g = HOOK.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let k = test_key("valid000", "hook");
    write_tree(dir.path(), &[("a.env", format!("K={k}\n").as_bytes())]);
    let rules = test_rules();
    let findings = findings_of(dir.path(), &rules);
    std::env::set_var(TEST_BASE_URL_VAR, "http://192.0.2.1:80");
    let out = validate::validate(&findings, &rules.validators, &Options::default());
    std::env::remove_var(TEST_BASE_URL_VAR);
    assert_eq!(out.requests.values().sum::<usize>(), 0);
    let v = out.results.values().next().unwrap();
    assert_eq!(v.status, Status::Error);
    assert!(v.message.as_deref().unwrap().contains("only loopback"));
}

fn rules_file(dir: &Path) -> std::path::PathBuf {
    let p = dir.join("test-rules.toml");
    std::fs::write(&p, TEST_RULES).unwrap();
    p
}

#[test]
fn scan_validate_sends_one_request_per_secret_and_caches_without_secrets() {
    let _g = HOOK.lock().unwrap_or_else(|e| e.into_inner());
    let counts = Mutex::new(HashMap::new());
    let mock = Mock::start(move |s, n| provider(s, n, &counts));
    let tree = tempfile::tempdir().unwrap();
    let other = tempfile::tempdir().unwrap();
    let k = test_key("valid000", "cache");
    let line = format!("KEY={k}\n");
    write_tree(
        tree.path(),
        &[
            ("a.env", line.as_bytes()),
            ("b.env", line.as_bytes()),
            ("c/d.env", line.as_bytes()),
        ],
    );
    let rules = rules_file(other.path());
    let cache = other.path().join("validate-cache.json");
    let run = || {
        sprawl()
            .env(TEST_BASE_URL_VAR, &mock.base)
            .arg("scan")
            .arg(tree.path())
            .arg("--rules")
            .arg(&rules)
            .args(["--validate", "--format", "json", "--validate-cache"])
            .arg(&cache)
            .output()
            .unwrap()
    };
    let first = run();
    assert_eq!(first.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&first.stdout).unwrap();
    let fs = v["findings"].as_array().unwrap();
    assert_eq!(fs.len(), 3);
    for f in fs {
        assert_eq!(f["validation"]["status"], "valid");
        assert_eq!(f["validation"]["identity"]["account"], "acme-prod");
        assert_eq!(f["validation"]["validator"], "testprov");
    }
    assert_eq!(
        mock.requests().len(),
        1,
        "three places, one secret, one request"
    );
    let stderr = String::from_utf8_lossy(&first.stderr);
    assert!(
        stderr.contains("validated 1 secret(s) (1 valid): 1 request(s)"),
        "{stderr}"
    );
    let cached = std::fs::read_to_string(&cache).unwrap();
    assert!(cached.contains(&fs[0]["fingerprint"].as_str().unwrap()[7..]));
    assert!(!cached.contains(&k), "the cache holds no secret");
    let second = run();
    assert_eq!(second.status.code(), Some(1));
    assert_eq!(
        mock.requests().len(),
        1,
        "the second run answers from the cache"
    );
    assert!(String::from_utf8_lossy(&second.stderr).contains("1 from cache"));
    for out in [&first, &second] {
        assert!(!String::from_utf8_lossy(&out.stdout).contains(&k));
        assert!(!String::from_utf8_lossy(&out.stderr).contains(&k));
    }
    // Without --validate nothing is sent.
    let plain = sprawl()
        .env(TEST_BASE_URL_VAR, &mock.base)
        .arg("scan")
        .arg(tree.path())
        .arg("--rules")
        .arg(&rules)
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert_eq!(plain.status.code(), Some(1));
    assert_eq!(mock.requests().len(), 1);
    assert!(!String::from_utf8_lossy(&plain.stdout).contains("\"validation\""));
}

#[test]
fn text_sarif_and_csv_show_validation() {
    let _g = HOOK.lock().unwrap_or_else(|e| e.into_inner());
    let counts = Mutex::new(HashMap::new());
    let mock = Mock::start(move |s, n| provider(s, n, &counts));
    let tree = tempfile::tempdir().unwrap();
    let other = tempfile::tempdir().unwrap();
    let k = test_key("badkey00", "formats");
    write_tree(tree.path(), &[("a.env", format!("KEY={k}\n").as_bytes())]);
    let rules = rules_file(other.path());
    for (format, want) in [
        ("text", "live?        invalid"),
        ("sarif", "\"status\": \"invalid\""),
        ("csv", ",invalid"),
    ] {
        let out = sprawl()
            .env(TEST_BASE_URL_VAR, &mock.base)
            .arg("scan")
            .arg(tree.path())
            .arg("--rules")
            .arg(&rules)
            .args(["--validate", "--format", format])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains(want), "{format}: {text}");
        assert!(!text.contains(&k));
    }
}

#[test]
fn the_pre_commit_path_refuses_validate() {
    let out = sprawl()
        .args(["git", "--staged", "--validate", "."])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--validate"));
}

/// The mock's answer to a built-in validator: its first valid status, and a JSON body that
/// passes its JSON check (Slack's `ok`).
fn builtin_answer(set: &RuleSet, s: &Seen) -> Answer {
    let Some(v) = set.validators.iter().find(|v| {
        v.hosts.contains(&s.host) && {
            let path = v.url.splitn(4, '/').nth(3).unwrap_or("");
            s.path.trim_start_matches('/') == path
        }
    }) else {
        return Answer::json(404, "{}");
    };
    let mut body = serde_json::json!({"login": "octo", "name": "octo"});
    if let Some(j) = &v.json {
        let value: serde_json::Value = serde_json::to_value(&j.valid).unwrap();
        body[j.field.as_str()] = value;
    }
    let mut a = Answer::json(v.valid_status[0], &body.to_string());
    a.headers.push(("x-oauth-scopes".into(), "repo".into()));
    a
}

/// Every built-in validator's rule examples (with their companion values beside them) as
/// files in `dir`, and the findings a scan of them gives.
fn builtin_validator_findings(set: &RuleSet, dir: &Path) -> Vec<sprawl::finding::Finding> {
    let mut n = 0;
    for v in &set.validators {
        for rid in &v.rules {
            let rule = set.get(rid).unwrap();
            for (i, t) in rule.examples.iter().enumerate() {
                let p = dir.join(format!("{n}.txt"));
                // Companion values (a Twilio Account SID, a Docker ID) sit beside the secret.
                let mut text = example_text(rid, i, false, t);
                for c in v.companions.values() {
                    let cr = set.get(c).unwrap();
                    text.push('\n');
                    text.push_str(&example_text(c, 0, false, &cr.examples[0]));
                }
                std::fs::write(&p, text).unwrap();
                n += 1;
            }
        }
    }
    findings_of(dir, set)
}

#[test]
fn every_builtin_validator_runs_against_the_mock() {
    let _g = HOOK.lock().unwrap_or_else(|e| e.into_inner());
    let set = RuleSet::builtin().unwrap();
    assert!(
        set.validators.len() >= 30,
        "{} validators",
        set.validators.len()
    );
    let set2 = set.clone();
    let mock = Mock::start(move |s, _| builtin_answer(&set2, s));
    let dir = tempfile::tempdir().unwrap();
    let findings = builtin_validator_findings(&set, dir.path());
    std::env::set_var(TEST_BASE_URL_VAR, &mock.base);
    let opts = Options {
        per_host_per_second: 0.0,
        ..Options::default()
    };
    let out = validate::validate(&findings, &set.validators, &opts);
    std::env::remove_var(TEST_BASE_URL_VAR);
    let seen = mock.requests();
    for v in &set.validators {
        let valid = findings.iter().any(|f| {
            v.rules.contains(&f.rule.id)
                && out.results.get(&f.fingerprint).map(|r| r.status) == Some(Status::Valid)
        });
        assert!(valid, "validator {} validated nothing as valid", v.id);
        // The secret travelled to the validator's host (or signed it, for SigV4).
        let travelled = seen.iter().filter(|s| v.hosts.contains(&s.host)).any(|s| {
            findings.iter().any(|f| {
                v.rules.contains(&f.rule.id)
                    && (s.all_text().contains(&*String::from_utf8_lossy(&f.secret))
                        || s.header("authorization").is_some_and(|a| {
                            a.starts_with("Basic ")
                                || (a.starts_with("AWS4-HMAC-SHA256")
                                    && f.key_id.as_deref().is_some_and(|k| a.contains(k)))
                        }))
            })
        });
        assert!(travelled, "validator {}: no request carried a secret", v.id);
    }
    for s in &seen {
        let allowed = set.validators.iter().any(|v| v.hosts.contains(&s.host));
        assert!(allowed, "request to {} outside every allow-list", s.host);
    }
    let results = serde_json::to_string(&out.results.values().collect::<Vec<_>>()).unwrap();
    for f in &findings {
        assert!(!results.contains(&*String::from_utf8_lossy(&f.secret)));
    }
    // GitHub keeps the login and the x-oauth-scopes header.
    let gh = findings
        .iter()
        .find(|f| f.rule.id == "github.pat-classic")
        .and_then(|f| out.results.get(&f.fingerprint))
        .unwrap();
    assert_eq!(gh.identity["login"], "octo");
    assert_eq!(gh.identity["scopes"], "repo");
}

/// Validation of 1,000 distinct findings against the local mock with the default options
/// (concurrency 8, 10 requests a second to each host): the figures of the issue note.
/// `cargo test --release --test tests validate_1000 -- --ignored --nocapture`
#[test]
#[ignore]
fn validate_1000_distinct_findings() {
    let _g = HOOK.lock().unwrap_or_else(|e| e.into_inner());
    let hosts = 10;
    let mut rules_text = String::new();
    for h in 0..hosts {
        rules_text.push_str(&format!(
            r#"
[[rules]]
id = "bench.key{h}"
title = "Bench key {h}"
provider = "bench{h}"
kind = "api-key"
severity = "high"
keywords = ["bk{h}_"]
regex = '\b(?P<secret>bk{h}_[A-Za-z0-9]{{24}})\b'
examples = []

[[validators]]
id = "bench{h}"
rules = ["bench.key{h}"]
url = "https://api{h}.bench.example/me"
hosts = ["api{h}.bench.example"]
headers = {{ Authorization = "Bearer {{{{secret}}}}" }}
"#
        ));
    }
    let mut set = RuleSet::default();
    set.add_text(&rules_text, "bench.toml").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut body = String::new();
    for i in 0..1000 {
        body.push_str(&format!(
            "k{i} = {}\n",
            key(&format!("bk{}_{{{{alnum:24}}}}", i % hosts), &i.to_string())
        ));
    }
    std::fs::write(dir.path().join("keys.env"), body).unwrap();
    let findings = findings_of(dir.path(), &set);
    assert_eq!(findings.len(), 1000);
    let mock = Mock::start(|_, _| Answer::json(200, "{}"));
    std::env::set_var(TEST_BASE_URL_VAR, &mock.base);
    let out = validate::validate(&findings, &set.validators, &Options::default());
    std::env::remove_var(TEST_BASE_URL_VAR);
    let seen = mock.requests();
    assert_eq!(seen.len(), 1000, "one request per distinct secret");
    let mut per_secret: HashMap<String, usize> = HashMap::new();
    for s in &seen {
        *per_secret
            .entry(s.header("authorization").unwrap().to_string())
            .or_default() += 1;
    }
    assert!(per_secret.values().all(|&n| n == 1));
    let valid = out
        .results
        .values()
        .filter(|v| v.status == Status::Valid)
        .count();
    println!(
        "validated {} distinct secrets ({valid} valid) in {:.2} s wall: {} requests over {} hosts, {:.1} requests per host per second",
        out.results.len(),
        out.seconds,
        seen.len(),
        out.requests.len(),
        seen.len() as f64 / out.requests.len() as f64 / out.seconds
    );
}

#[test]
fn audit_validate_asks_once_per_secret_across_scanned_roots() {
    let _g = HOOK.lock().unwrap_or_else(|e| e.into_inner());
    let counts = Mutex::new(HashMap::new());
    let mock = Mock::start(move |s, n| provider(s, n, &counts));
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let k = test_key("valid000", "audit-roots");
    write_tree(a.path(), &[("x.env", format!("KEY={k}\n").as_bytes())]);
    write_tree(b.path(), &[("y.env", format!("KEY={k}\n").as_bytes())]);
    let inv = a.path().join("register.json");
    std::fs::write(
        &inv,
        r#"[{"id": "other", "provider": "testprov", "key_id": "nothing-found", "owner": "a@example.com", "status": "active"}]"#,
    )
    .unwrap();
    let rules_dir = tempfile::tempdir().unwrap();
    let cfg = rules_dir.path().join("sprawl.toml");
    std::fs::write(
        &cfg,
        format!("[scan]\nrules = [{:?}]\n", rules_file(rules_dir.path())),
    )
    .unwrap();
    let out = sprawl()
        .env(TEST_BASE_URL_VAR, &mock.base)
        .arg("audit")
        .arg("--policy")
        .arg(&cfg)
        .arg("--inventory")
        .arg(&inv)
        .arg("--scan")
        .arg(a.path())
        .arg(b.path())
        .arg("--validate")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(mock.requests().len(), 1, "{err}");
    assert!(!err.contains(&k) && !String::from_utf8_lossy(&out.stdout).contains(&k));
}

#[test]
fn git_validate_checks_history_findings() {
    let _g = HOOK.lock().unwrap_or_else(|e| e.into_inner());
    let counts = Mutex::new(HashMap::new());
    let mock = Mock::start(move |s, n| provider(s, n, &counts));
    let dir = tempfile::tempdir().unwrap();
    let repo = git2::Repository::init(dir.path()).unwrap();
    let k = test_key("badkey00", "git");
    std::fs::write(dir.path().join("a.env"), format!("KEY={k}\n")).unwrap();
    let mut index = repo.index().unwrap();
    index.add_path(Path::new("a.env")).unwrap();
    index.write().unwrap();
    let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
    let sig = git2::Signature::now("Dev", "dev@example.com").unwrap();
    repo.commit(Some("HEAD"), &sig, &sig, "add", &tree, &[])
        .unwrap();
    let other = tempfile::tempdir().unwrap();
    let out = sprawl()
        .env(TEST_BASE_URL_VAR, &mock.base)
        .arg("git")
        .arg(dir.path())
        .arg("--rules")
        .arg(rules_file(other.path()))
        .args(["--validate", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let f = &v["findings"][0];
    assert_eq!(f["source"], "git");
    assert_eq!(f["validation"]["status"], "invalid");
    assert_eq!(mock.requests().len(), 1);
}

/// Twilio (Account SID + auth token, HTTP Basic) and Docker Hub (Docker ID + token in the
/// JSON body of the token exchange), each valid and invalid, through the mock.
#[test]
fn twilio_and_docker_hub_validators_send_their_documented_requests() {
    let _g = HOOK.lock().unwrap_or_else(|e| e.into_inner());
    let set = RuleSet::builtin().unwrap();
    let sid = key("AC{{hex:32}}", "tw-sid");
    let good = key("{{hex:32}}", "tw-good");
    let bad = key("{{hex:32}}", "tw-bad");
    let pat_good = key("dckr_pat_{{b64url:27}}", "dh-good");
    let pat_bad = key("dckr_pat_{{b64url:27}}", "dh-bad");
    let dir = tempfile::tempdir().unwrap();
    write_tree(
        dir.path(),
        &[
            (
                "twilio-good.env",
                format!("TWILIO_ACCOUNT_SID={sid}\nTWILIO_AUTH_TOKEN={good}\n").as_bytes(),
            ),
            (
                "twilio-bad.env",
                format!("TWILIO_ACCOUNT_SID={sid}\nTWILIO_AUTH_TOKEN={bad}\n").as_bytes(),
            ),
            (
                "twilio-alone.env",
                format!("TWILIO_AUTH_TOKEN={}\n", key("{{hex:32}}", "tw-alone")).as_bytes(),
            ),
            (
                "docker-good.env",
                format!("DOCKERHUB_USERNAME=acme\nDOCKERHUB_TOKEN={pat_good}\n").as_bytes(),
            ),
            (
                "docker-bad.env",
                format!("DOCKERHUB_USERNAME=acme\nDOCKERHUB_TOKEN={pat_bad}\n").as_bytes(),
            ),
        ],
    );
    let (good2, pat_good2) = (good.clone(), pat_good.clone());
    let mock = Mock::start(move |s, _| {
        let auth = s.header("authorization").unwrap_or("").to_string();
        let twilio_ok = {
            use base64::Engine;
            let want = base64::engine::general_purpose::STANDARD
                .encode(format!("{}:{good2}", key("AC{{hex:32}}", "tw-sid")));
            auth == format!("Basic {want}")
        };
        match s.host.as_str() {
            "api.twilio.com" if twilio_ok => Answer::json(
                200,
                r#"{"accounts":[{"friendly_name":"Acme prod","status":"active"}]}"#,
            ),
            "api.twilio.com" => Answer::json(401, r#"{"code":20003}"#),
            "hub.docker.com" if s.body.contains(&pat_good2) => {
                Answer::json(200, r#"{"access_token":"x"}"#)
            }
            "hub.docker.com" => Answer::json(401, r#"{"detail":"incorrect"}"#),
            _ => Answer::json(404, "{}"),
        }
    });
    std::env::set_var(TEST_BASE_URL_VAR, &mock.base);
    let findings = findings_of(dir.path(), &set);
    let out = validate::validate(&findings, &set.validators, &Options::default());
    std::env::remove_var(TEST_BASE_URL_VAR);
    let status = |secret: &str| {
        let f = findings
            .iter()
            .find(|f| f.secret == secret.as_bytes())
            .unwrap_or_else(|| panic!("not found: {:?}", findings));
        out.results[&f.fingerprint].clone()
    };
    let tw = status(&good);
    assert_eq!(tw.status, Status::Valid, "{tw:?}");
    assert_eq!(tw.validator, "twilio");
    assert_eq!(tw.identity["account_name"], "Acme prod");
    assert_eq!(status(&bad).status, Status::Invalid);
    let alone = status(&key("{{hex:32}}", "tw-alone"));
    assert_eq!(alone.status, Status::Unknown);
    assert!(alone.message.unwrap().contains("account_sid"));
    assert_eq!(status(&pat_good).status, Status::Valid);
    assert_eq!(status(&pat_bad).status, Status::Invalid);
    let seen = mock.requests();
    let docker: Vec<&Seen> = seen.iter().filter(|s| s.host == "hub.docker.com").collect();
    assert_eq!(docker.len(), 2);
    for d in &docker {
        assert_eq!(
            (d.method.as_str(), d.path.as_str()),
            ("POST", "/v2/auth/token")
        );
        let body: serde_json::Value = serde_json::from_str(&d.body).unwrap();
        assert_eq!(body["identifier"], "acme");
    }
    let twilio: Vec<&Seen> = seen.iter().filter(|s| s.host == "api.twilio.com").collect();
    assert_eq!(twilio.len(), 2, "the token without its SID is not sent");
    assert!(twilio
        .iter()
        .all(|t| t.path == "/2010-04-01/Accounts.json?PageSize=1"));
    let all = serde_json::to_string(&out.results.values().collect::<Vec<_>>()).unwrap();
    for s in [&good, &bad, &pat_good, &pat_bad] {
        assert!(!all.contains(s.as_str()));
    }
}

/// Each built-in validator reads its provider's documented rejection (its invalid status, or
/// the JSON field that says so) as `invalid`, and a 5xx answer as `unknown`.
#[test]
fn every_builtin_validator_reads_rejection_as_invalid_and_5xx_as_unknown() {
    let _g = HOOK.lock().unwrap_or_else(|e| e.into_inner());
    let set = RuleSet::builtin().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let findings = builtin_validator_findings(&set, dir.path());
    let opts = Options {
        per_host_per_second: 0.0,
        ..Options::default()
    };
    for (expect, server_error) in [(Status::Invalid, false), (Status::Unknown, true)] {
        let set2 = set.clone();
        let mock = Mock::start(move |s, _| {
            if server_error {
                return Answer::json(503, "{}");
            }
            let Some(v) = set2.validators.iter().find(|v| {
                v.hosts.contains(&s.host)
                    && s.path.trim_start_matches('/') == v.url.splitn(4, '/').nth(3).unwrap_or("")
            }) else {
                return Answer::json(404, "{}");
            };
            match &v.json {
                Some(j) if !j.invalid.is_empty() => {
                    let mut body = serde_json::json!({});
                    body[j.field.as_str()] = serde_json::to_value(&j.invalid[0]).unwrap();
                    Answer::json(v.valid_status[0], &body.to_string())
                }
                _ => Answer::json(v.invalid_status[0], "{}"),
            }
        });
        std::env::set_var(TEST_BASE_URL_VAR, &mock.base);
        let out = validate::validate(&findings, &set.validators, &opts);
        std::env::remove_var(TEST_BASE_URL_VAR);
        for v in &set.validators {
            let statuses: Vec<Status> = findings
                .iter()
                .filter(|f| v.rules.contains(&f.rule.id))
                .filter_map(|f| out.results.get(&f.fingerprint).map(|r| r.status))
                .collect();
            assert!(
                !statuses.is_empty() && statuses.iter().all(|s| *s == expect),
                "validator {}: {statuses:?}, expected {expect:?}",
                v.id
            );
        }
    }
}
