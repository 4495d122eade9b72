//! `POST /v1/sessions/{id}/erase`: the customer deletes an ended chat's conversation at Twilio (issue 28, item 5;
//! `ERASE_ON_REQUEST=on`). Authenticated like the other per-session calls, rate limited with them (`other`).
//!
//! In order: the switch (404 `erase_not_enabled`), the credential (401), once per session (410 `already_erased`:
//! a [`crate::chat::single_use::SingleUse`] by session id, shared through Redis, kept for the credential's lifetime,
//! which is also the window: a credential past `SESSION_MAX_AGE_SECONDS` is refused), the chat is over (409
//! `chat_not_ended`: this server's record, else Twilio's conversation), then one Twilio call, twilio-oai
//! `DeleteServiceConversation`: "When you remove a Conversation object, all its Messages, attached Media, and
//! Participants will be deleted" (<https://www.twilio.com/docs/conversations/modifying-objects>). A conversation
//! already gone (404) is 410 `already_erased`. A Twilio failure (5xx, timeout) answers as elsewhere and gives the claim
//! back, so the page may ask again. After the deletion the session is forgotten here and in Redis. Whether an agent
//! ever joined is not asked: a chat that ended in the queue (its task withdrawn) holds the customer's messages too
//! (tests/e2e/erase.test.mjs).
//!
//! What stays elsewhere (docs/auth-server.md): the TaskRouter task and its history, Flex Insights, the bot's and
//! this server's logs (which never hold message text), the page's own copy of the transcript.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use flexdesk_core::wire::SessionAuth;
use serde_json::{json, Value};
use tower_http::request_id::RequestId;

use crate::chat::error::{AppError, ErrorCode};
use crate::chat::sessions::SessionState;
use crate::http::extract::ApiJson;
use crate::http::state::AppState;
use crate::infra::clock::unix_now;
use crate::twilio::flex::Flex;
use crate::twilio::task_attributes::ConversationEnd;

/// What an erasure deletes at Twilio (the docs page above) and here, as the receipt lists it.
pub const ERASED: [&str; 5] = ["conversation", "messages", "participants", "media", "session"];

fn already_erased() -> AppError {
    AppError::new(StatusCode::GONE, ErrorCode::AlreadyErased, "this chat's conversation was erased already")
}

/// Deletes the ended chat's conversation (messages, media, participants) at Twilio and forgets the session.
#[utoipa::path(post, path = "/v1/sessions/{id}/erase", tag = "sessions",
    params(("id" = String, Path, description = "session id from SessionCreated")),
    request_body = crate::http::schemas::SessionAuth,
    responses(
        (status = 200, body = crate::http::schemas::EraseReceipt, description = "deleted at Twilio (one DeleteServiceConversation call) and forgotten here"),
        (status = 400, body = crate::http::schemas::ApiError, description = "broken JSON"),
        (status = 401, body = crate::http::schemas::ApiError, description = "credential missing, forged, expired or of another session"),
        (status = 404, body = crate::http::schemas::ApiError, description = "erase_not_enabled (ERASE_ON_REQUEST is not on)"),
        (status = 409, body = crate::http::schemas::ApiError, description = "chat_not_ended"),
        (status = 410, body = crate::http::schemas::ApiError, description = "already_erased (done once; or the conversation is gone at Twilio)"),
        (status = 413, body = crate::http::schemas::ApiError, description = "body over 64 KB"),
        (status = 415, body = crate::http::schemas::ApiError, description = "not application/json"),
        (status = 429, body = crate::http::schemas::ApiError, description = "rate limited"),
        (status = 502, body = crate::http::schemas::ApiError, description = "twilio_unavailable / twilio_bad_response; nothing used up, ask again"),
        (status = 503, body = crate::http::schemas::ApiError, description = "twilio_busy"),
        (status = 504, body = crate::http::schemas::ApiError, description = "twilio_unreachable or timeout"),
    ))]
pub async fn erase(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    request_id: Option<Extension<RequestId>>,
    ApiJson(req): ApiJson<SessionAuth>,
) -> Result<Json<Value>, AppError> {
    if !state.config.erase_on_request {
        return Err(AppError::new(StatusCode::NOT_FOUND, ErrorCode::EraseNotEnabled, "erasure on request is off (ERASE_ON_REQUEST)"));
    }
    // The signature first (no Twilio call): an erased session is forgotten, so `authorize` would rebuild it by asking
    // Twilio, and answer 401 for a conversation that is gone rather than say it was erased.
    if state.session_keys.verify(&req.session_credential, &id, unix_now()).is_err() {
        return Err(AppError::invalid_credential());
    }
    let Some(claim) = state.used_tokens.erasures.claim(&id).await else {
        return Err(already_erased());
    };
    let session = crate::http::routes::sessions::authorize(&state, &id, &req.session_credential).await?;
    let flex = Flex { client: &state.twilio, config: &state.config };
    let sid = session.conversation_sid().to_string();
    if session.state() == SessionState::Open {
        // Not ended here (the agent closed it, another replica ended it, or the session was rebuilt): Twilio says.
        match flex.conversation_end(&sid).await? {
            ConversationEnd::Open => {
                return Err(AppError::new(StatusCode::CONFLICT, ErrorCode::ChatNotEnded, "the chat has not ended; erase it once it is over"))
            }
            ConversationEnd::Gone => return Err(already_erased()),
            ConversationEnd::Closed(_) => {}
        }
    }
    if !flex.delete_conversation(&sid).await? {
        claim.keep();
        return Err(already_erased());
    }
    claim.keep();
    state.sessions.remove(&id);
    if let Some(redis) = state.redis.as_ref() {
        redis.forget_session(&id, &sid).await;
    }
    let request_id = request_id.and_then(|Extension(r)| r.header_value().to_str().ok().map(str::to_string)).unwrap_or_default();
    tracing::info!(session_id = id, conversation_sid = sid, "conversation erased on request");
    Ok(Json(json!({ "erased": ERASED, "at": jiff::Timestamp::now().to_string(), "requestId": request_id })))
}
