//! A simple in-memory [`ConversationBackend`] for tests and the demo binary, plus a small HTTP "control" API that
//! plays the other side of the chat (the agent): create a conversation, add participants, post, type, read, close.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::sync::broadcast;

use crate::backend::*;
use crate::ids::{now_rfc3339, sid};

#[derive(Default)]
struct Conversation {
    info: Option<ConversationInfo>,
    participants: Vec<ParticipantInfo>,
    messages: Vec<MessageInfo>,
}

pub struct InMemoryBackend {
    conversations: Mutex<HashMap<String, Conversation>>,
    media: Mutex<HashMap<String, (MediaInfo, Bytes)>>,
    events: broadcast::Sender<BackendEvent>,
}

impl Default for InMemoryBackend {
    fn default() -> Self {
        Self::new()
    }
}

impl InMemoryBackend {
    pub fn new() -> Self {
        InMemoryBackend { conversations: Mutex::new(HashMap::new()), media: Mutex::new(HashMap::new()), events: broadcast::channel(1024).0 }
    }

    fn emit(&self, event: BackendEvent) {
        // No receiver yet is fine: nobody is connected.
        let _ = self.events.send(event);
    }

    pub fn create_conversation(&self, friendly_name: Option<String>, attributes: Value) -> ConversationInfo {
        let now = now_rfc3339();
        let info = ConversationInfo {
            sid: sid("CH"),
            friendly_name,
            unique_name: None,
            attributes: if attributes.is_object() { attributes } else { json!({}) },
            state: ConversationState::Active,
            state_updated: now.clone(),
            created_by: "system".into(),
            date_created: now.clone(),
            date_updated: now,
        };
        let conv = Conversation { info: Some(info.clone()), ..Default::default() };
        self.conversations.lock().unwrap().insert(info.sid.clone(), conv);
        info
    }

    pub fn add_participant(&self, conversation_sid: &str, identity: &str, attributes: Value) -> Result<ParticipantInfo, BackendError> {
        let participant = {
            let mut all = self.conversations.lock().unwrap();
            let conv = all.get_mut(conversation_sid).ok_or_else(|| not_found(conversation_sid))?;
            if conv.participants.iter().any(|p| p.identity == identity) {
                return Err(BackendError::Invalid(format!("{identity} is already a participant")));
            }
            let now = now_rfc3339();
            let p = ParticipantInfo {
                sid: sid("MB"),
                identity: identity.to_string(),
                attributes: if attributes.is_object() { attributes } else { json!({}) },
                last_read_message_index: None,
                last_read_timestamp: None,
                date_created: now.clone(),
                date_updated: now,
            };
            conv.participants.push(p.clone());
            p
        };
        self.emit(BackendEvent::ParticipantAdded { conversation_sid: conversation_sid.into(), participant: participant.clone() });
        Ok(participant)
    }

    pub fn remove_participant(&self, conversation_sid: &str, identity: &str) -> Result<ParticipantInfo, BackendError> {
        let removed = {
            let mut all = self.conversations.lock().unwrap();
            let conv = all.get_mut(conversation_sid).ok_or_else(|| not_found(conversation_sid))?;
            let pos = conv
                .participants
                .iter()
                .position(|p| p.identity == identity)
                .ok_or_else(|| BackendError::NotFound(format!("{identity} is not a participant")))?;
            conv.participants.remove(pos)
        };
        self.emit(BackendEvent::ParticipantRemoved { conversation_sid: conversation_sid.into(), participant: removed.clone() });
        Ok(removed)
    }

    pub fn set_state(&self, conversation_sid: &str, state: ConversationState) -> Result<ConversationInfo, BackendError> {
        let info = {
            let mut all = self.conversations.lock().unwrap();
            let conv = all.get_mut(conversation_sid).ok_or_else(|| not_found(conversation_sid))?;
            let info = conv.info.as_mut().expect("created conversations have info");
            let now = now_rfc3339();
            info.state = state;
            info.state_updated = now.clone();
            info.date_updated = now;
            info.clone()
        };
        self.emit(BackendEvent::ConversationUpdated(info.clone()));
        Ok(info)
    }

    /// Binds uploaded media to a message; only the uploader's own, not yet attached media may be used.
    fn attach_media(&self, sids: &[String], author: &str, conversation_sid: &str, message_sid: &str) -> Result<Vec<MediaInfo>, BackendError> {
        let mut store = self.media.lock().unwrap();
        for s in sids {
            match store.get(s) {
                None => return Err(BackendError::Invalid(format!("media {s} not found"))),
                Some((m, _)) if m.author != author => return Err(BackendError::Forbidden(format!("media {s} was uploaded by someone else"))),
                Some((m, _)) if m.message_sid.is_some() => return Err(BackendError::Invalid(format!("media {s} is already attached"))),
                Some(_) => {}
            }
        }
        Ok(sids
            .iter()
            .map(|s| {
                let (m, _) = store.get_mut(s).expect("checked above");
                m.conversation_sid = Some(conversation_sid.to_string());
                m.message_sid = Some(message_sid.to_string());
                m.clone()
            })
            .collect())
    }

    fn participant_of(conv: &Conversation, identity: &str) -> Result<ParticipantInfo, BackendError> {
        conv.participants
            .iter()
            .find(|p| p.identity == identity)
            .cloned()
            .ok_or_else(|| BackendError::Forbidden(format!("{identity} is not a participant of this conversation")))
    }
}

fn not_found(sid: &str) -> BackendError {
    BackendError::NotFound(format!("conversation {sid} not found"))
}

impl ConversationBackend for InMemoryBackend {
    fn conversations_of(&self, identity: &str) -> Vec<ConversationInfo> {
        let all = self.conversations.lock().unwrap();
        let mut out: Vec<ConversationInfo> = all
            .values()
            .filter(|c| c.participants.iter().any(|p| p.identity == identity))
            .filter_map(|c| c.info.clone())
            .collect();
        out.sort_by(|a, b| a.date_created.cmp(&b.date_created));
        out
    }

    fn conversation(&self, sid: &str) -> Option<ConversationInfo> {
        self.conversations.lock().unwrap().get(sid).and_then(|c| c.info.clone())
    }

    fn participants(&self, conversation_sid: &str) -> Result<Vec<ParticipantInfo>, BackendError> {
        let all = self.conversations.lock().unwrap();
        Ok(all.get(conversation_sid).ok_or_else(|| not_found(conversation_sid))?.participants.clone())
    }

    fn messages(&self, conversation_sid: &str) -> Result<Vec<MessageInfo>, BackendError> {
        let all = self.conversations.lock().unwrap();
        Ok(all.get(conversation_sid).ok_or_else(|| not_found(conversation_sid))?.messages.clone())
    }

    fn join(&self, conversation_sid: &str, identity: &str) -> Result<ParticipantInfo, BackendError> {
        self.add_participant(conversation_sid, identity, json!({}))
    }

    fn send_message(&self, conversation_sid: &str, author: &str, message: NewMessage) -> Result<MessageInfo, BackendError> {
        if message.body.as_deref().unwrap_or("").is_empty() && message.media_sids.is_empty() {
            return Err(BackendError::Invalid("a message needs a body or media".into()));
        }
        let msg = {
            let mut all = self.conversations.lock().unwrap();
            let conv = all.get_mut(conversation_sid).ok_or_else(|| not_found(conversation_sid))?;
            let participant = Self::participant_of(conv, author)?;
            if conv.info.as_ref().map(|i| i.state) == Some(ConversationState::Closed) {
                // A closed conversation is final: https://www.twilio.com/docs/api/errors/50377.
                return Err(BackendError::Twilio(twilio_model::TwilioError::closed_final()));
            }
            let message_sid = sid("IM");
            let media = self.attach_media(&message.media_sids, author, conversation_sid, &message_sid)?;
            let now = now_rfc3339();
            let msg = MessageInfo {
                sid: message_sid,
                index: conv.messages.last().map(|m| m.index + 1).unwrap_or(0),
                author: author.to_string(),
                body: message.body,
                attributes: if message.attributes.is_object() { message.attributes } else { json!({}) },
                participant_sid: Some(participant.sid),
                media,
                date_created: now.clone(),
                date_updated: now,
            };
            conv.messages.push(msg.clone());
            msg
        };
        self.emit(BackendEvent::MessageAdded { conversation_sid: conversation_sid.into(), message: msg.clone() });
        Ok(msg)
    }

    fn typing(&self, conversation_sid: &str, identity: &str) -> Result<(), BackendError> {
        {
            let all = self.conversations.lock().unwrap();
            let conv = all.get(conversation_sid).ok_or_else(|| not_found(conversation_sid))?;
            Self::participant_of(conv, identity)?;
        }
        self.emit(BackendEvent::Typing { conversation_sid: conversation_sid.into(), identity: identity.into() });
        Ok(())
    }

    fn set_last_read(&self, conversation_sid: &str, identity: &str, index: Option<u64>) -> Result<ParticipantInfo, BackendError> {
        let participant = {
            let mut all = self.conversations.lock().unwrap();
            let conv = all.get_mut(conversation_sid).ok_or_else(|| not_found(conversation_sid))?;
            let p = conv
                .participants
                .iter_mut()
                .find(|p| p.identity == identity)
                .ok_or_else(|| BackendError::Forbidden(format!("{identity} is not a participant of this conversation")))?;
            let now = now_rfc3339();
            p.last_read_message_index = index;
            p.last_read_timestamp = Some(now.clone());
            p.date_updated = now;
            p.clone()
        };
        self.emit(BackendEvent::ParticipantUpdated { conversation_sid: conversation_sid.into(), participant: participant.clone() });
        Ok(participant)
    }

    fn events(&self) -> broadcast::Receiver<BackendEvent> {
        self.events.subscribe()
    }

    fn store_media(&self, author: &str, content_type: &str, filename: Option<&str>, bytes: Bytes) -> Result<MediaInfo, BackendError> {
        if bytes.is_empty() {
            return Err(BackendError::Invalid("empty upload".into()));
        }
        let info = MediaInfo {
            sid: sid("ME"),
            content_type: content_type.to_string(),
            filename: filename.map(str::to_string),
            size: bytes.len() as u64,
            author: author.to_string(),
            conversation_sid: None,
            message_sid: None,
            date_created: now_rfc3339(),
        };
        self.media.lock().unwrap().insert(info.sid.clone(), (info.clone(), bytes));
        Ok(info)
    }

    fn media(&self, sid: &str) -> Option<(MediaInfo, Bytes)> {
        self.media.lock().unwrap().get(sid).cloned()
    }
}

// ---- control API (tests and the demo drive the "agent" side through it) ----

#[derive(Deserialize)]
struct CreateConversation {
    friendly_name: Option<String>,
    #[serde(default)]
    attributes: Value,
}

#[derive(Deserialize)]
struct AddParticipant {
    identity: String,
    #[serde(default)]
    attributes: Value,
}

#[derive(Deserialize)]
struct PostMessage {
    author: String,
    body: String,
    #[serde(default)]
    attributes: Value,
}

#[derive(Deserialize)]
struct AsIdentity {
    identity: String,
}

#[derive(Deserialize)]
struct ReadHorizon {
    identity: String,
    index: Option<u64>,
}

#[derive(Deserialize)]
struct SetState {
    state: String,
}

fn error_response(e: BackendError) -> Response {
    let (status, code) = e.status_and_code();
    (StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST), Json(json!({"code": code, "message": e.message(), "status": status})))
        .into_response()
}

fn ok_json(v: Value) -> Response {
    (StatusCode::OK, Json(v)).into_response()
}

/// Routes under `/control/…` acting on `backend` directly (no token: test-only, never mount in production).
pub fn control_router(backend: Arc<InMemoryBackend>) -> Router {
    Router::new()
        .route("/control/conversations", post(create_conversation))
        .route("/control/conversations/{sid}/participants", post(add_participant))
        .route("/control/conversations/{sid}/participants/remove", post(remove_participant))
        .route("/control/conversations/{sid}/messages", post(post_message).get(list_messages))
        .route("/control/conversations/{sid}/typing", post(typing))
        .route("/control/conversations/{sid}/read", post(read))
        .route("/control/conversations/{sid}/state", post(set_state))
        .route("/control/conversations/{sid}", axum::routing::get(get_conversation))
        .with_state(backend)
}

async fn create_conversation(State(b): State<Arc<InMemoryBackend>>, Json(req): Json<CreateConversation>) -> Response {
    let info = b.create_conversation(req.friendly_name, req.attributes);
    (StatusCode::CREATED, Json(json!({"sid": info.sid}))).into_response()
}

async fn add_participant(State(b): State<Arc<InMemoryBackend>>, Path(sid): Path<String>, Json(req): Json<AddParticipant>) -> Response {
    match b.add_participant(&sid, &req.identity, req.attributes) {
        Ok(p) => (StatusCode::CREATED, Json(json!({"sid": p.sid, "identity": p.identity}))).into_response(),
        Err(e) => error_response(e),
    }
}

async fn remove_participant(State(b): State<Arc<InMemoryBackend>>, Path(sid): Path<String>, Json(req): Json<AsIdentity>) -> Response {
    match b.remove_participant(&sid, &req.identity) {
        Ok(p) => ok_json(json!({"sid": p.sid})),
        Err(e) => error_response(e),
    }
}

async fn post_message(State(b): State<Arc<InMemoryBackend>>, Path(sid): Path<String>, Json(req): Json<PostMessage>) -> Response {
    let msg = NewMessage { body: Some(req.body), attributes: req.attributes, media_sids: vec![] };
    match b.send_message(&sid, &req.author, msg) {
        Ok(m) => (StatusCode::CREATED, Json(json!({"sid": m.sid, "index": m.index}))).into_response(),
        Err(e) => error_response(e),
    }
}

async fn list_messages(State(b): State<Arc<InMemoryBackend>>, Path(sid): Path<String>) -> Response {
    match b.messages(&sid) {
        Ok(ms) => ok_json(json!({"messages": ms.iter().map(|m| json!({
            "sid": m.sid, "index": m.index, "author": m.author, "body": m.body, "attributes": m.attributes,
            "media_sids": m.media.iter().map(|x| x.sid.clone()).collect::<Vec<_>>(),
        })).collect::<Vec<_>>()})),
        Err(e) => error_response(e),
    }
}

async fn get_conversation(State(b): State<Arc<InMemoryBackend>>, Path(sid): Path<String>) -> Response {
    let Some(info) = b.conversation(&sid) else { return error_response(not_found(&sid)) };
    let participants = b.participants(&sid).unwrap_or_default();
    ok_json(json!({
        "sid": info.sid, "state": info.state.as_str(),
        "participants": participants.iter().map(|p| json!({
            "sid": p.sid, "identity": p.identity, "last_read_message_index": p.last_read_message_index,
        })).collect::<Vec<_>>(),
    }))
}

async fn typing(State(b): State<Arc<InMemoryBackend>>, Path(sid): Path<String>, Json(req): Json<AsIdentity>) -> Response {
    match b.typing(&sid, &req.identity) {
        Ok(()) => ok_json(json!({})),
        Err(e) => error_response(e),
    }
}

async fn read(State(b): State<Arc<InMemoryBackend>>, Path(sid): Path<String>, Json(req): Json<ReadHorizon>) -> Response {
    match b.set_last_read(&sid, &req.identity, req.index) {
        Ok(p) => ok_json(json!({"last_read_message_index": p.last_read_message_index})),
        Err(e) => error_response(e),
    }
}

async fn set_state(State(b): State<Arc<InMemoryBackend>>, Path(sid): Path<String>, Json(req): Json<SetState>) -> Response {
    let Some(state) = ConversationState::parse(&req.state) else {
        return error_response(BackendError::Invalid(format!("unknown state {:?}: use active, inactive or closed", req.state)));
    };
    match b.set_state(&sid, state) {
        Ok(info) => ok_json(json!({"state": info.state.as_str()})),
        Err(e) => error_response(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_get_consecutive_indexes_and_events() {
        let b = InMemoryBackend::new();
        let mut rx = b.events();
        let c = b.create_conversation(Some("chat".into()), json!({}));
        b.add_participant(&c.sid, "customer", json!({"member_type":"customer"})).unwrap();
        let m0 = b.send_message(&c.sid, "customer", NewMessage { body: Some("hi".into()), attributes: json!({}), media_sids: vec![] }).unwrap();
        let m1 = b.send_message(&c.sid, "customer", NewMessage { body: Some("again".into()), attributes: json!({}), media_sids: vec![] }).unwrap();
        assert_eq!((m0.index, m1.index), (0, 1));
        assert!(matches!(rx.try_recv().unwrap(), BackendEvent::ParticipantAdded { .. }));
        assert!(matches!(rx.try_recv().unwrap(), BackendEvent::MessageAdded { .. }));
    }

    #[test]
    fn outsiders_and_closed_conversations_are_refused() {
        let b = InMemoryBackend::new();
        let c = b.create_conversation(None, json!({}));
        b.add_participant(&c.sid, "customer", json!({})).unwrap();
        let msg = || NewMessage { body: Some("x".into()), attributes: json!({}), media_sids: vec![] };
        assert!(matches!(b.send_message(&c.sid, "stranger", msg()), Err(BackendError::Forbidden(_))));
        b.set_state(&c.sid, ConversationState::Closed).unwrap();
        assert!(matches!(b.send_message(&c.sid, "customer", msg()), Err(BackendError::Twilio(e)) if e.code == 50377));
        assert!(matches!(b.typing("CHnope", "customer"), Err(BackendError::NotFound(_))));
        assert!(matches!(
            b.send_message(&c.sid, "customer", NewMessage { body: Some(String::new()), attributes: json!({}), media_sids: vec![] }),
            Err(BackendError::Invalid(_))
        ));
    }

    #[test]
    fn conversations_of_lists_only_joined_ones() {
        let b = InMemoryBackend::new();
        let c1 = b.create_conversation(None, json!({}));
        let _c2 = b.create_conversation(None, json!({}));
        b.add_participant(&c1.sid, "alice", json!({})).unwrap();
        let mine: Vec<_> = b.conversations_of("alice").into_iter().map(|c| c.sid).collect();
        assert_eq!(mine, vec![c1.sid]);
    }
}
