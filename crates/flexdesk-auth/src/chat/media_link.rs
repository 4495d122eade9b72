//! Media links (issue 23, defect 5): `GET /v1/media/{MediaSid}?conversation=CH…&expires=…&signature=…`, signed here
//! so an agent's file stays openable for the chat's lifetime while Twilio's temporary URLs expire after minutes.
//!
//! The signature covers the conversation and the expiry (the session's, `SESSION_MAX_AGE_SECONDS`), not each media
//! SID: the desk would otherwise need a signing call per file, or a key of its own that could sign any media SID of
//! the chat, which is no narrower than this. What binds a link to one file is the check at Twilio: the media must
//! belong to the signed conversation (its MCS record's `channel_sid`), so the query opens that chat's media only,
//! and only by SIDs a participant saw. It is never the session credential: a URL ends up in logs, history and
//! screenshots, and the credential would let anyone refresh tokens and read the whole chat.
//!
//! HMAC-SHA256 with `SESSION_SECRET` under its own domain (so a media signature can never pass as a credential or
//! the other way round); `SESSION_SECRET_PREVIOUS` still verifies while rotating.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

const DOMAIN: &[u8] = b"flexdesk-media-link-v1\n";

/// Why a link was refused. The HTTP answer is the same 403 for each (no oracle); the variant goes to the logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkError {
    /// Not a media SID, not a conversation SID, an expiry that is not the issued spelling, or bad base64.
    Malformed,
    /// No secret of this server signed it.
    BadSignature,
    /// Signed here, and past its expiry.
    Expired,
}

/// The media-link keys, prepared once from the session secrets (current first). No `Debug`: they derive from them.
pub struct MediaLinkKeys {
    keys: Vec<HmacSha256>,
}

impl MediaLinkKeys {
    /// `current` signs and verifies; `previous` (SESSION_SECRET_PREVIOUS) only verifies.
    pub fn new(current: &[u8], previous: Option<&[u8]>) -> MediaLinkKeys {
        let keys = std::iter::once(current)
            .chain(previous)
            .map(|s| {
                let mut mac = HmacSha256::new_from_slice(s).expect("HMAC accepts any key length");
                mac.update(DOMAIN);
                mac
            })
            .collect();
        MediaLinkKeys { keys }
    }

    fn mac(key: &HmacSha256, conversation_sid: &str, expires: &str) -> HmacSha256 {
        let mut mac = key.clone();
        mac.update(conversation_sid.as_bytes());
        mac.update(b"\n");
        mac.update(expires.as_bytes());
        mac
    }

    /// The query of the chat's media links (`SessionCreated::media_link_query`): only URL-safe characters.
    pub fn query(&self, conversation_sid: &str, expires_at: u64) -> String {
        let exp = expires_at.to_string();
        let tag = Self::mac(&self.keys[0], conversation_sid, &exp).finalize().into_bytes();
        format!("conversation={conversation_sid}&expires={exp}&signature={}", URL_SAFE_NO_PAD.encode(tag))
    }

    /// Accepts a link for `media_sid` only if one of these secrets signed its conversation and expiry, and it has
    /// not expired at `now`. The SIDs must have Twilio's shape: they go into the media service's URL path.
    pub fn verify(&self, media_sid: &str, conversation_sid: &str, expires: &str, signature: &str, now: u64) -> Result<(), LinkError> {
        let canonical = expires.bytes().all(|b| b.is_ascii_digit()) && (expires == "0" || !expires.starts_with('0'));
        let expires_at: u64 = expires.parse().ok().filter(|_| canonical).ok_or(LinkError::Malformed)?;
        if !twilio_model::sid::is_sid(media_sid, "ME") || !twilio_model::sid::is_sid(conversation_sid, "CH") {
            return Err(LinkError::Malformed);
        }
        let tag = URL_SAFE_NO_PAD.decode(signature).map_err(|_| LinkError::Malformed)?;
        if !self.keys.iter().any(|k| Self::mac(k, conversation_sid, expires).verify_slice(&tag).is_ok()) {
            return Err(LinkError::BadSignature);
        }
        if now >= expires_at {
            return Err(LinkError::Expired);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"dev-session-secret-change-me-0123456789abcdef";

    fn ch(n: u8) -> String {
        format!("CH{:032x}", n)
    }

    fn parts(query: &str) -> (String, String, String) {
        let get = |k: &str| query.split('&').find_map(|p| p.strip_prefix(&format!("{k}="))).unwrap().to_string();
        (get("conversation"), get("expires"), get("signature"))
    }

    #[test]
    fn a_link_verifies_for_any_media_of_its_conversation_until_it_expires() {
        let keys = MediaLinkKeys::new(SECRET, None);
        let (c, e, s) = parts(&keys.query(&ch(1), 2000));
        assert_eq!(c, ch(1));
        let me = format!("ME{:032x}", 7);
        assert_eq!(keys.verify(&me, &c, &e, &s, 1999), Ok(()));
        assert_eq!(keys.verify(&me, &c, &e, &s, 2000), Err(LinkError::Expired));
    }

    #[test]
    fn refusals() {
        let keys = MediaLinkKeys::new(SECRET, None);
        let (c, e, s) = parts(&keys.query(&ch(1), 2000));
        let me = format!("ME{:032x}", 7);
        assert_eq!(keys.verify(&me, &ch(2), &e, &s, 1000), Err(LinkError::BadSignature), "another conversation");
        assert_eq!(keys.verify(&me, &c, "9999", &s, 1000), Err(LinkError::BadSignature), "a longer life");
        assert_eq!(keys.verify(&me, &c, "02000", &s, 1000), Err(LinkError::Malformed), "another spelling");
        assert_eq!(keys.verify("ME12/../x", &c, &e, &s, 1000), Err(LinkError::Malformed));
        assert_eq!(keys.verify(&me, "CH1", &e, &s, 1000), Err(LinkError::Malformed));
        assert_eq!(keys.verify(&me, &c, &e, "***", 1000), Err(LinkError::Malformed));
        assert_eq!(MediaLinkKeys::new(b"another-secret-another-secret-xx", None).verify(&me, &c, &e, &s, 1000), Err(LinkError::BadSignature));
        // A session credential's MAC is no media signature: another domain.
        let cred = crate::chat::credential::issue(SECRET, "s1", 2000, &crate::chat::credential::Context {
            identity: "i".into(), conversation_sid: ch(1), interaction_sid: None, channel_sid: None,
        });
        let cred_tag = cred.rsplit('.').next().unwrap();
        assert_eq!(keys.verify(&me, &c, &e, cred_tag, 1000), Err(LinkError::BadSignature));
    }

    #[test]
    fn the_previous_secret_still_verifies_while_rotating() {
        let old: &[u8] = b"the-old-secret-0123456789abcdef-0123456789";
        let (c, e, s) = parts(&MediaLinkKeys::new(old, None).query(&ch(1), 2000));
        let me = format!("ME{:032x}", 7);
        assert_eq!(MediaLinkKeys::new(SECRET, Some(old)).verify(&me, &c, &e, &s, 1000), Ok(()));
        assert_eq!(MediaLinkKeys::new(SECRET, None).verify(&me, &c, &e, &s, 1000), Err(LinkError::BadSignature));
    }
}
