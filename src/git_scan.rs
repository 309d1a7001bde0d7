//! The `git` pipeline: repositories in, findings with git provenance out.
//!
//! Whole history: walk each repository's history once (oldest first), scan every unique
//! blob exactly once in parallel (one `git2::Repository` per worker, blob ids deduplicated
//! across repositories too), then look up provenance only for blobs that produced findings.
//! Ranges and the index: scan only the runs of lines the commits (or the index) added.

use std::{
    collections::HashSet,
    path::{Path, PathBuf},
    time::Instant,
};

use git2::{ObjectType, Oid, Repository};

use crate::{
    finding::Finding,
    matcher::{Matcher, Scratch},
    progress::Progress,
    scan::{scan_bytes, scan_content, ScanOutcome},
    source::{
        git::{self, OidMap, OidSet},
        looks_binary, GitProvenance, Provenance, SourceKind,
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
        let _ = git2::opts::set_mwindow_size(32 << 20);
        let _ = git2::opts::set_mwindow_mapped_limit(320 << 20);
    }
}

pub fn scan_git(matcher: &Matcher, opts: &GitScanOptions, progress: &Progress) -> ScanOutcome {
    let started = Instant::now();
    tune_libgit2();
    let mut out = ScanOutcome::default();
    let prefix = opts.repos.len() > 1;
    // Blobs already scanned in an earlier repository of this run, and what they held.
    let mut scanned: OidMap<Vec<Finding>> = OidMap::default();
    let mut scanned_clean = OidSet::default();
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
    let mut r = BlobResult::default();
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
    let prov = Provenance::file(SourceKind::Git, path);
    let mut out = ScanOutcome::default();
    scan_content(matcher, bytes, &prov, scratch, &mut out);
    r.allowed = out.stats.allowed;
    r.findings = out.findings;
    r
}

/// A blob the walk met, on its way to a scanner.
struct BlobJob {
    oid: Oid,
    commit: Option<u32>,
    path: String,
}

#[allow(clippy::too_many_arguments)]
fn scan_history(
    matcher: &Matcher,
    opts: &GitScanOptions,
    path: &Path,
    repo: &Repository,
    all_objects: bool,
    label: Option<&str>,
    scanned: &mut OidMap<Vec<Finding>>,
    scanned_clean: &mut OidSet,
    progress: &Progress,
) -> anyhow::Result<ScanOutcome> {
    let mut out = ScanOutcome::default();
    let shown = path.display().to_string();
    let t0 = Instant::now();
    let timing = std::env::var_os("SPRAWL_TIMING").is_some();
    let repo_path = repo.path().to_path_buf();
    // Blobs scanned for an earlier repository of this run are not scanned again; those of
    // them with findings are still reported here, with this repository's provenance.
    let mut earlier: Vec<(Oid, Option<u32>, String)> = Vec::new();
    let (scanned_ro, clean_ro) = (&*scanned, &*scanned_clean);

    // The walk (this thread) feeds batches of blobs, newest first, to the scanners.
    let (tx, rx) = crossbeam_channel::bounded::<Vec<BlobJob>>(64);
    let (walk, results) = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..opts.threads.max(1))
            .map(|_| {
                let rx = rx.clone();
                let repo_path = &repo_path;
                scope.spawn(move || {
                    let mut done: Vec<(BlobJob, BlobResult)> = Vec::new();
                    let local = Repository::open(repo_path);
                    let mut scratch = Scratch::default();
                    for batch in rx {
                        for job in batch {
                            let r = match &local {
                                Ok(repo) => scan_blob(
                                    repo,
                                    matcher,
                                    &mut scratch,
                                    job.oid,
                                    &job.path,
                                    opts.max_file_size,
                                ),
                                Err(e) => BlobResult {
                                    error: Some(format!(
                                        "opening a worker's repository: {}",
                                        e.message()
                                    )),
                                    ..BlobResult::default()
                                },
                            };
                            progress.item(r.bytes);
                            done.push((job, r));
                        }
                    }
                    done
                })
            })
            .collect();
        drop(rx);
        let mut batch = Vec::with_capacity(256);
        let walk = git::walk_history(repo, all_objects, &mut |oid, commit, path| {
            if clean_ro.contains(&oid) {
                return;
            }
            if scanned_ro.contains_key(&oid) {
                earlier.push((oid, commit, path));
                return;
            }
            batch.push(BlobJob { oid, commit, path });
            if batch.len() == 256 {
                let _ = tx.send(std::mem::replace(&mut batch, Vec::with_capacity(256)));
            }
        });
        if !batch.is_empty() {
            let _ = tx.send(batch);
        }
        drop(tx);
        if timing {
            eprintln!("timing: history walk done at {:?}", t0.elapsed());
        }
        let results: Vec<(BlobJob, BlobResult)> = workers
            .into_iter()
            .flat_map(|w| w.join().unwrap_or_default())
            .collect();
        (walk, results)
    });
    let walk = walk?;
    if timing {
        eprintln!("timing: blobs scanned at {:?}", t0.elapsed());
    }
    if walk.shallow {
        eprintln!(
            "warning: {shown} is a shallow clone: history before its shallow boundary is not scanned"
        );
    }
    for p in &walk.problems {
        out.stats.errors += 1;
        out.errors.push(crate::scan::ScanError {
            path: shown.clone(),
            message: p.clone(),
        });
    }
    out.stats.commits = walk.commits.len() as u64;

    // Where each blob of this repository was met; the scanners' results.
    let mut met: Vec<(Oid, Option<u32>, String)> = Vec::new();
    for (job, r) in results {
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
        if r.findings.is_empty() {
            scanned_clean.insert(job.oid);
        } else {
            scanned.insert(job.oid, r.findings);
            met.push((job.oid, job.commit, job.path));
        }
    }
    met.extend(earlier);

    // Provenance, only for blobs with findings.
    let head_blobs = git::head_blobs(repo);
    let mut commit_cache: OidMap<Option<GitProvenance>> = OidMap::default();
    let mut parents = git::FirstParents::default();
    let mut found: Vec<(Oid, Finding)> = Vec::new();
    for (oid, commit, blob_path) in met {
        let Some(fs) = scanned.get(&oid) else {
            continue;
        };
        let prov = commit.and_then(|idx| {
            let newest = walk.commits[idx as usize];
            let intro = git::introducer(repo, &mut parents, oid, &blob_path, newest);
            commit_cache
                .entry(intro)
                .or_insert_with(|| repo.find_commit(intro).ok().map(|c| git::provenance(&c)))
                .clone()
        });
        for f in fs {
            let mut f = f.clone();
            f.location.path = with_label(label, &blob_path);
            f.git = prov.clone();
            crate::expiry::bound_by_commit(&mut f);
            found.push((oid, f));
        }
    }
    // A secret is still in HEAD if any blob of HEAD's tree holds it.
    let in_head: HashSet<_> = found
        .iter()
        .filter(|(oid, _)| head_blobs.contains(oid))
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
