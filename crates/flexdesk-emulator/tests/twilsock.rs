//! The real SDK's endpoint on the emulator: `/v3/wsconnect` (twilsock) serves the emulator's own conversations,
//! so a chat started over REST and answered by the agent API is what a twilsock client sees, and what it sends
//! lands in the same state; `/admin/faults` reaches twilsock connections. Frames as the SDK sends them.

mod common;

use std::time::Duration;

use common::*;
use flexdesk_emulator::{app, Config, Emulator, Shared};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Map, Value};
use tokio_tungstenite::tungstenite::Message;
use twilsock::frame::Frame;

type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn serve() -> (Shared, String) {
    let emu = Emulator::new(Config::for_tests());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    emu.set_base_url(base.clone());
    let router = app(emu.clone());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (emu, base.replace("http://", "ws://") + "/v3/wsconnect")
}

async fn send(ws: &mut Ws, h: Value, payload: &[u8]) {
    let h: Map<String, Value> = h.as_object().unwrap().clone();
    ws.send(Message::Binary(Frame::new(h, payload.to_vec()).encode().into())).await.unwrap();
}

/// The next twilsock frame; `None` once the connection has ended.
async fn recv(ws: &mut Ws) -> Option<Frame> {
    loop {
        match tokio::time::timeout(Duration::from_secs(5), ws.next()).await.expect("a frame within 5 s") {
            Some(Ok(Message::Binary(b))) => return Some(Frame::decode(&b).unwrap()),
            Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return None,
            Some(Ok(_)) => {}
        }
    }
}

async fn init(url: &str, token: &str) -> (Ws, Frame) {
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    send(&mut ws, json!({"method": "init", "id": "TMinit", "token": token}), b"").await;
    let reply = recv(&mut ws).await.expect("init reply");
    (ws, reply)
}

async fn request(ws: &mut Ws, id: &str, method: &str, path: &str, body: Option<Value>) -> (u64, Value) {
    let payload = body.map(|b| serde_json::to_vec(&b).unwrap()).unwrap_or_default();
    let h = json!({"method": "message", "id": id, "payload_type": "application/json",
        "http_request": {"host": "aim.us1.twilio.com", "path": path, "method": method, "params": {}, "headers": {}}});
    send(ws, h, &payload).await;
    loop {
        let f = recv(ws).await.expect("reply");
        if f.method() == "reply" && f.id() == id {
            return (f.header["http_status"]["code"].as_u64().unwrap(), f.json_payload().unwrap_or(Value::Null));
        }
    }
}

async fn next_sync_event(ws: &mut Ws, event_type: &str) -> Value {
    loop {
        let f = recv(ws).await.expect("a sync event");
        if f.header.get("message_type").and_then(Value::as_str) == Some("twilio.sync.event") {
            let p = f.json_payload().unwrap();
            if p["event_type"] == event_type {
                return p;
            }
        }
    }
}

#[tokio::test]
async fn a_rest_started_chat_is_shared_between_the_agent_api_and_a_twilsock_client() {
    let (emu, url) = serve().await;
    let (ch, customer) = webchat(&emu).await;
    let (mut ws, reply) = init(&url, &token(&emu.config, &customer, 3600)).await;
    assert_eq!(reply.header["status"]["code"], 200);

    let (status, mine) = request(&mut ws, "TM1", "GET", "/v1/Me/Conversations", None).await;
    assert_eq!(status, 200);
    assert_eq!(mine["conversations"][0]["conversation_sid"], ch.as_str());

    let list = format!("{ch}.messages");
    let body = json!({"action": "establish", "correlation_id": 1,
        "requests": [{"object_sid": list, "object_type": "list", "last_event_id": 0}]});
    assert_eq!(request(&mut ws, "TM2", "POST", "/v4/Subscriptions", Some(body)).await.0, 202);
    next_sync_event(&mut ws, "subscription_established").await;

    // The agent joins and answers through the emulator (as the agent console does).
    emu.add_participant(&ch, Some("agent.alice".into()), Some(r#"{"member_type":"agent","friendlyName":"Alice"}"#.into())).unwrap();
    emu.add_message(&ch, Some("agent.alice".into()), Some("hello from Alice".into()), None, vec![]).unwrap();
    let added = next_sync_event(&mut ws, "list_item_added").await;
    assert_eq!(added["event"]["item_data"]["text"], "hello from Alice");
    assert_eq!(added["event"]["item_data"]["author"], "agent.alice");

    // The customer's message, typing and read horizon land in the emulator's state.
    let body = json!({"body": "hi", "attributes": "{\"flexdeskId\":\"w1\"}"});
    let (status, sent) = request(&mut ws, "TM3", "POST", &format!("/v1/Conversations/{ch}/Messages"), Some(body)).await;
    assert_eq!((status, sent["index"].clone()), (201, json!(1)));
    let h = json!({"method": "message", "id": "TM4", "payload_type": "application/x-www-form-urlencoded",
        "http_request": {"host": "x", "path": "/v1/Typing", "method": "POST", "params": {}, "headers": {}}});
    send(&mut ws, h, format!("ChannelSid={ch}").as_bytes()).await;
    let (status, _) = request(&mut ws, "TM5", "POST", &format!("/v1/Me/Conversations/{ch}"), Some(json!({"last_read_message_index": 0}))).await;
    assert_eq!(status, 200);
    let conv = emu.conversation(&ch).unwrap();
    let last = conv.messages.last().unwrap();
    assert_eq!((last.author.as_str(), last.body.as_deref(), last.attributes.as_str()), (customer.as_str(), Some("hi"), r#"{"flexdeskId":"w1"}"#));
    assert!(conv.typing.contains_key(&customer), "typing reached the emulator");
    let me = conv.participants.iter().find(|p| p.identity.as_deref() == Some(&customer)).unwrap();
    assert_eq!(me.last_read_message_index, Some(0));

    // Closing the conversation (the agent ends the chat) updates the SDK's conversation document.
    let doc = format!("{ch}.channel");
    let body = json!({"action": "establish", "correlation_id": 2,
        "requests": [{"object_sid": doc, "object_type": "document", "last_event_id": 0}]});
    assert_eq!(request(&mut ws, "TM6", "POST", "/v4/Subscriptions", Some(body)).await.0, 202);
    emu.update_conversation(&ch, Some("closed".into()), None, None, false).unwrap();
    // (Earlier updates are replayed first: subscribed from event 0.)
    loop {
        let updated = next_sync_event(&mut ws, "document_updated").await;
        if updated["event"]["document_data"]["state"]["current"] == "closed" {
            break;
        }
    }
    let (status, _) = request(&mut ws, "TM7", "POST", &format!("/v1/Conversations/{ch}/Messages"), Some(json!({"body": "late"}))).await;
    assert!(status >= 400, "a closed conversation refuses messages");
}

#[tokio::test]
async fn non_participants_cannot_post_and_bad_tokens_are_refused() {
    let (emu, url) = serve().await;
    let (ch, _) = webchat(&emu).await;
    let (mut ws, _) = init(&url, &token(&emu.config, "stranger", 3600)).await;
    let (status, _) = request(&mut ws, "TM1", "POST", &format!("/v1/Conversations/{ch}/Messages"), Some(json!({"body": "x"}))).await;
    assert_eq!(status, 403);
    assert!(emu.conversation(&ch).unwrap().messages.is_empty());
    let wrong = token_with(&emu.config, "x", 3600, "not-the-secret", &emu.config.service_sid);
    let (_, reply) = init(&url, &wrong).await;
    assert_eq!(reply.header["status"]["code"], 401);
}

/// One rule set: every bad token gets the same Twilio code here as on /v1/realtime (tests/realtime.rs uses the
/// same table), where the two servers used to disagree (a token with another `iss` passed here).
#[tokio::test]
async fn bad_tokens_get_the_same_twilio_codes_as_on_the_realtime_channel() {
    let (emu, url) = serve().await;
    for (t, code, why) in bad_tokens(&emu.config) {
        let (_, reply) = init(&url, &t).await;
        assert_eq!((reply.header["status"]["code"].clone(), reply.header["status"]["errorCode"].clone()), (json!(401), json!(code)), "{why}: {:?}", reply.header);
    }
}

#[tokio::test]
async fn faults_reach_twilsock_connections() {
    let (emu, url) = serve().await;
    let (_, customer) = webchat(&emu).await;
    let tok = token(&emu.config, &customer, 3600);

    // Refused sockets: dropped before any reply, then the next one is accepted.
    emu.lock().faults.refuse_websockets = 1;
    let (mut refused, _) = tokio_tungstenite::connect_async(&url).await.unwrap();
    let _ = refused.send(Message::Binary(Frame::new(json!({"method": "init", "id": "TM1", "token": tok}).as_object().unwrap().clone(), vec![]).encode().into())).await;
    assert!(recv(&mut refused).await.is_none(), "refused connection gets no reply");
    let (mut ws, reply) = init(&url, &tok).await;
    assert_eq!(reply.header["status"]["code"], 200);
    assert_eq!(emu.lock().open_websockets, 1);

    // Dropped sockets end without a close frame.
    emu.drop_generation.send_modify(|g| *g += 1);
    assert!(recv(&mut ws).await.is_none());

    // An early expiry on a token in use: warned at once (it is within the warning window), then closed with 410.
    let (mut ws, _) = init(&url, &tok).await;
    emu.lock().early_expiry.insert(tok.clone(), flexdesk_emulator::util::now_secs() + 1);
    emu.expiry_generation.send_modify(|g| *g += 1);
    let warned = recv(&mut ws).await.unwrap();
    assert_eq!(warned.header["client_update_type"], "token_about_to_expire");
    let closed = recv(&mut ws).await.unwrap();
    assert_eq!((closed.method(), closed.header["status"]["code"].clone()), ("close", json!(410)));
    // The same token is now refused as expired; a fresh one is accepted.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (_, reply) = init(&url, &tok).await;
    assert_eq!(reply.header["status"]["errorCode"], 20104);
    let (_, reply) = init(&url, &token(&emu.config, &customer, 3600)).await;
    assert_eq!(reply.header["status"]["code"], 200);
}

#[tokio::test]
async fn sdk_media_uploads_are_emulator_media_with_its_rules() {
    use axum::body::Body;
    use axum::http::Request;
    let (emu, url) = serve().await;
    let (ch, customer) = webchat(&emu).await;
    let tok = token(&emu.config, &customer, 3600);
    let upload = |filename: Option<&str>, content_type: &str, bytes: &'static [u8]| {
        let q = filename.map(|f| format!("?Filename={f}")).unwrap_or_default();
        Request::post(format!("/mcs/v1/Services/{}/Media{q}", emu.config.service_sid))
            .header("x-twilio-token", tok.as_str())
            .header("content-type", content_type)
            .body(Body::from(bytes))
            .unwrap()
    };
    let (status, record) = common::send(&emu, upload(Some("photo.png"), "image/png", b"\x89PNG....")).await;
    assert_eq!(status, 201, "{record}");
    let me = record["sid"].as_str().unwrap().to_string();
    assert_eq!(emu.lock().media[&me].record.author, customer, "stored in the emulator's media");
    // The emulator types media by extension and refuses what Twilio's web channel refuses.
    // The same status and Twilio code as the emulator's own /v1/Media (50511, invalid media content type).
    let (status, refused) = common::send(&emu, upload(Some("tool.exe"), "application/octet-stream", b"MZ")).await;
    assert_eq!((status.as_u16(), refused["code"].clone()), (415, json!(50511)), "{refused}");
    let (status, nameless) = common::send(&emu, upload(None, "application/pdf", b"%PDF-1.4")).await;
    assert_eq!((status.as_u16(), nameless["filename"].as_str()), (201, Some("attachment.pdf")));

    let (mut ws, _) = init(&url, &tok).await;
    let (status, _) = request(&mut ws, "TM1", "POST", &format!("/v1/Conversations/{ch}/Messages"), Some(json!({"media_sids": [me]}))).await;
    assert_eq!(status, 201);
    let conv = emu.conversation(&ch).unwrap();
    assert_eq!(conv.messages[0].media[0].filename, "photo.png");
    // The agent's console reads it through the emulator's own media URL rules; the SDK's record now names the chat.
    let (status, again) = common::send(&emu, Request::get(format!("/mcs/v1/Services/{}/Media/{me}", emu.config.service_sid))
        .header("x-twilio-token", tok.as_str()).body(Body::empty()).unwrap()).await;
    assert_eq!(status, 200);
    assert_eq!(again["channel_sid"].as_str().or(again["conversation_sid"].as_str()), Some(ch.as_str()), "{again}");
}
