//! Every shell example in README.md runs here, as written.
//!
//! How the README marks its code blocks (the info string after the opening fence):
//!
//! - ` ```sh ` runs. Each command (a line, with `\` continuations joined) runs with `bash` in
//!   one temporary directory prepared from `tests/readme/files/` (placeholders such as
//!   `{{alnum:30}}` expanded with a fixed seed, so fake keys are the same on every run) and
//!   then `tests/readme/setup.sh` (a git repository: `v1.2.0` = `origin/main` = a first commit,
//!   HEAD = a commit adding the files). The directory persists from block to block, in README
//!   order, so an example may use what an earlier one wrote. `sprawl` is the binary under test.
//!   A `sprawl` command (or a pipeline ending in one) may exit 0 (nothing found) or 1
//!   (findings); anything else must exit 0.
//! - ` ```sh network ` needs the network (vendor APIs): not run.
//! - ` ```sh bench ` measures (release builds, hyperfine): run only by the ignored test
//!   `readme_bench_examples`, in the source tree.
//! - ` ```text output ` right after a `sh` block: what its last command prints on stdout.
//!   A line `...` matches any number of lines; `[..]` matches any text within a line.
//! - Any other block (toml, json, yaml, text) is not a shell example.
//!
//! Two commands are rewritten because they are this test's own build: `cargo run --release --`
//! runs the binary under test, and `cargo test` (this suite) is not re-entered.

use std::{path::Path, process::Command};

use sprawl::rules::template::{expand, Rng};

#[derive(Debug)]
struct Block {
    /// 1-based line of the opening fence.
    line: usize,
    lang: String,
    tags: Vec<String>,
    body: String,
}

fn blocks(markdown: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let mut open: Option<Block> = None;
    for (i, l) in markdown.lines().enumerate() {
        let t = l.trim_start();
        if let Some(info) = t.strip_prefix("```") {
            match open.take() {
                Some(b) => out.push(b),
                None => {
                    let mut words = info.split_whitespace().map(String::from);
                    open = Some(Block {
                        line: i + 1,
                        lang: words.next().unwrap_or_default(),
                        tags: words.collect(),
                        body: String::new(),
                    });
                }
            }
        } else if let Some(b) = open.as_mut() {
            b.body.push_str(l);
            b.body.push('\n');
        }
    }
    assert!(open.is_none(), "README.md: unclosed code block");
    out
}

/// The commands of a shell block: `\`-continued lines joined, blank and comment lines dropped.
fn commands(body: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for l in body.lines() {
        if let Some(head) = l.trim_end().strip_suffix('\\') {
            cur.push_str(head);
            cur.push(' ');
            continue;
        }
        cur.push_str(l);
        let c = std::mem::take(&mut cur);
        let trimmed = c.trim();
        if !trimmed.is_empty() && !trimmed.starts_with('#') {
            out.push(trimmed.to_string());
        }
    }
    out
}

/// This suite's own build commands, mapped to the binary under test (None: skip).
fn rewrite(cmd: &str) -> Option<String> {
    if let Some(rest) = cmd.strip_prefix("cargo run --release --") {
        return Some(format!("sprawl{rest}"));
    }
    if cmd == "cargo test" || cmd.starts_with("cargo test ") {
        return None;
    }
    Some(cmd.to_string())
}

/// Write the README fixture into `dir` and run its setup script.
fn prepare(dir: &Path) {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/readme");
    let files = src.join("files");
    let mut stack = vec![files.clone()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            let rel = p.strip_prefix(&files).unwrap();
            let text = std::fs::read_to_string(&p).unwrap();
            let body = expand(&text, &mut Rng::from_str_seed("readme"));
            let to = dir.join(rel);
            std::fs::create_dir_all(to.parent().unwrap()).unwrap();
            std::fs::write(to, body).unwrap();
        }
    }
    let st = Command::new("bash")
        .arg(src.join("setup.sh"))
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", dir)
        .status()
        .unwrap();
    assert!(st.success(), "tests/readme/setup.sh failed");
}

fn path_with_sprawl() -> std::ffi::OsString {
    let bin = crate::util::sprawl_bin();
    let mut paths = vec![bin.parent().unwrap().to_path_buf()];
    paths.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    std::env::join_paths(paths).unwrap()
}

struct Ran {
    stdout: String,
}

fn run(dir: &Path, block: &Block, cmd: &str) -> Ran {
    let out = Command::new("bash")
        .args(["-c", cmd])
        .current_dir(dir)
        .env("PATH", path_with_sprawl())
        .env("NO_COLOR", "1")
        .env("HOME", dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .unwrap();
    let code = out.status.code().unwrap_or(-1);
    // The status of a pipeline is its last command's.
    let last = cmd.rsplit('|').next().unwrap_or(cmd);
    let is_sprawl = last.split_whitespace().next() == Some("sprawl");
    let ok = code == 0 || (is_sprawl && code == 1);
    assert!(
        ok,
        "README.md line {}: `{cmd}` exited {code}\nstdout:\n{}\nstderr:\n{}",
        block.line,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    Ran {
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
    }
}

/// `actual` matches `expected` where `...` lines match any lines and `[..]` any text.
fn matches(expected: &str, actual: &str) -> bool {
    fn line_ok(pat: &str, line: &str) -> bool {
        let parts: Vec<&str> = pat.split("[..]").collect();
        if parts.len() == 1 {
            return pat == line;
        }
        let Some(mut rest) = line.strip_prefix(parts[0]) else {
            return false;
        };
        for (i, p) in parts[1..].iter().enumerate() {
            let last = i == parts.len() - 2;
            if last {
                return rest.ends_with(p);
            }
            match rest.find(p) {
                Some(at) => rest = &rest[at + p.len()..],
                None => return false,
            }
        }
        true
    }
    fn go(pat: &[&str], lines: &[&str]) -> bool {
        match pat.split_first() {
            None => lines.is_empty(),
            Some((&"...", rest)) => (0..=lines.len()).any(|k| go(rest, &lines[k..])),
            Some((p, rest)) => {
                !lines.is_empty() && line_ok(p, lines[0].trim_end()) && go(rest, &lines[1..])
            }
        }
    }
    let pat: Vec<&str> = expected.lines().collect();
    let lines: Vec<&str> = actual.lines().collect();
    go(&pat, &lines)
}

fn run_readme(in_source_tree: bool, include: impl Fn(&Block) -> bool) -> usize {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).expect("README.md");
    let tmp = tempfile::tempdir().unwrap();
    let dir = if in_source_tree {
        root
    } else {
        prepare(tmp.path());
        tmp.path()
    };
    let mut ran = 0;
    let mut last: Option<(usize, String)> = None;
    for b in blocks(&readme) {
        if b.lang == "text" && b.tags.iter().any(|t| t == "output") {
            let (line, stdout) = last.take().unwrap_or_else(|| {
                panic!(
                    "README.md line {}: an output block must follow a sh block",
                    b.line
                )
            });
            assert!(
                matches(&b.body, &stdout),
                "README.md line {}: the example at line {line} prints\n{stdout}\nnot\n{}",
                b.line,
                b.body
            );
            continue;
        }
        last = None;
        if b.lang != "sh" || !include(&b) {
            continue;
        }
        let mut stdout = String::new();
        for c in commands(&b.body) {
            if let Some(c) = rewrite(&c) {
                stdout = run(dir, &b, &c).stdout;
                ran += 1;
            }
        }
        last = Some((b.line, stdout));
    }
    ran
}

#[test]
fn readme_shell_examples_run_as_written() {
    let ran = run_readme(false, |b| b.tags.is_empty());
    assert!(ran >= 5, "only {ran} README commands ran");
}

#[test]
fn readme_marks_only_known_tags() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    for b in blocks(&readme) {
        if b.lang == "sh" {
            for t in &b.tags {
                assert!(
                    ["network", "bench"].contains(&t.as_str()),
                    "README.md line {}: unknown tag `{t}`",
                    b.line
                );
            }
        }
        assert!(
            !b.body.contains("OWNER/"),
            "README.md line {}: placeholder OWNER left in an example",
            b.line
        );
    }
}

#[test]
fn readme_output_matcher() {
    assert!(matches("a\n...\nz\n", "a\nb\nc\nz\n"));
    assert!(matches("x [..] y\n", "x 12 y\n"));
    assert!(!matches("x [..] y\n", "x 12 z\n"));
    assert!(!matches("a\nz\n", "a\nb\nz\n"));
}

#[test]
#[ignore = "release builds and benchmarks: run with --ignored"]
fn readme_bench_examples() {
    run_readme(true, |b| b.tags.iter().any(|t| t == "bench"));
}
