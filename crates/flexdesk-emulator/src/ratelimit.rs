//! Twilio's published rate limits for the Flex endpoints flexdesk calls
//! (https://www.twilio.com/docs/flex/developer/conversations/limits): the Webchat orchestrator `POST /v2/WebChats`
//! 5 requests per second per account, the Interactions API 20 requests per second per endpoint per account; over it
//! HTTP 429 with error 45780 (https://www.twilio.com/docs/api/errors/45780).
//!
//! Twilio publishes the rate only. The bucket shape is the emulator's reading: one token bucket per endpoint, its
//! capacity the per-second rate, refilled continuously at that rate. Such a bucket admits at most `rate` requests
//! at once and `rate` per second sustained, but up to `2·rate − 1` in a 1-second sliding window right after an idle
//! spell; the statistics report both the refusals and the busiest 1-second window so a test can pick its bound.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::twilio_error::TwilioError;

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

#[derive(Debug)]
struct Bucket {
    /// Requests per second; 0 = no limit.
    rate: u32,
    tokens: f64,
    last: Option<Instant>,
    accepted: u64,
    rejected: u64,
    /// Accepted requests in the last second, and the most seen in any 1-second window.
    window: VecDeque<Instant>,
    max_per_second: usize,
}

impl Bucket {
    fn new(rate: u32) -> Self {
        Bucket { rate, tokens: f64::from(rate), last: None, accepted: 0, rejected: 0, window: VecDeque::new(), max_per_second: 0 }
    }
}

#[derive(Debug)]
pub struct RateLimiter {
    buckets: [Bucket; 3],
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
        RateLimiter { buckets: [Bucket::new(webchats), Bucket::new(interactions), Bucket::new(interactions)] }
    }

    /// New rates (full buckets, statistics kept).
    pub fn set_rates(&mut self, webchats: Option<u32>, interactions: Option<u32>) {
        let mut set = |i: usize, r: u32| {
            self.buckets[i].rate = r;
            self.buckets[i].tokens = f64::from(r);
            self.buckets[i].last = None;
        };
        if let Some(r) = webchats {
            set(0, r);
        }
        if let Some(r) = interactions {
            set(1, r);
            set(2, r);
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

    pub fn admit(&mut self, endpoint: Endpoint, now: Instant) -> Result<(), TwilioError> {
        let b = &mut self.buckets[index(endpoint)];
        if b.rate > 0 {
            let rate = f64::from(b.rate);
            if let Some(last) = b.last {
                b.tokens = (b.tokens + now.saturating_duration_since(last).as_secs_f64() * rate).min(rate);
            }
            b.last = Some(now);
            if b.tokens < 1.0 {
                b.rejected += 1;
                let wait = ((1.0 - b.tokens) / rate).ceil().max(1.0) as u64;
                return Err(TwilioError::rate_limited(endpoint.name(), b.rate, wait));
            }
            b.tokens -= 1.0;
        }
        b.accepted += 1;
        while b.window.front().is_some_and(|t| now.saturating_duration_since(*t) >= Duration::from_secs(1)) {
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

    #[test]
    fn bucket_admits_the_rate_then_refuses_then_refills() {
        let mut r = RateLimiter::new(5, 20);
        let t0 = Instant::now();
        for _ in 0..5 {
            r.admit(Endpoint::WebChats, t0).unwrap();
        }
        let e = r.admit(Endpoint::WebChats, t0).unwrap_err();
        assert_eq!((e.status, e.code, e.retry_after), (429, 45780, Some(1)));
        // 200 ms later one token is back.
        r.admit(Endpoint::WebChats, t0 + Duration::from_millis(200)).unwrap();
        assert!(r.admit(Endpoint::WebChats, t0 + Duration::from_millis(200)).is_err());
        // Endpoints are limited separately.
        for _ in 0..20 {
            r.admit(Endpoint::Interactions, t0).unwrap();
        }
        r.admit(Endpoint::InteractionChannel, t0).unwrap();
        let s = r.snapshot();
        assert_eq!((s["webchats"]["accepted"].clone(), s["webchats"]["rejected"].clone(), s["webchats"]["maxPerSecond"].clone()), (json!(6), json!(2), json!(6)));
    }

    #[test]
    fn zero_means_no_limit() {
        let mut r = RateLimiter::new(0, 0);
        let t0 = Instant::now();
        for _ in 0..100 {
            r.admit(Endpoint::WebChats, t0).unwrap();
        }
    }
}
