//! The HTTP layer: routes, layers, extractors, the OpenAPI document, and the state a handler reaches.
//!
//! The routers: the public API plus the hardening layers (outermost first), and the admin router
//! (`/metrics`, `/openapi.json`, `/healthz`) served on its own listener, off the public one.

pub mod budgets;
pub mod extract;
pub mod layers;
pub mod openapi;
pub mod ratelimit;
pub mod routes;
pub mod schemas;
pub mod serve;
pub mod state;
pub mod webhooks;

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::http::HeaderName;
use axum::response::IntoResponse;
use axum::routing::{delete, get, post};
use axum::Router;
use tower::util::MapResponseLayer;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

use crate::infra::config::BODY_LIMIT_BYTES;
use crate::http::layers::CallerRequestId;
use crate::http::state::AppState;
use crate::http::routes::{agents, media, ops, queue, rating, ready, sessions, sms, status};

/// The public listener: the API and `/healthz` (for load balancers). No metrics, no OpenAPI document.
pub fn router(state: Arc<AppState>) -> Router {
    // Only the API is rate limited; probes are not. Every API answer is `Cache-Control: no-store`.
    let api = Router::new()
        .route("/v1/sessions", post(sessions::create))
        .route("/v1/sessions/{id}/token", post(sessions::refresh))
        .route("/v1/sessions/{id}", delete(sessions::end))
        .route("/v1/sessions/{id}/leave", post(crate::http::routes::leave::leave))
        .route("/v1/agents/availability", get(agents::availability))
        .route("/v1/sessions/{id}/queue", get(queue::position))
        .route("/v1/sessions/{id}/rating", post(rating::rate))
        .route("/v1/sessions/{id}/erase", post(crate::http::routes::erase::erase))
        .route("/v1/media/{mediaSid}", get(media::open))
        .route("/v1/sessions/{id}/sms", post(sms::continue_by_sms))
        // One `route_layer` call: each call boxes the routes once more (see below).
        .route_layer(ServiceBuilder::new().map_response(layers::no_store).layer(ratelimit::LimitLayer(state.clone())));

    let request_id = HeaderName::from_static("x-request-id");
    Router::new()
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ready::readyz))
        // Twilio's webhooks: signed (403 otherwise), not per-client rate limited (Twilio posts from few addresses).
        .route(crate::http::webhooks::PATH, post(crate::http::webhooks::receive))
        .merge(api)
        // Every route (and the 404/405 answers) gets these, outermost first, in one `Router::layer` call: axum boxes
        // the routes once per call and clones each box for every request, so one layer per call cost a clone of
        // everything below it and a boxed future per layer and request. Metrics, the rate limiter and the span need
        // the matched route pattern, which exists only below the router, so the stack stays on the routes.
        .layer(
            ServiceBuilder::new()
                // Always our own id: the caller's header is taken off first (and kept aside, sanitized).
                .map_request(layers::own_request_id)
                .layer(SetRequestIdLayer::new(request_id.clone(), layers::RequestIds))
                .layer(
                    TraceLayer::new_for_http()
                        // Method, path and our request id only: no headers, no bodies, so no secrets. The caller's own
                        // request id (sanitized) is a separate field, never our `id`. (Span fields are only evaluated
                        // when the span is enabled.)
                        .make_span_with(|req: &axum::http::Request<_>| {
                            tracing::info_span!(
                                "request",
                                id = %req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-"),
                                caller_id = %req.extensions().get::<CallerRequestId>().map(|c| c.0.as_str()).unwrap_or("-"),
                                method = %req.method(),
                                path = %req.uri().path()
                            )
                        })
                        .on_response(DefaultOnResponse::new().level(Level::INFO)),
                )
                .layer(PropagateRequestIdLayer::new(request_id))
                .map_response(layers::json_errors)
                .layer(layers::TrackMetricsLayer(state.metrics.clone()))
                .layer(CatchPanicLayer::new())
                .layer(layers::OriginGuardLayer(state.clone()))
                .layer(layers::cors(&state.config.allowed_origins))
                .layer(layers::LazyTimeoutLayer(state.config.request_timeout))
                .map_response(IntoResponse::into_response)
                // Refuses a too-large Content-Length before reading anything.
                .layer(RequestBodyLimitLayer::new(BODY_LIMIT_BYTES))
                .layer(DefaultBodyLimit::max(BODY_LIMIT_BYTES)),
        )
        .with_state(state)
}

/// The admin listener (`ADMIN_PORT`, `ADMIN_BIND`): Prometheus metrics, the queues' status page, the OpenAPI document,
/// health.
pub fn admin_router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/metrics", get(ops::metrics))
        .route("/status", get(status::page))
        .route("/openapi.json", get(crate::http::openapi::document))
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ready::readyz))
        .layer(MapResponseLayer::new(layers::json_errors))
        .with_state(state)
}
