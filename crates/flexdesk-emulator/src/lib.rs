//! flexdesk-emulator: a local stand-in for the parts of Twilio flexdesk uses (Flex API, Conversations,
//! TaskRouter), a realtime WebSocket for the browser, and an agent console. State lives in memory.
//! See docs/emulator.md for the paths and the protocol.

pub mod admin;
pub mod agent_api;
pub mod config;
pub mod console;
pub mod media;
pub mod pipeline;
pub mod ratelimit;
pub mod realtime;
pub mod rest;
pub mod rest_config;
pub mod rest_reservations;
pub mod rest_support;
pub mod rest_tasks;
pub mod sms;
pub mod state;
pub mod timers;
pub mod token;
pub mod twilio_error;
pub mod twilsock_backend;
pub mod util;
pub mod webhooks;

use axum::http::Uri;
use axum::middleware;
use axum::routing::{get, post};
use axum::Router;
use tower_http::cors::CorsLayer;

pub use config::Config;
pub use state::{Emulator, Shared};

/// The whole emulator on one router, Twilio paths and ours side by side. Must be called inside a tokio runtime
/// (the twilsock server for the real SDK starts its event task with the first router).
pub fn app(emu: Shared) -> Router {
    let twilsock = emu.twilsock.get_or_init(|| twilsock_backend::start(&emu)).router();
    webhooks::start(&emu);
    timers::start(&emu);
    let twilio = rest::router().merge(rest_config::router()).merge(rest_tasks::router()).merge(rest_reservations::router()).layer(middleware::from_fn_with_state(emu.clone(), rest_support::twilio_gate));
    // The browser calls these from the desk's origin: no cookies are involved (the token travels in a
    // header or in the signed URL), so any origin may.
    let browser = Router::new()
        .route("/v1/Media", post(media::upload).layer(media::limit_layer()))
        .route("/v1/Media/{me}/Content", get(media::content))
        .layer(CorsLayer::permissive());
    Router::new()
        .merge(twilio)
        .merge(browser)
        .route("/v1/realtime", get(realtime::upgrade))
        .route("/healthz", get(|| async { "ok" }))
        .merge(agent_api::router())
        .merge(admin::router())
        .merge(console::router())
        .fallback(|uri: Uri| async move { twilio_error::TwilioError::not_found(uri.path()) })
        .with_state(emu)
        // The real SDK: GET /v3/wsconnect and its media service under /mcs/.
        .merge(twilsock)
}
