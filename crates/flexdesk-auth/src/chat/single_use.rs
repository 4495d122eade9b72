//! Tokens that count once, by their `jti` (issue 24, item 9: the bot's signed hand-off; a replay within its lifetime
//! routes nothing). With `REDIS_URL` the claim is shared by every replica (`SET NX EX`); without it, or while Redis
//! does not answer, this process remembers (per replica then).
//!
//! Memory is bounded: at most [`SINGLE_USE_CAPACITY`] keys (a SHA-256 each; least recently used go first), each kept
//! as long as the longest token it can stand for lives. Starts are paced at Twilio's few per second, so the bound is
//! far above what a lifetime can hold; past it, the oldest `jti`s would be forgotten first.
//!
//! A claim is given back when the start it was for fails (a 429, a 503 `twilio_busy`, Twilio down): the desk retries
//! with the same hand-off, and that retry must still route.

use std::sync::Arc;
use std::time::Duration;

use crate::infra::redis::Redis;

/// Most `jti`s remembered per process.
pub const SINGLE_USE_CAPACITY: u64 = 100_000;

/// The single-use tokens of a server: each kind has its own ids and lifetime.
pub struct UsedTokens {
    /// The bot's signed hand-offs (always single use).
    pub handoffs: SingleUse,
    /// Identity tokens, with `IDENTITY_SINGLE_USE`.
    pub identities: SingleUse,
    /// Rated chats, by session id: a rating is accepted once (issue 28).
    pub ratings: SingleUse,
    /// Erased chats, by session id: an erasure is done once (issue 28, `ERASE_ON_REQUEST`).
    pub erasures: SingleUse,
}

/// The `jti`s already used, of one kind of token.
pub struct SingleUse {
    kind: &'static str,
    memory: moka::sync::Cache<[u8; 32], ()>,
    redis: Option<Arc<Redis>>,
    ttl: Duration,
}

/// A `jti` taken by a start in progress: [`Claim::keep`] once the start went through; dropped without that, it is
/// given back.
pub struct Claim<'a> {
    store: &'a SingleUse,
    key: [u8; 32],
    kept: bool,
}

impl Claim<'_> {
    /// The token did its work: it stays used.
    pub fn keep(mut self) {
        self.kept = true;
    }
}

impl Drop for Claim<'_> {
    fn drop(&mut self) {
        if self.kept {
            return;
        }
        self.store.memory.invalidate(&self.key);
        if let (Some(redis), Ok(rt)) = (self.store.redis.clone(), tokio::runtime::Handle::try_current()) {
            let key = self.store.redis_key(&self.key);
            rt.spawn(async move { redis.forget(&key).await });
        }
    }
}

impl SingleUse {
    /// `jti`s of tokens of `kind` that live at most `ttl`, shared through `redis` when given.
    pub fn new(kind: &'static str, ttl: Duration, redis: Option<Arc<Redis>>) -> SingleUse {
        let memory = moka::sync::Cache::builder()
            .max_capacity(SINGLE_USE_CAPACITY)
            .time_to_live(ttl)
            // LRU: a new key is always admitted (the default TinyLFU may turn a one-off key away).
            .eviction_policy(moka::policy::EvictionPolicy::lru())
            .build();
        SingleUse { kind, memory, redis, ttl }
    }

    fn redis_key(&self, key: &[u8; 32]) -> String {
        let hex: String = key.iter().map(|b| format!("{b:02x}")).collect();
        format!("jti:{}:{hex}", self.kind)
    }

    /// Takes `jti` if no start used it yet (here, or on any replica through Redis); `None`: a replay.
    pub async fn claim(&self, jti: &str) -> Option<Claim<'_>> {
        use sha2::{Digest, Sha256};
        let key: [u8; 32] = Sha256::new().chain_update(self.kind).chain_update(b":").chain_update(jti).finalize().into();
        let shared = match &self.redis {
            Some(redis) => redis.first_use(&self.redis_key(&key), self.ttl).await,
            None => None,
        };
        // Remembered here too, so a replay while Redis is away is still caught by this replica.
        let here = self.memory.entry(key).or_insert(()).is_fresh();
        shared.unwrap_or(here).then_some(Claim { store: self, key, kept: false })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::infra::redis::test_replica as replica;
    use crate::infra::test_redis::redis_server;

    #[tokio::test]
    async fn a_jti_counts_once_and_a_failed_start_gives_it_back() {
        let used = SingleUse::new("handoff", Duration::from_secs(600), None);
        let first = used.claim("j1").await.expect("new");
        assert!(used.claim("j1").await.is_none(), "replayed while the start runs");
        drop(first);
        let again = used.claim("j1").await.expect("the failed start gave it back");
        again.keep();
        assert!(used.claim("j1").await.is_none(), "used for good");
        assert!(used.claim("j2").await.is_some(), "another jti");
    }

    #[tokio::test]
    async fn with_redis_a_jti_used_on_one_replica_is_used_on_every_replica() {
        let Some(server) = redis_server().await else { return };
        let (ra, rb) = (replica(server.1, "jti:").await, replica(server.1, "jti:").await);
        let (a, b) = (SingleUse::new("handoff", Duration::from_secs(600), Some(ra)), SingleUse::new("handoff", Duration::from_secs(600), Some(rb)));
        a.claim("j1").await.expect("new").keep();
        assert!(b.claim("j1").await.is_none(), "replayed on the other replica");
        drop(b.claim("j2").await.expect("new"));
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(a.claim("j2").await.is_some(), "given back on every replica");
    }
}
