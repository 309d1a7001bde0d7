//! CSV for spreadsheets: one row per credential (per secret), never the secret itself
//! unless `--show-secrets`.
//! For scans: rule, severity, redacted value, fingerprint, places, validation status and the
//! rule's revoke text. For audits: each credential and each inventory record found nowhere,
//! with its categories and their evidence, owner, purpose, expiry and last use (each with the
//! export it came from), what the provider said, and what to do.

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
        "revoke",
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
            f.rule.revoke.clone().unwrap_or_default(),
        ])
        .map_err(io_err)?;
    }
    w.flush()
}

/// The columns of the audit CSV, in order: what it is, which categories and why, who owns
/// it (and by which export), what it is for, when it stops working, when it was last used
/// (and by which export), what the provider said, where it was found, what to do.
const AUDIT_COLUMNS: [&str; 27] = [
    "item",
    "fingerprint",
    "rule",
    "provider",
    "redacted",
    "key_id",
    "severity",
    "categories",
    "evidence",
    "record",
    "matched_by",
    "owner",
    "owner_source",
    "suggested_owners",
    "purpose",
    "purpose_source",
    "status",
    "expires_at",
    "expires_source",
    "last_used_at",
    "last_used_source",
    "validation",
    "validation_checked_at",
    "validation_identity",
    "places",
    "paths",
    "what_to_do",
];

/// The record's side of a row: owner, purpose, status, expiry and last use, each with the
/// export it came from (columns `record` .. `last_used_source`, without `matched_by` and
/// `suggested_owners`).
struct RecordCells {
    id: String,
    owner: String,
    owner_source: String,
    purpose: String,
    purpose_source: String,
    status: String,
    expires_at: String,
    expires_source: String,
    last_used_at: String,
    last_used_source: String,
}

fn record_cells(r: Option<&crate::inventory::InventoryRecord>) -> RecordCells {
    let date = |t: Option<i64>| t.map(|t| crate::time::rfc3339(t, 0)).unwrap_or_default();
    let src = |r: &crate::inventory::InventoryRecord, field: &str, present: bool| {
        if present {
            r.fact_source(field).to_string()
        } else {
            String::new()
        }
    };
    let Some(r) = r else {
        return RecordCells {
            id: String::new(),
            owner: String::new(),
            owner_source: String::new(),
            purpose: String::new(),
            purpose_source: String::new(),
            status: String::new(),
            expires_at: String::new(),
            expires_source: String::new(),
            last_used_at: String::new(),
            last_used_source: String::new(),
        };
    };
    let owner = match (&r.owner, &r.principal) {
        (Some(o), _) => o.clone(),
        (None, Some(p)) => format!("no human owner; held by {p}"),
        (None, None) => String::new(),
    };
    let owner_source = match (&r.owner, &r.principal) {
        (Some(_), _) => r.fact_source("owner").to_string(),
        (None, Some(_)) => r.fact_source("principal").to_string(),
        (None, None) => String::new(),
    };
    let mut expires_source = src(r, "expires_at", r.expires_at.is_some());
    if r.expires_at.is_some() && r.expiry_enforced {
        expires_source.push_str(" (enforced by the vendor)");
    }
    RecordCells {
        id: r.id.clone(),
        owner,
        owner_source,
        purpose: r.purpose.clone().unwrap_or_default(),
        purpose_source: src(r, "purpose", r.purpose.is_some()),
        status: r.status.as_str().to_string(),
        expires_at: date(r.expires_at),
        expires_source,
        last_used_at: date(r.last_used_at),
        last_used_source: src(r, "last_used_at", r.usage_known),
    }
}

/// `category: why`, one per category, ` | ` between them.
fn evidence(hits: &[crate::audit::Hit]) -> String {
    hits.iter()
        .map(|h| format!("{}: {}", h.category.as_str(), h.evidence))
        .collect::<Vec<_>>()
        .join(" | ")
}

/// One row per audited credential, then one per inventory record found nowhere (with or
/// without categories: the inventory is accounted for in full).
pub fn write_audit(a: &Audit, out: &mut dyn Write) -> io::Result<()> {
    use crate::report::audit_json::{record_what_to_do, what_to_do};
    let mut w = writer(out);
    w.write_record(AUDIT_COLUMNS).map_err(io_err)?;
    for c in &a.credentials {
        let e = &c.exposure;
        let mut rc = record_cells(c.record.map(|i| &*a.records[i].record));
        if rc.expires_at.is_empty() {
            // No record date: what the token says of itself.
            if let Some(t) = e.expiry.as_ref().and_then(|x| x.expires_at) {
                rc.expires_at = crate::time::rfc3339(t, 0);
                rc.expires_source = match e.expiry.as_ref().map(|x| x.basis) {
                    Some(crate::expiry::Basis::Lifetime) => {
                        "token kind's documented lifetime".into()
                    }
                    _ => "the token itself".into(),
                };
            }
        }
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
        let v = e.validation.as_ref();
        let identity: Vec<String> = v
            .map(|v| v.identity.iter().map(|(k, x)| format!("{k}={x}")).collect())
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
            evidence(&c.hits),
            rc.id,
            matched_by,
            rc.owner,
            rc.owner_source,
            c.suggested_owners.join(" "),
            rc.purpose,
            rc.purpose_source,
            rc.status,
            rc.expires_at,
            rc.expires_source,
            rc.last_used_at,
            rc.last_used_source,
            v.map(|v| v.status.as_str().to_string()).unwrap_or_default(),
            v.map(|v| v.checked_at.clone()).unwrap_or_default(),
            identity.join(" "),
            e.occurrences.len().to_string(),
            paths.join("; "),
            what_to_do(&c.hits, e.revoke.as_deref()).join("; "),
        ])
        .map_err(io_err)?;
    }
    for m in a.records.iter().filter(|m| !m.found) {
        let r = &m.record;
        let rc = record_cells(Some(r));
        let cats: Vec<&str> = m.hits.iter().map(|h| h.category.as_str()).collect();
        w.write_record([
            "record".to_string(),
            r.fingerprint.map(|f| f.to_string()).unwrap_or_default(),
            String::new(),
            r.provider.clone().unwrap_or_default(),
            r.hint.as_ref().map(|h| h.to_string()).unwrap_or_default(),
            r.key_id.clone().unwrap_or_default(),
            if m.hits.is_empty() {
                String::new()
            } else {
                crate::audit::worst_of(&m.hits).as_str().to_string()
            },
            cats.join(" "),
            evidence(&m.hits),
            rc.id,
            String::new(),
            rc.owner,
            rc.owner_source,
            String::new(),
            rc.purpose,
            rc.purpose_source,
            rc.status,
            rc.expires_at,
            rc.expires_source,
            rc.last_used_at,
            rc.last_used_source,
            String::new(),
            String::new(),
            String::new(),
            "0".into(),
            m.sources.join("; "),
            record_what_to_do(m).join("; "),
        ])
        .map_err(io_err)?;
    }
    w.flush()
}
