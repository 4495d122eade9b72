//! What every emulated Twilio REST call shares: Basic auth against the configured account, injected
//! faults (delay, 429/5xx), form-encoded bodies and Twilio's paging envelope.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use headers::authorization::{Authorization, Basic};
use headers::HeaderMapExt;
use serde_json::{json, Value};
use subtle::ConstantTimeEq;

use twilio_model::limits::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};

use crate::state::Shared;
use crate::twilio_error::TwilioError;

/// Twilio REST calls received, by route: the method and the path with each SID cut to its prefix
/// (`GET /v1/Workspaces/WS…/Tasks`), so a client's calls of one kind add up whatever chat they are for.
#[derive(Default, serde::Serialize)]
pub struct CallCounts {
    total: u64,
    #[serde(rename = "byRoute")]
    by_route: std::collections::BTreeMap<String, u64>,
}

impl CallCounts {
    fn count(&mut self, method: &axum::http::Method, path: &str) {
        let route: Vec<String> = path
            .split('/')
            .map(|seg| match seg.get(..2) {
                Some(prefix) if prefix.bytes().all(|b| b.is_ascii_uppercase()) && twilio_model::sid::is_sid(seg, prefix) => format!("{prefix}…"),
                _ => seg.to_string(),
            })
            .collect();
        self.total += 1;
        *self.by_route.entry(format!("{method} {}", route.join("/"))).or_default() += 1;
    }
}

/// Middleware for the Twilio paths: faults first (a throttled call is refused whatever its
/// credentials, as Twilio does), then the optional delay, then Basic auth.
pub async fn twilio_gate(State(emu): State<Shared>, req: Request, next: Next) -> Response {
    let (fault, delay) = {
        let mut st = emu.lock();
        let f = &mut st.faults;
        let fault = match f.rest_status {
            Some(status) if f.rest_count > 0 => {
                f.rest_count -= 1;
                if f.rest_count == 0 {
                    f.rest_status = None;
                }
                Some(status)
            }
            _ => None,
        };
        (fault, f.delay_ms)
    };
    if delay > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(delay)).await;
    }
    if let Some(status) = fault {
        tracing::info!(status, path = req.uri().path(), "injected REST fault");
        let err = match status {
            429 => TwilioError::new(429, 20429, "Too Many Requests"),
            s => TwilioError::new(s, 20500 + u32::from(s % 100), "Service unavailable (injected fault)"),
        };
        let mut res = err.into_response();
        if status == 429 {
            res.headers_mut().insert("retry-after", "1".parse().unwrap());
        }
        return res;
    }
    let (method, path) = (req.method().clone(), req.uri().path().to_string());
    emu.calls.lock().unwrap_or_else(|e| e.into_inner()).count(&method, &path);
    if !basic_auth_ok(&emu, req.headers()) {
        tracing::warn!(%method, path, "twilio REST call refused: bad or missing Basic auth");
        return TwilioError::unauthenticated().into_response();
    }
    let res = next.run(req).await;
    tracing::info!(%method, path, status = res.status().as_u16(), "twilio REST");
    res
}

/// Accepts the account SID + auth token or the API key SID + secret, as Twilio does. The secret is compared in
/// constant time.
fn basic_auth_ok(emu: &Shared, headers: &HeaderMap) -> bool {
    let Some(Authorization(basic)) = headers.typed_get::<Authorization<Basic>>() else { return false };
    let c = &emu.config;
    let secret_is = |secret: &str| bool::from(basic.password().as_bytes().ct_eq(secret.as_bytes()));
    (basic.username() == c.account_sid && secret_is(&c.auth_token)) || (basic.username() == c.api_key_sid && secret_is(&c.api_key_secret))
}

/// A parsed `application/x-www-form-urlencoded` body (keys may repeat, e.g. `MediaSid`).
pub struct Form(pub Vec<(String, String)>);

impl Form {
    pub fn parse(headers: &HeaderMap, body: &Bytes) -> Result<Form, TwilioError> {
        if !body.is_empty() {
            let ct = headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("");
            if !ct.starts_with("application/x-www-form-urlencoded") {
                return Err(TwilioError::new(
                    400,
                    20001,
                    format!("Twilio's REST API takes application/x-www-form-urlencoded bodies, not {ct:?}"),
                ));
            }
        }
        Ok(Form(form_urlencoded::parse(body).into_owned().collect()))
    }
    pub fn get(&self, key: &str) -> Option<String> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone())
    }
    pub fn all(&self, key: &str) -> Vec<String> {
        self.0.iter().filter(|(k, _)| k == key).map(|(_, v)| v.clone()).collect()
    }
    pub fn require(&self, key: &str) -> Result<String, TwilioError> {
        match self.get(key) {
            Some(v) if !v.trim().is_empty() => Ok(v),
            _ => Err(TwilioError::missing(key)),
        }
    }
    /// A parameter that must hold a JSON document (Twilio's `Attributes`, `Routing`, …).
    pub fn json(&self, key: &str) -> Result<Option<Value>, TwilioError> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => serde_json::from_str(&v).map(Some).map_err(|e| TwilioError::invalid(key, &format!("not valid JSON ({e})"))),
        }
    }
}

/// A list operation's `PageSize`: `default` when absent, else 1..=`max` (each operation's bounds are in twilio-oai).
pub fn page_size(value: Option<&str>, default: usize, max: usize) -> Result<usize, TwilioError> {
    match value {
        None => Ok(default),
        Some(v) => v
            .parse()
            .ok()
            .filter(|n| (1..=max).contains(n))
            .ok_or_else(|| TwilioError::invalid("PageSize", &format!("must be 1 to {max}"))),
    }
}

/// Twilio's list envelope: `{"meta":{page, page_size, first_page_url, previous_page_url, url,
/// next_page_url, key}, "<key>": [...]}` with `PageSize` and `Page`. `PageSize` is 1..100 for the Conversations list
/// operations (twilio-oai `twilio_conversations_v1.json`: `minimum` 1, `maximum` 100); Twilio's default is 50. Out of
/// range: 400 / 20001 (the emulator's code; Twilio documents the bounds, not the error).
pub fn page(base: &str, path: &str, key: &str, items: Vec<Value>, query: &HashMap<String, String>) -> Result<Value, TwilioError> {
    let page_size = page_size(query.get("PageSize").map(String::as_str), DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)?;
    let page_no = page_number(query.get("Page").map(String::as_str))?;
    Ok(envelope(key, &items, page_size, page_no, |p| format!("{base}{path}?PageSize={page_size}&Page={p}")))
}

/// A list operation's page number (`Page`, or what an operation reads in its place): 0 when absent.
pub fn page_number(value: Option<&str>) -> Result<usize, TwilioError> {
    match value {
        None => Ok(0),
        Some(v) => v.parse().map_err(|_| TwilioError::invalid("Page", "must be a number")),
    }
}

/// The envelope itself, for page `page_no` of `items` (`page_size` each); `url(n)` is page `n`'s URL. Operations whose
/// page URLs or `PageSize` bounds differ from [`page`]'s (TaskRouter's Tasks) call this directly.
pub fn envelope(key: &str, items: &[Value], page_size: usize, page_no: usize, url: impl Fn(usize) -> String) -> Value {
    let start = page_no.saturating_mul(page_size).min(items.len());
    let end = (start + page_size).min(items.len());
    let has_next = end < items.len();
    json!({
        "meta": {
            "page": page_no,
            "page_size": page_size,
            "first_page_url": url(0),
            "previous_page_url": if page_no > 0 { Value::from(url(page_no - 1)) } else { Value::Null },
            "url": url(page_no),
            "next_page_url": if has_next { Value::from(url(page_no + 1)) } else { Value::Null },
            "key": key,
        },
        key: &items[start..end],
    })
}
