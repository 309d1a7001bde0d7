//! Shared helpers: run the real binary, build temp trees, make fake format-valid keys.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use sprawl::rules::template::{expand, Rng};

/// The binary under test: the one this crate builds, or the one `SPRAWL_TEST_BIN` names (to run
/// the regression tests against an older build and see them fail there).
pub fn sprawl_bin() -> PathBuf {
    match std::env::var_os("SPRAWL_TEST_BIN") {
        Some(p) => PathBuf::from(p),
        None => assert_cmd::cargo::cargo_bin("sprawl"),
    }
}

/// The `sprawl` binary, with no progress bar and no colour.
pub fn sprawl() -> Command {
    let mut c = Command::new(sprawl_bin());
    c.env("NO_COLOR", "1");
    c
}

/// A fake, format-valid key from a template, seeded so tests are repeatable.
pub fn key(template: &str, seed: &str) -> String {
    expand(template, &mut Rng::from_str_seed(seed))
}

pub fn openai_key(seed: &str) -> String {
    key("sk-proj-{{b64url:74}}T3BlbkFJ{{b64url:74}}", seed)
}

pub fn anthropic_key(seed: &str) -> String {
    key("sk-ant-api03-{{b64url:93}}AA", seed)
}

pub fn github_key(seed: &str) -> String {
    key("ghp_{{alnum:30}}{{crc32}}", seed)
}

/// Write `files` (relative path, contents) under `root`, creating directories.
pub fn write_tree(root: &Path, files: &[(&str, &[u8])]) {
    for (rel, body) in files {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, body).unwrap();
    }
}

/// Run a scan with JSON output and parse it.
pub fn scan_json(args: &[&str]) -> (serde_json::Value, i32) {
    let out = sprawl()
        .arg("scan")
        .args(args)
        .args(["--format", "json", "--no-progress"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "bad json ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (v, out.status.code().unwrap())
}

pub fn findings(v: &serde_json::Value) -> &Vec<serde_json::Value> {
    v["findings"].as_array().unwrap()
}

pub fn rules_of(v: &serde_json::Value) -> Vec<String> {
    findings(v)
        .iter()
        .map(|f| f["rule"].as_str().unwrap().to_string())
        .collect()
}

/// Write one text file under `root`, creating directories.
pub fn write_file(root: &Path, rel: &str, body: &str) {
    write_tree(root, &[(rel, body.as_bytes())]);
}

/// Commit every file of the work tree as `name <email>` at `time` (unix seconds), on top of
/// HEAD when there is one; returns the commit id.
pub fn commit_all(
    repo: &git2::Repository,
    (name, email): (&str, &str),
    time: i64,
    msg: &str,
) -> git2::Oid {
    let mut index = repo.index().unwrap();
    index
        .add_all(["*"].iter(), git2::IndexAddOption::DEFAULT, None)
        .unwrap();
    index.write().unwrap();
    let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
    let s = git2::Signature::new(name, email, &git2::Time::new(time, 0)).unwrap();
    let parent = repo.head().ok().and_then(|h| h.peel_to_commit().ok());
    let parents: Vec<&git2::Commit> = parent.iter().collect();
    repo.commit(Some("HEAD"), &s, &s, msg, &tree, &parents)
        .unwrap()
}

/// Run `cmd` and return its output, after checking it exited with `code` (what it printed
/// is shown when not).
pub fn run_expecting(cmd: &mut Command, code: i32) -> std::process::Output {
    let out = cmd.output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(code),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}
