//! OpenAI project API keys (`GET /v1/organization/projects/{id}/api_keys`) and admin API
//! keys (`GET /v1/organization/admin_api_keys`) listings. Joined by `redacted_value`.

use serde_json::Value;

use super::{date_field, items, str_field, Hint, Import, InventoryRecord, Status};

pub fn import(v: &Value, file: &str, out: &mut Import) {
    let Some(list) = items(v, &["data"]) else {
        out.warnings.push(format!("{file}: no `data` array"));
        return;
    };
    for (i, item) in list.iter().enumerate() {
        let r = (|| -> Result<InventoryRecord, String> {
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
                source: format!("{file}#{i}"),
                ..InventoryRecord::default()
            })
        })();
        match r {
            Ok(r) => out.records.push(r),
            Err(e) => out
                .warnings
                .push(format!("{file}: data[{i}]: {e}; skipped")),
        }
    }
}
