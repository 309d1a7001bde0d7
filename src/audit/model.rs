//! The audit's data: what comes in (exposures with occurrences, policy) and what goes out
//! (each credential with its record and categories; each record found nowhere).

use serde::{Deserialize, Serialize};

use super::{attest::Attestation, category::Hit};
use crate::{
    finding::Fingerprint,
    inventory::{Hint, InventoryRecord},
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
    /// What the vendor's own listing displays of it (see `inventory::hint::vendor_hint`);
    /// the same in-process and from a saved report.
    pub hint: Option<Hint>,
    pub key_id: Option<String>,
    /// The rule's own revoke / rotate instructions.
    pub revoke: Option<String>,
    /// Owners suggested by CODEOWNERS (computed where the tree was at hand, and carried by
    /// saved reports as each finding's `codeowners`).
    pub codeowners: Vec<String>,
    pub occurrences: Vec<Occurrence>,
    /// What the provider said (`--validate`), in-process or from the saved report.
    pub validation: Option<crate::validate::Validation>,
    /// What the token says about its own expiry (offline, always).
    pub expiry: Option<crate::expiry::Expiry>,
    /// The rule's lifetime (static keys keep working until revoked); `None` until known.
    pub lifetime: Option<crate::rules::Lifetime>,
}

impl Exposure {
    /// The hint to compare with inventories: the vendor hint, else the redacted form.
    pub fn hint_view(&self) -> Option<Hint> {
        self.hint.clone().or_else(|| Hint::parse(&self.redacted))
    }
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
    /// Records whose hint fits but could not be attributed (several, or too few random
    /// characters).
    pub candidates: Vec<usize>,
    pub hits: Vec<Hit>,
    /// Owners suggested (CODEOWNERS, then git authors), each checked against the roster.
    pub suggested_owners: Vec<String>,
    pub attestation: Option<Attestation>,
}

/// The worst severity among hits.
pub fn worst_of(hits: &[Hit]) -> Severity {
    hits.iter()
        .map(|h| h.severity)
        .max()
        .unwrap_or(Severity::Info)
}

impl AuditedCredential {
    pub fn severity(&self) -> Severity {
        worst_of(&self.hits)
    }
}

/// An inventory record (after merging the exports that describe the same key).
#[derive(Debug, Clone)]
pub struct AuditedRecord {
    /// Boxed: a million-row inventory moves each record here without a second copy of the
    /// whole listing (see `merge_records`).
    pub record: Box<InventoryRecord>,
    /// Every export that described it (`file#index`).
    pub sources: Vec<String>,
    /// Whether any finding matched it.
    pub found: bool,
    /// Hygiene categories (for records found nowhere; a found record's categories sit on
    /// its credential).
    pub hits: Vec<Hit>,
    pub attestation: Option<Attestation>,
    /// The revoke / rotate instructions of the rule that fits it (same provider; the one
    /// whose keyword starts its hint or key id, else the provider's only text), when known.
    pub revoke: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Audit {
    pub now: i64,
    pub credentials: Vec<AuditedCredential>,
    pub records: Vec<AuditedRecord>,
}
