//! The text reporter, for people: findings grouped by secret (one fingerprint, every place
//! it occurs), worst first, then a summary line and the files that could not be read.

use std::{
    collections::BTreeMap,
    io::{self, Write},
};

use super::Report;
use crate::{
    finding::{escape_control, Finding},
    rules::Severity,
};

struct Paint(bool);

impl Paint {
    fn wrap(&self, code: &str, s: &str) -> String {
        if self.0 {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
    fn bold(&self, s: &str) -> String {
        self.wrap("1", s)
    }
    fn dim(&self, s: &str) -> String {
        self.wrap("2", s)
    }
    fn severity(&self, s: Severity) -> String {
        let code = match s {
            Severity::Critical => "1;31",
            Severity::High => "31",
            Severity::Medium => "33",
            Severity::Low => "36",
            Severity::Info => "2",
        };
        self.wrap(code, s.as_str())
    }
}

/// Findings grouped by fingerprint, worst severity first, then by first place.
pub fn group(findings: &[Finding]) -> Vec<Vec<&Finding>> {
    let mut by_fp: BTreeMap<_, Vec<&Finding>> = BTreeMap::new();
    for f in findings {
        by_fp.entry(f.fingerprint).or_default().push(f);
    }
    let mut groups: Vec<Vec<&Finding>> = by_fp.into_values().collect();
    groups.sort_by(|a, b| {
        let sa = a.iter().map(|f| f.rule.severity).max();
        let sb = b.iter().map(|f| f.rule.severity).max();
        sb.cmp(&sa)
            .then_with(|| a[0].sort_key().cmp(&b[0].sort_key()))
    });
    groups
}

fn place(f: &Finding) -> String {
    let l = &f.location;
    let mut s = format!("{}:{}:{}", escape_control(&l.path), l.line, l.column);
    if let (Some(cell), Some(part), Some(cl)) = (l.cell, l.cell_part, l.cell_line) {
        let part = match part {
            crate::source::CellPart::Source => "source",
            crate::source::CellPart::Output => "output",
        };
        s.push_str(&format!(" (cell {cell} {part}, line {cl})"));
    }
    if let Some(g) = &f.git {
        let short = &g.commit[..g.commit.len().min(10)];
        s.push_str(&format!(
            "  commit {short} {} <{}> {}",
            g.author, g.email, g.date
        ));
        if g.in_head == Some(false) {
            s.push_str("  (removed from HEAD, still in history)");
        }
    }
    s
}

pub fn write(r: &Report<'_>, out: &mut dyn Write) -> io::Result<()> {
    let p = Paint(r.color);
    let groups = group(r.findings);
    for g in &groups {
        let first = g[0];
        let rule = &first.rule;
        writeln!(
            out,
            "{} {}  {}",
            p.severity(rule.severity),
            p.bold(&rule.title),
            p.dim(&format!("[{}]", rule.id))
        )?;
        let shown = if r.show_secrets {
            String::from_utf8_lossy(&first.secret).into_owned()
        } else {
            first.redacted.clone()
        };
        writeln!(out, "  secret       {shown}")?;
        writeln!(out, "  fingerprint  {}", first.fingerprint)?;
        let conf = g
            .iter()
            .map(|f| f.confidence)
            .max()
            .unwrap_or(first.confidence);
        match first.context {
            Some(ctx) => writeln!(out, "  confidence   {conf} (in {ctx} code)")?,
            None => writeln!(out, "  confidence   {conf}")?,
        }
        if let Some(k) = &first.key_id {
            writeln!(out, "  key id       {k}")?;
        }
        if let Some(e) = g.iter().find_map(|f| f.expiry.as_ref()) {
            let line = crate::expiry::describe(e, crate::expiry::now());
            writeln!(out, "  expiry       {line}")?;
        }
        if let Some(v) = &first.validation {
            writeln!(out, "  live?        {}", crate::validate::describe(v))?;
        }
        let n = g.len();
        writeln!(
            out,
            "  found in     {n} place{}",
            if n == 1 { "" } else { "s" }
        )?;
        for f in g {
            writeln!(out, "    {}", place(f))?;
        }
        if let Some(rev) = &rule.revoke {
            writeln!(out, "  rotate       {rev}")?;
        }
        writeln!(out)?;
    }
    let s = r.stats;
    let mut sev: BTreeMap<Severity, usize> = BTreeMap::new();
    for g in &groups {
        if let Some(max) = g.iter().map(|f| f.rule.severity).max() {
            *sev.entry(max).or_default() += 1;
        }
    }
    let sev_list: Vec<String> = sev.iter().rev().map(|(k, v)| format!("{v} {k}")).collect();
    let secrets = if groups.is_empty() && s.errors > 0 {
        // Never "no secrets found" when something could not be scanned.
        format!(
            "nothing found in what could be read; {} error{} (not scanned)",
            s.errors,
            if s.errors == 1 { "" } else { "s" }
        )
    } else if groups.is_empty() {
        "no secrets found".to_string()
    } else {
        format!(
            "{} secret{} ({}) in {} place{}",
            groups.len(),
            if groups.len() == 1 { "" } else { "s" },
            sev_list.join(", "),
            r.findings.len(),
            if r.findings.len() == 1 { "" } else { "s" }
        )
    };
    let mut scanned = format!("{} files", s.files);
    if s.blobs > 0 {
        scanned = format!("{} blobs, {} commits", s.blobs, s.commits);
    }
    writeln!(
        out,
        "{} · {scanned}, {} in {:.2}s",
        p.bold(&secrets),
        human_bytes(s.bytes),
        s.seconds
    )?;
    let mut notes = Vec::new();
    if s.skipped.binary + s.skipped.too_large > 0 {
        notes.push(format!(
            "skipped {} binary, {} too large",
            s.skipped.binary, s.skipped.too_large
        ));
    }
    if s.allowed > 0 {
        notes.push(format!("{} suppressed by sprawl:allow", s.allowed));
    }
    if r.baselined > 0 {
        notes.push(format!("{} suppressed by the baseline", r.baselined));
    }
    if s.errors > 0 {
        notes.push(format!(
            "{} error{}",
            s.errors,
            if s.errors == 1 { "" } else { "s" }
        ));
    }
    if !notes.is_empty() {
        writeln!(out, "{}", p.dim(&notes.join(" · ")))?;
    }
    Ok(())
}

pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}
