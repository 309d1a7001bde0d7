//! SARIF 2.1.0 for code scanning: findings (or an audit) in, one `run` out. Rules carry
//! their provider and kind as tags, a `security-severity`, and how to rotate; results carry
//! the secret's fingerprint as a partial fingerprint (so code scanning deduplicates across
//! runs), a region, and git provenance or audit categories in `properties`. Messages never
//! hold the secret. Sized for GitHub code scanning (at most 25,000 results a run).

use std::{
    collections::BTreeMap,
    io::{self, Write},
};

use serde_json::{json, Value};

use crate::{
    audit::{Audit, Category, Exposure},
    finding::Finding,
    rules::{Confidence, Rule, Severity},
    time::rfc3339,
};

/// GitHub code scanning accepts at most this many results per run.
pub const MAX_RESULTS: usize = 25_000;

/// A result's level: from the finding's confidence (how sure it is a live credential).
fn confidence_level(c: Confidence) -> &'static str {
    match c {
        Confidence::High => "error",
        Confidence::Medium => "warning",
        Confidence::Low => "note",
    }
}

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

/// GitHub maps 9.0+ to critical, 7.0+ high, 4.0+ medium, below that low.
fn security_severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
        Severity::Info => "1.0",
    }
}

fn rule_descriptor(r: &Rule) -> Value {
    let full = r
        .description
        .clone()
        .unwrap_or_else(|| format!("{} ({}, {}).", r.title, r.provider, r.kind.as_str()));
    let help = r
        .revoke
        .clone()
        .unwrap_or_else(|| "Remove the secret and rotate it at its provider.".into());
    json!({
        "id": r.id,
        "name": r.id.replace(['.', '-'], "_"),
        "shortDescription": {"text": r.title},
        "fullDescription": {"text": full},
        "help": {
            "text": format!("{help}. Then remove it from the code and its history, or baseline it if it is a test value."),
            "markdown": format!("**Rotate:** {help}.\n\nThen remove it from the code (and history), or add its fingerprint to a sprawl baseline if it is a test value."),
        },
        "defaultConfiguration": {"level": level(r.severity)},
        "properties": {
            "tags": ["security", "secret", r.provider, r.kind.as_str()],
            "security-severity": security_severity(r.severity),
            "precision": if r.priority >= 60 { "high" } else { "medium" },
        },
    })
}

fn region(f: &Finding) -> Value {
    json!({
        "startLine": f.location.line,
        "startColumn": f.location.column,
        "endLine": f.location.end_line,
        "endColumn": f.location.end_column,
    })
}

/// A relative path as a URI reference: `/`-separated, characters outside RFC 3986's
/// unreserved and path sets percent-encoded.
pub fn uri_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                out.push(b as char)
            }
            b'!' | b'$' | b'&' | b'\'' | b'(' | b')' | b'*' | b'+' | b',' | b';' | b'=' | b':'
            | b'@' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// `%SRCROOT%` as a `file:` URI of `base` (absolute), ending in `/`.
fn base_uri(base: &std::path::Path) -> String {
    let s = base
        .to_string_lossy()
        .replace(std::path::MAIN_SEPARATOR, "/");
    let s = if s.starts_with('/') {
        s
    } else {
        format!("/{s}")
    };
    let mut u = format!("file://{}", uri_path(&s));
    if !u.ends_with('/') {
        u.push('/');
    }
    u
}

fn location(uri: &str, region: Value) -> Value {
    json!({"physicalLocation": {
        "artifactLocation": {"uri": uri_path(uri), "uriBaseId": "%SRCROOT%"},
        "region": region,
    }})
}

fn envelope(rules: Vec<Value>, results: Vec<Value>, truncated: bool) -> Value {
    let mut run = json!({
        "tool": {"driver": {
            "name": "sprawl",
            "semanticVersion": env!("CARGO_PKG_VERSION"),
            "version": env!("CARGO_PKG_VERSION"),
            "informationUri": "https://github.com/sprawl-dev/sprawl",
            "rules": rules,
        }},
        "columnKind": "unicodeCodePoints",
        "results": results,
    });
    if truncated {
        run["properties"] = json!({"truncated": true, "maxResults": MAX_RESULTS});
    }
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [run],
    })
}

/// SARIF for findings of `scan` or `git`.
/// SARIF for a scan; `base` is the directory every path is relative to, when there is one.
pub fn write(
    findings: &[Finding],
    base: Option<&std::path::Path>,
    out: &mut dyn Write,
) -> io::Result<()> {
    let mut index: BTreeMap<&str, usize> = BTreeMap::new();
    let mut rules = Vec::new();
    let mut results = Vec::new();
    for f in findings.iter().take(MAX_RESULTS) {
        let idx = *index.entry(&f.rule.id).or_insert_with(|| {
            rules.push(rule_descriptor(&f.rule));
            rules.len() - 1
        });
        let mut props = json!({
            "provider": f.rule.provider,
            "kind": f.rule.kind.as_str(),
            "severity": f.rule.severity.as_str(),
            "confidence": f.confidence.as_str(),
            "redacted": f.redacted,
            "source": f.source.as_str(),
        });
        if let Some(g) = &f.git {
            props["git"] = serde_json::to_value(g).unwrap_or(Value::Null);
        }
        if let Some(c) = f.location.cell {
            props["cell"] = json!(c);
            props["cellLine"] = json!(f.location.cell_line);
        }
        if let Some(k) = &f.key_id {
            props["keyId"] = json!(k);
        }
        let (expires_at, expired) =
            crate::expiry::wire_fields(f.expiry.as_ref(), crate::expiry::now());
        if let Some(t) = expires_at {
            props["expiresAt"] = json!(t);
        }
        if let Some(x) = expired {
            props["expired"] = json!(x);
        }
        if let Some(v) = &f.validation {
            props["validation"] = serde_json::to_value(v).unwrap_or(Value::Null);
        }
        results.push(json!({
            "ruleId": f.rule.id,
            "ruleIndex": idx,
            "level": confidence_level(f.confidence),
            "message": {"text": format!(
                "{} {} found here (fingerprint {}). Rotate it, then remove it.",
                f.rule.title, f.redacted, f.fingerprint
            )},
            "locations": [location(&f.location.path, region(f))],
            "partialFingerprints": {"secretFingerprint/v1": f.fingerprint.to_string()},
            "properties": props,
        }));
    }
    let mut doc = envelope(rules, results, findings.len() > MAX_RESULTS);
    if let Some(b) = base {
        doc["runs"][0]["originalUriBaseIds"] = json!({"%SRCROOT%": {"uri": base_uri(b)}});
    }
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    out.write_all(b"\n")
}

/// Who owns it, what it is for, when it stops working and when it was last used, each fact
/// with the export it came from (the lifecycle part of an audit result's `properties`).
fn lifecycle(r: Option<&crate::inventory::InventoryRecord>, e: Option<&Exposure>) -> Value {
    let date = |t: Option<i64>| t.map(|t| rfc3339(t, 0));
    let mut p = serde_json::Map::new();
    if let Some(r) = r {
        let src = |field: &str| r.fact_source(field).to_string();
        p.insert("owner".into(), json!(r.owner));
        if r.owner.is_some() {
            p.insert("ownerSource".into(), json!(src("owner")));
        }
        if let Some(x) = &r.principal {
            p.insert("heldBy".into(), json!(x.to_string()));
            p.insert("heldBySource".into(), json!(src("principal")));
        }
        p.insert("purpose".into(), json!(r.purpose));
        if r.purpose.is_some() {
            p.insert("purposeSource".into(), json!(src("purpose")));
        }
        p.insert("status".into(), json!(r.status.as_str()));
        p.insert("expiresAt".into(), json!(date(r.expires_at)));
        if r.expires_at.is_some() {
            p.insert("expiresSource".into(), json!(src("expires_at")));
            p.insert("expiryEnforcedByVendor".into(), json!(r.expiry_enforced));
        }
        p.insert("usageReported".into(), json!(r.usage_known));
        if r.usage_known {
            p.insert("lastUsedAt".into(), json!(date(r.last_used_at)));
            p.insert("lastUsedSource".into(), json!(src("last_used_at")));
        }
    }
    if let Some(e) = e {
        let (at, expired) = crate::expiry::wire_fields(e.expiry.as_ref(), crate::expiry::now());
        if r.and_then(|r| r.expires_at).is_none() {
            if let Some(t) = at {
                p.insert("expiresAt".into(), json!(t));
                p.insert("expiresSource".into(), json!("the token itself"));
            }
        }
        if let Some(x) = expired {
            p.insert("tokenExpired".into(), json!(x));
        }
        if let Some(v) = &e.validation {
            p.insert(
                "validation".into(),
                serde_json::to_value(v).unwrap_or(Value::Null),
            );
        }
    }
    Value::Object(p)
}

/// `key` = `value` for each of `extra` into `props` (an object).
fn extend(props: &mut Value, extra: Value) {
    if let (Some(p), Value::Object(x)) = (props.as_object_mut(), extra) {
        p.extend(x);
    }
}

/// The file (and line) an inventory record came from: `file#index` or `file:line`.
fn record_location(source: &str) -> Value {
    let file = source.rsplit_once('#').map(|(f, _)| f).unwrap_or(source);
    let (file, line) = match file.rsplit_once(':') {
        Some((f, l)) if l.bytes().all(|b| b.is_ascii_digit()) && !l.is_empty() => {
            (f, l.parse::<u64>().unwrap_or(1))
        }
        _ => (file, 1),
    };
    location(file, json!({"startLine": line.max(1)}))
}

/// The pseudo-category of an inventory record found nowhere that nothing else fired on: a
/// `note`, so the SARIF accounts for the whole inventory.
const FOUND_NOWHERE: &str = "audit/found_nowhere";

/// SARIF for an audit: one rule per category, one result per credential and category,
/// located at the credential's occurrences; then one per record found nowhere and category
/// (or one `audit/found_nowhere` note), located at the export that describes it. Results
/// carry the lifecycle (owner, purpose, expiry, last use, each with its export), the
/// validation, the evidence and what to do in `properties`.
pub fn write_audit(a: &Audit, out: &mut dyn Write) -> io::Result<()> {
    use crate::report::{
        audit_json::{record_what_to_do, what_to_do},
        audit_text::facts,
    };
    let mut index: BTreeMap<String, usize> = BTreeMap::new();
    let mut rules = Vec::new();
    let mut results = Vec::new();
    let mut truncated = false;
    let mut rule_of = |id: String, make: &dyn Fn() -> Value, rules: &mut Vec<Value>| -> usize {
        *index.entry(id).or_insert_with(|| {
            rules.push(make());
            rules.len() - 1
        })
    };
    'creds: for c in &a.credentials {
        let e = &c.exposure;
        let rec = c.record.map(|i| &a.records[i]);
        let mut tail = match rec {
            Some(m) => format!("record {}: {}", m.record.id, facts(m)),
            None => "no inventory record".to_string(),
        };
        if let Some(v) = &e.validation {
            tail.push_str(&format!(" · provider: {}", crate::validate::describe(v)));
        }
        for h in &c.hits {
            if results.len() >= MAX_RESULTS {
                truncated = true;
                break 'creds;
            }
            let idx = rule_of(
                h.category.as_str().to_string(),
                &|| category_rule(h.category),
                &mut rules,
            );
            let locations: Vec<Value> = e
                .occurrences
                .iter()
                .take(10)
                .map(|o| location(&o.path, json!({"startLine": o.line.max(1)})))
                .collect();
            let mut props = json!({
                "category": h.category.as_str(),
                "evidence": h.evidence,
                "categories": c.hits.iter().map(|h| h.category.as_str()).collect::<Vec<_>>(),
                "nhi": h.nhi,
                "severity": h.severity.as_str(),
                "rule": e.rule,
                "provider": e.provider,
                "owner": Value::Null,
                "suggestedOwners": c.suggested_owners,
                "record": rec.map(|m| m.record.id.clone()),
                "whatToDo": what_to_do(&c.hits, e.revoke.as_deref()),
            });
            extend(&mut props, lifecycle(rec.map(|m| &*m.record), Some(e)));
            results.push(json!({
                "ruleId": format!("audit/{}", h.category.as_str()),
                "ruleIndex": idx,
                "level": level(h.severity),
                "message": {"text": format!(
                    "{} {} ({}): {}. {tail}",
                    e.title, e.redacted, h.category.as_str(), h.evidence
                )},
                "locations": locations,
                "partialFingerprints": {"secretFingerprint/v1": e.fingerprint.to_string()},
                "properties": props,
            }));
        }
    }
    // Inventory records found nowhere, every one: located at the export that describes them.
    'records: for m in a.records.iter().filter(|m| !m.found) {
        let r = &m.record;
        let what = format!(
            "inventory record {} ({}, found in no scanned place)",
            r.id,
            r.provider.as_deref().unwrap_or("?")
        );
        let mut props = json!({
            "record": r.id,
            "provider": r.provider,
            "sources": m.sources,
            "categories": m.hits.iter().map(|h| h.category.as_str()).collect::<Vec<_>>(),
            "whatToDo": record_what_to_do(m),
        });
        extend(&mut props, lifecycle(Some(r), None));
        if m.hits.is_empty() {
            if results.len() >= MAX_RESULTS {
                truncated = true;
                break 'records;
            }
            let idx = rule_of(FOUND_NOWHERE.into(), &found_nowhere_rule, &mut rules);
            results.push(json!({
                "ruleId": FOUND_NOWHERE,
                "ruleIndex": idx,
                "level": "note",
                "message": {"text": format!("{what}: no category fired. {}", facts(m))},
                "locations": [record_location(&r.source)],
                "properties": props,
            }));
        }
        for h in &m.hits {
            if results.len() >= MAX_RESULTS {
                truncated = true;
                break 'records;
            }
            let idx = rule_of(
                h.category.as_str().to_string(),
                &|| category_rule(h.category),
                &mut rules,
            );
            let mut p = props.clone();
            extend(
                &mut p,
                json!({
                    "category": h.category.as_str(),
                    "evidence": h.evidence,
                    "nhi": h.nhi,
                    "severity": h.severity.as_str(),
                }),
            );
            results.push(json!({
                "ruleId": format!("audit/{}", h.category.as_str()),
                "ruleIndex": idx,
                "level": level(h.severity),
                "message": {"text": format!("{what}: {}. {}", h.evidence, facts(m))},
                "locations": [record_location(&r.source)],
                "properties": p,
            }));
        }
    }
    let doc = envelope(rules, results, truncated);
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    out.write_all(b"\n")
}

fn found_nowhere_rule() -> Value {
    let text = "An inventory record no scanned place holds and no lifecycle category fired on: \
                listed so the report accounts for the whole inventory.";
    json!({
        "id": FOUND_NOWHERE,
        "name": "found_nowhere",
        "shortDescription": {"text": "Credential lifecycle: inventory record found nowhere"},
        "fullDescription": {"text": text},
        "help": {"text": text},
        "defaultConfiguration": {"level": "note"},
        "properties": {
            "tags": ["security", "secret", "lifecycle"],
            "security-severity": security_severity(Severity::Info),
        },
    })
}

/// The SARIF rule entry of an audit category (one per category, whichever result needs it
/// first: a credential's or a record's).
fn category_rule(c: Category) -> Value {
    let tags: Vec<String> = ["security", "secret", "lifecycle"]
        .iter()
        .chain(c.nhi().iter())
        .map(|s| s.to_string())
        .collect();
    json!({
        "id": format!("audit/{}", c.as_str()),
        "name": c.as_str(),
        "shortDescription": {"text": format!("Credential lifecycle: {}", c.as_str())},
        "fullDescription": {"text": c.advice()},
        "help": {"text": c.advice()},
        "defaultConfiguration": {"level": level(c.severity())},
        "properties": {
            "tags": tags,
            "security-severity": security_severity(c.severity()),
        },
    })
}
