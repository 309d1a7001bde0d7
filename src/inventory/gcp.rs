//! `gcloud iam service-accounts keys list --format=json`: the key id is the last segment of
//! `name`, the same value a leaked key file carries as `private_key_id`.

use serde_json::Value;

use super::{date_field, each, items, str_field, Import, InventoryRecord, Status};

pub fn import(v: &Value, file: &str, out: &mut Import) {
    let Some(list) = items(v, &["keys"]) else {
        out.warnings
            .push(format!("{file}: expected an array of keys"));
        return;
    };
    each(list, file, "keys", out, |item, source| {
        let name = str_field(item, "name").ok_or("no `name`")?;
        let key_id = name
            .rsplit_once("/keys/")
            .map(|(_, k)| k.to_string())
            .ok_or_else(|| format!("`name` {name:?} has no /keys/"))?;
        let account = name
            .split("/serviceAccounts/")
            .nth(1)
            .and_then(|s| s.split('/').next())
            .map(String::from);
        let disabled = item
            .get("disabled")
            .and_then(|d| d.as_bool())
            .unwrap_or(false);
        let expires_at = date_field(item, "validBeforeTime")?
            // Google writes 9999-12-31 for keys that never expire.
            .filter(|&t| t < 253_000_000_000);
        Ok(InventoryRecord {
            id: key_id.clone(),
            name: account.clone(),
            provider: Some("gcp".into()),
            key_id: Some(key_id),
            owner: None,
            purpose: account.map(|a| format!("service account {a}")),
            status: if disabled {
                Status::Inactive
            } else {
                Status::Active
            },
            created_at: date_field(item, "validAfterTime")?,
            expires_at,
            format: "gcp-keys",
            source,
            ..InventoryRecord::default()
        })
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_id_from_name_and_never_expiring_keys() {
        let v: Value = serde_json::from_str(
            r#"[{"name":"projects/p/serviceAccounts/sa@p.iam.gserviceaccount.com/keys/0123abcd",
                 "validAfterTime":"2024-01-01T00:00:00Z","validBeforeTime":"9999-12-31T23:59:59Z",
                 "keyAlgorithm":"KEY_ALG_RSA_2048","keyOrigin":"GOOGLE_PROVIDED","keyType":"USER_MANAGED"},
                {"name":"projects/p/serviceAccounts/sa@p.iam.gserviceaccount.com/keys/ffff","disabled":true,
                 "validBeforeTime":"2025-01-01T00:00:00Z"},
                {"name":"nonsense"}]"#,
        )
        .unwrap();
        let mut out = Import::default();
        import(&v, "g.json", &mut out);
        assert_eq!(out.records.len(), 2);
        assert_eq!(out.records[0].key_id.as_deref(), Some("0123abcd"));
        assert_eq!(out.records[0].expires_at, None);
        assert_eq!(out.records[1].status, Status::Inactive);
        assert_eq!(out.records[1].expires_at, Some(1_735_689_600));
        assert_eq!(out.warnings.len(), 1);
    }
}
