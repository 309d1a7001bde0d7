//! AWS IAM: `aws iam list-access-keys` JSON (joined by the exact `AccessKeyId`; `UserName` is
//! the principal the key acts as, not its owner), `aws iam get-access-key-last-used` JSON
//! (one object, or an array of them with the `AccessKeyId` added), and the IAM credential
//! report, as the decoded CSV or the API's JSON with the CSV in base64 `Content` (no key id:
//! joined through the user and the key's creation date, `access_key_N_last_rotated`).

use anyhow::{bail, Result};
use base64::Engine;
use serde_json::Value;

use super::{
    csv_rows, date_field, each, status_field, str_field, Identity, IdentityKind, Import,
    InventoryRecord, Status,
};

fn iam_user(name: &str) -> Identity {
    Identity::new(IdentityKind::CloudPrincipal, name, Some("aws"))
}

/// Usage of one access key, from get-access-key-last-used.
#[derive(Debug, Clone)]
pub struct LastUsed {
    pub user: Option<String>,
    pub key_id: Option<String>,
    pub last_used_at: Option<i64>,
    pub source: String,
}

/// One key slot of one user in the credential report.
#[derive(Debug, Clone)]
pub struct ReportRow {
    pub user: String,
    pub active: bool,
    pub rotated: Option<i64>,
    pub last_used_at: Option<i64>,
    pub source: String,
}

pub fn import_access_keys(v: &Value, file: &str, out: &mut Import) {
    let Some(list) = v.get("AccessKeyMetadata").and_then(|a| a.as_array()) else {
        out.warnings
            .push(format!("{file}: no `AccessKeyMetadata` array"));
        return;
    };
    each(list, file, "AccessKeyMetadata", out, |item, source| {
        let key_id = str_field(item, "AccessKeyId").ok_or("no `AccessKeyId`")?;
        let status = status_field(item, "Status")?;
        Ok(InventoryRecord {
            id: key_id.clone(),
            provider: Some("aws".into()),
            key_id: Some(key_id),
            principal: str_field(item, "UserName").map(|u| iam_user(&u)),
            status,
            vendor_status: Some(status),
            created_at: date_field(item, "CreateDate")?,
            format: "aws-access-keys",
            source,
            ..InventoryRecord::default()
        })
    });
}

pub fn import_last_used(v: &Value, file: &str, out: &mut Import) {
    let list: Vec<&Value> = match v {
        Value::Array(a) => a.iter().collect(),
        other => vec![other],
    };
    for (i, item) in list.into_iter().enumerate() {
        let Some(used) = item.get("AccessKeyLastUsed") else {
            out.warnings
                .push(format!("{file}: [{i}]: no `AccessKeyLastUsed`; skipped"));
            continue;
        };
        if str_field(item, "AccessKeyId").is_none() && str_field(item, "UserName").is_none() {
            out.warnings.push(format!(
                "{file}: [{i}]: names neither an AccessKeyId nor a UserName: cannot be tied to a \
                 key; skipped (add \"AccessKeyId\" to each entry)"
            ));
            continue;
        }
        match date_field(used, "LastUsedDate") {
            Ok(last) => out.aws_last_used.push(LastUsed {
                user: str_field(item, "UserName"),
                key_id: str_field(item, "AccessKeyId"),
                last_used_at: last,
                source: format!("{file}#{i}"),
            }),
            Err(e) => out.warnings.push(format!("{file}: [{i}]: {e}; skipped")),
        }
    }
}

/// The credential report as the API returns it: `{"Content": base64 CSV, "ReportFormat":
/// "text/csv", "GeneratedTime"}`.
pub fn import_credential_report_json(v: &Value, file: &str, out: &mut Import) -> Result<()> {
    let Some(content) = v.get("Content").and_then(Value::as_str) else {
        bail!("{file}: a credential report without a `Content` string; left out");
    };
    if let Some(f) = v.get("ReportFormat").and_then(Value::as_str) {
        if f != "text/csv" {
            bail!("{file}: credential report in a format other than text/csv; left out");
        }
    }
    let compact: String = content.split_whitespace().collect();
    let csv = base64::engine::general_purpose::STANDARD
        .decode(compact.as_bytes())
        .map_err(|_| anyhow::anyhow!("{file}: `Content` is not base64; left out"))?;
    if !csv.starts_with(b"user,arn,") {
        bail!("{file}: `Content` does not decode to a credential report CSV; left out");
    }
    import_credential_report(&csv[..], file, out)
}

pub fn import_credential_report<R: std::io::Read>(
    reader: R,
    file: &str,
    out: &mut Import,
) -> Result<()> {
    let mut rows = std::mem::take(&mut out.aws_report);
    let r = csv_rows(reader, file, &mut out.warnings, |line, row, warnings| {
        let Some(user) = str_field(&row, "user") else {
            warnings.push(format!("{file}:{line}: no user; skipped"));
            return;
        };
        for n in [1, 2] {
            let active = str_field(&row, &format!("access_key_{n}_active"))
                .is_some_and(|a| a.eq_ignore_ascii_case("true"));
            let rotated = date_field(&row, &format!("access_key_{n}_last_rotated"));
            let used = date_field(&row, &format!("access_key_{n}_last_used_date"));
            match (rotated, used) {
                (Ok(rotated), Ok(last_used_at)) => {
                    if active || rotated.is_some() {
                        rows.push(ReportRow {
                            user: user.clone(),
                            active,
                            rotated,
                            last_used_at,
                            source: format!("{file}:{line}"),
                        });
                    }
                }
                (Err(e), _) | (_, Err(e)) => warnings.push(format!("{file}:{line}: {e}; skipped")),
            }
        }
    });
    out.aws_report = rows;
    r
}

fn principal_is(r: &InventoryRecord, user: &str) -> bool {
    r.principal.as_ref().is_some_and(|p| p.value == user)
}

/// Attach last-used dates to the access keys they describe. The credential report names no
/// key id: a row goes to the user's key created at its `last_rotated` time, or to the user's
/// only key; a report row no listed key matches becomes a record of its own.
pub fn apply_usage(out: &mut Import) {
    let lu = std::mem::take(&mut out.aws_last_used);
    for u in lu {
        let targets: Vec<usize> = out
            .records
            .iter()
            .enumerate()
            .filter(|(_, r)| r.format == "aws-access-keys")
            .filter(|(_, r)| match (&u.key_id, &u.user) {
                (Some(k), _) => r.key_id.as_deref() == Some(k.as_str()),
                (None, Some(user)) => principal_is(r, user),
                _ => false,
            })
            .map(|(i, _)| i)
            .collect();
        match targets.as_slice() {
            [one] => {
                let r = &mut out.records[*one];
                r.last_used_at = u.last_used_at;
                r.usage_known = true;
                r.facts.insert("last_used_at", u.source.clone());
            }
            [] => out.warnings.push(format!(
                "{}: no listed access key to attach this last-used date to",
                u.source
            )),
            _ => out.warnings.push(format!(
                "{}: user has several keys and the entry names no AccessKeyId; not applied",
                u.source
            )),
        }
    }
    let rows = std::mem::take(&mut out.aws_report);
    for row in rows {
        let users_keys: Vec<usize> = out
            .records
            .iter()
            .enumerate()
            .filter(|(_, r)| r.format == "aws-access-keys" && principal_is(r, &row.user))
            .map(|(i, _)| i)
            .collect();
        let by_date = users_keys
            .iter()
            .copied()
            .find(|&i| row.rotated.is_some() && out.records[i].created_at == row.rotated);
        let target = by_date.or(match users_keys.as_slice() {
            [one] => Some(*one),
            _ => None,
        });
        match target {
            Some(i) => {
                let r = &mut out.records[i];
                if !r.facts.contains_key("last_used_at") || row.last_used_at > r.last_used_at {
                    r.last_used_at = row.last_used_at;
                    r.facts.insert("last_used_at", row.source.clone());
                }
                r.usage_known = true;
            }
            None => out.records.push(InventoryRecord {
                id: format!("{} (credential report)", row.user),
                provider: Some("aws".into()),
                principal: Some(iam_user(&row.user)),
                status: if row.active {
                    Status::Active
                } else {
                    Status::Inactive
                },
                vendor_status: Some(if row.active {
                    Status::Active
                } else {
                    Status::Inactive
                }),
                hygiene_only: true,
                created_at: row.rotated,
                last_used_at: row.last_used_at,
                usage_known: true,
                format: "aws-credential-report",
                source: row.source,
                ..InventoryRecord::default()
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_last_used_and_credential_report_join() {
        let mut out = Import::default();
        let keys: Value = serde_json::from_str(
            r#"{"AccessKeyMetadata":[
              {"UserName":"bob","AccessKeyId":"AKIAAAAAAAAAAAAAAAA1","Status":"Active","CreateDate":"2024-01-01T00:00:00Z"},
              {"UserName":"bob","AccessKeyId":"AKIAAAAAAAAAAAAAAAA2","Status":"Inactive","CreateDate":"2024-06-01T00:00:00Z"},
              {"UserName":"carl","AccessKeyId":"AKIAAAAAAAAAAAAAAAA3","Status":"Active","CreateDate":"2024-02-01T00:00:00Z"}]}"#,
        )
        .unwrap();
        import_access_keys(&keys, "k.json", &mut out);
        let used: Value = serde_json::from_str(
            r#"{"UserName":"carl","AccessKeyLastUsed":{"LastUsedDate":"2025-01-01T00:00:00Z","ServiceName":"s3","Region":"us-east-1"}}"#,
        )
        .unwrap();
        import_last_used(&used, "u.json", &mut out);
        let report = "user,arn,user_creation_time,password_enabled,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date\n\
bob,arn:aws:iam::1:user/bob,2023-01-01T00:00:00+00:00,false,true,2024-01-01T00:00:00+00:00,2024-03-01T00:00:00+00:00,false,2024-06-01T00:00:00+00:00,N/A\n\
zed,arn:aws:iam::1:user/zed,2023-01-01T00:00:00+00:00,false,true,2023-05-01T00:00:00+00:00,no_information,false,N/A,N/A\n\
bad,arn,2023,false,true,whenever,N/A,false,N/A,N/A\n";
        import_credential_report(report.as_bytes(), "r.csv", &mut out).unwrap();
        apply_usage(&mut out);
        let get = |id: &str| out.records.iter().find(|r| r.id == id).unwrap();
        assert_eq!(
            get("AKIAAAAAAAAAAAAAAAA1").last_used_at,
            Some(1_709_251_200)
        );
        assert!(get("AKIAAAAAAAAAAAAAAAA2").usage_known);
        assert_eq!(get("AKIAAAAAAAAAAAAAAAA2").status, Status::Inactive);
        assert_eq!(
            get("AKIAAAAAAAAAAAAAAAA3").last_used_at,
            Some(1_735_689_600)
        );
        // A report user with no listed key becomes its own record.
        assert_eq!(
            get("zed (credential report)").created_at,
            Some(1_682_899_200)
        );
        assert!(out.warnings.iter().any(|w| w.contains("r.csv:4")));
        assert_eq!(
            get("AKIAAAAAAAAAAAAAAAA1").principal.as_ref().unwrap().kind,
            IdentityKind::CloudPrincipal
        );
        assert_eq!(
            get("AKIAAAAAAAAAAAAAAAA1").fact_source("last_used_at"),
            "r.csv:2"
        );
    }

    #[test]
    fn credential_report_json_with_base64_content() {
        let csv = "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated\n\
<root_account>,arn:aws:iam::1:root,2020-01-01T00:00:00+00:00,not_supported,2024-01-01T00:00:00+00:00,not_supported,not_supported,true,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\n\
ci,arn:aws:iam::1:user/ci,2023-01-01T00:00:00+00:00,false,N/A,N/A,N/A,false,true,2023-02-01T00:00:00+00:00,2025-05-01T00:00:00+00:00,us-east-1,s3,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\n";
        let b64 = base64::engine::general_purpose::STANDARD.encode(csv);
        let v = serde_json::json!({"Content": b64, "ReportFormat": "text/csv", "GeneratedTime": "2025-06-01T00:00:00Z"});
        let mut out = Import::default();
        import_credential_report_json(&v, "cr.json", &mut out).unwrap();
        apply_usage(&mut out);
        assert_eq!(out.records.len(), 1, "{:?}", out.warnings);
        assert_eq!(out.records[0].principal.as_ref().unwrap().value, "ci");
        let bad = serde_json::json!({"Content": "%%%", "ReportFormat": "text/csv"});
        let e = import_credential_report_json(&bad, "cr.json", &mut out).unwrap_err();
        assert!(e.to_string().contains("cr.json"));
    }
}
