//! Commands: parsed arguments in, an exit code out. Resolves flags and `sprawl.toml`, builds
//! the rule set and matcher once, runs the pipeline, applies the baseline, writes the report.

use std::{
    fs::File,
    io::{self, BufWriter, IsTerminal, Write},
    path::PathBuf,
};

use anyhow::{Context, Result};

use crate::{
    baseline::{self, Baseline},
    cli::{ColorChoice, CommonArgs, GitArgs, RulesCommand, ScanArgs},
    config::{parse_size, ConfigFile, DEFAULT_MAX_FILE_SIZE},
    finding::sort_findings,
    git_scan::{scan_git, GitMode, GitScanOptions},
    matcher::Matcher,
    progress::Progress,
    report::{self, Format, Report},
    rules::{check, Confidence, RuleSet},
    scan::{scan_paths, ScanOptions, ScanOutcome},
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

fn threads(common: &CommonArgs) -> usize {
    common
        .threads
        .filter(|&n| n > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()))
}

fn open_output(output: Option<&std::path::Path>) -> Result<Box<dyn Write>> {
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
    let min_confidence = common.min_confidence.unwrap_or(Confidence::Medium);
    outcome.findings.retain(|f| f.confidence >= min_confidence);
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
    // Low-confidence findings are reported when asked for, but never fail the run.
    let failing = outcome
        .findings
        .iter()
        .any(|f| f.confidence >= Confidence::Medium);
    Ok(if !failing { EXIT_CLEAN } else { EXIT_FINDINGS })
}

fn max_file_size(common: &CommonArgs, cfg: &ConfigFile) -> Result<u64> {
    Ok(match (&common.max_file_size, &cfg.scan.max_file_size) {
        (Some(s), _) => parse_size(s).context("--max-file-size")?,
        (None, Some(v)) => v.bytes().context("scan.max_file_size in config")?,
        (None, None) => DEFAULT_MAX_FILE_SIZE,
    })
}

pub fn git(args: GitArgs) -> Result<i32> {
    let repos = if args.repos.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        args.repos.clone()
    };
    let cfg = ConfigFile::discover(args.common.config.as_deref(), &repos)?;
    let rules = load_rules(&cfg, &args.common.rules)?;
    let matcher = Matcher::new(&rules)?;
    let mode = if args.staged {
        GitMode::Staged
    } else if let Some(r) = &args.range {
        GitMode::Range(r.clone())
    } else if let Some(rev) = &args.since {
        GitMode::Range(format!("{rev}..HEAD"))
    } else {
        GitMode::History {
            all_objects: args.all_objects,
        }
    };
    let staged = mode == GitMode::Staged;
    let opts = GitScanOptions {
        repos,
        mode,
        max_file_size: max_file_size(&args.common, &cfg)?,
        threads: threads(&args.common),
    };
    let progress = Progress::new(
        !staged && !args.common.no_progress && io::stderr().is_terminal(),
        "blobs",
    );
    let outcome = scan_git(&matcher, &opts, &progress);
    progress.finish();
    let scanned = outcome.errors.len() < opts.repos.len() || outcome.stats.blobs > 0;
    let code = finish(outcome, &args.common, &cfg, scanned)?;
    if staged && code == EXIT_FINDINGS {
        eprintln!(
            "sprawl: this commit adds a credential (above). Remove it from the staged change and \
             rotate the key: it has been on disk. If it is a test value, mark the line with \
             `sprawl:allow`, or add its fingerprint to a baseline (--write-baseline / --baseline). \
             To commit anyway: git commit --no-verify"
        );
    }
    Ok(code)
}

/// Owners to suggest for each secret: CODEOWNERS of where it was found, then the git
/// authors who introduced it.
fn suggest_owners(
    exposures: &[crate::audit::Exposure],
    roots: &[(String, PathBuf)],
) -> std::collections::HashMap<crate::finding::Fingerprint, Vec<String>> {
    let owners: Vec<(String, Option<crate::codeowners::CodeOwners>)> = roots
        .iter()
        .map(|(origin, root)| (origin.clone(), crate::codeowners::CodeOwners::find(root)))
        .collect();
    let mut out = std::collections::HashMap::new();
    for e in exposures {
        let mut list: Vec<String> = Vec::new();
        for o in &e.occurrences {
            if let Some((_, Some(co))) = owners.iter().find(|(origin, _)| *origin == o.origin) {
                for w in co.owners(&o.path) {
                    if !list.contains(&w) {
                        list.push(w);
                    }
                }
            }
        }
        for o in &e.occurrences {
            if let Some(email) = &o.email {
                if !list.contains(email) {
                    list.push(email.clone());
                }
            }
        }
        if !list.is_empty() {
            out.insert(e.fingerprint, list);
        }
    }
    out
}

pub fn audit(args: crate::cli::AuditArgs) -> Result<i32> {
    use crate::{audit, exposure, inventory};
    let cfg = match &args.policy {
        Some(p) => ConfigFile::load(p)?,
        None if std::path::Path::new(crate::config::CONFIG_FILE).is_file() => {
            ConfigFile::load(std::path::Path::new(crate::config::CONFIG_FILE))?
        }
        None => ConfigFile::default(),
    };
    let policy = cfg.audit.clone();
    let now = match &args.now {
        Some(t) => crate::time::parse_date(t)
            .with_context(|| format!("--now {t:?}: expected RFC 3339 or YYYY-MM-DD"))?,
        None => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0),
    };
    let import = inventory::load_all(&args.inventory, args.inventory_format.as_deref())?;
    let mut roster_warnings = Vec::new();
    let roster = args
        .roster
        .as_deref()
        .map(|p| inventory::load_roster(p, &mut roster_warnings))
        .transpose()?;
    for w in &roster_warnings {
        eprintln!("warning: {w}");
    }

    let mut exposures = Vec::new();
    let mut roots: Vec<(String, PathBuf)> = Vec::new();
    for r in &args.reports {
        exposures.extend(exposure::from_report(r)?);
    }
    let common = CommonArgs {
        threads: args.threads,
        ..CommonArgs::default()
    };
    if !args.scan.is_empty() || !args.git.is_empty() {
        let rules = load_rules(&cfg, &[])?;
        let matcher = Matcher::new(&rules)?;
        for p in &args.scan {
            let opts = ScanOptions {
                paths: vec![p.clone()],
                walk: WalkOptions {
                    exclude: cfg.scan.exclude.clone(),
                    follow_symlinks: false,
                    threads: threads(&common),
                },
                max_file_size: max_file_size(&common, &cfg)?,
                max_decompressed: crate::source::log::MAX_DECOMPRESSED,
            };
            let o = scan_paths(&matcher, &opts, &Progress::disabled());
            for e in &o.errors {
                eprintln!("error: {}: {}", e.path, e.message);
            }
            let origin = p.display().to_string();
            exposures.extend(exposure::from_findings(&o.findings, &origin));
            roots.push((origin, p.clone()));
        }
        for repo in &args.git {
            let opts = GitScanOptions {
                repos: vec![repo.clone()],
                mode: GitMode::History { all_objects: false },
                max_file_size: max_file_size(&common, &cfg)?,
                threads: threads(&common),
            };
            let o = scan_git(&matcher, &opts, &Progress::disabled());
            for e in &o.errors {
                eprintln!("error: {}: {}", e.path, e.message);
            }
            let origin = repo.display().to_string();
            exposures.extend(exposure::from_findings(&o.findings, &origin));
            roots.push((origin, repo.clone()));
        }
    }
    let exposures = exposure::merge(exposures);
    let suggestions = suggest_owners(&exposures, &roots);
    let result = audit::audit(
        exposures,
        &import.records,
        roster.as_ref(),
        &policy,
        now,
        &suggestions,
    );
    for w in &import.warnings {
        eprintln!("warning: {w}");
    }
    let mut out = open_output(args.output.as_deref())?;
    match args.format {
        crate::cli::AuditFormat::Text => {
            crate::report::audit_text::write(&result, &import.warnings, &mut out)?
        }
        crate::cli::AuditFormat::Json => {
            crate::report::audit_json::write(&result, &policy, &import.warnings, &mut out)?
        }
        crate::cli::AuditFormat::Sarif => crate::report::sarif::write_audit(&result, &mut out)?,
        crate::cli::AuditFormat::Csv => crate::report::csv::write_audit(&result, &mut out)?,
        crate::cli::AuditFormat::Html => {
            crate::report::html::write(&result, "sprawl audit report", &mut out)?
        }
    }
    out.flush()?;
    let fail_on = args
        .fail_on
        .or(policy.fail_on)
        .unwrap_or(crate::rules::Severity::High);
    Ok(match audit::worst(&result) {
        Some(w) if w >= fail_on => EXIT_FINDINGS,
        _ => EXIT_CLEAN,
    })
}

pub fn install_hook(repo: &std::path::Path, force: bool) -> Result<i32> {
    let hook = crate::hook::install(repo, force)?;
    println!("installed {}", hook.display());
    Ok(EXIT_CLEAN)
}

pub fn scan(args: ScanArgs) -> Result<i32> {
    let paths = if args.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        args.paths.clone()
    };
    let cfg = ConfigFile::discover(args.common.config.as_deref(), &paths)?;
    let rules = load_rules(&cfg, &args.common.rules)?;
    let matcher = Matcher::new(&rules)?;
    let max_file_size = max_file_size(&args.common, &cfg)?;
    let mut exclude = cfg.scan.exclude.clone();
    exclude.extend(args.exclude.iter().cloned());
    let opts = ScanOptions {
        paths,
        walk: WalkOptions {
            exclude,
            follow_symlinks: args.follow_symlinks,
            threads: threads(&args.common),
        },
        max_file_size,
        max_decompressed: match &args.max_decompressed_size {
            Some(s) => parse_size(s).context("--max-decompressed-size")?,
            None => crate::source::log::MAX_DECOMPRESSED,
        },
    };
    let progress = Progress::new(
        !args.common.no_progress && io::stderr().is_terminal(),
        "files",
    );
    let outcome = scan_paths(&matcher, &opts, &progress);
    progress.finish();
    let s = &outcome.stats;
    let scanned = s.files + s.skipped.too_large > 0 || outcome.errors.is_empty();
    finish(outcome, &args.common, &cfg, scanned)
}

pub fn rules(cmd: RulesCommand) -> Result<i32> {
    match cmd {
        RulesCommand::List { rules } => {
            let set = load_rules(&ConfigFile::default(), &rules)?;
            let mut out = io::stdout().lock();
            writeln!(
                out,
                "{:<36} {:<14} {:<18} {:<9} title",
                "id", "provider", "kind", "severity"
            )?;
            for r in &set.rules {
                writeln!(
                    out,
                    "{:<36} {:<14} {:<18} {:<9} {}",
                    r.id,
                    r.provider,
                    r.kind.as_str(),
                    r.severity.as_str(),
                    r.title
                )?;
            }
            Ok(EXIT_CLEAN)
        }
        RulesCommand::Check { rules } => {
            let set = load_rules(&ConfigFile::default(), &rules)?;
            let problems = check::check(&set);
            for p in &problems {
                eprintln!("problem: {p}");
            }
            let examples: usize = set
                .rules
                .iter()
                .map(|r| r.examples.len() + r.negative_examples.len())
                .sum();
            if problems.is_empty() {
                println!(
                    "{} rules ok ({} examples checked through the matcher)",
                    set.len(),
                    examples
                );
                Ok(EXIT_CLEAN)
            } else {
                eprintln!("{} problem(s) in {} rules", problems.len(), set.len());
                Ok(EXIT_FINDINGS)
            }
        }
    }
}
