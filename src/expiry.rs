//! Offline expiry: a secret (and when it was seen, e.g. its commit date) in, what the token
//! itself says about its lifetime out. No network, always on. JWTs carry `exp`/`iat`/`nbf`
//! (decoded, never verified); Amazon Bedrock short-term keys are a base64 SigV4-presigned URL
//! whose `X-Amz-Date` + `X-Amz-Expires` give the expiry and `X-Amz-Credential` the signing
//! access key id; other token kinds have documented lifetimes (GitHub `ghu_` 8 h, `ghr_` 6
//! months, `ghs_` 1 h; Slack `xoxe.` 12 h; AWS `ASIA` temporary credentials at most 36 h),
//! which bound the expiry from the time the token was seen.

use base64::Engine;
use serde::Serialize;

/// Where an expiry comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Basis {
    /// Read from the token (JWT `exp`, Bedrock `X-Amz-Expires`).
    Token,
    /// The kind's documented lifetime after the time it was seen (a commit date): an upper
    /// bound, since the token was issued before it was committed.
    Lifetime,
}

/// What a token says about its own lifetime.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Expiry {
    /// Unix seconds; `None` when only the lifetime is known and not when it started.
    #[serde(skip)]
    pub expires_at: Option<i64>,
    #[serde(skip)]
    pub issued_at: Option<i64>,
    #[serde(skip)]
    pub not_before: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    pub basis: Basis,
    /// The kind's documented maximum lifetime in seconds, when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lifetime_seconds: Option<i64>,
    /// The AWS access key id that signed a Bedrock short-term key (joins to IAM exports).
    #[serde(skip)]
    pub key_id: Option<String>,
}

impl Expiry {
    /// Whether it has expired at `now` (unix seconds); `None` when the expiry is unknown.
    pub fn expired(&self, now: i64) -> Option<bool> {
        self.expires_at.map(|t| t <= now)
    }

    fn lifetime(seconds: i64, seen_at: Option<i64>) -> Expiry {
        Expiry {
            expires_at: seen_at.map(|s| s.saturating_add(seconds)),
            issued_at: None,
            not_before: None,
            issuer: None,
            subject: None,
            basis: Basis::Lifetime,
            lifetime_seconds: Some(seconds),
            key_id: None,
        }
    }
}

const HOUR: i64 = 3600;
/// GitHub App user-to-server tokens (`ghu_`).
pub const GITHUB_USER_TO_SERVER: i64 = 8 * HOUR;
/// GitHub App refresh tokens (`ghr_`): six months.
pub const GITHUB_REFRESH: i64 = 184 * 24 * HOUR;
/// GitHub App installation tokens (`ghs_`).
pub const GITHUB_INSTALLATION: i64 = HOUR;
/// Slack rotating access tokens (`xoxe.xoxp-`, `xoxe.xoxb-`).
pub const SLACK_ROTATING: i64 = 12 * HOUR;
/// AWS temporary credentials (`ASIA`): `GetSessionToken` allows up to 36 hours.
pub const AWS_TEMPORARY: i64 = 36 * HOUR;

/// The prefix of Amazon Bedrock short-term API keys.
pub const BEDROCK_PREFIX: &str = "bedrock-api-key-";

/// What `secret` says about its expiry; `key_id` is the finding's key id (an `ASIA` id marks
/// temporary credentials), `seen_at` when it was seen (unix seconds, e.g. the commit date).
pub fn read(secret: &[u8], key_id: Option<&str>, seen_at: Option<i64>) -> Option<Expiry> {
    let text = std::str::from_utf8(secret).ok()?.trim();
    if let Some(rest) = text.strip_prefix(BEDROCK_PREFIX) {
        return bedrock(rest);
    }
    if let Some(rest) = text.strip_prefix("ghs_") {
        // The stateless format is `ghs_APPID_JWT`.
        if rest.contains('.') {
            let token = match rest.split_once('_') {
                Some((app, jwt)) if app.bytes().all(|b| b.is_ascii_digit()) => jwt,
                _ => rest,
            };
            return jwt(token);
        }
        return Some(Expiry::lifetime(GITHUB_INSTALLATION, seen_at));
    }
    if text.starts_with("ghu_") {
        return Some(Expiry::lifetime(GITHUB_USER_TO_SERVER, seen_at));
    }
    if text.starts_with("ghr_") {
        return Some(Expiry::lifetime(GITHUB_REFRESH, seen_at));
    }
    if text.starts_with("xoxe.xox") {
        return Some(Expiry::lifetime(SLACK_ROTATING, seen_at));
    }
    if text.starts_with("ASIA") || key_id.is_some_and(|k| k.starts_with("ASIA")) {
        return Some(Expiry::lifetime(AWS_TEMPORARY, seen_at));
    }
    if text.starts_with("eyJ") {
        return jwt(text);
    }
    None
}

/// Once a finding has its commit (history scans find provenance after matching), bound a
/// lifetime-only expiry by the commit date.
pub fn bound_by_commit(f: &mut crate::finding::Finding) {
    let Some(e) = &mut f.expiry else { return };
    if e.basis != Basis::Lifetime || e.expires_at.is_some() {
        return;
    }
    let seen = f.git.as_ref().and_then(|g| parse_time(&g.date));
    if let (Some(seen), Some(life)) = (seen, e.lifetime_seconds) {
        e.expires_at = Some(seen.saturating_add(life));
    }
}

/// A JWT's registered claims, decoded (not verified).
fn jwt(token: &str) -> Option<Expiry> {
    let mut parts = token.split('.');
    let (_header, payload) = (parts.next()?, parts.next()?);
    parts.next()?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    let claims = claims.as_object()?;
    let time = |k: &str| claims.get(k).and_then(|v| v.as_f64()).map(|f| f as i64);
    let text = |k: &str| {
        claims
            .get(k)
            .and_then(|v| v.as_str())
            .map(|s| s.chars().take(200).collect::<String>())
    };
    let (exp, iat) = (time("exp"), time("iat"));
    Some(Expiry {
        expires_at: exp,
        issued_at: iat,
        not_before: time("nbf"),
        issuer: text("iss"),
        subject: text("sub"),
        basis: Basis::Token,
        lifetime_seconds: exp.zip(iat).map(|(e, i)| e - i),
        key_id: None,
    })
}

/// A Bedrock short-term key: base64 of `bedrock.amazonaws.com/?Action=CallWithBearerToken&
/// X-Amz-…` (a SigV4-presigned URL without its scheme).
fn bedrock(b64: &str) -> Option<Expiry> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(b64))
        .ok()?;
    let url = String::from_utf8(bytes).ok()?;
    let query = url.split_once('?')?.1;
    let mut date = None;
    let mut expires = None;
    let mut key_id = None;
    for (k, v) in form_urlencoded::parse(query.as_bytes()) {
        match k.as_ref() {
            "X-Amz-Date" => date = Some(v.into_owned()),
            "X-Amz-Expires" => expires = v.parse::<i64>().ok(),
            "X-Amz-Credential" => key_id = v.split('/').next().map(str::to_string),
            _ => {}
        }
    }
    let signed = date.as_deref().and_then(amz_date);
    Some(Expiry {
        expires_at: signed.zip(expires).map(|(d, e)| d.saturating_add(e)),
        issued_at: signed,
        not_before: None,
        issuer: None,
        subject: None,
        basis: Basis::Token,
        lifetime_seconds: expires,
        key_id: key_id.filter(|k| !k.is_empty()),
    })
}

/// `20250101T120000Z` (SigV4's `X-Amz-Date`) as unix seconds.
fn amz_date(s: &str) -> Option<i64> {
    let dt = jiff::civil::DateTime::strptime("%Y%m%dT%H%M%SZ", s).ok()?;
    Some(
        dt.to_zoned(jiff::tz::TimeZone::UTC)
            .ok()?
            .timestamp()
            .as_second(),
    )
}

/// The wire fields every reporter shows: `expires_at` (RFC 3339) and `expired` at `now`.
pub fn wire_fields(e: Option<&Expiry>, now: i64) -> (Option<String>, Option<bool>) {
    match e {
        Some(e) => (e.expires_at.map(format_time), e.expired(now)),
        None => (None, None),
    }
}

/// An expiry read back from a saved report's `expires_at` and `token` fields (for `audit
/// REPORT.json`); `None` when the report says nothing.
pub fn from_wire(expires_at: Option<&str>, token: Option<&serde_json::Value>) -> Option<Expiry> {
    let t = token?;
    let text = |k: &str| t.get(k).and_then(|v| v.as_str()).map(str::to_string);
    Some(Expiry {
        expires_at: expires_at.and_then(parse_time),
        issued_at: None,
        not_before: None,
        issuer: text("issuer"),
        subject: text("subject"),
        basis: match t.get("basis").and_then(|v| v.as_str()) {
            Some("lifetime") => Basis::Lifetime,
            _ => Basis::Token,
        },
        lifetime_seconds: t.get("lifetime_seconds").and_then(|v| v.as_i64()),
        key_id: None,
    })
}

/// One line for people: `expired 2025-01-01T00:00:00Z (read from the token)`.
pub fn describe(e: &Expiry, now: i64) -> String {
    let basis = match e.basis {
        Basis::Token => "read from the token",
        Basis::Lifetime => "documented lifetime after the commit date",
    };
    match (e.expires_at, e.expired(now)) {
        (Some(t), Some(true)) => format!("expired {} ({basis})", format_time(t)),
        (Some(t), _) => format!("expires {} ({basis})", format_time(t)),
        (None, _) => match e.lifetime_seconds {
            Some(l) => format!("short-lived: at most {} after it was issued", human(l)),
            None => "the token carries no expiry".to_string(),
        },
    }
}

fn human(secs: i64) -> String {
    if secs % 86400 == 0 && secs >= 86400 {
        format!("{} days", secs / 86400)
    } else if secs % 3600 == 0 {
        format!("{} h", secs / 3600)
    } else {
        format!("{secs} s")
    }
}

/// Now, in unix seconds.
pub fn now() -> i64 {
    jiff::Timestamp::now().as_second()
}

/// Unix seconds of an RFC 3339 time (a commit date), for `seen_at`.
pub fn parse_time(s: &str) -> Option<i64> {
    s.parse::<jiff::Timestamp>().ok().map(|t| t.as_second())
}

/// Unix seconds as RFC 3339 UTC.
pub fn format_time(secs: i64) -> String {
    jiff::Timestamp::from_second(secs)
        .map(|t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64url(s: &str) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s)
    }

    #[test]
    fn jwt_claims_are_read() {
        let t = format!(
            "{}.{}.{}",
            b64url(r#"{"alg":"HS256"}"#),
            b64url(r#"{"exp":2000000000,"iat":1999996400,"iss":"me","sub":"svc"}"#),
            "c2ln"
        );
        let e = read(t.as_bytes(), None, None).unwrap();
        assert_eq!(e.expires_at, Some(2_000_000_000));
        assert_eq!(e.lifetime_seconds, Some(3600));
        assert_eq!(e.issuer.as_deref(), Some("me"));
        assert_eq!(e.expired(2_000_000_001), Some(true));
        assert_eq!(e.expired(1_999_999_999), Some(false));
        assert!(read(b"eyJ.garbage", None, None).is_none());
    }

    #[test]
    fn stateless_installation_tokens_are_jwts() {
        let t = format!(
            "ghs_12345_{}.{}.{}",
            b64url(r#"{"alg":"RS256"}"#),
            b64url(r#"{"exp":1700003600,"iat":1700000000}"#),
            "c2lnbmF0dXJl"
        );
        let e = read(t.as_bytes(), None, None).unwrap();
        assert_eq!((e.expires_at, e.basis), (Some(1_700_003_600), Basis::Token));
    }

    #[test]
    fn lifetimes_bound_from_when_seen() {
        let e = read(b"ghu_abc", None, Some(100)).unwrap();
        assert_eq!(e.expires_at, Some(100 + 8 * 3600));
        assert_eq!(e.basis, Basis::Lifetime);
        assert_eq!(read(b"ghs_abc", None, None).unwrap().expires_at, None);
        assert!(read(b"xyz", Some("AKIAX"), None).is_none());
        assert!(read(b"xyz", Some("ASIAX"), None).is_some());
    }

    #[test]
    fn wire_fields_read_back() {
        let e = read(b"ghu_abc", None, Some(100)).unwrap();
        let (at, _) = wire_fields(Some(&e), 0);
        let token = serde_json::to_value(&e).unwrap();
        let back = from_wire(at.as_deref(), Some(&token)).unwrap();
        assert_eq!((back.expires_at, back.basis), (e.expires_at, e.basis));
        assert_eq!(back.lifetime_seconds, e.lifetime_seconds);
        assert!(from_wire(None, None).is_none());
    }

    #[test]
    fn times_round_trip() {
        assert_eq!(amz_date("20250101T000000Z"), Some(1_735_689_600));
        assert_eq!(format_time(1_735_689_600), "2025-01-01T00:00:00Z");
        assert_eq!(parse_time("2025-01-01T01:00:00+01:00"), Some(1_735_689_600));
        assert_eq!(amz_date("2025"), None);
    }
}
