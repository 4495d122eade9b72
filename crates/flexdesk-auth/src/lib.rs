//! flexdesk-auth: the server side of flexdesk. It holds the Twilio secrets, starts Flex chats, mints
//! short-lived Conversations access tokens, and ends chats. docs/auth-server.md describes the API.
//!
//! Reading order for newcomers: `config` → `token` / `credential` → `twilio` → `flex` → `routes::sessions`
//! → `routes` (the layers) → `main.rs`.
//!
//! # Using it as a library
//!
//! The `flexdesk-auth` binary is a thin `main` around this crate: read a [`config::Config`], build the
//! [`AppState`] with [`AppState::new`], and serve two axum routers: [`app`] (the public API and `/healthz`) and
//! [`admin_app`] (`/metrics`, `/openapi.json`, `/healthz`), which belongs on a listener the public cannot reach.
//! Both are plain [`axum::Router`]s, so they can be nested into a larger application or wrapped in more layers.
//!
//! Serve [`app`] with `into_make_service_with_connect_info::<SocketAddr>()`: the per-client rate limits and
//! open-chat caps key on the TCP peer (or, behind proxies, on the forwarding header per `TRUST_PROXY_HOPS`).
//!
//! ```no_run
//! use std::net::SocketAddr;
//!
//! use flexdesk_auth::config::Config;
//! use flexdesk_auth::{admin_app, app, AppState};
//!
//! #[tokio::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     // The same settings as the binary: `.env`, then the environment (docs/auth-server.md lists them).
//!     // The error names every bad or missing key.
//!     let config = Config::from_env()?;
//!     let public = SocketAddr::new(config.bind, config.port);
//!     let admin = config.admin;
//!     let state = AppState::new(config);
//!
//!     // /metrics and /openapi.json on their own listener (ADMIN_BIND:ADMIN_PORT; loopback by default).
//!     if let Some(admin) = admin {
//!         let listener = tokio::net::TcpListener::bind((admin.bind, admin.port)).await?;
//!         let router = admin_app(state.clone());
//!         tokio::spawn(async move { axum::serve(listener, router).await });
//!     }
//!
//!     let listener = tokio::net::TcpListener::bind(public).await?;
//!     axum::serve(listener, app(state).into_make_service_with_connect_info::<SocketAddr>())
//!         .with_graceful_shutdown(async { let _ = tokio::signal::ctrl_c().await; })
//!         .await?;
//!     Ok(())
//! }
//! ```
//!
//! A config can also be built from any name → value lookup with [`config::Config::from_lookup`] (the tests pass
//! a map), and the routers can be called without a socket, as any tower service:
//!
//! ```
//! use std::collections::HashMap;
//!
//! use axum::body::Body;
//! use axum::http::{Request, StatusCode};
//! use flexdesk_auth::config::Config;
//! use flexdesk_auth::{app, AppState};
//! use tower::ServiceExt;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let sid = |prefix: &str| format!("{prefix}{}", "0".repeat(32));
//! let settings = HashMap::from([
//!     ("TWILIO_ACCOUNT_SID", sid("AC")),
//!     ("TWILIO_AUTH_TOKEN", "0123456789abcdef0123456789abcdef".to_string()),
//!     ("TWILIO_API_KEY_SID", sid("SK")),
//!     ("TWILIO_API_KEY_SECRET", "an-api-key-secret-from-the-console".to_string()),
//!     ("TWILIO_CONVERSATIONS_SERVICE_SID", sid("IS")),
//!     ("TWILIO_ADDRESS_SID", sid("IG")),
//!     ("SESSION_SECRET", "a-long-random-secret-of-32-bytes-or-more".to_string()),
//! ]);
//! let config = Config::from_lookup(|name| settings.get(name).cloned()).expect("valid settings");
//! let state = AppState::new(config);
//!
//! let answer = app(state).oneshot(Request::get("/healthz").body(Body::empty()).unwrap()).await.unwrap();
//! assert_eq!(answer.status(), StatusCode::OK);
//! # }
//! ```

#![deny(missing_docs)]

pub mod availability;
pub mod cli;
pub mod config;
pub mod credential;
pub mod doctor;
pub mod engagement;
pub mod envfile;
pub mod error;
pub mod extract;
pub mod flex;
pub mod handoff_messages;
pub mod hours;
pub mod identity;
pub mod layers;
pub mod metrics;
pub mod names;
pub mod openapi;
pub mod pacing;
pub mod queue;
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
    /// Cache of the queue figures and queue reads (`AVAILABILITY_CACHE_SECONDS`).
    pub availability: AvailabilityCache,
    /// The per-client request budgets (`RATE_LIMIT_*`).
    pub limiter: RateLimiter,
    /// The Prometheus metrics served by [`admin_app`].
    pub metrics: Arc<Metrics>,
    /// Calls the human-verification hook (`VERIFY_URL`).
    pub verifier: reqwest::Client,
    /// When the last Twilio webhook that verified arrived (`TWILIO_WEBHOOKS`).
    pub webhooks: webhooks::WebhookHealth,
    /// Twilio webhooks already acted on (idempotency token and signature), so a repeat changes nothing.
    pub seen_webhooks: webhooks::SeenWebhooks,
    /// Coalesces concurrent "is this conversation closed?" calls to Twilio, per conversation.
    pub closed_checks: singleflight::SingleFlight<Result<bool, twilio::TwilioError>>,
    /// State shared with the other replicas through Redis (`REDIS_URL`); `None`: this process only.
    pub shared: Option<Arc<Shared>>,
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
        let shared = config
            .redis_url
            .as_ref()
            .and_then(|url| {
                let ca = config.redis_ca_pem.as_deref();
                Shared::new(url.expose(), ca, &config.redis_key_prefix, config.redis_timeout, metrics.clone()).ok()
            });
        Arc::new(AppState {
            twilio: TwilioClient::new_shared(&config, metrics.clone(), shared.clone()),
            sessions: SessionStore::default(),
            session_keys: credential::SessionKeys::new(
                config.session_secret.expose().as_bytes(),
                config.session_secret_previous.as_ref().map(|s| s.expose().as_bytes()),
            ),
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
            seen_webhooks: Default::default(),
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

/// Now, in Unix seconds (0 if the clock is before 1970).
pub fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}
