//! What a history scan hands a store and takes back from it: the blobs a repository had
//! scanned with this run's rules, repositories whose refs have not moved, and what each
//! scan learned.

use git2::{Oid, Repository};

use super::*;

/// A blob scanned with the run's rules, as a store keeps it: whether it was read as a
/// notebook (its path decides that) and what the scan found.
#[derive(Debug, Clone)]
pub struct ScannedBlob {
    pub oid: Oid,
    pub notebook: bool,
    pub result: BlobResult,
}

/// What earlier runs learned (a store): the blobs each repository already had scanned with
/// this run's rules, and where this run's new results go. A blob recalled is not read again.
pub trait BlobMemory {
    /// The blobs repository `i` (of `GitScanOptions::repos`) had scanned with these rules.
    fn recall(&mut self, i: usize) -> OidMap<ScannedBlob>;
    /// Repository `i` as the last run that walked it left it, when none of its refs has
    /// moved since (the same refs reach the same objects: the same blobs, findings and
    /// provenance), so that it need not be walked again.
    fn unchanged(&mut self, _i: usize, _repo: &Repository) -> Option<Unchanged> {
        None
    }
    /// Repository `i` is scanned (or was unchanged): see [`Learned`].
    fn learn(&mut self, i: usize, learned: Learned<'_>);
    /// Repository `i` could not be scanned (what it had found stays as it was).
    fn failed(&mut self, _i: usize) {}
}

/// A repository whose refs have not moved since an earlier run: every blob its history
/// reaches, and its findings before its configuration applies.
pub struct Unchanged {
    pub blobs: Vec<ScannedBlob>,
    pub findings: Vec<Finding>,
    pub commits: u64,
}

/// What one repository's scan gives a memory to keep.
pub struct Learned<'a> {
    /// The blobs read for it this run (not those recalled).
    pub read: Vec<ScannedBlob>,
    /// Whether its history was walked (false: [`BlobMemory::unchanged`] stood in for it).
    pub walked: bool,
    /// Every blob its history reaches, when the walk was complete (no problem, not
    /// shallow) and no blob was left to an earlier repository of this run: what a later run
    /// may take for the repository while its refs stay where they are.
    pub reached: Option<Vec<Oid>>,
    pub commits: u64,
    /// Its findings before its own configuration applied, and the outcome after (paths not
    /// yet labelled).
    pub raw: &'a [Finding],
    pub outcome: &'a ScanOutcome,
}

/// No store: every blob is read.
pub struct NoMemory;

impl BlobMemory for NoMemory {
    fn recall(&mut self, _: usize) -> OidMap<ScannedBlob> {
        OidMap::default()
    }
    fn learn(&mut self, _: usize, _: Learned<'_>) {}
}

/// The outcome of an unchanged repository, as its walk would give it: `None` when one of its
/// blobs was already met in an earlier repository of this run (then it is walked, so that
/// each blob is counted once, as in a run without a store).
pub(super) fn from_unchanged(
    u: Unchanged,
    scanned: &mut OidMap<Vec<Finding>>,
    scanned_clean: &mut OidSet,
) -> Option<ScanOutcome> {
    if u.blobs
        .iter()
        .any(|b| scanned.contains_key(&b.oid) || scanned_clean.contains(&b.oid))
    {
        return None;
    }
    let mut out = ScanOutcome::default();
    out.stats.commits = u.commits;
    for b in u.blobs {
        let r = b.result;
        out.stats.blobs += 1;
        out.stats.bytes += r.bytes;
        out.stats.skipped.binary += r.binary as u64;
        out.stats.skipped.too_large += r.too_large as u64;
        out.stats.allowed += r.allowed;
        if r.findings.is_empty() {
            scanned_clean.insert(b.oid);
        } else {
            scanned.insert(b.oid, r.findings);
        }
    }
    out.findings = u.findings;
    Some(out)
}
