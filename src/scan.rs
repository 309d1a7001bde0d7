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
    finding::{findings_from_matches, redact_text, Finding},
    matcher::{Matcher, Scratch},
    progress::Progress,
    source::{
        fs::{self, FileRead, WalkOptions},
        log, looks_binary, notebook, CellRef, Chunk, Provenance, SourceKind,
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
    /// Findings already dropped by a baseline before the report (per-repository baselines).
    #[serde(skip)]
    pub baselined: u64,
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
        self.baselined += o.baselined;
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
    /// The directory every reported path is relative to, when there is one (SARIF's
    /// `%SRCROOT%`).
    pub base: Option<PathBuf>,
}

impl ScanOutcome {
    pub fn merge(&mut self, other: ScanOutcome) {
        if self.base.is_none() {
            self.base = other.base;
        }
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
    /// Files larger than this are streamed (notebooks, which cannot be, are skipped).
    pub max_file_size: u64,
    /// What a compressed file may inflate to before the rest is left unscanned.
    pub max_decompressed: u64,
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

/// Scan a stream window by window (bounded memory); returns the bytes read. Matches are
/// reported by the window that holds them whole, so each exactly once.
pub fn scan_stream<R: Read>(
    matcher: &Matcher,
    reader: R,
    provenance: &Provenance,
    scratch: &mut Scratch,
    out: &mut ScanOutcome,
) -> std::io::Result<u64> {
    scan_windows(matcher, log::Windows::new(reader), provenance, scratch, out)
}

/// `scan_stream` over windows of any size (tests and fuzzing use small ones). Columns on a
/// window's first line count from the start of that line, not of the window.
pub fn scan_windows<R: Read>(
    matcher: &Matcher,
    mut windows: log::Windows<R>,
    provenance: &Provenance,
    scratch: &mut Scratch,
    out: &mut ScanOutcome,
) -> std::io::Result<u64> {
    loop {
        let w = match windows.next_window() {
            Ok(Some(w)) => w,
            Ok(None) => break,
            Err(e) => {
                out.stats.bytes += windows.bytes;
                return Err(e);
            }
        };
        let mut matches = matcher.scan(w.bytes, scratch);
        matches.retain(|m| (w.report_from..w.report_before).contains(&m.secret.start));
        if matches.is_empty() {
            continue;
        }
        let prov = Provenance {
            first_line: w.first_line,
            ..provenance.clone()
        };
        let cf = findings_from_matches(
            matcher,
            Chunk {
                bytes: w.bytes,
                provenance: &prov,
            },
            &matches,
        );
        out.stats.allowed += cf.allowed as u64;
        out.findings.extend(cf.findings.into_iter().map(|mut f| {
            let loc = &mut f.location;
            if loc.line == w.first_line {
                loc.column += w.first_column;
            }
            if loc.end_line == w.first_line {
                loc.end_column += w.first_column;
            }
            f
        }));
    }
    out.stats.bytes += windows.bytes;
    Ok(windows.bytes)
}

/// Scan a notebook's cells; a notebook that does not parse is scanned as plain text, with a
/// warning. Lines and columns point into the `.ipynb` file; `cell_line` into the cell.
pub fn scan_notebook(
    matcher: &Matcher,
    raw: &[u8],
    base: &Provenance,
    scratch: &mut Scratch,
    out: &mut ScanOutcome,
) {
    let parts = match notebook::parts(raw) {
        Ok(p) => p,
        Err(why) => {
            eprintln!("warning: {}: {why}; scanned as plain text", base.path);
            scan_bytes(matcher, raw, base, scratch, out);
            return;
        }
    };
    // Built on the first finding: one pass over the file, then each location is a lookup.
    let mut index = None;
    for part in parts {
        let c = part.decode(raw);
        let prov = Provenance {
            cell: Some(CellRef {
                cell: c.cell,
                part: c.part,
            }),
            first_line: 1,
            ..base.clone()
        };
        let mut cell_out = ScanOutcome::default();
        scan_bytes(matcher, c.text.as_bytes(), &prov, scratch, &mut cell_out);
        out.stats.allowed += cell_out.stats.allowed;
        if cell_out.findings.is_empty() {
            continue;
        }
        let index = index.get_or_insert_with(|| notebook::LineIndex::new(raw));
        let (mut starts, mut ends) = (
            notebook::TextCursor::new(c.text.as_bytes()),
            notebook::TextCursor::new(c.text.as_bytes()),
        );
        for mut f in cell_out.findings {
            let l = &mut f.location;
            l.cell_line = Some(l.line);
            let start = c.map.file_offset(starts.offset(l.line, l.column));
            let end = c.map.file_offset(ends.offset(l.end_line, l.end_column));
            (l.line, l.column) = index.line_col(start);
            (l.end_line, l.end_column) = index.line_col(end);
            out.findings.push(f);
        }
    }
}

/// Scan the whole content of a file or blob, choosing by its name: notebooks by cell,
/// everything else as text.
pub fn scan_content(
    matcher: &Matcher,
    bytes: &[u8],
    provenance: &Provenance,
    scratch: &mut Scratch,
    out: &mut ScanOutcome,
) {
    if provenance.path.to_ascii_lowercase().ends_with(".ipynb") {
        let prov = Provenance {
            source: if provenance.source == SourceKind::File {
                SourceKind::Notebook
            } else {
                provenance.source
            },
            ..provenance.clone()
        };
        scan_notebook(matcher, bytes, &prov, scratch, out);
    } else {
        scan_bytes(matcher, bytes, provenance, scratch, out);
    }
}

/// The git work tree holding `abs` (an absolute path): the nearest ancestor with a `.git`.
fn work_tree_of(abs: &Path) -> Option<PathBuf> {
    abs.ancestors()
        .find(|a| a.join(".git").exists())
        .map(Path::to_path_buf)
}

/// The deepest directory holding every path of `abs` (absolute paths).
fn common_dir(abs: &[PathBuf]) -> Option<PathBuf> {
    let mut it = abs.iter();
    let mut common = it.next()?.clone();
    for p in it {
        while !p.starts_with(&common) {
            if !common.pop() {
                return None;
            }
        }
    }
    Some(common)
}

/// What each scanned argument's paths are reported relative to: the repository root when the
/// argument lies inside a git work tree (what code scanning expects), else the current
/// directory when it lies under it, else the deepest directory common to such outside
/// arguments. So `sprawl scan src docs` reports `src/a.env` and `docs/a.env`, and every
/// reported path names one file. Returns (argument, prefix of its paths) and the one base
/// all paths share, if they do.
pub fn report_bases(paths: &[PathBuf]) -> (Vec<(PathBuf, String)>, Option<PathBuf>) {
    let cwd = std::env::current_dir().ok();
    let cwd = cwd.and_then(|c| c.canonicalize().ok());
    let abs: Vec<Option<PathBuf>> = paths
        .iter()
        .map(|p| {
            (p.as_os_str() != "-")
                .then(|| p.canonicalize().ok())
                .flatten()
        })
        .collect();
    let mut bases: Vec<Option<PathBuf>> = abs
        .iter()
        .map(|a| {
            let a = a.as_ref()?;
            work_tree_of(a).or_else(|| cwd.clone().filter(|c| a.starts_with(c)))
        })
        .collect();
    let outside: Vec<PathBuf> = abs
        .iter()
        .zip(&bases)
        .filter_map(|(a, b)| match (a, b) {
            (Some(a), None) if a.is_dir() => Some(a.clone()),
            (Some(a), None) => a.parent().map(Path::to_path_buf),
            _ => None,
        })
        .collect();
    let common = common_dir(&outside);
    for (a, b) in abs.iter().zip(bases.iter_mut()) {
        if a.is_some() && b.is_none() {
            *b = common.clone();
        }
    }
    let shared = match bases.first() {
        Some(Some(first)) if bases.iter().all(|b| b.as_ref() == Some(first)) => Some(first.clone()),
        _ => None,
    };
    let prefixes = paths
        .iter()
        .zip(abs.iter().zip(&bases))
        .map(|(p, (a, b))| {
            let prefix = match (a, b) {
                (Some(a), Some(b)) => a
                    .strip_prefix(b)
                    .map(|r| r.to_string_lossy().replace(std::path::MAIN_SEPARATOR, "/"))
                    .unwrap_or_else(|_| a.display().to_string()),
                _ => p.display().to_string(),
            };
            (p.clone(), prefix)
        })
        .collect();
    (prefixes, shared)
}

/// `prefix` joined with `rel` by `/` (either may be empty).
fn join_shown(prefix: &str, rel: String) -> String {
    match (prefix.is_empty(), rel.is_empty()) {
        (true, _) => rel,
        (false, true) => prefix.to_string(),
        (false, false) => format!("{prefix}/{rel}"),
    }
}

/// Scan every path (directories recursively, `-` for stdin) with `matcher`.
pub fn scan_paths(matcher: &Matcher, opts: &ScanOptions, progress: &Progress) -> ScanOutcome {
    let started = Instant::now();
    let mut total = ScanOutcome::default();
    let (prefixes, base) = report_bases(&opts.paths);
    total.base = base;
    for (path, prefix) in &prefixes {
        if path.as_os_str() == "-" {
            scan_stdin(matcher, &mut total);
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
            prefix,
            max_file_size: opts.max_file_size,
            max_decompressed: opts.max_decompressed,
            shared: &shared,
            progress,
        };
        walker.visit(&mut builder);
        total.merge(shared.into_inner().unwrap_or_else(|p| p.into_inner()));
    }
    total.stats.seconds = started.elapsed().as_secs_f64();
    total
}

fn scan_stdin(matcher: &Matcher, out: &mut ScanOutcome) {
    let prov = Provenance::file(SourceKind::Stdin, "<stdin>");
    out.stats.files += 1;
    let stdin = std::io::stdin().lock();
    if let Err(e) = scan_stream(matcher, stdin, &prov, &mut Scratch::default(), out) {
        out.error("<stdin>".into(), e.to_string());
    }
}

struct VisitorBuilder<'a> {
    matcher: &'a Matcher,
    root: &'a Path,
    root_is_dir: bool,
    /// The root's own path relative to the report base (see `report_bases`).
    prefix: &'a str,
    max_file_size: u64,
    max_decompressed: u64,
    shared: &'a Mutex<ScanOutcome>,
    progress: &'a Progress,
}

impl<'s> ParallelVisitorBuilder<'s> for VisitorBuilder<'s> {
    fn build(&mut self) -> Box<dyn ParallelVisitor + 's> {
        Box::new(Visitor {
            matcher: self.matcher,
            root: self.root,
            root_is_dir: self.root_is_dir,
            prefix: self.prefix,
            max_file_size: self.max_file_size,
            max_decompressed: self.max_decompressed,
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
    prefix: &'a str,
    max_file_size: u64,
    max_decompressed: u64,
    shared: &'a Mutex<ScanOutcome>,
    progress: &'a Progress,
    local: ScanOutcome,
    scratch: Scratch,
    buf: Vec<u8>,
}

impl Visitor<'_> {
    /// The reported path of `path`: relative to the report base, with any secret in the name
    /// redacted.
    fn shown(&self, path: &Path) -> String {
        let rel = if self.root_is_dir {
            fs::display_path(self.root, true, path)
        } else {
            String::new()
        };
        redact_text(self.matcher, &join_shown(self.prefix, rel))
    }

    fn file(&mut self, path: &Path) {
        let shown = self.shown(path);
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let is_log = log::is_log_name(&name);
        let kind = if is_log {
            SourceKind::Log
        } else {
            SourceKind::File
        };
        if log::is_gzip_name(&name) {
            if log::file_is_gzip(path) {
                self.stream(path, shown, SourceKind::Log, true);
                return;
            }
            eprintln!("warning: {shown}: named .gz but not gzip; scanned as text");
        }
        let streamable = !name.to_ascii_lowercase().ends_with(".ipynb");
        match fs::read_file(path, self.max_file_size, &mut self.buf) {
            Err(e) => self.local.error(shown, e.to_string()),
            Ok(FileRead::TooLarge(_)) if streamable => self.stream(path, shown, kind, false),
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
                let prov = Provenance::file(kind, shown);
                scan_content(
                    self.matcher,
                    &self.buf,
                    &prov,
                    &mut self.scratch,
                    &mut self.local,
                );
            }
        }
    }

    /// Stream a file too large to hold, or a compressed log, in windows.
    fn stream(&mut self, path: &Path, shown: String, kind: SourceKind, gzip: bool) {
        let file = match std::fs::File::open(path) {
            Ok(f) => f,
            Err(e) => return self.local.error(shown, e.to_string()),
        };
        let prov = Provenance::file(kind, shown.clone());
        self.local.stats.files += 1;
        let before = self.local.stats.bytes;
        if gzip {
            let mut capped = log::Capped::new(
                flate2::read::MultiGzDecoder::new(std::io::BufReader::new(file)),
                self.max_decompressed,
            );
            let r = scan_stream(
                self.matcher,
                &mut capped,
                &prov,
                &mut self.scratch,
                &mut self.local,
            );
            if let Err(e) = r {
                self.local.error(
                    shown.clone(),
                    format!("gzip stream: {e} (scanned what came before)"),
                );
            }
            if capped.exceeded {
                self.local.error(
                    shown,
                    format!(
                        "decompressed size exceeds {} bytes (a gzip bomb?); the rest was not scanned",
                        self.max_decompressed
                    ),
                );
            }
        } else {
            // A large file that is binary is skipped, as a small one would be.
            let mut head = [0u8; 8192];
            let n = std::io::Read::read(&mut &file, &mut head).unwrap_or(0);
            if looks_binary(&head[..n]) {
                self.local.stats.skipped.binary += 1;
                return;
            }
            let reader = std::io::Read::chain(&head[..n], std::io::BufReader::new(&file));
            if let Err(e) = scan_stream(
                self.matcher,
                reader,
                &prov,
                &mut self.scratch,
                &mut self.local,
            ) {
                self.local.error(shown, e.to_string());
            }
        }
        self.progress.item(self.local.stats.bytes - before);
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
                    .map(|p| self.shown(&p))
                    .unwrap_or_else(|| self.root.display().to_string());
                let shown = redact_text(self.matcher, &shown);
                let message = redact_text(self.matcher, &message);
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
