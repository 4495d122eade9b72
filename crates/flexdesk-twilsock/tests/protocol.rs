//! The twilsock protocol over a real WebSocket (tokio-tungstenite as the client), frame by frame, against the
//! router with the in-memory backend: handshake, tunnelled requests, subscriptions with replay, live events,
//! typing notifications, token handling, protocol errors; and the media service over plain HTTP.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use futures_util::{SinkExt, StreamExt};
use http_body_util::BodyExt;
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use serde_json::{json, Map, Value};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use tower::ServiceExt;
use twilsock::backend::{ConversationBackend, NewMessage};
use twilsock::frame::Frame;
use twilsock::{InMemoryBackend, Twilsock, TwilsockConfig};

const SECRET: &str = "test-api-key-secret";
const SERVICE: &str = "IS00000000000000000000000000000001";

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

fn token(identity: &str, ttl: i64, secret: &str) -> String {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let mut header = Header::new(Algorithm::HS256);
    header.cty = Some("twilio-fpa;v=1".into());
    let claims = json!({"jti": format!("SKtest-{now}"), "iss": "SKtest", "sub": "ACtest", "iat": now, "exp": now + ttl,
        "grants": {"identity": identity, "chat": {"service_sid": SERVICE}}});
    encode(&header, &claims, &EncodingKey::from_secret(secret.as_bytes())).unwrap()
}

fn config() -> TwilsockConfig {
    TwilsockConfig::new(SECRET, SERVICE)
}

async fn serve(backend: Arc<InMemoryBackend>) -> String {
    let app = Twilsock::new(backend, config()).router();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("ws://{addr}/v3/wsconnect")
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

async fn connect(url: &str, identity: &str) -> Ws {
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    send(&mut ws, json!({"method": "init", "id": "TMinit", "token": token(identity, 3600, SECRET), "continuation_token": null}), b"").await;
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

fn chat(backend: &InMemoryBackend) -> String {
    let c = backend.create_conversation(Some("chat".into()), json!({}));
    backend.add_participant(&c.sid, "customer", json!({"member_type": "customer"})).unwrap();
    backend.add_participant(&c.sid, "alice", json!({"member_type": "agent"})).unwrap();
    c.sid
}

#[tokio::test]
async fn init_accepts_a_valid_token_and_rejects_bad_ones_with_twilio_codes() {
    let url = serve(Arc::new(InMemoryBackend::new())).await;
    connect(&url, "customer").await;
    for (tok, code) in [
        // Twilio's codes (twilio_model::token): a bad signature is 20107.
        (token("customer", 3600, "wrong-secret"), 20107),
        (token("customer", -3600, SECRET), 20104),
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
    let url = serve(Arc::new(InMemoryBackend::new())).await;
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
    let url = serve(Arc::new(InMemoryBackend::new())).await;
    let mut ws = connect(&url, "customer").await;
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
    let backend = Arc::new(InMemoryBackend::new());
    let url = serve(backend.clone()).await;
    let ch = chat(&backend);
    let mut ws = connect(&url, "customer").await;
    let list = format!("{ch}.messages");
    let (status, descriptor) = request(&mut ws, "TM1", "GET", &format!("/v3/Lists/{list}"), json!({}), None).await;
    assert_eq!(status, 200);
    let seen = descriptor["last_event_id"].as_u64().unwrap();

    // Posted after the fetch but before the subscription: must be replayed.
    let msg = |b: &str| NewMessage { body: Some(b.into()), attributes: json!({}), media_sids: vec![] };
    backend.send_message(&ch, "alice", msg("missed")).unwrap();

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

    backend.send_message(&ch, "alice", msg("live")).unwrap();
    let live = next_sync_event(&mut ws, "list_item_added").await;
    assert_eq!(live["event"]["item_data"]["text"], "live");
    assert_eq!(live["event"]["item_index"], 1);
    assert!(live["event"]["id"].as_u64().unwrap() > replayed["event"]["id"].as_u64().unwrap());
}

#[tokio::test]
async fn sending_typing_and_read_horizon_go_to_the_backend() {
    let backend = Arc::new(InMemoryBackend::new());
    let url = serve(backend.clone()).await;
    let ch = chat(&backend);
    let mut customer = connect(&url, "customer").await;
    let mut alice = connect(&url, "alice").await;
    let mut events = backend.events();

    let body = json!({"body": "hello", "attributes": "{\"flexdeskId\":\"w1\"}"});
    let (status, sent) = request(&mut customer, "TM1", "POST", &format!("/v1/Conversations/{ch}/Messages"), json!({}), Some(body)).await;
    assert_eq!(status, 201);
    assert_eq!(sent["index"], 0);
    let stored = backend.messages(&ch).unwrap();
    assert_eq!(stored[0].attributes, json!({"flexdeskId": "w1"}));

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
    let p = backend.participants(&ch).unwrap().into_iter().find(|p| p.identity == "customer").unwrap();
    assert_eq!(p.last_read_message_index, Some(0));
    let mut kinds = vec![];
    while let Ok(e) = events.try_recv() {
        kinds.push(format!("{e:?}").split([' ', '{', '(']).next().unwrap().to_string());
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
    let backend = Arc::new(InMemoryBackend::new());
    let url = serve(backend.clone()).await;
    let ch = chat(&backend);
    let list = format!("{ch}.messages");
    let mut alice = connect(&url, "alice").await;
    let mut customer = connect(&url, "customer").await;
    subscribe(&mut alice, "TMa", &[&list]).await;
    subscribe(&mut customer, "TMc", &[&list]).await;

    backend.remove_participant(&ch, "alice").unwrap();
    let msg = NewMessage { body: Some("after you left".into()), attributes: json!({}), media_sids: vec![] };
    backend.send_message(&ch, "customer", msg).unwrap();
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
    let url = serve(Arc::new(InMemoryBackend::new())).await;
    let mut ws = connect(&url, "customer").await;
    send(&mut ws, json!({"method": "update", "id": "TMu1", "token": token("customer", 7200, SECRET)}), b"").await;
    assert_eq!(recv(&mut ws).await.header["status"]["code"], 200);
    send(&mut ws, json!({"method": "update", "id": "TMu2", "token": token("mallory", 7200, SECRET)}), b"").await;
    assert_eq!(recv(&mut ws).await.header["status"]["code"], 401);
}

#[tokio::test]
async fn media_upload_and_content_need_a_token_or_a_signed_url() {
    let backend = Arc::new(InMemoryBackend::new());
    let ch = chat(&backend);
    let app = Twilsock::new(backend.clone(), config()).router();
    let base = format!("/mcs/v1/Services/{SERVICE}/Media");
    let upload = Request::post(format!("{base}?Filename=a.txt"))
        .header("content-type", "text/plain")
        .header("x-twilio-token", token("customer", 3600, SECRET))
        .body(Body::from("file body"))
        .unwrap();
    let res = app.clone().oneshot(upload).await.unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let record: Value = serde_json::from_slice(&res.into_body().collect().await.unwrap().to_bytes()).unwrap();
    let me = record["sid"].as_str().unwrap().to_string();
    assert_eq!(record["size"], 9);

    // Not attached yet: only the uploader may read it.
    let get = |who: &str| {
        Request::get(format!("{base}/{me}/Content")).header("x-twilio-token", token(who, 3600, SECRET)).body(Body::empty()).unwrap()
    };
    assert_eq!(app.clone().oneshot(get("alice")).await.unwrap().status(), StatusCode::FORBIDDEN);
    backend.send_message(&ch, "customer", NewMessage { body: None, attributes: json!({}), media_sids: vec![me.clone()] }).unwrap();
    let res = app.clone().oneshot(get("alice")).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    assert_eq!(&res.into_body().collect().await.unwrap().to_bytes()[..], b"file body");

    let anonymous = Request::get(format!("{base}/{me}/Content")).body(Body::empty()).unwrap();
    assert_eq!(app.clone().oneshot(anonymous).await.unwrap().status(), StatusCode::FORBIDDEN);
    let signed = record["links"]["content_direct_temporary"].as_str().unwrap();
    let path = &signed[signed.find("/mcs/").unwrap()..];
    let res = app.clone().oneshot(Request::get(path).body(Body::empty()).unwrap()).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let tampered = Request::get(path.replace(&me, "ME0")).body(Body::empty()).unwrap();
    assert_ne!(app.clone().oneshot(tampered).await.unwrap().status(), StatusCode::OK);

    let no_token = Request::post(&base).header("content-type", "text/plain").body(Body::from("x")).unwrap();
    assert_eq!(app.oneshot(no_token).await.unwrap().status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn mounts_next_to_a_router_that_owns_v1_services() {
    // The emulator nests its Conversations REST under /v1/Services/{is}; merging must not conflict.
    let host = axum::Router::new().nest("/v1/Services/{is}", axum::Router::new().route("/Conversations", axum::routing::get(|| async { "ok" })));
    let app = host.merge(Twilsock::new(Arc::new(InMemoryBackend::new()), config()).router());
    let res = app.oneshot(Request::get(format!("/v1/Services/{SERVICE}/Conversations")).body(Body::empty()).unwrap()).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}
