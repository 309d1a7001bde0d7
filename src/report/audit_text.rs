//! The audit for people: one section per category, worst first; each credential with its
//! owner (or a suggested one), the evidence, where it was found; then, per credential, who
//! owns it, what it is for, when it stops working, when it was last used (and by which
//! export), what the provider said (`--validate`), and what to do (the rule's own revoke
//! text first); then the same for each inventory record found nowhere that a category fired
//! on, and one count line for those with nothing to report.

use std::io::{self, Write};

use super::audit_json::{record_what_to_do, what_to_do, Notes};
use crate::{
    audit::{category_counts, Audit, AuditedRecord, Category},
    time::day,
};

/// Who / what / when of a record, one line, each fact with the export it came from.
pub fn facts(m: &AuditedRecord) -> String {
    let r = &m.record;
    let owner = if r.owners.is_empty() {
        match &r.principal {
            Some(p) => format!("no human owner; held by {p}"),
            None => "no owner".into(),
        }
    } else {
        let o: Vec<String> = r.owners.iter().map(|o| o.to_string()).collect();
        format!("owner {} ({})", o.join(", "), r.fact_source("owner"))
    };
    let purpose = r.purpose.as_deref().unwrap_or("no purpose recorded");
    let expiry = match r.expires_at {
        Some(e) if r.expiry_enforced => format!("stops working {} (vendor-enforced)", day(e)),
        Some(e) => format!("expires {} ({})", day(e), r.fact_source("expires_at")),
        None => "no expiry".into(),
    };
    let used = match (r.usage_known, r.last_used_at) {
        (false, _) => "last use not reported".to_string(),
        (true, None) => format!("never used ({})", r.fact_source("last_used_at")),
        (true, Some(t)) => format!("last used {} ({})", day(t), r.fact_source("last_used_at")),
    };
    let status = match (r.register_status, r.vendor_status) {
        (Some(a), Some(b)) if a != b => {
            format!("register says {}, vendor says {}", a.as_str(), b.as_str())
        }
        _ => format!("status {}", r.status.as_str()),
    };
    format!("{owner} · {purpose} · {expiry} · {used} · {status}")
}

pub fn write(a: &Audit, notes: &Notes<'_>, out: &mut dyn Write) -> io::Result<()> {
    let warnings = notes.warnings;
    let counts = category_counts(a);
    let mut cats: Vec<Category> = counts.keys().copied().collect();
    cats.sort_by_key(|c| (std::cmp::Reverse(c.severity()), *c));
    for cat in cats {
        writeln!(
            out,
            "{} ({}, {}) — {} [{}]",
            cat.as_str(),
            counts[&cat],
            cat.severity(),
            cat.advice(),
            cat.nhi().join(", ")
        )?;
        for c in &a.credentials {
            for h in c.hits.iter().filter(|h| h.category == cat) {
                let rec = c.record.map(|i| &a.records[i].record);
                let owner = match rec.and_then(|r| r.owner.as_deref()) {
                    Some(o) => format!("owner {o}"),
                    None if !c.suggested_owners.is_empty() => {
                        format!("no owner; suggested: {}", c.suggested_owners.join(", "))
                    }
                    None => "no owner".to_string(),
                };
                let id = rec.map(|r| format!(" record {}", r.id)).unwrap_or_default();
                writeln!(
                    out,
                    "  {:<8} {} {} ({}){id} — {owner}",
                    h.severity.as_str(),
                    c.exposure.redacted,
                    c.exposure.provider,
                    c.exposure.rule,
                )?;
                writeln!(out, "           {}", h.evidence)?;
            }
        }
        for r in a.records.iter().filter(|r| !r.found) {
            for h in r.hits.iter().filter(|h| h.category == cat) {
                let owner = r
                    .record
                    .owner
                    .as_deref()
                    .map(|o| format!("owner {o}"))
                    .unwrap_or("no owner".into());
                let what = r
                    .record
                    .hint
                    .as_ref()
                    .map(|h| h.to_string())
                    .or_else(|| r.record.key_id.clone())
                    .unwrap_or_default();
                writeln!(
                    out,
                    "  {:<8} record {} {} {} ({}) — {owner}",
                    h.severity.as_str(),
                    r.record.id,
                    what,
                    r.record.provider.as_deref().unwrap_or("?"),
                    r.record.format,
                )?;
                writeln!(out, "           {}", h.evidence)?;
            }
        }
        writeln!(out)?;
    }
    if !a.credentials.is_empty() {
        writeln!(
            out,
            "per credential: who, what for, until when, last use, what to do"
        )?;
    }
    for c in &a.credentials {
        let cats: Vec<&str> = c.hits.iter().map(|h| h.category.as_str()).collect();
        writeln!(
            out,
            "{} {} ({}) fingerprint {}",
            c.exposure.redacted,
            c.exposure.provider,
            c.exposure.rule,
            c.exposure.fingerprint.short()
        )?;
        match c.record {
            Some(i) => writeln!(
                out,
                "    record {}: {}",
                a.records[i].record.id,
                facts(&a.records[i])
            )?,
            None if !c.suggested_owners.is_empty() => writeln!(
                out,
                "    no record; suggested owners: {}",
                c.suggested_owners.join(", ")
            )?,
            None => writeln!(out, "    no record")?,
        }
        let record_expiry = c.record.and_then(|i| a.records[i].record.expires_at);
        if let (None, Some(e)) = (record_expiry, &c.exposure.expiry) {
            writeln!(out, "    expiry: {}", crate::expiry::describe(e, a.now))?;
        }
        if let Some(v) = &c.exposure.validation {
            writeln!(out, "    live?: {}", crate::validate::describe(v))?;
        }
        writeln!(out, "    categories: {}", cats.join(", "))?;
        if let Some(x) = &c.attestation {
            writeln!(
                out,
                "    attested by {} on {}: {:?} until {}{}",
                x.reviewed_by,
                x.date,
                x.decision,
                x.until,
                if x.valid == Some(true) {
                    ""
                } else {
                    " (expired)"
                }
            )?;
        }
        for t in what_to_do(&c.hits, c.exposure.revoke.as_deref()) {
            writeln!(out, "    to do: {t}")?;
        }
    }
    // Records found nowhere: each one something fired on in full, the rest counted.
    let nowhere: Vec<&AuditedRecord> = a.records.iter().filter(|r| !r.found).collect();
    let (flagged, clean): (Vec<&AuditedRecord>, Vec<&AuditedRecord>) =
        nowhere.iter().partition(|r| !r.hits.is_empty());
    if !flagged.is_empty() {
        writeln!(
            out,
            "per inventory record found nowhere: who, what for, until when, last use, what to do"
        )?;
    }
    for m in &flagged {
        let r = &m.record;
        writeln!(
            out,
            "record {} {} ({}) from {}",
            r.id,
            r.provider.as_deref().unwrap_or("?"),
            r.format,
            m.sources.join(", ")
        )?;
        writeln!(out, "    {}", facts(m))?;
        let cats: Vec<&str> = m.hits.iter().map(|h| h.category.as_str()).collect();
        writeln!(out, "    categories: {}", cats.join(", "))?;
        for t in record_what_to_do(m) {
            writeln!(out, "    to do: {t}")?;
        }
    }
    if !clean.is_empty() {
        writeln!(
            out,
            "{} inventory record{} found nowhere with nothing to report (each one is in the JSON, CSV and SARIF)",
            clean.len(),
            if clean.len() == 1 { "" } else { "s" },
        )?;
    }
    if let Some(deltas) = notes.deltas {
        writeln!(out)?;
        writeln!(out, "since the previous audit:")?;
        for d in deltas
            .iter()
            .filter(|d| d.change != crate::audit::compare::Change::Unchanged)
        {
            let added: Vec<&str> = d.added.iter().map(|c| c.as_str()).collect();
            let removed: Vec<&str> = d.removed.iter().map(|c| c.as_str()).collect();
            writeln!(
                out,
                "  {:<9} {} +[{}] -[{}]",
                format!("{:?}", d.change).to_lowercase(),
                d.key,
                added.join(", "),
                removed.join(", ")
            )?;
        }
    }
    for w in warnings {
        writeln!(out, "warning: {w}")?;
    }
    for e in notes.errors {
        writeln!(out, "error: {e}")?;
    }
    let found = a.records.iter().filter(|r| r.found).count();
    writeln!(
        out,
        "{} credential{} found in code, {} matched to the inventory; {} inventory record{} ({} found nowhere) · as of {}",
        a.credentials.len(),
        if a.credentials.len() == 1 { "" } else { "s" },
        a.credentials.iter().filter(|c| c.record.is_some()).count(),
        a.records.len(),
        if a.records.len() == 1 { "" } else { "s" },
        a.records.len() - found,
        crate::time::rfc3339(a.now, 0)
    )
}
