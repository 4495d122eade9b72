//! The browser's realtime channel: `GET /v1/realtime` upgraded to a WebSocket carrying JSON text frames.
//!
//! 1. The client's first frame is `{"type":"init","token":"<AccessToken>"}`. A bad token gets
//!    `{"type":"error","code":201xx,"message":"…","terminal":true}` (Twilio's access-token codes, the same checks as
//!    `/v3/wsconnect`: see `twilio_model::token`) and close code 4001; a good one
//!    `{"type":"initialized","identity":"…","expiresAt":<unix s>}`.
//!    (`{"type":"user","identity"}` answers the Conversations User: `{identity, friendlyName}`.)
//! 2. Requests carry an `id` and get `{"type":"result","id":…,"ok":true,…}` or `{"ok":false,"error":{…}}`:
//!    `subscribe {conversationSid, afterIndex?}` (snapshot: conversation, participants, messages after
//!    `afterIndex`), `sendMessage {conversationSid, body?, attributes?, mediaSids?}`, `typing`,
//!    `setLastRead {conversationSid, index?|all, advance?}`, `getMessages {conversationSid, pageSize?,
//!    anchor?, direction?}`, `getParticipants`, `mediaUrl {mediaSid}`, `updateToken {token}`, `ping`.
//! 3. Server events for subscribed conversations: `{"type":"event","event":"messageAdded"|"participantJoined"|
//!    "participantLeft"|"participantUpdated"|"typing"|"conversationUpdated","conversationSid","seq",…}`,
//!    plus `{"type":"tokenAboutToExpire","expiresAt"}` and `{"type":"tokenExpired"}` (then close 4003).

use std::collections::HashMap;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message as WsMessage, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::response::Response;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::sync::broadcast::error::RecvError;

use crate::media::temporary_url;
use crate::state::{conversation_json, message_json, participant_json, Change, Event, Shared};
use crate::token::{verify, TokenError, VerifiedToken};
use crate::twilio_error::TwilioError;
use crate::util::{now_millis, now_secs};

pub const CLOSE_BAD_TOKEN: u16 = 4001;
pub const CLOSE_TOKEN_EXPIRED: u16 = 4003;
pub const CLOSE_PROTOCOL: u16 = 4000;

/// Verifies a token and applies any injected early expiry to it.
pub fn authenticate(emu: &Shared, token: &str) -> Result<VerifiedToken, TokenError> {
    let mut v = verify(&emu.config, token)?;
    let mut st = emu.lock();
    if !st.tokens_seen.contains(token) {
        st.tokens_seen.insert(token.to_string());
    }
    if let Some(early) = st.early_expiry.get(token) {
        v.expires_at = v.expires_at.min(*early);
    }
    if v.expires_at <= now_secs() {
        return Err(TokenError::expired());
    }
    Ok(v)
}

pub async fn upgrade(State(emu): State<Shared>, ws: WebSocketUpgrade) -> Response {
    ws.max_message_size(1 << 20).on_upgrade(move |socket| async move {
        let refused = {
            let mut st = emu.lock();
            if st.faults.refuse_websockets > 0 {
                st.faults.refuse_websockets -= 1;
                true
            } else {
                st.open_websockets += 1;
                false
            }
        };
        if refused {
            drop(socket); // abrupt: the client sees an abnormal closure, as on a network failure
            return;
        }
        run(emu.clone(), socket).await;
        emu.lock().open_websockets -= 1;
    })
}

struct Session {
    emu: Shared,
    identity: String,
    token: String,
    expires_at: u64,
    warned: bool,
    /// conversation → the last event seq its snapshot included.
    subscriptions: HashMap<String, u64>,
}

fn text(v: Value) -> WsMessage {
    WsMessage::Text(v.to_string().into())
}

fn close(code: u16, reason: &str) -> WsMessage {
    WsMessage::Close(Some(CloseFrame { code, reason: reason.to_string().into() }))
}

async fn run(emu: Shared, socket: WebSocket) {
    let (mut tx, mut rx) = socket.split();
    let mut drops = emu.drop_generation.subscribe();
    let mut expiries = emu.expiry_generation.subscribe();
    // Subscribe before any snapshot so no event can fall between the snapshot and the stream.
    let mut events = emu.events.subscribe();

    let init = tokio::time::timeout(Duration::from_secs(10), rx.next()).await;
    let token = match init {
        Ok(Some(Ok(WsMessage::Text(t)))) => serde_json::from_str::<Value>(&t)
            .ok()
            .filter(|v| v["type"] == "init")
            .and_then(|v| v["token"].as_str().map(str::to_string)),
        _ => None,
    };
    let Some(token) = token else {
        let _ = tx.send(text(json!({"type":"error","code":20101,"message":"The first frame must be {\"type\":\"init\",\"token\":\"…\"}","terminal":true}))).await;
        let _ = tx.send(close(CLOSE_PROTOCOL, "init expected")).await;
        return;
    };
    let verified = match authenticate(&emu, &token) {
        Ok(v) => v,
        Err(e) => {
            tracing::info!(code = e.code, reason = %e.message, "realtime: token refused");
            let _ = tx.send(text(json!({"type":"error","code":e.code,"message":e.message,"terminal":true}))).await;
            let _ = tx.send(close(CLOSE_BAD_TOKEN, "access token refused")).await;
            return;
        }
    };
    let mut s = Session {
        emu: emu.clone(),
        identity: verified.identity.clone(),
        token,
        expires_at: verified.expires_at,
        warned: false,
        subscriptions: HashMap::new(),
    };
    tracing::info!(identity = %s.identity, "realtime: connected");
    if tx.send(text(json!({"type":"initialized","identity":s.identity,"expiresAt":s.expires_at}))).await.is_err() {
        return;
    }

    loop {
        let now = now_millis();
        let expiry_in = Duration::from_millis((s.expires_at * 1000).saturating_sub(now));
        let warn_at = s.expires_at.saturating_sub(emu.config.token_warning_seconds) * 1000;
        let warn_in = Duration::from_millis(warn_at.saturating_sub(now));
        tokio::select! {
            frame = rx.next() => {
                let Some(Ok(frame)) = frame else { return };
                match frame {
                    WsMessage::Text(t) => {
                        let reply = match serde_json::from_str::<Value>(&t) {
                            Ok(req) => s.handle(req).await,
                            Err(_) => Some(json!({"type":"error","code":20001,"message":"frames must be JSON","terminal":false})),
                        };
                        if let Some(reply) = reply {
                            if tx.send(text(reply)).await.is_err() { return; }
                        }
                    }
                    WsMessage::Close(_) => return,
                    _ => {}
                }
            }
            ev = events.recv() => match ev {
                Ok(ev) => {
                    let Some(seen) = s.subscriptions.get(&ev.conversation_sid) else { continue };
                    if ev.seq <= *seen { continue; }
                    s.subscriptions.insert(ev.conversation_sid.clone(), ev.seq);
                    match &ev.change {
                        // Typing is not echoed to the typist, as in Twilio.
                        Change::Typing(_) if ev.actor.as_deref() == Some(&s.identity) => continue,
                        Change::ParticipantLeft(p) if p.is(&s.identity) => { s.subscriptions.remove(&ev.conversation_sid); }
                        _ => {}
                    }
                    if tx.send(text(event_frame(&ev))).await.is_err() { return; }
                }
                Err(RecvError::Lagged(_)) => {
                    // Too slow to keep up: close so the client reconnects and replays from its last index.
                    let _ = tx.send(close(1013, "lagging; reconnect and replay")).await;
                    return;
                }
                Err(RecvError::Closed) => return,
            },
            _ = tokio::time::sleep(warn_in), if !s.warned => {
                s.warned = true;
                if tx.send(text(json!({"type":"tokenAboutToExpire","expiresAt":s.expires_at}))).await.is_err() { return; }
            }
            _ = tokio::time::sleep(expiry_in) => {
                let _ = tx.send(text(json!({"type":"tokenExpired"}))).await;
                let _ = tx.send(close(CLOSE_TOKEN_EXPIRED, "access token expired")).await;
                return;
            }
            _ = drops.changed() => {
                // Injected network failure: no close frame, the client sees an abnormal closure.
                return;
            }
            _ = expiries.changed() => {
                if let Some(early) = emu.lock().early_expiry.get(&s.token) {
                    if *early < s.expires_at { s.expires_at = *early; s.warned = false; }
                }
            }
        }
    }
}

/// The frame for one change (module docs, 3.).
fn event_frame(ev: &Event) -> Value {
    let (name, mut frame) = match &ev.change {
        Change::ConversationUpdated { conversation, reasons } => {
            ("conversationUpdated", json!({"conversation": conversation_json(conversation), "updateReasons": reasons}))
        }
        Change::ConversationRemoved => ("conversationRemoved", json!({})),
        Change::ParticipantJoined(p) => ("participantJoined", json!({"participant": participant_json(p)})),
        Change::ParticipantUpdated { participant, reasons } => {
            ("participantUpdated", json!({"participant": participant_json(participant), "updateReasons": reasons}))
        }
        Change::ParticipantLeft(p) => ("participantLeft", json!({"participant": participant_json(p)})),
        Change::Typing(p) => ("typing", json!({"participant": participant_json(p)})),
        Change::MessageAdded(m) => ("messageAdded", json!({"message": message_json(m)})),
    };
    frame["type"] = json!("event");
    frame["event"] = json!(name);
    frame["conversationSid"] = json!(ev.conversation_sid);
    frame["seq"] = json!(ev.seq);
    frame
}

fn error_result(id: &Value, e: TwilioError) -> Value {
    json!({"type":"result","id":id,"ok":false,"error":{"code":e.code,"message":e.message,"status":e.status}})
}

impl Session {
    fn require_participant(&self, conversation_sid: &str) -> Result<crate::state::Conversation, TwilioError> {
        self.emu.participant_conversation(conversation_sid, &self.identity)
    }

    async fn handle(&mut self, req: Value) -> Option<Value> {
        let delay = self.emu.lock().faults.realtime_delay_ms;
        if delay > 0 {
            tokio::time::sleep(Duration::from_millis(delay)).await;
        }
        let id = req.get("id").cloned().unwrap_or(Value::Null);
        let kind = req["type"].as_str().unwrap_or("").to_string();
        let conv_sid = req["conversationSid"].as_str().unwrap_or("").to_string();
        if kind != "typing" && kind != "ping" {
            tracing::debug!(identity = %self.identity, kind, conversation = conv_sid, "realtime request");
        }
        let r: Result<Value, TwilioError> = match kind.as_str() {
            "ping" => Ok(json!({})),
            "subscribe" => self.subscribe(&conv_sid, req["afterIndex"].as_u64()),
            "unsubscribe" => {
                self.subscriptions.remove(&conv_sid);
                Ok(json!({}))
            }
            "sendMessage" => {
                let attributes = match &req["attributes"] {
                    Value::Null => None,
                    v => Some(v.to_string()),
                };
                let media: Vec<String> = req["mediaSids"].as_array().map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_string)).collect()).unwrap_or_default();
                let body = req["body"].as_str().map(str::to_string);
                self.emu
                    .send_from_client(&conv_sid, &self.identity, body, attributes, media)
                    .map(|m| json!({"index": m.index, "message": message_json(&m)}))
            }
            "typing" => self.emu.typing(&conv_sid, &self.identity).map(|_| json!({})),
            "setLastRead" => {
                let index = if req["all"] == true {
                    self.emu.conversation(&conv_sid).ok().and_then(|c| c.messages.last().map(|m| m.index))
                } else {
                    req["index"].as_u64()
                };
                let advance = req["advance"] == true;
                self.emu.set_last_read(&conv_sid, &self.identity, index, advance).map(|(p, unread)| {
                    json!({"unreadCount": unread, "lastReadMessageIndex": p.last_read_message_index})
                })
            }
            "getMessages" => self.require_participant(&conv_sid).map(|c| messages_page(&c, &req)),
            "getParticipants" => self.require_participant(&conv_sid).map(|c| {
                json!({"participants": c.participants.iter().map(participant_json).collect::<Vec<_>>()})
            }),
            "mediaUrl" => self.media_url(req["mediaSid"].as_str().unwrap_or("")),
            // The Conversations User of an identity (the stand-in's `participant.getUser()`): Flex puts an agent's
            // display name there.
            "user" => {
                let identity = req["identity"].as_str().unwrap_or("").to_string();
                let name = self.emu.lock().agents.iter().find(|a| a.identity == identity).map(|a| a.name.clone());
                Ok(json!({"identity": identity, "friendlyName": name}))
            }
            "updateToken" => match authenticate(&self.emu, req["token"].as_str().unwrap_or("")) {
                Ok(v) if v.identity == self.identity => {
                    self.token = req["token"].as_str().unwrap_or("").to_string();
                    self.expires_at = v.expires_at;
                    self.warned = false;
                    Ok(json!({"expiresAt": v.expires_at}))
                }
                Ok(_) => Err(TwilioError::new(401, 20101, "The new token is for a different identity")),
                Err(e) => Err(TwilioError::new(401, e.code, e.message)),
            },
            other => Err(TwilioError::new(400, 20001, format!("Unknown request type {other:?}"))),
        };
        if id.is_null() && r.is_ok() {
            return None; // fire-and-forget frames (typing) need no answer
        }
        Some(match r {
            Ok(mut v) => {
                v["type"] = json!("result");
                v["id"] = id;
                v["ok"] = json!(true);
                v
            }
            Err(e) => error_result(&id, e),
        })
    }

    fn subscribe(&mut self, conv_sid: &str, after_index: Option<u64>) -> Result<Value, TwilioError> {
        let conv = self.require_participant(conv_sid)?;
        tracing::info!(identity = %self.identity, conversation = conv_sid, ?after_index, "realtime: subscribed");
        self.subscriptions.insert(conv.sid.clone(), conv.seq);
        let messages: Vec<Value> = conv.messages.iter().filter(|m| after_index.map_or(true, |a| m.index > a)).map(message_json).collect();
        Ok(json!({
            "conversation": conversation_json(&conv),
            "participants": conv.participants.iter().map(participant_json).collect::<Vec<_>>(),
            "messages": messages,
            "lastMessageIndex": conv.messages.last().map(|m| m.index),
        }))
    }

    fn media_url(&self, media_sid: &str) -> Result<Value, TwilioError> {
        let (uploader, message) = {
            let st = self.emu.lock();
            let m = st.media.get(media_sid).ok_or_else(|| TwilioError::not_found(&format!("/v1/Media/{media_sid}")))?;
            (m.record.author.clone(), m.record.message_sid.clone())
        };
        let allowed = uploader == self.identity
            || message.is_some_and(|msid| {
                self.emu.lock().conversations.iter().any(|c| {
                    c.messages.iter().any(|m| m.sid == msid) && c.participants.iter().any(|p| p.is(&self.identity))
                })
            });
        if !allowed {
            return Err(TwilioError::new(403, 20403, "This media is not in a conversation you belong to"));
        }
        Ok(json!({"url": temporary_url(&self.emu, media_sid)}))
    }
}

/// The SDK's `getMessages(pageSize, anchor, direction)`: `backwards` (default) returns the
/// `pageSize` messages up to and including `anchor` (default: newest); `forward` those from `anchor`.
/// Items are always in ascending index order.
pub fn messages_page(conv: &crate::state::Conversation, req: &Value) -> Value {
    let page_size = req["pageSize"].as_u64().unwrap_or(30).clamp(1, 100) as usize;
    let anchor = req["anchor"].as_u64();
    let forward = req["direction"] == "forward";
    let msgs = &conv.messages;
    let slice: Vec<&crate::state::Message> = if forward {
        let from = anchor.unwrap_or(0);
        msgs.iter().filter(|m| m.index >= from).take(page_size).collect()
    } else {
        let upto = anchor.unwrap_or(u64::MAX);
        let older: Vec<_> = msgs.iter().filter(|m| m.index <= upto).collect();
        older[older.len().saturating_sub(page_size)..].to_vec()
    };
    let first = slice.first().map(|m| m.index);
    let last = slice.last().map(|m| m.index);
    let has_older = match first {
        Some(f) => msgs.iter().any(|m| m.index < f),
        None => false,
    };
    let has_newer = match last {
        Some(l) => msgs.iter().any(|m| m.index > l),
        None => false,
    };
    json!({
        "messages": slice.into_iter().map(message_json).collect::<Vec<_>>(),
        "hasOlder": has_older,
        "hasNewer": has_newer,
    })
}
