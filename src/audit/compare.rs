//! Audit over time: the previous `sprawl.audit/v1` JSON in, each credential (fingerprint)
//! and record (id) marked new, resolved, unchanged or changed (categories added or
//! removed); `--fail-on-new` gates only on new or worsened risk.

use std::{
    collections::{BTreeMap, BTreeSet},
    path::Path,
};

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

use super::{category::Category, model::Audit};
use crate::rules::Severity;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    New,
    Resolved,
    Unchanged,
    Changed,
}

/// One credential's or record's change since the previous audit.
#[derive(Debug, Clone, Serialize)]
pub struct Delta {
    /// `sha256:…` for a credential, `record:ID` for a record found nowhere.
    pub key: String,
    pub change: Change,
    pub added: Vec<Category>,
    pub removed: Vec<Category>,
    /// Whether the change adds risk at or above the gate (new, or categories added).
    #[serde(skip)]
    pub worse: Option<Severity>,
}

#[derive(Deserialize)]
struct Prev {
    schema: String,
    #[serde(default)]
    credentials: Vec<PrevItem>,
    #[serde(default)]
    records: Vec<PrevItem>,
}

#[derive(Deserialize)]
struct PrevItem {
    #[serde(default)]
    fingerprint: Option<String>,
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    categories: Option<Vec<PrevHit>>,
}

#[derive(Deserialize)]
struct PrevHit {
    category: Category,
}

type State = BTreeMap<String, BTreeSet<Category>>;

/// Read the previous audit (categories per key).
pub fn load(path: &Path) -> Result<State> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {shown}"))?;
    let p: Prev = serde_json::from_str(&text).map_err(|e| {
        anyhow::anyhow!(
            "{shown}: not a sprawl audit JSON (line {}, column {})",
            e.line(),
            e.column()
        )
    })?;
    if p.schema != crate::report::audit_json::SCHEMA {
        bail!(
            "{shown}: not a {} document",
            crate::report::audit_json::SCHEMA
        );
    }
    let mut s = State::new();
    for c in p.credentials {
        if let Some(f) = c.fingerprint {
            s.insert(f, cats(c.categories));
        }
    }
    for r in p.records {
        if let Some(id) = r.id {
            let c = cats(r.categories);
            if !c.is_empty() {
                s.insert(format!("record:{id}"), c);
            }
        }
    }
    Ok(s)
}

fn cats(h: Option<Vec<PrevHit>>) -> BTreeSet<Category> {
    h.unwrap_or_default()
        .into_iter()
        .map(|h| h.category)
        .collect()
}

/// The current audit's state.
pub fn state(a: &Audit) -> State {
    let mut s = State::new();
    for c in &a.credentials {
        s.insert(
            c.exposure.fingerprint.to_string(),
            c.hits.iter().map(|h| h.category).collect(),
        );
    }
    for r in a.records.iter().filter(|r| !r.found && !r.hits.is_empty()) {
        s.insert(
            format!("record:{}", r.record.id),
            r.hits.iter().map(|h| h.category).collect(),
        );
    }
    s
}

/// Compare; deltas sorted by key.
pub fn compare(prev: &State, a: &Audit) -> Vec<Delta> {
    let now = state(a);
    let sev = |key: &str, cats: &[Category]| -> Option<Severity> {
        // The worst severity among the given categories on this item now.
        let hits = a
            .credentials
            .iter()
            .find(|c| c.exposure.fingerprint.to_string() == key)
            .map(|c| &c.hits)
            .or_else(|| {
                a.records
                    .iter()
                    .find(|r| format!("record:{}", r.record.id) == key)
                    .map(|r| &r.hits)
            })?;
        hits.iter()
            .filter(|h| cats.contains(&h.category))
            .map(|h| h.severity)
            .max()
    };
    let mut out = Vec::new();
    for (k, cur) in &now {
        let d = match prev.get(k) {
            None => {
                let all: Vec<Category> = cur.iter().copied().collect();
                Delta {
                    key: k.clone(),
                    change: Change::New,
                    worse: sev(k, &all),
                    added: all,
                    removed: Vec::new(),
                }
            }
            Some(old) => {
                let added: Vec<Category> = cur.difference(old).copied().collect();
                let removed: Vec<Category> = old.difference(cur).copied().collect();
                Delta {
                    key: k.clone(),
                    change: if added.is_empty() && removed.is_empty() {
                        Change::Unchanged
                    } else {
                        Change::Changed
                    },
                    worse: sev(k, &added),
                    added,
                    removed,
                }
            }
        };
        out.push(d);
    }
    for (k, old) in prev {
        if !now.contains_key(k) {
            out.push(Delta {
                key: k.clone(),
                change: Change::Resolved,
                added: Vec::new(),
                removed: old.iter().copied().collect(),
                worse: None,
            });
        }
    }
    out.sort_by(|a, b| a.key.cmp(&b.key));
    out
}
