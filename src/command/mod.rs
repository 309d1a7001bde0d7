//! Commands: parsed arguments in, an exit code out. One file per subcommand; this module
//! holds what they share: resolving flags + `sprawl.toml` into the options of a scan, the rule
//! set, the output, and `finish` (baseline, report, exit code).

pub mod audit;
pub mod git;
pub mod hook;
pub mod revoke;
pub mod rules;
pub mod scan;

use std::{
    fs::File,
    io::{self, BufWriter, IsTerminal, Write},
    path::PathBuf,
};

use anyhow::{Context, Result};

use crate::{
    baseline::{self, Baseline},
    cli::{ColorChoice, CommonArgs},
    config::{parse_size, ConfigFile, DEFAULT_MAX_FILE_SIZE},
    finding::sort_findings,
    git_scan::{GitMode, GitScanOptions},
    report::{self, Format, Report},
    rules::RuleSet,
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

pub fn threads(common: &CommonArgs) -> usize {
    common
        .threads
        .filter(|&n| n > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()))
}

pub fn open_output(output: Option<&std::path::Path>) -> Result<Box<dyn Write>> {
    Ok(match output {
        Some(p) => {
            Box::new(BufWriter::new(File::create(p).with_context(|| {
                format!("creating output file {}", p.display())
            })?))
        }
        None => Box::new(BufWriter::new(io::stdout().lock())),
    })
}

/// Sort, baseline, write the report and any baseline, and choose the exit code.
pub fn finish(
    mut outcome: ScanOutcome,
    common: &CommonArgs,
    cfg: &ConfigFile,
    scanned_anything: bool,
) -> Result<i32> {
    sort_findings(&mut outcome.findings);
    outcome.errors.sort();
    if let Some(p) = &common.write_baseline {
        std::fs::write(p, baseline::render(&outcome.findings))
            .with_context(|| format!("writing baseline {}", p.display()))?;
    }
    let mut baselined = 0;
    if let Some(p) = common.baseline.as_ref().or(cfg.scan.baseline.as_ref()) {
        baselined = Baseline::load(p)?.apply(&mut outcome.findings) as u64;
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
        eprintln!("error: {}: {}", e.path, e.message);
    }
    let r = Report {
        findings: &outcome.findings,
        stats: &outcome.stats,
        errors: &outcome.errors,
        baselined,
        show_secrets: common.show_secrets,
        color,
    };
    let mut out = open_output(common.output.as_deref())?;
    report::write(&r, format, &mut out)?;
    out.flush()?;
    if !scanned_anything || (common.strict && !outcome.errors.is_empty()) {
        return Ok(EXIT_ERROR);
    }
    Ok(if outcome.findings.is_empty() {
        EXIT_CLEAN
    } else {
        EXIT_FINDINGS
    })
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
        mode,
        max_file_size: max_file_size(common, cfg)?,
        threads: threads(common),
    })
}
