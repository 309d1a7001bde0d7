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
    git_scan::{scan_git_each, BlobMemory, GitMode, NoMemory},
    matcher::Matcher,
    progress::Progress,
    repos::{self, ListedRepo, Place, Shard},
    scan::ScanError,
    scan::ScanOutcome,
    source::git as gitsrc,
    store::{rules_digest, Store, StoreMemory},
};

/// The root a repository's own `sprawl.toml` sits in: its work tree (none when bare).
fn config_root(repo: &git2::Repository) -> Option<PathBuf> {
    repo.workdir().map(Path::to_path_buf)
}

/// The configuration in a repository's root, or the default when it has none.
fn own_config_at(root: Option<&Path>) -> Result<ConfigFile> {
    match root.map(|r| r.join(CONFIG_FILE)) {
        Some(p) if p.is_file() => ConfigFile::load(&p),
        _ => Ok(ConfigFile::default()),
    }
}

/// What a run keeps of a repository it opened to check: the root its configuration sits in
/// and its git directory. The repository itself is closed again (a list may hold thousands).
struct Checked {
    root: Option<PathBuf>,
    git_dir: PathBuf,
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

/// The repositories of an org-wide run (`--repos-from`, `--shard`, `--shard-count`): the
/// positional ones and the list's, this shard's only, remote ones mirrored into the clone
/// cache. Returns paths, labels and identities, and a line for each repository that could
/// not be had (the run goes on without it).
fn org_repos(
    args: &GitArgs,
    errors: &mut Vec<ScanError>,
) -> Result<(Vec<PathBuf>, Vec<String>, Vec<String>)> {
    let mut listed: Vec<ListedRepo> = args
        .repos
        .iter()
        .map(|p| repos::listed(&p.display().to_string(), Path::new("")))
        .collect();
    if let Some(f) = &args.repos_from {
        for r in repos::read_list(f).map_err(|e| UsageError(format!("{e:#}")))? {
            if !listed.iter().any(|l| l.identity == r.identity) {
                listed.push(r);
            }
        }
    }
    let shard = match (&args.shard, args.shard_count) {
        (Some(s), _) => Some(Shard::parse(s).map_err(|e| UsageError(format!("{e:#}")))?),
        (None, Some(n)) => {
            let k = std::env::var("JOB_COMPLETION_INDEX").map_err(|_| {
                UsageError(
                    "--shard-count needs JOB_COMPLETION_INDEX (set by a Kubernetes Indexed Job), \
                     or give --shard K/N"
                        .into(),
                )
            })?;
            let k: u64 = k
                .trim()
                .parse()
                .map_err(|_| UsageError(format!("JOB_COMPLETION_INDEX `{k}` is not a number")))?;
            Some(Shard::new(k, n).map_err(|e| UsageError(format!("{e:#}")))?)
        }
        (None, None) => None,
    };
    if let Some(s) = shard {
        listed.retain(|r| s.holds(&r.identity));
    }
    let cache = args
        .clone_cache
        .clone()
        .unwrap_or_else(gitsrc::clone::default_cache);
    let (mut paths, mut labels, mut ids) = (Vec::new(), Vec::new(), Vec::new());
    for r in listed {
        let path = match &r.place {
            Place::Path(p) => p.clone(),
            Place::Url(url) => match gitsrc::clone::mirror(url, &r.identity, &cache) {
                Ok((p, warning)) => {
                    if let Some(w) = warning {
                        errors.push(ScanError {
                            path: r.label.clone(),
                            message: w,
                        });
                    }
                    p
                }
                Err(e) => {
                    errors.push(ScanError {
                        path: r.label.clone(),
                        message: format!("{e:#}"),
                    });
                    continue;
                }
            },
        };
        paths.push(path);
        labels.push(r.label);
        ids.push(r.identity);
    }
    if let Some(max) = &args.clone_cache_max {
        let max = crate::config::parse_size(max)
            .map_err(|e| UsageError(format!("--clone-cache-max: {e:#}")))?;
        if let Some(w) = gitsrc::clone::cap(&cache, max, &paths) {
            eprintln!("warning: {w}");
        }
    }
    Ok((paths, labels, ids))
}

pub fn git(args: GitArgs) -> Result<i32> {
    let org = args.repos_from.is_some() || args.shard.is_some() || args.shard_count.is_some();
    // Repositories of an org-wide run that could not be had (a clone that failed).
    let mut unreachable: Vec<ScanError> = Vec::new();
    let (repos, labels, identities) = if org {
        let (p, l, i) = org_repos(&args, &mut unreachable)?;
        (p, Some(l), Some(i))
    } else if args.repos.is_empty() {
        (vec![PathBuf::from(".")], None, None)
    } else {
        (args.repos.clone(), None, None)
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
    // Usage errors first, each one line naming the repository or revision. In an org-wide
    // run a repository that cannot be opened is reported with the findings, and the rest
    // go on.
    let mut opened = Vec::with_capacity(repos.len());
    for p in &repos {
        let repo = match gitsrc::open(p) {
            Ok(r) => r,
            Err(_) if org => {
                opened.push(None);
                continue;
            }
            Err(e) => return Err(UsageError(format!("{e:#}")).into()),
        };
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
        opened.push(Some(Checked {
            root: config_root(&repo),
            git_dir: repo.path().to_path_buf(),
        }));
    }

    // --config applies to every repository; otherwise each repository's own sprawl.toml.
    let explicit = args.common.config.as_deref();
    let own: Vec<ConfigFile> = match explicit {
        Some(_) => Vec::new(),
        None => opened
            .iter()
            .map(|c| own_config_at(c.as_ref().and_then(|c| c.root.as_deref())))
            .collect::<Result<_>>()?,
    };
    // An org-wide run is one of several shards: every shard, and one process over the whole
    // list, must build the same rules, so no repository's configuration is the run's.
    let mut cfg = match (explicit, opened.first()) {
        (Some(p), _) => ConfigFile::load(p)?,
        (None, Some(Some(c))) if !org => own_config_at(c.root.as_deref())?,
        _ => ConfigFile::default(),
    };
    let several = (repos.len() > 1 || org) && explicit.is_none();
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
        let root = repo.as_ref().and_then(|c| c.root.clone());
        policies.push(RepoPolicy::new(c, root.as_deref(), baseline)?);
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
    let matcher = if mode == GitMode::Staged {
        Matcher::for_small_input(&rules)?
    } else {
        Matcher::new(&rules)?
    };
    // The store keys repositories by identity: the listed one, else the repository's own
    // directory.
    let identities = identities.unwrap_or_else(|| {
        opened
            .iter()
            .zip(&repos)
            .map(|(r, p)| {
                let dir = r.as_ref().map_or(p.as_path(), |c| c.git_dir.as_path());
                dir.canonicalize()
                    .unwrap_or_else(|_| dir.to_path_buf())
                    .display()
                    .to_string()
            })
            .collect()
    });
    drop(opened);

    let staged = mode == GitMode::Staged;
    let mut opts = git_options(&cfg, &common, repos, mode)?;
    opts.labels = labels;
    let bar = !staged && !common.no_progress && io::stderr().is_terminal();
    let mut progress = Progress::new(bar, "blobs");
    if org {
        progress = progress.with_repos(opts.repos.len(), !bar);
    }
    let mut store = match &args.store {
        Some(p) => Some(Store::open(p, &rules_digest(&rules, opts.max_file_size))?),
        None => None,
    };
    let mut memory = store.as_mut().map(|store| StoreMemory {
        labels: opts.labels.clone().unwrap_or_else(|| identities.clone()),
        identities: identities.clone(),
        store,
        rules: rules
            .rules
            .iter()
            .map(|r| (r.id.clone(), r.clone()))
            .collect(),
        recall_findings: !common.show_secrets && !common.validate,
        errors: Vec::new(),
        read: 0,
        recalled: 0,
        unchanged: 0,
        refs: Default::default(),
    });
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
    let mut none = NoMemory;
    let memory_used: &mut dyn BlobMemory = match memory.as_mut() {
        Some(m) => m,
        None => &mut none,
    };
    let mut outcome: ScanOutcome = scan_git_each(
        &matcher,
        &opts,
        &progress,
        memory_used,
        &mut |i, label, o| {
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
        },
    );
    progress.finish();
    outcome.stats.errors += unreachable.len() as u64;
    outcome.errors.extend(unreachable);
    if let Some(m) = memory {
        eprintln!(
            "store {}: {} blobs read, {} known from earlier runs; {} of {} repositories \
             unchanged since (not walked)",
            m.store.path().display(),
            m.read,
            outcome.stats.blobs.saturating_sub(m.read),
            m.unchanged,
            opts.repos.len()
        );
        let mut errors = m.errors;
        if let Err(e) = m.store.commit() {
            errors.push(format!("{e:#}"));
        }
        for e in errors {
            outcome.stats.errors += 1;
            outcome.errors.push(ScanError {
                path: m.store.path().display().to_string(),
                message: e,
            });
        }
    }
    if let Some(mut f) = write_all {
        sort_findings(&mut everything);
        std::io::Write::write_all(&mut f, baseline::render(&everything).as_bytes())?;
        f.commit()?;
    }
    outcome.stats.baselined += baselined;
    // An empty shard scanned all it had to.
    let scanned = outcome.errors.len() < opts.repos.len()
        || outcome.stats.blobs > 0
        || (org && opts.repos.is_empty());
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
