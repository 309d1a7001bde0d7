//! Throughput of the matcher on one core, and of a whole `scan` of a generated tree.
//!
//! The corpus is generated: code-like lines (Python, JavaScript, YAML, Rust, shell, logs)
//! with the words that trip keyword prefilters (`key`, `token`, `secret`, `password`, URLs,
//! `sk-`), and one planted fake key every ~64 KiB. Run with `cargo bench --bench matcher`;
//! criterion prints MB/s, and the setup prints how many planted keys were found. Set
//! `SPRAWL_BENCH_FILE` to a file (e.g. a big tree's sources concatenated) to bench on it too.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use sprawl::{
    matcher::{Matcher, Scratch},
    progress::Progress,
    rules::{
        template::{expand, Rng},
        RuleSet,
    },
    scan::{scan_paths, ScanOptions},
    source::fs::WalkOptions,
};

const LINES: &[&str] = &[
    "def {w}_{w}(self, {w}, {w}=None):",
    "    return self.{w}.get('{w}', {n})",
    "    if not {w}_token: raise ValueError('missing {w} token')",
    "const {w}{W} = require('./{w}/{w}');",
    "export function {w}{W}({w}, {w}) {{ return {w}.{w}({n}); }}",
    "  {w}: {{ key: '{w}', value: {n}, enabled: true }},",
    "// TODO({w}): handle the {w} case when the api key is rotated",
    "# see https://docs.{w}.com/{w}/{w}?page={n} for the secret store",
    "{w}_{w}:\n  image: {w}/{w}:{n}.{n}\n  environment:\n    - {W}_PASSWORD_FILE=/run/secrets/{w}",
    "fn {w}_{w}(&mut self, {w}: &[u8]) -> Result<{W}, Error> {{",
    "    let {w} = {w}.iter().map(|x| x.{w}()).collect::<Vec<_>>();",
    "2024-06-0{d}T12:{n}:00Z INFO request id={h} path=/v1/{w} status=200 ms={n}",
    "2024-06-0{d}T12:{n}:00Z DEBUG headers={{\"content-type\": \"application/json\", \"x-request-id\": \"{h}\"}}",
    "export {W}_URL=https://{w}.{w}.internal:{n}/{w}",
    "    assert_eq!({w}.len(), {n}, \"{w} {w} {w}\");",
    "<div class=\"{w}-{w}\" data-{w}=\"{n}\">{w} {w} {w}</div>",
    "SELECT {w}, {w} FROM {w} WHERE {w}_id = {n} AND session_key IS NOT NULL;",
    "    \"integrity\": \"sha512-{h}{h}{h}\",",
    "    {w}_task_{w} = await client.{w}(sk=\"{w}\", limit={n})",
];

const WORDS: &[&str] = &[
    "user",
    "account",
    "config",
    "handler",
    "request",
    "response",
    "cache",
    "token",
    "session",
    "client",
    "server",
    "model",
    "prompt",
    "embedding",
    "vector",
    "index",
    "queue",
    "worker",
    "router",
    "parser",
    "buffer",
    "stream",
    "schema",
    "record",
    "secret",
    "keyring",
    "auth",
    "payload",
    "message",
    "channel",
    "deploy",
    "build",
    "metrics",
    "tracing",
    "openai",
    "github",
    "storage",
    "bucket",
    "table",
    "column",
    "filter",
    "mapper",
];

const KEYS: &[&str] = &[
    "OPENAI_API_KEY=sk-proj-{{b64url:74}}T3BlbkFJ{{b64url:74}}",
    "ANTHROPIC_API_KEY=sk-ant-api03-{{b64url:93}}AA",
    "token = \"ghp_{{alnum:30}}{{crc32}}\"",
    "GROQ_API_KEY=gsk_{{alnum:20}}WGdyb3FY{{alnum:24}}",
    "HF_TOKEN=hf_{{alpha:34}}",
    "aws_access_key_id = AKIA{{b32:16}}",
    "GEMINI_API_KEY=AIza{{b64url:35}}",
    "SLACK_BOT_TOKEN=xoxb-{{digits:12}}-{{digits:13}}-{{alnum:24}}",
];

/// About `size` bytes of code-like text with a planted key every ~64 KiB; returns the text
/// and how many keys were planted.
pub fn corpus(size: usize, seed: u64) -> (Vec<u8>, usize) {
    let mut rng = Rng::new(seed);
    let mut out = String::with_capacity(size + 4096);
    let mut planted = 0;
    let mut next_key = 65_536;
    while out.len() < size {
        let tpl = LINES[(rng.next_u64() % LINES.len() as u64) as usize];
        let mut line = String::with_capacity(tpl.len() + 64);
        let mut chars = tpl.chars().peekable();
        while let Some(c) = chars.next() {
            if c == '{' {
                if chars.peek() == Some(&'{') {
                    chars.next();
                    line.push('{');
                    continue;
                }
                let tag: String = chars.by_ref().take_while(|&c| c != '}').collect();
                let w = WORDS[(rng.next_u64() % WORDS.len() as u64) as usize];
                match tag.as_str() {
                    "w" => line.push_str(w),
                    "W" => line.push_str(&w.to_ascii_uppercase()),
                    "n" => line.push_str(&(rng.next_u64() % 1000).to_string()),
                    "d" => line.push_str(&(rng.next_u64() % 9 + 1).to_string()),
                    "h" => line.push_str(&rng.string(b"0123456789abcdef", 16)),
                    _ => {}
                }
            } else if c == '}' && chars.peek() == Some(&'}') {
                chars.next();
                line.push('}');
            } else {
                line.push(c);
            }
        }
        out.push_str(&line);
        out.push('\n');
        if out.len() >= next_key {
            let k = KEYS[planted % KEYS.len()];
            out.push_str(&expand(k, &mut rng));
            out.push('\n');
            planted += 1;
            next_key += 65_536;
        }
    }
    (out.into_bytes(), planted)
}

fn bench_matcher(c: &mut Criterion) {
    let rules = RuleSet::builtin().unwrap();
    let matcher = Matcher::new(&rules).unwrap();
    let (text, planted) = corpus(32 << 20, 42);
    let mut scratch = Scratch::default();
    let found = matcher.scan(&text, &mut scratch);
    let planted_found = found
        .iter()
        .filter(|m| !matcher.rule(m.rule).id.starts_with("generic."))
        .count();
    eprintln!(
        "corpus: {:.1} MiB, {planted} keys planted, {planted_found} found by specific rules, {} matches in all",
        text.len() as f64 / (1 << 20) as f64,
        found.len()
    );
    let mut g = c.benchmark_group("matcher");
    g.throughput(Throughput::Bytes(text.len() as u64));
    g.sample_size(10);
    g.bench_function("scan_32MiB_one_core", |b| {
        b.iter(|| black_box(matcher.scan(black_box(&text), &mut scratch)).len())
    });
    // A real corpus, when given: SPRAWL_BENCH_FILE=/path/to/concatenated/sources.
    if let Some(path) = std::env::var_os("SPRAWL_BENCH_FILE") {
        let real = std::fs::read(&path).expect("SPRAWL_BENCH_FILE readable");
        g.throughput(Throughput::Bytes(real.len() as u64));
        g.bench_function("scan_file_one_core", |b| {
            b.iter(|| black_box(matcher.scan(black_box(&real), &mut scratch)).len())
        });
    }
    g.finish();
}

fn bench_scan(c: &mut Criterion) {
    let rules = RuleSet::builtin().unwrap();
    let matcher = Matcher::new(&rules).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut total = 0u64;
    for i in 0..2000 {
        let (text, _) = corpus(16 << 10, i);
        total += text.len() as u64;
        let sub = dir.path().join(format!("d{}", i % 50));
        std::fs::create_dir_all(&sub).unwrap();
        std::fs::write(sub.join(format!("f{i}.py")), text).unwrap();
    }
    let opts = ScanOptions {
        paths: vec![dir.path().to_path_buf()],
        walk: WalkOptions {
            exclude: vec![],
            follow_symlinks: false,
            threads: 2,
        },
        max_file_size: 25 << 20,
        max_decompressed: 1 << 30,
    };
    let mut g = c.benchmark_group("scan");
    g.throughput(Throughput::Bytes(total));
    g.sample_size(10);
    g.bench_function("tree_2000_files_2_threads", |b| {
        b.iter(|| {
            scan_paths(&matcher, &opts, &Progress::disabled())
                .findings
                .len()
        })
    });
    g.finish();
}

criterion_group!(benches, bench_matcher, bench_scan);
criterion_main!(benches);
