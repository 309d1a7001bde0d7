//! The file-system source: roots in, a parallel walk out (files that `.sprawlignore` and
//! `--exclude` leave), and each file read into a reusable buffer with its relative path.
//! `.gitignore` is deliberately not honoured: ignored `.env` files are where keys live.

use std::{
    fs::File,
    io::{self, Read},
    path::{Path, PathBuf},
};

use anyhow::{Context, Result};
use ignore::{overrides::OverrideBuilder, WalkBuilder, WalkParallel};

/// The name of sprawl's own ignore file (gitignore syntax), honoured in every directory.
pub const IGNORE_FILE: &str = ".sprawlignore";

/// How to walk a tree.
#[derive(Debug, Clone)]
pub struct WalkOptions {
    /// Globs (gitignore syntax, relative to the root) of paths to leave out.
    pub exclude: Vec<String>,
    pub follow_symlinks: bool,
    pub threads: usize,
}

/// A parallel walker over one root. Never descends into `.git`.
pub fn walker(root: &Path, opts: &WalkOptions) -> Result<WalkParallel> {
    let mut b = WalkBuilder::new(root);
    b.hidden(false)
        .ignore(false)
        .git_ignore(false)
        .git_global(false)
        .git_exclude(false)
        .parents(true)
        .follow_links(opts.follow_symlinks)
        .threads(opts.threads)
        .add_custom_ignore_filename(IGNORE_FILE)
        .filter_entry(|e| e.file_name() != ".git");
    if !opts.exclude.is_empty() {
        let mut ob = OverrideBuilder::new(root);
        for glob in &opts.exclude {
            ob.add(&format!("!{glob}"))
                .with_context(|| format!("invalid --exclude glob `{glob}`"))?;
        }
        b.overrides(ob.build().context("building --exclude globs")?);
    }
    Ok(b.build_parallel())
}

/// What reading a file gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileRead {
    /// The buffer holds the file's text.
    Text,
    /// A NUL in the first 8 KiB: not scanned.
    Binary,
    /// Larger than the limit (its size): not scanned.
    TooLarge(u64),
}

/// Read `path` into `buf` (cleared first) unless it is larger than `max_size` or binary.
/// UTF-16 text (a byte order mark, or ASCII with a NUL in every other byte) is decoded into
/// UTF-8 in `buf`, so its keys are found at the right lines.
pub fn read_file(path: &Path, max_size: u64, buf: &mut Vec<u8>) -> io::Result<FileRead> {
    buf.clear();
    let file = File::open(path)?;
    let len = file.metadata()?.len();
    if len > max_size {
        return Ok(FileRead::TooLarge(len));
    }
    buf.reserve(usize::try_from(len).unwrap_or(0).saturating_add(1));
    // Bound the read too: a file can grow between stat and read.
    file.take(max_size.saturating_add(1)).read_to_end(buf)?;
    if buf.len() as u64 > max_size {
        return Ok(FileRead::TooLarge(buf.len() as u64));
    }
    // UTF-16 of ASCII-range text has NULs, so it first looks binary. (A text file that
    // merely starts with the bytes of a byte order mark, and has no NUL, stays as it is.)
    if super::looks_binary(buf) {
        match super::decode_utf16(buf) {
            Some(text) => *buf = text,
            None => return Ok(FileRead::Binary),
        }
    }
    Ok(FileRead::Text)
}

/// The path reported for `path` found under `root`: relative to a directory root, as given
/// for a file root; always `/`-separated.
pub fn display_path(root: &Path, root_is_dir: bool, path: &Path) -> String {
    let rel: PathBuf = if root_is_dir {
        path.strip_prefix(root).unwrap_or(path).to_path_buf()
    } else {
        path.strip_prefix("./").unwrap_or(path).to_path_buf()
    };
    let s = rel.to_string_lossy();
    if std::path::MAIN_SEPARATOR == '/' {
        s.into_owned()
    } else {
        s.replace(std::path::MAIN_SEPARATOR, "/")
    }
}

/// Split a walk error into the path it concerns (if any) and a message without the path.
pub fn walk_error_parts(err: &ignore::Error) -> (Option<PathBuf>, String) {
    match err {
        ignore::Error::WithPath { path, err } => (Some(path.clone()), walk_error_parts(err).1),
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
            walk_error_parts(err)
        }
        ignore::Error::Loop { child, ancestor } => (
            Some(child.clone()),
            format!("symlink loop back to {}", ancestor.display()),
        ),
        ignore::Error::Partial(errs) => match errs.first() {
            Some(e) => walk_error_parts(e),
            None => (None, err.to_string()),
        },
        other => (None, other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_and_size_limits() {
        let dir = tempfile::tempdir().unwrap();
        let text = dir.path().join("a.txt");
        std::fs::write(&text, b"hello\n").unwrap();
        let bin = dir.path().join("b.bin");
        std::fs::write(&bin, b"he\0llo").unwrap();
        let mut buf = Vec::new();
        assert_eq!(read_file(&text, 100, &mut buf).unwrap(), FileRead::Text);
        assert_eq!(buf, b"hello\n");
        assert_eq!(read_file(&bin, 100, &mut buf).unwrap(), FileRead::Binary);
        assert_eq!(
            read_file(&text, 3, &mut buf).unwrap(),
            FileRead::TooLarge(6)
        );
    }

    #[test]
    fn display_paths() {
        let root = Path::new("/r/x");
        assert_eq!(display_path(root, true, Path::new("/r/x/a/b.py")), "a/b.py");
        assert_eq!(
            display_path(Path::new("./f.py"), false, Path::new("./f.py")),
            "f.py"
        );
    }
}
