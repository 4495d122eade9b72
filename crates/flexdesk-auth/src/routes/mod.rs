//! The router: endpoints plus the hardening layers, outermost first.

pub mod agents;
pub mod ops;
pub mod sessions;

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, StatusCode};
use axum::middleware::{from_fn_with_state, map_response};
use axum::routing::{delete, get, post};
use axum::Router;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

use crate::config::BODY_LIMIT_BYTES;
use crate::{layers, ratelimit, AppState};

pub fn router(state: Arc<AppState>) -> Router {
    // Only the API is rate limited; probes and scrapes are not.
    let api = Router::new()
        .route("/v1/sessions", post(sessions::create))
        .route("/v1/sessions/{id}/token", post(sessions::refresh))
        .route("/v1/sessions/{id}", delete(sessions::end))
        .route("/v1/agents/availability", get(agents::availability))
        .route_layer(from_fn_with_state(state.clone(), ratelimit::limit));

    let request_id = HeaderName::from_static("x-request-id");
    // `Router::layer` wraps what is above it, so read these bottom-up: the last layer sees requests first.
    Router::new()
        .route("/healthz", get(ops::healthz))
        .route("/metrics", get(ops::metrics))
        .route("/openapi.json", get(ops::openapi))
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
                // Method, path and request id only: no headers, no bodies, so no secrets.
                .make_span_with(|req: &axum::http::Request<_>| {
                    let id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-");
                    tracing::info_span!("request", id = %id, method = %req.method(), path = %req.uri().path())
                })
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
        .with_state(state)
}
