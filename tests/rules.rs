//! The built-in rules: checked through the whole pipeline, broad enough, well-formed.

use std::collections::HashSet;

use sprawl::rules::{
    check::{check, contexts, run},
    RuleSet,
};

use crate::util::sprawl;

/// An extra rule file with one `token` rule; `examples` are the two positive examples.
fn rule_file(id: &str, keyword: &str, regex: &str, examples: [&str; 2]) -> String {
    format!(
        "[[rules]]\nid = \"{id}\"\ntitle = \"t\"\nprovider = \"x\"\nkind = \"token\"\n\
         severity = \"low\"\nkeywords = [\"{keyword}\"]\nregex = '{regex}'\n\
         examples = ['{}', '{}']\nnegative_examples = ['{keyword}1']\nrevoke = \"r\"\n",
        examples[0], examples[1]
    )
}

/// The check of one rule file alone (in process, without the built-ins, to stay quick):
/// it must report a problem saying `expected`.
fn check_fails(toml: &str, expected: &str) {
    let mut set = RuleSet::default();
    set.add_text(toml, "extra.toml").unwrap();
    let problems = check(&set);
    assert!(
        problems.iter().any(|p| p.contains(expected)),
        "expected `{expected}` among {problems:?}"
    );
}

#[test]
fn builtin_rules_pass_their_examples_in_at_least_8_file_format_contexts_each() {
    let set = RuleSet::builtin().unwrap();
    let report = run(&set);
    assert!(report.problems.is_empty(), "{}", report.problems.join("\n"));
    assert!(contexts().len() >= 8);
    for (rule, n) in set.rules.iter().zip(&report.contexts_per_rule) {
        assert!(*n >= 8, "{} is checked in only {n} contexts", rule.id);
    }
    assert!(report.rule_context_pairs() >= 8 * set.len());
}

#[test]
fn a_rule_that_only_reads_one_syntax_fails_the_context_check() {
    // Found as written (`zzk=value`), but not in YAML (`zzk: value`) or XML (`<zzk>`).
    let toml = rule_file(
        "x.narrow",
        "zzk",
        r"\bzzk=(?P<secret>[a-z0-9]{16})\b",
        ["zzk=a1b2c3d4e5f6g7h8", "zzk=h8g7f6e5d4c3b2a1"],
    );
    check_fails(&toml, "not found in context `yaml`");
    check_fails(&toml, "not found in context `xml`");
    // Declaring a skip needs a known context and a reason.
    let skip = format!(
        "{}skip_contexts = [{{ context = \"nosuch\", reason = \"\" }}]\n",
        rule_file(
            "x.skip",
            "zzq_",
            r"\b(?P<secret>zzq_[0-9]{8})\b",
            ["zzq_12345678", "zzq_87654321"],
        )
    );
    check_fails(&skip, "skips unknown context `nosuch`");
    check_fails(&skip, "without a reason");
}

#[test]
fn rules_check_command_passes_and_fails() {
    sprawl()
        .args(["rules", "check"])
        .assert()
        .success()
        .stdout(predicates::str::contains("rules ok"))
        .stdout(predicates::str::contains("(rule, context) pairs"));

    // An extra rule whose example its regex cannot match must fail the check.
    let bad = rule_file(
        "x.bad",
        "xbad_",
        r"\b(?P<secret>xbad_[0-9]{8})\b",
        ["xbad_12345678", "xbad_abcdefgh"],
    );
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("extra.toml");
    std::fs::write(&p, &bad).unwrap();
    sprawl()
        .args(["rules", "check", "--rules"])
        .arg(&p)
        .assert()
        .code(1)
        .stderr(predicates::str::contains("x.bad"))
        .stderr(predicates::str::contains("example 1 not found"));
}

#[test]
fn rules_check_reports_duplicates_and_missing_group() {
    let ok = ["zzq_12345678", "zzq_87654321"];
    let one = rule_file("x.dup", "zzq_", r"\b(?P<secret>zzq_[0-9]{8})\b", ok);
    check_fails(&format!("{one}\n{one}"), "duplicate rule id");
    check_fails(
        &rule_file("x.nogroup", "zzq_", r"\bzzq_[0-9]{8}\b", ok),
        "secret",
    );
    let no_revoke = one.replace("revoke = \"r\"\n", "");
    check_fails(&no_revoke, "needs `revoke`");
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
fn issue_15_families_have_rules() {
    let set = RuleSet::builtin().unwrap();
    for id in [
        "atlassian.api-token",
        "bitbucket.app-password",
        "bitbucket.access-token",
        "azure.devops-pat",
        "azure.devops-pat-legacy",
        "azure.sas-token",
        "azure.cosmosdb-key",
        "azure.search-key",
        "azure.container-registry-key",
        "azure.apim-key",
        "azure.function-key",
        "azure.storage-account-key",
        "azure.service-bus-connection-string",
        "slack.config-access-token",
        "slack.config-refresh-token",
        "docker.config-auth",
        "docker.swarm-join-token",
        "cloudflare.origin-ca-key",
        "cloudflare.user-api-token",
        "gitlab.feed-token",
        "gitlab.runner-registration-token",
        "gitlab.ci-job-token",
        "vault.legacy-token",
        "kubernetes.bootstrap-token",
        "kubernetes.kubeconfig-client-key",
        "kubernetes.secret-manifest",
        "password-hash.bcrypt",
        "password-hash.sha512-crypt",
        "password-hash.md5-crypt",
        "password-hash.apr1",
        "connection-string.snowflake",
        "connection-string.odbc",
        "connection-string.jdbc",
        "nuget.api-key",
        "sonarqube.user-token",
        "facebook.access-token",
        "twitter.bearer-token",
        "microsoft-teams.webhook",
        "discord.bot-token",
        "jfrog.api-key",
        "jfrog.reference-token",
        "sidekiq.enterprise-credentials",
        "telegram.bot-token-any-id",
        "rails.secret-key-base",
        "django.insecure-secret-key",
        "laravel.app-key",
        "wordpress.salt",
        "wordpress.db-password",
        "github.installation-token-jwt",
        "alibaba.access-key-id",
        "flyio.access-token",
        "planetscale.service-token",
        "onepassword.service-account-token",
        "buildkite.user-token",
        "salesforce.access-token",
        "salesforce.refresh-token",
        "tableau.personal-access-token",
    ] {
        assert!(set.get(id).is_some(), "missing rule {id}");
    }
    // A password hash is a leaked password; the placeholder filter must not take `$6$…` for `$VAR`.
    let hash = set.get("password-hash.sha512-crypt").unwrap();
    assert_eq!(hash.kind, sprawl::rules::Kind::Password);
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

#[test]
fn an_extra_rule_file_under_a_rules_directory_is_compiled_up_front() {
    // A pattern that parses but is far over the regex size limit must be an error at load,
    // not a panic on its first keyword hit, wherever the file lives.
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("rules")).unwrap();
    let huge = r"\b(?P<secret>hugeq_(?:(?:[a-z0-9]{1000}){1000}){10})";
    let toml = rule_file("x.huge", "hugeq_", huge, ["hugeq_1", "hugeq_2"]);
    std::fs::write(dir.path().join("rules/extra.toml"), toml).unwrap();
    std::fs::write(dir.path().join("a.txt"), "hugeq_ x\n").unwrap();
    let out = sprawl()
        .current_dir(dir.path())
        .args(["scan", "a.txt", "--rules", "rules/extra.toml"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        !stderr.contains("panicked") && stderr.contains("x.huge"),
        "{stderr}"
    );
}
