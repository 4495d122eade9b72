//! The realtime WebSocket protocol: token checks, subscribe, send, events, replay after a drop,
//! limits, typing, read horizon and token-expiry warnings.

mod common;

use std::time::Duration;

use common::*;
use flexdesk_emulator::{app, Config, Emulator, Shared};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn serve(config: Config) -> (Shared, String) {
    let emu = Emulator::new(config);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    emu.set_base_url(base.clone());
    let router = app(emu.clone());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (emu, base.replace("http://", "ws://") + "/v1/realtime")
}

async fn connect(url: &str) -> Ws {
    tokio_tungstenite::connect_async(url).await.unwrap().0
}

async fn send(ws: &mut Ws, v: Value) {
    ws.send(Message::Text(v.to_string().into())).await.unwrap();
}

/// Next JSON frame, or the close frame as `{"close": code}`.
async fn recv(ws: &mut Ws) -> Value {
    loop {
        let m = tokio::time::timeout(Duration::from_secs(5), ws.next()).await.expect("a frame within 5 s");
        match m {
            Some(Ok(Message::Text(t))) => return serde_json::from_str(&t).unwrap(),
            Some(Ok(Message::Close(f))) => return json!({"close": f.map(|f| u16::from(f.code))}),
            Some(Ok(_)) => continue,
            Some(Err(_)) | None => return json!({"close": null}),
        }
    }
}

/// Next frame that is not a typing/participant event (keeps request/response tests simple).
async fn recv_type(ws: &mut Ws, ty: &str) -> Value {
    loop {
        let v = recv(ws).await;
        if v["type"] == ty || v.get("close").is_some() {
            return v;
        }
    }
}

async fn init(url: &str, token: &str) -> Ws {
    let mut ws = connect(url).await;
    send(&mut ws, json!({"type": "init", "token": token})).await;
    let v = recv(&mut ws).await;
    assert_eq!(v["type"], "initialized", "{v}");
    ws
}

async fn request(ws: &mut Ws, mut req: Value, id: u64) -> Value {
    req["id"] = json!(id);
    send(ws, req).await;
    loop {
        let v = recv(ws).await;
        if v["type"] == "result" && v["id"] == id {
            return v;
        }
        assert!(v.get("close").is_none(), "closed while waiting for {id}");
    }
}

#[tokio::test]
async fn bad_tokens_get_an_error_frame_and_close_4001() {
    let (emu, url) = serve(Config::for_tests()).await;
    let c = emu.config.clone();
    let cases = bad_tokens(&c);
    for (t, code, text) in cases {
        let mut ws = connect(&url).await;
        send(&mut ws, json!({"type": "init", "token": t})).await;
        let err = recv(&mut ws).await;
        assert_eq!((err["type"].clone(), err["code"].clone(), err["terminal"].clone()), (json!("error"), json!(code), json!(true)), "{err}");
        assert!(err["message"].as_str().unwrap().contains(text), "{err}");
        assert!(!err.to_string().contains(&c.api_key_secret));
        assert_eq!(recv(&mut ws).await, json!({"close": 4001}));
    }
    // A first frame that is not init is refused too.
    let mut ws = connect(&url).await;
    send(&mut ws, json!({"type": "subscribe"})).await;
    assert_eq!(recv(&mut ws).await["type"], "error");
}

#[tokio::test]
async fn join_send_and_receive_in_index_order() {
    let (emu, url) = serve(Config::for_tests()).await;
    let (ch, ann) = webchat(&emu).await;
    let mut ws = init(&url, &token(&emu.config, &ann, 600)).await;

    let outsider = init(&url, &token(&emu.config, "mallory", 600)).await;
    let mut outsider = outsider;
    let r = request(&mut outsider, json!({"type": "subscribe", "conversationSid": ch}), 1).await;
    assert_eq!((r["ok"].clone(), r["error"]["status"].clone()), (json!(false), json!(403)));

    let snap = request(&mut ws, json!({"type": "subscribe", "conversationSid": ch}), 1).await;
    assert_eq!(snap["ok"], true, "{snap}");
    assert_eq!(snap["conversation"]["state"]["current"], "active");
    assert_eq!(snap["participants"][0]["identity"], ann.as_str());

    let r = request(&mut ws, json!({"type": "sendMessage", "conversationSid": ch, "body": "hello", "attributes": {"flexdeskId": "1"}}), 2).await;
    assert_eq!(r["index"], 0);
    let echo = recv_type(&mut ws, "event").await;
    assert_eq!((echo["event"].clone(), echo["message"]["index"].clone()), (json!("messageAdded"), json!(0)));
    assert_eq!(echo["message"]["attributes"]["flexdeskId"], "1");

    let wt = task_of(&emu, &ch).await;
    emu.accept_task(&wt, "alice").unwrap();
    let joined = recv_type(&mut ws, "event").await;
    assert_eq!(joined["event"], "participantJoined");
    assert_eq!(joined["participant"]["attributes"]["friendlyName"], "Alice");
    for i in 1..=5 {
        emu.add_message(&ch, Some("agent.alice".into()), Some(format!("r{i}")), None, vec![]).unwrap();
    }
    let mut indexes = vec![];
    for _ in 0..5 {
        indexes.push(recv_type(&mut ws, "event").await["message"]["index"].as_u64().unwrap());
    }
    assert_eq!(indexes, vec![1, 2, 3, 4, 5]);

    // Limits: text + media, oversize body, unknown media, someone else's conversation.
    let big = "x".repeat(32 * 1024 + 1);
    let r = request(&mut ws, json!({"type": "sendMessage", "conversationSid": ch, "body": big}), 3).await;
    assert_eq!(r["ok"], false);
    let media = emu.store_media("a.png", bytes::Bytes::from_static(b"png"), &ann).unwrap();
    let r = request(&mut ws, json!({"type": "sendMessage", "conversationSid": ch, "body": "and", "mediaSids": [media.sid]}), 4).await;
    assert!(r["error"]["message"].as_str().unwrap().contains("both text and media"), "{r}");
    let r = request(&mut ws, json!({"type": "sendMessage", "conversationSid": ch, "mediaSids": ["ME00000000000000000000000000000000"]}), 5).await;
    assert_eq!(r["ok"], false);
    let r = request(&mut ws, json!({"type": "sendMessage", "conversationSid": ch, "mediaSids": [media.sid]}), 6).await;
    assert_eq!(r["message"]["type"], "media", "{r}");
    let url_reply = request(&mut ws, json!({"type": "mediaUrl", "mediaSid": media.sid}), 7).await;
    assert!(url_reply["url"].as_str().unwrap().contains("/Content?t="));
    let r = request(&mut outsider, json!({"type": "mediaUrl", "mediaSid": media.sid}), 8).await;
    assert_eq!(r["ok"], false, "outsiders get no media URL");

    let page = request(&mut ws, json!({"type": "getMessages", "conversationSid": ch, "pageSize": 2}), 9).await;
    let idx: Vec<u64> = page["messages"].as_array().unwrap().iter().map(|m| m["index"].as_u64().unwrap()).collect();
    assert_eq!((idx, page["hasOlder"].clone(), page["hasNewer"].clone()), (vec![5, 6], json!(true), json!(false)));
    let page = request(&mut ws, json!({"type": "getMessages", "conversationSid": ch, "pageSize": 2, "anchor": 0, "direction": "forward"}), 10).await;
    assert_eq!(page["messages"][1]["index"], 1);
}

#[tokio::test]
async fn replay_after_a_drop_sends_only_what_was_missed() {
    let (emu, url) = serve(Config::for_tests()).await;
    let (ch, ann) = webchat(&emu).await;
    let t = token(&emu.config, &ann, 600);
    let mut ws = init(&url, &t).await;
    request(&mut ws, json!({"type": "subscribe", "conversationSid": ch}), 1).await;
    request(&mut ws, json!({"type": "sendMessage", "conversationSid": ch, "body": "m0"}), 2).await;
    request(&mut ws, json!({"type": "sendMessage", "conversationSid": ch, "body": "m1"}), 3).await;

    // Injected network failure: the socket dies without a close frame.
    emu.drop_generation.send_modify(|g| *g += 1);
    let v = recv_type(&mut ws, "never").await;
    assert_eq!(v, json!({"close": null}), "abnormal closure");

    emu.add_message(&ch, Some(ann.clone()), Some("m2 (REST, while away)".into()), None, vec![]).unwrap();
    let mut ws = init(&url, &t).await;
    let snap = request(&mut ws, json!({"type": "subscribe", "conversationSid": ch, "afterIndex": 1}), 1).await;
    let bodies: Vec<&str> = snap["messages"].as_array().unwrap().iter().map(|m| m["body"].as_str().unwrap()).collect();
    assert_eq!(bodies, vec!["m2 (REST, while away)"]);
    assert_eq!(snap["lastMessageIndex"], 2);
    // And live events continue after the snapshot, with no duplicate of what it contained.
    emu.add_message(&ch, Some(ann.clone()), Some("m3".into()), None, vec![]).unwrap();
    assert_eq!(recv_type(&mut ws, "event").await["message"]["index"], 3);

    // Refused connections (fault) are dropped before any frame.
    emu.lock().faults.refuse_websockets = 1;
    let mut refused = connect(&url).await;
    assert_eq!(recv(&mut refused).await, json!({"close": null}));
    init(&url, &t).await;
}

#[tokio::test]
async fn typing_and_read_horizon_reach_the_others() {
    let (emu, url) = serve(Config::for_tests()).await;
    let (ch, ann) = webchat(&emu).await;
    let wt = route_by_message(&emu, &ch).await;
    emu.accept_task(&wt, "alice").unwrap();
    let mut customer = init(&url, &token(&emu.config, &ann, 600)).await;
    let mut agent = init(&url, &token(&emu.config, "agent.alice", 600)).await;
    request(&mut customer, json!({"type": "subscribe", "conversationSid": ch}), 1).await;
    request(&mut agent, json!({"type": "subscribe", "conversationSid": ch}), 1).await;

    send(&mut customer, json!({"type": "typing", "conversationSid": ch})).await;
    let t = recv_type(&mut agent, "event").await;
    assert_eq!((t["event"].clone(), t["participant"]["identity"].clone()), (json!("typing"), json!(ann)));

    request(&mut agent, json!({"type": "sendMessage", "conversationSid": ch, "body": "hi"}), 2).await;
    // The customer sees the agent's message, and not its own typing.
    let m = recv_type(&mut customer, "event").await;
    assert_eq!(m["event"], "messageAdded", "{m}");

    let r = request(&mut customer, json!({"type": "setLastRead", "conversationSid": ch, "all": true}), 2).await;
    // (Index 0 is the message that routed the chat, index 1 the agent's.)
    assert_eq!((r["lastReadMessageIndex"].clone(), r["unreadCount"].clone()), (json!(1), json!(0)));
    let upd = loop {
        let v = recv_type(&mut agent, "event").await;
        if v["event"] == "participantUpdated" {
            break v;
        }
    };
    assert_eq!(upd["participant"]["lastReadMessageIndex"], 1);
    assert!(upd["updateReasons"].as_array().unwrap().contains(&json!("lastReadMessageIndex")));
    // advance never moves the horizon back.
    let r = request(&mut customer, json!({"type": "setLastRead", "conversationSid": ch, "index": null, "advance": true}), 3).await;
    assert_eq!(r["lastReadMessageIndex"], 1);

    emu.update_conversation(&ch, Some("closed".into()), None, None, false).unwrap();
    let closed = loop {
        let v = recv_type(&mut customer, "event").await;
        if v["event"] == "conversationUpdated" {
            break v;
        }
    };
    assert_eq!(closed["conversation"]["state"]["current"], "closed");
    assert!(closed["updateReasons"].as_array().unwrap().contains(&json!("state")));
}

#[tokio::test]
async fn token_expiry_warning_update_and_expiry() {
    let config = Config { token_warning_seconds: 3600, ..Config::for_tests() };
    let (emu, url) = serve(config).await;
    let (ch, ann) = webchat(&emu).await;
    let mut ws = init(&url, &token(&emu.config, &ann, 600)).await;
    // Expires within the warning window: warned at once.
    assert_eq!(recv(&mut ws).await["type"], "tokenAboutToExpire");
    let r = request(&mut ws, json!({"type": "updateToken", "token": token(&emu.config, "someone-else", 600)}), 1).await;
    assert_eq!(r["ok"], false, "a token for another identity is refused");
    let fresh = token(&emu.config, &ann, 7200);
    let r = request(&mut ws, json!({"type": "updateToken", "token": fresh}), 2).await;
    assert_eq!(r["ok"], true);
    request(&mut ws, json!({"type": "subscribe", "conversationSid": ch}), 3).await;

    // Injected early expiry hits the token in use: warning, then expiry and close 4003.
    emu.lock().early_expiry.insert(fresh.clone(), flexdesk_emulator::util::now_secs() + 1);
    emu.expiry_generation.send_modify(|g| *g += 1);
    assert_eq!(recv(&mut ws).await["type"], "tokenAboutToExpire");
    assert_eq!(recv(&mut ws).await["type"], "tokenExpired");
    assert_eq!(recv(&mut ws).await, json!({"close": 4003}));
}

#[tokio::test]
async fn injected_realtime_latency_delays_replies() {
    let (emu, url) = serve(Config::for_tests()).await;
    let mut ws = init(&url, &token(&emu.config, "ann", 600)).await;
    emu.lock().faults.realtime_delay_ms = 200;
    let t = std::time::Instant::now();
    assert_eq!(request(&mut ws, json!({"type": "ping"}), 1).await["ok"], true);
    assert!(t.elapsed() >= Duration::from_millis(200));
    let r = request(&mut ws, json!({"type": "bogus"}), 2).await;
    assert!(r["error"]["message"].as_str().unwrap().contains("Unknown request type"));
}
