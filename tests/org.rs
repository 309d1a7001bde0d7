//! Org-wide audits: the store (incremental history scans, rule changes, schema versions,
//! occurrences across runs), repository lists with per-repository errors and mirror clones,
//! and shards merged into the report and audit one process gives (issue 14).

use std::{
    collections::BTreeSet,
    path::{Path, PathBuf},
    process::Command as Std,
};

use git2::Repository;
use serde_json::Value;

use crate::{git::commit, util::*};

/// `sprawl git ARGS --format json --no-progress`: the report, exit code and stderr.
fn git_run(dir: &Path, args: &[&str]) -> (Value, i32, String) {
    let out = sprawl()
        .current_dir(dir)
        .arg("git")
        .args(args)
        .args(["--format", "json", "--no-progress"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let v = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("bad json ({e}); stderr: {stderr}"));
    (v, out.status.code().unwrap(), stderr)
}

/// The blobs read and known from the store, from the run's summary line.
fn store_counts(stderr: &str) -> (u64, u64) {
    let n = store_summary(stderr);
    (n[0], n[1])
}

/// The numbers of the store's summary line: blobs read, blobs known, repositories
/// unchanged, repositories.
fn store_summary(stderr: &str) -> Vec<u64> {
    let line = stderr
        .lines()
        .find(|l| l.starts_with("store ") && l.contains(" blobs read, "))
        .unwrap_or_else(|| panic!("no store summary in: {stderr}"));
    let after = line.split(": ").last().unwrap();
    let nums: Vec<u64> = after
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().unwrap())
        .collect();
    nums
}

/// A report without what differs from run to run (its duration).
fn comparable(mut v: Value) -> Value {
    v["stats"]["seconds"] = Value::Null;
    v
}

/// The blobs of a commit's tree that none of the trees of `before` holds.
fn new_blobs(repo: &Repository, before: &[git2::Oid], now: git2::Oid) -> usize {
    let blobs_of = |c: git2::Oid| {
        let mut set = BTreeSet::new();
        let tree = repo.find_commit(c).unwrap().tree().unwrap();
        tree.walk(git2::TreeWalkMode::PreOrder, |_, e| {
            if e.kind() == Some(git2::ObjectType::Blob) {
                set.insert(e.id());
            }
            git2::TreeWalkResult::Ok
        })
        .unwrap();
        set
    };
    let old: BTreeSet<git2::Oid> = before.iter().flat_map(|c| blobs_of(*c)).collect();
    blobs_of(now).difference(&old).count()
}

#[test]
fn a_second_run_with_the_store_reads_only_new_blobs_and_reports_what_a_full_scan_does() {
    let dir = tempfile::tempdir().unwrap();
    let repo = Repository::init(dir.path().join("r")).unwrap();
    let k1 = github_key("store-1");
    let k2 = openai_key("store-2");
    let c1 = commit(
        &repo,
        &[
            ("README.md", Some("hello\n")),
            ("src/app.py", Some("x = 1\n")),
        ],
        "first",
        "Bob",
    );
    let c2 = commit(
        &repo,
        &[("config/.env", Some(&format!("GITHUB_TOKEN={k1}\n")))],
        "add config",
        "Alice",
    );
    let store = dir.path().join("sprawl.db");
    let s = store.to_str().unwrap();
    let (first, code, err) = git_run(dir.path(), &["r", "--store", s]);
    assert_eq!(code, 1, "{err}");
    let (read, known) = store_counts(&err);
    assert_eq!(
        (read, known),
        (first["stats"]["blobs"].as_u64().unwrap(), 0)
    );

    // One more commit: a changed file and a new one with a second secret.
    let c3 = commit(
        &repo,
        &[
            ("src/app.py", Some(&format!("x = 2\nkey = \"{k2}\"\n"))),
            ("docs/notes.txt", Some("notes\n")),
        ],
        "more",
        "Carol",
    );
    let (second, code, err) = git_run(dir.path(), &["r", "--store", s]);
    assert_eq!(code, 1, "{err}");
    let (full, _, _) = git_run(dir.path(), &["r"]);
    assert_eq!(comparable(second.clone()), comparable(full), "{err}");
    let (read, known) = store_counts(&err);
    assert_eq!(read as usize, new_blobs(&repo, &[c1, c2], c3));
    assert_eq!(known, first["stats"]["blobs"].as_u64().unwrap());
    assert_eq!(findings(&second).len(), 2);

    // Nothing new: nothing read, nothing walked (no ref moved), the same report.
    let (third, _, err) = git_run(dir.path(), &["r", "--store", s]);
    assert_eq!(store_summary(&err), [0, known + read, 1, 1], "{err}");
    assert_eq!(comparable(third), comparable(second.clone()));
    // The repository's configuration still applies to what the store recalls (a rule it
    // disables changes the rule set, so excludes here).
    std::fs::write(
        dir.path().join("r/sprawl.toml"),
        "[scan]\nexclude = [\"config/\"]\n",
    )
    .unwrap();
    let (fourth, _, err) = git_run(dir.path(), &["r", "--store", s]);
    assert_eq!(store_summary(&err)[2], 1, "{err}");
    assert_eq!(rules_of(&fourth), ["openai.project-key"]);
    std::fs::remove_file(dir.path().join("r/sprawl.toml")).unwrap();
    // --show-secrets needs the secrets: the blobs holding them are read again.
    let (shown, _, err) = git_run(dir.path(), &["r", "--store", s, "--show-secrets"]);
    assert_eq!(store_summary(&err)[..3], [2, known + read - 2, 0], "{err}");
    assert_eq!(
        findings(&shown)[0]["secret"].as_str().map(str::len),
        Some(k1.len())
    );

    // The store holds no secret.
    let bytes = std::fs::read(&store).unwrap();
    for k in [&k1, &k2] {
        assert!(
            !bytes.windows(k.len()).any(|w| w == k.as_bytes()),
            "a secret is in the store"
        );
    }
}

#[test]
fn repositories_sharing_blobs_count_each_blob_once_with_the_store_as_without() {
    let dir = tempfile::tempdir().unwrap();
    let k = github_key("store-shared-blob");
    for name in ["alpha", "beta"] {
        let repo = Repository::init(dir.path().join(name)).unwrap();
        commit(
            &repo,
            &[
                ("shared.py", Some(&format!("t = \"{k}\"\n"))),
                (name, Some(name)),
            ],
            name,
            "Bob",
        );
    }
    let s = dir.path().join("s.db");
    let s = s.to_str().unwrap();
    let (plain, _, _) = git_run(dir.path(), &["alpha", "beta"]);
    for round in 0..3 {
        let (v, code, err) = git_run(dir.path(), &["alpha", "beta", "--store", s]);
        assert_eq!(code, 1, "{err}");
        assert_eq!(
            comparable(v),
            comparable(plain.clone()),
            "round {round}: {err}"
        );
    }
    // In the other order too.
    let (plain, _, _) = git_run(dir.path(), &["beta", "alpha"]);
    let (v, _, err) = git_run(dir.path(), &["beta", "alpha", "--store", s]);
    assert_eq!(comparable(v), comparable(plain), "{err}");
}

#[test]
fn a_rules_change_rescans_and_finds_what_the_new_rule_finds() {
    let dir = tempfile::tempdir().unwrap();
    let repo = Repository::init(dir.path().join("r")).unwrap();
    let token = format!("orgtok_{}", key("{{alnum:24}}", "org-rule"));
    commit(
        &repo,
        &[
            ("a.txt", Some(&format!("t = {token}\n"))),
            ("b.txt", Some("nothing\n")),
        ],
        "c",
        "Bob",
    );
    let s = dir.path().join("s.db");
    let s = s.to_str().unwrap();
    let (v, code, err) = git_run(dir.path(), &["r", "--store", s]);
    assert_eq!((code, findings(&v).len()), (0, 0), "{err}");
    std::fs::write(
        dir.path().join("extra.toml"),
        "[[rules]]\nid = \"x.org-token\"\ntitle = \"t\"\nprovider = \"x\"\nkind = \"token\"\n\
         severity = \"high\"\nkeywords = [\"orgtok_\"]\nregex = '(?P<secret>orgtok_[A-Za-z0-9]{24})'\n\
         examples = []\nrevoke = \"r\"\n",
    )
    .unwrap();
    let (v, code, err) = git_run(dir.path(), &["r", "--store", s, "--rules", "extra.toml"]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(rules_of(&v), ["x.org-token"]);
    assert_eq!(store_counts(&err), (2, 0), "every blob read again");
    // The same rules again: nothing read, the finding recalled with its place.
    let (again, _, err) = git_run(dir.path(), &["r", "--store", s, "--rules", "extra.toml"]);
    assert_eq!(store_counts(&err), (0, 2), "{err}");
    assert_eq!(comparable(again), comparable(v));
}

fn user_version(p: &Path) -> i64 {
    let c = rusqlite::Connection::open(p).unwrap();
    c.pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap()
}

#[test]
fn a_store_of_an_older_schema_is_migrated_forward_and_a_newer_one_refused() {
    let dir = tempfile::tempdir().unwrap();
    let repo = Repository::init(dir.path().join("r")).unwrap();
    let k = github_key("store-migrate");
    commit(&repo, &[("k.env", Some(&format!("K={k}\n")))], "c", "Bob");
    // A version-1 store, as the first schema wrote it, with one run's occurrence.
    let old = dir.path().join("old.db");
    {
        let c = rusqlite::Connection::open(&old).unwrap();
        c.execute_batch(sprawl::store::MIGRATIONS[0]).unwrap();
        c.pragma_update(None, "application_id", sprawl::store::APPLICATION_ID)
            .unwrap();
        c.pragma_update(None, "user_version", 1).unwrap();
        c.execute_batch(
            "INSERT INTO ruleset (id, digest) VALUES (1, 'old');
             INSERT INTO run (id, started_at, tool_version, ruleset) VALUES (1, '2025-01-01T00:00:00Z', '0.0.1', 1);
             INSERT INTO repo (id, identity, label, last_run) VALUES (1, 'elsewhere', 'elsewhere', 1);
             INSERT INTO occurrence (repo, id, fingerprint, rule, redacted, path, line, commit_id, first_seen, last_seen)
               VALUES (1, 'o1', 'sha256:00', 'r', 'x…', 'p', 1, NULL, 1, 1);",
        )
        .unwrap();
    }
    let (v, code, err) = git_run(dir.path(), &["r", "--store", old.to_str().unwrap()]);
    assert_eq!((code, findings(&v).len()), (1, 1), "{err}");
    assert_eq!(user_version(&old), sprawl::store::schema_version());
    let c = rusqlite::Connection::open(&old).unwrap();
    // The old row is kept, with the columns the migration added.
    let (first, resolved): (i64, Option<String>) = c
        .query_row(
            "SELECT first_seen, resolved FROM occurrence WHERE id = 'o1'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((first, resolved), (1, None));
    drop(c);

    // A store a newer sprawl wrote: refused, named, nothing scanned.
    let newer = dir.path().join("newer.db");
    git_run(dir.path(), &["r", "--store", newer.to_str().unwrap()]);
    rusqlite::Connection::open(&newer)
        .unwrap()
        .pragma_update(None, "user_version", sprawl::store::schema_version() + 1)
        .unwrap();
    let out = sprawl()
        .current_dir(dir.path())
        .args(["git", "r", "--no-progress", "--store", "newer.db"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("newer.db") && err.contains("newer sprawl"),
        "{err}"
    );
    assert!(out.stdout.is_empty());
    // Not a store at all: refused too.
    std::fs::write(
        dir.path().join("junk.db"),
        "not sqlite at all, just text\n".repeat(100),
    )
    .unwrap();
    let out = sprawl()
        .current_dir(dir.path())
        .args(["git", "r", "--no-progress", "--store", "junk.db"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("junk.db") && err.contains("not a sprawl store"),
        "{err}"
    );
}

#[test]
fn occurrences_keep_first_and_last_seen_and_say_when_they_are_resolved() {
    let dir = tempfile::tempdir().unwrap();
    let repo = Repository::init(dir.path().join("r")).unwrap();
    let kept = github_key("occ-kept");
    let removed = openai_key("occ-removed");
    let branch_only = anthropic_key("occ-branch");
    commit(
        &repo,
        &[
            ("kept.env", Some(&format!("K={kept}\n"))),
            ("removed.env", Some(&format!("K={removed}\n"))),
        ],
        "c1",
        "Bob",
    );
    // A branch holds a third secret; HEAD never does.
    let head = repo.head().unwrap().peel_to_commit().unwrap();
    repo.branch("topic", &head, false).unwrap();
    repo.set_head("refs/heads/topic").unwrap();
    repo.checkout_head(Some(git2::build::CheckoutBuilder::new().force()))
        .unwrap();
    commit(
        &repo,
        &[("b.env", Some(&format!("K={branch_only}\n")))],
        "b",
        "Eve",
    );
    let main = if repo.find_branch("master", git2::BranchType::Local).is_ok() {
        "master"
    } else {
        "main"
    };
    repo.set_head(&format!("refs/heads/{main}")).unwrap();
    repo.checkout_head(Some(git2::build::CheckoutBuilder::new().force()))
        .unwrap();
    let s = dir.path().join("s.db");
    let s = s.to_str().unwrap();
    git_run(dir.path(), &["r", "--store", s]);
    // Run 2: removed.env deleted at HEAD; run 3: the branch deleted.
    commit(&repo, &[("removed.env", None)], "rm", "Bob");
    git_run(dir.path(), &["r", "--store", s]);
    repo.find_branch("topic", git2::BranchType::Local)
        .unwrap()
        .delete()
        .unwrap();
    git_run(dir.path(), &["r", "--store", s]);

    let c = rusqlite::Connection::open(s).unwrap();
    let state = |k: &str| -> (i64, i64, Option<String>, Option<i64>) {
        let fp = format!("sha256:{}", sha256_hex(k));
        c.query_row(
            "SELECT first_seen, last_seen, resolved, resolved_run FROM occurrence WHERE fingerprint = ?1",
            [fp],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .unwrap()
    };
    assert_eq!(state(&kept), (1, 3, None, None));
    assert_eq!(state(&removed), (1, 3, Some("head".into()), Some(2)));
    // Not on HEAD from the start, and gone from the history in run 3.
    assert_eq!(state(&branch_only), (1, 2, Some("gone".into()), Some(3)));
}

fn sha256_hex(s: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(s.as_bytes()))
}

/// A repository `name` under `root` with two commits, the second adding a secret of its own.
fn small_repo(root: &Path, name: &str) -> PathBuf {
    let dir = root.join(name);
    let repo = Repository::init(&dir).unwrap();
    commit(
        &repo,
        &[("README.md", Some(&format!("# {name}\n")))],
        "init",
        "Bob",
    );
    let k = github_key(&format!("org-{name}"));
    commit(
        &repo,
        &[(
            "deploy/.env",
            Some(&format!("# {name}\nGITHUB_TOKEN={k}\n")),
        )],
        "deploy",
        "Alice",
    );
    dir
}

#[test]
fn a_repository_that_cannot_be_scanned_is_reported_and_the_rest_go_on() {
    let dir = tempfile::tempdir().unwrap();
    small_repo(dir.path(), "good");
    std::fs::create_dir_all(dir.path().join("broken/.git")).unwrap();
    std::fs::write(dir.path().join("broken/.git/HEAD"), "garbage\n").unwrap();
    std::fs::write(
        dir.path().join("repos.txt"),
        "# the org\ngood\nmissing   # moved away\nbroken\nfile:///nonexistent/sprawl-test/none.git\n",
    )
    .unwrap();
    let cache = dir.path().join("cache");
    let (v, code, err) = git_run(
        dir.path(),
        &[
            "--repos-from",
            "repos.txt",
            "--clone-cache",
            cache.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 1, "{err}");
    assert_eq!(findings(&v).len(), 1);
    assert_eq!(findings(&v)[0]["repository"], "good");
    assert_eq!(findings(&v)[0]["location"]["path"], "good/deploy/.env");
    let failed: Vec<&str> = v["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        failed,
        ["/nonexistent/sprawl-test/none", "broken", "missing"],
        "{err}"
    );
    assert!(err.contains("fatal:"), "git's own reason: {err}");
    // One line per repository for CI logs.
    assert_eq!(
        err.lines().filter(|l| l.starts_with('[')).count(),
        3,
        "{err}"
    );
    // --strict makes any of them fail the run.
    let out = sprawl()
        .current_dir(dir.path())
        .args([
            "git",
            "--repos-from",
            "repos.txt",
            "--strict",
            "--no-progress",
        ])
        .args(["--clone-cache", cache.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn remote_repositories_are_mirrored_into_the_cache_and_fetched_again() {
    let dir = tempfile::tempdir().unwrap();
    let src = small_repo(dir.path(), "upstream");
    let url = format!("file://{}", src.display());
    std::fs::write(dir.path().join("repos.txt"), format!("{url}\n")).unwrap();
    let cache = dir.path().join("cache");
    let args = [
        "--repos-from",
        "repos.txt",
        "--clone-cache",
        cache.to_str().unwrap(),
    ];
    let (v, code, err) = git_run(dir.path(), &args);
    assert_eq!((code, findings(&v).len()), (1, 1), "{err}");
    let mirrors: Vec<_> = std::fs::read_dir(&cache).unwrap().collect();
    assert_eq!(mirrors.len(), 1);
    // A new commit upstream is fetched into the same mirror on the next run.
    let repo = Repository::open(&src).unwrap();
    let k = openai_key("org-upstream-later");
    commit(
        &repo,
        &[("later.py", Some(&format!("k = \"{k}\"\n")))],
        "later",
        "Bob",
    );
    let (v, code, err) = git_run(dir.path(), &args);
    assert_eq!((code, findings(&v).len()), (1, 2), "{err}");
    assert_eq!(std::fs::read_dir(&cache).unwrap().count(), 1);
    let label = findings(&v)[0]["repository"].as_str().unwrap().to_string();
    assert!(label.ends_with("/upstream"), "{label}");
}

/// The labels of the repositories a run scanned, from its one line per repository.
fn scanned_labels(stderr: &str) -> BTreeSet<String> {
    stderr
        .lines()
        .filter(|l| l.starts_with('['))
        .filter_map(|l| l.split_once("] ").map(|(_, r)| r))
        .filter_map(|r| r.split_once(": ").map(|(l, _)| l.to_string()))
        .collect()
}

/// Run the four shards of `list` as separate processes side by side, each told its index
/// by JOB_COMPLETION_INDEX; their reports and the labels each scanned.
fn run_shards(dir: &Path, list: &str, tag: &str) -> Vec<(PathBuf, BTreeSet<String>)> {
    let children: Vec<_> = (0..4)
        .map(|k| {
            let out = dir.join(format!("{tag}-{k}.json"));
            let child = Std::new(sprawl_bin())
                .current_dir(dir)
                .env("JOB_COMPLETION_INDEX", k.to_string())
                .args([
                    "git",
                    "--repos-from",
                    list,
                    "--shard-count",
                    "4",
                    "--no-progress",
                ])
                .args(["--format", "json", "-o"])
                .arg(&out)
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap();
            (out, child)
        })
        .collect();
    children
        .into_iter()
        .map(|(out, child)| {
            let o = child.wait_with_output().unwrap();
            let err = String::from_utf8_lossy(&o.stderr).into_owned();
            assert!(matches!(o.status.code(), Some(0 | 1)), "{err}");
            (out, scanned_labels(&err))
        })
        .collect()
}

fn audit_json(dir: &Path, reports: &[&Path]) -> Value {
    let out = sprawl()
        .current_dir(dir)
        .args([
            "audit",
            "--now",
            "2026-06-01",
            "--inventory",
            "inventory.json",
        ])
        .args(["--format", "json"])
        .args(reports)
        .output()
        .unwrap();
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "bad audit json ({e}): {}",
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

#[test]
fn forty_repositories_in_four_shard_processes_merge_into_the_single_process_report_and_audit() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let names: Vec<String> = (0..40).map(|i| format!("svc-{i:02}")).collect();
    for n in &names {
        small_repo(&root.join("repos"), n);
    }
    // Two repositories share one secret (the audit's `shared`, across shards or not), in
    // files of their own: a blob both held would be read once by one process and once by
    // each of two shards (`stats.blobs` counts blobs read).
    let shared = anthropic_key("org-shared");
    for n in ["svc-03", "svc-31"] {
        let repo = Repository::open(root.join("repos").join(n)).unwrap();
        let body = format!("# {n}\nK={shared}\n");
        commit(&repo, &[("shared.env", Some(&body))], "s", "Dan");
    }
    let list: String = names.iter().map(|n| format!("repos/{n}\n")).collect();
    std::fs::write(root.join("repos.txt"), &list).unwrap();
    // The register knows two of the keys.
    let known = [github_key("org-svc-00"), github_key("org-svc-17")];
    std::fs::write(
        root.join("inventory.json"),
        serde_json::to_string(&serde_json::json!([
            {"id": "k0", "provider": "github", "fingerprint": format!("sha256:{}", sha256_hex(&known[0])),
             "owner": "alice@example.com", "status": "active"},
            {"id": "k17", "provider": "github", "fingerprint": format!("sha256:{}", sha256_hex(&known[1])),
             "owner": "bob@example.com", "status": "revoked"}
        ]))
        .unwrap(),
    )
    .unwrap();

    let (single, code, err) = git_run(root, &["--repos-from", "repos.txt"]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(findings(&single).len(), 42);
    std::fs::write(root.join("single.json"), single.to_string()).unwrap();

    let shards = run_shards(root, "repos.txt", "shard");
    let all: BTreeSet<String> = shards.iter().flat_map(|(_, l)| l.clone()).collect();
    assert_eq!(all.len(), 40);
    assert_eq!(
        shards.iter().map(|(_, l)| l.len()).sum::<usize>(),
        40,
        "each repository once"
    );
    assert!(shards.iter().filter(|(_, l)| !l.is_empty()).count() >= 3);

    let reports: Vec<&Path> = shards.iter().map(|(p, _)| p.as_path()).collect();
    run_expecting(
        sprawl()
            .current_dir(root)
            .arg("merge")
            .args(&reports)
            .args(["-o", "merged.json"]),
        1,
    );
    let merged: Value =
        serde_json::from_slice(&std::fs::read(root.join("merged.json")).unwrap()).unwrap();
    assert_eq!(comparable(merged), comparable(single.clone()));

    // The audit over the merged report, and over the four shard reports at once, is the
    // single process's.
    let one = audit_json(root, &[Path::new("single.json")]);
    assert_eq!(audit_json(root, &[Path::new("merged.json")]), one);
    assert_eq!(audit_json(root, &reports), one);
    let text = one.to_string();
    assert!(text.contains("shared"), "the shared secret is found shared");

    // A 41st repository: it alone lands in a shard; every other stays where it was.
    small_repo(&root.join("repos"), "svc-new");
    std::fs::write(root.join("repos41.txt"), format!("{list}repos/svc-new\n")).unwrap();
    let grown = run_shards(root, "repos41.txt", "grown");
    for ((_, before), (_, after)) in shards.iter().zip(&grown) {
        let added: Vec<&String> = after.difference(before).collect();
        assert!(before.is_subset(after));
        assert!(added.is_empty() || added == ["svc-new"], "{added:?}");
    }
    assert_eq!(
        grown.iter().filter(|(_, l)| l.contains("svc-new")).count(),
        1
    );
}

/// `/usr/bin/time -f '%e %M'` around a command: (wall seconds, peak RSS in MiB), and its
/// exit code.
fn timed(dir: &Path, args: &[&str], env: &[(&str, String)]) -> (f64, f64, i32) {
    let fig = dir.join(".time");
    let mut c = Std::new("/usr/bin/time");
    c.current_dir(dir)
        .args(["-f", "%e %M", "-o"])
        .arg(&fig)
        .arg(sprawl_bin())
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    for (k, v) in env {
        c.env(k, v);
    }
    let code = c.status().unwrap().code().unwrap_or(-1);
    // A non-zero exit adds a line before the figures.
    let text = std::fs::read_to_string(&fig).unwrap();
    let mut it = text.lines().last().unwrap_or_default().split_whitespace();
    let wall: f64 = it.next().unwrap().parse().unwrap();
    let kib: f64 = it.next().unwrap().parse().unwrap();
    (wall, kib / 1024.0, code)
}

/// Acceptance 3 of issue 14, at scale: SPRAWL_SIM_REPOS (10,000) small generated
/// repositories through 4 shards (each with its store), merge and audit; wall time and
/// peak RSS per stage, store sizes, and a second round with the stores. Prints figures
/// (use a release build: `cargo test --release --test tests simulation -- --ignored
/// --nocapture`).
#[test]
#[ignore]
fn simulation_of_an_organisation_of_ten_thousand_repositories() {
    let n: usize = std::env::var("SPRAWL_SIM_REPOS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let t = std::time::Instant::now();
    let mut list = String::new();
    for i in 0..n {
        let name = format!("r{i:05}");
        let d = root.join("repos").join(&name);
        let repo = Repository::init(&d).unwrap();
        let mut files: Vec<(String, String)> = vec![
            ("README.md".into(), format!("# {name}\n")),
            ("src/main.py".into(), format!("print({i})\n")),
        ];
        if i % 10 == 0 {
            files.push((
                "deploy/.env".into(),
                format!("GITHUB_TOKEN={}\n", github_key(&format!("sim-{i}"))),
            ));
        }
        let refs: Vec<(&str, Option<&str>)> = files
            .iter()
            .map(|(p, b)| (p.as_str(), Some(b.as_str())))
            .collect();
        commit(&repo, &refs, "init", "Bob");
        commit(
            &repo,
            &[("src/main.py", Some(&format!("print({i} + 1)\n")))],
            "edit",
            "Alice",
        );
        list.push_str(&format!("repos/{name}\n"));
    }
    std::fs::write(root.join("repos.txt"), &list).unwrap();
    std::fs::write(root.join("inventory.json"), "[]").unwrap();
    println!(
        "generated {n} repositories in {:.1}s",
        t.elapsed().as_secs_f64()
    );

    for round in ["first", "second (stores)"] {
        let mut reports = Vec::new();
        for k in 0..4 {
            let out = format!("shard-{k}.json");
            let store = format!("shard-{k}.db");
            let (wall, rss, code) = timed(
                root,
                &[
                    "git",
                    "--repos-from",
                    "repos.txt",
                    "--shard-count",
                    "4",
                    "--store",
                    &store,
                    "--no-progress",
                    "--format",
                    "json",
                    "-o",
                    &out,
                ],
                &[("JOB_COMPLETION_INDEX", k.to_string())],
            );
            assert!(matches!(code, 0 | 1));
            let size = std::fs::metadata(root.join(&store)).unwrap().len();
            println!(
                "{round}: shard {k}: {wall:.1}s, peak RSS {rss:.0} MiB, store {:.1} MiB",
                size as f64 / (1 << 20) as f64
            );
            reports.push(out);
        }
        let mut args = vec!["merge".to_string()];
        args.extend(reports.iter().cloned());
        args.extend(["-o".into(), "merged.json".into()]);
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        let (wall, rss, code) = timed(root, &a, &[]);
        assert_eq!(code, 1);
        println!("{round}: merge: {wall:.1}s, peak RSS {rss:.0} MiB");
        let (wall, rss, _) = timed(
            root,
            &[
                "audit",
                "--now",
                "2026-06-01",
                "--inventory",
                "inventory.json",
                "merged.json",
                "--format",
                "json",
                "-o",
                "audit.json",
            ],
            &[],
        );
        println!("{round}: audit: {wall:.1}s, peak RSS {rss:.0} MiB");
        let merged: Value =
            serde_json::from_slice(&std::fs::read(root.join("merged.json")).unwrap()).unwrap();
        assert_eq!(findings(&merged).len(), n.div_ceil(10));
    }
    // One process over the whole list: its peak memory against a shard's, and the merged
    // report it equals.
    let (wall, rss, code) = timed(
        root,
        &[
            "git",
            "--repos-from",
            "repos.txt",
            "--no-progress",
            "--format",
            "json",
            "-o",
            "single.json",
        ],
        &[],
    );
    assert_eq!(code, 1);
    println!("one process, all {n}: {wall:.1}s, peak RSS {rss:.0} MiB");
    let read = |f: &str| {
        comparable(serde_json::from_slice(&std::fs::read(root.join(f)).unwrap()).unwrap())
    };
    assert_eq!(read("merged.json"), read("single.json"));
}

#[test]
fn the_clone_cache_is_capped_by_deleting_mirrors_this_run_does_not_use() {
    let dir = tempfile::tempdir().unwrap();
    let a = small_repo(dir.path(), "one");
    let b = small_repo(dir.path(), "two");
    let both = format!("file://{}\nfile://{}\n", a.display(), b.display());
    std::fs::write(dir.path().join("both.txt"), both).unwrap();
    std::fs::write(
        dir.path().join("one.txt"),
        format!("file://{}\n", a.display()),
    )
    .unwrap();
    let cache = dir.path().join("cache");
    let c = cache.to_str().unwrap();
    let run = |list: &str| {
        git_run(
            dir.path(),
            &[
                "--repos-from",
                list,
                "--clone-cache",
                c,
                "--clone-cache-max",
                "1KiB",
            ],
        )
    };
    // Both in use: over the cap, both kept, and said so.
    let (v, _, err) = run("both.txt");
    assert_eq!(findings(&v).len(), 2, "{err}");
    assert!(err.contains("over --clone-cache-max"), "{err}");
    assert_eq!(std::fs::read_dir(&cache).unwrap().count(), 2);
    // Only one in use: the other goes.
    let (v, _, err) = run("one.txt");
    assert_eq!(findings(&v).len(), 1, "{err}");
    let left: Vec<String> = std::fs::read_dir(&cache)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(left.len(), 1);
    assert!(left[0].contains("_one-"), "{left:?}");
}

#[test]
fn shard_stores_merge_into_one_store_that_a_single_process_run_takes_up() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let names: Vec<String> = (0..12).map(|i| format!("m-{i:02}")).collect();
    for n in &names {
        small_repo(&root.join("repos"), n);
    }
    let list: String = names.iter().map(|n| format!("repos/{n}\n")).collect();
    std::fs::write(root.join("repos.txt"), list).unwrap();
    for k in 0..2 {
        let shard = format!("{k}/2");
        let store = format!("shard-{k}.db");
        let (_, code, err) = git_run(
            root,
            &[
                "--repos-from",
                "repos.txt",
                "--shard",
                &shard,
                "--store",
                &store,
            ],
        );
        assert!(matches!(code, 0 | 1), "{err}");
    }
    let out = sprawl()
        .current_dir(root)
        .args(["merge", "--store", "all.db", "shard-0.db", "shard-1.db"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(err.contains("12 repositories merged"), "{err}");
    // One process over the whole list with the merged store: nothing to read or walk, and
    // the report of a run without a store.
    let (plain, _, _) = git_run(root, &["--repos-from", "repos.txt"]);
    let blobs = plain["stats"]["blobs"].as_u64().unwrap();
    let (v, _, err) = git_run(root, &["--repos-from", "repos.txt", "--store", "all.db"]);
    assert_eq!(store_summary(&err), [0, blobs, 12, 12], "{err}");
    assert_eq!(comparable(v), comparable(plain));
    let c = rusqlite::Connection::open(root.join("all.db")).unwrap();
    let n: i64 = c
        .query_row(
            "SELECT count(DISTINCT fingerprint) FROM occurrence",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(n, 12);
}
