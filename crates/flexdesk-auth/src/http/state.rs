//! Everything a request handler can reach, built once per server.

use std::sync::Arc;

use crate::chat::availability::AvailabilityCache;
use crate::chat::credential;
use crate::chat::replicas::Chats;
use crate::chat::sessions::SessionStore;
use crate::chat::single_use::{SingleUse, UsedTokens};
use crate::chat::webhooks;
use crate::http::budgets::RateLimiter;
use crate::infra::config::Config;
use crate::infra::metrics::Metrics;
use crate::infra::redis::Redis;
use crate::infra::singleflight;
use crate::twilio::client::{CallError, TwilioClient};

/// Everything a request handler can reach. Build it with [`AppState::new`]; one per server (share the `Arc`).
pub struct AppState {
    /// The settings the server was started with.
    pub config: Config,
    /// The Twilio REST client (retries, pacing, metrics).
    pub twilio: TwilioClient,
    /// The chats this process started and whether they are still open.
    pub sessions: SessionStore,
    /// SESSION_SECRET (and SESSION_SECRET_PREVIOUS while rotating), prepared once for signing and checking
    /// session credentials.
    pub session_keys: credential::SessionKeys,
    /// The same secrets, prepared for signing and checking media links (`GET /v1/media/{MediaSid}`).
    pub media_link_keys: crate::chat::media_link::MediaLinkKeys,
    /// Cache of the queue figures and queue reads (`AVAILABILITY_CACHE_SECONDS`).
    pub availability: AvailabilityCache,
    /// The per-client request budgets (`RATE_LIMIT_*`).
    pub limiter: RateLimiter,
    /// The Prometheus metrics served by [`crate::admin_app`].
    pub metrics: Arc<Metrics>,
    /// Calls the human-verification hook (`VERIFY_URL`).
    pub verifier: reqwest::Client,
    /// When the last Twilio webhook that verified arrived (`TWILIO_WEBHOOKS`).
    pub webhooks: webhooks::WebhookHealth,
    /// Twilio webhooks already acted on (idempotency token and signature), so a repeat changes nothing.
    pub seen_webhooks: webhooks::SeenWebhooks,
    /// Signed hand-offs (each routes one chat) and, with `IDENTITY_SINGLE_USE`, identity tokens already used, by
    /// `jti` (in Redis too when configured).
    pub used_tokens: UsedTokens,
    /// The queue figures from TaskRouter's events (`/status` and the `flexdesk_queue_*` / `flexdesk_chat*` metrics).
    pub figures: crate::chat::figures::Figures,
    /// Coalesces concurrent "is this conversation closed?" calls to Twilio, per conversation.
    pub closed_checks: singleflight::SingleFlight<Result<bool, CallError>>,
    /// State shared with the other replicas through Redis (`REDIS_URL`); `None`: this process only.
    pub redis: Option<Arc<Redis>>,
    /// Chats whose last tab went away, in their grace period (`ABANDON_GRACE_SECONDS`).
    pub abandonments: crate::chat::abandon::Abandonments,
}

impl AppState {
    /// The state for `config`. Makes no network call. With `REDIS_URL`, call it inside a tokio runtime: the
    /// connection to Redis is then made in the background, and this process uses its own limits until Redis answers.
    ///
    /// # Panics
    /// If the HTTP client cannot be built (no TLS backend), which does not happen with this crate's features.
    pub fn new(config: Config) -> Arc<AppState> {
        let metrics = Arc::new(Metrics::default());
        // The URL was checked when the config was read.
        let redis = config.redis.as_ref().and_then(|r| Redis::new(r.url.expose(), r.ca_pem.as_deref(), &r.key_prefix, r.timeout, metrics.clone()).ok());
        Arc::new(AppState {
            twilio: TwilioClient::with_redis(&config, metrics.clone(), redis.clone()),
            sessions: SessionStore::default(),
            session_keys: credential::SessionKeys::new(
                config.session_secret.expose().as_bytes(),
                config.session_secret_previous.as_ref().map(|s| s.expose().as_bytes()),
            ),
            media_link_keys: crate::chat::media_link::MediaLinkKeys::new(
                config.session_secret.expose().as_bytes(),
                config.session_secret_previous.as_ref().map(|s| s.expose().as_bytes()),
            ),
            availability: AvailabilityCache::new(config.availability_cache),
            limiter: RateLimiter::new(config.budgets, config.block_budgets).with_redis(redis.clone()),
            used_tokens: UsedTokens {
                handoffs: SingleUse::new(
                    "handoff",
                    std::time::Duration::from_secs(crate::chat::engagement::MAX_HANDOFF_TOKEN_SECONDS + 60),
                    redis.clone(),
                ),
                // A token is refused once older than its maximum age (plus the clock skew allowed): forgotten then.
                identities: SingleUse::new(
                    "identity",
                    std::time::Duration::from_secs(config.identity.as_ref().map_or(60, |i| i.max_token_age + i.leeway)),
                    redis.clone(),
                ),
                // Past the window a rating is refused anyway: forgotten then.
                ratings: SingleUse::new("rating", config.ratings.window + std::time::Duration::from_secs(60), redis.clone()),
                // Past the credential's lifetime nothing can ask again: forgotten then.
                erasures: SingleUse::new("erasure", std::time::Duration::from_secs(config.session_max_age_seconds + 60), redis.clone()),
            },
            redis,
            figures: crate::chat::figures::Figures::new(metrics.clone()),
            metrics,
            verifier: reqwest::Client::builder()
                .timeout(config.twilio_timeout)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("reqwest client with rustls"),
            webhooks: Default::default(),
            seen_webhooks: Default::default(),
            closed_checks: Default::default(),
            abandonments: Default::default(),
            config,
        })
    }

    /// The open chats: this process's table, and every replica's through Redis when configured.
    pub fn chats(&self) -> Chats<'_> {
        Chats { config: &self.config, local: &self.sessions, redis: self.redis.as_ref() }
    }
}
