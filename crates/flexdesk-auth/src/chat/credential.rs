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
    /// Not four dot-separated fields, an expiry that is not the issued spelling of a number, bad base64 or JSON.
    Malformed,
    /// No secret of this server made its MAC (or the key it names is not one of them).
    BadSignature,
    /// Signed here, but for another session than the URL's.
    OtherSession,
    /// Signed here for this session, and past its expiry.
    Expired,
}

/// What the session is about; short keys keep the credential short.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Context {
    /// The customer's Conversations identity.
    #[serde(rename = "i")]
    pub identity: String,
    /// The conversation of the chat (`CH…`).
    #[serde(rename = "c")]
    pub conversation_sid: String,
    /// The Flex interaction (`KD…`), in the Interactions mode.
    #[serde(rename = "k", default, skip_serializing_if = "Option::is_none")]
    pub interaction_sid: Option<String>,
    /// The interaction's channel (`UO…`), in the Interactions mode.
    #[serde(rename = "u", default, skip_serializing_if = "Option::is_none")]
    pub channel_sid: Option<String>,
}

/// Domain separation, so a MAC made for something else with the same secret can never pass as a credential.
const DOMAIN: &[u8] = b"flexdesk-session-credential-v2\n";

/// The HMAC keyed with `secret` and the domain already absorbed: HMAC hashes its key padded to a block twice
/// before the message, so keeping this state saves two SHA-256 blocks on every credential checked.
fn keyed(secret: &[u8]) -> HmacSha256 {
    let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC accepts any key length");
    mac.update(DOMAIN);
    mac
}

/// `expires_at` goes in as the credential spells it (`exp`), which the caller has checked is the canonical
/// spelling, so verifying needs no formatting.
fn mac(keyed: &HmacSha256, session_id: &str, exp: &str, context: &str) -> HmacSha256 {
    let mut mac = keyed.clone();
    mac.update(session_id.as_bytes());
    mac.update(b"\n");
    mac.update(exp.as_bytes());
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
    key_id: &'a str,
}

/// The signed context as it is read back: [`Context`]'s fields and the key id, in one parse.
#[derive(Deserialize)]
struct SignedOwned {
    #[serde(rename = "i")]
    identity: String,
    #[serde(rename = "c")]
    conversation_sid: String,
    #[serde(rename = "k", default)]
    interaction_sid: Option<String>,
    #[serde(rename = "u", default)]
    channel_sid: Option<String>,
    #[serde(rename = "v", default)]
    key_id: Option<String>,
}

/// A credential that verified: what it carries, and its expiry (Unix seconds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// What the session is about.
    pub context: Context,
    /// When the credential (and its session) expires, Unix seconds.
    pub expires_at: u64,
}

struct SessionKey {
    id: String,
    mac: HmacSha256,
}

/// The session secrets, prepared once when the server starts (key ids and keyed HMAC states), so that checking
/// a credential hashes only the credential. The current secret first, then the previous one while rotating.
/// No `Debug`: the keyed states derive from the secrets.
pub struct SessionKeys {
    keys: Vec<SessionKey>,
}

impl SessionKeys {
    /// `current` signs and verifies; `previous` (SESSION_SECRET_PREVIOUS) only verifies.
    pub fn new(current: &[u8], previous: Option<&[u8]>) -> SessionKeys {
        let keys = std::iter::once(current).chain(previous).map(|s| SessionKey { id: key_id(s), mac: keyed(s) }).collect();
        SessionKeys { keys }
    }

    /// Issues the credential for `session_id`, valid until `expires_at` (Unix seconds), signed with the current
    /// secret and naming it.
    pub fn issue(&self, session_id: &str, expires_at: u64, context: &Context) -> String {
        let key = &self.keys[0];
        let signed = Signed { context, key_id: &key.id };
        let context = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&signed).expect("plain struct"));
        let exp = expires_at.to_string();
        let tag = mac(&key.mac, session_id, &exp, &context).finalize().into_bytes();
        format!("{session_id}.{exp}.{context}.{}", URL_SAFE_NO_PAD.encode(tag))
    }

    /// Accepts `credential` only if one of these secrets signed it (the one its key id names; a credential
    /// without one, issued before key ids, is tried with each), for `session_id`, and it has not expired at `now`.
    /// The checks, in order: shape (`Malformed`), MAC (`BadSignature`), session (`OtherSession`), expiry
    /// (`Expired`), then the context itself (`Malformed`). The context is decoded and parsed once, before the
    /// MAC only to read the key id; nothing in it is trusted until the MAC holds.
    pub fn verify(&self, credential: &str, session_id: &str, now: u64) -> Result<Verified, CredentialError> {
        let mut parts = credential.splitn(4, '.');
        let (Some(id), Some(exp), Some(context), Some(tag)) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
            return Err(CredentialError::Malformed);
        };
        let expires_at: u64 = exp.parse().map_err(|_| CredentialError::Malformed)?;
        // Only the issued spelling: `+5` or `05` would parse to the same number and pass the MAC, which makes
        // one credential many strings (found by fuzz/fuzz_targets/session_credential.rs).
        if !is_canonical(exp) {
            return Err(CredentialError::Malformed);
        }
        let tag = URL_SAFE_NO_PAD.decode(tag).map_err(|_| CredentialError::Malformed)?;
        let signed = URL_SAFE_NO_PAD.decode(context).ok().and_then(|json| serde_json::from_slice::<SignedOwned>(&json).ok());
        let named = signed.as_ref().and_then(|s| s.key_id.as_deref());
        let mut candidates = self.keys.iter().filter(|k| named.map_or(true, |named| named == k.id));
        if !candidates.any(|k| mac(&k.mac, id, exp, context).verify_slice(&tag).is_ok()) {
            return Err(CredentialError::BadSignature);
        }
        // Only now is `id` known to be ours; binding it to the URL's session stops using one chat's credential on another.
        if id != session_id {
            return Err(CredentialError::OtherSession);
        }
        if now >= expires_at {
            return Err(CredentialError::Expired);
        }
        let s = signed.ok_or(CredentialError::Malformed)?;
        // The SIDs go into Twilio URL paths (refresh, end, queue): only Twilio's shape, two letters and 32 hex digits
        // (twilio_model::sid), so even a credential forged with a leaked secret cannot add path segments or a query
        // (issue 24, item 8). Twilio's own patterns (twilio-oai): `^CH[0-9a-fA-F]{32}$` (conversations v1),
        // `^KD[0-9a-fA-F]{32}$` and `^UO[0-9a-fA-F]{32}$` (flex v1 interactions and their channels).
        let shaped = |sid: &Option<String>, prefix: &str| sid.as_deref().is_none_or(|sid| twilio_model::sid::is_sid(sid, prefix));
        if !twilio_model::sid::is_sid(&s.conversation_sid, "CH") || !shaped(&s.interaction_sid, "KD") || !shaped(&s.channel_sid, "UO") {
            return Err(CredentialError::Malformed);
        }
        let context = Context { identity: s.identity, conversation_sid: s.conversation_sid, interaction_sid: s.interaction_sid, channel_sid: s.channel_sid };
        Ok(Verified { context, expires_at })
    }
}

/// What `u64::to_string` writes: digits only, no sign, no leading zero (the caller has parsed it as a u64).
fn is_canonical(exp: &str) -> bool {
    exp.bytes().all(|b| b.is_ascii_digit()) && (exp == "0" || !exp.starts_with('0'))
}

/// Issues the credential for `session_id`, valid until `expires_at` (Unix seconds), naming the key it is signed with.
/// (The server signs through its [`SessionKeys`]; this builds them for one call.)
pub fn issue(secret: &[u8], session_id: &str, expires_at: u64, context: &Context) -> String {
    SessionKeys::new(secret, None).issue(session_id, expires_at, context)
}

/// [`SessionKeys::verify`] with `secrets` (current first, then the previous one while rotating), built for one call.
pub fn verify_with_any(secrets: &[&[u8]], credential: &str, session_id: &str, now: u64) -> Result<Context, CredentialError> {
    let Some((current, rest)) = secrets.split_first() else { return Err(CredentialError::BadSignature) };
    let mut keys = SessionKeys::new(current, None);
    keys.keys.extend(rest.iter().map(|s| SessionKey { id: key_id(s), mac: keyed(s) }));
    keys.verify(credential, session_id, now).map(|v| v.context)
}

/// Accepts `credential` only if this server signed it, for `session_id`, and it has not expired at `now`;
/// returns the context it carries.
pub fn verify(secret: &[u8], credential: &str, session_id: &str, now: u64) -> Result<Context, CredentialError> {
    SessionKeys::new(secret, None).verify(credential, session_id, now).map(|v| v.context)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"dev-session-secret-change-me-0123456789abcdef";

    fn ctx() -> Context {
        Context { identity: "customer-1".into(), conversation_sid: format!("CH{}", "1".repeat(32)), interaction_sid: None, channel_sid: None }
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
    fn the_prepared_keys_issue_and_verify_as_the_one_call_functions_do() {
        let old: &[u8] = b"the-old-secret-0123456789abcdef-0123456789";
        let keys = SessionKeys::new(SECRET, Some(old));
        let c = keys.issue("s1", 2000, &ctx());
        assert_eq!(c, issue(SECRET, "s1", 2000));
        assert_eq!(keys.verify(&c, "s1", 1000), Ok(Verified { context: ctx(), expires_at: 2000 }));
        assert_eq!(keys.verify(&issue(old, "s1", 2000), "s1", 1000).map(|v| v.context), Ok(ctx()), "previous secret");
        assert_eq!(SessionKeys::new(SECRET, None).verify(&issue(old, "s1", 2000), "s1", 1000), Err(CredentialError::BadSignature));
        // A credential naming another key is not checked with these at all; one naming none is tried with each.
        let unnamed = {
            let json = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&ctx()).unwrap());
            let tag = mac(&keyed(old), "s1", "2000", &json).finalize().into_bytes();
            format!("s1.2000.{json}.{}", URL_SAFE_NO_PAD.encode(tag))
        };
        assert_eq!(keys.verify(&unnamed, "s1", 1000).map(|v| v.context), Ok(ctx()));
        assert_eq!(SessionKeys::new(b"another-secret-another-secret-xx", None).verify(&c, "s1", 1000), Err(CredentialError::BadSignature));
        assert_eq!(keys.verify(&c, "s2", 1000), Err(CredentialError::OtherSession));
        assert_eq!(keys.verify(&c, "s1", 2000), Err(CredentialError::Expired));
    }

    #[test]
    fn only_the_canonical_spelling_of_the_expiry() {
        for ok in ["0", "7", "10", "18446744073709551615"] {
            assert!(is_canonical(ok), "{ok}");
        }
        for bad in ["00", "07", "+7", "-0", " 7", "7 "] {
            assert!(!is_canonical(bad), "{bad}");
        }
        let c = issue(SECRET, "s1", 0);
        assert_eq!(verify(SECRET, &c, "s1", 0), Err(CredentialError::Expired), "0 is spelled 0 and verifies as such");
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
        let other = super::issue(SECRET, "s1", 2000, &Context { conversation_sid: format!("CH{}", "2".repeat(32)), ..ctx() });
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
