//! `sprawl audit`: reports, inventories, a roster and a policy in, the lifecycle risks of
//! each credential out.

use std::path::PathBuf;

use anyhow::Result;

use super::{git_options, load_rules, open_output, scan_options, EXIT_CLEAN, EXIT_FINDINGS};
use crate::{
    cli::CommonArgs,
    config::ConfigFile,
    git_scan::{scan_git, GitMode},
    matcher::Matcher,
    progress::Progress,
    scan::scan_paths,
};

/// Owners to suggest for each secret: CODEOWNERS of where it was found, then the git
/// authors who introduced it.
fn suggest_owners(
    exposures: &[crate::audit::Exposure],
    roots: &[(String, PathBuf)],
) -> std::collections::HashMap<crate::finding::Fingerprint, Vec<String>> {
    let owners: Vec<(String, Option<crate::codeowners::CodeOwners>)> = roots
        .iter()
        .map(|(origin, root)| (origin.clone(), crate::codeowners::CodeOwners::find(root)))
        .collect();
    let mut out = std::collections::HashMap::new();
    for e in exposures {
        let mut list: Vec<String> = Vec::new();
        for o in &e.occurrences {
            if let Some((_, Some(co))) = owners.iter().find(|(origin, _)| *origin == o.origin) {
                for w in co.owners(&o.path) {
                    if !list.contains(&w) {
                        list.push(w);
                    }
                }
            }
        }
        for o in &e.occurrences {
            if let Some(email) = &o.email {
                if !list.contains(email) {
                    list.push(email.clone());
                }
            }
        }
        if !list.is_empty() {
            out.insert(e.fingerprint, list);
        }
    }
    out
}

pub fn audit(args: crate::cli::AuditArgs) -> Result<i32> {
    use crate::{audit, exposure, inventory};
    let cfg = match &args.policy {
        Some(p) => ConfigFile::load(p)?,
        None if std::path::Path::new(crate::config::CONFIG_FILE).is_file() => {
            ConfigFile::load(std::path::Path::new(crate::config::CONFIG_FILE))?
        }
        None => ConfigFile::default(),
    };
    let policy = cfg.audit.clone();
    let now = match &args.now {
        Some(t) => crate::time::parse_date_checked(t).map_err(|e| anyhow::anyhow!("--now: {e}"))?,
        None => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0),
    };
    let import = inventory::load_all(&args.inventory, args.inventory_format.as_deref())?;
    let mut roster_warnings = Vec::new();
    let roster = args
        .roster
        .as_deref()
        .map(|p| inventory::load_roster(p, &mut roster_warnings))
        .transpose()?;
    for w in &roster_warnings {
        eprintln!("warning: {w}");
    }

    let mut exposures = Vec::new();
    let mut roots: Vec<(String, PathBuf)> = Vec::new();
    for r in &args.reports {
        exposures.extend(exposure::from_report(r)?);
    }
    let common = CommonArgs {
        threads: args.threads,
        ..CommonArgs::default()
    };
    if args.validate && args.scan.is_empty() && args.git.is_empty() {
        eprintln!(
            "warning: --validate needs --scan or --git: a saved report holds no secrets to check"
        );
    }
    if !args.scan.is_empty() || !args.git.is_empty() {
        let rules = load_rules(&cfg, &[])?;
        let matcher = Matcher::new(&rules)?;
        // Opt-in: ask providers about the secrets these scans find (one request per secret).
        let mut validation = args.validate.then(|| {
            crate::validate::Session::new(&rules.validators, args.validate_cache.as_deref())
        });
        for p in &args.scan {
            let opts = scan_options(&cfg, &common, vec![p.clone()], &[], false, None)?;
            let mut o = scan_paths(&matcher, &opts, &Progress::disabled());
            if let Some(v) = &mut validation {
                v.run(&mut o.findings);
            }
            for e in &o.errors {
                eprintln!("error: {}: {}", e.path, e.message);
            }
            let origin = p.display().to_string();
            exposures.extend(exposure::from_findings(&o.findings, &origin));
            roots.push((origin, p.clone()));
        }
        for repo in &args.git {
            let opts = git_options(
                &cfg,
                &common,
                vec![repo.clone()],
                GitMode::History { all_objects: false },
            )?;
            let mut o = scan_git(&matcher, &opts, &Progress::disabled());
            if let Some(v) = &mut validation {
                v.run(&mut o.findings);
            }
            for e in &o.errors {
                eprintln!("error: {}: {}", e.path, e.message);
            }
            let origin = repo.display().to_string();
            exposures.extend(exposure::from_findings(&o.findings, &origin));
            roots.push((origin, repo.clone()));
        }
    }
    let exposures = exposure::merge(exposures);
    let suggestions = suggest_owners(&exposures, &roots);
    let result = audit::audit(
        exposures,
        &import.records,
        roster.as_ref(),
        &policy,
        now,
        &suggestions,
    );
    for w in &import.warnings {
        eprintln!("warning: {w}");
    }
    let mut out = open_output(args.output.as_deref())?;
    match args.format {
        crate::cli::AuditFormat::Text => {
            crate::report::audit_text::write(&result, &import.warnings, &mut out)?
        }
        crate::cli::AuditFormat::Json => {
            crate::report::audit_json::write(&result, &policy, &import.warnings, &mut out)?
        }
        crate::cli::AuditFormat::Sarif => crate::report::sarif::write_audit(&result, &mut out)?,
        crate::cli::AuditFormat::Csv => crate::report::csv::write_audit(&result, &mut out)?,
        crate::cli::AuditFormat::Html => {
            crate::report::html::write(&result, "sprawl audit report", &mut out)?
        }
    }
    out.commit()?;
    let fail_on = args
        .fail_on
        .or(policy.fail_on)
        .unwrap_or(crate::rules::Severity::High);
    Ok(match audit::worst(&result) {
        Some(w) if w >= fail_on => EXIT_FINDINGS,
        _ => EXIT_CLEAN,
    })
}
