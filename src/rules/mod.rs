//! Rules as data: TOML rule files (built-in, compiled into the binary, plus extra files the
//! user names) in, a validated `RuleSet` out. `check` runs every rule's examples through the
//! whole matcher; `template` expands the placeholders examples use to stay out of push protection.

pub mod check;
pub mod contexts;
pub mod template;
pub mod validator;

use std::{fmt, path::Path, sync::Arc};

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

mod builtin {
    include!(concat!(env!("OUT_DIR"), "/builtin_rules.rs"));
}

/// How bad a leak of this kind of credential is.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What sort of credential a rule finds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    ApiKey,
    AdminKey,
    Token,
    PrivateKey,
    Password,
    ConnectionString,
    Webhook,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::ApiKey => "api-key",
            Kind::AdminKey => "admin-key",
            Kind::Token => "token",
            Kind::PrivateKey => "private-key",
            Kind::Password => "password",
            Kind::ConnectionString => "connection-string",
            Kind::Webhook => "webhook",
        }
    }
}

/// Whether a leaked credential keeps working until someone revokes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Lifetime {
    #[default]
    Static,
    ShortLived,
}

/// How sure a match is to be a real credential: `high` for self-identifying keys (a vendor
/// prefix with a checksum or fixed structure), `medium` for a provider keyword near a
/// format-valid value, `low` for generic assignments. A rule that does not say is given one by
/// `Rule::confidence`.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    Low,
    Medium,
    High,
}

impl Confidence {
    pub fn as_str(self) -> &'static str {
        match self {
            Confidence::Low => "low",
            Confidence::Medium => "medium",
            Confidence::High => "high",
        }
    }
}

impl fmt::Display for Confidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Offline validators a rule can require of its secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Checksum {
    /// GitHub and npm tokens: the last 6 characters are the base62 CRC32 of the 30 before them.
    Crc32Base62,
}

/// One rule, as written in a rule file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub id: String,
    pub title: String,
    pub provider: String,
    pub kind: Kind,
    pub severity: Severity,
    #[serde(default)]
    pub lifetime: Lifetime,
    /// Literals for the prefilter, matched ASCII case-insensitively; every match contains one.
    pub keywords: Vec<String>,
    /// A `regex::bytes` pattern with a capture group named `secret` (and optionally `key_id`).
    pub regex: String,
    #[serde(default)]
    pub min_entropy: Option<f64>,
    #[serde(default)]
    pub checksum: Option<Checksum>,
    /// How sure a match of this rule is; see `Confidence`. Unset: derived by `confidence()`.
    #[serde(default)]
    pub confidence: Option<Confidence>,
    /// The secret is itself a non-secret key id (an AWS access key id): it becomes the
    /// finding's `key_id`, the join key with inventories.
    #[serde(default)]
    pub secret_is_key_id: bool,
    /// Reject a match whose capture group `name` (the variable's name) ends with one of
    /// these, case-insensitively: `private_key_id`, `token_type`, `secret_name` are not secrets.
    #[serde(default)]
    pub ignore_names_ending: Vec<String>,
    /// Also reject weak placeholder words (`test`, `example`, `password`...) in the secret.
    #[serde(default)]
    pub strict_placeholders: bool,
    /// A keyword hit counts only where a token starts: not after a letter, a digit, `+`,
    /// `/` or `%` (a key that starts with its keyword, where the keyword is common inside
    /// base64: X's bearer tokens start with 21 `A`s, as does every run of zero bytes).
    #[serde(default)]
    pub keyword_starts_token: bool,
    /// The match may span lines (PEM blocks, JSON files, a key some lines below its host).
    #[serde(default)]
    pub multiline: bool,
    /// For multi-line rules: how many bytes after a keyword hit the match may reach.
    #[serde(default)]
    pub window: Option<usize>,
    /// Higher wins when two rules match the same bytes. Specific formats 60+, generic rules < 30.
    #[serde(default = "default_priority")]
    pub priority: i32,
    #[serde(default)]
    pub description: Option<String>,
    /// Where and how to rotate or revoke it.
    #[serde(default)]
    pub revoke: Option<String>,
    #[serde(default)]
    pub examples: Vec<String>,
    #[serde(default)]
    pub negative_examples: Vec<String>,
    /// File-format contexts (`contexts::contexts`) `rules check` does not place this rule's
    /// examples in, each with the reason. Keep it rare.
    #[serde(default)]
    pub skip_contexts: Vec<ContextSkip>,
    /// The file the rule came from, for error messages.
    #[serde(skip)]
    pub origin: String,
    /// Compiled into the binary (and so checked by the test suite).
    #[serde(skip)]
    pub builtin: bool,
}

impl Rule {
    /// The rule's confidence: as written, else `high` with a checksum, `low` for generic
    /// rules (priority below 30), `medium` otherwise.
    pub fn confidence(&self) -> Confidence {
        self.confidence.unwrap_or(if self.checksum.is_some() {
            Confidence::High
        } else if self.priority < 30 {
            Confidence::Low
        } else {
            Confidence::Medium
        })
    }
}

/// A file-format context a rule's examples are not checked in, and why.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContextSkip {
    pub context: String,
    pub reason: String,
}

fn default_priority() -> i32 {
    50
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    #[serde(default)]
    rules: Vec<Rule>,
    /// Liveness checks against the provider (`rules/validators.toml`), by rule id.
    #[serde(default)]
    validators: Vec<validator::ValidatorSpec>,
}

/// Every rule in force for a run, in a stable order (built-ins by file, then extra files).
#[derive(Debug, Clone, Default)]
pub struct RuleSet {
    pub rules: Vec<Arc<Rule>>,
    /// Validators of every rule file, in file order (used only with `--validate`).
    pub validators: Vec<Arc<validator::ValidatorSpec>>,
}

impl RuleSet {
    /// The rules compiled into the binary.
    pub fn builtin() -> Result<RuleSet> {
        let mut set = RuleSet::default();
        for (name, text) in builtin::BUILTIN_RULE_FILES {
            set.add_text(text, &format!("rules/{name}"))?;
        }
        for r in &mut set.rules {
            Arc::make_mut(r).builtin = true;
        }
        Ok(set)
    }

    /// Parse one rule file's text; `origin` names it in errors.
    pub fn add_text(&mut self, text: &str, origin: &str) -> Result<()> {
        let file: RuleFile = toml::from_str(text)
            .map_err(|e| crate::config::toml_error(&format!("rule file {origin}"), text, &e))?;
        for mut rule in file.rules {
            rule.origin = origin.to_string();
            self.rules.push(Arc::new(rule));
        }
        for mut v in file.validators {
            v.origin = origin.to_string();
            v.check()
                .with_context(|| format!("in rule file {origin}"))?;
            self.validators.push(Arc::new(v));
        }
        Ok(())
    }

    /// Add a rule file, or every `*.toml` in a directory.
    pub fn add_path(&mut self, path: &Path) -> Result<()> {
        if path.is_dir() {
            let mut files: Vec<_> = std::fs::read_dir(path)
                .with_context(|| format!("reading rules directory {}", path.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "toml"))
                .collect();
            files.sort();
            for f in files {
                self.add_path(&f)?;
            }
            return Ok(());
        }
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading rule file {}", path.display()))?;
        self.add_text(&text, &path.display().to_string())
    }

    /// Drop rules by id (from config); unknown ids are an error so typos do not go unnoticed.
    pub fn disable(&mut self, ids: &[String]) -> Result<()> {
        for id in ids {
            if !self.rules.iter().any(|r| &r.id == id) {
                bail!("cannot disable unknown rule `{id}`");
            }
        }
        self.rules.retain(|r| !ids.contains(&r.id));
        Ok(())
    }

    pub fn get(&self, id: &str) -> Option<&Arc<Rule>> {
        self.rules.iter().find(|r| r.id == id)
    }

    pub fn len(&self) -> usize {
        self.rules.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }
}
