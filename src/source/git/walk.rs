//! Enumerate a repository's history: the refs in; each commit once, newest first, and each
//! unique blob once, with the newest commit whose tree holds it and its path there, out.
//!
//! The walk is ours, not libgit2's revision walk, so that hostile histories cannot stop or
//! trap it: every commit is visited at most once (a history that loops through grafts or
//! replace refs ends), and a missing or corrupt parent, tree or blob is recorded as a
//! problem while everything that can still be read is walked.

use std::collections::BinaryHeap;

use anyhow::{Context, Result};
use git2::{Commit, ObjectType, Oid, Repository};

use super::{IdSet, OidSet};

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

/// Walk a tree, handing each blob not in `seen_blobs` to `sink` once.
pub(super) fn walk_tree(
    repo: &Repository,
    root: Oid,
    commit: Option<u32>,
    seen_trees: &mut IdSet,
    seen_blobs: &mut IdSet,
    problems: &mut Vec<String>,
    sink: &mut BlobSink<'_>,
) {
    if !seen_trees.insert(super::id(root)) {
        return;
    }
    let mut stack: Vec<(Oid, String)> = vec![(root, String::new())];
    while let Some((oid, prefix)) = stack.pop() {
        let tree = match repo.find_tree(oid) {
            Ok(t) => t,
            Err(e) => {
                let at = if prefix.is_empty() { "/" } else { &prefix };
                problems.push(format!(
                    "tree {oid} at `{at}` cannot be read ({}): what is below it is not scanned",
                    e.message()
                ));
                continue;
            }
        };
        for entry in tree.iter() {
            // Most entries of a tree version were met in an earlier version: check the id
            // before building a path.
            let id = entry.id();
            let kind = entry.kind();
            let fresh = match kind {
                Some(ObjectType::Blob) => seen_blobs.insert(super::id(id)),
                Some(ObjectType::Tree) => seen_trees.insert(super::id(id)),
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

/// A commit waiting in the walk's queue, ordered by committer time (newest first).
struct Queued<'r>(Commit<'r>);

impl PartialEq for Queued<'_> {
    fn eq(&self, o: &Self) -> bool {
        self.0.id() == o.0.id()
    }
}
impl Eq for Queued<'_> {}
impl PartialOrd for Queued<'_> {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Queued<'_> {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        (self.0.time().seconds(), self.0.id()).cmp(&(o.0.time().seconds(), o.0.id()))
    }
}

/// The commits a shallow clone lists as its boundary (their parents are absent by design).
fn shallow_boundary(repo: &Repository) -> OidSet {
    let file = repo.commondir().join("shallow");
    std::fs::read_to_string(file)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| Oid::from_str(l.trim()).ok())
        .collect()
}

/// The commits every ref (branches, remotes, tags, stashes, notes, replace refs) and HEAD
/// point at; trees and blobs that refs point at directly go to `direct`.
fn tips(repo: &Repository, w: &mut Walk, direct: &mut Vec<(Oid, ObjectType, String)>) -> Vec<Oid> {
    let mut out = Vec::new();
    match repo.references() {
        Ok(refs) => {
            for r in refs {
                let r = match r {
                    Ok(r) => r,
                    Err(e) => {
                        w.problems
                            .push(format!("a reference cannot be read: {}", e.message()));
                        continue;
                    }
                };
                let name = String::from_utf8_lossy(r.name_bytes()).into_owned();
                match r.peel(ObjectType::Any) {
                    Ok(obj) => match obj.kind() {
                        Some(ObjectType::Commit) => out.push(obj.id()),
                        Some(k @ (ObjectType::Tree | ObjectType::Blob)) => {
                            direct.push((obj.id(), k, name))
                        }
                        _ => {}
                    },
                    Err(e) => w.problems.push(format!(
                        "reference {name} cannot be resolved: {}",
                        e.message()
                    )),
                }
            }
        }
        Err(e) => w
            .problems
            .push(format!("the references cannot be listed: {}", e.message())),
    }
    if let Ok(c) = repo.head().and_then(|h| h.peel_to_commit()) {
        out.push(c.id());
    }
    out
}

/// Walk the whole history, newest first (old versions of a file are usually stored as
/// deltas against new ones, so this order reads packs efficiently): every commit reachable
/// from any ref and HEAD, each once. Each blob goes to `sink` once, with the newest commit
/// that holds it.
pub fn walk_history(repo: &Repository, all_objects: bool, sink: &mut BlobSink<'_>) -> Result<Walk> {
    let mut w = Walk {
        shallow: repo.is_shallow(),
        ..Walk::default()
    };
    let boundary = if w.shallow {
        shallow_boundary(repo)
    } else {
        OidSet::default()
    };
    let mut direct: Vec<(Oid, ObjectType, String)> = Vec::new();
    // Every commit enters the queue at most once: `queued` is what makes a cyclic history
    // end, and bounds the walk by the number of distinct commits.
    let mut queued = OidSet::default();
    let mut queue: BinaryHeap<Queued<'_>> = BinaryHeap::new();
    for oid in tips(repo, &mut w, &mut direct) {
        if !queued.insert(oid) {
            continue;
        }
        match repo.find_commit(oid) {
            Ok(c) => queue.push(Queued(c)),
            Err(e) => w.problems.push(format!(
                "commit {oid} (a ref's target) cannot be read: {}",
                e.message()
            )),
        }
    }
    let mut seen_trees = IdSet::default();
    let mut seen_blobs = IdSet::default();
    while let Some(Queued(c)) = queue.pop() {
        let oid = c.id();
        let idx = w.commits.len() as u32;
        w.commits.push(oid);
        walk_tree(
            repo,
            c.tree_id(),
            Some(idx),
            &mut seen_trees,
            &mut seen_blobs,
            &mut w.problems,
            sink,
        );
        for p in c.parent_ids() {
            if !queued.insert(p) {
                continue;
            }
            match repo.find_commit(p) {
                Ok(pc) => queue.push(Queued(pc)),
                Err(_) if boundary.contains(&oid) => {}
                Err(e) => w.problems.push(format!(
                    "commit {p} (a parent of {oid}) cannot be read ({}): history behind it is not scanned",
                    e.message()
                )),
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
                if seen_blobs.insert(super::id(oid)) {
                    sink(oid, None, name);
                }
            }
        }
    }
    if all_objects {
        let odb = repo.odb().context("opening the object database")?;
        let mut extra = Vec::new();
        odb.foreach(|oid| {
            if !seen_blobs.contains(&super::id(*oid)) {
                extra.push(*oid);
            }
            true
        })
        .context("listing the object database")?;
        for oid in extra {
            match odb.read_header(oid) {
                Ok((_, ObjectType::Blob)) => {
                    seen_blobs.insert(super::id(oid));
                    sink(oid, None, format!("<unreachable blob {oid}>"));
                }
                Ok(_) => {}
                Err(e) => w
                    .problems
                    .push(format!("object {oid} cannot be read: {}", e.message())),
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
            &mut IdSet::default(),
            &mut IdSet::default(),
            &mut problems,
            &mut |oid, _, _| {
                out.insert(oid);
            },
        );
    }
    out
}
