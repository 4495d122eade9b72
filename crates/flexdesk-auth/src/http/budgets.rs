//! The per-client request budgets: one `governor` keyed GCRA limiter per budget (start, refresh, availability,
//! other), or with several replicas (`REDIS_URL`) the same GCRA spent in Redis ([`crate::infra::redis::Redis::spend`]).

use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use axum::http::Method;
use governor::{DefaultKeyedRateLimiter, Quota};

use crate::chat::sessions::ClientKey;
use crate::infra::config::{Budget, Budgets};
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

/// One keyed limiter per budget.
pub struct RateLimiter {
    start: Limiter,
    refresh: Limiter,
    availability: Limiter,
    other: Limiter,
    budgets: Budgets,
    /// Redis, when the budgets are spent across replicas.
    pub(crate) redis: Option<Arc<Redis>>,
}

impl RateLimiter {
    /// Limiters with these budgets, for this process only (see [`RateLimiter::with_redis`] for replicas).
    pub fn new(budgets: Budgets) -> Self {
        RateLimiter {
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
                return decided;
            }
        }
        self.check(kind, key)
    }

    /// Spends one request of `kind` for `key`, or says how long until one is available.
    pub fn check(&self, kind: Kind, key: ClientKey) -> Result<(), Duration> {
        match kind {
            Kind::Start => &self.start,
            Kind::Refresh => &self.refresh,
            Kind::Availability => &self.availability,
            Kind::Other => &self.other,
        }
        .check(key)
    }
}
