//! Streams: a reader in (a log file, a `.gz` log, standard input, any text too large to
//! hold), overlapping windows out, so memory stays bounded whatever the size. Each window
//! says up to which byte its matches are to be reported: a match starting after that point
//! is reported by the next window, which holds it whole, so a secret on a boundary is found
//! exactly once.

use std::io::{self, Read};

/// Bytes read per window (before the carried overlap).
pub const WINDOW: usize = 8 << 20;
/// Bytes carried from one window into the next: at least half of it, and never less than
/// the longest match a rule can make (PGP blocks: 60,000 bytes).
pub const OVERLAP: usize = 256 << 10;

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

/// One window of a stream.
pub struct Window<'a> {
    pub bytes: &'a [u8],
    /// 1-based line number of `bytes[0]`.
    pub first_line: u64,
    /// Report only matches whose secret starts before this offset.
    pub report_before: usize,
}

/// Overlapping windows over a reader.
pub struct Windows<R> {
    reader: R,
    buf: Vec<u8>,
    window: usize,
    overlap: usize,
    first_line: u64,
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
        Windows {
            reader,
            buf: Vec::with_capacity(window + overlap),
            window,
            overlap: overlap.max(2),
            first_line: 1,
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
            self.first_line += memchr::memchr_iter(b'\n', &self.buf[..cut]).count() as u64;
            self.buf.drain(..cut);
        }
        let target = self.window + self.overlap;
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
        if self.buf.is_empty() && (self.eof || self.started) {
            return Ok(None);
        }
        self.started = true;
        let len = self.buf.len();
        let cut = if self.eof || len <= self.overlap {
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

    fn windows(data: &[u8], window: usize, overlap: usize) -> Vec<(Vec<u8>, u64, usize)> {
        let mut w = Windows::with_sizes(data, window, overlap);
        let mut out = Vec::new();
        while let Some(x) = w.next_window().unwrap() {
            out.push((x.bytes.to_vec(), x.first_line, x.report_before));
        }
        out
    }

    #[test]
    fn every_byte_reported_once_with_lines() {
        let data: Vec<u8> = (0..5000)
            .flat_map(|i| format!("line {i}\n").into_bytes())
            .collect();
        let ws = windows(&data, 1000, 200);
        assert!(ws.len() > 10);
        // The reported regions tile the input exactly.
        let mut rebuilt = Vec::new();
        let mut line = 1;
        for (bytes, first_line, cut) in &ws {
            assert_eq!(*first_line, line);
            rebuilt.extend_from_slice(&bytes[..*cut]);
            line += bytes[..*cut].iter().filter(|&&b| b == b'\n').count() as u64;
        }
        assert_eq!(rebuilt, data);
        // Cuts fall on line starts when lines are short.
        for (bytes, _, cut) in &ws[..ws.len() - 1] {
            assert_eq!(bytes[cut - 1], b'\n');
        }
    }

    #[test]
    fn empty_and_tiny_inputs() {
        assert!(windows(b"", 100, 10).is_empty());
        let w = windows(b"abc", 100, 10);
        assert_eq!(w.len(), 1);
        assert_eq!(w[0].2, 3);
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
