//! Filters a candidate secret must pass after its regex matched: entropy, offline checksums,
//! placeholders. Bytes in, yes or no out; nothing here allocates.

use crate::rules::{template::BASE62, Checksum};

/// Shannon entropy of `bytes`, in bits per byte.
pub fn shannon_entropy(bytes: &[u8]) -> f64 {
    if bytes.is_empty() {
        return 0.0;
    }
    let mut counts = [0u32; 256];
    for &b in bytes {
        counts[b as usize] += 1;
    }
    let len = bytes.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = c as f64 / len;
            -p * p.log2()
        })
        .sum()
}

/// Does `secret` satisfy the rule's checksum?
pub fn checksum_ok(kind: Checksum, secret: &[u8]) -> bool {
    match kind {
        Checksum::Crc32Base62 => crc32_base62_ok(secret),
    }
}

/// GitHub / npm style: `prefix_` + 30 body chars + 6 base62 chars of CRC32(body).
fn crc32_base62_ok(secret: &[u8]) -> bool {
    if secret.len() < 36 {
        return false;
    }
    let (body, check) = secret[secret.len() - 36..].split_at(30);
    let mut value: u64 = 0;
    for &c in check {
        let Some(d) = BASE62.iter().position(|&x| x == c) else {
            return false;
        };
        value = value * 62 + d as u64;
    }
    value == crc32fast::hash(body) as u64
}

/// Patterns that mark a value as a stand-in for a secret in any rule.
const STRONG_MARKERS: &[&[u8]] = &[
    b"xxxx",
    b"****",
    b"....",
    b"${",
    b"{{",
    b"%s",
    b"<your",
    b"your_",
    b"your-",
    b"yourkey",
    b"placeholder",
    b"changeme",
    b"change_me",
    b"replace_me",
    b"replaceme",
    b"redacted",
    b"insert_",
    b"example",
    b"dummy",
    b"[filtered]",
    b"[masked]",
];

/// Words that make a generic match (a password, a `*_token = ...`) too likely to be a fixture.
/// Digit runs (`1234`) and words inside a longer value (`hunter22`, `s3cr3t`) are not here:
/// real passwords contain them.
const WEAK_MARKERS: &[&[u8]] = &[
    b"test",
    b"sample",
    b"mock",
    b"fixme",
    b"todo",
    b"foobar",
    b"demo",
    b"lorem",
    b"invalid",
    b"fake",
    b"notreal",
    b"not_real",
    b"not-real",
];

/// Whole values that are defaults or stand-ins, not secrets.
const WEAK_VALUES: &[&[u8]] = &[
    b"password",
    b"passwd",
    b"pass",
    b"secret",
    b"postgres",
    b"root",
    b"admin",
    b"guest",
    b"user",
    b"username",
    b"mysql",
    b"redis",
    b"rabbitmq",
    b"none",
    b"null",
    b"true",
    b"false",
    b"secret123",
    b"password1",
    b"password123",
    b"letmein",
    b"hunter2",
    b"qwerty",
    b"string",
    b"mypass",
    b"mypassword",
    b"yourpassword",
    b"pass123",
    b"pa55word",
];

fn contains_ci(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle))
}

/// Is `secret` a placeholder rather than a credential? `strict` adds the weak markers.
pub fn is_placeholder(secret: &[u8], strict: bool) -> bool {
    if secret.len() >= 4 && secret.iter().all(|&b| b == secret[0]) {
        return true;
    }
    if STRONG_MARKERS.iter().any(|m| contains_ci(secret, m)) {
        return true;
    }
    if secret.first() == Some(&b'<') && secret.last() == Some(&b'>') {
        return true;
    }
    if says_fake(secret) {
        return true;
    }
    // A variable or template reference: $VAR, %(name)s, {name}; not a crypt(3) hash ($6$…).
    if (matches!(secret.first(), Some(b'$' | b'{')) && !is_crypt_hash(secret))
        || secret.starts_with(b"%(")
        || is_percent_variable(secret)
    {
        return true;
    }
    if strict {
        if WEAK_VALUES.iter().any(|v| secret.eq_ignore_ascii_case(v)) {
            return true;
        }
        if WEAK_MARKERS.iter().any(|m| contains_ci(secret, m)) {
            return true;
        }
        if secret.len() < 6 {
            return true;
        }
        // An identifier, a path or a dotted name, not a random value.
        if secret.len() >= 8 && !secret.iter().any(u8::is_ascii_digit) {
            let sym = secret
                .iter()
                .all(|b| b.is_ascii_alphabetic() || matches!(b, b'_' | b'.' | b'-' | b'/'));
            if sym {
                return true;
            }
        }
        if is_sequential(secret) {
            return true;
        }
        if matches!(secret.first(), Some(b'/' | b'~' | b'.')) && secret.contains(&b'/') {
            return true;
        }
        if looks_like_identifier(secret) || looks_like_hostname(secret) {
            return true;
        }
        // An Ethereum address (`0x` + 40 hex) names an account; it is not a credential.
        if secret.len() == 42
            && secret.starts_with(b"0x")
            && secret[2..].iter().all(u8::is_ascii_hexdigit)
        {
            return true;
        }
    }
    fake_body(secret)
}

/// Words a value uses to say it is not a real key, in one case (`INVALID`, `fake`): in a
/// random base62 body one turns up by chance in well under one key in 10^4.
const FAKE_WORDS: &[&[u8]] = &[b"invalid", b"fake", b"notreal", b"not_real", b"not-real"];

/// Does the value say it is invalid or fake (`sk-proj-INVALID…`, `…_FAKE_…`)?
fn says_fake(secret: &[u8]) -> bool {
    FAKE_WORDS.iter().any(|w| {
        secret.windows(w.len()).any(|x| {
            x == *w
                || (x.len() == w.len()
                    && x.iter()
                        .zip(w.iter())
                        .all(|(a, b)| *a == b.to_ascii_uppercase()))
        })
    })
}

/// A Windows / MSBuild environment reference: `%NUGET_PASSWORD%`.
fn is_percent_variable(secret: &[u8]) -> bool {
    secret.len() >= 3
        && secret.first() == Some(&b'%')
        && secret.last() == Some(&b'%')
        && secret[1..secret.len() - 1]
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'_')
}

/// A body that no generator produces: after the prefix (up to the last `_`, `-` or `.` in the
/// first 12 characters), all one character, or ending in a run like `1234567890`/`abcdef`.
fn fake_body(secret: &[u8]) -> bool {
    let head = &secret[..secret.len().min(12)];
    let cut = head
        .iter()
        .rposition(|b| matches!(b, b'_' | b'-' | b'.'))
        .map_or(0, |p| p + 1);
    let body = &secret[cut..];
    if body.len() >= 6 && body.iter().all(|&b| b == body[0]) {
        return true;
    }
    // A run of 8 ascending characters (`12345678`, `abcdefgh`, `7890` wrapping) at the end,
    // or of 10 anywhere in the body (`…1234567890abcdef…`): one in 10^14 random bodies.
    let ascending = |w: &[u8]| w[0].checked_add(1) == Some(w[1]) || (w[0] == b'9' && w[1] == b'0');
    let tail = &secret[secret.len().saturating_sub(8)..];
    if tail.len() == 8 && tail.windows(2).all(ascending) {
        return true;
    }
    let mut run = 1;
    for w in body.windows(2) {
        run = if ascending(w) { run + 1 } else { 1 };
        if run >= 10 {
            return true;
        }
    }
    false
}

/// `api.internal.example.net`, `db-1.prod.svc`: lower-case labels and dots, a letter TLD.
fn looks_like_hostname(secret: &[u8]) -> bool {
    let dots = secret.iter().filter(|&&b| b == b'.').count();
    let labels_ok = secret
        .iter()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'-'));
    let tld = secret.rsplit(|&b| b == b'.').next().unwrap_or(b"");
    dots >= 2 && labels_ok && tld.len() >= 2 && tld.iter().all(u8::is_ascii_lowercase)
}

/// A name such as `X509CertificateTemplateFlag` or `STORAGE_OFFLOAD_TOKEN_0`, not a value:
/// four capitalised words (with a vowel each) in a row, or three or more `_`-separated parts each of one case.
/// Either is rare in random base62/base64 (well under 0.1% of 32-character values).
fn looks_like_identifier(secret: &[u8]) -> bool {
    if secret.len() < 12 || secret.iter().all(u8::is_ascii_hexdigit) {
        return false;
    }
    // Four `[A-Z][a-z]{2,}` words in a row.
    let mut words = 0;
    let mut i = 0;
    while i < secret.len() {
        if secret[i].is_ascii_uppercase() {
            let lower = secret[i + 1..]
                .iter()
                .take_while(|b| b.is_ascii_lowercase())
                .count();
            let vowel = secret[i..=i + lower]
                .iter()
                .any(|b| b"aeiouyAEIOUY".contains(b));
            if lower >= 2 && vowel {
                words += 1;
                if words >= 4 {
                    return true;
                }
                i += 1 + lower;
                continue;
            }
        }
        words = 0;
        i += 1;
    }
    // snake_case or SCREAMING_SNAKE with at least three parts.
    let parts: Vec<&[u8]> = secret.split(|&b| b == b'_').collect();
    parts.len() >= 3
        && parts.iter().all(|p| {
            p.len() <= 24
                && p.iter().all(u8::is_ascii_alphanumeric)
                && (!p.iter().any(u8::is_ascii_lowercase) || !p.iter().any(u8::is_ascii_uppercase))
        })
}

/// A password hash that names its scheme first: modular crypt `$id$…` (`$2b$`, `$6$`,
/// `$apr1$`, `$argon2id$`, `$y$`) or LDAP/htpasswd `{SCHEME}…` (`{SHA}`, `{SSHA512}`), long
/// enough to hold a digest.
fn is_crypt_hash(secret: &[u8]) -> bool {
    let close = match secret.first() {
        Some(b'$') => b'$',
        Some(b'{') => b'}',
        _ => return false,
    };
    secret.len() >= 20
        && secret[1..]
            .iter()
            .take(10)
            .position(|&b| b == close)
            .is_some_and(|p| p > 0 && secret[1..=p].iter().all(u8::is_ascii_alphanumeric))
}

fn is_sequential(secret: &[u8]) -> bool {
    const RUNS: &[&[u8]] = &[b"0123456789", b"abcdefghijklmnopqrstuvwxyz", b"qwertyuiop"];
    secret.len() >= 6
        && RUNS
            .iter()
            .any(|run| contains_ci(run, secret) || contains_ci(secret, &run[..6]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::template::{expand, Rng};

    #[test]
    fn entropy_bounds() {
        assert_eq!(shannon_entropy(b"aaaa"), 0.0);
        assert!((shannon_entropy(b"abcd") - 2.0).abs() < 1e-9);
        let random = expand("{{alnum:40}}", &mut Rng::new(3));
        assert!(shannon_entropy(random.as_bytes()) > 4.0);
    }

    #[test]
    fn github_checksum() {
        let tok = expand("ghp_{{alnum:30}}{{crc32}}", &mut Rng::new(11));
        assert!(checksum_ok(Checksum::Crc32Base62, tok.as_bytes()));
        let mut bad = tok.into_bytes();
        bad[10] = if bad[10] == b'a' { b'b' } else { b'a' };
        assert!(!checksum_ok(Checksum::Crc32Base62, &bad));
        assert!(!checksum_ok(Checksum::Crc32Base62, b"ghp_short"));
    }

    #[test]
    fn placeholders() {
        assert!(is_placeholder(b"sk-proj-xxxxxxxxxxxx", false));
        assert!(is_placeholder(b"${OPENAI_API_KEY}", false));
        assert!(is_placeholder(b"<your-api-key>", false));
        assert!(is_placeholder(b"aaaaaaaaaaaa", false));
        assert!(is_placeholder(b"$DB_PASSWORD", false));
        assert!(is_placeholder(b"$DB_PASSWORD$SUFFIX_OF_SOME_LENGTH", false));
        // Hashes are built here, not written out, so a scan of this tree finds none.
        let body = "Zq81kPw0vB3nTy7s".repeat(2);
        for scheme in ["$6$rounds=5000$saltsalt$", "$2b$12$", "{SSHA}"] {
            let hash = format!("{scheme}{body}");
            assert!(!is_placeholder(hash.as_bytes(), false), "{hash}");
        }
        assert!(is_placeholder(b"{name_of_the_variable}", false));
        assert!(!is_placeholder(b"Zq81kPw0vB3nTy7s", false));
        assert!(is_placeholder(b"password", true));
        assert!(!is_placeholder(b"password", false));
        assert!(is_placeholder(b"my_test_token_value1", true));
        assert!(is_placeholder(b"request.headers.token", true));
        assert!(is_placeholder(b"abc123456789", true));
        assert!(!is_placeholder(b"Zq81kPw0vB3nTy7s", true));
        assert!(is_placeholder(
            b"X509CertificateTemplatePrivateKeyFlag",
            true
        ));
        assert!(is_placeholder(b"D3DKMT_PRESENTHISTORYTOKEN_0", true));
        assert!(is_placeholder(b"/tmp/inventory-cloudj9cGz5/identity", true));
        let hex = crate::rules::template::expand("{{hex:64}}", &mut Rng::new(9));
        assert!(!is_placeholder(hex.as_bytes(), true));
        // Random base62 and base64url values of secret length almost never look like names.
        let mut named = 0;
        for seed in 0..5000 {
            for t in ["{{alnum:32}}", "{{b64url:40}}"] {
                let v = crate::rules::template::expand(t, &mut Rng::new(seed));
                named += looks_like_identifier(v.as_bytes()) as usize;
            }
        }
        assert!(named <= 5, "{named} of 10000 random values taken for names");
    }

    #[test]
    fn a_byte_255_in_a_value_is_not_an_overflow() {
        // Regression (fuzz matcher target, debug build): 255 + 1 overflowed in the in-order check.
        let mut v = b"sk-".to_vec();
        v.extend([0xff, 0x00].repeat(10));
        assert!(!fake_body(&v));
        assert!(!fake_body(&[0xff; 3]));
    }

    #[test]
    fn values_that_say_they_are_fake_or_run_in_order() {
        let body = crate::rules::template::expand("{{alnum:40}}", &mut Rng::new(3));
        assert!(!is_placeholder(format!("sk-proj-{body}").as_bytes(), false));
        for fake in [
            format!("sk-proj-INVALID{body}"),
            format!("ck-{body}fake"),
            format!("bb_live_{}_NOTREAL", &body[..20]),
            format!("m0-1234567890abcdefghij{}", &body[..12]),
        ] {
            assert!(is_placeholder(fake.as_bytes(), false), "{fake}");
        }
        // A word in mixed case, or a short run, is what random bodies hold.
        assert!(!is_placeholder(
            format!("sk-{}FaKe{}", &body[..10], &body[10..]).as_bytes(),
            false
        ));
        assert!(!is_placeholder(
            format!("sk-{}1234567{}", &body[..10], &body[10..]).as_bytes(),
            false
        ));
        // Random bodies almost never say fake or run ten in order.
        let said = (0..20000)
            .filter(|&seed| {
                let v = crate::rules::template::expand("{{alnum:48}}", &mut Rng::new(seed));
                says_fake(v.as_bytes()) || fake_body(v.as_bytes())
            })
            .count();
        assert!(said <= 2, "{said} of 20000 random keys taken for fakes");
    }
}
