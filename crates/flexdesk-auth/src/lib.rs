//! flexdesk-auth: the server side of flexdesk. It holds the Twilio secrets, starts Flex chats, mints
//! short-lived Conversations access tokens, and ends chats. docs/auth-server.md describes the API.
//!
//! Reading order for newcomers: `config` → `token` / `credential` → `twilio` → `flex` → `routes::sessions`
//! → `routes` (the layers) → `main.rs`.

pub mod availability;
pub mod cli;
pub mod config;
pub mod credential;
pub mod engagement;
pub mod error;
pub mod extract;
pub mod flex;
pub mod layers;
pub mod metrics;
pub mod openapi;
pub mod pacing;
pub mod ratelimit;
pub mod routes;
pub mod sessions;
pub mod shared;
pub mod singleflight;
pub mod token;
pub mod twilio;
pub mod verify;
pub mod webhooks;

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Router;

use crate::availability::AvailabilityCache;
use crate::config::Config;
use crate::metrics::Metrics;
use crate::ratelimit::RateLimiter;
use crate::sessions::SessionStore;
use crate::shared::Shared;
use crate::twilio::TwilioClient;

/// Everything a request handler can reach.
pub struct AppState {
    pub config: Config,
    pub twilio: TwilioClient,
    pub sessions: SessionStore,
    pub availability: AvailabilityCache,
    pub limiter: RateLimiter,
    pub metrics: Arc<Metrics>,
    /// Calls the human-verification hook (`VERIFY_URL`).
    pub verifier: reqwest::Client,
    /// When the last Twilio webhook that verified arrived (`TWILIO_WEBHOOKS`).
    pub webhooks: webhooks::WebhookHealth,
    /// Coalesces concurrent "is this conversation closed?" calls to Twilio, per conversation.
    pub closed_checks: singleflight::SingleFlight<Result<bool, twilio::TwilioError>>,
    /// State shared with the other replicas through Redis (`REDIS_URL`); `None`: this process only.
    pub shared: Option<Arc<Shared>>,
}

impl AppState {
    pub fn new(config: Config) -> Arc<AppState> {
        let metrics = Arc::new(Metrics::default());
        // The URL was checked when the config was read.
        let shared = config
            .redis_url
            .as_ref()
            .and_then(|url| Shared::new(url.expose(), &config.redis_key_prefix, config.redis_timeout, metrics.clone()).ok());
        Arc::new(AppState {
            twilio: TwilioClient::new_shared(&config, metrics.clone(), shared.clone()),
            sessions: SessionStore::default(),
            availability: AvailabilityCache::new(config.availability_cache),
            limiter: RateLimiter::new(config.budgets).with_shared(shared.clone()),
            shared,
            metrics,
            verifier: reqwest::Client::builder()
                .timeout(config.twilio_timeout)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("reqwest client with rustls"),
            webhooks: Default::default(),
            closed_checks: Default::default(),
            config,
        })
    }
}

/// The public HTTP application (the API and `/healthz`).
pub fn app(state: Arc<AppState>) -> Router {
    routes::router(state)
}

/// The admin application (`/metrics`, `/openapi.json`, `/healthz`), for the admin listener.
pub fn admin_app(state: Arc<AppState>) -> Router {
    routes::admin_router(state)
}

pub fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}
