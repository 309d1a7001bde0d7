//! The `sprawl.audit/v1` JSON document: every credential with its fingerprint, matched
//! record, categories with evidence, and occurrences; then records found nowhere with their
//! hygiene categories. Dates are RFC 3339. No secret, ever.

use std::{
    collections::BTreeMap,
    io::{self, Write},
};

use serde::Serialize;

use crate::{
    audit::{category_counts, Audit, AuditedRecord, Hit, MatchedBy, Occurrence, Policy},
    finding::Fingerprint,
    inventory::{Hint, Status},
    time::rfc3339,
};

pub const SCHEMA: &str = "sprawl.audit/v1";

#[derive(Serialize)]
struct Doc<'a> {
    schema: &'static str,
    tool: Tool,
    now: String,
    policy: &'a Policy,
    summary: Summary,
    warnings: &'a [String],
    credentials: Vec<Cred<'a>>,
    records: Vec<Rec<'a>>,
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
    key_id: Option<&'a str>,
    severity: &'static str,
    owner: Option<&'a str>,
    suggested_owners: &'a [String],
    matched_by: Option<MatchedBy>,
    record: Option<Rec<'a>>,
    candidates: Vec<&'a str>,
    categories: &'a [Hit],
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
    purpose: Option<&'a str>,
    environment: Option<&'a str>,
    status: Status,
    hint: Option<&'a Hint>,
    key_id: Option<&'a str>,
    created_at: Option<String>,
    expires_at: Option<String>,
    last_used_at: Option<String>,
    review_due: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    categories: Option<&'a [Hit]>,
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
        purpose: r.purpose.as_deref(),
        environment: r.environment.as_deref(),
        status: r.status,
        hint: r.hint.as_ref(),
        key_id: r.key_id.as_deref(),
        created_at: d(r.created_at),
        expires_at: d(r.expires_at),
        last_used_at: d(r.last_used_at),
        review_due: d(r.review_due),
        categories: with_hits.then_some(m.hits.as_slice()),
    }
}

pub fn write(
    a: &Audit,
    policy: &Policy,
    warnings: &[String],
    out: &mut dyn Write,
) -> io::Result<()> {
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
        warnings,
        credentials: a
            .credentials
            .iter()
            .map(|c| {
                let record = c.record.map(|i| rec(&a.records[i], false));
                Cred {
                    fingerprint: c.exposure.fingerprint,
                    rule: &c.exposure.rule,
                    provider: &c.exposure.provider,
                    kind: c.exposure.kind.as_str(),
                    redacted: &c.exposure.redacted,
                    key_id: c.exposure.key_id.as_deref(),
                    severity: c.severity().as_str(),
                    owner: c.record.and_then(|i| a.records[i].record.owner.as_deref()),
                    suggested_owners: &c.suggested_owners,
                    matched_by: c.matched_by,
                    record,
                    candidates: c
                        .candidates
                        .iter()
                        .map(|&i| a.records[i].record.id.as_str())
                        .collect(),
                    categories: &c.hits,
                    occurrences: &c.exposure.occurrences,
                }
            })
            .collect(),
        records: a
            .records
            .iter()
            .filter(|r| !r.found)
            .map(|r| rec(r, true))
            .collect(),
    };
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    out.write_all(b"\n")
}
