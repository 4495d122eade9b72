//! Shared helpers for the emulator's integration tests.
#![allow(dead_code)]

use axum::body::Body;
use axum::http::{Request, StatusCode};
use base64::Engine;
use flexdesk_emulator::{app, Config, Emulator, Shared};
use http_body_util::BodyExt;
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use serde_json::{json, Value};
use tower::ServiceExt;

pub fn emulator() -> Shared {
    Emulator::new(Config::for_tests())
}

pub fn basic(user: &str, pass: &str) -> String {
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}")))
}

pub fn account_auth(c: &Config) -> String {
    basic(&c.account_sid, &c.auth_token)
}

/// Sends one request through the router; answers (status, JSON body or Null).
pub async fn call(emu: &Shared, method: &str, path: &str, auth: Option<&str>, form: Option<&[(&str, &str)]>) -> (StatusCode, Value) {
    let mut req = Request::builder().method(method).uri(path);
    if let Some(a) = auth {
        req = req.header("authorization", a);
    }
    let body = match form {
        Some(f) => {
            req = req.header("content-type", "application/x-www-form-urlencoded");
            let mut s = form_urlencoded::Serializer::new(String::new());
            for (k, v) in f {
                s.append_pair(k, v);
            }
            Body::from(s.finish())
        }
        None => Body::empty(),
    };
    send(emu, req.body(body).unwrap()).await
}

pub async fn send(emu: &Shared, req: Request<Body>) -> (StatusCode, Value) {
    let res = app(emu.clone()).oneshot(req).await.unwrap();
    let status = res.status();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    let v = if bytes.is_empty() { Value::Null } else { serde_json::from_slice(&bytes).unwrap_or(Value::String(String::from_utf8_lossy(&bytes).into())) };
    (status, v)
}

/// Twilio REST call with the account's Basic auth.
pub async fn twilio(emu: &Shared, method: &str, path: &str, form: &[(&str, &str)]) -> (StatusCode, Value) {
    let auth = account_auth(&emu.config);
    call(emu, method, path, Some(&auth), if method == "GET" { None } else { Some(form) }).await
}

/// A Twilio AccessToken as the auth server mints it.
pub fn token(c: &Config, identity: &str, ttl: i64) -> String {
    token_with(c, identity, ttl, &c.api_key_secret, &c.service_sid)
}

pub fn token_with(c: &Config, identity: &str, ttl: i64, secret: &str, service: &str) -> String {
    let now = flexdesk_emulator::util::now_secs() as i64;
    let mut header = Header::new(Algorithm::HS256);
    header.cty = Some("twilio-fpa;v=1".into());
    let claims = json!({
        "jti": format!("{}-{now}", c.api_key_sid),
        "grants": {"identity": identity, "chat": {"service_sid": service}},
        "iat": now, "exp": now + ttl, "iss": c.api_key_sid, "sub": c.account_sid,
    });
    encode(&header, &claims, &EncodingKey::from_secret(secret.as_bytes())).unwrap()
}

/// `path` (starting `/Conversations…`) under the Flex service's scoped paths, where Flex's chats live.
pub fn flex(emu: &Shared, path: &str) -> String {
    format!("/v1/Services/{}{path}", emu.config.service_sid)
}

/// A conversation with one customer participant; answers (conversation sid, identity).
pub async fn webchat(emu: &Shared) -> (String, String) {
    let address = emu.config.address_sid.clone();
    let (s, v) = twilio(emu, "POST", "/v2/WebChats", &[("AddressSid", &address), ("CustomerFriendlyName", "Ann")]).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    (v["conversation_sid"].as_str().unwrap().into(), v["identity"].as_str().unwrap().into())
}

/// Tokens that break one Twilio rule each, with the code Twilio documents for it (see twilio_model::token): the
/// same table is checked on `/v1/realtime` and on `/v3/wsconnect`.
pub fn bad_tokens(c: &Config) -> Vec<(String, u32, &'static str)> {
    let now = flexdesk_emulator::util::now_secs() as i64;
    let claims = |f: &dyn Fn(&mut serde_json::Value)| {
        let mut v = json!({
            "jti": format!("{}-{now}", c.api_key_sid),
            "grants": {"identity": "ann", "chat": {"service_sid": c.service_sid}},
            "iat": now, "exp": now + 600, "iss": c.api_key_sid, "sub": c.account_sid,
        });
        f(&mut v);
        v
    };
    let twilio_header = || {
        let mut h = Header::new(Algorithm::HS256);
        h.cty = Some("twilio-fpa;v=1".into());
        h
    };
    let sign = |h: Header, v: serde_json::Value, secret: &str| encode(&h, &v, &EncodingKey::from_secret(secret.as_bytes())).unwrap();
    let secret = c.api_key_secret.as_str();
    vec![
        ("not.a.jwt".to_string(), 20101, "not a JWT"),
        (sign(twilio_header(), claims(&|v| { v.as_object_mut().unwrap().remove("grants"); }), secret), 20101, "required"),
        (sign(Header::new(Algorithm::HS256), claims(&|_| {}), secret), 20102, "cty"),
        (sign(Header { cty: Some("twilio-fpa;v=1".into()), ..Header::new(Algorithm::HS512) }, claims(&|_| {}), secret), 20102, "HS256"),
        (sign(twilio_header(), claims(&|v| v["iss"] = json!("SK00000000000000000000000000000000")), secret), 20103, "iss"),
        (sign(twilio_header(), claims(&|v| v["sub"] = json!("AC00000000000000000000000000000000")), secret), 20103, "sub"),
        (token(c, "ann", -10), 20104, "expired"),
        (sign(twilio_header(), claims(&|v| v["nbf"] = json!(now + 120)), secret), 20105, "not yet valid"),
        (token_with(c, "ann", 600, secret, "IS00000000000000000000000000000000"), 20106, "another service"),
        (sign(twilio_header(), claims(&|v| v["grants"]["identity"] = json!("")), secret), 20106, "identity"),
        (token_with(c, "ann", 600, "wrong-secret", &c.service_sid), 20107, "signature"),
        (token(c, "ann", 25 * 3600), 20157, "24 hours"),
    ]
}

/// The chat's task, once Flex's pipeline made it (it routes a moment after the triggering message; pipeline.rs).
pub async fn task_of(emu: &Shared, ch: &str) -> String {
    for _ in 0..300 {
        if let Some(t) = emu.lock().tasks.iter().find(|t| t.conversation_sid == ch) {
            return t.sid.clone();
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("no task was routed for {ch}");
}

/// A REST message with `X-Twilio-Webhook-Enabled: true` (what the auth server posts to route a chat), then its task.
pub async fn route_by_message(emu: &Shared, ch: &str) -> String {
    let (s, v) = rest_message(emu, ch, "I need help", true).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    task_of(emu, ch).await
}

/// `POST …/Messages` in the Flex service, with or without `X-Twilio-Webhook-Enabled: true`.
pub async fn rest_message(emu: &Shared, ch: &str, body: &str, webhook_enabled: bool) -> (StatusCode, Value) {
    let path = flex(emu, &format!("/Conversations/{ch}/Messages"));
    let mut req = Request::builder()
        .method("POST")
        .uri(path)
        .header("authorization", account_auth(&emu.config))
        .header("content-type", "application/x-www-form-urlencoded");
    if webhook_enabled {
        req = req.header("x-twilio-webhook-enabled", "true");
    }
    let form = form_urlencoded::Serializer::new(String::new()).append_pair("Author", "customer").append_pair("Body", body).finish();
    send(emu, req.body(Body::from(form)).unwrap()).await
}
