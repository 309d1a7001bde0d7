//! Fuzz targets: arbitrary bytes in, nothing out but a panic when a parser a user can feed
//! breaks (a crash) or a property fails (a secret in a redacted form, a stream finding what a
//! whole-buffer scan does not). The same functions run under libFuzzer (`fuzz/`, nightly,
//! `cargo fuzz run NAME`) and on stable through bolero in the test suite
//! (`tests/fuzz_targets.rs`), so a crash found by either reproduces with the other.

use std::{io::Write, path::PathBuf, sync::OnceLock};

use crate::{
    audit, baseline, codeowners, config, exposure,
    finding::Finding,
    inventory,
    matcher::{compile_all, Matcher, Scratch},
    report,
    rules::{self, template, RuleSet},
    scan::{self, ScanOutcome},
    source::{log, notebook, Provenance, SourceKind},
    time,
};

/// A fuzz target: bytes in, a panic on failure.
pub type Target = fn(&[u8]);

/// Every target by name: the name of its `fuzz/fuzz_targets/NAME.rs` and of its test.
pub const TARGETS: &[(&str, Target)] = &[
    ("notebook", notebook),
    ("config_toml", config_toml),
    ("rule_toml", rule_toml),
    ("rule_template", rule_template),
    ("inventory", inventory),
    ("baseline", baseline),
    ("date", date),
    ("size", size),
    ("codeowners", codeowners),
    ("matcher", matcher),
    ("stream", stream),
];

/// The built-in rules' matcher, built once per process.
pub fn builtin_matcher() -> &'static Matcher {
    static M: OnceLock<Matcher> = OnceLock::new();
    M.get_or_init(|| {
        let set = RuleSet::builtin().expect("built-in rules load");
        Matcher::new(&set).expect("built-in rules compile")
    })
}

/// A scratch file for the parsers that read a path, one per process and thread.
fn scratch_file(data: &[u8], ext: &str) -> PathBuf {
    let name = format!(
        "sprawl-fuzz-{}-{:?}.{ext}",
        std::process::id(),
        std::thread::current().id()
    )
    .replace(
        |c: char| !c.is_ascii_alphanumeric() && c != '.' && c != '-',
        "",
    );
    let path = std::env::temp_dir().join(name);
    std::fs::write(&path, data).expect("writing the fuzz scratch file");
    path
}

/// No finding may show its secret in its redacted form.
fn assert_redacted(findings: &[Finding]) {
    for f in findings {
        let secret = String::from_utf8_lossy(&f.secret);
        assert!(
            !f.redacted.contains(secret.as_ref()),
            "rule {}: redacted form {:?} holds the whole secret",
            f.rule.id,
            f.redacted
        );
    }
}

/// (rule, secret, line, column, end line, end column) of each finding, sorted.
type Place = (String, Vec<u8>, u64, u64, u64, u64);

fn places(findings: &[Finding]) -> Vec<Place> {
    let mut v: Vec<Place> = findings
        .iter()
        .map(|f| {
            let l = &f.location;
            (
                f.rule.id.clone(),
                f.secret.clone(),
                l.line,
                l.column,
                l.end_line,
                l.end_column,
            )
        })
        .collect();
    v.sort();
    v
}

/// A notebook: parse it, scan its cells, and check that each finding's file location holds
/// the secret as JSON writes it.
pub fn notebook(data: &[u8]) {
    if let Ok(parts) = notebook::parse(data) {
        let index = notebook::LineIndex::new(data);
        for p in &parts {
            // Every decoded offset maps into the file, in order.
            let mut last = 0;
            for i in (0..=p.text.len()).step_by(p.text.len() / 16 + 1) {
                let at = p.map.file_offset(i);
                assert!(at <= data.len() && at >= last, "offset {i} maps to {at}");
                last = at;
                let (line, col) = index.line_col(at);
                assert!(line >= 1 && col >= 1);
            }
        }
    }
    let prov = Provenance::file(SourceKind::File, "fuzz.ipynb");
    let mut out = ScanOutcome::default();
    scan::scan_content(
        builtin_matcher(),
        data,
        &prov,
        &mut Scratch::default(),
        &mut out,
    );
    assert_redacted(&out.findings);
}

/// `sprawl.toml` (and `--config`): the whole schema, sizes included.
pub fn config_toml(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(cfg) = toml::from_str::<config::ConfigFile>(text) {
        if let Some(s) = &cfg.scan.max_file_size {
            let _ = s.bytes();
        }
    }
}

/// A rule file: load it, compile it, and run its examples through the whole pipeline.
pub fn rule_toml(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut set = RuleSet::default();
    if set.add_text(text, "fuzz.toml").is_err() {
        return;
    }
    let Ok(m) = Matcher::new(&set) else {
        return;
    };
    if compile_all(&m).is_err() {
        return;
    }
    let _ = rules::check::check(&set);
    let mut scratch = Scratch::default();
    for r in &set.rules {
        for t in &r.examples {
            let ex = template::expand(t, &mut template::Rng::new(1));
            let _ = m.scan(ex.as_bytes(), &mut scratch);
        }
    }
}

/// A rule example template (`sk-{{alnum:20}}{{crc32}}`).
pub fn rule_template(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let a = template::expand(&text, &mut template::Rng::new(7));
    let b = template::expand(&text, &mut template::Rng::new(7));
    assert_eq!(a, b, "expansion is deterministic for a seed");
}

/// Inventory files of every format (the first byte picks one; 0 detects it), a roster, or an
/// audit report input (`FINDINGS.json`); then the audit and its reports.
pub fn inventory(data: &[u8]) {
    let Some((&pick, body)) = data.split_first() else {
        return;
    };
    let choices = inventory::FORMATS.len() + 3;
    let choice = pick as usize % choices;
    let mut import = inventory::Import::default();
    let mut exposures = Vec::new();
    let mut roster = None;
    if choice < inventory::FORMATS.len() {
        let path = scratch_file(body, "inv");
        let _ = inventory::load(&path, Some(inventory::FORMATS[choice]), &mut import);
    } else if choice == inventory::FORMATS.len() {
        let path = scratch_file(body, "inv");
        let _ = inventory::load(&path, None, &mut import);
    } else if choice == inventory::FORMATS.len() + 1 {
        let path = scratch_file(body, "csv");
        let mut warnings = Vec::new();
        roster = inventory::load_roster(&path, &mut warnings).ok();
    } else {
        let path = scratch_file(body, "json");
        exposures = exposure::from_report(&path).unwrap_or_default();
    }
    inventory::aws::apply_usage(&mut import);
    let policy = audit::Policy::default();
    let result = audit::audit(
        exposure::merge(exposures, |_| true),
        import.records,
        roster.as_ref(),
        &policy,
        1_700_000_000,
    );
    let notes = report::audit_json::Notes {
        warnings: &import.warnings,
        errors: &[],
        deltas: None,
    };
    let mut sink = std::io::sink();
    let _ = report::audit_text::write(&result, &notes, &mut sink);
    let _ = report::audit_json::write(&result, &policy, &notes, &mut sink);
    let _ = sink.flush();
}

/// A baseline file.
pub fn baseline(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let _ = baseline::Baseline::parse(&text, std::path::Path::new("fuzz.json"));
}

/// A date as inventories, the AWS credential report and `--now` give them.
pub fn date(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Some(t) = time::parse_date(text) {
        let _ = time::rfc3339(t, 0);
    }
}

/// A size (`--max-file-size`, `max_file_size`).
pub fn size(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = config::parse_size(text);
    }
}

/// A CODEOWNERS file, and the owners of a few paths.
pub fn codeowners(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let co = codeowners::CodeOwners::parse(&text);
    for p in ["src/main.rs", "docs/a/b.md", ".env", "a"] {
        let _ = co.owners(p);
    }
    if let Some(first) = text.lines().next() {
        let _ = co.owners(first);
    }
}

/// The matcher on arbitrary bytes: every finding is redacted, and sits where it says.
pub fn matcher(data: &[u8]) {
    let prov = Provenance::file(SourceKind::File, "fuzz.txt");
    let mut out = ScanOutcome::default();
    scan::scan_bytes(
        builtin_matcher(),
        data,
        &prov,
        &mut Scratch::default(),
        &mut out,
    );
    assert_redacted(&out.findings);
    for f in &out.findings {
        let l = &f.location;
        let line = data.split(|&b| b == b'\n').nth(l.line as usize - 1);
        let line = line.expect("the finding's line exists");
        // The column counts characters before the secret (UTF-8 continuation bytes are not
        // characters), so the secret must start at a byte with that many before it. A stray
        // continuation byte at the secret's start shares its column with what follows it.
        let chars_before = |i: usize| line[..i].iter().filter(|&&b| (b & 0xC0) != 0x80).count();
        let line_start = line.as_ptr() as usize - data.as_ptr() as usize;
        let points = (0..=line.len()).any(|i| {
            data[line_start + i..].starts_with(&f.secret) && chars_before(i) as u64 + 1 == l.column
        });
        assert!(
            points,
            "rule {} at {}:{} does not point at its secret",
            f.rule.id, l.line, l.column
        );
    }
}

/// A stream in small windows finds what a whole-buffer scan finds, at the same places (the
/// first byte picks the window size; the rest, repeated, is the stream).
pub fn stream(data: &[u8]) {
    let Some((&pick, body)) = data.split_first() else {
        return;
    };
    let m = builtin_matcher();
    let window = 256 + pick as usize * 8;
    // Wide enough for a short private-key block, so multi-line rules are compared too.
    let overlap = 4096;
    let mut text = body.to_vec();
    while !text.is_empty() && text.len() < 2 * (window + overlap) && pick & 1 == 1 {
        text.extend_from_slice(body);
    }
    let prov = Provenance::file(SourceKind::Log, "fuzz.log");
    let mut whole = ScanOutcome::default();
    scan::scan_bytes(m, &text, &prov, &mut Scratch::default(), &mut whole);
    let mut streamed = ScanOutcome::default();
    let windows = log::Windows::with_lookbehind(&text[..], window, overlap, log::LOOKBEHIND);
    scan::scan_windows(m, windows, &prov, &mut Scratch::default(), &mut streamed)
        .expect("reading from memory");
    // On lines shorter than the matcher's reach, single-line rules give the same findings at
    // the same places (a match longer than half the overlap may be cut, so those are left
    // out). Elsewhere a regex may match at another phase of a repeated text, and a multi-line
    // rule may pair a BEGIN with another END, when scanning starts elsewhere: there each
    // finding must overlap one of the same rule on the other side.
    // A single-line rule's windows on consecutive lines merge, so its regex may start on
    // the line before (`name =` on one line, the value on the next): such a finding
    // depends on where scanning started, like a repeated text. Exact comparison is for
    // findings their own line gives alone.
    let lines: Vec<&[u8]> = text.split(|&b| b == b'\n').collect();
    let line_local = |f: &Finding| {
        let Some(line) = lines.get(f.location.line as usize - 1) else {
            return false;
        };
        let mut alone = ScanOutcome::default();
        scan::scan_bytes(m, line, &prov, &mut Scratch::default(), &mut alone);
        alone
            .findings
            .iter()
            .any(|g| g.rule.id == f.rule.id && g.secret == f.secret)
    };
    // A multi-line rule (a private key's BEGIN … END) pairs a BEGIN with whichever END the
    // scan's window holds, and the block it reports hides what lies inside it; so a line
    // inside a multi-line finding on either side is not compared exactly either.
    let blocks: Vec<(u64, u64)> = whole
        .findings
        .iter()
        .chain(&streamed.findings)
        .filter(|f| f.rule.multiline)
        .map(|f| (f.location.line, f.location.end_line))
        .collect();
    let in_block = |f: &Finding| {
        !f.rule.multiline
            && blocks
                .iter()
                .any(|&(from, to)| from <= f.location.end_line && f.location.line <= to)
    };
    let exact = |f: &Finding| {
        !f.rule.multiline
            && !in_block(f)
            && f.secret.len() < overlap / 2
            && lines
                .get(f.location.line as usize - 1)
                .is_some_and(|l| l.len() < 1000)
            && line_local(f)
    };
    let single =
        |v: &[Finding]| places(&v.iter().filter(|f| exact(f)).cloned().collect::<Vec<_>>());
    let (a, b) = (single(&whole.findings), single(&streamed.findings));
    if a != b {
        let only = |x: &[Place], y: &[Place]| -> Vec<(String, u64, u64)> {
            x.iter()
                .filter(|p| !y.contains(p))
                .map(|p| (p.0.clone(), p.2, p.3))
                .take(5)
                .collect()
        };
        panic!(
            "window {window}: whole-buffer only {:?}; streamed only {:?}",
            only(&a, &b),
            only(&b, &a)
        );
    }
    // Elsewhere a finding must have one on the other side overlapping it or within `NEAR`
    // bytes, or the same rule must find the same secret there: on a long line that repeats
    // without a newline, a match may swallow the next repetition's name at one phase and not
    // at another (`a = "x…a = "x…`), and which rule wins an overlap changes with the phase.
    const NEAR: usize = 256;
    let spans = |v: &[Finding]| -> Vec<(String, std::ops::Range<usize>, Vec<u8>)> {
        let mut c = notebook::TextCursor::new(&text);
        let mut c2 = notebook::TextCursor::new(&text);
        v.iter()
            // Multi-line rules too: a PEM/PGP/OpenSSH body cannot cross `-----`, so a BEGIN
            // pairs with its own END wherever a window starts (issue 11 item 3).
            .filter(|f| !exact(f) && !in_block(f) && f.secret.len() < overlap / 2)
            .map(|f| {
                let l = &f.location;
                let s = c.offset(l.line, l.column);
                (
                    f.rule.id.clone(),
                    s..c2.offset(l.end_line, l.end_column).max(s + 1),
                    f.secret.clone(),
                )
            })
            .collect()
    };
    let (a, b) = (spans(&whole.findings), spans(&streamed.findings));
    // Where a window's buffer starts: a cut every `window` bytes on a line without newlines,
    // with up to LOOKBEHIND bytes before it kept as context.
    let starts: Vec<usize> = (0..=text.len() / window)
        .map(|k| (k * window).saturating_sub(log::LOOKBEHIND))
        .collect();
    let line_len = |at: usize| {
        let from = text[..at]
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |p| p + 1);
        let to = text[at..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(text.len(), |p| at + p);
        to - from
    };
    // On a line longer than the window the streamed scan starts inside the line: a finding
    // there is the one a whole-buffer scan gives when started where that window's buffer
    // started (a repeated text without newlines matches at the phase where scanning began).
    let from_a_window_start = |rule: &str, r: &std::ops::Range<usize>, secret: &[u8]| {
        line_len(r.start) > window
            && starts
                .iter()
                .filter(|&&s| s <= r.start && r.start - s <= window + overlap + log::LOOKBEHIND)
                .any(|&s| {
                    let mut o = ScanOutcome::default();
                    scan::scan_bytes(m, &text[s..], &prov, &mut Scratch::default(), &mut o);
                    o.findings
                        .iter()
                        .any(|g| g.rule.id == rule && g.secret == secret)
                })
    };
    for (x, y, what) in [(&a, &b, "whole-buffer"), (&b, &a, "streamed")] {
        for (rule, r, secret) in x.iter() {
            assert!(
                y.iter().any(|(r2, o, s2)| (o.start < r.end + NEAR && r.start < o.end + NEAR)
                    || (r2 == rule && s2 == secret))
                    || (what == "streamed" && from_a_window_start(rule, r, secret)),
                "window {window}: {what} finding of {rule} at {r:?} overlaps nothing on the other side"
            );
        }
    }
    assert_redacted(&streamed.findings);
}
