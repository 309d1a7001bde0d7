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

/// The text of a UTF-16 buffer as UTF-8, or `None` when it is not UTF-16: a byte order
/// mark, or (without one) the pattern ASCII text makes, a NUL in every other byte of the
/// first 8 KiB. Lines stay lines, so line numbers in the decoded text are the file's.
pub fn decode_utf16(bytes: &[u8]) -> Option<Vec<u8>> {
    let (little, body) = match bytes {
        [0xFF, 0xFE, rest @ ..] => (true, rest),
        [0xFE, 0xFF, rest @ ..] => (false, rest),
        _ => {
            let head = &bytes[..bytes.len().min(8192) & !1];
            let pairs = head.len() / 2;
            if pairs < 2 {
                return None;
            }
            let ascii = |lo: u8, hi: u8| hi == 0 && lo != 0 && lo < 0x80;
            let le = head.chunks(2).filter(|p| ascii(p[0], p[1])).count();
            let be = head.chunks(2).filter(|p| ascii(p[1], p[0])).count();
            // Nearly all ASCII: a few non-ASCII characters are fine, binary is not.
            match (le * 10 >= pairs * 9, be * 10 >= pairs * 9) {
                (true, _) => (true, bytes),
                (_, true) => (false, bytes),
                _ => return None,
            }
        }
    };
    let units = body.chunks_exact(2).map(|p| {
        if little {
            u16::from_le_bytes([p[0], p[1]])
        } else {
            u16::from_be_bytes([p[0], p[1]])
        }
    });
    let text: String = char::decode_utf16(units)
        .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect();
    // UTF-16 that still holds NULs once decoded is binary after all.
    (!looks_binary(text.as_bytes())).then(|| text.into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf16(text: &str, little: bool, bom: bool) -> Vec<u8> {
        let mut out = Vec::new();
        if bom {
            out.extend_from_slice(if little { &[0xFF, 0xFE] } else { &[0xFE, 0xFF] });
        }
        for u in text.encode_utf16() {
            out.extend_from_slice(&if little {
                u.to_le_bytes()
            } else {
                u.to_be_bytes()
            });
        }
        out
    }

    #[test]
    fn utf16_with_and_without_bom() {
        let text = "line one\nkey = \"é\"\n";
        for (little, bom) in [(true, true), (false, true), (true, false), (false, false)] {
            let bytes = utf16(text, little, bom);
            assert!(looks_binary(&bytes) || bom);
            assert_eq!(
                decode_utf16(&bytes).unwrap(),
                text.as_bytes(),
                "{little} {bom}"
            );
        }
    }

    #[test]
    fn binary_is_not_utf16() {
        assert_eq!(
            decode_utf16(b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x03\0"),
            None
        );
        assert_eq!(decode_utf16(b"a\0"), None);
        assert_eq!(decode_utf16(&[0xFF, 0xFE, 0, 0, 0, 0]), None);
    }
}
