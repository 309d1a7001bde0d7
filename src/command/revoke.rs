//! `sprawl revoke`: secrets (scanned now with `--scan`/`--git`, since only a scan holds them)
//! and saved reports in; GitHub's public credential revocation request (printed redacted as a
//! dry run, sent with `--send`) and a per-credential revocation checklist out.
//!
//! GitHub's API (`POST https://api.github.com/credentials/revoke`, body
//! `{"credentials": [...]}`, at most 1,000 a request, no authentication, 202 when accepted)
//! takes personal access tokens (classic and fine-grained), OAuth tokens, and GitHub App
//! user-to-server and refresh tokens. Every other credential gets its rule's `revoke` text.

use std::{collections::BTreeMap, io::Write, time::Duration};

use anyhow::{Context, Result};

use super::{git_options, load_rules, scan_options, EXIT_CLEAN, EXIT_ERROR};
use crate::{
    cli::{CommonArgs, RevokeArgs},
    config::ConfigFile,
    exposure,
    finding::{sort_findings, Finding, Fingerprint},
    git_scan::{scan_git, GitMode},
    matcher::Matcher,
    progress::Progress,
    rules::RuleSet,
    scan::scan_paths,
    validate::http::Client,
};

/// GitHub's credential revocation endpoint and the host it may go to.
pub const GITHUB_REVOKE_URL: &str = "https://api.github.com/credentials/revoke";
const GITHUB_HOSTS: &[&str] = &["api.github.com"];
/// The most tokens GitHub takes in one request.
pub const GITHUB_BATCH: usize = 1000;
/// Rules whose tokens GitHub's revocation API accepts.
pub const GITHUB_REVOCABLE: &[&str] = &[
    "github.pat-classic",
    "github.fine-grained-pat",
    "github.oauth-token",
    "github.user-to-server-token",
    "github.refresh-token",
];

/// One credential of the checklist.
struct Item {
    rule: String,
    title: String,
    redacted: String,
    fingerprint: Fingerprint,
    first_seen: String,
    places: usize,
    secret: Option<Vec<u8>>,
}

fn items(findings: &[Finding], reports: Vec<crate::audit::Exposure>) -> Vec<Item> {
    let mut by_fp: BTreeMap<Fingerprint, Item> = BTreeMap::new();
    for f in findings {
        let it = by_fp.entry(f.fingerprint).or_insert_with(|| Item {
            rule: f.rule.id.clone(),
            title: f.rule.title.clone(),
            redacted: f.redacted.clone(),
            fingerprint: f.fingerprint,
            first_seen: format!("{}:{}", f.location.path, f.location.line),
            places: 0,
            secret: Some(f.secret.clone()),
        });
        it.places += 1;
    }
    for e in reports {
        let it = by_fp.entry(e.fingerprint).or_insert_with(|| Item {
            rule: e.rule.clone(),
            title: e.title.clone(),
            redacted: e.redacted.clone(),
            fingerprint: e.fingerprint,
            first_seen: e
                .occurrences
                .first()
                .map(|o| format!("{}:{}", o.path, o.line))
                .unwrap_or_default(),
            places: 0,
            secret: None,
        });
        it.places += e.occurrences.len();
    }
    by_fp.into_values().collect()
}

fn scan_all(args: &RevokeArgs, rules: &RuleSet, cfg: &ConfigFile) -> Result<Vec<Finding>> {
    let matcher = Matcher::new(rules)?;
    let common = CommonArgs::default();
    let mut findings = Vec::new();
    for p in &args.scan {
        let opts = scan_options(cfg, &common, vec![p.clone()], &[], false, None)?;
        let o = scan_paths(&matcher, &opts, &Progress::disabled());
        for e in &o.errors {
            eprintln!("error: {}: {}", e.path, e.message);
        }
        findings.extend(o.findings);
    }
    for repo in &args.git {
        let mode = GitMode::History { all_objects: false };
        let opts = git_options(cfg, &common, vec![repo.clone()], mode)?;
        let o = scan_git(&matcher, &opts, &Progress::disabled());
        for e in &o.errors {
            eprintln!("error: {}: {}", e.path, e.message);
        }
        findings.extend(o.findings);
    }
    sort_findings(&mut findings);
    Ok(findings)
}

/// The JSON body of one revocation request.
pub fn request_body(tokens: &[&str]) -> String {
    serde_json::json!({ "credentials": tokens }).to_string()
}

pub fn revoke(args: RevokeArgs) -> Result<i32> {
    if args.reports.is_empty() && args.scan.is_empty() && args.git.is_empty() {
        anyhow::bail!(
            "revoke: give REPORT.json files for a checklist, or --scan/--git to find the secrets"
        );
    }
    let cfg = ConfigFile::default();
    let rules = load_rules(&cfg, &args.rules)?;
    let findings = scan_all(&args, &rules, &cfg)?;
    let mut from_reports = Vec::new();
    for r in &args.reports {
        from_reports.extend(exposure::from_report(r)?);
    }
    let items = items(&findings, from_reports);
    let mut out = std::io::stdout().lock();

    let (github, others): (Vec<&Item>, Vec<&Item>) = items
        .iter()
        .partition(|i| GITHUB_REVOCABLE.contains(&i.rule.as_str()));
    let (sendable, without_secret): (Vec<&Item>, Vec<&Item>) =
        github.iter().partition(|i| i.secret.is_some());
    let mut code = EXIT_CLEAN;

    if !sendable.is_empty() {
        let batches: Vec<&[&Item]> = sendable.chunks(GITHUB_BATCH).collect();
        writeln!(
            out,
            "GitHub: {} token(s) for GitHub's credential revocation API, {} request(s){}",
            sendable.len(),
            batches.len(),
            if args.send {
                ""
            } else {
                " (dry run: nothing sent)"
            }
        )?;
        let client = if args.send {
            Some(Client::new(
                Duration::from_secs(30),
                Duration::from_secs(60),
            )?)
        } else {
            None
        };
        for (n, batch) in batches.iter().enumerate() {
            let Some(client) = &client else {
                let shown: Vec<&str> = batch.iter().map(|i| i.redacted.as_str()).collect();
                writeln!(out, "would send request {} of {}:", n + 1, batches.len())?;
                writeln!(out, "  POST {GITHUB_REVOKE_URL}")?;
                writeln!(out, "  Accept: application/vnd.github+json")?;
                writeln!(out, "  X-GitHub-Api-Version: 2022-11-28")?;
                writeln!(out, "  (no Authorization header: the API takes none)")?;
                writeln!(out, "  {}", request_body(&shown))?;
                continue;
            };
            let secrets: Vec<String> = batch
                .iter()
                .filter_map(|i| i.secret.as_ref())
                .map(|s| String::from_utf8_lossy(s).into_owned())
                .collect();
            let refs: Vec<&str> = secrets.iter().map(String::as_str).collect();
            let result = client
                .post_json(GITHUB_REVOKE_URL, GITHUB_HOSTS, &request_body(&refs))
                .context("GitHub credential revocation");
            let scrub = |s: String| {
                let mut s = s;
                for t in &refs {
                    s = s.replace(t, "[redacted]");
                }
                s
            };
            match result {
                Ok((202, _)) => writeln!(
                    out,
                    "request {} of {}: GitHub accepted {} token(s) for revocation (202); their owners are notified",
                    n + 1,
                    batches.len(),
                    batch.len()
                )?,
                Ok((status, body)) => {
                    code = EXIT_ERROR;
                    eprintln!(
                        "error: GitHub revocation request {} answered {status}: {}",
                        n + 1,
                        scrub(body).lines().next().unwrap_or("")
                    );
                }
                Err(e) => {
                    code = EXIT_ERROR;
                    eprintln!("error: {}", scrub(format!("{e:#}")));
                }
            }
        }
        if !args.send {
            writeln!(
                out,
                "run again with --send to revoke them (GitHub cannot restore a revoked token)"
            )?;
        }
        writeln!(out)?;
    }

    writeln!(
        out,
        "Checklist ({} credential(s)):",
        without_secret.len() + others.len()
    )?;
    for i in without_secret.iter().chain(others.iter()) {
        let how = if GITHUB_REVOCABLE.contains(&i.rule.as_str()) {
            "GitHub's revocation API takes it: run `sprawl revoke --scan PATH` on where it was found (the report holds no secret)".to_string()
        } else {
            rules
                .get(&i.rule)
                .and_then(|r| r.revoke.clone())
                .unwrap_or_else(|| {
                    "no guidance in the rule: rotate or delete it at the provider".into()
                })
        };
        writeln!(
            out,
            "[ ] {} {} ({}) at {}{}\n    {}",
            i.title,
            i.redacted,
            i.fingerprint.short(),
            i.first_seen,
            if i.places > 1 {
                format!(" and {} more place(s)", i.places - 1)
            } else {
                String::new()
            },
            how
        )?;
    }
    out.flush()?;
    Ok(code)
}
