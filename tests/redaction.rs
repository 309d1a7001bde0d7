//! Issue 9 item 1: no output route shows 12 or more consecutive characters of a secret's
//! random part unless `--show-secrets`. Every built-in rule's generated examples (whatever
//! rules exist) go through every format of `scan` and of `audit --scan`, the baseline file,
//! and stderr (warnings, errors); a file named after a key, a key in a config error and a key
//! on the command line are included, since those reach messages.

use std::path::Path;

use aho_corasick::AhoCorasick;
use sprawl::rules::{check::example_text, Kind, RuleSet};

use crate::util::*;

const WINDOW: usize = 12;

/// The part of `secret` that is random: without the rule's public prefix (the longest
/// keyword it starts with), and for a private key without its armor lines.
fn random_part(secret: &str, keywords: &[String], kind: Kind) -> Vec<String> {
    if kind == Kind::PrivateKey {
        return secret
            .split(['\n', '\r'])
            .flat_map(|l| l.split("\\n"))
            .filter(|l| !l.starts_with("-----"))
            .map(String::from)
            .collect();
    }
    let prefix = keywords
        .iter()
        .filter(|k| {
            secret
                .get(..k.len())
                .is_some_and(|h| h.eq_ignore_ascii_case(k))
        })
        .map(|k| k.len())
        .max()
        .unwrap_or(0);
    // A webhook URL's scheme, host and fixed path up to its keyword are the vendor's public
    // address, not random (redaction shows none of it anyway).
    let lower = secret.to_ascii_lowercase();
    let url_prefix = if lower.starts_with("http") {
        keywords
            .iter()
            .filter_map(|k| lower.find(&k.to_ascii_lowercase()).map(|at| at + k.len()))
            .max()
            .unwrap_or(0)
    } else {
        0
    };
    vec![secret[prefix.max(url_prefix)..].to_string()]
}

fn run(dir: &Path, args: &[&str]) -> (String, i32) {
    let out = sprawl().current_dir(dir).args(args).output().unwrap();
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (text, out.status.code().unwrap_or(-1))
}

#[test]
fn no_format_shows_a_secrets_random_part() {
    let set = RuleSet::builtin().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let tree = dir.path().join("tree");
    let mut n = 0;
    for r in &set.rules {
        for (i, t) in r.examples.iter().enumerate() {
            let text = example_text(&r.id, i, false, t);
            let ext = if r.ignore_names_ending.is_empty() {
                "txt"
            } else {
                "cfg"
            };
            write_tree(&tree, &[(&format!("ex{n:05}.{ext}"), text.as_bytes())]);
            n += 1;
        }
    }
    // Side routes: a file named after a key.
    let named = github_key("file-name-key");
    write_tree(&tree, &[(&format!("{named}.txt"), b"nothing\n")]);
    let named_dir = tree.join(openai_key("dir-name-key"));
    write_tree(
        &named_dir,
        &[(
            "x.env",
            format!("T={}\n", github_key("in-named-dir")).as_bytes(),
        )],
    );

    // Ground truth: every secret found, with its rule.
    let (v, code) = scan_json(&[tree.to_str().unwrap(), "--show-secrets"]);
    assert_eq!(code, 1);
    let mut pieces: Vec<String> = Vec::new();
    let mut rules_seen = std::collections::HashSet::new();
    for f in findings(&v) {
        let rule = set
            .rules
            .iter()
            .find(|r| r.id == f["rule"].as_str().unwrap())
            .unwrap();
        rules_seen.insert(rule.id.clone());
        if rule.secret_is_key_id {
            // The secret is a public key id (an AWS access key id): printed by design.
            continue;
        }
        let secret = f["secret"].as_str().unwrap();
        pieces.extend(random_part(secret, &rule.keywords, rule.kind));
    }
    // Every rule whose secret is a secret was exercised (a public key id, such as a Twilio
    // Account SID reported only beside its auth token, is printed by design).
    let missing: Vec<&str> = set
        .rules
        .iter()
        .filter(|r| !r.examples.is_empty() && !r.secret_is_key_id && !rules_seen.contains(&r.id))
        .map(|r| r.id.as_str())
        .collect();
    assert!(
        missing.is_empty(),
        "rules not found in their own examples: {missing:?}"
    );
    for k in [&named, &openai_key("dir-name-key")] {
        pieces.push(k[4..].to_string());
    }
    let config_key = github_key("config-line-key");
    pieces.push(config_key[4..].to_string());
    let argv_key = github_key("argv-key");
    pieces.push(argv_key[4..].to_string());

    let mut windows: Vec<String> = Vec::new();
    for p in &pieces {
        let chars: Vec<char> = p.chars().collect();
        for w in chars.windows(WINDOW) {
            windows.push(w.iter().collect());
        }
    }
    windows.sort();
    windows.dedup();
    assert!(windows.len() > 1000, "only {} windows", windows.len());
    let ac = AhoCorasick::new(&windows).unwrap();

    let t = tree.to_str().unwrap();
    let mut outputs: Vec<(String, String)> = Vec::new();
    for fmt in ["text", "json", "jsonl", "sarif", "csv", "html"] {
        let (o, code) = run(dir.path(), &["scan", t, "--format", fmt]);
        assert_eq!(code, 1, "{fmt}: {o}");
        outputs.push((format!("scan --format {fmt}"), o));
    }
    let (o, _) = run(
        dir.path(),
        &["scan", t, "--write-baseline", "baseline.json"],
    );
    outputs.push(("scan --write-baseline (stdout)".into(), o));
    let baseline = std::fs::read_to_string(dir.path().join("baseline.json")).unwrap();
    outputs.push(("baseline file".into(), baseline));
    write_tree(dir.path(), &[("register.json", b"[]")]);
    for fmt in ["text", "json", "csv", "sarif", "html"] {
        let (o, code) = run(
            dir.path(),
            &[
                "audit",
                "--inventory",
                "register.json",
                "--inventory-format",
                "native-json",
                "--now",
                "2025-06-01",
                "--format",
                fmt,
                "--scan",
                t,
            ],
        );
        assert!(code == 0 || code == 1, "audit {fmt}: {o}");
        outputs.push((format!("audit --format {fmt}"), o));
    }
    // Messages: a key in a config file that is not valid TOML, a key as a command-line value.
    write_tree(
        dir.path(),
        &[(
            "bad.toml",
            format!("[scan]\ntoken = {config_key}\n").as_bytes(),
        )],
    );
    let (o, code) = run(dir.path(), &["scan", t, "--config", "bad.toml"]);
    assert_eq!(code, 2, "{o}");
    outputs.push(("config error".into(), o));
    let (o, code) = run(dir.path(), &["scan", &format!("{t}/{argv_key}")]);
    assert_eq!(code, 2, "{o}");
    outputs.push(("missing path named after a key".into(), o));
    let (o, _) = run(
        dir.path(),
        &["scan", t, "--exclude", &format!("[{argv_key}")],
    );
    outputs.push(("--exclude error".into(), o));

    for (what, text) in &outputs {
        if let Some(m) = ac.find(text.as_str()) {
            let at = m.start();
            let from = text[..at]
                .char_indices()
                .rev()
                .nth(60)
                .map_or(0, |(i, _)| i);
            let to = (m.end() + 40).min(text.len());
            panic!(
                "{what}: shows {WINDOW}+ characters of a secret ({:?}): …{}…",
                &windows[m.pattern().as_usize()],
                text.get(from..to).unwrap_or("")
            );
        }
    }

    // And --show-secrets does show them, in CSV too.
    let (o, _) = run(
        dir.path(),
        &["scan", t, "--format", "csv", "--show-secrets"],
    );
    assert!(
        ac.find(o.as_str()).is_some(),
        "--show-secrets shows secrets in CSV"
    );
}
