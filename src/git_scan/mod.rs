//! The `git` pipeline: repositories in, findings with git provenance out.
//!
//! Whole history: walk each repository's history once (oldest first), scan every unique
//! blob exactly once in parallel (one `git2::Repository` per worker, blob ids deduplicated
//! across repositories too), then look up provenance only for blobs that produced findings.
//! Ranges and the index: scan only the runs of lines the commits (or the index) added.

use std::{
    collections::{HashMap, HashSet},
    path::{Path, PathBuf},
    sync::Mutex,
    time::Instant,
};

use anyhow::Context;

use git2::{ObjectType, Odb, Oid, Repository};

use crate::{
    finding::{redact_text, Finding, Fingerprint},
    matcher::{Matcher, Scratch},
    progress::Progress,
    scan::{scan_bytes, scan_content, scan_stream, ScanOutcome},
    source::{
        git::{self, OidMap, OidSet},
        looks_binary, GitProvenance, Provenance, SourceKind,
    },
};

mod blobs;
mod lines;
mod memory;

pub use blobs::BlobResult;
use blobs::*;
use lines::*;
use memory::from_unchanged;
pub use memory::{BlobMemory, Learned, NoMemory, ScannedBlob, Unchanged};

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
    /// Each repository's label, given by the caller (a `--repos-from` list): used even when
    /// one repository is scanned, so shards of one list label findings alike. `None`: the
    /// name of each repository, when there are several.
    pub labels: Option<Vec<String>>,
    pub mode: GitMode,
    pub max_file_size: u64,
    pub threads: usize,
}

/// A short name for a repository, used as a path prefix when several are scanned at once:
/// the name of its work tree, or of a bare repository without its `.git`.
fn repo_label(repo: &Repository, path: &Path) -> String {
    let root = repo
        .workdir()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| repo.path().to_path_buf());
    let canon = root
        .canonicalize()
        .or_else(|_| path.canonicalize())
        .unwrap_or_else(|_| path.to_path_buf());
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
    scan_git_each(matcher, opts, progress, &mut NoMemory, &mut |_, _, _| {})
}

/// [`scan_git`], handing each repository's own outcome (paths not yet prefixed with the
/// repository's name) to `each`, with the repository's index in `opts.repos` and its name
/// when several are scanned, before it is merged: where each repository's own configuration
/// applies.
pub fn scan_git_each(
    matcher: &Matcher,
    opts: &GitScanOptions,
    progress: &Progress,
    memory: &mut dyn BlobMemory,
    each: &mut dyn FnMut(usize, Option<&str>, &mut ScanOutcome),
) -> ScanOutcome {
    let started = Instant::now();
    tune_libgit2();
    let mut out = ScanOutcome::default();
    let prefix = opts.repos.len() > 1 || opts.labels.is_some();
    // Blobs already scanned in an earlier repository of this run, and what they held.
    let mut scanned: OidMap<Vec<Finding>> = OidMap::default();
    let mut scanned_clean = OidSet::default();
    for (i, path) in opts.repos.iter().enumerate() {
        let given = opts.labels.as_ref().and_then(|l| l.get(i));
        let shown = given.cloned().unwrap_or_else(|| path.display().to_string());
        let repo = match git::open(path) {
            Ok(r) => r,
            Err(e) => {
                memory.failed(i);
                out.stats.errors += 1;
                progress.repo_done(&shown, "cannot be opened (see the errors)");
                out.errors.push(crate::scan::ScanError {
                    path: shown,
                    message: format!("{e:#}"),
                });
                continue;
            }
        };
        let label = prefix.then(|| given.cloned().unwrap_or_else(|| repo_label(&repo, path)));
        let mut read = Vec::new();
        let mut reached = None;
        let unchanged = match &opts.mode {
            GitMode::History { all_objects: false } => memory
                .unchanged(i, &repo)
                .and_then(|u| from_unchanged(u, &mut scanned, &mut scanned_clean)),
            _ => None,
        };
        let walked = unchanged.is_none();
        let result = match &opts.mode {
            _ if !walked => Ok(unchanged.unwrap_or_default()),
            GitMode::History { all_objects } => scan_history(
                matcher,
                opts,
                path,
                &repo,
                *all_objects,
                History {
                    scanned: &mut scanned,
                    scanned_clean: &mut scanned_clean,
                    known: &memory.recall(i),
                    read: &mut read,
                    reached: &mut reached,
                },
                progress,
            ),
            GitMode::Range(range) => scan_range(matcher, &repo, range, &shown),
            GitMode::Staged => scan_staged(matcher, &repo),
        };
        match result {
            Ok(mut o) => {
                let raw = o.findings.clone();
                each(i, label.as_deref(), &mut o);
                memory.learn(
                    i,
                    Learned {
                        read,
                        walked,
                        reached,
                        commits: o.stats.commits,
                        raw: &raw,
                        outcome: &o,
                    },
                );
                for f in &mut o.findings {
                    f.location.path = with_label(label.as_deref(), &f.location.path);
                    f.repository.clone_from(&label);
                }
                progress.repo_done(
                    &shown,
                    &format!(
                        "{} blobs, {} commits, {} findings",
                        o.stats.blobs,
                        o.stats.commits,
                        o.findings.len()
                    ),
                );
                out.merge(o)
            }
            Err(e) => {
                memory.failed(i);
                progress.repo_done(&shown, "not scanned (see the errors)");
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

fn scan_history(
    matcher: &Matcher,
    opts: &GitScanOptions,
    path: &Path,
    repo: &Repository,
    all_objects: bool,
    shared: History<'_>,
    progress: &Progress,
) -> anyhow::Result<ScanOutcome> {
    let History {
        scanned,
        scanned_clean,
        known,
        read: read_now,
        reached,
    } = shared;
    let mut out = ScanOutcome::default();
    let shown = path.display().to_string();
    let t0 = Instant::now();
    let timing = std::env::var_os("SPRAWL_TIMING").is_some();
    let repo_path = repo.path().to_path_buf();
    let objects = repo.commondir().join("objects");
    // Blobs scanned for an earlier repository of this run are not scanned again; those of
    // them with findings are still reported here, with this repository's provenance.
    let mut earlier: Vec<(Oid, Option<u32>, String)> = Vec::new();
    let (scanned_ro, clean_ro) = (&*scanned, &*scanned_clean);
    let want = |oid: Oid| {
        !clean_ro.contains(&oid) && !scanned_ro.contains_key(&oid) && !known.contains_key(&oid)
    };

    // The packs are read and scanned (other threads) while the walk (this thread) finds
    // which blobs the history holds and where.
    let mut jobs: Vec<BlobJob> = Vec::new();
    // Blobs a store recalls, read as they were then (a notebook only if still at a notebook
    // path).
    let mut recalled: Vec<(BlobJob, BlobResult)> = Vec::new();
    let (walk, (mut loaded, read)) = std::thread::scope(|scope| {
        let reader = scope.spawn(|| scan_packs(matcher, opts, &objects, &want, progress));
        let walk = git::walk_history(repo, false, &mut |oid, commit, path| {
            if clean_ro.contains(&oid) {
                return;
            }
            if scanned_ro.contains_key(&oid) {
                earlier.push((oid, commit, path));
                return;
            }
            match known.get(&oid) {
                Some(k) if k.notebook == is_notebook(&path) => {
                    recalled.push((BlobJob { oid, commit, path }, k.result.clone()))
                }
                _ => jobs.push(BlobJob { oid, commit, path }),
            }
        });
        if timing {
            eprintln!("timing: history walk done at {:?}", t0.elapsed());
        }
        let loaded = reader.join().unwrap_or_default();
        (walk, loaded)
    });
    let walk = walk?;
    if timing {
        eprintln!(
            "timing: packs read at {:?}: {} blobs, {} problems {:?}",
            t0.elapsed(),
            read.delivered.len(),
            read.problems.len(),
            read.problems.first()
        );
    }
    // What the packs held, in the walk's order; the rest is read by id.
    let mut results: Vec<(BlobJob, BlobResult)> = Vec::with_capacity(jobs.len());
    let mut by_id: Vec<BlobJob> = Vec::new();
    for job in jobs {
        match loaded.remove(&job.oid) {
            Some(r) if !is_notebook(&job.path) => results.push((job, r)),
            _ => by_id.push(job),
        }
    }
    if all_objects {
        // Blobs no ref reaches: those of the packs, then any other the database holds.
        let mut rest: Vec<(Oid, BlobResult)> = loaded.into_iter().collect();
        rest.sort_by_key(|(oid, _)| *oid);
        let reached: OidSet = results
            .iter()
            .map(|(j, _)| j.oid)
            .chain(by_id.iter().map(|j| j.oid))
            .chain(earlier.iter().map(|e| e.0))
            .collect();
        for (oid, r) in rest {
            let path = format!("<unreachable blob {oid}>");
            results.push((
                BlobJob {
                    oid,
                    commit: None,
                    path,
                },
                r,
            ));
        }
        let odb = repo.odb().context("opening the object database")?;
        let mut extra = Vec::new();
        odb.foreach(|oid| {
            if !reached.contains(oid)
                && !read.delivered.contains(oid)
                && !read.indexed(*oid)
                && want(*oid)
            {
                extra.push(*oid);
            }
            true
        })
        .context("listing the object database")?;
        extra.sort();
        extra.dedup();
        for oid in extra {
            match odb.read_header(oid) {
                Ok((_, ObjectType::Blob)) => by_id.push(BlobJob {
                    oid,
                    commit: None,
                    path: format!("<unreachable blob {oid}>"),
                }),
                Ok(_) => {}
                Err(e) => {
                    out.stats.errors += 1;
                    out.errors.push(crate::scan::ScanError {
                        path: shown.clone(),
                        message: format!("object {oid} cannot be read: {}", e.message()),
                    });
                }
            }
        }
    }
    drop(read);
    if timing {
        eprintln!("timing: {} blobs left to read by id", by_id.len());
    }
    results.extend(scan_by_id(matcher, opts, &repo_path, by_id, progress));
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
    let n_read = results.len();
    results.extend(recalled);
    let complete = earlier.is_empty()
        && walk.problems.is_empty()
        && !walk.shallow
        && !all_objects
        && out.errors.is_empty()
        && results.iter().all(|(_, r)| r.error.is_none());
    if complete {
        *reached = Some(results.iter().map(|(j, _)| j.oid).collect());
    }
    for (n, (job, r)) in results.into_iter().enumerate() {
        if n < n_read && r.error.is_none() {
            read_now.push(ScannedBlob {
                oid: job.oid,
                notebook: is_notebook(&job.path),
                result: r.clone(),
            });
        }
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
    let findings = attribute(matcher, repo, &walk, &met, scanned);
    if timing {
        eprintln!("timing: provenance done at {:?}", t0.elapsed());
    }
    out.findings = findings;
    Ok(out)
}

/// One occurrence per (secret, path, line in the version that introduced it): group the
/// blobs with findings by (secret, path), trace each group on first-parent lines (HEAD's
/// first, then from the newest commit holding a group not found there), and report the
/// findings of the introducing version with that commit's provenance.
fn attribute(
    matcher: &Matcher,
    repo: &Repository,
    walk: &git::Walk,
    met: &[(Oid, Option<u32>, String)],
    scanned: &OidMap<Vec<Finding>>,
) -> Vec<Finding> {
    let mut found: Vec<Finding> = Vec::new();
    let mut paths: Vec<&str> = Vec::new();
    let mut path_idx: HashMap<&str, usize> = HashMap::new();
    // Each group and the newest commit (index into `walk.commits`) met holding it.
    let mut groups: HashMap<(usize, Fingerprint), u32> = HashMap::new();
    for (oid, commit, path) in met {
        let Some(fs) = scanned.get(oid) else { continue };
        let Some(commit) = commit else {
            // Reached only from a ref that names the blob, or not at all: no commit to name.
            found.extend(fs.iter().map(|f| {
                let mut f = f.clone();
                f.location.path = path.clone();
                f
            }));
            continue;
        };
        let i = *path_idx.entry(path.as_str()).or_insert_with(|| {
            paths.push(path.as_str());
            paths.len() - 1
        });
        for f in fs {
            let start = groups.entry((i, f.fingerprint)).or_insert(*commit);
            *start = (*start).min(*commit);
        }
    }
    if groups.is_empty() {
        return found;
    }
    let held_by = |blob: Oid| -> Vec<Fingerprint> {
        let mut v: Vec<Fingerprint> = scanned
            .get(&blob)
            .map(|fs| fs.iter().map(|f| f.fingerprint).collect())
            .unwrap_or_default();
        v.sort();
        v.dedup();
        v
    };
    // Every line together is bounded by the commits the walk met.
    let limit = walk.commits.len() + 1;
    let mut walked = OidSet::default();
    let mut resolved: HashMap<(usize, Fingerprint), git::provenance::Held> = HashMap::new();
    let head = repo.head().ok().and_then(|h| h.peel_to_commit().ok());
    let mut starts: Vec<Oid> = head.iter().map(|c| c.id()).collect();
    let mut pending: Vec<(u32, (usize, Fingerprint))> =
        groups.iter().map(|(&g, &start)| (start, g)).collect();
    pending.sort_by_key(|(start, _)| *start);
    let mut next_pending = 0;
    loop {
        let Some(start) = starts.pop() else {
            // The next group not found yet: trace the line from its newest holder.
            while next_pending < pending.len() && resolved.contains_key(&pending[next_pending].1) {
                next_pending += 1;
            }
            let Some(&(start, _)) = pending.get(next_pending) else {
                break;
            };
            next_pending += 1;
            starts.push(walk.commits[start as usize]);
            continue;
        };
        let line = git::provenance::first_parent_line(repo, start, &walked, limit);
        if line.is_empty() {
            continue;
        }
        walked.extend(line.iter().map(|(c, _)| *c));
        let unresolved: Vec<usize> = {
            let mut v: Vec<usize> = groups
                .keys()
                .filter(|g| !resolved.contains_key(g))
                .map(|(i, _)| *i)
                .collect();
            v.sort_unstable();
            v.dedup();
            v
        };
        let line_paths: Vec<&str> = unresolved.iter().map(|&i| paths[i]).collect();
        let traced = git::provenance::trace(repo, &line, &line_paths, &held_by);
        for ((j, fp), held) in traced {
            let g = (unresolved[j], fp);
            if groups.contains_key(&g) && !resolved.contains_key(&g) {
                resolved.insert(g, held);
            }
        }
    }
    // A secret is still in HEAD if any blob of HEAD's tree holds it.
    let head_blobs = git::head_blobs(repo);
    let in_head: HashSet<Fingerprint> = met
        .iter()
        .filter(|(oid, _, _)| head_blobs.contains(oid))
        .flat_map(|(oid, _, _)| held_by(*oid))
        .collect();
    let mut commits: OidMap<Option<GitProvenance>> = OidMap::default();
    let mut prov_of = |c: Oid| -> Option<GitProvenance> {
        commits
            .entry(c)
            .or_insert_with(|| {
                repo.find_commit(c).ok().map(|c| {
                    let mut g = git::provenance(&c);
                    redact_provenance(matcher, &mut g);
                    g
                })
            })
            .clone()
    };
    let mut groups: Vec<_> = groups.into_iter().collect();
    groups.sort_by_key(|&((i, fp), start)| (i, fp, start));
    for ((i, fp), start) in groups {
        let (blob, git) = match resolved.get(&(i, fp)) {
            Some(held) => {
                let mut git = prov_of(held.first);
                if let Some(g) = &mut git {
                    let still = in_head.contains(&fp);
                    g.in_head = Some(still);
                    g.last_commit = (!still).then(|| held.last.to_string());
                }
                (held.first_blob, git)
            }
            // Not met on any line (a commit that cannot be read): the blob's own commit.
            None => {
                let c = walk.commits[start as usize];
                let blob = met
                    .iter()
                    .find(|(oid, commit, path)| {
                        *commit == Some(start) && *path == paths[i] && held_by(*oid).contains(&fp)
                    })
                    .map(|(oid, _, _)| *oid);
                let Some(blob) = blob else { continue };
                let mut git = prov_of(c);
                if let Some(g) = &mut git {
                    g.in_head = Some(in_head.contains(&fp));
                }
                (blob, git)
            }
        };
        let Some(fs) = scanned.get(&blob) else {
            continue;
        };
        for f in fs.iter().filter(|f| f.fingerprint == fp) {
            let mut f = f.clone();
            f.location.path = paths[i].to_string();
            f.git = git.clone();
            crate::expiry::bound_by_commit(&mut f);
            found.push(f);
        }
    }
    found
}

/// Hide any secret the matcher finds in the commit's author, email and summary.
fn redact_provenance(matcher: &Matcher, g: &mut GitProvenance) {
    for field in [&mut g.author, &mut g.email, &mut g.summary] {
        *field = redact_text(matcher, field);
    }
}
