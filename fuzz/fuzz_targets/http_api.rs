//! The whole auth-server router in process: any method, path, content type, credential header, origin and
//! body. Twilio points at a closed loopback port, so a request that gets as far as Twilio fails fast.
//! Properties: no panic (a caught panic is a 500), no 5xx other than the documented Twilio ones
//! (502/503/504), and every error answer is `{"error":{"code","message"}}` JSON.
#![no_main]

use std::sync::{Arc, OnceLock};

use arbitrary::Arbitrary;
use axum::body::Body;
use axum::http::{Method, Request};
use flexdesk_auth::infra::config::Config;
use flexdesk_auth::{app, AppState};
use http_body_util::BodyExt;
use libfuzzer_sys::fuzz_target;
use tower::ServiceExt;

const PATHS: &[&str] = &[
    "/v1/sessions",
    "/v1/sessions/{id}/token",
    "/v1/sessions/{id}",
    "/v1/agents/availability",
    "/healthz",
    "/openapi.json",
];

#[derive(Arbitrary, Debug)]
struct Input<'a> {
    method: u8,
    path: u8,
    id: &'a str,
    raw_path: Option<&'a str>,
    content_type: Option<&'a str>,
    authorization: Option<&'a str>,
    origin: Option<&'a str>,
    body: &'a [u8],
}

fn env() -> &'static (tokio::runtime::Runtime, Arc<AppState>) {
    static ENV: OnceLock<(tokio::runtime::Runtime, Arc<AppState>)> = OnceLock::new();
    ENV.get_or_init(|| {
        // Port 9 (discard) is closed here: connection refused at once.
        let mut vars = flexdesk_auth::infra::config::test_env("http://127.0.0.1:9");
        for (k, v) in [
            ("ALLOWED_ORIGINS", "http://127.0.0.1:3000"),
            ("TWILIO_MAX_RETRIES", "0"),
            ("TWILIO_TIMEOUT_SECONDS", "1"),
            ("RATE_LIMIT_BURST", "1000000"),
            ("RATE_LIMIT_PER_MINUTE", "1000000"),
        ] {
            vars.insert(k, v.to_string());
        }
        let config = Config::from_lookup(|k| vars.get(k).cloned()).expect("config");
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let state = rt.block_on(async { AppState::new(config) });
        (rt, state)
    })
}

fuzz_target!(|input: Input<'_>| {
    let (rt, state) = env();
    let method = [Method::GET, Method::POST, Method::DELETE, Method::PUT, Method::OPTIONS, Method::PATCH][input.method as usize % 6].clone();
    let path = match input.raw_path {
        Some(p) => p.to_string(),
        None => PATHS[input.path as usize % PATHS.len()].replace("{id}", input.id),
    };
    let mut req = Request::builder().method(method).uri(path);
    if let Some(ct) = input.content_type {
        req = req.header("content-type", ct);
    }
    if let Some(a) = input.authorization {
        req = req.header("authorization", a);
    }
    if let Some(o) = input.origin {
        req = req.header("origin", o);
    }
    // Invalid URIs and header values never reach the server: hyper refuses them on the wire.
    let Ok(req) = req.body(Body::from(input.body.to_vec())) else { return };
    rt.block_on(async {
        let resp = app(state.clone()).oneshot(req).await.expect("infallible");
        let status = resp.status().as_u16();
        let ct = resp.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
        let body = resp.into_body().collect().await.unwrap().to_bytes();
        assert!(status < 500 || [502, 503, 504].contains(&status), "{status}: {}", String::from_utf8_lossy(&body));
        if status >= 400 {
            assert!(ct.starts_with("application/json"), "{status} with content-type {ct:?}");
            let v: serde_json::Value = serde_json::from_slice(&body).expect("error body is JSON");
            assert!(v["error"]["code"].is_string() && v["error"]["message"].is_string(), "{v}");
        }
    });
});
