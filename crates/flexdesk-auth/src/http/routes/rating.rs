//! `POST /v1/sessions/{id}/rating`: the customer's rating of an ended chat, written to the chat's TaskRouter task for
//! Flex Insights (issue 28; the rules and the sources are in `crate::chat::rating`). Authenticated like the other
//! per-session calls (`sessions::authorize`), rate limited with them (the `other` budget).
//!
//! In order: the body (422), the workspace (503 `rating_not_configured`), the credential (401), the chat is over (409
//! `chat_not_ended`: this server's record, else Twilio's conversation), the window since its end (409
//! `rating_closed`), once per session (409 `already_rated`), then the task: none left, or Twilio refusing the update,
//! is 409 `rating_closed`. A Twilio failure (5xx, timeout) answers as elsewhere and leaves the rating unused, so the
//! page may send it again.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use flexdesk_core::wire::RatingRequest;

use crate::chat::error::{AppError, ErrorCode};
use crate::chat::rating::{self, Rating};
use crate::chat::sessions::SessionState;
use crate::http::extract::ApiJson;
use crate::http::state::AppState;
use crate::infra::clock::unix_now;
use crate::twilio::client::CallError;
use crate::twilio::flex::Flex;
use crate::twilio::task_attributes::ConversationEnd;

/// Records the customer's rating (score 1–5, optional comment) on the ended chat's task.
#[utoipa::path(post, path = "/v1/sessions/{id}/rating", tag = "sessions",
    params(("id" = String, Path, description = "session id from SessionCreated")),
    request_body = crate::http::schemas::RatingRequest,
    responses(
        (status = 204, description = "recorded on the chat's task (`conversations.conversation_measure_<RATING_INSIGHTS_SLOT>`, the comment in `conversation_attribute_<slot>`)"),
        (status = 400, body = crate::http::schemas::ApiError, description = "broken JSON"),
        (status = 401, body = crate::http::schemas::ApiError, description = "credential missing, forged, expired or of another session"),
        (status = 409, body = crate::http::schemas::ApiError, description = "chat_not_ended; already_rated (accepted once); rating_closed (RATING_WINDOW_SECONDS after the end passed, or the chat's task is gone or refused the update)"),
        (status = 413, body = crate::http::schemas::ApiError, description = "body over 64 KB"),
        (status = 415, body = crate::http::schemas::ApiError, description = "not application/json"),
        (status = 422, body = crate::http::schemas::ApiError, description = "score not 1 to 5, comment over 500 characters or with control characters"),
        (status = 429, body = crate::http::schemas::ApiError, description = "rate limited"),
        (status = 502, body = crate::http::schemas::ApiError, description = "twilio_unavailable / twilio_bad_response; the rating stays unused"),
        (status = 503, body = crate::http::schemas::ApiError, description = "rating_not_configured (TWILIO_WORKSPACE_SID unset) or twilio_busy"),
        (status = 504, body = crate::http::schemas::ApiError, description = "twilio_unreachable or timeout"),
    ))]

pub async fn rate(State(state): State<Arc<AppState>>, Path(id): Path<String>, ApiJson(req): ApiJson<RatingRequest>) -> Result<StatusCode, AppError> {
    let rating = Rating::from_request(&req)?;
    let c = &state.config;
    let Some(workspace) = c.workspace_sid.as_ref().map(|w| w.to_string()) else {
        return Err(AppError::new(StatusCode::SERVICE_UNAVAILABLE, ErrorCode::RatingNotConfigured, "ratings need TWILIO_WORKSPACE_SID"));
    };
    let session = crate::http::routes::sessions::authorize(&state, &id, &req.session_credential).await?;
    let flex = Flex { client: &state.twilio, config: c };
    let sid = session.conversation_sid().to_string();
    let ended_at = match session.state() {
        SessionState::Ended(at) => at,
        // Not ended here (the agent closed it, another replica ended it, or the session was rebuilt): Twilio says.
        SessionState::Open => match flex.conversation_end(&sid).await? {
            ConversationEnd::Open => return Err(rating::not_ended()),
            ConversationEnd::Gone => return Err(rating::closed("its conversation is gone")),
            ConversationEnd::Closed(at) => {
                let now = unix_now();
                state.chats().session_ended(&id, &sid, session.expires_at(), now).await;
                at.unwrap_or(now)
            }
        },
    };
    if !rating::window_open(ended_at, unix_now(), c.ratings.window.as_secs()) {
        return Err(rating::closed("too long after the chat ended"));
    }
    let Some(claim) = state.used_tokens.ratings.claim(&id).await else {
        return Err(rating::already_rated());
    };
    let Some((task_sid, attributes)) = flex.newest_chat_task(&workspace, &sid).await? else {
        return Err(rating::closed("the chat's task is gone"));
    };
    match flex.update_task_attributes(&workspace, &task_sid, &rating::with_rating(attributes, &rating, c.ratings.slot)).await {
        Ok(()) => {}
        // Deleted meanwhile, or refused (TaskRouter documents no refusal for an ended task; this covers one).
        Err(CallError::Api { status: 400..=428 | 430..=499, .. }) => return Err(rating::closed("its task no longer takes changes")),
        Err(e) => return Err(e.into()),
    }
    claim.keep();
    tracing::info!(session_id = id, task_sid, score = rating.score, "chat rated");
    Ok(StatusCode::NO_CONTENT)
}
