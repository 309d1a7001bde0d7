//! Every blob of a repository's packs, read in the order that costs least: the repository's
//! pack indexes in; each wanted blob's id and content, handed to a visitor exactly once, out.
//!
//! Reading objects one by one by id (what libgit2 does) re-inflates a delta's whole chain of
//! bases for every object, so a history read that way inflates each base many times. Here
//! each pack's delta tree is walked instead, as `git index-pack` does: each base is inflated
//! once, each delta is applied once to its base's content, and the subtrees hanging off
//! different bases are resolved on different threads. A content is held only while a child
//! still needs it as its base, so the contents held at once are bounded by the threads times
//! the delta depth, whatever the pack's size.
//!
//! What this reader cannot read (an index version it does not know, a corrupt entry, a delta
//! whose base lies outside its pack, a loose object) is simply not delivered: the caller
//! reads those objects by id, and reports what cannot be read at all.

use std::{
    cell::RefCell,
    fs::File,
    io,
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
};

use anyhow::{bail, Context, Result};
use flate2::{Decompress, FlushDecompress, Status};
use git2::Oid;

use super::OidSet;

const OBJ_BLOB: u8 = 3;
const OBJ_OFS_DELTA: u8 = 6;
const OBJ_REF_DELTA: u8 = 7;
/// No entry (a base that is absent, a kind not yet known).
const NONE: u32 = u32::MAX;
/// The most a zlib stream can expand (its format's limit is about 1032:1).
const MAX_INFLATE_RATIO: u64 = 1100;

/// The `.pack` files of a repository's object directory and of its alternates, largest
/// first (each with an `.idx` beside it).
pub fn pack_files(objects: &Path) -> Vec<PathBuf> {
    let mut dirs = vec![objects.to_path_buf()];
    if let Ok(alt) = std::fs::read_to_string(objects.join("info").join("alternates")) {
        for line in alt.lines().map(str::trim) {
            if !line.is_empty() && !line.starts_with('#') {
                dirs.push(objects.join(line));
            }
        }
    }
    let mut packs: Vec<(u64, PathBuf)> = Vec::new();
    for dir in dirs {
        let Ok(rd) = std::fs::read_dir(dir.join("pack")) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.extension().is_some_and(|x| x == "pack") && p.with_extension("idx").is_file() {
                let len = e.metadata().map(|m| m.len()).unwrap_or(0);
                packs.push((len, p));
            }
        }
    }
    packs.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    packs.dedup_by(|a, b| a.1 == b.1);
    packs.into_iter().map(|(_, p)| p).collect()
}

/// What reading the packs did.
#[derive(Debug, Default)]
pub struct PackRead {
    /// Every blob handed to the visitor, each once.
    pub delivered: OidSet,
    /// Packs or entries that could not be read (their blobs were not delivered).
    pub problems: Vec<String>,
    /// The sorted ids of each pack read (every object kind).
    indexed: Vec<Vec<[u8; 20]>>,
}

impl PackRead {
    /// Whether one of the packs read holds `oid` (whether or not it was delivered).
    pub fn indexed(&self, oid: Oid) -> bool {
        let id: &[u8] = oid.as_bytes();
        self.indexed
            .iter()
            .any(|ids| ids.binary_search_by(|x| x[..].cmp(id)).is_ok())
    }
}

/// Hand every blob of `packs` for which `want` says yes to `visit`, each exactly once (a
/// blob stored in two packs is delivered from the first), on the threads of `pool`.
pub fn read_blobs(
    packs: &[PathBuf],
    pool: &rayon::ThreadPool,
    want: &(dyn Fn(Oid) -> bool + Sync),
    visit: &(dyn Fn(Oid, &[u8]) + Sync),
) -> PackRead {
    let delivered = Mutex::new(OidSet::default());
    let mut problems = Vec::new();
    let mut indexed = Vec::new();
    for path in packs {
        let pack = match Pack::open(path) {
            Ok(p) => p,
            Err(e) => {
                problems.push(format!("{}: {e:#}", path.display()));
                continue;
            }
        };
        let claim = |oid: Oid| -> bool {
            want(oid)
                && !delivered
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .contains(&oid)
        };
        let deliver = |oid: Oid, content: &[u8]| {
            let fresh = delivered
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(oid);
            if fresh {
                visit(oid, content);
            }
        };
        let failed = pack.walk(pool, &claim, &deliver);
        if failed > 0 {
            problems.push(format!(
                "{}: {failed} entries could not be resolved from the pack",
                path.display()
            ));
        }
        indexed.push(pack.oids);
    }
    PackRead {
        delivered: delivered.into_inner().unwrap_or_else(|p| p.into_inner()),
        problems,
        indexed,
    }
}

/// One pack entry, in the order of the pack.
#[derive(Clone, Copy)]
struct Entry {
    /// Where the entry starts, and where its compressed data starts.
    offset: u64,
    data: u64,
    /// The size the header declares (the object's, or the delta's).
    size: u64,
    /// Its position in the index (where its id is).
    pos: u32,
    /// The entry it is a delta against, or `NONE`.
    base: u32,
    kind: u8,
}

/// A pack opened with its index: the entries sorted by offset.
struct Pack {
    file: File,
    oids: Vec<[u8; 20]>,
    entries: Vec<Entry>,
    /// Where each entry's data ends (the next entry's start, or the trailing checksum).
    ends: Vec<u64>,
}

/// The ids and offsets of an index, in its (id) order.
fn read_index(path: &Path) -> Result<(Vec<[u8; 20]>, Vec<u64>)> {
    let b = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let be32 = |at: usize| u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]]);
    let (v2, fan) = if b.len() >= 8 && b[..4] == [0xff, b't', b'O', b'c'] {
        if be32(4) != 2 {
            bail!("index version {} is not supported", be32(4));
        }
        (true, 8)
    } else {
        (false, 0)
    };
    if b.len() < fan + 1024 {
        bail!("index is truncated");
    }
    let n = be32(fan + 255 * 4) as usize;
    let mut oids = Vec::with_capacity(n);
    let mut offsets = Vec::with_capacity(n);
    if v2 {
        let ids = fan + 1024;
        let small = ids + n * 24;
        let large = small + n * 4;
        // Hashes of another size than SHA-1's show as a size that does not add up.
        if b.len() < large + 40 {
            bail!("index is truncated or not a SHA-1 index");
        }
        let n_large = (b.len() - large - 40) / 8;
        if b.len() != large + n_large * 8 + 40 {
            bail!("index size does not add up (not a SHA-1 index?)");
        }
        for i in 0..n {
            let at = ids + i * 20;
            oids.push(b[at..at + 20].try_into().expect("20 bytes"));
            let o = be32(small + i * 4);
            if o & 0x8000_0000 == 0 {
                offsets.push(o as u64);
            } else {
                let k = (o & 0x7fff_ffff) as usize;
                if k >= n_large {
                    bail!("index entry {i} points past the large offsets");
                }
                let at = large + k * 8;
                offsets.push(u64::from_be_bytes(b[at..at + 8].try_into().expect("8")));
            }
        }
    } else {
        if b.len() != 1024 + n * 24 + 40 {
            bail!("index size does not add up");
        }
        for i in 0..n {
            let at = 1024 + i * 24;
            offsets.push(be32(at) as u64);
            oids.push(b[at + 4..at + 24].try_into().expect("20 bytes"));
        }
    }
    if oids.windows(2).any(|w| w[0] >= w[1]) {
        bail!("index ids are not sorted and unique");
    }
    Ok((oids, offsets))
}

/// Read exactly `buf.len()` bytes at `offset`.
fn read_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<()> {
    #[cfg(unix)]
    {
        std::os::unix::fs::FileExt::read_exact_at(file, buf, offset)
    }
    #[cfg(not(unix))]
    {
        use std::io::{Read, Seek};
        let mut f = file;
        f.seek(io::SeekFrom::Start(offset))?;
        f.read_exact(buf)
    }
}

/// Sequential reads of a file in large blocks (for the pass over every entry's header).
struct Blocks<'f> {
    file: &'f File,
    len: u64,
    buf: Vec<u8>,
    start: u64,
}

impl Blocks<'_> {
    const BLOCK: usize = 4 << 20;

    /// Up to `want` bytes at `offset` (fewer at the end of the file).
    fn at(&mut self, offset: u64, want: usize) -> io::Result<&[u8]> {
        let end = (offset + want as u64).min(self.len);
        if offset < self.start || end > self.start + self.buf.len() as u64 {
            let n = (self.len - offset).min(Self::BLOCK.max(want) as u64) as usize;
            self.buf.resize(n, 0);
            read_at(self.file, &mut self.buf, offset)?;
            self.start = offset;
        }
        let from = (offset - self.start) as usize;
        Ok(&self.buf[from..from + (end - offset) as usize])
    }
}

/// An entry's header: kind, declared size, the base (a negative offset or an id) and the
/// header's length.
enum Base {
    None,
    Offset(u64),
    Id([u8; 20]),
}

fn parse_header(h: &[u8]) -> Option<(u8, u64, Base, usize)> {
    let mut p = 0;
    let mut c = *h.get(p)?;
    p += 1;
    let kind = (c >> 4) & 7;
    let mut size = (c & 15) as u64;
    let mut shift = 4;
    while c & 0x80 != 0 {
        c = *h.get(p)?;
        p += 1;
        if shift > 57 {
            return None;
        }
        size |= ((c & 0x7f) as u64) << shift;
        shift += 7;
    }
    let base = match kind {
        OBJ_OFS_DELTA => {
            let mut c = *h.get(p)?;
            p += 1;
            let mut ofs = (c & 0x7f) as u64;
            while c & 0x80 != 0 {
                c = *h.get(p)?;
                p += 1;
                ofs = ofs.checked_add(1)?.checked_mul(128)? | (c & 0x7f) as u64;
            }
            Base::Offset(ofs)
        }
        OBJ_REF_DELTA => {
            let id: [u8; 20] = h.get(p..p + 20)?.try_into().ok()?;
            p += 20;
            Base::Id(id)
        }
        1..=4 => Base::None,
        _ => return None,
    };
    Some((kind, size, base, p))
}

thread_local! {
    /// Each thread's inflater and buffer for compressed bytes.
    static INFLATE: RefCell<(Decompress, Vec<u8>)> = RefCell::new((Decompress::new(true), Vec::new()));
}

impl Pack {
    fn open(path: &Path) -> Result<Pack> {
        let (oids, offsets) = read_index(&path.with_extension("idx"))?;
        let file = File::open(path).with_context(|| format!("opening {}", path.display()))?;
        let len = file.metadata()?.len();
        let mut head = [0u8; 12];
        read_at(&file, &mut head, 0).context("reading the pack header")?;
        let count = u32::from_be_bytes(head[8..12].try_into().expect("4")) as usize;
        if &head[..4] != b"PACK" || count != oids.len() || len < 32 {
            bail!("the pack does not match its index");
        }
        let mut order: Vec<u32> = (0..oids.len() as u32).collect();
        order.sort_unstable_by_key(|&i| offsets[i as usize]);
        let sorted: Vec<u64> = order.iter().map(|&i| offsets[i as usize]).collect();
        if sorted.windows(2).any(|w| w[0] == w[1]) || sorted.first().is_some_and(|&o| o < 12) {
            bail!("index offsets are not distinct pack positions");
        }
        let data_end = len - 20;
        if sorted.last().is_some_and(|&o| o >= data_end) {
            bail!("an index offset lies past the pack's data");
        }
        // Where each index position sits in pack order (for bases named by id).
        let mut at_pos = vec![0u32; oids.len()];
        for (e, &pos) in order.iter().enumerate() {
            at_pos[pos as usize] = e as u32;
        }
        let mut blocks = Blocks {
            file: &file,
            len,
            buf: Vec::new(),
            start: 0,
        };
        let mut entries = Vec::with_capacity(oids.len());
        for (e, (&pos, &offset)) in order.iter().zip(&sorted).enumerate() {
            let h = blocks.at(offset, 32).context("reading the pack")?;
            let Some((kind, size, base, hlen)) = parse_header(h) else {
                bail!("entry at offset {offset} has a corrupt header");
            };
            let base = match base {
                Base::None => NONE,
                Base::Offset(d) => match offset.checked_sub(d) {
                    Some(b) => match sorted[..e].binary_search(&b) {
                        Ok(i) => i as u32,
                        Err(_) => NONE,
                    },
                    None => NONE,
                },
                Base::Id(id) => match oids.binary_search(&id) {
                    Ok(p) => at_pos[p],
                    Err(_) => NONE,
                },
            };
            entries.push(Entry {
                offset,
                data: offset + hlen as u64,
                size,
                pos,
                base,
                kind,
            });
        }
        let mut ends: Vec<u64> = sorted[1..].to_vec();
        ends.push(data_end);
        Ok(Pack {
            file,
            oids,
            entries,
            ends,
        })
    }

    fn oid(&self, e: u32) -> Oid {
        let pos = self.entries[e as usize].pos as usize;
        Oid::from_bytes(&self.oids[pos]).expect("20 bytes")
    }

    /// The kind of object each entry holds once its delta chain is resolved (`BROKEN` when
    /// the chain ends outside the pack or loops).
    fn root_kinds(&self) -> Vec<u8> {
        const UNKNOWN: u8 = 0xff;
        const BROKEN: u8 = 0xfe;
        let n = self.entries.len();
        let mut kinds = vec![UNKNOWN; n];
        let mut chain = Vec::new();
        for i in 0..n {
            let mut j = i as u32;
            chain.clear();
            let kind = loop {
                let e = &self.entries[j as usize];
                if kinds[j as usize] != UNKNOWN {
                    break kinds[j as usize];
                }
                if e.kind != OBJ_OFS_DELTA && e.kind != OBJ_REF_DELTA {
                    kinds[j as usize] = e.kind;
                    break e.kind;
                }
                chain.push(j);
                if e.base == NONE || chain.len() > n {
                    break BROKEN;
                }
                j = e.base;
            };
            for &c in &chain {
                kinds[c as usize] = kind;
            }
        }
        kinds
    }

    /// Inflate entry `e`'s data (an object's content, or a delta).
    fn inflate(&self, e: u32) -> Result<Vec<u8>> {
        let entry = &self.entries[e as usize];
        let end = self.ends[e as usize];
        if entry.data > end {
            bail!("entry at offset {} overlaps the next", entry.offset);
        }
        let clen = end - entry.data;
        if entry.size > clen.saturating_mul(MAX_INFLATE_RATIO) + 64 {
            bail!(
                "entry at offset {} declares an impossible size",
                entry.offset
            );
        }
        INFLATE.with(|cell| {
            let (dec, comp) = &mut *cell.borrow_mut();
            comp.resize(clen as usize, 0);
            read_at(&self.file, comp, entry.data)?;
            dec.reset(true);
            let mut out = Vec::with_capacity(entry.size as usize);
            let status = dec.decompress_vec(comp, &mut out, FlushDecompress::Finish)?;
            if out.len() as u64 != entry.size || status != Status::StreamEnd {
                bail!(
                    "entry at offset {} does not inflate to its size",
                    entry.offset
                );
            }
            Ok(out)
        })
    }

    /// Resolve every wanted blob of the pack along its delta tree, handing each to
    /// `deliver`; the number of needed entries that could not be resolved.
    fn walk(
        &self,
        pool: &rayon::ThreadPool,
        want: &(dyn Fn(Oid) -> bool + Sync),
        deliver: &(dyn Fn(Oid, &[u8]) + Sync),
    ) -> usize {
        let n = self.entries.len();
        let kinds = self.root_kinds();
        // An entry is needed when it is a wanted blob or the base of a needed one.
        let mut needed = vec![false; n];
        let mut wanted = vec![false; n];
        for i in 0..n {
            if kinds[i] != OBJ_BLOB || !want(self.oid(i as u32)) {
                continue;
            }
            wanted[i] = true;
            let mut j = i as u32;
            while j != NONE && !needed[j as usize] {
                needed[j as usize] = true;
                j = self.entries[j as usize].base;
            }
        }
        // Children of each needed entry, as one flat list (`first[i]..first[i + 1]`).
        let mut first = vec![0u32; n + 1];
        for (i, e) in self.entries.iter().enumerate() {
            if needed[i] && e.base != NONE {
                first[e.base as usize + 1] += 1;
            }
        }
        for i in 0..n {
            first[i + 1] += first[i];
        }
        let mut fill = first.clone();
        let mut kids = vec![0u32; first[n] as usize];
        for (i, e) in self.entries.iter().enumerate() {
            if needed[i] && e.base != NONE {
                let b = e.base as usize;
                kids[fill[b] as usize] = i as u32;
                fill[b] += 1;
            }
        }
        drop(fill);
        let roots: Vec<u32> = (0..n as u32)
            .filter(|&i| needed[i as usize] && self.entries[i as usize].kind == OBJ_BLOB)
            .collect();
        let ctx = Walker {
            pack: self,
            wanted: &wanted,
            first: &first,
            kids: &kids,
            deliver,
            resolved: std::sync::atomic::AtomicUsize::new(0),
        };
        pool.install(|| {
            rayon::scope(|s| {
                for &r in &roots {
                    let ctx = &ctx;
                    s.spawn(move |s| {
                        if let Ok(content) = ctx.pack.inflate(r) {
                            ctx.resolved(s, r, Arc::new(content));
                        }
                    });
                }
            })
        });
        let total = needed.iter().filter(|&&x| x).count();
        total - ctx.resolved.into_inner()
    }
}

/// What the threads resolving one pack's delta tree share.
struct Walker<'a> {
    pack: &'a Pack,
    wanted: &'a [bool],
    first: &'a [u32],
    kids: &'a [u32],
    deliver: &'a (dyn Fn(Oid, &[u8]) + Sync),
    resolved: std::sync::atomic::AtomicUsize,
}

impl<'a> Walker<'a> {
    /// Entry `e`'s content is known: deliver it if wanted, then resolve its children, each
    /// holding the content only until it has applied its delta to it.
    fn resolved<'s>(&'s self, s: &rayon::Scope<'s>, e: u32, content: Arc<Vec<u8>>) {
        self.resolved
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if self.wanted[e as usize] {
            (self.deliver)(self.pack.oid(e), &content);
        }
        let kids = &self.kids[self.first[e as usize] as usize..self.first[e as usize + 1] as usize];
        for &k in kids {
            let base = Arc::clone(&content);
            s.spawn(move |s| {
                let child = self
                    .pack
                    .inflate(k)
                    .ok()
                    .and_then(|delta| apply_delta(&base, &delta));
                drop(base);
                if let Some(c) = child {
                    self.resolved(s, k, Arc::new(c));
                }
            });
        }
    }
}

/// A little-endian base-128 number of a delta's header, and where it ends.
fn delta_size(d: &[u8], mut p: usize) -> Option<(u64, usize)> {
    let mut v = 0u64;
    let mut shift = 0;
    loop {
        let c = *d.get(p)?;
        p += 1;
        if shift > 63 {
            return None;
        }
        v |= ((c & 0x7f) as u64) << shift;
        shift += 7;
        if c & 0x80 == 0 {
            return Some((v, p));
        }
    }
}

/// Apply a git delta to its base: `None` when the delta does not fit the base.
pub fn apply_delta(base: &[u8], delta: &[u8]) -> Option<Vec<u8>> {
    let (src, p) = delta_size(delta, 0)?;
    if src != base.len() as u64 {
        return None;
    }
    let (dst, mut p) = delta_size(delta, p)?;
    // One copy instruction can yield 16 MiB: what is reserved up front is bounded by what
    // the delta and its base can plausibly make, and the output never grows past `dst`.
    let plausible = (base.len() as u64 + delta.len() as u64).saturating_mul(4);
    let mut out = Vec::with_capacity(dst.min(plausible) as usize);
    while p < delta.len() {
        let op = delta[p];
        p += 1;
        if op & 0x80 != 0 {
            let mut off = 0usize;
            let mut size = 0usize;
            for bit in 0..4 {
                if op & (1 << bit) != 0 {
                    off |= (*delta.get(p)? as usize) << (8 * bit);
                    p += 1;
                }
            }
            for bit in 0..3 {
                if op & (0x10 << bit) != 0 {
                    size |= (*delta.get(p)? as usize) << (8 * bit);
                    p += 1;
                }
            }
            if size == 0 {
                size = 0x10000;
            }
            out.extend_from_slice(base.get(off..off.checked_add(size)?)?);
        } else if op != 0 {
            let n = op as usize;
            out.extend_from_slice(delta.get(p..p + n)?);
            p += n;
        } else {
            return None;
        }
        if out.len() as u64 > dst {
            return None;
        }
    }
    (out.len() as u64 == dst).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_delta_copies_and_inserts_and_a_bad_one_is_refused() {
        let base = b"hello, world";
        // src 12, dst 11: copy 7 bytes from 0 ("hello, "), insert "moon"
        let delta = [
            12u8,
            11,
            0x80 | 0x01 | 0x10,
            0,
            7,
            4,
            b'm',
            b'o',
            b'o',
            b'n',
        ];
        assert_eq!(
            apply_delta(base, &delta).as_deref(),
            Some(&b"hello, moon"[..])
        );
        // Wrong base size, copy out of bounds, reserved opcode 0.
        assert_eq!(apply_delta(b"short", &delta), None);
        let oob = [12u8, 20, 0x80 | 0x01 | 0x10, 5, 20];
        assert_eq!(apply_delta(base, &oob), None);
        assert_eq!(apply_delta(base, &[12u8, 1, 0]), None);
    }

    #[test]
    fn one_short_copy_instruction_yields_64_kib() {
        let base: Vec<u8> = (0..0x20000u32).map(|i| (i % 251) as u8).collect();
        // src and dst 0x20000 (three varint bytes each); copy 0x10000 from 0 (no size
        // bytes: 0 means 0x10000), then 0x10000 from 0x10000 (one offset byte).
        let delta = [0x80, 0x80, 0x08, 0x80, 0x80, 0x08, 0x80, 0x84, 0x01];
        assert_eq!(apply_delta(&base, &delta).as_deref(), Some(&base[..]));
    }

    #[test]
    fn headers_decode_sizes_and_negative_offsets() {
        // blob of size 0x1234: 0xb4 (more, kind 3, low 4), 0x23 ...
        let (kind, size, base, len) = parse_header(&[0x80 | 0x34, 0x23 | 0x80, 0x01]).unwrap();
        assert_eq!((kind, len), (3, 3));
        assert_eq!(size, 0x4 | (0x23 << 4) | (0x01 << 11));
        assert!(matches!(base, Base::None));
        // ofs-delta with offset encoding 0x81 0x00 = (1 + 1) * 128 + 0 = 256
        let (kind, _, base, len) = parse_header(&[0x65, 0x81, 0x00]).unwrap();
        assert_eq!((kind, len), (6, 3));
        assert!(matches!(base, Base::Offset(256)));
        assert!(parse_header(&[0x85]).is_none());
        assert!(parse_header(&[0x55]).is_none());
    }
}
