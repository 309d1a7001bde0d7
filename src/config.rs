//! Configuration: command-line flags and `sprawl.toml` in, one resolved `Config` out.
//! Flags win over the file; the file's relative paths are relative to the file itself.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde::Deserialize;

/// The default name of the configuration file, looked up at the scanned root.
pub const CONFIG_FILE: &str = "sprawl.toml";
/// Default `--max-file-size`: 25 MiB.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 25 << 20;

/// `sprawl.toml` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    #[serde(default)]
    pub scan: ScanSection,
    /// Audit policy; read by `sprawl audit`.
    #[serde(default)]
    pub audit: crate::audit::Policy,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScanSection {
    /// Globs of paths to leave out, like `--exclude`.
    #[serde(default)]
    pub exclude: Vec<String>,
    /// Size limit such as `25MiB`, `10MB` or a byte count.
    #[serde(default)]
    pub max_file_size: Option<SizeValue>,
    /// Extra rule files or directories.
    #[serde(default)]
    pub rules: Vec<PathBuf>,
    /// Built-in rule ids to turn off.
    #[serde(default)]
    pub disable_rules: Vec<String>,
    /// A baseline file applied to every run.
    #[serde(default)]
    pub baseline: Option<PathBuf>,
    /// Exit 1 only for findings at or above this severity (`--fail-on` wins).
    #[serde(default)]
    pub fail_on: Option<crate::rules::Severity>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum SizeValue {
    Bytes(u64),
    Text(String),
}

impl SizeValue {
    pub fn bytes(&self) -> Result<u64> {
        match self {
            SizeValue::Bytes(n) => Ok(*n),
            SizeValue::Text(s) => parse_size(s),
        }
    }
}

/// Parse `25MiB`, `10MB`, `512k`, `1G`, `1.5k` or a plain byte count. Sizes that do not
/// fit in 64 bits are refused, never wrapped.
pub fn parse_size(s: &str) -> Result<u64> {
    let t = s.trim();
    let split = t
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let bad = || format!("invalid size `{s}`: expected e.g. 25MiB, 10MB or 1000");
    let mult: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" => 1000,
        "kib" => 1 << 10,
        "m" | "mb" => 1_000_000,
        "mib" => 1 << 20,
        "g" | "gb" => 1_000_000_000,
        "gib" => 1 << 30,
        "t" | "tb" => 1_000_000_000_000,
        "tib" => 1 << 40,
        other => bail!("invalid size `{s}`: unknown unit `{other}`"),
    };
    let too_big = || anyhow::anyhow!("size `{s}` is too large (at most 16EiB)");
    let (int, frac) = num.split_once('.').unwrap_or((num, ""));
    if int.is_empty() && frac.is_empty() || frac.contains('.') {
        bail!(bad());
    }
    let whole: u64 = if int.is_empty() {
        0
    } else {
        int.parse().map_err(|_| too_big())?
    };
    let mut bytes = whole.checked_mul(mult).ok_or_else(too_big)?;
    if !frac.is_empty() {
        let f: f64 = format!("0.{frac}").parse().with_context(bad)?;
        bytes = bytes
            .checked_add((f * mult as f64) as u64)
            .ok_or_else(too_big)?;
    }
    Ok(bytes)
}

/// A TOML error as one line: where (`line L, column C`) and what, never the source line (a
/// `--config .env` would print the key), with any secret in the message redacted.
pub fn toml_error(what: &str, text: &str, e: &toml::de::Error) -> anyhow::Error {
    let at = e.span().map(|r| {
        let before = &text.as_bytes()[..r.start.min(text.len())];
        let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
        let col = before.iter().rev().take_while(|&&b| b != b'\n').count() + 1;
        format!(" at line {line}, column {col}")
    });
    let message = e.message().trim().replace('\n', " ");
    anyhow::anyhow!(
        "{}",
        crate::finding::redact_message(&format!(
            "parsing {what}{}: {message}",
            at.unwrap_or_default()
        ))
    )
}

impl ConfigFile {
    pub fn load(path: &Path) -> Result<ConfigFile> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading config {}", path.display()))?;
        let mut cfg: ConfigFile = toml::from_str(&text)
            .map_err(|e| toml_error(&format!("config {}", path.display()), &text, &e))?;
        let base = path.parent().unwrap_or(Path::new("."));
        for r in &mut cfg.scan.rules {
            *r = base.join(&*r);
        }
        if let Some(b) = &mut cfg.scan.baseline {
            *b = base.join(&*b);
        }
        Ok(cfg)
    }

    /// The explicit `--config`, else `sprawl.toml` in the first directory scanned, if any.
    pub fn discover(explicit: Option<&Path>, roots: &[PathBuf]) -> Result<ConfigFile> {
        if let Some(p) = explicit {
            return ConfigFile::load(p);
        }
        let root = roots
            .iter()
            .find(|p| p.as_os_str() != "-" && p.is_dir())
            .cloned()
            .unwrap_or_else(|| PathBuf::from("."));
        let candidate = root.join(CONFIG_FILE);
        if candidate.is_file() {
            ConfigFile::load(&candidate)
        } else {
            Ok(ConfigFile::default())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Regression (issue 11 item 4c): a TOML error printed the offending source line, so
    /// `--config .env` printed the key.
    #[test]
    fn toml_errors_do_not_echo_the_source_line() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(".env");
        let value = "Zx9Qw7Er5Ty3Ui1Op0As8Df6Gh4Jk2L";
        std::fs::write(&p, format!("A=1\nSECRET_TOKEN={value}\n")).unwrap();
        let e = format!("{:#}", ConfigFile::load(&p).unwrap_err());
        assert!(!e.contains(value), "{e}");
        assert!(e.contains("line 1") || e.contains("line 2"), "{e}");
        assert_eq!(e.lines().count(), 1, "{e}");
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("25MiB").unwrap(), 25 << 20);
        assert_eq!(parse_size("10MB").unwrap(), 10_000_000);
        assert_eq!(parse_size("1000").unwrap(), 1000);
        assert_eq!(parse_size("1.5k").unwrap(), 1500);
        assert!(parse_size("ten").is_err());
        assert!(parse_size("5 parsecs").is_err());
        // Regression (issue 11 item 6): overflowing sizes were wrapped or saturated.
        assert_eq!(parse_size("18446744073709551615").unwrap(), u64::MAX);
        assert!(parse_size("18446744073709551616").is_err());
        assert!(parse_size("20000000000GiB").is_err());
        assert!(parse_size("1e308").is_err());
        assert!(parse_size(".").is_err());
        assert_eq!(parse_size("0.5KiB").unwrap(), 512);
    }
}
