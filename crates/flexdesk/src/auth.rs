//! The auth server's HTTP API, over the page's `fetch`. Bodies are `flexdesk_core::wire` types, converted in
//! [`crate::interop`]; JSON goes through the browser's own `JSON` object. A failure is the core's own
//! [`AuthFailure`]: the core decides what it means.

use flexdesk_core::wire::{Availability, CreateSessionRequest, QueuePosition, SessionCreated, TokenRefreshed};
use flexdesk_core::AuthFailure;
use js_sys::Promise;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use crate::interop;
use crate::js::{fetch, get, get_str, get_u64, object, set, warn};

#[derive(Clone)]
pub struct AuthClient {
    base: String,
}

impl AuthClient {
    pub fn new(base: &str) -> Self {
        AuthClient { base: base.trim_end_matches('/').into() }
    }

    /// The server's base URL, no trailing `/`.
    pub fn base(&self) -> &str {
        &self.base
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

    pub async fn end(&self, session_id: &str, credential: &str, idle: bool) -> Result<(), AuthFailure> {
        let body = interop::credential_body(credential);
        if idle {
            // The agent is told why (the server's line): the customer did not answer "Are you still there?".
            let _ = js_sys::Reflect::set(&body, &JsValue::from_str("reason"), &JsValue::from_str("idle"));
        }
        self.call("DELETE", &self.session_path(session_id), body).await.map(drop)
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
        let init = object(&[("method", JsValue::from_str(method))]);
        let headers = object(&[]);
        if let Some(a) = authorization {
            set(&headers, "authorization", &JsValue::from_str(a));
        }
        if !body.is_undefined() {
            let body = js_sys::JSON::stringify(&body).map(String::from).unwrap_or_default();
            set(&headers, "content-type", &JsValue::from_str("application/json"));
            set(&init, "body", &JsValue::from_str(&body));
        }
        set(&init, "headers", &headers);
        let url = self.base.clone() + path;
        let res = match fetch(&url, &init) {
            Ok(p) => JsFuture::from(p).await,
            Err(e) => Err(e),
        }
        .map_err(|_| {
            if report {
                warn("the auth server cannot be reached from this page: is it up, and is this page's origin in its ALLOWED_ORIGINS?", &JsValue::from_str(&url));
            }
            AuthFailure { status: 0, code: None, retry_after_secs: None }
        })?;
        let status = get_u64(&res, "status").unwrap_or_default() as u16;
        let value = match get(&res, "text").dyn_ref::<js_sys::Function>().and_then(|f| f.call0(&res).ok()) {
            Some(p) => JsFuture::from(Promise::resolve(&p)).await.ok().and_then(|t| t.as_string()),
            None => None,
        }
        .and_then(|t| js_sys::JSON::parse(&t).ok())
        .unwrap_or(JsValue::NULL);
        if get(&res, "ok") == JsValue::TRUE {
            Ok(value)
        } else {
            let code = get_str(&get(&value, "error"), "code");
            let header = |name: &str| crate::bindings::call(&get(&res, "headers"), "get", &[&JsValue::from_str(name)]).ok().and_then(|v| v.as_string());
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
