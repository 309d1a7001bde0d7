//! `sprawl merge`: shard stores into one store (see `Store::merge`); and the JSON reports of
//! shards in (`sprawl git --shard K/N --format json`),
//! one report out, the one a single process would have written over all their repositories:
//! findings in report order, errors sorted, counts added up (`seconds`: the longest shard,
//! as the shards ran side by side).
//!
//! A report is read as JSON and its findings are passed through as written, so nothing a
//! shard reported is lost or reshaped (and none holds a secret unless the shard was run with
//! `--show-secrets`).

use std::{collections::BTreeMap, io::Write};

use anyhow::{bail, Context, Result};
use serde_json::Value;

use super::{open_output, EXIT_CLEAN, EXIT_FINDINGS};
use crate::{cli::MergeArgs, report::json::SCHEMA};

/// The order `sort_findings` gives: path, line, column, cell, cell line, rule, fingerprint,
/// commit.
fn sort_key(
    f: &Value,
) -> (
    String,
    u64,
    u64,
    Option<u64>,
    u64,
    String,
    String,
    Option<String>,
) {
    let l = &f["location"];
    let s = |v: &Value| v.as_str().unwrap_or_default().to_string();
    (
        s(&l["path"]),
        l["line"].as_u64().unwrap_or(0),
        l["column"].as_u64().unwrap_or(0),
        l["cell"].as_u64(),
        l["cell_line"].as_u64().unwrap_or(0),
        s(&f["rule"]),
        s(&f["fingerprint"]),
        f["git"]["commit"].as_str().map(str::to_string),
    )
}

pub fn merge(args: MergeArgs) -> Result<i32> {
    let (stores, reports): (Vec<_>, Vec<_>) = args
        .reports
        .iter()
        .cloned()
        .partition(|p| crate::store::is_store(p));
    if !stores.is_empty() {
        let Some(to) = &args.store else {
            return Err(super::UsageError(format!(
                "{} is a store: merging stores needs --store FILE (the merged store)",
                stores[0].display()
            ))
            .into());
        };
        let (added, twice) = crate::store::Store::merge(to, &stores)?;
        for t in &twice {
            eprintln!("warning: repository {t} is in more than one store: the first kept");
        }
        eprintln!(
            "store {}: {added} repositories merged from {} stores",
            to.display(),
            stores.len()
        );
        if reports.is_empty() {
            return Ok(EXIT_CLEAN);
        }
    }
    merge_reports(&MergeArgs {
        reports,
        store: None,
        output: args.output.clone(),
    })
}

fn merge_reports(args: &MergeArgs) -> Result<i32> {
    let mut out = open_output(args.output.as_deref())?;
    let mut stats: BTreeMap<&str, u64> = BTreeMap::new();
    let mut skipped: BTreeMap<&str, u64> = BTreeMap::new();
    let mut seconds: f64 = 0.0;
    let mut errors: Vec<(String, String)> = Vec::new();
    let mut findings: Vec<Value> = Vec::new();
    // Which report each repository came from: one repository in two reports means they
    // are not shards of one run.
    let mut repo_in: BTreeMap<String, usize> = BTreeMap::new();
    for (i, p) in args.reports.iter().enumerate() {
        let shown = p.display();
        let text = std::fs::read_to_string(p).with_context(|| format!("reading report {shown}"))?;
        let v: Value = serde_json::from_str(&text).map_err(|e| {
            anyhow::anyhow!(
                "report {shown}: not a sprawl JSON report (line {}, column {})",
                e.line(),
                e.column()
            )
        })?;
        if v["schema"] != SCHEMA {
            bail!("report {shown}: not a `{SCHEMA}` report (merge reads `--format json` reports)");
        }
        for k in ["files", "blobs", "commits", "bytes", "errors"] {
            *stats.entry(k).or_default() += v["stats"][k].as_u64().unwrap_or(0);
        }
        for k in ["binary", "too_large"] {
            *skipped.entry(k).or_default() += v["stats"]["skipped"][k].as_u64().unwrap_or(0);
        }
        seconds = seconds.max(v["stats"]["seconds"].as_f64().unwrap_or(0.0));
        for e in v["errors"].as_array().into_iter().flatten() {
            errors.push((
                e["path"].as_str().unwrap_or_default().to_string(),
                e["message"].as_str().unwrap_or_default().to_string(),
            ));
        }
        for f in v["findings"].as_array().into_iter().flatten() {
            if let Some(r) = f["repository"].as_str() {
                let first = *repo_in.entry(r.to_string()).or_insert(i);
                if first != i {
                    eprintln!(
                        "warning: repository {r} is in both {} and {shown}: these are not shards \
                         of one run",
                        args.reports[first].display()
                    );
                    repo_in.insert(r.to_string(), i);
                }
            }
            findings.push(f.clone());
        }
    }
    findings.sort_by_cached_key(sort_key);
    errors.sort();
    let mut stats_v = serde_json::Map::new();
    for k in ["files", "blobs", "commits", "bytes"] {
        stats_v.insert(k.into(), stats[k].into());
    }
    stats_v.insert(
        "skipped".into(),
        serde_json::json!({"binary": skipped["binary"], "too_large": skipped["too_large"]}),
    );
    stats_v.insert("errors".into(), stats["errors"].into());
    stats_v.insert("seconds".into(), seconds.into());
    let any = !findings.is_empty();
    let merged = serde_json::json!({
        "schema": SCHEMA,
        "tool": {"name": "sprawl", "version": env!("CARGO_PKG_VERSION")},
        "stats": Value::Object(stats_v),
        "errors": errors
            .into_iter()
            .map(|(path, message)| serde_json::json!({"path": path, "message": message}))
            .collect::<Vec<_>>(),
        "findings": findings,
    });
    serde_json::to_writer_pretty(&mut out, &merged)?;
    out.write_all(b"\n")?;
    out.commit()?;
    Ok(if any { EXIT_FINDINGS } else { EXIT_CLEAN })
}
