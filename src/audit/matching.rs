//! Tying findings to records: merging records that several exports give of one key, and
//! deciding whether a vendor's hint (prefix and suffix) fits a secret.

use std::collections::HashMap;

use super::{AuditedRecord, Exposure};
use crate::inventory::{Hint, InventoryRecord, Status};

/// Merge records that describe the same key (same fingerprint or key id, or a register's
/// `key_id` equal to a vendor listing's `id`): the register brings owner and purpose, the
/// vendor brings status and usage.
pub fn merge_records(records: &[InventoryRecord]) -> Vec<AuditedRecord> {
    let mut out: Vec<AuditedRecord> = Vec::new();
    let mut by_key: HashMap<String, usize> = HashMap::new();
    // Registers first, so vendor data fills in around them.
    let mut order: Vec<&InventoryRecord> = records.iter().collect();
    order.sort_by_key(|r| !r.format.starts_with("native"));
    for r in order {
        let keys: Vec<String> = [
            r.fingerprint.map(|f| f.to_string()),
            r.key_id.clone().map(|k| format!("id:{k}")),
            (!r.format.starts_with("native")).then(|| format!("id:{}", r.id)),
        ]
        .into_iter()
        .flatten()
        .collect();
        let existing = keys.iter().find_map(|k| by_key.get(k).copied());
        let idx = match existing {
            Some(i) => {
                let m = &mut out[i];
                m.sources.push(r.source.clone());
                let t = &mut m.record;
                let vendor = !r.format.starts_with("native");
                macro_rules! fill {
                    ($f:ident) => {
                        if t.$f.is_none() {
                            t.$f = r.$f.clone();
                        }
                    };
                }
                fill!(name);
                fill!(provider);
                fill!(fingerprint);
                fill!(key_id);
                fill!(hint);
                fill!(owner);
                fill!(purpose);
                fill!(approved_by);
                fill!(environment);
                fill!(created_at);
                fill!(expires_at);
                fill!(review_due);
                if t.scope.is_empty() {
                    t.scope = r.scope.clone();
                }
                // The vendor knows whether the key works; a register fills in otherwise.
                if (vendor && r.status != Status::Unknown) || t.status == Status::Unknown {
                    t.status = r.status;
                }
                if r.usage_known && (!t.usage_known || r.last_used_at > t.last_used_at) {
                    t.last_used_at = r.last_used_at;
                    t.usage_known = true;
                }
                i
            }
            None => {
                out.push(AuditedRecord {
                    record: r.clone(),
                    sources: vec![r.source.clone()],
                    found: false,
                    hits: Vec::new(),
                });
                out.len() - 1
            }
        };
        for k in keys {
            by_key.entry(k).or_insert(idx);
        }
        if let Some(k) = &out[idx].record.key_id {
            by_key.entry(format!("id:{k}")).or_insert(idx);
        }
    }
    out
}

/// What is known of a secret's two ends, to compare with a vendor hint.
pub(super) fn known_ends(e: &Exposure) -> (String, String, bool) {
    if let Some(s) = &e.secret {
        let s = String::from_utf8_lossy(s).into_owned();
        return (s.clone(), s, true);
    }
    match e.redacted.split_once('…') {
        Some((p, q)) => (p.to_string(), q.to_string(), false),
        None => (String::new(), String::new(), false),
    }
}

pub(super) fn providers_agree(a: Option<&str>, b: &str) -> bool {
    match a {
        None => true,
        Some(a) => {
            a.eq_ignore_ascii_case(b)
                || (a == "gcp" && b == "google")
                || (a == "google" && b == "gcp")
        }
    }
}

pub(super) fn hint_fits(h: &Hint, e: &Exposure) -> bool {
    let (prefix, suffix, full) = known_ends(e);
    if full {
        return prefix.starts_with(&h.prefix) && suffix.ends_with(&h.suffix);
    }
    let pre_ok = h.prefix.starts_with(&prefix) || prefix.starts_with(&h.prefix);
    let suf_ok = !suffix.is_empty()
        && !h.suffix.is_empty()
        && (h.suffix.ends_with(&suffix) || suffix.ends_with(&h.suffix));
    pre_ok && suf_ok && suffix.len().min(h.suffix.len()) >= 4
}

pub(super) fn last4(s: &str) -> String {
    let c: Vec<char> = s.chars().collect();
    c[c.len().saturating_sub(4)..].iter().collect()
}
