//! `sprawl audit`: reports, inventories, a roster and a policy in, the lifecycle risks of
//! each credential out.

use std::{io::Write, path::PathBuf};

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

/// CODEOWNERS owners of each occurrence, where the scanned tree is at hand.
fn codeowners(exposures: &mut [crate::audit::Exposure], roots: &[(String, PathBuf)]) {
    let owners: Vec<(String, Option<crate::codeowners::CodeOwners>)> = roots
        .iter()
        .map(|(origin, root)| (origin.clone(), crate::codeowners::CodeOwners::find(root)))
        .collect();
    for e in exposures {
        for o in &e.occurrences {
            if let Some((_, Some(co))) = owners.iter().find(|(origin, _)| *origin == o.origin) {
                for w in co.owners(&o.path) {
                    if !e.codeowners.contains(&w) {
                        e.codeowners.push(w);
                    }
                }
            }
        }
    }
}

/// A scan root as the user would name it: relative to the current directory when inside it.
fn shown_root(root: &std::path::Path) -> String {
    let cwd = std::env::current_dir()
        .ok()
        .and_then(|c| c.canonicalize().ok());
    match cwd.as_deref().and_then(|c| root.strip_prefix(c).ok()) {
        Some(rel) if rel.as_os_str().is_empty() => ".".to_string(),
        Some(rel) => rel.display().to_string(),
        None => root.display().to_string(),
    }
}

/// The rules' own revoke / rotate instructions and lifetimes, for exposures read from
/// reports.
fn fill_from_rules(exposures: &mut [crate::audit::Exposure], rules: &crate::rules::RuleSet) {
    for e in exposures
        .iter_mut()
        .filter(|e| e.revoke.is_none() || e.lifetime.is_none())
    {
        if let Some(r) = rules.rules.iter().find(|r| r.id == e.rule) {
            e.revoke = e.revoke.take().or_else(|| r.revoke.clone());
            e.lifetime = e.lifetime.or(Some(r.lifetime));
        }
    }
}

/// The revoke / rotate instructions for an inventory record: among the rules of its
/// provider that have some, the one whose keyword starts the record's hint or key id, else
/// the text they all share; `None` when the provider's rules disagree and nothing decides.
fn record_revoke(
    r: &crate::inventory::InventoryRecord,
    rules: &crate::rules::RuleSet,
) -> Option<String> {
    let provider = r.provider.as_deref()?;
    let of_provider: Vec<&std::sync::Arc<crate::rules::Rule>> = rules
        .rules
        .iter()
        .filter(|x| x.provider == provider && x.revoke.is_some())
        .collect();
    let shown: Vec<&str> = [
        r.hint.as_ref().map(|h| h.prefix.as_str()),
        r.key_id.as_deref(),
    ]
    .into_iter()
    .flatten()
    .filter(|s| !s.is_empty())
    .collect();
    // The rule whose keyword the shown prefix starts with, the longest keyword winning; a
    // vendor may show a prefix without its trailing separator (`sk-admin` for `sk-admin-`).
    let by_keyword = of_provider
        .iter()
        .filter_map(|x| {
            x.keywords
                .iter()
                .map(|k| k.trim_end_matches(['-', '_']))
                .filter(|k| {
                    k.len() >= 2
                        && shown.iter().any(|s| {
                            s.as_bytes()
                                .get(..k.len())
                                .is_some_and(|b| b.eq_ignore_ascii_case(k.as_bytes()))
                        })
                })
                .map(str::len)
                .max()
                .map(|n| (n, x))
        })
        .max_by_key(|(n, _)| *n)
        .map(|(_, x)| x);
    if let Some(x) = by_keyword {
        return x.revoke.clone();
    }
    let first = of_provider.first()?.revoke.as_deref();
    of_provider
        .iter()
        .all(|x| x.revoke.as_deref() == first)
        .then(|| first.map(String::from))
        .flatten()
}

/// Whether a file is a sprawl scan report (by its content).
fn is_report(p: &std::path::Path) -> bool {
    use std::io::Read;
    let mut head = vec![0u8; 4096];
    let n = std::fs::File::open(p)
        .and_then(|mut f| f.read(&mut head))
        .unwrap_or(0);
    let t = String::from_utf8_lossy(&head[..n]);
    t.trim_start().starts_with('{') && t.contains(crate::report::json::SCHEMA)
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
    // Which file is what: --inventory files are inventories unless they are sprawl reports;
    // positional files are reports unless they are not (then they are read as inventories).
    let mut inputs: Vec<(Option<String>, PathBuf)> = args
        .inventory
        .iter()
        .map(|p| inventory::parse_input(p))
        .collect();
    let mut reports: Vec<PathBuf> = Vec::new();
    for r in &args.reports {
        if is_report(r) || !r.is_file() {
            reports.push(r.clone());
        } else {
            eprintln!(
                "note: {} is not a sprawl report; read as an inventory export",
                r.display()
            );
            inputs.push(inventory::parse_input(r));
        }
    }
    if let Some(f) = &args.inventory_format {
        match inputs.as_mut_slice() {
            [(forced @ None, _)] => *forced = Some(f.clone()),
            [_] => {}
            _ => anyhow::bail!(
                "--inventory-format applies to one file; with several, give each as FORMAT:FILE \
                 (e.g. --inventory gcp-keys:keys.json)"
            ),
        }
    }
    if inputs.is_empty() {
        anyhow::bail!("no inventory: give each export with --inventory FILE");
    }
    let mut import = inventory::load_all(&inputs);
    for (file, what) in &import.read_as {
        if args.format == crate::cli::AuditFormat::Text {
            eprintln!("read {file} as {what}");
        }
    }
    for r in std::mem::take(&mut import.reports) {
        eprintln!(
            "note: {} is a sprawl report, not an inventory: audited as findings",
            r.display()
        );
        reports.push(r);
    }
    let mut roster_warnings = Vec::new();
    let roster = args
        .roster
        .as_deref()
        .map(|p| inventory::load_roster(p, &mut roster_warnings))
        .transpose()?;
    import.warnings.extend(roster_warnings);

    let mut exposures = Vec::new();
    let mut roots: Vec<(String, PathBuf)> = Vec::new();
    let mut left_out = import.errors.clone();
    for r in &reports {
        match exposure::from_report(r) {
            Ok(e) => exposures.extend(e),
            Err(e) => left_out.push(format!("{e:#}")),
        }
    }
    let common = CommonArgs {
        threads: args.threads,
        ..CommonArgs::default()
    };
    let rules = load_rules(&cfg, &[])?;
    if args.validate && args.scan.is_empty() && args.git.is_empty() {
        eprintln!(
            "warning: --validate needs --scan or --git: a saved report holds no secrets to check"
        );
    }
    if !args.scan.is_empty() || !args.git.is_empty() {
        let matcher = Matcher::new(&rules)?;
        // Opt-in: ask providers about the secrets these scans find (one request per secret).
        let mut validation = args.validate.then(|| {
            crate::validate::Session::new(&rules.validators, args.validate_cache.as_deref())
        });
        for p in &args.scan {
            // Paths as `sprawl scan` reports them (relative to the repository root or the
            // current directory), so that in-process answers equal those from saved reports.
            let opts = scan_options(&cfg, &common, vec![p.clone()], &[], false, None)?;
            let mut o = scan_paths(&matcher, &opts, &Progress::disabled());
            super::redact_places(&matcher, &mut o);
            if let Some(v) = &mut validation {
                v.run(&mut o.findings);
            }
            for e in &o.errors {
                eprintln!("error: {}: {}", e.path, e.message);
            }
            // Paths are relative to `root`. The origin (a place, for `shared`) is the
            // repository when the argument lies in one (two arguments in one repository are
            // one place), else the argument itself.
            let root = o.base.clone().unwrap_or_else(|| p.clone());
            let origin = if root.join(".git").exists() {
                shown_root(&root)
            } else {
                p.display().to_string()
            };
            exposures.extend(exposure::from_findings(&o.findings, &origin));
            roots.push((origin, root));
        }
        for repo in &args.git {
            let opts = git_options(
                &cfg,
                &common,
                vec![repo.clone()],
                GitMode::History { all_objects: false },
            )?;
            let mut o = scan_git(&matcher, &opts, &Progress::disabled());
            super::redact_places(&matcher, &mut o);
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
    let mut exposures = exposure::merge(exposures, |rule| {
        rules
            .rules
            .iter()
            .any(|r| r.id == rule && r.regex.contains("(?P<key_id>"))
    });
    codeowners(&mut exposures, &roots);
    fill_from_rules(&mut exposures, &rules);
    let records = std::mem::take(&mut import.records);
    let mut result = audit::audit(exposures, records, roster.as_ref(), &policy, now);
    for m in &mut result.records {
        m.revoke = record_revoke(&m.record, &rules);
    }
    if let Some(p) = &args.attest {
        let list = audit::attest::load(p)?;
        audit::attest::apply(&mut result, &list, &p.display().to_string());
    }
    let fail_on = args
        .fail_on
        .or(policy.fail_on)
        .unwrap_or(crate::rules::Severity::High);
    let deltas = match &args.compare {
        Some(p) => Some(audit::compare::compare(&audit::compare::load(p)?, &result)),
        None => None,
    };
    for w in &import.warnings {
        eprintln!("warning: {w}");
    }
    for e in &left_out {
        eprintln!("error: {e}");
    }
    let mut out = open_output(args.output.as_deref())?;
    if args.attest_template {
        out.write_all(audit::attest::template(&result, fail_on).as_bytes())?;
        out.commit()?;
        return Ok(EXIT_CLEAN);
    }
    let notes = crate::report::audit_json::Notes {
        warnings: &import.warnings,
        errors: &left_out,
        deltas: deltas.as_deref(),
    };
    match args.format {
        crate::cli::AuditFormat::Text => {
            crate::report::audit_text::write(&result, &notes, &mut out)?
        }
        crate::cli::AuditFormat::Json => {
            crate::report::audit_json::write(&result, &policy, &notes, &mut out)?
        }
        crate::cli::AuditFormat::Sarif => crate::report::sarif::write_audit(&result, &mut out)?,
        crate::cli::AuditFormat::Csv => crate::report::csv::write_audit(&result, &mut out)?,
        crate::cli::AuditFormat::Html => {
            crate::report::html::write(&result, "sprawl audit report", &mut out)?
        }
    }
    out.commit()?;
    if !left_out.is_empty() {
        eprintln!(
            "sprawl: {} input file(s) left out (above); the audit covers the rest (exit 2)",
            left_out.len()
        );
        return Ok(super::EXIT_ERROR);
    }
    let failing = match &deltas {
        Some(d) if args.fail_on_new => d.iter().any(|d| d.worse.is_some_and(|w| w >= fail_on)),
        _ => audit::worst(&result).is_some_and(|w| w >= fail_on),
    };
    Ok(if failing { EXIT_FINDINGS } else { EXIT_CLEAN })
}
