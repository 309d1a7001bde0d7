//! Commands: parsed arguments in, an exit code out. One file per subcommand; this module
//! holds what they share: resolving flags + `sprawl.toml` into the options of a scan, the rule
//! set, the output, and `finish` (baseline, report, exit code).

pub mod audit;
pub mod git;
pub mod hook;
pub mod merge;
pub mod revoke;
pub mod rules;
pub mod scan;

use std::{
    io::{self, BufWriter, IsTerminal, Write},
    path::PathBuf,
};

use anyhow::{Context, Result};

use crate::{
    atomic_file::AtomicFile,
    baseline::{self, Baseline},
    cli::{ColorChoice, CommonArgs},
    config::{parse_size, ConfigFile, DEFAULT_MAX_FILE_SIZE},
    finding::{redact_text, sort_findings},
    git_scan::{GitMode, GitScanOptions},
    matcher::Matcher,
    report::{self, Format, Report},
    rules::{RuleSet, Severity},
    scan::{ScanOptions, ScanOutcome},
    source::fs::WalkOptions,
};

/// Exit codes of the design.
pub const EXIT_CLEAN: i32 = 0;
pub const EXIT_FINDINGS: i32 = 1;
pub const EXIT_ERROR: i32 = 2;

/// The rule set: built-ins, then the config's extra rules, then `--rules`, minus disabled ones.
pub fn load_rules(cfg: &ConfigFile, extra: &[PathBuf]) -> Result<RuleSet> {
    let mut set = RuleSet::builtin()?;
    for p in cfg.scan.rules.iter().chain(extra) {
        set.add_path(p)?;
    }
    set.disable(&cfg.scan.disable_rules)?;
    Ok(set)
}

/// An error in how sprawl was called (a path that does not exist, a FIFO, a revision that
/// does not resolve, a directory that is not a repository): one line naming it, exit 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// More worker threads than this only add memory and start-up time.
pub fn max_threads() -> usize {
    (4 * std::thread::available_parallelism().map_or(2, |n| n.get())).max(64)
}

pub fn threads(common: &CommonArgs) -> usize {
    static WARNED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    let max = max_threads();
    match common.threads.filter(|&n| n > 0) {
        Some(n) if n > max => {
            if !WARNED.swap(true, std::sync::atomic::Ordering::Relaxed) {
                eprintln!("warning: --threads {n} is more than {max}; using {max}");
            }
            max
        }
        Some(n) => n,
        None => std::thread::available_parallelism().map_or(2, |n| n.get()),
    }
}

/// Where a report goes: standard output, or a file written atomically (see `AtomicFile`).
pub enum Output {
    Stdout(BufWriter<io::StdoutLock<'static>>),
    File(BufWriter<AtomicFile>),
}

impl Output {
    /// Everything written: flush, and put a file in place.
    pub fn commit(self) -> Result<()> {
        match self {
            Output::Stdout(mut w) => Ok(w.flush()?),
            Output::File(w) => w.into_inner().map_err(|e| e.into_error())?.commit(),
        }
    }
}

impl Write for Output {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Output::Stdout(w) => w.write(buf),
            Output::File(w) => w.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Output::Stdout(w) => w.flush(),
            Output::File(w) => w.flush(),
        }
    }
}

/// Standard output, or a temporary file beside `output` (created now, so an unwritable path
/// fails before any work); `Output::commit` puts it in place.
pub fn open_output(output: Option<&std::path::Path>) -> Result<Output> {
    Ok(match output {
        Some(p) => Output::File(BufWriter::new(AtomicFile::create(p, "output file")?)),
        None => Output::Stdout(BufWriter::new(io::stdout().lock())),
    })
}

/// What a scanning command checks and opens before it scans: the output, the baseline to
/// apply (read now: a new baseline written to the same path must not hide new secrets), and
/// the baseline to write.
pub struct Prepared {
    out: Output,
    baseline: Option<Baseline>,
    write_baseline: Option<AtomicFile>,
}

/// Check the output and baseline paths and read the baseline, before the scan starts.
///
/// A baseline that does not exist is an error, unless this run writes a baseline: then it is
/// a warning (the run that creates the configured baseline).
pub fn prepare(common: &CommonArgs, cfg: &ConfigFile) -> Result<Prepared> {
    let write_baseline = common
        .write_baseline
        .as_deref()
        .map(|p| AtomicFile::create(p, "baseline"))
        .transpose()?;
    let baseline = match common.baseline.as_ref().or(cfg.scan.baseline.as_ref()) {
        Some(p) if !p.exists() && write_baseline.is_some() => {
            eprintln!(
                "warning: baseline {} does not exist yet; nothing is suppressed this run",
                p.display()
            );
            None
        }
        Some(p) if !p.exists() => {
            return Err(UsageError(format!(
                "baseline {} does not exist (create it with --write-baseline {})",
                p.display(),
                p.display()
            ))
            .into())
        }
        Some(p) => Some(Baseline::load(p)?),
        None => None,
    };
    Ok(Prepared {
        out: open_output(common.output.as_deref())?,
        baseline,
        write_baseline,
    })
}

/// The severity at or above which a finding makes the run exit 1: `--fail-on`, else
/// `[scan] fail_on`, else any finding.
fn fail_on(common: &CommonArgs, cfg: &ConfigFile) -> Severity {
    common
        .fail_on
        .or(cfg.scan.fail_on)
        .unwrap_or(Severity::Info)
}

/// Sort, baseline, write the report and any baseline, and choose the exit code. File names
/// and error messages go through the matcher: a secret in a file name is redacted too.
pub fn finish(
    prepared: Prepared,
    matcher: &Matcher,
    mut outcome: ScanOutcome,
    common: &CommonArgs,
    cfg: &ConfigFile,
    scanned_anything: bool,
) -> Result<i32> {
    let Prepared {
        mut out,
        baseline,
        write_baseline,
    } = prepared;
    if !common.show_secrets {
        redact_places(matcher, &mut outcome);
    }
    if let Some(base) = &outcome.base {
        crate::codeowners::annotate(&mut outcome.findings, base);
    }
    let min_confidence = common
        .min_confidence
        .unwrap_or(crate::rules::Confidence::Medium);
    outcome.findings.retain(|f| f.confidence >= min_confidence);
    sort_findings(&mut outcome.findings);
    outcome.errors.sort();
    if let Some(mut f) = write_baseline {
        f.write_all(baseline::render(&outcome.findings).as_bytes())?;
        f.commit()?;
    }
    let mut baselined = outcome.stats.baselined;
    if let Some(b) = &baseline {
        baselined += b.apply(&mut outcome.findings) as u64;
    }
    if common.validate {
        // Opt-in only, after the baseline (known secrets are not sent anywhere).
        let rules = load_rules(cfg, &common.rules)?;
        crate::validate::run_for(
            &mut outcome.findings,
            &rules.validators,
            common.validate_cache.as_deref(),
        );
    }
    let to_file = common.output.is_some();
    let color = match common.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            !to_file && io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
        }
    };
    // Errors go to stderr in every format, one line each, naming the file.
    let format = common.format.unwrap_or(Format::Text);
    for e in &outcome.errors {
        eprintln!(
            "error: {}: {}",
            crate::finding::escape_control(&e.path),
            crate::finding::escape_control(&e.message)
        );
    }
    let r = Report {
        findings: &outcome.findings,
        stats: &outcome.stats,
        errors: &outcome.errors,
        baselined,
        show_secrets: common.show_secrets,
        color,
        base: outcome.base.as_deref(),
    };
    report::write(&r, format, &mut out)?;
    out.commit()?;
    if !scanned_anything || (common.strict && !outcome.errors.is_empty()) {
        return Ok(EXIT_ERROR);
    }
    let threshold = fail_on(common, cfg);
    Ok(
        if outcome
            .findings
            .iter()
            // Low-confidence findings are reported when asked for, never fail the run.
            .any(|f| {
                f.rule.severity >= threshold && f.confidence >= crate::rules::Confidence::Medium
            })
        {
            EXIT_FINDINGS
        } else {
            EXIT_CLEAN
        },
    )
}

/// Redact secrets in the paths of findings and in error paths and messages.
pub(super) fn redact_places(matcher: &Matcher, outcome: &mut ScanOutcome) {
    let mut seen: std::collections::HashMap<String, String> = Default::default();
    for f in &mut outcome.findings {
        let p = &mut f.location.path;
        if let Some(r) = seen.get(p.as_str()) {
            *p = r.clone();
        } else {
            let r = redact_text(matcher, p);
            seen.insert(p.clone(), r.clone());
            *p = r;
        }
    }
    for e in &mut outcome.errors {
        e.path = redact_text(matcher, &e.path);
        e.message = redact_text(matcher, &e.message);
    }
}

pub fn max_file_size(common: &CommonArgs, cfg: &ConfigFile) -> Result<u64> {
    Ok(match (&common.max_file_size, &cfg.scan.max_file_size) {
        (Some(s), _) => parse_size(s).context("--max-file-size")?,
        (None, Some(v)) => v.bytes().context("scan.max_file_size in config")?,
        (None, None) => DEFAULT_MAX_FILE_SIZE,
    })
}

/// The options of a file-system scan, from flags + config: the config's excludes then
/// `extra_exclude`, threads and size limits resolved the same way for every command.
pub fn scan_options(
    cfg: &ConfigFile,
    common: &CommonArgs,
    paths: Vec<PathBuf>,
    extra_exclude: &[String],
    follow_symlinks: bool,
    max_decompressed_size: Option<&str>,
) -> Result<ScanOptions> {
    let mut exclude = cfg.scan.exclude.clone();
    exclude.extend(extra_exclude.iter().cloned());
    Ok(ScanOptions {
        paths,
        walk: WalkOptions {
            exclude,
            follow_symlinks,
            threads: threads(common),
        },
        max_file_size: max_file_size(common, cfg)?,
        max_decompressed: match max_decompressed_size {
            Some(s) => parse_size(s).context("--max-decompressed-size")?,
            None => crate::source::log::MAX_DECOMPRESSED,
        },
    })
}

/// The options of a git scan, from flags + config.
pub fn git_options(
    cfg: &ConfigFile,
    common: &CommonArgs,
    repos: Vec<PathBuf>,
    mode: GitMode,
) -> Result<GitScanOptions> {
    Ok(GitScanOptions {
        repos,
        labels: None,
        mode,
        max_file_size: max_file_size(common, cfg)?,
        threads: threads(common),
    })
}
