//! The pack reader behind whole-history scans: on a repository built here with deltas
//! (`git gc --aggressive`), several packs (one with deltas named by id, one repeating
//! objects of another) and loose objects, every blob is read exactly once, with the
//! content libgit2 reads, and a secret stored in each kind of place is found.

use std::{collections::HashMap, path::Path, sync::Mutex};

use git2::{Oid, Repository};
use sprawl::{finding::Fingerprint, source::git::pack};

use crate::{
    git::{commit, git, git_json},
    util::*,
};

/// A file of `n` numbered lines with line `edit` changed to `tag`: versions of it delta
/// well against each other.
fn body(n: usize, edit: usize, tag: &str) -> String {
    (0..n)
        .map(|i| {
            if i == edit {
                format!("line {i} edited in {tag}\n")
            } else {
                format!("line {i} of a long and repetitive file\n")
            }
        })
        .collect()
}

fn run_git(dir: &Path, args: &[&str]) -> String {
    let out = git(dir, args);
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Every blob the object database holds, from git itself.
fn all_blobs(dir: &Path) -> Vec<Oid> {
    let mut v: Vec<Oid> = run_git(
        dir,
        &[
            "cat-file",
            "--batch-all-objects",
            "--batch-check=%(objectname) %(objecttype)",
        ],
    )
    .lines()
    .filter_map(|l| l.strip_suffix(" blob"))
    .map(|id| Oid::from_str(id).unwrap())
    .collect();
    v.sort();
    v
}

/// The blobs stored loose (not in any pack).
fn loose_blobs(repo: &Repository, all: &[Oid]) -> Vec<Oid> {
    let objects = repo.path().join("objects");
    all.iter()
        .copied()
        .filter(|oid| {
            let s = oid.to_string();
            objects.join(&s[..2]).join(&s[2..]).is_file()
        })
        .collect()
}

/// A repository with three packs (deltas by offset after an aggressive gc; a second pack
/// of newer objects; a third written without offset deltas, so its deltas name their bases
/// by id, repeating objects of the first) and loose objects; a secret in each.
fn build(dir: &Path) -> (Repository, [String; 3]) {
    let repo = Repository::init(dir).unwrap();
    let keys = [
        github_key("in-the-first-pack"),
        github_key("in-the-second-pack"),
        github_key("stored-loose"),
    ];
    let mut n = 0;
    let mut version = |repo: &Repository, count: usize, key: Option<&str>| {
        for _ in 0..count {
            n += 1;
            let tag = format!("v{n}");
            let mut a = body(300, n % 300, &tag);
            if let (Some(k), 5) = (key, n % 10) {
                a.push_str(&format!("TOKEN={k}\n"));
            }
            let b = body(200, (n * 7) % 200, &tag);
            commit(
                repo,
                &[("src/a.txt", Some(&a)), ("docs/b.md", Some(&b))],
                &tag,
                "Bob",
            );
        }
    };
    version(&repo, 30, Some(&keys[0]));
    run_git(dir, &["gc", "--aggressive", "--quiet"]);
    version(&repo, 12, Some(&keys[1]));
    // Only the objects not packed yet go into a new pack.
    run_git(dir, &["repack", "-d", "--quiet"]);
    // A pack of everything reachable, with deltas named by id (no `--delta-base-offset`).
    let list = run_git(dir, &["rev-list", "--objects", "--all"]);
    let mut child = std::process::Command::new("git")
        .current_dir(dir)
        .args(["pack-objects", "--quiet", "--window=20"])
        .arg(dir.join(".git/objects/pack/pack"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(list.as_bytes())
        .unwrap();
    assert!(child.wait().unwrap().success());
    version(&repo, 6, Some(&keys[2]));
    (repo, keys)
}

#[test]
fn the_pack_reader_delivers_every_packed_blob_once_with_its_content() {
    let dir = tempfile::tempdir().unwrap();
    let (repo, _) = build(dir.path());
    let packs = pack::pack_files(&repo.path().join("objects"));
    assert_eq!(packs.len(), 3, "three packs: {packs:?}");
    let all = all_blobs(dir.path());
    let loose = loose_blobs(&repo, &all);
    assert!(!loose.is_empty(), "some blobs are loose");

    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .unwrap();
    let seen: Mutex<HashMap<Oid, (usize, Vec<u8>)>> = Mutex::default();
    let read = pack::read_blobs(&packs, &pool, &|_| true, &|oid, bytes| {
        let mut seen = seen.lock().unwrap();
        let e = seen.entry(oid).or_insert((0, bytes.to_vec()));
        e.0 += 1;
    });
    assert!(read.problems.is_empty(), "{:?}", read.problems);
    let seen = seen.into_inner().unwrap();
    let mut delivered: Vec<Oid> = seen.keys().copied().collect();
    delivered.sort();
    let packed: Vec<Oid> = all.iter().copied().filter(|o| !loose.contains(o)).collect();
    assert_eq!(delivered, packed, "every packed blob, and nothing else");
    for (oid, (count, bytes)) in &seen {
        assert_eq!(*count, 1, "{oid} delivered {count} times");
        let blob = repo.find_blob(*oid).unwrap();
        assert_eq!(blob.content(), &bytes[..], "{oid}: content differs");
        assert!(read.indexed(*oid));
    }
    for oid in &loose {
        assert!(!read.indexed(*oid));
    }

    // Asking for some blobs delivers those only.
    let some: Vec<Oid> = packed.iter().copied().step_by(3).collect();
    let got = Mutex::new(Vec::new());
    pack::read_blobs(&packs, &pool, &|oid| some.contains(&oid), &|oid, _| {
        got.lock().unwrap().push(oid)
    });
    let mut got = got.into_inner().unwrap();
    got.sort();
    assert_eq!(got, some);
}

/// Sorted (fingerprint, path, line, commit) of a `git` JSON report.
fn places(v: &serde_json::Value) -> Vec<String> {
    let mut p: Vec<String> = findings(v)
        .iter()
        .map(|f| {
            format!(
                "{} {} {} {}",
                f["fingerprint"], f["location"]["path"], f["location"]["line"], f["git"]["commit"]
            )
        })
        .collect();
    p.sort();
    p
}

#[test]
fn a_corrupt_base_in_one_pack_is_read_from_another_copy() {
    let dir = tempfile::tempdir().unwrap();
    let (repo, _) = build(dir.path());
    let d = dir.path().to_str().unwrap();
    let (before, code, _) = git_json(&[d]);
    assert_eq!(code, 1);
    // The largest pack holds every object, as the two others do together: damage the
    // compressed data of a blob there that other versions are deltas against.
    let packs = pack::pack_files(&repo.path().join("objects"));
    let victim = &packs[0];
    let listing = run_git(
        dir.path(),
        &[
            "verify-pack",
            "-v",
            victim.with_extension("idx").to_str().unwrap(),
        ],
    );
    let bases: std::collections::HashSet<&str> = listing
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f.len() == 7 && f[1] == "blob").then(|| f[6])
        })
        .collect();
    let offset: usize = listing
        .lines()
        .find_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f.len() == 5 && f[1] == "blob" && bases.contains(f[0])).then(|| f[4].parse().unwrap())
        })
        .expect("a blob that is a delta base");
    let mut bytes = std::fs::read(victim).unwrap();
    for b in &mut bytes[offset + 6..offset + 14] {
        *b ^= 0x5a;
    }
    std::fs::remove_file(victim).unwrap();
    std::fs::write(victim, bytes).unwrap();
    // The pack reader alone cannot resolve that blob nor what is a delta against it.
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .unwrap();
    let read = pack::read_blobs(std::slice::from_ref(victim), &pool, &|_| true, &|_, _| {});
    assert_eq!(read.problems.len(), 1, "{:?}", read.problems);
    let (after, code, stderr) = git_json(&[d]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(places(&after), places(&before));
    assert_eq!(after["stats"]["blobs"], before["stats"]["blobs"]);
}

#[test]
fn history_scan_finds_secrets_in_every_kind_of_storage_and_scans_each_blob_once() {
    let dir = tempfile::tempdir().unwrap();
    let (_repo, keys) = build(dir.path());
    let all = all_blobs(dir.path());
    for args in [vec![], vec!["--all-objects"]] {
        let mut a = vec![dir.path().to_str().unwrap()];
        a.extend(args.iter().copied());
        let (v, code, stderr) = git_json(&a);
        assert_eq!(code, 1, "{stderr}");
        assert_eq!(
            v["stats"]["blobs"].as_u64(),
            Some(all.len() as u64),
            "every blob scanned once ({args:?})"
        );
        let paths: Vec<&str> = findings(&v)
            .iter()
            .map(|f| f["location"]["path"].as_str().unwrap())
            .collect();
        assert!(paths.iter().all(|p| *p == "src/a.txt"), "{paths:?}");
        let mut got: Vec<&str> = findings(&v)
            .iter()
            .map(|f| f["fingerprint"].as_str().unwrap())
            .collect();
        got.sort();
        let mut want: Vec<String> = keys
            .iter()
            .map(|k| Fingerprint::of(k.as_bytes()).to_string())
            .collect();
        want.sort();
        assert_eq!(got, want, "each secret once ({args:?})");
    }
}
