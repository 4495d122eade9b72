//! `GET /v1/agents/availability` from TaskRouter queue statistics, cached.

use axum::http::StatusCode;
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::support::*;

fn stats_path() -> String {
    format!("/v1/Workspaces/{}/TaskQueues/{}/RealTimeStatistics", sid("WS"), sid("WQ"))
}

#[tokio::test]
async fn availability_comes_from_queue_statistics_and_is_cached() {
    let h = harness(&[]).await;
    Mock::given(method("GET"))
        .and(path(stats_path()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "total_available_workers": 3, "longest_task_waiting_age": 42,
            "tasks_by_status": { "pending": 2, "reserved": 1, "assigned": 5, "wrapping": 0 } })))
        .expect(1)
        .mount(&h.twilio)
        .await;
    for _ in 0..3 {
        let a = h.get("/v1/agents/availability").await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.text);
        assert_eq!(a.body, json!({ "agentsAvailable": 3, "tasksWaiting": 3, "longestWaitSeconds": 42 }));
    }
}

#[tokio::test]
async fn availability_errors_are_not_cached() {
    let h = harness(&[("TWILIO_MAX_RETRIES", "0")]).await;
    Mock::given(method("GET"))
        .and(path(stats_path()))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({ "code": 20404, "message": "not found", "status": 404 })))
        .up_to_n_times(1)
        .mount(&h.twilio)
        .await;
    Mock::given(method("GET"))
        .and(path(stats_path()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "total_available_workers": 0 })))
        .mount(&h.twilio)
        .await;
    let a = h.get("/v1/agents/availability").await;
    assert_eq!((a.status, error_code(&a)), (StatusCode::BAD_GATEWAY, "twilio_rejected"));
    let a = h.get("/v1/agents/availability").await;
    assert_eq!(a.body, json!({ "agentsAvailable": 0, "tasksWaiting": 0, "longestWaitSeconds": 0 }));
}

#[tokio::test]
async fn availability_without_a_queue_is_503() {
    let h = harness(&[("TWILIO_QUEUE_SID", "")]).await;
    let a = h.get("/v1/agents/availability").await;
    assert_eq!((a.status, error_code(&a)), (StatusCode::SERVICE_UNAVAILABLE, "availability_not_configured"));
}

/// A page that skips areAnyAgentsOnline outside business hours gets 503 and a Retry-After, and no task is queued.
#[tokio::test]
async fn a_start_outside_business_hours_is_refused_without_calling_twilio() {
    let today = jiff::Timestamp::now().in_tz("Europe/Paris").unwrap().date();
    let holidays = [today.yesterday().unwrap(), today, today.tomorrow().unwrap()].map(|d| d.to_string()).join(",");
    let h = harness(&[("BUSINESS_HOURS", "Mon-Sun 09:00-17:00"), ("BUSINESS_TZ", "Europe/Paris"), ("BUSINESS_HOLIDAYS", &holidays)]).await;
    Mock::given(wiremock::matchers::any()).respond_with(ResponseTemplate::new(500)).expect(0).mount(&h.twilio).await;
    let a = h.json(axum::http::Method::POST, "/v1/sessions", json!({ "customerName": "Ada" })).await;
    assert_eq!((a.status, error_code(&a)), (StatusCode::SERVICE_UNAVAILABLE, "outside_business_hours"), "{}", a.text);
    let retry: i64 = a.headers["retry-after"].to_str().unwrap().parse().unwrap();
    // The day after tomorrow at 09:00 in Paris: between one and three days away.
    assert!((86_400..3 * 86_400 + 3600).contains(&retry), "{retry}");
    // Within hours the same start reaches Twilio (the refusal is the hours', not something else).
    let open = harness(&[]).await;
    open.start_webchat_session().await;
}
