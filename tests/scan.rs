//! `sprawl scan` behaviour: what is walked, what is found, exit codes, grouping.

use std::process::Command as Std;

use crate::util::*;

#[test]
fn finds_keys_in_dotenv_even_when_gitignored() {
    let dir = tempfile::tempdir().unwrap();
    let k = openai_key("dotenv");
    write_tree(
        dir.path(),
        &[
            (".gitignore", &b".env\n"[..]),
            (".env", format!("OPENAI_API_KEY={k}\n").as_bytes()),
            ("src/app.py", &b"print('hello')\n"[..]),
        ],
    );
    let (v, code) = scan_json(&[dir.path().to_str().unwrap()]);
    assert_eq!(code, 1);
    let f = &findings(&v)[0];
    assert_eq!(f["rule"], "openai.project-key");
    assert_eq!(f["location"]["path"], ".env");
    assert_eq!(f["location"]["line"], 1);
    assert_eq!(f["location"]["column"], 16);
    assert_eq!(f["location"]["end_column"], 16 + k.len() as u64);
    assert_eq!(f["source"], "file");
    assert_eq!(v["stats"]["files"], 3);
}

#[test]
fn exit_code_zero_when_clean() {
    let dir = tempfile::tempdir().unwrap();
    write_tree(dir.path(), &[("a.py", &b"x = 1\n"[..])]);
    let (v, code) = scan_json(&[dir.path().to_str().unwrap()]);
    assert_eq!(code, 0);
    assert!(findings(&v).is_empty());
}

#[test]
fn exit_code_two_when_nothing_could_be_scanned() {
    sprawl()
        .args(["scan", "/definitely/not/here", "--no-progress"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("/definitely/not/here"));
    sprawl().args(["scan", "--format", "nope"]).assert().code(2);
}

#[test]
fn sprawlignore_and_exclude_leave_paths_out() {
    let dir = tempfile::tempdir().unwrap();
    let k = github_key("ignore");
    let line = format!("token = {k}\n");
    write_tree(
        dir.path(),
        &[
            (".sprawlignore", &b"vendor/\n*.lock\n"[..]),
            ("vendor/lib.py", line.as_bytes()),
            ("deps.lock", line.as_bytes()),
            ("fixtures/data.txt", line.as_bytes()),
            ("src/main.py", line.as_bytes()),
        ],
    );
    let root = dir.path().to_str().unwrap();
    let (v, _) = scan_json(&[root]);
    let paths: Vec<&str> = findings(&v)
        .iter()
        .map(|f| f["location"]["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["fixtures/data.txt", "src/main.py"]);

    let (v, _) = scan_json(&[root, "--exclude", "fixtures/**"]);
    let paths: Vec<&str> = findings(&v)
        .iter()
        .map(|f| f["location"]["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["src/main.py"]);
}

#[test]
fn config_file_at_root_is_used() {
    let dir = tempfile::tempdir().unwrap();
    let k = github_key("config");
    let line = format!("token = {k}\n");
    write_tree(
        dir.path(),
        &[
            (
                "sprawl.toml",
                &b"[scan]\nexclude = [\"generated/**\"]\n"[..],
            ),
            ("generated/x.py", line.as_bytes()),
            ("y.py", line.as_bytes()),
        ],
    );
    let (v, _) = scan_json(&[dir.path().to_str().unwrap()]);
    assert_eq!(findings(&v).len(), 1);
    assert_eq!(findings(&v)[0]["location"]["path"], "y.py");

    std::fs::write(dir.path().join("sprawl.toml"), "[scan]\nbogus = 1\n").unwrap();
    sprawl()
        .arg("scan")
        .arg(dir.path())
        .assert()
        .code(2)
        .stderr(predicates::str::contains("sprawl.toml"));
}

#[test]
fn stdin_is_scanned() {
    let k = anthropic_key("stdin");
    let out = sprawl()
        .args(["scan", "-", "--format", "json", "--no-progress"])
        .write_stdin(format!("log line\nx-api-key: {k}\n"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let f = &findings(&v)[0];
    assert_eq!(f["rule"], "anthropic.api-key");
    assert_eq!(f["source"], "stdin");
    assert_eq!(f["location"]["line"], 2);
}

#[test]
fn secrets_are_never_printed_unless_asked() {
    let dir = tempfile::tempdir().unwrap();
    let keys = [
        openai_key("show1"),
        anthropic_key("show2"),
        github_key("show3"),
    ];
    let body = keys
        .iter()
        .map(|k| format!("k = \"{k}\"\n"))
        .collect::<String>();
    write_tree(dir.path(), &[("a.py", body.as_bytes())]);
    for format in ["text", "json", "jsonl"] {
        let out = sprawl()
            .arg("scan")
            .arg(dir.path())
            .args(["--format", format])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1));
        let all = [out.stdout, out.stderr].concat();
        let all = String::from_utf8_lossy(&all);
        for k in &keys {
            assert!(!all.contains(k.as_str()), "{format} output leaks a secret");
            assert!(
                all.contains(&k[k.len() - 4..]),
                "{format} lacks the redacted tail"
            );
        }
    }
    let out = sprawl()
        .arg("scan")
        .arg(dir.path())
        .args(["--format", "jsonl", "--show-secrets"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    for k in &keys {
        assert!(text.contains(k.as_str()));
    }
}

#[test]
fn one_secret_in_three_files_is_one_group_with_sha256_fingerprint() {
    let dir = tempfile::tempdir().unwrap();
    let k = openai_key("three");
    let line = format!("OPENAI_API_KEY={k}\n");
    write_tree(
        dir.path(),
        &[
            ("a/.env", line.as_bytes()),
            ("b/config.yaml", format!("openai:\n  key: {k}\n").as_bytes()),
            ("c/notes.md", line.as_bytes()),
        ],
    );
    let (v, _) = scan_json(&[dir.path().to_str().unwrap()]);
    let fs = findings(&v);
    assert_eq!(fs.len(), 3);
    let fps: std::collections::HashSet<&str> = fs
        .iter()
        .map(|f| f["fingerprint"].as_str().unwrap())
        .collect();
    assert_eq!(fps.len(), 1);

    // The fingerprint is what `printf %s SECRET | sha256sum` prints.
    let out = Std::new("sh")
        .args(["-c", "printf %s \"$1\" | sha256sum", "sh", &k])
        .output()
        .unwrap();
    let hex = String::from_utf8(out.stdout).unwrap();
    let expected = format!("sha256:{}", hex.split_whitespace().next().unwrap());
    assert_eq!(*fps.iter().next().unwrap(), expected);

    // The text report groups the three places under one secret.
    let out = sprawl().arg("scan").arg(dir.path()).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.matches("fingerprint  sha256:").count(), 1);
    assert!(text.contains("found in     3 places"));
    assert!(text.contains("1 secret (1 high) in 3 places"));
}

#[test]
fn inline_allow_suppresses_only_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let a = github_key("allow-a");
    let b = github_key("allow-b");
    let body = format!("t1 = \"{a}\"  # sprawl:allow\nt2 = \"{b}\"\n");
    write_tree(dir.path(), &[("x.py", body.as_bytes())]);
    let (v, _) = scan_json(&[dir.path().to_str().unwrap()]);
    assert_eq!(findings(&v).len(), 1);
    assert_eq!(findings(&v)[0]["location"]["line"], 2);
}

#[test]
fn baseline_suppresses_by_fingerprint_wherever_the_secret_moves() {
    let dir = tempfile::tempdir().unwrap();
    let a = github_key("base-a");
    write_tree(dir.path(), &[("x.py", format!("t = \"{a}\"\n").as_bytes())]);
    let baseline = dir.path().join("baseline.json");
    sprawl()
        .arg("scan")
        .arg(dir.path())
        .arg("--write-baseline")
        .arg(&baseline)
        .assert()
        .code(1);
    // Move the secret to another line and file, and add a new one where it was.
    let b = github_key("base-b");
    write_tree(
        dir.path(),
        &[
            ("x.py", format!("t = \"{b}\"\n").as_bytes()),
            ("y.py", format!("\n\n\nother = \"{a}\"\n").as_bytes()),
        ],
    );
    let out = sprawl()
        .arg("scan")
        .arg(dir.path())
        .arg("--baseline")
        .arg(&baseline)
        .args(["--format", "jsonl"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["location"]["path"], "x.py");
}

#[test]
fn overlapping_rules_report_once_by_the_specific_rule() {
    let dir = tempfile::tempdir().unwrap();
    let k = openai_key("overlap");
    write_tree(
        dir.path(),
        &[("a.py", format!("OPENAI_API_KEY = \"{k}\"\n").as_bytes())],
    );
    let (v, _) = scan_json(&[dir.path().to_str().unwrap()]);
    assert_eq!(rules_of(&v), ["openai.project-key"]);
}

#[test]
fn findings_are_sorted_and_output_is_deterministic() {
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for i in 0..40 {
        files.push((
            format!("d{}/f{i}.env", i % 7),
            format!("\nK={}\n", github_key(&format!("sort{i}"))),
        ));
    }
    let refs: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(p, b)| (p.as_str(), b.as_bytes()))
        .collect();
    write_tree(dir.path(), &refs);
    let run = || {
        sprawl()
            .arg("scan")
            .arg(dir.path())
            .args(["--format", "jsonl", "-j", "4"])
            .output()
            .unwrap()
            .stdout
    };
    let first = run();
    assert_eq!(first, run());
    let paths: Vec<String> = String::from_utf8(first)
        .unwrap()
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            v["location"]["path"].as_str().unwrap().to_string()
        })
        .collect();
    let mut sorted = paths.clone();
    sorted.sort();
    assert_eq!(paths.len(), 40);
    assert_eq!(paths, sorted);
}

#[test]
fn output_file_and_checksum_filter() {
    let dir = tempfile::tempdir().unwrap();
    let good = github_key("ck");
    // Same shape, broken checksum: not a GitHub token.
    let mut bad = good.clone().into_bytes();
    bad[8] = if bad[8] == b'Q' { b'R' } else { b'Q' };
    let bad = String::from_utf8(bad).unwrap();
    write_tree(
        dir.path(),
        &[("a.sh", format!("A={good}\nB={bad}\n").as_bytes())],
    );
    let out = dir.path().join("report.json");
    sprawl()
        .arg("scan")
        .arg(dir.path().join("a.sh"))
        .arg("-o")
        .arg(&out)
        .args(["--format", "json"])
        .assert()
        .code(1)
        .stdout("");
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    let gh: Vec<_> = findings(&v)
        .iter()
        .filter(|f| f["rule"] == "github.pat-classic")
        .collect();
    assert_eq!(gh.len(), 1);
    assert_eq!(gh[0]["location"]["line"], 1);
}
