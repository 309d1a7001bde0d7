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
    let bin = assert_cmd::cargo::cargo_bin("sprawl");
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
            .any(|l| l.starts_with("error: ") && l.contains(&named)),
        "{err}"
    );
}
