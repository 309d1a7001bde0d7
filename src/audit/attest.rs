//! Attestation: a review file (TOML or JSON) in which a person records, per credential
//! (fingerprint) or record (id), who reviewed it, when, the decision (keep / rotate /
//! revoke) and until when it holds. An attested item does not fail the audit until the
//! attestation expires; an expired one is `review_overdue`. The template lists every item
//! still needing a decision.

use std::path::Path;

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

use super::{
    category::{hit, Category},
    model::Audit,
};
use crate::{rules::Severity, time::day};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Decision {
    Keep,
    Rotate,
    Revoke,
}

/// One review decision, as written in the file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Attestation {
    /// `sha256:…` of the credential, or…
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
    /// …the inventory record id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record: Option<String>,
    pub reviewed_by: String,
    pub date: String,
    pub decision: Decision,
    pub until: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Whether it still holds at the audit's `now` (filled in, never read).
    #[serde(skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub valid: Option<bool>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttestFile {
    #[serde(default)]
    pub attestation: Vec<Attestation>,
}

/// Read a review file (TOML, or JSON when it starts with `{`). Errors name the file and the
/// entry, never a value.
pub fn load(path: &Path) -> Result<Vec<Attestation>> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {shown}"))?;
    let f: AttestFile = if text.trim_start().starts_with('{') {
        serde_json::from_str(&text).map_err(|e| {
            anyhow::anyhow!(
                "{shown}: not an attestation file (line {}, column {})",
                e.line(),
                e.column()
            )
        })?
    } else {
        toml::from_str(&text).map_err(|e| {
            let at = e
                .span()
                .map(|s| format!(" at byte {}", s.start))
                .unwrap_or_default();
            anyhow::anyhow!("{shown}: not an attestation file{at}: expected [[attestation]] entries with fingerprint or record, reviewed_by, date, decision (keep/rotate/revoke), until")
        })?
    };
    for (i, a) in f.attestation.iter().enumerate() {
        if a.fingerprint.is_none() && a.record.is_none() {
            bail!(
                "{shown}: attestation {} names neither a fingerprint nor a record",
                i + 1
            );
        }
        for (field, v) in [("date", &a.date), ("until", &a.until)] {
            if let Err(e) = crate::time::parse_date_checked(v) {
                bail!("{shown}: attestation {}: `{field}`: {e}", i + 1);
            }
        }
    }
    Ok(f.attestation)
}

/// Apply attestations: attach each to its credential or record; an expired one adds
/// `review_overdue`.
pub fn apply(a: &mut Audit, list: &[Attestation], source: &str) {
    let now = a.now;
    let holds = |x: &Attestation| crate::time::parse_date(&x.until).is_some_and(|u| u >= now);
    let overdue = |x: &Attestation| {
        hit(
            Category::ReviewOverdue,
            format!(
                "the attestation by {} on {} ({:?}) expired on {} ({source})",
                x.reviewed_by,
                x.date,
                x.decision,
                crate::time::parse_date(&x.until)
                    .map(day)
                    .unwrap_or_default()
            )
            .replace("Keep", "keep")
            .replace("Rotate", "rotate")
            .replace("Revoke", "revoke"),
        )
    };
    for x in list {
        let mut x = x.clone();
        x.valid = Some(holds(&x));
        for c in &mut a.credentials {
            let by_fp =
                x.fingerprint.as_deref() == Some(c.exposure.fingerprint.to_string().as_str());
            let by_rec = x.record.is_some()
                && c.record.map(|i| a.records[i].record.id.as_str()) == x.record.as_deref();
            if by_fp || by_rec {
                if x.valid == Some(false) {
                    c.hits.push(overdue(&x));
                }
                c.attestation = Some(x.clone());
            }
        }
        for r in a.records.iter_mut().filter(|r| !r.found) {
            let by_fp = x.fingerprint.is_some()
                && r.record.fingerprint.map(|f| f.to_string()) == x.fingerprint;
            if by_fp || x.record.as_deref() == Some(r.record.id.as_str()) {
                if x.valid == Some(false) {
                    r.hits.push(overdue(&x));
                }
                r.attestation = Some(x.clone());
            }
        }
    }
}

/// Whether an attestation still holds for this item.
pub fn holds(x: Option<&Attestation>) -> bool {
    x.is_some_and(|x| x.valid == Some(true))
}

/// A review file listing every credential and record at or above `fail_on` with no
/// attestation that still holds: the decisions left to make.
pub fn template(a: &Audit, fail_on: Severity) -> String {
    let mut out = String::from(
        "# sprawl attestation file: one [[attestation]] per credential (fingerprint) or record.\n\
         # Fill in reviewed_by, date, decision (keep / rotate / revoke) and until, then pass it\n\
         # with --attest. An attested item does not fail the audit until `until` passes.\n",
    );
    let today = day(a.now);
    for c in &a.credentials {
        if c.severity() >= fail_on && !holds(c.attestation.as_ref()) {
            let cats: Vec<&str> = c.hits.iter().map(|h| h.category.as_str()).collect();
            out.push_str(&format!(
                "\n# {} {} ({}): {}\n[[attestation]]\nfingerprint = \"{}\"\nreviewed_by = \"\"\ndate = \"{today}\"\ndecision = \"rotate\"\nuntil = \"{today}\"\n",
                c.exposure.title,
                c.exposure.redacted,
                c.exposure.provider,
                cats.join(", "),
                c.exposure.fingerprint
            ));
        }
    }
    for r in a.records.iter().filter(|r| !r.found) {
        if super::model::worst_of(&r.hits) >= fail_on
            && !r.hits.is_empty()
            && !holds(r.attestation.as_ref())
        {
            let cats: Vec<&str> = r.hits.iter().map(|h| h.category.as_str()).collect();
            out.push_str(&format!(
                "\n# record {} ({}): {}\n[[attestation]]\nrecord = {}\nreviewed_by = \"\"\ndate = \"{today}\"\ndecision = \"keep\"\nuntil = \"{today}\"\n",
                r.record.id,
                r.record.provider.as_deref().unwrap_or("?"),
                cats.join(", "),
                toml_string(&r.record.id)
            ));
        }
    }
    out
}

fn toml_string(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}
