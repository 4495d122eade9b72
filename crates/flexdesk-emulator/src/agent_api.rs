//! The agent side, as JSON over HTTP: what the console page calls, and what end-to-end tests drive
//! directly. Agents are configured (`alice`, `bob`); each acts through its own participant identity
//! (`agent.alice`, …) carrying the agreed agent attributes.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::state::{media_info_json, message_json, participant_json, MessageRules, Poster, Shared, TYPING_MILLIS};
use crate::twilio_error::TwilioError;
use crate::util::{iso8601, now_millis, now_secs};

type R = Result<Response, TwilioError>;

pub fn router() -> Router<Shared> {
    Router::new()
        .route("/agent/api/state", get(state))
        .route("/agent/api/agents/{id}/availability", post(availability))
        .route("/agent/api/tasks/{wt}/accept", post(accept))
        .route("/agent/api/tasks/{wt}/transfer", post(transfer))
        .route("/agent/api/tasks/{wt}/end", post(end))
        .route("/agent/api/tasks/{wt}/complete", post(complete))
        .route("/agent/api/conversations/{ch}/messages", post(send))
        .route("/agent/api/conversations/{ch}/typing", post(typing))
        .route("/agent/api/conversations/{ch}/read", post(read))
        .route("/agent/api/media", post(upload).layer(crate::media::limit_layer()))
        .route("/agent/api/media/{me}/url", get(media_url))
}

/// The whole agent-side picture: agents, tasks, and each task's conversation.
pub fn snapshot(emu: &Shared) -> Value {
    let st = emu.lock();
    let now = now_millis();
    let agents: Vec<Value> = st
        .agents
        .iter()
        .map(|a| json!({"id": a.id, "name": a.name, "identity": a.identity, "available": a.available, "avatar": emu.avatar_url(&a.id)}))
        .collect();
    let tasks: Vec<Value> = st
        .tasks
        .iter()
        .map(|t| {
            json!({
                "sid": t.sid, "status": t.status, "agent": t.agent, "conversationSid": t.conversation_sid,
                "attributes": t.attributes, "dateCreated": iso8601(t.date_created),
                "ageSeconds": now_secs().saturating_sub(t.date_created),
            })
        })
        .collect();
    let mut conversations = serde_json::Map::new();
    for t in &st.tasks {
        if let Some(c) = st.conversations.iter().find(|c| c.sid == t.conversation_sid) {
            let typing: Vec<&String> = c.typing.iter().filter(|(_, at)| now.saturating_sub(**at) < TYPING_MILLIS).map(|(i, _)| i).collect();
            conversations.insert(
                c.sid.clone(),
                json!({
                    "sid": c.sid, "state": c.state, "friendlyName": c.friendly_name,
                    "participants": c.participants.iter().map(participant_json).collect::<Vec<_>>(),
                    "messages": c.messages.iter().map(message_json).collect::<Vec<_>>(),
                    "typing": typing,
                }),
            );
        }
    }
    json!({"agents": agents, "tasks": tasks, "conversations": conversations})
}

async fn state(State(emu): State<Shared>) -> Json<Value> {
    Json(snapshot(&emu))
}

#[derive(Deserialize)]
struct AvailabilityBody {
    available: bool,
}

async fn availability(State(emu): State<Shared>, Path(id): Path<String>, Json(b): Json<AvailabilityBody>) -> R {
    let a = emu.set_available(&id, b.available)?;
    Ok(Json(json!({"id": a.id, "available": a.available})).into_response())
}

#[derive(Deserialize)]
struct AgentBody {
    agent: String,
}

async fn accept(State(emu): State<Shared>, Path(wt): Path<String>, Json(b): Json<AgentBody>) -> R {
    let t = emu.accept_task(&wt, &b.agent)?;
    Ok(Json(json!({"sid": t.sid, "status": t.status, "agent": t.agent})).into_response())
}

#[derive(Deserialize)]
struct TransferBody {
    to: String,
}

async fn transfer(State(emu): State<Shared>, Path(wt): Path<String>, Json(b): Json<TransferBody>) -> R {
    let t = emu.transfer_task(&wt, &b.to)?;
    Ok(Json(json!({"sid": t.sid, "status": t.status, "agent": t.agent})).into_response())
}

async fn end(State(emu): State<Shared>, Path(wt): Path<String>) -> R {
    let t = emu.end_task(&wt)?;
    Ok(Json(json!({"sid": t.sid, "status": t.status})).into_response())
}

/// The console's Complete on a task in wrap-up (state.rs `complete_task`): 409 unless the task is wrapping.
async fn complete(State(emu): State<Shared>, Path(wt): Path<String>) -> R {
    let t = emu.complete_task(&wt)?;
    Ok(Json(json!({"sid": t.sid, "status": t.status})).into_response())
}

/// The agent's participant identity, checked to be in the conversation.
fn agent_identity(emu: &Shared, agent: &str, ch: &str) -> Result<String, TwilioError> {
    let a = emu.agent(agent)?;
    let conv = emu.conversation(ch)?;
    if !conv.participants.iter().any(|p| p.identity.as_deref() == Some(&a.identity)) {
        return Err(TwilioError::new(403, 50400, format!("{} has not joined this conversation", a.name)));
    }
    Ok(a.identity)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SendBody {
    agent: String,
    body: Option<String>,
    media_sid: Option<String>,
    /// Several media in one message, with or without a body (`MessageRules::AgentSdk`).
    #[serde(default)]
    media_sids: Vec<String>,
    attributes: Option<Value>,
}

async fn send(State(emu): State<Shared>, Path(ch): Path<String>, Json(b): Json<SendBody>) -> R {
    let identity = agent_identity(&emu, &b.agent, &ch)?;
    let media: Vec<String> = b.media_sid.into_iter().chain(b.media_sids).collect();
    let attributes = b.attributes.map(|a| a.to_string());
    let m = emu.add_message_as(MessageRules::AgentSdk, &ch, Poster::Account(Some(identity)), b.body, attributes, media)?;
    // Flex UI runs the Conversations SDK: its messages fire onMessageAdded too (pipeline.rs).
    crate::pipeline::message_added(&emu, &ch);
    Ok((StatusCode::CREATED, Json(message_json(&m))).into_response())
}

async fn typing(State(emu): State<Shared>, Path(ch): Path<String>, Json(b): Json<AgentBody>) -> R {
    let identity = agent_identity(&emu, &b.agent, &ch)?;
    emu.typing(&ch, &identity)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize)]
struct ReadBody {
    agent: String,
    /// Absent: everything read.
    index: Option<u64>,
}

async fn read(State(emu): State<Shared>, Path(ch): Path<String>, Json(b): Json<ReadBody>) -> R {
    let identity = agent_identity(&emu, &b.agent, &ch)?;
    let index = match b.index {
        Some(i) => Some(i),
        None => emu.conversation(&ch)?.messages.last().map(|m| m.index),
    };
    let (p, unread) = emu.set_last_read(&ch, &identity, index, true)?;
    Ok(Json(json!({"lastReadMessageIndex": p.last_read_message_index, "unreadCount": unread})).into_response())
}

async fn upload(State(emu): State<Shared>, Query(q): Query<HashMap<String, String>>, body: Result<Bytes, BytesRejection>) -> R {
    let agent = emu.agent(q.get("agent").map(String::as_str).unwrap_or(""))?;
    let filename = q.get("filename").ok_or_else(|| TwilioError::invalid("filename", "the query parameter filename is required"))?;
    let body = crate::media::body_or_413(body)?;
    let info = emu.store_media(filename, body, &agent.identity)?;
    Ok((StatusCode::CREATED, Json(media_info_json(&info))).into_response())
}

async fn media_url(State(emu): State<Shared>, Path(me): Path<String>) -> R {
    if !emu.lock().media.contains_key(&me) {
        return Err(TwilioError::not_found(&format!("/v1/Media/{me}")));
    }
    Ok(Json(json!({"url": crate::media::temporary_url(&emu, &me)})).into_response())
}
