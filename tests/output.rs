//! One snapshot per output format, on a small fixed tree of fake keys.

use crate::util::*;

fn fixture() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let openai = openai_key("snap-openai");
    let anthropic = anthropic_key("snap-anthropic");
    let gh = github_key("snap-gh");
    let aws_id = key("AKIA{{b32:16}}", "snap-aws-id");
    let aws_secret = key("{{b64:40}}", "snap-aws-secret");
    write_tree(
        dir.path(),
        &[
            (".env", format!("OPENAI_API_KEY={openai}\nGITHUB_TOKEN={gh}\n").as_bytes()),
            (
                "src/client.py",
                format!("import anthropic\n\nclient = anthropic.Anthropic(api_key=\"{anthropic}\")\n")
                    .as_bytes(),
            ),
            (
                "deploy/credentials",
                format!("[default]\naws_access_key_id = {aws_id}\naws_secret_access_key = {aws_secret}\n")
                    .as_bytes(),
            ),
            ("docs/setup.md", format!("Set `OPENAI_API_KEY={openai}` — no!\n").as_bytes()),
            ("clean.txt", &b"nothing to see\n"[..]),
        ],
    );
    dir
}

fn run(format: &str) -> String {
    let dir = fixture();
    let out = sprawl()
        .current_dir(dir.path())
        .args(["scan", ".", "--no-progress", "--format", format])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    String::from_utf8(out.stdout).unwrap()
}

fn settings() -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.add_filter(r#""version": "[^"]+""#, r#""version": "[version]""#);
    s.add_filter(r#""seconds": [0-9.e-]+"#, r#""seconds": "[seconds]""#);
    s.add_filter(r"in [0-9]+\.[0-9]+s", "in [seconds]s");
    s
}

#[test]
fn text_snapshot() {
    settings().bind(|| insta::assert_snapshot!("scan_text", run("text")));
}

#[test]
fn json_snapshot() {
    let text = run("json");
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["schema"], "sprawl.report/v1");
    assert_eq!(v["tool"]["name"], "sprawl");
    settings().bind(|| insta::assert_snapshot!("scan_json", text));
}

#[test]
fn jsonl_snapshot() {
    let text = run("jsonl");
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert!(v["fingerprint"].as_str().unwrap().starts_with("sha256:"));
        assert!(v.get("schema").is_none());
    }
    settings().bind(|| insta::assert_snapshot!("scan_jsonl", text));
}

#[test]
fn json_matches_the_design_schema_keys() {
    let v: serde_json::Value = serde_json::from_str(&run("json")).unwrap();
    let keys = |o: &serde_json::Value| -> Vec<String> {
        let mut k: Vec<String> = o.as_object().unwrap().keys().cloned().collect();
        k.sort();
        k
    };
    assert_eq!(keys(&v), ["errors", "findings", "schema", "stats", "tool"]);
    assert_eq!(
        keys(&v["stats"]),
        ["blobs", "bytes", "commits", "errors", "files", "seconds", "skipped"]
    );
    assert_eq!(keys(&v["stats"]["skipped"]), ["binary", "too_large"]);
    let f = &findings(&v)[0];
    assert_eq!(
        keys(f),
        [
            "confidence",
            "fingerprint",
            "git",
            "hint",
            "id",
            "kind",
            "location",
            "provider",
            "redacted",
            "revoke",
            "rule",
            "severity",
            "source",
            "title"
        ]
    );
    assert_eq!(
        keys(&f["location"]),
        [
            "cell",
            "cell_line",
            "cell_part",
            "column",
            "end_column",
            "end_line",
            "line",
            "path"
        ]
    );
    assert!(f["git"].is_null());
}

/// Regression (issue 9 item 3): `sprawl scan src docs` reported both `same.env` files as
/// `same.env`, and SARIF URIs did not resolve to the files.
#[test]
fn paths_are_relative_to_the_repository_root_or_the_current_directory() {
    use crate::util::*;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().canonicalize().unwrap();
    let (a, b) = (github_key("same-a"), github_key("same-b"));
    write_tree(
        &d,
        &[
            ("src/same.env", format!("T={a}\n").as_bytes()),
            ("docs/same.env", format!("T={b}\n").as_bytes()),
        ],
    );
    let paths = |cwd: &std::path::Path, args: &[&str]| -> (Vec<String>, serde_json::Value) {
        let out = sprawl()
            .current_dir(cwd)
            .arg("scan")
            .args(args)
            .args(["--format", "sarif", "--no-progress"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let mut uris: Vec<String> = v["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect();
        uris.sort();
        (uris, v)
    };
    let resolves = |v: &serde_json::Value, uri: &str| {
        let base = v["runs"][0]["originalUriBaseIds"]["%SRCROOT%"]["uri"]
            .as_str()
            .expect("a %SRCROOT% base");
        let p = std::path::PathBuf::from(base.strip_prefix("file://").unwrap()).join(uri);
        assert!(p.is_file(), "{base} + {uri} is not the file");
    };
    // Not in a git work tree: relative to the current directory.
    let (uris, v) = paths(&d, &["src", "docs"]);
    assert_eq!(uris, ["docs/same.env", "src/same.env"]);
    for u in &uris {
        resolves(&v, u);
    }
    // In a git work tree: relative to its root, wherever sprawl is started.
    let st = std::process::Command::new("git")
        .current_dir(&d)
        .args(["init", "-q"])
        .status()
        .unwrap();
    assert!(st.success());
    let (uris, v) = paths(&d.join("src"), &[".", "../docs/same.env"]);
    assert_eq!(uris, ["docs/same.env", "src/same.env"]);
    for u in &uris {
        resolves(&v, u);
    }
    // The text report names them apart too.
    let out = sprawl()
        .current_dir(&d)
        .args(["scan", "src", "docs", "--no-progress"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("src/same.env:1:3") && text.contains("docs/same.env:1:3"),
        "{text}"
    );
}
