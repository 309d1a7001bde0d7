//! One validation request: a validator, the secret and its companion values in, a
//! `Validation` out. The secret goes only to the validator's allow-listed hosts over https;
//! redirects are followed only to allow-listed hosts (others are refused and reported); a
//! 429 holds the host for its `Retry-After` and is retried once, never more.
//!
//! Test hook: `SPRAWL_TEST_VALIDATE_BASE_URL=http://127.0.0.1:PORT` sends every request to a
//! loopback mock instead (scheme, host and port are replaced; the path is kept). The
//! allow-list is still checked against the validator's real host, and only loopback
//! addresses are accepted.

use std::{
    collections::BTreeMap,
    io::Read,
    net::IpAddr,
    time::{Duration, SystemTime},
};

use anyhow::{bail, Result};
use base64::Engine;

use super::{limit::HostLimiter, sigv4, Status, Validation};
use crate::rules::validator::{url_host, Signing, ValidatorSpec};

/// The environment variable of the test hook.
pub const TEST_BASE_URL_VAR: &str = "SPRAWL_TEST_VALIDATE_BASE_URL";
/// Header naming the real host, sent only to a test-hook mock.
pub const TEST_HOST_HEADER: &str = "x-sprawl-validator-host";
/// The most of an answer read (identity fields sit at the start of small JSON documents).
const MAX_BODY: u64 = 1 << 20;
const MAX_REDIRECTS: usize = 3;

/// A ureq agent that never follows redirects itself, plus the test hook.
pub struct Client {
    agent: ureq::Agent,
    test_base: Option<String>,
    max_retry_after: Duration,
}

impl Client {
    pub fn new(timeout: Duration, max_retry_after: Duration) -> Result<Client> {
        let test_base = match std::env::var(TEST_BASE_URL_VAR) {
            Ok(v) if !v.is_empty() => Some(loopback_base(&v)?),
            _ => None,
        };
        let mut builder = ureq::Agent::config_builder();
        if test_base.is_some() {
            // The mock is on this machine: never through a proxy from the environment.
            builder = builder.proxy(None);
        }
        let config = builder
            .timeout_global(Some(timeout))
            .max_redirects(0)
            .http_status_as_error(false)
            .user_agent(concat!("sprawl/", env!("CARGO_PKG_VERSION")))
            .build();
        Ok(Client {
            agent: config.into(),
            test_base,
            max_retry_after,
        })
    }
}

/// Check the test hook's value: `http(s)://` + a loopback address + optional port, no path.
fn loopback_base(v: &str) -> Result<String> {
    let v = v.trim_end_matches('/');
    let Some(host) = url_host(v) else {
        bail!("{TEST_BASE_URL_VAR}: expected http://127.0.0.1:PORT");
    };
    let loopback = host == "localhost" || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback());
    if !loopback {
        bail!(
            "{TEST_BASE_URL_VAR}: only loopback addresses are accepted (a test hook), not {host}"
        );
    }
    let after_scheme = v.split_once("://").map_or("", |(_, r)| r);
    if after_scheme.contains('/') {
        bail!("{TEST_BASE_URL_VAR}: give only scheme, host and port");
    }
    Ok(v.to_string())
}

/// The values placeholders expand to: `secret`, `key_id`, companions.
pub type Values = BTreeMap<String, String>;

/// Expand `{{name}}` and `{{basic:USER:PASS}}` (names, or empty) in `template`.
pub fn expand(template: &str, values: &Values) -> Result<String> {
    let mut out = String::new();
    let mut rest = template;
    while let Some(i) = rest.find("{{") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 2..];
        let Some(j) = after.find("}}") else {
            bail!("unclosed {{{{ in a validator template");
        };
        let inner = &after[..j];
        let get = |name: &str| -> Result<String> {
            if name.is_empty() {
                return Ok(String::new());
            }
            values.get(name).cloned().ok_or_else(|| {
                anyhow::anyhow!("needs `{name}`, which was not found beside the secret")
            })
        };
        if let Some(pair) = inner.strip_prefix("basic:") {
            let (u, p) = pair.split_once(':').unwrap_or((pair, ""));
            let creds = format!("{}:{}", get(u)?, get(p)?);
            out.push_str("Basic ");
            out.push_str(&base64::engine::general_purpose::STANDARD.encode(creds));
        } else {
            out.push_str(&get(inner)?);
        }
        rest = &after[j + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Names a template needs (for reporting what is missing before any request).
pub fn needed(spec: &ValidatorSpec) -> Vec<String> {
    let mut names = Vec::new();
    let mut texts: Vec<&str> = spec.headers.values().map(String::as_str).collect();
    texts.extend(spec.body.as_deref());
    for t in texts {
        let mut rest = t;
        while let Some(i) = rest.find("{{") {
            let after = &rest[i + 2..];
            let Some(j) = after.find("}}") else { break };
            let inner = &after[..j];
            let parts: Vec<&str> = match inner.strip_prefix("basic:") {
                Some(p) => p.split(':').collect(),
                None => vec![inner],
            };
            for p in parts {
                if !p.is_empty() && !names.iter().any(|n| n == p) {
                    names.push(p.to_string());
                }
            }
            rest = &after[j + 2..];
        }
    }
    if spec.signing == Some(Signing::AwsSigv4) {
        for n in ["key_id", "secret"] {
            if !names.iter().any(|x| x == n) {
                names.push(n.into());
            }
        }
    }
    names
}

struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// The request, fully built, for one URL.
struct Prepared {
    method: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

fn prepare(spec: &ValidatorSpec, url: &str, values: &Values) -> Result<Prepared> {
    let mut headers = Vec::new();
    for (k, v) in &spec.headers {
        headers.push((k.clone(), expand(v, values)?));
    }
    let body = match &spec.body {
        Some(b) => expand(b, values)?.into_bytes(),
        None => Vec::new(),
    };
    if spec.signing == Some(Signing::AwsSigv4) {
        let host = url_host(url).unwrap_or_default();
        let mut to_sign = headers.clone();
        to_sign.push(("host".into(), host));
        let signed = sigv4::sign_headers(
            &sigv4::Signable {
                method: &spec.method,
                url,
                headers: &to_sign,
                body: &body,
                region: spec.region.as_deref().unwrap_or("us-east-1"),
                service: spec.service.as_deref().unwrap_or(""),
            },
            values.get("key_id").map_or("", String::as_str),
            values.get("secret").map_or("", String::as_str),
            SystemTime::now(),
        )?;
        headers.extend(signed);
    }
    Ok(Prepared {
        method: spec.method.clone(),
        headers,
        body,
    })
}

/// Counts of requests sent, by the validator's real host.
pub type HostCounts = BTreeMap<String, usize>;

impl Client {
    /// Where a real URL is actually sent: itself, or the test hook's mock.
    fn target(&self, url: &str) -> String {
        match &self.test_base {
            None => url.to_string(),
            Some(base) => {
                let after = url.split_once("://").map_or(url, |(_, r)| r);
                let path = after.find('/').map_or("/", |i| &after[i..]);
                format!("{base}{path}")
            }
        }
    }

    fn send(&self, url: &str, req: &Prepared) -> Result<Answer, ureq::Error> {
        let target = self.target(url);
        let mut builder = http::Request::builder()
            .method(req.method.as_str())
            .uri(&target);
        for (k, v) in &req.headers {
            if !k.eq_ignore_ascii_case("host") {
                builder = builder.header(k.as_str(), v.as_str());
            }
        }
        if self.test_base.is_some() {
            builder = builder.header(TEST_HOST_HEADER, url_host(url).unwrap_or_default());
        }
        let bad = |e: http::Error| ureq::Error::BadUri(e.to_string());
        let mut resp = if req.body.is_empty() {
            self.agent.run(builder.body(()).map_err(bad)?)?
        } else {
            self.agent
                .run(builder.body(req.body.clone()).map_err(bad)?)?
        };
        let status = resp.status().as_u16();
        let headers = resp
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let mut body = Vec::new();
        let _ = resp
            .body_mut()
            .as_reader()
            .take(MAX_BODY)
            .read_to_end(&mut body);
        Ok(Answer {
            status,
            headers,
            body,
        })
    }

    /// POST a JSON body to an allow-listed https URL (no redirects followed): the status and
    /// the start of the answer. For `sprawl revoke`.
    pub fn post_json(&self, url: &str, hosts: &[&str], body: &str) -> Result<(u16, String)> {
        let host = url_host(url).unwrap_or_default();
        if !url.starts_with("https://") || !hosts.contains(&host.as_str()) {
            bail!("refused to send credentials to {host}: not in the allow-list");
        }
        let req = Prepared {
            method: "POST".into(),
            headers: vec![
                ("Accept".into(), "application/vnd.github+json".into()),
                ("Content-Type".into(), "application/json".into()),
                ("X-GitHub-Api-Version".into(), "2022-11-28".into()),
            ],
            body: body.as_bytes().to_vec(),
        };
        let a = self
            .send(url, &req)
            .map_err(|e| anyhow::anyhow!("{host}: request failed: {e}"))?;
        let text: String = String::from_utf8_lossy(&a.body).chars().take(500).collect();
        Ok((a.status, text))
    }

    /// Run `spec` for one secret. `counts` records every request by real host.
    pub fn check(
        &self,
        spec: &ValidatorSpec,
        values: &Values,
        limiter: &HostLimiter,
        counts: &mut HostCounts,
        checked_at: String,
    ) -> Validation {
        let mut v = Validation {
            status: Status::Error,
            checked_at,
            validator: spec.id.clone(),
            http_status: None,
            identity: BTreeMap::new(),
            message: None,
        };
        let mut url = spec.url.clone();
        let mut retried = false;
        let mut hops = 0;
        loop {
            let host = url_host(&url).unwrap_or_default();
            if !url.starts_with("https://")
                || !spec.hosts.iter().any(|h| h.eq_ignore_ascii_case(&host))
            {
                v.message = Some(format!(
                    "refused to send the secret to {host}: not an https host of validator `{}`'s allow-list",
                    spec.id
                ));
                return v;
            }
            let req = match prepare(spec, &url, values) {
                Ok(r) => r,
                Err(e) => {
                    v.status = Status::Unknown;
                    v.message = Some(format!("{e:#}"));
                    return v;
                }
            };
            limiter.wait(&host);
            *counts.entry(host.clone()).or_default() += 1;
            let answer = match self.send(&url, &req) {
                Ok(a) => a,
                Err(e) => {
                    v.message = Some(match e {
                        ureq::Error::Timeout(_) => format!("{host}: timed out"),
                        e => format!("{host}: request failed: {e}"),
                    });
                    return v;
                }
            };
            v.http_status = Some(answer.status);
            if answer.status == 429 {
                let wait = retry_after(answer.header("retry-after")).min(self.max_retry_after);
                limiter.hold(&host, wait);
                if !retried {
                    retried = true;
                    continue;
                }
                v.status = Status::Unknown;
                v.message = Some(format!(
                    "{host}: rate limited (429) twice; not retried again"
                ));
                return v;
            }
            if (300..400).contains(&answer.status) {
                let Some(loc) = answer.header("location") else {
                    v.status = Status::Unknown;
                    v.message = Some(format!("{host}: redirect without a location"));
                    return v;
                };
                hops += 1;
                if hops > MAX_REDIRECTS {
                    v.message = Some(format!("{host}: too many redirects"));
                    return v;
                }
                url = resolve(&url, loc);
                continue;
            }
            classify(spec, &answer, &mut v);
            return v;
        }
    }
}

/// A redirect target: absolute, or a path on the same origin.
fn resolve(base: &str, loc: &str) -> String {
    if loc.contains("://") {
        return loc.to_string();
    }
    let (scheme, rest) = base.split_once("://").unwrap_or(("https", base));
    let authority = rest.split('/').next().unwrap_or(rest);
    if let Some(l) = loc.strip_prefix("//") {
        return format!("{scheme}://{l}");
    }
    let path = if loc.starts_with('/') {
        loc.to_string()
    } else {
        format!("/{loc}")
    };
    format!("{scheme}://{authority}{path}")
}

/// `Retry-After`: seconds, or an HTTP date; a missing or unreadable one waits 1 s.
fn retry_after(v: Option<&str>) -> Duration {
    let Some(v) = v.map(str::trim) else {
        return Duration::from_secs(1);
    };
    if let Ok(s) = v.parse::<u64>() {
        return Duration::from_secs(s);
    }
    let at = jiff::fmt::rfc2822::parse(v)
        .ok()
        .map(|z| z.timestamp().as_second());
    match at {
        Some(t) => {
            let now = jiff::Timestamp::now().as_second();
            Duration::from_secs((t - now).max(0) as u64)
        }
        None => Duration::from_secs(1),
    }
}

/// Decide the status from the answer and keep the identity fields.
fn classify(spec: &ValidatorSpec, a: &Answer, v: &mut Validation) {
    let json: Option<serde_json::Value> = serde_json::from_slice(&a.body).ok();
    if spec.valid_status.contains(&a.status) {
        v.status = Status::Valid;
        if let Some(check) = &spec.json {
            let got = json.as_ref().and_then(|j| field(j, &check.field));
            let is = |t: &toml::Value| got.is_some_and(|g| same(g, t));
            v.status = if is(&check.valid) {
                Status::Valid
            } else if check.invalid.iter().any(is) {
                Status::Invalid
            } else {
                v.message = Some(format!(
                    "answer's `{}` is neither valid nor invalid",
                    check.field
                ));
                Status::Unknown
            };
        }
        if v.status == Status::Valid {
            for (name, src) in &spec.identity {
                let value = if let Some(path) = src.strip_prefix("json:") {
                    json.as_ref().and_then(|j| field(j, path)).and_then(text)
                } else if let Some(h) = src.strip_prefix("header:") {
                    a.header(h).map(str::to_string)
                } else {
                    None
                };
                if let Some(val) = value.filter(|s| !s.is_empty()) {
                    v.identity
                        .insert(name.clone(), val.chars().take(200).collect());
                }
            }
        }
    } else if spec.invalid_status.contains(&a.status) {
        v.status = Status::Invalid;
    } else if a.status >= 500 {
        v.status = Status::Unknown;
        v.message = Some(format!("provider answered {}", a.status));
    } else {
        v.status = Status::Unknown;
        v.message = Some(format!("unexpected answer {}", a.status));
    }
}

fn field<'a>(j: &'a serde_json::Value, path: &str) -> Option<&'a serde_json::Value> {
    path.split('.').try_fold(j, |cur, k| match cur {
        serde_json::Value::Array(a) => k.parse::<usize>().ok().and_then(|i| a.get(i)),
        _ => cur.get(k),
    })
}

fn text(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        serde_json::Value::Bool(b) => Some(b.to_string()),
        serde_json::Value::Array(items) => {
            let parts: Vec<String> = items
                .iter()
                .filter_map(|i| match i {
                    serde_json::Value::Object(_) => i.get("name").and_then(text),
                    _ => text(i),
                })
                .collect();
            Some(parts.join(","))
        }
        _ => None,
    }
}

fn same(j: &serde_json::Value, t: &toml::Value) -> bool {
    match (j, t) {
        (serde_json::Value::Bool(a), toml::Value::Boolean(b)) => a == b,
        (serde_json::Value::String(a), toml::Value::String(b)) => a == b,
        (serde_json::Value::Number(a), toml::Value::Integer(b)) => a.as_i64() == Some(*b),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_expand_and_report_missing_names() {
        let mut vals = Values::new();
        vals.insert("secret".into(), "s3".into());
        vals.insert("key_id".into(), "id".into());
        assert_eq!(expand("Bearer {{secret}}", &vals).unwrap(), "Bearer s3");
        assert_eq!(
            expand("{{basic:key_id:secret}}", &vals).unwrap(),
            "Basic aWQ6czM="
        );
        assert_eq!(expand("{{basic:secret:}}", &vals).unwrap(), "Basic czM6");
        let err = expand("{{account}}", &vals).unwrap_err().to_string();
        assert!(err.contains("account") && !err.contains("s3"));
    }

    #[test]
    fn test_hook_takes_only_loopback() {
        assert!(loopback_base("http://127.0.0.1:9").is_ok());
        assert!(loopback_base("http://[::1]:9").is_ok());
        assert!(loopback_base("http://10.0.0.1:9").is_err());
        assert!(loopback_base("http://example.com").is_err());
        assert!(loopback_base("http://127.0.0.1:9/path").is_err());
    }

    #[test]
    fn redirects_resolve_against_the_real_origin() {
        assert_eq!(resolve("https://a.com/x", "/y"), "https://a.com/y");
        assert_eq!(
            resolve("https://a.com/x", "https://b.com/z"),
            "https://b.com/z"
        );
        assert_eq!(resolve("https://a.com/x", "//b.com/z"), "https://b.com/z");
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        assert_eq!(retry_after(Some("3")), Duration::from_secs(3));
        assert_eq!(retry_after(None), Duration::from_secs(1));
        assert_eq!(
            retry_after(Some("Wed, 21 Oct 2015 07:28:00 GMT")),
            Duration::ZERO
        );
    }
}
