//! Verifies Twilio AccessTokens the way Twilio documents them, with Twilio's error codes. One rule set for every
//! place a token is presented (`/v1/realtime`, `/v3/wsconnect`, media uploads).
//!
//! | check | code | source |
//! |---|---|---|
//! | not a JWT, or claims unreadable | 20101 | <https://www.twilio.com/docs/api/errors/20101> |
//! | header not `alg` HS256 + `cty` `twilio-fpa;v=1` (+ `typ` JWT if present) | 20102 | <https://www.twilio.com/docs/api/errors/20102> |
//! | `iss` not the API key / `sub` not the account | 20103 | <https://www.twilio.com/docs/api/errors/20103> |
//! | `exp` passed | 20104 | <https://www.twilio.com/docs/api/errors/20104> |
//! | `nbf` in the future | 20105 | <https://www.twilio.com/docs/api/errors/20105> |
//! | no identity, no chat grant, or a chat grant for another service | 20106 | <https://www.twilio.com/docs/api/errors/20106> |
//! | signature does not verify with the API key secret | 20107 | <https://www.twilio.com/docs/api/errors/20107> |
//! | lifetime (`exp` − `iat`/`nbf`) over 24 h | 20157 | <https://www.twilio.com/docs/api/errors/20157> |
//!
//! No clock leeway: Twilio documents none.

use base64::Engine;
use jsonwebtoken::{decode, Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use serde_json::Value;

use crate::limits::MAX_TOKEN_TTL_SECS;

/// What a token must match. `api_key_sid` / `account_sid` / `service_sid` left empty are not checked (a standalone
/// twilsock server may know only the secret); the emulator sets them all.
#[derive(Debug, Clone, Default)]
pub struct TokenRules {
    pub api_key_secret: String,
    pub api_key_sid: String,
    pub account_sid: String,
    pub service_sid: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedToken {
    pub identity: String,
    pub service_sid: Option<String>,
    /// Expiry, seconds since the epoch.
    pub expires_at: u64,
}

/// A refusal with Twilio's access-token error code.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenError {
    pub code: u32,
    pub message: String,
}

impl TokenError {
    pub fn new(code: u32, message: impl Into<String>) -> Self {
        TokenError { code, message: message.into() }
    }
    /// 20104, for a token whose (possibly brought-forward) expiry has passed.
    pub fn expired() -> Self {
        Self::new(20104, "Access Token expired or expiration date invalid")
    }
}

impl std::fmt::Display for TokenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
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

fn header_of(token: &str) -> Result<Value, TokenError> {
    let mut parts = token.split('.');
    let (Some(h), Some(_), Some(_), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(TokenError::new(20101, "Invalid Access Token: not a JWT"));
    };
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(h.trim_end_matches('='))
        .map_err(|_| TokenError::new(20101, "Invalid Access Token: not a JWT"))?;
    serde_json::from_slice(&bytes).map_err(|_| TokenError::new(20101, "Invalid Access Token: not a JWT"))
}

/// Verifies `token` at time `now` (seconds since the epoch).
pub fn verify(rules: &TokenRules, token: &str, now: u64) -> Result<VerifiedToken, TokenError> {
    let header = header_of(token)?;
    if header["alg"] != "HS256" {
        return Err(TokenError::new(20102, "Invalid Access Token header: alg must be HS256"));
    }
    if header["cty"] != "twilio-fpa;v=1" {
        return Err(TokenError::new(20102, "Invalid Access Token header: cty must be twilio-fpa;v=1"));
    }
    if !header["typ"].is_null() && header["typ"] != "JWT" {
        return Err(TokenError::new(20102, "Invalid Access Token header: typ must be JWT"));
    }
    let mut validation = Validation::new(Algorithm::HS256);
    // Expiry and not-before are checked below, each with its own code.
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    validation.leeway = 0;
    validation.required_spec_claims.clear();
    let claims = decode::<Claims>(token, &DecodingKey::from_secret(rules.api_key_secret.as_bytes()), &validation)
        .map_err(|e| match e.kind() {
            jsonwebtoken::errors::ErrorKind::InvalidSignature => TokenError::new(20107, "Invalid Access Token signature"),
            // Never echo the token itself.
            _ => TokenError::new(20101, "Invalid Access Token: iss, sub, exp and grants are required"),
        })?
        .claims;
    if !rules.api_key_sid.is_empty() && claims.iss != rules.api_key_sid {
        return Err(TokenError::new(20103, "Invalid Access Token issuer/subject: iss is not the API key"));
    }
    if !rules.account_sid.is_empty() && claims.sub != rules.account_sid {
        return Err(TokenError::new(20103, "Invalid Access Token issuer/subject: sub is not the account"));
    }
    if claims.exp <= now {
        return Err(TokenError::expired());
    }
    if claims.nbf.is_some_and(|nbf| nbf > now) {
        return Err(TokenError::new(20105, "Access Token not yet valid (nbf)"));
    }
    let issued = claims.iat.or(claims.nbf).unwrap_or(now);
    if claims.exp.saturating_sub(issued) > MAX_TOKEN_TTL_SECS {
        return Err(TokenError::new(20157, "Expiration Time Exceeds Maximum Time Allowed (24 hours)"));
    }
    let identity = claims.grants["identity"].as_str().unwrap_or_default();
    if identity.is_empty() {
        return Err(TokenError::new(20106, "Invalid Access Token grants: no identity"));
    }
    let service = match claims.grants["chat"]["service_sid"].as_str() {
        Some(s) if rules.service_sid.is_empty() || s == rules.service_sid => Some(s.to_string()),
        Some(_) => return Err(TokenError::new(20106, "Invalid Access Token grants: the chat grant is for another service")),
        None if claims.grants["chat"].is_object() && rules.service_sid.is_empty() => None,
        None => return Err(TokenError::new(20106, "Invalid Access Token grants: no chat grant for the service")),
    };
    Ok(VerifiedToken { identity: identity.to_string(), service_sid: service, expires_at: claims.exp })
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{encode, EncodingKey, Header};
    use serde_json::json;

    const NOW: u64 = 1_800_000_000;

    fn rules() -> TokenRules {
        TokenRules { api_key_secret: "s3cret".into(), api_key_sid: "SKx".into(), account_sid: "ACx".into(), service_sid: "ISx".into() }
    }

    fn token_with(header: Header, claims: Value, secret: &str) -> String {
        encode(&header, &claims, &EncodingKey::from_secret(secret.as_bytes())).unwrap()
    }

    fn header() -> Header {
        let mut h = Header::new(Algorithm::HS256);
        h.cty = Some("twilio-fpa;v=1".into());
        h
    }

    fn claims() -> Value {
        json!({"jti": "SKx-1", "iss": "SKx", "sub": "ACx", "iat": NOW, "exp": NOW + 600,
            "grants": {"identity": "ann", "chat": {"service_sid": "ISx"}}})
    }

    fn code(t: &str) -> u32 {
        verify(&rules(), t, NOW).unwrap_err().code
    }

    #[test]
    fn accepts_a_good_token() {
        let v = verify(&rules(), &token_with(header(), claims(), "s3cret"), NOW).unwrap();
        assert_eq!((v.identity.as_str(), v.expires_at), ("ann", NOW + 600));
    }

    #[test]
    fn each_fault_has_twilios_code() {
        assert_eq!(code("not-a-jwt"), 20101);
        let mut c = claims();
        c.as_object_mut().unwrap().remove("grants");
        assert_eq!(code(&token_with(header(), c, "s3cret")), 20101);
        assert_eq!(code(&token_with(Header::new(Algorithm::HS256), claims(), "s3cret")), 20102);
        let mut h = header();
        h.alg = Algorithm::HS384;
        assert_eq!(code(&token_with(h, claims(), "s3cret")), 20102);
        let mut c = claims();
        c["iss"] = json!("SKother");
        assert_eq!(code(&token_with(header(), c, "s3cret")), 20103);
        let mut c = claims();
        c["sub"] = json!("ACother");
        assert_eq!(code(&token_with(header(), c, "s3cret")), 20103);
        let mut c = claims();
        c["exp"] = json!(NOW);
        assert_eq!(code(&token_with(header(), c, "s3cret")), 20104);
        let mut c = claims();
        c["nbf"] = json!(NOW + 1);
        assert_eq!(code(&token_with(header(), c, "s3cret")), 20105);
        let mut c = claims();
        c["grants"]["chat"]["service_sid"] = json!("ISother");
        assert_eq!(code(&token_with(header(), c, "s3cret")), 20106);
        let mut c = claims();
        c["grants"]["identity"] = json!("");
        assert_eq!(code(&token_with(header(), c, "s3cret")), 20106);
        assert_eq!(code(&token_with(header(), claims(), "wrong")), 20107);
        let mut c = claims();
        c["exp"] = json!(NOW + 24 * 3600 + 1);
        assert_eq!(code(&token_with(header(), c, "s3cret")), 20157);
    }

    #[test]
    fn empty_rules_check_the_signature_only() {
        let loose = TokenRules { api_key_secret: "s3cret".into(), ..TokenRules::default() };
        let mut c = claims();
        c["iss"] = json!("SKother");
        c["grants"]["chat"]["service_sid"] = json!("ISother");
        assert!(verify(&loose, &token_with(header(), c, "s3cret"), NOW).is_ok());
    }
}
