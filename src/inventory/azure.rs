//! Azure `az cognitiveservices account keys list -n NAME -g RG`: `{"key1": "…", "key2": "…"}`,
//! the full key values. Each is hashed on reading (an exact fingerprint join) and never kept
//! or echoed; the records are named after the file and the slot.

use std::path::Path;

use serde_json::{Map, Value};

use super::{Import, InventoryRecord, Status};
use crate::finding::Fingerprint;

/// `{"key1": string, "key2": string}` and nothing else of note.
pub fn is_key_list(o: &Map<String, Value>) -> bool {
    o.contains_key("key1")
        && o.values().all(|v| v.is_string() || v.is_null())
        && o.keys().all(|k| k.starts_with("key"))
}

pub fn import(v: &Value, path: &Path, file: &str, out: &mut Import) {
    let Some(o) = v.as_object().filter(|o| is_key_list(o)) else {
        out.warnings
            .push(format!("{file}: expected {{\"key1\": …, \"key2\": …}}"));
        return;
    };
    let account = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| file.to_string());
    for (slot, value) in o {
        let Some(k) = value.as_str().filter(|k| !k.trim().is_empty()) else {
            continue;
        };
        out.records.push(InventoryRecord {
            id: format!("{account} {slot}"),
            name: Some(format!("{account} {slot}")),
            provider: Some("azure".into()),
            fingerprint: Some(Fingerprint::of(k.trim().as_bytes())),
            status: Status::Active,
            vendor_status: Some(Status::Active),
            format: "azure-keys",
            source: format!("{file}#{slot}"),
            ..InventoryRecord::default()
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_list_hashed_never_kept() {
        let secret = "0123456789abcdef0123456789abcdef";
        let v = serde_json::json!({"key1": secret, "key2": "fedcba9876543210fedcba9876543210"});
        let mut out = Import::default();
        import(
            &v,
            Path::new("dir/openai-east.json"),
            "dir/openai-east.json",
            &mut out,
        );
        assert_eq!(out.records.len(), 2);
        assert_eq!(out.records[0].id, "openai-east key1");
        assert_eq!(
            out.records[0].fingerprint,
            Some(Fingerprint::of(secret.as_bytes()))
        );
        assert!(!format!("{:?}", out.records).contains(secret));
    }
}
