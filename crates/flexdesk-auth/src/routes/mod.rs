//! The routers: the public API plus the hardening layers (outermost first), and the admin router
//! (`/metrics`, `/openapi.json`, `/healthz`) served on its own listener, off the public one.

pub mod agents;
pub mod ops;
pub mod sessions;

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, StatusCode};
use axum::middleware::{from_fn, from_fn_with_state, map_response};
use axum::routing::{delete, get, post};
use axum::Router;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

use crate::config::BODY_LIMIT_BYTES;
use crate::layers::CallerRequestId;
use crate::{layers, ratelimit, AppState};

/// The public listener: the API and `/healthz` (for load balancers). No metrics, no OpenAPI document.
pub fn router(state: Arc<AppState>) -> Router {
    // Only the API is rate limited; probes are not. Every API answer is `Cache-Control: no-store`.
    let api = Router::new()
        .route("/v1/sessions", post(sessions::create))
        .route("/v1/sessions/{id}/token", post(sessions::refresh))
        .route("/v1/sessions/{id}", delete(sessions::end))
        .route("/v1/agents/availability", get(agents::availability))
        .route_layer(from_fn_with_state(state.clone(), ratelimit::limit))
        .route_layer(from_fn(layers::no_store));

    let request_id = HeaderName::from_static("x-request-id");
    // `Router::layer` wraps what is above it, so read these bottom-up: the last layer sees requests first.
    Router::new()
        .route("/healthz", get(ops::healthz))
        // Twilio's webhooks: signed (403 otherwise), not per-client rate limited (Twilio posts from few addresses).
        .route(crate::webhooks::PATH, post(crate::webhooks::receive))
        .merge(api)
        .layer(DefaultBodyLimit::max(BODY_LIMIT_BYTES))
        // Refuses a too-large Content-Length before reading anything.
        .layer(RequestBodyLimitLayer::new(BODY_LIMIT_BYTES))
        .layer(TimeoutLayer::with_status_code(StatusCode::GATEWAY_TIMEOUT, state.config.request_timeout))
        .layer(layers::cors(&state.config.allowed_origins))
        .layer(from_fn_with_state(state.clone(), layers::origin_guard))
        .layer(CatchPanicLayer::new())
        .layer(from_fn_with_state(state.clone(), layers::track_metrics))
        .layer(map_response(layers::json_errors))
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(
            TraceLayer::new_for_http()
                // Method, path and our request id only: no headers, no bodies, so no secrets. The caller's own
                // request id (sanitized) is a separate field, never our `id`.
                .make_span_with(|req: &axum::http::Request<_>| {
                    let id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-");
                    let caller = req.extensions().get::<CallerRequestId>().map(|c| c.0.as_str()).unwrap_or("-");
                    tracing::info_span!("request", id = %id, caller_id = %caller, method = %req.method(), path = %req.uri().path())
                })
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        // Always our own id: the caller's header was taken off just before.
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
        .layer(from_fn(layers::own_request_id))
        .with_state(state)
}

/// The admin listener (`ADMIN_PORT`, `ADMIN_BIND`): Prometheus metrics, the OpenAPI document, health.
pub fn admin_router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/metrics", get(ops::metrics))
        .route("/openapi.json", get(ops::openapi))
        .route("/healthz", get(ops::healthz))
        .layer(map_response(layers::json_errors))
        .with_state(state)
}
