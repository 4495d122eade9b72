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

/// A conversation with one customer participant; answers (conversation sid, identity).
pub async fn webchat(emu: &Shared) -> (String, String) {
    let address = emu.config.address_sid.clone();
    let (s, v) = twilio(emu, "POST", "/v2/WebChats", &[("AddressSid", &address), ("CustomerFriendlyName", "Ann")]).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    (v["conversation_sid"].as_str().unwrap().into(), v["identity"].as_str().unwrap().into())
}
