//! Whole-history scans on hostile or awkward histories: provenance of a secret that lives
//! through many edits, loops, missing objects, large blobs, secrets in commit metadata.

use std::{path::Path, time::Duration};

use git2::{Oid, Repository, Signature};

use crate::{
    git::{commit, git, git_json},
    util::*,
};

/// Every format a `git` report can be written in.
const FORMATS: [&str; 6] = ["text", "json", "jsonl", "sarif", "csv", "html"];

#[test]
fn a_secret_that_survives_five_edits_is_one_occurrence_from_the_commit_that_added_it() {
    let dir = tempfile::tempdir().unwrap();
    let repo = Repository::init(dir.path()).unwrap();
    let k = github_key("five-edits");
    commit(&repo, &[("README.md", Some("hello\n"))], "readme", "Bob");
    let mut body = format!("A=1\nTOKEN={k}\nB=2\n");
    let added = commit(
        &repo,
        &[("cfg/app.env", Some(&body))],
        "add config",
        "Alice",
    );
    // Five unrelated edits of the same file: lines above the secret move it down.
    let mut last = added;
    for i in 0..5 {
        body = if i % 2 == 0 {
            format!("# edit {i}\n{body}")
        } else {
            format!("{body}C{i}=3\n")
        };
        last = commit(
            &repo,
            &[("cfg/app.env", Some(&body))],
            &format!("edit {i}"),
            "Bob",
        );
    }
    let removed = body.replace(&format!("TOKEN={k}\n"), "");
    commit(
        &repo,
        &[("cfg/app.env", Some(&removed))],
        "drop the token",
        "Carol",
    );

    let (v, code, _) = git_json(&[dir.path().to_str().unwrap()]);
    assert_eq!(code, 1);
    let fs = findings(&v);
    assert_eq!(fs.len(), 1, "one occurrence, not one per version: {fs:#?}");
    let f = &fs[0];
    assert_eq!(f["location"]["path"], "cfg/app.env");
    // The line in the version that introduced it.
    assert_eq!(f["location"]["line"], 2);
    assert_eq!(f["git"]["commit"], added.to_string());
    assert_eq!(f["git"]["author"], "Alice");
    assert_eq!(f["git"]["email"], "alice@example.com");
    assert_eq!(f["git"]["summary"], "add config");
    assert_eq!(f["git"]["in_head"], false);
    assert_eq!(f["git"]["last_commit"], last.to_string());

    // SARIF: one result, not seven.
    let out = sprawl()
        .args(["git", "--no-progress", "--format", "sarif"])
        .arg(dir.path())
        .output()
        .unwrap();
    let sarif: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(sarif["runs"][0]["results"].as_array().unwrap().len(), 1);
}

#[test]
fn a_secret_still_in_head_has_no_last_commit_and_keeps_its_introducer() {
    let dir = tempfile::tempdir().unwrap();
    let repo = Repository::init(dir.path()).unwrap();
    let k = github_key("still-there");
    let c1 = commit(
        &repo,
        &[("a.py", Some(&format!("t = \"{k}\"\n")))],
        "add",
        "Alice",
    );
    commit(
        &repo,
        &[("a.py", Some(&format!("# top\nt = \"{k}\"\n")))],
        "edit",
        "Bob",
    );
    let (v, _, _) = git_json(&[dir.path().to_str().unwrap()]);
    let fs = findings(&v);
    assert_eq!(fs.len(), 1, "{fs:#?}");
    assert_eq!(fs[0]["git"]["commit"], c1.to_string());
    assert_eq!(fs[0]["git"]["in_head"], true);
    assert!(fs[0]["git"].get("last_commit").is_none());
}

/// Three commits, the first holding a key; `.git/info/grafts` makes the first commit's parent
/// the last one, so the history loops.
fn grafted_cycle() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let repo = Repository::init(dir.path()).unwrap();
    let k = github_key("cycle");
    let c1 = commit(&repo, &[("k.env", Some(&format!("K={k}\n")))], "one", "Bob");
    commit(&repo, &[("b.txt", Some("b\n"))], "two", "Bob");
    let c3 = commit(&repo, &[("c.txt", Some("c\n"))], "three", "Bob");
    std::fs::write(dir.path().join(".git/info/grafts"), format!("{c1} {c3}\n")).unwrap();
    (dir, k)
}

#[test]
fn a_history_that_loops_through_grafts_ends() {
    let (dir, k) = grafted_cycle();
    // A hang guard, not a timing assertion: before the fix this never ended.
    for mode in [&[][..], &["--all-objects"][..], &["--since", "HEAD~1"][..]] {
        let out = sprawl()
            .args(["git", "--no-progress", "--format", "json"])
            .args(mode)
            .arg(dir.path())
            .timeout(Duration::from_secs(120))
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.code().is_some(), "{mode:?} did not end");
        assert!(!stdout.contains(k.as_str()));
        if mode.is_empty() {
            let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            assert_eq!(out.status.code(), Some(1));
            let fs = findings(&v);
            assert_eq!(fs.len(), 1, "{fs:#?}");
            assert_eq!(v["stats"]["commits"], 3);
        }
    }
}

fn loose_object(dir: &Path, oid: Oid) -> std::path::PathBuf {
    let hex = oid.to_string();
    dir.join(".git/objects").join(&hex[..2]).join(&hex[2..])
}

#[test]
fn a_missing_parent_commit_does_not_abort_the_scan() {
    let dir = tempfile::tempdir().unwrap();
    let repo = Repository::init(dir.path()).unwrap();
    let old = github_key("behind-the-gap");
    let new = github_key("in-head");
    commit(
        &repo,
        &[("old.env", Some(&format!("K={old}\n")))],
        "old",
        "Bob",
    );
    let gap = commit(&repo, &[("mid.txt", Some("mid\n"))], "gap", "Bob");
    commit(
        &repo,
        &[("new.env", Some(&format!("K={new}\n")))],
        "new",
        "Alice",
    );
    std::fs::remove_file(loose_object(dir.path(), gap)).unwrap();

    let (v, code, stderr) = git_json(&[dir.path().to_str().unwrap()]);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(code, 1, "{stderr}");
    let fs = findings(&v);
    let paths: Vec<&str> = fs
        .iter()
        .map(|f| f["location"]["path"].as_str().unwrap())
        .collect();
    assert!(paths.contains(&"new.env"), "{paths:?}");
    let f = fs
        .iter()
        .find(|f| f["location"]["path"] == "new.env")
        .unwrap();
    assert_eq!(f["git"]["author"], "Alice");
    // What could not be read is reported, naming the commit.
    assert!(stderr.contains(&gap.to_string()), "{stderr}");
    assert!(v["stats"]["errors"].as_u64().unwrap() >= 1);
    assert!(!stderr.contains("class="), "{stderr}");
}

#[test]
fn a_missing_tree_is_reported_and_the_rest_is_scanned() {
    let dir = tempfile::tempdir().unwrap();
    let repo = Repository::init(dir.path()).unwrap();
    let k = github_key("tree-gone");
    commit(
        &repo,
        &[
            ("lost/x.txt", Some("x\n")),
            ("keep.env", Some(&format!("K={k}\n"))),
        ],
        "c",
        "Bob",
    );
    let head = repo.head().unwrap().peel_to_tree().unwrap();
    let lost = head.get_name("lost").unwrap().id();
    std::fs::remove_file(loose_object(dir.path(), lost)).unwrap();
    let (v, code, stderr) = git_json(&[dir.path().to_str().unwrap()]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(findings(&v).len(), 1);
    assert!(stderr.contains(&lost.to_string()), "{stderr}");
}

#[test]
fn blobs_over_max_file_size_are_streamed_loose_and_packed_and_skips_say_why() {
    let dir = tempfile::tempdir().unwrap();
    let repo = Repository::init(dir.path()).unwrap();
    let k = github_key("large-blob");
    let mut big = "filler line of text, nothing to see here\n".repeat(3000);
    big.push_str(&format!("TOKEN={k}\n"));
    let nb = format!(
        "{{\"cells\": [{{\"cell_type\": \"code\", \"source\": [\"x = 1\\n\"], \"outputs\": []}}], \
         \"metadata\": {{}}, \"nbformat\": 4, \"nbformat_minor\": 5, \"pad\": \"{}\"}}",
        "p".repeat(5000)
    );
    commit(
        &repo,
        &[("data/big.txt", Some(&big)), ("nb/large.ipynb", Some(&nb))],
        "big",
        "Bob",
    );
    let line = big.lines().count();
    let check = |what: &str| {
        let (v, code, stderr) =
            git_json(&[dir.path().to_str().unwrap(), "--max-file-size", "1000"]);
        assert_eq!(code, 1, "{what}: {stderr}");
        let fs = findings(&v);
        assert_eq!(fs.len(), 1, "{what}: {fs:#?}");
        assert_eq!(fs[0]["location"]["path"], "data/big.txt");
        assert_eq!(fs[0]["location"]["line"], line as u64);
        // The notebook over the limit is not silently skipped: the reason is reported.
        assert!(
            stderr.contains("nb/large.ipynb") && stderr.contains("--max-file-size"),
            "{what}: {stderr}"
        );
        assert!(!stderr.contains(k.as_str()));
    };
    check("loose objects");
    let out = git(dir.path(), &["gc", "-q"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(std::fs::read_dir(dir.path().join(".git/objects/pack"))
        .unwrap()
        .any(|e| e.unwrap().path().extension().is_some_and(|x| x == "pack")));
    check("packed objects");
}

#[test]
fn a_key_in_a_commit_message_or_author_is_never_printed_in_full() {
    let dir = tempfile::tempdir().unwrap();
    let repo = Repository::init(dir.path()).unwrap();
    let in_file = github_key("meta-file");
    let in_msg = github_key("meta-message");
    let in_name = github_key("meta-name");
    let in_email = github_key("meta-email");
    std::fs::write(dir.path().join("a.env"), format!("K={in_file}\n")).unwrap();
    let mut index = repo.index().unwrap();
    index.add_path(Path::new("a.env")).unwrap();
    index.write().unwrap();
    let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
    let who = Signature::new(
        &format!("Dev {in_name}"),
        &format!("{in_email}@example.com"),
        &git2::Time::new(1_700_000_000, 0),
    )
    .unwrap();
    let base = {
        let t = repo.treebuilder(None).unwrap().write().unwrap();
        let t = repo.find_tree(t).unwrap();
        repo.commit(Some("HEAD"), &who, &who, "empty", &t, &[])
            .unwrap()
    };
    let parent = repo.find_commit(base).unwrap();
    repo.commit(
        Some("HEAD"),
        &who,
        &who,
        &format!("add config; token was {in_msg}"),
        &tree,
        &[&parent],
    )
    .unwrap();
    let keys = [&in_file, &in_msg, &in_name, &in_email];
    for mode in [vec![], vec!["--range".to_string(), format!("{base}..HEAD")]] {
        for format in FORMATS {
            let out = sprawl()
                .args(["git", "--no-progress", "--format", format])
                .args(&mode)
                .arg(dir.path())
                .output()
                .unwrap();
            assert_eq!(out.status.code(), Some(1), "{format} {mode:?}");
            let all = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            for k in keys {
                assert!(
                    !all.contains(k.as_str()),
                    "{format} {mode:?} prints a key in full:\n{all}"
                );
            }
            if format == "json" {
                let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
                let g = &findings(&v)[0]["git"];
                assert!(g["summary"]
                    .as_str()
                    .unwrap()
                    .starts_with("add config; token was ghp_"));
                assert!(g["email"].as_str().unwrap().ends_with("@example.com"));
                assert!(g["author"].as_str().unwrap().starts_with("Dev "));
            }
        }
    }
}
