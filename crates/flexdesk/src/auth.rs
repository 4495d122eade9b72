//! The auth server's HTTP API, over the page's `fetch`. Bodies are `flexdesk_core::wire` types.
//!
//! JSON goes through the browser's own `JSON` object, and the wire types are read and written field by field
//! here rather than by serde's generic (de)serializers: the same JSON, and tens of kilobytes less wasm. The
//! readers and writers destructure every struct exhaustively, so a field added to a wire type does not compile
//! until it is handled here too.

use flexdesk_core::wire::{Availability, CreateSessionRequest, Handoff, QueuePosition, SessionCreated, TokenRefreshed, TranscriptLine};
use js_sys::Promise;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use crate::js::{fetch, from_json, get, get_str, get_u64, object, opt_str, set};

#[derive(Clone)]
pub struct AuthClient {
    base: String,
}

/// Why a call failed: the HTTP status (0 when the server was not reached), the server's stable error code and
/// `Retry-After`. The core chooses what the customer reads (`flexdesk_core::session::refusal_text`).
#[derive(Debug)]
pub struct AuthError {
    pub status: u16,
    pub code: Option<String>,
    pub retry_after: Option<u64>,
}

impl AuthClient {
    pub fn new(base: &str) -> Self {
        AuthClient { base: base.trim_end_matches('/').into() }
    }

    pub async fn create_session(&self, req: &CreateSessionRequest) -> Result<SessionCreated, AuthError> {
        let v = self.call("POST", "/v1/sessions", session_request(req)).await?;
        let created = (|| {
            Some(SessionCreated {
                session_id: get_str(&v, "sessionId")?,
                conversation_sid: get_str(&v, "conversationSid")?,
                identity: get_str(&v, "identity")?,
                token: get_str(&v, "token")?,
                token_expires_at: get_u64(&v, "tokenExpiresAt")?,
                session_credential: get_str(&v, "sessionCredential")?,
            })
        })();
        created.ok_or_else(|| unexpected(201))
    }

    pub async fn refresh(&self, session_id: &str, credential: &str) -> Result<TokenRefreshed, AuthError> {
        let path = self.session_path(session_id) + "/token";
        let v = self.call("POST", &path, credential_body(credential)).await?;
        let refreshed = (|| Some(TokenRefreshed { token: get_str(&v, "token")?, token_expires_at: get_u64(&v, "tokenExpiresAt")? }))();
        refreshed.ok_or_else(|| unexpected(200))
    }

    /// `GET /v1/agents/availability`; `None` when it cannot be read.
    pub async fn availability(&self) -> Option<Availability> {
        let v = self.call("GET", "/v1/agents/availability", JsValue::UNDEFINED).await.ok()?;
        Some(Availability {
            agents_available: get_u64(&v, "agentsAvailable")? as u32,
            tasks_waiting: get_u64(&v, "tasksWaiting")? as u32,
            longest_wait_seconds: get_u64(&v, "longestWaitSeconds").unwrap_or_default(),
        })
    }

    /// `GET /v1/sessions/{id}/queue` (the credential as a Bearer header); `None` when it cannot be read.
    pub async fn position(&self, session_id: &str, credential: &str) -> Option<QueuePosition> {
        let path = self.session_path(session_id) + "/queue";
        let bearer = String::from("Bearer ") + credential;
        let v = self.call_with("GET", &path, JsValue::UNDEFINED, Some(&bearer)).await.ok()?;
        Some(QueuePosition {
            waiting: get(&v, "waiting").as_bool()?,
            position: get_u64(&v, "position").map(|p| p as u32),
            estimated_wait_seconds: get_u64(&v, "estimatedWaitSeconds"),
        })
    }

    pub async fn end(&self, session_id: &str, credential: &str) -> Result<(), AuthError> {
        self.call("DELETE", &self.session_path(session_id), credential_body(credential)).await.map(drop)
    }

    fn session_path(&self, session_id: &str) -> String {
        String::from("/v1/sessions/") + &String::from(js_sys::encode_uri_component(session_id))
    }

    /// One JSON call; the parsed answer (`null` when the body is empty or not JSON) or the server's own error.
    async fn call(&self, method: &str, path: &str, body: JsValue) -> Result<JsValue, AuthError> {
        self.call_with(method, path, body, None).await
    }

    /// [`AuthClient::call`], with an `Authorization` header when given.
    async fn call_with(&self, method: &str, path: &str, body: JsValue, authorization: Option<&str>) -> Result<JsValue, AuthError> {
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
        .map_err(|_| AuthError { status: 0, code: None, retry_after: None })?;
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
            let retry_after = crate::bindings::call(&get(&res, "headers"), "get", &[&JsValue::from_str("retry-after")])
                .ok()
                .and_then(|v| v.as_string())
                .and_then(|v| v.trim().parse().ok());
            Err(AuthError { status, code, retry_after })
        }
    }
}

fn unexpected(status: u16) -> AuthError {
    AuthError { status, code: Some("unexpected_answer".into()), retry_after: None }
}

fn credential_body(credential: &str) -> JsValue {
    object(&[("sessionCredential", JsValue::from_str(credential))])
}

/// `POST /v1/sessions` body, as serde would write it (camelCase, absent options left out).
fn session_request(req: &CreateSessionRequest) -> JsValue {
    let CreateSessionRequest { customer_name, pre_engagement, handoff, verification_token, identity_token } = req;
    let o = object(&[
        ("customerName", JsValue::from_str(customer_name)),
        ("verificationToken", opt_str(verification_token)),
        ("identityToken", opt_str(identity_token)),
    ]);
    if let Some(p) = pre_engagement {
        set(&o, "preEngagement", &from_json(p));
    }
    if let Some(h) = handoff {
        let Handoff { message_to_human_agent, topic, skill, language, transcript, handoff_token } = h;
        let h = object(&[
            ("message_to_human_agent", opt_str(message_to_human_agent)),
            ("topic", opt_str(topic)),
            ("skill", opt_str(skill)),
            ("language", opt_str(language)),
            ("handoff_token", opt_str(handoff_token)),
        ]);
        if !transcript.is_empty() {
            let lines = transcript
                .iter()
                .map(|TranscriptLine { from, text }| object(&[("from", JsValue::from_str(from)), ("text", JsValue::from_str(text))]))
                .collect::<js_sys::Array>();
            set(&h, "transcript", &lines);
        }
        set(&o, "handoff", &h);
    }
    o
}
