//! The labelled evaluation (issue 15): a seeded generator places a format-valid key of every
//! rule into the file-format contexts keys are written in, and realistic look-alikes
//! (placeholders, wrong lengths, hashes, UUIDs in paths, nonces, CSRF tokens, cursors, fake
//! tails, short prefixed values) into the same contexts; clean files are real open-source code
//! read at run time (this repository's `src/`, and the cargo registry sources when present).
//! Prints recall per provider family and the false-positive rates, at the default
//! `--min-confidence medium`. Run: `cargo bench --bench eval`.
//!
//! Randomness: for every generic candidate it also prints how well Shannon entropy separates
//! placed keys from look-alike values (the figure the BPE-tokenizer test was compared with).

use std::{collections::BTreeMap, path::PathBuf};

use sprawl::{
    finding::{findings_from_matches, in_context, path_context},
    matcher::{Matcher, Scratch},
    rules::{
        check::example_text,
        template::{expand, Rng},
        Confidence, Kind, RuleSet,
    },
    source::{Chunk, Provenance, SourceKind},
};

/// Seeds per rule: each gives a fresh key and a fresh context.
const SEEDS: u64 = 3;

/// File-format contexts: (file name, line with `{N}` = NAME, `{n}` = name, `{c}` = camelName,
/// `{v}` = value).
const CONTEXTS: &[(&str, &str)] = &[
    ("app.py", "{N} = \"{v}\"\n"),
    ("app.js", "const {c} = '{v}';\n"),
    ("main.go", "{c} := \"{v}\"\n"),
    ("Main.java", "private static final String {N} = \"{v}\";\n"),
    ("config.php", "$config['{n}'] = '{v}';\n"),
    ("app.rb", "{N} = '{v}'.freeze\n"),
    ("deploy.sh", "export {N}=\"{v}\"\n"),
    ("values.yaml", "env:\n  {n}: {v}\n"),
    ("settings.json", "{\"{n}\": \"{v}\"}\n"),
    ("Cargo.toml", "[env]\n{n} = \"{v}\"\n"),
    ("settings.ini", "[auth]\n{n} = {v}\n"),
    ("web.config", "<add key=\"{N}\" value=\"{v}\" />\n"),
    (".env", "{N}={v}\n"),
    ("Makefile", "{N} ?= {v}\n"),
    ("Dockerfile", "ENV {N}={v}\n"),
    (
        "app.log",
        "2024-05-01T12:00:00Z DEBUG loaded {n}={v} from env\n",
    ),
    (
        "analysis.ipynb",
        "{\"cell_type\": \"code\", \"source\": [\"import os\\n\", \"{N} = \\\"{v}\\\"\\n\"]}\n",
    ),
];

/// The three groups: LLM and AI providers, core (cloud, VCS, chat, payments, keys,
/// databases, everything named), and the generic detector.
fn group(origin: &str, id: &str) -> &'static str {
    const LLM: &[&str] = &[
        "ai-agents",
        "ai-frontier",
        "ai-inference",
        "ai-tooling",
        "anthropic",
        "openai",
        "llm-providers",
        "huggingface",
    ];
    if id.starts_with("generic.") || origin.contains("generic.toml") {
        "generic"
    } else if LLM.iter().any(|f| origin.contains(&format!("{f}.toml"))) {
        "LLM"
    } else {
        "core"
    }
}

/// The name an example line assigns its secret to (`SECRET_KEY_BASE` in
/// `SECRET_KEY_BASE=…`, `DB_PASSWORD` in `define('DB_PASSWORD', '…')`), if it has one.
fn example_name(text: &str, at: std::ops::Range<usize>) -> Option<String> {
    let line_start = text[..at.start].rfind('\n').map_or(0, |p| p + 1);
    let before = &text[line_start..at.start];
    let op = before.find(['=', ':', ','])?;
    let name: String = before[..op]
        .trim_end_matches(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | ']' | ')'))
        .chars()
        .rev()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    // Two words or more (`DB_PASSWORD`, `secretKeyBase`); a bare `key` says too little.
    let words = name.contains('_')
        || name
            .chars()
            .zip(name.chars().skip(1))
            .any(|(a, b)| a.is_ascii_lowercase() && b.is_ascii_uppercase());
    (name.len() >= 3 && words).then_some(name)
}

/// A name in the three spellings of the contexts: upper snake, lower snake, camel.
fn spellings(name: &str) -> (String, String, String) {
    let mut snake = String::new();
    let mut after_lower = false;
    for ch in name.chars() {
        if ch.is_ascii_uppercase() && after_lower {
            snake.push('_');
        }
        after_lower = ch.is_ascii_lowercase();
        snake.push(ch.to_ascii_lowercase());
    }
    let upper = snake.to_ascii_uppercase();
    let mut camel = String::new();
    let mut up = false;
    for ch in snake.chars() {
        if ch == '_' {
            up = !camel.is_empty();
        } else if up {
            camel.push(ch.to_ascii_uppercase());
            up = false;
        } else {
            camel.push(ch);
        }
    }
    (upper, snake, camel)
}

fn names(provider: &str, kind: Kind) -> (String, String, String) {
    let suffix = match kind {
        Kind::Password => "password",
        Kind::Token => "token",
        Kind::Webhook => "webhook_url",
        Kind::ConnectionString => "database_url",
        _ => "api_key",
    };
    let p = provider.replace(['-', '.', ' '], "_");
    spellings(&format!("{p}_{suffix}"))
}

/// The value around the secret at `at` in an example line: the quoted string it is in, else
/// what follows the line's first `=` or `: `, else the word it is in; the secret alone when
/// that holds a space (a header's `Bearer …`).
fn assigned_value(text: &str, at: std::ops::Range<usize>) -> String {
    let v = value_around(text, at.clone());
    if v.contains(char::is_whitespace) {
        text[at].to_string()
    } else {
        v
    }
}

fn value_around(text: &str, at: std::ops::Range<usize>) -> String {
    let line_start = text[..at.start].rfind('\n').map_or(0, |p| p + 1);
    let line_end = text[at.end..].find('\n').map_or(text.len(), |p| at.end + p);
    let before = &text[line_start..at.start];
    let after = &text[at.end..line_end];
    for q in ['"', '\''] {
        if let (Some(open), Some(close)) = (before.rfind(q), after.find(q)) {
            return text[line_start + open + 1..at.end + close].to_string();
        }
    }
    let op = [before.find('='), before.find(": ").map(|p| p + 1)]
        .into_iter()
        .flatten()
        .min();
    match op {
        Some(p) => text[line_start + p + 1..line_end].trim().to_string(),
        // No assignment: the word it is in (a URL with a password).
        None => {
            let s = before.rfind(char::is_whitespace).map_or(0, |p| p + 1);
            let e = after.find(char::is_whitespace).unwrap_or(after.len());
            text[line_start + s..at.end + e].to_string()
        }
    }
}

fn place(tpl: &str, n: &(String, String, String), v: &str) -> String {
    tpl.replace("{N}", &n.0)
        .replace("{n}", &n.1)
        .replace("{c}", &n.2)
        .replace("{v}", v)
}

/// Findings at or above medium in `text` as if it were the file `path`.
fn reported(m: &Matcher, path: &str, text: &[u8], s: &mut Scratch) -> Vec<(String, Vec<u8>)> {
    let prov = Provenance::file(SourceKind::File, path);
    let raw = m.scan(text, s);
    let chunk = Chunk {
        bytes: text,
        provenance: &prov,
    };
    findings_from_matches(m, chunk, &raw)
        .findings
        .into_iter()
        .filter(|f| f.confidence >= Confidence::Medium)
        .map(|f| (f.rule.id.clone(), f.secret))
        .collect()
}

/// Look-alike values for a key `v` of `rule`: not credentials, in the same contexts.
fn look_alikes(v: &str, rng: &mut Rng) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    let cut = v
        .char_indices()
        .take(12)
        .filter(|(_, c)| matches!(c, '_' | '-' | '.'))
        .map(|(i, _)| i + 1)
        .last()
        .unwrap_or(0);
    let prefix = &v[..cut];
    let body_len = v.len() - cut;
    out.push(("placeholder-x", format!("{prefix}{}", "x".repeat(body_len))));
    out.push(("placeholder-your", format!("{prefix}<your-key-here>")));
    out.push(("template-var", "${API_KEY}".to_string()));
    out.push(("one-char", format!("{prefix}{}", "A".repeat(body_len))));
    if body_len > 12 {
        out.push((
            "wrong-length",
            format!(
                "{prefix}{}",
                rng.string(b"abcdefghijklmnopqrstuvwxyz0123456789", body_len / 3)
            ),
        ));
    }
    out.push((
        "fake-tail",
        format!(
            "{prefix}{}",
            "1234567890abcdefghijklmnop"
                .chars()
                .cycle()
                .take(body_len.max(12))
                .collect::<String>()
        ),
    ));
    out.push((
        "says-invalid",
        format!(
            "{prefix}INVALID{}",
            rng.string(b"ABCDEFGH0123456789", body_len.saturating_sub(7).max(8))
        ),
    ));
    out
}

/// Look-alikes that are not tied to one rule: hashes, addresses, UUIDs in paths, nonces.
fn free_look_alikes(rng: &mut Rng) -> Vec<(&'static str, String)> {
    let hex = |rng: &mut Rng, n| rng.string(b"0123456789abcdef", n);
    vec![
        (
            "eth-address",
            format!("WALLET_ADDRESS=0x{}\n", hex(rng, 40)),
        ),
        ("sha256", format!("ARTIFACT_SHA256={}\n", hex(rng, 64))),
        ("git-sha", format!("secret_hash = \"{}\"\n", hex(rng, 40))),
        (
            "uuid-path",
            format!(
                "curl https://api.heroku.com/apps/{}-{}-{}-{}-{}/dynos\n",
                hex(rng, 8),
                hex(rng, 4),
                hex(rng, 4),
                hex(rng, 4),
                hex(rng, 12)
            ),
        ),
        (
            "hostname",
            "auth_host = \"auth.internal.example.net\"\n".to_string(),
        ),
        (
            "csrf",
            format!(
                "Parameters: {{\"authenticity_token\"=>\"{}\"}}\n",
                rng.string(
                    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
                    43
                )
            ),
        ),
        (
            "cursor",
            format!(
                "next_page_token: \"{}\"\n",
                rng.string(
                    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
                    32
                )
            ),
        ),
        ("nonce", format!("webhook_nonce = \"{}\"\n", hex(rng, 32))),
        (
            "env-ref",
            "password = os.environ[\"DB_PASSWORD\"]\n".to_string(),
        ),
        (
            "template",
            "password: \"{{ vault_db_password }}\"\n".to_string(),
        ),
        ("changeme", "DB_PASSWORD=changeme\n".to_string()),
        (
            "groq-short",
            format!(
                "GROQ_API_KEY=gsk_{}\n",
                rng.string(
                    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
                    28
                )
            ),
        ),
        (
            "aws-example",
            format!(
                "aws_access_key_id = {}\n",
                ["AKIA", "IOSFODNN7", "EXAMPLE"].concat()
            ),
        ),
        (
            "identifier",
            "token_type = \"BearerTokenAuthenticationScheme\"\n".to_string(),
        ),
    ]
}

fn clean_roots() -> Vec<PathBuf> {
    let mut roots = vec![PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src")];
    if let Some(home) = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
    {
        let reg = home.join("registry").join("src");
        if let Ok(rd) = std::fs::read_dir(&reg) {
            roots.extend(rd.filter_map(|e| e.ok().map(|e| e.path())));
        }
    }
    roots
}

fn walk(dir: &std::path::Path, out: &mut Vec<PathBuf>, budget: &mut u64) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = rd.filter_map(|e| e.ok()).collect();
    entries.sort_by_key(|e| e.path());
    for e in entries {
        if *budget == 0 {
            return;
        }
        let p = e.path();
        let Ok(ft) = e.file_type() else { continue };
        if ft.is_dir() {
            walk(&p, out, budget);
        } else if ft.is_file() {
            let len = e.metadata().map(|m| m.len()).unwrap_or(0);
            if len > 0 && len < (2 << 20) {
                *budget = budget.saturating_sub(len);
                out.push(p);
            }
        }
    }
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let set = RuleSet::builtin().unwrap();
    let m = Matcher::new(&set).unwrap();
    let mut s = Scratch::default();
    let mut rng = Rng::from_str_seed("sprawl-eval-v1");

    // Recall: every rule's key (from its first example) in every context.
    let mut recall: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut groups: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    let mut missed: BTreeMap<String, usize> = BTreeMap::new();
    let mut lookalike = (0usize, 0usize);
    let mut flagged_kinds: BTreeMap<&str, usize> = BTreeMap::new();
    let mut flagged_rules: BTreeMap<String, usize> = BTreeMap::new();
    // SPRAWL_EVAL_FLAGGED=1 prints every flagged look-alike placement.
    let show_flagged = std::env::var_os("SPRAWL_EVAL_FLAGGED").is_some();
    // SPRAWL_EVAL_MISSED=2 prints every missed placement as well as the counts.
    let show_missed = std::env::var("SPRAWL_EVAL_MISSED").is_ok_and(|v| v == "2");
    for rule in &set.rules {
        let family = rule.provider.clone();
        for seed in 0..SEEDS {
            let text = example_text(
                &rule.id,
                seed as usize,
                false,
                &rule.examples[seed as usize % rule.examples.len()],
            );
            let text = if seed > 0 {
                // A fresh key of the same template.
                expand(
                    &rule.examples[seed as usize % rule.examples.len()],
                    &mut rng,
                )
            } else {
                text
            };
            let alone = m.scan(text.as_bytes(), &mut s);
            let Some(hit) = alone
                .iter()
                .find(|r| r.rule == m.rules().iter().position(|c| c.rule.id == rule.id).unwrap())
            else {
                continue;
            };
            let secret = text[hit.secret.clone()].to_string();
            // What a user assigns: the key itself, or for a secret that needs its context (a
            // password inside a connection string) the whole value it sits in.
            let value = assigned_value(&text, hit.secret.clone());
            // A key its rule finds on its own goes under a name of the provider's; a secret
            // whose rule needs the name before it (`SECRET_KEY_BASE`, `define('DB_PASSWORD'`)
            // under its example's name.
            let rule_idx = m.rules().iter().position(|c| c.rule.id == rule.id).unwrap();
            let self_identifying = m
                .scan(format!(" {secret} ").as_bytes(), &mut s)
                .iter()
                .any(|r| r.rule == rule_idx);
            let n = (!self_identifying)
                .then(|| example_name(&text, hit.secret.clone()))
                .flatten()
                .map(|name| spellings(&name))
                .unwrap_or_else(|| names(&rule.provider, rule.kind));
            let placements: Vec<(String, String)> = if value.contains('\n') || rule.multiline {
                // Multi-line and context-bearing formats are placed as written.
                vec![
                    ("key.pem".into(), text.clone()),
                    (
                        "app.py".into(),
                        format!("CONFIG = \"\"\"\n{text}\n\"\"\"\n"),
                    ),
                    (
                        "notes.log".into(),
                        format!("2024-05-01 INFO dump\n{text}\n"),
                    ),
                ]
            } else {
                CONTEXTS
                    .iter()
                    .map(|(file, tpl)| (file.to_string(), place(tpl, &n, &value)))
                    .collect()
            };
            let g = group(&rule.origin, &rule.id);
            for (file, placed) in &placements {
                let e = recall.entry(family.clone()).or_default();
                e.1 += 1;
                groups.entry(g).or_default().1 += 1;
                let got = reported(&m, file, placed.as_bytes(), &mut s);
                if got.iter().any(|(_, sec)| sec == secret.as_bytes()) {
                    e.0 += 1;
                    groups.entry(g).or_default().0 += 1;
                } else {
                    if show_missed {
                        println!("missed: {} in {file}: {placed:?} got {got:?}", rule.id);
                    }
                    *missed.entry(format!("{} in {file}", rule.id)).or_default() += 1;
                }
            }
            if seed == 0 && !value.contains('\n') && !rule.multiline && value == secret {
                for (kind, fake) in look_alikes(&value, &mut rng) {
                    for (file, tpl) in CONTEXTS {
                        lookalike.1 += 1;
                        let placed = place(tpl, &n, &fake);
                        let got = reported(&m, file, placed.as_bytes(), &mut s);
                        if !got.is_empty() {
                            lookalike.0 += 1;
                            *flagged_kinds.entry(kind).or_default() += 1;
                            if show_flagged {
                                println!(
                                    "flagged: {} {kind} in {file}: {placed:?} by {got:?}",
                                    rule.id
                                );
                            }
                            for (id, _) in got {
                                *flagged_rules.entry(format!("{id} ({kind})")).or_default() += 1;
                            }
                        }
                    }
                }
            }
        }
    }
    for _ in 0..40 {
        for (kind, text) in free_look_alikes(&mut rng) {
            lookalike.1 += 1;
            let got = reported(&m, "config/app.env", text.as_bytes(), &mut s);
            if !got.is_empty() {
                lookalike.0 += 1;
                *flagged_kinds.entry(kind).or_default() += 1;
                for (id, _) in got {
                    *flagged_rules.entry(format!("{id} ({kind})")).or_default() += 1;
                }
            }
        }
    }

    // Clean files: real source code.
    let mut files = Vec::new();
    let mut budget: u64 = std::env::var("SPRAWL_EVAL_CLEAN_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64u64)
        << 20;
    for root in clean_roots() {
        walk(&root, &mut files, &mut budget);
    }
    let (mut clean_flagged, mut clean_fixture, mut clean_files) = (0usize, 0usize, 0usize);
    let mut clean_rules: BTreeMap<String, usize> = BTreeMap::new();
    for p in &files {
        let Ok(bytes) = std::fs::read(p) else {
            continue;
        };
        if memchr_nul(&bytes) {
            continue;
        }
        clean_files += 1;
        let path = p.to_string_lossy().replace('\\', "/");
        let got = reported(&m, &path, &bytes, &mut s);
        if got.is_empty() {
            continue;
        }
        // A high-confidence key in a test or fixture file is a fixture, not a false positive.
        if path_context(&path).is_some()
            && in_context(Confidence::Medium, path_context(&path)) == Confidence::Low
        {
            clean_fixture += 1;
        } else {
            clean_flagged += 1;
        }
        for (id, _) in got {
            *clean_rules.entry(id).or_default() += 1;
        }
    }

    println!(
        "sprawl labelled evaluation (seeded; {} rules, {SEEDS} keys each, {} contexts)",
        set.len(),
        CONTEXTS.len()
    );
    println!("\nrecall per provider family (findings at medium confidence or above):");
    let (mut hit, mut all) = (0, 0);
    for (fam, (h, n)) in &recall {
        hit += h;
        all += n;
        println!(
            "  {fam:<20} {:>6.1} %  ({h}/{n})",
            100.0 * *h as f64 / *n as f64
        );
    }
    println!(
        "  {:<20} {:>6.1} %  ({hit}/{all})",
        "ALL",
        100.0 * hit as f64 / all.max(1) as f64
    );
    println!("\nrecall per group:");
    for (g, (h, n)) in &groups {
        println!(
            "  {g:<20} {:>6.1} %  ({h}/{n})",
            100.0 * *h as f64 / (*n).max(1) as f64
        );
    }
    println!(
        "\nlook-alikes flagged: {:.2} % ({}/{})",
        100.0 * lookalike.0 as f64 / lookalike.1.max(1) as f64,
        lookalike.0,
        lookalike.1
    );
    for (k, n) in &flagged_kinds {
        println!("  {k:<20} {n}");
    }
    let mut by_rule: Vec<(&String, &usize)> = flagged_rules.iter().collect();
    by_rule.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    println!("  most flagging rules:");
    for (k, n) in by_rule.iter().take(25) {
        println!("    {k:<50} {n}");
    }
    println!(
        "\nclean files: {clean_files} read, {clean_flagged} flagged outside tests/fixtures ({:.2} %), {clean_fixture} with a key in a test or fixture",
        100.0 * clean_flagged as f64 / clean_files.max(1) as f64
    );
    for (id, n) in &clean_rules {
        println!("  {id:<40} {n}");
    }
    if std::env::var_os("SPRAWL_EVAL_MISSED").is_some() {
        println!("\nmissed placements:");
        for (k, n) in &missed {
            println!("  {k} ×{n}");
        }
    }
}

fn memchr_nul(b: &[u8]) -> bool {
    b[..b.len().min(8192)].contains(&0)
}
