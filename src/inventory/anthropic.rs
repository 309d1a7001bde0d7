//! Anthropic Admin API `GET /v1/organizations/api_keys` listing, in its older shape
//! (`created_by`, top-level `workspace_id`) and its newer one (`principal`, `scope`). Joined by
//! `partial_key_hint`; a key whose hint is null is kept for hygiene. `status` active /
//! inactive / archived / expired is the vendor's; `expires_at` is enforced.

use serde_json::Value;

use super::{
    date_field, each, items, status_field, str_field, Hint, Identity, IdentityKind, Import,
    InventoryRecord,
};

/// Who created or holds the key: a user id (never an email), or a service account.
fn identities(item: &Value) -> (Vec<Identity>, Option<Identity>) {
    let mut owners = Vec::new();
    let mut principal = None;
    if let Some(p) = item.get("principal").filter(|p| p.is_object()) {
        let t = str_field(p, "type").unwrap_or_default();
        if t.contains("service") || t.contains("workload") {
            let id = str_field(p, "service_account_id")
                .or_else(|| str_field(p, "id"))
                .or_else(|| str_field(p, "name"));
            principal =
                id.map(|i| Identity::new(IdentityKind::ServiceAccount, &i, Some("anthropic")));
        } else if let Some(u) = str_field(p, "user_id").or_else(|| str_field(p, "id")) {
            owners.push(Identity::new(
                IdentityKind::VendorUser,
                &u,
                Some("anthropic"),
            ));
        }
    }
    if let Some(c) = item.get("created_by").filter(|c| c.is_object()) {
        if let Some(id) = str_field(c, "id") {
            let t = str_field(c, "type").unwrap_or_else(|| "user".into());
            let me = if t == "user" {
                Identity::new(IdentityKind::VendorUser, &id, Some("anthropic"))
            } else {
                Identity::new(IdentityKind::ServiceAccount, &id, Some("anthropic"))
            };
            if me.kind.is_human() {
                if !owners.contains(&me) {
                    owners.push(me);
                }
            } else if principal.is_none() {
                principal = Some(me);
            }
        }
    }
    (owners, principal)
}

pub fn import(v: &Value, file: &str, out: &mut Import) {
    let Some(list) = items(v, &["data"]) else {
        out.warnings.push(format!("{file}: no `data` array"));
        return;
    };
    each(list, file, "data", out, |item, source| {
        let id = str_field(item, "id").ok_or("no `id`")?;
        let hint = match str_field(item, "partial_key_hint") {
            Some(raw) => Some(Hint::parse(&raw).ok_or("`partial_key_hint` has no `...`")?),
            None => None,
        };
        let status = status_field(item, "status")?;
        let (owners, principal) = identities(item);
        let workspace = item
            .get("scope")
            .and_then(|s| {
                str_field(s, "workspace_id").or_else(|| {
                    (str_field(s, "type").as_deref() == Some("organization"))
                        .then(|| "organization".to_string())
                })
            })
            .or_else(|| str_field(item, "workspace_id"))
            .or_else(|| {
                item.get("workspace_id")
                    .is_some_and(Value::is_null)
                    .then(|| "default".to_string())
            });
        let expires_at = date_field(item, "expires_at")?;
        let mut r = InventoryRecord {
            id,
            name: str_field(item, "name"),
            provider: Some("anthropic".into()),
            hygiene_only: hint.is_none(),
            hint,
            principal,
            status,
            vendor_status: Some(status),
            workspace,
            created_at: date_field(item, "created_at")?,
            expires_at,
            expiry_enforced: expires_at.is_some(),
            format: "anthropic",
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
    use crate::inventory::Status;

    #[test]
    fn old_and_new_shapes() {
        let v: Value = serde_json::from_str(
            r#"{"data":[
              {"id":"apikey_1","type":"api_key","name":"a","workspace_id":"wrkspc_1","created_at":"2024-10-30T23:58:27.427722Z",
               "created_by":{"id":"user_1","type":"user"},"partial_key_hint":"sk-ant-api03-R2D...igAA","status":"active","expires_at":null},
              {"id":"apikey_2","type":"api_key","name":"b","workspace_id":null,"created_at":"2024-10-30T23:58:27Z",
               "created_by":null,"partial_key_hint":null,"status":"archived"},
              {"id":"apikey_3","type":"api_key","name":"c","created_at":"2025-01-01T00:00:00Z",
               "principal":{"type":"user_actor","user_id":"user_9"},"scope":{"type":"workspace","workspace_id":"wrkspc_9"},
               "partial_key_hint":"sk-ant-api03-XyZ...abAA","status":"expired","expires_at":"2025-02-01T00:00:00Z"},
              {"id":"apikey_4","partial_key_hint":"sk-ant-api03-x...yyAA","status":"bogus"}
            ],"has_more":false,"first_id":"apikey_1","last_id":"apikey_4"}"#,
        )
        .unwrap();
        let mut out = Import::default();
        import(&v, "a.json", &mut out);
        assert_eq!(out.records.len(), 3);
        let [a, b, c] = &out.records[..] else {
            panic!()
        };
        assert_eq!(a.status, Status::Active);
        assert_eq!(a.workspace.as_deref(), Some("wrkspc_1"));
        assert_eq!(a.created_at, Some(1_730_332_707));
        assert_eq!(a.owners[0].kind, IdentityKind::VendorUser);
        // A null hint is kept for hygiene; archived is revoked.
        assert!(b.hint.is_none() && b.hygiene_only);
        assert_eq!(b.status, Status::Revoked);
        assert!(b.owners.is_empty());
        assert_eq!(b.workspace.as_deref(), Some("default"));
        // The newer shape: principal and scope.
        assert_eq!(c.owner.as_deref(), Some("user_9"));
        assert_eq!(c.workspace.as_deref(), Some("wrkspc_9"));
        assert_eq!(c.status, Status::Expired);
        assert!(c.expiry_enforced);
        assert!(out.warnings[0].contains("data[3]") && out.warnings[0].contains("status"));
        assert!(!out.warnings[0].contains("bogus"));
    }
}
