//! Audit categories: what each means, its severity, the OWASP Non-Human Identities Top 10
//! item it maps to, what to do about it, and a `Hit` (a category that fired, with evidence).

use serde::{Deserialize, Serialize};

use crate::rules::Severity;

/// Every category, in order (for tables and tests).
pub const ALL: &[Category] = &[
    Category::Exposed,
    Category::Uninventoried,
    Category::Ambiguous,
    Category::Orphaned,
    Category::Expired,
    Category::PastPurpose,
    Category::RevokedButPresent,
    Category::Stale,
    Category::LongLived,
    Category::ReviewOverdue,
    Category::OutOfScope,
    Category::Shared,
    Category::UnapprovedProvider,
    Category::UnownedMachineIdentity,
    Category::OwnerMoved,
    Category::RevokedButLive,
    Category::MissingPurpose,
    Category::NoExpiry,
];

/// The lifecycle categories of the design, and two hygiene ones for register rows (found in
/// code or not).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    Exposed,
    Uninventoried,
    Ambiguous,
    Orphaned,
    Expired,
    PastPurpose,
    RevokedButPresent,
    Stale,
    LongLived,
    ReviewOverdue,
    OutOfScope,
    Shared,
    UnapprovedProvider,
    UnownedMachineIdentity,
    OwnerMoved,
    RevokedButLive,
    MissingPurpose,
    NoExpiry,
}

impl Category {
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Exposed => "exposed",
            Category::Uninventoried => "uninventoried",
            Category::Ambiguous => "ambiguous",
            Category::Orphaned => "orphaned",
            Category::Expired => "expired",
            Category::PastPurpose => "past_purpose",
            Category::RevokedButPresent => "revoked_but_present",
            Category::Stale => "stale",
            Category::LongLived => "long_lived",
            Category::ReviewOverdue => "review_overdue",
            Category::OutOfScope => "out_of_scope",
            Category::Shared => "shared",
            Category::UnapprovedProvider => "unapproved_provider",
            Category::UnownedMachineIdentity => "unowned_machine_identity",
            Category::OwnerMoved => "owner_moved",
            Category::RevokedButLive => "revoked_but_live",
            Category::MissingPurpose => "missing_purpose",
            Category::NoExpiry => "no_expiry",
        }
    }

    /// Severity of the category (for `exposed`, the rule's severity is used instead).
    pub fn severity(self) -> Severity {
        match self {
            Category::Exposed => Severity::High,
            Category::Uninventoried
            | Category::Orphaned
            | Category::Expired
            | Category::PastPurpose
            | Category::OutOfScope
            | Category::RevokedButLive
            | Category::Shared => Severity::High,
            Category::Ambiguous
            | Category::Stale
            | Category::LongLived
            | Category::UnownedMachineIdentity
            | Category::OwnerMoved
            | Category::UnapprovedProvider => Severity::Medium,
            Category::RevokedButPresent
            | Category::ReviewOverdue
            | Category::MissingPurpose
            | Category::NoExpiry => Severity::Low,
        }
    }

    /// OWASP Non-Human Identities Top 10 (2025) items.
    pub fn nhi(self) -> &'static [&'static str] {
        match self {
            Category::Exposed | Category::Uninventoried | Category::Ambiguous => &["NHI2"],
            Category::RevokedButPresent => &["NHI2"],
            Category::Orphaned | Category::PastPurpose | Category::Stale => &["NHI1"],
            Category::UnownedMachineIdentity | Category::OwnerMoved => &["NHI1"],
            Category::RevokedButLive => &["NHI1", "NHI2"],
            Category::ReviewOverdue | Category::MissingPurpose => &["NHI1"],
            Category::Expired | Category::LongLived | Category::NoExpiry => &["NHI7"],
            Category::OutOfScope => &["NHI8"],
            Category::Shared => &["NHI9"],
            Category::UnapprovedProvider => &["NHI3"],
        }
    }

    /// What to do about it, for people.
    pub fn advice(self) -> &'static str {
        match self {
            Category::Exposed => "remove it from where it was found and rotate it",
            Category::Uninventoried => "find its owner, register it (owner, purpose, expiry) or revoke it",
            Category::Ambiguous => "several inventory records fit: record its fingerprint in the register",
            Category::Orphaned => "assign an owner who is still here, or revoke it",
            Category::Expired => "past the expiry the register set, and the vendor still lists it active: revoke it",
            Category::PastPurpose => "its purpose has ended: revoke it",
            Category::RevokedButPresent => "no longer works (revoked, inactive or expired at the vendor): clean-up, delete it from the code and history",
            Category::Stale => "unused: revoke it",
            Category::LongLived => "old and without expiry: rotate it and set an expiry",
            Category::ReviewOverdue => "review it (owner, purpose, scope) and set the next review date",
            Category::OutOfScope => "it lives where it should not: move it to a secret store for that place, or rotate it",
            Category::Shared => "one key used by several repositories or services: issue one key each",
            Category::UnapprovedProvider => "a provider that is not approved: move off it and revoke the key",
            Category::UnownedMachineIdentity => "a machine identity with no human owner: name a person or team who answers for it, or revoke it",
            Category::OwnerMoved => "its owner changed team: have the new owner confirm it is still needed, or revoke it",
            Category::RevokedButLive => "recorded as revoked but the vendor still accepts it: revoke it at the vendor now",
            Category::MissingPurpose => "record what the key is for",
            Category::NoExpiry => "set an expiry date",
        }
    }
}

/// A category that fired, with the evidence that made it fire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hit {
    pub category: Category,
    pub severity: Severity,
    pub nhi: Vec<&'static str>,
    pub evidence: String,
}

pub(crate) fn hit(category: Category, evidence: String) -> Hit {
    Hit {
        category,
        severity: category.severity(),
        nhi: category.nhi().to_vec(),
        evidence,
    }
}
