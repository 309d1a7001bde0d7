//! Exposures, the audit's input: findings (from an in-process scan, or from
//! `sprawl.report/v1` files of earlier runs) in, one `Exposure` per credential out, with
//! every place it was found and where each place came from. Both routes give the same
//! exposure: the vendor hint is what the report carries, never the secret itself; an AWS key
//! found as an id + secret pair and as a bare id is one credential.

use std::{collections::BTreeMap, path::Path};

use anyhow::{bail, Context, Result};
use serde::Deserialize;

use crate::{
    audit::{Exposure, Occurrence},
    finding::{Finding, Fingerprint},
    rules::{Kind, Severity},
};

/// Group findings by fingerprint; `origin` is the scanned root or repository.
pub fn from_findings(findings: &[Finding], origin: &str) -> Vec<Exposure> {
    let mut by_fp: BTreeMap<Fingerprint, Exposure> = BTreeMap::new();
    for f in findings {
        let e = by_fp.entry(f.fingerprint).or_insert_with(|| Exposure {
            fingerprint: f.fingerprint,
            rule: f.rule.id.clone(),
            title: f.rule.title.clone(),
            provider: f.rule.provider.clone(),
            kind: f.rule.kind,
            severity: f.rule.severity,
            redacted: f.redacted.clone(),
            hint: f.hint.clone(),
            key_id: f.key_id.clone(),
            revoke: f.rule.revoke.clone(),
            codeowners: Vec::new(),
            occurrences: Vec::new(),
            validation: None,
            expiry: None,
            lifetime: Some(f.rule.lifetime),
        });
        if e.key_id.is_none() {
            e.key_id = f.key_id.clone();
        }
        add_owners(&mut e.codeowners, &f.codeowners);
        if e.validation.is_none() {
            e.validation = f.validation.clone();
        }
        if e.expiry.is_none() {
            e.expiry = f.expiry.clone();
        }
        e.occurrences.push(Occurrence {
            origin: origin.to_string(),
            path: f.location.path.clone(),
            line: f.location.line,
            source: f.source.as_str().to_string(),
            commit: f.git.as_ref().map(|g| g.commit.clone()),
            author: f.git.as_ref().map(|g| g.author.clone()),
            email: f.git.as_ref().map(|g| g.email.clone()),
            date: f.git.as_ref().map(|g| g.date.clone()),
        });
    }
    by_fp.into_values().collect()
}

#[derive(Deserialize)]
struct WireReport {
    schema: String,
    findings: Vec<WireFinding>,
}

#[derive(Deserialize)]
struct WireFinding {
    rule: String,
    #[serde(default)]
    title: String,
    provider: String,
    kind: Kind,
    severity: Severity,
    fingerprint: String,
    redacted: String,
    #[serde(default)]
    hint: Option<String>,
    #[serde(default)]
    key_id: Option<String>,
    source: String,
    /// Set when the report's run scanned several repositories: each is its own origin.
    #[serde(default)]
    repository: Option<String>,
    location: WireLocation,
    #[serde(default)]
    git: Option<WireGit>,
    #[serde(default)]
    codeowners: Vec<String>,
    #[serde(default)]
    validation: Option<crate::validate::Validation>,
    #[serde(default)]
    expires_at: Option<String>,
    #[serde(default)]
    token: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct WireLocation {
    path: String,
    line: u64,
}

#[derive(Deserialize)]
struct WireGit {
    commit: String,
    author: String,
    email: String,
    date: String,
}

/// Read a `sprawl.report/v1` file; its findings' origin is the file's name.
pub fn from_report(path: &Path) -> Result<Vec<Exposure>> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).with_context(|| format!("reading report {shown}"))?;
    let r: WireReport = serde_json::from_str(&text).map_err(|e| {
        // serde's message can quote a value from the file: say where, not what.
        anyhow::anyhow!(
            "report {shown}: not a sprawl JSON report (line {}, column {})",
            e.line(),
            e.column()
        )
    })?;
    if r.schema != crate::report::json::SCHEMA {
        bail!(
            "report {shown}: schema `{}` is not `{}`",
            r.schema,
            crate::report::json::SCHEMA
        );
    }
    let origin = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or(shown.clone());
    let mut by_fp: BTreeMap<Fingerprint, Exposure> = BTreeMap::new();
    for (i, f) in r.findings.into_iter().enumerate() {
        let fp = Fingerprint::parse(&f.fingerprint)
            .with_context(|| format!("report {shown}: finding {i} has an invalid fingerprint"))?;
        let e = by_fp.entry(fp).or_insert_with(|| Exposure {
            fingerprint: fp,
            rule: f.rule.clone(),
            title: f.title.clone(),
            provider: f.provider.clone(),
            kind: f.kind,
            severity: f.severity,
            redacted: f.redacted.clone(),
            hint: f.hint.as_deref().and_then(crate::inventory::Hint::parse),
            key_id: f.key_id.clone(),
            revoke: None,
            codeowners: Vec::new(),
            occurrences: Vec::new(),
            validation: None,
            expiry: None,
            lifetime: None,
        });
        add_owners(&mut e.codeowners, &f.codeowners);
        if e.validation.is_none() {
            e.validation = f.validation.clone();
        }
        if e.expiry.is_none() {
            e.expiry = crate::expiry::from_wire(f.expires_at.as_deref(), f.token.as_ref());
        }
        e.occurrences.push(Occurrence {
            origin: f.repository.clone().unwrap_or_else(|| origin.clone()),
            path: f.location.path,
            line: f.location.line,
            source: f.source,
            commit: f.git.as_ref().map(|g| g.commit.clone()),
            author: f.git.as_ref().map(|g| g.author.clone()),
            email: f.git.as_ref().map(|g| g.email.clone()),
            date: f.git.as_ref().map(|g| g.date.clone()),
        });
    }
    Ok(by_fp.into_values().collect())
}

/// Whether the secret of this exposure is its key id (an AWS access key id found alone).
fn is_bare_id(e: &Exposure) -> bool {
    e.key_id
        .as_ref()
        .is_some_and(|k| Fingerprint::of(k.as_bytes()) == e.fingerprint)
}

fn add_owners(to: &mut Vec<String>, from: &[String]) {
    for o in from {
        if !to.contains(o) {
            to.push(o.clone());
        }
    }
}

fn absorb(x: &mut Exposure, e: Exposure) {
    x.occurrences.extend(e.occurrences);
    if x.validation.is_none() {
        x.validation = e.validation;
    }
    if x.expiry.is_none() {
        x.expiry = e.expiry;
    }
    if x.lifetime.is_none() {
        x.lifetime = e.lifetime;
    }
    if x.key_id.is_none() {
        x.key_id = e.key_id;
    }
    if x.hint.is_none() {
        x.hint = e.hint;
    }
    if x.revoke.is_none() {
        x.revoke = e.revoke;
    }
    add_owners(&mut x.codeowners, &e.codeowners);
}

/// Merge exposures of the same secret from several runs, and fold a bare key id into the
/// id + secret pair it belongs to (one credential, one row).
///
/// A bare key id joins the exposure that holds it: one whose rule captures the id beside its
/// secret (`holds_key_id` says which rules do). A token that only names the id that signed it
/// (a Bedrock short-term key) does not absorb it.
pub fn merge(all: Vec<Exposure>, holds_key_id: impl Fn(&str) -> bool) -> Vec<Exposure> {
    let mut by_fp: BTreeMap<Fingerprint, Exposure> = BTreeMap::new();
    for e in all {
        match by_fp.get_mut(&e.fingerprint) {
            Some(x) => absorb(x, e),
            None => {
                by_fp.insert(e.fingerprint, e);
            }
        }
    }
    let pairs: std::collections::HashMap<String, Fingerprint> = by_fp
        .values()
        .filter(|e| !is_bare_id(e) && holds_key_id(&e.rule))
        .filter_map(|e| e.key_id.clone().map(|k| (k, e.fingerprint)))
        .collect();
    let bare: Vec<Fingerprint> = by_fp
        .values()
        .filter(|e| is_bare_id(e))
        .filter(|e| e.key_id.as_ref().is_some_and(|k| pairs.contains_key(k)))
        .map(|e| e.fingerprint)
        .collect();
    for fp in bare {
        if let Some(e) = by_fp.remove(&fp) {
            let to = e.key_id.as_ref().and_then(|k| pairs.get(k)).copied();
            if let Some(x) = to.and_then(|t| by_fp.get_mut(&t)) {
                absorb(x, e);
            }
        }
    }
    let mut out: Vec<Exposure> = by_fp.into_values().collect();
    for e in &mut out {
        e.occurrences.sort();
        e.occurrences.dedup();
    }
    out
}
