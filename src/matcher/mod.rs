//! The matcher: a `RuleSet` in (built once, shared read-only across threads), and for each
//! buffer of bytes the confirmed secret matches out.
//!
//! One Aho-Corasick pass over the buffer finds every rule keyword (ASCII case-insensitive).
//! Each hit opens a window for the rules that own the keyword: the hit's line (clamped) for
//! single-line rules, a few KiB around it for multi-line ones. Windows of the same rule are
//! merged, the rule's regex runs only inside them, and what it captures as `secret` must
//! pass the entropy, checksum and placeholder filters. When two rules claim overlapping bytes,
//! the more specific rule (higher priority, then longer secret) keeps them.

pub mod confidence;
pub mod filters;

use std::{
    collections::HashMap,
    ops::Range,
    sync::{Arc, OnceLock},
};

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use anyhow::{bail, Context, Result};
use regex::bytes::{CaptureLocations, Regex, RegexBuilder};

use crate::rules::{Confidence, Kind, Rule, RuleSet};

/// How far a single-line rule's window reaches either side of a keyword hit, at most.
const LINE_REACH: usize = 1024;
/// How far a multi-line rule's window reaches before and after a keyword hit.
const MULTILINE_BEFORE: usize = 2048;
const MULTILINE_AFTER: usize = 8192;

/// A rule with its regex checked. The regex itself is compiled on the rule's first keyword
/// hit: compiling all ~130 up front costs ~75 ms, most of a pre-commit hook's budget, and a
/// small diff touches only a few rules.
#[derive(Debug)]
pub struct CompiledRule {
    pub rule: Arc<Rule>,
    regex: OnceLock<Regex>,
    secret_group: usize,
    /// `secret_bare`: the secret when written another way (an unquoted value), for a regex
    /// that cannot hold two groups of one name.
    bare_group: Option<usize>,
    key_id_group: Option<usize>,
    name_group: Option<usize>,
    /// Literal starts of the secret that mark a key format (`sk-ant-`, `ghs_`), from the
    /// regex of the secret group.
    secret_prefixes: Vec<Vec<u8>>,
    /// The secret group's pattern alone, anchored at both ends: does a value have this
    /// rule's format? Compiled on first use.
    secret_pattern: String,
    secret_only: OnceLock<Option<Regex>>,
}

impl CompiledRule {
    fn regex(&self) -> &Regex {
        self.regex.get_or_init(|| {
            build_regex(&self.rule.regex).expect("checked when the matcher was built")
        })
    }

    /// Is `value`, whole, in this rule's secret format?
    fn has_format(&self, value: &[u8]) -> bool {
        self.secret_only
            .get_or_init(|| build_regex(&format!("^(?:{})$", self.secret_pattern)).ok())
            .as_ref()
            .is_some_and(|r| r.is_match(value))
    }
}

/// A confirmed secret inside a scanned buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawMatch {
    /// Index of the rule in the matcher (and in the `RuleSet` it was built from).
    pub rule: usize,
    /// Byte range of the secret.
    pub secret: Range<usize>,
    /// Byte range of a key id captured beside it (AWS access key id, GCP private_key_id).
    pub key_id: Option<Range<usize>>,
    /// How sure this match is (see `confidence::of_match`).
    pub confidence: Confidence,
}

/// Per-thread scratch space, reused across buffers so scanning does not allocate per call.
#[derive(Debug, Default)]
pub struct Scratch {
    windows: Vec<(usize, usize, usize)>,
    /// Per rule, the window being extended by the current run of hits.
    open: Vec<Option<(usize, usize)>>,
    touched: Vec<usize>,
    found: Vec<RawMatch>,
    locs: Vec<Option<CaptureLocations>>,
}

/// Everything needed to scan bytes for every rule. Build once, share by reference.
#[derive(Debug)]
pub struct Matcher {
    automaton: AhoCorasick,
    /// For each automaton pattern, the rules that listed it as a keyword.
    owners: Vec<Vec<usize>>,
    rules: Vec<CompiledRule>,
    /// Prefixes that specific rules' keys start with (`gsk_`, `xoxb-`, `AKIA`), each with
    /// the rule: a generic match whose value starts with one and has none of its rules'
    /// formats was rejected by that provider's own rule.
    known_prefixes: Vec<(Vec<u8>, usize)>,
    /// Providers (lower case, letters and digits only) with rules for API keys or tokens,
    /// each rule with its kind (bit 0 keys, bit 1 tokens). A generic match whose name names
    /// one (`QDRANT_API_KEY`) and whose value has none of those rules' formats is not that
    /// provider's key: the provider's rules decide.
    provider_formats: HashMap<Vec<u8>, Vec<(u8, usize)>>,
}

/// Bytes that continue a base64 or URL-escaped token (see `Rule::keyword_starts_token`).
fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'%')
}

/// Provider names that are also everyday words in variable names.
const PROVIDER_WORDS: &[&str] = &["generic", "age", "line", "front", "readme", "modal", "ramp"];

const FORMAT_KEY: u8 = 1;
const FORMAT_TOKEN: u8 = 2;

impl Matcher {
    pub fn new(set: &RuleSet) -> Result<Matcher> {
        Matcher::build(set, AhoCorasickKind::DFA)
    }

    /// A matcher for a few small buffers (a pre-commit hook's staged lines): the keyword
    /// automaton is a contiguous NFA, several times quicker to build than the DFA and a
    /// fraction of its memory, slower only per byte scanned.
    pub fn for_small_input(set: &RuleSet) -> Result<Matcher> {
        Matcher::build(set, AhoCorasickKind::ContiguousNFA)
    }

    fn build(set: &RuleSet, kind: AhoCorasickKind) -> Result<Matcher> {
        let mut patterns: Vec<Vec<u8>> = Vec::new();
        let mut owners: Vec<Vec<usize>> = Vec::new();
        let mut rules = Vec::with_capacity(set.rules.len());
        let mut index: HashMap<Vec<u8>, usize> = HashMap::new();
        for (idx, rule) in set.rules.iter().enumerate() {
            rules.push(compile(rule)?);
            if rule.keywords.is_empty() {
                bail!("rule `{}` ({}) has no keywords", rule.id, rule.origin);
            }
            for kw in &rule.keywords {
                if kw.is_empty() {
                    bail!("rule `{}` ({}) has an empty keyword", rule.id, rule.origin);
                }
                let lower = kw.to_ascii_lowercase().into_bytes();
                match index.get(&lower) {
                    Some(&p) => {
                        if !owners[p].contains(&idx) {
                            owners[p].push(idx)
                        }
                    }
                    None => {
                        index.insert(lower.clone(), patterns.len());
                        patterns.push(lower);
                        owners.push(vec![idx]);
                    }
                }
            }
        }
        // A non-overlapping leftmost-longest search is several times faster than an
        // overlapping one (it can skip ahead with a prefilter). A keyword contained in a
        // longer one that matched is then not reported by the automaton, so the longer
        // keyword's hit also opens windows for the rules of every keyword inside it.
        // Every substring of a keyword is looked up (keywords are short), not every pair.
        for i in 0..patterns.len() {
            let p = &patterns[i];
            let mut inside: Vec<usize> = Vec::new();
            for a in 0..p.len() {
                for b in a + 1..=p.len() {
                    if let Some(&j) = index.get(&p[a..b]) {
                        if j != i {
                            inside.push(j);
                        }
                    }
                }
            }
            for j in inside {
                let extra = owners[j].clone();
                for r in extra {
                    if !owners[i].contains(&r) {
                        owners[i].push(r);
                    }
                }
            }
        }
        let automaton = AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::LeftmostLongest)
            .kind(Some(kind))
            .build(&patterns)
            .context("building the keyword automaton")?;
        let mut known_prefixes: Vec<(Vec<u8>, usize)> = Vec::new();
        for (idx, r) in rules.iter().enumerate() {
            if r.rule.priority < confidence::GENERIC_PRIORITY {
                continue;
            }
            let keywords = r.rule.keywords.iter().filter(|k| is_prefix_keyword(k));
            known_prefixes.extend(keywords.map(|k| (k.as_bytes().to_vec(), idx)));
            known_prefixes.extend(r.secret_prefixes.iter().map(|p| (p.clone(), idx)));
        }
        known_prefixes.sort();
        known_prefixes.dedup();
        let mut provider_formats: HashMap<Vec<u8>, Vec<(u8, usize)>> = HashMap::new();
        for (idx, r) in set
            .rules
            .iter()
            .enumerate()
            .filter(|(_, r)| r.priority >= confidence::GENERIC_PRIORITY)
        {
            let bit = match r.kind {
                Kind::ApiKey | Kind::AdminKey => FORMAT_KEY,
                Kind::Token => FORMAT_TOKEN,
                _ => continue,
            };
            let name: Vec<u8> = r
                .provider
                .bytes()
                .filter(u8::is_ascii_alphanumeric)
                .map(|b| b.to_ascii_lowercase())
                .collect();
            if name.len() < 3 || PROVIDER_WORDS.iter().any(|w| w.as_bytes() == name) {
                continue;
            }
            provider_formats.entry(name).or_default().push((bit, idx));
        }
        Ok(Matcher {
            automaton,
            owners,
            rules,
            known_prefixes,
            provider_formats,
        })
    }

    pub fn rules(&self) -> &[CompiledRule] {
        &self.rules
    }

    pub fn rule(&self, idx: usize) -> &Arc<Rule> {
        &self.rules[idx].rule
    }

    /// Every confirmed secret in `buf`, ordered by position, overlaps resolved.
    pub fn scan(&self, buf: &[u8], scratch: &mut Scratch) -> Vec<RawMatch> {
        scratch.windows.clear();
        scratch.found.clear();
        if scratch.locs.len() != self.rules.len() {
            scratch.locs = (0..self.rules.len()).map(|_| None).collect();
        }

        // 1. Keyword hits open windows for the rules that own them. Hits come in order, so
        //    each rule's windows do too: a window overlapping or touching the rule's open one
        //    extends it (a flood of keyword lines is one window, one regex pass).
        if scratch.open.len() != self.rules.len() {
            scratch.open = vec![None; self.rules.len()];
        }
        scratch.touched.clear();
        let mut line_cache: (usize, usize) = (usize::MAX, 0); // (line start, line end)
        for hit in self.automaton.find_iter(buf) {
            let (s, e) = (hit.start(), hit.end());
            let inside_token = s > 0 && is_token_byte(buf[s - 1]);
            for &r in &self.owners[hit.pattern().as_usize()] {
                let rule = &self.rules[r].rule;
                if inside_token && rule.keyword_starts_token {
                    continue;
                }
                let w = if rule.multiline {
                    let after = rule.window.unwrap_or(MULTILINE_AFTER);
                    (
                        s.saturating_sub(MULTILINE_BEFORE),
                        (e + after).min(buf.len()),
                    )
                } else {
                    if !(line_cache.0 <= s && e <= line_cache.1) {
                        line_cache = line_bounds(buf, s, e);
                    }
                    (
                        line_cache.0.max(s.saturating_sub(LINE_REACH)),
                        line_cache.1.min(e + LINE_REACH),
                    )
                };
                match &mut scratch.open[r] {
                    Some(open) if w.0 <= open.1 + 1 => open.1 = open.1.max(w.1),
                    Some(open) => {
                        scratch.windows.push((r, open.0, open.1));
                        *open = w;
                    }
                    slot @ None => {
                        *slot = Some(w);
                        scratch.touched.push(r);
                    }
                }
            }
        }
        for &r in &scratch.touched {
            if let Some(open) = scratch.open[r].take() {
                scratch.windows.push((r, open.0, open.1));
            }
        }
        if scratch.windows.is_empty() {
            return Vec::new();
        }

        // 2. Confirm each window with its rule's regex.
        for i in 0..scratch.windows.len() {
            let (r, start, end) = scratch.windows[i];
            self.confirm(r, buf, start, end, scratch);
        }

        // 3. Resolve overlaps: the more specific rule keeps the bytes.
        resolve_overlaps(&self.rules, std::mem::take(&mut scratch.found))
    }

    fn confirm(&self, r: usize, buf: &[u8], start: usize, end: usize, scratch: &mut Scratch) {
        let rule = &self.rules[r];
        let hay = &buf[..end];
        let regex = rule.regex();
        let locs = scratch.locs[r].get_or_insert_with(|| regex.capture_locations());
        // Start one byte early: rules say "not preceded by a name character" as
        // `(?:^|[^A-Za-z0-9_-])`, and `^` holds only at the start of the buffer, so the byte
        // before the window must be there for the class to consume. Windows of one rule are
        // at least two bytes apart, so no match is found twice.
        let mut pos = start.saturating_sub(1);
        while pos < end {
            let Some(m) = regex.captures_read_at(locs, hay, pos) else {
                break;
            };
            // Step past the match; an empty match must still advance.
            pos = if m.end() > m.start() {
                m.end()
            } else {
                m.end() + 1
            };
            let group = locs
                .get(rule.secret_group)
                .or_else(|| rule.bare_group.and_then(|g| locs.get(g)));
            let Some((ss, se)) = group else {
                continue;
            };
            if ss == se {
                continue;
            }
            // Search on from the secret's end, not the match's: a pattern that ends by
            // consuming the byte after its secret (`(?:\s|$)`) must leave that byte to the
            // next match, which may need it as its own start (keys on consecutive lines).
            if se > m.start() {
                pos = pos.min(se);
            }
            let secret = &buf[ss..se];
            if let Some(min) = rule.rule.min_entropy {
                if filters::shannon_entropy(secret) < min {
                    continue;
                }
            }
            if let Some(kind) = rule.rule.checksum {
                if !filters::checksum_ok(kind, secret) {
                    continue;
                }
            }
            if filters::is_placeholder(secret, rule.rule.strict_placeholders) {
                continue;
            }
            if rule.rule.priority < confidence::GENERIC_PRIORITY && self.prefix_rejects(secret) {
                continue;
            }
            if !rule.rule.multiline && inside_base64_blob(buf, ss, se) {
                continue;
            }
            // A UUID between slashes is a path segment (`/apps/<uuid>/`), not a key.
            if is_uuid(secret) && ss > 0 && buf[ss - 1] == b'/' {
                continue;
            }
            if let Some((ns, ne)) = rule.name_group.and_then(|g| locs.get(g)) {
                let name = &buf[ns..ne];
                if rule.rule.priority < confidence::GENERIC_PRIORITY
                    && self.named_provider_rejects(name, secret)
                {
                    continue;
                }
                let stop = rule.rule.ignore_names_ending.iter().any(|end| {
                    name.len() >= end.len()
                        && name[name.len() - end.len()..].eq_ignore_ascii_case(end.as_bytes())
                });
                if stop {
                    continue;
                }
            }
            let key_id = rule
                .key_id_group
                .and_then(|g| locs.get(g))
                .map(|(a, b)| a..b);
            let name = rule
                .name_group
                .and_then(|g| locs.get(g))
                .map(|(a, b)| &buf[a..b]);
            scratch.found.push(RawMatch {
                rule: r,
                secret: ss..se,
                key_id,
                confidence: confidence::of_match(&rule.rule, secret, name),
            });
        }
    }
}

impl Matcher {
    /// Does `value` start like a key format (`gsk_`, `sk-ant-`) that none of the rules
    /// owning that prefix finds it in? Then it is not such a key, and a generic rule must
    /// not report it either. (In the format, it stays: the owning rule may have wanted a
    /// keyword the line lacks.)
    fn prefix_rejects(&self, value: &[u8]) -> bool {
        let mut owners = self
            .known_prefixes
            .iter()
            .filter(|(p, _)| value.starts_with(p))
            .peekable();
        owners.peek().is_some() && owners.all(|&(_, r)| !self.rules[r].has_format(value))
    }

    /// Does a variable name say "this is a PROVIDER key/token" (`QDRANT_API_KEY`,
    /// `linodeToken`) for a provider with rules for that kind, none of which has `value`'s
    /// format? (A value in the format is kept: the provider's rule may have wanted another
    /// name before it.)
    fn named_provider_rejects(&self, name: &[u8], value: &[u8]) -> bool {
        let mut words: Vec<Vec<u8>> = Vec::new();
        let mut cur = Vec::new();
        for (i, &b) in name.iter().enumerate() {
            let hump = i > 0 && b.is_ascii_uppercase() && name[i - 1].is_ascii_lowercase();
            if (!b.is_ascii_alphanumeric() || hump) && !cur.is_empty() {
                words.push(std::mem::take(&mut cur));
            }
            if b.is_ascii_alphanumeric() {
                cur.push(b.to_ascii_lowercase());
            }
        }
        if !cur.is_empty() {
            words.push(cur);
        }
        let wants = words.iter().fold(0u8, |acc, w| {
            acc | match w.as_slice() {
                b"key" | b"apikey" => FORMAT_KEY,
                b"token" | b"pat" => FORMAT_TOKEN,
                _ => 0,
            }
        });
        if wants == 0 {
            return false;
        }
        let rejects = |w: &[u8]| {
            self.provider_formats.get(w).is_some_and(|rules| {
                let mut of_kind = rules.iter().filter(|(bit, _)| bit & wants != 0).peekable();
                of_kind.peek().is_some() && of_kind.all(|&(_, r)| !self.rules[r].has_format(value))
            })
        };
        words.iter().any(|w| rejects(w))
            || words
                .windows(2)
                .any(|p| rejects(&[p[0].as_slice(), p[1].as_slice()].concat()))
    }
}

fn build_regex(pattern: &str) -> Result<Regex, regex::Error> {
    RegexBuilder::new(pattern)
        .unicode(false)
        .size_limit(50 << 20)
        .build()
}

/// Names of the capture groups of a parsed pattern, by group index.
fn capture_names(hir: &regex_syntax::hir::Hir, names: &mut Vec<(u32, String)>) {
    use regex_syntax::hir::HirKind;
    match hir.kind() {
        HirKind::Capture(c) => {
            if let Some(n) = &c.name {
                names.push((c.index, n.to_string()));
            }
            capture_names(&c.sub, names);
        }
        HirKind::Concat(v) | HirKind::Alternation(v) => {
            v.iter().for_each(|h| capture_names(h, names))
        }
        HirKind::Repetition(r) => capture_names(&r.sub, names),
        _ => {}
    }
}

/// The pattern inside capture group `index`.
fn capture_sub(hir: &regex_syntax::hir::Hir, index: u32) -> Option<&regex_syntax::hir::Hir> {
    use regex_syntax::hir::HirKind;
    match hir.kind() {
        HirKind::Capture(c) if c.index == index => Some(&c.sub),
        HirKind::Capture(c) => capture_sub(&c.sub, index),
        HirKind::Concat(v) | HirKind::Alternation(v) => {
            v.iter().find_map(|h| capture_sub(h, index))
        }
        HirKind::Repetition(r) => capture_sub(&r.sub, index),
        _ => None,
    }
}

/// The literal starts of a secret pattern that look like a key format's prefix (four or more
/// characters ending in `_`, `-` or `.`, or all capitals: `sk-ant-`, `glpat-`, `AKIA`).
fn format_prefixes(sub: &regex_syntax::hir::Hir) -> Vec<Vec<u8>> {
    use regex_syntax::hir::literal::{ExtractKind, Extractor};
    let seq = Extractor::new().kind(ExtractKind::Prefix).extract(sub);
    let Some(lits) = seq.literals() else {
        return Vec::new();
    };
    lits.iter()
        .map(|l| l.as_bytes())
        .filter(|p| p.len() >= 4 && std::str::from_utf8(p).is_ok_and(is_prefix_keyword))
        .map(<[u8]>::to_vec)
        .collect()
}

/// Check a rule's regex (syntax, the `secret` group) without compiling it.
fn compile(rule: &Rule) -> Result<CompiledRule> {
    let hir = regex_syntax::ParserBuilder::new()
        .unicode(false)
        .utf8(false)
        .build()
        .parse(&rule.regex)
        .with_context(|| {
            format!(
                "compiling the regex of rule `{}` ({})",
                rule.id, rule.origin
            )
        })?;
    let mut names = Vec::new();
    capture_names(&hir, &mut names);
    let group = |want: &str| {
        names
            .iter()
            .find(|(_, n)| n == want)
            .map(|(i, _)| *i as usize)
    };
    let Some(secret_group) = group("secret") else {
        bail!(
            "rule `{}` ({}): regex has no capture group named `secret`",
            rule.id,
            rule.origin
        );
    };
    // Built-in rules are compiled by the test suite; a user's rule file is compiled now so
    // a pattern over the size limit is an error here, not on its first hit.
    let regex = OnceLock::new();
    if !rule.builtin {
        let built = build_regex(&rule.regex).with_context(|| {
            format!(
                "compiling the regex of rule `{}` ({})",
                rule.id, rule.origin
            )
        })?;
        let _ = regex.set(built);
    }
    let sub = capture_sub(&hir, secret_group as u32);
    let secret_prefixes = sub.map(format_prefixes).unwrap_or_default();
    let secret_pattern = sub.map(|h| h.to_string()).unwrap_or_default();
    Ok(CompiledRule {
        rule: rule.clone().into(),
        regex,
        secret_group,
        bare_group: group("secret_bare"),
        key_id_group: group("key_id"),
        name_group: group("name"),
        secret_prefixes,
        secret_pattern,
        secret_only: OnceLock::new(),
    })
}

/// Compile every rule's regex now (for `rules check`, which wants every error at once),
/// keeping what it compiles for the scans that follow.
pub fn compile_all(m: &Matcher) -> Result<()> {
    for r in &m.rules {
        if r.regex.get().is_some() {
            continue;
        }
        let built = build_regex(&r.rule.regex).with_context(|| {
            format!(
                "compiling the regex of rule `{}` ({})",
                r.rule.id, r.rule.origin
            )
        })?;
        let _ = r.regex.set(built);
    }
    Ok(())
}

/// A keyword that is the start of a key format: `gsk_`, `sk-ant-`, `xoxb-`, `AKIA`.
pub(crate) fn is_prefix_keyword(k: &str) -> bool {
    let b = k.as_bytes();
    b.len() >= 3
        && b[0].is_ascii_alphabetic()
        && (matches!(b[b.len() - 1], b'_' | b'-' | b'.')
            || b.len() >= 4 && b.iter().all(|c| c.is_ascii_uppercase()))
}

/// Is `buf[s..e]` a piece of a long base64 run (an image or font in a `data:` URI, a
/// certificate) that it touches with `+` or `/`? Such a run holds every short pattern
/// somewhere by chance; a key written in text is not glued to one.
fn inside_base64_blob(buf: &[u8], s: usize, e: usize) -> bool {
    let b64 = |b: &u8| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/');
    let glued = |b: Option<&u8>| matches!(b, Some(b'+' | b'/'));
    if !(glued(s.checked_sub(1).and_then(|i| buf.get(i))) || glued(buf.get(e))) {
        return false;
    }
    const RUN: usize = 200;
    let left = buf[..s]
        .iter()
        .rev()
        .take(RUN)
        .take_while(|b| b64(b))
        .count();
    let right = buf[e..].iter().take(RUN).take_while(|b| b64(b)).count();
    left + (e - s) + right >= RUN
}

fn is_uuid(s: &[u8]) -> bool {
    s.len() == 36
        && s.iter().enumerate().all(|(i, &c)| {
            if matches!(i, 8 | 13 | 18 | 23) {
                c == b'-'
            } else {
                c.is_ascii_hexdigit()
            }
        })
}

/// The line around `s..e`: from after the previous newline to before the next one.
fn line_bounds(buf: &[u8], s: usize, e: usize) -> (usize, usize) {
    let start = memchr::memrchr(b'\n', &buf[..s]).map_or(0, |p| p + 1);
    let end = memchr::memchr(b'\n', &buf[e..]).map_or(buf.len(), |p| e + p);
    (start, end)
}

/// Keep, among overlapping matches, the one of the most specific rule; order by position.
fn resolve_overlaps(rules: &[CompiledRule], mut found: Vec<RawMatch>) -> Vec<RawMatch> {
    if found.len() <= 1 {
        return found;
    }
    found.sort_by(|a, b| {
        let pa = rules[a.rule].rule.priority;
        let pb = rules[b.rule].rule.priority;
        pb.cmp(&pa)
            .then((b.secret.end - b.secret.start).cmp(&(a.secret.end - a.secret.start)))
            .then(a.rule.cmp(&b.rule))
            .then(a.secret.start.cmp(&b.secret.start))
    });
    let mut kept: Vec<RawMatch> = Vec::with_capacity(found.len());
    for m in found {
        let overlaps = kept
            .iter()
            .any(|k| k.secret.start < m.secret.end && m.secret.start < k.secret.end);
        if !overlaps {
            kept.push(m);
        }
    }
    kept.sort_by_key(|m| (m.secret.start, m.secret.end, m.rule));
    kept
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::template::{expand, Rng};

    fn set(toml: &str) -> RuleSet {
        let mut s = RuleSet::default();
        s.add_text(toml, "test.toml").unwrap();
        s
    }

    const TWO: &str = r#"
[[rules]]
id = "t.specific"
title = "specific"
provider = "t"
kind = "api-key"
severity = "high"
priority = 80
keywords = ["tk_"]
regex = '\b(?P<secret>tk_[A-Za-z0-9]{20})\b'

[[rules]]
id = "t.generic"
title = "generic"
provider = "t"
kind = "api-key"
severity = "low"
priority = 10
keywords = ["key"]
regex = '(?i)key\s*=\s*"(?P<secret>[A-Za-z0-9_]{16,})"'
"#;

    const NEAR_MISSES: &str = r#"
[[rules]]
id = "t.long"
title = "long keyword"
provider = "t"
kind = "api-key"
severity = "high"
priority = 80
keywords = ["contentful_token"]
regex = '(?i)contentful_token=(?P<secret>[a-z0-9]{24})'

[[rules]]
id = "t.inside"
title = "keyword inside a near miss"
provider = "u"
kind = "api-key"
severity = "high"
priority = 80
keywords = ["tentfu"]
regex = 'tentfu:(?P<secret>[a-z0-9]{24})'

[[rules]]
id = "t.short"
title = "short keyword, prefix of a long one"
provider = "v"
kind = "api-key"
severity = "high"
priority = 80
keywords = ["passw", "passwordfile"]
regex = 'passw(?P<secret>o[a-z0-9]{23})'

[[rules]]
id = "t.bearer"
title = "starts a token"
provider = "w"
kind = "token"
severity = "high"
priority = 80
keywords = ["QQQQQQQQ"]
keyword_starts_token = true
regex = '(?P<secret>QQQQQQQQ[a-z0-9]{24})'
"#;

    /// The automaton looks for keywords' first bytes; a hit must still be the whole
    /// keyword, and a hit that is none must not hide a keyword starting right after it.
    #[test]
    fn keywords_are_found_whole_and_near_misses_hide_nothing() {
        let m = Matcher::new(&set(NEAR_MISSES)).unwrap();
        let mut rng = Rng::new(9);
        let mut v = || expand("{{lower:24}}", &mut rng);
        let (a, b, c) = (v(), v(), v());
        // `passwo`, the start of `passwordfile`, is there, the long keyword is not, and
        // `passw`, a keyword it starts with, is.
        let text = format!(
            "CONTENTFUL_TOKEN={a}\ncontentfu contentful tentfu:{b}\npasswo{}\ncontentful_tok={c}\n",
            &c[1..]
        );
        let found = m.scan(text.as_bytes(), &mut Scratch::default());
        let ids: Vec<&str> = found.iter().map(|f| m.rule(f.rule).id.as_str()).collect();
        assert_eq!(ids, ["t.long", "t.inside", "t.short"], "{text}");
        // `contentfu` is almost `contentful_token`; `tentfu`, starting inside it, is found.
        let near = format!("xcontentfu:{b}");
        let found = m.scan(near.as_bytes(), &mut Scratch::default());
        assert_eq!(found.len(), 1, "{near}");
        assert_eq!(m.rule(found[0].rule).id, "t.inside");
    }

    #[test]
    fn keyword_starts_token_skips_hits_inside_base64() {
        let m = Matcher::new(&set(NEAR_MISSES)).unwrap();
        let body = expand("{{lower:24}}", &mut Rng::new(4));
        for (text, want) in [
            (format!("Bearer QQQQQQQQ{body}"), 1),
            (format!("\"QQQQQQQQ{body}\""), 1),
            (format!("data:aGVsbG8+QQQQQQQQ{body}"), 0),
            (format!("x/QQQQQQQQ{body}"), 0),
            (format!("abcQQQQQQQQ{body}"), 0),
        ] {
            let found = m.scan(text.as_bytes(), &mut Scratch::default());
            assert_eq!(found.len(), want, "{text}");
        }
    }

    #[test]
    fn specific_rule_wins_overlap() {
        let m = Matcher::new(&set(TWO)).unwrap();
        let key = expand("tk_{{alnum:20}}", &mut Rng::new(5));
        let text = format!("x = 1\nKEY = \"{key}\"\n");
        let found = m.scan(text.as_bytes(), &mut Scratch::default());
        assert_eq!(found.len(), 1);
        assert_eq!(m.rule(found[0].rule).id, "t.specific");
        assert_eq!(&text.as_bytes()[found[0].secret.clone()], key.as_bytes());
    }

    #[test]
    fn the_small_input_automaton_finds_what_the_dfa_finds() {
        let set = RuleSet::builtin().unwrap();
        let mut rng = Rng::new(7);
        let text: String = set
            .rules
            .iter()
            .flat_map(|r| r.examples.iter())
            .map(|e| expand(e, &mut rng) + "\n")
            .collect();
        let dfa = Matcher::new(&set).unwrap();
        let nfa = Matcher::for_small_input(&set).unwrap();
        let found = dfa.scan(text.as_bytes(), &mut Scratch::default());
        assert!(found.len() > set.rules.len(), "{} found", found.len());
        assert_eq!(found, nfa.scan(text.as_bytes(), &mut Scratch::default()));
    }

    #[test]
    fn keyword_case_insensitive_and_windows_merge() {
        let m = Matcher::new(&set(TWO)).unwrap();
        let a = expand("tk_{{alnum:20}}", &mut Rng::new(1));
        let b = expand("tk_{{alnum:20}}", &mut Rng::new(2));
        let text = format!("{a} {b}\n{}", "filler line\n".repeat(100));
        let found = m.scan(text.as_bytes(), &mut Scratch::default());
        assert_eq!(found.len(), 2);
        assert!(found[0].secret.start < found[1].secret.start);
    }

    #[test]
    fn word_boundary_sees_bytes_before_window() {
        let m = Matcher::new(&set(TWO)).unwrap();
        let a = expand("tk_{{alnum:20}}", &mut Rng::new(1));
        // Glued to a word on the left: not a token start.
        let text = format!("abc{a}\n");
        assert!(m.scan(text.as_bytes(), &mut Scratch::default()).is_empty());
    }

    #[test]
    fn a_prefix_inside_a_base64_image_is_not_a_key() {
        let m = Matcher::new(&set(r#"
[[rules]]
id = "t.fb"
title = "t"
provider = "t"
kind = "token"
severity = "high"
keywords = ["EAA"]
regex = '\b(?P<secret>EAA[A-Za-z0-9]{40,400})\b'
"#))
        .unwrap();
        let mut rng = crate::rules::template::Rng::new(5);
        let blob = |rng: &mut crate::rules::template::Rng| {
            crate::rules::template::expand("{{alnum:150}}", rng)
        };
        let key = crate::rules::template::expand("EAA{{alnum:60}}", &mut rng);
        let image = format!(
            "<image href=\"data:image/png;base64,{}/{key}+{}\"/>",
            blob(&mut rng),
            blob(&mut rng)
        );
        assert!(m.scan(image.as_bytes(), &mut Scratch::default()).is_empty());
        // The same key written as a value, or after a URL's slash, is found.
        let line = format!("FACEBOOK_TOKEN={key}\nhttps://graph.example/v1/{key}\n");
        assert_eq!(m.scan(line.as_bytes(), &mut Scratch::default()).len(), 2);
    }

    #[test]
    fn missing_secret_group_is_an_error() {
        let bad = TWO.replace("(?P<secret>tk_", "(tk_");
        let err = Matcher::new(&set(&bad)).unwrap_err();
        assert!(format!("{err:#}").contains("secret"));
    }
}
