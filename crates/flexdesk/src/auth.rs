//! The auth server's HTTP API, over the page's `fetch` through gloo-net's `http` module, as the design names it (its
//! cost: the package README, "Browser support and size"). Bodies are `flexdesk_core::wire` types, converted in
//! `crate::interop`; JSON goes through the browser's own `JSON` object. A failure is the core's own [`AuthFailure`]:
//! the core decides what it means.

use std::cell::RefCell;

use flexdesk_core::{AuthCall, AuthFailure, Event};
use gloo_net::http::{Method, RequestBuilder};
use wasm_bindgen::JsValue;

use crate::interop;
use crate::js::{get, get_str, object, set, warn};

pub struct AuthClient {
    base: String,
    /// The pre-engagement data of the chat being started (a JSON copy, see [`AuthClient::set_pre_engagement`]),
    /// sent with `CreateSession`: the core decides what it holds, the desk keeps it as the JavaScript value it is.
    pre_engagement: RefCell<Option<JsValue>>,
}

/// One request to the auth server, built from the core's [`AuthCall`] before it is sent: every call then shares one
/// future ([`AuthClient::send`]) and one answer ([`answer`]), as each `async` body costs the size-budgeted wasm its
/// own copy of the request code (five of them were 1.3 KiB gzipped, measured with scripts/build-wasm).
pub struct Request {
    method: Method,
    path: String,
    body: JsValue,
    /// The `Authorization` header, when the call sends one.
    authorization: Option<String>,
    /// A failure is said in the page's console (see [`AuthClient::request`]).
    report: bool,
}

impl AuthClient {
    pub fn new(base: &str) -> Self {
        AuthClient { base: base.trim_end_matches('/').into(), pre_engagement: RefCell::new(None) }
    }

    /// The pre-engagement data the next `CreateSession` calls send (the core's merge of the page's data and the
    /// pre-chat payload, [`flexdesk_core::handoff::session_request`]).
    pub fn set_pre_engagement(&self, data: Option<JsValue>) {
        *self.pre_engagement.borrow_mut() = data;
    }

    /// The server's base URL, no trailing `/`.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// The request carrying out `call`:
    /// - `CreateSession`: `POST /v1/sessions`. A refused start is also said in the page's console, once per attempt,
    ///   for the page's developer (and so are the pre-engagement keys the server dropped, by [`answer`]): the
    ///   server's code and `x-request-id` (to find the server's log line), or, when the browser let the page read
    ///   nothing (status 0), what to check: the server is down, or this page's origin is not in its
    ///   `ALLOWED_ORIGINS` (a CORS refusal is opaque to the page: the Fetch standard's "network error").
    /// - `RefreshToken`, `CheckChat`: `POST /v1/sessions/{id}/token` with the credential.
    /// - `EndSession`, `EndIdle`: `DELETE /v1/sessions/{id}` with the credential (and `"reason": "idle"`).
    /// - `ReadQueue`: `GET /v1/agents/availability`.
    /// - `ReadPosition`: `GET /v1/sessions/{id}/queue`, the credential as a Bearer header.
    pub fn request(&self, call: &AuthCall) -> Request {
        let (method, path, body, authorization) = match call {
            AuthCall::CreateSession(req) => {
                (Method::POST, "/v1/sessions".into(), interop::session_request(req, self.pre_engagement.borrow().as_ref()), None)
            }
            AuthCall::RefreshToken { session_id, credential } | AuthCall::CheckChat { session_id, credential } => {
                (Method::POST, self.session_path(session_id) + "/token", interop::credential_body(credential), None)
            }
            AuthCall::EndSession { session_id, credential } | AuthCall::EndIdle { session_id, credential } => {
                let body = interop::credential_body(credential);
                if matches!(call, AuthCall::EndIdle { .. }) {
                    // The agent is told why (the server's line): the customer did not answer "Are you still there?".
                    set(&body, "reason", &JsValue::from_str("idle"));
                }
                (Method::DELETE, self.session_path(session_id), body, None)
            }
            AuthCall::ReadQueue => (Method::GET, "/v1/agents/availability".into(), JsValue::UNDEFINED, None),
            AuthCall::ReadPosition { session_id, credential } => {
                (Method::GET, self.session_path(session_id) + "/queue", JsValue::UNDEFINED, Some(String::from("Bearer ") + credential))
            }
        };
        Request { method, path, body, authorization, report: matches!(call, AuthCall::CreateSession(_)) }
    }

    fn session_path(&self, session_id: &str) -> String {
        String::from("/v1/sessions/") + &String::from(js_sys::encode_uri_component(session_id))
    }

    /// One JSON call; the parsed answer (`null` when the body is empty or not JSON) or the server's own error.
    pub async fn send(&self, request: Request) -> Result<JsValue, AuthFailure> {
        let Request { method, path, body, authorization, report } = request;
        let url = self.base.clone() + &path;
        let mut b = RequestBuilder::new(&url).method(method);
        if let Some(a) = authorization {
            b = b.header("authorization", &a);
        }
        let req = if body.is_undefined() {
            b.build()
        } else {
            let body = js_sys::JSON::stringify(&body).map(String::from).unwrap_or_default();
            b.header("content-type", "application/json").body(body)
        };
        // A request gloo-net cannot build (it never is: the method, headers and body are the desk's own) fails as
        // the network would, status 0.
        let res = match req {
            Ok(r) => r.send().await,
            Err(e) => Err(e),
        }
        .map_err(|_| {
            if report {
                warn("the auth server cannot be reached from this page: is it up, and is this page's origin in its ALLOWED_ORIGINS?", &JsValue::from_str(&url));
            }
            AuthFailure { status: 0, code: None, retry_after_secs: None }
        })?;
        let status = res.status();
        let value = res.text().await.ok().and_then(|t| js_sys::JSON::parse(&t).ok()).unwrap_or(JsValue::NULL);
        if res.ok() {
            Ok(value)
        } else {
            let code = get_str(&get(&value, "error"), "code");
            let header = |name: &str| res.headers().get(name);
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

/// The session's event for what the auth server answered to `call` (`None`: the end, whose failure is only logged).
pub fn answer(call: AuthCall, got: Result<JsValue, AuthFailure>) -> Option<Event> {
    Some(match call {
        AuthCall::CreateSession(_) => {
            let created = got.and_then(|v| {
                let dropped = get(&v, "droppedPreEngagementKeys");
                if !dropped.is_undefined() {
                    warn("the auth server dropped these pre-engagement keys (not in its PRE_ENGAGEMENT_KEYS):", &dropped);
                }
                interop::session_created(&v).ok_or_else(|| unexpected(201))
            });
            match created {
                Ok(created) => Event::SessionCreated(created),
                Err(e) => Event::SessionRefused(e),
            }
        }
        AuthCall::RefreshToken { .. } | AuthCall::CheckChat { .. } => {
            let check = matches!(call, AuthCall::CheckChat { .. });
            // A refresh, or (`check`) whether the chat is open: its token is not used.
            match got.and_then(|v| interop::token_refreshed(&v).ok_or_else(|| unexpected(200))) {
                Ok(t) if !check => Event::TokenRefreshed(t),
                Err(e) if !check => Event::TokenRefused(e),
                answer => Event::ChatChecked(answer.err()),
            }
        }
        AuthCall::EndSession { .. } | AuthCall::EndIdle { .. } => {
            if let Err(e) = got {
                warn("ending the session failed", &JsValue::from_str(e.code.as_deref().unwrap_or("")));
            }
            return None;
        }
        AuthCall::ReadQueue => Event::QueueRead(got.ok().and_then(|v| interop::availability(&v))),
        AuthCall::ReadPosition { .. } => Event::QueuePositionRead(got.ok().and_then(|v| interop::queue_position(&v))),
    })
}

fn unexpected(status: u16) -> AuthFailure {
    AuthFailure { status, code: Some("unexpected_answer".into()), retry_after_secs: None }
}
