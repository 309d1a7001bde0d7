//! OpenAI project API keys (`GET /v1/organization/projects/{id}/api_keys`, one file per
//! project) and admin API keys (`GET /v1/organization/admin_api_keys`, whose `owner` is flat).
//! Joined by `redacted_value` (a prefix and a suffix). `expires_at` is enforced by OpenAI.

use serde_json::Value;

use super::{
    date_field, each, items, str_field, Hint, Identity, IdentityKind, Import, InventoryRecord,
    Status, VendorFlag,
};

/// The owner of a key: a project key's `{type, user | service_account}`, or an admin key's
/// flat `{id, name, type, role}`. A service account is the key's principal, not its owner.
fn owner(o: &Value) -> (Vec<Identity>, Option<Identity>) {
    let kind = o.get("type").and_then(|t| t.as_str()).unwrap_or("");
    let nested = o.get("user").or_else(|| o.get("service_account"));
    let who = nested.unwrap_or(o);
    let service = kind == "service_account" || o.get("service_account").is_some();
    if service {
        let name = str_field(who, "name").or_else(|| str_field(who, "id"));
        let p = name.map(|n| Identity::new(IdentityKind::ServiceAccount, &n, Some("openai")));
        return (Vec::new(), p);
    }
    let mut owners = Vec::new();
    if let Some(e) = str_field(who, "email") {
        owners.push(Identity::new(IdentityKind::Email, &e, None));
    }
    if let Some(id) = str_field(who, "id") {
        owners.push(Identity::new(IdentityKind::VendorUser, &id, Some("openai")));
    }
    (owners, None)
}

pub fn import(v: &Value, file: &str, out: &mut Import) {
    let Some(list) = items(v, &["data"]) else {
        out.warnings.push(format!("{file}: no `data` array"));
        return;
    };
    each(list, file, "data", out, |item, source| {
        let id = str_field(item, "id").ok_or("no `id`")?;
        let redacted = str_field(item, "redacted_value").ok_or("no `redacted_value`")?;
        let hint = Hint::parse(&redacted).ok_or("`redacted_value` has no `...` or `*` run")?;
        let (owners, principal) = item.get("owner").map(owner).unwrap_or_default();
        let admin = str_field(item, "object").is_some_and(|o| o.contains("admin"))
            || hint.prefix.starts_with("sk-admin");
        let mut flags = Vec::new();
        if str_field(item, "owner_project_access").as_deref() == Some("inactive") {
            flags.push(VendorFlag::OwnerAccessInactive);
        }
        let expires_at = date_field(item, "expires_at")?;
        let mut r = InventoryRecord {
            id,
            name: str_field(item, "name"),
            provider: Some("openai".into()),
            hint: Some(hint),
            principal,
            status: Status::Active,
            vendor_status: Some(Status::Active),
            created_at: date_field(item, "created_at")?,
            expires_at,
            expiry_enforced: expires_at.is_some(),
            last_used_at: date_field(item, "last_used_at")?,
            // Older responses have no `last_used_at`: usage unknown, not "never used".
            usage_known: item.get("last_used_at").is_some(),
            purpose: admin.then(|| "organization administration".to_string()),
            vendor_flags: flags,
            format: "openai",
            source,
            ..InventoryRecord::default()
        };
        r.set_owners(owners);
        Ok(r)
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn project_and_admin_listings() {
        let v: Value = serde_json::from_str(
            r#"{"object":"list","data":[
              {"object":"organization.project.api_key","id":"key_1","name":"a","redacted_value":"sk-proj-ab...wxyz",
               "created_at":1700000000,"last_used_at":null,"owner_project_access":"inactive",
               "owner":{"type":"user","user":{"id":"user-u","name":"N","email":"n@example.com","role":"owner"}}},
              {"object":"organization.project.api_key","id":"key_2","name":"svc","redacted_value":"sk-svcac***…380A",
               "created_at":1700000000,
               "owner":{"type":"service_account","service_account":{"id":"svc","name":"ops-bot","role":"member"}}},
              {"object":"organization.admin_api_key","id":"key_3","name":"adm","redacted_value":"sk-admin...def",
               "created_at":1700000000,"last_used_at":1710000000,"expires_at":1720000000,
               "owner":{"type":"user","object":"organization.user","id":"user-ada","name":"Ada","role":"owner","created_at":1}},
              {"object":"organization.project.api_key","id":"key_4"}
            ],"has_more":false}"#,
        )
        .unwrap();
        let mut out = Import::default();
        import(&v, "o.json", &mut out);
        assert_eq!(out.records.len(), 3);
        assert_eq!(out.warnings.len(), 1);
        assert!(out.warnings[0].contains("data[3]"));
        let a = &out.records[0];
        assert_eq!(a.owner.as_deref(), Some("n@example.com"));
        assert_eq!(a.owners[1].kind, IdentityKind::VendorUser);
        assert_eq!(a.hint.as_ref().unwrap().suffix, "wxyz");
        assert!(a.usage_known && a.last_used_at.is_none());
        assert_eq!(a.vendor_flags, [VendorFlag::OwnerAccessInactive]);
        let b = &out.records[1];
        assert!(b.owners.is_empty());
        assert_eq!(b.principal.as_ref().unwrap().value, "ops-bot");
        assert!(!b.usage_known, "no last_used_at field: usage unknown");
        assert_eq!(b.hint.as_ref().unwrap().suffix, "380A");
        // The admin key's flat owner is kept.
        let c = &out.records[2];
        assert_eq!(c.owner.as_deref(), Some("user-ada"));
        assert_eq!(c.owners[0].kind, IdentityKind::VendorUser);
        assert_eq!(c.hint.as_ref().unwrap().suffix, "def");
        assert!(c.expiry_enforced);
    }
}
