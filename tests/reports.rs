//! SARIF (validated against the official 2.1.0 schema) and CSV reports.

use crate::{
    audit::{audit_args, audit_json, fixture, run_audit},
    util::*,
};

fn validator() -> jsonschema::Validator {
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/sarif-schema-2.1.0.json"
        ))
        .unwrap(),
    )
    .unwrap();
    jsonschema::draft4::new(&schema).expect("the SARIF schema compiles")
}

fn assert_valid(doc: &serde_json::Value) {
    let v = validator();
    let errors: Vec<String> = v
        .iter_errors(doc)
        .map(|e| format!("{e} at {}", e.instance_path))
        .collect();
    assert!(errors.is_empty(), "SARIF invalid:\n{}", errors.join("\n"));
}

#[test]
fn the_validator_rejects_invalid_sarif() {
    // The check can fail: a document missing required parts is refused.
    let bad = serde_json::json!({"version": "2.1.0", "runs": [{"results": []}]});
    assert!(!validator().is_valid(&bad));
}

#[test]
fn sarif_from_scan_git_and_audit_validates() {
    let (dir, k) = fixture();
    let run = |args: Vec<String>| -> serde_json::Value {
        let out = sprawl()
            .current_dir(dir.path())
            .args(args)
            .output()
            .unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        for s in [&k.openai, &k.anthropic, &k.aws_secret, &k.github] {
            assert!(!text.contains(s.as_str()), "secret in SARIF");
        }
        serde_json::from_str(&text).unwrap()
    };
    let scan = run(["scan", "repo", "logs", "--format", "sarif"]
        .map(String::from)
        .to_vec());
    assert_valid(&scan);
    let results = scan["runs"][0]["results"].as_array().unwrap();
    assert!(results.len() >= 6);
    for r in results {
        assert!(r["partialFingerprints"]["secretFingerprint/v1"]
            .as_str()
            .unwrap()
            .starts_with("sha256:"));
        let loc = &r["locations"][0]["physicalLocation"];
        assert_eq!(loc["artifactLocation"]["uriBaseId"], "%SRCROOT%");
        assert!(loc["region"]["startLine"].as_u64().unwrap() >= 1);
        let idx = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(
            scan["runs"][0]["tool"]["driver"]["rules"][idx]["id"],
            r["ruleId"]
        );
    }
    let git = run(["git", "repo", "--format", "sarif"]
        .map(String::from)
        .to_vec());
    assert_valid(&git);
    assert!(git["runs"][0]["results"][0]["properties"]["git"]["commit"].is_string());
    let audit = run(audit_args("sarif"));
    assert_valid(&audit);
    let rule_ids: Vec<&str> = audit["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert!(rule_ids.contains(&"audit/uninventoried") && rule_ids.contains(&"audit/shared"));

    let mut settings = insta::Settings::clone_current();
    settings.add_filter(
        r#""(semanticVersion|version)": "[0-9][^"]*""#,
        r#""$1": "[version]""#,
    );
    settings.bind(|| {
        insta::assert_snapshot!("audit_sarif", serde_json::to_string_pretty(&audit).unwrap())
    });
}

#[test]
fn csv_of_the_audit() {
    let (dir, k) = fixture();
    let out = run_audit(dir.path(), "csv");
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(!text.contains(k.openai.as_str()));
    let mut rdr = csv::Reader::from_reader(text.as_bytes());
    let headers = rdr.headers().unwrap().clone();
    assert_eq!(&headers[0], "item");
    let rows: Vec<csv::StringRecord> = rdr.records().map(|r| r.unwrap()).collect();
    let v = audit_json(dir.path());
    assert_eq!(
        rows.iter().filter(|r| &r[0] == "credential").count(),
        v["credentials"].as_array().unwrap().len(),
        "one row per credential"
    );
    // Every inventory record found nowhere is a row (issue 10 item 9), those no category
    // fired on too.
    let records = v["records"].as_array().unwrap();
    assert!(records
        .iter()
        .any(|r| r["categories"].as_array().unwrap().is_empty()));
    let record_rows: Vec<&csv::StringRecord> = rows.iter().filter(|r| &r[0] == "record").collect();
    assert_eq!(record_rows.len(), records.len());
    let id = headers.iter().position(|h| h == "record").unwrap();
    for r in records {
        assert!(
            record_rows.iter().any(|row| row[id] == r["id"]),
            "{} has no row",
            r["id"]
        );
    }
    let owner = headers.iter().position(|h| h == "owner").unwrap();
    let cats = headers.iter().position(|h| h == "categories").unwrap();
    assert!(rows
        .iter()
        .any(|r| &r[owner] == "dave@example.com" && r[cats].contains("out_of_scope")));
    insta::assert_snapshot!("audit_csv", text);
}
