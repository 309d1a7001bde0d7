//! The store (`--store FILE`): what history scans learned, kept across runs in one SQLite
//! file. In: per repository, the blobs read with a rule-set digest and what each held; the
//! findings each run reported. Out: the blobs a later run need not read again (scanned with
//! the same rules), and per secret (fingerprint) every occurrence with the runs it was first
//! and last seen in, and whether it is resolved (gone from HEAD, or from the history).
//!
//! The secret itself is never stored: a finding is kept as its fingerprint, redacted form,
//! vendor hint, key id and place. A run that needs the secrets (`--show-secrets`,
//! `--validate`) reads the blobs holding findings again. The schema is versioned with
//! `PRAGMA user_version` and migrated forward; a store written by a newer sprawl is refused.
//! Each repository's results are written whole or not at all (a savepoint; repositories are
//! committed in batches): a run stopped half-way leaves every repository either as it was or
//! as this run saw it.

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    sync::Arc,
};

use anyhow::{bail, Context, Result};
use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{
    expiry::{Basis, Expiry},
    finding::{Finding, Fingerprint, Location},
    git_scan::{BlobMemory, BlobResult, Learned, ScannedBlob, Unchanged},
    rules::{Confidence, Rule, RuleSet},
    source::{git::OidMap, CellPart, GitProvenance, SourceKind},
};

mod memory;
mod record;

pub use memory::StoreMemory;
use record::StoredFinding;

/// What a repository's history scan depends on besides object contents (which never change
/// under an id): every ref and where it points, HEAD, and the shallow and graft lists.
pub fn refs_digest(repo: &git2::Repository) -> Option<String> {
    let mut refs: Vec<(Vec<u8>, String)> = Vec::new();
    for r in repo.references().ok()? {
        let r = r.ok()?;
        let to = match (r.target(), r.symbolic_target_bytes()) {
            (Some(oid), _) => oid.to_string(),
            (None, Some(t)) => format!("-> {}", String::from_utf8_lossy(t)),
            (None, None) => return None,
        };
        refs.push((r.name_bytes().to_vec(), to));
    }
    refs.sort();
    let mut h = Sha256::new();
    for (name, to) in &refs {
        h.update(name);
        h.update([0]);
        h.update(to.as_bytes());
        h.update([0]);
    }
    let head = repo.find_reference("HEAD").ok()?;
    match (head.target(), head.symbolic_target_bytes()) {
        (Some(oid), _) => h.update(oid.as_bytes()),
        (_, Some(t)) => h.update(t),
        _ => {}
    }
    for f in ["shallow", "info/grafts"] {
        h.update([1]);
        h.update(std::fs::read(repo.commondir().join(f)).unwrap_or_default());
    }
    Some(hex::encode(h.finalize()))
}

/// Marks a SQLite file as a sprawl store (`PRAGMA application_id`, "sprw").
pub const APPLICATION_ID: i32 = 0x7370_7277;

/// Each schema version's migration from the one before (version = index + 1).
pub const MIGRATIONS: &[&str] = &[
    // 1: repositories, rule sets, runs, blobs read and their findings, occurrences.
    "CREATE TABLE repo (
        id INTEGER PRIMARY KEY,
        identity TEXT NOT NULL UNIQUE,
        label TEXT NOT NULL,
        last_run INTEGER
     );
     CREATE TABLE ruleset (id INTEGER PRIMARY KEY, digest TEXT NOT NULL UNIQUE);
     CREATE TABLE run (
        id INTEGER PRIMARY KEY,
        started_at TEXT NOT NULL,
        tool_version TEXT NOT NULL,
        ruleset INTEGER NOT NULL REFERENCES ruleset(id)
     );
     CREATE TABLE blob (
        repo INTEGER NOT NULL REFERENCES repo(id),
        oid BLOB NOT NULL,
        ruleset INTEGER NOT NULL REFERENCES ruleset(id),
        bytes INTEGER NOT NULL,
        binary INTEGER NOT NULL,
        too_large INTEGER NOT NULL,
        allowed INTEGER NOT NULL,
        notebook INTEGER NOT NULL,
        PRIMARY KEY (repo, oid)
     ) WITHOUT ROWID;
     CREATE TABLE blob_finding (
        repo INTEGER NOT NULL,
        oid BLOB NOT NULL,
        seq INTEGER NOT NULL,
        finding TEXT NOT NULL,
        PRIMARY KEY (repo, oid, seq)
     ) WITHOUT ROWID;
     CREATE TABLE occurrence (
        repo INTEGER NOT NULL REFERENCES repo(id),
        id TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        rule TEXT NOT NULL,
        redacted TEXT NOT NULL,
        path TEXT NOT NULL,
        line INTEGER NOT NULL,
        commit_id TEXT,
        first_seen INTEGER NOT NULL REFERENCES run(id),
        last_seen INTEGER NOT NULL REFERENCES run(id),
        PRIMARY KEY (repo, id)
     ) WITHOUT ROWID;
     CREATE INDEX occurrence_fingerprint ON occurrence (fingerprint);",
    // 2: resolution: `head` (no longer in HEAD's tree), `gone` (no longer anywhere), and
    // the run that saw it so.
    "ALTER TABLE occurrence ADD COLUMN in_head INTEGER;
     ALTER TABLE occurrence ADD COLUMN resolved TEXT;
     ALTER TABLE occurrence ADD COLUMN resolved_run INTEGER REFERENCES run(id);",
    // 3: each repository as its last complete walk left it: the digest of its refs, every
    // blob reached (20-byte ids end to end) and its findings, for runs where no ref moved.
    "CREATE TABLE repo_state (
        repo INTEGER PRIMARY KEY REFERENCES repo(id),
        ruleset INTEGER NOT NULL REFERENCES ruleset(id),
        refs TEXT NOT NULL,
        run INTEGER NOT NULL REFERENCES run(id),
        commits INTEGER NOT NULL,
        blobs BLOB NOT NULL,
        findings TEXT NOT NULL
     );",
];

/// Whether the file at `path` is an SQLite database (a store, for `sprawl merge`).
pub fn is_store(path: &Path) -> bool {
    let mut head = [0u8; 16];
    std::fs::File::open(path)
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut head))
        .is_ok_and(|()| &head == b"SQLite format 3\0")
}

/// The schema version this sprawl writes.
pub fn schema_version() -> i64 {
    MIGRATIONS.len() as i64
}

/// What a blob's findings depend on besides its content: every rule in force (as parsed),
/// the streaming size, and this build of the matcher. A change of any rescans.
pub fn rules_digest(rules: &RuleSet, max_file_size: u64) -> String {
    let mut h = Sha256::new();
    h.update(env!("CARGO_PKG_VERSION").as_bytes());
    h.update(max_file_size.to_le_bytes());
    for r in &rules.rules {
        h.update(serde_json::to_vec(&**r).unwrap_or_default());
        h.update([0]);
    }
    hex::encode(h.finalize())
}

/// An open store, for one run.
pub struct Store {
    conn: Connection,
    path: PathBuf,
    ruleset: i64,
    run: i64,
    /// The open batch: when it began, and how many repositories it holds.
    batch: Option<(std::time::Instant, usize)>,
}

impl Drop for Store {
    fn drop(&mut self) {
        // Every repository in the batch is whole (savepoints): keep them.
        let _ = self.commit();
    }
}

impl Store {
    /// Open (or create) the store at `path`, migrate it to this version, and start a run
    /// with the rule set of `digest`.
    pub fn open(path: &Path, digest: &str) -> Result<Store> {
        let mut store = Store::open_schema(path)?;
        let shown = path.display();
        let tx = store.conn.transaction()?;
        tx.execute(
            "INSERT OR IGNORE INTO ruleset (digest) VALUES (?1)",
            params![digest],
        )?;
        let ruleset: i64 = tx.query_row(
            "SELECT id FROM ruleset WHERE digest = ?1",
            params![digest],
            |r| r.get(0),
        )?;
        tx.execute(
            "INSERT INTO run (started_at, tool_version, ruleset) VALUES (?1, ?2, ?3)",
            params![
                crate::time::rfc3339(crate::expiry::now(), 0),
                env!("CARGO_PKG_VERSION"),
                ruleset
            ],
        )?;
        let run = tx.last_insert_rowid();
        tx.commit()
            .with_context(|| format!("writing the store {shown}"))?;
        store.ruleset = ruleset;
        store.run = run;
        Ok(store)
    }

    /// Open (or create) the store at `path` and migrate it to this version.
    fn open_schema(path: &Path) -> Result<Store> {
        let shown = path.display();
        let conn = Connection::open(path).with_context(|| format!("opening the store {shown}"))?;
        conn.busy_timeout(std::time::Duration::from_secs(30))?;
        let not_ours = |e: rusqlite::Error| {
            anyhow::anyhow!("{shown} is not a sprawl store (not an SQLite database: {e})")
        };
        let version: i64 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .map_err(not_ours)?;
        let app: i32 = conn
            .pragma_query_value(None, "application_id", |r| r.get(0))
            .map_err(not_ours)?;
        let tables: i64 = conn
            .query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))
            .map_err(not_ours)?;
        if app != APPLICATION_ID && (tables > 0 || version > 0) {
            bail!("{shown} is not a sprawl store (an SQLite database of another program)");
        }
        if version > schema_version() {
            bail!(
                "the store {shown} was written by a newer sprawl (schema version {version}; \
                 this sprawl reads up to {}): use that sprawl, or another --store file",
                schema_version()
            );
        }
        let mut store = Store {
            conn,
            path: path.to_path_buf(),
            ruleset: 0,
            run: 0,
            batch: None,
        };
        store.migrate(version)?;
        Ok(store)
    }

    /// Merge the shard stores `from` into the store at `to` (created if need be), each in one
    /// transaction: their runs, rule sets, repositories with their blobs, occurrences and
    /// states. A repository already in `to` keeps what `to` has (shards hold disjoint
    /// repositories; one met twice is named in the result). Returns the repositories added
    /// and those left out.
    pub fn merge(to: &Path, from: &[PathBuf]) -> Result<(u64, Vec<String>)> {
        let mut dst = Store::open_schema(to)?;
        let (mut added, mut twice) = (0, Vec::new());
        for src in from {
            // Checked (and brought to this version) like any store first.
            drop(Store::open_schema(src)?);
            let shown = src.display().to_string();
            dst.conn
                .execute("ATTACH DATABASE ?1 AS s", params![src.to_string_lossy()])?;
            let tx = dst.conn.transaction()?;
            tx.execute_batch(
                "CREATE TEMP TABLE map_ruleset (old INTEGER PRIMARY KEY, new INTEGER);
                 CREATE TEMP TABLE map_run (old INTEGER PRIMARY KEY, new INTEGER);
                 CREATE TEMP TABLE map_repo (old INTEGER PRIMARY KEY, new INTEGER);
                 INSERT OR IGNORE INTO main.ruleset (digest) SELECT digest FROM s.ruleset;
                 INSERT INTO map_ruleset SELECT o.id, n.id FROM s.ruleset o JOIN main.ruleset n USING (digest);",
            )?;
            let runs: Vec<(i64, String, String, i64)> = {
                let mut q = tx.prepare(
                    "SELECT id, started_at, tool_version, ruleset FROM s.run ORDER BY id",
                )?;
                let rows = q.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
                rows.collect::<rusqlite::Result<_>>()?
            };
            for (old, at, version, ruleset) in runs {
                insert_mapped(
                    &tx,
                    "INSERT INTO main.run (started_at, tool_version, ruleset)
                     SELECT ?1, ?2, new FROM map_ruleset WHERE old = ?3",
                    params![at, version, ruleset],
                    "map_run",
                    old,
                )?;
            }
            {
                let mut q = tx.prepare(
                    "SELECT id, identity, label, last_run, EXISTS
                       (SELECT 1 FROM main.repo m WHERE m.identity = s.repo.identity)
                     FROM s.repo ORDER BY id",
                )?;
                let repos: Vec<(i64, String, String, Option<i64>, bool)> = q
                    .query_map([], |r| {
                        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
                    })?
                    .collect::<rusqlite::Result<_>>()?;
                for (old, identity, label, last_run, exists) in repos {
                    if exists {
                        twice.push(format!("{label} (in {shown})"));
                        continue;
                    }
                    insert_mapped(
                        &tx,
                        "INSERT INTO main.repo (identity, label, last_run)
                         VALUES (?1, ?2, (SELECT new FROM map_run WHERE old = ?3))",
                        params![identity, label, last_run],
                        "map_repo",
                        old,
                    )?;
                    added += 1;
                }
            }
            tx.execute_batch(
                "INSERT INTO main.blob (repo, oid, ruleset, bytes, binary, too_large, allowed, notebook)
                   SELECT r.new, b.oid, k.new, b.bytes, b.binary, b.too_large, b.allowed, b.notebook
                   FROM s.blob b JOIN map_repo r ON r.old = b.repo JOIN map_ruleset k ON k.old = b.ruleset;
                 INSERT INTO main.blob_finding (repo, oid, seq, finding)
                   SELECT r.new, f.oid, f.seq, f.finding FROM s.blob_finding f JOIN map_repo r ON r.old = f.repo;
                 INSERT INTO main.occurrence (repo, id, fingerprint, rule, redacted, path, line, commit_id,
                     first_seen, last_seen, in_head, resolved, resolved_run)
                   SELECT r.new, o.id, o.fingerprint, o.rule, o.redacted, o.path, o.line, o.commit_id,
                     f.new, l.new, o.in_head, o.resolved, (SELECT new FROM map_run WHERE old = o.resolved_run)
                   FROM s.occurrence o JOIN map_repo r ON r.old = o.repo
                     JOIN map_run f ON f.old = o.first_seen JOIN map_run l ON l.old = o.last_seen;
                 INSERT INTO main.repo_state (repo, ruleset, refs, run, commits, blobs, findings)
                   SELECT r.new, k.new, t.refs, n.new, t.commits, t.blobs, t.findings
                   FROM s.repo_state t JOIN map_repo r ON r.old = t.repo
                     JOIN map_ruleset k ON k.old = t.ruleset JOIN map_run n ON n.old = t.run;
                 DROP TABLE map_ruleset; DROP TABLE map_run; DROP TABLE map_repo;",
            )
            .with_context(|| format!("merging the store {shown}"))?;
            tx.commit()
                .with_context(|| format!("merging the store {shown}"))?;
            dst.conn.execute("DETACH DATABASE s", [])?;
        }
        Ok((added, twice))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Bring the schema from `from` to this version, one transaction per step.
    fn migrate(&mut self, from: i64) -> Result<()> {
        let shown = self.path.display().to_string();
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(from as usize) {
            let to = i + 1;
            let tx = self.conn.transaction()?;
            tx.execute_batch(sql)
                .with_context(|| format!("migrating the store {shown} to schema version {to}"))?;
            tx.pragma_update(None, "application_id", APPLICATION_ID)?;
            tx.pragma_update(None, "user_version", to as i64)?;
            tx.commit()
                .with_context(|| format!("migrating the store {shown} to schema version {to}"))?;
        }
        Ok(())
    }

    fn repo_id(&self, identity: &str) -> Result<Option<i64>> {
        Ok(self
            .conn
            .query_row(
                "SELECT id FROM repo WHERE identity = ?1",
                params![identity],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// The blobs `identity` had read with this run's rules. With `with_findings` false, only
    /// blobs that held nothing (the rest are read again: the store has no secrets).
    pub fn recall(
        &self,
        identity: &str,
        rules: &HashMap<String, Arc<Rule>>,
        with_findings: bool,
    ) -> Result<OidMap<ScannedBlob>> {
        let mut out = OidMap::default();
        let Some(repo) = self.repo_id(identity)? else {
            return Ok(out);
        };
        let mut findings: OidMap<Vec<Finding>> = OidMap::default();
        let mut unreadable = crate::source::git::OidSet::default();
        {
            let mut q = self.conn.prepare(
                "SELECT f.oid, f.finding FROM blob_finding f JOIN blob b
                   ON b.repo = f.repo AND b.oid = f.oid
                 WHERE f.repo = ?1 AND b.ruleset = ?2 ORDER BY f.oid, f.seq",
            )?;
            let mut rows = q.query(params![repo, self.ruleset])?;
            while let Some(row) = rows.next()? {
                let oid = oid_of(&row.get::<_, Vec<u8>>(0)?)?;
                let text: String = row.get(1)?;
                match serde_json::from_str::<StoredFinding>(&text)
                    .ok()
                    .and_then(|s| s.finding(rules))
                {
                    Some(f) => findings.entry(oid).or_default().push(f),
                    None => {
                        unreadable.insert(oid);
                    }
                }
            }
        }
        let mut q = self.conn.prepare(
            "SELECT oid, bytes, binary, too_large, allowed, notebook FROM blob
             WHERE repo = ?1 AND ruleset = ?2",
        )?;
        let mut rows = q.query(params![repo, self.ruleset])?;
        while let Some(row) = rows.next()? {
            let oid = oid_of(&row.get::<_, Vec<u8>>(0)?)?;
            let found = findings.remove(&oid).unwrap_or_default();
            if unreadable.contains(&oid) || (!with_findings && !found.is_empty()) {
                continue;
            }
            out.insert(
                oid,
                ScannedBlob {
                    oid,
                    notebook: row.get(5)?,
                    result: BlobResult {
                        bytes: row.get::<_, i64>(1)? as u64,
                        binary: row.get(2)?,
                        too_large: row.get(3)?,
                        allowed: row.get::<_, i64>(4)? as u64,
                        findings: found,
                        error: None,
                    },
                },
            );
        }
        Ok(out)
    }

    /// Record one repository's run, all of it or nothing (a savepoint): the blobs read, and
    /// its findings as occurrences (first / last seen, resolved when HEAD no longer holds
    /// one, or when this run no longer found it at all). Repositories are committed in
    /// batches (every 64, or every 2 seconds, and at the end): a run stopped half-way keeps
    /// every repository of the batches committed, whole, and the next run scans the others.
    pub fn learn(
        &mut self,
        identity: &str,
        label: &str,
        read: &[ScannedBlob],
        findings: &[Finding],
        state: StateChange<'_>,
    ) -> Result<()> {
        let shown = self.path.display().to_string();
        if self.batch.is_none() {
            self.conn.execute_batch("BEGIN")?;
            self.batch = Some((std::time::Instant::now(), 0));
        }
        self.conn.execute_batch("SAVEPOINT repo")?;
        match self.write_repo(identity, label, read, findings, state) {
            Ok(()) => self.conn.execute_batch("RELEASE repo")?,
            Err(e) => {
                self.conn.execute_batch("ROLLBACK TO repo; RELEASE repo")?;
                return Err(e.context(format!("writing {label} to the store {shown}")));
            }
        }
        if let Some((since, n)) = &mut self.batch {
            *n += 1;
            if *n >= 64 || since.elapsed() > std::time::Duration::from_secs(2) {
                self.commit()?;
            }
        }
        Ok(())
    }

    /// Commit the repositories recorded so far.
    pub fn commit(&mut self) -> Result<()> {
        if self.batch.take().is_some() {
            self.conn
                .execute_batch("COMMIT")
                .with_context(|| format!("writing the store {}", self.path.display()))?;
        }
        Ok(())
    }

    fn write_repo(
        &self,
        identity: &str,
        label: &str,
        read: &[ScannedBlob],
        findings: &[Finding],
        state: StateChange<'_>,
    ) -> Result<()> {
        let run = self.run;
        let ruleset = self.ruleset;
        self.conn.execute(
            "INSERT INTO repo (identity, label, last_run) VALUES (?1, ?2, ?3)
             ON CONFLICT (identity) DO UPDATE SET label = excluded.label, last_run = excluded.last_run",
            params![identity, label, run],
        )?;
        let repo: i64 = self.conn.query_row(
            "SELECT id FROM repo WHERE identity = ?1",
            params![identity],
            |r| r.get(0),
        )?;
        {
            let mut put_blob = self.conn.prepare_cached(
                "INSERT OR REPLACE INTO blob
                   (repo, oid, ruleset, bytes, binary, too_large, allowed, notebook)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?;
            let mut drop_findings = self
                .conn
                .prepare_cached("DELETE FROM blob_finding WHERE repo = ?1 AND oid = ?2")?;
            let mut put_finding = self.conn.prepare_cached(
                "INSERT INTO blob_finding (repo, oid, seq, finding) VALUES (?1, ?2, ?3, ?4)",
            )?;
            for b in read {
                let oid = b.oid.as_bytes();
                let r = &b.result;
                put_blob.execute(params![
                    repo,
                    oid,
                    ruleset,
                    r.bytes as i64,
                    r.binary,
                    r.too_large,
                    r.allowed as i64,
                    b.notebook
                ])?;
                drop_findings.execute(params![repo, oid])?;
                for (seq, f) in r.findings.iter().enumerate() {
                    let text = serde_json::to_string(&StoredFinding::of(f))?;
                    put_finding.execute(params![repo, oid, seq as i64, text])?;
                }
            }
            let mut seen = self.conn.prepare_cached(
                "INSERT INTO occurrence (repo, id, fingerprint, rule, redacted, path, line,
                   commit_id, first_seen, last_seen, in_head, resolved, resolved_run)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9, ?10, ?11, CASE WHEN ?11 IS NULL THEN NULL ELSE ?9 END)
                 ON CONFLICT (repo, id) DO UPDATE SET
                   last_seen = excluded.last_seen,
                   in_head = excluded.in_head,
                   resolved_run = CASE
                     WHEN excluded.resolved IS NULL THEN NULL
                     WHEN occurrence.resolved IS excluded.resolved THEN occurrence.resolved_run
                     ELSE excluded.last_seen END,
                   resolved = excluded.resolved",
            )?;
            for f in findings {
                let in_head = f.git.as_ref().and_then(|g| g.in_head);
                let resolved = (in_head == Some(false)).then_some("head");
                seen.execute(params![
                    repo,
                    f.id(),
                    f.fingerprint.to_string(),
                    f.rule.id,
                    f.redacted,
                    f.location.path,
                    f.location.line as i64,
                    f.git.as_ref().map(|g| g.commit.as_str()),
                    run,
                    in_head,
                    resolved
                ])?;
            }
        }
        self.conn.execute(
            "UPDATE occurrence SET resolved = 'gone', resolved_run = ?2
             WHERE repo = ?1 AND last_seen < ?2 AND resolved IS NOT 'gone'",
            params![repo, run],
        )?;
        match state {
            StateChange::Keep => {}
            StateChange::Forget => {
                self.conn
                    .execute("DELETE FROM repo_state WHERE repo = ?1", params![repo])?;
            }
            StateChange::Save {
                refs,
                commits,
                reached,
                raw,
            } => {
                let blobs: Vec<u8> = reached.iter().flat_map(|o| o.as_bytes().to_vec()).collect();
                let stored: Vec<StoredFinding> = raw.iter().map(StoredFinding::of).collect();
                self.conn.execute(
                    "INSERT OR REPLACE INTO repo_state (repo, ruleset, refs, run, commits, blobs, findings)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                    params![
                        repo,
                        ruleset,
                        refs,
                        run,
                        commits as i64,
                        blobs,
                        serde_json::to_string(&stored)?
                    ],
                )?;
            }
        }
        Ok(())
    }
}

/// What a run does to a repository's saved state (see migration 3).
pub enum StateChange<'a> {
    /// Not walked: the state it was taken from stays.
    Keep,
    /// Walked, but not completely: no state.
    Forget,
    Save {
        refs: &'a str,
        commits: u64,
        reached: &'a [git2::Oid],
        /// Findings before the repository's configuration applied.
        raw: &'a [Finding],
    },
}

impl Store {
    /// Repository `identity` as its last complete walk left it, when its refs digest is
    /// still `refs` and the rules are this run's: every blob it reached (`None` if one of
    /// them is not recalled) and its findings.
    pub fn unchanged(
        &self,
        identity: &str,
        refs: &str,
        rules: &HashMap<String, Arc<Rule>>,
    ) -> Result<Option<Unchanged>> {
        let Some(repo) = self.repo_id(identity)? else {
            return Ok(None);
        };
        let row: Option<(i64, Vec<u8>, String)> = self
            .conn
            .query_row(
                "SELECT commits, blobs, findings FROM repo_state
                 WHERE repo = ?1 AND ruleset = ?2 AND refs = ?3",
                params![repo, self.ruleset, refs],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        let Some((commits, ids, findings)) = row else {
            return Ok(None);
        };
        let stored: Vec<StoredFinding> = serde_json::from_str(&findings)?;
        let Some(findings) = stored
            .into_iter()
            .map(|f| f.finding(rules))
            .collect::<Option<Vec<Finding>>>()
        else {
            return Ok(None);
        };
        let mut known = self.recall(identity, rules, true)?;
        let mut blobs = Vec::with_capacity(ids.len() / 20);
        for id in ids.chunks(20) {
            match known.remove(&oid_of(id)?) {
                Some(b) => blobs.push(b),
                None => return Ok(None),
            }
        }
        Ok(Some(Unchanged {
            blobs,
            findings,
            commits: commits as u64,
        }))
    }
}

/// Insert a row merged from another store with `sql`, and note in the temporary table `map`
/// that the source's row `old` is now the new row's id.
fn insert_mapped(
    tx: &rusqlite::Transaction<'_>,
    sql: &str,
    values: &[&dyn rusqlite::ToSql],
    map: &str,
    old: i64,
) -> rusqlite::Result<()> {
    tx.execute(sql, values)?;
    tx.execute(
        &format!("INSERT INTO {map} VALUES (?1, ?2)"),
        params![old, tx.last_insert_rowid()],
    )?;
    Ok(())
}

fn oid_of(bytes: &[u8]) -> Result<git2::Oid> {
    git2::Oid::from_bytes(bytes).context("a blob id in the store is malformed")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_store_is_at_the_latest_version_and_reopens() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s.db");
        drop(Store::open(&p, "d").unwrap());
        let s = Store::open(&p, "d").unwrap();
        let v: i64 = s
            .conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(v, schema_version());
        assert_eq!(s.run, 2);
    }
}
