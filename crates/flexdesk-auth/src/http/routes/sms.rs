//! `POST /v1/sessions/{id}/sms`: continue the chat by SMS (issue 28, item 4). The customer's number joins the same
//! conversation as an SMS participant (crate::twilio::sms), so the agent keeps the task and the history and the
//! replies reach the phone. Authenticated like the other per-session calls (`sessions::authorize`), with the session
//! credential in the body, next to the number: a phone number is personal data and never goes in a URL (URLs end up
//! in access logs); it is logged masked only (`flexdesk_core::phone::mask`).
//!
//! Checked in this order: the feature is on (503 `sms_not_configured` without `TWILIO_SMS_NUMBER`), the credential
//! (401), the chat still open (404 `session_ended`), the number in E.164 (422 `phone_invalid`), its country calling
//! code allowed (422 `phone_not_allowed`, `SMS_ALLOWED_CALLING_CODES`), the chat not texting another number already
//! (409 `sms_already_on`: one number per chat); then two Twilio calls (list, add). Rate limited with the other `/v1`
//! calls (the `other` budget).

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use flexdesk_core::phone;
use flexdesk_core::wire::{ContinueBySms, SmsContinued};

use crate::chat::error::{AppError, ErrorCode};
use crate::http::extract::ApiJson;
use crate::http::state::AppState;
use crate::twilio::client::CallError;

/// Adds the customer's phone to the chat: the chat goes on by SMS.
#[utoipa::path(post, path = "/v1/sessions/{id}/sms", tag = "sessions",
    params(("id" = String, Path, description = "session id from SessionCreated")),
    request_body = crate::http::schemas::ContinueBySms,
    responses(
        (status = 200, body = crate::http::schemas::SmsContinued),
        (status = 400, body = crate::http::schemas::ApiError, description = "broken JSON"),
        (status = 401, body = crate::http::schemas::ApiError, description = "credential missing, forged, expired or of another session"),
        (status = 404, body = crate::http::schemas::ApiError, description = "session_ended"),
        (status = 409, body = crate::http::schemas::ApiError, description = "phone_in_use: the number already texts with TWILIO_SMS_NUMBER in another open conversation; sms_already_on: this chat already continues by SMS to another number"),
        (status = 413, body = crate::http::schemas::ApiError, description = "body over 64 KB"),
        (status = 415, body = crate::http::schemas::ApiError, description = "not application/json"),
        (status = 422, body = crate::http::schemas::ApiError, description = "phone_invalid (not E.164), phone_not_allowed (country calling code not in SMS_ALLOWED_CALLING_CODES), or invalid_body"),
        (status = 429, body = crate::http::schemas::ApiError, description = "rate limited"),
        (status = 502, body = crate::http::schemas::ApiError, description = "twilio_rejected / twilio_unavailable / twilio_bad_response"),
        (status = 503, body = crate::http::schemas::ApiError, description = "sms_not_configured (TWILIO_SMS_NUMBER unset), or twilio_busy"),
        (status = 504, body = crate::http::schemas::ApiError, description = "twilio_unreachable or timeout"),
    ))]
pub async fn continue_by_sms(State(state): State<Arc<AppState>>, Path(id): Path<String>, ApiJson(req): ApiJson<ContinueBySms>) -> Result<Json<SmsContinued>, AppError> {
    let Some(sms) = &state.config.sms else {
        return Err(AppError::new(StatusCode::SERVICE_UNAVAILABLE, ErrorCode::SmsNotConfigured, "continue by SMS is off: set TWILIO_SMS_NUMBER and SMS_ALLOWED_CALLING_CODES"));
    };
    let session = crate::http::routes::sessions::authorize(&state, &id, &req.session_credential).await?;
    if session.is_ended() || state.chats().known_ended_session(&id, &session).await {
        return Err(AppError::session_ended());
    }
    let Some(number) = phone::e164(&req.phone) else {
        return Err(AppError::new(StatusCode::UNPROCESSABLE_ENTITY, ErrorCode::PhoneInvalid, "phone must be an international number in E.164 form, e.g. +14155550100"));
    };
    let masked = phone::mask(&number);
    if !phone::has_calling_code(&number, &sms.allowed_calling_codes) {
        tracing::info!(session_id = id, phone = %masked, "SMS refused: country calling code not allowed");
        return Err(AppError::new(StatusCode::UNPROCESSABLE_ENTITY, ErrorCode::PhoneNotAllowed, "texts cannot be sent to this country"));
    }
    // One number per chat: the same one again is done already; another is refused (SMS pumping, crate::twilio::sms).
    let present = crate::twilio::sms::sms_addresses(&state.twilio, &state.config, session.conversation_sid()).await?;
    if present.contains(&number) {
        return Ok(Json(SmsContinued { phone: masked }));
    }
    if !present.is_empty() {
        tracing::info!(session_id = id, phone = %masked, "SMS refused: the chat already continues by SMS to another number");
        return Err(AppError::new(StatusCode::CONFLICT, ErrorCode::SmsAlreadyOn, "this chat already continues by SMS to another number"));
    }
    match crate::twilio::sms::add_participant(&state.twilio, &state.config, session.conversation_sid(), &number, &sms.number).await {
        Ok(()) => {}
        Err(CallError::Api { code: Some(crate::twilio::sms::PAIR_IN_USE), .. }) => {
            tracing::info!(session_id = id, phone = %masked, "SMS refused: the number is in another open conversation with TWILIO_SMS_NUMBER");
            return Err(AppError::new(StatusCode::CONFLICT, ErrorCode::PhoneInUse, "this number already has an open chat by SMS; end that one first"));
        }
        Err(e) => return Err(e.into()),
    }
    tracing::info!(session_id = id, phone = %masked, "chat continues by SMS");
    Ok(Json(SmsContinued { phone: masked }))
}
