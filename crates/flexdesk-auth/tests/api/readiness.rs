//! `/readyz` and its grace (issue 25): once Twilio has answered, a failing Twilio turns `/readyz` 503 only after
//! `READY_TWILIO_GRACE_SECONDS`, so one blip does not take every replica out of the load balancer at once.

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::support::*;

/// The readiness probe: conversations v1 `FetchService` of the configured service (twilio-oai
/// twilio_conversations_v1.json), answered with `status`.
async fn twilio_answers(h: &Harness, status: u16) {
    h.twilio.reset().await;
    Mock::given(method("GET"))
        .and(path(format!("/v1/Services/{}", sid("IS"))))
        .respond_with(ResponseTemplate::new(status).set_body_json(json!({ "sid": sid("IS") })))
        .mount(&h.twilio)
        .await;
}

async fn readyz(h: &Harness) -> Answer {
    h.send(Request::get("/readyz").body(Body::empty()).unwrap()).await
}

async fn sleep_ms(ms: u64) {
    tokio::time::sleep(Duration::from_millis(ms)).await;
}

const FAST: [(&str, &str); 2] = [("READY_TWILIO_FRESH_SECONDS", "1"), ("READY_PROBE_RETRY_SECONDS", "1")];

#[tokio::test]
async fn a_twilio_blip_keeps_the_replica_ready_until_the_grace_runs_out() {
    let h = harness(&[FAST[0], FAST[1], ("READY_TWILIO_GRACE_SECONDS", "3")]).await;
    twilio_answers(&h, 200).await;
    assert_eq!(readyz(&h).await.status, StatusCode::OK);

    // Twilio starts failing (5xx) after that good answer: still ready, and the body says for how long it fails.
    twilio_answers(&h, 503).await;
    sleep_ms(1100).await;
    let a = readyz(&h).await;
    assert_eq!((a.status, &a.body["status"], &a.body["twilio"]["failingForSeconds"]), (StatusCode::OK, &json!("ready"), &json!(0)), "{}", a.text);
    sleep_ms(1100).await;
    let a = readyz(&h).await;
    assert_eq!(a.status, StatusCode::OK, "a second failed probe within the grace: {}", a.text);
    assert_eq!(h.twilio.received_requests().await.unwrap().len(), 2, "each failed probe was sent (the grace does not skip probing)");

    // Past the grace (counted from the first failure, not the last): out of the load balancer.
    sleep_ms(2000).await;
    let a = readyz(&h).await;
    assert_eq!((a.status, error_reason(&a)), (StatusCode::SERVICE_UNAVAILABLE, "twilio_unreachable"), "{}", a.text);

    // Twilio back: ready, and the next blip gets a fresh grace.
    twilio_answers(&h, 200).await;
    sleep_ms(1100).await;
    let a = readyz(&h).await;
    assert_eq!((a.status, a.body["twilio"].get("failingForSeconds")), (StatusCode::OK, None), "{}", a.text);
    twilio_answers(&h, 503).await;
    sleep_ms(1100).await;
    assert_eq!(readyz(&h).await.status, StatusCode::OK, "a new failure spell starts a new grace");
}

#[tokio::test]
async fn no_grace_before_twilio_ever_answered_nor_when_it_is_zero() {
    // A replica that never reached Twilio (starting up, or a wrong configuration) does not join the load balancer.
    let h = harness(&[]).await;
    twilio_answers(&h, 503).await;
    let a = readyz(&h).await;
    assert_eq!((a.status, error_reason(&a)), (StatusCode::SERVICE_UNAVAILABLE, "twilio_unreachable"), "{}", a.text);

    // READY_TWILIO_GRACE_SECONDS=0: the first failure after a good answer is 503 at once.
    let h = harness(&[FAST[0], FAST[1], ("READY_TWILIO_GRACE_SECONDS", "0")]).await;
    twilio_answers(&h, 200).await;
    assert_eq!(readyz(&h).await.status, StatusCode::OK);
    twilio_answers(&h, 503).await;
    sleep_ms(1100).await;
    assert_eq!(readyz(&h).await.status, StatusCode::SERVICE_UNAVAILABLE);
}

fn error_reason(a: &Answer) -> &str {
    a.body["reason"].as_str().unwrap_or_default()
}
