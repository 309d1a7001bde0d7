//! Jupyter notebooks: the bytes of an `.ipynb` in; out, one piece of text per cell source
//! and per text output (stream text, `text/plain`, `text/html`, `text/markdown` data, error
//! tracebacks), each with its cell index and part, and a map from each byte of the decoded
//! text to its byte in the file. Images (`image/png`, `image/jpeg`, …) and attachments are
//! skipped without being copied. nbformat 4, and 3 (worksheets) where cheap.
//!
//! Memory stays near the file's size: the JSON is parsed into borrowed raw values (no tree
//! of owned strings), and each part's text is decoded only when it is scanned.

use serde::Deserialize;
use serde_json::value::RawValue;

use super::CellPart;

/// Where each byte of a decoded text sits in the file: the points where the two stop
/// advancing together (escapes, string boundaries), found in one pass over the literals.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OffsetMap {
    /// (decoded offset, file offset), both increasing; between two points both advance by one.
    points: Vec<(usize, usize)>,
}

impl OffsetMap {
    fn push(&mut self, decoded: usize, file: usize) {
        match self.points.last_mut() {
            Some(last) if last.0 == decoded => last.1 = file,
            _ => self.points.push((decoded, file)),
        }
    }

    /// The file offset of decoded byte `decoded` (a byte inside an escape maps into the
    /// escape; the end of the text maps to the end of its last literal).
    pub fn file_offset(&self, decoded: usize) -> usize {
        let i = self.points.partition_point(|&(d, _)| d <= decoded);
        match i.checked_sub(1).map(|i| self.points[i]) {
            Some((d, f)) => {
                let next = self.points.get(i).map_or(usize::MAX, |p| p.1);
                (f + (decoded - d)).min(next)
            }
            None => 0,
        }
    }
}

/// The text of one cell part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CellText {
    /// 0-based cell index, as Jupyter shows it.
    pub cell: usize,
    pub part: CellPart,
    pub text: String,
    pub map: OffsetMap,
}

/// One cell part before decoding: the string literals it is made of, borrowed from the file.
#[derive(Debug, Clone)]
pub struct RawPart<'a> {
    pub cell: usize,
    pub part: CellPart,
    /// String literals (quotes included) in file order.
    literals: Vec<&'a RawValue>,
    /// Put a newline between literals (tracebacks are lines without their newlines).
    join_lines: bool,
}

impl RawPart<'_> {
    /// Decode the text and map it back into `file` (the bytes the part was parsed from).
    pub fn decode(&self, file: &[u8]) -> CellText {
        let mut text = String::new();
        let mut map = OffsetMap::default();
        let base = file.as_ptr() as usize;
        for (i, lit) in self.literals.iter().enumerate() {
            let raw = lit.get();
            let at = raw.as_ptr() as usize - base;
            if i > 0 && self.join_lines {
                text.push('\n');
            }
            decode_literal(raw, at, &mut text, &mut map);
        }
        CellText {
            cell: self.cell,
            part: self.part,
            text,
            map,
        }
    }
}

/// Append the text of JSON string literal `lit` (quotes included), found at file offset
/// `at`, to `text`, and record where its bytes came from. serde_json has checked the
/// literal; a lone surrogate becomes U+FFFD.
fn decode_literal(lit: &str, at: usize, text: &mut String, map: &mut OffsetMap) {
    let b = lit.as_bytes();
    let end = b.len().saturating_sub(1);
    let mut i = 1;
    map.push(text.len(), at + i);
    while i < end {
        let Some(p) = memchr::memchr(b'\\', &b[i..end]) else {
            text.push_str(&lit[i..end]);
            break;
        };
        text.push_str(&lit[i..i + p]);
        i += p;
        map.push(text.len(), at + i);
        let (ch, len) = escape(&b[i..end]);
        text.push(ch);
        i += len;
        map.push(text.len(), at + i);
    }
    map.push(text.len(), at + end);
}

/// The character an escape at the start of `b` stands for, and its length in bytes.
fn escape(b: &[u8]) -> (char, usize) {
    let hex = |s: &[u8]| {
        std::str::from_utf8(s.get(..4)?)
            .ok()
            .and_then(|h| u32::from_str_radix(h, 16).ok())
    };
    let simple = match b.get(1) {
        Some(b'n') => '\n',
        Some(b't') => '\t',
        Some(b'r') => '\r',
        Some(b'b') => '\u{8}',
        Some(b'f') => '\u{c}',
        Some(b'u') => {
            let Some(hi) = hex(&b[2..]) else {
                return ('\u{fffd}', b.len().min(2));
            };
            if (0xD800..0xDC00).contains(&hi) && b.get(6) == Some(&b'\\') && b.get(7) == Some(&b'u')
            {
                if let Some(lo) = hex(&b[8..]).filter(|lo| (0xDC00..0xE000).contains(lo)) {
                    let c = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
                    return (char::from_u32(c).unwrap_or('\u{fffd}'), 12);
                }
            }
            return (char::from_u32(hi).unwrap_or('\u{fffd}'), 6);
        }
        Some(&c) => c as char,
        None => return ('\\', 1),
    };
    (simple, 2)
}

/// 1-based line and character column of byte offsets in a file, after one pass over it.
pub struct LineIndex<'a> {
    raw: &'a [u8],
    newlines: Vec<usize>,
    /// UTF-8 continuation bytes before each `BLOCK`-byte boundary.
    continuations: Vec<usize>,
}

const BLOCK: usize = 4096;

impl<'a> LineIndex<'a> {
    pub fn new(raw: &'a [u8]) -> Self {
        let newlines = memchr::memchr_iter(b'\n', raw).collect();
        let mut continuations = Vec::with_capacity(raw.len() / BLOCK + 1);
        let mut n = 0;
        continuations.push(0);
        for block in raw.chunks(BLOCK) {
            n += block.iter().filter(|&&b| (b & 0xC0) == 0x80).count();
            continuations.push(n);
        }
        LineIndex {
            raw,
            newlines,
            continuations,
        }
    }

    fn continuations_before(&self, offset: usize) -> usize {
        let block = offset / BLOCK;
        self.continuations[block]
            + self.raw[block * BLOCK..offset]
                .iter()
                .filter(|&&b| (b & 0xC0) == 0x80)
                .count()
    }

    /// Line and character column of byte `offset`.
    pub fn line_col(&self, offset: usize) -> (u64, u64) {
        let offset = offset.min(self.raw.len());
        let before = self.newlines.partition_point(|&p| p < offset);
        let start = before.checked_sub(1).map_or(0, |i| self.newlines[i] + 1);
        let chars = (offset - start)
            - (self.continuations_before(offset) - self.continuations_before(start));
        (before as u64 + 1, chars as u64 + 1)
    }
}

/// Byte offsets of (1-based) line and character column positions in a text, for positions
/// that come in increasing order (it restarts when they do not).
pub struct TextCursor<'a> {
    text: &'a [u8],
    line: u64,
    line_start: usize,
    col: u64,
    pos: usize,
}

impl<'a> TextCursor<'a> {
    pub fn new(text: &'a [u8]) -> Self {
        TextCursor {
            text,
            line: 1,
            line_start: 0,
            col: 1,
            pos: 0,
        }
    }

    /// The byte offset of `line`:`col`, or the end of the text if there is no such place.
    pub fn offset(&mut self, line: u64, col: u64) -> usize {
        if (line, col) < (self.line, self.col) {
            *self = TextCursor::new(self.text);
        }
        while self.line < line {
            match memchr::memchr(b'\n', &self.text[self.line_start..]) {
                Some(p) => {
                    self.line += 1;
                    self.line_start += p + 1;
                    self.pos = self.line_start;
                    self.col = 1;
                }
                None => return self.text.len(),
            }
        }
        while self.col < col && self.pos < self.text.len() && self.text[self.pos] != b'\n' {
            self.pos += 1;
            while self.pos < self.text.len() && (self.text[self.pos] & 0xC0) == 0x80 {
                self.pos += 1;
            }
            self.col += 1;
        }
        self.pos
    }
}

/// A field that may be missing or of any type; read lazily.
type Field<'a> = Option<&'a RawValue>;

#[derive(Deserialize)]
struct Top<'a> {
    #[serde(borrow, default)]
    cells: Field<'a>,
    #[serde(borrow, default)]
    worksheets: Field<'a>,
}

#[derive(Deserialize)]
struct Worksheet<'a> {
    #[serde(borrow, default)]
    cells: Field<'a>,
}

#[derive(Deserialize)]
struct Cell<'a> {
    #[serde(borrow, default)]
    source: Field<'a>,
    #[serde(borrow, default)]
    input: Field<'a>,
    #[serde(borrow, default)]
    outputs: Field<'a>,
}

#[derive(Deserialize)]
struct Output<'a> {
    // stream (v4) and v3 outputs keep their text in `text`.
    #[serde(borrow, default)]
    text: Field<'a>,
    #[serde(borrow, default)]
    data: Field<'a>,
    // v3 keeps mime data at the top level under short names.
    #[serde(borrow, default)]
    html: Field<'a>,
    #[serde(borrow, default)]
    latex: Field<'a>,
    #[serde(borrow, default)]
    markdown: Field<'a>,
    #[serde(borrow, default)]
    traceback: Field<'a>,
}

#[derive(Deserialize)]
struct MimeData<'a> {
    #[serde(borrow, default, rename = "text/plain")]
    plain: Field<'a>,
    #[serde(borrow, default, rename = "text/html")]
    html: Field<'a>,
    #[serde(borrow, default, rename = "text/markdown")]
    markdown: Field<'a>,
    #[serde(borrow, default, rename = "text/latex")]
    latex: Field<'a>,
}

/// The value as `T` if it is one (a cell that is not an object has no parts, as before).
fn read<'a, T: Deserialize<'a>>(v: Field<'a>) -> Option<T> {
    serde_json::from_str(v?.get()).ok()
}

/// The items of an array value.
fn items(v: Field<'_>) -> Vec<&RawValue> {
    read::<Vec<&RawValue>>(v).unwrap_or_default()
}

fn is_string(v: &RawValue) -> bool {
    v.get().starts_with('"')
}

/// Notebook text fields are a string or a list of strings (lines with their newlines).
fn literals(v: Field<'_>) -> Vec<&RawValue> {
    match v {
        Some(s) if is_string(s) => vec![s],
        Some(_) => items(v).into_iter().filter(|x| is_string(x)).collect(),
        None => Vec::new(),
    }
}

fn push<'a>(
    out: &mut Vec<RawPart<'a>>,
    cell: usize,
    part: CellPart,
    literals: Vec<&'a RawValue>,
    join_lines: bool,
) {
    // An empty text has nothing to scan (a literal is at least its two quotes).
    if literals.iter().any(|l| l.get().len() > 2) {
        out.push(RawPart {
            cell,
            part,
            literals,
            join_lines,
        });
    }
}

fn outputs<'a>(cell: usize, outs: Field<'a>, into: &mut Vec<RawPart<'a>>) {
    for o in items(outs) {
        let Some(o) = read::<Output>(Some(o)) else {
            continue;
        };
        push(into, cell, CellPart::Output, literals(o.text), false);
        if let Some(d) = read::<MimeData>(o.data) {
            for t in [d.plain, d.html, d.markdown, d.latex] {
                push(into, cell, CellPart::Output, literals(t), false);
            }
        }
        for t in [o.html, o.latex, o.markdown] {
            push(into, cell, CellPart::Output, literals(t), false);
        }
        if o.traceback.is_some_and(|t| t.get().starts_with('[')) {
            push(into, cell, CellPart::Output, literals(o.traceback), true);
        }
    }
}

/// The cell parts of a notebook, not yet decoded; the error says why it is not a notebook.
pub fn parts(bytes: &[u8]) -> Result<Vec<RawPart<'_>>, String> {
    let top: Top = match serde_json::from_slice(bytes) {
        Ok(t) => t,
        Err(e) => {
            return Err(
                match serde_json::from_slice::<serde::de::IgnoredAny>(bytes) {
                    Ok(_) => "JSON without `cells` or `worksheets`".to_string(),
                    Err(_) => format!("not valid JSON ({e})"),
                },
            )
        }
    };
    let list: Vec<&RawValue> = if top.cells.is_some_and(|c| c.get().starts_with('[')) {
        items(top.cells)
    } else if top.worksheets.is_some_and(|w| w.get().starts_with('[')) {
        items(top.worksheets)
            .into_iter()
            .filter_map(|w| read::<Worksheet>(Some(w)))
            .flat_map(|w| items(w.cells))
            .collect()
    } else {
        return Err("JSON without `cells` or `worksheets`".to_string());
    };
    let mut out = Vec::new();
    for (i, cell) in list.into_iter().enumerate() {
        let Some(cell) = read::<Cell>(Some(cell)) else {
            continue;
        };
        push(
            &mut out,
            i,
            CellPart::Source,
            literals(cell.source.or(cell.input)),
            false,
        );
        outputs(i, cell.outputs, &mut out);
    }
    Ok(out)
}

/// Parse notebook bytes and decode every part; the error says why it is not a notebook.
pub fn parse(bytes: &[u8]) -> Result<Vec<CellText>, String> {
    Ok(parts(bytes)?.iter().map(|p| p.decode(bytes)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v4_sources_outputs_and_images() {
        let nb = r##"{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
          {"cell_type": "markdown", "source": "# Title\n", "metadata": {}},
          {"cell_type": "code", "source": ["import os\n", "x = 1\n"], "metadata": {}, "execution_count": 1,
           "outputs": [
             {"output_type": "stream", "name": "stdout", "text": ["hello\n", "world\n"]},
             {"output_type": "execute_result", "execution_count": 1, "metadata": {},
              "data": {"text/plain": "42", "image/png": "iVBORw0KGgo="}},
             {"output_type": "error", "ename": "E", "evalue": "v", "traceback": ["line a", "line b"]}
           ]}
        ]}"##;
        let c = parse(nb.as_bytes()).unwrap();
        let parts: Vec<(usize, CellPart, &str)> = c
            .iter()
            .map(|x| (x.cell, x.part, x.text.as_str()))
            .collect();
        assert_eq!(
            parts,
            [
                (0, CellPart::Source, "# Title\n"),
                (1, CellPart::Source, "import os\nx = 1\n"),
                (1, CellPart::Output, "hello\nworld\n"),
                (1, CellPart::Output, "42"),
                (1, CellPart::Output, "line a\nline b"),
            ]
        );
    }

    #[test]
    fn v3_worksheets() {
        let nb = r#"{"nbformat": 3, "worksheets": [{"cells": [
          {"cell_type": "code", "input": ["a = 1\n"], "outputs": [{"output_type": "pyout", "text": ["1"]}]}
        ]}]}"#;
        let c = parse(nb.as_bytes()).unwrap();
        assert_eq!(c.len(), 2);
        assert_eq!(c[0].text, "a = 1\n");
    }

    #[test]
    fn not_a_notebook() {
        assert!(parse(b"{not json").unwrap_err().contains("not valid JSON"));
        assert!(parse(b"{\"a\": 1}").unwrap_err().contains("cells"));
        let deep = "[".repeat(10_000);
        assert!(parse(deep.as_bytes()).is_err());
    }

    /// Decode `lit` as it sits in a file at offset 5, with serde_json's decoding beside it.
    fn decoded(lit: &str) -> (String, OffsetMap, String) {
        let mut text = String::new();
        let mut map = OffsetMap::default();
        decode_literal(lit, 5, &mut text, &mut map);
        let serde: String = serde_json::from_str(lit).unwrap_or_default();
        (text, map, serde)
    }

    #[test]
    fn literals_decode_as_serde_does_and_map_back() {
        let file = r#"{"a":"sk-\u0073ecret\/x\n\ud83d\ude00é\"q"}"#;
        let lit = &file[5..file.len() - 1];
        let (text, map, serde) = decoded(lit);
        assert_eq!(text, serde);
        assert_eq!(text, "sk-secret/x\n😀é\"q");
        // Each decoded character maps to where it is written in the file.
        let at = |needle: &str| map.file_offset(text.find(needle).unwrap());
        assert_eq!(&file[at("sk-")..][..3], "sk-");
        assert_eq!(&file[at("secret")..][..6], "\\u0073");
        assert_eq!(&file[at("ecret")..][..5], "ecret");
        assert_eq!(&file[at("/x")..][..3], "\\/x");
        assert_eq!(&file[at("😀")..][..6], "\\ud83d");
        assert_eq!(&file[at("é")..][..2], "é");
        assert_eq!(&file[at("q")..][..1], "q");
        assert_eq!(map.file_offset(text.len()), file.len() - 2);
    }

    #[test]
    fn lone_surrogates_and_odd_escapes_do_not_panic() {
        for lit in [
            r#""\ud800""#,
            r#""\udc00x""#,
            r#""\ud800\u0041""#,
            r#""""#,
            r#""\\""#,
        ] {
            let (text, map, serde) = decoded(lit);
            if !serde.is_empty() {
                assert_eq!(text, serde, "{lit}");
            }
            assert!(map.file_offset(text.len()) <= 5 + lit.len());
        }
    }

    #[test]
    fn line_index_and_text_cursor() {
        let raw = "ab\ncé\nxyz".as_bytes();
        let ix = LineIndex::new(raw);
        assert_eq!(ix.line_col(0), (1, 1));
        assert_eq!(ix.line_col(3), (2, 1));
        assert_eq!(ix.line_col(6), (2, 3));
        assert_eq!(ix.line_col(9), (3, 3));
        let text = "ab\ncé\nxyz";
        let mut c = TextCursor::new(text.as_bytes());
        assert_eq!(c.offset(2, 3), 6);
        assert_eq!(c.offset(3, 2), 8);
        assert_eq!(c.offset(1, 2), 1, "going back restarts");
        assert_eq!(c.offset(9, 1), text.len());
    }

    #[test]
    fn locates_escaped_secret() {
        let raw = br#"{"cells": [{"source": ["k = \"a\u0062c\"\n"]}]}"#;
        let c = parse(raw).unwrap();
        assert_eq!(c[0].text, "k = \"abc\"\n");
        let r = c[0].map.file_offset(5);
        assert_eq!(&raw[r..r + 7], b"a\\u0062");
        assert_eq!(LineIndex::new(raw).line_col(r), (1, 31));
    }
}
