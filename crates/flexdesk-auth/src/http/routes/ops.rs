//! Operational endpoints: health and Prometheus metrics (the OpenAPI document is served by `openapi.rs`).

use std::sync::Arc;

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::Json;
use serde_json::{json, Value};

use crate::http::state::AppState;

/// Liveness: answers while the process serves requests.
#[utoipa::path(get, path = "/healthz", tag = "ops", responses((status = 200, description = "`{\"status\":\"ok\"}`")))]
pub async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// Prometheus metrics (OpenMetrics text): requests by route and status, latency histogram, Twilio call
/// outcomes, rate-limit and start refusals, open sessions. Served on the admin listener only.
#[utoipa::path(get, path = "/metrics", tag = "ops", responses((status = 200, description = "OpenMetrics text 1.0 (admin listener only)", content_type = "application/openmetrics-text")))]
pub async fn metrics(State(state): State<Arc<AppState>>) -> impl IntoResponse {
    let text = state.metrics.render(state.sessions.open_count(crate::infra::clock::unix_now()));
    ([(header::CONTENT_TYPE, crate::infra::metrics::CONTENT_TYPE)], text)
}
