//! Bad input never panics: each case gives a clear result and the scan goes on.

use std::process::Command as Std;

use crate::util::*;

fn assert_no_panic(out: &std::process::Output) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "panic: {err}");
}

#[test]
fn invalid_utf8_is_scanned_as_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let k = github_key("utf8");
    let mut body = b"\xff\xfe garbage \xc3\x28 more\n".to_vec();
    body.extend_from_slice(b"\xe2\x82");
    body.extend_from_slice(format!(" tok={k}\n").as_bytes());
    write_tree(dir.path(), &[("latin1.txt", &body)]);
    let (v, code) = scan_json(&[dir.path().to_str().unwrap()]);
    assert_eq!(code, 1);
    assert_eq!(findings(&v)[0]["location"]["line"], 2);
}

#[test]
fn nul_bytes_mean_binary_and_are_counted_as_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let k = github_key("nul");
    let mut body = b"\x00\x01\x02binary".to_vec();
    body.extend_from_slice(k.as_bytes());
    write_tree(
        dir.path(),
        &[("blob.bin", &body), ("ok.txt", &b"fine\n"[..])],
    );
    let (v, code) = scan_json(&[dir.path().to_str().unwrap()]);
    assert_eq!(code, 0);
    assert_eq!(v["stats"]["skipped"]["binary"], 1);
    assert_eq!(v["stats"]["files"], 2);
}

#[test]
fn fifty_megabyte_single_line_file() {
    let dir = tempfile::tempdir().unwrap();
    let k = openai_key("big");
    let mut body = Vec::with_capacity(50 << 20);
    let filler = b"var a=function(b){return b.key+b.token};";
    while body.len() < (50 << 20) - 400 {
        body.extend_from_slice(filler);
    }
    body.extend_from_slice(format!(";k=\"{k}\";").as_bytes());
    write_tree(dir.path(), &[("bundle.min.js", &body)]);
    let (v, code) = scan_json(&[dir.path().to_str().unwrap(), "--max-file-size", "60MiB"]);
    assert_eq!(code, 1);
    let f = &findings(&v)[0];
    assert_eq!(f["rule"], "openai.project-key");
    assert_eq!(f["location"]["line"], 1);
    // Over the default limit it is streamed in windows instead, and found all the same.
    let (v, code) = scan_json(&[dir.path().to_str().unwrap()]);
    assert_eq!(code, 1);
    assert_eq!(findings(&v).len(), 1);
    assert_eq!(findings(&v)[0]["location"]["line"], 1);
    assert_eq!(v["stats"]["skipped"]["too_large"], 0);
    // A notebook cannot be streamed: over the limit it is skipped and counted.
    std::fs::rename(
        dir.path().join("bundle.min.js"),
        dir.path().join("big.ipynb"),
    )
    .unwrap();
    let (v, code) = scan_json(&[dir.path().to_str().unwrap()]);
    assert_eq!(code, 0);
    assert_eq!(v["stats"]["skipped"]["too_large"], 1);
}

fn is_root() -> bool {
    Std::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// The sprawl binary, run as an unprivileged user when we are root (root reads everything,
/// so file permissions would not apply).
fn unprivileged() -> Std {
    let bin = crate::util::sprawl_bin();
    if is_root() {
        let mut c = Std::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(bin);
        c
    } else {
        Std::new(bin)
    }
}

#[test]
fn unreadable_file_is_reported_and_the_scan_goes_on() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let k = github_key("unreadable");
    write_tree(
        dir.path(),
        &[
            ("secret.txt", format!("t={k}\n").as_bytes()),
            ("locked.txt", &b"can't touch this\n"[..]),
        ],
    );
    let locked = dir.path().join("locked.txt");
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(
        dir.path().join("secret.txt"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    let out = unprivileged()
        .arg("scan")
        .arg(dir.path())
        .args(["--format", "json", "--no-progress"])
        .output()
        .unwrap();
    assert_no_panic(&out);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["stats"]["errors"], 1);
    assert_eq!(v["errors"][0]["path"], "locked.txt");
    assert!(v["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("ermission denied"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        stderr.lines().filter(|l| l.contains("locked.txt")).count(),
        1
    );
    assert_eq!(findings(&v).len(), 1);
    // --strict turns the unreadable file into exit 2.
    let out = unprivileged()
        .arg("scan")
        .arg(dir.path())
        .arg("--strict")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn symlink_loops_do_not_hang_or_panic() {
    use std::os::unix::fs::symlink;
    let dir = tempfile::tempdir().unwrap();
    let k = github_key("loop");
    write_tree(dir.path(), &[("real/a.txt", format!("t={k}\n").as_bytes())]);
    symlink(dir.path().join("real"), dir.path().join("real/back")).unwrap();
    symlink(dir.path().join("x"), dir.path().join("y")).unwrap();
    symlink(dir.path().join("y"), dir.path().join("x")).unwrap();

    // Default: symlinks are not followed; the key is found once.
    let (v, code) = scan_json(&[dir.path().to_str().unwrap()]);
    assert_eq!(code, 1);
    assert_eq!(findings(&v).len(), 1);

    // Following: the loop is detected and reported, the scan goes on.
    let out = sprawl()
        .arg("scan")
        .arg(dir.path())
        .args(["--follow-symlinks", "--format", "json", "--no-progress"])
        .output()
        .unwrap();
    assert_no_panic(&out);
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(findings(&v).len(), 1);
    let errors = v["errors"].as_array().unwrap();
    assert!(
        errors.iter().any(|e| e["path"] == "real/back"),
        "{errors:?}"
    );
    assert!(errors
        .iter()
        .all(|e| !e["message"].as_str().unwrap().contains(k.as_str())));

    // A loop named on the command line is an error naming it.
    let out = sprawl()
        .arg("scan")
        .arg(dir.path().join("x"))
        .output()
        .unwrap();
    assert_no_panic(&out);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    let named = dir.path().join("x").display().to_string();
    assert!(
        err.lines()
            .any(|l| l.starts_with("sprawl: error: ") && l.contains(&named)),
        "{err}"
    );
}

/// Regression (issue 9 item 5): a mistyped path exited 0.
#[test]
fn missing_path_is_a_usage_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    write_tree(dir.path(), &[("clean.txt", b"nothing here\n")]);
    let out = sprawl()
        .current_dir(dir.path())
        .args(["scan", "clean.txt", "does/not/exist", "--no-progress"])
        .output()
        .unwrap();
    assert_no_panic(&out);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("does/not/exist") && err.contains("no such file"),
        "{err}"
    );
    assert!(!String::from_utf8_lossy(&out.stdout).contains("no secrets found"));
}

/// Regression (issue 11 item 16): a FIFO given as a path was silently ignored, exit 0.
#[test]
fn fifo_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("pipe");
    let st = Std::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(st.success());
    let out = sprawl().arg("scan").arg(&fifo).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("pipe") && err.contains("FIFO"), "{err}");
    let out = sprawl().args(["scan", "/dev/null"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("a device"));
}

/// Regression (issue 9 item 5): the summary said "no secrets found" when a file could not be
/// read.
#[test]
fn summary_does_not_say_no_secrets_when_something_was_not_scanned() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    write_tree(dir.path(), &[("locked.txt", b"x\n"), ("ok.txt", b"y\n")]);
    std::fs::set_permissions(
        dir.path().join("locked.txt"),
        std::fs::Permissions::from_mode(0o000),
    )
    .unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(
        dir.path().join("ok.txt"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    let out = unprivileged()
        .env("NO_COLOR", "1")
        .arg("scan")
        .arg(dir.path())
        .arg("--no-progress")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!stdout.contains("no secrets found"), "{stdout}");
    assert!(stdout.contains("1 error (not scanned)"), "{stdout}");
}

/// Regression (issue 11 item 6): `--max-file-size 18446744073709551615` overflowed and
/// scanned nothing, exit 0.
#[test]
fn huge_size_flags_are_handled_or_refused() {
    let dir = tempfile::tempdir().unwrap();
    let k = github_key("huge-size");
    write_tree(dir.path(), &[("a.env", format!("T={k}\n").as_bytes())]);
    let p = dir.path().to_str().unwrap();
    let (v, code) = scan_json(&[p, "--max-file-size", "18446744073709551615"]);
    assert_eq!(code, 1);
    assert_eq!(findings(&v).len(), 1);
    for bad in ["18446744073709551616", "99999999999TiB"] {
        for flag in ["--max-file-size", "--max-decompressed-size"] {
            let out = sprawl().args(["scan", p, flag, bad]).output().unwrap();
            assert_eq!(out.status.code(), Some(2), "{flag} {bad}");
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(err.contains("too large"), "{err}");
        }
    }
}

/// Issue 9 item 8: what `--max-file-size` does, as its help and the README say: a larger
/// text file is streamed (still scanned), a larger notebook is skipped and counted.
#[test]
fn max_file_size_streams_text_and_skips_notebooks() {
    let dir = tempfile::tempdir().unwrap();
    let k = github_key("max-size");
    let mut body = "x = 1\n".repeat(400);
    body.push_str(&format!("T={k}\n"));
    write_tree(dir.path(), &[("big.txt", body.as_bytes())]);
    let p = dir.path().to_str().unwrap();
    let (v, code) = scan_json(&[p, "--max-file-size", "1KiB"]);
    assert_eq!(code, 1);
    assert_eq!(findings(&v)[0]["location"]["line"], 401);
    assert_eq!(v["stats"]["skipped"]["too_large"], 0);
    let nb = format!(
        r#"{{"nbformat":4,"nbformat_minor":5,"metadata":{{}},"cells":[{{"cell_type":"code","metadata":{{}},"source":["{}T={k}"],"outputs":[]}}]}}"#,
        "x = 1\\n".repeat(400)
    );
    std::fs::remove_file(dir.path().join("big.txt")).unwrap();
    write_tree(dir.path(), &[("big.ipynb", nb.as_bytes())]);
    let (v, code) = scan_json(&[p, "--max-file-size", "1KiB"]);
    assert_eq!(code, 0);
    assert_eq!(v["stats"]["skipped"]["too_large"], 1);
    let help = sprawl().args(["scan", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&help.stdout).replace('\n', " ");
    let help = help.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(help.contains("are streamed in 8 MiB windows"), "{help}");
    assert!(help.contains("skipped and counted as too large"), "{help}");
}

/// Regression (issue 11 item 10): `--threads 5000` hung on a three-file directory.
#[test]
fn absurd_thread_counts_are_clamped_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let k = github_key("threads");
    write_tree(
        dir.path(),
        &[
            ("a.env", format!("T={k}\n").as_bytes()),
            ("b", b"b"),
            ("c", b"c"),
        ],
    );
    let out = sprawl()
        .arg("scan")
        .arg(dir.path())
        .args(["--threads", "5000", "--no-progress"])
        .timeout(std::time::Duration::from_secs(120))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("warning: --threads 5000 is more than"),
        "{err}"
    );
}

/// Regression (issue 11 item 14): a newline in a file name forged a finding line in text
/// output and broke CSV rows.
#[test]
fn control_characters_in_file_names_are_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let k = github_key("ctrl");
    let name = "a\nhigh Forged finding  [x]\n    evil.env:1:1\u{1b}[2J.env";
    write_tree(dir.path(), &[(name, format!("T={k}\n").as_bytes())]);
    let p = dir.path().to_str().unwrap();
    let out = sprawl()
        .args(["scan", p, "--no-progress"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        !text.lines().any(|l| l.starts_with("high Forged")),
        "{text}"
    );
    assert!(!text.contains('\u{1b}'), "{text}");
    assert!(text.contains("a\\nhigh Forged"), "{text}");
    let out = sprawl()
        .args(["scan", p, "--no-progress", "--format", "csv"])
        .output()
        .unwrap();
    let csv = String::from_utf8_lossy(&out.stdout);
    assert_eq!(csv.lines().count(), 2, "{csv}");
}
