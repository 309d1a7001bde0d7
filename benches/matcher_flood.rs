//! Hostile input timing (issue 11 item 3): for every built-in rule and each of its keywords,
//! 8 MiB of the keyword repeated (one per line, then all on one line) with the rule's first
//! example planted after it, scanned by the matcher on one core. Prints the total, the
//! slowest floods with their MB/s, and any flood after which the planted key was lost.
//!
//! `cargo bench --bench matcher_flood`; `SPRAWL_FLOOD_BYTES` changes the flood size and
//! `SPRAWL_FLOOD_RULES=private-key,pgp` keeps the rules whose id contains one of the words.

use std::time::Instant;

use sprawl::{
    matcher::{Matcher, Scratch},
    rules::{check::example_text, RuleSet},
};

fn main() {
    let size: usize = std::env::var("SPRAWL_FLOOD_BYTES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(8 << 20);
    let only: Vec<String> = std::env::var("SPRAWL_FLOOD_RULES")
        .map(|v| v.split(',').map(str::to_string).collect())
        .unwrap_or_default();
    let set = RuleSet::builtin().expect("built-in rules");
    let m = Matcher::new(&set).expect("matcher");
    let mut scratch = Scratch::default();
    let mut times: Vec<(f64, String)> = Vec::new();
    let mut lost = Vec::new();
    let mut bytes = 0usize;
    let started = Instant::now();
    for rule in &set.rules {
        if !only.is_empty() && !only.iter().any(|w| rule.id.contains(w.as_str())) {
            continue;
        }
        let example = example_text(&rule.id, 0, false, &rule.examples[0]);
        let secrets = |buf: &[u8], scratch: &mut Scratch| -> Vec<Vec<u8>> {
            let mut v: Vec<Vec<u8>> = m
                .scan(buf, scratch)
                .into_iter()
                .map(|r| buf[r.secret].to_vec())
                .collect();
            v.sort();
            v
        };
        let alone = secrets(example.as_bytes(), &mut scratch);
        for kw in &rule.keywords {
            for sep in ["\n", " "] {
                let unit = format!("{kw}{sep}");
                let mut buf = unit.repeat(size / unit.len() + 1).into_bytes();
                buf.extend_from_slice(b"\n\n");
                buf.extend_from_slice(example.as_bytes());
                buf.push(b'\n');
                let t = Instant::now();
                let got = secrets(&buf, &mut scratch);
                let secs = t.elapsed().as_secs_f64();
                bytes += buf.len();
                times.push((secs, format!("{} {kw:?} sep {sep:?}", rule.id)));
                if got != alone {
                    lost.push(format!("{} {kw:?} sep {sep:?}", rule.id));
                }
            }
        }
    }
    let total = started.elapsed().as_secs_f64();
    times.sort_by(|a, b| b.0.total_cmp(&a.0));
    println!(
        "keyword floods: {} scans of {:.1} MiB each, {:.1} GiB in {total:.1} s ({:.0} MB/s overall)",
        times.len(),
        size as f64 / (1 << 20) as f64,
        bytes as f64 / (1u64 << 30) as f64,
        bytes as f64 / 1e6 / total
    );
    println!("slowest:");
    for (secs, what) in times.iter().take(15) {
        println!(
            "  {secs:>7.3} s  {:>7.0} MB/s  {what}",
            size as f64 / 1e6 / secs
        );
    }
    if lost.is_empty() {
        println!("planted key found after every flood");
    } else {
        println!("planted key LOST after {} floods:", lost.len());
        for l in &lost {
            println!("  {l}");
        }
        std::process::exit(1);
    }
}
