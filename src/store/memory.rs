//! The store as a history scan's memory (`git_scan::BlobMemory`): recall what a repository
//! had scanned, stand in for a repository whose refs have not moved, keep what a scan learned.

use super::*;

/// The store as a history scan's memory: repository `i` is `identities[i]`.
pub struct StoreMemory<'a> {
    pub store: &'a mut Store,
    pub identities: Vec<String>,
    pub labels: Vec<String>,
    pub rules: HashMap<String, Arc<Rule>>,
    /// Whether blobs holding findings may be recalled (not when the run needs the secrets).
    pub recall_findings: bool,
    /// Problems with the store, one line each (the run goes on without it for that repo).
    pub errors: Vec<String>,
    /// Blobs read this run, and recalled from earlier runs.
    pub read: u64,
    pub recalled: u64,
    /// Repositories not walked because no ref had moved.
    pub unchanged: u64,
    /// Each repository's refs digest, taken before its walk.
    pub refs: HashMap<usize, String>,
}

impl BlobMemory for StoreMemory<'_> {
    fn recall(&mut self, i: usize) -> OidMap<ScannedBlob> {
        match self
            .store
            .recall(&self.identities[i], &self.rules, self.recall_findings)
        {
            Ok(m) => {
                self.recalled += m.len() as u64;
                m
            }
            Err(e) => {
                self.errors.push(format!("{e:#}"));
                OidMap::default()
            }
        }
    }

    fn unchanged(&mut self, i: usize, repo: &git2::Repository) -> Option<Unchanged> {
        let refs = refs_digest(repo)?;
        self.refs.insert(i, refs.clone());
        if !self.recall_findings {
            return None;
        }
        match self
            .store
            .unchanged(&self.identities[i], &refs, &self.rules)
        {
            Ok(u) => u,
            Err(e) => {
                self.errors.push(format!("{e:#}"));
                None
            }
        }
    }

    fn learn(&mut self, i: usize, l: Learned<'_>) {
        self.read += l.read.len() as u64;
        self.unchanged += !l.walked as u64;
        let refs = self.refs.remove(&i);
        let state = match (&l.reached, &refs) {
            _ if !l.walked => StateChange::Keep,
            (Some(reached), Some(refs)) => StateChange::Save {
                refs,
                commits: l.commits,
                reached,
                raw: l.raw,
            },
            _ => StateChange::Forget,
        };
        if let Err(e) = self.store.learn(
            &self.identities[i],
            &self.labels[i],
            &l.read,
            &l.outcome.findings,
            state,
        ) {
            self.errors.push(format!("{e:#}"));
        }
    }
}
