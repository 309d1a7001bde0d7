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

/// Object ids are already uniformly distributed: hash them by their first 8 bytes.
#[derive(Default, Clone, Copy)]
pub struct OidHasher(u64);

impl std::hash::Hasher for OidHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes.iter().take(8) {
            self.0 = (self.0 << 8) | b as u64;
        }
    }
}

pub type OidMap<V> = HashMap<Oid, V, std::hash::BuildHasherDefault<OidHasher>>;
pub type OidSet = HashSet<Oid, std::hash::BuildHasherDefault<OidHasher>>;

/// What a history walk met besides blobs.
#[derive(Debug, Default)]
pub struct Walk {
    /// Every commit walked, newest first.
    pub commits: Vec<Oid>,
    /// Problems met on the way (missing or corrupt objects); the walk went on.
    pub problems: Vec<String>,
    pub shallow: bool,
}

/// A blob met by the walk: the newest commit (index into `Walk::commits`) whose tree holds
/// it and its path there; `None` for a blob reached only from a ref that points at it, or
/// found only in the object database.
pub type BlobSink<'a> = dyn FnMut(Oid, Option<u32>, String) + 'a;

/// Open a repository (work tree or bare) exactly at `path`; the error names it.
pub fn open(path: &Path) -> Result<Repository> {
    Repository::open_ext(
        path,
        RepositoryOpenFlags::NO_SEARCH,
        std::iter::empty::<&std::ffi::OsStr>(),
    )
    .with_context(|| format!("{} is not a git repository", path.display()))
}

/// Walk a tree, handing each blob not in `seen_blobs` to `sink` once.
fn walk_tree(
    repo: &Repository,
    root: Oid,
    commit: Option<u32>,
    seen_trees: &mut OidSet,
    seen_blobs: &mut OidSet,
    problems: &mut Vec<String>,
    sink: &mut BlobSink<'_>,
) {
    if !seen_trees.insert(root) {
        return;
    }
    let mut stack: Vec<(Oid, String)> = vec![(root, String::new())];
    while let Some((oid, prefix)) = stack.pop() {
        let tree = match repo.find_tree(oid) {
            Ok(t) => t,
            Err(e) => {
                problems.push(format!("tree {oid} at `{prefix}`: {}", e.message()));
                continue;
            }
        };
        for entry in tree.iter() {
            // Most entries of a tree version were met in an earlier version: check the id
            // before building a path.
            let id = entry.id();
            let kind = entry.kind();
            let fresh = match kind {
                Some(ObjectType::Blob) => seen_blobs.insert(id),
                Some(ObjectType::Tree) => seen_trees.insert(id),
                // Submodules (gitlinks) point into another repository: not scanned here.
                _ => false,
            };
            if !fresh {
                continue;
            }
            let name = String::from_utf8_lossy(entry.name_bytes());
            let path = if prefix.is_empty() {
                name.into_owned()
            } else {
                format!("{prefix}/{name}")
            };
            if kind == Some(ObjectType::Blob) {
                sink(id, commit, path);
            } else {
                stack.push((id, path));
            }
        }
    }
}

/// Walk the whole history, newest first (old versions of a file are usually stored as
/// deltas against new ones, so this order reads packs efficiently): every commit reachable
/// from any ref (branches, remotes, tags, stashes, notes) and HEAD. Each blob goes to
/// `sink` once, with the newest commit that holds it.
pub fn walk_history(repo: &Repository, all_objects: bool, sink: &mut BlobSink<'_>) -> Result<Walk> {
    let mut w = Walk {
        shallow: repo.is_shallow(),
        ..Walk::default()
    };
    let mut walk = repo.revwalk().context("starting a revision walk")?;
    walk.set_sorting(Sort::TIME)?;
    let mut direct: Vec<(Oid, ObjectType, String)> = Vec::new();
    let mut pushed = 0usize;
    for r in repo.references().context("listing references")? {
        let r = match r {
            Ok(r) => r,
            Err(e) => {
                w.problems.push(format!("reference: {}", e.message()));
                continue;
            }
        };
        let name = String::from_utf8_lossy(r.name_bytes()).into_owned();
        match r.peel(ObjectType::Any) {
            Ok(obj) => match obj.kind() {
                Some(ObjectType::Commit) => {
                    if let Err(e) = walk.push(obj.id()) {
                        w.problems.push(format!("{name}: {}", e.message()));
                    } else {
                        pushed += 1;
                    }
                }
                Some(k @ (ObjectType::Tree | ObjectType::Blob)) => direct.push((obj.id(), k, name)),
                _ => {}
            },
            Err(e) => w.problems.push(format!("{name}: {}", e.message())),
        }
    }
    if let Ok(c) = repo.head().and_then(|h| h.peel_to_commit()) {
        if walk.push(c.id()).is_ok() {
            pushed += 1;
        }
    }
    let mut seen_trees = OidSet::default();
    let mut seen_blobs = OidSet::default();
    if pushed > 0 {
        for oid in walk {
            let oid = match oid {
                Ok(o) => o,
                Err(e) => {
                    w.problems.push(format!("revision walk: {}", e.message()));
                    break;
                }
            };
            let idx = w.commits.len() as u32;
            w.commits.push(oid);
            match repo.find_commit(oid).and_then(|c| c.tree()) {
                Ok(tree) => walk_tree(
                    repo,
                    tree.id(),
                    Some(idx),
                    &mut seen_trees,
                    &mut seen_blobs,
                    &mut w.problems,
                    sink,
                ),
                Err(e) => w.problems.push(format!("commit {oid}: {}", e.message())),
            }
        }
    }
    for (oid, kind, name) in direct {
        match kind {
            ObjectType::Tree => walk_tree(
                repo,
                oid,
                None,
                &mut seen_trees,
                &mut seen_blobs,
                &mut w.problems,
                sink,
            ),
            _ => {
                if seen_blobs.insert(oid) {
                    sink(oid, None, name);
                }
            }
        }
    }
    if all_objects {
        let odb = repo.odb().context("opening the object database")?;
        let mut extra = Vec::new();
        odb.foreach(|oid| {
            if !seen_blobs.contains(oid) {
                extra.push(*oid);
            }
            true
        })
        .context("listing the object database")?;
        for oid in extra {
            match odb.read_header(oid) {
                Ok((_, ObjectType::Blob)) => {
                    seen_blobs.insert(oid);
                    sink(oid, None, format!("<unreachable blob {oid}>"));
                }
                Ok(_) => {}
                Err(e) => w.problems.push(format!("object {oid}: {}", e.message())),
            }
        }
    }
    Ok(w)
}

/// The blobs of HEAD's tree (empty without a HEAD).
pub fn head_blobs(repo: &Repository) -> OidSet {
    let mut out = OidSet::default();
    if let Ok(tree) = repo.head().and_then(|r| r.peel_to_tree()) {
        let mut problems = Vec::new();
        walk_tree(
            repo,
            tree.id(),
            None,
            &mut OidSet::default(),
            &mut OidSet::default(),
            &mut problems,
            &mut |oid, _, _| {
                out.insert(oid);
            },
        );
    }
    out
}

/// First parents of commits, remembered across lookups (provenance of many blobs walks
/// the same first-parent line).
#[derive(Default)]
pub struct FirstParents(OidMap<Option<Oid>>);

impl FirstParents {
    fn parent(&mut self, repo: &Repository, c: Oid) -> Option<Oid> {
        *self
            .0
            .entry(c)
            .or_insert_with(|| repo.find_commit(c).ok().and_then(|c| c.parent_id(0).ok()))
    }

    /// The first-parent line from `from` back to the root.
    fn chain(&mut self, repo: &Repository, from: Oid) -> Vec<Oid> {
        let mut chain = vec![from];
        while let Some(p) = chain.last().and_then(|&c| self.parent(repo, c)) {
            chain.push(p);
        }
        chain
    }
}

/// The commit that introduced `blob` at `path`: searching the first-parent line back from
/// `newest` (a commit that holds it), the oldest commit of the unbroken run that holds it.
pub fn introducer(
    repo: &Repository,
    parents: &mut FirstParents,
    blob: Oid,
    path: &str,
    newest: Oid,
) -> Oid {
    let holds = |c: Oid| {
        repo.find_commit(c)
            .and_then(|c| c.tree())
            .ok()
            .and_then(|t| t.get_path(Path::new(path)).ok())
            .is_some_and(|e| e.id() == blob)
    };
    let chain = parents.chain(repo, newest);
    if !holds(chain[0]) {
        return newest;
    }
    // chain[lo] holds it; chain[hi] does not (or is past the root).
    let (mut lo, mut hi) = (0usize, chain.len());
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if holds(chain[mid]) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    chain[lo]
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
