//! The `sprawl.audit/v1` JSON document: every credential with its fingerprint, vendor hint,
//! matched record (owners with their kinds, purpose, expiry, last use, and which export each
//! fact came from), categories with evidence and what to do (the rule's own revoke text
//! first), and occurrences; then records found nowhere with their hygiene categories; and,
//! with `--compare`, what changed. Dates are RFC 3339. No secret, ever.

use std::{
    collections::BTreeMap,
    io::{self, Write},
};

use serde::Serialize;

use crate::{
    audit::{
        attest::Attestation, category_counts, compare::Delta, Audit, AuditedCredential,
        AuditedRecord, Hit, MatchedBy, Occurrence, Policy,
    },
    finding::Fingerprint,
    inventory::{Hint, Identity, Status, VendorFlag},
    time::rfc3339,
};

pub const SCHEMA: &str = "sprawl.audit/v1";

/// What the run has to say beside the audit itself.
pub struct Notes<'a> {
    pub warnings: &'a [String],
    /// Files left out, each with the reason.
    pub errors: &'a [String],
    pub deltas: Option<&'a [Delta]>,
}

#[derive(Serialize)]
struct Doc<'a> {
    schema: &'static str,
    tool: Tool,
    now: String,
    policy: &'a Policy,
    summary: Summary,
    warnings: &'a [String],
    errors: &'a [String],
    credentials: Vec<Cred<'a>>,
    records: Vec<Rec<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    compare: Option<&'a [Delta]>,
}

#[derive(Serialize)]
struct Tool {
    name: &'static str,
    version: &'static str,
}

#[derive(Serialize)]
struct Summary {
    credentials: usize,
    records: usize,
    by_category: BTreeMap<&'static str, usize>,
}

#[derive(Serialize)]
struct Cred<'a> {
    fingerprint: Fingerprint,
    rule: &'a str,
    provider: &'a str,
    kind: &'static str,
    redacted: &'a str,
    hint: Option<&'a Hint>,
    key_id: Option<&'a str>,
    severity: &'static str,
    owner: Option<&'a str>,
    suggested_owners: &'a [String],
    matched_by: Option<MatchedBy>,
    record: Option<Rec<'a>>,
    candidates: Vec<&'a str>,
    categories: &'a [Hit],
    what_to_do: Vec<String>,
    attestation: Option<&'a Attestation>,
    /// What the provider said (`--validate`, in-process or from the saved report).
    #[serde(skip_serializing_if = "Option::is_none")]
    validation: Option<&'a crate::validate::Validation>,
    /// When the token itself says it stops working (offline: JWT `exp`, Bedrock, lifetimes).
    #[serde(skip_serializing_if = "Option::is_none")]
    expires_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    expired: Option<bool>,
    occurrences: &'a [Occurrence],
}

#[derive(Serialize)]
struct Rec<'a> {
    id: &'a str,
    name: Option<&'a str>,
    provider: Option<&'a str>,
    format: &'static str,
    sources: &'a [String],
    owner: Option<&'a str>,
    owners: &'a [Identity],
    principal: Option<&'a Identity>,
    team: Option<&'a str>,
    purpose: Option<&'a str>,
    environment: Option<&'a str>,
    workspace: Option<&'a str>,
    status: Status,
    register_status: Option<Status>,
    vendor_status: Option<Status>,
    hint: Option<&'a Hint>,
    key_id: Option<&'a str>,
    created_at: Option<String>,
    expires_at: Option<String>,
    expiry_enforced_by_vendor: bool,
    last_used_at: Option<String>,
    usage_reported: bool,
    review_due: Option<String>,
    vendor_flags: &'a [VendorFlag],
    /// Which export each merged-in fact came from (others: the first of `sources`).
    facts: &'a BTreeMap<&'static str, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    categories: Option<&'a [Hit]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    what_to_do: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    attestation: Option<&'a Attestation>,
}

/// What to do about a record found nowhere: nothing when nothing fired, else its rule's
/// revoke text (when one fits, see `AuditedRecord::revoke`) and each category's advice.
pub fn record_what_to_do(m: &AuditedRecord) -> Vec<String> {
    if m.hits.is_empty() {
        Vec::new()
    } else {
        what_to_do(&m.hits, m.revoke.as_deref())
    }
}

/// What to do about a set of hits: the rule's own instructions first, then the advice of
/// each category (once each).
pub fn what_to_do(hits: &[Hit], revoke: Option<&str>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    if let Some(r) = revoke {
        out.push(format!("revoke / rotate: {r}"));
    }
    for h in hits {
        let a = format!("{}: {}", h.category.as_str(), h.category.advice());
        if !out.contains(&a) {
            out.push(a);
        }
    }
    out
}

fn rec(m: &AuditedRecord, with_hits: bool) -> Rec<'_> {
    let r = &m.record;
    let d = |t: Option<i64>| t.map(|t| rfc3339(t, 0));
    Rec {
        id: &r.id,
        name: r.name.as_deref(),
        provider: r.provider.as_deref(),
        format: r.format,
        sources: &m.sources,
        owner: r.owner.as_deref(),
        owners: &r.owners,
        principal: r.principal.as_ref(),
        team: r.team.as_deref(),
        purpose: r.purpose.as_deref(),
        environment: r.environment.as_deref(),
        workspace: r.workspace.as_deref(),
        status: r.status,
        register_status: r.register_status,
        vendor_status: r.vendor_status,
        hint: r.hint.as_ref(),
        key_id: r.key_id.as_deref(),
        created_at: d(r.created_at),
        expires_at: d(r.expires_at),
        expiry_enforced_by_vendor: r.expiry_enforced,
        last_used_at: d(r.last_used_at),
        usage_reported: r.usage_known,
        review_due: d(r.review_due),
        vendor_flags: &r.vendor_flags,
        facts: &r.facts,
        categories: with_hits.then_some(m.hits.as_slice()),
        what_to_do: with_hits.then(|| record_what_to_do(m)),
        attestation: if with_hits {
            m.attestation.as_ref()
        } else {
            None
        },
    }
}

fn cred<'a>(a: &'a Audit, c: &'a AuditedCredential) -> Cred<'a> {
    let (expires_at, expired) = crate::expiry::wire_fields(c.exposure.expiry.as_ref(), a.now);
    Cred {
        validation: c.exposure.validation.as_ref(),
        expires_at,
        expired,
        fingerprint: c.exposure.fingerprint,
        rule: &c.exposure.rule,
        provider: &c.exposure.provider,
        kind: c.exposure.kind.as_str(),
        redacted: &c.exposure.redacted,
        hint: c.exposure.hint.as_ref(),
        key_id: c.exposure.key_id.as_deref(),
        severity: c.severity().as_str(),
        owner: c.record.and_then(|i| a.records[i].record.owner.as_deref()),
        suggested_owners: &c.suggested_owners,
        matched_by: c.matched_by,
        record: c.record.map(|i| rec(&a.records[i], false)),
        candidates: c
            .candidates
            .iter()
            .map(|&i| a.records[i].record.id.as_str())
            .collect(),
        categories: &c.hits,
        what_to_do: what_to_do(&c.hits, c.exposure.revoke.as_deref()),
        attestation: c.attestation.as_ref(),
        occurrences: &c.exposure.occurrences,
    }
}

pub fn write(a: &Audit, policy: &Policy, notes: &Notes<'_>, out: &mut dyn Write) -> io::Result<()> {
    let by_category = category_counts(a)
        .into_iter()
        .map(|(k, v)| (k.as_str(), v))
        .collect();
    let doc = Doc {
        schema: SCHEMA,
        tool: Tool {
            name: "sprawl",
            version: env!("CARGO_PKG_VERSION"),
        },
        now: rfc3339(a.now, 0),
        policy,
        summary: Summary {
            credentials: a.credentials.len(),
            records: a.records.len(),
            by_category,
        },
        warnings: notes.warnings,
        errors: notes.errors,
        credentials: a.credentials.iter().map(|c| cred(a, c)).collect(),
        records: a
            .records
            .iter()
            .filter(|r| !r.found)
            .map(|r| rec(r, true))
            .collect(),
        compare: notes.deltas,
    };
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    out.write_all(b"\n")
}
