//! TaskRouter's workspace events on `POST /v1/twilio/webhooks` (issue 28, item 3): signed like the Conversations
//! webhooks, they feed the queue figures (`/metrics`, `/status` on the admin listener) and nothing else.

use axum::http::StatusCode;

use crate::support::*;
use crate::webhooks::webhook;

const WEBHOOKS_ON: &[(&str, &str)] = &[("TWILIO_WEBHOOKS", "on")];

fn event(kind: &str, task: &str, extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut p: Vec<(String, String)> = [
        ("EventType", kind),
        ("AccountSid", &sid("AC")),
        ("WorkspaceSid", &sid("WS")),
        ("ResourceType", "Task"),
        ("ResourceSid", task),
        ("TaskSid", task),
        ("TaskChannelUniqueName", "chat"),
        ("TaskAttributes", &format!(r#"{{"conversationSid":"CH{task}"}}"#)),
        ("TaskQueueSid", &sid("WQ")),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    p.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    p
}

#[tokio::test]
async fn signed_taskrouter_events_feed_the_metrics_and_the_status_page_only() {
    let h = harness(WEBHOOKS_ON).await;
    let entered = |t: &str| event("task-queue.entered", t, &[("TaskQueueName", "Support"), ("TaskAge", "0")]);
    for events in [
        entered("WT1"),
        entered("WT2"),
        entered("WT3"),
        event("reservation.accepted", "WT1", &[("TaskAge", "42")]),
        event("task.canceled", "WT2", &[("TaskCanceledReason", "Task TTL Exceeded")]),
    ] {
        assert_eq!(h.send(webhook(&events, None, "auth.test")).await.status, StatusCode::NO_CONTENT);
    }
    // A forged event changes nothing.
    let forged = event("reservation.accepted", "WT3", &[("TaskAge", "1")]);
    assert_eq!(h.send(webhook(&forged, Some("Zm9yZ2Vk"), "auth.test")).await.status, StatusCode::FORBIDDEN);
    // Another workspace's events are none of ours.
    let mut other = event("reservation.accepted", "WT3", &[("TaskAge", "1")]);
    other.iter_mut().find(|(k, _)| k == "WorkspaceSid").unwrap().1 = "WS99999999999999999999999999999999".into();
    assert_eq!(h.send(webhook(&other, None, "auth.test")).await.status, StatusCode::NO_CONTENT);

    let metrics = h.admin_get("/metrics").await.text;
    for line in [
        r#"flexdesk_queue_wait_seconds_count{queue="Support"} 1"#,
        r#"flexdesk_queue_wait_seconds_sum{queue="Support"} 42.0"#,
        r#"flexdesk_chats_answered_total{queue="Support"} 1"#,
        r#"flexdesk_chats_abandoned_total{queue="Support",reason="flex"} 1"#,
        r#"flexdesk_chats_waiting{queue="Support"} 1"#,
    ] {
        assert!(metrics.contains(line), "{line} in\n{metrics}");
    }
    let status = h.admin_get("/status").await;
    assert_eq!(status.status, StatusCode::OK);
    assert_eq!(status.headers["content-type"], "text/html; charset=utf-8");
    for (key, value) in [("waiting-now", "1"), ("median-wait", "42 s"), ("answered", "1"), ("abandoned", "1"), ("abandonment-rate", "50 %")] {
        assert!(status.text.contains(&format!("data-figure=\"{key}\">{value}<")), "{key} = {value} in\n{}", status.text);
    }
    // TaskRouter's events say nothing of the Conversations webhooks: they never make refresh trust its record.
    assert_eq!(h.state.webhooks.last_verified(), 0);
    // The status page is not on the public listener.
    assert_eq!(h.get("/status").await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_chat_the_customer_ended_while_waiting_is_abandoned_by_the_customer() {
    let h = harness(WEBHOOKS_ON).await;
    let body = h.start_webchat_session().await;
    let (id, cred) = (body["sessionId"].as_str().unwrap().to_string(), body["sessionCredential"].as_str().unwrap().to_string());
    wiremock::Mock::given(wiremock::matchers::method("POST"))
        .and(wiremock::matchers::path(format!("/v1/Services/{}/Conversations/{CONVERSATION}", sid("IS"))))
        .respond_with(wiremock::ResponseTemplate::new(200).set_body_json(serde_json::json!({ "sid": CONVERSATION, "state": "closed" })))
        .mount(&h.twilio)
        .await;
    let mut entered = event("task-queue.entered", "WT7", &[("TaskQueueName", "Support")]);
    entered.iter_mut().find(|(k, _)| k == "TaskAttributes").unwrap().1 = format!(r#"{{"conversationSid":"{CONVERSATION}"}}"#);
    assert_eq!(h.send(webhook(&entered, None, "auth.test")).await.status, StatusCode::NO_CONTENT);
    assert_eq!(h.end(&id, &cred).await.status, StatusCode::NO_CONTENT);
    let canceled = event("task.canceled", "WT7", &[]);
    assert_eq!(h.send(webhook(&canceled, None, "auth.test")).await.status, StatusCode::NO_CONTENT);
    let metrics = h.admin_get("/metrics").await.text;
    assert!(metrics.contains(r#"flexdesk_chats_abandoned_total{queue="Support",reason="customer"} 1"#), "{metrics}");
}
