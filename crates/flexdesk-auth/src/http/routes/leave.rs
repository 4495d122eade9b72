//! `POST /v1/sessions/{id}/leave`: the desk's beacon when the last tab of a chat goes away (issue 28, "no ghost
//! chats"). The chat is ended after `ABANDON_GRACE_SECONDS` unless the session is refreshed meanwhile (a reload, or
//! another tab taking it up): crate::chat::abandon.
//!
//! The page sends it with `navigator.sendBeacon(url, string)`, which cannot set headers and sends a string as
//! `text/plain;charset=UTF-8` (<https://developer.mozilla.org/en-US/docs/Web/API/Navigator/sendBeacon>; the Beacon
//! spec, <https://w3c.github.io/beacon/>): so the credential is in the body, as `{"sessionCredential": …}` JSON
//! whatever the content type, never in the URL (URLs reach access logs; bodies are never logged here: http/mod.rs).
//! `text/plain` is a CORS-safelisted content type, so a cross-origin beacon needs no preflight (an
//! `application/json` Blob would, and browsers refuse to preflight a beacon); the answer is never read.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};

use crate::chat::error::AppError;
use crate::chat::figures::AbandonReason;
use crate::chat::sessions::LiveSession;
use crate::http::extract::credential_from;
use crate::http::routes::sessions::{authorize, close_chat};
use crate::http::state::AppState;

/// What the agent reads when the customer's last tab went away (a stock Flex agent UI shows the conversation's
/// messages, not task attributes: docs/auth-server.md "What the agent sees").
pub const CUSTOMER_LEFT: &str = "The customer left: every page with this chat was closed, and none came back.";

/// The last tab of the chat went away: ends the chat after the grace period unless it is taken up again.
#[utoipa::path(post, path = "/v1/sessions/{id}/leave", tag = "sessions",
    params(("id" = String, Path, description = "session id from SessionCreated")),
    request_body(content = crate::http::schemas::SessionAuth, content_type = "text/plain",
        description = "`{\"sessionCredential\": …}` as JSON, sent as text/plain by navigator.sendBeacon (or application/json)"),
    responses(
        (status = 202, description = "the chat ends after ABANDON_GRACE_SECONDS unless the session is refreshed meanwhile"),
        (status = 204, description = "nothing to do: the chat already ended, or ABANDON_GRACE_SECONDS=off"),
        (status = 400, body = crate::http::schemas::ApiError, description = "broken JSON"),
        (status = 401, body = crate::http::schemas::ApiError, description = "credential missing, forged, expired or of another session"),
        (status = 413, body = crate::http::schemas::ApiError, description = "body over 64 KB"),
        (status = 422, body = crate::http::schemas::ApiError, description = "JSON of the wrong shape"),
        (status = 429, body = crate::http::schemas::ApiError, description = "rate limited"),
    ))]
pub async fn leave(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<StatusCode, AppError> {
    let body = body.map_err(crate::http::extract::bytes_rejection)?;
    let credential = credential_from(&headers, &body)?;
    let session = authorize(&state, &id, &credential).await?;
    let Some(grace) = state.config.abandon_grace else { return Ok(StatusCode::NO_CONTENT) };
    if session.is_ended() {
        return Ok(StatusCode::NO_CONTENT);
    }
    let ticket = state.abandonments.schedule(state.redis.as_ref(), &id, grace).await;
    tracing::info!(session_id = id, grace_seconds = grace.as_secs(), "the chat's last tab went away; it ends unless taken up again");
    let state = state.clone();
    tokio::spawn(async move {
        tokio::time::sleep(grace).await;
        if state.abandonments.due(state.redis.as_ref(), &id, ticket).await {
            abandon(&state, &id, &session).await;
        }
    });
    Ok(StatusCode::ACCEPTED)
}

/// Ends an abandoned chat: a line for the agent (whoever has the task sees the customer left; skipped when the chat
/// already ended), then the customer's own end path (the task is withdrawn when no agent has it). A failure is
/// logged: Twilio's conversation timers close the chat later (docs/auth-server.md).
async fn abandon(state: &AppState, id: &str, session: &LiveSession) {
    if let Err(e) = close_chat(state, id, session, "abandonment (its last tab went away)", AbandonReason::TabClosed, Some(("customer_left", CUSTOMER_LEFT))).await {
        tracing::warn!(session_id = id, error = ?e, "could not end an abandoned chat; Twilio's conversation timers will");
    }
}
