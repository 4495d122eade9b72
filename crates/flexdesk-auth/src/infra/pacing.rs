//! Pacing of our calls to Twilio endpoints that have a published per-account rate limit, so a flash crowd of
//! customers queues here instead of failing at Twilio with 429 / error 45780.
//!
//! Published limits (Flex docs, "Conversations limits", <https://www.twilio.com/docs/flex/developer/conversations/limits>
//! — the figures in docs/auth-server.md): the Webchat orchestrator `POST /v2/WebChats` 5 requests/s per account; the
//! Interactions API 20 requests/s per endpoint per account; creating conversations 30/s per service. Each lane is a
//! GCRA limiter (the `governor` crate) with a burst of one, so calls leave evenly spaced and never bunch up. The
//! spacing has 5 % headroom (1.05/rate s): network jitter can bring two calls closer on arrival than they left, and
//! without headroom a 1-second window at Twilio could then hold rate + 1 of them.
//!
//! The wait is bounded: a caller that would wait longer than `max_wait` is refused at once with [`Busy`] (answered
//! as 503 with `Retry-After`), instead of hanging until its own request times out.
//!
//! Twilio's limits are per account, so with several replicas (`REDIS_URL`) each lane's next free slot lives in
//! Redis ([`crate::infra::redis::Redis::pace`]): the replicas together keep the rate, with the same spacing and the
//! same bounded wait. When Redis is unreachable each replica paces on its own (Twilio may then answer 429, which
//! is retried) until it is back.

use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};

use crate::infra::redis::{Paced, Redis};

/// A rate-limited Twilio endpoint we call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lane {
    /// `POST /v2/WebChats`.
    WebChats,
    /// `POST /v1/Interactions`.
    Interactions,
    /// `POST /v1/Interactions/{KD}/Channels/{UO}` (a separate endpoint, with its own 20/s).
    InteractionChannels,
    /// `POST /v1/Services/{IS}/Conversations`.
    ConversationsCreate,
}

/// Per-second rates, one per lane (0 = not paced).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rates {
    /// `POST /v2/WebChats` calls per second (`TWILIO_WEBCHATS_RATE`, default 5).
    pub webchats: u32,
    /// Calls per second to each Interactions endpoint (`TWILIO_INTERACTIONS_RATE`, default 20).
    pub interactions: u32,
    /// Conversation creations per second (`TWILIO_CONVERSATIONS_CREATE_RATE`, default 30).
    pub conversations_create: u32,
}

impl Rates {
    /// Twilio's published figures.
    pub const PUBLISHED: Rates = Rates { webchats: 5, interactions: 20, conversations_create: 30 };
}

/// Twilio's rate would be exceeded for longer than we are willing to wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Busy {
    /// Seconds after which a slot is expected to be free (for `Retry-After`).
    pub retry_after_secs: u64,
}

struct Gate {
    lane: &'static str,
    limiter: DefaultDirectRateLimiter,
    per_second: u32,
    /// Callers waiting for this lane now (to refuse at once when the queue is already too long).
    waiting: AtomicU64,
}

/// The lanes of this process (one GCRA limiter per [`Lane`]), optionally shared with the other replicas.
pub(crate) struct Pacer {
    webchats: Option<Gate>,
    interactions: Option<Gate>,
    interaction_channels: Option<Gate>,
    conversations_create: Option<Gate>,
    max_wait: Duration,
    redis: Option<Arc<Redis>>,
}

impl Pacer {
    /// Lanes at `rates`; a caller is refused with [`Busy`] rather than wait longer than `max_wait`.
    pub fn new(rates: Rates, max_wait: Duration) -> Pacer {
        Pacer {
            webchats: gate("webchats", rates.webchats),
            interactions: gate("interactions", rates.interactions),
            interaction_channels: gate("interaction-channels", rates.interactions),
            conversations_create: gate("conversations-create", rates.conversations_create),
            max_wait,
            redis: None,
        }
    }

    /// Paces across replicas through Redis (falls back to this process's own lanes while Redis is unreachable).
    pub fn with_redis(mut self, redis: Option<Arc<Redis>>) -> Pacer {
        self.redis = redis;
        self
    }

    /// Waits for the lane's next free slot, or answers [`Busy`] when that is further away than `max_wait`.
    pub async fn wait(&self, lane: Lane) -> Result<(), Busy> {
        let gate = match lane {
            Lane::WebChats => &self.webchats,
            Lane::Interactions => &self.interactions,
            Lane::InteractionChannels => &self.interaction_channels,
            Lane::ConversationsCreate => &self.conversations_create,
        };
        let Some(gate) = gate else { return Ok(()) };
        if let Some(redis) = &self.redis {
            match redis.pace(gate.lane, spacing(gate.per_second), self.max_wait).await {
                Some(Paced::After(wait)) => {
                    tokio::time::sleep(wait).await;
                    return Ok(());
                }
                Some(Paced::Busy { retry_after_secs }) => return Err(Busy { retry_after_secs }),
                None => {}
            }
        }
        let ahead = gate.waiting.fetch_add(1, Ordering::SeqCst);
        let _leave = Leave(&gate.waiting);
        let rate = u64::from(gate.per_second);
        // Slots are handed out one per 1/rate s: with `ahead` callers queued, ours is ~ahead/rate s away.
        let busy = Busy { retry_after_secs: ahead.div_ceil(rate).max(1) };
        if Duration::from_millis(ahead.saturating_mul(1000) / rate) > self.max_wait {
            return Err(busy);
        }
        tokio::time::timeout(self.max_wait, gate.limiter.until_ready()).await.map_err(|_| busy)
    }
}

/// The time between two calls of a lane: 1/rate s plus 5 % headroom.
fn spacing(per_second: u32) -> Duration {
    Duration::from_millis(1050) / per_second.max(1)
}

fn gate(lane: &'static str, per_second: u32) -> Option<Gate> {
    let rate = NonZeroU32::new(per_second)?;
    let quota = Quota::with_period(spacing(rate.get()))?.allow_burst(NonZeroU32::MIN);
    Some(Gate { lane, limiter: RateLimiter::direct(quota), per_second: rate.get(), waiting: AtomicU64::new(0) })
}

struct Leave<'a>(&'a AtomicU64);

impl Drop for Leave<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[tokio::test]
    async fn calls_leave_evenly_spaced_at_the_rate() {
        let pacer = Pacer::new(Rates { webchats: 20, ..Rates::PUBLISHED }, Duration::from_secs(5));
        let start = Instant::now();
        for _ in 0..11 {
            pacer.wait(Lane::WebChats).await.unwrap();
        }
        // The first passes at once, the next ten one per 50 ms.
        let took = start.elapsed();
        assert!(took >= Duration::from_millis(480), "{took:?}");
    }

    #[tokio::test]
    async fn a_queue_longer_than_the_wait_is_refused_at_once_with_a_retry_hint() {
        let pacer = Arc::new(Pacer::new(Rates { webchats: 5, ..Rates::PUBLISHED }, Duration::from_secs(1)));
        let waiters: Vec<_> = (0..12)
            .map(|_| {
                let p = pacer.clone();
                tokio::spawn(async move { p.wait(Lane::WebChats).await })
            })
            .collect();
        let mut outcomes = Vec::new();
        for w in waiters {
            outcomes.push(w.await.unwrap());
        }
        let served = outcomes.iter().filter(|o| o.is_ok()).count();
        // 1 s at 5/s: the first at once plus 5 more; everyone else is told when to come back.
        assert!((5..=7).contains(&served), "served {served}: {outcomes:?}");
        assert!(outcomes.iter().filter_map(|o| o.err()).all(|b| b.retry_after_secs >= 1));
    }

    #[tokio::test]
    async fn a_rate_of_zero_is_not_paced() {
        let pacer = Pacer::new(Rates { webchats: 0, ..Rates::PUBLISHED }, Duration::ZERO);
        for _ in 0..100 {
            pacer.wait(Lane::WebChats).await.unwrap();
        }
    }
}
