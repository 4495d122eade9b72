//! Flex's pipeline (src/pipeline.rs; the rows of docs/emulator.md "Flex's pipeline"): what each call triggers, in
//! what order, and what fires a webhook. Each test fails when the emulator makes everything happen at once.

mod common;

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::*;
use flexdesk_emulator::webhooks::{Target, REMOVED, STATE_UPDATED};
use serde_json::json;

async fn admin_pipeline(emu: &flexdesk_emulator::Shared, body: serde_json::Value) -> (StatusCode, serde_json::Value) {
    let req = Request::builder().method("POST").uri("/admin/pipeline").header("content-type", "application/json").body(Body::from(body.to_string())).unwrap();
    send(emu, req).await
}

/// A listener that answers 204 to every webhook, and the emulator sending to it.
async fn with_webhook_target(emu: &flexdesk_emulator::Shared) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let app = axum::Router::new().fallback(|| async { StatusCode::NO_CONTENT });
        axum::serve(listener, app).await.unwrap();
    });
    flexdesk_emulator::webhooks::start(emu);
    emu.webhooks.set_target(
        &emu.config.service_sid,
        Target { post_webhook_url: Some(url), filters: vec![STATE_UPDATED.into(), REMOVED.into()], method: "POST".into(), pre_webhook_url: None },
    );
}

async fn deliveries_after_a_moment(emu: &flexdesk_emulator::Shared) -> Vec<String> {
    tokio::time::sleep(Duration::from_millis(300)).await;
    emu.webhooks.deliveries().iter().map(|d| d.event_type.clone()).collect()
}

#[tokio::test]
async fn an_interaction_is_accepted_at_once_and_can_end_with_its_channel_failed() {
    let emu = emulator();
    let (s, v) = admin_pipeline(&emu, json!({"failRouting": 1, "routingDelayMs": 50})).await;
    assert_eq!((s, v["failRouting"].clone()), (StatusCode::OK, json!(1)), "{v}");
    assert_eq!(admin_pipeline(&emu, json!({"noSuchSwitch": true})).await.0, StatusCode::BAD_REQUEST);
    let c = emu.config.clone();
    let (_, conv) = twilio(&emu, "POST", &flex(&emu, "/Conversations"), &[]).await;
    let ch = conv["sid"].as_str().unwrap().to_string();
    let channel = json!({"type": "chat", "initiated_by": "customer", "properties": {"media_channel_sid": ch}}).to_string();
    let routing = json!({"properties": {"workspace_sid": c.workspace_sid, "workflow_sid": c.workflow_sid, "task_channel_unique_name": "chat", "attributes": {}}}).to_string();
    let (s, v) = twilio(&emu, "POST", "/v1/Interactions", &[("Channel", &channel), ("Routing", &routing)]).await;
    assert_eq!(s, StatusCode::CREATED, "accepted: {v}");
    let (kd, uo) = (v["sid"].as_str().unwrap().to_string(), v["channel"]["sid"].as_str().unwrap().to_string());
    let path = format!("/v1/Interactions/{kd}/Channels/{uo}");
    assert_eq!(twilio(&emu, "GET", &path, &[]).await.1["status"], "active", "still routing");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(twilio(&emu, "GET", &path, &[]).await.1["status"], "failed");
    assert!(emu.lock().tasks.is_empty(), "a failed channel routes no task");
    // The switch counted down: the next one routes.
    let (_, v) = twilio(&emu, "POST", "/v1/Interactions", &[("Channel", &channel), ("Routing", &routing)]).await;
    assert_eq!(task_of(&emu, &ch).await, v["routing"]["properties"]["sid"].as_str().unwrap());
}

#[tokio::test]
async fn rest_changes_fire_webhooks_only_with_the_header() {
    let emu = emulator();
    with_webhook_target(&emu).await;
    let close = |webhook: bool| {
        let emu = emu.clone();
        async move {
            let (ch, _) = webchat(&emu).await;
            let mut req = Request::builder()
                .method("POST")
                .uri(flex(&emu, &format!("/Conversations/{ch}")))
                .header("authorization", account_auth(&emu.config))
                .header("content-type", "application/x-www-form-urlencoded");
            if webhook {
                req = req.header("X-Twilio-Webhook-Enabled", "true");
            }
            assert_eq!(send(&emu, req.body(Body::from("State=closed")).unwrap()).await.0, StatusCode::OK);
        }
    };
    close(false).await;
    assert_eq!(deliveries_after_a_moment(&emu).await, Vec::<String>::new(), "a REST close without the header fires nothing");
    close(true).await;
    assert_eq!(deliveries_after_a_moment(&emu).await, vec![STATE_UPDATED.to_string()]);
}

#[tokio::test]
async fn whether_flexs_own_end_fires_a_webhook_is_a_switch() {
    for fires in [false, true] {
        let emu = emulator();
        with_webhook_target(&emu).await;
        admin_pipeline(&emu, json!({"flexCloseFiresWebhook": fires})).await;
        let (ch, _) = webchat(&emu).await;
        let wt = route_by_message(&emu, &ch).await;
        emu.accept_task(&wt, "alice").unwrap();
        emu.end_task(&wt).unwrap();
        let sent = deliveries_after_a_moment(&emu).await;
        assert_eq!(sent.len(), usize::from(fires), "fires={fires}: {sent:?}");
    }
}

#[tokio::test]
async fn what_a_direct_close_does_to_the_flex_task_is_a_switch() {
    for ends in [true, false] {
        let emu = emulator();
        admin_pipeline(&emu, json!({"directCloseEndsTask": ends})).await;
        let (ch, _) = webchat(&emu).await;
        let wt = route_by_message(&emu, &ch).await;
        let (s, _) = twilio(&emu, "POST", &flex(&emu, &format!("/Conversations/{ch}")), &[("State", "closed")]).await;
        assert_eq!(s, StatusCode::OK);
        let status = emu.task(&wt).unwrap().status;
        assert_eq!(status, if ends { "canceled" } else { "pending" }, "ends={ends}");
    }
}

#[tokio::test]
async fn the_flex_service_is_the_default_service() {
    // Flex requires it ("'Flex Chat Service' must be configured as the default Conversations service").
    let emu = emulator();
    let (ch, _) = webchat(&emu).await;
    assert_eq!(twilio(&emu, "GET", &format!("/v1/Conversations/{ch}"), &[]).await.0, StatusCode::OK);
}
