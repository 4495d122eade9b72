//! A small Twilio REST client: Basic auth, form-encoded bodies, JSON answers, Twilio error bodies turned into
//! [`TwilioError`], and retries with exponential backoff on 429, 5xx, timeouts and connection failures.
//!
//! Each call names an [`Operation`]: what it is called in logs and metrics, whether repeating it is safe (a
//! create that Twilio may already have performed is not repeated), and which paced lane it goes through
//! ([`crate::pacing`]). It knows nothing about Flex; [`crate::flex`] builds the actual calls on top of it.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::config::{Config, Secret};
use crate::metrics::Metrics;
use crate::pacing::{Lane, Pacer};

/// One kind of Twilio call.
#[derive(Debug, Clone, Copy)]
pub struct Operation {
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
    pub const fn paced(self, lane: Lane) -> Operation {
        Operation { lane: Some(lane), ..self }
    }
}

/// The longest we honour a `Retry-After` header: a chat start should fail fast rather than hang.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, PartialEq)]
pub enum TwilioError {
    /// Twilio answered with an error status (for 429/5xx: after the last retry).
    Api { operation: &'static str, status: u16, code: Option<u64>, message: String },
    /// No answer at all (timeout, connection refused, DNS...), after the last retry.
    Unreachable { operation: &'static str, detail: String },
    /// A success status whose body was not the JSON we expected.
    BadResponse { operation: &'static str, detail: String },
    /// Not sent: Twilio's published rate for this endpoint is taken for longer than we wait (see [`crate::pacing`]).
    Busy { operation: &'static str, retry_after_secs: u64 },
}

impl fmt::Display for TwilioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TwilioError::Api { operation, status, code: Some(code), message } => {
                write!(f, "Twilio {operation}: HTTP {status}, error {code}: {message}")
            }
            TwilioError::Api { operation, status, code: None, message } => write!(f, "Twilio {operation}: HTTP {status}: {message}"),
            TwilioError::Unreachable { operation, detail } => write!(f, "Twilio {operation}: unreachable: {detail}"),
            TwilioError::BadResponse { operation, detail } => write!(f, "Twilio {operation}: unexpected answer: {detail}"),
            TwilioError::Busy { operation, retry_after_secs } => {
                write!(f, "Twilio {operation}: not sent, the endpoint's rate is taken for the next {retry_after_secs} s")
            }
        }
    }
}

impl std::error::Error for TwilioError {}

impl TwilioError {
    /// Twilio's 404 for the resource itself (used to make closing idempotent).
    pub fn is_not_found(&self) -> bool {
        matches!(self, TwilioError::Api { status: 404, .. })
    }

    /// Twilio's error code, when it answered one.
    pub fn code(&self) -> Option<u64> {
        match self {
            TwilioError::Api { code, .. } => *code,
            _ => None,
        }
    }
}

#[derive(Clone)]
pub struct TwilioClient {
    http: reqwest::Client,
    username: String,
    password: Secret,
    max_retries: u32,
    retry_base: Duration,
    metrics: Arc<Metrics>,
    pacer: Arc<Pacer>,
}

impl TwilioClient {
    pub fn new(config: &Config, metrics: Arc<Metrics>) -> TwilioClient {
        TwilioClient::new_shared(config, metrics, None)
    }

    /// With `shared`, the pacing of rate-limited endpoints holds across every replica (see [`crate::shared`]).
    pub fn new_shared(config: &Config, metrics: Arc<Metrics>, shared: Option<Arc<crate::shared::Shared>>) -> TwilioClient {
        // Account SID + auth token when configured, else the API key pair (Twilio accepts both for REST).
        let (username, password) = match &config.auth_token {
            Some(token) => (config.account_sid.clone(), token.clone()),
            None => (config.api_key_sid.clone(), config.api_key_secret.clone()),
        };
        let http = reqwest::Client::builder()
            .timeout(config.twilio_timeout)
            .connect_timeout(config.twilio_timeout)
            // Never follow redirects with our credentials attached.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("flexdesk-auth/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("reqwest client with rustls");
        let pacer = Arc::new(Pacer::new(config.twilio_rates, config.twilio_pacing_max_wait).with_shared(shared));
        TwilioClient { http, username, password, max_retries: config.twilio_max_retries, retry_base: config.twilio_retry_base, metrics, pacer }
    }

    pub async fn post_form(&self, operation: Operation, url: &str, form: &[(&str, String)]) -> Result<Value, TwilioError> {
        self.call(operation, Method::POST, url, form).await
    }

    pub async fn get(&self, operation: Operation, url: &str) -> Result<Value, TwilioError> {
        self.call(operation, Method::GET, url, &[]).await
    }

    /// One logical call: up to `1 + max_retries` attempts, each paced when the operation has a lane.
    ///
    /// Twilio has no general idempotency key, so a create is sent again only when the answer proves it was not
    /// performed: 429 (refused by the rate limiter), 503 (not handled), or no connection at all. A timeout or
    /// another 5xx may hide a conversation or task Twilio did create; repeating it would hand the agents a
    /// duplicate, so the caller gets the error instead.
    async fn call(&self, op: Operation, method: Method, url: &str, form: &[(&str, String)]) -> Result<Value, TwilioError> {
        let operation = op.name;
        let mut attempt = 0;
        loop {
            if let Some(lane) = op.lane {
                if let Err(busy) = self.pacer.wait(lane).await {
                    self.metrics.record_twilio(operation, "paced_out");
                    return Err(TwilioError::Busy { operation, retry_after_secs: busy.retry_after_secs });
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
                Err(e) => Err(TwilioError::Unreachable { operation, detail: without_url(&e) }),
            };
            self.metrics.record_twilio(operation, if result.is_ok() { "ok" } else { "error" });
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

async fn read_answer(operation: &'static str, resp: reqwest::Response) -> Result<Value, TwilioError> {
    let status = resp.status();
    let body = resp.bytes().await.map_err(|e| TwilioError::Unreachable { operation, detail: without_url(&e) })?;
    if status.is_success() {
        if body.is_empty() {
            return Ok(Value::Null); // 204 No Content (e.g. DELETE)
        }
        return serde_json::from_slice(&body).map_err(|e| TwilioError::BadResponse { operation, detail: format!("HTTP {status}, not JSON: {e}") });
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
    Err(TwilioError::Api { operation, status: status.as_u16(), code, message })
}

/// Reads a string field of a Twilio answer or explains which one is missing.
pub fn field<'a>(operation: Operation, value: &'a Value, name: &str) -> Result<&'a str, TwilioError> {
    value
        .get(name)
        .and_then(Value::as_str)
        .ok_or_else(|| TwilioError::BadResponse { operation: operation.name, detail: format!("no string field {name:?}") })
}
