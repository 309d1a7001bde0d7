//! `sprawl install-hook` writes the hook where git runs it, and a real `git commit` that adds
//! a key is blocked: plain repositories, `core.hooksPath` (husky-style `.githooks/`, relative
//! or absolute), and linked work trees (`git worktree add`).

use std::path::{Path, PathBuf};

use crate::{git::git, util::*};

fn sprawl_bin() -> PathBuf {
    PathBuf::from(sprawl().get_program())
}

fn ok(out: std::process::Output) -> std::process::Output {
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// A repository with one commit, ready for more.
fn repo_with_a_commit(dir: &Path) {
    ok(git(dir, &["init", "-q", "-b", "main"]));
    std::fs::write(dir.join("README.md"), "hi\n").unwrap();
    ok(git(dir, &["add", "README.md"]));
    ok(git(dir, &["commit", "-q", "--no-verify", "-m", "first"]));
}

/// Stage a file with a key in `work` and try to commit it: the commit must be blocked, the
/// key named by rule and never printed.
fn commit_with_a_key_is_blocked(work: &Path, seed: &str) {
    let k = openai_key(seed);
    std::fs::write(work.join("leak.py"), format!("KEY = \"{k}\"\n")).unwrap();
    ok(git(work, &["add", "leak.py"]));
    let before = git(work, &["rev-parse", "HEAD"]).stdout;
    let out = git(work, &["commit", "-q", "-m", "leak"]);
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!out.status.success(), "the commit went through: {all}");
    assert!(all.contains("openai.project-key"), "{all}");
    assert!(!all.contains(k.as_str()));
    assert_eq!(git(work, &["rev-parse", "HEAD"]).stdout, before);
}

fn install(dir: &Path) -> String {
    let out = sprawl().arg("install-hook").arg(dir).output().unwrap();
    let out = ok(out);
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn core_hooks_path_relative_to_the_work_tree_is_where_the_hook_goes() {
    let dir = tempfile::tempdir().unwrap();
    repo_with_a_commit(dir.path());
    ok(git(dir.path(), &["config", "core.hooksPath", ".githooks"]));
    // Installed from a subdirectory, as a user in the middle of the tree would.
    std::fs::create_dir_all(dir.path().join("src/deep")).unwrap();
    let said = install(&dir.path().join("src/deep"));
    let hook = dir.path().join(".githooks/pre-commit");
    assert!(hook.is_file(), "{said}");
    assert!(said.contains(".githooks"), "{said}");
    assert!(!dir.path().join(".git/hooks/pre-commit").exists());
    commit_with_a_key_is_blocked(dir.path(), "hookspath-relative");
}

#[test]
fn core_hooks_path_absolute_is_where_the_hook_goes() {
    let dir = tempfile::tempdir().unwrap();
    let hooks = tempfile::tempdir().unwrap();
    repo_with_a_commit(dir.path());
    let abs = hooks.path().to_str().unwrap();
    ok(git(dir.path(), &["config", "core.hooksPath", abs]));
    install(dir.path());
    assert!(hooks.path().join("pre-commit").is_file());
    commit_with_a_key_is_blocked(dir.path(), "hookspath-absolute");
}

#[test]
fn a_linked_worktree_uses_the_common_hooks() {
    let parent = tempfile::tempdir().unwrap();
    let main = parent.path().join("main");
    std::fs::create_dir(&main).unwrap();
    repo_with_a_commit(&main);
    let linked = parent.path().join("linked");
    ok(git(
        &main,
        &[
            "worktree",
            "add",
            "-q",
            "-b",
            "side",
            linked.to_str().unwrap(),
        ],
    ));
    install(&linked);
    assert!(main.join(".git/hooks/pre-commit").is_file());
    commit_with_a_key_is_blocked(&linked, "worktree-linked");
    commit_with_a_key_is_blocked(&main, "worktree-main");
}

#[test]
fn the_hook_runs_sprawl_from_path_and_names_the_binary_only_as_a_fallback() {
    let dir = tempfile::tempdir().unwrap();
    repo_with_a_commit(dir.path());
    let bin = sprawl_bin();
    let bin_dir = bin.parent().unwrap();

    // Not on PATH: the hook falls back to the binary that installed it, and says so.
    sprawl()
        .arg("install-hook")
        .arg(dir.path())
        .env("PATH", "/usr/bin:/bin")
        .assert()
        .success();
    let text = std::fs::read_to_string(dir.path().join(".git/hooks/pre-commit")).unwrap();
    assert!(text.contains("No `sprawl` was on PATH"), "{text}");
    assert!(text.contains(bin.to_str().unwrap()), "{text}");

    // On PATH: no absolute path of any build tree in the hook.
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    sprawl()
        .arg("install-hook")
        .arg(dir.path())
        .env("PATH", &path)
        .assert()
        .success();
    let text = std::fs::read_to_string(dir.path().join(".git/hooks/pre-commit")).unwrap();
    assert!(!text.contains(bin_dir.to_str().unwrap()), "{text}");
    assert!(text.contains("exec sprawl git --staged"), "{text}");
    let k = github_key("hook-on-path");
    std::fs::write(dir.path().join("t.env"), format!("T={k}\n")).unwrap();
    ok(git(dir.path(), &["add", "t.env"]));
    let out = std::process::Command::new("git")
        .current_dir(dir.path())
        .env("PATH", &path)
        .args(["-c", "user.name=T", "-c", "user.email=t@example.com"])
        .args(["commit", "-q", "-m", "leak"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("github.pat-classic"));
}

#[test]
fn both_pre_commit_framework_hooks_run_the_staged_check() {
    let manifest = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/.pre-commit-hooks.yaml"
    ))
    .unwrap();
    // One block per hook: `- id: ...` up to the next one.
    let hooks: Vec<&str> = manifest.split("\n- id: ").skip(1).collect();
    let find = |id: &str| {
        *hooks
            .iter()
            .find(|h| h.lines().next() == Some(id))
            .unwrap_or_else(|| panic!("no hook `{id}` in .pre-commit-hooks.yaml"))
    };
    let field = |hook: &str, key: &str| -> String {
        hook.lines()
            .find_map(|l| l.trim().strip_prefix(&format!("{key}: ")))
            .unwrap_or_else(|| panic!("no {key} in {hook}"))
            .to_string()
    };
    let rust = find("sprawl");
    let system = find("sprawl-system");
    assert_eq!(field(rust, "language"), "rust");
    assert_eq!(field(system, "language"), "system");
    let dir = tempfile::tempdir().unwrap();
    repo_with_a_commit(dir.path());
    std::fs::write(
        dir.path().join("k.env"),
        format!("K={}\n", github_key("framework")),
    )
    .unwrap();
    ok(git(dir.path(), &["add", "k.env"]));
    for hook in [rust, system] {
        assert_eq!(field(hook, "pass_filenames"), "false");
        let entry = field(hook, "entry");
        let mut words = entry.split_whitespace();
        assert_eq!(words.next(), Some("sprawl"));
        let out = sprawl()
            .current_dir(dir.path())
            .args(words)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{entry}");
    }
}
