//! Reporters: a finished scan in, bytes in the chosen format out. Wire types live in each
//! reporter, apart from the internal `Finding`; no reporter prints a full secret unless
//! `show_secrets` is set.

pub mod audit_json;
pub mod audit_text;
pub mod csv;
pub mod html;
pub mod json;
pub mod sarif;
pub mod text;

use std::io::{self, Write};

use crate::{
    finding::Finding,
    scan::{ScanError, Stats},
};

/// Output formats of `scan` and `git`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Grouped by secret, for people (default on a terminal).
    Text,
    /// One `sprawl.report/v1` document.
    Json,
    /// One finding object per line, no envelope.
    Jsonl,
    /// SARIF 2.1.0, for code scanning.
    Sarif,
    /// One row per secret, for spreadsheets.
    Csv,
    /// One self-contained HTML page, for people.
    Html,
}

/// Everything a reporter needs.
pub struct Report<'a> {
    /// Sorted (see `finding::sort_findings`).
    pub findings: &'a [Finding],
    pub stats: &'a Stats,
    pub errors: &'a [ScanError],
    /// Findings hidden by a baseline.
    pub baselined: u64,
    pub show_secrets: bool,
    pub color: bool,
    /// The directory every path is relative to, when there is one.
    pub base: Option<&'a std::path::Path>,
}

pub fn write(report: &Report<'_>, format: Format, out: &mut dyn Write) -> io::Result<()> {
    match format {
        Format::Text => text::write(report, out),
        Format::Json => json::write(report, out),
        Format::Jsonl => json::write_lines(report, out),
        Format::Sarif => sarif::write(report.findings, report.base, out),
        Format::Csv => csv::write(report.findings, report.show_secrets, out),
        Format::Html => html::write_findings(report.findings, out),
    }
}
