//! Reading one blob: an object id in; its size and kind, then either its whole content or a
//! reader over it, out. Large blobs are read as streams: straight from a loose object, or,
//! for a packed one (libgit2 cannot stream out of a pack), from the inflated object, which
//! the caller then scans window by window like any large file.

use std::io::{self, Read};

use git2::{Blob, ObjectType, Odb, Oid, Repository};

/// A blob held in memory, read as a stream.
struct HeldBlob<'r> {
    blob: Blob<'r>,
    pos: usize,
}

impl Read for HeldBlob<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let rest = &self.blob.content()[self.pos..];
        let n = rest.len().min(buf.len());
        buf[..n].copy_from_slice(&rest[..n]);
        self.pos += n;
        Ok(n)
    }
}

/// A reader over a blob's content.
pub fn stream<'o>(
    repo: &'o Repository,
    odb: &'o Odb<'o>,
    oid: Oid,
) -> Result<Box<dyn Read + 'o>, git2::Error> {
    if let Ok((reader, _, ObjectType::Blob)) = odb.reader(oid) {
        return Ok(Box::new(reader));
    }
    Ok(Box::new(HeldBlob {
        blob: repo.find_blob(oid)?,
        pos: 0,
    }))
}
