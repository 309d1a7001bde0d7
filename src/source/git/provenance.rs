//! Provenance: blobs that hold secrets, and the paths they were met at, in; for each
//! (secret, path), the first commit on a first-parent line whose version of the file holds
//! the secret, the blob of that version, and the last commit that still held it, out.
//!
//! A line is walked once for every path at the same time, oldest first, and only subtrees
//! that changed since the previous commit are read again. Every line is bounded: it ends at
//! a root, at a commit that cannot be read, at a commit already walked (a history that loops
//! through grafts or replace refs), and after `limit` commits.

use std::{collections::HashMap, hash::Hash};

use git2::{Commit, ObjectType, Oid, Repository, Tree};

use super::{OidMap, OidSet};
use crate::source::GitProvenance;

/// Author, date and summary of a commit, as written (callers redact what they print).
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
        last_commit: None,
    }
}

/// The first-parent line back from `from`, newest first, as (commit, root tree) pairs. It
/// stops before a commit in `stop` (walked already on another line), at a root, at a commit
/// that cannot be read, at a commit already on the line (a cycle), or after `limit` commits.
pub fn first_parent_line(
    repo: &Repository,
    from: Oid,
    stop: &OidSet,
    limit: usize,
) -> Vec<(Oid, Oid)> {
    let mut line = Vec::new();
    let mut on_line = OidSet::default();
    let mut next = Some(from);
    while let Some(c) = next {
        if line.len() >= limit || stop.contains(&c) || !on_line.insert(c) {
            break;
        }
        let Ok(commit) = repo.find_commit(c) else {
            break;
        };
        line.push((c, commit.tree_id()));
        next = commit.parent_id(0).ok();
    }
    line
}

/// Paths looked up in successive trees: the blob at each path, re-reading only the subtrees
/// that changed since the previous lookup.
struct PathLookup<'a> {
    paths: Vec<Vec<&'a str>>,
    /// For each path, the tree ids met down to it in the previous lookup.
    trees: Vec<Vec<Oid>>,
    blobs: Vec<Option<Oid>>,
}

impl<'a> PathLookup<'a> {
    fn new(paths: &[&'a str]) -> Self {
        PathLookup {
            paths: paths.iter().map(|p| p.split('/').collect()).collect(),
            trees: vec![Vec::new(); paths.len()],
            blobs: vec![None; paths.len()],
        }
    }

    /// The blob at each path in the tree `root`.
    fn at(&mut self, repo: &Repository, root: Oid) -> &[Option<Oid>] {
        let mut read: OidMap<Option<Tree<'_>>> = OidMap::default();
        for (i, parts) in self.paths.iter().enumerate() {
            let trees = &mut self.trees[i];
            let mut tree = root;
            let mut depth = 0;
            loop {
                if trees.get(depth) == Some(&tree) {
                    break; // unchanged from here down: the blob is the one found last time
                }
                trees.truncate(depth);
                trees.push(tree);
                let entry = read
                    .entry(tree)
                    .or_insert_with(|| repo.find_tree(tree).ok())
                    .as_ref()
                    .and_then(|t| t.get_name(parts[depth]).map(|e| (e.id(), e.kind())));
                let last = depth + 1 == parts.len();
                match entry {
                    Some((id, Some(ObjectType::Blob))) if last => {
                        self.blobs[i] = Some(id);
                        break;
                    }
                    Some((id, Some(ObjectType::Tree))) if !last => {
                        tree = id;
                        depth += 1;
                    }
                    _ => {
                        self.blobs[i] = None;
                        break;
                    }
                }
            }
        }
        &self.blobs
    }
}

/// Where one secret at one path was held on a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Held {
    /// The oldest commit of the line whose version of the file holds it.
    pub first: Oid,
    /// That version of the file.
    pub first_blob: Oid,
    /// The newest commit of the line that holds it.
    pub last: Oid,
}

/// Walk `line` (newest first, from [`first_parent_line`]) oldest first, and say for every
/// secret `K` held by a blob at one of `paths` where it was first and last held.
pub fn trace<K: Copy + Eq + Hash>(
    repo: &Repository,
    line: &[(Oid, Oid)],
    paths: &[&str],
    held_by: &dyn Fn(Oid) -> Vec<K>,
) -> HashMap<(usize, K), Held> {
    let mut out: HashMap<(usize, K), Held> = HashMap::new();
    let mut lookup = PathLookup::new(paths);
    let mut known: OidMap<Vec<K>> = OidMap::default();
    for &(commit, tree) in line.iter().rev() {
        for (i, blob) in lookup.at(repo, tree).iter().enumerate() {
            let Some(blob) = *blob else { continue };
            let keys = known.entry(blob).or_insert_with(|| held_by(blob));
            for &k in keys.iter() {
                out.entry((i, k))
                    .and_modify(|h| h.last = commit)
                    .or_insert(Held {
                        first: commit,
                        first_blob: blob,
                        last: commit,
                    });
            }
        }
    }
    out
}
