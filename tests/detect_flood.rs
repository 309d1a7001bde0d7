//! Hostile input for the matcher (issue 11 item 3): every rule's keyword repeated over 8 MB,
//! with one of the rule's own examples planted after it. The flood alone yields nothing the
//! example would not, and the planted key is still found: the scan finished and saw it. The
//! time is measured by the matcher bench (`keyword_flood`), not asserted here.

use sprawl::{
    matcher::{Matcher, Scratch},
    rules::{check::example_text, RuleSet},
};

/// Bytes of repeated keyword for the multi-line rules (the ones that were quadratic), and
/// for every rule in the ignored full run (`cargo test -- --ignored every_keyword_8mb`).
const FLOOD: usize = 8 << 20;
/// Bytes of repeated keyword per single-line rule in the normal suite (a debug build).
const FLOOD_SUITE: usize = 256 << 10;

/// `keyword` + `sep` repeated to `size` bytes.
fn flood(keyword: &str, sep: &str, size: usize) -> Vec<u8> {
    let unit = format!("{keyword}{sep}");
    unit.repeat(size / unit.len() + 1).into_bytes()
}

/// The secrets (text) the matcher reports in `buf`, by rule id.
fn found(m: &Matcher, buf: &[u8], scratch: &mut Scratch) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<(String, Vec<u8>)> = m
        .scan(buf, scratch)
        .into_iter()
        .map(|r| (m.rule(r.rule).id.clone(), buf[r.secret].to_vec()))
        .collect();
    v.sort();
    v
}

fn flood_every_rule(sep: &str, size: usize, all_big: bool) {
    let size = std::env::var("SPRAWL_FLOOD_BYTES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(size);
    let set = RuleSet::builtin().unwrap();
    let m = Matcher::new(&set).unwrap();
    let mut scratch = Scratch::default();
    let mut problems = Vec::new();
    for rule in &set.rules {
        let example = example_text(&rule.id, 0, false, &rule.examples[0]);
        let alone = found(&m, example.as_bytes(), &mut scratch);
        assert!(
            alone.iter().any(|(id, _)| id == &rule.id),
            "{}: its first example is not found",
            rule.id
        );
        let size = if all_big || rule.multiline {
            size
        } else {
            size.min(FLOOD_SUITE)
        };
        for kw in &rule.keywords {
            let mut buf = flood(kw, sep, size);
            buf.extend_from_slice(b"\n\n");
            buf.extend_from_slice(example.as_bytes());
            buf.push(b'\n');
            let t = std::time::Instant::now();
            let with_key = found(&m, &buf, &mut scratch);
            if std::env::var_os("SPRAWL_FLOOD_TIMES").is_some() {
                eprintln!(
                    "{:>8.3}s {} {kw:?} {sep:?}",
                    t.elapsed().as_secs_f64(),
                    rule.id
                );
            }
            // The secrets must be the example's; which rule reports one may change when the
            // flood itself completes a pattern (`kind: Secret` lines before a Secret's data).
            let secrets = |v: &[(String, Vec<u8>)]| {
                let mut s: Vec<Vec<u8>> = v.iter().map(|(_, s)| s.clone()).collect();
                s.sort();
                s
            };
            if secrets(&with_key) != secrets(&alone) {
                problems.push(format!(
                    "{} keyword {kw:?} sep {sep:?}: {} findings, expected the example's {}",
                    rule.id,
                    with_key.len(),
                    alone.len()
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn every_keyword_flooded_line_by_line() {
    flood_every_rule("\n", FLOOD, false);
}

#[test]
fn every_keyword_flooded_on_one_line() {
    flood_every_rule(" ", FLOOD, false);
}

#[test]
#[ignore = "scans 8 MB per keyword of every rule: a few minutes in a debug build"]
fn every_keyword_8mb_every_rule() {
    flood_every_rule("\n", FLOOD, true);
    flood_every_rule(" ", FLOOD, true);
}

/// Class 2: a short encrypted PEM block must end at its own END line, not run on into the
/// next key; both keys are reported, each whole.
#[test]
fn short_encrypted_pem_block_does_not_swallow_the_next_key() {
    use sprawl::rules::template::{expand, Rng};
    let set = RuleSet::builtin().unwrap();
    let m = Matcher::new(&set).unwrap();
    let mut rng = Rng::from_str_seed("pem40");
    let first = expand(
        "-----BEGIN ENCRYPTED PRIVATE KEY-----\n{{b64:40}}\n-----END ENCRYPTED PRIVATE KEY-----",
        &mut rng,
    );
    let second = expand(
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEpA{{b64:58}}\n{{b64:64}}\n{{b64:64}}\n-----END RSA PRIVATE KEY-----",
        &mut rng,
    );
    let text = format!("{first}\n\nsome text\n{second}\n");
    let got = found(&m, text.as_bytes(), &mut Scratch::default());
    let secrets: Vec<&[u8]> = got.iter().map(|(_, s)| s.as_slice()).collect();
    assert_eq!(secrets.len(), 2, "{got:?}");
    assert!(secrets.contains(&first.as_bytes()));
    assert!(secrets.contains(&second.as_bytes()));
}
