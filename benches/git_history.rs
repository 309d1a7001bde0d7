//! Whole-history scan of a repository given by path: wall time, blobs/s and MiB/s of blob
//! content, for the built-in rules, in this process (start-up, rule compilation and the
//! report excluded).
//!
//! ```text
//! cargo bench --bench git_history -- PATH [--threads N] [--runs N] [--all-objects]
//! ```
//!
//! For git/git: `git clone --bare --no-local` a copy of it (so it has one normal pack) and
//! give its path. For whole-process figures and peak memory, time the release binary with
//! `/usr/bin/time -v sprawl git PATH --no-progress -j 2`; the floor to compare with is one
//! thread of git decoding every object in pack order,
//! `git -C PATH cat-file --batch-all-objects --batch --unordered > /dev/null`.
//! Without a path (as `cargo bench` runs every bench) it prints how to run it and exits.

use std::{path::PathBuf, time::Instant};

use sprawl::{
    git_scan::{scan_git, GitMode, GitScanOptions},
    matcher::Matcher,
    progress::Progress,
    rules::RuleSet,
};

fn main() {
    let mut args = std::env::args().skip(1);
    let mut repo: Option<PathBuf> = None;
    let mut threads = 2;
    let mut runs = 3;
    let mut all_objects = false;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--threads" => threads = args.next().and_then(|v| v.parse().ok()).unwrap_or(2),
            "--runs" => runs = args.next().and_then(|v| v.parse().ok()).unwrap_or(3),
            "--all-objects" => all_objects = true,
            // What `cargo bench` passes (`--bench`) and filters.
            s if s.starts_with('-') => {}
            s => repo = Some(PathBuf::from(s)),
        }
    }
    let Some(repo) = repo.or_else(|| std::env::var_os("SPRAWL_BENCH_REPO").map(PathBuf::from))
    else {
        eprintln!(
            "git_history: give a repository: cargo bench --bench git_history -- PATH \
             [--threads N] [--runs N] [--all-objects] (or set SPRAWL_BENCH_REPO)"
        );
        return;
    };
    let rules = RuleSet::builtin().expect("built-in rules");
    let matcher = Matcher::new(&rules).expect("matcher");
    let opts = GitScanOptions {
        labels: None,
        repos: vec![repo.clone()],
        mode: GitMode::History { all_objects },
        max_file_size: 25 << 20,
        threads,
    };
    println!(
        "{} rules, {} threads, {}{}",
        rules.rules.len(),
        threads,
        repo.display(),
        if all_objects { " (--all-objects)" } else { "" }
    );
    for run in 1..=runs {
        let t = Instant::now();
        let out = scan_git(&matcher, &opts, &Progress::new(false, "blobs"));
        let s = t.elapsed().as_secs_f64();
        let st = &out.stats;
        println!(
            "run {run}: {s:.2} s, {} commits, {} blobs ({:.0} blobs/s), {:.0} MiB ({:.0} MiB/s), \
             {} findings, {} errors",
            st.commits,
            st.blobs,
            st.blobs as f64 / s,
            st.bytes as f64 / (1 << 20) as f64,
            st.bytes as f64 / (1 << 20) as f64 / s,
            out.findings.len(),
            st.errors
        );
    }
}
