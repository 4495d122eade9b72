//! Request extractors whose rejections are our JSON errors (400 broken JSON, 413 too large,
//! 415 not JSON, 422 wrong shape) instead of axum's plain-text ones.

use axum::extract::rejection::{BytesRejection, JsonRejection};
use axum::extract::{FromRequest, Request};
use axum::http::{header, HeaderMap, StatusCode};
use axum::Json;
use flexdesk_core::wire::SessionAuth;
use serde::de::DeserializeOwned;

use crate::error::AppError;

pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

fn json_rejection(rejection: JsonRejection) -> AppError {
    let status = rejection.status();
    let code = match status {
        StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::UNPROCESSABLE_ENTITY => "invalid_body",
        _ => "invalid_json",
    };
    AppError::new(status, code, rejection.body_text())
}

pub fn bytes_rejection(rejection: BytesRejection) -> AppError {
    let status = rejection.status();
    let code = if status == StatusCode::PAYLOAD_TOO_LARGE { "payload_too_large" } else { "bad_request" };
    AppError::new(status, code, rejection.body_text())
}

/// The session credential of a DELETE: `Authorization: Bearer <credential>`, or a JSON `SessionAuth` body
/// (both work with `fetch(..., {keepalive: true})` when the page is closing).
pub fn credential_from(headers: &HeaderMap, body: &[u8]) -> Result<String, AppError> {
    if let Some(value) = headers.get(header::AUTHORIZATION) {
        let bearer = value.to_str().ok().and_then(|v| v.strip_prefix("Bearer ")).map(str::trim);
        return match bearer {
            Some(c) if !c.is_empty() => Ok(c.to_string()),
            _ => Err(AppError::invalid_credential()),
        };
    }
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(AppError::invalid_credential());
    }
    serde_json::from_slice::<SessionAuth>(body)
        .map(|a| a.session_credential)
        .map_err(|e| AppError::new(StatusCode::BAD_REQUEST, "invalid_json", format!("body must be {{\"sessionCredential\": string}}: {e}")))
}
