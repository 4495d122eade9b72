//! `GET /v1/sessions/{id}/queue`: the session's own place in the queue and the expected wait, while it waits for an
//! agent (crate::chat::queue has the TaskRouter reads and the rules). Authenticated like the other per-session calls, with
//! the session credential (here in `Authorization: Bearer`, a GET has no body) and the same check
//! (`sessions::authorize`, crate::http::routes): signature and binding to the URL's session (401), a session this
//! process does not know (restart, another replica) rebuilt only for a customer participant of its conversation (401
//! otherwise: this call can end a chat whose routing failed), then not ended (404 `session_ended`). Rate limited with
//! the other `/v1` calls (the `other` budget).

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use flexdesk_core::wire::QueuePosition;

use crate::chat::error::{AppError, ErrorCode};
use crate::http::extract::credential_from;
use crate::twilio::flex::Flex;
use crate::http::state::AppState;
use crate::infra::clock::unix_now;

/// The session's place in the TaskRouter queue (1 = next) and the expected wait in seconds.
#[utoipa::path(get, path = "/v1/sessions/{id}/queue", tag = "sessions",
    params(
        ("id" = String, Path, description = "session id from SessionCreated"),
        ("Authorization" = String, Header, description = "`Bearer <sessionCredential>`"),
    ),
    responses(
        (status = 200, body = crate::http::schemas::QueuePosition),
        (status = 401, body = crate::http::schemas::ApiError, description = "credential missing, forged, expired or of another session, or naming a conversation its identity is not a customer of"),
        (status = 404, body = crate::http::schemas::ApiError, description = "session_ended"),
        (status = 429, body = crate::http::schemas::ApiError, description = "rate limited"),
        (status = 502, body = crate::http::schemas::ApiError, description = "twilio_rejected / twilio_unavailable / twilio_bad_response"),
        (status = 503, body = crate::http::schemas::ApiError, description = "queue_not_configured (TWILIO_WORKSPACE_SID unset) or twilio_busy"),
        (status = 504, body = crate::http::schemas::ApiError, description = "twilio_unreachable or timeout"),
    ))]
pub async fn position(State(state): State<Arc<AppState>>, Path(id): Path<String>, headers: HeaderMap) -> Result<Json<QueuePosition>, AppError> {
    let credential = credential_from(&headers, &[])?;
    let c = &state.config;
    let session = crate::http::routes::sessions::authorize(&state, &id, &credential).await?;
    if state.chats().known_ended_session(&id, &session).await {
        return Err(AppError::session_ended());
    }
    let conversation_sid = session.conversation_sid();
    let answer = match crate::chat::queue::read(&state.twilio, c, &state.availability.queues, conversation_sid).await {
        Some(answer) => answer?,
        None => return Err(AppError::new(StatusCode::SERVICE_UNAVAILABLE, ErrorCode::QueueNotConfigured, "set TWILIO_WORKSPACE_SID to report queue positions")),
    };
    // No task: routed to an agent already, not routed yet, or never will be. The Interactions API routes after its
    // answer and can fail (the channel ends `failed`): then the chat is ended here, so the customer is told (the
    // conversation closes) instead of waiting forever. Asked only when no task waits, so a waiting chat's poll
    // costs no extra call.
    if let (false, Some(interaction)) = (answer.waiting, session.interaction()) {
        let flex = Flex { client: &state.twilio, config: c };
        if flex.routing_failed(interaction).await? {
            tracing::warn!(session_id = id, "routing the chat failed (interaction channel failed); ending it");
            flex.close(conversation_sid, Some(interaction)).await?;
            state.chats().session_ended(&id, conversation_sid, session.expires_at(), unix_now()).await;
            return Err(AppError::session_ended());
        }
    }
    Ok(Json(answer))
}
