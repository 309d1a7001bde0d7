//! CSV for spreadsheets: one row per credential (per secret), never the secret itself
//! unless `--show-secrets`.
//! For scans: rule, severity, redacted value, fingerprint, places. For audits: also the
//! matched record, owner, categories and the worst severity.

use std::io::{self, Write};

use crate::{
    audit::Audit,
    finding::{escape_control, Finding},
    report::text::group,
};

fn writer(out: &mut dyn Write) -> csv::Writer<&mut dyn Write> {
    csv::WriterBuilder::new().from_writer(out)
}

fn io_err(e: csv::Error) -> io::Error {
    io::Error::other(e)
}

/// One row per secret of a scan; the secret itself only with `show_secrets`.
pub fn write(findings: &[Finding], show_secrets: bool, out: &mut dyn Write) -> io::Result<()> {
    let mut w = writer(out);
    w.write_record([
        "fingerprint",
        "rule",
        "provider",
        "kind",
        "severity",
        "redacted",
        "key_id",
        "places",
        "first_path",
        "first_line",
        "paths",
        "expires_at",
        "expired",
        "validation",
        "confidence",
        "context",
    ])
    .map_err(io_err)?;
    for g in group(findings) {
        let f = g[0];
        let shown = if show_secrets {
            String::from_utf8_lossy(&f.secret).into_owned()
        } else {
            f.redacted.clone()
        };
        let mut paths: Vec<String> = g
            .iter()
            .map(|x| format!("{}:{}", escape_control(&x.location.path), x.location.line))
            .collect();
        paths.dedup();
        let (expires_at, expired) =
            crate::expiry::wire_fields(f.expiry.as_ref(), crate::expiry::now());
        w.write_record([
            f.fingerprint.to_string(),
            f.rule.id.clone(),
            f.rule.provider.clone(),
            f.rule.kind.as_str().to_string(),
            f.rule.severity.as_str().to_string(),
            shown,
            f.key_id.clone().unwrap_or_default(),
            g.len().to_string(),
            escape_control(&f.location.path).into_owned(),
            f.location.line.to_string(),
            paths.join("; "),
            expires_at.unwrap_or_default(),
            expired.map(|x| x.to_string()).unwrap_or_default(),
            f.validation
                .as_ref()
                .map(|v| v.status.as_str().to_string())
                .unwrap_or_default(),
            g.iter()
                .map(|x| x.confidence)
                .max()
                .unwrap_or(f.confidence)
                .to_string(),
            f.context.unwrap_or("").to_string(),
        ])
        .map_err(io_err)?;
    }
    w.flush()
}

/// One row per audited credential, then one per inventory record found nowhere that has
/// something to report.
pub fn write_audit(a: &Audit, out: &mut dyn Write) -> io::Result<()> {
    use crate::report::audit_json::what_to_do;
    let mut w = writer(out);
    w.write_record([
        "item",
        "fingerprint",
        "rule",
        "provider",
        "redacted",
        "key_id",
        "severity",
        "categories",
        "record",
        "matched_by",
        "owner",
        "suggested_owners",
        "purpose",
        "status",
        "expires_at",
        "last_used_at",
        "last_used_source",
        "places",
        "paths",
        "what_to_do",
    ])
    .map_err(io_err)?;
    let date = |t: Option<i64>| t.map(|t| crate::time::rfc3339(t, 0)).unwrap_or_default();
    for c in &a.credentials {
        let e = &c.exposure;
        let rec = c.record.map(|i| &a.records[i].record);
        let cats: Vec<&str> = c.hits.iter().map(|h| h.category.as_str()).collect();
        let paths: Vec<String> = e
            .occurrences
            .iter()
            .map(|o| {
                // A directory scanned outside a repository already names it in its paths.
                if o.path.starts_with(&format!("{}/", o.origin)) {
                    format!("{}:{}", o.path, o.line)
                } else {
                    format!("{}/{}:{}", o.origin, o.path, o.line)
                }
            })
            .collect();
        let matched_by = c
            .matched_by
            .and_then(|m| serde_json::to_value(m).ok())
            .and_then(|v| v.as_str().map(String::from))
            .unwrap_or_default();
        w.write_record([
            "credential".to_string(),
            e.fingerprint.to_string(),
            e.rule.clone(),
            e.provider.clone(),
            e.redacted.clone(),
            e.key_id.clone().unwrap_or_default(),
            c.severity().as_str().to_string(),
            cats.join(" "),
            rec.map(|r| r.id.clone()).unwrap_or_default(),
            matched_by,
            rec.and_then(|r| r.owner.clone()).unwrap_or_default(),
            c.suggested_owners.join(" "),
            rec.and_then(|r| r.purpose.clone()).unwrap_or_default(),
            rec.map(|r| r.status.as_str().to_string())
                .unwrap_or_default(),
            date(rec.and_then(|r| r.expires_at)),
            date(rec.and_then(|r| r.last_used_at)),
            rec.filter(|r| r.usage_known)
                .map(|r| r.fact_source("last_used_at").to_string())
                .unwrap_or_default(),
            e.occurrences.len().to_string(),
            paths.join("; "),
            what_to_do(&c.hits, e.revoke.as_deref()).join("; "),
        ])
        .map_err(io_err)?;
    }
    for m in a.records.iter().filter(|m| !m.found && !m.hits.is_empty()) {
        let r = &m.record;
        let cats: Vec<&str> = m.hits.iter().map(|h| h.category.as_str()).collect();
        w.write_record([
            "record".to_string(),
            r.fingerprint.map(|f| f.to_string()).unwrap_or_default(),
            String::new(),
            r.provider.clone().unwrap_or_default(),
            r.hint.as_ref().map(|h| h.to_string()).unwrap_or_default(),
            r.key_id.clone().unwrap_or_default(),
            crate::audit::worst_of(&m.hits).as_str().to_string(),
            cats.join(" "),
            r.id.clone(),
            String::new(),
            r.owner.clone().unwrap_or_default(),
            String::new(),
            r.purpose.clone().unwrap_or_default(),
            r.status.as_str().to_string(),
            date(r.expires_at),
            date(r.last_used_at),
            if r.usage_known {
                r.fact_source("last_used_at").to_string()
            } else {
                String::new()
            },
            "0".into(),
            m.sources.join("; "),
            what_to_do(&m.hits, None).join("; "),
        ])
        .map_err(io_err)?;
    }
    w.flush()
}
