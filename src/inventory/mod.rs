//! Inventories: export files in (our own JSON/CSV register, OpenAI and Anthropic key
//! listings, AWS IAM, GCP service-account and API keys, GitHub credential authorizations and
//! fine-grained PAT grants, Azure key lists), one `InventoryRecord` model out. The format is
//! detected from the content (or given per file as `FORMAT:PATH`), and each importer checks
//! that a file has the shape it claims. A file that cannot be read is an error naming it and
//! the reason, and the rest are still read; a malformed row is a warning naming its file and
//! index, and is skipped. No message repeats an inventory value.

pub mod anthropic;
pub mod aws;
pub mod azure;
pub mod gcp;
pub mod github;
pub mod hint;
pub mod identity;
pub mod json;
pub mod native;
pub mod openai;

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
};

use anyhow::{bail, Context, Result};
use serde::Serialize;
use serde_json::Value;

pub use hint::Hint;
pub use identity::{load_roster, Identity, IdentityKind, Roster};

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

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Active => "active",
            Status::Inactive => "inactive",
            Status::Revoked => "revoked",
            Status::Expired => "expired",
            Status::Retired => "retired",
            Status::Unknown => "unknown",
        }
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
    /// The owner as shown to people (the first of `owners`).
    pub owner: Option<String>,
    /// Who owns it, each with its kind (register owner, vendor creator or user).
    pub owners: Vec<Identity>,
    /// The machine identity the key acts as (AWS IAM user, GCP or OpenAI service account):
    /// who the key is, not who owns it.
    pub principal: Option<Identity>,
    /// The team the credential belongs to (register), for `owner_moved`.
    pub team: Option<String>,
    pub purpose: Option<String>,
    pub approved_by: Option<String>,
    pub environment: Option<String>,
    /// Vendor workspace or project (Anthropic workspace, OpenAI project).
    pub workspace: Option<String>,
    /// Repository or path globs where the credential may live.
    pub scope: Vec<String>,
    /// The status that decides (the vendor's where known, else the register's).
    pub status: Status,
    /// What the register states (intent), when a register describes it.
    pub register_status: Option<Status>,
    /// What the vendor states (reality), when a vendor export describes it.
    pub vendor_status: Option<Status>,
    pub created_at: Option<i64>,
    pub expires_at: Option<i64>,
    /// The vendor enforces `expires_at` (OpenAI, GCP, GitHub): past it the key no longer works.
    pub expiry_enforced: bool,
    pub last_used_at: Option<i64>,
    /// Whether the source reports usage at all (a missing `last_used_at` then means never used).
    pub usage_known: bool,
    pub review_due: Option<i64>,
    /// What the vendor itself flagged: exposure detected, owner's access revoked.
    pub vendor_flags: Vec<VendorFlag>,
    /// The export has nothing to join on (no hint, key id or fingerprint): hygiene only.
    pub hygiene_only: bool,
    /// The export format it came from.
    pub format: &'static str,
    /// `file#index` (or `file:line`), for people.
    pub source: String,
    /// Where each merged-in fact came from (`field` → `file#index`), when not `source`.
    pub facts: BTreeMap<&'static str, String>,
}

/// Something the vendor itself said about a key that changes its risk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum VendorFlag {
    /// Google found the key exposed publicly (`disableReason` EXPOSED / COMPROMISE_DETECTED).
    ExposureDetected,
    /// OpenAI `owner_project_access: inactive`: the owner no longer has access to the project.
    OwnerAccessInactive,
}

impl InventoryRecord {
    /// The export a fact came from.
    pub fn fact_source(&self, field: &str) -> &str {
        self.facts.get(field).map_or(self.source.as_str(), |s| s)
    }

    /// Whether this record is a register row (intent) rather than a vendor's listing.
    pub fn is_register(&self) -> bool {
        self.format.starts_with("native")
    }

    /// Set the owners, and the owner shown to people.
    pub fn set_owners(&mut self, mut owners: Vec<Identity>) {
        owners.shrink_to_fit();
        self.owner = owners.first().map(|o| o.value.clone());
        self.owners = owners;
    }
}

/// The formats the importers read (give one per file as `FORMAT:PATH`).
pub const FORMATS: &[&str] = &[
    "native-json",
    "native-csv",
    "openai",
    "anthropic",
    "aws-access-keys",
    "aws-last-used",
    "aws-credential-report",
    "gcp-keys",
    "gcp-api-keys",
    "github-credential-authorizations",
    "github-fine-grained-pats",
    "azure-keys",
];

/// What importing gave: records, problems with single rows (which were skipped), and files
/// that could not be used at all.
#[derive(Debug, Default)]
pub struct Import {
    pub records: Vec<InventoryRecord>,
    /// AWS last-used entries, applied to the access keys once every file is read.
    pub aws_last_used: Vec<aws::LastUsed>,
    /// AWS credential report rows, likewise.
    pub aws_report: Vec<aws::ReportRow>,
    pub warnings: Vec<String>,
    /// Files left out, each with the reason (one line each, naming the file).
    pub errors: Vec<String>,
    /// Files given as inventories that are sprawl reports: audited as findings instead.
    pub reports: Vec<PathBuf>,
    /// Which file was read as what, for people.
    pub read_as: Vec<(String, &'static str)>,
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

/// The rows of a CSV, one at a time, as JSON objects keyed by lower-case header (empty
/// cells left out), with their 1-based line numbers; a row that cannot be read is reported
/// as `file:line` in `warnings` and skipped. Importers then read CSV and JSON rows alike,
/// and a million-row file is never held in memory at once.
pub fn csv_rows<R: std::io::Read>(
    reader: R,
    file: &str,
    warnings: &mut Vec<String>,
    mut f: impl FnMut(usize, Value, &mut Vec<String>),
) -> Result<()> {
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(reader);
    let headers: Vec<String> = rdr
        .headers()
        .map_err(|_| anyhow::anyhow!("{file}: the CSV header cannot be read"))?
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').to_ascii_lowercase())
        .collect();
    let mut row = csv::StringRecord::new();
    let mut line = 1;
    loop {
        line += 1;
        match rdr.read_record(&mut row) {
            Ok(false) => break,
            Ok(true) => {
                let obj: serde_json::Map<String, Value> = headers
                    .iter()
                    .zip(row.iter())
                    .filter(|(_, cell)| !cell.is_empty())
                    .map(|(h, cell)| (h.clone(), Value::String(cell.to_string())))
                    .collect();
                f(line, Value::Object(obj), warnings);
            }
            Err(e) => {
                let why = match e.kind() {
                    csv::ErrorKind::Utf8 { .. } => "not UTF-8",
                    csv::ErrorKind::UnequalLengths { .. } => "wrong number of fields",
                    _ => "not a CSV row",
                };
                warnings.push(format!("{file}:{line}: {why}; skipped"));
                if !matches!(
                    e.kind(),
                    csv::ErrorKind::Utf8 { .. } | csv::ErrorKind::UnequalLengths { .. }
                ) {
                    break;
                }
            }
        }
    }
    Ok(())
}

/// A status field; an unknown value is an error naming the field.
pub fn status_field(v: &Value, field: &str) -> Result<Status, String> {
    match str_field(v, field) {
        Some(s) => Status::parse(&s).ok_or_else(|| {
            format!(
                "`{field}`: not a known status (active, inactive, revoked, archived, expired, \
                 retired)"
            )
        }),
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

/// Keys of our own register.
const NATIVE_FIELDS: &[&str] = &[
    "id",
    "name",
    "provider",
    "fingerprint",
    "key_id",
    "hint",
    "owner",
    "team",
    "purpose",
    "approved_by",
    "environment",
    "scope",
    "status",
    "created_at",
    "expires_at",
    "last_used_at",
    "review_due",
];

/// The format one listing item has, judged by the fields its vendor documents.
pub fn shape_of(item: &Value) -> Option<&'static str> {
    let o = item.as_object()?;
    let has = |k: &str| o.contains_key(k);
    let name = o.get("name").and_then(|n| n.as_str()).unwrap_or("");
    let object = o.get("object").and_then(|n| n.as_str()).unwrap_or("");
    if object.starts_with("organization.") && object.ends_with("api_key") || has("redacted_value") {
        return Some("openai");
    }
    if has("partial_key_hint")
        || (o.get("type").and_then(|t| t.as_str()) == Some("api_key")
            && o.get("id")
                .and_then(|t| t.as_str())
                .is_some_and(|i| i.starts_with("apikey_")))
    {
        return Some("anthropic");
    }
    if has("credential_id") || has("token_last_eight") || has("credential_type") {
        return Some("github-credential-authorizations");
    }
    if has("token_id") && (has("token_name") || has("access_granted_at")) {
        return Some("github-fine-grained-pats");
    }
    if name.contains("/serviceAccounts/") && name.contains("/keys/") {
        return Some("gcp-keys");
    }
    if (name.contains("/locations/") && name.contains("/keys/")) || has("keyString") {
        return Some("gcp-api-keys");
    }
    if has("AccessKeyLastUsed") {
        return Some("aws-last-used");
    }
    if has("AccessKeyId") && has("Status") {
        return Some("aws-access-keys");
    }
    let native = o
        .keys()
        .filter(|k| NATIVE_FIELDS.contains(&k.as_str()))
        .count();
    let joinable = ["fingerprint", "key_id", "hint", "owner"]
        .iter()
        .any(|k| has(k));
    if joinable && native * 2 >= o.len() {
        return Some("native-json");
    }
    None
}

/// Guess the format of a JSON export (after pages are joined).
pub fn detect_json(v: &Value) -> Result<&'static str, String> {
    if let Value::Object(o) = v {
        if o.get("schema").and_then(|s| s.as_str()) == Some(crate::report::json::SCHEMA) {
            return Ok("sprawl-report");
        }
        if o.contains_key("AccessKeyMetadata") {
            return Ok("aws-access-keys");
        }
        if o.contains_key("AccessKeyLastUsed") {
            return Ok("aws-last-used");
        }
        if o.contains_key("Content") && o.contains_key("ReportFormat") {
            return Ok("aws-credential-report");
        }
        if azure::is_key_list(o) {
            return Ok("azure-keys");
        }
    }
    let Some(list) = items(v, &["data", "records", "keys"]) else {
        return Err("neither a list nor a known export object".into());
    };
    let Some(first) = list.first() else {
        return Err("the listing is empty".into());
    };
    shape_of(first).ok_or_else(|| "its items have none of the fields of a known export".into())
}

/// Guess the format of a CSV from its header.
fn detect_csv(header: &str) -> Option<&'static str> {
    let header = header.to_ascii_lowercase();
    if header.starts_with("user,arn,user_creation_time") {
        return Some("aws-credential-report");
    }
    let cols: Vec<&str> = header
        .split(',')
        .map(|c| c.trim().trim_matches('"'))
        .collect();
    cols.iter()
        .any(|c| matches!(*c, "fingerprint" | "key_id" | "hint"))
        .then_some("native-csv")
}

/// Guess the format of a file from its content (`None` when nothing fits).
pub fn detect(text: &str) -> Option<&'static str> {
    let t = text.trim_start_matches('\u{feff}').trim_start();
    if t.starts_with('{') || t.starts_with('[') {
        return json::documents(t)
            .ok()
            .and_then(|(v, _)| detect_json(&v).ok());
    }
    detect_csv(t.lines().next()?)
}

/// One `--inventory` argument: `PATH`, or `FORMAT:PATH` to give that file's format.
pub fn parse_input(arg: &Path) -> (Option<String>, PathBuf) {
    let s = arg.to_string_lossy();
    if let Some((f, p)) = s.split_once(':') {
        if FORMATS.contains(&f) && !p.is_empty() {
            return (Some(f.to_string()), PathBuf::from(p));
        }
    }
    (None, arg.to_path_buf())
}

/// How large a prefix of a file is read to tell its format.
const SNIFF: usize = 64 * 1024;

/// Read one inventory file (format detected unless `forced`) into `out`. An error means the
/// file was left out; its message names the file and the reason.
pub fn load(path: &Path, forced: Option<&str>, out: &mut Import) -> Result<()> {
    let shown = path.display().to_string();
    let forced: Option<&'static str> = match forced {
        Some(f) => Some(FORMATS.iter().copied().find(|k| *k == f).with_context(|| {
            format!(
                "{shown}: unknown inventory format; known: {}",
                FORMATS.join(", ")
            )
        })?),
        None => None,
    };
    let mut head = Vec::with_capacity(SNIFF);
    {
        use std::io::Read;
        let file = std::fs::File::open(path).with_context(|| format!("{shown}: cannot open"))?;
        file.take(SNIFF as u64)
            .read_to_end(&mut head)
            .with_context(|| format!("{shown}: cannot read"))?;
    }
    let head_text = String::from_utf8_lossy(&head);
    let start = head_text.trim_start_matches('\u{feff}').trim_start();
    let is_json = start.starts_with('{') || start.starts_with('[');
    if !is_json {
        let header = start.lines().next().unwrap_or("");
        let format = match (forced, detect_csv(header)) {
            (Some(f), Some(d)) if f != d => bail!(
                "{shown}: given as {f}, but its header is that of {d}; left out"
            ),
            (Some(f), _) => f,
            (None, Some(d)) => d,
            (None, None) => bail!(
                "{shown}: format not recognised (not JSON, and not a CSV with a `fingerprint`, \
                 `key_id` or `hint` column or a credential report header); give it as FORMAT:{shown} \
                 with one of: {}",
                FORMATS.join(", ")
            ),
        };
        let file = std::fs::File::open(path).with_context(|| format!("{shown}: cannot open"))?;
        let reader = std::io::BufReader::new(file);
        out.read_as.push((shown.clone(), format));
        return match format {
            "native-csv" => native::import_csv(reader, &shown, out),
            "aws-credential-report" => aws::import_credential_report(reader, &shown, out),
            other => bail!("{shown}: given as {other}, which is a JSON export, but it is not JSON"),
        };
    }
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("{shown}: cannot read as UTF-8 text"))?;
    let (v, pages) = json::documents(&text).map_err(|e| anyhow::anyhow!("{shown}: {e}"))?;
    drop(text);
    let detected = detect_json(&v);
    let format = match (forced, detected) {
        (_, Ok("sprawl-report")) => {
            out.reports.push(path.to_path_buf());
            return Ok(());
        }
        (Some(f), Ok(d)) if f != d && !(f == "native-json" && d == "native-csv") => {
            bail!("{shown}: given as {f}, but its content is a {d} export; left out")
        }
        (Some(f), _) => {
            if f == "native-csv" || f == "aws-credential-report" && v.get("Content").is_none() {
                bail!("{shown}: given as {f}, which is CSV, but the file is JSON; left out");
            }
            f
        }
        (None, Ok(d)) => d,
        (None, Err(why)) => bail!(
            "{shown}: format not recognised ({why}); give it as FORMAT:{shown} with one of: {}",
            FORMATS.join(", ")
        ),
    };
    out.read_as.push((shown.clone(), format));
    if pages > 1 {
        out.warnings
            .push(format!("{shown}: {pages} pages joined into one listing"));
    }
    json::warn_incomplete(&v, &shown, &mut out.warnings);
    match format {
        "native-json" => native::import_json(&v, &shown, out),
        "openai" => openai::import(&v, &shown, out),
        "anthropic" => anthropic::import(&v, &shown, out),
        "aws-access-keys" => aws::import_access_keys(&v, &shown, out),
        "aws-last-used" => aws::import_last_used(&v, &shown, out),
        "aws-credential-report" => aws::import_credential_report_json(&v, &shown, out)?,
        "gcp-keys" => gcp::import(&v, &shown, out),
        "gcp-api-keys" => gcp::import_api_keys(&v, &shown, out),
        "github-credential-authorizations" => github::import(&v, &shown, out),
        "github-fine-grained-pats" => github::import_fine_grained(&v, &shown, out),
        "azure-keys" => azure::import(&v, path, &shown, out),
        other => bail!("{shown}: {other} is not a JSON export"),
    }
    Ok(())
}

/// Read every inventory (each `PATH` or `FORMAT:PATH`), then apply AWS usage data to the
/// AWS keys it belongs to. Never fails: a file that cannot be used is in `errors`.
pub fn load_all(inputs: &[(Option<String>, PathBuf)]) -> Import {
    let mut out = Import::default();
    for (forced, p) in inputs {
        if let Err(e) = load(p, forced.as_deref(), &mut out) {
            out.errors.push(format!("{e:#}"));
        }
    }
    aws::apply_usage(&mut out);
    out
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
    fn detects_formats() {
        for (text, want) in [
            (
                r#"{"object":"list","data":[{"redacted_value":"sk-...x"}]}"#,
                Some("openai"),
            ),
            (
                r#"{"data":[{"partial_key_hint":null,"id":"apikey_1"}]}"#,
                Some("anthropic"),
            ),
            (
                r#"{"AccessKeyMetadata":[],"IsTruncated":false}"#,
                Some("aws-access-keys"),
            ),
            (
                r#"[{"name":"projects/p/serviceAccounts/s/keys/abc"}]"#,
                Some("gcp-keys"),
            ),
            (
                r#"{"keys":[{"name":"projects/p/serviceAccounts/s/keys/abc"}]}"#,
                Some("gcp-keys"),
            ),
            (
                r#"[{"name":"projects/1/locations/global/keys/u","uid":"u"}]"#,
                Some("gcp-api-keys"),
            ),
            (
                r#"[{"token_last_eight":"abcdefgh"}][{"token_last_eight":"bcdefghi"}]"#,
                Some("github-credential-authorizations"),
            ),
            (
                r#"[[{"credential_id":1}],[{"credential_id":2}]]"#,
                Some("github-credential-authorizations"),
            ),
            (
                r#"[{"id":1,"owner":{"login":"o"},"token_id":2,"token_name":"t"}]"#,
                Some("github-fine-grained-pats"),
            ),
            (r#"{"key1":"a","key2":"b"}"#, Some("azure-keys")),
            (
                r#"{"Content":"dXNlcg==","ReportFormat":"text/csv"}"#,
                Some("aws-credential-report"),
            ),
            (
                r#"[{"id":"k1","fingerprint":"sha256:00"}]"#,
                Some("native-json"),
            ),
            (
                "user,arn,user_creation_time,password_enabled
",
                Some("aws-credential-report"),
            ),
            (
                "id,fingerprint,owner
",
                Some("native-csv"),
            ),
            ("hello", None),
            (r#"{"hello":"world"}"#, None),
        ] {
            assert_eq!(detect(text), want, "{text}");
        }
    }

    #[test]
    fn per_file_formats() {
        assert_eq!(
            parse_input(Path::new("gcp-keys:keys.json")),
            (Some("gcp-keys".into()), PathBuf::from("keys.json"))
        );
        assert_eq!(parse_input(Path::new("c:/x.json")).0, None);
    }
}
