//! GitHub `GET /orgs/{org}/credential-authorizations`: joined by `token_last_eight`.

use serde_json::Value;

use super::{date_field, each, items, str_field, Hint, Import, InventoryRecord, Status};

pub fn import(v: &Value, file: &str, out: &mut Import) {
    let Some(list) = items(v, &["data"]) else {
        out.warnings.push(format!("{file}: expected an array"));
        return;
    };
    each(list, file, "authorizations", out, |item, source| {
        let id = str_field(item, "credential_id").ok_or("no `credential_id`")?;
        let hint = str_field(item, "token_last_eight").and_then(|s| Hint::suffix(&s));
        let scopes: Vec<String> = item
            .get("scopes")
            .and_then(|s| s.as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default();
        Ok(InventoryRecord {
            id,
            name: str_field(item, "credential_type"),
            provider: Some("github".into()),
            hint,
            owner: str_field(item, "login"),
            purpose: (!scopes.is_empty()).then(|| format!("scopes: {}", scopes.join(", "))),
            status: Status::Active,
            created_at: date_field(item, "credential_authorized_at")?,
            expires_at: date_field(item, "authorized_credential_expires_at")?,
            last_used_at: date_field(item, "credential_accessed_at")?,
            usage_known: true,
            format: "github-credential-authorizations",
            source,
            ..InventoryRecord::default()
        })
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credential_authorizations() {
        let v: Value = serde_json::from_str(
            r#"[{"login":"octocat","credential_id":161195,"credential_type":"personal access token",
                 "token_last_eight":"71c3fc11","credential_authorized_at":"2011-01-26T19:06:43Z",
                 "credential_accessed_at":"2011-01-26T19:06:43Z","authorized_credential_expires_at":null,
                 "scopes":["user","repo"]},{"login":"x"}]"#,
        )
        .unwrap();
        let mut out = Import::default();
        import(&v, "gh.json", &mut out);
        assert_eq!(out.records.len(), 1);
        let r = &out.records[0];
        assert_eq!(r.id, "161195");
        assert_eq!(r.hint.as_ref().unwrap().suffix, "71c3fc11");
        assert_eq!(r.owner.as_deref(), Some("octocat"));
        assert_eq!(r.purpose.as_deref(), Some("scopes: user, repo"));
        assert_eq!(out.warnings.len(), 1);
    }
}
