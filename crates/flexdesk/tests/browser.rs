//! The desk in headless Chromium, against fakes of the Conversations client, the web chat callback and the
//! auth server (tests/fake.js). One test per ServiceDesk method and per callback path.
//! Over 600 lines because it holds about 40 short tests, one per method and path, on the same fakes and helpers;
//! split, each part would need the same `extern` block and helpers.
#![cfg(target_arch = "wasm32")]

use flexdesk::TwilioFlex;
use serde_json::{json, Value};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen(module = "/tests/fake.js")]
extern "C" {
    fn reset();
    fn config(extra: JsValue) -> JsValue;
    fn callback(persisted: JsValue) -> JsValue;
    fn agent(identity: &str, name: &str) -> JsValue;
    fn message(index: u32, author: &str, body: &str, attributes: JsValue) -> JsValue;
    fn tick(ms: u32) -> js_sys::Promise;
    fn calls(name: &str) -> String;
    #[wasm_bindgen(js_name = callNames)]
    fn call_names() -> String;
    fn requests() -> String;
    #[wasm_bindgen(js_name = slowCallbacks)]
    fn slow_callbacks(ms: u32);
    fn overlaps() -> u32;
    #[wasm_bindgen(js_name = throwIn)]
    fn throw_in(name: &str);
    #[wasm_bindgen(js_name = refuseAuth)]
    fn refuse_auth(path: &str, status: u16);
    #[wasm_bindgen(js_name = openClient)]
    fn open_client();
    #[wasm_bindgen(js_name = emitClient)]
    fn emit_client(name: &str, arg: JsValue);
    #[wasm_bindgen(js_name = emitConv)]
    fn emit_conv(name: &str, arg: JsValue);
    #[wasm_bindgen(js_name = convJson)]
    fn conv_json() -> String;
    #[wasm_bindgen(js_name = clientJson)]
    fn client_json() -> String;
    #[wasm_bindgen(js_name = setConv)]
    fn set_conv(key: &str, value: JsValue);
    fn unhandled() -> String;
    #[wasm_bindgen(js_name = connectMessage)]
    fn connect_message() -> JsValue;
    fn file(name: &str, size: u32, content_type: &str) -> JsValue;
    #[wasm_bindgen(js_name = mediaMessage)]
    fn media_message(index: u32, author: &str, body: &str, files: &[&str]) -> JsValue;
    #[wasm_bindgen(js_name = offerMediaLinks)]
    fn offer_media_links(query: &str);
    #[wasm_bindgen(js_name = temporaryUrlReads)]
    fn temporary_url_reads() -> u32;
}

async fn settle() {
    JsFuture::from(tick(5)).await.unwrap();
}

/// JSON to a plain JS object (serde-wasm-bindgen's default would make `Map`s).
fn js(v: &Value) -> JsValue {
    use serde::Serialize;
    v.serialize(&serde_wasm_bindgen::Serializer::json_compatible()).unwrap()
}

fn parse(s: String) -> Value {
    serde_json::from_str(&s).unwrap()
}

fn new_desk() -> TwilioFlex {
    reset();
    TwilioFlex::new(config(JsValue::UNDEFINED), callback(JsValue::NULL), JsValue::NULL)
}

/// A desk with a started chat, joined to the (fake) conversation.
async fn joined() -> TwilioFlex {
    let desk = new_desk();
    JsFuture::from(desk.start_chat(connect_message(), JsValue::UNDEFINED)).await.unwrap();
    open_client();
    settle().await;
    assert_eq!(desk.phase(), "Waiting");
    desk
}

async fn with_agent() -> TwilioFlex {
    let desk = joined().await;
    emit_conv("participantJoined", agent("alice", "Alice"));
    settle().await;
    desk
}

fn user_message(text: &str) -> JsValue {
    js(&json!({ "input": { "text": text } }))
}

/// What `sendMessageToUser` showed: per call, the text of each `output.generic` item (image items as their
/// source), then the agent id.
fn shown() -> Value {
    let calls = parse(calls("sendMessageToUser"));
    let calls = calls.as_array().unwrap().iter().map(|c| {
        let items = c[0]["output"]["generic"].as_array().cloned().unwrap_or_default();
        let mut row: Vec<Value> = items.iter().map(|i| if i["response_type"] == "image" { i["source"].clone() } else { i["text"].clone() }).collect();
        row.push(c[1].clone());
        Value::Array(row)
    });
    Value::Array(calls.collect())
}

fn sent_bodies() -> Vec<String> {
    parse(conv_json())["sent"].as_array().unwrap().iter().filter_map(|m| m["body"].as_str().map(String::from)).collect()
}

#[wasm_bindgen_test]
async fn user_messages_reach_the_client_once_joined_in_order() {
    let desk = new_desk();
    let started = desk.start_chat(connect_message(), JsValue::UNDEFINED);
    JsFuture::from(desk.send_message_to_agent(user_message("first, while connecting"), "m1".into(), JsValue::UNDEFINED)).await.unwrap();
    JsFuture::from(started).await.unwrap();
    JsFuture::from(desk.send_message_to_agent(user_message("second"), "m2".into(), JsValue::UNDEFINED)).await.unwrap();
    settle().await;
    assert!(sent_bodies().is_empty(), "nothing may be sent before the conversation is joined");
    open_client();
    settle().await;
    assert_eq!(sent_bodies(), vec!["first, while connecting", "second"]);
    let sent = parse(conv_json());
    assert_eq!(sent["sent"][0]["attributes"]["flexdeskId"], "m1");
}

#[wasm_bindgen_test]
async fn start_chat_posts_the_handoff_and_pre_engagement() {
    let desk = new_desk();
    let opts = js(&json!({ "preStartChatPayload": { "customerName": "Grace", "orderId": "42" } }));
    JsFuture::from(desk.start_chat(connect_message(), opts)).await.unwrap();
    let reqs = parse(requests());
    let body = &reqs[0]["body"];
    assert_eq!(reqs[0]["path"], "/v1/sessions");
    assert_eq!(body["customerName"], "Grace");
    assert_eq!(body["preEngagement"]["orderId"], "42");
    assert_eq!(body["handoff"]["message_to_human_agent"], "wants help");
    assert_eq!(body["handoff"]["skill"], "billing");
    // Until an agent joins, the web chat keeps its own (localised) waiting text and gets the queue position
    // (Carbon 1.9.1's AgentAvailability is camelCase: `positionInQueue`, formatted by its AvailabilityMessage).
    open_client();
    // Two fetches in a row (the position, then the queue-wide fallback): wait for them rather than one tick, which
    // a loaded machine can outrun.
    for _ in 0..200 {
        if calls("updateAgentAvailability") != "[]" {
            break;
        }
        settle().await;
    }
    assert_eq!(parse(calls("updateAgentAvailability")), json!([[{ "positionInQueue": 1 }]]));
}

#[wasm_bindgen_test]
async fn customer_name_and_pre_engagement_are_read_at_start_chat() {
    reset();
    let name = js_sys::Function::new_no_args("return globalThis.liveName");
    let pre = js_sys::Function::new_no_args("return { topic: globalThis.liveName }");
    let cfg = config(JsValue::UNDEFINED);
    js_sys::Reflect::set(&cfg, &"customerName".into(), &name).unwrap();
    js_sys::Reflect::set(&cfg, &"preEngagement".into(), &pre).unwrap();
    js_sys::Reflect::set(&js_sys::global(), &"liveName".into(), &"Early".into()).unwrap();
    let desk = TwilioFlex::new(cfg, callback(JsValue::NULL), JsValue::NULL);
    js_sys::Reflect::set(&js_sys::global(), &"liveName".into(), &"Late".into()).unwrap();
    JsFuture::from(desk.start_chat(connect_message(), JsValue::UNDEFINED)).await.unwrap();
    let body = parse(requests())[0]["body"].clone();
    assert_eq!((body["customerName"].clone(), body["preEngagement"]["topic"].clone()), (json!("Late"), json!("Late")));
}

#[wasm_bindgen_test]
async fn the_pre_chat_payload_is_merged_over_the_page_data_which_is_copied_as_json() {
    reset();
    let cfg = config(JsValue::UNDEFINED);
    let page = js(&json!({ "topic": "page", "email": "a@b", "nested": { "n": 1 } }));
    js_sys::Reflect::set(&page, &"skip".into(), &js_sys::Function::new_no_args("")).unwrap();
    js_sys::Reflect::set(&cfg, &"preEngagement".into(), &page).unwrap();
    let desk = TwilioFlex::new(cfg, callback(JsValue::NULL), JsValue::NULL);
    let opts = js(&json!({ "preStartChatPayload": { "topic": "payload", "name": "Dana" } }));
    JsFuture::from(desk.start_chat(connect_message(), opts)).await.unwrap();
    let body = parse(requests())[0]["body"].clone();
    assert_eq!(body["preEngagement"], json!({ "topic": "payload", "email": "a@b", "nested": { "n": 1 }, "name": "Dana" }));
    assert_eq!(body["customerName"], "Dana");
}

#[wasm_bindgen_test]
async fn a_cyclic_pre_engagement_object_is_left_out_and_the_chat_still_starts() {
    reset();
    let cfg = config(JsValue::UNDEFINED);
    let page = js(&json!({ "topic": "loop" }));
    js_sys::Reflect::set(&page, &"self".into(), &page).unwrap();
    js_sys::Reflect::set(&cfg, &"preEngagement".into(), &page).unwrap();
    let desk = TwilioFlex::new(cfg, callback(JsValue::NULL), JsValue::NULL);
    JsFuture::from(desk.start_chat(connect_message(), JsValue::UNDEFINED)).await.unwrap();
    let reqs = parse(requests());
    assert_eq!(reqs[0]["path"], "/v1/sessions");
    assert_eq!(reqs[0]["body"].get("preEngagement"), None);
}

#[wasm_bindgen_test]
async fn start_chat_tells_the_user_why_the_auth_server_refused_and_resolves() {
    // Carbon shows only its default text when startChat rejects (`startChat`'s catch passes `logInfo`).
    let desk = new_desk();
    refuse_auth("/v1/sessions", 503);
    JsFuture::from(desk.start_chat(connect_message(), JsValue::UNDEFINED)).await.expect("resolved");
    let status = parse(calls("setErrorStatus"));
    assert_eq!(status[0][0]["type"], 1);
    let text = status[0][0]["messageToUser"].as_str().unwrap();
    assert_eq!(text, r#"unavailable {"retry":"retryLater"}"#, "the message chosen by the core, never the server's");
    assert_eq!(desk.phase(), "Ended");
}

#[wasm_bindgen_test]
async fn end_during_the_start_request_resolves_start_and_ends_the_late_session() {
    let desk = new_desk();
    let started = desk.start_chat(connect_message(), JsValue::UNDEFINED);
    JsFuture::from(desk.end_chat(JsValue::UNDEFINED)).await.unwrap();
    JsFuture::from(started).await.expect("startChat settles");
    // The late session's DELETE goes out after the start's answer is read and the events queued before it are
    // handled: wait for it rather than one tick, which a loaded machine can outrun.
    let deleted = |reqs: &Value| reqs.as_array().unwrap().iter().any(|r| r["method"] == "DELETE" && r["path"] == "/v1/sessions/sess-1");
    for _ in 0..200 {
        if deleted(&parse(requests())) {
            break;
        }
        settle().await;
    }
    let reqs = parse(requests());
    assert!(deleted(&reqs), "{reqs}");
    assert_eq!(parse(client_json())["count"], 0, "no client for a cancelled chat");
}

#[wasm_bindgen_test]
async fn a_chat_saved_while_waiting_is_kept_and_adopted_by_start_chat_then_released_without_ending() {
    // Issue 17: a reload while waiting (or another tab) carries on with the same Flex chat; nothing is ended at load.
    reset();
    let saved = json!({"sessionId": "sess-1", "credential": "cred-1", "conversationSid": "CH1", "identity": "me",
        "agent": null, "lastShown": null, "outbox": []});
    let desk = TwilioFlex::new(config(JsValue::UNDEFINED), callback(js(&saved)), js(&saved));
    settle().await;
    assert_eq!(parse(requests()), json!([]), "nothing ended at page load");
    let started = desk.adopt_chat(js(&saved), js(&saved));
    settle().await;
    open_client();
    JsFuture::from(started).await.expect("adoptChat settles like startChat");
    settle().await;
    assert_eq!(desk.phase(), "Waiting");
    let reqs = parse(requests());
    let reqs = reqs.as_array().unwrap();
    assert!(!reqs.iter().any(|r| r["path"] == "/v1/sessions"), "no second chat: {reqs:?}");
    assert!(reqs.iter().any(|r| r["path"] == "/v1/sessions/sess-1/token"), "the saved session's token: {reqs:?}");
    assert_eq!(parse(calls("announceChat")), json!([["sess-1"]]), "the other tabs are told");
    desk.chat_taken("sess-other".into());
    settle().await;
    assert_eq!(desk.phase(), "Waiting", "another chat's announcement lets nothing go");
    desk.chat_taken("sess-1".into());
    settle().await;
    assert_eq!(desk.phase(), "Ended");
    assert!(!parse(requests()).as_array().unwrap().iter().any(|r| r["method"] == "DELETE"), "released, not ended");
    let names = parse(call_names());
    let names: Vec<&str> = names.as_array().unwrap().iter().filter_map(|n| n.as_str()).collect();
    let at = |n: &str| names.iter().position(|x| *x == n).unwrap_or_else(|| panic!("{n} in {names:?}"));
    assert!(at("letGo") < at("offerChat"), "the card after the end: {names:?}");
    assert_eq!(parse(calls("offerChat")), json!([["continuedElsewhere {}"]]));
}

#[wasm_bindgen_test]
async fn a_chat_found_at_start_is_offered_when_open_and_forgotten_when_over() {
    let saved = json!({"sessionId": "sess-1", "credential": "cred-1", "conversationSid": "CH1", "identity": "me",
        "agent": null, "lastShown": null, "outbox": []});
    let desk = new_desk();
    desk.chat_found(js(&saved), true);
    settle().await;
    assert_eq!(parse(requests()), json!([]), "a chat the web chat reconnects itself is not checked");
    desk.chat_found(js(&saved), false);
    settle().await;
    assert_eq!(parse(calls("offerChat")), json!([["resumeChat {}"]]));
    assert_eq!(parse(calls("forgetChat")), json!([]));
    reset();
    refuse_auth("/v1/sessions/sess-1/token", 404);
    let desk = TwilioFlex::new(config(JsValue::UNDEFINED), callback(JsValue::NULL), JsValue::NULL);
    desk.chat_found(js(&saved), false);
    settle().await;
    assert_eq!(parse(calls("forgetChat")), json!([[null]]), "over: forgotten");
    assert_eq!(parse(calls("offerChat")), json!([]), "and not offered");
}

#[wasm_bindgen_test]
async fn agent_joined_shows_the_users_friendly_name_and_avatar() {
    // The fake's participant has no friendlyName attribute: the name comes from getUser() only.
    let _desk = with_agent().await;
    let joined = parse(calls("agentJoined"));
    assert_eq!(joined[0][0]["nickname"], "Alice");
    assert_eq!(joined[0][0]["profile_picture_url"], "https://x/alice.png");
    assert_eq!(joined[0][0]["user_type"], "human");
}

#[wasm_bindgen_test]
async fn agent_text_is_shown_once_as_typed() {
    // Carbon removes HTML from human-agent text itself; escaping again would show `&lt;` (issue 13, defect 2).
    let _desk = with_agent().await;
    let typed = "`a < b && c` [q](https://e.x/?a=1&b=2) <img src=x onerror=alert(1)> it's";
    let m = message(1, "alice", typed, JsValue::UNDEFINED);
    emit_conv("messageAdded", m.clone());
    emit_conv("messageAdded", m);
    settle().await;
    assert_eq!(shown(), json!([[typed, "alice"]]), "duplicate index shown once, text as typed");
}

/// Issue 23, defect 5: with the auth server's media links, the files are linked through it (a fresh temporary URL on
/// every open) and the desk reads no temporary URL.
#[wasm_bindgen_test]
async fn with_the_servers_media_links_agent_files_link_through_it_and_no_temporary_url_is_read() {
    reset();
    offer_media_links("conversation=CH1&expires=9&signature=s");
    let desk = TwilioFlex::new(config(JsValue::UNDEFINED), callback(JsValue::NULL), JsValue::NULL);
    JsFuture::from(desk.start_chat(connect_message(), JsValue::UNDEFINED)).await.unwrap();
    open_client();
    settle().await;
    emit_conv("participantJoined", agent("alice", "Alice"));
    emit_conv("messageAdded", media_message(2, "alice", "", &["a.png", "b.pdf"]));
    settle().await;
    let base = parse(calls("sendMessageToUser"));
    let items = base[0][0]["output"]["generic"].as_array().unwrap().clone();
    let server = config(JsValue::UNDEFINED);
    let server = js_sys::Reflect::get(&server, &"authServerUrl".into()).unwrap().as_string().unwrap();
    let link = |n: u32| format!("{}/v1/media/ME{n:032}?conversation=CH1&expires=9&signature=s", server.trim_end_matches('/'));
    assert_eq!(items[0]["source"], json!(link(1)), "{items:?}");
    assert_eq!(items[1]["text"], json!(format!("[b.pdf](<{}>)", link(2))));
    assert_eq!(temporary_url_reads(), 0);
    // Saved for a reload.
    assert!(calls("updatePersistedState").contains("mediaLinkQuery"), "{}", calls("updatePersistedState"));
    drop(desk);
}

#[wasm_bindgen_test]
async fn agent_text_and_two_files_in_one_message_are_all_shown() {
    let _desk = with_agent().await;
    emit_conv("messageAdded", media_message(2, "alice", "Here you go", &["a.png", "b.pdf"]));
    settle().await;
    let calls = parse(calls("sendMessageToUser"));
    let items = calls[0][0]["output"]["generic"].as_array().unwrap().clone();
    assert_eq!(items.len(), 3, "{items:?}");
    assert_eq!((items[0]["response_type"].clone(), items[0]["text"].clone()), (json!("text"), json!("Here you go")));
    assert_eq!((items[1]["response_type"].clone(), items[1]["source"].clone()), (json!("image"), json!("https://media/a.png?fresh=1")));
    assert_eq!(items[2]["text"], "[b.pdf](<https://media/b.pdf?fresh=1>)");
}

#[wasm_bindgen_test]
async fn the_bot_hand_off_posted_for_the_agent_is_not_shown() {
    // Issue 22: the auth server posts the hand-off as messages with `{"flexdesk": {"handoff": kind}}`; the SDK gives
    // `Message.attributes` as an object (and some builds as a JSON string): both reach the core.
    let _desk = with_agent().await;
    emit_conv("messageAdded", message(1, "bot", "Customer asks about a refund", js(&json!({ "flexdesk": { "handoff": "note" } }))));
    emit_conv("messageAdded", message(2, "me", "I want a refund", JsValue::from_str(r#"{"flexdesk":{"handoff":"request"}}"#)));
    emit_conv("messageAdded", message(3, "alice", "Hello, I have read your chat", JsValue::UNDEFINED));
    settle().await;
    assert_eq!(shown(), json!([["Hello, I have read your chat", "alice"]]));
}

#[wasm_bindgen_test]
async fn a_message_from_someone_who_is_not_an_agent_of_the_chat_is_sent_as_a_status_line() {
    // Issue 23, defect 6: no agent id (Carbon would use the current agent's profile), and an `agent_message_type`
    // that Carbon shows as a status line (MessageComponent.tsx `isHumanAgentStatusMessage`).
    let _desk = with_agent().await;
    emit_conv("messageAdded", message(1, "quality-bot", "This chat may be reviewed.", JsValue::UNDEFINED));
    settle().await;
    let calls = parse(calls("sendMessageToUser"));
    assert_eq!(calls.as_array().unwrap().len(), 1, "{calls}");
    assert_eq!(calls[0].as_array().unwrap().len(), 1, "no agent id: {calls}");
    let item = &calls[0][0]["output"]["generic"][0];
    assert_eq!((item["text"].clone(), item["agent_message_type"].clone()), (json!("This chat may be reviewed."), json!("flexdesk_notice")));
}

#[wasm_bindgen_test]
async fn own_echo_is_not_shown() {
    let _desk = with_agent().await;
    emit_conv("messageAdded", message(2, "me", "mine", JsValue::UNDEFINED));
    settle().await;
    assert_eq!(calls("sendMessageToUser"), "[]");
}

#[wasm_bindgen_test]
async fn a_failed_typing_signal_is_caught_and_chat_goes_on() {
    let desk = with_agent().await;
    set_conv("failTyping", JsValue::TRUE);
    JsFuture::from(desk.user_typing(true)).await.unwrap();
    JsFuture::from(desk.user_typing(false)).await.unwrap();
    settle().await;
    JsFuture::from(tick(50)).await.unwrap();
    assert_eq!(parse(conv_json())["typingCount"], 1, "typing was signalled");
    assert_eq!(unhandled(), "[]", "the rejected typing() promise must be handled");
    JsFuture::from(desk.send_message_to_agent(user_message("still here"), "m9".into(), JsValue::UNDEFINED)).await.unwrap();
    settle().await;
    assert_eq!(sent_bodies(), vec!["still here"]);
}

#[wasm_bindgen_test]
async fn typing_both_ways() {
    let desk = with_agent().await;
    emit_conv("typingStarted", agent("alice", "Alice"));
    emit_conv("typingEnded", agent("alice", "Alice"));
    JsFuture::from(desk.user_typing(true)).await.unwrap();
    JsFuture::from(desk.user_typing(false)).await.unwrap();
    settle().await;
    assert_eq!(parse(calls("agentTyping")), json!([[true], [false]]));
    assert_eq!(parse(conv_json())["typingCount"], 1, "typing on signals once, typing off sends nothing");
}

#[wasm_bindgen_test]
async fn read_receipts_both_ways() {
    let desk = with_agent().await;
    JsFuture::from(desk.send_message_to_agent(user_message("hello"), "m1".into(), JsValue::UNDEFINED)).await.unwrap();
    settle().await;
    let p = agent("alice", "Alice");
    js_sys::Reflect::set(&p, &"lastReadMessageIndex".into(), &0.into()).unwrap();
    let update = js(&json!({ "updateReasons": ["lastReadMessageIndex"] }));
    js_sys::Reflect::set(&update, &"participant".into(), &p).unwrap();
    emit_conv("participantUpdated", update);
    emit_conv("messageAdded", message(4, "alice", "hi", JsValue::UNDEFINED));
    settle().await;
    JsFuture::from(desk.user_read_messages()).await.unwrap();
    settle().await;
    assert_eq!(parse(calls("agentReadMessages")).as_array().unwrap().len(), 1);
    assert_eq!(parse(conv_json())["readIndex"], 4);
}

#[wasm_bindgen_test]
async fn transfer_does_not_end_the_chat() {
    let desk = with_agent().await;
    emit_conv("participantJoined", agent("bob", "Bob"));
    emit_conv("participantLeft", agent("alice", "Alice"));
    settle().await;
    assert_eq!(parse(calls("beginTransferToAnotherAgent"))[0][0]["nickname"], "Bob");
    assert_eq!(parse(calls("agentJoined"))[1][0]["nickname"], "Bob");
    assert_eq!(calls("agentLeftChat"), "[]");
    assert_eq!(calls("agentEndedChat"), "[]");
    assert_eq!(desk.phase(), "Chatting");
}

#[wasm_bindgen_test]
async fn the_last_agent_leaving_an_open_chat_is_a_cold_transfer() {
    let desk = with_agent().await;
    emit_conv("participantLeft", agent("alice", "Alice"));
    settle().await;
    // agentLeftChat first (the only call that clears the agent's profile in Carbon: issue 23, defect 8), then the
    // transfer without a profile.
    assert_eq!(parse(calls("agentLeftChat")), json!([[]]));
    assert_eq!(parse(calls("beginTransferToAnotherAgent")), json!([[null]]));
    let order: Vec<String> = parse(call_names()).as_array().unwrap().iter().filter_map(|n| n.as_str().map(String::from)).collect();
    let left = order.iter().position(|n| n == "agentLeftChat");
    let transfer = order.iter().position(|n| n == "beginTransferToAnotherAgent");
    assert!(left < transfer, "{order:?}");
    assert_eq!(desk.phase(), "Waiting");
}

#[wasm_bindgen_test]
async fn conversation_closed_ends_the_chat_and_late_events_do_nothing() {
    let desk = with_agent().await;
    let update = js(&json!({ "conversation": { "state": { "current": "closed" } }, "updateReasons": ["state"] }));
    emit_conv("updated", update);
    settle().await;
    assert_eq!(parse(calls("agentEndedChat")).as_array().unwrap().len(), 1);
    assert_eq!(desk.phase(), "Ended");
    assert!(parse(client_json())["shut"].as_bool().unwrap());
    emit_conv("messageAdded", message(9, "alice", "late", JsValue::UNDEFINED));
    settle().await;
    assert_eq!(calls("sendMessageToUser"), "[]");
    assert!(parse(requests()).as_array().unwrap().iter().any(|r| r["method"] == "DELETE"), "the session credential dies too");
}

#[wasm_bindgen_test]
async fn web_chat_callbacks_never_overlap_and_keep_their_order() {
    let _desk = joined().await;
    slow_callbacks(20);
    emit_conv("participantJoined", agent("alice", "Alice"));
    for i in 1..=3 {
        emit_conv("messageAdded", message(i, "alice", &format!("m{i}"), JsValue::UNDEFINED));
    }
    emit_conv("typingStarted", agent("alice", "Alice"));
    JsFuture::from(tick(250)).await.unwrap();
    assert_eq!(overlaps(), 0, "a callback was called while the previous one was still pending");
    assert_eq!(shown(), json!([["m1", "alice"], ["m2", "alice"], ["m3", "alice"]]));
    assert_eq!(parse(calls("agentTyping")), json!([[true]]));
}

#[wasm_bindgen_test]
async fn a_throwing_web_chat_callback_does_not_wedge_the_desk() {
    reset();
    throw_in("agentJoined");
    let desk = TwilioFlex::new(config(JsValue::UNDEFINED), callback(JsValue::NULL), JsValue::NULL);
    JsFuture::from(desk.start_chat(connect_message(), JsValue::UNDEFINED)).await.unwrap();
    open_client();
    settle().await;
    emit_conv("participantJoined", agent("alice", "Alice"));
    emit_conv("messageAdded", message(1, "alice", "still here", JsValue::UNDEFINED));
    settle().await;
    assert_eq!(shown(), json!([["still here", "alice"]]));
}

#[wasm_bindgen_test]
async fn ending_forgets_the_saved_state_with_false_not_null_nor_an_object() {
    // Carbon 1.9.1 skips the bot's welcome for any truthy `serviceDeskState` (ChatActionsImpl.ts
    // `shouldSkipWelcomeForAgentSession`), and its deepFreeze throws on null (issue 23, defect 3).
    let desk = with_agent().await;
    JsFuture::from(desk.end_chat(JsValue::UNDEFINED)).await.unwrap();
    settle().await;
    let saved = parse(calls("updatePersistedState"));
    assert_eq!(saved.as_array().unwrap().last().unwrap()[0], json!(false));
    // And a desk made later from that state has nothing to reconnect to.
    let later = TwilioFlex::new(config(JsValue::UNDEFINED), callback(JsValue::FALSE), JsValue::FALSE);
    assert_eq!(JsFuture::from(later.reconnect()).await.unwrap(), JsValue::FALSE);
}

#[wasm_bindgen_test]
async fn a_burst_of_messages_is_saved_once_not_once_per_message() {
    let desk = with_agent().await;
    settle().await;
    let before = parse(calls("updatePersistedState")).as_array().unwrap().len();
    for i in 0..50 {
        let _ = desk.send_message_to_agent(user_message(&format!("burst {i}")), format!("b{i}"), JsValue::UNDEFINED);
    }
    settle().await;
    let saves = parse(calls("updatePersistedState"));
    let after = saves.as_array().unwrap();
    assert!(after.len() - before <= 3, "{} saves for a burst of 50", after.len() - before);
    // The one save happened after the burst was delivered: nothing left unconfirmed in it.
    assert_eq!(after.last().unwrap()[0]["outbox"], json!([]));
}

#[wasm_bindgen_test]
async fn end_chat_deletes_the_session() {
    let desk = with_agent().await;
    JsFuture::from(desk.end_chat(JsValue::UNDEFINED)).await.unwrap();
    settle().await;
    let reqs = parse(requests());
    let del = reqs.as_array().unwrap().iter().find(|r| r["method"] == "DELETE").expect("DELETE sent");
    assert_eq!(del["path"], "/v1/sessions/sess-1");
    assert_eq!(del["body"]["sessionCredential"], "cred-1");
    assert_eq!(calls("agentEndedChat"), "[]", "the user ended it: no 'agent ended' message");
}

#[wasm_bindgen_test]
async fn token_is_refreshed_before_expiry() {
    let _desk = with_agent().await;
    emit_client("tokenAboutToExpire", JsValue::UNDEFINED);
    settle().await;
    let reqs = parse(requests());
    assert!(reqs.as_array().unwrap().iter().any(|r| r["path"] == "/v1/sessions/sess-1/token" && r["body"]["sessionCredential"] == "cred-1"));
    let tokens = parse(client_json())["tokens"].clone();
    assert_eq!(tokens.as_array().unwrap().len(), 2, "updateToken called with the fresh token: {tokens}");
}

#[wasm_bindgen_test]
async fn refresh_refused_while_chatting_is_disconnected_and_the_session_ends() {
    let desk = with_agent().await;
    refuse_auth("/v1/sessions/sess-1/token", 404);
    emit_client("tokenAboutToExpire", JsValue::UNDEFINED);
    settle().await;
    assert_eq!(parse(calls("setErrorStatus")), json!([[{ "type": 2, "isDisconnected": true }]]), "never CONNECTING once an agent joined");
    assert_eq!(desk.phase(), "Ended");
    assert!(parse(client_json())["shut"].as_bool().unwrap());
}

#[wasm_bindgen_test]
async fn connection_lost_then_restored() {
    let desk = with_agent().await;
    emit_client("connectionStateChanged", "disconnected".into());
    JsFuture::from(desk.send_message_to_agent(user_message("while down"), "m1".into(), JsValue::UNDEFINED)).await.unwrap();
    settle().await;
    assert!(sent_bodies().is_empty());
    emit_client("connectionStateChanged", "connected".into());
    settle().await;
    assert_eq!(parse(calls("setErrorStatus")), json!([[{ "type": 2, "isDisconnected": true }], [{ "type": 2, "isDisconnected": false }]]));
    assert_eq!(sent_bodies(), vec!["while down"]);
}

#[wasm_bindgen_test]
async fn reconnecting_after_being_connected_counts_as_disconnected() {
    let _desk = with_agent().await;
    emit_client("connectionStateChanged", "connecting".into());
    emit_client("connectionStateChanged", "connected".into());
    settle().await;
    assert_eq!(calls("setErrorStatus"), "[]", "connecting before the first connection is just start-up");
    emit_client("connectionStateChanged", "connecting".into());
    emit_client("connectionStateChanged", "connected".into());
    settle().await;
    assert_eq!(parse(calls("setErrorStatus")), json!([[{ "type": 2, "isDisconnected": true }], [{ "type": 2, "isDisconnected": false }]]));
}

#[wasm_bindgen_test]
async fn a_fresh_token_waits_until_the_expired_connection_has_closed() {
    let _desk = with_agent().await;
    emit_client("connectionStateChanged", "connected".into());
    emit_client("connectionStateChanged", "disconnecting".into());
    emit_client("tokenExpired", JsValue::UNDEFINED);
    settle().await;
    assert_eq!(parse(client_json())["tokens"].as_array().unwrap().len(), 1, "not handed over while disconnecting");
    emit_client("connectionStateChanged", "disconnected".into());
    settle().await;
    assert_eq!(parse(client_json())["tokens"].as_array().unwrap().len(), 2);
}

#[wasm_bindgen_test]
async fn a_client_that_gives_up_is_replaced_with_a_fresh_token() {
    let desk = with_agent().await;
    emit_client("connectionError", js(&json!({ "terminal": true, "message": "socket closed during init" })));
    settle().await;
    assert_eq!(parse(client_json())["count"], 2, "a second client was created");
    assert_eq!(parse(client_json())["tokens"][0].as_str().unwrap().starts_with("tok-"), true);
    assert!(parse(requests()).as_array().unwrap().iter().any(|r| r["path"] == "/v1/sessions/sess-1/token"));
    open_client();
    settle().await;
    assert_eq!(desk.phase(), "Chatting");
    emit_conv("messageAdded", message(7, "alice", "after the new client", JsValue::UNDEFINED));
    settle().await;
    assert_eq!(shown(), json!([["after the new client", "alice"]]));
    assert_eq!(parse(client_json())["oldListeners"], 0, "the replaced client's listeners were removed");
    // A non-terminal error is the SDK's own business.
    emit_client("connectionError", js(&json!({ "terminal": false, "message": "blip" })));
    settle().await;
    assert_eq!(parse(client_json())["count"], 2);
}

#[wasm_bindgen_test]
async fn failed_send_is_retried_not_lost() {
    let desk = with_agent().await;
    set_conv("failNext", 1.into());
    JsFuture::from(desk.send_message_to_agent(user_message("retry me"), "m1".into(), JsValue::UNDEFINED)).await.unwrap();
    JsFuture::from(tick(700)).await.unwrap();
    assert_eq!(sent_bodies(), vec!["retry me"]);
}

// areAnyAgentsOnline is answered by the JS wrapper without the wasm (tests/desk/lazy-load.test.mjs).

/// The desk writes and reads its saved state field by field (no serde in the wasm): the object must be exactly
/// what serde makes of `PersistedState`, so states saved by earlier versions still resume.
#[wasm_bindgen_test]
async fn saved_state_is_serdes_json_both_ways() {
    let desk = with_agent().await;
    set_conv("failNext", JsValue::from_f64(100.0));
    let _ = desk.send_message_to_agent(user_message("unsent"), "u1".into(), JsValue::UNDEFINED);
    settle().await;
    let saved = parse(calls("updatePersistedState")).as_array().unwrap().last().unwrap()[0].clone();
    assert_eq!(saved["outbox"], json!([{"kind": "text", "id": "u1", "text": "unsent"}]));
    let state: flexdesk_core::PersistedState = serde_json::from_value(saved.clone()).unwrap();
    assert_eq!(serde_json::to_value(&state).unwrap(), saved);
    assert_eq!(state.agent.as_ref().map(|a| a.name.as_str()), Some("Alice"));

    // A state as serde writes it (a file in the outbox, no agent yet) resumes.
    reset();
    let old = json!({"sessionId": "sess-1", "credential": "cred-1", "conversationSid": "CH1", "identity": "me",
        "agent": {"id": "alice", "name": "Alice"}, "lastShown": null, "outbox": [{"kind": "file", "id": "f1"}]});
    let desk = TwilioFlex::new(config(JsValue::UNDEFINED), callback(js(&old)), js(&old));
    let resumed = desk.reconnect();
    // The client comes after the token refresh and the desk's own timers: on a busy machine, later than one settle.
    for _ in 0..100 {
        if parse(client_json())["count"] != 0 {
            break;
        }
        settle().await;
    }
    open_client();
    assert_eq!(JsFuture::from(resumed).await.unwrap(), JsValue::TRUE);
}

fn upload(id: &str, f: JsValue) -> JsValue {
    let u = js_sys::Object::new();
    js_sys::Reflect::set(&u, &"id".into(), &id.into()).unwrap();
    js_sys::Reflect::set(&u, &"file".into(), &f).unwrap();
    u.into()
}

#[wasm_bindgen_test]
async fn files_selected_wrong_type_or_too_large_are_flagged() {
    let desk = new_desk();
    let uploads = js_sys::Array::of3(&upload("f1", file("x.exe", 3, "application/x-msdownload")), &upload("f2", file("ok.png", 3, "image/png")), &upload("f3", file("big.pdf", 17 * 1024 * 1024, "application/pdf")));
    desk.files_selected_for_upload(uploads.into());
    // The core's rule now (`Event::FilesSelected`); told in order with the web chat's other calls.
    settle().await;
    let st = parse(calls("setFileUploadStatus"));
    assert_eq!(st.as_array().unwrap().len(), 2, "{st}");
    assert_eq!(st[0][0], "f1");
    assert_eq!(st[0][2], r#"fileType {"type":"exe","allowed":"jpg, jpeg, png, amr, mp3, mp4, pdf, heic, txt, gif"}"#);
    assert_eq!(st[1][0], "f3");
    assert_eq!(st[1][2], r#"fileTooLarge {"size":"17.0","max":"16"}"#);
}

#[wasm_bindgen_test]
async fn without_a_strings_function_the_desk_shows_the_key() {
    // js/index.js always passes one (with the English defaults); a desk made by hand still says something.
    reset();
    let cfg = config(JsValue::UNDEFINED);
    js_sys::Reflect::set(&cfg, &"strings".into(), &JsValue::UNDEFINED).unwrap();
    let desk = TwilioFlex::new(cfg, callback(JsValue::NULL), JsValue::NULL);
    desk.files_selected_for_upload(js_sys::Array::of1(&upload("f1", file("x.exe", 3, "application/x-msdownload"))).into());
    settle().await;
    assert_eq!(parse(calls("setFileUploadStatus"))[0][2], "fileType");
}

#[wasm_bindgen_test]
async fn configured_upload_limits_are_announced_and_checked() {
    reset();
    let cfg = config(js(&json!({ "maxFileBytes": 1048576, "allowedFileTypes": [".pdf"] })));
    let desk = TwilioFlex::new(cfg, callback(JsValue::NULL), JsValue::NULL);
    assert_eq!(parse(calls("updateCapabilities"))[0][0]["allowedFileUploadTypes"], ".pdf");
    desk.files_selected_for_upload(js_sys::Array::of1(&upload("f1", file("a.pdf", 2 * 1048576, "application/pdf"))).into());
    settle().await;
    let st = parse(calls("setFileUploadStatus"));
    assert_eq!(st[0][2], r#"fileTooLarge {"size":"2.0","max":"1"}"#, "{st}");
}

#[wasm_bindgen_test]
async fn file_upload_is_sent_as_media_and_confirmed() {
    let desk = with_agent().await;
    let additional = js_sys::Object::new();
    js_sys::Reflect::set(&additional, &"filesToUpload".into(), &js_sys::Array::of1(&upload("f1", file("photo.png", 10, "image/png")))).unwrap();
    JsFuture::from(desk.send_message_to_agent(user_message(""), "m1".into(), additional.into())).await.unwrap();
    settle().await;
    let sent = parse(conv_json());
    assert_eq!(sent["sent"][0]["attributes"]["flexdeskId"], "f1");
    assert_eq!(sent["sent"][0]["media"][0]["filename"], "photo.png");
    assert_eq!(parse(calls("setFileUploadStatus")), json!([["f1", false, null]]));
}

#[wasm_bindgen_test]
async fn screen_share_stop_is_a_no_op() {
    let desk = new_desk();
    JsFuture::from(desk.screen_share_stop()).await.unwrap();
    assert_eq!(calls("setErrorStatus"), "[]");
}

#[wasm_bindgen_test]
async fn reconnect_after_reload_replays_missed_messages_and_refreshes_the_token() {
    let _before = with_agent().await;
    emit_conv("messageAdded", message(1, "alice", "before reload", JsValue::UNDEFINED));
    settle().await;
    let saved = parse(calls("updatePersistedState")).as_array().unwrap().last().unwrap()[0].clone();
    assert_eq!(saved["lastShown"], 1);

    // A new page: new desk, same saved state.
    reset();
    let persisted = js(&saved);
    let desk = TwilioFlex::new(config(JsValue::UNDEFINED), callback(persisted.clone()), persisted);
    let resumed = desk.reconnect();
    settle().await;
    assert!(parse(requests()).as_array().unwrap().iter().any(|r| r["path"] == "/v1/sessions/sess-1/token"));
    let history = js_sys::Array::of3(
        &message(1, "alice", "before reload", JsValue::UNDEFINED),
        &message(2, "me", "my own", JsValue::UNDEFINED),
        &message(3, "alice", "while away", JsValue::UNDEFINED),
    );
    set_conv("history", history.into());
    set_conv("participants", js_sys::Array::of1(&agent("alice", "Alice")).into());
    open_client();
    assert_eq!(JsFuture::from(resumed).await.unwrap(), JsValue::TRUE);
    settle().await;
    assert_eq!(shown(), json!([["while away", "alice"]]), "only what arrived while away");
}

#[wasm_bindgen_test]
async fn reconnect_without_saved_state_is_false() {
    let desk = new_desk();
    assert_eq!(JsFuture::from(desk.reconnect()).await.unwrap(), JsValue::FALSE);
}
