//! Per-client-IP rate limit: a token bucket per IP (RATE_LIMIT_BURST requests at once, refilled at
//! RATE_LIMIT_PER_MINUTE). Small enough to read, and it answers 429 with our JSON error and `Retry-After`.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::AppError;
use crate::AppState;

/// Past this many tracked IPs, buckets that are full again are dropped (they hold no information).
const PRUNE_ABOVE: usize = 10_000;

struct Bucket {
    tokens: f64,
    at: Instant,
}

pub struct RateLimiter {
    per_second: f64,
    burst: f64,
    buckets: Mutex<HashMap<IpAddr, Bucket>>,
}

impl RateLimiter {
    pub fn new(per_minute: u32, burst: u32) -> Self {
        RateLimiter { per_second: per_minute as f64 / 60.0, burst: burst as f64, buckets: Mutex::new(HashMap::new()) }
    }

    /// Takes one token for `ip`, or says how long until one is available.
    pub fn check(&self, ip: IpAddr) -> Result<(), Duration> {
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() > PRUNE_ABOVE {
            let (rate, burst) = (self.per_second, self.burst);
            buckets.retain(|_, b| b.tokens + now.duration_since(b.at).as_secs_f64() * rate < burst);
        }
        let bucket = buckets.entry(ip).or_insert(Bucket { tokens: self.burst, at: now });
        bucket.tokens = (bucket.tokens + now.duration_since(bucket.at).as_secs_f64() * self.per_second).min(self.burst);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - bucket.tokens) / self.per_second))
        }
    }
}

/// The caller's IP: the TCP peer, or with TRUST_PROXY the last `X-Forwarded-For` hop (the one our proxy added;
/// earlier entries are client-controlled).
pub fn client_ip(req: &Request, trust_proxy: bool) -> IpAddr {
    if trust_proxy {
        let forwarded = req.headers().get("x-forwarded-for").and_then(|v| v.to_str().ok());
        if let Some(ip) = forwarded.and_then(|v| v.rsplit(',').next()).and_then(|v| v.trim().parse().ok()) {
            return ip;
        }
    }
    req.extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip())
        .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
}

pub async fn limit(State(state): State<std::sync::Arc<AppState>>, req: Request, next: Next) -> Response {
    let ip = client_ip(&req, state.config.trust_proxy);
    match state.limiter.check(ip) {
        Ok(()) => next.run(req).await,
        Err(wait) => {
            tracing::info!(%ip, "rate limited");
            let mut resp = AppError::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", "too many requests; slow down").into_response();
            let secs = wait.as_secs().max(1).to_string();
            resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_str(&secs).expect("digits"));
            resp
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_then_refuse_per_ip() {
        let l = RateLimiter::new(60, 3);
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        for _ in 0..3 {
            assert!(l.check(a).is_ok());
        }
        let wait = l.check(a).unwrap_err();
        assert!(wait <= Duration::from_secs(1) && wait > Duration::from_millis(900), "{wait:?}");
        assert!(l.check(b).is_ok(), "another client has its own bucket");
    }

    #[test]
    fn client_ip_trusts_forwarded_for_only_when_told() {
        let req = || {
            let mut r = Request::new(axum::body::Body::empty());
            r.headers_mut().insert("x-forwarded-for", HeaderValue::from_static("6.6.6.6, 10.1.2.3"));
            r.extensions_mut().insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 5000))));
            r
        };
        assert_eq!(client_ip(&req(), false), "127.0.0.1".parse::<IpAddr>().unwrap());
        // The last hop is the one our own proxy appended; the first is whatever the client claimed.
        assert_eq!(client_ip(&req(), true), "10.1.2.3".parse::<IpAddr>().unwrap());
    }
}
