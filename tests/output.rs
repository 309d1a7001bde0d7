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
            "id",
            "kind",
            "location",
            "provider",
            "redacted",
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
