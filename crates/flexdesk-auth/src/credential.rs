//! The session credential: `<session id>.<expires at>.<context>.<base64url HMAC-SHA256>`, signed with
//! SESSION_SECRET. `<context>` is base64url JSON naming what the session is about (the customer identity, the
//! conversation, and in the Interactions mode the interaction and channel).
//!
//! It is what makes refresh and end safe: unlike Twilio's sample server (which re-mints for any old token it can
//! verify, forever), a credential names exactly one session, dies with it, and cannot be forged without the
//! server's secret. The MAC is checked in constant time (`Mac::verify_slice`).
//!
//! Carrying the context makes the credential enough on its own: after a restart (sessions live in memory) the
//! server rebuilds the session from it, and Twilio, asked on every refresh, still says whether the chat is
//! over. So a deploy no longer cuts off every open chat at its next token refresh
//! (tests/reliability/faults.test.mjs restarts the server mid-chat).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Why a credential was refused. The HTTP answer is the same generic 401 for all of them (no oracle);
/// the variant only goes to the logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialError {
    Malformed,
    BadSignature,
    OtherSession,
    Expired,
}

/// What the session is about; short keys keep the credential short.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Context {
    #[serde(rename = "i")]
    pub identity: String,
    #[serde(rename = "c")]
    pub conversation_sid: String,
    #[serde(rename = "k", default, skip_serializing_if = "Option::is_none")]
    pub interaction_sid: Option<String>,
    #[serde(rename = "u", default, skip_serializing_if = "Option::is_none")]
    pub channel_sid: Option<String>,
}

/// Domain separation, so a MAC made for something else with the same secret can never pass as a credential.
fn mac(secret: &[u8], session_id: &str, expires_at: u64, context: &str) -> HmacSha256 {
    let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC accepts any key length");
    mac.update(b"flexdesk-session-credential-v2\n");
    mac.update(session_id.as_bytes());
    mac.update(b"\n");
    mac.update(expires_at.to_string().as_bytes());
    mac.update(b"\n");
    mac.update(context.as_bytes());
    mac
}

/// The key id of a secret: 8 base64url characters of SHA-256 over it (domain-separated). Carried in the signed
/// context as `v`, so a server that knows several secrets (`SESSION_SECRET` and `SESSION_SECRET_PREVIOUS` while
/// rotating) knows which one to check a credential with. It says nothing usable about the secret.
pub fn key_id(secret: &[u8]) -> String {
    use sha2::Digest;
    let digest = Sha256::new().chain_update(b"flexdesk-session-key-id\n").chain_update(secret).finalize();
    URL_SAFE_NO_PAD.encode(&digest[..6])
}

#[derive(Serialize)]
struct Signed<'a> {
    #[serde(flatten)]
    context: &'a Context,
    #[serde(rename = "v")]
    key_id: String,
}

#[derive(Deserialize)]
struct KeyIdOnly {
    #[serde(rename = "v")]
    key_id: Option<String>,
}

/// Issues the credential for `session_id`, valid until `expires_at` (Unix seconds), naming the key it is signed with.
pub fn issue(secret: &[u8], session_id: &str, expires_at: u64, context: &Context) -> String {
    let signed = Signed { context, key_id: key_id(secret) };
    let context = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&signed).expect("plain struct"));
    let tag = mac(secret, session_id, expires_at, &context).finalize().into_bytes();
    format!("{session_id}.{expires_at}.{context}.{}", URL_SAFE_NO_PAD.encode(tag))
}

/// [`verify`] with the secret the credential names (its key id), among `secrets` (current first, then the previous
/// one while rotating). A credential without a key id (issued before key ids) is tried with each.
pub fn verify_with_any(secrets: &[&[u8]], credential: &str, session_id: &str, now: u64) -> Result<Context, CredentialError> {
    let named = credential
        .split('.')
        .nth(2)
        .and_then(|c| URL_SAFE_NO_PAD.decode(c).ok())
        .and_then(|json| serde_json::from_slice::<KeyIdOnly>(&json).ok())
        .and_then(|k| k.key_id);
    let mut last = Err(CredentialError::BadSignature);
    for secret in secrets {
        if named.as_deref().is_some_and(|id| id != key_id(secret)) {
            continue;
        }
        last = verify(secret, credential, session_id, now);
        if last.is_ok() {
            return last;
        }
    }
    last
}

/// Accepts `credential` only if this server signed it, for `session_id`, and it has not expired at `now`;
/// returns the context it carries.
pub fn verify(secret: &[u8], credential: &str, session_id: &str, now: u64) -> Result<Context, CredentialError> {
    let mut parts = credential.splitn(4, '.');
    let (Some(id), Some(exp), Some(context), Some(tag)) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(CredentialError::Malformed);
    };
    let expires_at: u64 = exp.parse().map_err(|_| CredentialError::Malformed)?;
    // Only the issued spelling: `+5` or `05` would parse to the same number and pass the MAC, which makes
    // one credential many strings (found by fuzz/fuzz_targets/session_credential.rs).
    if exp != expires_at.to_string() {
        return Err(CredentialError::Malformed);
    }
    let tag = URL_SAFE_NO_PAD.decode(tag).map_err(|_| CredentialError::Malformed)?;
    mac(secret, id, expires_at, context).verify_slice(&tag).map_err(|_| CredentialError::BadSignature)?;
    // Only now is `id` known to be ours; binding it to the URL's session stops using one chat's credential on another.
    if id != session_id {
        return Err(CredentialError::OtherSession);
    }
    if now >= expires_at {
        return Err(CredentialError::Expired);
    }
    let json = URL_SAFE_NO_PAD.decode(context).map_err(|_| CredentialError::Malformed)?;
    serde_json::from_slice(&json).map_err(|_| CredentialError::Malformed)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"dev-session-secret-change-me-0123456789abcdef";

    fn ctx() -> Context {
        Context { identity: "customer-1".into(), conversation_sid: "CH1".into(), interaction_sid: None, channel_sid: None }
    }

    fn issue(secret: &[u8], id: &str, exp: u64) -> String {
        super::issue(secret, id, exp, &ctx())
    }

    #[test]
    fn a_rotated_secret_still_verifies_through_the_key_id() {
        let old: &[u8] = b"the-old-secret-0123456789abcdef-0123456789";
        let c = issue(old, "s1", 2000);
        assert_eq!(verify_with_any(&[SECRET, old], &c, "s1", 1000), Ok(ctx()));
        assert_eq!(verify_with_any(&[SECRET], &c, "s1", 1000), Err(CredentialError::BadSignature), "old secret retired");
        let new = issue(SECRET, "s1", 2000);
        assert_eq!(verify_with_any(&[SECRET, old], &new, "s1", 1000), Ok(ctx()));
        assert_ne!(key_id(SECRET), key_id(old));
    }

    #[test]
    fn a_fresh_credential_verifies_for_its_session() {
        let c = issue(SECRET, "s1", 2000);
        assert_eq!(verify(SECRET, &c, "s1", 1000), Ok(ctx()));
    }

    #[test]
    fn refusals() {
        let c = issue(SECRET, "s1", 2000);
        assert_eq!(verify(SECRET, &c, "s2", 1000), Err(CredentialError::OtherSession));
        assert_eq!(verify(SECRET, &c, "s1", 2000), Err(CredentialError::Expired));
        assert_eq!(verify(b"another-secret-another-secret-xx", &c, "s1", 1000), Err(CredentialError::BadSignature));
        // Extending the expiry without the secret breaks the MAC.
        let forged = c.replacen(".2000.", ".9999.", 1);
        assert_eq!(verify(SECRET, &forged, "s1", 1000), Err(CredentialError::BadSignature));
        // Another context (someone else's conversation) without the secret breaks it too.
        let other = super::issue(SECRET, "s1", 2000, &Context { conversation_sid: "CH2".into(), ..ctx() });
        let (mine, theirs) = (c.split('.').collect::<Vec<_>>(), other.split('.').collect::<Vec<_>>());
        let swapped = format!("{}.{}.{}.{}", mine[0], mine[1], theirs[2], mine[3]);
        assert_eq!(verify(SECRET, &swapped, "s1", 1000), Err(CredentialError::BadSignature));
        // Re-binding to another session without the secret breaks it too.
        let rebound = c.replacen("s1.", "s2.", 1);
        assert_eq!(verify(SECRET, &rebound, "s2", 1000), Err(CredentialError::BadSignature));
        // Another spelling of the same expiry is refused: one session, one credential string.
        for respelled in [c.replacen(".2000.", ".+2000.", 1), c.replacen(".2000.", ".02000.", 1)] {
            assert_eq!(verify(SECRET, &respelled, "s1", 1000), Err(CredentialError::Malformed), "{respelled}");
        }
        for junk in ["", "s1", "s1.2000", "s1.x.AAAA", "s1.2000.***", "s1.2000.", "s1.2000.e30.AAAA"] {
            assert!(verify(SECRET, junk, "s1", 1000).is_err(), "{junk:?}");
        }
    }
}
