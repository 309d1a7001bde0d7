//! AWS Signature Version 4 through the `aws-sigv4` crate: a request (method, URL, headers,
//! body) and an access key pair in, the headers that sign it out. No hand-written signing.

use std::time::{Duration, SystemTime};

use anyhow::{Context, Result};
use aws_credential_types::Credentials;
use aws_sigv4::{
    http_request::{
        sign, SignableBody, SignableRequest, SignatureLocation, SigningInstructions,
        SigningSettings,
    },
    sign::v4,
};

/// What to sign.
pub struct Signable<'a> {
    pub method: &'a str,
    pub url: &'a str,
    pub headers: &'a [(String, String)],
    pub body: &'a [u8],
    pub region: &'a str,
    pub service: &'a str,
}

fn credentials(key_id: &str, secret: &str, session_token: Option<&str>) -> Credentials {
    Credentials::new(
        key_id,
        secret,
        session_token.map(str::to_string),
        None,
        "sprawl",
    )
}

/// Sign `req` with the key pair and `settings`: what to add to the request.
fn instructions(
    req: &Signable<'_>,
    creds: Credentials,
    settings: SigningSettings,
    time: SystemTime,
) -> Result<SigningInstructions> {
    let identity = creds.into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(req.region)
        .name(req.service)
        .time(time)
        .settings(settings)
        .build()
        .context("building SigV4 parameters")?
        .into();
    let signable = SignableRequest::new(
        req.method,
        req.url,
        req.headers.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        SignableBody::Bytes(req.body),
    )
    .context("preparing the request for SigV4")?;
    let (instructions, _sig) = sign(signable, &params)
        .context("signing with SigV4")?
        .into_parts();
    Ok(instructions)
}

/// The headers (`authorization`, `x-amz-date`, …) that sign `req` with the key pair.
pub fn sign_headers(
    req: &Signable<'_>,
    key_id: &str,
    secret: &str,
    time: SystemTime,
) -> Result<Vec<(String, String)>> {
    let i = instructions(
        req,
        credentials(key_id, secret, None),
        SigningSettings::default(),
        time,
    )?;
    Ok(i.headers()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect())
}

/// A presigned URL (the signature in the query string), as AWS's token generators make for
/// Amazon Bedrock short-term keys. Returns the query parameters to append.
pub fn presign_query(
    req: &Signable<'_>,
    key_id: &str,
    secret: &str,
    session_token: Option<&str>,
    time: SystemTime,
    expires_in: Duration,
) -> Result<Vec<(String, String)>> {
    let mut settings = SigningSettings::default();
    settings.signature_location = SignatureLocation::QueryParams;
    settings.expires_in = Some(expires_in);
    let i = instructions(
        req,
        credentials(key_id, secret, session_token),
        settings,
        time,
    )?;
    Ok(i.params()
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect())
}
