//! The session credential: `<session id>.<expires at>.<base64url HMAC-SHA256>`, signed with SESSION_SECRET.
//!
//! It is what makes refresh and end safe: unlike Twilio's sample server (which re-mints for any old token it can
//! verify, forever), a credential names exactly one session, dies with it, and cannot be forged without the
//! server's secret. The MAC is checked in constant time (`Mac::verify_slice`).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
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

/// Domain separation, so a MAC made for something else with the same secret can never pass as a credential.
fn mac(secret: &[u8], session_id: &str, expires_at: u64) -> HmacSha256 {
    let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC accepts any key length");
    mac.update(b"flexdesk-session-credential-v1\n");
    mac.update(session_id.as_bytes());
    mac.update(b"\n");
    mac.update(expires_at.to_string().as_bytes());
    mac
}

/// Issues the credential for `session_id`, valid until `expires_at` (Unix seconds).
pub fn issue(secret: &[u8], session_id: &str, expires_at: u64) -> String {
    let tag = mac(secret, session_id, expires_at).finalize().into_bytes();
    format!("{session_id}.{expires_at}.{}", URL_SAFE_NO_PAD.encode(tag))
}

/// Accepts `credential` only if this server signed it, for `session_id`, and it has not expired at `now`.
pub fn verify(secret: &[u8], credential: &str, session_id: &str, now: u64) -> Result<(), CredentialError> {
    let mut parts = credential.splitn(3, '.');
    let (Some(id), Some(exp), Some(tag)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(CredentialError::Malformed);
    };
    let expires_at: u64 = exp.parse().map_err(|_| CredentialError::Malformed)?;
    // Only the issued spelling: `+5` or `05` would parse to the same number and pass the MAC, which makes
    // one credential many strings (found by fuzz/fuzz_targets/session_credential.rs).
    if exp != expires_at.to_string() {
        return Err(CredentialError::Malformed);
    }
    let tag = URL_SAFE_NO_PAD.decode(tag).map_err(|_| CredentialError::Malformed)?;
    mac(secret, id, expires_at).verify_slice(&tag).map_err(|_| CredentialError::BadSignature)?;
    // Only now is `id` known to be ours; binding it to the URL's session stops using one chat's credential on another.
    if id != session_id {
        return Err(CredentialError::OtherSession);
    }
    if now >= expires_at {
        return Err(CredentialError::Expired);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"dev-session-secret-change-me-0123456789abcdef";

    #[test]
    fn a_fresh_credential_verifies_for_its_session() {
        let c = issue(SECRET, "s1", 2000);
        assert_eq!(verify(SECRET, &c, "s1", 1000), Ok(()));
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
        // Re-binding to another session without the secret breaks it too.
        let rebound = c.replacen("s1.", "s2.", 1);
        assert_eq!(verify(SECRET, &rebound, "s2", 1000), Err(CredentialError::BadSignature));
        // Another spelling of the same expiry is refused: one session, one credential string.
        for respelled in [c.replacen(".2000.", ".+2000.", 1), c.replacen(".2000.", ".02000.", 1)] {
            assert_eq!(verify(SECRET, &respelled, "s1", 1000), Err(CredentialError::Malformed), "{respelled}");
        }
        for junk in ["", "s1", "s1.2000", "s1.x.AAAA", "s1.2000.***", "s1.2000."] {
            assert!(verify(SECRET, junk, "s1", 1000).is_err(), "{junk:?}");
        }
    }
}
