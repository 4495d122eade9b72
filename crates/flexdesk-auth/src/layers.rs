//! Cross-cutting HTTP behaviour: the CORS allowlist, refusing unlisted origins outright, turning every
//! non-JSON error (404, 405, 413, timeouts, panics) into our JSON error, and request metrics.

use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tower_http::cors::{AllowOrigin, CorsLayer};

use flexdesk_core::wire::ApiError;

use crate::error::AppError;
use crate::AppState;

/// CORS for exactly the configured origins. No credentials mode: the session credential travels in the
/// body or an `Authorization` header the page sets itself, never in cookies.
pub fn cors(origins: &[String]) -> CorsLayer {
    let origins: Vec<HeaderValue> = origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()).collect();
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_methods([Method::GET, Method::POST, Method::DELETE])
        .allow_headers([header::CONTENT_TYPE, header::AUTHORIZATION])
        .expose_headers([header::HeaderName::from_static("x-request-id"), header::RETRY_AFTER])
        .max_age(std::time::Duration::from_secs(600))
}

/// A browser request from an origin not on the list gets a clear 403 instead of a silently header-less
/// answer (preflights included). Requests without `Origin` (curl, server-to-server) are not affected.
pub async fn origin_guard(State(state): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    if let Some(origin) = req.headers().get(header::ORIGIN) {
        let allowed = origin.to_str().map(|o| state.config.allowed_origins.iter().any(|a| a == o)).unwrap_or(false);
        if !allowed {
            tracing::info!(origin = ?origin, "origin not allowed");
            return AppError::new(StatusCode::FORBIDDEN, "origin_not_allowed", "this origin is not allowed to use the API (see ALLOWED_ORIGINS)")
                .into_response();
        }
    }
    next.run(req).await
}

/// Rewrites any error response that is not already JSON into `{"error":{"code","message"}}`,
/// keeping status and headers (`Allow`, `Retry-After`...).
pub async fn json_errors(resp: Response) -> Response {
    let status = resp.status();
    let is_json = resp.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return resp;
    }
    let (code, message) = match status {
        StatusCode::NOT_FOUND => ("not_found", "no such endpoint"),
        StatusCode::METHOD_NOT_ALLOWED => ("method_not_allowed", "method not allowed on this endpoint"),
        StatusCode::PAYLOAD_TOO_LARGE => ("payload_too_large", "request body too large (limit 64 KB)"),
        StatusCode::GATEWAY_TIMEOUT | StatusCode::REQUEST_TIMEOUT => ("timeout", "the request took too long"),
        s if s.is_server_error() => ("internal_error", "internal error"),
        _ => ("bad_request", "bad request"),
    };
    let (mut parts, _) = resp.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    let body = serde_json::to_vec(&ApiError::new(code, message)).expect("plain struct");
    Response::from_parts(parts, Body::from(body))
}

/// Counts requests by route pattern and status, and times them.
pub async fn track_metrics(State(state): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let route = req.extensions().get::<MatchedPath>().map(|p| p.as_str().to_string()).unwrap_or_else(|| "unmatched".into());
    let method = req.method().clone();
    let started = Instant::now();
    let resp = next.run(req).await;
    state.metrics.record_request(&route, &method, resp.status().as_u16(), started.elapsed());
    resp
}

/// The caller's `x-request-id`, kept only as a separate log field and only when it is short and plain
/// (letters, digits, `-`, `_`, `.`, `:`; at most 64): a caller must not be able to forge or break our log lines.
#[derive(Debug, Clone)]
pub struct CallerRequestId(pub String);

/// Takes the caller's `x-request-id` off the request (our own is generated after this), keeping a sanitized copy.
pub async fn own_request_id(mut req: Request, next: Next) -> Response {
    if let Some(value) = req.headers_mut().remove("x-request-id") {
        let plain = value
            .to_str()
            .ok()
            .filter(|v| !v.is_empty() && v.len() <= 64 && v.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b)));
        if let Some(v) = plain {
            let v = v.to_string();
            req.extensions_mut().insert(CallerRequestId(v));
        }
    }
    next.run(req).await
}

/// `Cache-Control: no-store` on every API answer: they carry access tokens and session credentials, which no
/// browser or proxy cache may keep.
pub async fn no_store(req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}
