//! Twilio access tokens, byte-for-byte the shape of the official helpers' `AccessToken` with a `ChatGrant`
//! (Conversations uses the `chat` grant). tests/auth/token-parity.test.mjs compares them with the npm helper.

use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use serde::{Deserialize, Serialize};

/// Header content type Twilio requires on access tokens ("Twilio Federated Platform Access").
pub const TWILIO_CTY: &str = "twilio-fpa;v=1";

/// The JWT claims of a Twilio access token
/// (<https://www.twilio.com/docs/iam/access-tokens#jwt-format>).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Claims {
    /// `<API key SID>-<iat>`, as the helpers build it.
    pub jti: String,
    /// What the token allows.
    pub grants: Grants,
    /// Issued at, Unix seconds.
    pub iat: u64,
    /// Expires at, Unix seconds.
    pub exp: u64,
    /// The API key SID that signed the token.
    pub iss: String,
    /// The account SID.
    pub sub: String,
}

/// The `grants` claim.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Grants {
    /// The Conversations identity the token acts as.
    pub identity: String,
    /// The Conversations grant (Conversations uses the `chat` grant).
    pub chat: ChatGrant,
}

/// The `chat` grant: which Conversations service the token may use.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatGrant {
    /// The Conversations service SID (`IS…`).
    pub service_sid: String,
}

/// What a token is signed with and for.
pub struct TokenKeys<'a> {
    /// The account SID (`AC…`), the token's `sub`.
    pub account_sid: &'a str,
    /// The API key SID (`SK…`), the token's `iss`.
    pub api_key_sid: &'a str,
    /// The API key's secret: the HS256 signing key.
    pub api_key_secret: &'a str,
    /// The Conversations service SID (`IS…`) the chat grant names.
    pub service_sid: &'a str,
}

/// A minted token and its expiry (Unix seconds).
#[derive(Debug, Clone)]
pub struct Minted {
    /// The signed JWT.
    pub token: String,
    /// Its `exp`, Unix seconds.
    pub expires_at: u64,
}

/// Mints a Conversations access token for `identity`, valid from `now` for `ttl_seconds`.
pub fn mint(keys: &TokenKeys<'_>, identity: &str, now: u64, ttl_seconds: u64) -> Minted {
    let claims = Claims {
        jti: format!("{}-{}", keys.api_key_sid, now),
        grants: Grants {
            identity: identity.to_string(),
            chat: ChatGrant { service_sid: keys.service_sid.to_string() },
        },
        iat: now,
        exp: now + ttl_seconds,
        iss: keys.api_key_sid.to_string(),
        sub: keys.account_sid.to_string(),
    };
    let header = Header { typ: Some("JWT".into()), cty: Some(TWILIO_CTY.into()), ..Header::new(Algorithm::HS256) };
    // HMAC signing over serialisable plain structs cannot fail.
    let token = encode(&header, &claims, &EncodingKey::from_secret(keys.api_key_secret.as_bytes()))
        .expect("HS256 signing of plain claims");
    Minted { token, expires_at: claims.exp }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{decode, decode_header, DecodingKey, Validation};

    const SECRET: &str = "fakeApiKeySecret-not-a-real-secret-0001";

    fn keys() -> TokenKeys<'static> {
        TokenKeys {
            account_sid: "AC0000000000000000000000000000f1e8",
            api_key_sid: "SK0000000000000000000000000000f1e8",
            api_key_secret: SECRET,
            service_sid: "IS0000000000000000000000000000f1e8",
        }
    }

    #[test]
    fn header_and_claims_match_twilio_access_token() {
        let m = mint(&keys(), "customer-1", 1_700_000_000, 3600);
        assert_eq!(m.expires_at, 1_700_003_600);
        let header = decode_header(&m.token).unwrap();
        assert_eq!(header.alg, Algorithm::HS256);
        assert_eq!(header.typ.as_deref(), Some("JWT"));
        assert_eq!(header.cty.as_deref(), Some(TWILIO_CTY));

        let mut v = Validation::new(Algorithm::HS256);
        v.validate_exp = false;
        let data = decode::<serde_json::Value>(&m.token, &DecodingKey::from_secret(SECRET.as_bytes()), &v).unwrap();
        assert_eq!(
            data.claims,
            serde_json::json!({
                "jti": "SK0000000000000000000000000000f1e8-1700000000",
                "grants": {"identity": "customer-1", "chat": {"service_sid": "IS0000000000000000000000000000f1e8"}},
                "iat": 1_700_000_000u64, "exp": 1_700_003_600u64,
                "iss": "SK0000000000000000000000000000f1e8", "sub": "AC0000000000000000000000000000f1e8"
            })
        );
    }

    #[test]
    fn a_token_signed_with_another_secret_does_not_verify() {
        let m = mint(&keys(), "customer-1", 1_700_000_000, 3600);
        let mut v = Validation::new(Algorithm::HS256);
        v.validate_exp = false;
        assert!(decode::<serde_json::Value>(&m.token, &DecodingKey::from_secret(b"other"), &v).is_err());
    }

    /// Minted by the official npm helper (twilio 6.2.0) with the keys above:
    /// `new AccessToken(AC, SK, SECRET, {identity: 'customer-1', ttl: 3600})` + `ChatGrant({serviceSid: IS})`.
    /// Regenerate with `node crates/flexdesk-auth/tests/fixtures/mint-helper-token.mjs`.
    const HELPER_TOKEN: &str = include_str!("../../tests/fixtures/helper-token.txt");

    #[test]
    fn a_token_from_the_official_helper_verifies_here_with_the_same_claims_shape() {
        let token = HELPER_TOKEN.trim();
        let header = decode_header(token).unwrap();
        assert_eq!((header.alg, header.typ.as_deref(), header.cty.as_deref()), (Algorithm::HS256, Some("JWT"), Some(TWILIO_CTY)));
        let mut v = Validation::new(Algorithm::HS256);
        v.validate_exp = false;
        let claims = decode::<Claims>(token, &DecodingKey::from_secret(SECRET.as_bytes()), &v).unwrap().claims;
        // Same claims as ours when minted at the helper's iat.
        let ours = decode::<Claims>(&mint(&keys(), "customer-1", claims.iat, 3600).token, &DecodingKey::from_secret(SECRET.as_bytes()), &v)
            .unwrap()
            .claims;
        assert_eq!(claims, ours);
        assert!(decode::<Claims>(token, &DecodingKey::from_secret(b"wrong"), &v).is_err());
    }
}
