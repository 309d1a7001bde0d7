//! Jupyter notebooks: the bytes of an `.ipynb` in; out, one chunk of text per cell source
//! and per text output (stream text, `text/plain`, `text/html`, `text/markdown` data, error
//! tracebacks), each with its cell index and part. Images (`image/png`, `image/jpeg`, …) and
//! attachments are skipped. nbformat 4, and 3 (worksheets) where cheap.

use serde_json::Value;

use super::CellPart;

/// The text of one cell part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CellText {
    /// 0-based cell index, as Jupyter shows it.
    pub cell: usize,
    pub part: CellPart,
    pub text: String,
}

/// Notebook text fields are a string or a list of strings (lines with their newlines).
fn text_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Array(a) => Some(a.iter().filter_map(|x| x.as_str()).collect::<String>()),
        _ => None,
    }
}

const TEXT_MIME: &[&str] = &["text/plain", "text/html", "text/markdown", "text/latex"];

fn outputs(cell: usize, outs: &[Value], into: &mut Vec<CellText>) {
    for o in outs {
        let mut push = |t: Option<String>| {
            if let Some(text) = t.filter(|t| !t.is_empty()) {
                into.push(CellText {
                    cell,
                    part: CellPart::Output,
                    text,
                });
            }
        };
        // stream (v4) and v3 outputs keep their text in `text`.
        if let Some(t) = o.get("text") {
            push(text_of(t));
        }
        if let Some(data) = o.get("data").and_then(|d| d.as_object()) {
            for mime in TEXT_MIME {
                if let Some(t) = data.get(*mime) {
                    push(text_of(t));
                }
            }
        }
        // v3 keeps mime data at the top level under short names.
        for key in ["html", "latex", "markdown"] {
            if let Some(t) = o.get(key) {
                push(text_of(t));
            }
        }
        if let Some(tb) = o.get("traceback").and_then(|t| t.as_array()) {
            let lines: Vec<&str> = tb.iter().filter_map(|l| l.as_str()).collect();
            push(Some(lines.join("\n")));
        }
    }
}

/// The cell parts of a parsed notebook; `None` when it does not look like one.
pub fn cells(nb: &Value) -> Option<Vec<CellText>> {
    let list: Vec<&Value> = if let Some(c) = nb.get("cells").and_then(|c| c.as_array()) {
        c.iter().collect()
    } else if let Some(ws) = nb.get("worksheets").and_then(|w| w.as_array()) {
        ws.iter()
            .filter_map(|w| w.get("cells").and_then(|c| c.as_array()))
            .flatten()
            .collect()
    } else {
        return None;
    };
    let mut out = Vec::new();
    for (i, cell) in list.into_iter().enumerate() {
        let src = cell.get("source").or_else(|| cell.get("input"));
        if let Some(text) = src.and_then(text_of).filter(|t| !t.is_empty()) {
            out.push(CellText {
                cell: i,
                part: CellPart::Source,
                text,
            });
        }
        if let Some(outs) = cell.get("outputs").and_then(|o| o.as_array()) {
            outputs(i, outs, &mut out);
        }
    }
    Some(out)
}

/// Parse notebook bytes; the error says why it is not a notebook.
pub fn parse(bytes: &[u8]) -> Result<Vec<CellText>, String> {
    let v: Value = serde_json::from_slice(bytes).map_err(|e| format!("not valid JSON ({e})"))?;
    cells(&v).ok_or_else(|| "JSON without `cells` or `worksheets`".to_string())
}

/// 1-based line and character column of byte `offset` in `raw`.
pub fn line_col(raw: &[u8], offset: usize) -> (u64, u64) {
    let before = &raw[..offset.min(raw.len())];
    let line = memchr::memchr_iter(b'\n', before).count() as u64 + 1;
    let start = memchr::memrchr(b'\n', before).map_or(0, |p| p + 1);
    let col = before[start..]
        .iter()
        .filter(|&&b| (b & 0xC0) != 0x80)
        .count() as u64
        + 1;
    (line, col)
}

/// Where `secret` sits in the raw notebook file, searching from `from`: the secret as JSON
/// escapes it inside a string. Returns the byte range.
pub fn locate(raw: &[u8], secret: &[u8], from: usize) -> Option<std::ops::Range<usize>> {
    let text = String::from_utf8_lossy(secret);
    let escaped = serde_json::to_string(&text).ok()?;
    let needle = &escaped.as_bytes()[1..escaped.len() - 1];
    let from = from.min(raw.len());
    memchr::memmem::find(&raw[from..], needle)
        .map(|p| from + p..from + p + needle.len())
        .or_else(|| memchr::memmem::find(raw, needle).map(|p| p..p + needle.len()))
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

    #[test]
    fn locates_escaped_secret() {
        let raw = br#"{"cells": [{"source": ["k = \"abc\"\n"]}]}"#;
        let r = locate(raw, b"abc", 0).unwrap();
        assert_eq!(&raw[r.clone()], b"abc");
        assert_eq!(line_col(raw, r.start), (1, 31));
    }
}
