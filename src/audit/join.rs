//! Tying things together: records that several exports give of one key are merged (the
//! register states intent, the vendor states reality: both are kept), and each exposure is
//! tied to a record by fingerprint, key id, or a vendor hint that rests on enough random
//! characters. A hint that fits several records, or fits on too few random characters, is
//! `ambiguous`, never a match.

use std::collections::HashMap;

use super::model::{AuditedRecord, Exposure, MatchedBy};
use crate::inventory::{
    hint::{HintFit, MIN_RANDOM_CHARS},
    InventoryRecord, Status,
};

fn hint_key(r: &InventoryRecord) -> Option<String> {
    let h = r.hint.as_ref()?;
    Some(format!(
        "hint:{}:{}",
        r.provider.as_deref().unwrap_or(""),
        h
    ))
}

/// Merge records that describe the same key (same fingerprint or key id, a register's
/// `key_id` equal to a vendor listing's `id`, or a register hint equal to exactly one vendor
/// row's hint): the register brings owner, purpose and intent, the vendor status and usage.
pub fn merge_records(records: Vec<InventoryRecord>) -> Vec<AuditedRecord> {
    let mut vendor_hints: HashMap<String, usize> = HashMap::new();
    for r in records.iter().filter(|r| !r.is_register()) {
        if let Some(k) = hint_key(r) {
            *vendor_hints.entry(k).or_default() += 1;
        }
    }
    let mut out: Vec<AuditedRecord> = Vec::with_capacity(records.len());
    let mut by_key: HashMap<String, usize> = HashMap::new();
    // Registers first, so vendor data fills in around them.
    let mut order = records;
    order.sort_by_key(|r| !r.is_register());
    // Taken from the back, and the listing shrunk as it empties, so that the records and
    // their merged copies are not both held whole at the peak.
    order.reverse();
    while let Some(r) = order.pop() {
        if order.capacity() > 4096 && order.len() < order.capacity() / 2 {
            order.shrink_to_fit();
        }
        let vendor = !r.is_register();
        let mut keys: Vec<String> = [
            r.fingerprint.map(|f| f.to_string()),
            r.key_id.clone().map(|k| format!("id:{k}")),
            vendor.then(|| format!("id:{}", r.id)),
        ]
        .into_iter()
        .flatten()
        .collect();
        // A hint joins a register row to the one vendor row that shows it.
        if let Some(k) = hint_key(&r) {
            if !vendor || vendor_hints.get(&k) == Some(&1) {
                keys.push(k);
            }
        }
        let existing = keys.iter().find_map(|k| by_key.get(k).copied());
        let idx = match existing {
            Some(i) => {
                fold(&mut out[i], r);
                i
            }
            None => {
                out.push(AuditedRecord {
                    sources: vec![r.source.clone()],
                    record: Box::new(r),
                    found: false,
                    hits: Vec::new(),
                    attestation: None,
                    revoke: None,
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

/// Fold record `r` into the merged record `m`.
fn fold(m: &mut AuditedRecord, r: InventoryRecord) {
    m.sources.push(r.source.clone());
    let t = &mut m.record;
    let vendor = !r.is_register();
    macro_rules! fill {
        ($f:ident) => {
            if t.$f.is_none() && r.$f.is_some() {
                t.$f = r.$f.clone();
                t.facts.insert(stringify!($f), r.source.clone());
            }
        };
    }
    fill!(name);
    fill!(provider);
    fill!(fingerprint);
    fill!(key_id);
    fill!(hint);
    fill!(team);
    fill!(purpose);
    fill!(approved_by);
    fill!(environment);
    fill!(workspace);
    fill!(created_at);
    fill!(review_due);
    fill!(principal);
    fill!(register_status);
    fill!(vendor_status);
    // An expiry the vendor enforces is the one that decides; otherwise the register's.
    if r.expires_at.is_some()
        && (t.expires_at.is_none() || (r.expiry_enforced && !t.expiry_enforced))
    {
        t.expires_at = r.expires_at;
        t.expiry_enforced = r.expiry_enforced;
        t.facts.insert("expires_at", r.source.clone());
    }
    for o in &r.owners {
        if !t.owners.contains(o) {
            t.owners.push(o.clone());
        }
    }
    if t.owner.is_none() {
        t.owner = r.owner.clone();
        if t.owner.is_some() {
            t.facts.insert("owner", r.source.clone());
        }
    }
    for f in &r.vendor_flags {
        if !t.vendor_flags.contains(f) {
            t.vendor_flags.push(*f);
        }
    }
    if t.scope.is_empty() {
        t.scope = r.scope.clone();
    }
    t.hygiene_only &= r.hygiene_only;
    // The vendor knows whether the key works; a register fills in otherwise.
    if (vendor && r.status != Status::Unknown) || t.status == Status::Unknown {
        if t.status != r.status {
            t.facts.insert("status", r.source.clone());
        }
        t.status = r.status;
    }
    if r.usage_known && (!t.usage_known || r.last_used_at > t.last_used_at) {
        t.last_used_at = r.last_used_at;
        t.usage_known = true;
        let src = r.fact_source("last_used_at").to_string();
        t.facts.insert("last_used_at", src);
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

/// Index of records by the last characters their hint shows.
pub(super) struct HintIndex {
    by_tail: HashMap<String, Vec<usize>>,
    short: Vec<usize>,
}

const TAIL: usize = 3;

fn tail(s: &str) -> Option<String> {
    (s.len() >= TAIL && s.is_char_boundary(s.len() - TAIL)).then(|| s[s.len() - TAIL..].to_string())
}

impl HintIndex {
    pub fn new(records: &[AuditedRecord]) -> HintIndex {
        let mut ix = HintIndex {
            by_tail: HashMap::new(),
            short: Vec::new(),
        };
        for (i, m) in records.iter().enumerate() {
            if let Some(h) = &m.record.hint {
                match tail(&h.suffix) {
                    Some(t) => ix.by_tail.entry(t).or_default().push(i),
                    None => ix.short.push(i),
                }
            }
        }
        ix
    }
}

/// What the join decided for one exposure.
pub(super) enum Tie {
    Record(usize, MatchedBy),
    /// Hint candidates, each with the random characters the fit rests on.
    Candidates(Vec<(usize, usize)>),
    None,
}

pub(super) fn tie(
    e: &Exposure,
    records: &[AuditedRecord],
    by_fp: &HashMap<crate::finding::Fingerprint, usize>,
    by_id: &HashMap<String, usize>,
    hints: &HintIndex,
) -> Tie {
    if let Some(&i) = by_fp.get(&e.fingerprint) {
        return Tie::Record(i, MatchedBy::Fingerprint);
    }
    if let Some(&i) = e.key_id.as_ref().and_then(|k| by_id.get(k)) {
        return Tie::Record(i, MatchedBy::KeyId);
    }
    let Some(view) = e.hint_view() else {
        return Tie::None;
    };
    let pool: Vec<usize> = match tail(&view.suffix) {
        Some(t) => hints
            .by_tail
            .get(&t)
            .into_iter()
            .flatten()
            .chain(hints.short.iter())
            .copied()
            .collect(),
        None => hints
            .by_tail
            .values()
            .flatten()
            .chain(hints.short.iter())
            .copied()
            .collect(),
    };
    let mut fits: Vec<(usize, usize)> = pool
        .into_iter()
        .filter_map(|i| {
            let r = &records[i].record;
            if !providers_agree(r.provider.as_deref(), &e.provider) {
                return None;
            }
            match r.hint.as_ref()?.fit(&view, Some(&e.provider)) {
                HintFit::Fits { random } => Some((i, random)),
                HintFit::Mismatch => None,
            }
        })
        .collect();
    fits.sort_unstable();
    fits.dedup();
    match fits.as_slice() {
        [] => Tie::None,
        [(i, random)] if *random >= MIN_RANDOM_CHARS => Tie::Record(*i, MatchedBy::Hint),
        _ => Tie::Candidates(fits),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn register_retired_vendor_active_keeps_both() {
        let reg = InventoryRecord {
            id: "reg".into(),
            provider: Some("openai".into()),
            hint: crate::inventory::Hint::parse("sk-proj-...WXYZ"),
            status: Status::Retired,
            register_status: Some(Status::Retired),
            purpose: Some("pilot".into()),
            format: "native-json",
            source: "reg.json#0".into(),
            ..InventoryRecord::default()
        };
        let vendor = InventoryRecord {
            id: "key_1".into(),
            provider: Some("openai".into()),
            hint: crate::inventory::Hint::parse("sk-proj-...WXYZ"),
            status: Status::Active,
            vendor_status: Some(Status::Active),
            usage_known: true,
            last_used_at: Some(5),
            format: "openai",
            source: "openai.json#0".into(),
            ..InventoryRecord::default()
        };
        let m = merge_records(vec![vendor, reg]);
        assert_eq!(m.len(), 1);
        let r = &m[0].record;
        assert_eq!(r.register_status, Some(Status::Retired));
        assert_eq!(r.vendor_status, Some(Status::Active));
        assert_eq!(r.status, Status::Active);
        assert_eq!(r.purpose.as_deref(), Some("pilot"));
        assert_eq!(r.fact_source("last_used_at"), "openai.json#0");
    }
}
