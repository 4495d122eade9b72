//! Twilio's published rate limits for the Flex endpoints flexdesk calls
//! (<https://www.twilio.com/docs/flex/developer/conversations/limits>): the Webchat orchestrator `POST /v2/WebChats`
//! 5 requests per second per account, the Interactions API 20 requests per second per endpoint per account; over it
//! HTTP 429 with error 45780 (<https://www.twilio.com/docs/api/errors/45780>).
//!
//! Twilio publishes the rate only. The bucket shape is the emulator's reading: one token bucket per endpoint, its
//! capacity the per-second rate, refilled continuously at that rate (governor's GCRA, below). Such a bucket admits at most `rate` requests
//! at once and `rate` per second sustained, but up to `2·rate − 1` in a 1-second sliding window right after an idle
//! spell; the statistics report both the refusals and the busiest 1-second window so a test can pick its bound.

use std::collections::VecDeque;
use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock, Reference};
use governor::middleware::NoOpMiddleware;
use governor::nanos::Nanos;
use governor::state::{InMemoryState, NotKeyed};
use governor::Quota;
use serde_json::{json, Value};

use crate::twilio_error::TwilioError;

/// One endpoint's limiter: governor's GCRA with `Quota::per_second(rate)` is exactly that bucket (burst `rate`, one
/// request back every `1/rate` s).
type Gcra<C> = governor::RateLimiter<NotKeyed, InMemoryState, C, NoOpMiddleware<<C as Clock>::Instant>>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// `POST /v2/WebChats`
    WebChats,
    /// `POST /v1/Interactions`
    Interactions,
    /// `POST /v1/Interactions/{KD}/Channels/{UO}`
    InteractionChannel,
}

impl Endpoint {
    pub const ALL: [Endpoint; 3] = [Endpoint::WebChats, Endpoint::Interactions, Endpoint::InteractionChannel];
    pub fn name(self) -> &'static str {
        match self {
            Endpoint::WebChats => "POST /v2/WebChats",
            Endpoint::Interactions => "POST /v1/Interactions",
            Endpoint::InteractionChannel => "POST /v1/Interactions/{InteractionSid}/Channels/{Sid}",
        }
    }
    fn key(self) -> &'static str {
        match self {
            Endpoint::WebChats => "webchats",
            Endpoint::Interactions => "interactions",
            Endpoint::InteractionChannel => "interactionChannels",
        }
    }
}

struct Bucket<C: Clock> {
    /// Requests per second; 0 = no limit (and no limiter).
    rate: u32,
    limiter: Option<Gcra<C>>,
    accepted: u64,
    rejected: u64,
    /// Accepted requests in the last second, and the most seen in any 1-second window.
    window: VecDeque<C::Instant>,
    max_per_second: usize,
}

impl<C: Clock + Clone> Bucket<C> {
    fn new(rate: u32, clock: &C) -> Self {
        let mut b = Bucket { rate, limiter: None, accepted: 0, rejected: 0, window: VecDeque::new(), max_per_second: 0 };
        b.set_rate(rate, clock);
        b
    }

    /// A new rate starts with a full bucket.
    fn set_rate(&mut self, rate: u32, clock: &C) {
        self.rate = rate;
        self.limiter = NonZeroU32::new(rate).map(|r| governor::RateLimiter::direct_with_clock(Quota::per_second(r), clock.clone()));
    }
}

/// The rate-limited endpoints' buckets, on `C`'s clock (the real one; tests pass a fake one to step time).
pub struct RateLimiter<C: Clock = DefaultClock> {
    clock: C,
    buckets: [Bucket<C>; 3],
}

fn index(e: Endpoint) -> usize {
    match e {
        Endpoint::WebChats => 0,
        Endpoint::Interactions => 1,
        Endpoint::InteractionChannel => 2,
    }
}

impl RateLimiter {
    /// `webchats` for `/v2/WebChats`, `interactions` for each Interactions endpoint; 0 turns a limit off.
    pub fn new(webchats: u32, interactions: u32) -> Self {
        Self::with_clock(webchats, interactions, DefaultClock::default())
    }
}

impl<C: Clock + Clone> RateLimiter<C> {
    pub fn with_clock(webchats: u32, interactions: u32, clock: C) -> Self {
        let buckets = [Bucket::new(webchats, &clock), Bucket::new(interactions, &clock), Bucket::new(interactions, &clock)];
        RateLimiter { clock, buckets }
    }

    /// New rates (full buckets, statistics kept).
    pub fn set_rates(&mut self, webchats: Option<u32>, interactions: Option<u32>) {
        if let Some(r) = webchats {
            self.buckets[0].set_rate(r, &self.clock);
        }
        if let Some(r) = interactions {
            self.buckets[1].set_rate(r, &self.clock);
            self.buckets[2].set_rate(r, &self.clock);
        }
    }

    pub fn reset_stats(&mut self) {
        for b in &mut self.buckets {
            b.accepted = 0;
            b.rejected = 0;
            b.window.clear();
            b.max_per_second = 0;
        }
    }

    pub fn admit(&mut self, endpoint: Endpoint) -> Result<(), TwilioError> {
        let now = self.clock.now();
        let b = &mut self.buckets[index(endpoint)];
        if let Some(limiter) = &b.limiter {
            if let Err(not_until) = limiter.check() {
                b.rejected += 1;
                // Retry-After in whole seconds, at least 1.
                let wait = not_until.wait_time_from(now).as_secs_f64().ceil().max(1.0) as u64;
                return Err(TwilioError::rate_limited(endpoint.name(), b.rate, wait));
            }
        }
        b.accepted += 1;
        let second = Nanos::from(Duration::from_secs(1));
        while b.window.front().is_some_and(|t| now.duration_since(*t) >= second) {
            b.window.pop_front();
        }
        b.window.push_back(now);
        b.max_per_second = b.max_per_second.max(b.window.len());
        Ok(())
    }

    /// `GET /admin/rates`: per endpoint its rate, accepted and rejected counts, and the busiest 1-second window.
    pub fn snapshot(&self) -> Value {
        let mut out = serde_json::Map::new();
        for e in Endpoint::ALL {
            let b = &self.buckets[index(e)];
            out.insert(
                e.key().into(),
                json!({"endpoint": e.name(), "ratePerSecond": b.rate, "accepted": b.accepted, "rejected": b.rejected, "maxPerSecond": b.max_per_second}),
            );
        }
        Value::Object(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use governor::clock::FakeRelativeClock;

    #[test]
    fn bucket_admits_the_rate_then_refuses_then_refills() {
        let clock = FakeRelativeClock::default();
        let mut r = RateLimiter::with_clock(5, 20, clock.clone());
        for _ in 0..5 {
            r.admit(Endpoint::WebChats).unwrap();
        }
        let e = r.admit(Endpoint::WebChats).unwrap_err();
        assert_eq!((e.status, e.code, e.retry_after), (429, 45780, Some(1)));
        // 200 ms later one token is back, and only one.
        clock.advance(Duration::from_millis(200));
        r.admit(Endpoint::WebChats).unwrap();
        assert!(r.admit(Endpoint::WebChats).is_err());
        // Endpoints are limited separately.
        for _ in 0..20 {
            r.admit(Endpoint::Interactions).unwrap();
        }
        r.admit(Endpoint::InteractionChannel).unwrap();
        let s = r.snapshot();
        assert_eq!((s["webchats"]["accepted"].clone(), s["webchats"]["rejected"].clone(), s["webchats"]["maxPerSecond"].clone()), (json!(6), json!(2), json!(6)));
    }

    #[test]
    fn zero_means_no_limit() {
        let mut r = RateLimiter::with_clock(0, 0, FakeRelativeClock::default());
        for _ in 0..100 {
            r.admit(Endpoint::WebChats).unwrap();
        }
    }
}
