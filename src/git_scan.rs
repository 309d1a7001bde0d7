//! The `git` pipeline: repositories in, findings with git provenance out.
//!
//! Whole history: walk each repository's history once (oldest first), scan every unique
//! blob exactly once in parallel (one `git2::Repository` per worker, blob ids deduplicated
//! across repositories too), then look up provenance only for blobs that produced findings.
//! Ranges and the index: scan only the runs of lines the commits (or the index) added.

use std::{
    collections::{HashMap, HashSet},
    path::{Path, PathBuf},
    time::Instant,
};

use git2::{ObjectType, Oid, Repository};
use rayon::prelude::*;

use crate::{
    finding::{findings_from_matches, Finding},
    matcher::{Matcher, Scratch},
    progress::Progress,
    scan::{scan_bytes, ScanOutcome},
    source::{
        git::{self, History},
        looks_binary, Chunk, GitProvenance, Provenance, SourceKind,
    },
};

/// What part of the repositories to scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GitMode {
    /// Every blob reachable from any ref (or every blob in the object database).
    History { all_objects: bool },
    /// Only lines added by the non-merge commits of `A..B`.
    Range(String),
    /// Only lines added in the index relative to HEAD.
    Staged,
}

#[derive(Debug, Clone)]
pub struct GitScanOptions {
    pub repos: Vec<PathBuf>,
    pub mode: GitMode,
    pub max_file_size: u64,
    pub threads: usize,
}

/// A short name for a repository, used as a path prefix when several are scanned at once.
fn repo_label(path: &Path) -> String {
    let canon = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
    let name = canon
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "repo".into());
    name.strip_suffix(".git")
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .unwrap_or(name)
}

/// Process-wide libgit2 settings for reading many objects once: no SHA-1 re-verification of
/// every object read (the pack's own checksums still apply), and a bound on mapped pack
/// windows so peak memory does not grow with the pack size.
fn tune_libgit2() {
    git2::opts::strict_hash_verification(false);
    // Every object is read once: an object cache only costs memory.
    git2::opts::enable_caching(false);
    // SAFETY: set before any repository is opened, from one thread.
    unsafe {
        let _ = git2::opts::set_mwindow_mapped_limit(256 << 20);
    }
}

pub fn scan_git(matcher: &Matcher, opts: &GitScanOptions, progress: &Progress) -> ScanOutcome {
    let started = Instant::now();
    tune_libgit2();
    let mut out = ScanOutcome::default();
    let prefix = opts.repos.len() > 1;
    // Blobs already scanned in an earlier repository of this run, and what they held.
    let mut scanned: HashMap<Oid, Vec<Finding>> = HashMap::new();
    let mut scanned_clean: HashSet<Oid> = HashSet::new();
    for path in &opts.repos {
        let shown = path.display().to_string();
        let label = prefix.then(|| repo_label(path));
        let repo = match git::open(path) {
            Ok(r) => r,
            Err(e) => {
                out.stats.errors += 1;
                out.errors.push(crate::scan::ScanError {
                    path: shown,
                    message: format!("{e:#}"),
                });
                continue;
            }
        };
        let result = match &opts.mode {
            GitMode::History { all_objects } => scan_history(
                matcher,
                opts,
                path,
                &repo,
                *all_objects,
                label.as_deref(),
                &mut scanned,
                &mut scanned_clean,
                progress,
            ),
            GitMode::Range(range) => scan_range(matcher, &repo, range, label.as_deref()),
            GitMode::Staged => scan_staged(matcher, &repo, label.as_deref()),
        };
        match result {
            Ok(o) => out.merge(o),
            Err(e) => {
                out.stats.errors += 1;
                out.errors.push(crate::scan::ScanError {
                    path: shown,
                    message: format!("{e:#}"),
                });
            }
        }
    }
    out.stats.seconds = started.elapsed().as_secs_f64();
    out
}

fn with_label(label: Option<&str>, path: &str) -> String {
    match label {
        Some(l) => format!("{l}/{path}"),
        None => path.to_string(),
    }
}

/// The result of scanning one blob.
#[derive(Default)]
struct BlobResult {
    oid: Option<Oid>,
    bytes: u64,
    binary: bool,
    too_large: bool,
    allowed: u64,
    findings: Vec<Finding>,
    error: Option<String>,
}

fn scan_blob(
    repo: &Repository,
    matcher: &Matcher,
    scratch: &mut Scratch,
    oid: Oid,
    path: &str,
    max: u64,
) -> BlobResult {
    let mut r = BlobResult {
        oid: Some(oid),
        ..BlobResult::default()
    };
    let odb = match repo.odb() {
        Ok(o) => o,
        Err(e) => {
            r.error = Some(format!("object database: {}", e.message()));
            return r;
        }
    };
    match odb.read_header(oid) {
        Ok((size, ObjectType::Blob)) if size as u64 > max => {
            r.too_large = true;
            return r;
        }
        Ok(_) => {}
        Err(e) => {
            r.error = Some(format!("blob {oid} ({path}): {}", e.message()));
            return r;
        }
    }
    let blob = match repo.find_blob(oid) {
        Ok(b) => b,
        Err(e) => {
            r.error = Some(format!("blob {oid} ({path}): {}", e.message()));
            return r;
        }
    };
    let bytes = blob.content();
    r.bytes = bytes.len() as u64;
    if looks_binary(bytes) {
        r.binary = true;
        return r;
    }
    let matches = matcher.scan(bytes, scratch);
    if !matches.is_empty() {
        let prov = Provenance::file(SourceKind::Git, path);
        let cf = findings_from_matches(
            matcher,
            Chunk {
                bytes,
                provenance: &prov,
            },
            &matches,
        );
        r.allowed = cf.allowed as u64;
        r.findings = cf.findings;
    }
    r
}

#[allow(clippy::too_many_arguments)]
fn scan_history(
    matcher: &Matcher,
    opts: &GitScanOptions,
    path: &Path,
    repo: &Repository,
    all_objects: bool,
    label: Option<&str>,
    scanned: &mut HashMap<Oid, Vec<Finding>>,
    scanned_clean: &mut HashSet<Oid>,
    progress: &Progress,
) -> anyhow::Result<ScanOutcome> {
    let mut out = ScanOutcome::default();
    let t0 = Instant::now();
    let h: History = git::history(repo, all_objects)?;
    let shown = path.display().to_string();
    if h.shallow {
        eprintln!(
            "warning: {shown} is a shallow clone: history before its shallow boundary is not scanned"
        );
    }
    for p in &h.problems {
        out.stats.errors += 1;
        out.errors.push(crate::scan::ScanError {
            path: shown.clone(),
            message: p.clone(),
        });
    }
    out.stats.commits = h.commits.len() as u64;

    let timing = std::env::var_os("SPRAWL_TIMING").is_some();
    if timing {
        eprintln!("timing: history walk done at {:?}", t0.elapsed());
    }
    // Scan the blobs no earlier repository of this run has scanned, in parallel. Newest
    // first: packs store old versions as deltas against new ones, so bases come first and
    // stay in the delta-base cache.
    let todo: Vec<Oid> = h
        .blobs
        .iter()
        .rev()
        .filter(|o| !scanned.contains_key(o) && !scanned_clean.contains(o))
        .copied()
        .collect();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(opts.threads)
        .build()?;
    let repo_path = repo.path().to_path_buf();
    let results: Vec<BlobResult> = pool.install(|| {
        todo.par_iter()
            .map_init(
                || (Repository::open(&repo_path), Scratch::default()),
                |(local, scratch), oid| {
                    let path = &h.first_seen[oid].path;
                    let r = match local {
                        Ok(repo) => {
                            scan_blob(repo, matcher, scratch, *oid, path, opts.max_file_size)
                        }
                        Err(e) => BlobResult {
                            error: Some(format!("opening a worker's repository: {}", e.message())),
                            ..BlobResult::default()
                        },
                    };
                    progress.item(r.bytes);
                    r
                },
            )
            .collect()
    });
    for r in results {
        out.stats.blobs += 1;
        out.stats.bytes += r.bytes;
        out.stats.skipped.binary += r.binary as u64;
        out.stats.skipped.too_large += r.too_large as u64;
        out.stats.allowed += r.allowed;
        if let Some(e) = r.error {
            out.stats.errors += 1;
            out.errors.push(crate::scan::ScanError {
                path: shown.clone(),
                message: e,
            });
        }
        let oid = r.oid.expect("set for every blob");
        if r.findings.is_empty() {
            scanned_clean.insert(oid);
        } else {
            scanned.insert(oid, r.findings);
        }
    }

    if timing {
        eprintln!("timing: blobs scanned at {:?}", t0.elapsed());
    }
    // Provenance, only for blobs with findings (found here or in an earlier repository).
    let mut commit_cache: HashMap<u32, Option<GitProvenance>> = HashMap::new();
    let mut found: Vec<(Oid, Finding)> = Vec::new();
    for oid in &h.blobs {
        let Some(fs) = scanned.get(oid) else { continue };
        let seen = &h.first_seen[oid];
        let prov = seen.commit.and_then(|idx| {
            commit_cache
                .entry(idx)
                .or_insert_with(|| {
                    repo.find_commit(h.commits[idx as usize])
                        .ok()
                        .map(|c| git::provenance(&c))
                })
                .clone()
        });
        for f in fs {
            let mut f = f.clone();
            f.location.path = with_label(label, &seen.path);
            f.git = prov.clone();
            found.push((*oid, f));
        }
    }
    // A secret is still in HEAD if any blob of HEAD's tree holds it.
    let in_head: HashSet<_> = found
        .iter()
        .filter(|(oid, _)| h.head_blobs.contains(oid))
        .map(|(_, f)| f.fingerprint)
        .collect();
    for (_, mut f) in found {
        if let Some(g) = &mut f.git {
            g.in_head = Some(in_head.contains(&f.fingerprint));
        }
        out.findings.push(f);
    }
    Ok(out)
}

fn scan_runs(
    matcher: &Matcher,
    runs: Vec<git::AddedRun>,
    source: SourceKind,
    git: Option<GitProvenance>,
    label: Option<&str>,
    out: &mut ScanOutcome,
) {
    let mut scratch = Scratch::default();
    let mut files = HashSet::new();
    for run in runs {
        out.stats.bytes += run.text.len() as u64;
        files.insert(run.path.clone());
        let prov = Provenance {
            source,
            path: with_label(label, &run.path),
            first_line: run.first_line,
            cell: None,
            git: git.clone(),
        };
        scan_bytes(matcher, &run.text, &prov, &mut scratch, out);
    }
    out.stats.files += files.len() as u64;
}

fn scan_range(
    matcher: &Matcher,
    repo: &Repository,
    range: &str,
    label: Option<&str>,
) -> anyhow::Result<ScanOutcome> {
    let mut out = ScanOutcome::default();
    for oid in git::range_commits(repo, range)? {
        let c = repo.find_commit(oid)?;
        let diff = git::commit_diff(repo, &c)?;
        let runs = git::added_runs(&diff)?;
        out.stats.commits += 1;
        scan_runs(
            matcher,
            runs,
            SourceKind::Git,
            Some(git::provenance(&c)),
            label,
            &mut out,
        );
    }
    Ok(out)
}

fn scan_staged(
    matcher: &Matcher,
    repo: &Repository,
    label: Option<&str>,
) -> anyhow::Result<ScanOutcome> {
    let mut out = ScanOutcome::default();
    let diff = git::staged_diff(repo)?;
    let runs = git::added_runs(&diff)?;
    scan_runs(matcher, runs, SourceKind::Staged, None, label, &mut out);
    Ok(out)
}
