//! OpenAI project API keys (`GET /v1/organization/projects/{id}/api_keys`) and admin API
//! keys (`GET /v1/organization/admin_api_keys`) listings. Joined by `redacted_value`.

use serde_json::Value;

use super::{date_field, each, items, str_field, Hint, Import, InventoryRecord, Status};

pub fn import(v: &Value, file: &str, out: &mut Import) {
    let Some(list) = items(v, &["data"]) else {
        out.warnings.push(format!("{file}: no `data` array"));
        return;
    };
    each(list, file, "data", out, |item, source| {
        let id = str_field(item, "id").ok_or("no `id`")?;
        let redacted = str_field(item, "redacted_value").ok_or("no `redacted_value`")?;
        let hint = Hint::parse(&redacted)
            .ok_or_else(|| format!("`redacted_value` {redacted:?} has no `...`"))?;
        let owner = item.get("owner").and_then(|o| {
            let kind = o.get("type").and_then(|t| t.as_str()).unwrap_or("");
            let who = o.get(kind).or_else(|| o.get("user"));
            who.and_then(|u| str_field(u, "email").or_else(|| str_field(u, "name")))
                .or_else(|| who.and_then(|u| str_field(u, "id")))
        });
        let admin = str_field(item, "object").is_some_and(|o| o.contains("admin"))
            || hint.prefix.starts_with("sk-admin");
        Ok(InventoryRecord {
            id,
            name: str_field(item, "name"),
            provider: Some("openai".into()),
            hint: Some(hint),
            owner,
            status: Status::Active,
            created_at: date_field(item, "created_at")?,
            expires_at: date_field(item, "expires_at")?,
            last_used_at: date_field(item, "last_used_at")?,
            usage_known: true,
            purpose: admin.then(|| "organization administration".to_string()),
            format: "openai",
            source,
            ..InventoryRecord::default()
        })
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
               "created_at":1700000000,"last_used_at":null,
               "owner":{"type":"user","user":{"id":"u","name":"N","email":"n@example.com","role":"owner"}}},
              {"object":"organization.admin_api_key","id":"key_2","name":"adm","redacted_value":"sk-admin-x...1234",
               "created_at":1700000000,"last_used_at":1710000000,
               "owner":{"type":"service_account","service_account":{"id":"svc","name":"ops-bot"}}},
              {"object":"organization.project.api_key","id":"key_3"}
            ],"has_more":false}"#,
        )
        .unwrap();
        let mut out = Import::default();
        import(&v, "o.json", &mut out);
        assert_eq!(out.records.len(), 2);
        assert_eq!(out.warnings.len(), 1);
        assert!(out.warnings[0].contains("data[2]"));
        let a = &out.records[0];
        assert_eq!(a.owner.as_deref(), Some("n@example.com"));
        assert_eq!(a.hint.as_ref().unwrap().suffix, "wxyz");
        assert!(a.usage_known && a.last_used_at.is_none());
        let b = &out.records[1];
        assert_eq!(b.owner.as_deref(), Some("ops-bot"));
        assert_eq!(b.last_used_at, Some(1_710_000_000));
    }
}
