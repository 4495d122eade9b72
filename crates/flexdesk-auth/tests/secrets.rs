//! Secrets (auth token, API key secret, session secret) never appear in logs or answers,
//! and neither do the tokens and credentials the server hands out (they go to the client only).
//!
//! Its own test binary with a global TRACE subscriber: thread-local subscribers miss events when other
//! tests in the same process warm tracing's callsite cache first.

#[path = "api/support.rs"]
mod support;

use std::io::Write;
use std::sync::{Arc, Mutex};

use axum::http::{Method, StatusCode};
use serde_json::json;
use tracing_subscriber::fmt::MakeWriter;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::support::*;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Captured {
        self.clone()
    }
}

#[tokio::test]
async fn no_secret_reaches_logs_or_responses() {
    let logs = Captured::default();
    let subscriber = tracing_subscriber::fmt().with_writer(logs.clone()).with_max_level(tracing::Level::TRACE).with_ansi(false).finish();
    tracing::subscriber::set_global_default(subscriber).expect("the only test in this binary");

    let h = harness(&[("TWILIO_SMS_NUMBER", "+14155550100"), ("SMS_ALLOWED_CALLING_CODES", "1")]).await;
    let s = h.start_webchat_session().await;
    let (id, cred, token) = (s["sessionId"].as_str().unwrap(), s["sessionCredential"].as_str().unwrap(), s["token"].as_str().unwrap());
    conversation_state(&h.twilio, "active").await;
    let mut answers = vec![h.refresh(id, cred).await];
    answers.push(h.refresh(id, "forged.1.AAAA").await);
    // A Twilio failure whose message even echoes something secret-looking must not leak our own secrets.
    Mock::given(method("POST"))
        .and(path(format!("/v1/Services/{}/Conversations/{CONVERSATION}", sid("IS"))))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({ "code": 20001, "message": "bad request", "status": 400 })))
        .mount(&h.twilio)
        .await;
    // A phone number is personal data (continue by SMS): logged masked only, also when Twilio's message quotes it and
    // when the country is refused.
    Mock::given(method("POST"))
        .and(path(format!("/v1/Services/{}/Conversations/{CONVERSATION}/Participants", sid("IS"))))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({ "code": 50407, "message": "Invalid messaging binding address +14155550199 (14155550199)", "status": 400 })))
        .mount(&h.twilio)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/v1/Services/{}/Conversations/{CONVERSATION}/Participants", sid("IS"))))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "participants": [], "meta": { "page": 0 } })))
        .mount(&h.twilio)
        .await;
    let sms = |phone: &str| json!({ "sessionCredential": cred, "phone": phone });
    let refused_by_twilio = h.json(Method::POST, &format!("/v1/sessions/{id}/sms"), sms("+1 415 555 0199")).await;
    assert_eq!(refused_by_twilio.status, StatusCode::BAD_GATEWAY, "{}", refused_by_twilio.text);
    let refused_here = h.json(Method::POST, &format!("/v1/sessions/{id}/sms"), sms("+44 20 7946 0018")).await;
    assert_eq!(refused_here.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused_here.text);
    answers.push(h.end(id, cred).await);
    answers.push(h.json(Method::POST, "/v1/sessions", json!({ "customerName": "" })).await);
    answers.push(h.get("/metrics").await);
    answers.push(h.get("/openapi.json").await);
    assert_eq!(answers[2].status, StatusCode::BAD_GATEWAY, "{}", answers[2].text);

    let logs = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("chat started"), "logging was captured: {logs}");
    assert!(logs.contains("Twilio call failed"), "{logs}");
    for secret in [AUTH_TOKEN, API_SECRET, SESSION_SECRET, cred, token] {
        assert!(!logs.contains(secret), "a secret leaked into the logs:\n{logs}");
    }
    for a in &answers {
        for secret in [AUTH_TOKEN, API_SECRET, SESSION_SECRET] {
            assert!(!a.text.contains(secret), "a secret leaked into an answer: {}", a.text);
        }
    }
    for digits in ["4155550199", "2079460018"] {
        assert!(!logs.contains(digits), "a phone number reached the logs:\n{logs}");
    }
    assert!(logs.contains("+44••••••••18"), "the refused number is logged masked: {logs}");
    // The MAC part of the credential is what must stay private; the session id is public.
    let mac = cred.rsplit('.').next().unwrap();
    assert!(!logs.contains(mac));
}
