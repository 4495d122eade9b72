//! Verifies the Twilio AccessToken the SDK presents in `init` and `update`, and extracts the chat identity.

use jsonwebtoken::{decode, Algorithm, DecodingKey, Validation};
use serde::Deserialize;

#[derive(Debug, Clone, PartialEq)]
pub struct TokenIdentity {
    pub identity: String,
    pub service_sid: Option<String>,
    /// Expiry, seconds since the epoch.
    pub exp: u64,
}

#[derive(Deserialize)]
struct Claims {
    exp: u64,
    grants: Grants,
}

#[derive(Deserialize)]
struct Grants {
    identity: Option<String>,
    chat: Option<ChatGrant>,
}

#[derive(Deserialize)]
struct ChatGrant {
    service_sid: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum TokenError {
    /// Signature, format or algorithm wrong (Twilio: 20101 invalid access token).
    Invalid(String),
    /// Twilio: 20104 access token expired.
    Expired,
    /// No identity or no chat grant (Twilio: 20103 / 20153).
    MissingGrant(&'static str),
    /// Chat grant for another Conversations service.
    WrongService,
}

impl TokenError {
    /// Twilio error code for the rejection.
    pub fn code(&self) -> u32 {
        match self {
            TokenError::Invalid(_) => 20101,
            TokenError::Expired => 20104,
            TokenError::MissingGrant(_) => 20103,
            TokenError::WrongService => 20153,
        }
    }

    pub fn description(&self) -> String {
        match self {
            TokenError::Invalid(why) => format!("Invalid Access Token: {why}"),
            TokenError::Expired => "Access Token expired or expiration date invalid".into(),
            TokenError::MissingGrant(what) => format!("Invalid Access Token grants: missing {what}"),
            TokenError::WrongService => "Invalid Access Token grants: chat grant is for another service".into(),
        }
    }
}

/// Checks `token` (HS256, signed with the API key secret) and returns its identity.
pub fn verify(token: &str, api_key_secret: &str, service_sid: Option<&str>) -> Result<TokenIdentity, TokenError> {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.leeway = 5;
    validation.validate_aud = false;
    validation.required_spec_claims = ["exp"].into_iter().map(String::from).collect();
    let data = decode::<Claims>(token, &DecodingKey::from_secret(api_key_secret.as_bytes()), &validation).map_err(|e| {
        match e.kind() {
            jsonwebtoken::errors::ErrorKind::ExpiredSignature => TokenError::Expired,
            // Never echo the token itself; the kind is enough to debug.
            _ => TokenError::Invalid(format!("{:?}", e.kind())),
        }
    })?;
    let identity = data.claims.grants.identity.filter(|i| !i.is_empty()).ok_or(TokenError::MissingGrant("identity"))?;
    let chat = data.claims.grants.chat.ok_or(TokenError::MissingGrant("chat grant"))?;
    if let (Some(expected), Some(got)) = (service_sid, chat.service_sid.as_deref()) {
        if expected != got {
            return Err(TokenError::WrongService);
        }
    }
    Ok(TokenIdentity { identity, service_sid: chat.service_sid, exp: data.claims.exp })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use jsonwebtoken::{encode, EncodingKey, Header};
    use serde_json::json;

    pub fn mint(identity: &str, secret: &str, service: &str, ttl: i64) -> String {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
        let mut header = Header::new(Algorithm::HS256);
        header.cty = Some("twilio-fpa;v=1".into());
        let claims = json!({"jti": format!("SKx-{now}"), "iss": "SKx", "sub": "ACx", "iat": now, "exp": now + ttl,
            "grants": {"identity": identity, "chat": {"service_sid": service}}});
        encode(&header, &claims, &EncodingKey::from_secret(secret.as_bytes())).unwrap()
    }

    #[test]
    fn accepts_a_good_token_and_reads_identity() {
        let t = mint("alice", "s3cret", "ISx", 600);
        let id = verify(&t, "s3cret", Some("ISx")).unwrap();
        assert_eq!(id.identity, "alice");
    }

    #[test]
    fn rejects_wrong_secret_expiry_and_service() {
        let t = mint("alice", "s3cret", "ISx", 600);
        assert!(matches!(verify(&t, "other", None), Err(TokenError::Invalid(_))));
        assert_eq!(verify(&t, "s3cret", Some("ISy")), Err(TokenError::WrongService));
        let old = mint("alice", "s3cret", "ISx", -600);
        assert_eq!(verify(&old, "s3cret", None), Err(TokenError::Expired));
        assert!(matches!(verify("not.a.jwt", "s3cret", None), Err(TokenError::Invalid(_))));
    }
}
