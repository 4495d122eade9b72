//! flexdesk-auth: the server side of flexdesk. It holds the Twilio secrets, starts Flex chats, mints
//! short-lived Conversations access tokens, and ends chats. docs/auth-server.md describes the API.
//!
//! # Layout
//!
//! Four layers, each a folder, whose imports point one way only (`tests/module_cycles.rs` fails on a cycle between
//! them or between any two files):
//!
//! - [`http`]: the routers and their layers (origin guard, per-client budgets, timeouts, metrics), extractors, the
//!   handlers (`http/routes/`), the OpenAPI document, and [`AppState`], everything a handler reaches;
//! - [`chat`]: the rules of a chat: what a start may carry (`engagement`, `names`, the `verify` hook), the session
//!   credential, the open sessions here and across replicas (`sessions`, `replicas`), queue positions and
//!   availability, what Twilio's webhooks told us, and [`chat::error::AppError`], the error every answer carries;
//! - [`twilio`]: the REST client (retries, pacing, metrics), the Flex calls that start and end chats and read
//!   TaskRouter (`flex`), the hand-off messages Flex receives, the Conversations access token;
//! - [`infra`]: configuration and secrets, the clock, metrics, Redis, pacing of Twilio calls, business hours and the
//!   identity-token keys (both read with the configuration), single-flight calls.
//!
//! `http` → `chat` → `twilio` → `infra`; [`cli`] (the operator subcommands and `doctor`) sits above them all.
//! Reading order for newcomers: `infra::config` → `twilio::token` / `chat::credential` → `twilio::client` →
//! `twilio::flex` → `http::routes::sessions` → `http` (the layers) → `main.rs`.
//!
//! # Using it as a library
//!
//! The `flexdesk-auth` binary is a thin `main` around this crate: read a [`infra::config::Config`], build the
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
//! use flexdesk_auth::infra::config::Config;
//! use flexdesk_auth::{admin_app, app, AppState};
//!
//! #[tokio::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     // The same settings as the binary: `.env`, then the environment (docs/auth-server.md lists them).
//!     // The error names every bad or missing key.
//!     let config = Config::from_env()?;
//!     let public = SocketAddr::new(config.bind, config.port);
//!     let admin = config.admin;
//!     let limits = config.connections;
//!     let state = AppState::new(config);
//!
//!     // /metrics and /openapi.json on their own listener (ADMIN_BIND:ADMIN_PORT; loopback by default).
//!     if let Some(admin) = admin {
//!         let listener = tokio::net::TcpListener::bind((admin.bind, admin.port)).await?;
//!         let router = admin_app(state.clone());
//!         tokio::spawn(async move { axum::serve(listener, router).await });
//!     }
//!
//!     // The public listener with a connection cap and a header-read timeout (MAX_CONNECTIONS,
//!     // HEADER_READ_TIMEOUT_SECONDS): axum::serve sets neither, so a slowloris client holds connections for ever.
//!     let listener = tokio::net::TcpListener::bind(public).await?;
//!     let stop = async { let _ = tokio::signal::ctrl_c().await; };
//!     flexdesk_auth::http::serve::serve(listener, app(state), limits, stop).await;
//!     Ok(())
//! }
//! ```
//!
//! A config can also be built from any name → value lookup with [`infra::config::Config::from_lookup`] (the tests pass
//! a map), and the routers can be called without a socket, as any tower service:
//!
//! ```
//! use std::collections::HashMap;
//!
//! use axum::body::Body;
//! use axum::http::{Request, StatusCode};
//! use flexdesk_auth::infra::config::Config;
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

pub mod chat;
pub mod cli;
pub mod http;
pub mod infra;
pub mod twilio;

use std::sync::Arc;

use axum::Router;

pub use crate::http::state::AppState;
pub use crate::infra::clock::unix_now;

/// The public HTTP application (the API and `/healthz`).
pub fn app(state: Arc<AppState>) -> Router {
    http::router(state)
}

/// The admin application (`/metrics`, `/openapi.json`, `/healthz`), for the admin listener.
pub fn admin_app(state: Arc<AppState>) -> Router {
    http::admin_router(state)
}
