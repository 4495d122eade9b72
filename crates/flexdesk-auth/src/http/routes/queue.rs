//! `GET /v1/sessions/{id}/queue`: the session's own place in the queue and the expected wait, while it waits for an
//! agent (crate::chat::queue has the TaskRouter reads and the rules). Authenticated like the other per-session calls, with
//! the session credential (here in `Authorization: Bearer`, a GET has no body): signature and binding to the URL's
//! session (401), then not ended (404 `session_ended`). The credential's signed context names the conversation, so a
//! session this process does not know (restart, another replica) is answered too. Rate limited with the other `/v1`
//! calls (the `other` budget).

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use flexdesk_core::wire::QueuePosition;

use crate::chat::error::{AppError, ErrorCode};
use crate::http::extract::credential_from;
use crate::twilio::flex::{Flex, InteractionRef};
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
        (status = 401, body = crate::http::schemas::ApiError, description = "credential missing, forged, expired or of another session"),
        (status = 404, body = crate::http::schemas::ApiError, description = "session_ended"),
        (status = 429, body = crate::http::schemas::ApiError, description = "rate limited"),
        (status = 502, body = crate::http::schemas::ApiError, description = "twilio_rejected / twilio_unavailable / twilio_bad_response"),
        (status = 503, body = crate::http::schemas::ApiError, description = "queue_not_configured (TWILIO_WORKSPACE_SID unset) or twilio_busy"),
        (status = 504, body = crate::http::schemas::ApiError, description = "twilio_unreachable or timeout"),
    ))]
pub async fn position(State(state): State<Arc<AppState>>, Path(id): Path<String>, headers: HeaderMap) -> Result<Json<QueuePosition>, AppError> {
    let credential = credential_from(&headers, &[])?;
    let c = &state.config;
    let context = state.session_keys.verify(&credential, &id, unix_now()).map(|v| v.context).map_err(|reason| {
        tracing::info!(?reason, "session credential refused");
        AppError::invalid_credential()
    })?;
    if state.chats().known_ended(&id, &context.conversation_sid).await {
        return Err(AppError::session_ended());
    }
    let answer = match crate::chat::queue::read(&state.twilio, c, &state.availability.queues, &context.conversation_sid).await {
        Some(answer) => answer?,
        None => return Err(AppError::new(StatusCode::SERVICE_UNAVAILABLE, ErrorCode::QueueNotConfigured, "set TWILIO_WORKSPACE_SID to report queue positions")),
    };
    // No task: routed to an agent already, not routed yet, or never will be. The Interactions API routes after its
    // answer and can fail (the channel ends `failed`): then the chat is ended here, so the customer is told (the
    // conversation closes) instead of waiting forever. Asked only when no task waits, so a waiting chat's poll
    // costs no extra call.
    if let (false, Some(interaction_sid), Some(channel_sid)) = (answer.waiting, &context.interaction_sid, &context.channel_sid) {
        let interaction = InteractionRef { interaction_sid: interaction_sid.clone(), channel_sid: channel_sid.clone() };
        let flex = Flex { client: &state.twilio, config: c };
        if flex.routing_failed(&interaction).await? {
            tracing::warn!(session_id = id, "routing the chat failed (interaction channel failed); ending it");
            flex.close(&context.conversation_sid, Some(&interaction)).await?;
            let expires_at = state.sessions.find(&id).map(|s| s.expires_at()).unwrap_or_else(unix_now);
            state.chats().session_ended(&id, &context.conversation_sid, expires_at, unix_now()).await;
            return Err(AppError::session_ended());
        }
    }
    Ok(Json(answer))
}
