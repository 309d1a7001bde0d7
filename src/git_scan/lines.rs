//! Scans of added lines only: the commits of a range, or the index (the pre-commit hook).

use super::*;

/// The most commits one range scan reads (a bound on any walk, whatever the history).
const MAX_RANGE_COMMITS: usize = 10_000_000;

pub(super) fn scan_runs(
    matcher: &Matcher,
    runs: Vec<git::AddedRun>,
    source: SourceKind,
    git: Option<GitProvenance>,
    out: &mut ScanOutcome,
) {
    let mut scratch = Scratch::default();
    let mut files = HashSet::new();
    for run in runs {
        out.stats.bytes += run.text.len() as u64;
        files.insert(run.path.clone());
        let prov = Provenance {
            source,
            path: run.path.clone(),
            first_line: run.first_line,
            cell: None,
            git: git.clone(),
        };
        scan_bytes(matcher, &run.text, &prov, &mut scratch, out);
    }
    out.stats.files += files.len() as u64;
}

pub(super) fn scan_range(
    matcher: &Matcher,
    repo: &Repository,
    range: &str,
    shown: &str,
) -> anyhow::Result<ScanOutcome> {
    let mut out = ScanOutcome::default();
    let ends = git::diff::resolve_range(repo, range)?;
    let mut problems = Vec::new();
    for oid in git::range_commits(repo, ends, MAX_RANGE_COMMITS, &mut problems)? {
        let c = match repo.find_commit(oid) {
            Ok(c) => c,
            Err(e) => {
                problems.push(format!("commit {oid} cannot be read: {}", e.message()));
                continue;
            }
        };
        let runs = match git::commit_diff(repo, &c, &mut problems).and_then(|d| git::added_runs(&d))
        {
            Ok(r) => r,
            Err(e) => {
                problems.push(format!("commit {oid}: {e:#}"));
                continue;
            }
        };
        out.stats.commits += 1;
        let mut prov = git::provenance(&c);
        redact_provenance(matcher, &mut prov);
        scan_runs(matcher, runs, SourceKind::Git, Some(prov), &mut out);
    }
    for message in problems {
        out.stats.errors += 1;
        out.errors.push(crate::scan::ScanError {
            path: shown.to_string(),
            message,
        });
    }
    Ok(out)
}

pub(super) fn scan_staged(matcher: &Matcher, repo: &Repository) -> anyhow::Result<ScanOutcome> {
    let mut out = ScanOutcome::default();
    let diff = git::staged_diff(repo)?;
    let runs = git::added_runs(&diff)?;
    scan_runs(matcher, runs, SourceKind::Staged, None, &mut out);
    Ok(out)
}
