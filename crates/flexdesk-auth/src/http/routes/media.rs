//! `GET /v1/media/{MediaSid}?conversation=CH…&expires=…&signature=…`: an agent's file, opened through a link that
//! outlives Twilio's temporary URLs (issue 23, defect 5). The desk links every agent file here
//! (`SessionCreated::media_link_query`); each open checks the signature (crate::chat::media_link), asks Twilio's
//! media service for the record (one call), checks the media belongs to the signed conversation, and answers 302 to a
//! fresh temporary URL. Opened by `<img src>` and links, so no credential header and no Origin check beyond the
//! public layers (a browser sends no Origin on such GETs); rate limited with the other `/v1` calls (`other` budget).

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::chat::error::{AppError, ErrorCode};
use crate::http::state::AppState;
use crate::infra::clock::unix_now;

/// Redirects to a fresh temporary URL of the media, when the link is signed here, unexpired, and the media belongs
/// to its conversation.
#[utoipa::path(get, path = "/v1/media/{mediaSid}", tag = "media",
    params(
        ("mediaSid" = String, Path, description = "the media's SID (`ME…`), as the conversation message carries it"),
        ("conversation" = String, Query, description = "the chat's conversation (`CH…`), from SessionCreated.mediaLinkQuery"),
        ("expires" = u64, Query, description = "Unix seconds, from SessionCreated.mediaLinkQuery"),
        ("signature" = String, Query, description = "from SessionCreated.mediaLinkQuery"),
    ),
    responses(
        (status = 302, description = "`Location`: Twilio's temporary URL of the content (`content_direct_temporary`), fresh"),
        (status = 403, body = crate::http::schemas::ApiError, description = "invalid_signature: the link is malformed, not signed by this server, or expired"),
        (status = 404, body = crate::http::schemas::ApiError, description = "not_found: no such media, or not of the link's conversation"),
        (status = 429, body = crate::http::schemas::ApiError, description = "rate limited"),
        (status = 502, body = crate::http::schemas::ApiError, description = "twilio_rejected / twilio_unavailable / twilio_bad_response"),
        (status = 503, body = crate::http::schemas::ApiError, description = "twilio_busy"),
        (status = 504, body = crate::http::schemas::ApiError, description = "twilio_unreachable or timeout"),
    ))]
pub async fn open(State(state): State<Arc<AppState>>, Path(media_sid): Path<String>, Query(q): Query<HashMap<String, String>>) -> Result<Response, AppError> {
    let field = |k: &str| q.get(k).map_or("", String::as_str);
    let conversation_sid = field("conversation");
    if let Err(why) = state.media_link_keys.verify(&media_sid, conversation_sid, field("expires"), field("signature"), unix_now()) {
        tracing::info!(?why, "media link refused");
        return Err(AppError::new(StatusCode::FORBIDDEN, ErrorCode::InvalidSignature, "this media link is invalid or has expired"));
    }
    match crate::twilio::media::temporary_url(&state.twilio, &state.config, &media_sid, conversation_sid).await? {
        Some(url) => Ok((StatusCode::FOUND, [(header::LOCATION, url)]).into_response()),
        None => Err(AppError::new(StatusCode::NOT_FOUND, ErrorCode::NotFound, "no such media in this chat")),
    }
}
