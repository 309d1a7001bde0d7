//! Google Cloud. Service-account keys, `gcloud iam service-accounts keys list --format=json`
//! (a bare array) or the REST `projects.serviceAccounts.keys.list` (`{"keys":[…]}`): the key
//! id is the last segment of `name`, the value a leaked key file carries as `private_key_id`;
//! `SYSTEM_MANAGED` keys never leave Google and are skipped; `validBeforeTime` is enforced.
//! API keys, `gcloud services api-keys list --format=json`: hygiene, and an exact join when
//! the user added each key's `keyString` (hashed on reading, never kept).

use serde_json::Value;

use super::{
    date_field, each, items, str_field, Identity, IdentityKind, Import, InventoryRecord, Status,
    VendorFlag,
};
use crate::finding::Fingerprint;

/// Google writes 9999-12-31 for keys that never expire.
const NEVER: i64 = 253_000_000_000;

pub fn import(v: &Value, file: &str, out: &mut Import) {
    let Some(list) = items(v, &["keys"]) else {
        out.warnings
            .push(format!("{file}: expected an array of keys"));
        return;
    };
    let (system, user): (Vec<Value>, Vec<Value>) = list
        .iter()
        .cloned()
        .partition(|k| str_field(k, "keyType").as_deref() == Some("SYSTEM_MANAGED"));
    if !system.is_empty() {
        out.warnings.push(format!(
            "{file}: {} SYSTEM_MANAGED key(s) skipped (Google's own keys never leave Google)",
            system.len()
        ));
    }
    each(&user, file, "keys", out, |item, source| {
        let name = str_field(item, "name").ok_or("no `name`")?;
        if !name.contains("/serviceAccounts/") {
            return Err("`name` is not projects/…/serviceAccounts/…/keys/…".into());
        }
        let key_id = name
            .rsplit_once("/keys/")
            .map(|(_, k)| k.to_string())
            .ok_or("`name` has no /keys/")?;
        let account = name
            .split("/serviceAccounts/")
            .nth(1)
            .and_then(|s| s.split('/').next())
            .map(String::from);
        let disabled = item
            .get("disabled")
            .and_then(|d| d.as_bool())
            .unwrap_or(false);
        let reason = str_field(item, "disableReason").unwrap_or_default();
        let mut flags = Vec::new();
        if reason.ends_with("_EXPOSED") || reason.ends_with("_COMPROMISE_DETECTED") {
            flags.push(VendorFlag::ExposureDetected);
        }
        let expires_at = date_field(item, "validBeforeTime")?.filter(|&t| t < NEVER);
        let status = if disabled {
            Status::Inactive
        } else {
            Status::Active
        };
        Ok(InventoryRecord {
            id: key_id.clone(),
            name: account.clone(),
            provider: Some("gcp".into()),
            key_id: Some(key_id),
            principal: account
                .as_deref()
                .map(|a| Identity::new(IdentityKind::ServiceAccount, a, Some("gcp"))),
            status,
            vendor_status: Some(status),
            created_at: date_field(item, "validAfterTime")?,
            expires_at,
            expiry_enforced: expires_at.is_some(),
            vendor_flags: flags,
            format: "gcp-keys",
            source,
            ..InventoryRecord::default()
        })
    });
}

pub fn import_api_keys(v: &Value, file: &str, out: &mut Import) {
    let Some(list) = items(v, &["keys"]) else {
        out.warnings
            .push(format!("{file}: expected an array of API keys"));
        return;
    };
    each(list, file, "keys", out, |item, source| {
        let name = str_field(item, "name").ok_or("no `name`")?;
        if !name.contains("/keys/") || name.contains("/serviceAccounts/") {
            return Err("`name` is not projects/…/locations/…/keys/…".into());
        }
        let uid = str_field(item, "uid")
            .or_else(|| name.rsplit('/').next().map(String::from))
            .ok_or("no `uid`")?;
        let fingerprint = str_field(item, "keyString").map(|k| Fingerprint::of(k.as_bytes()));
        let deleted = date_field(item, "deleteTime")?;
        let status = if deleted.is_some() {
            Status::Revoked
        } else {
            Status::Active
        };
        Ok(InventoryRecord {
            id: uid,
            name: str_field(item, "displayName"),
            provider: Some("google".into()),
            hygiene_only: fingerprint.is_none(),
            fingerprint,
            status,
            vendor_status: Some(status),
            created_at: date_field(item, "createTime")?,
            format: "gcp-api-keys",
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
            r#"{"keys":[{"name":"projects/p/serviceAccounts/sa@p.iam.gserviceaccount.com/keys/0123abcd",
                 "validAfterTime":"2024-01-01T00:00:00Z","validBeforeTime":"9999-12-31T23:59:59Z",
                 "keyAlgorithm":"KEY_ALG_RSA_2048","keyOrigin":"GOOGLE_PROVIDED","keyType":"USER_MANAGED"},
                {"name":"projects/p/serviceAccounts/sa@p.iam.gserviceaccount.com/keys/ffff","disabled":true,
                 "disableReason":"SERVICE_ACCOUNT_KEY_DISABLE_REASON_EXPOSED","keyType":"USER_MANAGED",
                 "validBeforeTime":"2025-01-01T00:00:00Z"},
                {"name":"projects/p/serviceAccounts/sa@p.iam.gserviceaccount.com/keys/sys","keyType":"SYSTEM_MANAGED"},
                {"name":"nonsense"}]}"#,
        )
        .unwrap();
        let mut out = Import::default();
        import(&v, "g.json", &mut out);
        assert_eq!(out.records.len(), 2);
        assert_eq!(out.records[0].key_id.as_deref(), Some("0123abcd"));
        assert_eq!(out.records[0].expires_at, None);
        assert_eq!(
            out.records[0].principal.as_ref().unwrap().kind,
            IdentityKind::ServiceAccount
        );
        assert_eq!(out.records[1].status, Status::Inactive);
        assert_eq!(out.records[1].expires_at, Some(1_735_689_600));
        assert_eq!(out.records[1].vendor_flags, [VendorFlag::ExposureDetected]);
        assert!(out.warnings.iter().any(|w| w.contains("SYSTEM_MANAGED")));
        assert!(out.warnings.iter().any(|w| w.contains("keys[2]")));
    }

    #[test]
    fn api_keys_hygiene_and_exact_join() {
        let v: Value = serde_json::from_str(
            r#"[{"name":"projects/1/locations/global/keys/u1","uid":"u1","displayName":"gemini","createTime":"2024-01-01T00:00:00Z"},
                {"name":"projects/1/locations/global/keys/u2","uid":"u2","keyString":"AIzaExample","deleteTime":"2025-01-01T00:00:00Z"}]"#,
        )
        .unwrap();
        let mut out = Import::default();
        import_api_keys(&v, "k.json", &mut out);
        assert!(out.records[0].hygiene_only && out.records[0].fingerprint.is_none());
        assert_eq!(
            out.records[1].fingerprint,
            Some(Fingerprint::of(b"AIzaExample"))
        );
        assert_eq!(out.records[1].status, Status::Revoked);
    }
}
