//! One key through every side route at once (issue 11, acceptance 3): a commit message, an
//! author email, a file name, an inventory value, a config line and a command-line value. No
//! output format and no stderr line may hold the whole key.

use std::path::Path;

use git2::{Repository, Signature};

use crate::util::*;

fn all_output(dir: &Path, args: &[&str]) -> (String, Option<i32>) {
    let out = sprawl().current_dir(dir).args(args).output().unwrap();
    (
        format!(
            "{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
        out.status.code(),
    )
}

#[test]
fn one_key_in_every_side_route_is_never_printed_whole() {
    let key = github_key("every-side-route");
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().join("repo");
    std::fs::create_dir_all(&work).unwrap();

    // The repository: the file is named after the key and holds it; the commit message and the
    // author email hold it too.
    let repo = Repository::init(&work).unwrap();
    let name = format!("{key}.env");
    std::fs::write(work.join(&name), format!("TOKEN={key}\n")).unwrap();
    let mut index = repo.index().unwrap();
    index.add_path(Path::new(&name)).unwrap();
    index.write().unwrap();
    let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
    let who = Signature::new(
        "Dev",
        &format!("{key}@example.com"),
        &git2::Time::new(1_700_000_000, 0),
    )
    .unwrap();
    repo.commit(
        Some("HEAD"),
        &who,
        &who,
        &format!("add the token {key}"),
        &tree,
        &[],
    )
    .unwrap();

    // An inventory whose values hold the key where a date, a status and a hint should be.
    write_tree(
        dir.path(),
        &[
            (
                "register.csv",
                format!(
                    "id,provider,hint,owner,status,created_at\n\
                     k1,github,{key},a@example.com,{key},{key}\n"
                )
                .as_bytes(),
            ),
            // A config file whose broken line holds the key.
            ("bad.toml", format!("[scan]\nexclude = {key}\n").as_bytes()),
        ],
    );

    let w = work.to_str().unwrap();
    let runs = std::cell::RefCell::new(Vec::<(String, String)>::new());
    let run = |what: String, args: Vec<String>, want: &[i32]| {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (text, code) = all_output(dir.path(), &args);
        assert!(
            code.is_some_and(|c| want.contains(&c)),
            "{what}: exit {code:?}"
        );
        runs.borrow_mut().push((what, text));
    };
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    for fmt in ["text", "json", "jsonl", "sarif", "csv", "html"] {
        run(
            format!("git --format {fmt}"),
            s(&["git", "--no-progress", "--format", fmt, w]),
            &[1],
        );
        run(
            format!("scan --format {fmt}"),
            s(&["scan", "--no-progress", "--format", fmt, w]),
            &[1],
        );
    }
    for fmt in ["text", "json", "csv", "sarif", "html"] {
        run(
            format!("audit --format {fmt}"),
            s(&[
                "audit",
                "--inventory",
                "register.csv",
                "--now",
                "2025-06-01",
                "--format",
                fmt,
                "--git",
                w,
            ]),
            &[0, 1],
        );
    }
    // Reports written to files, then read back by the audit.
    run(
        "git -o report.json".into(),
        s(&[
            "git",
            "--no-progress",
            "--format",
            "json",
            "-o",
            "report.json",
            w,
        ]),
        &[1],
    );
    let report = std::fs::read_to_string(dir.path().join("report.json")).unwrap();
    runs.borrow_mut().push(("report.json".into(), report));
    run(
        "audit of a saved report".into(),
        s(&[
            "audit",
            "--inventory",
            "register.csv",
            "--now",
            "2025-06-01",
            "report.json",
        ]),
        &[0, 1],
    );
    // Messages: the config line, and command-line values.
    run(
        "scan --config bad.toml".into(),
        s(&["scan", "--config", "bad.toml", w]),
        &[2],
    );
    run(
        "audit --now KEY".into(),
        s(&[
            "audit",
            "--inventory",
            "register.csv",
            "--now",
            &key,
            "--git",
            w,
        ]),
        &[2],
    );
    run(
        "scan --exclude [KEY".into(),
        s(&["scan", "--exclude", &format!("[{key}"), w]),
        &[1, 2],
    );
    run(
        "scan of a missing path named after the key".into(),
        s(&["scan", &format!("{w}/{key}")]),
        &[2],
    );

    for (what, text) in runs.borrow().iter() {
        assert!(
            !text.contains(&key),
            "{what} prints the whole key:\n{}",
            text.replace(&key, "<KEY>")
        );
    }
    // The same routes do show it when asked to.
    let (shown, _) = all_output(
        dir.path(),
        &[
            "git",
            "--no-progress",
            "--format",
            "json",
            "--show-secrets",
            w,
        ],
    );
    assert!(shown.contains(&key), "--show-secrets shows the key");
}
