//! The emulated Twilio REST API: paths, form bodies, Basic auth, error bodies, paging, faults.

mod common;

use axum::http::StatusCode;
use common::*;
use serde_json::json;

#[tokio::test]
async fn basic_auth_accepts_account_or_api_key_and_refuses_the_rest() {
    let emu = emulator();
    let c = emu.config.clone();
    let (s, v) = call(&emu, "GET", "/v1/Conversations", None, None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert_eq!(v, json!({"code": 20003, "message": "Authenticate", "more_info": "https://www.twilio.com/docs/errors/20003", "status": 401}));
    let wrong = basic(&c.account_sid, "not-the-token");
    assert_eq!(call(&emu, "GET", "/v1/Conversations", Some(&wrong), None).await.0, StatusCode::UNAUTHORIZED);
    let key_with_token = basic(&c.api_key_sid, &c.auth_token);
    assert_eq!(call(&emu, "GET", "/v1/Conversations", Some(&key_with_token), None).await.0, StatusCode::UNAUTHORIZED);
    let key = basic(&c.api_key_sid, &c.api_key_secret);
    assert_eq!(call(&emu, "GET", "/v1/Conversations", Some(&key), None).await.0, StatusCode::OK);
    assert_eq!(call(&emu, "GET", "/v1/Conversations", Some(&account_auth(&c)), None).await.0, StatusCode::OK);
}

#[tokio::test]
async fn webchats_creates_conversation_and_customer_and_the_first_firing_message_routes_it() {
    let emu = emulator();
    let address = emu.config.address_sid.clone();
    let (s, v) = twilio(&emu, "POST", "/v2/WebChats", &[]).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(v["code"], 20001);
    assert_eq!(v["message"], "Missing required parameter AddressSid in the post body");
    let (s, _) = twilio(&emu, "POST", "/v2/WebChats", &[("AddressSid", "IG00000000000000000000000000000000")]).await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    let pre = r#"{"friendlyName":"Ann","topic":"billing","skill":"payments","language":"fr","message_to_human_agent":"refund","transcript":[{"from":"user","text":"hi"}]}"#;
    let (s, v) = twilio(&emu, "POST", "/v2/WebChats", &[("AddressSid", &address), ("CustomerFriendlyName", "Ann"), ("PreEngagementData", pre)]).await;
    assert_eq!(s, StatusCode::CREATED);
    let ch = v["conversation_sid"].as_str().unwrap();
    let identity = v["identity"].as_str().unwrap();
    assert!(ch.starts_with("CH") && ch.len() == 34);

    let (_, parts) = twilio(&emu, "GET", &flex(&emu, &format!("/Conversations/{ch}/Participants")), &[]).await;
    assert_eq!(parts["meta"]["key"], "participants");
    assert_eq!(parts["participants"][0]["identity"], identity);
    let attrs: serde_json::Value = serde_json::from_str(parts["participants"][0]["attributes"].as_str().unwrap()).unwrap();
    assert_eq!(attrs["member_type"], "customer");

    // Flex's pipeline (pipeline.rs): WebChats only attaches the address's Studio flow; nothing is routed until a
    // message fires onMessageAdded, and a REST message fires it only with X-Twilio-Webhook-Enabled: true.
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    assert!(emu.lock().tasks.is_empty(), "WebChats alone makes no task");
    assert_eq!(rest_message(&emu, ch, "hello?", false).await.0, StatusCode::CREATED);
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    assert!(emu.lock().tasks.is_empty(), "a REST message without the header fires nothing");
    let wt = route_by_message(&emu, ch).await;
    let st = emu.lock();
    let task = st.tasks.iter().find(|t| t.sid == wt).unwrap();
    assert_eq!((task.status.as_str(), task.task_channel.as_str()), ("pending", "chat"));
    // The default Chat flow's Send to Flex attributes, plus what Flex adds to a conversation task; the
    // pre-engagement data stays in the conversation, not the task (the flow names what it copies).
    for (k, want) in [("channelType", json!("web")), ("customerAddress", json!(identity)), ("name", json!("Ann")), ("customerName", json!("Ann")), ("from", json!("Ann")), ("conversationSid", json!(ch))] {
        assert_eq!(task.attributes[k], want, "{k}");
    }
    let interaction = st.interactions.iter().find(|i| i.conversation_sid == ch).unwrap();
    assert_eq!(task.attributes["flexInteractionSid"], json!(interaction.sid));
    assert_eq!(task.attributes["flexInteractionChannelSid"], json!(interaction.channel_sid));
    assert!(task.attributes.get("topic").is_none());
    drop(st);
    // The flow runs once per conversation: more messages make no second task.
    route_by_message_again(&emu, ch).await;
    assert_eq!(emu.lock().tasks.len(), 1);
}

async fn route_by_message_again(emu: &flexdesk_emulator::Shared, ch: &str) {
    assert_eq!(rest_message(emu, ch, "still there?", true).await.0, StatusCode::CREATED);
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
}

#[tokio::test]
async fn form_bodies_only() {
    let emu = emulator();
    let req = axum::http::Request::builder()
        .method("POST")
        .uri("/v1/Conversations")
        .header("authorization", account_auth(&emu.config))
        .header("content-type", "application/json")
        .body(axum::body::Body::from(r#"{"FriendlyName":"x"}"#))
        .unwrap();
    let (s, v) = send(&emu, req).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(v["message"].as_str().unwrap().contains("x-www-form-urlencoded"), "{v}");
}

#[tokio::test]
async fn conversations_participants_and_messages_with_paging_and_close() {
    let emu = emulator();
    let (s, conv) = twilio(&emu, "POST", "/v1/Conversations", &[("FriendlyName", "Support"), ("Attributes", r#"{"a":1}"#)]).await;
    assert_eq!(s, StatusCode::CREATED);
    assert_eq!(conv["state"], "active");
    assert_eq!(conv["attributes"], r#"{"a":1}"#);
    let ch = conv["sid"].as_str().unwrap().to_string();
    assert_eq!(twilio(&emu, "POST", "/v1/Conversations", &[("Attributes", "{nope")]).await.0, StatusCode::BAD_REQUEST);

    let (s, v) = twilio(&emu, "GET", "/v1/Conversations/CH00000000000000000000000000000000", &[]).await;
    assert_eq!((s, v["code"].clone()), (StatusCode::NOT_FOUND, json!(20404)));
    assert_eq!(twilio(&emu, "GET", &format!("/v1/Conversations/{ch}"), &[]).await.1["friendly_name"], "Support");

    assert_eq!(twilio(&emu, "POST", &format!("/v1/Conversations/{ch}/Participants"), &[]).await.1["code"], 20001);
    let (s, p) = twilio(&emu, "POST", &format!("/v1/Conversations/{ch}/Participants"), &[("Identity", "ann")]).await;
    assert_eq!(s, StatusCode::CREATED);
    assert!(p["sid"].as_str().unwrap().starts_with("MB"));
    let (s, dup) = twilio(&emu, "POST", &format!("/v1/Conversations/{ch}/Participants"), &[("Identity", "ann")]).await;
    assert_eq!((s, dup["code"].clone()), (StatusCode::CONFLICT, json!(50433)));

    for i in 0..3 {
        let body = format!("m{i}");
        let (s, m) = twilio(&emu, "POST", &format!("/v1/Conversations/{ch}/Messages"), &[("Author", "ann"), ("Body", &body), ("Attributes", r#"{"flexdeskId":"x"}"#)]).await;
        assert_eq!(s, StatusCode::CREATED);
        assert_eq!(m["index"], i);
        assert_eq!(m["participant_sid"], p["sid"]);
    }
    let (_, page0) = twilio(&emu, "GET", &format!("/v1/Conversations/{ch}/Messages?PageSize=2"), &[]).await;
    assert_eq!(page0["meta"]["key"], "messages");
    assert_eq!(page0["meta"]["page_size"], 2);
    assert_eq!(page0["messages"].as_array().unwrap().len(), 2);
    let next = page0["meta"]["next_page_url"].as_str().unwrap();
    let path = next.split_once("://").unwrap().1.split_once('/').map(|(_, p)| format!("/{p}")).unwrap();
    let (_, page1) = twilio(&emu, "GET", &path, &[]).await;
    assert_eq!(page1["messages"][0]["body"], "m2");
    assert!(page1["meta"]["next_page_url"].is_null());
    assert!(page1["meta"]["previous_page_url"].is_string());
    let (_, desc) = twilio(&emu, "GET", &format!("/v1/Conversations/{ch}/Messages?Order=desc&PageSize=1"), &[]).await;
    assert_eq!(desc["messages"][0]["body"], "m2");
    assert_eq!(twilio(&emu, "GET", &format!("/v1/Conversations/{ch}/Messages?PageSize=0"), &[]).await.0, StatusCode::BAD_REQUEST);

    let big = "x".repeat(32 * 1024 + 1);
    let (s, v) = twilio(&emu, "POST", &format!("/v1/Conversations/{ch}/Messages"), &[("Author", "ann"), ("Body", &big)]).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    let big_attrs = format!(r#"{{"a":"{}"}}"#, "x".repeat(4 * 1024));
    assert_eq!(twilio(&emu, "POST", &format!("/v1/Conversations/{ch}/Messages"), &[("Body", "b"), ("Attributes", &big_attrs)]).await.0, StatusCode::BAD_REQUEST);
    assert_eq!(twilio(&emu, "POST", &format!("/v1/Conversations/{ch}/Messages"), &[("Author", "ann")]).await.0, StatusCode::BAD_REQUEST);

    let (s, closed) = twilio(&emu, "POST", &format!("/v1/Conversations/{ch}"), &[("State", "closed")]).await;
    assert_eq!((s, closed["state"].clone()), (StatusCode::OK, json!("closed")));
    let (s, v) = twilio(&emu, "POST", &format!("/v1/Conversations/{ch}/Messages"), &[("Author", "ann"), ("Body", "late")]).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    assert_eq!(twilio(&emu, "POST", &format!("/v1/Conversations/{ch}"), &[("State", "bogus")]).await.0, StatusCode::BAD_REQUEST);
    let (_, list) = twilio(&emu, "GET", "/v1/Conversations?State=closed", &[]).await;
    assert_eq!(list["conversations"].as_array().unwrap().len(), 1);

    // The same resources under the default service's scoped path; another service does not exist.
    let is = emu.config.default_service_sid.clone();
    assert_eq!(twilio(&emu, "GET", &format!("/v1/Services/{is}/Conversations/{ch}/Messages"), &[]).await.0, StatusCode::OK);
    assert_eq!(twilio(&emu, "GET", &format!("/v1/Services/IS{}/Conversations/{ch}", "1".repeat(32)), &[]).await.0, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn media_messages_follow_twilio_limits() {
    let emu = emulator();
    let (ch, identity) = webchat(&emu).await;
    let media = emu.store_media("photo.png", bytes::Bytes::from_static(b"\x89PNG"), &identity).unwrap();
    assert_eq!(media.content_type, "image/png");
    assert!(emu.store_media("evil.html", bytes::Bytes::from_static(b"<script>"), &identity).is_err());
    assert!(emu.store_media("big.pdf", bytes::Bytes::from(vec![0u8; 16 * 1024 * 1024 + 1]), &identity).is_err());
    assert!(emu.store_media("ok.pdf", bytes::Bytes::from(vec![0u8; 16 * 1024 * 1024]), &identity).is_ok());
    let messages = flex(&emu, &format!("/Conversations/{ch}/Messages"));
    let (s, v) = twilio(&emu, "POST", &messages, &[("Author", &identity), ("Body", "look"), ("MediaSid", &media.sid)]).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(v["message"].as_str().unwrap().contains("both text and media"));
    let (s, m) = twilio(&emu, "POST", &messages, &[("Author", &identity), ("MediaSid", &media.sid)]).await;
    assert_eq!(s, StatusCode::CREATED);
    assert_eq!(m["media"][0]["sid"], media.sid.as_str());
    assert!(m["body"].is_null());
    let (s, _) = twilio(&emu, "POST", &messages, &[("Author", &identity), ("MediaSid", &media.sid)]).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "a media is attached once");
}

/// Deleting a conversation deletes "all its Messages, attached Media, and Participants"
/// (<https://www.twilio.com/docs/conversations/modifying-objects>; twilio-oai `DeleteServiceConversation`, 204): the
/// erase-on-request route (issue 28) relies on it. An upload no message carries is not the conversation's and stays.
#[tokio::test]
async fn deleting_a_conversation_deletes_its_messages_participants_and_attached_media() {
    let emu = emulator();
    let (ch, identity) = webchat(&emu).await;
    let attached = emu.store_media("photo.png", bytes::Bytes::from_static(b"\x89PNG"), &identity).unwrap();
    let loose = emu.store_media("other.png", bytes::Bytes::from_static(b"\x89PNG"), &identity).unwrap();
    let messages = flex(&emu, &format!("/Conversations/{ch}/Messages"));
    assert_eq!(twilio(&emu, "POST", &messages, &[("Author", &identity), ("MediaSid", &attached.sid)]).await.0, StatusCode::CREATED);
    assert_eq!(twilio(&emu, "POST", &messages, &[("Author", &identity), ("Body", "my address is …")]).await.0, StatusCode::CREATED);
    let conversation = flex(&emu, &format!("/Conversations/{ch}"));
    assert_eq!(twilio(&emu, "DELETE", &conversation, &[]).await.0, StatusCode::NO_CONTENT);
    for path in [conversation.clone(), messages, flex(&emu, &format!("/Conversations/{ch}/Participants"))] {
        assert_eq!(twilio(&emu, "GET", &path, &[]).await.0, StatusCode::NOT_FOUND, "{path}");
    }
    assert!(!emu.lock().media.contains_key(&attached.sid), "the attached media went with its conversation");
    assert!(emu.lock().media.contains_key(&loose.sid));
    assert_eq!(twilio(&emu, "DELETE", &conversation, &[]).await.0, StatusCode::NOT_FOUND, "deleted once");
}

#[tokio::test]
async fn interactions_route_a_task_and_closing_the_channel_closes_the_conversation() {
    let emu = emulator();
    let c = emu.config.clone();
    let (_, conv) = twilio(&emu, "POST", "/v1/Conversations", &[]).await;
    let ch = conv["sid"].as_str().unwrap().to_string();
    twilio(&emu, "POST", &format!("/v1/Conversations/{ch}/Participants"), &[("Identity", "ann")]).await;
    let channel = json!({"type": "chat", "initiated_by": "customer", "properties": {"media_channel_sid": ch}}).to_string();
    let routing = json!({"properties": {"workspace_sid": c.workspace_sid, "workflow_sid": c.workflow_sid, "task_channel_unique_name": "chat",
        "attributes": {"customerName": "Ann", "topic": "returns"}}})
    .to_string();
    // Routing is optional in the spec (CreateInteraction requires Channel only): no task then.
    assert_eq!(twilio(&emu, "POST", "/v1/Interactions", &[]).await.1["code"], 20001);
    let (s, v) = twilio(&emu, "POST", "/v1/Interactions", &[("Channel", &channel)]).await;
    assert_eq!((s, v["routing"].clone()), (StatusCode::CREATED, serde_json::Value::Null), "{v}");
    let bad_routing = routing.replace(&c.workflow_sid, "WW00000000000000000000000000000000");
    assert_eq!(twilio(&emu, "POST", "/v1/Interactions", &[("Channel", &channel), ("Routing", &bad_routing)]).await.0, StatusCode::BAD_REQUEST);
    let (s, v) = twilio(&emu, "POST", "/v1/Interactions", &[("Channel", &channel), ("Routing", &routing)]).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let kd = v["sid"].as_str().unwrap();
    let uo = v["channel"]["sid"].as_str().unwrap();
    let wt = v["routing"]["properties"]["sid"].as_str().unwrap();
    assert!(kd.starts_with("KD") && uo.starts_with("UO") && wt.starts_with("WT"));
    // Asynchronous (pipeline.rs): the answer promises the task; TaskRouter has it a moment later.
    assert!(emu.task(wt).is_err(), "not routed yet at the answer");
    assert_eq!(task_of(&emu, &ch).await, wt);
    assert_eq!(emu.task(wt).unwrap().attributes["topic"], "returns");

    emu.accept_task(wt, "alice").unwrap();
    let (s, _) = twilio(&emu, "POST", &format!("/v1/Interactions/{kd}/Channels/{uo}"), &[("Status", "bogus")]).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, v) = twilio(&emu, "POST", &format!("/v1/Interactions/{kd}/Channels/{uo}"), &[("Status", "closed")]).await;
    assert_eq!((s, v["status"].clone()), (StatusCode::OK, json!("closed")));
    assert_eq!(emu.conversation(&ch).unwrap().state, "closed");
    // Without Routing the agent's task goes to wrapping (Channels subresource page).
    assert_eq!(emu.task(wt).unwrap().status, "wrapping");
}

#[tokio::test]
async fn legacy_flex_flow_channel() {
    let emu = emulator();
    let flow = emu.config.flex_flow_sid.clone();
    let (s, v) = twilio(&emu, "POST", "/v1/Channels", &[("FlexFlowSid", &flow), ("Identity", "ann")]).await;
    assert_eq!((s, v["message"].clone()), (StatusCode::BAD_REQUEST, json!("Missing required parameter ChatUserFriendlyName in the post body")));
    let (s, v) = twilio(
        &emu,
        "POST",
        "/v1/Channels",
        &[("FlexFlowSid", &flow), ("Identity", "ann"), ("ChatUserFriendlyName", "Ann"), ("ChatFriendlyName", "Chat"), ("PreEngagementData", r#"{"topic":"x"}"#)],
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let ch = v["sid"].as_str().unwrap();
    assert!(ch.starts_with("CH"));
    assert_eq!(emu.conversation(ch).unwrap().participants[0].identity.as_deref(), Some("ann"));
    // The Flex Flow's Studio flow, like an address's, routes on the first firing message (pipeline.rs).
    assert_eq!(v["task_sid"], serde_json::Value::Null);
    let wt = route_by_message(&emu, ch).await;
    assert_eq!(emu.task(&wt).unwrap().attributes["name"], "Ann");
}

#[tokio::test]
async fn taskrouter_statistics_follow_tasks_and_availability() {
    let emu = emulator();
    let c = emu.config.clone();
    let path = format!("/v1/Workspaces/{}/TaskQueues/{}/RealTimeStatistics", c.workspace_sid, c.queue_sid);
    let (_, v) = twilio(&emu, "GET", &path, &[]).await;
    assert_eq!((v["total_available_workers"].clone(), v["tasks_by_status"]["pending"].clone()), (json!(2), json!(0)));
    let (first, _) = webchat(&emu).await;
    route_by_message(&emu, &first).await;
    let (ch, _) = webchat(&emu).await;
    route_by_message(&emu, &ch).await;
    emu.set_available("bob", false).unwrap();
    let (_, v) = twilio(&emu, "GET", &path, &[]).await;
    assert_eq!(v["total_available_workers"], 1);
    assert_eq!(v["tasks_by_status"]["pending"], 2);
    assert!(v["longest_task_waiting_age"].is_u64());
    let wt = emu.lock().tasks.iter().find(|t| t.conversation_sid == ch).unwrap().sid.clone();
    emu.accept_task(&wt, "alice").unwrap();
    let (_, v) = twilio(&emu, "GET", &path, &[]).await;
    assert_eq!((v["tasks_by_status"]["pending"].clone(), v["tasks_by_status"]["assigned"].clone()), (json!(1), json!(1)));
    let wrong = format!("/v1/Workspaces/{}/TaskQueues/WQ{}/RealTimeStatistics", c.workspace_sid, "0".repeat(32));
    assert_eq!(twilio(&emu, "GET", &wrong, &[]).await.0, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn injected_rest_faults_refuse_the_next_calls_then_recover() {
    let emu = emulator();
    let req = |body: &str| {
        axum::http::Request::builder()
            .method("POST")
            .uri("/admin/faults")
            .header("content-type", "application/json")
            .body(axum::body::Body::from(body.to_string()))
            .unwrap()
    };
    assert_eq!(send(&emu, req(r#"{"rest":{"status":404,"count":1}}"#)).await.0, StatusCode::BAD_REQUEST);
    assert_eq!(send(&emu, req(r#"{"bogus":1}"#)).await.0, StatusCode::BAD_REQUEST);
    assert_eq!(send(&emu, req(r#"{"rest":{"status":429,"count":2}}"#)).await.0, StatusCode::OK);
    let (s, v) = twilio(&emu, "GET", "/v1/Conversations", &[]).await;
    assert_eq!((s, v["code"].clone()), (StatusCode::TOO_MANY_REQUESTS, json!(20429)));
    assert_eq!(twilio(&emu, "GET", "/v1/Conversations", &[]).await.0, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(twilio(&emu, "GET", "/v1/Conversations", &[]).await.0, StatusCode::OK);

    send(&emu, req(r#"{"rest":{"status":503,"count":1},"delayMs":150}"#)).await;
    let t = std::time::Instant::now();
    assert_eq!(twilio(&emu, "GET", "/v1/Conversations", &[]).await.0, StatusCode::SERVICE_UNAVAILABLE);
    assert!(t.elapsed().as_millis() >= 150);
    // Agent and admin paths are never faulted.
    assert_eq!(call(&emu, "GET", "/admin/state", None, None).await.0, StatusCode::OK);
}

/// A JSON POST to the agent API, as the console sends it.
fn post(path: String, body: serde_json::Value) -> axum::http::Request<axum::body::Body> {
    axum::http::Request::builder()
        .method("POST")
        .uri(path)
        .header("content-type", "application/json")
        .body(axum::body::Body::from(body.to_string()))
        .unwrap()
}

#[tokio::test]
async fn agent_api_accept_transfer_end() {
    let emu = emulator();
    let (ch, _) = webchat(&emu).await;
    let wt = route_by_message(&emu, &ch).await;
    let (s, _) = send(&emu, post(format!("/agent/api/conversations/{ch}/messages"), json!({"agent":"alice","body":"hi"}))).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "an agent must accept before writing");
    assert_eq!(send(&emu, post(format!("/agent/api/tasks/{wt}/accept"), json!({"agent":"carol"}))).await.0, StatusCode::NOT_FOUND);
    assert_eq!(send(&emu, post(format!("/agent/api/tasks/{wt}/accept"), json!({"agent":"alice"}))).await.0, StatusCode::OK);
    assert_eq!(send(&emu, post(format!("/agent/api/tasks/{wt}/accept"), json!({"agent":"bob"}))).await.0, StatusCode::CONFLICT);
    let (s, m) = send(&emu, post(format!("/agent/api/conversations/{ch}/messages"), json!({"agent":"alice","body":"hi"}))).await;
    assert_eq!((s, m["author"].clone()), (StatusCode::CREATED, json!("agent.alice")));
    assert_eq!(send(&emu, post(format!("/agent/api/tasks/{wt}/transfer"), json!({"to":"bob"}))).await.0, StatusCode::OK);
    let ids: Vec<_> = emu.conversation(&ch).unwrap().participants.iter().filter_map(|p| p.identity.clone()).collect();
    assert!(ids.contains(&"agent.bob".to_string()) && !ids.contains(&"agent.alice".to_string()), "{ids:?}");
    assert_eq!(send(&emu, post(format!("/agent/api/tasks/{wt}/end"), json!({}))).await.0, StatusCode::OK);
    assert_eq!(emu.conversation(&ch).unwrap().state, "closed");
    let (s, svg) = call(&emu, "GET", "/console/avatars/alice.svg", None, None).await;
    assert_eq!(s, StatusCode::OK);
    assert!(svg.as_str().unwrap().starts_with("<svg"));
    assert_eq!(call(&emu, "GET", "/console/avatars/zed.svg", None, None).await.0, StatusCode::NOT_FOUND);
    let (s, page) = call(&emu, "GET", "/console", None, None).await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.as_str().unwrap().contains("aria-label=\"Waiting chats\""));
    let (s, page) = call(&emu, "GET", "/console/supervisor", None, None).await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.as_str().unwrap().contains("aria-label=\"Conversations as Flex Insights reads them\""));
}

/// A task in wrap-up (its interaction channel closed without the agent, e.g. the customer left) stays the agent's
/// until the agent completes it (<https://www.twilio.com/docs/taskrouter/lifecycle-task-state>): the console's
/// Complete completes a `wrapping` task and nothing else.
#[tokio::test]
async fn agent_api_completes_a_task_in_wrap_up_only() {
    let emu = emulator();
    let (ch, _) = webchat(&emu).await;
    let wt = route_by_message(&emu, &ch).await;
    let complete = format!("/agent/api/tasks/{wt}/complete");
    assert_eq!(send(&emu, post(complete.clone(), json!({}))).await.0, StatusCode::CONFLICT, "a pending task cannot be completed");
    assert_eq!(send(&emu, post(format!("/agent/api/tasks/{wt}/accept"), json!({"agent":"alice"}))).await.0, StatusCode::OK);
    let (s, v) = send(&emu, post(complete.clone(), json!({}))).await;
    assert_eq!((s, v["code"].clone()), (StatusCode::CONFLICT, json!(20409)), "an assigned task is ended, not completed: {v}");
    let task = emu.task(&wt).unwrap();
    let (kd, uo) = (task.interaction_sid.unwrap(), task.channel_sid.unwrap());
    assert_eq!(twilio(&emu, "POST", &format!("/v1/Interactions/{kd}/Channels/{uo}"), &[("Status", "closed")]).await.0, StatusCode::OK);
    assert_eq!(emu.task(&wt).unwrap().status, "wrapping");
    let (s, v) = send(&emu, post(complete.clone(), json!({}))).await;
    assert_eq!((s, v["status"].clone()), (StatusCode::OK, json!("completed")), "{v}");
    assert_eq!(emu.task(&wt).unwrap().status, "completed");
    assert_eq!(send(&emu, post(complete, json!({}))).await.0, StatusCode::CONFLICT, "completed once");
    assert_eq!(send(&emu, post("/agent/api/tasks/WT00000000000000000000000000000000/complete".into(), json!({}))).await.0, StatusCode::NOT_FOUND);
}

/// An agent's message (Flex UI runs the Conversations SDK, whose `MessageBuilder` takes a body and several media:
/// <https://www.twilio.com/docs/conversations/sending-messages-and-media>) may carry text and several files; the web
/// channel's rule (one attachment, never with text) still holds for the customer and REST.
#[tokio::test]
async fn an_agent_message_may_carry_text_and_several_media() {
    use flexdesk_emulator::state::MAX_AGENT_MEDIA_PER_MESSAGE;
    let emu = emulator();
    let (ch, identity) = webchat(&emu).await;
    let wt = route_by_message(&emu, &ch).await;
    assert_eq!(send(&emu, post(format!("/agent/api/tasks/{wt}/accept"), json!({"agent":"alice"}))).await.0, StatusCode::OK);
    let a = emu.store_media("label.pdf", bytes::Bytes::from_static(b"%PDF"), "agent.alice").unwrap();
    let b = emu.store_media("photo.png", bytes::Bytes::from_static(b"\x89PNG"), "agent.alice").unwrap();
    let messages = format!("/agent/api/conversations/{ch}/messages");
    let (s, m) = send(&emu, post(messages.clone(), json!({"agent":"alice","body":"Here you go","mediaSids":[a.sid, b.sid]}))).await;
    assert_eq!(s, StatusCode::CREATED, "{m}");
    assert_eq!(m["body"], "Here you go");
    let names: Vec<_> = m["media"].as_array().unwrap().iter().map(|x| x["filename"].as_str().unwrap().to_string()).collect();
    assert_eq!(names, ["label.pdf", "photo.png"], "in the order given");
    let too_many: Vec<String> = (0..=MAX_AGENT_MEDIA_PER_MESSAGE)
        .map(|i| emu.store_media(&format!("f{i}.txt"), bytes::Bytes::from_static(b"x"), "agent.alice").unwrap().sid)
        .collect();
    assert_eq!(send(&emu, post(messages, json!({"agent":"alice","mediaSids":too_many}))).await.0, StatusCode::BAD_REQUEST);
    // The customer's side keeps the web channel's rule.
    let c = emu.store_media("mine.png", bytes::Bytes::from_static(b"\x89PNG"), &identity).unwrap();
    let err = emu.add_message(&ch, Some(identity.clone()), Some("look".into()), None, vec![c.sid.clone()]).unwrap_err();
    assert!(format!("{err:?}").contains("both text and media"), "{err:?}");
}
