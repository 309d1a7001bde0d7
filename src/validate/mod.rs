//! Opt-in validation (`--validate`): findings and the rule set's validators in, one
//! `Validation` per distinct secret out (status valid / invalid / unknown / error, when it was
//! checked, identity fields). One request per distinct secret per run (by fingerprint),
//! optionally cached on disk; bounded concurrency, per-host rate limits, timeouts; results and
//! errors never contain the secret. Never on by default, never in the pre-commit path.

pub mod cache;
pub mod http;
pub mod lifecycle;
pub mod limit;
pub mod sigv4;

use std::{
    collections::{BTreeMap, HashMap},
    path::PathBuf,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc, Mutex,
    },
    time::{Duration, Instant},
};

use serde::{Deserialize, Serialize};

use crate::{
    finding::{Finding, Fingerprint},
    rules::validator::ValidatorSpec,
};

/// What the provider said about a secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// The provider accepted it: the key is live.
    Valid,
    /// The provider rejected it: revoked, expired or never real.
    Invalid,
    /// The answer did not say (5xx, rate limited, an unexpected status, a missing companion).
    Unknown,
    /// No answer: timeout, connection failure, a refused redirect.
    Error,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Valid => "valid",
            Status::Invalid => "invalid",
            Status::Unknown => "unknown",
            Status::Error => "error",
        }
    }
}

/// The result of validating one secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Validation {
    pub status: Status,
    /// RFC 3339 UTC.
    pub checked_at: String,
    /// The validator's id (`rules/validators.toml`).
    pub validator: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_status: Option<u16>,
    /// Account, user, org, scopes... as the provider named them.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub identity: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

impl Validation {
    pub fn checked_at_unix(&self) -> Option<i64> {
        crate::expiry::parse_time(&self.checked_at)
    }
}

/// One line for people: `valid (login octocat, scopes repo) checked 2026-…`.
pub fn describe(v: &Validation) -> String {
    let mut s = v.status.as_str().to_string();
    let who: Vec<String> = v
        .identity
        .iter()
        .map(|(k, val)| format!("{k} {val}"))
        .collect();
    if !who.is_empty() {
        s.push_str(&format!(" ({})", who.join(", ")));
    }
    if let Some(m) = &v.message {
        s.push_str(&format!(": {m}"));
    }
    s.push_str(&format!("  [{} at {}]", v.validator, v.checked_at));
    s
}

/// How to validate.
#[derive(Debug, Clone)]
pub struct Options {
    /// Requests in flight at once.
    pub concurrency: usize,
    /// Requests a second to each host.
    pub per_host_per_second: f64,
    /// Whole-request timeout.
    pub timeout: Duration,
    /// The longest `Retry-After` honoured (longer ones are cut to this).
    pub max_retry_after: Duration,
    /// `--validate-cache FILE`.
    pub cache: Option<PathBuf>,
    /// Cached results older than this are checked again.
    pub cache_max_age: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            concurrency: 8,
            per_host_per_second: 10.0,
            timeout: Duration::from_secs(10),
            max_retry_after: Duration::from_secs(60),
            cache: None,
            cache_max_age: Duration::from_secs(24 * 3600),
        }
    }
}

/// What a run did.
#[derive(Debug, Default)]
pub struct Outcome {
    pub results: HashMap<Fingerprint, Validation>,
    /// Requests sent, by the validator's real host.
    pub requests: BTreeMap<String, usize>,
    /// Results taken from the cache.
    pub cached: usize,
    /// Secrets no validator covers.
    pub uncovered: usize,
    /// Problems with the run itself (an unreadable cache), one line each.
    pub warnings: Vec<String>,
    pub seconds: f64,
}

struct Job {
    fingerprint: Fingerprint,
    spec: Arc<ValidatorSpec>,
    values: http::Values,
}

/// Every secret's own and companion values for its validator: the finding's key id, else a
/// companion rule's secret found in the same file (the nearest by line).
fn values_for(f: &Finding, spec: &ValidatorSpec, all: &[Finding]) -> http::Values {
    let mut values = http::Values::new();
    values.insert(
        "secret".into(),
        String::from_utf8_lossy(&f.secret).into_owned(),
    );
    if let Some(k) = &f.key_id {
        values.insert("key_id".into(), k.clone());
    }
    for (name, rule) in &spec.companions {
        if values.contains_key(name) {
            continue;
        }
        let near = all
            .iter()
            .filter(|o| o.rule.id == *rule && o.location.path == f.location.path)
            .min_by_key(|o| o.location.line.abs_diff(f.location.line));
        if let Some(o) = near {
            values.insert(
                name.clone(),
                String::from_utf8_lossy(&o.secret).into_owned(),
            );
        }
    }
    values
}

/// Replace every secret value in `s` (the secret and its companions) with `[redacted]`.
fn scrub(s: &str, values: &http::Values) -> String {
    let mut out = s.to_string();
    for (name, v) in values {
        if name != "key_id" && v.len() >= 4 {
            out = out.replace(v.as_str(), "[redacted]");
        }
    }
    out
}

fn now_rfc3339() -> String {
    crate::expiry::format_time(jiff::Timestamp::now().as_second())
}

/// Validate every distinct secret of `findings` that a validator covers.
pub fn validate(
    findings: &[Finding],
    validators: &[Arc<ValidatorSpec>],
    opts: &Options,
) -> Outcome {
    let start = Instant::now();
    let mut out = Outcome::default();
    let by_rule: HashMap<&str, &Arc<ValidatorSpec>> = validators
        .iter()
        .flat_map(|v| v.rules.iter().map(move |r| (r.as_str(), v)))
        .collect();
    let mut cache = match &opts.cache {
        Some(p) => cache::Cache::load(p).unwrap_or_else(|e| {
            out.warnings.push(format!("{e:#}; starting an empty cache"));
            cache::Cache::default()
        }),
        None => cache::Cache::default(),
    };
    let not_before = jiff::Timestamp::now().as_second() - opts.cache_max_age.as_secs() as i64;
    let mut jobs = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for f in findings {
        if !seen.insert(f.fingerprint) {
            continue;
        }
        let Some(spec) = by_rule.get(f.rule.id.as_str()) else {
            out.uncovered += 1;
            continue;
        };
        if let Some(v) = cache.get(&f.fingerprint.to_string(), &spec.id, not_before) {
            out.results.insert(f.fingerprint, v.clone());
            out.cached += 1;
            continue;
        }
        let values = values_for(f, spec, findings);
        let missing: Vec<String> = http::needed(spec)
            .into_iter()
            .filter(|n| !values.contains_key(n))
            .collect();
        if !missing.is_empty() {
            let beside: Vec<&str> = missing
                .iter()
                .filter_map(|n| spec.companions.get(n).map(String::as_str))
                .collect();
            out.results.insert(
                f.fingerprint,
                Validation {
                    status: Status::Unknown,
                    checked_at: now_rfc3339(),
                    validator: spec.id.clone(),
                    http_status: None,
                    identity: BTreeMap::new(),
                    message: Some(format!(
                        "not checked: needs {} (a {} found beside it)",
                        missing.join(", "),
                        if beside.is_empty() {
                            "value".to_string()
                        } else {
                            beside.join(" or ")
                        }
                    )),
                },
            );
            continue;
        }
        jobs.push(Job {
            fingerprint: f.fingerprint,
            spec: Arc::clone(spec),
            values,
        });
    }
    let client = match http::Client::new(opts.timeout, opts.max_retry_after) {
        Ok(c) => c,
        Err(e) => {
            out.warnings.push(format!("{e:#}"));
            for j in jobs {
                out.results.insert(
                    j.fingerprint,
                    Validation {
                        status: Status::Error,
                        checked_at: now_rfc3339(),
                        validator: j.spec.id.clone(),
                        http_status: None,
                        identity: BTreeMap::new(),
                        message: Some(format!("{e:#}")),
                    },
                );
            }
            out.seconds = start.elapsed().as_secs_f64();
            return out;
        }
    };
    let limiter = limit::HostLimiter::new(opts.per_host_per_second);
    let next = AtomicUsize::new(0);
    let results = Mutex::new(Vec::with_capacity(jobs.len()));
    let counts = Mutex::new(BTreeMap::<String, usize>::new());
    let workers = opts.concurrency.clamp(1, 64).min(jobs.len().max(1));
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| {
                let mut mine = http::HostCounts::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(job) = jobs.get(i) else { break };
                    let mut v =
                        client.check(&job.spec, &job.values, &limiter, &mut mine, now_rfc3339());
                    v.message = v.message.map(|m| scrub(&m, &job.values));
                    v.identity = std::mem::take(&mut v.identity)
                        .into_iter()
                        .map(|(k, val)| (k, scrub(&val, &job.values)))
                        .collect();
                    results
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push((job.fingerprint, v));
                }
                let mut all = counts.lock().unwrap_or_else(|e| e.into_inner());
                for (h, n) in mine {
                    *all.entry(h).or_default() += n;
                }
            });
        }
    });
    for (fp, v) in results.into_inner().unwrap_or_else(|e| e.into_inner()) {
        if !matches!(v.status, Status::Error) {
            cache.put(fp.to_string(), v.clone());
        }
        out.results.insert(fp, v);
    }
    out.requests = counts.into_inner().unwrap_or_else(|e| e.into_inner());
    if let Some(p) = &opts.cache {
        if let Err(e) = cache.save(p, not_before) {
            out.warnings.push(format!("{e:#}"));
        }
    }
    out.seconds = start.elapsed().as_secs_f64();
    out
}

/// Attach results to findings (every occurrence of a validated secret).
pub fn apply(findings: &mut [Finding], outcome: &Outcome) {
    for f in findings {
        if let Some(v) = outcome.results.get(&f.fingerprint) {
            f.validation = Some(v.clone());
        }
    }
}

/// One line for people: how many secrets came out how, and how many requests it took.
pub fn summary(out: &Outcome) -> String {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for v in out.results.values() {
        *counts.entry(v.status.as_str()).or_default() += 1;
    }
    let statuses: Vec<String> = ["valid", "invalid", "unknown", "error"]
        .iter()
        .filter_map(|s| counts.get(s).map(|n| format!("{n} {s}")))
        .collect();
    let requests: usize = out.requests.values().sum();
    format!(
        "sprawl: validated {} secret(s){}: {} request(s), {} from cache, {} without a validator",
        out.results.len(),
        if statuses.is_empty() {
            String::new()
        } else {
            format!(" ({})", statuses.join(", "))
        },
        requests,
        out.cached,
        out.uncovered
    )
}

/// `--validate` for a command: validate with the default options, attach the results to the
/// findings, and print warnings and the summary on standard error.
pub fn run_for(
    findings: &mut [Finding],
    validators: &[Arc<ValidatorSpec>],
    cache: Option<&std::path::Path>,
) -> Outcome {
    let mut session = Session::new(validators, cache);
    session.run(findings)
}

/// Validation across several scans of one run (an audit of several roots): a secret seen
/// by an earlier scan is not asked about again.
pub struct Session<'a> {
    validators: &'a [Arc<ValidatorSpec>],
    opts: Options,
    known: HashMap<Fingerprint, Validation>,
}

impl<'a> Session<'a> {
    pub fn new(validators: &'a [Arc<ValidatorSpec>], cache: Option<&std::path::Path>) -> Self {
        Session {
            validators,
            opts: Options {
                cache: cache.map(std::path::Path::to_path_buf),
                ..Options::default()
            },
            known: HashMap::new(),
        }
    }

    /// Validate the secrets of `findings` not seen before, attach every known result, and
    /// print warnings and the summary on standard error.
    pub fn run(&mut self, findings: &mut [Finding]) -> Outcome {
        let fresh: Vec<Finding> = findings
            .iter()
            .filter(|f| !self.known.contains_key(&f.fingerprint))
            .cloned()
            .collect();
        let out = validate(&fresh, self.validators, &self.opts);
        self.known
            .extend(out.results.iter().map(|(k, v)| (*k, v.clone())));
        for f in findings.iter_mut() {
            if let Some(v) = self.known.get(&f.fingerprint) {
                f.validation = Some(v.clone());
            }
        }
        for w in &out.warnings {
            eprintln!("warning: {w}");
        }
        eprintln!("{}", summary(&out));
        out
    }
}
