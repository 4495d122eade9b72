//! Verifies the Twilio AccessToken the SDK presents in `init` and `update`, and extracts the chat identity. The
//! checks and Twilio's error codes are `twilio_model::token`'s, shared with the emulator's other paths.

pub use twilio_model::token::{TokenError, TokenRules};

#[derive(Debug, Clone, PartialEq)]
pub struct TokenIdentity {
    pub identity: String,
    pub service_sid: Option<String>,
    /// Expiry, seconds since the epoch.
    pub exp: u64,
}

/// Checks `token` by `rules` and returns its identity.
pub fn verify(token: &str, rules: &TokenRules) -> Result<TokenIdentity, TokenError> {
    let v = twilio_model::token::verify(rules, token, twilio_model::time::now_secs())?;
    Ok(TokenIdentity { identity: v.identity, service_sid: v.service_sid, exp: v.expires_at })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
    use serde_json::json;

    pub fn mint(identity: &str, secret: &str, service: &str, ttl: i64) -> String {
        let now = twilio_model::time::now_secs() as i64;
        let mut header = Header::new(Algorithm::HS256);
        header.cty = Some("twilio-fpa;v=1".into());
        let claims = json!({"jti": format!("SKx-{now}"), "iss": "SKx", "sub": "ACx", "iat": now, "exp": now + ttl,
            "grants": {"identity": identity, "chat": {"service_sid": service}}});
        encode(&header, &claims, &EncodingKey::from_secret(secret.as_bytes())).unwrap()
    }

    fn rules(secret: &str, service: &str) -> TokenRules {
        TokenRules { api_key_secret: secret.into(), service_sid: service.into(), ..TokenRules::default() }
    }

    #[test]
    fn accepts_a_good_token_and_reads_identity() {
        let t = mint("alice", "s3cret", "ISx", 600);
        assert_eq!(verify(&t, &rules("s3cret", "ISx")).unwrap().identity, "alice");
    }

    #[test]
    fn rejects_with_twilios_codes() {
        let t = mint("alice", "s3cret", "ISx", 600);
        assert_eq!(verify(&t, &rules("other", "")).unwrap_err().code, 20107);
        assert_eq!(verify(&t, &rules("s3cret", "ISy")).unwrap_err().code, 20106);
        let old = mint("alice", "s3cret", "ISx", -600);
        assert_eq!(verify(&old, &rules("s3cret", "")).unwrap_err().code, 20104);
        assert_eq!(verify("not.a.jwt", &rules("s3cret", "")).unwrap_err().code, 20101);
        let strict = TokenRules { api_key_sid: "SKother".into(), ..rules("s3cret", "ISx") };
        assert_eq!(verify(&t, &strict).unwrap_err().code, 20103);
    }
}
