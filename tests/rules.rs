//! The built-in rules: checked through the whole pipeline, broad enough, well-formed.

use std::collections::HashSet;

use sprawl::rules::{check::check, RuleSet};

use crate::util::sprawl;

#[test]
fn builtin_rules_pass_their_own_examples() {
    let set = RuleSet::builtin().unwrap();
    let problems = check(&set);
    assert!(
        problems.is_empty(),
        "rule problems:\n{}",
        problems.join("\n")
    );
}

#[test]
fn rules_check_command_passes_and_fails() {
    sprawl()
        .args(["rules", "check"])
        .assert()
        .success()
        .stdout(predicates::str::contains("rules ok"));

    // An extra rule whose example its regex cannot match must fail the check.
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        r#"
[[rules]]
id = "x.bad"
title = "bad"
provider = "x"
kind = "token"
severity = "low"
keywords = ["xbad_"]
regex = '\b(?P<secret>xbad_[0-9]{8})\b'
examples = ['xbad_12345678', 'xbad_abcdefgh']
negative_examples = ['xbad_1']
"#,
    )
    .unwrap();
    sprawl()
        .args(["rules", "check", "--rules"])
        .arg(&bad)
        .assert()
        .code(1)
        .stderr(predicates::str::contains("x.bad"))
        .stderr(predicates::str::contains("example 1 not found"));
}

#[test]
fn rules_check_reports_duplicates_and_missing_group() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("dup.toml");
    std::fs::write(
        &p,
        r#"
[[rules]]
id = "openai.project-key"
title = "dup"
provider = "x"
kind = "token"
severity = "low"
keywords = ["zzq_"]
regex = '\b(?P<secret>zzq_[0-9]{8})\b'
examples = ['zzq_12345678', 'zzq_87654321']
negative_examples = ['zzq_1']
"#,
    )
    .unwrap();
    sprawl()
        .args(["rules", "check", "--rules"])
        .arg(&p)
        .assert()
        .code(1)
        .stderr(predicates::str::contains("duplicate rule id"));

    std::fs::write(
        &p,
        r#"
[[rules]]
id = "x.nogroup"
title = "t"
provider = "x"
kind = "token"
severity = "low"
keywords = ["zzq_"]
regex = '\bzzq_[0-9]{8}\b'
examples = ['zzq_12345678', 'zzq_87654321']
negative_examples = ['zzq_1']
"#,
    )
    .unwrap();
    sprawl()
        .args(["rules", "check", "--rules"])
        .arg(&p)
        .assert()
        .code(1)
        .stderr(predicates::str::contains("secret"));
}

#[test]
fn at_least_80_rules_covering_every_required_provider() {
    let set = RuleSet::builtin().unwrap();
    assert!(set.len() >= 80, "only {} rules", set.len());
    let providers: HashSet<&str> = set.rules.iter().map(|r| r.provider.as_str()).collect();
    for p in [
        "openai",
        "anthropic",
        "google",
        "huggingface",
        "groq",
        "mistral",
        "cohere",
        "perplexity",
        "xai",
        "deepseek",
        "openrouter",
        "together",
        "fireworks",
        "replicate",
        "azure",
        "langsmith",
        "langfuse",
        "pinecone",
        "wandb",
        "voyage",
        "elevenlabs",
        "deepgram",
        "assemblyai",
        "cerebras",
        "nvidia",
        "tavily",
        "firecrawl",
        "e2b",
        "stability",
        "aws",
        "gcp",
        "github",
        "gitlab",
        "slack",
        "stripe",
        "twilio",
        "sendgrid",
        "npm",
        "pypi",
        "docker",
        "hashicorp",
        "postgres",
        "mysql",
        "mongodb",
        "redis",
        "amqp",
        "generic",
    ] {
        assert!(providers.contains(p), "no rule for provider {p}");
    }
    for id in [
        "openai.legacy-key",
        "anthropic.admin-key",
        "google.gemini-auth-key",
        "huggingface.org-token",
        "aws.bedrock-api-key",
        "aws.bedrock-short-term-key",
        "aws.access-key-pair",
        "gcp.service-account-key",
        "github.fine-grained-pat",
        "slack.webhook",
        "private-key.openssh",
        "private-key.putty",
        "jwt.token",
        "generic.secret-assignment",
    ] {
        assert!(set.get(id).is_some(), "missing rule {id}");
    }
    for r in &set.rules {
        assert!(
            r.examples.len() >= 2 && !r.negative_examples.is_empty(),
            "{}",
            r.id
        );
    }
}

#[test]
fn rules_list_prints_every_rule() {
    let out = sprawl().args(["rules", "list"]).output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let set = RuleSet::builtin().unwrap();
    assert_eq!(text.lines().count(), set.len() + 1);
    assert!(text.contains("anthropic.api-key") && text.contains("critical"));
}
