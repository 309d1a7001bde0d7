//! Our own register, as a JSON array (or `{"records": [...]}`) or a CSV with the design's
//! fields: id, name, provider, fingerprint, key_id, hint, owner, purpose, approved_by,
//! environment, scope, status, created_at, expires_at, last_used_at, review_due.

use anyhow::Result;
use serde_json::Value;

use super::{
    csv_objects, date_field, each, items, status_field, str_field, Hint, Import, InventoryRecord,
};
use crate::finding::Fingerprint;

fn record(v: &Value, source: String, format: &'static str) -> Result<InventoryRecord, String> {
    if !v.is_object() {
        return Err("not an object".into());
    }
    let fingerprint = match str_field(v, "fingerprint") {
        Some(f) => Some(
            Fingerprint::parse(&f)
                .ok_or_else(|| "`fingerprint`: expected sha256: and 64 hex digits".to_string())?,
        ),
        None => None,
    };
    let hint = match str_field(v, "hint") {
        Some(h) => Some(Hint::parse(&h).ok_or_else(|| format!("`hint`: {h:?} has no `...`"))?),
        None => None,
    };
    let status = status_field(v, "status")?;
    let scope = match v.get("scope") {
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|x| x.as_str().map(String::from))
            .collect(),
        Some(Value::String(s)) => s
            .split([';', '|', ' '])
            .filter(|x| !x.is_empty())
            .map(String::from)
            .collect(),
        _ => Vec::new(),
    };
    let id = str_field(v, "id")
        .or_else(|| str_field(v, "key_id"))
        .ok_or_else(|| "no `id`".to_string())?;
    let last_used_at = date_field(v, "last_used_at")?;
    Ok(InventoryRecord {
        id,
        name: str_field(v, "name"),
        provider: str_field(v, "provider").map(|p| p.to_ascii_lowercase()),
        fingerprint,
        key_id: str_field(v, "key_id"),
        hint,
        owner: str_field(v, "owner"),
        purpose: str_field(v, "purpose"),
        approved_by: str_field(v, "approved_by"),
        environment: str_field(v, "environment"),
        scope,
        status,
        created_at: date_field(v, "created_at")?,
        expires_at: date_field(v, "expires_at")?,
        usage_known: v.get("last_used_at").is_some(),
        last_used_at,
        review_due: date_field(v, "review_due")?,
        format,
        source,
    })
}

pub fn import_json(v: &Value, file: &str, out: &mut Import) {
    let Some(list) = items(v, &["records", "data"]) else {
        out.warnings
            .push(format!("{file}: expected an array of records"));
        return;
    };
    each(list, file, "records", out, |item, source| {
        record(item, source, "native-json")
    });
}

pub fn import_csv(text: &str, file: &str, out: &mut Import) -> Result<()> {
    for (line, row) in csv_objects(text, file, &mut out.warnings)? {
        match record(&row, format!("{file}:{line}"), "native-csv") {
            Ok(r) => out.records.push(r),
            Err(e) => out.warnings.push(format!("{file}:{line}: {e}; skipped")),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::Status;

    #[test]
    fn json_and_csv_registers() {
        let v: Value = serde_json::from_str(
            r#"{"records":[{"id":"r1","fingerprint":"sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
              "owner":"o@example.com","scope":["infra/**","deploy/*"],"status":"active","created_at":"2024-01-01",
              "expires_at":1735689600,"last_used_at":"2024-06-01T00:00:00Z"},
              {"id":"r2","fingerprint":"md5:abc"}]}"#,
        )
        .unwrap();
        let mut out = Import::default();
        import_json(&v, "reg.json", &mut out);
        assert_eq!(out.records.len(), 1);
        let r = &out.records[0];
        assert_eq!(r.scope, ["infra/**", "deploy/*"]);
        assert_eq!(r.expires_at, Some(1_735_689_600));
        assert_eq!(r.created_at, Some(1_704_067_200));
        assert!(out.warnings[0].contains("records[1]") && out.warnings[0].contains("fingerprint"));

        let csv = "id,provider,key_id,hint,owner,status,scope,expires_at\n\
k1,aws,AKIAAAAAAAAAAAAAAAA1,,ops@example.com,active,infra/**;ci/**,2026-01-01\n\
k2,openai,,sk-proj-ab...wxyz,,inactive,,\n\
k3,openai,,,,weird,,\n";
        let mut out = Import::default();
        import_csv(csv, "reg.csv", &mut out).unwrap();
        assert_eq!(out.records.len(), 2);
        assert_eq!(out.records[0].scope, ["infra/**", "ci/**"]);
        assert_eq!(out.records[1].status, Status::Inactive);
        assert!(out.warnings[0].starts_with("reg.csv:4"));
    }
}
