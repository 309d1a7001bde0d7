//! Remote repositories for history scans: a URL in, a local bare mirror out (every ref and
//! every object: `git clone --mirror`), kept in a cache directory and brought up to date with
//! `git fetch --prune` on later runs. The `git` binary does the network part, so the user's
//! own setup applies: credential helpers, SSH keys and agents, `url.<base>.insteadOf`.
//!
//! A partial clone (`--filter=blob:none`) is not used: a history scan reads every blob, and
//! a blob-less clone would fetch them one batch at a time on demand (or, with no promisor
//! access, not at all) — a mirror fetches them once, packed, and a later fetch only what is new.
//!
//! The cache can be capped: mirrors the run did not use go first, least recently used first.

use std::{
    path::{Path, PathBuf},
    process::{Command, Stdio},
};

use anyhow::{bail, Context, Result};
use sha2::{Digest, Sha256};

/// The directory a repository's mirror lives in under the cache: its identity made safe as
/// one file name, and a short hash so two identities never share one.
pub fn cache_name(identity: &str) -> String {
    let safe: String = identity
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let safe = safe.trim_matches(['_', '.']);
    let short: String = safe
        .chars()
        .rev()
        .take(80)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    let h = hex::encode(&Sha256::digest(identity.as_bytes())[..4]);
    format!("{short}-{h}.git")
}

/// The default cache: `$XDG_CACHE_HOME/sprawl/clones`, else `~/.cache/sprawl/clones`.
pub fn default_cache() -> PathBuf {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(|| PathBuf::from(".cache"));
    base.join("sprawl").join("clones")
}

/// Run `git` without a terminal to prompt on; its last line of stderr on failure.
fn git(args: &[&std::ffi::OsStr], cwd: Option<&Path>) -> Result<()> {
    let mut c = Command::new("git");
    c.args(args)
        .env("GIT_TERMINAL_PROMPT", "0")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    if let Some(d) = cwd {
        c.current_dir(d);
    }
    let out = c.output().context("running git (is it installed?)")?;
    if out.status.success() {
        return Ok(());
    }
    let err = String::from_utf8_lossy(&out.stderr);
    // git's reason is its `fatal:` line (what follows it is advice).
    let reason = err
        .lines()
        .find(|l| l.starts_with("fatal:") || l.starts_with("error:"))
        .or_else(|| err.lines().rev().find(|l| !l.trim().is_empty()))
        .unwrap_or("git failed")
        .trim();
    bail!("{}", crate::repos::without_credentials(reason))
}

/// The mirror of `url` in `cache`, cloned now if it is not there yet, else fetched. A fetch
/// that fails leaves the mirror of the last run: the error says so, and the caller may
/// still scan it (`Ok((path, Some(error)))`).
pub fn mirror(url: &str, identity: &str, cache: &Path) -> Result<(PathBuf, Option<String>)> {
    std::fs::create_dir_all(cache)
        .with_context(|| format!("creating the clone cache {}", cache.display()))?;
    let dir = cache.join(cache_name(identity));
    let shown = crate::repos::without_credentials(url);
    if dir.join("HEAD").is_file() {
        touch(&dir);
        let fetched = git(
            &["fetch".as_ref(), "--prune".as_ref(), "--quiet".as_ref()],
            Some(&dir),
        );
        return Ok((
            dir,
            fetched.err().map(|e| {
                format!("fetching {shown} failed ({e:#}): scanned the mirror of an earlier run")
            }),
        ));
    }
    // Clone beside the final place and rename: a clone that fails half-way leaves nothing.
    let tmp = cache.join(format!(
        ".{}.partial-{}",
        cache_name(identity),
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&tmp);
    let cloned = git(
        &[
            "clone".as_ref(),
            "--mirror".as_ref(),
            "--quiet".as_ref(),
            url.as_ref(),
            tmp.as_os_str(),
        ],
        None,
    );
    if let Err(e) = cloned {
        let _ = std::fs::remove_dir_all(&tmp);
        bail!("cloning {shown} failed: {e:#}");
    }
    if let Err(e) = std::fs::rename(&tmp, &dir) {
        let _ = std::fs::remove_dir_all(&tmp);
        if !dir.join("HEAD").is_file() {
            return Err(e).with_context(|| format!("moving the clone of {shown} into place"));
        }
        // Another process cloned it at the same time: use theirs.
    }
    touch(&dir);
    Ok((dir, None))
}

/// Marks when a mirror was last used (its modification time).
const USED: &str = "sprawl-last-used";

/// Note that the mirror in `dir` is used now.
pub fn touch(dir: &Path) {
    let _ = std::fs::write(dir.join(USED), b"");
}

fn size_of(dir: &Path) -> u64 {
    let mut total = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            match e.file_type() {
                Ok(t) if t.is_dir() => stack.push(e.path()),
                Ok(t) if t.is_file() => total += e.metadata().map_or(0, |m| m.len()),
                _ => {}
            }
        }
    }
    total
}

/// Bring the cache under `max` bytes by deleting mirrors not in `in_use`, least recently
/// used first. What it could not free is a warning (mirrors this run uses stay).
pub fn cap(cache: &Path, max: u64, in_use: &[PathBuf]) -> Option<String> {
    let mut mirrors: Vec<(std::time::SystemTime, u64, PathBuf)> = std::fs::read_dir(cache)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir() && p.join("HEAD").is_file())
        .map(|p| {
            let used = std::fs::metadata(p.join(USED))
                .or_else(|_| std::fs::metadata(&p))
                .and_then(|m| m.modified())
                .unwrap_or(std::time::UNIX_EPOCH);
            (used, size_of(&p), p)
        })
        .collect();
    let mut total: u64 = mirrors.iter().map(|m| m.1).sum();
    mirrors.sort();
    for (_, size, p) in &mirrors {
        if total <= max {
            break;
        }
        if in_use.iter().any(|u| u == p) {
            continue;
        }
        if std::fs::remove_dir_all(p).is_ok() {
            total -= size;
        }
    }
    (total > max).then(|| {
        format!(
            "the clone cache {} holds {total} bytes, over --clone-cache-max ({max}): the \
             mirrors this run uses are kept",
            cache.display()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_names_are_one_safe_file_name() {
        let a = cache_name("github.com/org/repo");
        assert!(
            a.starts_with("github.com_org_repo-") && a.ends_with(".git"),
            "{a}"
        );
        assert_ne!(cache_name("a/b"), cache_name("a_b"));
        assert!(!cache_name("../../etc").contains('/'));
    }
}
