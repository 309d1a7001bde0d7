//! AWS IAM: `aws iam list-access-keys` JSON (joined by the exact `AccessKeyId`),
//! `aws iam get-access-key-last-used` JSON (one object, or an array of them with the
//! `AccessKeyId` added), and the IAM credential report CSV (no key id: joined through the
//! user and the key's creation date, which the report calls `access_key_N_last_rotated`).

use anyhow::Result;
use serde_json::Value;

use super::{
    csv_objects, date_field, each, status_field, str_field, Import, InventoryRecord, Status,
};

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
            name: str_field(item, "UserName"),
            provider: Some("aws".into()),
            key_id: Some(key_id),
            status,
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

pub fn import_credential_report(text: &str, file: &str, out: &mut Import) -> Result<()> {
    for (line, row) in csv_objects(text, file, &mut out.warnings)? {
        let Some(user) = str_field(&row, "user") else {
            out.warnings
                .push(format!("{file}:{line}: no user; skipped"));
            continue;
        };
        for n in [1, 2] {
            let active = str_field(&row, &format!("access_key_{n}_active"))
                .is_some_and(|a| a.eq_ignore_ascii_case("true"));
            let rotated = date_field(&row, &format!("access_key_{n}_last_rotated"));
            let used = date_field(&row, &format!("access_key_{n}_last_used_date"));
            match (rotated, used) {
                (Ok(rotated), Ok(last_used_at)) => {
                    if active || rotated.is_some() {
                        out.aws_report.push(ReportRow {
                            user: user.clone(),
                            active,
                            rotated,
                            last_used_at,
                            source: format!("{file}:{line}"),
                        });
                    }
                }
                (Err(e), _) | (_, Err(e)) => {
                    out.warnings.push(format!("{file}:{line}: {e}; skipped"))
                }
            }
        }
    }
    Ok(())
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
                (None, Some(user)) => r.name.as_deref() == Some(user.as_str()),
                _ => false,
            })
            .map(|(i, _)| i)
            .collect();
        match targets.as_slice() {
            [one] => {
                let r = &mut out.records[*one];
                r.last_used_at = u.last_used_at;
                r.usage_known = true;
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
            .filter(|(_, r)| r.format == "aws-access-keys" && r.name.as_deref() == Some(&row.user))
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
                r.last_used_at = row.last_used_at;
                r.usage_known = true;
            }
            None => out.records.push(InventoryRecord {
                id: format!("{} (credential report)", row.user),
                name: Some(row.user.clone()),
                provider: Some("aws".into()),
                status: if row.active {
                    Status::Active
                } else {
                    Status::Inactive
                },
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
        import_credential_report(report, "r.csv", &mut out).unwrap();
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
    }
}
