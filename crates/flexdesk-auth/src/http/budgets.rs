//! The per-client request budgets: one `governor` keyed GCRA limiter per budget (start, refresh, availability,
//! other), or with several replicas (`REDIS_URL`) the same GCRA spent in Redis ([`crate::infra::redis::Redis::spend`]).
//! A start also spends from its address block's budgets (IPv6 /56 and /48, optionally IPv4 /24: `BlockBudgets`),
//! so one holder of many /64s cannot start chats as thousands of clients (issue 24, item 3).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use axum::http::Method;
use governor::{DefaultKeyedRateLimiter, Quota};

use crate::chat::sessions::ClientKey;
use crate::infra::config::{BlockBudgets, Budget, Budgets};
use crate::infra::redis::Redis;

/// Past this many tracked clients in one budget, the ones whose state is back to "fresh" are dropped.
const PRUNE_ABOVE: usize = 10_000;

/// Which budget a route spends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `POST /v1/sessions` (budget `RATE_LIMIT_START_*`).
    Start,
    /// `POST /v1/sessions/{id}/token` (budget `RATE_LIMIT_REFRESH_*`).
    Refresh,
    /// `GET /v1/agents/availability` (budget `RATE_LIMIT_AVAILABILITY_*`).
    Availability,
    /// Every other `/v1/*` route (budget `RATE_LIMIT_OTHER_*`).
    Other,
}

impl Kind {
    /// The budget's name in logs and in the `budget` label of `flexdesk_rate_limited_total`.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Start => "start",
            Kind::Refresh => "refresh",
            Kind::Availability => "availability",
            Kind::Other => "other",
        }
    }

    /// The budget of a request, by its method and route pattern.
    pub fn of(method: &Method, route: Option<&str>) -> Kind {
        match (method, route) {
            (&Method::POST, Some("/v1/sessions")) => Kind::Start,
            (&Method::POST, Some("/v1/sessions/{id}/token")) => Kind::Refresh,
            (&Method::GET, Some("/v1/agents/availability")) => Kind::Availability,
            _ => Kind::Other,
        }
    }
}

struct Limiter {
    limiter: DefaultKeyedRateLimiter<ClientKey>,
    /// Unix ms of the last prune (pruning scans the table: at most once a second).
    last_prune: AtomicU64,
}

impl Limiter {
    fn new(budget: Budget) -> Limiter {
        let per_minute = NonZeroU32::new(budget.per_minute).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(budget.burst).unwrap_or(NonZeroU32::MIN);
        Limiter { limiter: DefaultKeyedRateLimiter::keyed(Quota::per_minute(per_minute).allow_burst(burst)), last_prune: AtomicU64::new(0) }
    }

    fn check(&self, key: ClientKey) -> Result<(), Duration> {
        if self.limiter.len() > PRUNE_ABOVE {
            let now = crate::infra::clock::unix_now();
            if self.last_prune.fetch_max(now, Ordering::Relaxed) < now {
                self.limiter.retain_recent();
                self.limiter.shrink_to_fit();
            }
        }
        self.limiter.check_key(&key).map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now()))
    }
}

/// An address block whose clients share a start budget: its name (the Redis budget) and prefix length.
#[derive(Clone, Copy)]
struct Block {
    name: &'static str,
    v6: bool,
    prefix: u8,
}

const BLOCKS: [Block; 3] = [
    Block { name: "start-block56", v6: true, prefix: 56 },
    Block { name: "start-block48", v6: true, prefix: 48 },
    Block { name: "start-block24", v6: false, prefix: 24 },
];

impl Block {
    /// The block `key` is in, as a key of its own (its network address), if it is of this block's family.
    fn of(self, key: ClientKey) -> Option<ClientKey> {
        match (key.0, self.v6) {
            (IpAddr::V6(ip), true) => Some(ClientKey(IpAddr::V6(Ipv6Addr::from(u128::from(ip) & (!0u128 << (128 - self.prefix)))))),
            (IpAddr::V4(ip), false) => Some(ClientKey(IpAddr::V4(Ipv4Addr::from(u32::from(ip) & (!0u32 << (32 - self.prefix)))))),
            _ => None,
        }
    }

    /// The start budget of the whole block: `factor` clients' for a /56 or /24, `factor`² for a /48.
    fn budget(self, start: Budget, factor: u32) -> Budget {
        let times = if self.prefix == 48 { factor.saturating_mul(factor) } else { factor };
        Budget { per_minute: start.per_minute.saturating_mul(times), burst: start.burst.saturating_mul(times) }
    }
}

/// One keyed limiter per budget.
pub struct RateLimiter {
    start: Limiter,
    refresh: Limiter,
    availability: Limiter,
    other: Limiter,
    budgets: Budgets,
    /// The block budgets in use (none with `RATE_LIMIT_BLOCK_FACTOR=0`), each with its limiter.
    blocks: Vec<(Block, Budget, Limiter)>,
    /// Redis, when the budgets are spent across replicas.
    pub(crate) redis: Option<Arc<Redis>>,
}

impl RateLimiter {
    /// Limiters with these budgets, for this process only (see [`RateLimiter::with_redis`] for replicas).
    pub fn new(budgets: Budgets, blocks: BlockBudgets) -> Self {
        let blocks = BLOCKS
            .into_iter()
            .filter(|b| blocks.factor > 0 && (b.v6 || blocks.ipv4_24))
            .map(|b| {
                let budget = b.budget(budgets.start, blocks.factor);
                (b, budget, Limiter::new(budget))
            })
            .collect();
        RateLimiter {
            blocks,
            start: Limiter::new(budgets.start),
            refresh: Limiter::new(budgets.refresh),
            availability: Limiter::new(budgets.availability),
            other: Limiter::new(budgets.other),
            budgets,
            redis: None,
        }
    }

    /// Spends in Redis, shared by every replica (this process's limiters while Redis is unreachable).
    pub fn with_redis(mut self, redis: Option<Arc<Redis>>) -> Self {
        self.redis = redis;
        self
    }

    /// Spends one request of `kind` for `key` from the shared budget, or from this process's own one when there
    /// is no Redis or it does not answer.
    pub async fn spend(&self, kind: Kind, key: ClientKey) -> Result<(), Duration> {
        if let Some(redis) = &self.redis {
            let budget = match kind {
                Kind::Start => self.budgets.start,
                Kind::Refresh => self.budgets.refresh,
                Kind::Availability => self.budgets.availability,
                Kind::Other => self.budgets.other,
            };
            if let Some(decided) = redis.spend(kind.as_str(), &key.to_string(), budget.per_minute, budget.burst).await {
                decided?;
                if kind == Kind::Start {
                    for (block, budget, _) in &self.blocks {
                        let Some(net) = block.of(key) else { continue };
                        let id = format!("{}/{}", net.0, block.prefix);
                        if let Some(decided) = redis.spend(block.name, &id, budget.per_minute, budget.burst).await {
                            decided?;
                        }
                    }
                }
                return Ok(());
            }
        }
        self.check(kind, key)
    }

    /// Spends one request of `kind` for `key` (a start: also from its blocks' budgets), or says how long until one
    /// is available.
    pub fn check(&self, kind: Kind, key: ClientKey) -> Result<(), Duration> {
        match kind {
            Kind::Start => &self.start,
            Kind::Refresh => &self.refresh,
            Kind::Availability => &self.availability,
            Kind::Other => &self.other,
        }
        .check(key)?;
        if kind == Kind::Start {
            for (block, _, limiter) in &self.blocks {
                if let Some(net) = block.of(key) {
                    limiter.check(net)?;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn budgets() -> Budgets {
        let b = Budget { per_minute: 1, burst: 2 };
        Budgets { start: b, refresh: b, availability: b, other: b }
    }

    fn starts(l: &RateLimiter, ips: impl Iterator<Item = String>) -> usize {
        ips.filter(|ip| l.check(Kind::Start, ClientKey::from_ip(ip.parse().unwrap())).is_ok()).count()
    }

    /// Issue 24, item 3. Failed before (no block budgets): every /64 of a /48 started its own two chats.
    #[test]
    fn a_block_of_many_clients_shares_its_start_budget() {
        let blocks = BlockBudgets { factor: 4, ipv4_24: false };
        // Ten /64s of one /56: each may start twice, the /56 eight times in all (4 clients' bursts).
        let l = RateLimiter::new(budgets(), blocks);
        assert_eq!(starts(&l, (0..10).map(|i| format!("2001:db8:1:10{i}::1"))), 8);
        // One /64 in each of 40 /56s of one /48: the /48 starts 32 (4² clients' bursts).
        let l = RateLimiter::new(budgets(), blocks);
        assert_eq!(starts(&l, (0..40).map(|i| format!("2001:db8:1:{i:02x}00::1"))), 32);
        // Another /48 has its own; IPv4 /24s only when asked (carrier-grade NAT puts strangers in one /24).
        assert_eq!(starts(&l, std::iter::once("2001:db8:2::1".to_string())), 1);
        let l = RateLimiter::new(budgets(), blocks);
        assert_eq!(starts(&l, (1..=10).map(|i| format!("192.0.2.{i}"))), 10);
        let l = RateLimiter::new(budgets(), BlockBudgets { ipv4_24: true, ..blocks });
        assert_eq!(starts(&l, (1..=10).map(|i| format!("192.0.2.{i}"))), 8);
        // Other budgets are per client only; factor 0 turns block budgets off.
        let l = RateLimiter::new(budgets(), BlockBudgets { factor: 0, ipv4_24: true });
        assert_eq!(starts(&l, (0..10).map(|i| format!("2001:db8:1:10{i}::1"))), 10);
    }
}
