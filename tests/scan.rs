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

fn run_in(dir: &std::path::Path, args: &[&str]) -> (i32, String, String) {
    let out = sprawl()
        .current_dir(dir)
        .arg("scan")
        .args(args)
        .arg("--no-progress")
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Regression (issue 9 item 6): scan could not gate on severity.
#[test]
fn fail_on_gates_by_severity_from_flag_and_config() {
    let dir = tempfile::tempdir().unwrap();
    // An AWS access key id alone is a medium finding.
    let id = key("AKIA{{b32:16}}", "fail-on");
    write_tree(dir.path(), &[("a.txt", format!("id = {id}\n").as_bytes())]);
    let (code, _, _) = run_in(dir.path(), &["."]);
    assert_eq!(code, 1, "default: any finding");
    let (code, _, _) = run_in(dir.path(), &[".", "--fail-on", "high"]);
    assert_eq!(code, 0);
    let (code, _, _) = run_in(dir.path(), &[".", "--fail-on", "medium"]);
    assert_eq!(code, 1);
    write_tree(
        dir.path(),
        &[("sprawl.toml", b"[scan]\nfail_on = \"critical\"\n")],
    );
    let (code, stdout, _) = run_in(dir.path(), &["."]);
    assert_eq!(code, 0, "config fail_on");
    assert!(
        stdout.contains("AWS access key ID"),
        "still reported: {stdout}"
    );
    let (code, _, _) = run_in(dir.path(), &[".", "--fail-on", "low"]);
    assert_eq!(code, 1, "the flag wins over the config");
}

/// Regression (issue 9 item 7): a configured baseline that does not exist yet blocked
/// creating it; reading a missing one must still be an error.
#[test]
fn configured_baseline_missing_warns_on_write_and_fails_on_read() {
    let dir = tempfile::tempdir().unwrap();
    let k = github_key("cfg-baseline");
    write_tree(
        dir.path(),
        &[
            ("app.env", format!("T={k}\n").as_bytes()),
            ("sprawl.toml", b"[scan]\nbaseline = \"b.json\"\n"),
        ],
    );
    let (code, _, err) = run_in(dir.path(), &[".", "--write-baseline", "b.json"]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("warning: baseline") && err.contains("b.json"),
        "{err}"
    );
    assert!(dir.path().join("b.json").is_file());
    let (code, _, err) = run_in(dir.path(), &["."]);
    assert_eq!(code, 0, "the new baseline suppresses the key: {err}");
    std::fs::remove_file(dir.path().join("b.json")).unwrap();
    let (code, stdout, err) = run_in(dir.path(), &["."]);
    assert_eq!(code, 2);
    assert!(
        err.contains("b.json") && err.contains("does not exist"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(stdout.is_empty(), "checked before scanning: {stdout}");
}

/// Regression (issue 11 item 13): `--baseline F --write-baseline F` rewrote F before applying
/// it, so a new key exited 0 as "suppressed by the baseline".
#[test]
fn rewriting_the_baseline_in_place_does_not_hide_new_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let old = github_key("old-key");
    write_tree(dir.path(), &[("a.env", format!("T={old}\n").as_bytes())]);
    let (code, _, _) = run_in(dir.path(), &[".", "--write-baseline", "b.json"]);
    assert_eq!(code, 1);
    let new = github_key("new-key");
    write_tree(dir.path(), &[("b.env", format!("T={new}\n").as_bytes())]);
    let args = [".", "--baseline", "b.json", "--write-baseline", "b.json"];
    let (code, stdout, _) = run_in(dir.path(), &args);
    assert_eq!(code, 1, "the new key is reported: {stdout}");
    assert!(
        stdout.contains("b.env") && !stdout.contains("a.env"),
        "{stdout}"
    );
    assert!(stdout.contains("1 suppressed by the baseline"), "{stdout}");
    // The rewritten baseline now holds both.
    let (code, _, _) = run_in(dir.path(), &[".", "--baseline", "b.json"]);
    assert_eq!(code, 0);
}

/// Regression (issue 11 item 12): a report path that cannot be written failed only after the
/// scan; an existing report is replaced only by a complete one.
#[test]
fn output_paths_are_checked_before_the_scan_and_written_whole() {
    let dir = tempfile::tempdir().unwrap();
    let k = github_key("atomic");
    write_tree(dir.path(), &[("a.env", format!("T={k}\n").as_bytes())]);
    for flag in ["-o", "--write-baseline"] {
        let (code, stdout, err) = run_in(dir.path(), &[".", flag, "no/such/dir/out.json"]);
        assert_eq!(code, 2, "{flag}: {err}");
        assert!(err.contains("no/such/dir/out.json"), "{err}");
        assert!(!err.contains("a.env") && stdout.is_empty(), "{err}{stdout}");
    }
    // Checked before the scan starts: with standard input held open, a scan that started
    // would wait for it forever.
    let bin = crate::util::sprawl_bin();
    let mut child = Std::new(bin)
        .current_dir(dir.path())
        .args(["scan", "-", "-o", "no/such/dir/out.json"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let _held_open = child.stdin.take();
    let mut status = None;
    for _ in 0..600 {
        if let Some(s) = child.try_wait().unwrap() {
            status = Some(s);
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    if status.is_none() {
        let _ = child.kill();
    }
    assert_eq!(
        status.and_then(|s| s.code()),
        Some(2),
        "exits before reading stdin"
    );
    std::fs::write(dir.path().join("r.json"), "previous report").unwrap();
    let (code, _, _) = run_in(dir.path(), &[".", "--format", "json", "-o", "r.json"]);
    assert_eq!(code, 1);
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("r.json")).unwrap()).unwrap();
    assert_eq!(findings(&v).len(), 1);
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        names.iter().all(|n| !n.starts_with(".sprawl-")),
        "no temporary file left: {names:?}"
    );
}

/// The README's first command scans this repository: its own sources, rules, tests and docs
/// hold no secret at the default confidence (test keys are built at run time, and comments
/// and seeds are written so that they do not form one).
#[test]
fn this_repository_holds_no_secret() {
    let root = env!("CARGO_MANIFEST_DIR");
    run_expecting(
        sprawl().current_dir(root).args([
            "scan",
            "--no-progress",
            "src",
            "tests",
            "rules",
            "benches",
            "README.md",
        ]),
        0,
    );
}
