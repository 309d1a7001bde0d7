//! Findings: a chunk and the matcher's raw matches in, located, fingerprinted, redacted
//! findings out. The fingerprint is the SHA-256 of the secret alone, the join key with
//! inventories and baselines; the same secret in ten places is ten occurrences of one secret.

use std::{fmt, sync::Arc};

use sha2::{Digest, Sha256};

use crate::{
    matcher::{Matcher, RawMatch},
    rules::{Confidence, Kind, Rule},
    source::{CellPart, Chunk, GitProvenance, SourceKind},
};

/// The text that suppresses a finding when it appears on the finding's line.
pub const ALLOW_MARKER: &[u8] = b"sprawl:allow";

/// SHA-256 of the secret bytes.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Fingerprint(pub [u8; 32]);

impl Fingerprint {
    pub fn of(secret: &[u8]) -> Fingerprint {
        Fingerprint(Sha256::digest(secret).into())
    }

    /// Parse `sha256:<64 hex>` (or bare hex).
    pub fn parse(s: &str) -> Option<Fingerprint> {
        let hex_part = s.trim().strip_prefix("sha256:").unwrap_or(s.trim());
        let bytes = hex::decode(hex_part).ok()?;
        Some(Fingerprint(bytes.try_into().ok()?))
    }

    /// The first 12 hex digits, for people.
    pub fn short(&self) -> String {
        hex::encode(&self.0[..6])
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sha256:{}", hex::encode(self.0))
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl serde::Serialize for Fingerprint {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

/// Where one occurrence sits. Lines and columns are 1-based; columns count characters.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Location {
    pub path: String,
    pub line: u64,
    pub column: u64,
    pub end_line: u64,
    pub end_column: u64,
    pub cell: Option<usize>,
    pub cell_line: Option<u64>,
    pub cell_part: Option<CellPart>,
}

impl PartialOrd for CellPart {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for CellPart {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (*self as u8).cmp(&(*other as u8))
    }
}

/// One occurrence of a secret.
#[derive(Clone)]
pub struct Finding {
    pub rule: Arc<Rule>,
    /// The secret itself; printed only with `--show-secrets`.
    pub secret: Vec<u8>,
    pub fingerprint: Fingerprint,
    pub redacted: String,
    /// A non-secret key id captured beside the secret (AWS access key id, GCP key id).
    pub key_id: Option<String>,
    /// What the vendor's own key listing displays of the secret (kept beside it, so a finding
    /// rebuilt from a store, which never holds the secret, reports the same hint).
    pub hint: Option<crate::inventory::Hint>,
    /// The repository's label when a run scans several (`repository` in reports; the
    /// audit's origin for `shared`).
    pub repository: Option<String>,
    pub source: SourceKind,
    pub location: Location,
    pub git: Option<GitProvenance>,
    /// What the token says about its own expiry (offline, always).
    pub expiry: Option<crate::expiry::Expiry>,
    /// What the provider said about the secret (`--validate` only).
    pub validation: Option<crate::validate::Validation>,
    /// CODEOWNERS owners of its path, where the scanned tree was at hand (owner evidence
    /// that saved reports carry to `sprawl audit`).
    pub codeowners: Vec<String>,
    /// How sure the match is (see `matcher::confidence`), after its `context`.
    pub confidence: Confidence,
    /// Where the secret sits when that is not production code: `test`, `fixture`, `example`, `docs`.
    pub context: Option<&'static str>,
}

impl fmt::Debug for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Finding")
            .field("rule", &self.rule.id)
            .field("fingerprint", &self.fingerprint)
            .field("redacted", &self.redacted)
            .field("location", &self.location)
            .finish()
    }
}

impl Finding {
    /// A stable id for this occurrence: same secret, rule, place (and commit) → same id.
    pub fn id(&self) -> String {
        let mut h = Sha256::new();
        h.update(self.fingerprint.0);
        h.update(self.rule.id.as_bytes());
        h.update([0]);
        h.update(self.location.path.as_bytes());
        h.update([0]);
        h.update(self.location.line.to_le_bytes());
        h.update(self.location.column.to_le_bytes());
        if let Some(c) = self.location.cell {
            h.update((c as u64).to_le_bytes());
        }
        if let Some(g) = &self.git {
            h.update(g.commit.as_bytes());
        }
        hex::encode(&h.finalize()[..10])
    }

    /// The order reports use: path, line, column, rule.
    pub fn sort_key(&self) -> (&str, u64, u64, Option<usize>, u64, &str) {
        (
            &self.location.path,
            self.location.line,
            self.location.column,
            self.location.cell,
            self.location.cell_line.unwrap_or(0),
            &self.rule.id,
        )
    }
}

/// Sort findings into the deterministic report order.
pub fn sort_findings(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        a.sort_key()
            .cmp(&b.sort_key())
            .then_with(|| a.fingerprint.cmp(&b.fingerprint))
            .then_with(|| {
                let ca = a.git.as_ref().map(|g| g.commit.as_str());
                let cb = b.git.as_ref().map(|g| g.commit.as_str());
                ca.cmp(&cb)
            })
    });
}

/// The one redaction of the program: a secret in, what output may show of it out.
///
/// At most the rule's fixed public prefix (the longest keyword the secret starts with, such
/// as `sk-proj-` or `ghp_`) and the last 4 characters of the random part (2 when that part
/// is under 16 characters, none under 8), so never more than 4 random characters. A private
/// key shows only its armor header (`-----BEGIN OPENSSH PRIVATE KEY-----`), nothing of its
/// body; a private key without a header (a PuTTY `Private-Lines:` body) shows nothing.
pub fn redact(secret: &[u8], rule: &Rule) -> String {
    let text = String::from_utf8_lossy(secret);
    if rule.kind == Kind::PrivateKey {
        return match armor_header(&text) {
            Some(h) => format!("{h}…"),
            None => "…".to_string(),
        };
    }
    let chars: Vec<char> = text.chars().collect();
    let n = chars.len();
    // Only a keyword that is a key format's public prefix (`ghp_`, `sk-ant-api03-`, `AKIA`)
    // is shown; a password or connection string has none (its rule's keyword `neo4j` may
    // also start the password itself).
    let format_prefixes = !matches!(rule.kind, Kind::Password | Kind::ConnectionString);
    let prefix_len = rule
        .keywords
        .iter()
        .filter(|k| format_prefixes && crate::matcher::is_prefix_keyword(k))
        .filter(|k| {
            text.get(..k.len())
                .is_some_and(|head| head.eq_ignore_ascii_case(k))
        })
        .map(|k| k.chars().count())
        .max()
        .unwrap_or(0)
        .min(n);
    let random = n - prefix_len;
    let keep_back = match random {
        16.. => 4,
        8..=15 => 2,
        _ => 0,
    };
    let front: String = chars[..prefix_len].iter().collect();
    let back: String = chars[n - keep_back..].iter().collect();
    format!("{front}…{back}")
}

/// `-----BEGIN … PRIVATE KEY-----` (or `… PRIVATE KEY BLOCK-----`) at the start of a key:
/// the header only, when it is made of capitals and spaces as armor headers are.
fn armor_header(text: &str) -> Option<&str> {
    let rest = text.strip_prefix("-----BEGIN ")?;
    let end = rest.find("-----")?;
    let label = &rest[..end];
    (!label.is_empty() && label.bytes().all(|b| b.is_ascii_uppercase() || b == b' '))
        .then(|| &text[..11 + end + 5])
}

/// Any text in, the same text with every secret the matcher finds in it redacted (see
/// `redact`). For messages that quote user data: file names, commit messages, config and
/// rule file errors, command-line values, inventory values.
pub fn redact_text(matcher: &Matcher, text: &str) -> String {
    let found = matcher.scan(text.as_bytes(), &mut crate::matcher::Scratch::default());
    if found.is_empty() {
        return text.to_string();
    }
    let mut spans: Vec<(std::ops::Range<usize>, usize)> =
        found.into_iter().map(|m| (m.secret, m.rule)).collect();
    spans.sort_by_key(|(r, _)| (r.start, std::cmp::Reverse(r.end)));
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut at = 0;
    for (r, rule) in spans {
        if r.start < at {
            continue;
        }
        out.extend_from_slice(&bytes[at..r.start]);
        out.extend_from_slice(redact(&bytes[r.clone()], matcher.rule(rule)).as_bytes());
        at = r.end;
    }
    out.extend_from_slice(&bytes[at..]);
    String::from_utf8_lossy(&out).into_owned()
}

/// Control characters (newline, carriage return, escape, …) written as Rust escapes (`\n`,
/// `\u{1b}`), so a file name cannot forge an output line or drive the terminal. A backslash is
/// doubled only when something was escaped, so ordinary Windows-looking names stay readable.
pub fn escape_control(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c.is_control() || c == '\\' {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// `redact_text` with the built-in rules, for messages printed where no matcher is at hand
/// (errors before the rule set is loaded, the top-level error of the binary).
pub fn redact_message(text: &str) -> String {
    static BUILTIN: std::sync::OnceLock<Option<Matcher>> = std::sync::OnceLock::new();
    let m = BUILTIN.get_or_init(|| {
        crate::rules::RuleSet::builtin()
            .and_then(|set| Matcher::new(&set))
            .ok()
    });
    match m {
        Some(m) => redact_text(m, text),
        None => text.to_string(),
    }
}

/// Counts lines and columns for increasing offsets of one buffer without rescanning it.
struct LineCounter<'a> {
    buf: &'a [u8],
    pos: usize,
    line: u64,
    line_start: usize,
}

impl<'a> LineCounter<'a> {
    fn new(buf: &'a [u8]) -> Self {
        LineCounter {
            buf,
            pos: 0,
            line: 0,
            line_start: 0,
        }
    }

    /// 0-based line and 1-based character column of `offset` (offsets must not decrease).
    fn locate(&mut self, offset: usize) -> (u64, u64) {
        if offset < self.pos {
            // Out of order: restart (rare: matches come sorted).
            *self = LineCounter::new(self.buf);
        }
        for nl in memchr::memchr_iter(b'\n', &self.buf[self.pos..offset]) {
            self.line += 1;
            self.line_start = self.pos + nl + 1;
        }
        self.pos = offset;
        let col = char_count(&self.buf[self.line_start..offset]) + 1;
        (self.line, col)
    }
}

/// Characters in a byte slice (UTF-8 continuation bytes are not counted).
fn char_count(bytes: &[u8]) -> u64 {
    bytes.iter().filter(|&&b| (b & 0xC0) != 0x80).count() as u64
}

/// The full line(s) around `range`.
fn lines_around(buf: &[u8], start: usize, end: usize) -> &[u8] {
    let s = memchr::memrchr(b'\n', &buf[..start]).map_or(0, |p| p + 1);
    let e = memchr::memchr(b'\n', &buf[end..]).map_or(buf.len(), |p| end + p);
    &buf[s..e]
}

/// What a path says about the code in it: `test`, `fixture`, `example` or `docs`, from its
/// directories and file name (`tests/`, `testdata/`, `fixtures/`, `examples/`, `docs/`,
/// `foo_test.go`, `test_foo.py`, `foo.spec.ts`, `*.md`).
pub fn path_context(path: &str) -> Option<&'static str> {
    let lower = path.to_ascii_lowercase();
    let mut parts: Vec<&str> = lower.split(['/', '\\']).collect();
    let file = parts.pop().unwrap_or("");
    for dir in parts.iter().rev() {
        let c = match *dir {
            "test" | "tests" | "__tests__" | "spec" | "specs" | "testing" | "t" | "e2e" => "test",
            "testdata" | "fixtures" | "fixture" | "__fixtures__" | "mocks" | "__mocks__"
            | "snapshots" | "__snapshots__" | "vectors" | "test-data" | "test_data" => "fixture",
            "examples" | "example" | "samples" | "sample" | "demo" | "demos" => "example",
            "docs" | "doc" | "documentation" | "man" => "docs",
            _ => continue,
        };
        return Some(c);
    }
    let stem = file.split('.').next().unwrap_or("");
    if stem.starts_with("test_")
        || stem.ends_with("_test")
        || stem.ends_with("_tests")
        || stem.ends_with("_spec")
        || file.contains(".test.")
        || file.contains(".spec.")
        || stem.ends_with("test") && stem.len() > 4 && file.ends_with(".java")
    {
        return Some("test");
    }
    if [".md", ".rst", ".adoc"].iter().any(|e| file.ends_with(e)) {
        return Some("docs");
    }
    None
}

/// A match's confidence in its context: outside production code a `medium` becomes `low`; a
/// `high` (self-identifying, format-valid) key stays `high` wherever it is.
pub fn in_context(c: Confidence, context: Option<&str>) -> Confidence {
    match (c, context) {
        (Confidence::Medium, Some(_)) => Confidence::Low,
        _ => c,
    }
}

/// Result of turning one chunk's matches into findings.
#[derive(Debug, Default)]
pub struct ChunkFindings {
    pub findings: Vec<Finding>,
    /// Matches dropped because their line carries `sprawl:allow`.
    pub allowed: usize,
}

/// Turn the matcher's raw matches in `chunk` into located findings.
pub fn findings_from_matches(
    matcher: &Matcher,
    chunk: Chunk<'_>,
    matches: &[RawMatch],
) -> ChunkFindings {
    let mut out = ChunkFindings::default();
    let mut counter = LineCounter::new(chunk.bytes);
    let prov = chunk.provenance;
    for m in matches {
        let buf = chunk.bytes;
        if memchr::memmem::find(
            lines_around(buf, m.secret.start, m.secret.end),
            ALLOW_MARKER,
        )
        .is_some()
        {
            out.allowed += 1;
            continue;
        }
        let rule = matcher.rule(m.rule).clone();
        let secret = buf[m.secret.clone()].to_vec();
        let (l0, c0) = counter.locate(m.secret.start);
        let (l1, c1) = counter.locate(m.secret.end);
        let in_cell = prov.cell.is_some();
        let location = Location {
            path: prov.path.clone(),
            line: prov.first_line + l0,
            column: c0,
            end_line: prov.first_line + l1,
            end_column: c1,
            cell: prov.cell.map(|c| c.cell),
            cell_line: in_cell.then_some(l0 + 1),
            cell_part: prov.cell.map(|c| c.part),
        };
        let key_id = m
            .key_id
            .clone()
            .map(|r| String::from_utf8_lossy(&buf[r]).into_owned())
            .or_else(|| {
                rule.secret_is_key_id
                    .then(|| String::from_utf8_lossy(&secret).into_owned())
            });
        let seen_at = prov
            .git
            .as_ref()
            .and_then(|g| crate::expiry::parse_time(&g.date));
        let expiry = crate::expiry::read(&secret, key_id.as_deref(), seen_at);
        let key_id = key_id.or_else(|| expiry.as_ref().and_then(|e| e.key_id.clone()));
        let context = path_context(&prov.path);
        out.findings.push(Finding {
            expiry,
            validation: None,
            codeowners: Vec::new(),
            confidence: in_context(m.confidence, context),
            context,
            fingerprint: Fingerprint::of(&secret),
            redacted: redact(&secret, &rule),
            hint: crate::inventory::hint::vendor_hint(&rule.provider, &secret),
            repository: None,
            rule,
            secret,
            key_id,
            source: prov.source,
            location,
            git: prov.git.clone(),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(kind: Kind, keywords: &[&str]) -> Rule {
        Rule {
            id: "t".into(),
            title: "t".into(),
            provider: "t".into(),
            kind,
            severity: crate::rules::Severity::High,
            lifetime: Default::default(),
            keywords: keywords.iter().map(|s| s.to_string()).collect(),
            regex: String::new(),
            min_entropy: None,
            checksum: None,
            strict_placeholders: false,
            keyword_starts_token: false,
            confidence: None,
            secret_is_key_id: false,
            ignore_names_ending: vec![],
            multiline: false,
            window: None,
            priority: 50,
            description: None,
            revoke: None,
            examples: vec![],
            negative_examples: vec![],
            skip_contexts: vec![],
            origin: String::new(),
            builtin: false,
        }
    }

    #[test]
    fn fingerprint_is_sha256_of_secret() {
        let f = Fingerprint::of(b"abc");
        assert_eq!(
            f.to_string(),
            "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(Fingerprint::parse(&f.to_string()), Some(f));
        assert_eq!(Fingerprint::parse("sha256:zz"), None);
    }

    #[test]
    fn redaction_keeps_prefix_and_last_four() {
        let r = rule(Kind::ApiKey, &["sk-proj-", "T3BlbkFJ"]);
        let secret = format!("sk-proj-{}T3BlbkFJ{}9xQA", "a".repeat(30), "b".repeat(26));
        assert_eq!(redact(secret.as_bytes(), &r), "sk-proj-…9xQA");
        let short = rule(Kind::Password, &["postgres"]);
        assert_eq!(redact(b"hunter2", &short), "…");
        let pem = rule(Kind::PrivateKey, &["-----BEGIN"]);
        let red = redact(
            b"-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----",
            &pem,
        );
        assert_eq!(red, "-----BEGIN RSA PRIVATE KEY-----…");
    }

    /// Regression (issue 9 item 1): a PuTTY key's secret is its `Private-Lines:` body, which
    /// was shown as its first 48 characters.
    #[test]
    fn redaction_shows_nothing_of_a_private_key_body() {
        let ppk = rule(Kind::PrivateKey, &["PuTTY-User-Key-File-"]);
        let body = "AAAAgQC".to_string() + &"x1Y2z3".repeat(20) + "\nAAAAQQ" + &"k9".repeat(30);
        assert_eq!(redact(body.as_bytes(), &ppk), "…");
        let forged = rule(Kind::PrivateKey, &[]);
        assert_eq!(redact(b"-----BEGIN abc123XYZ-----\nrest", &forged), "…");
    }

    /// Found by the stream fuzz target: a password that starts with its rule's keyword (a
    /// bolt URL whose password is `neo4j…`) was shown from that keyword on, all of it when
    /// short.
    #[test]
    fn a_keyword_is_shown_only_as_a_key_format_prefix() {
        let neo4j = rule(Kind::ConnectionString, &["neo4j", "bolt"]);
        assert_eq!(redact("neo4j…".as_bytes(), &neo4j), "…");
        assert_eq!(redact(b"neo4jSecretPassw0rd", &neo4j), "…w0rd");
        let pw = rule(Kind::Password, &["pass", "pwd_"]);
        assert_eq!(redact(b"pwd_Zq7Zq7Zq7Zq7Zq7", &pw), "…7Zq7");
        // A word that is no prefix shape is not shown for keys either.
        let key = rule(Kind::ApiKey, &["qdrant"]);
        assert_eq!(redact(b"qdrantZq7Zq7Zq7Zq7Zq7Zq", &key), "…q7Zq");
    }

    #[test]
    fn redaction_shows_at_most_four_random_characters() {
        let r = rule(Kind::Token, &["ghp_"]);
        let cases = [
            ("ghp_", 36, 4),
            ("", 16, 4),
            ("", 15, 2),
            ("", 8, 2),
            ("", 7, 0),
        ];
        for (prefix, n, back) in cases {
            let secret = format!(
                "{prefix}{}",
                "Zq7".repeat(n).chars().take(n).collect::<String>()
            );
            let red = redact(secret.as_bytes(), &r);
            let (front, tail) = red.split_once('…').unwrap();
            assert_eq!(front, prefix);
            assert_eq!(tail.chars().count(), back, "{secret} -> {red}");
        }
    }

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(escape_control("a/b.txt"), "a/b.txt");
        assert_eq!(escape_control("x\nhigh fake:1:1"), "x\\nhigh fake:1:1");
        assert_eq!(escape_control("e\u{1b}[2J\\"), "e\\u{1b}[2J\\\\");
    }

    #[test]
    fn redact_text_replaces_every_secret_in_a_message() {
        let key = format!("ghp_{}", "aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bD1");
        let key = format!(
            "{key}{}",
            crate::rules::template::crc32_base62(&key.as_bytes()[4..])
        );
        let msg = format!("bad value {key:?} in `{key}.env`");
        let out = redact_message(&msg);
        assert!(!out.contains(&key[4..20]), "{out}");
        assert!(out.starts_with("bad value \"ghp_…"), "{out}");
        assert_eq!(redact_message("nothing secret here"), "nothing secret here");
    }

    #[test]
    fn path_contexts() {
        assert_eq!(path_context("src/app.py"), None);
        assert_eq!(path_context("tests/api.rs"), Some("test"));
        assert_eq!(path_context("pkg/x/testdata/key.pem"), Some("fixture"));
        assert_eq!(path_context("examples/basic.rs"), Some("example"));
        assert_eq!(path_context("docs/setup.html"), Some("docs"));
        assert_eq!(path_context("README.md"), Some("docs"));
        assert_eq!(path_context("client_test.go"), Some("test"));
        assert_eq!(path_context("web/login.spec.ts"), Some("test"));
        assert_eq!(path_context("contest/main.c"), None);
        assert_eq!(
            in_context(Confidence::Medium, Some("test")),
            Confidence::Low
        );
        assert_eq!(in_context(Confidence::High, Some("test")), Confidence::High);
        assert_eq!(in_context(Confidence::Medium, None), Confidence::Medium);
    }

    #[test]
    fn line_counter_counts_characters() {
        let buf = "a\nbé c\nx".as_bytes();
        let mut lc = LineCounter::new(buf);
        assert_eq!(lc.locate(0), (0, 1));
        let c = buf.iter().position(|&b| b == b'c').unwrap();
        assert_eq!(lc.locate(c), (1, 4));
        assert_eq!(lc.locate(buf.len() - 1), (2, 1));
    }
}
