//! Per-client request budgets: glue around `governor`'s keyed GCRA limiter (one limiter per budget: start,
//! refresh, availability, other), plus who "the client" is behind proxies.
//!
//! Client identity ([`client_ip`], [`ClientKey`]): with `TRUST_PROXY_HOPS=0` (the default) it is the TCP peer. Behind N proxies
//! of ours, it is the N-th address from the right of the forwarding header (every `X-Forwarded-For` line, in
//! order; or RFC 7239 `Forwarded: for=`): the entries right of it were written by our own proxies, everything
//! left of it by the client, so a client's own header cannot choose its key. IPv6 clients are keyed by their /64
//! (one customer usually owns a whole /64). Answers 429 `rate_limited` with `Retry-After`.
//!
//! With several replicas (`REDIS_URL`) the budgets are spent in Redis, the same GCRA on Redis's clock
//! ([`crate::infra::redis::Redis::spend`]), so a burst spread over the replicas counts as one; while Redis is
//! unreachable each replica spends from its own `governor` limiters.

use std::convert::Infallible;
use std::future::{ready, Ready};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::{ConnectInfo, MatchedPath, Request};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::future::{BoxFuture, Either};
use tower::{Layer, Service};

use crate::infra::config::ProxyHeader;
use crate::chat::sessions::ClientKey;
use crate::chat::error::{AppError, ErrorCode};
use crate::http::budgets::Kind;
use crate::http::state::AppState;

/// One address of a forwarding header: `1.2.3.4`, `1.2.3.4:80`, `::1`, `[::1]`, `[::1]:80`, quoted or not.
fn parse_addr(raw: &str) -> Option<IpAddr> {
    let s = raw.trim().trim_matches('"');
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Ok(sa) = s.parse::<SocketAddr>() {
        return Some(sa.ip());
    }
    s.strip_prefix('[').and_then(|r| r.split(']').next()).and_then(|ip| ip.parse().ok())
}

/// The addresses of the forwarding header, leftmost (the client's claim) first, across all header lines.
/// Entries that are not addresses (`unknown`, obfuscated names, junk) are kept as `None`, so positions count.
/// A line is split into elements as bytes, each element read on its own (issue 24, item 3): a non-ASCII byte the
/// client put into its own element spoils that element only (the whole line used to be unreadable, and the client
/// fell into its proxy's shared bucket).
fn forwarded_chain(headers: &HeaderMap, which: ProxyHeader) -> Vec<Option<IpAddr>> {
    let mut chain = Vec::new();
    let name = match which {
        ProxyHeader::XForwardedFor => "x-forwarded-for",
        ProxyHeader::Forwarded => "forwarded",
    };
    for line in headers.get_all(name) {
        for element in line.as_bytes().split(|b| *b == b',') {
            let Ok(element) = std::str::from_utf8(element) else {
                chain.push(None);
                continue;
            };
            match which {
                ProxyHeader::XForwardedFor => chain.push(parse_addr(element)),
                ProxyHeader::Forwarded => {
                    let node = element.split(';').find_map(|pair| {
                        let (k, v) = pair.split_once('=')?;
                        k.trim().eq_ignore_ascii_case("for").then_some(v)
                    });
                    chain.push(node.and_then(parse_addr));
                }
            }
        }
    }
    chain
}

/// The client's address: the TCP peer, or behind `hops` proxies of ours the `hops`-th forwarding entry from the
/// right. A chain shorter than `hops` (the request did not come through all our proxies) or an entry that is not
/// an address falls back to the peer, never to a client-chosen entry. With `trusted` proxies (`TRUSTED_PROXIES`),
/// the header of a peer outside them is not read at all.
pub fn client_ip(headers: &HeaderMap, peer: Option<IpAddr>, hops: u32, which: ProxyHeader, trusted: &[ipnet::IpNet]) -> IpAddr {
    // (A dual-stack listener reports IPv4 peers as ::ffff:a.b.c.d.)
    let peer = peer.unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED)).to_canonical();
    if hops == 0 || !(trusted.is_empty() || trusted.iter().any(|net| net.contains(&peer))) {
        return peer;
    }
    let chain = forwarded_chain(headers, which);
    let hops = hops as usize;
    if chain.len() < hops {
        return peer;
    }
    chain[chain.len() - hops].unwrap_or(peer)
}

/// The client of a request, as the handlers see it (left in the request's extensions by [`LimitLayer`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Client {
    /// The client's address (after `TRUST_PROXY_HOPS`).
    pub ip: IpAddr,
    /// What its budgets and open-session caps count by.
    pub key: ClientKey,
}

/// The [`Client`] of a request: its address per `TRUST_PROXY_HOPS` / `TRUST_PROXY_HEADER`, and its key.
pub(crate) fn client_of(req: &Request, state: &AppState) -> Client {
    let peer = req.extensions().get::<ConnectInfo<SocketAddr>>().map(|ConnectInfo(addr)| addr.ip());
    let c = &state.config;
    let ip = client_ip(req.headers(), peer, c.trust_proxy_hops, c.proxy_header, &c.trusted_proxies);
    // For checking TRUST_PROXY_HOPS against a real request (issue 25); `doctor` shows a test request's.
    tracing::debug!(peer = ?peer, client = %ip, "client address resolved");
    Client { ip, key: ClientKey::from_ip(ip) }
}

/// The layer on `/v1/*`: finds the client, spends from the route's budget, and leaves the [`Client`] in the
/// request's extensions for the handlers (the open-session caps count by it).
#[derive(Clone)]
pub struct LimitLayer(pub Arc<AppState>);

impl<S> Layer<S> for LimitLayer {
    type Service = Limit<S>;
    fn layer(&self, inner: S) -> Limit<S> {
        Limit { inner, state: self.0.clone() }
    }
}

/// The service [`LimitLayer`] wraps around the routes.
#[derive(Clone)]
pub struct Limit<S> {
    inner: S,
    state: Arc<AppState>,
}

type Answer = Result<Response, Infallible>;

impl<S> Service<Request> for Limit<S>
where
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Either<Either<S::Future, Ready<Answer>>, BoxFuture<'static, Answer>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request) -> Self::Future {
        let client = client_of(&req, &self.state);
        let kind = Kind::of(req.method(), req.extensions().get::<MatchedPath>().map(MatchedPath::as_str));
        if self.state.limiter.redis.is_none() {
            // This process's own budget: decided here and now, so the request goes on without a boxed future.
            return Either::Left(match self.state.limiter.check(kind, client.key) {
                Ok(()) => {
                    req.extensions_mut().insert(client);
                    Either::Left(self.inner.call(req))
                }
                Err(wait) => Either::Right(ready(Ok(refused(&self.state, kind, client.key, wait)))),
            });
        }
        // The budget is in Redis: the decision is a round trip, and the inner service must wait for it.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let state = self.state.clone();
        Either::Right(Box::pin(async move {
            match state.limiter.spend(kind, client.key).await {
                Ok(()) => {
                    req.extensions_mut().insert(client);
                    inner.call(req).await
                }
                Err(wait) => Ok(refused(&state, kind, client.key, wait)),
            }
        }))
    }
}

fn refused(state: &AppState, kind: Kind, key: ClientKey, wait: Duration) -> Response {
    tracing::info!(client = %key, budget = kind.as_str(), "rate limited");
    state.metrics.record_rate_limited(kind.as_str());
    let secs = wait.as_secs_f64().ceil().max(1.0) as u64;
    AppError::new(StatusCode::TOO_MANY_REQUESTS, ErrorCode::RateLimited, "too many requests; slow down").with_retry_after(secs).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::budgets::RateLimiter;
    use crate::infra::config::{BlockBudgets, Budget, Budgets};
    use axum::http::HeaderValue;

    const PEER: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 1));

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn headers(name: &'static str, lines: &[&'static str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for l in lines {
            h.append(name, HeaderValue::from_static(l));
        }
        h
    }

    #[test]
    fn burst_then_refuse_per_client() {
        let l = RateLimiter::new(Budgets {
            start: Budget { per_minute: 60, burst: 3 },
            refresh: Budget { per_minute: 60, burst: 1 },
            availability: Budget { per_minute: 60, burst: 1 },
            other: Budget { per_minute: 60, burst: 1 },
        }, BlockBudgets { factor: 4, ipv4_24: false });
        let (a, b) = (ClientKey::from_ip(ip("10.0.0.1")), ClientKey::from_ip(ip("10.0.0.2")));
        for _ in 0..3 {
            assert!(l.check(Kind::Start, a).is_ok());
        }
        let wait = l.check(Kind::Start, a).unwrap_err();
        assert!(wait <= Duration::from_secs(1) && wait > Duration::from_millis(900), "{wait:?}");
        assert!(l.check(Kind::Start, b).is_ok(), "another client has its own budget");
        assert!(l.check(Kind::Refresh, a).is_ok(), "refresh is a budget of its own");
    }

    #[test]
    fn the_client_is_the_nth_address_from_the_right_across_every_line() {
        // Our proxy appended the peer it saw (10.1.2.3); "6.6.6.6" is what the client wrote itself.
        let h = headers("x-forwarded-for", &["6.6.6.6, 10.1.2.3"]);
        let xff = ProxyHeader::XForwardedFor;
        assert_eq!(client_ip(&h, Some(PEER), 0, xff, &[]), PEER, "not trusted by default");
        assert_eq!(client_ip(&h, Some(PEER), 1, xff, &[]), ip("10.1.2.3"));
        assert_eq!(client_ip(&h, Some(PEER), 2, xff, &[]), ip("6.6.6.6"));
        // A client sending its own header line: the proxy adds its line after it; the last line still wins.
        let h = headers("x-forwarded-for", &["1.1.1.1", "2.2.2.2, 9.9.9.9", "10.1.2.3"]);
        assert_eq!(client_ip(&h, Some(PEER), 1, xff, &[]), ip("10.1.2.3"));
        assert_eq!(client_ip(&h, Some(PEER), 2, xff, &[]), ip("9.9.9.9"));
        // Shorter than the hops we expect: never a client-chosen entry.
        assert_eq!(client_ip(&h, Some(PEER), 5, xff, &[]), PEER);
        let h = headers("x-forwarded-for", &["[2001:db8::1]:443, junk"]);
        assert_eq!(client_ip(&h, Some(PEER), 1, xff, &[]), PEER, "junk where our proxy writes: the peer");
        assert_eq!(client_ip(&h, Some(PEER), 2, xff, &[]), ip("2001:db8::1"));
    }

    #[test]
    fn rfc_7239_forwarded_is_read_when_configured() {
        let h = headers("forwarded", &[r#"for=6.6.6.6;proto=https, for="[2001:db8:cafe::17]:4711""#, "For=192.0.2.60;by=203.0.113.43"]);
        let fwd = ProxyHeader::Forwarded;
        assert_eq!(client_ip(&h, Some(PEER), 1, fwd, &[]), ip("192.0.2.60"));
        assert_eq!(client_ip(&h, Some(PEER), 2, fwd, &[]), ip("2001:db8:cafe::17"));
        // Only the configured header counts: a client-sent Forwarded is ignored when the proxy writes X-Forwarded-For.
        assert_eq!(client_ip(&h, Some(PEER), 1, ProxyHeader::XForwardedFor, &[]), PEER);
    }

    /// Issue 24, item 3. Failed before: a non-ASCII byte in the client's own element made the whole line unreadable
    /// (`to_str`), so the client fell back to the peer, its proxy's bucket shared with everyone behind it; and any
    /// peer's header was read, so a client reaching the server directly chose its own key.
    #[test]
    fn one_odd_byte_spoils_only_its_element_and_only_trusted_peers_forward() {
        let xff = ProxyHeader::XForwardedFor;
        let mut h = HeaderMap::new();
        h.append("x-forwarded-for", HeaderValue::from_bytes(b"6.6.6.\xe96, 10.1.2.3").unwrap());
        assert_eq!(client_ip(&h, Some(PEER), 1, xff, &[]), ip("10.1.2.3"), "the client keeps its own key");
        assert_eq!(client_ip(&h, Some(PEER), 2, xff, &[]), PEER, "the odd element itself is no address");
        let mut h = HeaderMap::new();
        h.append("forwarded", HeaderValue::from_bytes(b"for=\"\xff\", for=192.0.2.60").unwrap());
        assert_eq!(client_ip(&h, Some(PEER), 1, ProxyHeader::Forwarded, &[]), ip("192.0.2.60"));

        let trusted: Vec<ipnet::IpNet> = vec!["10.0.0.0/8".parse().unwrap(), "2001:db8::/32".parse().unwrap()];
        let h = headers("x-forwarded-for", &["6.6.6.6"]);
        assert_eq!(client_ip(&h, Some(ip("203.0.113.9")), 1, xff, &trusted), ip("203.0.113.9"), "a direct client: its header is ignored");
        assert_eq!(client_ip(&h, Some(ip("10.0.0.1")), 1, xff, &trusted), ip("6.6.6.6"), "through our proxy");
        assert_eq!(client_ip(&h, Some(ip("::ffff:10.0.0.1")), 1, xff, &trusted), ip("6.6.6.6"), "an IPv4-mapped peer");
        assert_eq!(client_ip(&h, Some(ip("2001:db8::5")), 1, xff, &trusted), ip("6.6.6.6"));
        assert_eq!(client_ip(&h, Some(ip("2001:db9::5")), 1, xff, &trusted), ip("2001:db9::5"));
    }

    #[test]
    fn ipv6_clients_are_keyed_by_their_64() {
        let a = ClientKey::from_ip(ip("2001:db8:1:2:aaaa::1"));
        let b = ClientKey::from_ip(ip("2001:db8:1:2:bbbb::2"));
        let c = ClientKey::from_ip(ip("2001:db8:1:3::1"));
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(a.to_string(), "2001:db8:1:2::/64");
        assert_eq!(ClientKey::from_ip(ip("::ffff:10.0.0.1")), ClientKey::from_ip(ip("10.0.0.1")));
    }
}
