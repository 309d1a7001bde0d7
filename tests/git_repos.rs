//! Which repository a `sprawl git` run scans and which configuration applies to it:
//! discovery from a subdirectory, each repository's own `sprawl.toml` in a multi-repository
//! run, and what cannot be scanned at all (a range that does not resolve, `--staged` in a
//! bare repository) as one-line usage errors.

use std::process::Command as Std;

use git2::Repository;

use crate::{
    git::{commit, git_json},
    util::*,
};

#[test]
fn git_in_a_subdirectory_finds_the_repository_upward() {
    let dir = tempfile::tempdir().unwrap();
    let repo = Repository::init(dir.path()).unwrap();
    let k = github_key("subdir");
    commit(
        &repo,
        &[
            ("src/deep/a.py", Some("x = 1\n")),
            ("keys.env", Some(&format!("K={k}\n"))),
        ],
        "c",
        "Bob",
    );
    let deep = dir.path().join("src/deep");
    let out = run_expecting(
        sprawl()
            .current_dir(&deep)
            .args(["git", "--no-progress", "--format", "json"]),
        1,
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // Paths stay relative to the repository's root.
    assert_eq!(findings(&v)[0]["location"]["path"], "keys.env");
    // Named explicitly too, and the repository root's sprawl.toml applies.
    std::fs::write(
        dir.path().join("sprawl.toml"),
        "[scan]\ndisable_rules = [\"github.pat-classic\"]\n",
    )
    .unwrap();
    let (v, code, _) = git_json(&[deep.to_str().unwrap()]);
    assert_eq!(code, 0);
    assert!(findings(&v).is_empty());
}

#[test]
fn each_repository_s_own_config_applies_to_its_findings() {
    let parent = tempfile::tempdir().unwrap();
    let shared = github_key("multi-shared");
    let only_beta = github_key("multi-beta");
    let excluded = anthropic_key("multi-excluded");
    for name in ["alpha", "beta"] {
        let dir = parent.path().join(name);
        let repo = Repository::init(&dir).unwrap();
        commit(
            &repo,
            &[
                ("app.env", Some(&format!("K={shared}\n"))),
                ("beta.env", Some(&format!("K={only_beta}\n"))),
                ("fixtures/x.env", Some(&format!("K={excluded}\n"))),
            ],
            name,
            "Bob",
        );
    }
    let alpha = parent.path().join("alpha");
    let beta = parent.path().join("beta");
    // alpha: excludes fixtures/, disables the GitHub rule, and baselines nothing.
    std::fs::write(
        alpha.join("sprawl.toml"),
        "[scan]\nexclude = [\"fixtures/\"]\ndisable_rules = [\"github.pat-classic\"]\n",
    )
    .unwrap();
    // beta: baselines the shared key (its own baseline file) and nothing else.
    let out = sprawl()
        .args(["git", "--no-progress", "--write-baseline"])
        .arg(beta.join("known.json"))
        .arg(&beta)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let all_of_beta = std::fs::read_to_string(beta.join("known.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&all_of_beta).unwrap();
    let keep: Vec<&serde_json::Value> = v["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["path"] == "app.env")
        .collect();
    assert_eq!(keep.len(), 1);
    let baseline = serde_json::json!({"schema": v["schema"], "entries": keep});
    std::fs::write(beta.join("known.json"), baseline.to_string()).unwrap();
    std::fs::write(
        beta.join("sprawl.toml"),
        "[scan]\nbaseline = \"known.json\"\n",
    )
    .unwrap();

    let (v, code, stderr) = git_json(&[alpha.to_str().unwrap(), beta.to_str().unwrap()]);
    assert_eq!(code, 1, "{stderr}");
    let mut got: Vec<(String, String)> = findings(&v)
        .iter()
        .map(|f| {
            (
                f["location"]["path"].as_str().unwrap().to_string(),
                f["rule"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            (
                "beta/beta.env".to_string(),
                "github.pat-classic".to_string()
            ),
            (
                "beta/fixtures/x.env".to_string(),
                "anthropic.api-key".to_string()
            ),
        ],
        "alpha: no GitHub keys, no fixtures; beta: the shared key is baselined"
    );
}

#[test]
fn a_range_that_does_not_resolve_is_a_usage_error_in_plain_words() {
    let dir = tempfile::tempdir().unwrap();
    let repo = Repository::init(dir.path()).unwrap();
    commit(&repo, &[("a.txt", Some("a\n"))], "a", "Bob");
    for (args, names) in [
        (vec!["--range", "nosuchbranch..HEAD"], "nosuchbranch"),
        (vec!["--range", "HEAD..deadbeef"], "deadbeef"),
        (vec!["--since", "v9.9.9"], "v9.9.9"),
        (vec!["--range", "HEAD"], "A..B"),
    ] {
        let out = sprawl()
            .arg("git")
            .arg(dir.path())
            .args(&args)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.contains(names), "{stderr}");
        assert!(
            !stderr.contains("class=") && !stderr.contains("code="),
            "{stderr}"
        );
        assert!(!String::from_utf8_lossy(&out.stdout).contains("no secrets found"));
    }
}

#[test]
fn staged_in_a_bare_repository_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let bare = dir.path().join("b.git");
    let out = Std::new("git")
        .args(["init", "-q", "--bare"])
        .arg(&bare)
        .output()
        .unwrap();
    assert!(out.status.success());
    let out = sprawl()
        .args(["git", "--staged"])
        .arg(&bare)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("bare"), "{stderr}");
    assert!(stderr.contains("--staged"), "{stderr}");
}
