//! Verifies Twilio AccessTokens (HS256 JWT signed with the API key secret) the way Twilio does:
//! signature, expiry, issuer (the API key), subject (the account), lifetime ≤ 24 h, and a chat grant
//! for the configured Conversations service.

use jsonwebtoken::{decode, decode_header, Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use serde_json::Value;

use crate::config::Config;
use crate::util::now_secs;

#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedToken {
    pub identity: String,
    pub expires_at: u64,
}

/// A refusal with Twilio's access-token error codes.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenError {
    pub code: u32,
    pub message: String,
}

fn err(code: u32, message: impl Into<String>) -> TokenError {
    TokenError { code, message: message.into() }
}

#[derive(Deserialize)]
struct Claims {
    iss: String,
    sub: String,
    exp: u64,
    #[serde(default)]
    iat: Option<u64>,
    #[serde(default)]
    nbf: Option<u64>,
    grants: Value,
}

pub fn verify(config: &Config, token: &str) -> Result<VerifiedToken, TokenError> {
    let header = decode_header(token).map_err(|_| err(20101, "Invalid Access Token: not a JWT"))?;
    if header.alg != Algorithm::HS256 {
        return Err(err(20101, "Invalid Access Token: only HS256 is accepted"));
    }
    if header.cty.as_deref() != Some("twilio-fpa;v=1") {
        return Err(err(20101, "Invalid Access Token: header cty must be twilio-fpa;v=1"));
    }
    let mut validation = Validation::new(Algorithm::HS256);
    // Expiry is checked below with no leeway, so an expired token is refused with its own code.
    validation.validate_exp = false;
    validation.required_spec_claims.clear();
    let data = decode::<Claims>(token, &DecodingKey::from_secret(config.api_key_secret.as_bytes()), &validation)
        .map_err(|e| match e.kind() {
            jsonwebtoken::errors::ErrorKind::InvalidSignature => err(20101, "Invalid Access Token: bad signature"),
            _ => err(20101, "Invalid Access Token: malformed claims (iss, sub, exp and grants are required)"),
        })?;
    let c = data.claims;
    if c.iss != config.api_key_sid {
        return Err(err(20103, "Invalid Access Token issuer: not the configured API key"));
    }
    if c.sub != config.account_sid {
        return Err(err(20102, "Invalid Access Token subject: not the configured account"));
    }
    let now = now_secs();
    if c.exp <= now {
        return Err(err(20104, "Access Token expired or expiration date invalid"));
    }
    if let Some(nbf) = c.nbf {
        if nbf > now + 5 {
            return Err(err(20101, "Invalid Access Token: not valid yet (nbf)"));
        }
    }
    let issued = c.iat.or(c.nbf).unwrap_or(now);
    if c.exp.saturating_sub(issued) > 24 * 3600 {
        return Err(err(20157, "Access Token TTL exceeds the 24 hour maximum"));
    }
    let identity = c.grants["identity"].as_str().unwrap_or_default();
    if identity.is_empty() {
        return Err(err(20101, "Invalid Access Token grants: identity is missing"));
    }
    match c.grants["chat"]["service_sid"].as_str() {
        Some(s) if s == config.service_sid => {}
        Some(_) => return Err(err(20106, "Invalid Access Token grants: chat.service_sid is not the configured service")),
        None => return Err(err(20106, "Invalid Access Token grants: no chat grant")),
    }
    Ok(VerifiedToken { identity: identity.to_string(), expires_at: c.exp })
}
