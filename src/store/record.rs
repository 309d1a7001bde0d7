//! A finding as the store keeps it (JSON in a column): everything a report shows, never
//! the secret, and back into a finding with the run's rules.

use super::*;

/// A finding of a blob as the store keeps it: everything a report shows, never the secret.
#[derive(Serialize, Deserialize)]
pub(super) struct StoredFinding {
    rule: String,
    fingerprint: String,
    redacted: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    key_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    hint: Option<String>,
    source: String,
    path: String,
    line: u64,
    column: u64,
    end_line: u64,
    end_column: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    cell: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    cell_line: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    cell_part: Option<String>,
    confidence: Confidence,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    context: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    expiry: Option<StoredExpiry>,
    /// Provenance, for a repository's findings (none for a blob's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    git: Option<StoredGit>,
}

#[derive(Serialize, Deserialize)]
struct StoredGit {
    commit: String,
    author: String,
    email: String,
    date: String,
    summary: String,
    in_head: Option<bool>,
    last_commit: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct StoredExpiry {
    expires_at: Option<i64>,
    issued_at: Option<i64>,
    not_before: Option<i64>,
    issuer: Option<String>,
    subject: Option<String>,
    from_token: bool,
    lifetime_seconds: Option<i64>,
    key_id: Option<String>,
}

impl StoredFinding {
    pub(super) fn of(f: &Finding) -> StoredFinding {
        let l = &f.location;
        StoredFinding {
            rule: f.rule.id.clone(),
            fingerprint: f.fingerprint.to_string(),
            redacted: f.redacted.clone(),
            key_id: f.key_id.clone(),
            hint: f.hint.as_ref().map(|h| h.to_string()),
            source: f.source.as_str().to_string(),
            path: l.path.clone(),
            line: l.line,
            column: l.column,
            end_line: l.end_line,
            end_column: l.end_column,
            cell: l.cell,
            cell_line: l.cell_line,
            cell_part: l.cell_part.map(|p| {
                match p {
                    CellPart::Source => "source",
                    CellPart::Output => "output",
                }
                .to_string()
            }),
            confidence: f.confidence,
            context: f.context.map(str::to_string),
            expiry: f.expiry.as_ref().map(|e| StoredExpiry {
                expires_at: e.expires_at,
                issued_at: e.issued_at,
                not_before: e.not_before,
                issuer: e.issuer.clone(),
                subject: e.subject.clone(),
                from_token: e.basis == Basis::Token,
                lifetime_seconds: e.lifetime_seconds,
                key_id: e.key_id.clone(),
            }),
            git: f.git.as_ref().map(|g| StoredGit {
                commit: g.commit.clone(),
                author: g.author.clone(),
                email: g.email.clone(),
                date: g.date.clone(),
                summary: g.summary.clone(),
                in_head: g.in_head,
                last_commit: g.last_commit.clone(),
            }),
        }
    }

    /// The finding again, without its secret; `None` when its rule is not in force.
    pub(super) fn finding(self, rules: &HashMap<String, Arc<Rule>>) -> Option<Finding> {
        let rule = rules.get(&self.rule)?.clone();
        let source = match self.source.as_str() {
            "git" => SourceKind::Git,
            "notebook" => SourceKind::Notebook,
            "file" => SourceKind::File,
            "log" => SourceKind::Log,
            _ => return None,
        };
        let context = match self.context.as_deref() {
            None => None,
            Some(c) => Some(
                ["test", "fixture", "example", "docs"]
                    .into_iter()
                    .find(|k| *k == c)?,
            ),
        };
        Some(Finding {
            rule,
            secret: Vec::new(),
            fingerprint: Fingerprint::parse(&self.fingerprint)?,
            redacted: self.redacted,
            key_id: self.key_id,
            hint: self.hint.as_deref().and_then(crate::inventory::Hint::parse),
            repository: None,
            source,
            location: Location {
                path: self.path,
                line: self.line,
                column: self.column,
                end_line: self.end_line,
                end_column: self.end_column,
                cell: self.cell,
                cell_line: self.cell_line,
                cell_part: match self.cell_part.as_deref() {
                    None => None,
                    Some("source") => Some(CellPart::Source),
                    Some("output") => Some(CellPart::Output),
                    Some(_) => return None,
                },
            },
            git: self.git.map(|g| GitProvenance {
                commit: g.commit,
                author: g.author,
                email: g.email,
                date: g.date,
                summary: g.summary,
                in_head: g.in_head,
                last_commit: g.last_commit,
            }),
            expiry: self.expiry.map(|e| Expiry {
                expires_at: e.expires_at,
                issued_at: e.issued_at,
                not_before: e.not_before,
                issuer: e.issuer,
                subject: e.subject,
                basis: if e.from_token {
                    Basis::Token
                } else {
                    Basis::Lifetime
                },
                lifetime_seconds: e.lifetime_seconds,
                key_id: e.key_id,
            }),
            validation: None,
            codeowners: Vec::new(),
            confidence: self.confidence,
            context,
        })
    }
}
