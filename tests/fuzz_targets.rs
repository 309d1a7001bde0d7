//! The fuzz targets of `sprawl::fuzz` on stable, through bolero: each runs on its seed
//! corpus, then on a bounded number of mutated seeds and random inputs (200 by default;
//! `SPRAWL_FUZZ_ITERATIONS=N` for a campaign, which then prints execs and execs/s).
//! The seeds are generated here from the rules' examples, the README's formats and
//! hand-made hostile shapes; `write_fuzz_corpus` writes them to `fuzz/corpus/NAME/` for
//! `cargo fuzz`.

use std::time::Instant;

use sprawl::{
    fuzz,
    rules::{check::example_text, RuleSet},
};

use crate::util::*;

/// Mutations applied to a seed: (which seed, [(operation, position, argument)], bytes).
type Input = (u16, Vec<(u8, u16, u16)>, Vec<u8>);

/// Fragments that hostile inputs are made of, spliced in by the mutator.
const TOKENS: &[&[u8]] = &[
    b"\\u",
    b"\\u0073",
    b"\\ud800",
    b"\\/",
    b"\\\"",
    b"\"",
    b"{",
    b"}",
    b"[",
    b"]",
    b",",
    b":",
    b"\n",
    b"\r\n",
    b"\0",
    b"\xff",
    b"\xc3\xa9",
    b"\xe2\x80\xa6",
    b"-----BEGIN ",
    b"PRIVATE KEY-----",
    b"-----END ",
    b"=",
    b"[[rules]]",
    b"{{",
    b"}}",
    b"{{alnum:65536}}",
    b"{{crc32}}",
    b"9999",
    b"-",
    b"+",
    b"T",
    b"Z",
    b"1e308",
    b"*",
    b"**",
    b"/",
    b"#",
    b"\t",
    b"'",
    b"null",
    b"true",
    b"18446744073709551615",
    b"-1",
    b"0x",
    b"2024-02-30",
    b"+a\xc3\xa9",
    b"\\",
    b"@",
    b"%",
];

fn mutate(seeds: &[Vec<u8>], (pick, ops, bytes): &Input) -> Vec<u8> {
    // One input in eight is raw random bytes; the rest start from a seed.
    let mut out = match *pick as usize % 8 {
        0 => Vec::new(),
        _ => seeds[*pick as usize % seeds.len()].clone(),
    };
    for &(op, pos, arg) in ops.iter().take(16) {
        let at = |len: usize| {
            if len == 0 {
                0
            } else {
                pos as usize % (len + 1)
            }
        };
        let p = at(out.len());
        match op % 8 {
            0 if p < out.len() => out[p] = arg as u8,
            1 => out.insert(p, arg as u8),
            2 => {
                let end = (p + arg as usize % 64).min(out.len());
                out.drain(p..end);
            }
            3 => {
                let end = (p + arg as usize % 256).min(out.len());
                let piece = out[p..end].to_vec();
                let times = 1 + arg as usize % 8;
                for _ in 0..times {
                    out.splice(p..p, piece.iter().copied());
                }
            }
            4 => {
                out.splice(p..p, bytes.iter().copied());
            }
            5 => out.truncate(p),
            6 => {
                let other = &seeds[arg as usize % seeds.len()];
                let from = at(other.len()).min(other.len());
                let end = (from + arg as usize % 512).min(other.len());
                out.splice(p..p, other[from..end].iter().copied());
            }
            _ => {
                let t = TOKENS[arg as usize % TOKENS.len()];
                out.splice(p..p, t.iter().copied());
            }
        }
    }
    if out.is_empty() {
        out = bytes.clone();
    }
    out
}

/// Run `target` on every seed, then on `quick` mutated inputs through bolero (or as many as
/// `SPRAWL_FUZZ_ITERATIONS` says).
fn run(name: &str, target: fn(&[u8]), seeds: Vec<Vec<u8>>, quick: usize) {
    assert!(!seeds.is_empty(), "{name}: no seeds");
    for s in &seeds {
        target(s);
    }
    let iterations: Option<usize> = std::env::var("SPRAWL_FUZZ_ITERATIONS")
        .ok()
        .and_then(|v| v.parse().ok());
    let started = Instant::now();
    let n = iterations.unwrap_or(quick);
    bolero::check!()
        .with_type::<Input>()
        .with_iterations(n)
        .for_each(|input| {
            let data = mutate(&seeds, input);
            // SPRAWL_FUZZ_DUMP=FILE keeps the input of a failure, to replay it by hand.
            let outcome = std::panic::catch_unwind(|| target(&data));
            if let Err(panic) = outcome {
                if let Ok(path) = std::env::var("SPRAWL_FUZZ_DUMP") {
                    let _ = std::fs::write(&path, &data);
                }
                std::panic::resume_unwind(panic);
            }
        });
    if iterations.is_some() {
        let secs = started.elapsed().as_secs_f64();
        eprintln!(
            "fuzz {name}: {n} execs in {secs:.1} s = {:.0} execs/s, 0 panics ({} seeds)",
            n as f64 / secs,
            seeds.len()
        );
    }
}

/// The README's fenced code blocks of a language.
fn readme_blocks(lang: &str) -> Vec<Vec<u8>> {
    let readme = include_str!("../README.md");
    let mut out = Vec::new();
    let mut cur: Option<String> = None;
    for line in readme.lines() {
        match &mut cur {
            None if line.trim_start() == format!("```{lang}") => cur = Some(String::new()),
            Some(b) if line.trim_start().starts_with("```") => {
                out.push(std::mem::take(b).into_bytes());
                cur = None;
            }
            Some(b) => {
                b.push_str(line);
                b.push('\n');
            }
            None => {}
        }
    }
    out
}

/// Every built-in rule's examples, expanded (positive and negative).
fn example_texts() -> Vec<Vec<u8>> {
    let set = RuleSet::builtin().unwrap();
    let mut out = Vec::new();
    for r in &set.rules {
        for (i, t) in r.examples.iter().enumerate() {
            out.push(example_text(&r.id, i, false, t).into_bytes());
        }
        for (i, t) in r.negative_examples.iter().enumerate() {
            out.push(example_text(&r.id, i, true, t).into_bytes());
        }
    }
    out
}

fn notebook_seeds() -> Vec<Vec<u8>> {
    let k = openai_key("fuzz-nb");
    let g = github_key("fuzz-nb");
    let escaped = g.replacen("ghp_", "gh\\u0070_", 1);
    let v4 = serde_json::json!({
        "nbformat": 4, "nbformat_minor": 5, "metadata": {},
        "cells": [
            {"cell_type": "markdown", "source": ["# Title\n", "text\n"], "metadata": {}},
            {"cell_type": "code", "source": format!("key = \"{k}\"\n"), "metadata": {},
             "execution_count": 1, "outputs": [
                {"output_type": "stream", "name": "stdout", "text": ["a/b\n", format!("{g}\n")]},
                {"output_type": "execute_result", "metadata": {}, "execution_count": 1,
                 "data": {"text/plain": "42", "image/png": "iVBORw0KGgo=", "text/html": ["<b>x</b>"]}},
                {"output_type": "error", "ename": "E", "evalue": "v", "traceback": ["line a", "line b"]}
            ]}
        ]
    });
    let v3 = serde_json::json!({"nbformat": 3, "worksheets": [{"cells": [
        {"cell_type": "code", "input": ["a = 1\n"], "outputs": [{"output_type": "pyout", "text": ["1"], "html": ["<i>"]}]}
    ]}]});
    vec![
        serde_json::to_vec_pretty(&v4).unwrap(),
        serde_json::to_vec(&v4).unwrap(),
        serde_json::to_vec(&v3).unwrap(),
        format!(r#"{{"cells":[{{"source":["t = '{escaped}'\n","\u00e9\/\ud83d\ude00"]}}]}}"#)
            .into_bytes(),
        b"{\"cells\": [{\"source\": [\"x\"], \"outputs\": [[[[]]]]}]}".to_vec(),
    ]
}

fn config_seeds() -> Vec<Vec<u8>> {
    let mut s = readme_blocks("toml");
    s.retain(|b| !String::from_utf8_lossy(b).contains("[[rules]]"));
    s.push(
        b"[scan]\nexclude = [\"vendor/**\"]\nmax_file_size = \"25MiB\"\nrules = [\"r.toml\"]\n\
          baseline = \"b.json\"\n[audit]\nstale_after_days = 90\nmax_age_days = 365\n"
            .to_vec(),
    );
    s.push(b"[scan]\nmax_file_size = 18446744073709551615\n".to_vec());
    s
}

fn rule_seeds() -> Vec<Vec<u8>> {
    let mut out = readme_blocks("toml");
    out.retain(|b| String::from_utf8_lossy(b).contains("[[rules]]"));
    let mut files: Vec<_> = std::fs::read_dir("rules")
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    // One seed per built-in rule, so each run compiles one rule, not a whole file.
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        for block in text.split("[[rules]]").skip(1) {
            out.push(format!("[[rules]]{block}").into_bytes());
        }
    }
    out
}

fn template_seeds() -> Vec<Vec<u8>> {
    let set = RuleSet::builtin().unwrap();
    let mut out: Vec<Vec<u8>> = set
        .rules
        .iter()
        .flat_map(|r| r.examples.iter().chain(&r.negative_examples))
        .map(|t| t.as_bytes().to_vec())
        .collect();
    out.sort();
    out.dedup();
    out.push(b"{{alnum:}}{{crc32}}{{hex:4}}{{nope:3}}{{b64:65537}}{{b64url:9".to_vec());
    out
}

fn inventory_seeds() -> Vec<Vec<u8>> {
    let mut bodies = readme_blocks("json");
    bodies.extend(readme_blocks("csv"));
    let fp = format!("sha256:{}", "ab".repeat(32));
    bodies.push(
        format!(
            r#"[{{"id":"k1","provider":"openai","fingerprint":"{fp}","owner":"a@example.com","status":"active","created_at":"2023-11-14T23:13:20+00:00","expires_at":"2024-02-30"}}]"#
        )
        .into_bytes(),
    );
    bodies.push(b"id,provider,hint,owner,status,created_at\nk2,github,ghp_...abcd,b@example.com,revoked,2020-01-01\n".to_vec());
    bodies.push(br#"{"data":[{"id":"key_1","name":"n","redacted_value":"sk-proj-...abcd","created_at":1700000000,"last_used_at":null}]}"#.to_vec());
    bodies.push(br#"{"data":[{"id":"apikey_1","name":"n","partial_key_hint":"sk-ant-api03-...abcd","status":"active","created_at":"2024-01-01T00:00:00Z"}]}"#.to_vec());
    let akid = key("AKIA{{upper:16}}", "fuzz-akid");
    bodies.push(format!(r#"{{"AccessKeyMetadata":[{{"UserName":"u","AccessKeyId":"{akid}","Status":"Active","CreateDate":"2020-01-01T00:00:00Z"}}]}}"#).into_bytes());
    bodies.push(br#"{"UserName":"u","AccessKeyLastUsed":{"LastUsedDate":"2024-01-01T00:00:00Z","ServiceName":"s3","Region":"us-east-1"}}"#.to_vec());
    bodies.push(b"user,arn,user_creation_time,password_enabled,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date\nu,arn:aws:iam::1:user/u,2020-01-01T00:00:00+00:00,false,true,2020-01-01T00:00:00+00:00,N/A\n".to_vec());
    bodies.push(br#"[{"name":"projects/p/serviceAccounts/sa@p.iam.gserviceaccount.com/keys/0123456789abcdef","validAfterTime":"2020-01-01T00:00:00Z","validBeforeTime":"9999-12-31T23:59:59Z","keyType":"USER_MANAGED"}]"#.to_vec());
    bodies.push(br#"[{"credential_id":1,"credential_type":"personal access token","login":"octo","token_last_eight":"abcd1234","credential_authorized_at":"2020-01-01T00:00:00Z"}]"#.to_vec());
    bodies.push(b"email,name,team\na@example.com,A,core\n".to_vec());
    bodies.push(
        format!(r#"{{"schema":"sprawl.report/v1","findings":[{{"rule":"github.pat","fingerprint":"{fp}","redacted":"ghp_…abcd","location":{{"path":"a","line":1,"column":1}}}}]}}"#)
            .into_bytes(),
    );
    let formats = sprawl::inventory::FORMATS.len() as u8 + 3;
    let mut out = Vec::new();
    for b in &bodies {
        for f in 0..formats {
            out.push([&[f][..], b].concat());
        }
    }
    out
}

fn baseline_seeds() -> Vec<Vec<u8>> {
    let fp = format!("sha256:{}", "cd".repeat(32));
    vec![
        format!(r#"{{"schema":"sprawl.baseline/v1","entries":[{{"fingerprint":"{fp}","rule":"r","path":"a","line":1}}]}}"#).into_bytes(),
        br#"{"schema":"sprawl.baseline/v1","entries":[]}"#.to_vec(),
        br#"{"schema":"other","entries":[{"fingerprint":"sha256:zz"}]}"#.to_vec(),
    ]
}

fn date_seeds() -> Vec<Vec<u8>> {
    [
        "2023-11-14T23:13:20Z",
        "2023-11-14T23:13:20+01:00",
        "2023-11-14T23:13:20.123456-05:30",
        "2023-11-14 23:13:20",
        "2023-11-14",
        "1700000000",
        "2024-02-30",
        "10000-01-01",
        "1e308",
        "2023-11-14T23:13:20+a\u{e9}",
        "N/A",
        "-62135596800",
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect()
}

fn size_seeds() -> Vec<Vec<u8>> {
    [
        "25MiB",
        "10MB",
        "1000",
        "1.5k",
        "1G",
        "18446744073709551615",
        "1e30GiB",
        "5 parsecs",
        "",
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect()
}

fn codeowners_seeds() -> Vec<Vec<u8>> {
    vec![
        b"# owners\n* @org/all\n/src/ @org/core a@example.com\ndocs/**/*.md @docs\n[Section]\n!neg @x\n*.rs\n"
            .to_vec(),
        b"**/\\[a-z]/ @o\n/a/b/c/ @o\n\\#not-a-comment @o\n".to_vec(),
    ]
}

fn matcher_seeds() -> Vec<Vec<u8>> {
    let mut s = example_texts();
    s.push(b"-----BEGIN RSA PRIVATE KEY-----\n-----BEGIN RSA PRIVATE KEY-----\n".repeat(20));
    // Found by a CI run: a stray continuation byte opening a password (columns count
    // characters, and the byte is none).
    let alnum = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let password: String = (0..20u64)
        .map(|i| alnum[(i * 2_654_435_761 % 977) as usize % alnum.len()] as char)
        .collect();
    let mut line = b"x\xc3\xa9=postgres://app:\x80".to_vec();
    line.extend(password.bytes());
    line.extend_from_slice(b"@db.internal:5432/app");
    s.push(line);
    // Found by a campaign: a password that starts with its rule's keyword and is short
    // (it was shown whole as the "prefix").
    // (Built in pieces, so this file holds no URL with a password.)
    s.push(
        [
            &b"bolt:"[..],
            b"//neo4j\x16:neo4j",
            "\u{2026}@localhost:7687\n".as_bytes(),
        ]
        .concat(),
    );
    s
}

fn stream_seeds() -> Vec<Vec<u8>> {
    // Examples eight to a text, so lines of several kinds cross window cuts.
    let mut s: Vec<Vec<u8>> = example_texts()
        .chunks(8)
        .enumerate()
        .map(|(i, group)| [&[(i * 37) as u8][..], &group.join(&b"\n"[..])].concat())
        .collect();
    // Private-key blocks among floods of their own headers (issue 11 item 3): a BEGIN must
    // pair with its own END wherever a window starts.
    let keys: Vec<Vec<u8>> = example_texts()
        .into_iter()
        .filter(|t| t.starts_with(b"-----BEGIN") && t.len() < 1500)
        .take(6)
        .collect();
    assert!(
        !keys.is_empty(),
        "no short private-key example to seed with"
    );
    for (i, key) in keys.iter().enumerate() {
        let flood = b"-----BEGIN RSA PRIVATE KEY-----\n-----BEGIN PGP PRIVATE KEY BLOCK-----\n";
        s.push(
            [
                &[(i * 2 + 1) as u8][..],
                &flood.repeat(10),
                key,
                b"\n",
                &flood.repeat(3),
                key,
            ]
            .concat(),
        );
    }
    // Found by a fuzz run: a connection string repeated on one 10 KB line without newlines,
    // where matches of other rules span repetitions.
    let alnum = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let password: Vec<u8> = (0..22u64)
        .map(|i| alnum[(i * 2_654_435_761 % 991) as usize % alnum.len()])
        .collect();
    s.push(
        [
            &[73u8][..],
            b"NEO4J_URI=neo4j+s://neo4j:",
            &password,
            b"@ab34.databases.neo4j.i\0\0\0\0\0eo4j.i\0\0\0\0\0e\xfao4j.i\0\0\0\0\0",
        ]
        .concat(),
    );
    s.push([&[83u8][..], b"discord_secret = \"", &password].concat());
    s.push(
        [
            &[31u8][..],
            b"elasticsearch_api_key = \"",
            &password,
            b"_API_KE",
        ]
        .concat(),
    );
    // Found by a fuzz run: `name =` at a line's end and the value on the next, repeated, so
    // merged windows let the regex start on either line depending on where scanning began.
    s.push([&[0xab][..], b"auth0_token = \n\"eyJ", &password[..19]].concat());
    // Found by a fuzz run: `token = "…` repeated on one line without newlines or a closing
    // quote: scanned from its start nothing matches, from inside a repetition every
    // repetition does, so the streamed scan (starting inside the line) finds what the whole
    // buffer does not.
    let body = [&b"token = \"polar_pat_"[..], b"Vq-9G1", b"ptqS2"].concat();
    s.push([&[0xcf][..], &body.repeat(4), b"toke"].concat());
    s
}

fn seeds(name: &str) -> Vec<Vec<u8>> {
    match name {
        "notebook" => notebook_seeds(),
        "config_toml" => config_seeds(),
        "rule_toml" => rule_seeds(),
        "rule_template" => template_seeds(),
        "inventory" => inventory_seeds(),
        "baseline" => baseline_seeds(),
        "date" => date_seeds(),
        "size" => size_seeds(),
        "codeowners" => codeowners_seeds(),
        "matcher" => matcher_seeds(),
        "stream" => stream_seeds(),
        other => panic!("no seeds for fuzz target {other}"),
    }
}

fn target(name: &str) -> fn(&[u8]) {
    fuzz::TARGETS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, f)| *f)
        .unwrap()
}

macro_rules! fuzz_tests {
    ($($name:ident: $quick:expr),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                let n = stringify!($name);
                run(n, target(n), seeds(n), $quick);
            }
        )*

        #[test]
        fn every_target_has_a_test_and_a_cargo_fuzz_file() {
            let tested = [$(stringify!($name)),*];
            for (name, _) in fuzz::TARGETS {
                assert!(tested.contains(name), "fuzz target {name} has no test");
                let file = format!("fuzz/fuzz_targets/{name}.rs");
                let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{file}: {e}"));
                assert!(text.contains(&format!("sprawl::fuzz::{name}(")), "{file}");
            }
            assert_eq!(tested.len(), fuzz::TARGETS.len());
        }
    };
}

// Random inputs per target in a normal test run (the expensive ones fewer).
fuzz_tests!(
    notebook: 200,
    config_toml: 300,
    rule_toml: 30,
    rule_template: 300,
    inventory: 200,
    baseline: 300,
    date: 500,
    size: 500,
    codeowners: 20,
    matcher: 200,
    stream: 30,
);

/// `SPRAWL_WRITE_CORPUS=1 cargo test --test tests write_fuzz_corpus -- --ignored` writes the
/// seeds to `fuzz/corpus/NAME/` for `cargo fuzz run NAME`.
#[test]
#[ignore = "writes fuzz/corpus for cargo fuzz"]
fn write_fuzz_corpus() {
    for (name, _) in fuzz::TARGETS {
        let dir = std::path::Path::new("fuzz/corpus").join(name);
        std::fs::create_dir_all(&dir).unwrap();
        for (i, s) in seeds(name).iter().enumerate() {
            std::fs::write(dir.join(format!("seed-{i:04}")), s).unwrap();
        }
    }
}
