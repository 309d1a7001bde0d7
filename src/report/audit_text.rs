//! The audit for people: one section per category, worst first; each credential with its
//! owner (or a suggested one), the evidence, where it was found, and what to do.

use std::io::{self, Write};

use crate::audit::{category_counts, Audit, Category};

pub fn write(a: &Audit, warnings: &[String], out: &mut dyn Write) -> io::Result<()> {
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
    for w in warnings {
        writeln!(out, "warning: {w}")?;
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
