//! A small Twilio REST client: Basic auth, form-encoded bodies, JSON answers, Twilio error bodies turned into
//! [`CallError`], and retries with exponential backoff on 429, 5xx, timeouts and connection failures.
//!
//! Each call names an [`Operation`]: what it is called in logs and metrics, whether repeating it is safe (a
//! create that Twilio may already have performed is not repeated), and which paced lane it goes through
//! ([`crate::infra::pacing`]). It knows nothing about Flex; [`crate::twilio::flex`] builds the actual calls on top of it.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::infra::config::Config;
use crate::infra::secret::Secret;
use crate::infra::metrics::Metrics;
use crate::infra::pacing::{Lane, Pacer};

/// One kind of Twilio call.
#[derive(Debug, Clone, Copy)]
pub struct Operation {
    /// Its name in logs and in the `operation` label of `flexdesk_twilio_requests_total`.
    pub name: &'static str,
    /// Whether the call may be sent again after an answer that does not prove Twilio did nothing.
    pub repeatable: bool,
    /// The published rate limit it counts against, if any.
    pub lane: Option<Lane>,
}

impl Operation {
    /// A read, or an update that has the same effect however often it is sent.
    pub const fn repeatable(name: &'static str) -> Operation {
        Operation { name, repeatable: true, lane: None }
    }
    /// A create: sent again only when Twilio certainly did not perform it (429, 503, no connection).
    pub const fn create(name: &'static str) -> Operation {
        Operation { name, repeatable: false, lane: None }
    }
    /// The same operation, counted against the paced `lane` ([`crate::infra::pacing`]).
    pub const fn paced(self, lane: Lane) -> Operation {
        Operation { lane: Some(lane), ..self }
    }
}

/// The longest we honour a `Retry-After` header: a chat start should fail fast rather than hang.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(5);

/// Why a Twilio call failed. Every variant names the [`Operation::name`] of the call; `Display` is the log line.
#[derive(Debug, Clone, PartialEq)]
pub enum CallError {
    /// Twilio answered with an error status (for 429/5xx: after the last retry).
    Api {
        /// The call's [`Operation::name`].
        operation: &'static str,
        /// The HTTP status.
        status: u16,
        /// Twilio's error code from the body, when there is one (<https://www.twilio.com/docs/api/errors>).
        code: Option<u64>,
        /// Twilio's message from the body (or the status's reason).
        message: String,
    },
    /// No answer at all (timeout, connection refused, DNS...), after the last retry.
    Unreachable {
        /// The call's [`Operation::name`].
        operation: &'static str,
        /// What went wrong, for the log.
        detail: String,
    },
    /// A success status whose body was not the JSON we expected.
    BadResponse {
        /// The call's [`Operation::name`].
        operation: &'static str,
        /// What was missing or wrong, for the log.
        detail: String,
    },
    /// Not sent: Twilio's published rate for this endpoint is taken for longer than we wait (see [`crate::infra::pacing`]).
    Busy {
        /// The call's [`Operation::name`].
        operation: &'static str,
        /// Seconds until a slot is expected to be free.
        retry_after_secs: u64,
    },
}

impl fmt::Display for CallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CallError::Api { operation, status, code: Some(code), message } => {
                write!(f, "Twilio {operation}: HTTP {status}, error {code}: {message}")
            }
            CallError::Api { operation, status, code: None, message } => write!(f, "Twilio {operation}: HTTP {status}: {message}"),
            CallError::Unreachable { operation, detail } => write!(f, "Twilio {operation}: unreachable: {detail}"),
            CallError::BadResponse { operation, detail } => write!(f, "Twilio {operation}: unexpected answer: {detail}"),
            CallError::Busy { operation, retry_after_secs } => {
                write!(f, "Twilio {operation}: not sent, the endpoint's rate is taken for the next {retry_after_secs} s")
            }
        }
    }
}

impl std::error::Error for CallError {}

impl CallError {
    /// Twilio's 404 for the resource itself (used to make closing idempotent).
    pub fn is_not_found(&self) -> bool {
        matches!(self, CallError::Api { status: 404, .. })
    }

    /// Twilio's error code, when it answered one.
    pub fn code(&self) -> Option<u64> {
        match self {
            CallError::Api { code, .. } => *code,
            _ => None,
        }
    }
}

/// What the calls so far say about reaching Twilio, for `/readyz` (see `routes::ready`): when Twilio last answered in a
/// way that proves it is reachable and takes our credentials, and when a call last failed for want of that.
#[derive(Default)]
pub struct Reachability {
    last_ok_ms: std::sync::atomic::AtomicU64,
    last_failure_ms: std::sync::atomic::AtomicU64,
    /// The first failure since the last good answer (0: none since), for the grace of `/readyz`.
    failing_since_ms: std::sync::atomic::AtomicU64,
    /// The last readiness probe's outcome (`routes::ready`); held while a probe runs, so concurrent `/readyz` share it.
    pub probe: tokio::sync::Mutex<Option<ProbeOutcome>>,
}

/// One readiness probe: when it ended (unix ms) and, when it failed, a reason code.
#[derive(Debug, Clone)]
pub struct ProbeOutcome {
    /// When the probe ended, Unix milliseconds.
    pub at_ms: u64,
    /// `None` when it succeeded, else a short reason code.
    pub failure: Option<&'static str>,
}

impl Reachability {
    /// Records the outcome of one Twilio call.
    pub fn record(&self, result: &Result<Value, CallError>) {
        match result {
            // Twilio answered and accepted the credentials: a 404 or 400 is about the resource, not about reaching it.
            Ok(_) => self.mark(true),
            Err(CallError::Api { status: 401 | 403, .. } | CallError::Api { status: 500.., .. } | CallError::Unreachable { .. }) => self.mark(false),
            Err(CallError::Api { .. }) => self.mark(true),
            // Not sent (paced out), or an answer of an unexpected shape: says nothing about reaching Twilio.
            Err(CallError::Busy { .. } | CallError::BadResponse { .. }) => {}
        }
    }
    /// Records a probe's verdict directly (`routes::ready`: a 404 for the probed service is not "reachable").
    pub fn mark(&self, ok: bool) {
        use std::sync::atomic::Ordering::Relaxed;
        let now = now_ms();
        if ok {
            self.last_ok_ms.store(now, Relaxed);
            self.failing_since_ms.store(0, Relaxed);
        } else {
            self.last_failure_ms.store(now, Relaxed);
            // Only the first failure of a spell starts it; later ones leave its start alone.
            let _ = self.failing_since_ms.compare_exchange(0, now, Relaxed, Relaxed);
        }
    }
    /// Unix ms of the first failure since the last good answer (0: none since).
    pub fn failing_since_ms(&self) -> u64 {
        self.failing_since_ms.load(std::sync::atomic::Ordering::Relaxed)
    }
    /// Unix ms of the last good answer (0: none yet).
    pub fn last_ok_ms(&self) -> u64 {
        self.last_ok_ms.load(std::sync::atomic::Ordering::Relaxed)
    }
    /// Unix ms of the last failed call (0: none yet).
    pub fn last_failure_ms(&self) -> u64 {
        self.last_failure_ms.load(std::sync::atomic::Ordering::Relaxed)
    }
}

/// Wall-clock milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

/// The Twilio REST client shared by every request (cheap to clone). Authenticates with the API key pair, never with
/// the Auth Token: that master credential stays with the webhook signature check (`http::webhooks`), so a leaked or
/// logged REST credential is a key that can be revoked alone (<https://www.twilio.com/docs/iam/api-keys>).
#[derive(Clone)]
pub struct TwilioClient {
    http: reqwest::Client,
    username: String,
    password: Secret,
    max_retries: u32,
    retry_base: Duration,
    metrics: Arc<Metrics>,
    pacer: Arc<Pacer>,
    reachability: Arc<Reachability>,
}

impl TwilioClient {
    /// A client for this process alone (pacing not shared with other replicas).
    pub fn new(config: &Config, metrics: Arc<Metrics>) -> TwilioClient {
        TwilioClient::with_redis(config, metrics, None)
    }

    /// With `shared`, the pacing of rate-limited endpoints holds across every replica (see [`crate::chat::replicas`]).
    pub fn with_redis(config: &Config, metrics: Arc<Metrics>, redis: Option<Arc<crate::infra::redis::Redis>>) -> TwilioClient {
        let http = reqwest::Client::builder()
            .timeout(config.twilio_timeout)
            .connect_timeout(config.twilio_timeout)
            // Never follow redirects with our credentials attached.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("flexdesk-auth/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("reqwest client with rustls");
        let pacer = Arc::new(Pacer::new(config.twilio_rates, config.twilio_pacing_max_wait).with_redis(redis));
        TwilioClient {
            http,
            // Basic auth with the API key SID + secret (https://www.twilio.com/docs/usage/requests-to-twilio).
            username: config.api_key_sid.to_string(),
            password: config.api_key_secret.clone(),
            max_retries: config.twilio_max_retries,
            retry_base: config.twilio_retry_base,
            metrics,
            pacer,
            reachability: Default::default(),
        }
    }

    /// What the calls so far say about reaching Twilio (for `/readyz`).
    pub fn reachability(&self) -> &Reachability {
        &self.reachability
    }

    /// This client with other Basic credentials and retry count (e.g. `doctor` checks the API key on its own, and a
    /// readiness probe must answer quickly); it shares nothing with `self` but the HTTP connection pool.
    pub fn with_credentials(&self, username: &str, password: &Secret, max_retries: u32) -> TwilioClient {
        TwilioClient {
            username: username.to_string(),
            password: password.clone(),
            max_retries,
            reachability: Default::default(),
            ..self.clone()
        }
    }

    /// POSTs `form` (form-encoded) to `url` and returns the JSON answer; retried per [`Operation::repeatable`].
    pub async fn post_form(&self, operation: Operation, url: &str, form: &[(&str, String)]) -> Result<Value, CallError> {
        self.call(operation, Method::POST, url, form).await
    }

    /// As [`TwilioClient::post_form`], with `X-Twilio-Webhook-Enabled: true`: a REST change fires the Conversations
    /// webhooks and an address's integration only with it (twilio-oai: the header parameter of the Conversations
    /// create operations; <https://help.twilio.com/articles/360046342593>).
    pub async fn post_form_firing_webhooks(&self, operation: Operation, url: &str, form: &[(&str, String)]) -> Result<Value, CallError> {
        self.call_with(operation, Method::POST, url, form, true).await
    }

    /// DELETEs `url` (Twilio answers 204, [`Value::Null`] here); retried per [`Operation::repeatable`].
    pub async fn delete(&self, operation: Operation, url: &str) -> Result<Value, CallError> {
        self.call(operation, Method::DELETE, url, &[]).await
    }

    /// GETs `url` and returns the JSON answer, retried on 429, 5xx and connection failures.
    pub async fn get(&self, operation: Operation, url: &str) -> Result<Value, CallError> {
        self.call(operation, Method::GET, url, &[]).await
    }

    /// One GET, never retried, not counted in [`TwilioClient::reachability`] (probes decide what their answer means).
    pub async fn get_once(&self, operation: Operation, url: &str) -> Result<Value, CallError> {
        self.with_credentials(&self.username.clone(), &self.password.clone(), 0).get(operation, url).await
    }

    /// One logical call: up to `1 + max_retries` attempts, each paced when the operation has a lane.
    ///
    /// Twilio has no general idempotency key, so a create is sent again only when the answer proves it was not
    /// performed: 429 (refused by the rate limiter), 503 (not handled), or no connection at all. A timeout or
    /// another 5xx may hide a conversation or task Twilio did create; repeating it would hand the agents a
    /// duplicate, so the caller gets the error instead.
    async fn call(&self, op: Operation, method: Method, url: &str, form: &[(&str, String)]) -> Result<Value, CallError> {
        self.call_with(op, method, url, form, false).await
    }

    async fn call_with(&self, op: Operation, method: Method, url: &str, form: &[(&str, String)], fire_webhooks: bool) -> Result<Value, CallError> {
        let operation = op.name;
        let mut attempt = 0;
        loop {
            if let Some(lane) = op.lane {
                if let Err(busy) = self.pacer.wait(lane).await {
                    self.metrics.record_twilio(operation, "paced_out");
                    return Err(CallError::Busy { operation, retry_after_secs: busy.retry_after_secs });
                }
            }
            let mut request = self
                .http
                .request(method.clone(), url)
                .basic_auth(&self.username, Some(self.password.expose()))
                .header("Accept", "application/json");
            if method != Method::GET {
                request = request.form(form);
            }
            if fire_webhooks {
                request = request.header("X-Twilio-Webhook-Enabled", "true");
            }
            let outcome = request.send().await;
            let retry_after = match &outcome {
                Ok(resp) if is_retryable(resp.status(), op.repeatable) => Some(retry_after(resp.headers())),
                Err(e) if e.is_connect() => Some(None),
                Err(e) if op.repeatable && (e.is_timeout() || e.is_request()) => Some(None),
                _ => None,
            };
            if let Some(hint) = retry_after {
                if attempt < self.max_retries {
                    self.metrics.record_twilio(operation, "retried");
                    let backoff = self.retry_base * 2u32.saturating_pow(attempt);
                    let wait = hint.unwrap_or_default().max(backoff);
                    tracing::warn!(operation, attempt = attempt + 1, wait_ms = wait.as_millis() as u64, "Twilio call failed, retrying");
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                    continue;
                }
            }
            let result = match outcome {
                Ok(resp) => read_answer(operation, resp).await,
                Err(e) => Err(CallError::Unreachable { operation, detail: without_url(&e) }),
            };
            self.metrics.record_twilio(operation, if result.is_ok() { "ok" } else { "error" });
            self.reachability.record(&result);
            return result;
        }
    }
}

fn is_retryable(status: StatusCode, repeatable: bool) -> bool {
    match status {
        StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE => true,
        s => repeatable && s.is_server_error(),
    }
}

/// `Retry-After` in seconds (Twilio does not send HTTP dates), capped.
fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let secs: u64 = headers.get("retry-after")?.to_str().ok()?.trim().parse().ok()?;
    Some(Duration::from_secs(secs).min(MAX_RETRY_AFTER))
}

/// reqwest's message without the URL (kept short for logs and errors).
fn without_url(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "connection failed"
    } else {
        "request failed"
    };
    kind.to_string()
}

async fn read_answer(operation: &'static str, resp: reqwest::Response) -> Result<Value, CallError> {
    let status = resp.status();
    let body = resp.bytes().await.map_err(|e| CallError::Unreachable { operation, detail: without_url(&e) })?;
    if status.is_success() {
        if body.is_empty() {
            return Ok(Value::Null); // 204 No Content (e.g. DELETE)
        }
        return serde_json::from_slice(&body).map_err(|e| CallError::BadResponse { operation, detail: format!("HTTP {status}, not JSON: {e}") });
    }
    // Twilio's error body: {"code": 20404, "message": "...", "more_info": "...", "status": 404}
    let parsed: Option<Value> = serde_json::from_slice(&body).ok();
    let code = parsed.as_ref().and_then(|v| v.get("code")).and_then(Value::as_u64);
    let message = parsed
        .as_ref()
        .and_then(|v| v.get("message"))
        .and_then(Value::as_str)
        .unwrap_or_else(|| status.canonical_reason().unwrap_or("error"))
        .chars()
        .take(300)
        .collect();
    Err(CallError::Api { operation, status: status.as_u16(), code, message })
}

/// Reads a string field of a Twilio answer or explains which one is missing.
pub fn field<'a>(operation: Operation, value: &'a Value, name: &str) -> Result<&'a str, CallError> {
    value
        .get(name)
        .and_then(Value::as_str)
        .ok_or_else(|| CallError::BadResponse { operation: operation.name, detail: format!("no string field {name:?}") })
}
