//! Twilio Conversations webhooks: how the server learns that a chat closed without asking Twilio on every refresh.
//!
//! Twilio posts `onConversationStateUpdated` (`StateFrom`, `StateTo`, `Reason`, ...) and `onConversationRemoved`,
//! form-encoded, to the post-event URL of the Conversations service's webhook configuration
//! (<https://www.twilio.com/docs/conversations/conversations-webhooks>,
//! <https://www.twilio.com/docs/conversations/api/per-service-webhook-resource>). Each request carries
//! `X-Twilio-Signature`: base64 HMAC-SHA1, keyed with the account's Auth Token, of the exact URL Twilio called
//! followed by every POST parameter's name and value in sorted name order
//! (<https://www.twilio.com/docs/usage/webhooks/webhooks-security>). [`verify`] follows the official helper
//! (`twilio` npm 6.x `validateRequest`), and tests/auth/webhooks.test.mjs checks that both accept the same requests.
//!
//! TaskRouter's workspace event callbacks (`EventCallbackUrl`) may come here too: they feed the queue figures
//! (`crate::chat::figures`) and nothing else.
//!
//! What a Conversations webhook can do here: move a conversation to ended, nothing else. One whose signature does not verify is
//! refused (403) before its content is read. One seen before ([`crate::chat::webhooks::SeenWebhooks`]: the same `I-Twilio-Idempotency-Token`,
//! or the same signed request under another token or none) is acknowledged (204) and changes nothing, not even
//! health: a captured webhook replayed cannot keep refresh trusting a record Twilio stopped feeding (issue 24).
//!
//! "Healthy" ([`crate::chat::webhooks::WebhookHealth::healthy`]): `TWILIO_WEBHOOKS=on` and a webhook that verified arrived within the last
//! `TWILIO_WEBHOOKS_FRESH_SECONDS`. Only then does refresh trust the record instead of asking Twilio (see
//! `routes::sessions::refresh`). It is a liveness signal, not a proof: a single lost webhook while others arrive
//! is not noticed (the token minted then is for a conversation Twilio has closed, which refuses messages).

use std::sync::Arc;

use axum::body::Bytes;
use base64::Engine;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode, Uri};
use twilio_model::webhook::verify;

use crate::chat::error::{AppError, ErrorCode};
use crate::http::state::AppState;
use crate::infra::clock::unix_now;

/// Where Twilio posts (configure `<PUBLIC_BASE_URL>/v1/twilio/webhooks` as the service's post-event URL).
pub const PATH: &str = "/v1/twilio/webhooks";

/// Most form parameters a webhook may carry; more is refused (413) before anything is parsed or hashed.
/// Conversations' post-event webhooks carry a dozen to a few dozen parameters (the event's fields listed on
/// <https://www.twilio.com/docs/conversations/conversations-webhooks>: `onMessageAdded`, among the largest, has
/// about twenty, its media being one JSON-valued `Media`); 256 is ten times that, room for fields Twilio may add,
/// while a request's work stays a sort of at most 256 pairs and two HMACs of at most 64 KB (issue 24, item 1).
pub const MAX_WEBHOOK_PARAMS: usize = 256;
/// Largest webhook body. A conversation's attributes alone may be 16 KB
/// (<https://www.twilio.com/docs/conversations/conversations-limits>) and travel percent-encoded (up to three
/// bytes each) in `Attributes`, next to the other fields: 64 KB holds that. The same as every route's limit
/// (`config::BODY_LIMIT_BYTES`), stated here so the webhook route keeps it if the others change.
pub const MAX_WEBHOOK_BODY_BYTES: usize = 64 * 1024;

/// The URL Twilio called: `PUBLIC_BASE_URL` (the server's public root, e.g. `https://chat.example.com/auth`)
/// plus the request's path and query; without it, `http://<Host header>` (direct, no proxy: dev and tests).
fn public_url(public_base_url: Option<&str>, headers: &HeaderMap, uri: &Uri) -> Option<String> {
    let path = uri.path_and_query().map_or(uri.path(), |pq| pq.as_str());
    match public_base_url {
        Some(base) => Some(format!("{}{path}", base.trim_end_matches('/'))),
        None => headers.get(header::HOST).and_then(|h| h.to_str().ok()).map(|host| format!("http://{host}{path}")),
    }
}

/// `POST /v1/twilio/webhooks`: verifies the signature (403 otherwise), then ends the sessions of a conversation
/// Twilio reports closed or removed. Every other event (and another service's) is acknowledged and ignored.
pub async fn receive(State(state): State<Arc<AppState>>, uri: Uri, headers: HeaderMap, body: Bytes) -> Result<StatusCode, AppError> {
    let config = &state.config;
    let Some(webhooks) = &config.webhooks else {
        return Err(AppError::new(StatusCode::NOT_FOUND, ErrorCode::NotFound, "no such route"));
    };
    let form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(';').next().unwrap_or("").trim().eq_ignore_ascii_case("application/x-www-form-urlencoded"));
    if !form {
        return Err(AppError::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, ErrorCode::UnsupportedMediaType, "Twilio webhooks are form-encoded"));
    }
    // Bounded before parsing: the body's size, then its parameter count (`form_urlencoded` splits on `&` and skips
    // empty pieces; counted the same way, one pass). The signature check after this is linear in the body.
    if body.len() > MAX_WEBHOOK_BODY_BYTES || body.split(|b| *b == b'&').filter(|p| !p.is_empty()).nth(MAX_WEBHOOK_PARAMS).is_some() {
        tracing::warn!(bytes = body.len(), "Twilio webhook refused: over {MAX_WEBHOOK_PARAMS} parameters or {MAX_WEBHOOK_BODY_BYTES} bytes");
        return Err(AppError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::PayloadTooLarge,
            format!("a Twilio webhook carries at most {MAX_WEBHOOK_PARAMS} parameters in {MAX_WEBHOOK_BODY_BYTES} bytes"),
        ));
    }
    let params: Vec<(String, String)> = form_urlencoded::parse(&body).into_owned().collect();
    let signature = headers.get("x-twilio-signature").and_then(|v| v.to_str().ok()).unwrap_or("");
    let url = public_url(webhooks.public_base_url.as_deref(), &headers, &uri);
    if !url.is_some_and(|url| verify(webhooks.auth_token.expose().as_bytes(), signature, &url, &params)) {
        tracing::warn!("Twilio webhook refused: X-Twilio-Signature does not verify (forged, or PUBLIC_BASE_URL is not the URL Twilio calls)");
        return Err(AppError::new(StatusCode::FORBIDDEN, ErrorCode::InvalidSignature, "the request is not signed by Twilio"));
    }
    let token = headers.get("i-twilio-idempotency-token").and_then(|v| v.to_str().ok()).map(str::trim).filter(|t| !t.is_empty());
    let signed = base64::engine::general_purpose::STANDARD.decode(signature.trim()).unwrap_or_default();
    if !state.seen_webhooks.first_time(token, &signed) {
        tracing::info!(event = params.iter().find(|(k, _)| k == "EventType").map_or("-", |(_, v)| v.as_str()), "Twilio webhook seen before (a retry or a replay): acknowledged, nothing done");
        return Ok(StatusCode::NO_CONTENT);
    }
    let now = unix_now();
    let get = |name: &str| params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    // TaskRouter's workspace events come here too (its `EventCallbackUrl`, signed the same way): the queue figures
    // (crate::chat::figures). They say nothing of the Conversations webhooks' health.
    if get("WorkspaceSid").is_some() && get("ChatServiceSid").is_none() {
        let ours = get("AccountSid").map_or(true, |s| s == config.account_sid)
            && config.workspace_sid.as_ref().map_or(true, |w| get("WorkspaceSid") == Some(w.as_str()));
        if ours {
            state.figures.taskrouter_event(&|name| get(name).map(str::to_string), now);
        }
        return Ok(StatusCode::NO_CONTENT);
    }
    state.webhooks.record(now);
    let ours = get("ChatServiceSid").is_none_or(|s| s == config.conversations_service_sid)
        && get("AccountSid").is_none_or(|s| s == config.account_sid);
    let ended = match get("EventType") {
        Some("onConversationStateUpdated") => get("StateTo") == Some("closed"),
        Some("onConversationRemoved") => true,
        _ => false,
    };
    if let (true, true, Some(conversation_sid)) = (ours, ended, get("ConversationSid")) {
        // Here and, with REDIS_URL, for every replica (crate::chat::replicas).
        let sessions = state.chats().conversation_ended(conversation_sid, now).await;
        tracing::info!(conversation_sid, sessions, event = get("EventType").unwrap_or("-"), "Twilio webhook: conversation ended");
    }
    Ok(StatusCode::NO_CONTENT)
}
