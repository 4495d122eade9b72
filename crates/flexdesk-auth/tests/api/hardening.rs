//! CORS allowlist, body limits, JSON rejections, rate limit, request ids, unknown routes.

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use serde_json::json;

use crate::support::*;

fn preflight(origin: &str) -> Request<Body> {
    Request::builder()
        .method(Method::OPTIONS)
        .uri("/v1/sessions")
        .header(header::ORIGIN, origin)
        .header(header::ACCESS_CONTROL_REQUEST_METHOD, "POST")
        .header(header::ACCESS_CONTROL_REQUEST_HEADERS, "content-type")
        .body(Body::empty())
        .unwrap()
}

#[tokio::test]
async fn cors_preflight_from_a_listed_origin_is_allowed() {
    let h = harness(&[]).await;
    let a = h.send(preflight(ORIGIN)).await;
    assert!(a.status.is_success(), "{}", a.status);
    assert_eq!(a.headers.get(header::ACCESS_CONTROL_ALLOW_ORIGIN).unwrap(), ORIGIN);
    assert!(a.headers.get(header::ACCESS_CONTROL_ALLOW_CREDENTIALS).is_none());
    let methods = a.headers.get(header::ACCESS_CONTROL_ALLOW_METHODS).unwrap().to_str().unwrap().to_string();
    assert!(methods.contains("POST") && methods.contains("DELETE"), "{methods}");
}

#[tokio::test]
async fn cors_from_an_unlisted_origin_is_refused() {
    let h = harness(&[]).await;
    for origin in ["http://evil.example", "http://localhost:3001", "null"] {
        let a = h.send(preflight(origin)).await;
        assert_eq!((a.status, error_code(&a)), (StatusCode::FORBIDDEN, "origin_not_allowed"), "{origin}");
        assert!(a.headers.get(header::ACCESS_CONTROL_ALLOW_ORIGIN).is_none());
        let a = h.send(Request::get("/v1/agents/availability").header(header::ORIGIN, origin).body(Body::empty()).unwrap()).await;
        assert_eq!(a.status, StatusCode::FORBIDDEN, "{origin}");
    }
}

#[tokio::test]
async fn a_3_mb_body_is_413_json_with_or_without_content_length() {
    let h = harness(&[]).await;
    let big = format!(r#"{{"customerName":"{}"}}"#, "x".repeat(3 * 1024 * 1024));
    let with_length = Request::post("/v1/sessions")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::CONTENT_LENGTH, big.len())
        .body(Body::from(big.clone()))
        .unwrap();
    let a = h.send(with_length).await;
    assert_eq!((a.status, error_code(&a)), (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"));
    // Streamed without a length: the extractor's limit answers.
    let stream = futures_stream(big);
    let chunked = Request::post("/v1/sessions").header(header::CONTENT_TYPE, "application/json").body(stream).unwrap();
    let a = h.send(chunked).await;
    assert_eq!((a.status, error_code(&a)), (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"), "{}", a.text);
}

fn futures_stream(text: String) -> Body {
    let chunks: Vec<Result<axum::body::Bytes, std::io::Error>> =
        text.into_bytes().chunks(64 * 1024).map(|c| Ok(axum::body::Bytes::copy_from_slice(c))).collect();
    Body::from_stream(futures_util::stream::iter(chunks))
}

#[tokio::test]
async fn broken_json_wrong_type_and_wrong_shape_are_json_errors() {
    let h = harness(&[]).await;
    let broken = Request::post("/v1/sessions").header(header::CONTENT_TYPE, "application/json").body(Body::from("{\"customerName\": ")).unwrap();
    let a = h.send(broken).await;
    assert_eq!((a.status, error_code(&a)), (StatusCode::BAD_REQUEST, "invalid_json"));
    let text = Request::post("/v1/sessions").header(header::CONTENT_TYPE, "text/plain").body(Body::from("hi")).unwrap();
    let a = h.send(text).await;
    assert_eq!((a.status, error_code(&a)), (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type"));
    let a = h.json(Method::POST, "/v1/sessions", json!({ "customerName": 5 })).await;
    assert_eq!((a.status, error_code(&a)), (StatusCode::UNPROCESSABLE_ENTITY, "invalid_body"));
    let a = h.json(Method::POST, "/v1/sessions/x/token", json!([])).await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
    // Regression (schemathesis): serde reads a struct from an array of its fields; the API must not.
    for body in [json!(["Ada"]), json!({"customerName": "Ada", "handoff": [null, "billing"]}),
                 json!({"customerName": "Ada", "handoff": {"transcript": [["user", "hi"]]}})] {
        let a = h.json(Method::POST, "/v1/sessions", body.clone()).await;
        assert_eq!((a.status, error_code(&a)), (StatusCode::UNPROCESSABLE_ENTITY, "invalid_body"), "{body}");
    }
    let a = h.json(Method::POST, "/v1/sessions/x/token", json!(["cred"])).await;
    assert_eq!((a.status, error_code(&a)), (StatusCode::UNPROCESSABLE_ENTITY, "invalid_body"));
    let array_delete = Request::delete("/v1/sessions/x").body(Body::from("[\"cred\"]")).unwrap();
    assert_eq!(h.send(array_delete).await.status, StatusCode::UNPROCESSABLE_ENTITY);
    let wrong_type_delete = Request::delete("/v1/sessions/x").body(Body::from("{\"sessionCredential\": 5}")).unwrap();
    assert_eq!(h.send(wrong_type_delete).await.status, StatusCode::UNPROCESSABLE_ENTITY);
    let bad_delete = Request::delete("/v1/sessions/x").body(Body::from("{oops")).unwrap();
    let a = h.send(bad_delete).await;
    assert_eq!((a.status, error_code(&a)), (StatusCode::BAD_REQUEST, "invalid_json"));
}

#[tokio::test]
async fn unknown_routes_and_methods_answer_json() {
    let h = harness(&[]).await;
    let a = h.get("/nope").await;
    assert_eq!((a.status, error_code(&a)), (StatusCode::NOT_FOUND, "not_found"));
    let a = h.get("/v1/sessions").await;
    assert_eq!((a.status, error_code(&a)), (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"));
    assert!(a.headers.get(header::ALLOW).is_some());
}

#[tokio::test]
async fn the_api_is_rate_limited_per_client_but_health_is_not() {
    let h = harness(&[("RATE_LIMIT_BURST", "2"), ("RATE_LIMIT_PER_MINUTE", "1")]).await;
    for _ in 0..2 {
        assert_eq!(h.json(Method::POST, "/v1/sessions/x/token", json!({ "sessionCredential": "x" })).await.status, StatusCode::UNAUTHORIZED);
    }
    let a = h.json(Method::POST, "/v1/sessions/x/token", json!({ "sessionCredential": "x" })).await;
    assert_eq!((a.status, error_code(&a)), (StatusCode::TOO_MANY_REQUESTS, "rate_limited"));
    let wait: u64 = a.headers.get(header::RETRY_AFTER).unwrap().to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    assert_eq!(h.get("/healthz").await.status, StatusCode::OK);
}

#[tokio::test]
async fn every_answer_carries_a_request_id() {
    let h = harness(&[]).await;
    let a = h.get("/healthz").await;
    assert_eq!(a.body, json!({ "status": "ok" }));
    assert_eq!(a.headers.get("x-request-id").unwrap().len(), 36);
    // A caller's id is not ours: it is never echoed as our request id (issue 14, item 5).
    let given = Request::get("/healthz").header("x-request-id", "abc-123").body(Body::empty()).unwrap();
    let id = h.send(given).await.headers.get("x-request-id").unwrap().to_str().unwrap().to_string();
    assert_ne!(id, "abc-123");
    assert_eq!(id.len(), 36);
}

#[tokio::test]
async fn metrics_label_routes_by_pattern_and_count_twilio_outcomes() {
    let h = harness(&[]).await;
    let s = h.start_webchat_session().await;
    conversation_state(&h.twilio, "active").await;
    h.refresh(s["sessionId"].as_str().unwrap(), s["sessionCredential"].as_str().unwrap()).await;
    let a = h.admin_get("/metrics").await;
    assert_eq!(a.headers.get(header::CONTENT_TYPE).unwrap(), flexdesk_auth::infra::metrics::CONTENT_TYPE);
    for line in [
        r#"flexdesk_http_requests_total{route="/v1/sessions",method="POST",status="201"} 1"#,
        r#"flexdesk_http_requests_total{route="/v1/sessions/{id}/token",method="POST",status="200"} 1"#,
        r#"flexdesk_http_request_duration_seconds_count{route="/v1/sessions"} 1"#,
        r#"flexdesk_twilio_requests_total{operation="start_webchat",outcome="ok"} 1"#,
        r#"flexdesk_twilio_requests_total{operation="get_conversation",outcome="ok"} 1"#,
        "flexdesk_open_sessions 1",
    ] {
        assert!(a.text.contains(line), "{line} missing in\n{}", a.text);
    }
    assert!(!a.text.contains(s["sessionId"].as_str().unwrap()), "session ids must not become labels");
}

#[tokio::test]
async fn openapi_json_describes_the_api() {
    let h = harness(&[]).await;
    let a = h.admin_get("/openapi.json").await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(a.body["openapi"].as_str().unwrap().starts_with("3."));
    assert!(a.body["paths"]["/v1/sessions/{id}/token"]["post"].is_object());
    assert!(a.body["components"]["schemas"]["SessionCreated"]["properties"]["sessionCredential"].is_object());
}
