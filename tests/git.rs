//! `sprawl git`: whole history, ranges, the index, hooks, baselines and bad repositories.
//! Repositories are built here with git2; none is committed as a fixture.

use std::{path::Path, process::Command as Std};

use git2::{IndexEntry, IndexTime, Oid, Repository, Signature};

use crate::util::*;

pub fn sig(name: &str) -> Signature<'static> {
    let email = format!("{}@example.com", name.to_lowercase());
    Signature::new(name, &email, &git2::Time::new(1_700_000_000, 0)).unwrap()
}

/// Write, add or delete `files` (None deletes) and commit on HEAD; returns the commit id.
pub fn commit(repo: &Repository, files: &[(&str, Option<&str>)], msg: &str, author: &str) -> Oid {
    let root = repo.workdir().unwrap().to_path_buf();
    let mut index = repo.index().unwrap();
    for (path, body) in files {
        let p = root.join(path);
        match body {
            Some(b) => {
                std::fs::create_dir_all(p.parent().unwrap()).unwrap();
                std::fs::write(&p, b).unwrap();
                index.add_path(Path::new(path)).unwrap();
            }
            None => {
                std::fs::remove_file(&p).unwrap();
                index.remove_path(Path::new(path)).unwrap();
            }
        }
    }
    index.write().unwrap();
    let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
    let parent = repo.head().ok().and_then(|h| h.peel_to_commit().ok());
    let parents: Vec<&git2::Commit> = parent.iter().collect();
    let s = sig(author);
    repo.commit(Some("HEAD"), &s, &s, msg, &tree, &parents)
        .unwrap()
}

pub fn git_json(args: &[&str]) -> (serde_json::Value, i32, String) {
    let out = sprawl()
        .arg("git")
        .args(args)
        .args(["--format", "json", "--no-progress"])
        .output()
        .unwrap();
    let v = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "bad json ({e}): {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (
        v,
        out.status.code().unwrap(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn key_added_then_deleted_is_attributed_to_its_commit_and_marked_gone_from_head() {
    let dir = tempfile::tempdir().unwrap();
    let repo = Repository::init(dir.path()).unwrap();
    let k = openai_key("git-history");
    commit(&repo, &[("README.md", Some("hello\n"))], "first", "Bob");
    let c2 = commit(
        &repo,
        &[("config/.env", Some(&format!("A=1\nOPENAI_API_KEY={k}\n")))],
        "add config",
        "Alice",
    );
    commit(
        &repo,
        &[("README.md", Some("hello again\n"))],
        "third",
        "Bob",
    );
    commit(&repo, &[("config/.env", None)], "remove the key", "Bob");

    let (v, code, _) = git_json(&[dir.path().to_str().unwrap()]);
    assert_eq!(code, 1);
    let fs = findings(&v);
    assert_eq!(fs.len(), 1, "{fs:?}");
    let f = &fs[0];
    assert_eq!(f["rule"], "openai.project-key");
    assert_eq!(f["source"], "git");
    assert_eq!(f["location"]["path"], "config/.env");
    assert_eq!(f["location"]["line"], 2);
    assert_eq!(f["git"]["commit"], c2.to_string());
    assert_eq!(f["git"]["author"], "Alice");
    assert_eq!(f["git"]["email"], "alice@example.com");
    assert_eq!(f["git"]["date"], "2023-11-14T22:13:20Z");
    assert_eq!(f["git"]["summary"], "add config");
    assert_eq!(f["git"]["in_head"], false);
    assert_eq!(v["stats"]["commits"], 4);

    let out = sprawl().arg("git").arg(dir.path()).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("removed from HEAD, still in history"),
        "{text}"
    );
    assert!(!text.contains(k.as_str()));
}

#[test]
fn a_blob_on_two_branches_and_two_paths_is_scanned_once() {
    let dir = tempfile::tempdir().unwrap();
    let repo = Repository::init(dir.path()).unwrap();
    let k = github_key("two-branches");
    let body = format!("token = \"{k}\"\n");
    let c1 = commit(
        &repo,
        &[("a.txt", Some(&body)), ("c.txt", Some(&body))],
        "one",
        "Bob",
    );
    repo.branch("feature", &repo.find_commit(c1).unwrap(), false)
        .unwrap();
    repo.set_head("refs/heads/feature").unwrap();
    commit(&repo, &[("b.txt", Some("other\n"))], "feature work", "Bob");
    let (v, _, _) = git_json(&[dir.path().to_str().unwrap()]);
    // Two unique blobs: the key file's content (at two paths, on two branches) and b.txt.
    assert_eq!(v["stats"]["blobs"], 2);
    assert_eq!(findings(&v).len(), 1);
    assert_eq!(findings(&v)[0]["git"]["in_head"], true);
}

#[test]
fn keys_only_on_a_tag_or_in_a_stash_are_found() {
    let dir = tempfile::tempdir().unwrap();
    let mut repo = Repository::init(dir.path()).unwrap();
    let base = commit(&repo, &[("app.py", Some("x = 1\n"))], "base", "Bob");

    // A commit reachable only from a tag.
    let tagged = anthropic_key("tag-only");
    let orphan = {
        let blob = repo.blob(format!("KEY={tagged}\n").as_bytes()).unwrap();
        let mut tb = repo.treebuilder(None).unwrap();
        tb.insert("release.env", blob, 0o100644).unwrap();
        let tree = repo.find_tree(tb.write().unwrap()).unwrap();
        let s = sig("Carol");
        let parent = repo.find_commit(base).unwrap();
        repo.commit(None, &s, &s, "release build", &tree, &[&parent])
            .unwrap()
    };
    repo.reference("refs/tags/v1.0", orphan, false, "tag")
        .unwrap();

    // A change only in a stash.
    let stashed = github_key("stash-only");
    std::fs::write(
        dir.path().join("app.py"),
        format!("x = 1\nt = \"{stashed}\"\n"),
    )
    .unwrap();
    repo.stash_save(&sig("Dave"), "wip", None).unwrap();
    assert_eq!(
        std::fs::read_to_string(dir.path().join("app.py")).unwrap(),
        "x = 1\n"
    );

    let (v, _, _) = git_json(&[dir.path().to_str().unwrap()]);
    let rules = rules_of(&v);
    assert!(
        rules.contains(&"anthropic.api-key".to_string()),
        "{rules:?}"
    );
    assert!(
        rules.contains(&"github.pat-classic".to_string()),
        "{rules:?}"
    );
    let tag_finding = findings(&v)
        .iter()
        .find(|f| f["rule"] == "anthropic.api-key")
        .unwrap();
    assert_eq!(tag_finding["git"]["commit"], orphan.to_string());
    assert_eq!(tag_finding["location"]["path"], "release.env");
}

#[test]
fn range_reports_only_lines_the_range_added() {
    let dir = tempfile::tempdir().unwrap();
    let repo = Repository::init(dir.path()).unwrap();
    let [a, b, c, d] = ["r-a", "r-b", "r-c", "r-d"].map(github_key);
    let c1 = commit(&repo, &[("k.env", Some(&format!("A={a}\n")))], "a", "Bob");
    let c2 = commit(
        &repo,
        &[("k.env", Some(&format!("A={a}\nB={b}\n")))],
        "b",
        "Bob",
    );
    commit(
        &repo,
        &[("other/c.env", Some(&format!("\n\nC={c}\n")))],
        "c",
        "Bob",
    );
    let c4 = commit(&repo, &[("d.env", Some(&format!("D={d}\n")))], "d", "Bob");
    let range = format!("{c1}..{c4}");
    let (v, code, _) = git_json(&[dir.path().to_str().unwrap(), "--range", &range]);
    assert_eq!(code, 1);
    let got: Vec<(String, u64, String)> = findings(&v)
        .iter()
        .map(|f| {
            (
                f["location"]["path"].as_str().unwrap().to_string(),
                f["location"]["line"].as_u64().unwrap(),
                f["git"]["summary"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("d.env".to_string(), 1, "d".to_string()),
            ("k.env".to_string(), 2, "b".to_string()),
            ("other/c.env".to_string(), 3, "c".to_string()),
        ]
    );
    assert_eq!(v["stats"]["commits"], 3);
    let b_finding = findings(&v)
        .iter()
        .find(|f| f["location"]["path"] == "k.env")
        .unwrap();
    assert_eq!(b_finding["git"]["commit"], c2.to_string());

    // --since REV is REV..HEAD.
    let (v, _, _) = git_json(&[dir.path().to_str().unwrap(), "--since", &c2.to_string()]);
    assert_eq!(findings(&v).len(), 2);
}

#[test]
fn staged_reports_only_staged_added_lines() {
    let dir = tempfile::tempdir().unwrap();
    let repo = Repository::init(dir.path()).unwrap();
    let old = github_key("staged-old");
    let new = github_key("staged-new");
    let unstaged = github_key("staged-unstaged");
    commit(
        &repo,
        &[("app.env", Some(&format!("OLD={old}\n")))],
        "base",
        "Bob",
    );
    std::fs::write(
        dir.path().join("app.env"),
        format!("OLD={old}\nNEW={new}\n"),
    )
    .unwrap();
    let mut index = repo.index().unwrap();
    index.add_path(Path::new("app.env")).unwrap();
    index.write().unwrap();
    // A change in the work tree that is not staged is not part of the commit.
    std::fs::write(dir.path().join("notes.env"), format!("U={unstaged}\n")).unwrap();

    let (v, code, stderr) = git_json(&[dir.path().to_str().unwrap(), "--staged"]);
    assert_eq!(code, 1);
    let fs = findings(&v);
    assert_eq!(fs.len(), 1);
    assert_eq!(fs[0]["source"], "staged");
    assert_eq!(fs[0]["location"]["path"], "app.env");
    assert_eq!(fs[0]["location"]["line"], 2);
    assert!(stderr.contains("rotate"), "{stderr}");
    assert!(stderr.contains("sprawl:allow"));
}

#[test]
fn staged_works_in_a_repository_with_no_commit() {
    let dir = tempfile::tempdir().unwrap();
    let repo = Repository::init(dir.path()).unwrap();
    let k = anthropic_key("empty-repo");
    std::fs::write(dir.path().join("first.py"), format!("\n\nkey = \"{k}\"\n")).unwrap();
    let mut index = repo.index().unwrap();
    index.add_path(Path::new("first.py")).unwrap();
    index.write().unwrap();
    let (v, code, _) = git_json(&[dir.path().to_str().unwrap(), "--staged"]);
    assert_eq!(code, 1);
    assert_eq!(findings(&v)[0]["location"]["line"], 3);
    // A clean index in an empty repository exits 0.
    let clean = tempfile::tempdir().unwrap();
    Repository::init(clean.path()).unwrap();
    let (_, code, _) = git_json(&[clean.path().to_str().unwrap(), "--staged"]);
    assert_eq!(code, 0);
}

pub fn git(dir: &Path, args: &[&str]) -> std::process::Output {
    Std::new("git")
        .current_dir(dir)
        .args(["-c", "user.name=T", "-c", "user.email=t@example.com"])
        .args(["-c", "commit.gpgsign=false"])
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn installed_hook_blocks_a_commit_with_a_key_and_lets_a_clean_one_through() {
    let dir = tempfile::tempdir().unwrap();
    assert!(git(dir.path(), &["init", "-q"]).status.success());
    sprawl()
        .arg("install-hook")
        .arg(dir.path())
        .assert()
        .success();
    // A second install over our own hook is fine; over someone else's it is refused.
    sprawl()
        .arg("install-hook")
        .arg(dir.path())
        .assert()
        .success();

    std::fs::write(dir.path().join("clean.py"), "print('hi')\n").unwrap();
    git(dir.path(), &["add", "clean.py"]);
    let out = git(dir.path(), &["commit", "-q", "-m", "clean"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let k = openai_key("hook");
    std::fs::write(dir.path().join("leak.py"), format!("KEY = \"{k}\"\n")).unwrap();
    git(dir.path(), &["add", "leak.py"]);
    let out = git(dir.path(), &["commit", "-q", "-m", "leak"]);
    assert!(!out.status.success());
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(all.contains("openai.project-key"), "{all}");
    assert!(!all.contains(k.as_str()));
    let log = git(dir.path(), &["log", "--oneline"]);
    assert_eq!(String::from_utf8_lossy(&log.stdout).lines().count(), 1);

    let hook = dir.path().join(".git/hooks/pre-commit");
    std::fs::write(&hook, "#!/bin/sh\necho mine\n").unwrap();
    sprawl()
        .arg("install-hook")
        .arg(dir.path())
        .assert()
        .code(2)
        .stderr(predicates::str::contains("--force"));
}

#[test]
fn baselined_secret_stays_suppressed_when_it_moves_and_a_new_one_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let repo = Repository::init(dir.path()).unwrap();
    let a = github_key("gb-a");
    let b = github_key("gb-b");
    commit(
        &repo,
        &[("x.py", Some(&format!("t = \"{a}\"\n")))],
        "a",
        "Bob",
    );
    let baseline = dir.path().join("baseline.json");
    sprawl()
        .arg("git")
        .arg(dir.path())
        .arg("--write-baseline")
        .arg(&baseline)
        .assert()
        .code(1);
    commit(
        &repo,
        &[
            ("x.py", Some(&format!("t = \"{b}\"\n"))),
            ("lib/y.py", Some(&format!("\n\n\nother = \"{a}\"\n"))),
        ],
        "move",
        "Bob",
    );
    let (v, code, _) = git_json(&[
        dir.path().to_str().unwrap(),
        "--baseline",
        baseline.to_str().unwrap(),
    ]);
    assert_eq!(code, 1);
    let fs = findings(&v);
    assert_eq!(fs.len(), 1, "{fs:?}");
    assert_eq!(fs[0]["location"]["path"], "x.py");
    assert_eq!(fs[0]["location"]["line"], 1);
    assert_eq!(fs[0]["git"]["summary"], "move");
    let out = sprawl()
        .arg("git")
        .arg(dir.path())
        .arg("--baseline")
        .arg(&baseline)
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("suppressed by the baseline"));
}

#[test]
fn not_a_repository_is_a_usage_error_named_in_one_plain_line() {
    let dir = tempfile::tempdir().unwrap();
    let good = tempfile::tempdir().unwrap();
    let repo = Repository::init(good.path()).unwrap();
    commit(
        &repo,
        &[("a.env", Some(&format!("K={}\n", github_key("good"))))],
        "a",
        "Bob",
    );
    let missing = dir.path().join("does-not-exist");
    for (bad, says) in [
        (dir.path().to_path_buf(), "is not a git repository"),
        (missing, "does not exist"),
    ] {
        // Alone or beside a good repository: a typo in CI is never green.
        for args in [
            vec![bad.clone()],
            vec![good.path().to_path_buf(), bad.clone()],
        ] {
            let out = sprawl()
                .args(["git", "--no-progress", "--format", "json"])
                .args(&args)
                .env("GIT_CEILING_DIRECTORIES", dir.path().parent().unwrap())
                .output()
                .unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{stderr}");
            assert_eq!(stderr.lines().count(), 1, "{stderr}");
            assert!(stderr.contains(says), "{stderr}");
            assert!(stderr.contains(bad.to_str().unwrap()), "{stderr}");
            assert!(!stderr.contains("class="), "{stderr}");
            assert!(out.stdout.is_empty());
        }
    }
}

#[test]
fn shallow_and_bare_clones_are_scanned() {
    let dir = tempfile::tempdir().unwrap();
    let repo = Repository::init(dir.path()).unwrap();
    let old = github_key("shallow-old");
    let new = github_key("shallow-new");
    commit(
        &repo,
        &[("old.env", Some(&format!("K={old}\n")))],
        "old",
        "Bob",
    );
    commit(
        &repo,
        &[("old.env", None), ("new.env", Some(&format!("K={new}\n")))],
        "new",
        "Bob",
    );

    let work = tempfile::tempdir().unwrap();
    let url = format!("file://{}", dir.path().display());
    let shallow = work.path().join("shallow");
    let out = Std::new("git")
        .args(["clone", "-q", "--depth", "1", &url])
        .arg(&shallow)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (v, code, stderr) = git_json(&[shallow.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(stderr.contains("shallow"), "{stderr}");
    let paths: Vec<&str> = findings(&v)
        .iter()
        .map(|f| f["location"]["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["new.env"]);

    let bare = work.path().join("bare.git");
    let out = Std::new("git")
        .args(["clone", "-q", "--bare"])
        .arg(dir.path())
        .arg(&bare)
        .output()
        .unwrap();
    assert!(out.status.success());
    let (v, code, _) = git_json(&[bare.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert_eq!(findings(&v).len(), 2);
}

#[test]
fn a_missing_object_is_reported_and_the_rest_is_scanned() {
    let dir = tempfile::tempdir().unwrap();
    let repo = Repository::init(dir.path()).unwrap();
    let k = github_key("corrupt");
    commit(
        &repo,
        &[
            ("keep.env", Some(&format!("K={k}\n"))),
            ("lost.txt", Some("to be lost\n")),
        ],
        "c",
        "Bob",
    );
    let lost = repo.blob("to be lost\n".as_bytes()).unwrap().to_string();
    let obj = dir
        .path()
        .join(".git/objects")
        .join(&lost[..2])
        .join(&lost[2..]);
    std::fs::remove_file(&obj).unwrap();
    let (v, code, stderr) = git_json(&[dir.path().to_str().unwrap()]);
    assert!(!stderr.contains("panicked"));
    assert_eq!(code, 1);
    assert_eq!(findings(&v).len(), 1);
    assert!(v["stats"]["errors"].as_u64().unwrap() >= 1);
    assert!(stderr.contains(&lost), "{stderr}");
}

#[test]
fn submodules_and_huge_binary_blobs_do_not_break_the_scan() {
    let dir = tempfile::tempdir().unwrap();
    let repo = Repository::init(dir.path()).unwrap();
    let k = github_key("submodule");
    // A gitlink entry (submodule) next to a normal file.
    let mut index = repo.index().unwrap();
    let entry = IndexEntry {
        ctime: IndexTime::new(0, 0),
        mtime: IndexTime::new(0, 0),
        dev: 0,
        ino: 0,
        mode: 0o160000,
        uid: 0,
        gid: 0,
        file_size: 0,
        id: Oid::from_str("1111111111111111111111111111111111111111").unwrap(),
        flags: 0,
        flags_extended: 0,
        path: b"vendor/lib".to_vec(),
    };
    index.add(&entry).unwrap();
    index.write().unwrap();
    let mut big = vec![0u8; 30 << 20];
    big[1000..1040].copy_from_slice(&k.as_bytes()[..40]);
    std::fs::write(dir.path().join("model.bin"), &big).unwrap();
    std::fs::write(dir.path().join("a.env"), format!("K={k}\n")).unwrap();
    std::fs::write(
        dir.path().join(".gitmodules"),
        "[submodule \"vendor/lib\"]\n\tpath = vendor/lib\n\turl = https://example.com/lib.git\n",
    )
    .unwrap();
    commit(
        &repo,
        &[
            ("model.bin", Some(&String::from_utf8_lossy(&big))),
            ("a.env", Some(&format!("K={k}\n"))),
        ],
        "with submodule",
        "Bob",
    );
    let (v, code, stderr) = git_json(&[dir.path().to_str().unwrap()]);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(code, 1);
    assert_eq!(findings(&v).len(), 1);
    // The 30 MiB blob is over --max-file-size: streamed, found binary, skipped as such.
    assert_eq!(v["stats"]["skipped"]["binary"], 1);
    assert_eq!(v["stats"]["skipped"]["too_large"], 0);
}

#[test]
fn blobs_are_deduplicated_across_repositories_in_one_run() {
    let parent = tempfile::tempdir().unwrap();
    let k = github_key("two-repos");
    let body = format!("t = \"{k}\"\n");
    for name in ["alpha", "beta"] {
        let dir = parent.path().join(name);
        let repo = Repository::init(&dir).unwrap();
        commit(
            &repo,
            &[("shared.py", Some(&body)), (name, Some(name))],
            name,
            "Bob",
        );
    }
    let a = parent.path().join("alpha");
    let b = parent.path().join("beta");
    let (v, code, _) = git_json(&[a.to_str().unwrap(), b.to_str().unwrap()]);
    assert_eq!(code, 1);
    // shared.py's blob once, plus one distinct file per repository.
    assert_eq!(v["stats"]["blobs"], 3);
    let mut paths: Vec<&str> = findings(&v)
        .iter()
        .map(|f| f["location"]["path"].as_str().unwrap())
        .collect();
    paths.sort();
    assert_eq!(paths, ["alpha/shared.py", "beta/shared.py"]);
    let summaries: Vec<&str> = findings(&v)
        .iter()
        .map(|f| f["git"]["summary"].as_str().unwrap())
        .collect();
    assert!(summaries.contains(&"alpha") && summaries.contains(&"beta"));
}
