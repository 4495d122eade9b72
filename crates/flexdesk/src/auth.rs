//! The auth server's HTTP API, over the page's `fetch` (web-sys; gloo-net measured 2.7 KiB more: README, "Size"). Bodies are `flexdesk_core::wire` types, converted in
//! [`crate::interop`]; JSON goes through the browser's own `JSON` object. A failure is the core's own
//! [`AuthFailure`]: the core decides what it means.

use flexdesk_core::wire::{Availability, CreateSessionRequest, QueuePosition, SessionCreated, TokenRefreshed};
use flexdesk_core::AuthFailure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{Headers, RequestInit, Response};
use wasm_bindgen_futures::JsFuture;

use crate::interop;
use crate::js::{get, get_str, object, warn};

#[derive(Clone)]
pub struct AuthClient {
    base: String,
}

impl AuthClient {
    pub fn new(base: &str) -> Self {
        AuthClient { base: base.trim_end_matches('/').into() }
    }

    /// A refused start is also said in the page's console, once per attempt, for the page's developer (and so are the
    /// pre-engagement keys the server dropped): the
    /// server's code and `x-request-id` (to find the server's log line), or, when the browser let the page read
    /// nothing (status 0), what to check: the server is down, or this page's origin is not in its
    /// `ALLOWED_ORIGINS` (a CORS refusal is opaque to the page: the Fetch standard's "network error").
    pub async fn create_session(&self, req: &CreateSessionRequest) -> Result<SessionCreated, AuthFailure> {
        let v = self.call_with("POST", "/v1/sessions", interop::session_request(req), None, true).await?;
        let dropped = get(&v, "droppedPreEngagementKeys");
        if !dropped.is_undefined() {
            warn("the auth server dropped these pre-engagement keys (not in its PRE_ENGAGEMENT_KEYS):", &dropped);
        }
        interop::session_created(&v).ok_or_else(|| unexpected(201))
    }

    pub async fn refresh(&self, session_id: &str, credential: &str) -> Result<TokenRefreshed, AuthFailure> {
        let path = self.session_path(session_id) + "/token";
        let v = self.call("POST", &path, interop::credential_body(credential)).await?;
        interop::token_refreshed(&v).ok_or_else(|| unexpected(200))
    }

    /// `GET /v1/agents/availability`; `None` when it cannot be read.
    pub async fn availability(&self) -> Option<Availability> {
        interop::availability(&self.call("GET", "/v1/agents/availability", JsValue::UNDEFINED).await.ok()?)
    }

    /// `GET /v1/sessions/{id}/queue` (the credential as a Bearer header); `None` when it cannot be read.
    pub async fn position(&self, session_id: &str, credential: &str) -> Option<QueuePosition> {
        let path = self.session_path(session_id) + "/queue";
        let bearer = String::from("Bearer ") + credential;
        interop::queue_position(&self.call_with("GET", &path, JsValue::UNDEFINED, Some(&bearer), false).await.ok()?)
    }

    pub async fn end(&self, session_id: &str, credential: &str) -> Result<(), AuthFailure> {
        self.call("DELETE", &self.session_path(session_id), interop::credential_body(credential)).await.map(drop)
    }

    fn session_path(&self, session_id: &str) -> String {
        String::from("/v1/sessions/") + &String::from(js_sys::encode_uri_component(session_id))
    }

    /// One JSON call; the parsed answer (`null` when the body is empty or not JSON) or the server's own error.
    async fn call(&self, method: &str, path: &str, body: JsValue) -> Result<JsValue, AuthFailure> {
        self.call_with(method, path, body, None, false).await
    }

    /// [`AuthClient::call`], with an `Authorization` header when given; `report`: a failure is said in the console.
    async fn call_with(&self, method: &str, path: &str, body: JsValue, authorization: Option<&str>, report: bool) -> Result<JsValue, AuthFailure> {
        let url = self.base.clone() + path;
        let init = RequestInit::new();
        init.set_method(method);
        let headers = Headers::new().map_err(|_| unexpected(0))?;
        if let Some(a) = authorization {
            let _ = headers.set("authorization", a);
        }
        if !body.is_undefined() {
            let _ = headers.set("content-type", "application/json");
            init.set_body(&js_sys::JSON::stringify(&body).map_or(JsValue::NULL, JsValue::from));
        }
        init.set_headers(&headers);
        let sent = match web_sys::window() {
            Some(w) => JsFuture::from(w.fetch_with_str_and_init(&url, &init)).await,
            None => Err(JsValue::NULL),
        };
        let res: Response = sent.map_err(|_| {
            if report {
                warn("the auth server cannot be reached from this page: is it up, and is this page's origin in its ALLOWED_ORIGINS?", &JsValue::from_str(&url));
            }
            AuthFailure { status: 0, code: None, retry_after_secs: None }
        })?.unchecked_into();
        let status = res.status();
        let value = match res.text() {
            Ok(p) => JsFuture::from(p).await.ok().and_then(|t| t.as_string()),
            Err(_) => None,
        }
        .and_then(|t| js_sys::JSON::parse(&t).ok())
        .unwrap_or(JsValue::NULL);
        if res.ok() {
            Ok(value)
        } else {
            let code = get_str(&get(&value, "error"), "code");
            let header = |name: &str| res.headers().get(name).ok().flatten();
            let retry_after = header("retry-after").and_then(|v| v.trim().parse().ok());
            if report {
                warn("the auth server refused to start the chat", &object(&[
                    ("status", JsValue::from_f64(status.into())),
                    ("code", code.as_deref().map_or(JsValue::NULL, JsValue::from_str)),
                    ("requestId", header("x-request-id").map_or(JsValue::NULL, |v| JsValue::from_str(&v))),
                ]));
            }
            Err(AuthFailure { status, code, retry_after_secs: retry_after })
        }
    }
}

fn unexpected(status: u16) -> AuthFailure {
    AuthFailure { status, code: Some("unexpected_answer".into()), retry_after_secs: None }
}
