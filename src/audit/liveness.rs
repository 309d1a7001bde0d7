//! What the provider and the token itself say, applied to one audited credential: its
//! validation, offline expiry and rule lifetime in (`validate::lifecycle::facts`), its hits
//! adjusted out. A key the inventory calls revoked, expired or retired that the provider
//! still accepts is `revoked_but_live` (critical); a live uninventoried key is critical; a
//! key the provider rejects, or that expired on its own, is a clean-up (low, and says so);
//! a static key in code for longer than `max_age_days` with no expiry is `long_lived`.

use super::{
    category::{hit, Category, Hit},
    hygiene::vendor_expired,
    model::{Exposure, Policy},
};
use crate::{
    inventory::{InventoryRecord, Status},
    rules::Severity,
    time::day,
    validate::lifecycle::{facts, Facts},
};

/// The facts of an exposure at `now`.
pub fn facts_of(e: &Exposure, now: i64) -> Facts {
    facts(
        e.validation.as_ref(),
        e.expiry.as_ref(),
        e.lifetime.unwrap_or_default(),
        now,
    )
}

/// Why the inventory says the key should no longer work, if it does.
fn inventory_says_dead(r: &InventoryRecord, now: i64) -> Option<String> {
    if let Some(s @ (Status::Revoked | Status::Expired | Status::Retired)) = r.register_status {
        return Some(format!("the register says {} ({})", s.as_str(), r.source));
    }
    if !r.status.is_live() {
        return Some(format!(
            "the inventory says {} ({})",
            r.status.as_str(),
            r.fact_source("status")
        ));
    }
    if vendor_expired(r, now) {
        return r.expires_at.map(|t| {
            format!(
                "the vendor expired it on {} ({})",
                day(t),
                r.fact_source("expires_at")
            )
        });
    }
    None
}

/// When the secret was first committed (unix seconds), where history says.
fn first_seen(e: &Exposure) -> Option<(i64, &str)> {
    e.occurrences
        .iter()
        .filter_map(|o| {
            let t = o.date.as_deref().and_then(crate::expiry::parse_time)?;
            Some((t, o.commit.as_deref().unwrap_or("")))
        })
        .min()
}

/// Adjust `hits` (the credential's categories so far) for what is known of its liveness.
pub fn apply(
    hits: &mut Vec<Hit>,
    e: &Exposure,
    record: Option<&InventoryRecord>,
    f: &Facts,
    policy: &Policy,
    now: i64,
) {
    if f.live == Some(true) {
        let said = f.live_evidence.clone().unwrap_or_default();
        if let Some(exposed) = hits.iter_mut().find(|h| h.category == Category::Exposed) {
            exposed.evidence.push_str(&format!("; live: {said}"));
        }
        match record {
            Some(r) => {
                if let Some(dead) = inventory_says_dead(r, now) {
                    // It does not "no longer work": it does.
                    hits.retain(|h| {
                        !matches!(
                            h.category,
                            Category::RevokedButPresent | Category::RevokedButLive
                        )
                    });
                    let mut h = hit(Category::RevokedButLive, format!("{dead}, but {said}"));
                    h.severity = Severity::Critical;
                    hits.insert(0, h);
                }
            }
            None => {
                for h in hits
                    .iter_mut()
                    .filter(|h| h.category == Category::Uninventoried)
                {
                    h.severity = Severity::Critical;
                    h.evidence.push_str(&format!("; and it is live: {said}"));
                }
            }
        }
    }
    let dead = match (f.live, &f.self_expired) {
        (Some(true), _) => None,
        (Some(false), _) => f.live_evidence.clone(),
        (_, Some(why)) => Some(why.clone()),
        _ => None,
    };
    if let Some(why) = dead {
        let note = format!("clean-up, not a live risk: {why}");
        if let Some(h) = hits
            .iter_mut()
            .find(|h| h.category == Category::RevokedButPresent)
        {
            h.evidence.push_str(&format!("; {why}"));
        } else {
            hits.push(hit(Category::RevokedButPresent, note.clone()));
        }
        for h in hits.iter_mut() {
            if h.severity > Severity::Low {
                h.severity = Severity::Low;
            }
            if h.category == Category::Exposed {
                h.evidence.push_str(&format!(" ({note})"));
            }
        }
        return;
    }
    if let Some(why) = &f.static_key {
        let has_age = record.is_some_and(|r| r.created_at.is_some() || r.expires_at.is_some());
        let already = hits.iter().any(|h| h.category == Category::LongLived);
        if let (false, false, Some((t, commit))) = (has_age, already, first_seen(e)) {
            let days = (now - t) / 86_400;
            if now - t > policy.max_age_days * 86_400 {
                hits.push(hit(
                    Category::LongLived,
                    format!(
                        "{why}; in the code since {} ({days} days; max_age_days = {}; commit {})",
                        day(t),
                        policy.max_age_days,
                        &commit[..commit.len().min(10)]
                    ),
                ));
            }
        }
    }
}

/// Owner suggestions from what the provider said holds the key (`login:octo` …): each as a
/// display string and the identity to look up in the roster.
pub fn holder_suggestions(f: &Facts, e: &Exposure) -> Vec<(String, crate::inventory::Identity)> {
    use crate::inventory::{identity::IdentityKind, Identity};
    let validator = e
        .validation
        .as_ref()
        .map(|v| v.validator.as_str())
        .unwrap_or("");
    f.holders
        .iter()
        .filter_map(|h| {
            let (key, value) = h.split_once(':')?;
            let (kind, shown) = match key {
                "login" => (IdentityKind::Login, format!("@{value}")),
                "email" => (IdentityKind::Email, value.to_string()),
                "team" | "org" => (IdentityKind::Team, format!("{key} {value}")),
                "account" | "arn" => (IdentityKind::CloudPrincipal, format!("{key} {value}")),
                _ => (IdentityKind::Login, format!("{key} {value}")),
            };
            let id = Identity::new(kind, value, Some(&e.provider));
            Some((format!("{shown} (validator {validator})"), id))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        audit::Occurrence,
        finding::Fingerprint,
        rules::{Kind, Lifetime},
        validate::{Status as V, Validation},
    };

    const NOW: i64 = 1_750_000_000;

    fn exposure(status: Option<V>) -> Exposure {
        Exposure {
            fingerprint: Fingerprint::of(b"x"),
            rule: "github.pat-classic".into(),
            title: "t".into(),
            provider: "github".into(),
            kind: Kind::Token,
            severity: Severity::High,
            redacted: "ghp_…x".into(),
            hint: None,
            key_id: None,
            revoke: None,
            codeowners: Vec::new(),
            occurrences: vec![Occurrence {
                origin: "r".into(),
                path: "a".into(),
                line: 1,
                source: "git".into(),
                commit: Some("abcdef1234567".into()),
                author: None,
                email: None,
                date: Some("2020-01-01T00:00:00Z".into()),
            }],
            validation: status.map(|status| Validation {
                status,
                checked_at: "2025-06-01T00:00:00Z".into(),
                validator: "github".into(),
                http_status: Some(200),
                identity: [("login".to_string(), "octo".to_string())].into(),
                message: None,
            }),
            expiry: None,
            lifetime: Some(Lifetime::Static),
        }
    }

    fn run(e: &Exposure, r: Option<&InventoryRecord>, start: Vec<Hit>) -> Vec<Hit> {
        let mut hits = start;
        apply(&mut hits, e, r, &facts_of(e, NOW), &Policy::default(), NOW);
        hits
    }

    #[test]
    fn revoked_but_live_clean_up_critical_and_long_lived() {
        let revoked = InventoryRecord {
            status: Status::Revoked,
            ..InventoryRecord::default()
        };
        let present = hit(Category::RevokedButPresent, "x".into());
        let h = run(&exposure(Some(V::Valid)), Some(&revoked), vec![present]);
        assert_eq!(h[0].category, Category::RevokedButLive);
        assert_eq!(h[0].severity, Severity::Critical);
        assert!(!h.iter().any(|h| h.category == Category::RevokedButPresent));

        let un = hit(Category::Uninventoried, "none".into());
        let h = run(&exposure(Some(V::Valid)), None, vec![un.clone()]);
        assert_eq!(h[0].severity, Severity::Critical);

        let h = run(&exposure(Some(V::Invalid)), None, vec![un.clone()]);
        assert!(h.iter().all(|h| h.severity == Severity::Low));
        assert!(h
            .iter()
            .any(|h| h.category == Category::RevokedButPresent && h.evidence.contains("clean-up")));

        // Unknown validation: a static key committed years ago is long-lived.
        let h = run(&exposure(Some(V::Unknown)), None, vec![un.clone()]);
        assert!(h.iter().any(|h| h.category == Category::LongLived));
        let mut short = exposure(None);
        short.lifetime = Some(Lifetime::ShortLived);
        assert!(!run(&short, None, vec![un])
            .iter()
            .any(|h| h.category == Category::LongLived));
    }
}
