//! Streams: a reader in (a log file, a `.gz` log, standard input, any text too large to
//! hold), overlapping windows out, so memory stays bounded whatever the size. Each window
//! says which of its bytes it reports: a match starting after `report_before` is reported by
//! the next window, which holds it whole, so a secret on a boundary is found exactly once.
//! A window also starts with up to `LOOKBEHIND` bytes it does not report (the bytes before
//! its cut), so a rule that looks for a keyword or a key id before the secret still sees it,
//! and it says at which column of its line it starts, so columns count from the line start.

use std::io::{self, Read};

/// Bytes read per window (before the carried overlap).
pub const WINDOW: usize = 8 << 20;
/// Bytes carried from one window into the next: at least half of it, and never less than
/// the longest match a rule can make (PGP blocks: 60,000 bytes).
pub const OVERLAP: usize = 256 << 10;
/// Bytes before a cut carried as context only: more than the matcher looks back from a
/// keyword (1 KiB on a line, 2 KiB for multi-line rules).
pub const LOOKBEHIND: usize = 4 << 10;

/// Default cap on the bytes a compressed file may inflate to.
pub const MAX_DECOMPRESSED: u64 = 16 << 30;

/// Is this path a log to stream (`.log`, rotated `.log.1`…, `.gz`)?
pub fn is_log_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    if lower.ends_with(".gz") || lower.ends_with(".log") {
        return true;
    }
    // app.log.1, app.log.2023-01-01
    lower.rsplit_once(".log.").is_some_and(|(_, tail)| {
        !tail.is_empty() && tail.bytes().all(|b| b.is_ascii_digit() || b == b'-')
    })
}

pub fn is_gzip_name(name: &str) -> bool {
    name.to_ascii_lowercase().ends_with(".gz")
}

/// Does the file at `path` start like gzip? (A file that cannot be read counts as gzip, so
/// the gzip reader reports why.)
pub fn file_is_gzip(path: &std::path::Path) -> bool {
    let mut head = [0u8; 2];
    match std::fs::File::open(path).and_then(|mut f| f.read_exact(&mut head)) {
        Ok(()) => has_gzip_magic(&head),
        Err(e) => e.kind() != io::ErrorKind::UnexpectedEof,
    }
}

/// Do these first bytes start a gzip member (magic `1f 8b`)?
pub fn has_gzip_magic(head: &[u8]) -> bool {
    head.starts_with(&[0x1f, 0x8b])
}

/// Characters in a byte slice (UTF-8 continuation bytes are not counted).
fn char_count(bytes: &[u8]) -> u64 {
    bytes.iter().filter(|&&b| (b & 0xC0) != 0x80).count() as u64
}

/// One window of a stream.
pub struct Window<'a> {
    pub bytes: &'a [u8],
    /// 1-based line number of `bytes[0]`.
    pub first_line: u64,
    /// Characters between the start of its line and `bytes[0]` (0 at a line start): add
    /// it to the column of a match on the window's first line.
    pub first_column: u64,
    /// Report only matches whose secret starts at or after this offset (the bytes before it
    /// were reported by the previous window and are here as context).
    pub report_from: usize,
    /// Report only matches whose secret starts before this offset.
    pub report_before: usize,
}

/// Overlapping windows over a reader.
pub struct Windows<R> {
    reader: R,
    buf: Vec<u8>,
    window: usize,
    overlap: usize,
    lookbehind: usize,
    first_line: u64,
    first_column: u64,
    /// Bytes at the start of `buf` already reported (context for the next match).
    context: usize,
    pending_cut: Option<usize>,
    eof: bool,
    started: bool,
    /// A read error met after some bytes, returned once those were handed out.
    deferred: Option<io::Error>,
    /// Total bytes read.
    pub bytes: u64,
}

impl<R: Read> Windows<R> {
    pub fn new(reader: R) -> Self {
        Self::with_sizes(reader, WINDOW, OVERLAP)
    }

    pub fn with_sizes(reader: R, window: usize, overlap: usize) -> Self {
        Self::with_lookbehind(reader, window, overlap, LOOKBEHIND)
    }

    /// Windows of `window` reported bytes, `overlap` bytes carried whole into the next one,
    /// and up to `lookbehind` bytes before each cut carried as context.
    pub fn with_lookbehind(reader: R, window: usize, overlap: usize, lookbehind: usize) -> Self {
        Windows {
            reader,
            buf: Vec::with_capacity(window + overlap + lookbehind),
            window: window.max(1),
            overlap: overlap.max(2),
            lookbehind,
            first_line: 1,
            first_column: 0,
            context: 0,
            pending_cut: None,
            eof: false,
            started: false,
            deferred: None,
            bytes: 0,
        }
    }

    /// The next window, or `None` at the end. A read error ends the stream with that error;
    /// everything before it has been handed out.
    pub fn next_window(&mut self) -> io::Result<Option<Window<'_>>> {
        if let Some(cut) = self.pending_cut.take() {
            // Keep `lookbehind` bytes before the cut as context (multi-line rules look
            // back across lines, so a cut at a line start keeps them too).
            let drop = cut - cut.min(self.lookbehind);
            let gone = &self.buf[..drop];
            self.first_line += memchr::memchr_iter(b'\n', gone).count() as u64;
            self.first_column = match memchr::memrchr(b'\n', gone) {
                Some(p) => char_count(&gone[p + 1..]),
                None => self.first_column + char_count(gone),
            };
            self.buf.drain(..drop);
            self.context = cut - drop;
        }
        let target = self.context + self.window + self.overlap;
        while !self.eof && self.buf.len() < target {
            let start = self.buf.len();
            let want = (target - start).min(1 << 20);
            self.buf.resize(start + want, 0);
            match self.reader.read(&mut self.buf[start..]) {
                Ok(0) => {
                    self.buf.truncate(start);
                    self.eof = true;
                }
                Ok(n) => {
                    self.buf.truncate(start + n);
                    self.bytes += n as u64;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => self.buf.truncate(start),
                Err(e) => {
                    self.buf.truncate(start);
                    self.eof = true;
                    // Hand out what was read first; the error comes on the next call.
                    if !self.buf.is_empty() {
                        self.pending_cut = Some(self.buf.len());
                        self.deferred = Some(e);
                        return Ok(Some(Window {
                            bytes: &self.buf,
                            first_line: self.first_line,
                            first_column: self.first_column,
                            report_from: self.context,
                            report_before: self.buf.len(),
                        }));
                    }
                    return Err(e);
                }
            }
        }
        if let Some(e) = self.deferred.take() {
            return Err(e);
        }
        if self.buf.len() == self.context && (self.eof || self.started) {
            return Ok(None);
        }
        self.started = true;
        let len = self.buf.len();
        let cut = if self.eof || len <= self.context + self.overlap {
            len
        } else {
            // Cut at a line start inside the first half of the overlap when there is one.
            let lo = len - self.overlap;
            let hi = len - self.overlap / 2;
            memchr::memrchr(b'\n', &self.buf[lo..hi]).map_or(lo, |p| lo + p + 1)
        };
        self.pending_cut = Some(cut);
        Ok(Some(Window {
            bytes: &self.buf,
            first_line: self.first_line,
            first_column: self.first_column,
            report_from: self.context,
            report_before: cut,
        }))
    }
}

/// A reader that stops after `limit` bytes and remembers that it had to.
pub struct Capped<R> {
    inner: R,
    remaining: u64,
    pub exceeded: bool,
}

impl<R: Read> Capped<R> {
    pub fn new(inner: R, limit: u64) -> Self {
        Capped {
            inner,
            remaining: limit,
            exceeded: false,
        }
    }
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.remaining == 0 {
            // One more byte tells a file of exactly `limit` bytes from a larger one.
            let mut probe = [0u8; 1];
            if self.inner.read(&mut probe)? > 0 {
                self.exceeded = true;
            }
            return Ok(0);
        }
        let max = buf
            .len()
            .min(self.remaining.min(usize::MAX as u64) as usize);
        let n = self.inner.read(&mut buf[..max])?;
        self.remaining -= n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (bytes, first_line, first_column, report_from, report_before) of every window.
    type Shown = (Vec<u8>, u64, u64, usize, usize);

    fn windows(data: &[u8], window: usize, overlap: usize, lookbehind: usize) -> Vec<Shown> {
        let mut w = Windows::with_lookbehind(data, window, overlap, lookbehind);
        let mut out = Vec::new();
        while let Some(x) = w.next_window().unwrap() {
            out.push((
                x.bytes.to_vec(),
                x.first_line,
                x.first_column,
                x.report_from,
                x.report_before,
            ));
        }
        out
    }

    /// The reported regions tile the input exactly, and each window's line and column of
    /// its first byte are right.
    fn assert_tiles(data: &[u8], ws: &[Shown]) {
        let mut rebuilt = Vec::new();
        for (bytes, first_line, first_column, from, cut) in ws {
            let start = rebuilt.len() - from;
            assert_eq!(&data[start..start + bytes.len()], &bytes[..]);
            let before = &data[..start];
            let line = before.iter().filter(|&&b| b == b'\n').count() as u64 + 1;
            let line_start = memchr::memrchr(b'\n', before).map_or(0, |p| p + 1);
            assert_eq!(*first_line, line);
            assert_eq!(*first_column, char_count(&before[line_start..]));
            rebuilt.extend_from_slice(&bytes[*from..*cut]);
        }
        assert_eq!(rebuilt, data);
    }

    #[test]
    fn every_byte_reported_once_with_lines() {
        let data: Vec<u8> = (0..5000)
            .flat_map(|i| format!("line {i}\n").into_bytes())
            .collect();
        let ws = windows(&data, 1000, 200, 64);
        assert!(ws.len() > 10);
        assert_tiles(&data, &ws);
        // Cuts fall on line starts when lines are short; each later window carries the 64
        // bytes before its cut as context.
        for (bytes, _, _, _, cut) in &ws[..ws.len() - 1] {
            assert_eq!(bytes[cut - 1], b'\n');
        }
        assert!(ws[1..].iter().all(|w| w.3 == 64));
    }

    #[test]
    fn long_lines_carry_context_and_columns() {
        // One line much longer than a window, with multi-byte characters in it.
        let mut data = b"head\n".to_vec();
        for i in 0..3000 {
            data.extend_from_slice(if i % 7 == 0 { "é".as_bytes() } else { b"x" });
        }
        data.extend_from_slice(b"\ntail\n");
        let ws = windows(&data, 300, 100, 50);
        assert!(ws.len() > 5);
        assert_tiles(&data, &ws);
        // Mid-line windows start with the 50 bytes before their cut, and a column past 0.
        let (_, line, col, from, _) = &ws[3];
        assert_eq!((*line, *from), (2, 50));
        assert!(*col > 300, "{col}");
    }

    #[test]
    fn empty_and_tiny_inputs() {
        assert!(windows(b"", 100, 10, 10).is_empty());
        let w = windows(b"abc", 100, 10, 10);
        assert_eq!(w.len(), 1);
        assert_eq!((w[0].3, w[0].4), (0, 3));
    }

    #[test]
    fn gzip_magic() {
        assert!(has_gzip_magic(&[0x1f, 0x8b, 8, 0]));
        assert!(!has_gzip_magic(b"plain text"));
        assert!(!has_gzip_magic(&[0x1f]));
    }

    #[test]
    fn capped_reader_flags_excess() {
        let mut c = Capped::new(&b"0123456789"[..], 4);
        let mut out = Vec::new();
        c.read_to_end(&mut out).unwrap();
        assert_eq!(out, b"0123");
        assert!(c.exceeded);
        let mut c = Capped::new(&b"0123"[..], 4);
        c.read_to_end(&mut Vec::new()).unwrap();
        assert!(!c.exceeded);
    }

    #[test]
    fn log_names() {
        for n in [
            "app.log",
            "APP.LOG",
            "app.log.1",
            "app.log.2024-01-01",
            "x.json.gz",
        ] {
            assert!(is_log_name(n), "{n}");
        }
        for n in ["app.logger.py", "catalog", "log.txt"] {
            assert!(!is_log_name(n), "{n}");
        }
    }
}
