//! What Twilio's verified webhooks have told this process (`TWILIO_WEBHOOKS`): which were already acted on, and
//! when the last one came (while they come, refresh trusts them instead of asking Twilio).

use std::sync::atomic::{AtomicU64, Ordering};

/// Webhooks already acted on, so that a repeat changes nothing (issue 24, item 3).
///
/// Twilio sends each webhook with an `I-Twilio-Idempotency-Token` header, the same on its retries of that request
/// (<https://www.twilio.com/docs/usage/webhooks/webhooks-connection-overrides>). The header is not signed (the
/// signature covers the URL and the form parameters only:
/// <https://www.twilio.com/docs/usage/webhooks/webhooks-security>), so whoever replays a captured webhook can drop or
/// change it; the signature itself is therefore a second key: the same signed request is the same event, whatever its
/// token. A request is new only when neither its token nor its signature was seen.
///
/// Bounded: at most [`SEEN_WEBHOOKS_CAPACITY`] keys (least recently used go first), each a SHA-256 (32 bytes), each
/// forgotten after [`SEEN_WEBHOOKS_TTL`]. Twilio's own retries come within seconds (the connection overrides page:
/// "total time" at most 15 000 ms), so a repeat after that window is a replay, and one older than the window is taken
/// as new: it can only end a conversation that is already ended, and refresh webhook health. Per process: with
/// `REDIS_URL`, a replay sent to another replica is new there.
pub struct SeenWebhooks {
    keys: moka::sync::Cache<[u8; 32], ()>,
}

/// Most webhook keys remembered (two per webhook: token and signature).
pub const SEEN_WEBHOOKS_CAPACITY: u64 = 100_000;
/// How long a webhook is remembered.
pub const SEEN_WEBHOOKS_TTL: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

impl Default for SeenWebhooks {
    fn default() -> Self {
        Self::with_capacity(SEEN_WEBHOOKS_CAPACITY)
    }
}

impl SeenWebhooks {
    /// Remembers at most `capacity` keys.
    pub fn with_capacity(capacity: u64) -> Self {
        let keys = moka::sync::Cache::builder()
            .max_capacity(capacity)
            .time_to_live(SEEN_WEBHOOKS_TTL)
            // LRU: a new key is always admitted (the default TinyLFU may turn a one-off key away).
            .eviction_policy(moka::policy::EvictionPolicy::lru())
            .build();
        SeenWebhooks { keys }
    }

    /// Notes a verified webhook's idempotency token (if any) and signature; true when it is new: neither was seen.
    /// Atomic per key, so two copies arriving together are one new and one repeat.
    pub fn first_time(&self, token: Option<&str>, signature: &[u8]) -> bool {
        use sha2::{Digest, Sha256};
        let key = |kind: &[u8], value: &[u8]| -> [u8; 32] { Sha256::new().chain_update(kind).chain_update(value).finalize().into() };
        let signature_new = self.keys.entry(key(b"signature:", signature)).or_insert(()).is_fresh();
        let token_new = token.is_none_or(|t| self.keys.entry(key(b"token:", t.as_bytes())).or_insert(()).is_fresh());
        signature_new && token_new
    }

    /// How many keys are held (after pending evictions run).
    pub fn len(&self) -> u64 {
        self.keys.run_pending_tasks();
        self.keys.entry_count()
    }

    /// Whether no key is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// When the last webhook that verified arrived (Unix seconds; 0 = never).
#[derive(Default)]
pub struct WebhookHealth {
    last_verified: AtomicU64,
}

impl WebhookHealth {
    /// Notes a webhook that verified at `now` (Unix seconds); an older time never replaces a newer one.
    pub fn record(&self, now: u64) {
        self.last_verified.fetch_max(now, Ordering::Relaxed);
    }

    /// Webhooks are on (`fresh` is `Some`) and one verified within `fresh`: refresh may trust the ended-record.
    pub fn healthy(&self, fresh: Option<std::time::Duration>, now: u64) -> bool {
        let last = self.last_verified.load(Ordering::Relaxed);
        fresh.is_some_and(|fresh| last != 0 && now.saturating_sub(last) <= fresh.as_secs())
    }

    /// When the last webhook that verified arrived, in Unix seconds; 0 = never since this process started.
    pub fn last_verified(&self) -> u64 {
        self.last_verified.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 24, item 3: a repeat is known by its token or by its signature, and memory stays bounded.
    #[test]
    fn a_webhook_is_new_once_and_memory_is_bounded() {
        let seen = SeenWebhooks::with_capacity(1000);
        assert!(seen.first_time(Some("t1"), b"sig-1"));
        assert!(!seen.first_time(Some("t1"), b"sig-1"), "Twilio's retry");
        assert!(!seen.first_time(Some("t1"), b"sig-1-retry-count-2"), "the same token over another body");
        assert!(!seen.first_time(None, b"sig-1"), "the capture without its token");
        assert!(!seen.first_time(Some("t-made-up"), b"sig-1"), "the capture under another token");
        assert!(seen.first_time(Some("t2"), b"sig-2"));
        assert!(seen.first_time(None, b"sig-3"));
        for i in 0..5000u32 {
            seen.first_time(Some(&format!("token-{i}")), format!("sig-{i}").as_bytes());
        }
        assert!(seen.len() <= 1000, "{} keys held", seen.len());
        assert!(seen.first_time(Some("t-late"), b"sig-late"), "a new key is always admitted when full");
    }

    #[test]
    fn health_needs_a_recent_verified_webhook() {
        let h = WebhookHealth::default();
        assert!(!h.healthy(Some(std::time::Duration::from_secs(600)), 1_000), "never received");
        h.record(1_000);
        assert!(h.healthy(Some(std::time::Duration::from_secs(600)), 1_600));
        assert!(!h.healthy(Some(std::time::Duration::from_secs(600)), 1_601), "stale");
        assert!(!h.healthy(None, 1_000), "off");
    }
}
