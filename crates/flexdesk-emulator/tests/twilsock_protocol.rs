//! The twilsock protocol over a real WebSocket (tokio-tungstenite as the client), frame by frame, against the
//! emulator's `/v3/wsconnect`: handshake, tunnelled requests, subscriptions with replay, live events, typing
//! notifications, token handling, protocol errors; and the media service over plain HTTP. (`twilsock.rs` covers
//! how the emulator's own paths and faults meet twilsock.)

mod common;

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use flexdesk_emulator::state::Change;
use flexdesk_emulator::{app, Config, Emulator, Shared};
use futures_util::{SinkExt, StreamExt};
use http_body_util::BodyExt;
use serde_json::{json, Map, Value};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use tower::ServiceExt;
use twilsock::frame::Frame;

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

fn token(emu: &Shared, identity: &str, ttl: i64) -> String {
    common::token(&emu.config, identity, ttl)
}

async fn serve() -> (Shared, String) {
    let emu = Emulator::new(Config::for_tests());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    emu.set_base_url(format!("http://{addr}"));
    let router = app(emu.clone());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (emu, format!("ws://{addr}/v3/wsconnect"))
}

fn header(v: Value) -> Map<String, Value> {
    v.as_object().unwrap().clone()
}

async fn send(ws: &mut Ws, h: Value, payload: &[u8]) {
    ws.send(Message::Binary(Frame::new(header(h), payload.to_vec()).encode().into())).await.unwrap();
}

/// The next frame from the server (notifications are acknowledged like the SDK does).
async fn recv(ws: &mut Ws) -> Frame {
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(5), ws.next()).await.expect("a frame within 5 s").unwrap().unwrap();
        if let Message::Binary(b) = msg {
            let f = Frame::decode(&b).unwrap();
            if f.method() == "notification" {
                let ack = json!({"method": "reply", "id": f.id(), "status": {"code": 200, "status": "OK"}});
                send(ws, ack, b"").await;
            }
            return f;
        }
    }
}

async fn connect(emu: &Shared, url: &str, identity: &str) -> Ws {
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    send(&mut ws, json!({"method": "init", "id": "TMinit", "token": token(emu, identity, 3600), "continuation_token": null}), b"").await;
    let reply = recv(&mut ws).await;
    assert_eq!((reply.method(), reply.id()), ("reply", "TMinit"));
    assert_eq!(reply.header["status"]["code"], 200);
    ws
}

/// A tunnelled HTTP request; returns (http status, body).
async fn request(ws: &mut Ws, id: &str, method: &str, path: &str, params: Value, body: Option<Value>) -> (u64, Value) {
    let payload = body.map(|b| serde_json::to_vec(&b).unwrap()).unwrap_or_default();
    let h = json!({"method": "message", "id": id, "active_grant": "ip_messaging", "payload_type": "application/json",
        "http_request": {"host": "example.invalid", "path": path, "method": method, "params": params, "headers": {}}});
    send(ws, h, &payload).await;
    loop {
        let f = recv(ws).await;
        if f.method() == "reply" && f.id() == id {
            assert_eq!(f.header["status"]["code"], 200, "transport status");
            return (f.header["http_status"]["code"].as_u64().unwrap(), f.json_payload().unwrap_or(Value::Null));
        }
    }
}

async fn next_sync_event(ws: &mut Ws, event_type: &str) -> Value {
    loop {
        let f = recv(ws).await;
        if f.method() == "notification" && f.header["message_type"] == "twilio.sync.event" {
            let p = f.json_payload().unwrap();
            if p["event_type"] == event_type {
                return p;
            }
        }
    }
}

/// A Flex-service conversation with a customer and an agent.
fn chat(emu: &Shared) -> String {
    let c = emu.create_conversation(&emu.config.service_sid, Some("chat".into()), None, None, None).unwrap();
    emu.add_participant(&c.sid, Some("customer".into()), Some(r#"{"member_type":"customer"}"#.into())).unwrap();
    emu.add_participant(&c.sid, Some("alice".into()), Some(r#"{"member_type":"agent"}"#.into())).unwrap();
    c.record.sid
}

/// A message posted by `author` (as the agent API or REST posts).
fn post(emu: &Shared, ch: &str, author: &str, body: &str) {
    emu.add_message(ch, Some(author.into()), Some(body.into()), None, vec![]).unwrap();
}

#[tokio::test]
async fn init_accepts_a_valid_token_and_rejects_bad_ones_with_twilio_codes() {
    let (emu, url) = serve().await;
    connect(&emu, &url, "customer").await;
    for (tok, code) in [
        // Twilio's codes (twilio_model::token): a bad signature is 20107.
        (common::token_with(&emu.config, "customer", 3600, "wrong-secret", &emu.config.service_sid), 20107),
        (token(&emu, "customer", -3600), 20104),
        ("garbage".to_string(), 20101),
    ] {
        let (mut ws, _) = tokio_tungstenite::connect_async(&url).await.unwrap();
        send(&mut ws, json!({"method": "init", "id": "TM1", "token": tok}), b"").await;
        let reply = recv(&mut ws).await;
        assert_eq!(reply.header["status"]["code"], 401);
        assert_eq!(reply.header["status"]["errorCode"], code);
        // The token never comes back in the error.
        assert!(!serde_json::to_string(&reply.header).unwrap().contains(&tok));
    }
}

#[tokio::test]
async fn requests_before_init_are_refused_and_garbage_closes_with_406() {
    let (_emu, url) = serve().await;
    let (mut ws, _) = tokio_tungstenite::connect_async(&url).await.unwrap();
    send(&mut ws, json!({"method": "message", "id": "TM1", "http_request": {"method": "GET", "path": "/Client/v2/Configuration"}}), b"").await;
    let reply = recv(&mut ws).await;
    assert_eq!(reply.header["status"]["code"], 400);

    ws.send(Message::Binary(b"HELLO\r\n{}".to_vec().into())).await.unwrap();
    let close = recv(&mut ws).await;
    assert_eq!(close.method(), "close");
    assert_eq!(close.header["status"]["code"], 406);
}

#[tokio::test]
async fn configuration_links_and_unknown_paths() {
    let (emu, url) = serve().await;
    let mut ws = connect(&emu, &url, "customer").await;
    let (status, body) = request(&mut ws, "TM1", "GET", "/Client/v2/Configuration", json!({}), None).await;
    assert_eq!(status, 200);
    assert_eq!(body["identity"], "customer");
    assert_eq!(body["sync_objects"]["my_conversations"], "my_conversations.customer");
    assert!(body["links"]["typing"].as_str().unwrap().ends_with("/v1/Typing"));
    let (status, body) = request(&mut ws, "TM2", "GET", "/v9/Nope", json!({}), None).await;
    assert_eq!(status, 404);
    assert_eq!(body["code"], 20404);
    // Other identities' objects are not readable.
    let (status, _) = request(&mut ws, "TM3", "GET", "/v3/Maps/my_conversations.alice", json!({}), None).await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn subscriptions_replay_missed_events_then_deliver_live_ones() {
    let (emu, url) = serve().await;
    let ch = chat(&emu);
    let mut ws = connect(&emu, &url, "customer").await;
    let list = format!("{ch}.messages");
    let (status, descriptor) = request(&mut ws, "TM1", "GET", &format!("/v3/Lists/{list}"), json!({}), None).await;
    assert_eq!(status, 200);
    let seen = descriptor["last_event_id"].as_u64().unwrap();

    // Posted after the fetch but before the subscription: must be replayed.
    post(&emu, &ch, "alice", "missed");

    let body = json!({"event_protocol_version": 4, "action": "establish", "correlation_id": 42,
        "requests": [{"object_sid": list, "object_type": "list", "last_event_id": seen}]});
    let (status, reply) = request(&mut ws, "TM2", "POST", "/v4/Subscriptions", json!({}), Some(body)).await;
    assert_eq!(status, 202);
    assert!(reply["estimated_delivery_in_ms"].as_u64().unwrap() > 0);
    let replayed = next_sync_event(&mut ws, "list_item_added").await;
    assert_eq!(replayed["event"]["item_data"]["text"], "missed");
    let established = next_sync_event(&mut ws, "subscription_established").await;
    assert_eq!(established["correlation_id"], 42);
    assert_eq!(established["events"][0]["replay_status"], "completed");

    post(&emu, &ch, "alice", "live");
    let live = next_sync_event(&mut ws, "list_item_added").await;
    assert_eq!(live["event"]["item_data"]["text"], "live");
    assert_eq!(live["event"]["item_index"], 1);
    assert!(live["event"]["id"].as_u64().unwrap() > replayed["event"]["id"].as_u64().unwrap());
}

#[tokio::test]
async fn sending_typing_and_read_horizon_go_to_the_backend() {
    let (emu, url) = serve().await;
    let ch = chat(&emu);
    let mut customer = connect(&emu, &url, "customer").await;
    let mut alice = connect(&emu, &url, "alice").await;
    let mut events = emu.events.subscribe();

    let body = json!({"body": "hello", "attributes": "{\"flexdeskId\":\"w1\"}"});
    let (status, sent) = request(&mut customer, "TM1", "POST", &format!("/v1/Conversations/{ch}/Messages"), json!({}), Some(body)).await;
    assert_eq!(status, 201);
    assert_eq!(sent["index"], 0);
    let stored = emu.conversation(&ch).unwrap().messages;
    assert_eq!(stored[0].attributes, r#"{"flexdeskId":"w1"}"#);

    // Typing arrives form-encoded, as the SDK sends it; the other participant gets the notification.
    let h = json!({"method": "message", "id": "TM2", "payload_type": "application/x-www-form-urlencoded",
        "http_request": {"host": "x", "path": "/v1/Typing", "method": "POST", "params": {}, "headers": {}}});
    send(&mut customer, h, format!("ChannelSid={ch}").as_bytes()).await;
    let reply = recv(&mut customer).await;
    assert_eq!(reply.header["http_status"]["code"], 200);
    let typing = loop {
        let f = recv(&mut alice).await;
        if f.header.get("message_type").and_then(Value::as_str) == Some("twilio.ipmsg.typing_indicator") {
            break f.json_payload().unwrap();
        }
    };
    assert_eq!(typing["identity"], "customer");
    assert_eq!(typing["channel_sid"], ch.as_str());

    let (status, body) = request(&mut customer, "TM3", "POST", &format!("/v1/Me/Conversations/{ch}"), json!({}), Some(json!({"last_read_message_index": 0}))).await;
    assert_eq!(status, 200);
    assert_eq!(body["unread_messages_count"], 0);
    let p = emu.conversation(&ch).unwrap().participants.into_iter().find(|p| p.is("customer")).unwrap();
    assert_eq!(p.last_read_message_index, Some(0));
    let mut kinds = vec![];
    while let Ok(e) = events.try_recv() {
        kinds.push(match e.change {
            Change::MessageAdded(_) => "MessageAdded",
            Change::Typing(_) => "Typing",
            Change::ParticipantUpdated { .. } => "ParticipantUpdated",
            _ => "other",
        });
    }
    assert_eq!(kinds, ["MessageAdded", "Typing", "ParticipantUpdated"]);

    // Bad input is refused clearly.
    let (status, body) = request(&mut customer, "TM4", "POST", &format!("/v1/Me/Conversations/{ch}"), json!({}), Some(json!({"last_read_message_index": "x"}))).await;
    assert_eq!((status, body["code"].clone()), (400, json!(50100)));
    let (status, _) = request(&mut customer, "TM5", "POST", "/v1/Conversations/CHnope/Messages", json!({}), Some(json!({"body": "x"}))).await;
    assert_eq!(status, 404);
}

async fn subscribe(ws: &mut Ws, id: &str, names: &[&str]) {
    let requests: Vec<Value> = names.iter().map(|n| json!({"object_sid": n, "object_type": "list", "last_event_id": 0})).collect();
    let body = json!({"action": "establish", "correlation_id": 7, "requests": requests});
    let (status, _) = request(ws, id, "POST", "/v4/Subscriptions", json!({}), Some(body)).await;
    assert_eq!(status, 202);
    next_sync_event(ws, "subscription_established").await;
}

#[tokio::test]
async fn removed_participants_stop_receiving_messages() {
    let (emu, url) = serve().await;
    let ch = chat(&emu);
    let list = format!("{ch}.messages");
    let mut alice = connect(&emu, &url, "alice").await;
    let mut customer = connect(&emu, &url, "customer").await;
    subscribe(&mut alice, "TMa", &[&list]).await;
    subscribe(&mut customer, "TMc", &[&list]).await;

    emu.remove_participant(&ch, "alice").unwrap();
    post(&emu, &ch, "customer", "after you left");
    assert_eq!(next_sync_event(&mut customer, "list_item_added").await["event"]["item_data"]["text"], "after you left");
    // The customer got it, so the server has fanned it out: alice, removed, must have got nothing of it.
    let mut leaked = false;
    while let Ok(Some(Ok(Message::Binary(b)))) = tokio::time::timeout(Duration::from_millis(200), alice.next()).await {
        leaked |= String::from_utf8_lossy(&b).contains("after you left");
    }
    assert!(!leaked, "a removed participant received a new message");
    // And may not subscribe again.
    let (status, _) = request(&mut alice, "TMread", "GET", &format!("/v3/Lists/{list}"), json!({}), None).await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn token_update_keeps_the_identity() {
    let (emu, url) = serve().await;
    let mut ws = connect(&emu, &url, "customer").await;
    send(&mut ws, json!({"method": "update", "id": "TMu1", "token": token(&emu, "customer", 7200)}), b"").await;
    assert_eq!(recv(&mut ws).await.header["status"]["code"], 200);
    send(&mut ws, json!({"method": "update", "id": "TMu2", "token": token(&emu, "mallory", 7200)}), b"").await;
    assert_eq!(recv(&mut ws).await.header["status"]["code"], 401);
}

#[tokio::test]
async fn media_upload_and_content_need_a_token_or_a_signed_url() {
    let emu = Emulator::new(Config::for_tests());
    let ch = chat(&emu);
    let router = app(emu.clone());
    let base = format!("/mcs/v1/Services/{}/Media", emu.config.service_sid);
    let upload = |who: &str| {
        Request::post(format!("{base}?Filename=a.txt"))
            .header("content-type", "text/plain")
            .header("x-twilio-token", token(&emu, who, 3600))
            .body(Body::from("file body"))
            .unwrap()
    };
    let res = router.clone().oneshot(upload("customer")).await.unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let record: Value = serde_json::from_slice(&res.into_body().collect().await.unwrap().to_bytes()).unwrap();
    let me = record["sid"].as_str().unwrap().to_string();
    assert_eq!(record["size"], 9);

    // Not attached yet: only the uploader may read it.
    let get = |who: &str| {
        Request::get(format!("{base}/{me}/Content")).header("x-twilio-token", token(&emu, who, 3600)).body(Body::empty()).unwrap()
    };
    assert_eq!(router.clone().oneshot(get("alice")).await.unwrap().status(), StatusCode::FORBIDDEN);
    emu.send_from_client(&ch, "customer", None, None, vec![me.clone()]).unwrap();
    let res = router.clone().oneshot(get("alice")).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    assert_eq!(&res.into_body().collect().await.unwrap().to_bytes()[..], b"file body");

    let anonymous = Request::get(format!("{base}/{me}/Content")).body(Body::empty()).unwrap();
    assert_eq!(router.clone().oneshot(anonymous).await.unwrap().status(), StatusCode::FORBIDDEN);
    let signed = record["links"]["content_direct_temporary"].as_str().unwrap();
    let path = &signed[signed.find("/mcs/").unwrap()..];
    let res = router.clone().oneshot(Request::get(path).body(Body::empty()).unwrap()).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let tampered = Request::get(path.replace(&me, "ME0")).body(Body::empty()).unwrap();
    assert_ne!(router.clone().oneshot(tampered).await.unwrap().status(), StatusCode::OK);

    let no_token = Request::post(&base).header("content-type", "text/plain").body(Body::from("x")).unwrap();
    assert_eq!(router.oneshot(no_token).await.unwrap().status(), StatusCode::UNAUTHORIZED);
}

/// Only the uploader may attach a media (`Media::attachable_by`), on both realtime paths: here the SDK's.
#[tokio::test]
async fn a_participant_cannot_attach_media_someone_else_uploaded() {
    let (emu, url) = serve().await;
    let ch = chat(&emu);
    let theirs = emu.store_media("a.png", bytes::Bytes::from_static(b"\x89PNG"), "customer").unwrap().sid;
    let mut alice = connect(&emu, &url, "alice").await;
    let path = format!("/v1/Conversations/{ch}/Messages");
    let (status, body) = request(&mut alice, "TM1", "POST", &path, json!({}), Some(json!({"media_sids": [theirs]}))).await;
    assert_eq!((status, body["code"].clone()), (403, json!(20403)), "{body}");
    assert!(emu.conversation(&ch).unwrap().messages.is_empty());
    // Its uploader may.
    let mut customer = connect(&emu, &url, "customer").await;
    let (status, _) = request(&mut customer, "TM2", "POST", &path, json!({}), Some(json!({"media_sids": [theirs]}))).await;
    assert_eq!(status, 201);
}

/// The media service's record read with the account's credentials, as the auth server reads it for an agent file's
/// link (docs/emulator.md, "Media record and temporary URLs"): `channel_sid` and a fresh `content_direct_temporary`;
/// and the test switch that makes those URLs expire (`mediaUrlTtlSeconds`).
#[tokio::test]
async fn the_media_record_is_read_with_account_credentials_and_its_temporary_url_expires() {
    let emu = Emulator::new(Config::for_tests());
    let ch = chat(&emu);
    let me = emu.store_media("a.png", bytes::Bytes::from_static(b"\x89PNG"), "alice").unwrap().sid;
    let router = app(emu.clone());
    let record_path = format!("/v1/Services/{}/Media/{me}", emu.config.service_sid);
    let account = {
        use base64::Engine;
        let c = &emu.config;
        format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", c.api_key_sid, c.api_key_secret)))
    };
    let get = |path: &str, auth: Option<&str>| {
        let mut r = Request::get(path);
        if let Some(a) = auth {
            r = r.header("authorization", a);
        }
        r.body(Body::empty()).unwrap()
    };
    let json_of = |res: axum::response::Response| async move {
        serde_json::from_slice::<Value>(&res.into_body().collect().await.unwrap().to_bytes()).unwrap()
    };
    assert_eq!(router.clone().oneshot(get(&record_path, None)).await.unwrap().status(), StatusCode::UNAUTHORIZED);
    // Uploaded, not sent: no conversation yet.
    let res = router.clone().oneshot(get(&record_path, Some(&account))).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(json_of(res).await["channel_sid"], Value::Null);
    emu.add_message(&ch, Some("alice".into()), None, None, vec![me.clone()]).unwrap();
    let record = json_of(router.clone().oneshot(get(&record_path, Some(&account))).await.unwrap()).await;
    assert_eq!(record["channel_sid"], json!(ch));
    let signed = record["links"]["content_direct_temporary"].as_str().unwrap().to_string();
    let content = &signed[signed.find("/mcs/").unwrap()..];
    assert_eq!(router.clone().oneshot(get(content, None)).await.unwrap().status(), StatusCode::OK, "no credentials needed");
    let unknown = format!("/v1/Services/{}/Media/ME{}", emu.config.service_sid, "0".repeat(32));
    assert_eq!(router.clone().oneshot(get(&unknown, Some(&account))).await.unwrap().status(), StatusCode::NOT_FOUND);

    // URLs signed from now on last 0 s: one second later they are refused, with no leeway.
    let faults = Request::post("/admin/faults").header("content-type", "application/json").body(Body::from(r#"{"mediaUrlTtlSeconds":0}"#)).unwrap();
    assert_eq!(router.clone().oneshot(faults).await.unwrap().status(), StatusCode::OK);
    let record = json_of(router.clone().oneshot(get(&record_path, Some(&account))).await.unwrap()).await;
    let short = record["links"]["content_direct_temporary"].as_str().unwrap().to_string();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let short = &short[short.find("/mcs/").unwrap()..];
    assert_eq!(router.clone().oneshot(get(short, None)).await.unwrap().status(), StatusCode::FORBIDDEN, "expired");
    // The stand-in client's temporary URLs follow the same switch.
    let stand_in = flexdesk_emulator::media::temporary_url(&emu, &me);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let stand_in = &stand_in[stand_in.find("/v1/Media/").unwrap()..];
    assert_eq!(router.oneshot(get(stand_in, None)).await.unwrap().status(), StatusCode::FORBIDDEN);
}
