//! Inventories: export files in (our own JSON/CSV register, OpenAI and Anthropic key
//! listings, AWS IAM, GCP, GitHub), one `InventoryRecord` model out. The format is detected
//! from the content (or forced); a malformed row is reported with its file and index and
//! skipped, the rest is used.

pub mod anthropic;
pub mod aws;
pub mod gcp;
pub mod github;
pub mod native;
pub mod openai;

use std::{fmt, path::Path};

use anyhow::{bail, Context, Result};
use serde::Serialize;
use serde_json::Value;

use crate::finding::Fingerprint;

/// Lifecycle status of a credential as the inventory knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Active,
    Inactive,
    Revoked,
    Expired,
    Retired,
    #[default]
    Unknown,
}

impl Status {
    pub fn parse(s: &str) -> Option<Status> {
        Some(match s.trim().to_ascii_lowercase().as_str() {
            "active" | "enabled" | "valid" => Status::Active,
            "inactive" | "disabled" | "suspended" => Status::Inactive,
            "revoked" | "deleted" | "archived" => Status::Revoked,
            "expired" => Status::Expired,
            "retired" | "decommissioned" => Status::Retired,
            "" | "unknown" => Status::Unknown,
            _ => return None,
        })
    }

    /// The key still works (as far as the inventory knows).
    pub fn is_live(self) -> bool {
        matches!(self, Status::Active | Status::Retired | Status::Unknown)
    }
}

/// A redacted form of a key as vendors list it: a prefix and a suffix of the secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hint {
    pub prefix: String,
    pub suffix: String,
}

impl Hint {
    /// Parse `sk-proj-abc...wxyz`, `sk-ant-api03-R2D…igAA`, `…wxyz` or `****wxyz`.
    pub fn parse(s: &str) -> Option<Hint> {
        let s = s.trim();
        for sep in ["...", "…", "****", "***", "**"] {
            if let Some((p, q)) = s.split_once(sep) {
                let prefix = p.trim_end_matches('*').to_string();
                let suffix = q.trim_start_matches(['*', '.']).to_string();
                if prefix.is_empty() && suffix.is_empty() {
                    return None;
                }
                return Some(Hint { prefix, suffix });
            }
        }
        None
    }

    /// A hint that is only the last characters (GitHub's `token_last_eight`).
    pub fn suffix(s: &str) -> Option<Hint> {
        let s = s.trim();
        (!s.is_empty()).then(|| Hint {
            prefix: String::new(),
            suffix: s.to_string(),
        })
    }
}

impl fmt::Display for Hint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}…{}", self.prefix, self.suffix)
    }
}

/// One credential as an inventory describes it. Dates are Unix seconds.
#[derive(Debug, Clone, Default, Serialize)]
pub struct InventoryRecord {
    pub id: String,
    pub name: Option<String>,
    pub provider: Option<String>,
    pub fingerprint: Option<Fingerprint>,
    pub key_id: Option<String>,
    pub hint: Option<Hint>,
    pub owner: Option<String>,
    pub purpose: Option<String>,
    pub approved_by: Option<String>,
    pub environment: Option<String>,
    /// Repository or path globs where the credential may live.
    pub scope: Vec<String>,
    pub status: Status,
    pub created_at: Option<i64>,
    pub expires_at: Option<i64>,
    pub last_used_at: Option<i64>,
    /// Whether the source reports usage at all (a missing `last_used_at` then means never used).
    pub usage_known: bool,
    pub review_due: Option<i64>,
    /// The export format it came from.
    pub format: &'static str,
    /// `file#index` (or `file:line`), for people.
    pub source: String,
}

/// The formats `--inventory-format` accepts.
pub const FORMATS: &[&str] = &[
    "native-json",
    "native-csv",
    "openai",
    "anthropic",
    "aws-access-keys",
    "aws-last-used",
    "aws-credential-report",
    "gcp-keys",
    "github-credential-authorizations",
];

/// What importing gave: records, and problems with single rows (which were skipped).
#[derive(Debug, Default)]
pub struct Import {
    pub records: Vec<InventoryRecord>,
    /// AWS last-used entries, applied to the access keys once every file is read.
    pub aws_last_used: Vec<aws::LastUsed>,
    /// AWS credential report rows, likewise.
    pub aws_report: Vec<aws::ReportRow>,
    pub warnings: Vec<String>,
}

/// A date field: RFC 3339, `YYYY-MM-DD` or Unix seconds; anything else is an error naming
/// the field and the reason (never the value: inventories are not ours to print).
pub fn date_field(v: &Value, field: &str) -> Result<Option<i64>, String> {
    let bad = |why: crate::time::DateError| format!("`{field}`: {why}");
    match v.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => {
            let secs = match (n.as_i64(), n.as_f64()) {
                (Some(i), _) => i,
                (None, Some(f)) if f.fract() == 0.0 && f.abs() < 1e15 => f as i64,
                _ => return Err(bad(crate::time::DateError::OutOfRange)),
            };
            crate::time::check_unix(secs).map(Some).map_err(bad)
        }
        Some(Value::String(s)) if s.trim().is_empty() || is_not_available(s) => Ok(None),
        Some(Value::String(s)) => crate::time::parse_date_checked(s).map(Some).map_err(bad),
        Some(_) => Err(bad(crate::time::DateError::Malformed)),
    }
}

/// The placeholders exports write where a date is missing.
fn is_not_available(s: &str) -> bool {
    matches!(
        s.trim(),
        "N/A" | "no_information" | "not_supported" | "-" | "null"
    )
}

/// The rows of a CSV as JSON objects keyed by lower-case header (empty cells left out), with
/// their 1-based line numbers; a row that cannot be read is reported as `file:line` in
/// `warnings` and skipped. Importers then read CSV and JSON rows alike.
pub fn csv_objects(
    text: &str,
    file: &str,
    warnings: &mut Vec<String>,
) -> Result<Vec<(usize, Value)>> {
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers: Vec<String> = rdr
        .headers()
        .with_context(|| format!("{file}: reading the CSV header"))?
        .iter()
        .map(|h| h.to_ascii_lowercase())
        .collect();
    let mut rows = Vec::new();
    for (i, row) in rdr.records().enumerate() {
        let line = i + 2;
        match row {
            Ok(r) => {
                let obj: serde_json::Map<String, Value> = headers
                    .iter()
                    .zip(r.iter())
                    .filter(|(_, cell)| !cell.is_empty())
                    .map(|(h, cell)| (h.clone(), Value::String(cell.to_string())))
                    .collect();
                rows.push((line, Value::Object(obj)));
            }
            Err(e) => warnings.push(format!("{file}:{line}: {e}; skipped")),
        }
    }
    Ok(rows)
}

/// A roster: a CSV with an `email` column, the owners still present (lower case).
pub fn load_roster(path: &Path, warnings: &mut Vec<String>) -> Result<crate::audit::Roster> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).with_context(|| format!("reading roster {shown}"))?;
    let has_email = text.lines().next().is_some_and(|h| {
        h.split(',')
            .any(|c| c.trim().trim_matches('"').eq_ignore_ascii_case("email"))
    });
    if !has_email {
        bail!("roster {shown}: no `email` column");
    }
    Ok(csv_objects(&text, &shown, warnings)?
        .into_iter()
        .filter_map(|(_, row)| str_field(&row, "email"))
        .map(|e| e.to_ascii_lowercase())
        .collect())
}

/// A status field; an unknown value is an error naming the field.
pub fn status_field(v: &Value, field: &str) -> Result<Status, String> {
    match str_field(v, field) {
        Some(s) => Status::parse(&s).ok_or_else(|| format!("`{field}`: unknown value {s:?}")),
        None => Ok(Status::Unknown),
    }
}

/// Import each item of a listing with `f`; an item it rejects is reported with the file and
/// its index (`what[i]`) and skipped.
pub fn each<F>(list: &[Value], file: &str, what: &str, out: &mut Import, f: F)
where
    F: Fn(&Value, String) -> Result<InventoryRecord, String>,
{
    for (i, item) in list.iter().enumerate() {
        match f(item, format!("{file}#{i}")) {
            Ok(r) => out.records.push(r),
            Err(e) => out
                .warnings
                .push(format!("{file}: {what}[{i}]: {e}; skipped")),
        }
    }
}

pub fn str_field(v: &Value, field: &str) -> Option<String> {
    match v.get(field) {
        Some(Value::String(s)) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    }
}

/// Guess the format of a file from its content.
pub fn detect(text: &str) -> Option<&'static str> {
    let t = text.trim_start();
    if t.starts_with('{') || t.starts_with('[') {
        let v: Value = serde_json::from_str(t).ok()?;
        let first = match &v {
            Value::Array(a) => a.first().cloned(),
            Value::Object(o) => o
                .get("data")
                .or_else(|| o.get("records"))
                .and_then(|d| d.as_array())
                .and_then(|a| a.first().cloned()),
            _ => None,
        };
        if let Value::Object(o) = &v {
            if o.contains_key("AccessKeyMetadata") {
                return Some("aws-access-keys");
            }
            if o.contains_key("AccessKeyLastUsed") {
                return Some("aws-last-used");
            }
        }
        if let Value::Array(a) = &v {
            if a.first()
                .is_some_and(|x| x.get("AccessKeyLastUsed").is_some())
            {
                return Some("aws-last-used");
            }
        }
        let first = first?;
        if first.get("redacted_value").is_some() {
            return Some("openai");
        }
        if first.get("partial_key_hint").is_some() {
            return Some("anthropic");
        }
        if first.get("token_last_eight").is_some() || first.get("credential_id").is_some() {
            return Some("github-credential-authorizations");
        }
        if first
            .get("name")
            .and_then(|n| n.as_str())
            .is_some_and(|n| n.contains("/keys/"))
        {
            return Some("gcp-keys");
        }
        if ["fingerprint", "key_id", "hint", "owner", "id"]
            .iter()
            .any(|k| first.get(*k).is_some())
        {
            return Some("native-json");
        }
        return None;
    }
    let header = t.lines().next()?.to_ascii_lowercase();
    if header.starts_with("user,arn,user_creation_time") {
        return Some("aws-credential-report");
    }
    let cols: Vec<&str> = header
        .split(',')
        .map(|c| c.trim().trim_matches('"'))
        .collect();
    if cols
        .iter()
        .any(|c| matches!(*c, "fingerprint" | "key_id" | "hint"))
    {
        return Some("native-csv");
    }
    None
}

/// Read one inventory file (format detected unless `forced`) into `out`.
pub fn load(path: &Path, forced: Option<&str>, out: &mut Import) -> Result<()> {
    let shown = path.display().to_string();
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading inventory {shown}"))?;
    let format = match forced {
        Some(f) if FORMATS.contains(&f) => f,
        Some(f) => bail!("unknown inventory format `{f}`; known: {}", FORMATS.join(", ")),
        None => detect(&text).with_context(|| {
            format!(
                "inventory {shown}: format not recognised; known formats: {} (use --inventory-format)",
                FORMATS.join(", ")
            )
        })?,
    };
    let json = || -> Result<Value> {
        serde_json::from_str(&text).with_context(|| format!("inventory {shown}: invalid JSON"))
    };
    match format {
        "native-json" => native::import_json(&json()?, &shown, out),
        "native-csv" => native::import_csv(&text, &shown, out)?,
        "openai" => openai::import(&json()?, &shown, out),
        "anthropic" => anthropic::import(&json()?, &shown, out),
        "aws-access-keys" => aws::import_access_keys(&json()?, &shown, out),
        "aws-last-used" => aws::import_last_used(&json()?, &shown, out),
        "aws-credential-report" => aws::import_credential_report(&text, &shown, out)?,
        "gcp-keys" => gcp::import(&json()?, &shown, out),
        "github-credential-authorizations" => github::import(&json()?, &shown, out),
        _ => unreachable!("checked above"),
    }
    Ok(())
}

/// Read every inventory, then apply AWS usage data to the AWS keys it belongs to.
pub fn load_all(paths: &[std::path::PathBuf], forced: Option<&str>) -> Result<Import> {
    let mut out = Import::default();
    for p in paths {
        load(p, forced, &mut out)?;
    }
    aws::apply_usage(&mut out);
    Ok(out)
}

/// The items of a listing: a top-level array, or the array under `data` / `records`.
pub fn items<'a>(v: &'a Value, keys: &[&str]) -> Option<&'a Vec<Value>> {
    if let Value::Array(a) = v {
        return Some(a);
    }
    keys.iter()
        .find_map(|k| v.get(*k).and_then(|d| d.as_array()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hints_parse() {
        let h = Hint::parse("sk-proj-abc...wxyz").unwrap();
        assert_eq!(
            (h.prefix.as_str(), h.suffix.as_str()),
            ("sk-proj-abc", "wxyz")
        );
        let h = Hint::parse("sk-ant-api03-R2D…igAA").unwrap();
        assert_eq!(h.suffix, "igAA");
        let h = Hint::parse("****wxyz").unwrap();
        assert_eq!((h.prefix.as_str(), h.suffix.as_str()), ("", "wxyz"));
        assert!(Hint::parse("nohint").is_none());
    }

    #[test]
    fn detects_formats() {
        assert_eq!(
            detect(r#"{"object":"list","data":[{"redacted_value":"sk-...x"}]}"#),
            Some("openai")
        );
        assert_eq!(
            detect(r#"{"data":[{"partial_key_hint":"sk-ant-...x"}]}"#),
            Some("anthropic")
        );
        assert_eq!(
            detect(r#"{"AccessKeyMetadata":[]}"#),
            Some("aws-access-keys")
        );
        assert_eq!(
            detect(r#"[{"name":"projects/p/serviceAccounts/s/keys/abc"}]"#),
            Some("gcp-keys")
        );
        assert_eq!(
            detect(r#"[{"token_last_eight":"abcdefgh"}]"#),
            Some("github-credential-authorizations")
        );
        assert_eq!(
            detect(r#"[{"id":"k1","fingerprint":"sha256:00"}]"#),
            Some("native-json")
        );
        assert_eq!(
            detect("user,arn,user_creation_time,password_enabled\n"),
            Some("aws-credential-report")
        );
        assert_eq!(detect("id,fingerprint,owner\n"), Some("native-csv"));
        assert_eq!(detect("hello"), None);
    }
}
