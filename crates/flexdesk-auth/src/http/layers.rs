//! Cross-cutting HTTP behaviour: the CORS allowlist, refusing unlisted origins outright, turning every
//! non-JSON error (404, 405, 413, timeouts, panics) into our JSON error, and request metrics.

use std::future::{ready, Future, Ready};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::task::{ready, Context, Poll};
use std::time::Instant;

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::MatchedPath;
use axum::http::{header, HeaderValue, Method, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::BoxError;
use futures_util::future::Either;
use pin_project_lite::pin_project;
use tower::{Layer, Service};
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::request_id::{MakeRequestId, RequestId};
use uuid::Uuid;

use flexdesk_core::wire::ApiError;

use crate::chat::error::{AppError, ErrorCode};
use crate::infra::metrics::{Metrics, RouteMetrics};
use crate::http::state::AppState;

/// CORS for exactly the configured origins. No credentials mode: the session credential travels in the
/// body or an `Authorization` header the page sets itself, never in cookies.
pub fn cors(origins: &[String]) -> CorsLayer {
    let origins: Arc<[HeaderValue]> = origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()).collect();
    CorsLayer::new()
        // The same test as `AllowOrigin::list`, behind an `Arc`: the layer is cloned for every request, a list with it.
        .allow_origin(AllowOrigin::predicate(move |origin, _| origins.contains(origin)))
        .allow_methods([Method::GET, Method::POST, Method::DELETE])
        .allow_headers([header::CONTENT_TYPE, header::AUTHORIZATION])
        .expose_headers([header::HeaderName::from_static("x-request-id"), header::RETRY_AFTER])
        .max_age(std::time::Duration::from_secs(600))
}

/// A browser request from an origin not on the list gets a clear 403 instead of a silently header-less
/// answer (preflights included). Requests without `Origin` (curl, server-to-server) are not affected.
#[derive(Clone)]
pub struct OriginGuardLayer(pub Arc<AppState>);

impl<S> Layer<S> for OriginGuardLayer {
    type Service = OriginGuard<S>;
    fn layer(&self, inner: S) -> OriginGuard<S> {
        OriginGuard { inner, state: self.0.clone() }
    }
}

/// The service [`OriginGuardLayer`] wraps around the routes.
#[derive(Clone)]
pub struct OriginGuard<S> {
    inner: S,
    state: Arc<AppState>,
}

impl<S, B> Service<Request<B>> for OriginGuard<S>
where
    S: Service<Request<B>, Response = Response>,
{
    type Response = Response;
    type Error = S::Error;
    type Future = Either<S::Future, Ready<Result<Response, S::Error>>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        if let Some(origin) = req.headers().get(header::ORIGIN) {
            let allowed = origin.to_str().map(|o| self.state.config.allowed_origins.iter().any(|a| a == o)).unwrap_or(false);
            if !allowed {
                tracing::info!(origin = ?origin, "origin not allowed");
                let refused = AppError::new(StatusCode::FORBIDDEN, ErrorCode::OriginNotAllowed, "this origin is not allowed to use the API (see ALLOWED_ORIGINS)")
                    .into_response();
                return Either::Right(ready(Ok(refused)));
            }
        }
        Either::Left(self.inner.call(req))
    }
}

/// Rewrites any error response that is not already JSON into `{"error":{"code","message"}}`,
/// keeping status and headers (`Allow`, `Retry-After`...).
pub fn json_errors<B>(resp: Response<B>) -> Response
where
    B: HttpBody<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    let status = resp.status();
    let is_json = resp.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return resp.map(Body::new);
    }
    let (code, message) = match status {
        StatusCode::NOT_FOUND => (ErrorCode::NotFound, "no such endpoint"),
        StatusCode::METHOD_NOT_ALLOWED => (ErrorCode::MethodNotAllowed, "method not allowed on this endpoint"),
        StatusCode::PAYLOAD_TOO_LARGE => (ErrorCode::PayloadTooLarge, "request body too large (limit 64 KB)"),
        StatusCode::GATEWAY_TIMEOUT | StatusCode::REQUEST_TIMEOUT => (ErrorCode::Timeout, "the request took too long"),
        s if s.is_server_error() => (ErrorCode::InternalError, "internal error"),
        _ => (ErrorCode::BadRequest, "bad request"),
    };
    let (mut parts, _) = resp.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    let body = serde_json::to_vec(&ApiError::new(code, message)).expect("plain struct");
    Response::from_parts(parts, Body::from(body))
}

/// Counts requests by route pattern and status, and times them. Outside everything that can answer on its own
/// (origin guard, CORS preflights, body limit, timeout, panics), so those answers are counted too.
#[derive(Clone)]
pub struct TrackMetricsLayer(pub Arc<Metrics>);

impl<S> Layer<S> for TrackMetricsLayer {
    type Service = TrackMetrics<S>;
    fn layer(&self, inner: S) -> TrackMetrics<S> {
        TrackMetrics { inner, metrics: self.0.clone() }
    }
}

/// The service [`TrackMetricsLayer`] wraps around the routes.
#[derive(Clone)]
pub struct TrackMetrics<S> {
    inner: S,
    metrics: Arc<Metrics>,
}

impl<S, B, ResB> Service<Request<B>> for TrackMetrics<S>
where
    S: Service<Request<B>, Response = Response<ResB>>,
{
    type Response = Response<ResB>;
    type Error = S::Error;
    type Future = Tracked<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let route = self.metrics.route(req.extensions().get::<MatchedPath>().map_or("unmatched", MatchedPath::as_str));
        let method = req.method().clone();
        Tracked { inner: self.inner.call(req), route, method, started: Instant::now() }
    }
}

pin_project! {
    /// The future of a [`TrackMetrics`] call: records the answer's status and latency when it completes.
    pub struct Tracked<F> {
        #[pin]
        inner: F,
        route: Arc<RouteMetrics>,
        method: Method,
        started: Instant,
    }
}

impl<F, ResB, E> Future for Tracked<F>
where
    F: Future<Output = Result<Response<ResB>, E>>,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let out = ready!(this.inner.poll(cx));
        if let Ok(resp) = &out {
            this.route.record(this.method, resp.status().as_u16(), this.started.elapsed());
        }
        Poll::Ready(out)
    }
}

/// The caller's `x-request-id`, kept only as a separate log field and only when it is short and plain
/// (letters, digits, `-`, `_`, `.`, `:`; at most 64): a caller must not be able to forge or break our log lines.
#[derive(Debug, Clone)]
pub struct CallerRequestId(pub String);

/// Takes the caller's `x-request-id` off the request (our own is generated after this), keeping a sanitized copy.
pub fn own_request_id<B>(mut req: Request<B>) -> Request<B> {
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
    req
}

/// Our request ids, UUID-shaped (version 8, "custom"): 8 random bytes drawn once per process, then a counter.
/// Unique within the process, and across processes and restarts by the random half; a v4 id per request asked
/// the kernel for randomness on every request (a `getrandom` system call).
#[derive(Clone, Copy, Default)]
pub struct RequestIds;

impl MakeRequestId for RequestIds {
    fn make_request_id<B>(&mut self, _: &Request<B>) -> Option<RequestId> {
        static PROCESS: OnceLock<[u8; 8]> = OnceLock::new();
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(PROCESS.get_or_init(|| Uuid::new_v4().as_u64_pair().0.to_be_bytes()));
        bytes[8..].copy_from_slice(&NEXT.fetch_add(1, Ordering::Relaxed).to_be_bytes());
        let mut text = [0u8; uuid::fmt::Hyphenated::LENGTH];
        let id = uuid::Builder::from_custom_bytes(bytes).into_uuid().hyphenated().encode_lower(&mut text);
        Some(RequestId::new(HeaderValue::from_str(id).expect("hex digits and dashes")))
    }
}

/// `Cache-Control: no-store` on every API answer: they carry access tokens and session credentials, which no
/// browser or proxy cache may keep.
pub fn no_store<B>(mut resp: Response<B>) -> Response<B> {
    resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_uuid_shaped_distinct_and_share_the_process_half() {
        let req = Request::new(());
        let ids: Vec<String> =
            (0..3).map(|_| RequestIds.make_request_id(&req).unwrap().header_value().to_str().unwrap().to_string()).collect();
        for id in &ids {
            let uuid = Uuid::parse_str(id).unwrap();
            assert_eq!((id.len(), uuid.get_version_num()), (36, 8), "{id}");
        }
        assert!(ids[0] != ids[1] && ids[1] != ids[2], "{ids:?}");
        assert_eq!(ids[0][..18], ids[2][..18], "{ids:?}");
    }
}

/// The request timeout (`REQUEST_TIMEOUT_SECONDS`, answered 504 and turned into JSON `timeout` by [`json_errors`]),
/// without a timer for requests that finish on their first poll. tower-http's `TimeoutLayer` arms a tokio timer for
/// every request, and inserting into and removing from the runtime's shared timer wheel cost about a fifth of the
/// refresh throughput (`node bench/run.mjs --only=refresh`: 46.8k req/s with it, 59.7k without), while a refresh with
/// healthy webhooks never waits on anything. The deadline still counts from the request's arrival.
#[derive(Clone, Copy)]
pub struct LazyTimeoutLayer(pub std::time::Duration);

impl<S> Layer<S> for LazyTimeoutLayer {
    type Service = LazyTimeout<S>;
    fn layer(&self, inner: S) -> Self::Service {
        LazyTimeout { inner, timeout: self.0 }
    }
}

/// The service of [`LazyTimeoutLayer`].
#[derive(Clone)]
pub struct LazyTimeout<S> {
    inner: S,
    timeout: std::time::Duration,
}

impl<S, ReqB> Service<Request<ReqB>> for LazyTimeout<S>
where
    S: Service<Request<ReqB>, Response = Response>,
{
    type Response = Response;
    type Error = S::Error;
    type Future = LazyTimeoutFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<ReqB>) -> Self::Future {
        LazyTimeoutFuture { inner: self.inner.call(req), deadline: tokio::time::Instant::now() + self.timeout, sleep: None }
    }
}

pin_project! {
    /// The future of a [`LazyTimeout`] call: the timer is armed only once the inner future has had to wait.
    pub struct LazyTimeoutFuture<F> {
        #[pin]
        inner: F,
        deadline: tokio::time::Instant,
        sleep: Option<Pin<Box<tokio::time::Sleep>>>,
    }
}

impl<F, E> Future for LazyTimeoutFuture<F>
where
    F: Future<Output = Result<Response, E>>,
{
    type Output = Result<Response, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        if let Poll::Ready(answer) = this.inner.poll(cx) {
            return Poll::Ready(answer);
        }
        let deadline = *this.deadline;
        let sleep = this.sleep.get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
        ready!(sleep.as_mut().poll(cx));
        Poll::Ready(Ok(StatusCode::GATEWAY_TIMEOUT.into_response()))
    }
}
