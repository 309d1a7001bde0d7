//! Issue 15, classes 3–6: credential-bearing files (each file format, found with the right
//! value), the generic assignment detector's syntaxes (each found, with the
//! right value), the filters that must keep real secrets, and the look-alikes it must not
//! report. Keys are built at test time from templates.

use std::sync::OnceLock;

use sprawl::{
    matcher::{Matcher, Scratch},
    rules::{
        template::{expand, Rng},
        Confidence, RuleSet,
    },
};

fn matcher() -> &'static Matcher {
    static M: OnceLock<Matcher> = OnceLock::new();
    M.get_or_init(|| Matcher::new(&RuleSet::builtin().unwrap()).unwrap())
}

/// (rule id, secret, confidence) of every match in `text`.
fn scan(text: &str) -> Vec<(String, String, Confidence)> {
    let m = matcher();
    m.scan(text.as_bytes(), &mut Scratch::default())
        .into_iter()
        .map(|r| {
            (
                m.rule(r.rule).id.clone(),
                text[r.secret].to_string(),
                r.confidence,
            )
        })
        .collect()
}

fn gen(template: &str, seed: &str) -> String {
    expand(template, &mut Rng::from_str_seed(seed))
}

/// `line` (with `{}` for the value) reports exactly `value`.
fn finds(line: &str, value: &str) {
    let text = line.replace("{}", value);
    let got = scan(&text);
    assert!(
        got.iter().any(|(_, s, _)| s == value),
        "not found in {text:?}: {got:?}"
    );
}

/// Nothing generic is reported in `text`.
fn no_generic(text: &str) {
    let got: Vec<_> = scan(text)
        .into_iter()
        .filter(|(id, _, _)| id.starts_with("generic."))
        .collect();
    assert!(got.is_empty(), "{text:?} reported {got:?}");
}

#[test]
fn class4_makefile_assignments() {
    let v = gen("{{alnum:32}}", "mk");
    for op in ["?=", "::=", ":::=", "=", ":=", "+="] {
        finds(&format!("API_TOKEN {op} {{}}"), &v);
    }
}

#[test]
fn class4_php_assignments_and_concatenation() {
    let v = gen("{{alnum:32}}", "php");
    finds("$api_key .= \"{}\";", &v);
    finds("$config['auth_token'] = '{}' . $suffix;", &v);
    finds("'api_secret' => '{}',", &v);
    finds(
        "define('DB_PASSWORD', '{}');",
        &gen("{{alnum:12}}", "php-pw"),
    );
}

#[test]
fn class4_go_declarations() {
    let v = gen("{{alnum:32}}", "go");
    finds("var apiToken string = \"{}\"", &v);
    finds("deployToken := \"{}\"", &v);
}

#[test]
fn class4_name_and_value_as_call_arguments() {
    let v = gen("{{alnum:32}}", "call");
    finds("System.setProperty(\"X_TOKEN\", \"{}\");", &v);
    finds("os.Setenv(\"API_TOKEN\", \"{}\")", &v);
    finds("key := GetEnvOrDefault(\"api_token\", \"{}\")", &v);
    finds(
        "putenv(\"DB_PASSWORD\", \"{}\");",
        &gen("{{alnum:10}}", "call-pw"),
    );
}

#[test]
fn class4_value_inside_a_json_escaped_string() {
    let v = gen("{{alnum:32}}", "json-esc");
    finds("{\"env\": \"PORT=8080\\nAPI_TOKEN={}\\nNEXT=1\"}", &v);
    finds(
        "{\"cfg\": \"password=\\\"{}\\\"\"}",
        &gen("{{alnum:12}}", "json-esc-pw"),
    );
}

#[test]
fn class4_passwords_with_symbols() {
    for (i, pw) in [
        "Tr0ub$dor9x",
        "hX7!kq2Lp",
        "a(9Fz_3kQ",
        "s^Pq81zzK",
        "r[8vT2mLw",
    ]
    .iter()
    .enumerate()
    {
        finds("DB_PASSWORD = \"{}\"", pw);
        finds("password: '{}'", pw);
        assert!(i < 5);
    }
}

/// `text` (with `{}` for the value) reports exactly `value` under rule `rule`.
fn finds_by(rule: &str, text: &str, value: &str) {
    let text = text.replace("{}", value);
    let got = scan(&text);
    assert!(
        got.iter().any(|(id, s, _)| id == rule && s == value),
        "{rule} did not report {value:?} in {text:?}: {got:?}"
    );
}

#[test]
fn class3_credential_files() {
    let pw = gen("{{alnum:18}}", "class3");
    // .netrc: one line, or one token pair a line.
    finds_by(
        "netrc.password",
        "machine api.example-host.net login bot password {}\n",
        &pw,
    );
    finds_by(
        "netrc.password",
        "machine git.example-host.net\n  login ci\n  password {}\n",
        &pw,
    );
    // .pgpass: host:port:database:user:password.
    finds_by("pgpass.password", "db.internal:5432:app:app_user:{}\n", &pw);
    finds_by("pgpass.password", "*:*:*:replicator:{}\n", &pw);
    // Every line of a .pgpass is found, not every other one (a match that ends on the
    // newline must leave it to the next line's match).
    let lines: String = (0..6)
        .map(|i| format!("db{i}.internal:5432:app:user{i}:{pw}{i}\n"))
        .collect();
    let found = scan(&lines)
        .into_iter()
        .filter(|(id, _, _)| id == "pgpass.password")
        .count();
    assert_eq!(found, 6, "{lines}");
    // .git-credentials with a user name holding `@`.
    finds_by(
        "generic.git-credentials",
        "https://jane@corp.example:{}@git.example-host.net\n",
        &pw,
    );
    // Docker config.json auths.*.auth (base64 user:password).
    let auth = gen("{{b64:40}}", "class3-docker");
    finds_by(
        "docker.config-auth",
        "{\"auths\": {\"registry.example-host.net\": {\"auth\": \"{}\"}}}\n",
        &auth,
    );
    // FileZilla: <Pass> plain and base64-encoded.
    finds_by(
        "generic.password-element",
        "<Server><Host>ftp.example-host.net</Host><User>u</User><Pass>{}</Pass></Server>\n",
        &pw,
    );
    finds_by(
        "generic.password-element",
        "<Pass encoding=\"base64\">{}</Pass>\n",
        &gen("{{b64:24}}", "class3-fz"),
    );
    // An XML element named like a password with its value on its own line.
    finds_by(
        "generic.password-element",
        "<DbPassword>\n  {}\n</DbPassword>\n",
        &pw,
    );
}

#[test]
fn class3_keys_named_like_credentials_in_yaml_json_ini_env() {
    let pw = gen("{{alnum:16}}", "class3-names");
    for name in [
        "password",
        "passwd",
        "pass",
        "pwd",
        "passphrase",
        "secret",
        "auth",
        "credentials",
    ] {
        finds(&format!("{name}: \"{{}}\"\n"), &pw);
        finds(&format!("{{{{\"{name}\": \"{{}}\"}}}}\n"), &pw);
    }
    // INI, .env, YAML and Makefiles with unquoted values.
    finds("[api]\napi_key = {}\n", &gen("{{alnum:32}}", "class3-ini"));
    finds("[db]\npassword = {}\n", &pw);
    finds("DB_PASSWORD={}\n", &pw);
    finds("database:\n  password: {}\n", &pw);
    finds("SMTP_PASS ?= {}\n", &pw);
    // What code puts there is an expression, not a password.
    for code in [
        "password = get_password()\n",
        "password: string;\n",
        "password = user.password\n",
        "password = settings.DB_PASSWORD;\n",
    ] {
        let got: Vec<_> = scan(code)
            .into_iter()
            .filter(|(id, _, _)| id == "generic.password-assignment")
            .collect();
        assert!(got.is_empty(), "{code:?}: {got:?}");
    }
}

#[test]
fn class4_unquoted_values() {
    finds("API_KEY={}", &gen("{{alnum:32}}", "uq4"));
}

#[test]
fn class4_credential_names_beyond_key_secret_token() {
    finds("pass = \"{}\"", &gen("{{alnum:9}}", "n1"));
    finds("pwd: \"{}\"", &gen("{{alnum:9}}", "n2"));
    finds("passphrase: \"{}\"", &gen("{{alnum:14}}", "n3"));
    finds("AUTH={}", &gen("{{alnum:32}}", "n4"));
    finds("creds = \"{}\"", &gen("{{alnum:32}}", "n5"));
    finds("user_auth = \"{}\"", &gen("{{alnum:24}}", "n6"));
}

#[test]
fn class4_short_passwords_in_a_password_context() {
    finds("password = \"{}\"", &gen("{{alnum:6}}", "short6"));
    finds("DB_PASSWORD=\"{}\"", &gen("{{alnum:7}}", "short7"));
}

#[test]
fn class5_digit_runs_are_not_placeholders() {
    finds("DB_PASSWORD = \"{}\"", "Kx1234vbq9");
    finds(
        "API_KEY={}",
        &format!(
            "{}1234{}",
            gen("{{alnum:14}}", "d1"),
            gen("{{alnum:14}}", "d2")
        ),
    );
}

#[test]
fn class5_dictionary_like_passwords_in_a_password_field_are_kept() {
    finds("password = \"{}\"", "hunter22");
    finds("passphrase: \"{}\"", "correcthorse7");
}

#[test]
fn class5_uri_passwords_are_kept() {
    finds("DATABASE_URL=postgres://user:{}@db:5432/app", "s3cr3t");
    finds(
        "url = \"https://deploy:{}@git.internal.net/repo.git\"",
        "s3cr3tpw",
    );
}

#[test]
fn class5_placeholders_by_what_they_are() {
    for v in [
        "xxxxxxxxxxxxxxxxxxxx",
        "<your-api-key>",
        "${API_TOKEN}",
        "{{ api_token }}",
        "changeme",
        "example-token-value-here",
        "aaaaaaaaaaaaaaaaaaaaaaaa",
    ] {
        no_generic(&format!("API_TOKEN=\"{v}\""));
        no_generic(&format!("password: \"{v}\""));
    }
    // A documented vendor example key is not reported by any rule.
    let ex = ["AKIA", "IOSFODNN7", "EXAMPLE"].concat();
    assert!(scan(&format!("aws_access_key_id = {ex}")).is_empty());
}

#[test]
fn class6_a_named_provider_decides() {
    // gsk_ + 28 characters is not a Groq key, and the generic rule leaves it alone.
    let v = gen("gsk_{{alnum:28}}", "groq-short");
    assert!(scan(&format!("GROQ_API_KEY={v}")).is_empty());
    let v = gen("sk-ant-api03-{{alnum:20}}", "anthropic-short");
    assert!(scan(&format!("ANTHROPIC_API_KEY={v}")).is_empty());
    // A prefix the rule's pattern starts with (not only its keyword): sk-ant- + anything.
    let v = gen("sk-ant-{{alnum:33}}", "anthropic-other");
    assert!(scan(&format!("ANTHROPIC_API_KEY = \"{v}\"")).is_empty());
    // No prefix at all: a Qdrant key of the wrong length under a Qdrant name, in any spelling.
    let v = gen("{{alnum:21}}", "qdrant-short");
    for line in [
        "QDRANT_API_KEY = \"{}\"",
        "const qdrantApiKey = '{}';",
        "linode_token: {}",
    ] {
        let text = line.replace("{}", &v);
        assert!(scan(&text).is_empty(), "{text}");
    }
    // In the provider's format, the generic rule still reports what the provider's rule
    // missed for want of its keyword (a Box developer token under BOX_TOKEN).
    let v = gen("{{alnum:32}}", "box-token");
    finds("BOX_TOKEN = \"{}\"", &v);
    // A provider the name does not name: the generic rule decides as before.
    let v = gen("{{alnum:21}}", "other-short");
    finds("ACME_API_KEY = \"{}\"", &v);
}

#[test]
fn class6_values_that_say_they_are_not_real() {
    for word in ["invalid", "fake", "dummy", "redacted", "notreal"] {
        let v = format!("{word}-{}", gen("{{alnum:24}}", word));
        assert!(scan(&format!("API_TOKEN=\"{v}\"")).is_empty(), "{v}");
    }
    // Self-identifying formats too: the value says it is not a key, or runs in order.
    let body = gen("{{alnum:40}}", "named-fake");
    for (name, real, fake) in [
        (
            "CHROMA_API_KEY",
            format!("ck-{body}"),
            format!("ck-INVALID{body}"),
        ),
        (
            "BROWSERBASE_API_KEY",
            format!("bb_live_{}", &body[..24]),
            format!("bb_live_FAKE{}", &body[..20]),
        ),
        (
            "MEM0_API_KEY",
            format!("m0-{}", &body[..38]),
            format!("m0-1234567890abcdefghij{}", &body[..18]),
        ),
    ] {
        finds(&format!("{name}={{}}"), &real);
        let text = format!("{name}={fake}");
        assert!(scan(&text).is_empty(), "{text}: {:?}", scan(&text));
    }
}

#[test]
fn class6_addresses_and_digests() {
    no_generic(&format!("WALLET_ADDRESS=0x{}", gen("{{hex:40}}", "eth")));
    no_generic(&format!(
        "token_address: \"0x{}\"",
        gen("{{hex:40}}", "eth2")
    ));
    no_generic(&format!("COMMIT_SHA256={}", gen("{{hex:64}}", "sha")));
    no_generic(&format!("secret_hash = \"{}\"", gen("{{hex:64}}", "hash")));
}

#[test]
fn class6_hostnames() {
    no_generic("auth_host = \"auth.internal.example.net\"");
    no_generic("token: api-7.prod.eu-west.svc.cluster.local");
}

#[test]
fn class6_uuid_in_a_url_path_is_not_a_heroku_key() {
    let u = gen("{{hex:8}}-{{hex:4}}-{{hex:4}}-{{hex:4}}-{{hex:12}}", "uuid");
    assert!(scan(&format!("curl https://api.heroku.com/apps/{u}/dynos")).is_empty());
}

#[test]
fn class6_sentry_tokens_need_a_boundary_and_a_real_body() {
    let body = gen("{{hex:64}}", "sentry");
    let glued = format!("sntryu_{body}abc");
    assert!(!scan(&glued)
        .iter()
        .any(|(id, _, _)| id.starts_with("sentry")));
    let same = format!("sntryu_{}", "a".repeat(64));
    assert!(scan(&same).is_empty());
    // The real format is still found.
    assert!(scan(&format!("SENTRY_TOKEN=sntryu_{body}\n"))
        .iter()
        .any(|(id, _, _)| id.starts_with("sentry")));
}

#[test]
fn class6_slack_config_token_with_a_fake_tail() {
    let t = format!("xoxe.xoxp-1-{}", "abcdefghijklmnopqrstuvwxyz");
    assert!(scan(&t).is_empty());
    let t = format!("xoxe.xoxp-1-{}", "0".repeat(40));
    assert!(scan(&t).is_empty());
}

#[test]
fn class6_tokens_that_are_not_credentials() {
    no_generic(&format!(
        "Started POST \"/login\" Parameters: {{\"authenticity_token\"=>\"{}=\"}}",
        gen("{{b64:43}}", "csrf")
    ));
    no_generic(&format!(
        "next_page_token: \"{}\"",
        gen("{{alnum:32}}", "page")
    ));
    no_generic(&format!(
        "\"cursor\": \"{}\"",
        gen("{{b64url:40}}", "cursor")
    ));
    no_generic(&format!(
        "webhook_nonce = \"{}\"",
        gen("{{hex:32}}", "nonce")
    ));
}

#[test]
fn confidence_per_match() {
    let gh = gen("ghp_{{alnum:30}}{{crc32}}", "conf");
    let got = scan(&format!("token = \"{gh}\""));
    assert_eq!(got[0].2, Confidence::High, "{got:?}");
    let got = scan(&format!("API_KEY={}", gen("{{alnum:32}}", "conf-gen")));
    assert_eq!(got[0].2, Confidence::Medium, "{got:?}");
    let got = scan("password = \"hunter22\"");
    assert_eq!(got[0].2, Confidence::Low, "{got:?}");
}
