//! Sources: places credentials live, turned into chunks of bytes that carry their provenance.
//! Nothing downstream knows which source a chunk came from except through `Provenance`.

pub mod fs;
pub mod git;
pub mod log;
pub mod notebook;

use serde::Serialize;

/// Which kind of place a chunk came from (the `source` field of a finding).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceKind {
    File,
    Git,
    Notebook,
    Log,
    Stdin,
    Staged,
}

impl SourceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::File => "file",
            SourceKind::Git => "git",
            SourceKind::Notebook => "notebook",
            SourceKind::Log => "log",
            SourceKind::Stdin => "stdin",
            SourceKind::Staged => "staged",
        }
    }
}

/// Git provenance of a chunk (the commit that introduced it).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct GitProvenance {
    pub commit: String,
    pub author: String,
    pub email: String,
    /// RFC 3339.
    pub date: String,
    pub summary: String,
    /// Whether the secret is still in HEAD's tree (whole-history scans only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub in_head: Option<bool>,
    /// When HEAD no longer holds it: the last commit that still did (whole-history scans).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_commit: Option<String>,
}

/// Where a notebook chunk sits inside its notebook.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CellRef {
    /// 0-based cell index, as Jupyter shows it.
    pub cell: usize,
    pub part: CellPart,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CellPart {
    Source,
    Output,
}

/// Where a chunk came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provenance {
    pub source: SourceKind,
    /// Path relative to the scanned root, `/`-separated (`<stdin>` for stdin).
    pub path: String,
    /// 1-based line in the file of the chunk's first byte.
    pub first_line: u64,
    pub cell: Option<CellRef>,
    pub git: Option<GitProvenance>,
}

impl Provenance {
    pub fn file(source: SourceKind, path: impl Into<String>) -> Provenance {
        Provenance {
            source,
            path: path.into(),
            first_line: 1,
            cell: None,
            git: None,
        }
    }
}

/// Bytes to scan, and where they came from.
#[derive(Debug, Clone, Copy)]
pub struct Chunk<'a> {
    pub bytes: &'a [u8],
    pub provenance: &'a Provenance,
}

/// Is this buffer binary? (a NUL byte in its first 8 KiB, as git decides).
pub fn looks_binary(bytes: &[u8]) -> bool {
    memchr::memchr(0, &bytes[..bytes.len().min(8192)]).is_some()
}
