//! GitHub. SAML SSO credential authorizations, `GET /orgs/{org}/credential-authorizations`:
//! joined by `token_last_eight`; `authorized_credential_note` is the token's purpose; SSH keys
//! are not tokens and are left out of the join. Fine-grained PAT grants,
//! `GET /orgs/{org}/personal-access-tokens`: no hint of the token value, hygiene only.

use serde_json::Value;

use super::{
    date_field, each, items, str_field, Hint, Identity, IdentityKind, Import, InventoryRecord,
    Status,
};

fn login(l: &str) -> Identity {
    Identity::new(IdentityKind::Login, l, None)
}

pub fn import(v: &Value, file: &str, out: &mut Import) {
    let Some(list) = items(v, &["data"]) else {
        out.warnings.push(format!("{file}: expected an array"));
        return;
    };
    let (ssh, tokens): (Vec<Value>, Vec<Value>) = list.iter().cloned().partition(|i| {
        str_field(i, "credential_type").is_some_and(|t| t.to_ascii_lowercase().contains("ssh"))
    });
    if !ssh.is_empty() {
        out.warnings.push(format!(
            "{file}: {} SSH-key authorization(s) left out (SSH keys are not tokens)",
            ssh.len()
        ));
    }
    each(&tokens, file, "authorizations", out, |item, source| {
        let id = str_field(item, "credential_id").ok_or("no `credential_id`")?;
        let hint = str_field(item, "token_last_eight").and_then(|s| Hint::suffix(&s));
        let scopes: Vec<String> = item
            .get("scopes")
            .and_then(|s| s.as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default();
        let note = str_field(item, "authorized_credential_note");
        let purpose = match (note, scopes.is_empty()) {
            (Some(n), true) => Some(n),
            (Some(n), false) => Some(format!("{n} (scopes: {})", scopes.join(", "))),
            (None, false) => Some(format!("scopes: {}", scopes.join(", "))),
            (None, true) => None,
        };
        let expires_at = date_field(item, "authorized_credential_expires_at")?;
        let mut r = InventoryRecord {
            id,
            name: str_field(item, "authorized_credential_title")
                .or_else(|| str_field(item, "credential_type")),
            provider: Some("github".into()),
            hygiene_only: hint.is_none(),
            hint,
            purpose,
            status: Status::Active,
            vendor_status: Some(Status::Active),
            created_at: date_field(item, "credential_authorized_at")?,
            expires_at,
            expiry_enforced: expires_at.is_some(),
            last_used_at: date_field(item, "credential_accessed_at")?,
            usage_known: item.get("credential_accessed_at").is_some(),
            format: "github-credential-authorizations",
            source,
            ..InventoryRecord::default()
        };
        r.set_owners(
            str_field(item, "login")
                .map(|l| vec![login(&l)])
                .unwrap_or_default(),
        );
        Ok(r)
    });
}

pub fn import_fine_grained(v: &Value, file: &str, out: &mut Import) {
    let Some(list) = items(v, &["data"]) else {
        out.warnings.push(format!("{file}: expected an array"));
        return;
    };
    each(list, file, "grants", out, |item, source| {
        let token_id = str_field(item, "token_id").ok_or("no `token_id`")?;
        let expired = item.get("token_expired").and_then(Value::as_bool) == Some(true);
        let expires_at = date_field(item, "token_expires_at")?;
        let status = if expired {
            Status::Expired
        } else {
            Status::Active
        };
        let repos = str_field(item, "repository_selection");
        let mut r = InventoryRecord {
            id: format!("fine-grained-pat-{token_id}"),
            name: str_field(item, "token_name"),
            provider: Some("github".into()),
            purpose: repos.map(|s| format!("fine-grained PAT, repositories: {s}")),
            status,
            vendor_status: Some(status),
            created_at: date_field(item, "access_granted_at")?,
            expires_at,
            expiry_enforced: expires_at.is_some(),
            last_used_at: date_field(item, "token_last_used_at")?,
            usage_known: item.get("token_last_used_at").is_some(),
            hygiene_only: true,
            format: "github-fine-grained-pats",
            source,
            ..InventoryRecord::default()
        };
        let owner = item.get("owner").and_then(|o| str_field(o, "login"));
        r.set_owners(owner.map(|l| vec![login(&l)]).unwrap_or_default());
        Ok(r)
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credential_authorizations() {
        let v: Value = serde_json::from_str(
            r#"[{"login":"octocat","credential_id":161195,"credential_type":"personal access token",
                 "token_last_eight":"71c3fc11","credential_authorized_at":"2011-01-26T19:06:43Z",
                 "credential_accessed_at":"2011-01-26T19:06:43Z","authorized_credential_expires_at":null,
                 "authorized_credential_note":"deploy bot","scopes":["user","repo"]},
                {"login":"octocat","credential_id":2,"credential_type":"SSH Key","fingerprint":"jklmnop12345678"},
                {"login":"x"}]"#,
        )
        .unwrap();
        let mut out = Import::default();
        import(&v, "gh.json", &mut out);
        assert_eq!(out.records.len(), 1);
        let r = &out.records[0];
        assert_eq!(r.id, "161195");
        assert_eq!(r.hint.as_ref().unwrap().suffix, "71c3fc11");
        assert_eq!(r.owners[0].kind, IdentityKind::Login);
        assert_eq!(
            r.purpose.as_deref(),
            Some("deploy bot (scopes: user, repo)")
        );
        assert!(out.warnings.iter().any(|w| w.contains("SSH")));
        assert!(out.warnings.iter().any(|w| w.contains("authorizations[1]")));
    }

    #[test]
    fn fine_grained_grants() {
        let v: Value = serde_json::from_str(
            r#"[{"id":25381,"owner":{"login":"octocat","id":1,"type":"User"},"repository_selection":"all",
                 "repositories_url":"https://api.github.com/organizations/652551/personal-access-token-requests/25381/repositories",
                 "permissions":{"organization":{"members":"read"},"repository":{"metadata":"read"}},
                 "access_granted_at":"2023-05-16T08:47:09.000-07:00","token_id":98716,"token_name":"Some Token",
                 "token_expired":false,"token_expires_at":"2023-11-16T08:47:09.000-07:00","token_last_used_at":null}]"#,
        )
        .unwrap();
        let mut out = Import::default();
        import_fine_grained(&v, "pats.json", &mut out);
        let r = &out.records[0];
        assert_eq!(r.name.as_deref(), Some("Some Token"));
        assert_eq!(r.owner.as_deref(), Some("octocat"));
        assert!(r.hygiene_only && r.usage_known && r.last_used_at.is_none());
        assert_eq!(r.expires_at, Some(1_700_149_629));
    }
}
