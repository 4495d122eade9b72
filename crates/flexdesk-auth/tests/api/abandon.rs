//! Issue 28, item 1 (no ghost chats): the desk's beacon when the last tab of a chat goes away
//! (`POST /v1/sessions/{id}/leave`, the credential in a text/plain body as `navigator.sendBeacon` sends it), the grace
//! period (`ABANDON_GRACE_SECONDS`) a refresh cancels, and the end: a line for the agent, then the conversation closed.
//! The grace is one second here; the checks poll for what Twilio received (no timed assertion on the end itself).

use std::time::Duration;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use serde_json::json;
use wiremock::matchers::{body_string_contains, method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::support::*;

/// The beacon as a browser sends it: the JSON credential as `text/plain;charset=UTF-8`.
fn beacon(id: &str, credential: &str) -> Request<Body> {
    Request::post(format!("/v1/sessions/{id}/leave"))
        .header(header::CONTENT_TYPE, "text/plain;charset=UTF-8")
        .header(header::ORIGIN, ORIGIN)
        .body(Body::from(json!({ "sessionCredential": credential }).to_string()))
        .unwrap()
}

async fn closes_requested(h: &Harness) -> usize {
    let conversation = format!("/v1/Services/{}/Conversations/{CONVERSATION}", sid("IS"));
    let received = h.twilio.received_requests().await.unwrap();
    received.iter().filter(|r| r.url.path() == conversation && String::from_utf8_lossy(&r.body).contains("State=closed")).count()
}

async fn mount_close(h: &Harness) {
    Mock::given(method("POST"))
        .and(path(format!("/v1/Services/{}/Conversations/{CONVERSATION}", sid("IS"))))
        .and(body_string_contains("State=closed"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "sid": CONVERSATION, "state": "closed" })))
        .mount(&h.twilio)
        .await;
}

#[tokio::test]
async fn the_last_tab_gone_ends_the_chat_after_the_grace_period_with_a_line_for_the_agent() {
    let h = harness(&[("ABANDON_GRACE_SECONDS", "1")]).await;
    let s = h.start_webchat_session().await;
    mount_close(&h).await;
    let (id, cred) = (s["sessionId"].as_str().unwrap(), s["sessionCredential"].as_str().unwrap());
    let a = h.send(beacon(id, cred)).await;
    assert_eq!(a.status, StatusCode::ACCEPTED, "{}", a.text);
    assert_eq!(closes_requested(&h).await, 0, "not before the grace period");

    let mut waited = 0;
    while closes_requested(&h).await == 0 {
        assert!(waited < 100, "the chat was never ended");
        tokio::time::sleep(Duration::from_millis(50)).await;
        waited += 1;
    }
    let received = h.twilio.received_requests().await.unwrap();
    let notice = received
        .iter()
        .find(|r| r.url.path().ends_with("/Messages") && String::from_utf8_lossy(&r.body).contains("customer_left"))
        .expect("a line for the agent");
    assert!(String::from_utf8_lossy(&notice.body).contains("The+customer+left"), "{}", String::from_utf8_lossy(&notice.body));
    let a = h.refresh(id, cred).await;
    assert_eq!((a.status, error_code(&a)), (StatusCode::NOT_FOUND, "session_ended"));
    assert!(h.state.abandonments.is_empty());
}

#[tokio::test]
async fn a_refresh_within_the_grace_period_keeps_the_chat() {
    let h = harness(&[("ABANDON_GRACE_SECONDS", "1")]).await;
    let s = h.start_webchat_session().await;
    mount_close(&h).await;
    conversation_state(&h.twilio, "active").await;
    let (id, cred) = (s["sessionId"].as_str().unwrap(), s["sessionCredential"].as_str().unwrap());
    assert_eq!(h.send(beacon(id, cred)).await.status, StatusCode::ACCEPTED);
    // A reload (or another tab) takes the chat up: it refreshes first.
    assert_eq!(h.refresh(id, cred).await.status, StatusCode::OK);
    assert!(h.state.abandonments.is_empty(), "cancelled");
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert_eq!(closes_requested(&h).await, 0, "the chat is still open");
    assert_eq!(h.refresh(id, cred).await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_beacon_needs_the_sessions_credential_and_an_ended_chat_or_off_does_nothing() {
    let h = harness(&[]).await;
    let s = h.start_webchat_session().await;
    let (id, cred) = (s["sessionId"].as_str().unwrap(), s["sessionCredential"].as_str().unwrap());
    let a = h.send(beacon(id, "forged")).await;
    assert_eq!((a.status, error_code(&a)), (StatusCode::UNAUTHORIZED, "invalid_credential"));
    let a = h.send(beacon("another-session", cred)).await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    assert!(h.state.abandonments.is_empty());
    mount_close(&h).await;
    assert_eq!(h.end(id, cred).await.status, StatusCode::NO_CONTENT);
    assert_eq!(h.send(beacon(id, cred)).await.status, StatusCode::NO_CONTENT, "already ended");
    assert!(h.state.abandonments.is_empty());

    let off = harness(&[("ABANDON_GRACE_SECONDS", "off")]).await;
    let s = off.start_webchat_session().await;
    let a = off.send(beacon(s["sessionId"].as_str().unwrap(), s["sessionCredential"].as_str().unwrap())).await;
    assert_eq!(a.status, StatusCode::NO_CONTENT);
    assert!(off.state.abandonments.is_empty());
}

/// The desk closing a chat whose customer did not answer "Are you still there?" (`"reason": "idle"`): the agent's line
/// first, then the usual end; an ordinary end posts nothing.
#[tokio::test]
async fn an_idle_end_posts_the_agents_line_and_an_ordinary_end_does_not() {
    let h = harness(&[]).await;
    let s = h.start_webchat_session().await;
    mount_close(&h).await;
    let (id, cred) = (s["sessionId"].as_str().unwrap(), s["sessionCredential"].as_str().unwrap());
    let a = h.json(axum::http::Method::DELETE, &format!("/v1/sessions/{id}"), json!({ "sessionCredential": cred, "reason": "idle" })).await;
    assert_eq!(a.status, StatusCode::NO_CONTENT, "{}", a.text);
    let notices = |body: &str| body.contains("customer_idle");
    let received = h.twilio.received_requests().await.unwrap();
    assert_eq!(received.iter().filter(|r| notices(&String::from_utf8_lossy(&r.body))).count(), 1);
    assert_eq!(closes_requested(&h).await, 1);

    let plain = harness(&[]).await;
    let s = plain.start_webchat_session().await;
    mount_close(&plain).await;
    assert_eq!(plain.end(s["sessionId"].as_str().unwrap(), s["sessionCredential"].as_str().unwrap()).await.status, StatusCode::NO_CONTENT);
    let received = plain.twilio.received_requests().await.unwrap();
    assert!(!received.iter().any(|r| String::from_utf8_lossy(&r.body).contains("customer_")), "no line for an ordinary end");
}

/// The backstop: Twilio's conversation timers set on a conversation Twilio made (webchat mode), after the start, to
/// the session's lifetime by default (`CONVERSATION_*_SECONDS`); `off` sets none.
#[tokio::test]
async fn a_start_sets_twilios_conversation_timers_unless_off() {
    let h = harness(&[]).await;
    h.start_webchat_session().await;
    let mut waited = 0;
    while timers_set(&h).await.is_empty() {
        assert!(waited < 100, "no timers were set");
        tokio::time::sleep(Duration::from_millis(20)).await;
        waited += 1;
    }
    assert_eq!(timers_set(&h).await, vec!["Timers.Inactive=PT86400S&Timers.Closed=PT86400S".to_string()]);

    let off = harness(&[("CONVERSATION_INACTIVE_SECONDS", "off"), ("CONVERSATION_CLOSED_SECONDS", "off")]).await;
    off.start_webchat_session().await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(timers_set(&off).await.is_empty());
}

async fn timers_set(h: &Harness) -> Vec<String> {
    let received = h.twilio.received_requests().await.unwrap();
    received.iter().map(|r| String::from_utf8_lossy(&r.body).into_owned()).filter(|b| b.contains("Timers.")).collect()
}
