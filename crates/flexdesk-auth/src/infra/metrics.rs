//! Prometheus metrics through the official `prometheus-client` crate, served on the admin listener at
//! `GET /metrics` (OpenMetrics text).
//!
//! Every label set is bounded: routes are labelled by their pattern (`/v1/sessions/{id}`, or `unmatched`), never
//! the raw path; methods outside a fixed list are `other`; statuses are the codes the API answers, anything else
//! its class (`5xx`). So no request can add a series (300 made-up 20 KB methods once grew the page to 6 MB).

use std::sync::{Arc, OnceLock, RwLock};
use std::time::Duration;

use axum::http::Method;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// Latency bucket upper bounds, seconds.
const BUCKETS: [f64; 11] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

/// Content type of [`Metrics::render`].
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: String,
    method: &'static str,
    status: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TwilioLabels {
    operation: &'static str,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BudgetLabels {
    budget: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OpLabels {
    op: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabels {
    reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct QueueLabels {
    queue: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct AbandonLabels {
    queue: String,
    reason: &'static str,
}

type HistogramFamily = Family<RouteLabels, Histogram, fn() -> Histogram>;
type QueueHistograms = Family<QueueLabels, Histogram, fn() -> Histogram>;

/// Wait bucket upper bounds, seconds: from a few seconds to an hour, where a contact centre's service levels sit
/// (e.g. "80 % answered within 20 s" needs a bound at 20).
pub const WAIT_BUCKETS: [f64; 12] = [5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 180.0, 300.0, 600.0, 1200.0, 1800.0, 3600.0];
/// Chat duration bucket upper bounds, seconds: a minute to two hours.
pub const DURATION_BUCKETS: [f64; 10] = [60.0, 120.0, 300.0, 600.0, 900.0, 1200.0, 1800.0, 2700.0, 3600.0, 7200.0];

/// The Prometheus metrics of this process (`flexdesk_*`), served by the admin app's `/metrics`; one per
/// [`crate::http::state::AppState`].
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: HistogramFamily,
    twilio: Family<TwilioLabels, Counter>,
    rate_limited: Family<BudgetLabels, Counter>,
    starts_refused: Family<ReasonLabels, Counter>,
    open_sessions: Gauge,
    redis_up: Gauge,
    redis_fallbacks: Family<OpLabels, Counter>,
    /// The queue figures (issue 28, `chat::figures`), labelled by queue: bounded by the workspace's queues.
    queue_wait: QueueHistograms,
    chat_duration: QueueHistograms,
    chats_answered: Family<QueueLabels, Counter>,
    chats_abandoned: Family<AbandonLabels, Counter>,
    chats_waiting: Family<QueueLabels, Gauge>,
    /// Each route's series, resolved once (a family lookup hashes the labels under a lock; requests reuse these).
    routes: RwLock<Vec<Arc<RouteMetrics>>>,
}

/// The series of one route (a pattern or `unmatched`): its latency histogram and, created at first use as the
/// families would, its counter per method label and status label.
pub struct RouteMetrics {
    route: String,
    requests: Family<RequestLabels, Counter>,
    counters: Box<[OnceLock<Counter>]>,
    latency: Histogram,
}

impl RouteMetrics {
    /// Counts one answered request (`flexdesk_http_requests_total`) and its latency
    /// (`flexdesk_http_request_duration_seconds`).
    pub fn record(&self, method: &Method, status: u16, elapsed: Duration) {
        let (method, m) = method_label(method);
        let (status, s) = status_label(status);
        self.counters[m * STATUS_LABELS + s]
            .get_or_init(|| self.requests.get_or_create(&RequestLabels { route: self.route.clone(), method, status }).clone())
            .inc();
        self.latency.observe(elapsed.as_secs_f64());
    }
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::default();
        let requests = Family::<RequestLabels, Counter>::default();
        let latency: HistogramFamily = Family::new_with_constructor(|| Histogram::new(BUCKETS));
        let twilio = Family::<TwilioLabels, Counter>::default();
        let rate_limited = Family::<BudgetLabels, Counter>::default();
        let starts_refused = Family::<ReasonLabels, Counter>::default();
        let open_sessions = Gauge::default();
        let redis_up = Gauge::default();
        let redis_fallbacks = Family::<OpLabels, Counter>::default();
        // Counters get `_total` appended by the encoder: these are flexdesk_http_requests_total etc.
        registry.register("flexdesk_http_requests", "HTTP requests by route, method and status", requests.clone());
        registry.register("flexdesk_http_request_duration_seconds", "HTTP request latency by route", latency.clone());
        registry.register(
            "flexdesk_twilio_requests",
            "Twilio REST attempts by operation and outcome (ok, retried, error, paced_out)",
            twilio.clone(),
        );
        registry.register("flexdesk_rate_limited", "Requests refused with 429 rate_limited, by budget", rate_limited.clone());
        registry.register(
            "flexdesk_starts_refused",
            "Chat starts refused before reaching Twilio (too_many_sessions, verification)",
            starts_refused.clone(),
        );
        registry.register("flexdesk_open_sessions", "Chats started here and not ended", open_sessions.clone());
        registry.register("flexdesk_redis_up", "1 while the shared state in Redis (REDIS_URL) answers, else 0", redis_up.clone());
        registry.register(
            "flexdesk_redis_fallbacks",
            "Decisions taken from this replica's own state because Redis was unreachable, by kind (ratelimit, caps, pacing, ended, connect)",
            redis_fallbacks.clone(),
        );
        let queue_wait: QueueHistograms = Family::new_with_constructor(|| Histogram::new(WAIT_BUCKETS));
        let chat_duration: QueueHistograms = Family::new_with_constructor(|| Histogram::new(DURATION_BUCKETS));
        let chats_answered = Family::<QueueLabels, Counter>::default();
        let chats_abandoned = Family::<AbandonLabels, Counter>::default();
        let chats_waiting = Family::<QueueLabels, Gauge>::default();
        registry.register(
            "flexdesk_queue_wait_seconds",
            "Chat tasks: time from the task's creation to an agent accepting it (TaskRouter's TaskAge at reservation.accepted), by queue",
            queue_wait.clone(),
        );
        registry.register("flexdesk_chats_answered", "Chat tasks an agent accepted, by queue", chats_answered.clone());
        registry.register(
            "flexdesk_chats_abandoned",
            "Chat tasks canceled before an agent accepted them, by queue and reason (customer, tab_closed, idle, flex)",
            chats_abandoned.clone(),
        );
        registry.register(
            "flexdesk_chat_duration_seconds",
            "Chats with an agent: time from the agent accepting to the chat's end (task.wrapup, else task.completed), by queue",
            chat_duration.clone(),
        );
        registry.register("flexdesk_chats_waiting", "Chat tasks in a queue, not yet accepted nor canceled, by queue", chats_waiting.clone());
        Metrics {
            registry,
            requests,
            latency,
            twilio,
            rate_limited,
            starts_refused,
            open_sessions,
            redis_up,
            redis_fallbacks,
            queue_wait,
            chat_duration,
            chats_answered,
            chats_abandoned,
            chats_waiting,
            routes: Default::default(),
        }
    }
}

const METHOD_LABELS: usize = 8;
const STATUS_LABELS: usize = CODES.len() + 5;

/// The method as a label: one of a fixed list, else `other`; and its index.
fn method_label(method: &Method) -> (&'static str, usize) {
    match *method {
        Method::GET => ("GET", 0),
        Method::POST => ("POST", 1),
        Method::DELETE => ("DELETE", 2),
        Method::OPTIONS => ("OPTIONS", 3),
        Method::HEAD => ("HEAD", 4),
        Method::PUT => ("PUT", 5),
        Method::PATCH => ("PATCH", 6),
        _ => ("other", 7),
    }
}

const CODES: [(u16, &str); 17] = [
    (200, "200"),
    (201, "201"),
    (204, "204"),
    (400, "400"),
    (401, "401"),
    (403, "403"),
    (404, "404"),
    (405, "405"),
    (413, "413"),
    (415, "415"),
    (422, "422"),
    (429, "429"),
    (500, "500"),
    (502, "502"),
    (503, "503"),
    (504, "504"),
    (501, "501"),
];

/// The status as a label: a code this API answers, else the class; and its index.
fn status_label(status: u16) -> (&'static str, usize) {
    if let Some(i) = CODES.iter().position(|(c, _)| *c == status) {
        return (CODES[i].1, i);
    }
    match status / 100 {
        1 => ("1xx", CODES.len()),
        2 => ("2xx", CODES.len() + 1),
        3 => ("3xx", CODES.len() + 2),
        4 => ("4xx", CODES.len() + 3),
        _ => ("5xx", CODES.len() + 4),
    }
}

impl Metrics {
    /// `route` must be a route pattern (or `unmatched`), never a raw path.
    pub fn record_request(&self, route: &str, method: &Method, status: u16, elapsed: Duration) {
        self.route(route).record(method, status, elapsed);
    }

    /// The series of `route`, which must be a route pattern (or `unmatched`), never a raw path: one entry per
    /// pattern, so the list stays as short as the router's.
    pub fn route(&self, route: &str) -> Arc<RouteMetrics> {
        let found = |routes: &[Arc<RouteMetrics>]| routes.iter().find(|r| r.route == route).cloned();
        if let Some(r) = found(&self.routes.read().unwrap_or_else(|e| e.into_inner())) {
            return r;
        }
        let mut routes = self.routes.write().unwrap_or_else(|e| e.into_inner());
        if let Some(r) = found(&routes) {
            return r;
        }
        let r = Arc::new(RouteMetrics {
            route: route.to_string(),
            requests: self.requests.clone(),
            counters: (0..METHOD_LABELS * STATUS_LABELS).map(|_| OnceLock::new()).collect(),
            latency: self.latency.get_or_create(&RouteLabels { route: route.to_string() }).clone(),
        });
        routes.push(r.clone());
        r
    }

    /// Counts one call to Twilio (`flexdesk_twilio_requests_total{operation, outcome}`).
    pub fn record_twilio(&self, operation: &'static str, outcome: &'static str) {
        self.twilio.get_or_create(&TwilioLabels { operation, outcome }).inc();
    }

    /// Counts one request refused with 429 `rate_limited` (`flexdesk_rate_limited_total{budget}`).
    pub fn record_rate_limited(&self, budget: &'static str) {
        self.rate_limited.get_or_create(&BudgetLabels { budget }).inc();
    }

    /// Counts one chat start refused before Twilio was called (`flexdesk_starts_refused_total{reason}`).
    pub fn record_start_refused(&self, reason: &'static str) {
        self.starts_refused.get_or_create(&ReasonLabels { reason }).inc();
    }

    /// Sets `flexdesk_redis_up`: whether the shared state in Redis (`REDIS_URL`) answers.
    pub fn set_redis_up(&self, up: bool) {
        self.redis_up.set(i64::from(up));
    }

    /// `op`: one of a fixed set of names (see [`crate::chat::replicas`]).
    pub fn record_redis_fallback(&self, op: &'static str) {
        self.redis_fallbacks.get_or_create(&OpLabels { op }).inc();
    }

    /// A chat task accepted after waiting `wait_seconds` in `queue` (`flexdesk_queue_wait_seconds`,
    /// `flexdesk_chats_answered_total`).
    pub fn record_answered(&self, queue: &str, wait_seconds: u64) {
        let labels = QueueLabels { queue: queue.to_string() };
        self.queue_wait.get_or_create(&labels).observe(wait_seconds as f64);
        self.chats_answered.get_or_create(&labels).inc();
    }

    /// A chat task canceled before an agent took it (`flexdesk_chats_abandoned_total{queue, reason}`).
    pub fn record_abandoned(&self, queue: &str, reason: &'static str) {
        self.chats_abandoned.get_or_create(&AbandonLabels { queue: queue.to_string(), reason }).inc();
    }

    /// A chat with an agent that lasted `seconds` (`flexdesk_chat_duration_seconds`).
    pub fn record_chat_duration(&self, queue: &str, seconds: u64) {
        self.chat_duration.get_or_create(&QueueLabels { queue: queue.to_string() }).observe(seconds as f64);
    }

    /// How many chat tasks wait in `queue` now (`flexdesk_chats_waiting`).
    pub fn set_waiting(&self, queue: &str, waiting: usize) {
        self.chats_waiting.get_or_create(&QueueLabels { queue: queue.to_string() }).set(waiting as i64);
    }

    /// OpenMetrics text, with the open-session gauge set to `open_sessions` first.
    pub fn render(&self, open_sessions: usize) -> String {
        self.open_sessions.set(open_sessions as i64);
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry).expect("writing to a String");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_cumulative_buckets() {
        let m = Metrics::default();
        m.record_request("/healthz", &Method::GET, 200, Duration::from_millis(20));
        m.record_request("/healthz", &Method::GET, 200, Duration::from_millis(700));
        m.record_twilio("start_webchat", "retried");
        let text = m.render(3);
        assert!(text.contains("flexdesk_http_requests_total{route=\"/healthz\",method=\"GET\",status=\"200\"} 2"), "{text}");
        assert!(text.contains("flexdesk_http_request_duration_seconds_bucket{le=\"0.025\",route=\"/healthz\"} 1"), "{text}");
        assert!(text.contains("flexdesk_http_request_duration_seconds_bucket{le=\"1.0\",route=\"/healthz\"} 2"), "{text}");
        assert!(text.contains("flexdesk_http_request_duration_seconds_count{route=\"/healthz\"} 2"), "{text}");
        assert!(text.contains("flexdesk_twilio_requests_total{operation=\"start_webchat\",outcome=\"retried\"} 1"), "{text}");
        assert!(text.contains("flexdesk_open_sessions 3"), "{text}");
    }

    #[test]
    fn a_route_resolves_its_series_once() {
        let m = Metrics::default();
        assert!(Arc::ptr_eq(&m.route("/v1/sessions"), &m.route("/v1/sessions")));
        assert!(!Arc::ptr_eq(&m.route("/v1/sessions"), &m.route("unmatched")));
        m.route("/v1/sessions").record(&Method::POST, 201, Duration::ZERO);
        m.record_request("/v1/sessions", &Method::POST, 201, Duration::ZERO);
        let text = m.render(0);
        assert!(text.contains("flexdesk_http_requests_total{route=\"/v1/sessions\",method=\"POST\",status=\"201\"} 2"), "{text}");
        assert!(text.contains("flexdesk_http_request_duration_seconds_count{route=\"/v1/sessions\"} 2"), "{text}");
    }

    /// Regression: the method was a label as sent, so made-up methods grew the page without bound.
    #[test]
    fn unknown_methods_and_statuses_share_one_series() {
        let m = Metrics::default();
        for i in 0..500 {
            let method = Method::from_bytes(format!("JUNK{i}{}", "X".repeat(1000)).as_bytes()).unwrap();
            m.record_request("unmatched", &method, 400 + (i % 100) as u16, Duration::ZERO);
        }
        let text = m.render(0);
        assert!(text.len() < 8 * 1024, "{} bytes", text.len());
        assert!(text.contains("method=\"other\""), "{text}");
        assert!(!text.contains("JUNK"));
    }
}
