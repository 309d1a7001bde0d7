//! `sprawl git`: repositories in, a report of the secrets in their history (or a range, or
//! the index) out.
//!
//! Every path names a repository or lies in one (searched upward, as git does). What cannot
//! be scanned at all (not a repository, a range that does not resolve, `--staged` without a
//! work tree) is a usage error named in one line before anything is scanned. Each
//! repository's own `sprawl.toml` (at the root of its work tree) applies to its findings:
//! excludes, disabled rules and, when several repositories are scanned, its baseline.

use std::{
    io::{self, IsTerminal},
    path::{Path, PathBuf},
};

use anyhow::{Context, Result};
use ignore::gitignore::{Gitignore, GitignoreBuilder};

use super::{finish, git_options, load_rules, prepare, UsageError, EXIT_FINDINGS};
use crate::{
    atomic_file::AtomicFile,
    baseline::{self, Baseline},
    cli::GitArgs,
    config::{ConfigFile, CONFIG_FILE},
    finding::{sort_findings, Finding},
    git_scan::{scan_git_each, GitMode},
    matcher::Matcher,
    progress::Progress,
    scan::ScanOutcome,
    source::git as gitsrc,
};

/// The root a repository's own `sprawl.toml` sits in: its work tree (none when bare).
fn config_root(repo: &git2::Repository) -> Option<PathBuf> {
    repo.workdir().map(Path::to_path_buf)
}

/// A repository's own configuration, or the default when it has none.
fn own_config(repo: &git2::Repository) -> Result<ConfigFile> {
    match config_root(repo).map(|r| r.join(CONFIG_FILE)) {
        Some(p) if p.is_file() => ConfigFile::load(&p),
        _ => Ok(ConfigFile::default()),
    }
}

/// What one repository's configuration does to its findings.
struct RepoPolicy {
    exclude: Option<Gitignore>,
    disabled: Vec<String>,
    baseline: Option<Baseline>,
}

impl RepoPolicy {
    fn new(cfg: &ConfigFile, root: Option<&Path>, baseline: Option<Baseline>) -> Result<Self> {
        let exclude = if cfg.scan.exclude.is_empty() {
            None
        } else {
            let mut b = GitignoreBuilder::new(root.unwrap_or(Path::new("")));
            for glob in &cfg.scan.exclude {
                b.add_line(None, glob)
                    .with_context(|| format!("invalid exclude glob `{glob}`"))?;
            }
            Some(b.build().context("building exclude globs")?)
        };
        Ok(RepoPolicy {
            exclude,
            disabled: cfg.scan.disable_rules.clone(),
            baseline,
        })
    }

    /// Drop the findings this repository's configuration leaves out; the number baselined.
    fn apply(&self, findings: &mut Vec<Finding>) -> u64 {
        findings.retain(|f| {
            !self.disabled.contains(&f.rule.id)
                && !self.exclude.as_ref().is_some_and(|g| {
                    g.matched_path_or_any_parents(&f.location.path, false)
                        .is_ignore()
                })
        });
        self.baseline
            .as_ref()
            .map_or(0, |b| b.apply(findings) as u64)
    }
}

pub fn git(args: GitArgs) -> Result<i32> {
    let repos = if args.repos.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        args.repos.clone()
    };
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
    // Usage errors first, each one line naming the repository or revision.
    let mut opened = Vec::with_capacity(repos.len());
    for p in &repos {
        let repo = gitsrc::open(p).map_err(|e| UsageError(format!("{e:#}")))?;
        match &mode {
            GitMode::Staged if repo.is_bare() => {
                return Err(UsageError(format!(
                    "{}: --staged scans the index of a work tree, and this is a bare repository",
                    p.display()
                ))
                .into())
            }
            GitMode::Range(r) => {
                gitsrc::diff::resolve_range(&repo, r)
                    .map_err(|e| UsageError(format!("{}: {e:#}", p.display())))?;
            }
            _ => {}
        }
        opened.push(repo);
    }

    // --config applies to every repository; otherwise each repository's own sprawl.toml.
    let explicit = args.common.config.as_deref();
    let own: Vec<ConfigFile> = match explicit {
        Some(_) => Vec::new(),
        None => opened.iter().map(own_config).collect::<Result<_>>()?,
    };
    let mut cfg = match explicit {
        Some(p) => ConfigFile::load(p)?,
        None => own_config(&opened[0])?,
    };
    let several = repos.len() > 1 && explicit.is_none();
    let mut common = args.common.clone();
    let mut policies = Vec::with_capacity(opened.len());
    for (i, repo) in opened.iter().enumerate() {
        let c = own.get(i).unwrap_or(&cfg);
        // With several repositories, each one's baseline applies to its own findings only.
        let baseline = match &c.scan.baseline {
            Some(b) if several && !b.exists() && common.write_baseline.is_some() => {
                eprintln!(
                    "warning: baseline {} does not exist yet; nothing is suppressed this run",
                    b.display()
                );
                None
            }
            Some(b) if several && !b.exists() => {
                return Err(UsageError(format!(
                    "baseline {} (in the sprawl.toml of {}) does not exist (create it with \
                     --write-baseline {})",
                    b.display(),
                    repos[i].display(),
                    b.display()
                ))
                .into())
            }
            Some(b) if several => Some(Baseline::load(b)?),
            _ => None,
        };
        policies.push(RepoPolicy::new(c, config_root(repo).as_deref(), baseline)?);
    }
    let rules = if several {
        // Build the matcher with every rule some repository keeps; each drops its own.
        let mut rules = load_rules(&ConfigFile::default(), &[])?;
        for p in cfg.scan.rules.iter().chain(&common.rules) {
            rules.add_path(p)?;
        }
        let everywhere: Vec<String> = cfg
            .scan
            .disable_rules
            .iter()
            .filter(|id| own.iter().all(|c| c.scan.disable_rules.contains(id)))
            .cloned()
            .collect();
        rules.disable(&everywhere)?;
        cfg.scan.baseline = None;
        rules
    } else {
        load_rules(&cfg, &common.rules)?
    };
    let matcher = Matcher::new(&rules)?;
    drop(opened);

    let staged = mode == GitMode::Staged;
    let opts = git_options(&cfg, &common, repos, mode)?;
    let progress = Progress::new(
        !staged && !common.no_progress && io::stderr().is_terminal(),
        "blobs",
    );
    // A baseline written from several repositories holds every finding, baselined or not.
    let write_all = match common.write_baseline.take() {
        Some(p) if several => Some(AtomicFile::create(&p, "baseline")?),
        p => {
            common.write_baseline = p;
            None
        }
    };
    let prepared = prepare(&common, &cfg)?;
    let mut everything: Vec<Finding> = Vec::new();
    let mut baselined = 0;
    let mut outcome: ScanOutcome = scan_git_each(&matcher, &opts, &progress, &mut |i, label, o| {
        if write_all.is_some() {
            everything.extend(o.findings.iter().cloned().map(|mut f| {
                if let Some(l) = label {
                    f.location.path = format!("{l}/{}", f.location.path);
                }
                f
            }));
        }
        baselined += policies[i].apply(&mut o.findings);
        crate::codeowners::annotate(&mut o.findings, &opts.repos[i]);
    });
    progress.finish();
    if let Some(mut f) = write_all {
        sort_findings(&mut everything);
        std::io::Write::write_all(&mut f, baseline::render(&everything).as_bytes())?;
        f.commit()?;
    }
    outcome.stats.baselined += baselined;
    let scanned = outcome.errors.len() < opts.repos.len() || outcome.stats.blobs > 0;
    let code = finish(prepared, &matcher, outcome, &common, &cfg, scanned)?;
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
