//! The deploy examples work: the Kubernetes manifests pass the Kubernetes schema
//! (`kubernetes-validate`, offline, strict: unknown fields fail), and the GitHub Actions
//! workflow runs a matrix of shards, uploads each report and merges them. In both, every
//! shell script parses and every sprawl command uses only flags sprawl has.

use std::{path::Path, process::Command};

use serde_norway::Value;

use crate::util::*;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Whether `tool` runs here. Absent locally: skip with a message; absent in CI (`CI` set):
/// fail, since .ci/run installs it.
fn have(tool: &str) -> bool {
    let found = Command::new(tool)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "{tool} is not installed, and CI must have it (.ci/run installs it)"
        );
        eprintln!("skipped: {tool} is not installed (pip install {tool}); CI runs this check");
    }
    found
}

fn yaml_docs(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap();
    serde_norway::Deserializer::from_str(&text)
        .map(|d| serde::Deserialize::deserialize(d).unwrap())
        .collect()
}

/// The flags `sprawl SUB --help` lists.
fn flags_of(sub: &str) -> Vec<String> {
    let out = sprawl().args([sub, "--help"]).output().unwrap();
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .filter(|w| w.starts_with("--"))
        .map(|w| w.trim_end_matches([',', '.', ')', ':']).to_string())
        .collect()
}

/// Every sprawl command in a shell script uses flags its subcommand has; the commands met.
fn check_sprawl_commands(script: &str, what: &str) -> Vec<String> {
    let joined = script.replace("\\\n", " ");
    let mut met = Vec::new();
    for part in joined.split(['\n', ';', '|', '&']) {
        let words: Vec<&str> = part.split_whitespace().collect();
        let Some(i) = words.iter().position(|w| *w == "sprawl") else {
            continue;
        };
        let Some(sub) = words.get(i + 1) else {
            continue;
        };
        let known = flags_of(sub);
        assert!(
            !known.is_empty(),
            "{what}: `sprawl {sub}` is not a subcommand"
        );
        for w in &words[i + 2..] {
            if let Some(flag) = w.strip_prefix("--").map(|f| f.split('=').next().unwrap()) {
                let flag = format!("--{flag}");
                assert!(
                    known.contains(&flag),
                    "{what}: `sprawl {sub}` has no {flag}"
                );
            }
        }
        met.push(format!("{sub} {}", words[i + 2..].join(" ")));
    }
    met
}

/// The script parses as shell (`${{ … }}` expressions stand in for what Actions puts there).
fn check_shell(shell: &str, script: &str, what: &str) {
    let mut s = script.to_string();
    while let Some(i) = s.find("${{") {
        let j = s[i..].find("}}").map(|j| i + j + 2).unwrap();
        s.replace_range(i..j, "1");
    }
    let out = Command::new(shell).args(["-n", "-c", &s]).output().unwrap();
    assert!(
        out.status.success(),
        "{what}: not valid {shell}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_kubernetes_manifests_pass_the_schema_and_shard_as_the_indexed_job_says() {
    let dir = root().join("deploy/kubernetes");
    let job = dir.join("indexed-job.yaml");
    let merge = dir.join("merge-job.yaml");
    let docs = yaml_docs(&job);
    let scan = docs
        .iter()
        .find(|d| d["kind"] == "Job")
        .expect("a Job in indexed-job.yaml");
    let spec = &scan["spec"];
    assert_eq!(spec["completionMode"], "Indexed");
    let n = spec["completions"].as_u64().unwrap();
    assert_eq!(spec["parallelism"].as_u64(), Some(n));
    let c = &spec["template"]["spec"]["containers"][0];
    let script = c["args"][0].as_str().unwrap();
    check_shell("sh", script, "indexed-job.yaml");
    let cmds = check_sprawl_commands(script, "indexed-job.yaml");
    assert!(
        cmds.iter()
            .any(|c| c.starts_with("git ") && c.contains(&format!("--shard-count {n}"))),
        "the scan uses --shard-count {n} (JOB_COMPLETION_INDEX): {cmds:?}"
    );
    assert!(script.contains("--clone-cache /data/") && script.contains("-o /data/results/"));
    assert!(c["resources"]["requests"]["memory"].is_string());
    let mounts: Vec<&str> = c["volumeMounts"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|m| m["mountPath"].as_str().unwrap())
        .collect();
    assert!(mounts.contains(&"/data"), "{mounts:?}");
    for d in yaml_docs(&merge) {
        let script = d["spec"]["template"]["spec"]["containers"][0]["args"][0]
            .as_str()
            .unwrap();
        check_shell("sh", script, "merge-job.yaml");
        let cmds = check_sprawl_commands(script, "merge-job.yaml");
        assert!(cmds
            .iter()
            .any(|c| c.starts_with("merge /data/results/shard-")));
    }

    if !have("kubernetes-validate") {
        return;
    }
    let validate = |files: &[&Path]| {
        Command::new("kubernetes-validate")
            .args(["--strict", "--quiet"])
            .args(files)
            .output()
            .unwrap()
    };
    let out = validate(&[&job, &merge]);
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // The validator does reject a mistake (a misspelt field) in the same manifest.
    let tmp = tempfile::tempdir().unwrap();
    let bad = tmp.path().join("bad.yaml");
    let text = std::fs::read_to_string(&job).unwrap();
    std::fs::write(&bad, text.replace("completionMode:", "completionMod:")).unwrap();
    assert!(!validate(&[&bad]).status.success());
}

#[test]
fn the_workflow_runs_a_shard_matrix_uploads_each_report_and_merges_them() {
    let path = root().join("deploy/github-actions/org-audit.yml");
    let wf = yaml_docs(&path).remove(0);
    // `on` (a YAML 1.1 parser would read it as `true`; this one reads YAML 1.2).
    let on = &wf["on"];
    assert!(!on["schedule"].is_null() || on.get("workflow_dispatch").is_some());
    let jobs = &wf["jobs"];
    let steps = |job: &str| -> Vec<Value> {
        jobs[job]["steps"]
            .as_sequence()
            .unwrap_or_else(|| panic!("job {job} has steps"))
            .clone()
    };
    // Every action is pinned to a version; every script parses and uses real flags.
    let mut runs: Vec<(String, String)> = Vec::new();
    for (name, job) in jobs.as_mapping().unwrap() {
        let name = name.as_str().unwrap().to_string();
        assert!(job["runs-on"].is_string(), "job {name} says where it runs");
        for s in steps(&name) {
            if let Some(u) = s["uses"].as_str() {
                let (action, version) = u.split_once('@').expect("actions are pinned");
                assert!(action.contains('/') && !version.is_empty(), "{u}");
            }
            if let Some(r) = s["run"].as_str() {
                check_shell("bash", r, &format!("job {name}"));
                for c in check_sprawl_commands(r, &format!("job {name}")) {
                    runs.push((name.clone(), c));
                }
            }
        }
    }
    // The scan job: a matrix of shards 0..N-1, each scanning --shard K/N and uploading its
    // report under a name of its own.
    let shards: Vec<u64> = jobs["scan"]["strategy"]["matrix"]["shard"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect();
    let n = shards.len() as u64;
    assert_eq!(shards, (0..n).collect::<Vec<_>>());
    let scan = runs
        .iter()
        .find(|(j, c)| j == "scan" && c.starts_with("git "))
        .expect("the scan job runs sprawl git");
    assert!(
        scan.1
            .contains(&format!("--shard ${{{{ matrix.shard }}}}/{n}")),
        "{}",
        scan.1
    );
    let report = "shard-${{ matrix.shard }}.json";
    assert!(scan.1.contains(&format!("-o {report}")), "{}", scan.1);
    let upload = steps("scan")
        .into_iter()
        .find(|s| {
            s["uses"]
                .as_str()
                .is_some_and(|u| u.starts_with("actions/upload-artifact@"))
        })
        .expect("the scan job uploads its report");
    assert_eq!(upload["with"]["path"].as_str(), Some(report));
    let artifact = upload["with"]["name"].as_str().unwrap();
    assert!(
        artifact.contains("${{ matrix.shard }}"),
        "one artifact per shard"
    );
    // The merge job: after every shard, downloads them all and merges.
    let needs = &jobs["merge"]["needs"];
    assert!(
        needs == "scan"
            || needs
                .as_sequence()
                .is_some_and(|s| s.contains(&"scan".into()))
    );
    let download = steps("merge")
        .into_iter()
        .find(|s| {
            s["uses"]
                .as_str()
                .is_some_and(|u| u.starts_with("actions/download-artifact@"))
        })
        .expect("the merge job downloads the reports");
    let pattern = download["with"]["pattern"].as_str().unwrap();
    let prefix = pattern.trim_end_matches('*');
    assert!(artifact.starts_with(prefix), "{pattern} matches {artifact}");
    assert!(runs
        .iter()
        .any(|(j, c)| j == "merge" && c.starts_with("merge shard-*.json")));

    // actionlint, where it is installed, has its say too.
    if Command::new("actionlint").arg("--version").output().is_ok() {
        let out = Command::new("actionlint").arg(&path).output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
}
