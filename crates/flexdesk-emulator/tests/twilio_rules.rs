//! Twilio's documented rules, one test per rule (each fails without it). Sources are in docs/emulator.md's rules
//! table and next to each rule in src/.

mod common;

use std::collections::BTreeSet;

use axum::http::StatusCode;
use common::*;
use flexdesk_emulator::{Config, Emulator};
use serde_json::{json, Value};

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object().unwrap().keys().cloned().collect()
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|s| s.to_string()).collect()
}

async fn interaction(emu: &flexdesk_emulator::Shared, task_channel: &str) -> (String, String, String, String) {
    let c = emu.config.clone();
    let (_, conv) = twilio(emu, "POST", &flex(emu, "/Conversations"), &[]).await;
    let ch = conv["sid"].as_str().unwrap().to_string();
    let channel = json!({"type": "chat", "initiated_by": "customer", "properties": {"media_channel_sid": ch}}).to_string();
    let routing = json!({"properties": {"workspace_sid": c.workspace_sid, "workflow_sid": c.workflow_sid,
        "task_channel_unique_name": task_channel, "attributes": {"customerName": "Ann"}}})
    .to_string();
    let (s, v) = twilio(emu, "POST", "/v1/Interactions", &[("Channel", &channel), ("Routing", &routing)]).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let wt = v["routing"]["properties"]["sid"].as_str().unwrap().to_string();
    assert_eq!(task_of(emu, &ch).await, wt, "routed a moment after the answer");
    (v["sid"].as_str().unwrap().into(), v["channel"]["sid"].as_str().unwrap().into(), wt, ch)
}

#[tokio::test]
async fn a_closed_conversation_is_final_50377_and_cannot_be_created_closed_50384() {
    let emu = emulator();
    let (s, v) = twilio(&emu, "POST", "/v1/Conversations", &[("State", "closed")]).await;
    assert_eq!((s, v["code"].clone()), (StatusCode::BAD_REQUEST, json!(50384)), "{v}");
    let (_, conv) = twilio(&emu, "POST", "/v1/Conversations", &[]).await;
    let path = format!("/v1/Conversations/{}", conv["sid"].as_str().unwrap());
    assert_eq!(twilio(&emu, "POST", &path, &[("State", "closed")]).await.0, StatusCode::OK);
    for form in [&[("State", "closed")][..], &[("State", "active")], &[("Attributes", "{}")], &[("FriendlyName", "x")]] {
        let (s, v) = twilio(&emu, "POST", &path, form).await;
        assert_eq!((s, v["code"].clone()), (StatusCode::BAD_REQUEST, json!(50377)), "{form:?}: {v}");
        assert_eq!(v["message"], "Can't update conversation as it's in final closed state");
        assert_eq!(v["more_info"], "https://www.twilio.com/docs/errors/50377");
    }
    assert_eq!(twilio(&emu, "POST", &format!("{path}/Participants"), &[("Identity", "late")]).await.1["code"], 50377);
    assert_eq!(twilio(&emu, "POST", &format!("{path}/Messages"), &[("Body", "late")]).await.1["code"], 50377);
    // Deleting is not updating.
    assert_eq!(twilio(&emu, "DELETE", &path, &[]).await.0, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn default_paths_reach_the_default_service_only() {
    // An account whose default service is not Flex's (Flex requires it to be; the emulator's default is so).
    let emu = Emulator::new(Config { default_service_sid: format!("IS{:032x}", 0xdefa), ..Config::for_tests() });
    let (ch, _) = webchat(&emu).await;
    // A Flex chat lives in the Flex service: the default service's paths do not find it.
    for (method, path) in [("GET", format!("/v1/Conversations/{ch}")), ("POST", format!("/v1/Conversations/{ch}")), ("GET", format!("/v1/Conversations/{ch}/Participants"))] {
        let (s, v) = twilio(&emu, method, &path, &[("State", "closed")]).await;
        assert_eq!((s, v["code"].clone()), (StatusCode::NOT_FOUND, json!(20404)), "{method} {path}");
    }
    let (s, v) = twilio(&emu, "GET", &flex(&emu, &format!("/Conversations/{ch}")), &[]).await;
    assert_eq!((s, v["chat_service_sid"].clone()), (StatusCode::OK, json!(emu.config.service_sid)));
    assert!(v["url"].as_str().unwrap().ends_with(&flex(&emu, &format!("/Conversations/{ch}"))), "{v}");
    // And the default service's conversations are not in the Flex service.
    let (_, own) = twilio(&emu, "POST", "/v1/Conversations", &[]).await;
    assert_eq!(own["chat_service_sid"], json!(emu.config.default_service_sid));
    assert_ne!(emu.config.default_service_sid, emu.config.service_sid);
    assert_eq!(twilio(&emu, "GET", &flex(&emu, &format!("/Conversations/{}", own["sid"].as_str().unwrap())), &[]).await.0, StatusCode::NOT_FOUND);
    let (_, list) = twilio(&emu, "GET", "/v1/Conversations", &[]).await;
    assert_eq!(list["conversations"].as_array().unwrap().len(), 1);
    // A service the account does not have.
    let (s, v) = twilio(&emu, "GET", &format!("/v1/Services/IS{}/Conversations", "1".repeat(32)), &[]).await;
    assert_eq!((s, v["code"].clone()), (StatusCode::NOT_FOUND, json!(20404)));
}

#[tokio::test]
async fn when_the_flex_service_is_the_default_the_default_paths_reach_flex_chats() {
    let mut config = Config::for_tests();
    config.default_service_sid = config.service_sid.clone();
    let emu = Emulator::new(config);
    let (ch, _) = webchat(&emu).await;
    assert_eq!(twilio(&emu, "GET", &format!("/v1/Conversations/{ch}"), &[]).await.0, StatusCode::OK);
    assert_eq!(twilio(&emu, "POST", &format!("/v1/Conversations/{ch}"), &[("State", "closed")]).await.0, StatusCode::OK);
}

#[tokio::test]
async fn webchats_chooses_the_identity_and_answers_the_spec_shape() {
    let emu = emulator();
    let address = emu.config.address_sid.clone();
    let (s, v) = twilio(&emu, "POST", "/v2/WebChats", &[("AddressSid", &address), ("Identity", "chosen-by-me")]).await;
    assert_eq!(s, StatusCode::CREATED);
    // twilio-oai flex.v2.web_channel: exactly these fields.
    assert_eq!(keys(&v), set(&["conversation_sid", "identity"]));
    assert_ne!(v["identity"], "chosen-by-me");
    let parts = emu.conversation(v["conversation_sid"].as_str().unwrap()).unwrap().participants;
    assert_eq!(parts[0].identity.as_deref(), v["identity"].as_str());
    // PreEngagementData over 16 KB: 45731.
    let big = format!(r#"{{"x":"{}"}}"#, "a".repeat(16 * 1024));
    let (s, v) = twilio(&emu, "POST", "/v2/WebChats", &[("AddressSid", &address), ("PreEngagementData", &big)]).await;
    assert_eq!((s, v["code"].clone()), (StatusCode::BAD_REQUEST, json!(45731)));
}

#[tokio::test]
async fn interactions_answer_exactly_the_spec_schemas() {
    let emu = emulator();
    let (kd, uo, _, _) = interaction(&emu, "chat").await;
    let (_, conv) = twilio(&emu, "POST", &flex(&emu, "/Conversations"), &[]).await;
    let channel = json!({"type": "chat", "initiated_by": "customer", "properties": {"media_channel_sid": conv["sid"]}}).to_string();
    let (_, created) = twilio(&emu, "POST", "/v1/Interactions", &[("Channel", &channel)]).await;
    // flex.v1.interaction
    assert_eq!(keys(&created), set(&["sid", "channel", "routing", "url", "links", "interaction_context_sid", "webhook_ttid"]));
    let (s, v) = twilio(&emu, "POST", &format!("/v1/Interactions/{kd}/Channels/{uo}"), &[("Status", "closed")]).await;
    assert_eq!(s, StatusCode::OK);
    // flex.v1.interaction.interaction_channel
    assert_eq!(keys(&v), set(&["sid", "interaction_sid", "type", "status", "error_code", "error_message", "url", "links"]));
    assert_eq!((v["sid"].clone(), v["interaction_sid"].clone(), v["status"].clone()), (json!(uo), json!(kd), json!("closed")));
}

#[tokio::test]
async fn channel_close_with_routing_closed_completes_the_task_and_closes_the_conversation() {
    let emu = emulator();
    let (kd, uo, wt, ch) = interaction(&emu, "chat").await;
    emu.accept_task(&wt, "alice").unwrap();
    let (s, _) = twilio(&emu, "POST", &format!("/v1/Interactions/{kd}/Channels/{uo}"), &[("Status", "closed"), ("Routing", r#"{"status":"closed"}"#)]).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(emu.task(&wt).unwrap().status, "completed");
    assert_eq!(emu.conversation(&ch).unwrap().state, "closed");
    // Closing again: Twilio documents no error; nothing changes.
    let (s, v) = twilio(&emu, "POST", &format!("/v1/Interactions/{kd}/Channels/{uo}"), &[("Status", "inactive"), ("Routing", r#"{"status":"closed"}"#)]).await;
    assert_eq!((s, v["status"].clone()), (StatusCode::OK, json!("closed")));
}

#[tokio::test]
async fn channel_inactive_needs_routing_and_then_completes_the_tasks_without_closing_the_conversation() {
    let emu = emulator();
    let (kd, uo, wt, ch) = interaction(&emu, "chat").await;
    emu.accept_task(&wt, "alice").unwrap();
    let path = format!("/v1/Interactions/{kd}/Channels/{uo}");
    let (s, v) = twilio(&emu, "POST", &path, &[("Status", "inactive")]).await;
    assert_eq!((s, v["code"].clone()), (StatusCode::BAD_REQUEST, json!(20001)), "{v}");
    assert_eq!(twilio(&emu, "POST", &path, &[("Status", "closed"), ("Routing", r#"{"status":"wrapping"}"#)]).await.0, StatusCode::BAD_REQUEST);
    let (s, v) = twilio(&emu, "POST", &path, &[("Status", "inactive"), ("Routing", r#"{"status":"closed"}"#)]).await;
    assert_eq!((s, v["status"].clone()), (StatusCode::OK, json!("inactive")));
    assert_eq!(emu.task(&wt).unwrap().status, "completed");
    assert_eq!(emu.conversation(&ch).unwrap().state, "active");
}

#[tokio::test]
async fn webchats_are_limited_to_5_per_second_with_429_45780_and_retry_after() {
    let emu = emulator();
    let address = emu.config.address_sid.clone();
    let auth = account_auth(&emu.config);
    let mut refused = None;
    for _ in 0..6 {
        let req = axum::http::Request::builder()
            .method("POST")
            .uri("/v2/WebChats")
            .header("authorization", &auth)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(axum::body::Body::from(format!("AddressSid={address}")))
            .unwrap();
        let res = tower::ServiceExt::oneshot(flexdesk_emulator::app(emu.clone()), req).await.unwrap();
        if res.status() == StatusCode::TOO_MANY_REQUESTS {
            refused = Some(res);
        }
    }
    let res = refused.expect("the 6th request within a second is refused");
    assert_eq!(res.headers()["retry-after"], "1");
    let body: Value = serde_json::from_slice(&http_body_util::BodyExt::collect(res.into_body()).await.unwrap().to_bytes()).unwrap();
    assert_eq!((body["code"].clone(), body["status"].clone()), (json!(45780), json!(429)));
    let (_, rates) = call(&emu, "GET", "/admin/rates", None, None).await;
    assert_eq!((rates["webchats"]["accepted"].clone(), rates["webchats"]["rejected"].clone(), rates["webchats"]["maxPerSecond"].clone()), (json!(5), json!(1), json!(5)));
    assert_eq!(emu.lock().conversations.len(), 5, "a refused request creates nothing");
}

#[tokio::test]
async fn interactions_are_limited_to_20_per_second_per_endpoint_and_rates_are_configurable() {
    let mut config = Config::for_tests();
    config.interactions_rate = 2;
    // Routed at once, so waiting for the tasks does not refill the bucket.
    config.switches.routing_delay_ms = 0;
    let emu = Emulator::new(config);
    let (kd, uo, _, _) = interaction(&emu, "chat").await;
    interaction(&emu, "chat").await;
    let (_, conv) = twilio(&emu, "POST", &flex(&emu, "/Conversations"), &[]).await;
    let channel = json!({"type": "chat", "properties": {"media_channel_sid": conv["sid"]}}).to_string();
    let (s, v) = twilio(&emu, "POST", "/v1/Interactions", &[("Channel", &channel)]).await;
    assert_eq!((s, v["code"].clone()), (StatusCode::TOO_MANY_REQUESTS, json!(45780)));
    // Per endpoint: the channel endpoint has its own bucket.
    assert_eq!(twilio(&emu, "POST", &format!("/v1/Interactions/{kd}/Channels/{uo}"), &[("Status", "closed")]).await.0, StatusCode::OK);
    // 0 turns the limit off (POST /admin/rates, or EMULATOR_INTERACTIONS_RATE=0).
    let req = axum::http::Request::builder()
        .method("POST")
        .uri("/admin/rates")
        .header("content-type", "application/json")
        .body(axum::body::Body::from(r#"{"interactions":0}"#))
        .unwrap();
    assert_eq!(send(&emu, req).await.0, StatusCode::OK);
    for _ in 0..30 {
        assert_eq!(twilio(&emu, "POST", "/v1/Interactions", &[("Channel", &channel)]).await.0, StatusCode::CREATED);
    }
    assert_eq!(Config::for_tests().interactions_rate, 20);
    assert_eq!(Config::for_tests().webchats_rate, 5);
}

#[tokio::test]
async fn attribute_and_body_sizes_follow_the_conversations_limits() {
    let emu = emulator();
    let attrs = |n: usize| format!(r#"{{"a":"{}"}}"#, "x".repeat(n - 8));
    let (s, v) = twilio(&emu, "POST", "/v1/Conversations", &[("Attributes", &attrs(16 * 1024 + 1))]).await;
    assert_eq!((s, v["code"].clone()), (StatusCode::BAD_REQUEST, json!(50303)), "{v}");
    let (s, conv) = twilio(&emu, "POST", "/v1/Conversations", &[("Attributes", &attrs(16 * 1024))]).await;
    assert_eq!(s, StatusCode::CREATED);
    let ch = conv["sid"].as_str().unwrap();
    assert_eq!(twilio(&emu, "POST", &format!("/v1/Conversations/{ch}"), &[("Attributes", "{nope")]).await.1["code"], 50304);
    let participants = format!("/v1/Conversations/{ch}/Participants");
    assert_eq!(twilio(&emu, "POST", &participants, &[("Identity", "a"), ("Attributes", &attrs(4 * 1024 + 1))]).await.1["code"], 50303);
    assert_eq!(twilio(&emu, "POST", &participants, &[("Identity", "a"), ("Attributes", &attrs(4 * 1024))]).await.0, StatusCode::CREATED);
    let messages = format!("/v1/Conversations/{ch}/Messages");
    assert_eq!(twilio(&emu, "POST", &messages, &[("Body", "b"), ("Attributes", &attrs(4 * 1024 + 1))]).await.1["code"], 50303);
    assert_eq!(twilio(&emu, "POST", &messages, &[("Body", &"x".repeat(32 * 1024 + 1))]).await.1["code"], 50504);
    assert_eq!(twilio(&emu, "POST", &messages, &[("Body", &"x".repeat(32 * 1024))]).await.0, StatusCode::CREATED);
}

#[tokio::test]
async fn page_size_is_1_to_100() {
    let emu = emulator();
    assert_eq!(twilio(&emu, "GET", "/v1/Conversations?PageSize=100", &[]).await.0, StatusCode::OK);
    let (s, v) = twilio(&emu, "GET", "/v1/Conversations?PageSize=101", &[]).await;
    assert_eq!((s, v["code"].clone()), (StatusCode::BAD_REQUEST, json!(20001)));
    assert_eq!(twilio(&emu, "GET", "/v1/Conversations?PageSize=0", &[]).await.0, StatusCode::BAD_REQUEST);
    let (_, v) = twilio(&emu, "GET", "/v1/Conversations", &[]).await;
    assert_eq!(v["meta"]["page_size"], 50);
}

#[tokio::test]
async fn real_time_statistics_narrow_to_the_task_channel() {
    let emu = emulator();
    let c = emu.config.clone();
    let (ch, _) = webchat(&emu).await;
    route_by_message(&emu, &ch).await;
    interaction(&emu, "voice").await;
    let path = format!("/v1/Workspaces/{}/TaskQueues/{}/RealTimeStatistics", c.workspace_sid, c.queue_sid);
    let pending = |v: &Value| v["tasks_by_status"]["pending"].clone();
    assert_eq!(pending(&twilio(&emu, "GET", &path, &[]).await.1), json!(2));
    assert_eq!(pending(&twilio(&emu, "GET", &format!("{path}?TaskChannel=chat"), &[]).await.1), json!(1));
    assert_eq!(pending(&twilio(&emu, "GET", &format!("{path}?TaskChannel=voice"), &[]).await.1), json!(1));
    let (_, v) = twilio(&emu, "GET", &format!("{path}?TaskChannel=sms"), &[]).await;
    assert_eq!((pending(&v), v["total_tasks"].clone()), (json!(0), json!(0)));
    // Only the spec's fields (task_queue_real_time_statistics).
    let allowed = set(&["account_sid", "activity_statistics", "longest_task_waiting_age", "longest_task_waiting_sid",
        "longest_relative_task_age_in_queue", "longest_relative_task_sid_in_queue", "task_queue_sid", "tasks_by_priority",
        "tasks_by_status", "total_available_workers", "total_eligible_workers", "total_tasks", "workspace_sid", "url"]);
    assert!(keys(&v).is_subset(&allowed), "{:?}", keys(&v).difference(&allowed).collect::<Vec<_>>());
}

#[test]
fn accepting_a_task_is_checked_and_done_under_one_lock() {
    for _ in 0..50 {
        let emu = emulator();
        let ch = emu.create_conversation(&emu.config.service_sid.clone(), None, None, None, None).unwrap().record.sid;
        let i = emu.create_interaction(&ch, "web");
        emu.route_task(&i, json!({}), "chat", Some("WT00000000000000000000000000000001".into()));
        let wt = "WT00000000000000000000000000000001".to_string();
        let results: Vec<bool> = std::thread::scope(|s| {
            let a = s.spawn(|| emu.accept_task(&wt, "alice").is_ok());
            let b = s.spawn(|| emu.accept_task(&wt, "bob").is_ok());
            vec![a.join().unwrap(), b.join().unwrap()]
        });
        assert_eq!(results.iter().filter(|ok| **ok).count(), 1, "exactly one agent gets the task");
        assert_eq!(emu.conversation(&ch).unwrap().participants.len(), 1, "only that agent joined");
    }
}

/// Issue 28: UpdateTask `Attributes` replaces an ended task's attributes too, until TaskRouter deletes the task five
/// minutes after it ended (twilio-oai `UpdateTask`; the task lifecycle page); other parameters are an emulator limit.
#[tokio::test]
async fn an_ended_tasks_attributes_can_be_updated_until_it_is_deleted_five_minutes_later() {
    let emu = emulator();
    let (kd, uo, wt, ch) = interaction(&emu, "chat").await;
    emu.accept_task(&wt, "alice").unwrap();
    twilio(&emu, "POST", &format!("/v1/Interactions/{kd}/Channels/{uo}"), &[("Status", "closed"), ("Routing", r#"{"status":"closed"}"#)]).await;
    assert_eq!(emu.task(&wt).unwrap().status, "completed");
    let path = format!("/v1/Workspaces/{}/Tasks/{wt}", emu.config.workspace_sid);
    let rated = json!({"conversationSid": ch, "conversations": {"conversation_measure_1": 4}}).to_string();
    let (s, v) = twilio(&emu, "POST", &path, &[("Attributes", &rated)]).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(serde_json::from_str::<Value>(v["attributes"].as_str().unwrap()).unwrap()["conversations"]["conversation_measure_1"], 4);
    assert_eq!(twilio(&emu, "GET", &path, &[]).await.1["attributes"], v["attributes"]);
    for bad in [&[("Attributes", "[1]")][..], &[("AssignmentStatus", "canceled")]] {
        let (s, v) = twilio(&emu, "POST", &path, bad).await;
        assert_eq!((s, v["code"].clone()), (StatusCode::BAD_REQUEST, json!(20001)), "{bad:?}: {v}");
    }
    // Five minutes after it ended, TaskRouter has deleted it.
    emu.lock().tasks.iter_mut().find(|t| t.sid == wt).unwrap().date_ended = Some(flexdesk_emulator::util::now_secs() - 300);
    assert_eq!(twilio(&emu, "GET", &path, &[]).await.0, StatusCode::NOT_FOUND);
    assert_eq!(twilio(&emu, "POST", &path, &[("Attributes", &rated)]).await.0, StatusCode::NOT_FOUND);
    let list = twilio(&emu, "GET", &format!("/v1/Workspaces/{}/Tasks", emu.config.workspace_sid), &[]).await.1;
    assert!(list["tasks"].as_array().unwrap().iter().all(|t| t["sid"] != json!(wt)), "{list}");
}

/// Issue 28: TaskRouter posts its events to the workspace's `EventCallbackUrl` (`UpdateWorkspace`), signed, filtered by
/// `EventsFilter` (<https://www.twilio.com/docs/taskrouter/api/event/reference>).
#[tokio::test]
async fn taskrouter_events_reach_the_workspace_event_callback_signed_and_filtered() {
    let emu = emulator();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/events", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let app = axum::Router::new().fallback(|| async { StatusCode::NO_CONTENT });
        axum::serve(listener, app).await.unwrap();
    });
    flexdesk_emulator::webhooks::start(&emu);
    let ws = format!("/v1/Workspaces/{}", emu.config.workspace_sid);
    let (s, v) = twilio(&emu, "POST", &ws, &[("EventCallbackUrl", &url)]).await;
    assert_eq!((s, v["event_callback_url"].clone()), (StatusCode::OK, json!(url)), "{v}");
    assert_eq!(twilio(&emu, "POST", &ws, &[("FriendlyName", "x")]).await.0, StatusCode::BAD_REQUEST, "an emulator limit, said");

    let (kd, uo, wt, ch) = interaction(&emu, "chat").await;
    emu.accept_task(&wt, "alice").unwrap();
    twilio(&emu, "POST", &format!("/v1/Interactions/{kd}/Channels/{uo}"), &[("Status", "closed")]).await;
    emu.end_task(&wt).unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let sent = emu.webhooks.deliveries();
    let events: Vec<&str> = sent.iter().map(|d| d.event_type.as_str()).collect();
    assert_eq!(events, ["task-queue.entered", "reservation.accepted", "task.wrapup", "task.completed"]);
    for d in &sent {
        assert!(twilio_model::webhook::verify(emu.config.auth_token.as_bytes(), &d.signature, &d.url, &d.params), "signed: {d:?}");
        let get = |k: &str| d.params.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        assert_eq!((get("TaskSid"), get("WorkspaceSid"), get("TaskChannelUniqueName")), (Some(wt.as_str()), Some(emu.config.workspace_sid.as_str()), Some("chat")));
        assert_eq!(serde_json::from_str::<Value>(get("TaskAttributes").unwrap()).unwrap()["conversationSid"], json!(ch));
        assert_eq!(d.status, Some(204));
    }
    assert_eq!(sent[0].params.iter().find(|(k, _)| k == "TaskQueueName").map(|(_, v)| v.as_str()), Some("Everyone (emulator)"));

    // A filter: only the events it names.
    emu.webhooks.clear_deliveries();
    twilio(&emu, "POST", &ws, &[("EventsFilter", "task.canceled")]).await;
    let (kd, uo, _, _) = interaction(&emu, "chat").await;
    twilio(&emu, "POST", &format!("/v1/Interactions/{kd}/Channels/{uo}"), &[("Status", "closed")]).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let events: Vec<String> = emu.webhooks.deliveries().iter().map(|d| d.event_type.clone()).collect();
    assert_eq!(events, ["task.canceled"]);
}

/// Conversation timers (src/timers.rs; docs/emulator.md "Conversation timers"): set at creation (with `State`, else
/// 50382) or by an update, shown as `timers`, inactive then closed when they run out (the waiting task withdrawn), a
/// message bringing an inactive conversation back and restarting them.
#[tokio::test]
async fn conversation_timers_move_a_silent_conversation_to_inactive_then_closed() {
    let emu = emulator();
    let conversations = flex(&emu, "/Conversations");
    let (s, v) = twilio(&emu, "POST", &conversations, &[("Timers.Closed", "PT10M")]).await;
    assert_eq!((s, v["code"].clone()), (StatusCode::BAD_REQUEST, json!(50382)), "{v}");
    let (s, v) = twilio(&emu, "POST", &conversations, &[("State", "active"), ("Timers.Inactive", "PT30S")]).await;
    assert_eq!((s, v["code"].clone()), (StatusCode::BAD_REQUEST, json!(20001)), "under the 1-minute minimum: {v}");
    let (s, v) = twilio(&emu, "POST", &conversations, &[("State", "active"), ("Timers.Inactive", "soon")]).await;
    assert_eq!((s, v["code"].clone()), (StatusCode::BAD_REQUEST, json!(50379)), "{v}");

    let (ch, _) = webchat(&emu).await;
    route_by_message(&emu, &ch).await;
    let path = flex(&emu, &format!("/Conversations/{ch}"));
    assert_eq!(twilio(&emu, "GET", &path, &[]).await.1["timers"], json!({}), "none unless set");
    let (s, v) = twilio(&emu, "POST", &path, &[("Timers.Inactive", "PT1M"), ("Timers.Closed", "PT10M")]).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert!(v["timers"]["date_inactive"].is_string() && v["timers"]["date_closed"].is_string(), "{v}");
    let since = emu.lock().conversations.iter().find(|c| c.sid == ch).unwrap().timers.since;

    emu.run_timers(since + 59);
    assert_eq!(twilio(&emu, "GET", &path, &[]).await.1["state"], "active");
    emu.run_timers(since + 60);
    assert_eq!(twilio(&emu, "GET", &path, &[]).await.1["state"], "inactive");
    // A message brings it back and restarts both timers.
    let (s, _) = rest_message(&emu, &ch, "still here", false).await;
    assert_eq!(s, StatusCode::CREATED);
    assert_eq!(twilio(&emu, "GET", &path, &[]).await.1["state"], "active");
    let since = emu.lock().conversations.iter().find(|c| c.sid == ch).unwrap().timers.since;
    emu.run_timers(since + 599);
    assert_ne!(twilio(&emu, "GET", &path, &[]).await.1["state"], "closed");
    emu.run_timers(since + 600);
    assert_eq!(twilio(&emu, "GET", &path, &[]).await.1["state"], "closed");
    assert!(emu.lock().tasks.iter().filter(|t| t.conversation_sid == ch).all(|t| t.status == flexdesk_emulator::state::TaskStatus::Canceled), "the waiting task is withdrawn");
}

/// SMS participants (src/sms.rs): a `MessagingBinding` participant gets every other message as an SMS from the proxy
/// number (`GET /admin/sms`), a text from the phone is a message authored by its address with its participant
/// (`POST /admin/sms`), and Twilio's binding rules hold: 50412, 50409, 50437 here, 50416 in another open conversation.
#[tokio::test]
async fn an_sms_participant_gets_each_message_as_a_text_and_its_texts_come_back_as_messages() {
    let emu = emulator();
    let (ch, customer) = webchat(&emu).await;
    let participants = flex(&emu, &format!("/Conversations/{ch}/Participants"));
    let (phone, proxy) = ("+4915112345678", "+14155550100");
    let bind = [("MessagingBinding.Address", phone), ("MessagingBinding.ProxyAddress", proxy), ("Attributes", r#"{"member_type":"customer"}"#)];
    assert_eq!(twilio(&emu, "POST", &participants, &[("MessagingBinding.Address", phone)]).await.1["code"], 50412);
    assert_eq!(twilio(&emu, "POST", &participants, &[("MessagingBinding.Address", proxy), ("MessagingBinding.ProxyAddress", proxy)]).await.1["code"], 50409);
    let (s, p) = twilio(&emu, "POST", &participants, &bind).await;
    assert_eq!(s, StatusCode::CREATED, "{p}");
    assert_eq!((p["identity"].clone(), p["messaging_binding"].clone()), (Value::Null, json!({"type": "sms", "address": phone, "proxy_address": proxy})));
    assert_eq!(twilio(&emu, "POST", &participants, &bind).await.1["code"], 50437, "already in this conversation");
    let (other, _) = webchat(&emu).await;
    let (s, v) = twilio(&emu, "POST", &flex(&emu, &format!("/Conversations/{other}/Participants")), &bind).await;
    assert_eq!((s, v["code"].clone()), (StatusCode::CONFLICT, json!(50416)), "the pair is in an open conversation already");

    let messages = flex(&emu, &format!("/Conversations/{ch}/Messages"));
    twilio(&emu, "POST", &messages, &[("Author", "agent-alice"), ("Body", "I will text you the label.")]).await;
    twilio(&emu, "POST", &messages, &[("Author", &customer), ("Body", "thanks")]).await;
    let (_, sent) = call(&emu, "GET", "/admin/sms", None, None).await;
    let sent: Vec<(Value, Value, Value)> = sent["sent"].as_array().unwrap().iter().map(|m| (m["to"].clone(), m["from"].clone(), m["body"].clone())).collect();
    assert_eq!(sent, [(json!(phone), json!(proxy), json!("I will text you the label.")), (json!(phone), json!(proxy), json!("thanks"))]);

    let req = axum::http::Request::post("/admin/sms").header("content-type", "application/json").body(axum::body::Body::from(json!({"from": phone, "body": "got it"}).to_string())).unwrap();
    let (s, m) = send(&emu, req).await;
    assert_eq!(s, StatusCode::OK, "{m}");
    let (_, list) = twilio(&emu, "GET", &messages, &[]).await;
    let last = list["messages"].as_array().unwrap().last().unwrap().clone();
    assert_eq!((last["author"].clone(), last["body"].clone(), last["participant_sid"].clone()), (json!(phone), json!("got it"), p["sid"].clone()));
    let (_, sent) = call(&emu, "GET", "/admin/sms", None, None).await;
    assert_eq!(sent["sent"].as_array().unwrap().len(), 2, "the phone's own text is not sent back to it");
    let req = axum::http::Request::post("/admin/sms").header("content-type", "application/json").body(axum::body::Body::from(json!({"from": "+4915100000000", "body": "x"}).to_string())).unwrap();
    assert_eq!(send(&emu, req).await.0, StatusCode::NOT_FOUND);
}
