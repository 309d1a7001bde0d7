//! JSON and JSONL reporters: the `sprawl.report/v1` schema of the design, exactly.

use std::io::{self, Write};

use serde::Serialize;

use super::Report;
use crate::{
    finding::Finding,
    scan::{ScanError, Stats},
    source::{CellPart, GitProvenance},
};

pub const SCHEMA: &str = "sprawl.report/v1";

#[derive(Serialize)]
struct Envelope<'a> {
    schema: &'static str,
    tool: Tool,
    stats: &'a Stats,
    errors: &'a [ScanError],
    findings: Vec<WireFinding<'a>>,
}

#[derive(Serialize)]
struct Tool {
    name: &'static str,
    version: &'static str,
}

#[derive(Serialize)]
pub struct WireFinding<'a> {
    id: String,
    rule: &'a str,
    title: &'a str,
    provider: &'a str,
    kind: &'static str,
    severity: &'static str,
    /// How sure the match is: high, medium or low.
    confidence: &'static str,
    /// Where it sits when not in production code: test, fixture, example, docs.
    #[serde(skip_serializing_if = "Option::is_none")]
    context: Option<&'static str>,
    fingerprint: String,
    redacted: &'a str,
    /// A non-secret key id (AWS access key id, GCP private_key_id): the inventory join key.
    #[serde(skip_serializing_if = "Option::is_none")]
    key_id: Option<&'a str>,
    /// What the vendor's own key listing displays of it (never more): the audit's hint join.
    #[serde(skip_serializing_if = "Option::is_none")]
    hint: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    secret: Option<String>,
    source: &'static str,
    /// The repository's label, when the run scanned several.
    #[serde(skip_serializing_if = "Option::is_none")]
    repository: Option<&'a str>,
    location: WireLocation<'a>,
    git: Option<&'a GitProvenance>,
    /// When the token itself says it expires (offline: JWT `exp`, Bedrock, known lifetimes).
    #[serde(skip_serializing_if = "Option::is_none")]
    expires_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    expired: Option<bool>,
    /// What else the token says about itself (issuer, subject, lifetime, basis).
    #[serde(skip_serializing_if = "Option::is_none")]
    token: Option<&'a crate::expiry::Expiry>,
    /// What the provider said (`--validate` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    validation: Option<&'a crate::validate::Validation>,
    /// The rule's own revoke / rotate instructions.
    #[serde(skip_serializing_if = "Option::is_none")]
    revoke: Option<&'a str>,
    /// CODEOWNERS owners of its path (owner suggestions for `sprawl audit REPORT.json`).
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    codeowners: &'a [String],
}

#[derive(Serialize)]
struct WireLocation<'a> {
    path: &'a str,
    line: u64,
    column: u64,
    end_line: u64,
    end_column: u64,
    cell: Option<usize>,
    cell_line: Option<u64>,
    cell_part: Option<CellPart>,
}

pub fn wire(f: &Finding, show_secrets: bool) -> WireFinding<'_> {
    let (expires_at, expired) = crate::expiry::wire_fields(f.expiry.as_ref(), crate::expiry::now());
    WireFinding {
        expires_at,
        expired,
        token: f.expiry.as_ref(),
        validation: f.validation.as_ref(),
        codeowners: &f.codeowners,
        revoke: f.rule.revoke.as_deref(),
        id: f.id(),
        rule: &f.rule.id,
        title: &f.rule.title,
        provider: &f.rule.provider,
        kind: f.rule.kind.as_str(),
        severity: f.rule.severity.as_str(),
        confidence: f.confidence.as_str(),
        context: f.context,
        fingerprint: f.fingerprint.to_string(),
        redacted: &f.redacted,
        key_id: f.key_id.as_deref(),
        hint: f.hint.as_ref().map(|h| h.to_string()),
        repository: f.repository.as_deref(),
        secret: show_secrets.then(|| String::from_utf8_lossy(&f.secret).into_owned()),
        source: f.source.as_str(),
        location: WireLocation {
            path: &f.location.path,
            line: f.location.line,
            column: f.location.column,
            end_line: f.location.end_line,
            end_column: f.location.end_column,
            cell: f.location.cell,
            cell_line: f.location.cell_line,
            cell_part: f.location.cell_part,
        },
        git: f.git.as_ref(),
    }
}

pub fn write(r: &Report<'_>, out: &mut dyn Write) -> io::Result<()> {
    let env = Envelope {
        schema: SCHEMA,
        tool: Tool {
            name: "sprawl",
            version: env!("CARGO_PKG_VERSION"),
        },
        stats: r.stats,
        errors: r.errors,
        findings: r.findings.iter().map(|f| wire(f, r.show_secrets)).collect(),
    };
    serde_json::to_writer_pretty(&mut *out, &env)?;
    out.write_all(b"\n")
}

pub fn write_lines(r: &Report<'_>, out: &mut dyn Write) -> io::Result<()> {
    for f in r.findings {
        serde_json::to_writer(&mut *out, &wire(f, r.show_secrets))?;
        out.write_all(b"\n")?;
    }
    Ok(())
}
