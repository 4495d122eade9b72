//! Twilio's Conversations webhooks (`POST /v1/twilio/webhooks`): signature, ended-marking, replays, and refresh
//! trusting them while they are healthy; single-flight when it must ask Twilio.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use twilio_model::webhook::signature as expected_signature;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::support::*;

const WEBHOOKS_ON: &[(&str, &str)] = &[("TWILIO_WEBHOOKS", "on")];

fn closed_params(conversation: &str) -> Vec<(String, String)> {
    [
        ("EventType", "onConversationStateUpdated"),
        ("AccountSid", &sid("AC")),
        ("ChatServiceSid", &sid("IS")),
        ("ConversationSid", conversation),
        ("StateFrom", "active"),
        ("StateTo", "closed"),
        ("Reason", "API"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

/// A webhook as Twilio sends it to `http://auth.test/v1/twilio/webhooks`, signed with `signature` (or correctly).
pub(crate) fn webhook(params: &[(String, String)], signature: Option<&str>, host: &str) -> Request<Body> {
    let url = format!("http://{host}/v1/twilio/webhooks");
    let sig = signature.map(str::to_string).unwrap_or_else(|| expected_signature(AUTH_TOKEN.as_bytes(), &url, params));
    let body = form_body(params);
    Request::post("/v1/twilio/webhooks")
        .header(header::HOST, host)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header("x-twilio-signature", sig)
        .body(Body::from(body))
        .unwrap()
}

fn form_body(params: &[(String, String)]) -> String {
    params.iter().map(|(k, v)| format!("{}={}", enc(k), enc(v))).collect::<Vec<_>>().join("&")
}

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}

async fn conversation_fetches(h: &Harness) -> usize {
    let p = format!("/v1/Services/{}/Conversations/{CONVERSATION}", sid("IS"));
    h.twilio.received_requests().await.unwrap().iter().filter(|r| r.method.as_str() == "GET" && r.url.path() == p).count()
}

fn session(body: &serde_json::Value) -> (String, String) {
    (body["sessionId"].as_str().unwrap().to_string(), body["sessionCredential"].as_str().unwrap().to_string())
}

#[tokio::test]
async fn a_signed_close_ends_the_session_and_healthy_webhooks_spare_the_twilio_call() {
    let h = harness(WEBHOOKS_ON).await;
    conversation_state(&h.twilio, "active").await;
    let (id, cred) = session(&h.start_webchat_session().await);
    // Webhooks on but none received yet: not healthy, Twilio is asked.
    assert_eq!(h.refresh(&id, &cred).await.status, StatusCode::OK);
    assert_eq!(conversation_fetches(&h).await, 1);
    // Another conversation's close makes them healthy: refresh trusts the record (no Twilio call).
    assert_eq!(h.send(webhook(&closed_params("CH22222222222222222222222222222222"), None, "auth.test")).await.status, StatusCode::NO_CONTENT);
    assert_eq!(h.refresh(&id, &cred).await.status, StatusCode::OK);
    assert_eq!(conversation_fetches(&h).await, 1, "healthy webhooks: no Twilio call");
    // Twilio (still answering "active" here) is not asked: the webhook alone ends the chat.
    assert_eq!(h.send(webhook(&closed_params(CONVERSATION), None, "auth.test")).await.status, StatusCode::NO_CONTENT);
    let a = h.refresh(&id, &cred).await;
    assert_eq!((a.status, error_code(&a)), (StatusCode::NOT_FOUND, "session_ended"));
    assert_eq!(conversation_fetches(&h).await, 1);
    // A replay changes nothing: still ended.
    assert_eq!(h.send(webhook(&closed_params(CONVERSATION), None, "auth.test")).await.status, StatusCode::NO_CONTENT);
    assert_eq!(h.refresh(&id, &cred).await.status, StatusCode::NOT_FOUND);
}

/// Issue 25: the Auth Token only checks signatures. Twilio signs webhooks with it
/// (<https://www.twilio.com/docs/usage/webhooks/webhooks-security>) and accepts an API key SID + secret as REST Basic
/// auth (<https://www.twilio.com/docs/usage/requests-to-twilio>), so with both set every REST call carries the API key.
#[tokio::test]
async fn with_the_auth_token_set_rest_calls_carry_the_api_key_and_webhooks_verify_with_the_token() {
    use base64::Engine;
    let h = harness(WEBHOOKS_ON).await;
    conversation_state(&h.twilio, "active").await;
    let (id, cred) = session(&h.start_webchat_session().await);
    assert_eq!(h.refresh(&id, &cred).await.status, StatusCode::OK);
    assert_eq!(h.send(webhook(&closed_params(CONVERSATION), None, "auth.test")).await.status, StatusCode::NO_CONTENT);
    assert!(h.state.sessions.is_conversation_ended(CONVERSATION), "the webhook signed with the auth token verified");
    let api_key = format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{}:{API_SECRET}", sid("SK"))));
    let sent = h.twilio.received_requests().await.unwrap();
    assert!(sent.len() >= 2, "a start and a conversation fetch: {}", sent.len());
    for r in &sent {
        let auth = r.headers.get("authorization").and_then(|v| v.to_str().ok());
        assert_eq!(auth, Some(api_key.as_str()), "{} {}", r.method, r.url.path());
    }
}

#[tokio::test]
async fn a_forged_or_altered_webhook_is_refused_and_changes_nothing() {
    let h = harness(WEBHOOKS_ON).await;
    conversation_state(&h.twilio, "active").await;
    let (id, cred) = session(&h.start_webchat_session().await);
    let params = closed_params(CONVERSATION);
    let other_key = expected_signature(b"not the auth token", "http://auth.test/v1/twilio/webhooks", &params);
    for req in [
        webhook(&params, Some(&other_key), "auth.test"),
        webhook(&params, Some(""), "auth.test"),
        webhook(&params, Some("!!"), "auth.test"),
        // Signed for another URL (another host).
        webhook(&params, Some(&expected_signature(AUTH_TOKEN.as_bytes(), "http://evil.test/v1/twilio/webhooks", &params)), "auth.test"),
    ] {
        let a = h.send(req).await;
        assert_eq!((a.status, error_code(&a)), (StatusCode::FORBIDDEN, "invalid_signature"));
    }
    // A genuine signature over other parameters (StateTo=inactive) does not cover StateTo=closed.
    let mut inactive = params.clone();
    inactive[5].1 = "inactive".into();
    let sig = expected_signature(AUTH_TOKEN.as_bytes(), "http://auth.test/v1/twilio/webhooks", &inactive);
    assert_eq!(h.send(webhook(&params, Some(&sig), "auth.test")).await.status, StatusCode::FORBIDDEN);
    // Signed but not a close: acknowledged, nothing changes.
    assert_eq!(h.send(webhook(&inactive, None, "auth.test")).await.status, StatusCode::NO_CONTENT);
    assert_eq!(h.refresh(&id, &cred).await.status, StatusCode::OK, "the chat stays open");
    assert!(!h.state.sessions.is_conversation_ended(CONVERSATION));
    // Not form-encoded: 415.
    let json = Request::post("/v1/twilio/webhooks").header(header::CONTENT_TYPE, "application/json").body(Body::from("{}")).unwrap();
    assert_eq!(h.send(json).await.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
}

#[tokio::test]
async fn public_base_url_is_the_signed_url_and_the_default_port_is_optional() {
    let h = harness(&[("TWILIO_WEBHOOKS", "on"), ("PUBLIC_BASE_URL", "https://chat.example.com/auth/")]).await;
    let params = closed_params(CONVERSATION);
    // What the proxy forwards has another Host: the public URL is what Twilio signed.
    for url in ["https://chat.example.com/auth/v1/twilio/webhooks", "https://chat.example.com:443/auth/v1/twilio/webhooks"] {
        let sig = expected_signature(AUTH_TOKEN.as_bytes(), url, &params);
        assert_eq!(h.send(webhook(&params, Some(&sig), "10.0.0.5:4000")).await.status, StatusCode::NO_CONTENT, "{url}");
    }
    assert_eq!(h.send(webhook(&params, None, "10.0.0.5:4000")).await.status, StatusCode::FORBIDDEN, "the internal URL is not the one Twilio signs");
    // Another removed event type ends too.
    let removed: Vec<(String, String)> =
        vec![("EventType".into(), "onConversationRemoved".into()), ("ConversationSid".into(), "CH33333333333333333333333333333333".into())];
    let sig = expected_signature(AUTH_TOKEN.as_bytes(), "https://chat.example.com/auth/v1/twilio/webhooks", &removed);
    assert_eq!(h.send(webhook(&removed, Some(&sig), "x")).await.status, StatusCode::NO_CONTENT);
    assert!(h.state.sessions.is_conversation_ended("CH33333333333333333333333333333333"));
}

#[tokio::test]
async fn webhooks_off_the_route_is_not_found_and_config_needs_the_auth_token() {
    let h = harness(&[]).await;
    assert_eq!(h.send(webhook(&closed_params(CONVERSATION), None, "auth.test")).await.status, StatusCode::NOT_FOUND);
    let mut vars = env("http://127.0.0.1:9");
    vars.insert("TWILIO_WEBHOOKS".into(), "on".into());
    vars.remove("TWILIO_AUTH_TOKEN");
    let err = flexdesk_auth::infra::config::Config::from_lookup(|k| vars.get(k).cloned()).unwrap_err();
    assert!(err.to_string().contains("TWILIO_WEBHOOKS: needs TWILIO_AUTH_TOKEN"), "{err}");
}

#[tokio::test]
async fn concurrent_refreshes_of_one_chat_make_one_twilio_call() {
    let h = harness(&[]).await;
    Mock::given(method("GET"))
        .and(path(format!("/v1/Services/{}/Conversations/{CONVERSATION}", sid("IS"))))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({ "sid": CONVERSATION, "state": "active" })).set_delay(std::time::Duration::from_millis(300)))
        .mount(&h.twilio)
        .await;
    let (id, cred) = session(&h.start_webchat_session().await);
    let answers = futures_util::future::join_all((0..8).map(|_| h.refresh(&id, &cred))).await;
    assert!(answers.iter().all(|a| a.status == StatusCode::OK));
    assert_eq!(conversation_fetches(&h).await, 1, "eight overlapping refreshes, one Twilio call");
    assert_eq!(h.state.closed_checks.in_flight(), 0);
    h.refresh(&id, &cred).await;
    assert_eq!(conversation_fetches(&h).await, 2, "a later refresh asks again");
}

/// The same webhook with Twilio's `I-Twilio-Idempotency-Token` header (or none).
fn with_token(mut req: Request<Body>, token: Option<&str>) -> Request<Body> {
    if let Some(token) = token {
        req.headers_mut().insert("i-twilio-idempotency-token", token.parse().unwrap());
    }
    req
}

/// Issue 24, item 3: a webhook seen before (the same `I-Twilio-Idempotency-Token`, or the same signed request under
/// another token or none) changes nothing, not even "webhooks are healthy": a replayed capture cannot keep refresh
/// trusting a record that Twilio stopped feeding.
#[tokio::test]
async fn a_replayed_webhook_changes_nothing_not_even_health() {
    let h = harness(&[("TWILIO_WEBHOOKS", "on"), ("TWILIO_WEBHOOKS_FRESH_SECONDS", "1")]).await;
    conversation_state(&h.twilio, "active").await;
    let (id, cred) = session(&h.start_webchat_session().await);
    // A signed event that is not a close (another conversation went inactive): it only makes webhooks healthy.
    let mut inactive = closed_params("CH44444444444444444444444444444444");
    inactive[5].1 = "inactive".into();
    let token = "idem-0b7c1a52-4f2e-4bd1-9d0e-5f1e0d3c2a11";
    assert_eq!(h.send(with_token(webhook(&inactive, None, "auth.test"), Some(token))).await.status, StatusCode::NO_CONTENT);
    assert_eq!(h.refresh(&id, &cred).await.status, StatusCode::OK);
    assert_eq!(conversation_fetches(&h).await, 0, "healthy: the record is trusted");
    // Let health go stale (TWILIO_WEBHOOKS_FRESH_SECONDS=1): refresh asks Twilio again.
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    assert_eq!(h.refresh(&id, &cred).await.status, StatusCode::OK);
    assert_eq!(conversation_fetches(&h).await, 1, "stale: Twilio is asked");
    // Replays: Twilio's retry (same token), the capture with the header dropped, the capture under a made-up token.
    for (n, token) in [Some(token), None, Some("idem-made-up-by-the-attacker")].into_iter().enumerate() {
        assert_eq!(h.send(with_token(webhook(&inactive, None, "auth.test"), token)).await.status, StatusCode::NO_CONTENT, "acknowledged");
        assert_eq!(h.refresh(&id, &cred).await.status, StatusCode::OK);
        assert_eq!(conversation_fetches(&h).await, 2 + n, "replay {token:?} made webhooks look healthy");
    }
    // A new event (its own token and content) is news: healthy again, and a close still ends the chat.
    assert_eq!(h.send(with_token(webhook(&closed_params(CONVERSATION), None, "auth.test"), Some("idem-2"))).await.status, StatusCode::NO_CONTENT);
    let a = h.refresh(&id, &cred).await;
    assert_eq!((a.status, error_code(&a)), (StatusCode::NOT_FOUND, "session_ended"));
    assert_eq!(conversation_fetches(&h).await, 4, "healthy again: no Twilio call");
}

/// Issue 24, item 1: the parameter cap. At the cap a webhook is checked (a bad signature is 403); one more is 413
/// before anything is parsed or hashed.
#[tokio::test]
async fn a_webhook_over_the_parameter_cap_is_refused_before_it_is_checked() {
    let h = harness(WEBHOOKS_ON).await;
    let many = |n: usize| -> Vec<(String, String)> { (0..n).map(|i| (format!("k{i}"), "v".repeat(100))).collect() };
    let at_cap = many(flexdesk_auth::http::webhooks::MAX_WEBHOOK_PARAMS);
    let a = h.send(webhook(&at_cap, Some("AAAAAAAAAAAAAAAAAAAAAAAAAAA="), "auth.test")).await;
    assert_eq!((a.status, error_code(&a)), (StatusCode::FORBIDDEN, "invalid_signature"));
    assert_eq!(h.send(webhook(&at_cap, None, "auth.test")).await.status, StatusCode::NO_CONTENT, "signed, at the cap: accepted");
    let over = many(flexdesk_auth::http::webhooks::MAX_WEBHOOK_PARAMS + 1);
    let a = h.send(webhook(&over, None, "auth.test")).await;
    assert_eq!((a.status, error_code(&a)), (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"), "even when signed");
}
