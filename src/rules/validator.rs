//! Validators as data: the `[[validators]]` entries of rule files in, checked specs out. A
//! validator says how to ask a provider whether a found secret still works (method, URL,
//! headers with `{{secret}}` and companion values), which hosts may ever see the secret, how
//! to read the answer (status codes, a JSON field) and which identity fields to keep.
//! Sending the request is `crate::validate`'s job; this file only holds and checks the data.

use std::collections::BTreeMap;

use anyhow::{bail, Result};
use serde::{Deserialize, Serialize};

/// How to sign a request instead of (or besides) putting the secret in a header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Signing {
    /// AWS Signature Version 4: `{{key_id}}` is the access key id, the secret the secret key.
    AwsSigv4,
}

/// A JSON field of a 2xx answer that decides valid or invalid (Slack's `ok`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JsonCheck {
    /// Dotted path into the answer, e.g. `ok` or `data.active`.
    pub field: String,
    /// The value that means the secret works.
    pub valid: toml::Value,
    /// Values that mean it does not (anything else is `unknown`).
    #[serde(default)]
    pub invalid: Vec<toml::Value>,
}

/// One validator, as written in `rules/validators.toml`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValidatorSpec {
    pub id: String,
    /// The rule ids whose secrets this validator checks.
    pub rules: Vec<String>,
    #[serde(default = "default_method")]
    pub method: String,
    /// Always `https://`; never contains `{{secret}}` (URLs end up in logs and errors).
    pub url: String,
    /// The only hosts that may ever receive the secret (the URL's host must be one).
    pub hosts: Vec<String>,
    /// Header templates: `{{secret}}`, `{{key_id}}`, `{{basic:USER:PASS}}` with either inside.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Request body template (same placeholders as headers).
    #[serde(default)]
    pub body: Option<String>,
    #[serde(default)]
    pub signing: Option<Signing>,
    /// For signed requests: region and service name.
    #[serde(default)]
    pub region: Option<String>,
    #[serde(default)]
    pub service: Option<String>,
    /// Status codes that mean the secret works [default: 200].
    #[serde(default = "default_valid")]
    pub valid_status: Vec<u16>,
    /// Status codes that mean it does not [default: 401].
    #[serde(default = "default_invalid")]
    pub invalid_status: Vec<u16>,
    /// A JSON field of a valid-status answer that decides after all.
    #[serde(default)]
    pub json: Option<JsonCheck>,
    /// Identity fields to keep: name → `json:dotted.path` or `header:name`.
    #[serde(default)]
    pub identity: BTreeMap<String, String>,
    /// Companion values a rule's match does not carry, found beside it in the same file:
    /// name (`key_id`) → the rule id whose secret supplies it.
    #[serde(default)]
    pub companions: BTreeMap<String, String>,
    /// The provider's documentation of the endpoint.
    #[serde(default)]
    pub docs: Option<String>,
    /// The file it came from, for errors.
    #[serde(skip)]
    pub origin: String,
}

fn default_method() -> String {
    "GET".into()
}
fn default_valid() -> Vec<u16> {
    vec![200]
}
fn default_invalid() -> Vec<u16> {
    vec![401]
}

impl ValidatorSpec {
    /// The URL's host (lower case), if it is an `https://` URL.
    pub fn url_host(&self) -> Option<String> {
        url_host(&self.url)
    }

    /// The structural checks: https only, the URL's host allow-listed, no secret in the URL,
    /// a known method, signing parameters present.
    pub fn check(&self) -> Result<()> {
        let id = &self.id;
        if !self.url.starts_with("https://") {
            bail!("validator `{id}`: url must be https://");
        }
        if self.url.contains("{{") {
            bail!("validator `{id}`: the url must not carry placeholders (secrets go in headers or the body)");
        }
        let Some(host) = self.url_host() else {
            bail!("validator `{id}`: cannot read the url's host");
        };
        if !self.hosts.iter().any(|h| h.eq_ignore_ascii_case(&host)) {
            bail!("validator `{id}`: url host {host} is not in its hosts allow-list");
        }
        if !matches!(self.method.as_str(), "GET" | "POST" | "HEAD") {
            bail!("validator `{id}`: method must be GET, POST or HEAD");
        }
        if self.rules.is_empty() {
            bail!("validator `{id}`: names no rules");
        }
        if self.signing == Some(Signing::AwsSigv4)
            && (self.region.is_none() || self.service.is_none())
        {
            bail!("validator `{id}`: aws-sigv4 signing needs region and service");
        }
        for (name, src) in &self.identity {
            if !(src.starts_with("json:") || src.starts_with("header:")) {
                bail!("validator `{id}`: identity `{name}` must be json:PATH or header:NAME");
            }
        }
        let uses_secret = self.signing.is_some()
            || self
                .headers
                .values()
                .any(|v| v.contains("{{secret}}") || v.contains("{{basic:"))
            || self
                .body
                .as_deref()
                .is_some_and(|b| b.contains("{{secret}}"));
        if !uses_secret {
            bail!("validator `{id}`: sends no {{{{secret}}}}");
        }
        Ok(())
    }
}

/// Problems across validators: duplicate ids, rule ids no rule has, a rule with two validators.
pub fn problems(set: &super::RuleSet) -> Vec<String> {
    let mut out = Vec::new();
    let mut ids = std::collections::HashSet::new();
    let mut covered = std::collections::HashMap::new();
    for v in &set.validators {
        if !ids.insert(v.id.as_str()) {
            out.push(format!("{}: duplicate validator id `{}`", v.origin, v.id));
        }
        for r in v.rules.iter().chain(v.companions.values()) {
            if set.get(r).is_none() {
                out.push(format!(
                    "{}: validator `{}` names unknown rule `{r}`",
                    v.origin, v.id
                ));
            }
        }
        for r in &v.rules {
            if let Some(other) = covered.insert(r.as_str(), v.id.as_str()) {
                out.push(format!(
                    "{}: rule `{r}` has two validators, `{other}` and `{}`",
                    v.origin, v.id
                ));
            }
        }
    }
    out
}

/// The host of an `http(s)://host[:port]/...` URL, lower case, without port or brackets.
pub fn url_host(url: &str) -> Option<String> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))?;
    let authority = rest.split(['/', '?', '#']).next()?;
    if authority.contains('@') {
        return None;
    }
    let host = if let Some(v6) = authority.strip_prefix('[') {
        v6.split(']').next()?
    } else {
        authority.rsplit_once(':').map_or(authority, |(h, _)| h)
    };
    (!host.is_empty()).then(|| host.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_are_read_without_port_or_userinfo() {
        assert_eq!(
            url_host("https://api.github.com/user").as_deref(),
            Some("api.github.com")
        );
        assert_eq!(
            url_host("http://127.0.0.1:8080/x").as_deref(),
            Some("127.0.0.1")
        );
        assert_eq!(url_host("http://[::1]:80/").as_deref(), Some("::1"));
        assert_eq!(
            url_host("https://API.Example.com?x").as_deref(),
            Some("api.example.com")
        );
        assert_eq!(url_host("https://user@evil.example/"), None);
        assert_eq!(url_host("ftp://x/"), None);
    }
}
