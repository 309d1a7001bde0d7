//! Lifecycle facts for the audit: a secret's validation result, what the token says about
//! its expiry, and its rule's lifetime in; what the audit needs to decide categories out
//! (is it live, did it expire on its own, is it a long-lived static key, who the provider
//! says holds it). The audit turns these into `revoked_but_live`, clean-up and risk hits.

use super::{Status, Validation};
use crate::{
    expiry::{Basis, Expiry},
    rules::Lifetime,
};

/// What validation and offline expiry say about one secret.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Facts {
    /// `Some(true)`: the provider accepted it; `Some(false)`: rejected; `None`: not known.
    pub live: Option<bool>,
    /// Evidence for `live` (validator, time, identity), for people.
    pub live_evidence: Option<String>,
    /// The token expired on its own (clean-up, not an incident), with evidence.
    pub self_expired: Option<String>,
    /// A static key that never expires on its own (lifecycle risk), with evidence.
    pub static_key: Option<String>,
    /// Who the provider says holds it (login, user, account, org...), as owner evidence.
    pub holders: Vec<String>,
}

/// Facts from a validation, an expiry and the rule's lifetime, at `now` (unix seconds).
pub fn facts(
    validation: Option<&Validation>,
    expiry: Option<&Expiry>,
    lifetime: Lifetime,
    now: i64,
) -> Facts {
    let mut f = Facts::default();
    if let Some(v) = validation {
        let who: Vec<String> = v.identity.iter().map(|(k, x)| format!("{k} {x}")).collect();
        let said = format!(
            "validator `{}` at {}{}",
            v.validator,
            v.checked_at,
            if who.is_empty() {
                String::new()
            } else {
                format!(" ({})", who.join(", "))
            }
        );
        match v.status {
            Status::Valid => {
                f.live = Some(true);
                f.live_evidence = Some(format!("the provider accepts it: {said}"));
            }
            Status::Invalid => {
                f.live = Some(false);
                f.live_evidence = Some(format!("the provider rejects it: {said}"));
            }
            Status::Unknown | Status::Error => {}
        }
        for key in ["login", "user", "email", "account", "arn", "team", "org"] {
            if let Some(x) = v.identity.get(key) {
                f.holders.push(format!("{key}:{x}"));
            }
        }
    }
    if let Some(e) = expiry {
        if e.expired(now) == Some(true) {
            let at = e
                .expires_at
                .map(crate::expiry::format_time)
                .unwrap_or_default();
            f.self_expired = Some(match e.basis {
                Basis::Token => format!("the token expired on its own at {at} (read from the token)"),
                Basis::Lifetime => format!(
                    "short-lived: expired by {at} at the latest (its documented lifetime after the commit that added it)"
                ),
            });
        }
    }
    if expiry.is_none() && lifetime == Lifetime::Static && f.live != Some(false) {
        f.static_key = Some(
            "a static key: it never expires on its own (prefer short-lived credentials)".into(),
        );
    }
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(status: Status) -> Validation {
        let mut identity = std::collections::BTreeMap::new();
        identity.insert("login".to_string(), "octo".to_string());
        Validation {
            status,
            checked_at: "2026-01-01T00:00:00Z".into(),
            validator: "github".into(),
            http_status: Some(200),
            identity,
            message: None,
        }
    }

    #[test]
    fn live_dead_expired_and_static() {
        let live = facts(Some(&v(Status::Valid)), None, Lifetime::Static, 0);
        assert_eq!(live.live, Some(true));
        assert_eq!(live.holders, vec!["login:octo"]);
        assert!(live.static_key.is_some());
        let dead = facts(Some(&v(Status::Invalid)), None, Lifetime::Static, 0);
        assert_eq!(dead.live, Some(false));
        assert!(
            dead.static_key.is_none(),
            "a dead key is clean-up, not a lifecycle risk"
        );
        let e = crate::expiry::read(b"ghu_x", None, Some(0)).unwrap();
        let old = facts(None, Some(&e), Lifetime::ShortLived, 10 * 3600);
        assert!(old.self_expired.unwrap().contains("at the latest"));
        assert_eq!(
            facts(None, Some(&e), Lifetime::ShortLived, 3600).self_expired,
            None
        );
        let unknown = facts(Some(&v(Status::Unknown)), None, Lifetime::ShortLived, 0);
        assert_eq!(
            unknown,
            Facts {
                holders: vec!["login:octo".into()],
                ..Facts::default()
            }
        );
    }
}
