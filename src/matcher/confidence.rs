//! How sure a match is to be a live credential: a rule and the bytes it matched in, a
//! `Confidence` out.
//!
//! - `high`: the value identifies itself: a checksum passed, a private-key block, or the secret
//!   starts with one of the rule's distinctive prefixes (`AKIA`, `ghp_`, `xoxb-`).
//! - `medium`: a provider keyword near a format-valid value; a generic assignment whose value
//!   is random-looking (long, mixed character classes, high entropy).
//! - `low`: any other generic assignment (passwords, short or word-like values).
//!
//! A rule that writes its `confidence` keeps it as the ceiling; where the secret sits (tests,
//! fixtures, docs) is applied later, by the finding.

use super::filters;
use crate::rules::{Confidence, Kind, Rule};

/// Rules below this priority are generic (name-and-value assignments).
pub const GENERIC_PRIORITY: i32 = 30;

/// The confidence of one match of `rule` on `secret` (with the variable `name`, if captured).
pub fn of_match(rule: &Rule, secret: &[u8], _name: Option<&[u8]>) -> Confidence {
    if let Some(c) = rule.confidence {
        return c;
    }
    if rule.checksum.is_some() || rule.kind == Kind::PrivateKey {
        return Confidence::High;
    }
    if rule.priority < GENERIC_PRIORITY {
        return if random_looking(secret) {
            Confidence::Medium
        } else {
            Confidence::Low
        };
    }
    let prefixed = rule.keywords.iter().any(|k| {
        super::is_prefix_keyword(k)
            && secret.len() >= k.len() + 8
            && secret.starts_with(k.as_bytes())
    });
    if prefixed {
        Confidence::High
    } else {
        Confidence::Medium
    }
}

/// A value a person did not type: at least 20 characters, letters and digits mixed, and an
/// entropy a word or a sentence does not reach.
pub fn random_looking(secret: &[u8]) -> bool {
    let digits = secret.iter().filter(|b| b.is_ascii_digit()).count();
    let upper = secret.iter().filter(|b| b.is_ascii_uppercase()).count();
    let lower = secret.iter().filter(|b| b.is_ascii_lowercase()).count();
    let classes = [digits, upper, lower].iter().filter(|&&n| n > 0).count();
    secret.len() >= 20 && digits > 0 && classes >= 2 && filters::shannon_entropy(secret) >= 4.0
}
