//! The git source: a repository in; out, either the unique blobs of its history (reachable
//! from every ref, tag and stash, or every object with `--all-objects`) with the commit and
//! path where each first appeared, or, for a commit range and for the index, the runs of
//! added lines with their line numbers. Commit metadata is read only when asked for.

use std::{
    collections::{HashMap, HashSet},
    path::Path,
};

use anyhow::{bail, Context, Result};
use git2::{
    Commit, Diff, DiffFindOptions, DiffOptions, ObjectType, Oid, Repository, RepositoryOpenFlags,
    Sort,
};

use super::GitProvenance;

/// Where a blob was first seen: the oldest commit (index into `History::commits`) whose
/// tree holds it, and its path there. `commit` is `None` for a blob reached only from a
/// ref that points at it directly, or found only in the object database.
#[derive(Debug, Clone)]
pub struct Seen {
    pub commit: Option<u32>,
    pub path: String,
}

/// The blobs of a repository's history, each once.
#[derive(Debug, Default)]
pub struct History {
    /// Unique blob ids in the order they were first met (oldest commit first).
    pub blobs: Vec<Oid>,
    pub first_seen: HashMap<Oid, Seen>,
    /// Every commit walked, oldest first.
    pub commits: Vec<Oid>,
    /// The blobs of HEAD's tree (to tell whether a secret is still there).
    pub head_blobs: HashSet<Oid>,
    /// Problems met on the way (missing or corrupt objects); the walk went on.
    pub problems: Vec<String>,
    pub shallow: bool,
}

/// Open a repository (work tree or bare) exactly at `path`; the error names it.
pub fn open(path: &Path) -> Result<Repository> {
    Repository::open_ext(
        path,
        RepositoryOpenFlags::NO_SEARCH,
        std::iter::empty::<&std::ffi::OsStr>(),
    )
    .with_context(|| format!("{} is not a git repository", path.display()))
}

fn walk_tree(
    repo: &Repository,
    root: Oid,
    commit: Option<u32>,
    seen_trees: &mut HashSet<Oid>,
    h: &mut History,
) {
    if !seen_trees.insert(root) {
        return;
    }
    let mut stack: Vec<(Oid, String)> = vec![(root, String::new())];
    while let Some((oid, prefix)) = stack.pop() {
        let tree = match repo.find_tree(oid) {
            Ok(t) => t,
            Err(e) => {
                h.problems
                    .push(format!("tree {oid} at `{prefix}`: {}", e.message()));
                continue;
            }
        };
        for entry in tree.iter() {
            let name = String::from_utf8_lossy(entry.name_bytes());
            let path = if prefix.is_empty() {
                name.into_owned()
            } else {
                format!("{prefix}/{name}")
            };
            match entry.kind() {
                Some(ObjectType::Blob) => {
                    let id = entry.id();
                    if let std::collections::hash_map::Entry::Vacant(v) = h.first_seen.entry(id) {
                        v.insert(Seen { commit, path });
                        h.blobs.push(id);
                    }
                }
                Some(ObjectType::Tree) if seen_trees.insert(entry.id()) => {
                    stack.push((entry.id(), path));
                }
                // Submodules (gitlinks) point into another repository: not scanned here.
                _ => {}
            }
        }
    }
}

/// Walk the whole history: every commit reachable from any ref (branches, remotes, tags,
/// stashes, notes) and HEAD, oldest first, recording each blob once where it first appears.
pub fn history(repo: &Repository, all_objects: bool) -> Result<History> {
    let mut h = History {
        shallow: repo.is_shallow(),
        ..History::default()
    };
    let mut walk = repo.revwalk().context("starting a revision walk")?;
    walk.set_sorting(Sort::TOPOLOGICAL | Sort::REVERSE)?;
    let mut direct: Vec<(Oid, ObjectType, String)> = Vec::new();
    let mut pushed = 0usize;
    for r in repo.references().context("listing references")? {
        let r = match r {
            Ok(r) => r,
            Err(e) => {
                h.problems.push(format!("reference: {}", e.message()));
                continue;
            }
        };
        let name = String::from_utf8_lossy(r.name_bytes()).into_owned();
        match r.peel(ObjectType::Any) {
            Ok(obj) => match obj.kind() {
                Some(ObjectType::Commit) => {
                    if let Err(e) = walk.push(obj.id()) {
                        h.problems.push(format!("{name}: {}", e.message()));
                    } else {
                        pushed += 1;
                    }
                }
                Some(k @ (ObjectType::Tree | ObjectType::Blob)) => direct.push((obj.id(), k, name)),
                _ => {}
            },
            Err(e) => h.problems.push(format!("{name}: {}", e.message())),
        }
    }
    if let Ok(head) = repo.head() {
        if let Ok(c) = head.peel_to_commit() {
            let _ = walk.push(c.id());
            pushed += 1;
        }
    }
    let mut seen_trees = HashSet::new();
    if pushed > 0 {
        for oid in walk {
            let oid = match oid {
                Ok(o) => o,
                Err(e) => {
                    h.problems.push(format!("revision walk: {}", e.message()));
                    break;
                }
            };
            let idx = h.commits.len() as u32;
            h.commits.push(oid);
            match repo.find_commit(oid).and_then(|c| c.tree()) {
                Ok(tree) => walk_tree(repo, tree.id(), Some(idx), &mut seen_trees, &mut h),
                Err(e) => h.problems.push(format!("commit {oid}: {}", e.message())),
            }
        }
    }
    for (oid, kind, name) in direct {
        match kind {
            ObjectType::Tree => walk_tree(repo, oid, None, &mut seen_trees, &mut h),
            _ => {
                if let std::collections::hash_map::Entry::Vacant(v) = h.first_seen.entry(oid) {
                    v.insert(Seen {
                        commit: None,
                        path: name,
                    });
                    h.blobs.push(oid);
                }
            }
        }
    }
    if all_objects {
        let odb = repo.odb().context("opening the object database")?;
        let mut extra = Vec::new();
        odb.foreach(|oid| {
            if !h.first_seen.contains_key(oid) {
                extra.push(*oid);
            }
            true
        })
        .context("listing the object database")?;
        for oid in extra {
            match odb.read_header(oid) {
                Ok((_, ObjectType::Blob)) => {
                    h.first_seen.insert(
                        oid,
                        Seen {
                            commit: None,
                            path: format!("<unreachable blob {oid}>"),
                        },
                    );
                    h.blobs.push(oid);
                }
                Ok(_) => {}
                Err(e) => h.problems.push(format!("object {oid}: {}", e.message())),
            }
        }
    }
    if let Ok(tree) = repo.head().and_then(|r| r.peel_to_tree()) {
        let mut t = History::default();
        walk_tree(repo, tree.id(), None, &mut HashSet::new(), &mut t);
        h.head_blobs = t.blobs.into_iter().collect();
    }
    Ok(h)
}

/// Author, date and summary of a commit.
pub fn provenance(commit: &Commit<'_>) -> GitProvenance {
    let author = commit.author();
    let when = author.when();
    GitProvenance {
        commit: commit.id().to_string(),
        author: String::from_utf8_lossy(author.name_bytes()).into_owned(),
        email: String::from_utf8_lossy(author.email_bytes()).into_owned(),
        date: crate::time::rfc3339(when.seconds(), when.offset_minutes()),
        summary: commit
            .summary_bytes()
            .map(|s| String::from_utf8_lossy(s).into_owned())
            .unwrap_or_default(),
        in_head: None,
    }
}

/// A run of consecutive added lines in one file of a diff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddedRun {
    pub path: String,
    /// 1-based line number, in the new file, of the run's first line.
    pub first_line: u64,
    pub text: Vec<u8>,
}

/// The runs of added lines of a diff (binary files and submodules are left out).
pub fn added_runs(diff: &Diff<'_>) -> Result<Vec<AddedRun>> {
    let mut runs: Vec<AddedRun> = Vec::new();
    let mut next_line: Option<(String, u64)> = None;
    diff.foreach(
        &mut |_, _| true,
        Some(&mut |_, _| true),
        None,
        Some(&mut |delta, _hunk, line| {
            if line.origin() != '+' {
                return true;
            }
            let Some(lineno) = line.new_lineno() else {
                return true;
            };
            let path = delta
                .new_file()
                .path_bytes()
                .map(|p| String::from_utf8_lossy(p).into_owned())
                .unwrap_or_default();
            let lineno = lineno as u64;
            let continues = matches!(&next_line, Some((p, n)) if *p == path && *n == lineno);
            match runs.last_mut() {
                Some(run) if continues => run.text.extend_from_slice(line.content()),
                _ => runs.push(AddedRun {
                    path: path.clone(),
                    first_line: lineno,
                    text: line.content().to_vec(),
                }),
            }
            next_line = Some((path, lineno + 1));
            true
        }),
    )
    .context("reading the diff")?;
    Ok(runs)
}

fn diff_options() -> DiffOptions {
    let mut o = DiffOptions::new();
    o.context_lines(0)
        .ignore_submodules(true)
        .include_untracked(false);
    o
}

/// What commit `c` added relative to its first parent (everything, for a root commit).
pub fn commit_diff<'r>(repo: &'r Repository, c: &Commit<'_>) -> Result<Diff<'r>> {
    let new = c.tree()?;
    let old = match c.parents().next() {
        Some(p) => Some(p.tree()?),
        None => None,
    };
    let mut diff = repo.diff_tree_to_tree(old.as_ref(), Some(&new), Some(&mut diff_options()))?;
    // A renamed or moved file adds no new lines.
    diff.find_similar(Some(DiffFindOptions::new().renames(true)))?;
    Ok(diff)
}

/// What the index adds relative to HEAD (everything, in a repository with no commit yet).
pub fn staged_diff(repo: &Repository) -> Result<Diff<'_>> {
    let head = match repo.head() {
        Ok(h) => Some(h.peel_to_tree().context("reading HEAD's tree")?),
        Err(e)
            if e.code() == git2::ErrorCode::UnbornBranch
                || e.code() == git2::ErrorCode::NotFound =>
        {
            None
        }
        Err(e) => return Err(e).context("reading HEAD"),
    };
    let index = repo.index().context("reading the index")?;
    let mut diff = repo
        .diff_tree_to_index(head.as_ref(), Some(&index), Some(&mut diff_options()))
        .context("diffing the index against HEAD")?;
    diff.find_similar(Some(DiffFindOptions::new().renames(true)))?;
    Ok(diff)
}

/// The non-merge commits of `A..B` (or of `REV..HEAD` for `--since REV`), oldest first.
pub fn range_commits(repo: &Repository, range: &str) -> Result<Vec<Oid>> {
    let mut walk = repo.revwalk()?;
    walk.set_sorting(Sort::TOPOLOGICAL | Sort::REVERSE)?;
    if range.contains("..") {
        walk.push_range(range)
            .with_context(|| format!("invalid range `{range}`"))?;
    } else {
        bail!("invalid range `{range}`: expected A..B");
    }
    let mut out = Vec::new();
    for oid in walk {
        let oid = oid.context("walking the range")?;
        let c = repo.find_commit(oid)?;
        if c.parent_count() <= 1 {
            out.push(oid);
        }
    }
    Ok(out)
}
