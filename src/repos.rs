//! Repository lists for org-wide runs: the lines of a `--repos-from` file (or the clones in a
//! directory) in; for each repository its identity (what a shard hashes and the store keys
//! on), its label (what findings carry) and where it is (a path, or a URL to mirror) out.
//! And sharding: a repository's shard is a hash of its identity, so a list that grows moves
//! no repository but the new ones.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use sha2::{Digest, Sha256};

/// Where a listed repository is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    Path(PathBuf),
    /// A remote URL, as written (credentials, if any, stay in it for `git` alone).
    Url(String),
}

/// One repository of a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedRepo {
    /// Stable across machines and runs: a URL without scheme, user or `.git`
    /// (`github.com/org/repo`), or a path as written.
    pub identity: String,
    /// What findings carry: the identity of a URL, the directory name of a path.
    pub label: String,
    pub place: Place,
}

/// Does this line name a remote (`scheme://…` or scp-like `user@host:path`)?
pub fn is_url(s: &str) -> bool {
    if s.contains("://") {
        return true;
    }
    // `git@github.com:org/repo.git`; not a Windows drive (`C:\…`) nor a path with a colon
    // after a slash.
    match s.split_once(':') {
        Some((host, _)) => host.contains('@') && !host.contains('/'),
        None => false,
    }
}

/// A URL with any `user:password@` removed, for labels and messages.
pub fn without_credentials(url: &str) -> String {
    if let Some((scheme, rest)) = url.split_once("://") {
        let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        return format!("{scheme}://{host}{path}");
    }
    url.to_string()
}

/// The identity of a URL: host and path, lower-case host, no scheme, user, port-less
/// `.git` or trailing `/` (the https and ssh forms of one repository are one identity).
fn url_identity(url: &str) -> String {
    let (host, path) = match url.split_once("://") {
        Some((_, rest)) => {
            let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
            let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
            (host.to_ascii_lowercase(), path.to_string())
        }
        None => {
            let (user_host, path) = url.split_once(':').unwrap_or((url, ""));
            let host = user_host.rsplit_once('@').map_or(user_host, |(_, h)| h);
            (host.to_ascii_lowercase(), format!("/{path}"))
        }
    };
    let path = path.trim_end_matches('/');
    let path = path.strip_suffix(".git").unwrap_or(path);
    format!("{host}{path}")
}

/// The label of a path: its directory name, without `.git`.
fn path_label(p: &str) -> String {
    let trimmed = p.trim_end_matches('/');
    let name = Path::new(trimmed)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| trimmed.to_string());
    match name.strip_suffix(".git") {
        Some(s) if !s.is_empty() => s.to_string(),
        _ => name,
    }
}

/// One repository from a list line (already trimmed, not a comment); relative paths are
/// relative to `base`.
pub fn listed(line: &str, base: &Path) -> ListedRepo {
    if is_url(line) {
        let identity = url_identity(line);
        ListedRepo {
            label: identity.clone(),
            identity,
            place: Place::Url(line.to_string()),
        }
    } else {
        let written = line.trim_end_matches('/');
        let written = if written.is_empty() { "/" } else { written };
        let place = base.join(written);
        let mut label = path_label(written);
        if matches!(label.as_str(), "." | ".." | "" | "/") {
            // `.` and `..` name a directory only once resolved.
            if let Some(n) = place
                .canonicalize()
                .ok()
                .as_deref()
                .and_then(Path::file_name)
            {
                label = path_label(&n.to_string_lossy());
            }
        }
        ListedRepo {
            identity: written.to_string(),
            label,
            place: Place::Path(place),
        }
    }
}

/// The repositories a list file names (one a line, `#` comments, blank lines ignored), or
/// the repositories in a directory (each subdirectory that is a work tree or a bare
/// repository), in order, each once.
pub fn read_list(path: &Path) -> Result<Vec<ListedRepo>> {
    let mut out: Vec<ListedRepo> = Vec::new();
    if path.is_dir() {
        let mut dirs: Vec<PathBuf> = std::fs::read_dir(path)
            .with_context(|| format!("reading the directory of clones {}", path.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.join(".git").exists() || p.join("HEAD").is_file())
            .collect();
        dirs.sort();
        for d in dirs {
            let name = d
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            out.push(ListedRepo {
                identity: d.display().to_string(),
                label: path_label(&name),
                place: Place::Path(d),
            });
        }
        return Ok(out);
    }
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading the repository list {}", path.display()))?;
    let base = path.parent().unwrap_or(Path::new(""));
    for raw in text.lines() {
        let line = raw.split_once(" #").map_or(raw, |(l, _)| l).trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let r = listed(line, base);
        if !out.iter().any(|o| o.identity == r.identity) {
            out.push(r);
        }
    }
    Ok(out)
}

/// Shard `index` of `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: u64,
    pub count: u64,
}

impl Shard {
    /// Parse `K/N` (0 ≤ K < N).
    pub fn parse(s: &str) -> Result<Shard> {
        let (k, n) = s
            .split_once('/')
            .with_context(|| format!("--shard `{s}` is not K/N (e.g. 0/4)"))?;
        let index: u64 = k
            .trim()
            .parse()
            .with_context(|| format!("--shard `{s}`: K is not a number"))?;
        let count: u64 = n
            .trim()
            .parse()
            .with_context(|| format!("--shard `{s}`: N is not a number"))?;
        Shard::new(index, count)
    }

    pub fn new(index: u64, count: u64) -> Result<Shard> {
        if count == 0 {
            bail!("the number of shards must be at least 1");
        }
        if index >= count {
            bail!(
                "shard {index} of {count} does not exist: shards are numbered 0 to {}",
                count - 1
            );
        }
        Ok(Shard { index, count })
    }

    /// Whether the repository of `identity` belongs to this shard.
    pub fn holds(&self, identity: &str) -> bool {
        shard_of(identity, self.count) == self.index
    }
}

/// The shard (0-based, of `count`) of a repository: a SHA-256 of its identity, so it depends
/// on nothing else in the list.
pub fn shard_of(identity: &str, count: u64) -> u64 {
    let h = Sha256::digest(identity.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&h[..8]);
    u64::from_be_bytes(first) % count.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_paths() {
        assert!(is_url("https://github.com/org/repo.git"));
        assert!(is_url("git@github.com:org/repo.git"));
        assert!(is_url("file:///srv/repo.git"));
        assert!(!is_url("/srv/repos/a"));
        assert!(!is_url("repos/a:b"));
        let a = listed("https://user:tok@GitHub.com/org/repo.git/", Path::new(""));
        let b = listed("git@github.com:org/repo.git", Path::new(""));
        assert_eq!(a.identity, "github.com/org/repo");
        assert_eq!(a.identity, b.identity);
        assert_eq!(
            without_credentials("https://user:tok@github.com/org/repo"),
            "https://github.com/org/repo"
        );
        let p = listed("clones/api.git/", Path::new("/lists"));
        assert_eq!(
            (p.identity.as_str(), p.label.as_str()),
            ("clones/api.git", "api")
        );
        assert_eq!(p.place, Place::Path(PathBuf::from("/lists/clones/api.git")));
    }

    #[test]
    fn shards_split_every_identity_once() {
        let ids: Vec<String> = (0..200).map(|i| format!("github.com/org/r{i}")).collect();
        let mut counts = [0; 4];
        for id in &ids {
            let holders: Vec<u64> = (0..4)
                .filter(|&k| Shard::new(k, 4).unwrap().holds(id))
                .collect();
            assert_eq!(holders.len(), 1);
            counts[holders[0] as usize] += 1;
        }
        assert!(counts.iter().all(|&c| c > 20), "{counts:?}");
        assert!(Shard::parse("4/4").is_err());
        assert_eq!(Shard::parse("1/4").unwrap(), Shard { index: 1, count: 4 });
    }
}
