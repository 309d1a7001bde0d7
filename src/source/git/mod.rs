//! The git source: a repository in; out, either the unique blobs of its history (reachable
//! from every ref, tag and stash, or every object with `--all-objects`) with the commit and
//! path where each was met, or, for a commit range and for the index, the runs of added
//! lines with their line numbers. Commit metadata is read only when asked for.
//!
//! - [`walk`]: enumerate commits and blobs (bounded, cycle-safe, missing objects reported)
//! - [`read`]: read one blob, whole or as a stream
//! - [`provenance`]: where a secret was introduced and last held, on first-parent lines
//! - [`diff`]: the lines a range of commits, or the index, adds

pub mod clone;
pub mod diff;
pub mod pack;
pub mod provenance;
pub mod read;
pub mod walk;

use std::{
    collections::{HashMap, HashSet},
    path::Path,
};

use anyhow::{bail, Result};
use git2::{Repository, RepositoryOpenFlags};

pub use diff::{added_runs, commit_diff, range_commits, staged_diff, AddedRun};
pub use provenance::provenance;
pub use walk::{head_blobs, walk_history, BlobSink, Walk};

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

pub type OidMap<V> = HashMap<git2::Oid, V, std::hash::BuildHasherDefault<OidHasher>>;
pub type OidSet = HashSet<git2::Oid, std::hash::BuildHasherDefault<OidHasher>>;
/// A set of raw ids: `git2::Oid` compares through libgit2 (a call per comparison), which
/// a walk checking every entry of every tree version pays tens of millions of times.
pub type IdSet = HashSet<[u8; 20], std::hash::BuildHasherDefault<OidHasher>>;

/// The raw bytes of an id.
pub fn id(oid: git2::Oid) -> [u8; 20] {
    let mut out = [0u8; 20];
    let b = oid.as_bytes();
    let n = b.len().min(20);
    out[..n].copy_from_slice(&b[..n]);
    out
}

/// Open the repository that `path` is (a work tree, a bare repository or a `.git`) or lies
/// in, searching upward as git does (stopping at `GIT_CEILING_DIRECTORIES`). The error is
/// one plain sentence naming the path.
pub fn open(path: &Path) -> Result<Repository> {
    if !path.exists() {
        bail!("{} does not exist", path.display());
    }
    let ceilings: Vec<std::ffi::OsString> = std::env::var_os("GIT_CEILING_DIRECTORIES")
        .map(|v| std::env::split_paths(&v).map(Into::into).collect())
        .unwrap_or_default();
    match Repository::open_ext(path, RepositoryOpenFlags::empty(), &ceilings) {
        Ok(r) => Ok(r),
        Err(e) if e.code() == git2::ErrorCode::NotFound => bail!(
            "{} is not a git repository (nor inside one)",
            path.display()
        ),
        Err(e) => bail!(
            "{}: cannot open the repository: {}",
            path.display(),
            e.message()
        ),
    }
}
