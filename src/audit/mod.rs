//! The audit, a pure function: exposures (secrets found, with their occurrences) ×
//! inventory records × roster × policy × now → each credential with the record it matched
//! and its lifecycle categories, each with evidence, a severity and the OWASP Non-Human
//! Identity Top 10 item it maps to; plus hygiene findings for records found nowhere.
//! `model` holds the data, `join` ties exposures to records, `hygiene` judges a record,
//! `category` names the categories, `attest` and `compare` add review and history.

use std::collections::{BTreeMap, HashMap, HashSet};

pub mod attest;
mod category;
pub mod compare;
pub mod hygiene;
pub mod join;
pub mod liveness;
mod model;

pub use category::{Category, Hit, ALL as ALL_CATEGORIES};
pub use join::merge_records;
pub use model::*;

use category::hit;
use hygiene::{dead_evidence, record_hits};
use join::{tie, HintIndex, Tie};

use crate::{
    finding::Fingerprint,
    inventory::{hint::MIN_RANDOM_CHARS, identity::Presence, Identity, InventoryRecord, Roster},
    rules::{Kind, Severity},
};

/// Environment names looked for in paths, for `out_of_scope`.
const ENVIRONMENTS: &[&str] = &[
    "prod",
    "production",
    "staging",
    "stage",
    "dev",
    "development",
    "test",
    "qa",
];

fn env_of_path(path: &str) -> Option<&'static str> {
    let lower = path.to_ascii_lowercase();
    let parts: Vec<&str> = lower.split(|c: char| !c.is_ascii_alphanumeric()).collect();
    ENVIRONMENTS
        .iter()
        .find(|e| parts.contains(e))
        .map(|e| match *e {
            "production" => "prod",
            "stage" => "staging",
            "development" => "dev",
            other => other,
        })
}

fn normalise_env(e: &str) -> String {
    match e.to_ascii_lowercase().as_str() {
        "production" => "prod".into(),
        "stage" => "staging".into(),
        "development" => "dev".into(),
        other => other.into(),
    }
}

fn provider_hits(provider: &str, policy: &Policy) -> Option<Hit> {
    let p = provider.to_ascii_lowercase();
    if policy
        .retired_providers
        .iter()
        .any(|r| r.eq_ignore_ascii_case(&p))
    {
        return Some(hit(
            Category::UnapprovedProvider,
            format!("{provider} is in retired_providers"),
        ));
    }
    if !policy.approved_providers.is_empty()
        && p != "generic"
        && !policy
            .approved_providers
            .iter()
            .any(|a| a.eq_ignore_ascii_case(&p))
    {
        return Some(hit(
            Category::UnapprovedProvider,
            format!("{provider} is not in approved_providers"),
        ));
    }
    None
}

fn scope_matches(glob: &str, occ: &Occurrence) -> bool {
    let g = globset::GlobBuilder::new(glob)
        .literal_separator(false)
        .build()
        .map(|g| g.compile_matcher());
    match g {
        Ok(m) => {
            m.is_match(&occ.path)
                || m.is_match(format!("{}/{}", occ.origin.trim_end_matches('/'), occ.path))
                || m.is_match(&occ.origin)
        }
        Err(_) => false,
    }
}

/// Owners to suggest: CODEOWNERS entries, then the git authors who introduced the secret;
/// anyone the roster says has left is not suggested.
fn suggestions(e: &Exposure, roster: Option<&Roster>) -> Vec<String> {
    let mut list: Vec<String> = Vec::new();
    let authors = e.occurrences.iter().filter_map(|o| o.email.clone());
    for s in e.codeowners.iter().cloned().chain(authors) {
        if list.contains(&s) {
            continue;
        }
        let gone =
            roster.is_some_and(|r| r.presence(&Identity::classify(&s, None)) == Presence::Absent);
        if !gone {
            list.push(s);
        }
    }
    list
}

/// Run the audit.
pub fn audit(
    exposures: Vec<Exposure>,
    records: Vec<InventoryRecord>,
    roster: Option<&Roster>,
    policy: &Policy,
    now: i64,
) -> Audit {
    let mut merged = merge_records(records);
    let mut by_fp: HashMap<Fingerprint, usize> = HashMap::new();
    let mut by_id: HashMap<String, usize> = HashMap::new();
    for (i, m) in merged.iter().enumerate() {
        if let Some(f) = m.record.fingerprint {
            by_fp.entry(f).or_insert(i);
        }
        if let Some(k) = &m.record.key_id {
            by_id.entry(k.clone()).or_insert(i);
        }
    }
    let hints = HintIndex::new(&merged);

    let mut credentials = Vec::with_capacity(exposures.len());
    for e in exposures {
        let mut cred = AuditedCredential {
            record: None,
            matched_by: None,
            candidates: Vec::new(),
            hits: Vec::new(),
            suggested_owners: suggestions(&e, roster),
            attestation: None,
            exposure: e,
        };
        let weak: Vec<(usize, usize)> = match tie(&cred.exposure, &merged, &by_fp, &by_id, &hints) {
            Tie::Record(i, how) => {
                cred.record = Some(i);
                cred.matched_by = Some(how);
                Vec::new()
            }
            Tie::Candidates(c) => {
                cred.candidates = c.iter().map(|(i, _)| *i).collect();
                c
            }
            Tie::None => Vec::new(),
        };
        let e = &cred.exposure;

        let places: Vec<String> = e
            .occurrences
            .iter()
            .take(3)
            .map(|o| format!("{}:{}", o.path, o.line))
            .collect();
        let more = e.occurrences.len().saturating_sub(3);
        let mut exposed = hit(
            Category::Exposed,
            format!(
                "{} found in {} place{}: {}{}",
                e.title,
                e.occurrences.len(),
                if e.occurrences.len() == 1 { "" } else { "s" },
                places.join(", "),
                if more > 0 {
                    format!(" and {more} more")
                } else {
                    String::new()
                }
            ),
        );
        exposed.severity = e.severity;
        if e.kind == Kind::AdminKey {
            exposed.nhi.push("NHI5");
        }
        cred.hits.push(exposed);
        match cred.record {
            None if weak.is_empty() => cred.hits.push(hit(
                Category::Uninventoried,
                "no inventory record matches its fingerprint, key id or hint".into(),
            )),
            None => {
                let ids: Vec<String> = weak
                    .iter()
                    .map(|&(i, random)| {
                        format!(
                            "{} ({}, {random} random character{} agree)",
                            merged[i].record.id,
                            merged[i].record.source,
                            if random == 1 { "" } else { "s" }
                        )
                    })
                    .collect();
                let why = if weak.len() == 1 {
                    format!(
                        "its hint fits one record, on fewer than {MIN_RANDOM_CHARS} random characters: not attributed"
                    )
                } else {
                    format!("its hint fits {} records", weak.len())
                };
                cred.hits.push(hit(
                    Category::Ambiguous,
                    format!("{why}: {}", ids.join("; ")),
                ));
            }
            Some(i) => {
                merged[i].found = true;
                let r = &merged[i].record;
                // Every hygiene category of its record, `missing_purpose` and `no_expiry`
                // included: a key found in code is bound to a purpose and an expiry no less
                // than one found nowhere (DESIGN: inventory hygiene is reported "even when
                // nothing was found in code", not only then).
                cred.hits.extend(record_hits(r, roster, policy, now));
                if let Some(why) = dead_evidence(r, now) {
                    cred.hits.push(hit(Category::RevokedButPresent, why));
                }
                if !r.scope.is_empty() {
                    let outside = e
                        .occurrences
                        .iter()
                        .find(|o| !r.scope.iter().any(|g| scope_matches(g, o)));
                    if let Some(o) = outside {
                        cred.hits.push(hit(
                            Category::OutOfScope,
                            format!(
                                "{}:{} is outside its scope ({}; {})",
                                o.path,
                                o.line,
                                r.scope.join(", "),
                                r.fact_source("scope")
                            ),
                        ));
                    }
                } else if let Some(env) = &r.environment {
                    let want = normalise_env(env);
                    let other = e.occurrences.iter().find(|o| {
                        env_of_path(&o.path)
                            .is_some_and(|p| p != want && ENVIRONMENTS.contains(&want.as_str()))
                    });
                    if let Some(o) = other {
                        cred.hits.push(hit(
                            Category::OutOfScope,
                            format!(
                                "a {env} key found in {}:{}, a {} path",
                                o.path,
                                o.line,
                                env_of_path(&o.path).unwrap_or("other")
                            ),
                        ));
                    }
                }
            }
        }
        let origins: HashSet<&str> = e.occurrences.iter().map(|o| o.origin.as_str()).collect();
        if origins.len() >= 2 {
            let mut o: Vec<&str> = origins.into_iter().collect();
            o.sort_unstable();
            cred.hits.push(hit(
                Category::Shared,
                format!("the same secret is in {} places: {}", o.len(), o.join(", ")),
            ));
        }
        let provider = cred
            .record
            .and_then(|i| merged[i].record.provider.clone())
            .unwrap_or_else(|| cred.exposure.provider.clone());
        if let Some(h) = provider_hits(&provider, policy) {
            cred.hits.push(h);
        }
        // What the provider (`--validate`) and the token itself say.
        let facts = liveness::facts_of(&cred.exposure, now);
        let rec = cred.record.map(|i| &*merged[i].record);
        liveness::apply(&mut cred.hits, &cred.exposure, rec, &facts, policy, now);
        for (shown, id) in liveness::holder_suggestions(&facts, &cred.exposure) {
            let gone = roster.is_some_and(|r| r.presence(&id) == Presence::Absent);
            if !gone && !cred.suggested_owners.contains(&shown) {
                cred.suggested_owners.push(shown);
            }
        }
        credentials.push(cred);
    }

    // Hygiene of records found nowhere.
    for m in merged.iter_mut().filter(|m| !m.found) {
        m.hits = record_hits(&m.record, roster, policy, now);
        if let Some(p) = &m.record.provider {
            if let Some(h) = provider_hits(p, policy) {
                if hygiene::is_live(&m.record, now) {
                    m.hits.push(h);
                }
            }
        }
    }

    // Worst first: a revoked key that still works before anything else.
    let live_revoked = |c: &AuditedCredential| {
        c.hits
            .iter()
            .any(|h| h.category == Category::RevokedButLive)
    };
    credentials.sort_by(|a, b| {
        live_revoked(b)
            .cmp(&live_revoked(a))
            .then_with(|| b.severity().cmp(&a.severity()))
            .then_with(|| a.exposure.fingerprint.cmp(&b.exposure.fingerprint))
    });
    Audit {
        now,
        credentials,
        records: merged,
    }
}

/// Count of credentials and records per category.
pub fn category_counts(a: &Audit) -> BTreeMap<Category, usize> {
    let mut counts = BTreeMap::new();
    for c in &a.credentials {
        let cats: HashSet<Category> = c.hits.iter().map(|h| h.category).collect();
        for cat in cats {
            *counts.entry(cat).or_default() += 1;
        }
    }
    for r in &a.records {
        let cats: HashSet<Category> = r.hits.iter().map(|h| h.category).collect();
        for cat in cats {
            *counts.entry(cat).or_default() += 1;
        }
    }
    counts
}

/// The worst severity anywhere in the audit, leaving out items whose attestation holds.
pub fn worst(a: &Audit) -> Option<Severity> {
    a.credentials
        .iter()
        .filter(|c| !attest::holds(c.attestation.as_ref()))
        .flat_map(|c| c.hits.iter())
        .chain(
            a.records
                .iter()
                .filter(|r| !attest::holds(r.attestation.as_ref()))
                .flat_map(|r| r.hits.iter()),
        )
        .map(|h| h.severity)
        .max()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::{Hint, Status};

    const NOW: i64 = 1_750_000_000;
    const DAY: i64 = 86_400;

    fn record(id: &str) -> InventoryRecord {
        InventoryRecord {
            id: id.into(),
            provider: Some("openai".into()),
            owner: Some("a@example.com".into()),
            owners: vec![Identity::classify("a@example.com", None)],
            purpose: Some("x".into()),
            status: Status::Active,
            format: "native-json",
            source: format!("t#{id}"),
            ..InventoryRecord::default()
        }
    }

    fn exposure(secret: &str) -> Exposure {
        Exposure {
            fingerprint: Fingerprint::of(secret.as_bytes()),
            rule: "openai.project-key".into(),
            title: "OpenAI project API key".into(),
            provider: "openai".into(),
            kind: Kind::ApiKey,
            severity: Severity::High,
            redacted: "sk-proj-…".to_string() + &secret[secret.len() - 4..],
            hint: crate::inventory::hint::vendor_hint("openai", secret.as_bytes()),
            key_id: None,
            revoke: None,
            codeowners: Vec::new(),
            validation: None,
            expiry: None,
            lifetime: None,
            occurrences: vec![Occurrence {
                origin: "repo".into(),
                path: "a.py".into(),
                line: 1,
                source: "file".into(),
                commit: None,
                author: None,
                email: None,
                date: None,
            }],
        }
    }

    fn cats_of_record(r: InventoryRecord) -> Vec<Category> {
        record_hits(&r, None, &Policy::default(), NOW)
            .into_iter()
            .map(|h| h.category)
            .collect()
    }

    #[test]
    fn stale_and_its_negative() {
        let mut r = record("k");
        r.usage_known = true;
        r.last_used_at = Some(NOW - DAY);
        assert!(!cats_of_record(r.clone()).contains(&Category::Stale));
        r.last_used_at = Some(NOW - 91 * DAY);
        assert!(cats_of_record(r.clone()).contains(&Category::Stale));
        r.last_used_at = None;
        assert!(
            cats_of_record(r.clone()).contains(&Category::Stale),
            "never used"
        );
        r.usage_known = false;
        assert!(
            !cats_of_record(r).contains(&Category::Stale),
            "usage unknown"
        );
    }

    #[test]
    fn expired_and_its_negative() {
        let mut r = record("k");
        r.expires_at = Some(NOW + DAY);
        assert!(!cats_of_record(r.clone()).contains(&Category::Expired));
        r.expires_at = Some(NOW - DAY);
        assert!(cats_of_record(r.clone()).contains(&Category::Expired));
        r.status = Status::Revoked;
        assert!(
            !cats_of_record(r).contains(&Category::Expired),
            "already revoked"
        );
    }

    #[test]
    fn orphaned_long_lived_review_past_purpose() {
        let mut r = record("k");
        assert!(!cats_of_record(r.clone()).contains(&Category::Orphaned));
        r.set_owners(Vec::new());
        assert!(cats_of_record(r.clone()).contains(&Category::Orphaned));
        let mut r = record("k");
        let roster = Roster::from_rows(
            [[("email".to_string(), "b@example.com".to_string())]
                .into_iter()
                .collect()],
            "people.csv",
        );
        let hits = record_hits(&r, Some(&roster), &Policy::default(), NOW);
        assert!(hits
            .iter()
            .any(|h| h.category == Category::Orphaned && h.evidence.contains("roster")));
        r.created_at = Some(NOW - 400 * DAY);
        assert!(cats_of_record(r.clone()).contains(&Category::LongLived));
        r.expires_at = Some(NOW + 30 * DAY);
        assert!(
            !cats_of_record(r.clone()).contains(&Category::LongLived),
            "has an expiry"
        );
        r.review_due = Some(NOW - DAY);
        assert!(cats_of_record(r.clone()).contains(&Category::ReviewOverdue));
        r.review_due = Some(NOW + DAY);
        assert!(!cats_of_record(r.clone()).contains(&Category::ReviewOverdue));
        r.status = Status::Retired;
        r.register_status = Some(Status::Retired);
        assert!(cats_of_record(r).contains(&Category::PastPurpose));
    }

    #[test]
    fn matching_strength_and_ambiguity() {
        let secret = format!("sk-proj-{}T3BlbkFJ{}WXYZ", "a".repeat(20), "b".repeat(20));
        let mut by_hint = record("hint");
        by_hint.hint = Hint::parse("sk-proj-aa...WXYZ");
        let mut by_fp = record("fp");
        by_fp.fingerprint = Some(Fingerprint::of(secret.as_bytes()));
        let p = Policy::default();
        // Fingerprint beats hint.
        let a = audit(
            vec![exposure(&secret)],
            vec![by_hint.clone(), by_fp],
            None,
            &p,
            NOW,
        );
        assert_eq!(a.credentials[0].matched_by, Some(MatchedBy::Fingerprint));
        // One fitting OpenAI hint rests on 4 random characters: ambiguous, not attributed
        // (a shadow key with the same last 4 would fit just as well).
        let a = audit(
            vec![exposure(&secret)],
            vec![by_hint.clone()],
            None,
            &p,
            NOW,
        );
        let c = &a.credentials[0];
        assert_eq!((c.record, c.candidates.len()), (None, 1));
        assert!(c.hits.iter().any(|h| h.category == Category::Ambiguous
            && h.evidence.contains("4 random characters agree")));
        // A GitHub token_last_eight rests on 8: attributed.
        let gh = format!("ghp_{}", "Q".repeat(28) + "a1b2c3d4");
        let mut e = exposure(&gh);
        e.provider = "github".into();
        e.hint = crate::inventory::hint::vendor_hint("github", gh.as_bytes());
        let mut rec = record("gh");
        rec.provider = Some("github".into());
        rec.hint = Hint::suffix("a1b2c3d4");
        let a = audit(vec![e], vec![rec], None, &p, NOW);
        assert_eq!(a.credentials[0].matched_by, Some(MatchedBy::Hint));
        // Two fitting: ambiguous, listing both, never picking one.
        let mut other = record("hint2");
        other.hint = Hint::parse("sk-proj-...WXYZ");
        let a = audit(vec![exposure(&secret)], vec![by_hint, other], None, &p, NOW);
        let c = &a.credentials[0];
        assert_eq!(c.record, None);
        let amb = c
            .hits
            .iter()
            .find(|h| h.category == Category::Ambiguous)
            .unwrap();
        assert!(amb.evidence.contains("hint") && amb.evidence.contains("hint2"));
        // A hint whose suffix differs does not fit.
        let mut wrong = record("wrong");
        wrong.hint = Hint::parse("sk-proj-aa...ABCD");
        let a = audit(vec![exposure(&secret)], vec![wrong], None, &p, NOW);
        assert!(a.credentials[0]
            .hits
            .iter()
            .any(|h| h.category == Category::Uninventoried));
    }

    #[test]
    fn shared_out_of_scope_unapproved() {
        let secret = format!("sk-proj-{}T3BlbkFJ{}WXYZ", "c".repeat(20), "d".repeat(20));
        let mut e = exposure(&secret);
        let mut second = e.occurrences[0].clone();
        second.origin = "other-repo".into();
        e.occurrences.push(second);
        let mut r = record("r");
        r.fingerprint = Some(e.fingerprint);
        r.scope = vec!["infra/**".into()];
        let p = Policy {
            approved_providers: vec!["anthropic".into()],
            ..Policy::default()
        };
        let a = audit(vec![e], vec![r], None, &p, NOW);
        let cats: Vec<Category> = a.credentials[0].hits.iter().map(|h| h.category).collect();
        for c in [
            Category::Shared,
            Category::OutOfScope,
            Category::UnapprovedProvider,
        ] {
            assert!(cats.contains(&c), "{c:?} in {cats:?}");
        }
        // In scope, one origin, approved: none of the three.
        let e = exposure(&secret);
        let mut r = record("r");
        r.fingerprint = Some(e.fingerprint);
        r.scope = vec!["*.py".into()];
        r.expires_at = Some(NOW + DAY);
        let a = audit(vec![e], vec![r], None, &Policy::default(), NOW);
        let cats: Vec<Category> = a.credentials[0].hits.iter().map(|h| h.category).collect();
        assert_eq!(cats, [Category::Exposed]);
    }

    /// Regression: a register row found in code with no purpose or no expiry lost
    /// `missing_purpose` / `no_expiry` (they were kept only for records found nowhere).
    #[test]
    fn a_found_register_row_keeps_missing_purpose_and_no_expiry() {
        let secret = format!("sk-proj-{}T3BlbkFJ{}MNOP", "g".repeat(20), "h".repeat(20));
        let cats = |r: InventoryRecord| -> Vec<Category> {
            let a = audit(
                vec![exposure(&secret)],
                vec![r],
                None,
                &Policy::default(),
                NOW,
            );
            assert!(a.records[0].found);
            a.credentials[0].hits.iter().map(|h| h.category).collect()
        };
        let mut r = record("r");
        r.fingerprint = Some(Fingerprint::of(secret.as_bytes()));
        r.expires_at = Some(NOW + DAY);
        assert_eq!(cats(r.clone()), [Category::Exposed]);
        r.purpose = None;
        assert_eq!(
            cats(r.clone()),
            [Category::Exposed, Category::MissingPurpose]
        );
        r.purpose = Some("x".into());
        r.expires_at = None;
        assert_eq!(cats(r.clone()), [Category::Exposed, Category::NoExpiry]);
        // A vendor listing is not a register: no purpose field to miss.
        r.format = "openai";
        r.purpose = None;
        assert_eq!(cats(r), [Category::Exposed]);
    }

    #[test]
    fn uninventoried_and_revoked_but_present() {
        let secret = format!("sk-proj-{}T3BlbkFJ{}QRST", "e".repeat(20), "f".repeat(20));
        let a = audit(
            vec![exposure(&secret)],
            vec![],
            None,
            &Policy::default(),
            NOW,
        );
        let cats: Vec<Category> = a.credentials[0].hits.iter().map(|h| h.category).collect();
        assert_eq!(cats, [Category::Exposed, Category::Uninventoried]);
        let mut r = record("r");
        r.fingerprint = Some(Fingerprint::of(secret.as_bytes()));
        for (status, fires) in [
            (Status::Revoked, true),
            (Status::Inactive, true),
            (Status::Active, false),
        ] {
            r.status = status;
            let a = audit(
                vec![exposure(&secret)],
                vec![r.clone()],
                None,
                &Policy::default(),
                NOW,
            );
            let has = a.credentials[0]
                .hits
                .iter()
                .any(|h| h.category == Category::RevokedButPresent);
            assert_eq!(has, fires, "{status:?}");
        }
    }

    #[test]
    fn vendor_listing_merges_into_register_record() {
        let mut reg = record("reg");
        reg.key_id = Some("AKIAEXAMPLEKEYID0001".into());
        reg.provider = Some("aws".into());
        let vendor = InventoryRecord {
            id: "AKIAEXAMPLEKEYID0001".into(),
            key_id: Some("AKIAEXAMPLEKEYID0001".into()),
            status: Status::Inactive,
            last_used_at: Some(NOW - DAY),
            usage_known: true,
            format: "aws-access-keys",
            source: "aws.json#0".into(),
            ..InventoryRecord::default()
        };
        let merged = merge_records(vec![vendor, reg]);
        assert_eq!(merged.len(), 1);
        let m = &merged[0];
        assert_eq!(m.record.owner.as_deref(), Some("a@example.com"));
        assert_eq!(m.record.status, Status::Inactive);
        assert_eq!(m.record.last_used_at, Some(NOW - DAY));
        assert_eq!(m.sources.len(), 2);
    }
}
