//! Vendor hints: the part of a key a vendor's own listing displays (OpenAI's prefix and last
//! 4, Anthropic's first 3 after the prefix and last 4, GitHub's last 8), parsed from exports
//! and computed for what a scan found, and how much a match between two of them proves.
//! Only random characters count: a known prefix (`sk-proj-`) and a fixed suffix (Anthropic's
//! trailing `AA`) are the same in every key and prove nothing.

use std::fmt;

use serde::Serialize;

/// A redacted form of a key as vendors list it: a prefix and a suffix of the secret.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Hint {
    pub prefix: String,
    pub suffix: String,
}

/// Fewest random characters a hint match must rest on to tie a key to a record. Six
/// base-62/64 characters are about 36 bits: a chance match among thousands of keys is
/// unlikely. OpenAI (4 random) and Anthropic (5 random) hints fall short on their own.
pub const MIN_RANDOM_CHARS: usize = 6;

/// Prefixes that are the same in every key of their kind (longest first within a family).
const FIXED_PREFIXES: &[&str] = &[
    "sk-ant-admin01-",
    "sk-ant-api03-",
    "sk-ant-oat01-",
    "sk-ant-",
    "sk-proj-",
    "sk-svcacct-",
    "sk-admin-",
    "sk-None-",
    "sk-",
    "github_pat_",
    "ghp_",
    "gho_",
    "ghu_",
    "ghs_",
    "ghr_",
    "AKIA",
    "ASIA",
    "AIza",
    "glpat-",
    "xoxb-",
    "xoxp-",
    "hf_",
];

/// Length of the fixed prefix `s` starts with.
pub fn fixed_prefix_len(s: &str) -> usize {
    FIXED_PREFIXES
        .iter()
        .filter(|p| s.starts_with(*p))
        .map(|p| p.len())
        .max()
        .unwrap_or(0)
}

/// Length of the fixed suffix of a key of this family (Anthropic keys end in `AA`).
fn fixed_suffix_len(prefix: &str, provider: Option<&str>, suffix: &str) -> usize {
    let anthropic = prefix.starts_with("sk-ant-") || provider == Some("anthropic");
    if anthropic && suffix.ends_with("AA") {
        2
    } else {
        0
    }
}

/// How a record's hint compares with a credential's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HintFit {
    /// Some displayed character differs: not this key.
    Mismatch,
    /// Every character both show agrees; `random` of them are random.
    Fits { random: usize },
}

impl Hint {
    /// Parse `sk-proj-abc...wxyz`, `sk-ant-api03-R2D…igAA`, `…wxyz`, `****wxyz` or
    /// `sk-svcac***…380A`.
    pub fn parse(s: &str) -> Option<Hint> {
        let s = s.trim();
        for sep in ["...", "…", "****", "***", "**", "*"] {
            if let Some((p, q)) = s.split_once(sep) {
                let prefix = p.trim_end_matches(['*', '.', '…']).to_string();
                let suffix = q.trim_start_matches(['*', '.', '…']).to_string();
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

    /// Random characters this hint shows on its own.
    pub fn random_chars(&self, provider: Option<&str>) -> usize {
        let p = self
            .prefix
            .len()
            .saturating_sub(fixed_prefix_len(&self.prefix));
        let s = self.suffix.len() - fixed_suffix_len(&self.prefix, provider, &self.suffix);
        p + s
    }

    /// Compare two hints character by character where both show characters.
    pub fn fit(&self, other: &Hint, provider: Option<&str>) -> HintFit {
        let (short_p, long_p) = if self.prefix.len() <= other.prefix.len() {
            (&self.prefix, &other.prefix)
        } else {
            (&other.prefix, &self.prefix)
        };
        if !long_p.starts_with(short_p.as_str()) {
            return HintFit::Mismatch;
        }
        let (short_s, long_s) = if self.suffix.len() <= other.suffix.len() {
            (&self.suffix, &other.suffix)
        } else {
            (&other.suffix, &self.suffix)
        };
        if !long_s.ends_with(short_s.as_str()) {
            return HintFit::Mismatch;
        }
        let fixed = fixed_prefix_len(long_p);
        let prefix_random = short_p.len().saturating_sub(fixed);
        let suffix_random =
            short_s.len() - fixed_suffix_len(long_p, provider, short_s).min(short_s.len());
        HintFit::Fits {
            random: prefix_random + suffix_random,
        }
    }
}

impl fmt::Display for Hint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}…{}", self.prefix, self.suffix)
    }
}

/// What the vendor's own listing displays of this secret, and never more: OpenAI the prefix
/// and the last 4; Anthropic the prefix, the next 3 and the last 4; GitHub the last 8
/// (`token_last_eight`). `None` for providers that display no hint (their `redacted` form
/// is used instead).
pub fn vendor_hint(provider: &str, secret: &[u8]) -> Option<Hint> {
    let s = std::str::from_utf8(secret).ok()?;
    if !s.is_ascii() {
        return None;
    }
    let fixed = fixed_prefix_len(s);
    let (head, tail) = match provider {
        "anthropic" if s.starts_with("sk-ant-") => (fixed + 3, 4),
        "openai" if s.starts_with("sk-") => (fixed, 4),
        "github" if fixed > 0 => (0, 8),
        _ => return None,
    };
    if s.len() < head + tail + 8 {
        return None;
    }
    Some(Hint {
        prefix: s[..head].to_string(),
        suffix: s[s.len() - tail..].to_string(),
    })
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
        let h = Hint::parse("sk-svcac***…380A").unwrap();
        assert_eq!((h.prefix.as_str(), h.suffix.as_str()), ("sk-svcac", "380A"));
        let h = Hint::parse("sk-admin...def").unwrap();
        assert_eq!(h.suffix, "def");
        assert!(Hint::parse("nohint").is_none());
    }

    #[test]
    fn only_random_characters_count() {
        let anth = Hint::parse("sk-ant-api03-R2D...igAA").unwrap();
        assert_eq!(anth.random_chars(Some("anthropic")), 5);
        let openai = Hint::parse("sk-proj-...wxyz").unwrap();
        assert_eq!(openai.random_chars(Some("openai")), 4);
        let gh = Hint::suffix("71c3fc11").unwrap();
        assert_eq!(gh.random_chars(Some("github")), 8);
        // A shadow Anthropic key sharing only the last 4: 2 random characters agree.
        let last4 = Hint::parse("sk-ant-api03-...igAA").unwrap();
        assert_eq!(
            anth.fit(&last4, Some("anthropic")),
            HintFit::Fits { random: 2 }
        );
        let other = Hint::parse("sk-ant-api03-XyZ...igAA").unwrap();
        assert_eq!(anth.fit(&other, Some("anthropic")), HintFit::Mismatch);
        assert_eq!(
            anth.fit(&anth, Some("anthropic")),
            HintFit::Fits { random: 5 }
        );
        // OpenAI's 3-character suffixes in documentation examples still compare.
        let three = Hint::parse("sk-admin...def").unwrap();
        let full = Hint::parse("sk-admin-...cdef").unwrap();
        assert_eq!(
            three.fit(&full, Some("openai")),
            HintFit::Fits { random: 3 }
        );
    }

    #[test]
    fn vendor_hints_show_what_the_vendor_shows() {
        let a = format!("sk-ant-api03-R2D{}igAA", "x".repeat(89));
        let h = vendor_hint("anthropic", a.as_bytes()).unwrap();
        assert_eq!(h.to_string(), "sk-ant-api03-R2D…igAA");
        let o = format!("sk-proj-{}T3BlbkFJ{}wxyz", "a".repeat(70), "b".repeat(70));
        assert_eq!(
            vendor_hint("openai", o.as_bytes()).unwrap().to_string(),
            "sk-proj-…wxyz"
        );
        let g = format!("ghp_{}", "q".repeat(36));
        assert_eq!(
            vendor_hint("github", g.as_bytes()).unwrap().to_string(),
            "…qqqqqqqq"
        );
        assert!(vendor_hint("aws", b"AKIAAAAAAAAAAAAAAAAA").is_none());
    }
}
