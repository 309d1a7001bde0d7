//! The audit, a pure function: exposures (secrets found, with their occurrences) ×
//! inventory records × roster × policy × now → each credential with the record it matched
//! and its lifecycle categories, each with evidence, a severity and the OWASP Non-Human
//! Identity Top 10 item it maps to; plus hygiene findings for records found nowhere.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::{Deserialize, Serialize};

mod category;
mod matching;

use category::hit;
pub use category::{Category, Hit};
pub use matching::merge_records;
use matching::{hint_fits, known_ends, last4, providers_agree};

use crate::{
    finding::Fingerprint,
    inventory::{InventoryRecord, Status},
    rules::{Kind, Severity},
};

/// One place a secret was found.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Occurrence {
    /// The report, scanned root or repository it came from (for `shared`).
    pub origin: String,
    pub path: String,
    pub line: u64,
    pub source: String,
    pub commit: Option<String>,
    pub author: Option<String>,
    pub email: Option<String>,
    pub date: Option<String>,
}

/// One secret found by a scan, with every place it was found.
#[derive(Debug, Clone)]
pub struct Exposure {
    pub fingerprint: Fingerprint,
    pub rule: String,
    pub title: String,
    pub provider: String,
    pub kind: Kind,
    pub severity: Severity,
    pub redacted: String,
    pub key_id: Option<String>,
    /// The secret itself, when the audit ran the scan in-process (never serialised).
    pub secret: Option<Vec<u8>>,
    pub occurrences: Vec<Occurrence>,
    /// The highest confidence among its findings (unknown for reports of earlier versions).
    pub confidence: Option<crate::rules::Confidence>,
}

/// Audit policy (`[audit]` in sprawl.toml).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Policy {
    pub stale_after_days: i64,
    pub max_age_days: i64,
    /// Providers allowed; empty means every provider.
    pub approved_providers: Vec<String>,
    /// Vendors the organisation has left.
    pub retired_providers: Vec<String>,
    /// Lowest severity that makes `sprawl audit` exit 1.
    pub fail_on: Option<Severity>,
}

impl Default for Policy {
    fn default() -> Policy {
        Policy {
            stale_after_days: 90,
            max_age_days: 365,
            approved_providers: Vec::new(),
            retired_providers: Vec::new(),
            fail_on: None,
        }
    }
}

/// How a credential was tied to its record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchedBy {
    Fingerprint,
    KeyId,
    Hint,
}

/// A credential found in code, audited.
#[derive(Debug, Clone)]
pub struct AuditedCredential {
    pub exposure: Exposure,
    /// Index into `Audit::records`.
    pub record: Option<usize>,
    pub matched_by: Option<MatchedBy>,
    /// Records whose hint fits (more than one: ambiguous).
    pub candidates: Vec<usize>,
    pub hits: Vec<Hit>,
    pub suggested_owners: Vec<String>,
}

impl AuditedCredential {
    pub fn severity(&self) -> Severity {
        self.hits
            .iter()
            .map(|h| h.severity)
            .max()
            .unwrap_or(Severity::Info)
    }
}

/// An inventory record (after merging the exports that describe the same key).
#[derive(Debug, Clone)]
pub struct AuditedRecord {
    pub record: InventoryRecord,
    /// Every export that described it (`file#index`).
    pub sources: Vec<String>,
    /// Whether any finding matched it.
    pub found: bool,
    /// Hygiene categories (for records found nowhere; a found record's categories sit on
    /// its credential).
    pub hits: Vec<Hit>,
}

#[derive(Debug, Clone)]
pub struct Audit {
    pub now: i64,
    pub credentials: Vec<AuditedCredential>,
    pub records: Vec<AuditedRecord>,
}

/// Emails (lower case) of the people still present.
pub type Roster = HashSet<String>;

fn day(t: i64) -> String {
    crate::time::day(t)
}

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

/// Hygiene of a record itself: owner, purpose, expiry, usage, age, review.
fn record_hits(
    r: &InventoryRecord,
    roster: Option<&Roster>,
    policy: &Policy,
    now: i64,
) -> Vec<Hit> {
    let mut hits = Vec::new();
    match &r.owner {
        None => hits.push(hit(Category::Orphaned, "the record has no owner".into())),
        Some(o) => {
            if let Some(roster) = roster {
                if !roster.contains(&o.to_ascii_lowercase()) {
                    hits.push(hit(
                        Category::Orphaned,
                        format!("owner {o} is not on the roster"),
                    ));
                }
            }
        }
    }
    let live = r.status.is_live();
    if let Some(exp) = r.expires_at {
        if exp < now && live {
            hits.push(hit(
                Category::Expired,
                format!(
                    "expires_at {} has passed while status is {:?}",
                    day(exp),
                    r.status
                )
                .to_lowercase(),
            ));
        }
    }
    if r.status == Status::Retired {
        hits.push(hit(
            Category::PastPurpose,
            "status is retired but the key has not been revoked".into(),
        ));
    }
    if live && r.usage_known {
        let limit = policy.stale_after_days * 86_400;
        match r.last_used_at {
            None => hits.push(hit(Category::Stale, "never used".into())),
            Some(t) if now - t > limit => hits.push(hit(
                Category::Stale,
                format!(
                    "last used {} ({} days ago; stale_after_days = {})",
                    day(t),
                    (now - t) / 86_400,
                    policy.stale_after_days
                ),
            )),
            _ => {}
        }
    }
    if live && r.expires_at.is_none() {
        if let Some(c) = r.created_at {
            if now - c > policy.max_age_days * 86_400 {
                hits.push(hit(
                    Category::LongLived,
                    format!(
                        "created {} ({} days ago; max_age_days = {}) and has no expiry",
                        day(c),
                        (now - c) / 86_400,
                        policy.max_age_days
                    ),
                ));
            }
        }
    }
    if let Some(d) = r.review_due {
        if d < now && live {
            hits.push(hit(
                Category::ReviewOverdue,
                format!("review_due {} has passed", day(d)),
            ));
        }
    }
    if r.format.starts_with("native") && live {
        if r.purpose.is_none() {
            hits.push(hit(
                Category::MissingPurpose,
                "the record has no purpose".into(),
            ));
        }
        if r.expires_at.is_none() {
            hits.push(hit(
                Category::NoExpiry,
                "the record has no expires_at".into(),
            ));
        }
    }
    hits
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

/// Run the audit.
pub fn audit(
    exposures: Vec<Exposure>,
    records: &[InventoryRecord],
    roster: Option<&Roster>,
    policy: &Policy,
    now: i64,
    suggested_owners: &HashMap<Fingerprint, Vec<String>>,
) -> Audit {
    let mut merged = merge_records(records);
    // Indexes for the three ways to match, strongest first.
    let mut by_fp: HashMap<Fingerprint, usize> = HashMap::new();
    let mut by_id: HashMap<String, usize> = HashMap::new();
    let mut by_last4: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, m) in merged.iter().enumerate() {
        if let Some(f) = m.record.fingerprint {
            by_fp.entry(f).or_insert(i);
        }
        if let Some(k) = &m.record.key_id {
            by_id.entry(k.clone()).or_insert(i);
        }
        if let Some(h) = &m.record.hint {
            by_last4.entry(last4(&h.suffix)).or_default().push(i);
        }
    }

    let mut credentials = Vec::with_capacity(exposures.len());
    for e in exposures {
        let mut cred = AuditedCredential {
            record: None,
            matched_by: None,
            candidates: Vec::new(),
            hits: Vec::new(),
            suggested_owners: suggested_owners
                .get(&e.fingerprint)
                .cloned()
                .unwrap_or_default(),
            exposure: e,
        };
        let e = &cred.exposure;
        if let Some(&i) = by_fp.get(&e.fingerprint) {
            cred.record = Some(i);
            cred.matched_by = Some(MatchedBy::Fingerprint);
        } else if let Some(&i) = e.key_id.as_ref().and_then(|k| by_id.get(k)) {
            cred.record = Some(i);
            cred.matched_by = Some(MatchedBy::KeyId);
        } else {
            let (_, suffix, _) = known_ends(e);
            let mut fits: Vec<usize> = by_last4
                .get(&last4(&suffix))
                .map(|v| {
                    v.iter()
                        .copied()
                        .filter(|&i| {
                            let r = &merged[i].record;
                            providers_agree(r.provider.as_deref(), &e.provider)
                                && r.hint.as_ref().is_some_and(|h| hint_fits(h, e))
                        })
                        .collect()
                })
                .unwrap_or_default();
            fits.sort_unstable();
            fits.dedup();
            match fits.len() {
                0 => {}
                1 => {
                    cred.record = Some(fits[0]);
                    cred.matched_by = Some(MatchedBy::Hint);
                }
                _ => cred.candidates = fits,
            }
        }

        // Categories.
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
        match (cred.record, cred.candidates.is_empty()) {
            (None, true) => cred.hits.push(hit(
                Category::Uninventoried,
                "no inventory record matches its fingerprint, key id or hint".into(),
            )),
            (None, false) => {
                let ids: Vec<&str> = cred
                    .candidates
                    .iter()
                    .map(|&i| merged[i].record.id.as_str())
                    .collect();
                cred.hits.push(hit(
                    Category::Ambiguous,
                    format!("its hint fits {} records: {}", ids.len(), ids.join(", ")),
                ));
            }
            (Some(i), _) => {
                merged[i].found = true;
                let r = &merged[i].record;
                for h in record_hits(r, roster, policy, now) {
                    if !matches!(h.category, Category::MissingPurpose | Category::NoExpiry) {
                        cred.hits.push(h);
                    }
                }
                if !r.status.is_live() {
                    cred.hits.push(hit(
                        Category::RevokedButPresent,
                        format!("status is {:?} at the vendor; still in code", r.status)
                            .to_lowercase(),
                    ));
                }
                if !r.scope.is_empty() {
                    let outside: Vec<&Occurrence> = e
                        .occurrences
                        .iter()
                        .filter(|o| !r.scope.iter().any(|g| scope_matches(g, o)))
                        .collect();
                    if let Some(o) = outside.first() {
                        cred.hits.push(hit(
                            Category::OutOfScope,
                            format!(
                                "{}:{} is outside its scope ({})",
                                o.path,
                                o.line,
                                r.scope.join(", ")
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
        credentials.push(cred);
    }

    // Hygiene of records found nowhere.
    for m in merged.iter_mut().filter(|m| !m.found) {
        m.hits = record_hits(&m.record, roster, policy, now);
        if let Some(p) = &m.record.provider {
            if let Some(h) = provider_hits(p, policy) {
                if m.record.status.is_live() {
                    m.hits.push(h);
                }
            }
        }
    }

    credentials.sort_by(|a, b| {
        b.severity()
            .cmp(&a.severity())
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

/// The worst severity anywhere in the audit.
pub fn worst(a: &Audit) -> Option<Severity> {
    a.credentials
        .iter()
        .flat_map(|c| c.hits.iter())
        .chain(a.records.iter().flat_map(|r| r.hits.iter()))
        .map(|h| h.severity)
        .max()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::Hint;

    const NOW: i64 = 1_750_000_000;
    const DAY: i64 = 86_400;

    fn record(id: &str) -> InventoryRecord {
        InventoryRecord {
            id: id.into(),
            provider: Some("openai".into()),
            owner: Some("a@example.com".into()),
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
            key_id: None,
            secret: Some(secret.as_bytes().to_vec()),
            confidence: None,
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
        r.owner = None;
        assert!(cats_of_record(r.clone()).contains(&Category::Orphaned));
        let mut r = record("k");
        let roster: Roster = ["b@example.com".to_string()].into_iter().collect();
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
        assert!(cats_of_record(r).contains(&Category::PastPurpose));
    }

    #[test]
    fn matching_strength_and_ambiguity() {
        let secret = format!("sk-proj-{}T3BlbkFJ{}WXYZ", "a".repeat(20), "b".repeat(20));
        let mut by_hint = record("hint");
        by_hint.hint = Hint::parse("sk-proj-aa...WXYZ");
        let mut by_fp = record("fp");
        by_fp.fingerprint = Some(Fingerprint::of(secret.as_bytes()));
        let none = HashMap::new();
        let p = Policy::default();
        // Fingerprint beats hint.
        let a = audit(
            vec![exposure(&secret)],
            &[by_hint.clone(), by_fp],
            None,
            &p,
            NOW,
            &none,
        );
        assert_eq!(a.credentials[0].matched_by, Some(MatchedBy::Fingerprint));
        // One fitting hint: matched; two: ambiguous, listing both, never picking one.
        let a = audit(
            vec![exposure(&secret)],
            &[by_hint.clone()],
            None,
            &p,
            NOW,
            &none,
        );
        assert_eq!(a.credentials[0].matched_by, Some(MatchedBy::Hint));
        let mut other = record("hint2");
        other.hint = Hint::parse("sk-proj-...WXYZ");
        let a = audit(
            vec![exposure(&secret)],
            &[by_hint, other],
            None,
            &p,
            NOW,
            &none,
        );
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
        let a = audit(vec![exposure(&secret)], &[wrong], None, &p, NOW, &none);
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
        let a = audit(vec![e], &[r], None, &p, NOW, &HashMap::new());
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
        let a = audit(
            vec![e],
            &[r],
            None,
            &Policy::default(),
            NOW,
            &HashMap::new(),
        );
        let cats: Vec<Category> = a.credentials[0].hits.iter().map(|h| h.category).collect();
        assert_eq!(cats, [Category::Exposed]);
    }

    #[test]
    fn uninventoried_and_revoked_but_present() {
        let secret = format!("sk-proj-{}T3BlbkFJ{}QRST", "e".repeat(20), "f".repeat(20));
        let a = audit(
            vec![exposure(&secret)],
            &[],
            None,
            &Policy::default(),
            NOW,
            &HashMap::new(),
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
                &[r.clone()],
                None,
                &Policy::default(),
                NOW,
                &HashMap::new(),
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
        let merged = merge_records(&[vendor, reg]);
        assert_eq!(merged.len(), 1);
        let m = &merged[0];
        assert_eq!(m.record.owner.as_deref(), Some("a@example.com"));
        assert_eq!(m.record.status, Status::Inactive);
        assert_eq!(m.record.last_used_at, Some(NOW - DAY));
        assert_eq!(m.sources.len(), 2);
    }
}
