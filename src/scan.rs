//! The `scan` pipeline: paths (and `-` for stdin) in, findings, statistics and per-file
//! errors out. Walks in parallel, reads each file once into a per-thread buffer, runs the
//! shared matcher, and turns matches into findings. A file that cannot be read is recorded
//! and the walk goes on.

use std::{
    io::Read,
    path::{Path, PathBuf},
    sync::Mutex,
    time::Instant,
};

use ignore::{ParallelVisitor, ParallelVisitorBuilder, WalkState};
use serde::Serialize;

use crate::{
    finding::{findings_from_matches, Finding},
    matcher::{Matcher, Scratch},
    progress::Progress,
    source::{
        fs::{self, FileRead, WalkOptions},
        looks_binary, Chunk, Provenance, SourceKind,
    },
};

/// Counts that describe a run (the `stats` object of the report).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Stats {
    pub files: u64,
    pub blobs: u64,
    pub commits: u64,
    pub bytes: u64,
    pub skipped: Skipped,
    pub errors: u64,
    pub seconds: f64,
    /// Findings dropped by an inline `sprawl:allow`.
    #[serde(skip)]
    pub allowed: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Skipped {
    pub binary: u64,
    pub too_large: u64,
}

impl Stats {
    pub fn merge(&mut self, o: &Stats) {
        self.files += o.files;
        self.blobs += o.blobs;
        self.commits += o.commits;
        self.bytes += o.bytes;
        self.skipped.binary += o.skipped.binary;
        self.skipped.too_large += o.skipped.too_large;
        self.errors += o.errors;
        self.allowed += o.allowed;
    }
}

/// Something that could not be scanned, and why. Never contains a secret.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct ScanError {
    pub path: String,
    pub message: String,
}

/// What a scan produced.
#[derive(Debug, Default)]
pub struct ScanOutcome {
    pub findings: Vec<Finding>,
    pub stats: Stats,
    pub errors: Vec<ScanError>,
}

impl ScanOutcome {
    pub fn merge(&mut self, other: ScanOutcome) {
        self.findings.extend(other.findings);
        self.stats.merge(&other.stats);
        self.errors.extend(other.errors);
    }

    fn error(&mut self, path: String, message: String) {
        self.stats.errors += 1;
        self.errors.push(ScanError { path, message });
    }
}

/// Inputs of a file-system scan.
#[derive(Debug, Clone)]
pub struct ScanOptions {
    pub paths: Vec<PathBuf>,
    pub walk: WalkOptions,
    pub max_file_size: u64,
}

/// Scan one in-memory buffer (stdin, a test) as if it were a file at `provenance`.
pub fn scan_bytes(
    matcher: &Matcher,
    bytes: &[u8],
    provenance: &Provenance,
    scratch: &mut Scratch,
    out: &mut ScanOutcome,
) {
    let matches = matcher.scan(bytes, scratch);
    if matches.is_empty() {
        return;
    }
    let cf = findings_from_matches(matcher, Chunk { bytes, provenance }, &matches);
    out.stats.allowed += cf.allowed as u64;
    out.findings.extend(cf.findings);
}

/// Scan every path (directories recursively, `-` for stdin) with `matcher`.
pub fn scan_paths(matcher: &Matcher, opts: &ScanOptions, progress: &Progress) -> ScanOutcome {
    let started = Instant::now();
    let mut total = ScanOutcome::default();
    for path in &opts.paths {
        if path.as_os_str() == "-" {
            scan_stdin(matcher, opts.max_file_size, &mut total);
            continue;
        }
        let meta = match std::fs::metadata(path) {
            Ok(m) => m,
            Err(e) => {
                total.error(path.display().to_string(), e.to_string());
                continue;
            }
        };
        let walker = match fs::walker(path, &opts.walk) {
            Ok(w) => w,
            Err(e) => {
                total.error(path.display().to_string(), format!("{e:#}"));
                continue;
            }
        };
        let shared = Mutex::new(ScanOutcome::default());
        let mut builder = VisitorBuilder {
            matcher,
            root: path,
            root_is_dir: meta.is_dir(),
            max_file_size: opts.max_file_size,
            shared: &shared,
            progress,
        };
        walker.visit(&mut builder);
        total.merge(shared.into_inner().unwrap_or_else(|p| p.into_inner()));
    }
    total.stats.seconds = started.elapsed().as_secs_f64();
    total
}

fn scan_stdin(matcher: &Matcher, max: u64, out: &mut ScanOutcome) {
    let mut buf = Vec::new();
    if let Err(e) = std::io::stdin().lock().take(max + 1).read_to_end(&mut buf) {
        out.error("<stdin>".into(), e.to_string());
        return;
    }
    if buf.len() as u64 > max {
        out.stats.skipped.too_large += 1;
        out.error(
            "<stdin>".into(),
            format!("input larger than --max-file-size ({max} bytes)"),
        );
        return;
    }
    out.stats.files += 1;
    out.stats.bytes += buf.len() as u64;
    if looks_binary(&buf) {
        out.stats.skipped.binary += 1;
        return;
    }
    let prov = Provenance::file(SourceKind::Stdin, "<stdin>");
    scan_bytes(matcher, &buf, &prov, &mut Scratch::default(), out);
}

struct VisitorBuilder<'a> {
    matcher: &'a Matcher,
    root: &'a Path,
    root_is_dir: bool,
    max_file_size: u64,
    shared: &'a Mutex<ScanOutcome>,
    progress: &'a Progress,
}

impl<'s> ParallelVisitorBuilder<'s> for VisitorBuilder<'s> {
    fn build(&mut self) -> Box<dyn ParallelVisitor + 's> {
        Box::new(Visitor {
            matcher: self.matcher,
            root: self.root,
            root_is_dir: self.root_is_dir,
            max_file_size: self.max_file_size,
            shared: self.shared,
            progress: self.progress,
            local: ScanOutcome::default(),
            scratch: Scratch::default(),
            buf: Vec::new(),
        })
    }
}

/// One walker thread: accumulates locally, hands its results over when dropped.
struct Visitor<'a> {
    matcher: &'a Matcher,
    root: &'a Path,
    root_is_dir: bool,
    max_file_size: u64,
    shared: &'a Mutex<ScanOutcome>,
    progress: &'a Progress,
    local: ScanOutcome,
    scratch: Scratch,
    buf: Vec<u8>,
}

impl Visitor<'_> {
    fn file(&mut self, path: &Path) {
        let shown = fs::display_path(self.root, self.root_is_dir, path);
        match fs::read_file(path, self.max_file_size, &mut self.buf) {
            Err(e) => self.local.error(shown, e.to_string()),
            Ok(FileRead::TooLarge(_)) => self.local.stats.skipped.too_large += 1,
            Ok(FileRead::Binary) => {
                self.local.stats.files += 1;
                self.local.stats.bytes += self.buf.len() as u64;
                self.local.stats.skipped.binary += 1;
            }
            Ok(FileRead::Text) => {
                self.local.stats.files += 1;
                self.local.stats.bytes += self.buf.len() as u64;
                self.progress.item(self.buf.len() as u64);
                let prov = Provenance::file(SourceKind::File, shown);
                scan_bytes(
                    self.matcher,
                    &self.buf,
                    &prov,
                    &mut self.scratch,
                    &mut self.local,
                );
            }
        }
    }
}

impl ParallelVisitor for Visitor<'_> {
    fn visit(&mut self, entry: Result<ignore::DirEntry, ignore::Error>) -> WalkState {
        match entry {
            Ok(e) => {
                let is_file = e.file_type().is_some_and(|t| t.is_file());
                if is_file {
                    self.file(e.path());
                } else if e.path_is_symlink() && e.depth() == 0 {
                    // A symlink named on the command line: follow it once, explicitly.
                    if std::fs::metadata(e.path()).is_ok_and(|m| m.is_file()) {
                        self.file(e.path());
                    }
                }
            }
            Err(err) => {
                let (path, message) = fs::walk_error_parts(&err);
                let shown = path
                    .map(|p| fs::display_path(self.root, self.root_is_dir, &p))
                    .unwrap_or_else(|| self.root.display().to_string());
                self.local.error(shown, message);
            }
        }
        WalkState::Continue
    }
}

impl Drop for Visitor<'_> {
    fn drop(&mut self) {
        let local = std::mem::take(&mut self.local);
        let mut shared = self.shared.lock().unwrap_or_else(|p| p.into_inner());
        shared.merge(local);
    }
}
