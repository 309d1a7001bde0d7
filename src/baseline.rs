//! Baselines: findings in, a file of fingerprints out (`--write-baseline`); a baseline file
//! in, the findings it does not cover out (`--baseline`). Keyed by fingerprint only, so line
//! drift, renames, rebases and squashes never make a baselined secret reappear, and a
//! different secret on the same line is never hidden.

use std::{collections::HashSet, path::Path};

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

use crate::finding::{Finding, Fingerprint};

pub const SCHEMA: &str = "sprawl.baseline/v1";

/// One baselined secret; rule and location are for the people reading the file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BaselineEntry {
    pub fingerprint: String,
    #[serde(default)]
    pub rule: String,
    #[serde(default)]
    pub path: String,
    #[serde(default)]
    pub line: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct BaselineFile {
    schema: String,
    entries: Vec<BaselineEntry>,
}

/// The set of fingerprints a baseline suppresses.
#[derive(Debug, Clone, Default)]
pub struct Baseline {
    fingerprints: HashSet<Fingerprint>,
}

impl Baseline {
    pub fn load(path: &Path) -> Result<Baseline> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading baseline {}", path.display()))?;
        Baseline::parse(&text, path)
    }

    /// A baseline's text; `path` names it in errors.
    pub fn parse(text: &str, path: &Path) -> Result<Baseline> {
        let file: BaselineFile = serde_json::from_str(text)
            .with_context(|| format!("parsing baseline {}", path.display()))?;
        if file.schema != SCHEMA {
            bail!(
                "baseline {}: schema `{}` is not `{SCHEMA}`",
                path.display(),
                file.schema
            );
        }
        let mut fingerprints = HashSet::new();
        for (i, e) in file.entries.iter().enumerate() {
            let fp = Fingerprint::parse(&e.fingerprint).with_context(|| {
                format!(
                    "baseline {}: entry {i} has an invalid fingerprint",
                    path.display()
                )
            })?;
            fingerprints.insert(fp);
        }
        Ok(Baseline { fingerprints })
    }

    pub fn contains(&self, fp: &Fingerprint) -> bool {
        self.fingerprints.contains(fp)
    }

    /// Drop baselined findings; returns how many were dropped.
    pub fn apply(&self, findings: &mut Vec<Finding>) -> usize {
        let before = findings.len();
        findings.retain(|f| !self.contains(&f.fingerprint));
        before - findings.len()
    }
}

/// The baseline file text for `findings` (sorted; one entry per secret, at its first place).
pub fn render(findings: &[Finding]) -> String {
    let mut seen = HashSet::new();
    let mut entries: Vec<BaselineEntry> = Vec::new();
    for f in findings {
        if seen.insert(f.fingerprint) {
            entries.push(BaselineEntry {
                fingerprint: f.fingerprint.to_string(),
                rule: f.rule.id.clone(),
                path: f.location.path.clone(),
                line: f.location.line,
            });
        }
    }
    entries.sort_by(|a, b| a.fingerprint.cmp(&b.fingerprint));
    let file = BaselineFile {
        schema: SCHEMA.into(),
        entries,
    };
    serde_json::to_string_pretty(&file).expect("serializable") + "\n"
}
