//! The REST client's behaviour seen through the API: retries on 429/5xx, Twilio error bodies, unreachable hosts.

use axum::http::{Method, StatusCode};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::support::*;

async fn start(h: &Harness) -> Answer {
    h.json(Method::POST, "/v1/sessions", json!({ "customerName": "Ada" })).await
}

#[tokio::test]
async fn a_429_then_a_503_are_retried_until_success() {
    let h = harness(&[]).await; // TWILIO_MAX_RETRIES defaults to 2
    Mock::given(method("POST"))
        .and(path("/v2/WebChats"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "0").set_body_json(json!({ "code": 20429, "message": "Too Many Requests", "status": 429 })))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&h.twilio)
        .await;
    Mock::given(method("POST"))
        .and(path("/v2/WebChats"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .with_priority(2)
        .mount(&h.twilio)
        .await;
    Mock::given(method("POST"))
        .and(path("/v2/WebChats"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "conversation_sid": CONVERSATION, "identity": "customer-x" })))
        .with_priority(3)
        .mount(&h.twilio)
        .await;
    let a = start(&h).await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    let webchats = h.twilio.received_requests().await.unwrap().iter().filter(|r| r.url.path() == "/v2/WebChats").count();
    assert_eq!(webchats, 3);
    let metrics = h.state.metrics.render(0);
    assert!(metrics.contains(r#"flexdesk_twilio_requests_total{operation="start_webchat",outcome="retried"} 2"#), "{metrics}");
}

#[tokio::test]
async fn a_create_answered_500_is_not_sent_again() {
    // A 500 does not prove Twilio did nothing: sending the start again could hand the agents a second task.
    let h = harness(&[]).await;
    Mock::given(method("POST"))
        .and(path("/v2/WebChats"))
        .respond_with(ResponseTemplate::new(500).set_body_json(json!({ "code": 20500, "message": "Internal Server Error", "status": 500 })))
        .expect(1)
        .mount(&h.twilio)
        .await;
    let a = start(&h).await;
    assert_eq!((a.status, error_code(&a)), (StatusCode::BAD_GATEWAY, "twilio_unavailable"));
    assert!(!a.text.contains("20500"), "Twilio's code is logged, not answered: {}", a.text);
}

#[tokio::test]
async fn a_create_that_timed_out_is_not_sent_again() {
    let h = harness(&[("TWILIO_TIMEOUT_SECONDS", "1")]).await;
    Mock::given(method("POST"))
        .and(path("/v2/WebChats"))
        .respond_with(ResponseTemplate::new(200).set_delay(std::time::Duration::from_millis(1500)))
        .expect(1)
        .mount(&h.twilio)
        .await;
    let a = start(&h).await;
    assert_eq!((a.status, error_code(&a)), (StatusCode::GATEWAY_TIMEOUT, "twilio_unreachable"));
}

#[tokio::test]
async fn persistent_5xx_on_a_repeatable_call_gives_up_after_the_retries_with_502() {
    let h = harness(&[]).await;
    let s = h.start_webchat_session().await;
    Mock::given(method("POST"))
        .and(path(format!("/v1/Services/{}/Conversations/{CONVERSATION}", sid("IS"))))
        .respond_with(ResponseTemplate::new(500).set_body_json(json!({ "code": 20500, "message": "Internal Server Error", "status": 500 })))
        .expect(3)
        .mount(&h.twilio)
        .await;
    let a = h.end(s["sessionId"].as_str().unwrap(), s["sessionCredential"].as_str().unwrap()).await;
    assert_eq!((a.status, error_code(&a)), (StatusCode::BAD_GATEWAY, "twilio_unavailable"));
}

#[tokio::test]
async fn starts_beyond_the_paced_rate_wait_then_get_a_503_with_retry_after() {
    // 2 starts/s and a 1 s wait: of 6 simultaneous starts, about three get through, evenly spaced, and the rest
    // are told when to come back. Twilio never sees more than the rate.
    let h = harness(&[("TWILIO_WEBCHATS_RATE", "2"), ("TWILIO_PACING_MAX_WAIT_SECONDS", "1")]).await;
    Mock::given(method("POST"))
        .and(path("/v2/WebChats"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({ "conversation_sid": CONVERSATION, "identity": "customer-x" })))
        .mount(&h.twilio)
        .await;
    let answers = futures_util::future::join_all((0..6).map(|_| start(&h))).await;
    let served = answers.iter().filter(|a| a.status == StatusCode::CREATED).count();
    assert!((2..=3).contains(&served), "{served} served");
    for busy in answers.iter().filter(|a| a.status != StatusCode::CREATED) {
        assert_eq!((busy.status, error_code(busy)), (StatusCode::SERVICE_UNAVAILABLE, "twilio_busy"));
        let secs: u64 = busy.headers["retry-after"].to_str().unwrap().parse().unwrap();
        assert!(secs >= 1, "{secs}");
    }
    let webchats = h.twilio.received_requests().await.unwrap().iter().filter(|r| r.url.path() == "/v2/WebChats").count();
    assert_eq!(webchats, served, "refused starts never reached Twilio");
}

#[tokio::test]
async fn persistent_429_is_503_busy() {
    let h = harness(&[("TWILIO_MAX_RETRIES", "1")]).await;
    Mock::given(method("POST"))
        .and(path("/v2/WebChats"))
        .respond_with(ResponseTemplate::new(429))
        .expect(2)
        .mount(&h.twilio)
        .await;
    let a = start(&h).await;
    assert_eq!((a.status, error_code(&a)), (StatusCode::SERVICE_UNAVAILABLE, "twilio_busy"));
}

#[tokio::test]
async fn a_4xx_is_not_retried_and_its_twilio_code_is_logged_not_answered() {
    let h = harness(&[]).await;
    Mock::given(method("POST"))
        .and(path("/v2/WebChats"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({
            "code": 20003, "message": "Authenticate", "more_info": "https://www.twilio.com/docs/errors/20003", "status": 401 })))
        .expect(1)
        .mount(&h.twilio)
        .await;
    let a = start(&h).await;
    assert_eq!((a.status, error_code(&a)), (StatusCode::BAD_GATEWAY, "twilio_rejected"));
    // An anonymous caller learns nothing about our Twilio account (issue 14, item 5); the log has the code.
    assert!(!a.text.contains("20003") && !a.text.contains("401"), "{}", a.text);
}

#[tokio::test]
async fn an_answer_without_the_expected_fields_is_a_clear_502() {
    let h = harness(&[]).await;
    Mock::given(method("POST"))
        .and(path("/v2/WebChats"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "identity": "x" })))
        .mount(&h.twilio)
        .await;
    let a = start(&h).await;
    assert_eq!((a.status, error_code(&a)), (StatusCode::BAD_GATEWAY, "twilio_bad_response"));
}

#[tokio::test]
async fn an_unreachable_twilio_is_retried_then_504() {
    // A port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("http://127.0.0.1:{port}");
    let h = harness(&[("TWILIO_FLEX_API_URL", &url)]).await;
    let a = start(&h).await;
    assert_eq!((a.status, error_code(&a)), (StatusCode::GATEWAY_TIMEOUT, "twilio_unreachable"));
    let metrics = h.state.metrics.render(0);
    assert!(metrics.contains(r#"flexdesk_twilio_requests_total{operation="start_webchat",outcome="retried"} 2"#), "{metrics}");
    assert!(metrics.contains(r#"flexdesk_twilio_requests_total{operation="start_webchat",outcome="error"} 1"#), "{metrics}");
}

#[tokio::test]
async fn a_slow_twilio_times_out() {
    let h = harness(&[("TWILIO_TIMEOUT_SECONDS", "1"), ("TWILIO_MAX_RETRIES", "0")]).await;
    Mock::given(method("POST"))
        .and(path("/v2/WebChats"))
        .respond_with(ResponseTemplate::new(200).set_delay(std::time::Duration::from_millis(1500)))
        .mount(&h.twilio)
        .await;
    let a = start(&h).await;
    assert_eq!((a.status, error_code(&a)), (StatusCode::GATEWAY_TIMEOUT, "twilio_unreachable"));
}

#[tokio::test]
async fn a_request_over_the_server_timeout_is_a_json_504() {
    let h = harness(&[("REQUEST_TIMEOUT_SECONDS", "1"), ("TWILIO_TIMEOUT_SECONDS", "5"), ("TWILIO_PACING_MAX_WAIT_SECONDS", "0")]).await;
    Mock::given(method("POST"))
        .and(path("/v2/WebChats"))
        .respond_with(ResponseTemplate::new(200).set_delay(std::time::Duration::from_millis(1500)))
        .mount(&h.twilio)
        .await;
    let a = start(&h).await;
    assert_eq!((a.status, error_code(&a)), (StatusCode::GATEWAY_TIMEOUT, "timeout"));
}
