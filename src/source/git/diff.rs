//! Diffs: a commit range or the index in; the runs of lines it adds, with their line numbers
//! in the new file, out. Renames add nothing; binary files and submodules are left out.

use anyhow::{bail, Context, Result};
use git2::{Commit, Diff, DiffFindOptions, DiffOptions, Oid, Repository, Sort};

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
    .map_err(|e| anyhow::anyhow!("reading the diff: {}", e.message()))?;
    Ok(runs)
}

fn diff_options() -> DiffOptions {
    let mut o = DiffOptions::new();
    o.context_lines(0)
        .ignore_submodules(true)
        .include_untracked(false);
    o
}

fn plain(e: git2::Error) -> anyhow::Error {
    anyhow::anyhow!("{}", e.message())
}

/// What commit `c` added relative to its first parent (everything, for a root commit). A
/// first parent that cannot be read is a problem: then every line of `c` counts as added.
pub fn commit_diff<'r>(
    repo: &'r Repository,
    c: &Commit<'_>,
    problems: &mut Vec<String>,
) -> Result<Diff<'r>> {
    let new = c
        .tree()
        .map_err(plain)
        .with_context(|| format!("the tree of commit {}", c.id()))?;
    let old = match c.parent_id(0) {
        Ok(p) => match repo.find_commit(p).and_then(|p| p.tree()) {
            Ok(t) => Some(t),
            Err(e) => {
                problems.push(format!(
                    "commit {p} (first parent of {}) cannot be read ({}): every line of {} is scanned as added",
                    c.id(),
                    e.message(),
                    c.id()
                ));
                None
            }
        },
        Err(_) => None,
    };
    let mut diff = repo
        .diff_tree_to_tree(old.as_ref(), Some(&new), Some(&mut diff_options()))
        .map_err(plain)
        .with_context(|| format!("diffing commit {}", c.id()))?;
    // A renamed or moved file adds no new lines.
    diff.find_similar(Some(DiffFindOptions::new().renames(true)))
        .map_err(plain)?;
    Ok(diff)
}

/// What the index adds relative to HEAD (everything, in a repository with no commit yet).
pub fn staged_diff(repo: &Repository) -> Result<Diff<'_>> {
    if repo.is_bare() {
        bail!("--staged needs a work tree with an index, and this is a bare repository");
    }
    let head = match repo.head() {
        Ok(h) => Some(
            h.peel_to_tree()
                .map_err(plain)
                .context("reading HEAD's tree")?,
        ),
        Err(e)
            if e.code() == git2::ErrorCode::UnbornBranch
                || e.code() == git2::ErrorCode::NotFound =>
        {
            None
        }
        Err(e) => return Err(plain(e)).context("reading HEAD"),
    };
    let index = repo.index().map_err(plain).context("reading the index")?;
    let mut diff = repo
        .diff_tree_to_index(head.as_ref(), Some(&index), Some(&mut diff_options()))
        .map_err(plain)
        .context("diffing the index against HEAD")?;
    diff.find_similar(Some(DiffFindOptions::new().renames(true)))
        .map_err(plain)?;
    Ok(diff)
}

/// The two ends of `A..B` (an empty end is HEAD, as in git), each resolved to a commit. The
/// error names the revision that does not resolve, in plain words.
pub fn resolve_range(repo: &Repository, range: &str) -> Result<(Oid, Oid)> {
    let Some((a, b)) = range.split_once("..") else {
        bail!("--range `{range}`: expected A..B (two revisions)");
    };
    if b.starts_with('.') {
        bail!("--range `{range}`: A...B (symmetric difference) is not supported; use A..B");
    }
    let resolve = |rev: &str| -> Result<Oid> {
        let rev = if rev.is_empty() { "HEAD" } else { rev };
        match repo.revparse_single(rev).and_then(|o| o.peel_to_commit()) {
            Ok(c) => Ok(c.id()),
            Err(_) => {
                bail!("--range `{range}`: revision `{rev}` is not a commit in this repository")
            }
        }
    };
    Ok((resolve(a)?, resolve(b)?))
}

/// The non-merge commits of `A..B` (resolved by [`resolve_range`]), oldest first, at most
/// `limit` of them. A commit the walk cannot read ends it: what came before is returned, and
/// the problem recorded.
pub fn range_commits(
    repo: &Repository,
    (hide, push): (Oid, Oid),
    limit: usize,
    problems: &mut Vec<String>,
) -> Result<Vec<Oid>> {
    let mut walk = repo.revwalk().map_err(plain)?;
    walk.set_sorting(Sort::TOPOLOGICAL | Sort::REVERSE)
        .map_err(plain)?;
    walk.push(push).map_err(plain)?;
    walk.hide(hide).map_err(plain)?;
    let mut out = Vec::new();
    for oid in walk {
        let oid = match oid {
            Ok(o) => o,
            Err(e) => {
                problems.push(format!("walking the range: {}", e.message()));
                break;
            }
        };
        if out.len() >= limit {
            problems.push(format!(
                "the range holds more than {limit} commits: the rest is not scanned"
            ));
            break;
        }
        match repo.find_commit(oid) {
            Ok(c) if c.parent_count() <= 1 => out.push(oid),
            Ok(_) => {}
            Err(e) => problems.push(format!("commit {oid} cannot be read: {}", e.message())),
        }
    }
    Ok(out)
}
