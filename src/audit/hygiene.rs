//! Hygiene of one record: owners (like with like against the roster), machine identities
//! with no human owner, team moves, expiry (vendor-enforced or register-set), purpose,
//! usage, age, review, and what the vendor itself flagged. Every evidence names the export.

use super::{
    category::{hit, Category, Hit},
    model::Policy,
};
use crate::{
    inventory::{
        identity::{Person, Presence},
        Identity, InventoryRecord, Roster, Status, VendorFlag,
    },
    rules::Severity,
    time::day,
};

/// Whether the key still works, as far as the exports know (a vendor-enforced expiry that
/// passed means it does not).
pub fn is_live(r: &InventoryRecord, now: i64) -> bool {
    r.status.is_live() && !vendor_expired(r, now)
}

pub fn vendor_expired(r: &InventoryRecord, now: i64) -> bool {
    r.expiry_enforced && r.expires_at.is_some_and(|e| e < now)
}

fn team_key(t: &str) -> String {
    let t = t.trim().trim_start_matches('@').to_ascii_lowercase();
    let t = t.rsplit('/').next().unwrap_or(&t).to_string();
    t.split('@').next().unwrap_or(&t).to_string()
}

/// Owner categories: orphaned (like with like), unowned_machine_identity, owner_moved.
fn owner_hits(r: &InventoryRecord, roster: Option<&Roster>, hits: &mut Vec<Hit>) {
    let humans: Vec<&Identity> = r.owners.iter().filter(|o| o.kind.is_human()).collect();
    let machines: Vec<&Identity> = r
        .principal
        .iter()
        .chain(r.owners.iter().filter(|o| !o.kind.is_human()))
        .collect();
    let owner_src = r.fact_source("owner");
    // A machine identity the roster ties to a person has that person as its owner.
    let machine_people: Vec<&Person> = machines
        .iter()
        .filter_map(|m| match roster.map(|ro| ro.presence(m)) {
            Some(Presence::Present(Some(p))) => Some(p),
            _ => None,
        })
        .collect();
    if humans.is_empty() && machine_people.is_empty() {
        match machines.first() {
            Some(m) => hits.push(hit(
                Category::UnownedMachineIdentity,
                format!(
                    "held by {m} ({}) with no human owner in any export{}",
                    r.fact_source("principal"),
                    if roster.is_some() {
                        " or the roster"
                    } else {
                        ""
                    }
                ),
            )),
            None => hits.push(hit(
                Category::Orphaned,
                format!("no export names an owner ({})", r.source),
            )),
        }
    } else if let Some(ro) = roster {
        let looked: Vec<(&Identity, Presence)> =
            humans.iter().map(|h| (*h, ro.presence(h))).collect();
        let present = looked
            .iter()
            .any(|(_, p)| matches!(p, Presence::Present(_)))
            || !machine_people.is_empty();
        let absent: Vec<String> = looked
            .iter()
            .filter(|(_, p)| *p == Presence::Absent)
            .map(|(i, _)| i.to_string())
            .collect();
        if !present && !absent.is_empty() {
            hits.push(hit(
                Category::Orphaned,
                format!(
                    "owner {} ({owner_src}) is not on the roster ({}, compared like with like)",
                    absent.join(", "),
                    ro.source
                ),
            ));
        }
        if let Some(team) = &r.team {
            for (id, p) in &looked {
                if let Presence::Present(Some(person)) = p {
                    if let Some(now_in) = &person.team {
                        if team_key(now_in) != team_key(team) {
                            hits.push(hit(
                                Category::OwnerMoved,
                                format!(
                                    "owner {} is now in team {now_in} ({}), the credential belongs to team {team} ({})",
                                    id.value,
                                    ro.source,
                                    r.fact_source("team")
                                ),
                            ));
                            break;
                        }
                    }
                }
            }
        }
    }
    if r.vendor_flags.contains(&VendorFlag::OwnerAccessInactive) {
        hits.push(hit(
            Category::Orphaned,
            format!(
                "the vendor says its owner's project access is inactive ({})",
                r.source
            ),
        ));
    }
}

/// Hygiene of a record itself.
pub fn record_hits(
    r: &InventoryRecord,
    roster: Option<&Roster>,
    policy: &Policy,
    now: i64,
) -> Vec<Hit> {
    let mut hits = Vec::new();
    if r.vendor_flags.contains(&VendorFlag::ExposureDetected) {
        let mut h = hit(
            Category::Exposed,
            format!(
                "the vendor disabled it because it detected the key exposed or compromised \
                 (disableReason, {})",
                r.source
            ),
        );
        h.severity = Severity::Critical;
        hits.push(h);
    }
    owner_hits(r, roster, &mut hits);
    let live = is_live(r, now);
    if let Some(exp) = r.expires_at {
        if exp < now && live && !r.expiry_enforced {
            hits.push(hit(
                Category::Expired,
                format!(
                    "expires_at {} ({}) has passed while the status is {} ({})",
                    day(exp),
                    r.fact_source("expires_at"),
                    r.status.as_str(),
                    r.fact_source("status"),
                ),
            ));
        }
    }
    match (r.register_status, r.vendor_status) {
        (Some(Status::Retired), v) if live && v != Some(Status::Inactive) => hits.push(hit(
            Category::PastPurpose,
            match v {
                Some(v) => format!(
                    "the register says retired ({}), the vendor says {} ({})",
                    r.source,
                    v.as_str(),
                    r.fact_source("vendor_status")
                ),
                None => format!(
                    "the register says retired ({}) but it has not been revoked",
                    r.source
                ),
            },
        )),
        (Some(reg @ (Status::Revoked | Status::Expired)), Some(Status::Active)) if live => hits
            .push(hit(
                Category::RevokedButLive,
                format!(
                    "the register says {} ({}), the vendor still lists it active ({})",
                    reg.as_str(),
                    r.source,
                    r.fact_source("vendor_status")
                ),
            )),
        _ => {}
    }
    if live && r.usage_known {
        let limit = policy.stale_after_days * 86_400;
        let src = r.fact_source("last_used_at");
        match r.last_used_at {
            None => hits.push(hit(Category::Stale, format!("never used ({src})"))),
            Some(t) if now - t > limit => hits.push(hit(
                Category::Stale,
                format!(
                    "last used {} ({} days ago; stale_after_days = {}; {src})",
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
                        "created {} ({} days ago; max_age_days = {}; {}) and has no expiry",
                        day(c),
                        (now - c) / 86_400,
                        policy.max_age_days,
                        r.fact_source("created_at")
                    ),
                ));
            }
        }
    }
    if let Some(d) = r.review_due {
        if d < now && live {
            hits.push(hit(
                Category::ReviewOverdue,
                format!(
                    "review_due {} has passed ({})",
                    day(d),
                    r.fact_source("review_due")
                ),
            ));
        }
    }
    if r.is_register() && live {
        if r.purpose.is_none() {
            hits.push(hit(
                Category::MissingPurpose,
                format!("the record has no purpose ({})", r.source),
            ));
        }
        if r.expires_at.is_none() {
            hits.push(hit(
                Category::NoExpiry,
                format!("the record has no expires_at ({})", r.source),
            ));
        }
    }
    hits
}

/// Why a record that was found in code no longer works, if it does not.
pub fn dead_evidence(r: &InventoryRecord, now: i64) -> Option<String> {
    if vendor_expired(r, now) {
        return r.expires_at.map(|e| {
            format!(
                "the vendor expired it on {} ({}): it no longer works; still in code",
                day(e),
                r.fact_source("expires_at")
            )
        });
    }
    (!r.status.is_live()).then(|| {
        format!(
            "status is {} at the vendor ({}); still in code",
            r.status.as_str(),
            r.fact_source("status")
        )
    })
}
