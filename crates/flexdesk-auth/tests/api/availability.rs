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
