//! Our own register, as a JSON array (or `{"records": [...]}`) or a CSV with the design's
//! fields: id, name, provider, fingerprint, key_id, hint, owner, team, purpose, approved_by,
//! environment, scope, status, created_at, expires_at, last_used_at, review_due. Owners are
//! classified by kind (email, `@login`, `@org/team`, `sre@`, service account, vendor user id).

use anyhow::Result;
use serde_json::Value;

use super::{
    csv_rows, date_field, each, items, status_field, str_field, Hint, Identity, Import,
    InventoryRecord, NATIVE_FIELDS,
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
        Some(h) => Some(Hint::parse(&h).ok_or("`hint`: no `...` between prefix and suffix")?),
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
    let provider = str_field(v, "provider").map(|p| p.to_ascii_lowercase());
    let owners: Vec<Identity> = str_field(v, "owner")
        .map(|o| {
            o.split([';', ','])
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| Identity::classify(s, provider.as_deref()))
                .collect()
        })
        .unwrap_or_default();
    let last_used_at = date_field(v, "last_used_at")?;
    let mut r = InventoryRecord {
        id,
        name: str_field(v, "name"),
        provider,
        fingerprint,
        key_id: str_field(v, "key_id"),
        hint,
        team: str_field(v, "team"),
        purpose: str_field(v, "purpose"),
        approved_by: str_field(v, "approved_by"),
        environment: str_field(v, "environment"),
        scope,
        status,
        register_status: Some(status),
        created_at: date_field(v, "created_at")?,
        expires_at: date_field(v, "expires_at")?,
        usage_known: v.get("last_used_at").is_some(),
        last_used_at,
        review_due: date_field(v, "review_due")?,
        format,
        source,
        ..InventoryRecord::default()
    };
    r.set_owners(owners);
    Ok(r)
}

fn warn_unknown_fields(item: &Value, file: &str, out: &mut Import) {
    if let Some(o) = item.as_object() {
        let unknown: Vec<&str> = o
            .keys()
            .map(String::as_str)
            .filter(|k| !NATIVE_FIELDS.contains(k))
            .collect();
        if !unknown.is_empty() {
            out.warnings.push(format!(
                "{file}: fields not in the register format, ignored: {}",
                unknown.join(", ")
            ));
        }
    }
}

pub fn import_json(v: &Value, file: &str, out: &mut Import) {
    let Some(list) = items(v, &["records", "data"]) else {
        out.warnings
            .push(format!("{file}: expected an array of records"));
        return;
    };
    if let Some(first) = list.first() {
        warn_unknown_fields(first, file, out);
    }
    each(list, file, "records", out, |item, source| {
        record(item, source, "native-json")
    });
}

pub fn import_csv<R: std::io::Read>(reader: R, file: &str, out: &mut Import) -> Result<()> {
    let mut records = std::mem::take(&mut out.records);
    let mut first = true;
    let mut unknown = None;
    let r = csv_rows(reader, file, &mut out.warnings, |line, row, warnings| {
        if first {
            first = false;
            unknown = Some(row.clone());
        }
        match record(&row, format!("{file}:{line}"), "native-csv") {
            Ok(r) => records.push(r),
            Err(e) => warnings.push(format!("{file}:{line}: {e}; skipped")),
        }
    });
    out.records = records;
    if let Some(u) = unknown {
        warn_unknown_fields(&u, file, out);
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::{IdentityKind, Status};

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
        assert_eq!(r.owners[0].kind, IdentityKind::Email);
        assert!(out.warnings[0].contains("records[1]") && out.warnings[0].contains("fingerprint"));

        let csv = "id,provider,key_id,hint,owner,status,scope,expires_at\n\
k1,aws,AKIAAAAAAAAAAAAAAAA1,,@org/ops,active,infra/**;ci/**,2026-01-01\n\
k2,openai,,sk-proj-ab...wxyz,,inactive,,\n\
k3,openai,,,,weird,,\n\
k4,openai,,,,active,,2024-02-30\n";
        let mut out = Import::default();
        import_csv(csv.as_bytes(), "reg.csv", &mut out).unwrap();
        assert_eq!(out.records.len(), 2);
        assert_eq!(out.records[0].scope, ["infra/**", "ci/**"]);
        assert_eq!(out.records[0].owners[0].kind, IdentityKind::Team);
        assert_eq!(out.records[1].status, Status::Inactive);
        assert!(out.warnings[0].starts_with("reg.csv:4"));
        // Issue 11: an impossible date is a warning naming the row, not echoing the value.
        assert!(
            out.warnings[1].starts_with("reg.csv:5: `expires_at`"),
            "{:?}",
            out.warnings
        );
        assert!(!out.warnings[1].contains("2024-02-30"));
    }
}
