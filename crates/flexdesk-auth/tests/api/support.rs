//! Test harness: the app configured against a wiremock fake of Twilio, plus request helpers.

#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, HeaderMap, Method, Request, StatusCode};
use axum::Router;
use flexdesk_auth::infra::config::Config;
use flexdesk_auth::{app, AppState};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

pub fn sid(prefix: &str) -> String {
    format!("{prefix}{:032x}", 0xf1e8)
}

pub const AUTH_TOKEN: &str = flexdesk_auth::infra::config::TEST_AUTH_TOKEN;
pub const API_SECRET: &str = flexdesk_auth::infra::config::TEST_API_KEY_SECRET;
pub const SESSION_SECRET: &str = flexdesk_auth::infra::config::DEMO_SESSION_SECRETS[0];
pub const ORIGIN: &str = "http://localhost:3000";
pub const CONVERSATION: &str = "CH11111111111111111111111111111111";
pub const HANDOFF_SECRET: &str = "fake-handoff-secret-from-the-bot-back-end-0001";

/// The crate's test settings (`config::test_env`), plus an origin, fast retries, room for many requests and a
/// hand-off secret.
pub fn env(twilio_url: &str) -> HashMap<String, String> {
    let mut env: HashMap<String, String> = flexdesk_auth::infra::config::test_env(twilio_url).into_iter().map(|(k, v)| (k.to_string(), v)).collect();
    for (k, v) in [
        ("ALLOWED_ORIGINS", ORIGIN),
        ("TWILIO_RETRY_BASE_MS", "1"),
        ("RATE_LIMIT_BURST", "1000"),
        ("HANDOFF_SECRET", HANDOFF_SECRET),
        ("MAX_OPEN_SESSIONS_PER_CLIENT", "0"),
    ] {
        env.insert(k.to_string(), v.to_string());
    }
    env
}

pub struct Harness {
    pub twilio: MockServer,
    pub state: Arc<AppState>,
    pub app: Router,
    /// The admin listener's routes (`/metrics`, `/openapi.json`).
    pub admin: Router,
}

/// A hand-off signed by "the bot's back end" with HANDOFF_SECRET (`aud` added; unless given, a 5-minute `exp` and a fresh `jti`).
pub fn sign_handoff(mut claims: Value) -> String {
    claims["aud"] = json!("flexdesk-handoff");
    if claims.get("exp").is_none() {
        claims["exp"] = json!(flexdesk_auth::infra::clock::unix_now() + 300);
    }
    if claims.get("jti").is_none() {
        claims["jti"] = json!(uuid::Uuid::new_v4().to_string());
    }
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(HANDOFF_SECRET.as_bytes()),
    )
    .unwrap()
}

/// Sets the TCP peer of a request, as axum's `into_make_service_with_connect_info` does.
pub fn from_peer(mut req: Request<Body>, peer: &str) -> Request<Body> {
    let addr: std::net::SocketAddr = peer.parse().unwrap();
    req.extensions_mut().insert(axum::extract::ConnectInfo(addr));
    req
}

/// A fresh fake Twilio and app; `overrides` replace or add env keys ("" removes one).
pub async fn harness(overrides: &[(&str, &str)]) -> Harness {
    let twilio = MockServer::start().await;
    let mut vars = env(&twilio.uri());
    for (k, v) in overrides {
        if v.is_empty() {
            vars.remove(*k);
        } else {
            vars.insert(k.to_string(), v.to_string());
        }
    }
    let config = Config::from_lookup(|k| vars.get(k).cloned()).expect("test config");
    let state = AppState::new(config);
    // What every start and end now also does (a test may mount its own answers over these, at a higher priority):
    // the hand-off posted as messages (twilio-oai `CreateServiceConversationMessage`), and the chat's task looked up
    // to end it through its interaction (`ListTask`): none here, so the conversation is closed directly.
    Mock::given(method("POST"))
        .and(wiremock::matchers::path_regex(r"^/v1/Services/IS[0-9a-f]{32}/Conversations/CH[0-9a-f]{32}/Messages$"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({ "sid": "IM00000000000000000000000000000001", "index": 0 })))
        .with_priority(200)
        .mount(&twilio)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/v1/Workspaces/{}/Tasks", sid("WS"))))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "tasks": [], "meta": { "page": 0, "key": "tasks" } })))
        .with_priority(200)
        .mount(&twilio)
        .await;
    // Twilio's conversation timers, set after a start has answered (issue 28): answered before any test's own mock of
    // the conversation, which it would otherwise reach at an unforeseen moment.
    Mock::given(method("POST"))
        .and(wiremock::matchers::path_regex(r"^/v1/Services/IS[0-9a-f]{32}/Conversations/CH[0-9a-f]{32}$"))
        .and(wiremock::matchers::body_string_contains("Timers.Closed"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "sid": CONVERSATION, "state": "active" })))
        .with_priority(1)
        .mount(&twilio)
        .await;
    Harness { twilio, app: app(state.clone()), admin: flexdesk_auth::admin_app(state.clone()), state }
}

pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Harness {
    pub async fn send(&self, req: Request<Body>) -> Answer {
        Self::answer(self.app.clone(), req).await
    }

    /// A request to the admin listener.
    pub async fn admin_get(&self, uri: &str) -> Answer {
        Self::answer(self.admin.clone(), Request::get(uri).body(Body::empty()).unwrap()).await
    }

    async fn answer(router: Router, req: Request<Body>) -> Answer {
        let resp = router.oneshot(req).await.unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Answer { status, headers, body, text }
    }

    pub async fn json(&self, method: Method, uri: &str, body: Value) -> Answer {
        self.send(
            Request::builder().method(method).uri(uri).header(header::CONTENT_TYPE, "application/json").body(Body::from(body.to_string())).unwrap(),
        )
        .await
    }

    pub async fn get(&self, uri: &str) -> Answer {
        self.send(Request::get(uri).body(Body::empty()).unwrap()).await
    }

    /// Mounts a WebChats answer and starts a session; returns its 201 body.
    pub async fn start_webchat_session(&self) -> Value {
        Mock::given(method("POST"))
            .and(path("/v2/WebChats"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "conversation_sid": CONVERSATION, "identity": "customer-from-twilio" })))
            .mount(&self.twilio)
            .await;
        let a = self.json(Method::POST, "/v1/sessions", json!({ "customerName": "Ada" })).await;
        assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
        a.body
    }

    pub async fn refresh(&self, id: &str, credential: &str) -> Answer {
        self.json(Method::POST, &format!("/v1/sessions/{id}/token"), json!({ "sessionCredential": credential })).await
    }

    pub async fn end(&self, id: &str, credential: &str) -> Answer {
        self.json(Method::DELETE, &format!("/v1/sessions/{id}"), json!({ "sessionCredential": credential })).await
    }
}

/// Mounts `GET /v1/Services/{IS}/Conversations/{CONVERSATION}` answering `state`.
pub async fn conversation_state(twilio: &MockServer, state: &str) {
    Mock::given(method("GET"))
        .and(path(format!("/v1/Services/{}/Conversations/{CONVERSATION}", sid("IS"))))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "sid": CONVERSATION, "state": state })))
        .mount(twilio)
        .await;
}

/// Mounts `GET …/Conversations/{CONVERSATION}/Participants` listing these customer identities (and an agent).
pub async fn participants(twilio: &MockServer, identities: &[&str]) {
    let mut list: Vec<Value> = identities.iter().map(|i| json!({ "identity": i, "attributes": "{}" })).collect();
    list.push(json!({ "identity": "agent-alice", "attributes": r#"{"member_type":"agent"}"# }));
    Mock::given(method("GET"))
        .and(path(format!("/v1/Services/{}/Conversations/{CONVERSATION}/Participants", sid("IS"))))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "participants": list, "meta": { "page": 0 } })))
        .mount(twilio)
        .await;
}

pub fn error_code(a: &Answer) -> &str {
    a.body["error"]["code"].as_str().unwrap_or_else(|| panic!("not an ApiError: {} {}", a.status, a.text))
}

/// Mounts a successful Interactions-mode start: conversation CONVERSATION, participant, interaction KD11111111111111111111111111111111 / channel UO11111111111111111111111111111111.
pub async fn mount_interactions_start(twilio: &MockServer) {
    let conv = format!("/v1/Services/{}/Conversations", sid("IS"));
    Mock::given(method("POST")).and(path(conv.clone())).respond_with(ResponseTemplate::new(201).set_body_json(json!({ "sid": CONVERSATION }))).mount(twilio).await;
    Mock::given(method("POST"))
        .and(path(format!("{conv}/{CONVERSATION}/Participants")))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({ "sid": "MB1" })))
        .mount(twilio)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/Interactions"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({ "sid": "KD11111111111111111111111111111111", "channel": { "sid": "UO11111111111111111111111111111111" } })))
        .mount(twilio)
        .await;
}

/// A started session's id and credential, from `SessionCreated`.
pub fn ids(body: &Value) -> (String, String) {
    (body["sessionId"].as_str().unwrap().to_string(), body["sessionCredential"].as_str().unwrap().to_string())
}

/// A webchat session the customer ended (Twilio closes its conversation): its id and credential, for what an ended
/// session's credential may still do (rate, erase).
pub async fn ended_session(h: &Harness) -> (String, String) {
    let (id, cred) = ids(&h.start_webchat_session().await);
    Mock::given(method("POST"))
        .and(path(format!("/v1/Services/{}/Conversations/{CONVERSATION}", sid("IS"))))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "sid": CONVERSATION, "state": "closed" })))
        .mount(&h.twilio)
        .await;
    assert_eq!(h.end(&id, &cred).await.status, StatusCode::NO_CONTENT);
    (id, cred)
}
