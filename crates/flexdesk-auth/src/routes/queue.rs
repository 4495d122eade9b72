//! `GET /v1/sessions/{id}/queue`: the session's own place in the queue and the expected wait, while it waits for an
//! agent (crate::queue has the TaskRouter reads and the rules). Authenticated like the other per-session calls, with
//! the session credential (here in `Authorization: Bearer`, a GET has no body): signature and binding to the URL's
//! session (401), then not ended (404 `session_ended`). The credential's signed context names the conversation, so a
//! session this process does not know (restart, another replica) is answered too. Rate limited with the other `/v1`
//! calls (the `other` budget).

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use flexdesk_core::wire::QueuePosition;

use crate::error::AppError;
use crate::extract::credential_from;
use crate::{unix_now, AppState};

/// The session's place in the TaskRouter queue (1 = next) and the expected wait in seconds.
#[utoipa::path(get, path = "/v1/sessions/{id}/queue", tag = "sessions",
    params(
        ("id" = String, Path, description = "session id from SessionCreated"),
        ("Authorization" = String, Header, description = "`Bearer <sessionCredential>`"),
    ),
    responses(
        (status = 200, body = crate::openapi::QueuePosition),
        (status = 401, body = crate::openapi::ApiError, description = "credential missing, forged, expired or of another session"),
        (status = 404, body = crate::openapi::ApiError, description = "session_ended"),
        (status = 429, body = crate::openapi::ApiError, description = "rate limited"),
        (status = 502, body = crate::openapi::ApiError, description = "twilio_rejected / twilio_unavailable / twilio_bad_response"),
        (status = 503, body = crate::openapi::ApiError, description = "queue_not_configured (TWILIO_WORKSPACE_SID unset) or twilio_busy"),
        (status = 504, body = crate::openapi::ApiError, description = "twilio_unreachable or timeout"),
    ))]
pub async fn position(State(state): State<Arc<AppState>>, Path(id): Path<String>, headers: HeaderMap) -> Result<Json<QueuePosition>, AppError> {
    let credential = credential_from(&headers, &[])?;
    let c = &state.config;
    let context = state.session_keys.verify(&credential, &id, unix_now()).map(|v| v.context).map_err(|reason| {
        tracing::info!(?reason, "session credential refused");
        AppError::invalid_credential()
    })?;
    if crate::shared::known_ended(&state, &id, &context.conversation_sid).await {
        return Err(AppError::session_ended());
    }
    match crate::queue::read(&state.twilio, c, &state.availability.queues, &context.conversation_sid).await {
        Some(answer) => Ok(Json(answer?)),
        None => Err(AppError::new(StatusCode::SERVICE_UNAVAILABLE, "queue_not_configured", "set TWILIO_WORKSPACE_SID to report queue positions")),
    }
}
