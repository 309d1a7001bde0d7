//! Anthropic Admin API `GET /v1/organizations/api_keys` listing. Joined by
//! `partial_key_hint`; `status` active / inactive / archived / expired.

use serde_json::Value;

use super::{date_field, each, items, status_field, str_field, Hint, Import, InventoryRecord};

pub fn import(v: &Value, file: &str, out: &mut Import) {
    let Some(list) = items(v, &["data"]) else {
        out.warnings.push(format!("{file}: no `data` array"));
        return;
    };
    each(list, file, "data", out, |item, source| {
        let id = str_field(item, "id").ok_or("no `id`")?;
        let raw = str_field(item, "partial_key_hint").ok_or("no `partial_key_hint`")?;
        let hint =
            Hint::parse(&raw).ok_or_else(|| format!("`partial_key_hint` {raw:?} has no `...`"))?;
        let status = status_field(item, "status")?;
        let owner = item
            .get("created_by")
            .and_then(|c| str_field(c, "email").or_else(|| str_field(c, "id")));
        Ok(InventoryRecord {
            id,
            name: str_field(item, "name"),
            provider: Some("anthropic".into()),
            hint: Some(hint),
            owner,
            status,
            environment: str_field(item, "workspace_id"),
            created_at: date_field(item, "created_at")?,
            expires_at: date_field(item, "expires_at")?,
            format: "anthropic",
            source,
            ..InventoryRecord::default()
        })
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::Status;

    #[test]
    fn listing_with_statuses() {
        let v: Value = serde_json::from_str(
            r#"{"data":[
              {"id":"apikey_1","type":"api_key","name":"a","workspace_id":"wrkspc_1","created_at":"2024-10-30T23:58:27.427722Z",
               "created_by":{"id":"user_1","type":"user"},"partial_key_hint":"sk-ant-api03-R2D...igAA","status":"active","expires_at":null},
              {"id":"apikey_2","type":"api_key","name":"b","workspace_id":null,"created_at":"2024-10-30T23:58:27Z",
               "created_by":{"id":"user_1","type":"user"},"partial_key_hint":"sk-ant-api03-XyZ...abCD","status":"archived"},
              {"id":"apikey_3","partial_key_hint":"sk-ant-api03-x...y","status":"bogus"}
            ],"has_more":false,"first_id":"apikey_1","last_id":"apikey_3"}"#,
        )
        .unwrap();
        let mut out = Import::default();
        import(&v, "a.json", &mut out);
        assert_eq!(out.records.len(), 2);
        assert_eq!(out.records[0].status, Status::Active);
        assert_eq!(out.records[0].environment.as_deref(), Some("wrkspc_1"));
        assert_eq!(out.records[0].created_at, Some(1_730_332_707));
        assert_eq!(out.records[1].status, Status::Revoked);
        assert!(out.warnings[0].contains("status"));
    }
}
