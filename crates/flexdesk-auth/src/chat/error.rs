//! Every error the API answers with: a status and `{"error":{"code","message"}}` (flexdesk-core's `ApiError`).
//! Messages are written for the caller and never carry secrets; details go to the logs.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
pub use flexdesk_core::wire::ErrorCode;
use flexdesk_core::wire::ApiError;

use crate::infra::identity::IdentityError;
use crate::twilio::client::CallError;

/// An error answer of the API: the HTTP status plus the `{"error": {"code", "message"}}` body
/// ([`flexdesk_core::wire::ApiError`]), optionally with `Retry-After`. Every handler and layer answers errors this way.
#[derive(Debug, Clone)]
pub struct AppError {
    /// The HTTP status.
    pub status: StatusCode,
    /// The machine-readable code (e.g. `session_not_found`).
    pub code: ErrorCode,
    /// The human-readable explanation.
    pub message: String,
    /// Seconds for a `Retry-After` header (busy answers).
    pub retry_after: Option<u64>,
}

impl AppError {
    /// An error without `Retry-After`.
    pub fn new(status: StatusCode, code: ErrorCode, message: impl Into<String>) -> Self {
        AppError { status, code, message: message.into(), retry_after: None }
    }

    /// Adds a `Retry-After: secs` header to the answer.
    pub fn with_retry_after(self, secs: u64) -> Self {
        AppError { retry_after: Some(secs), ..self }
    }

    /// One answer for every bad credential (forged, other session's, expired, malformed): no oracle.
    pub fn invalid_credential() -> Self {
        AppError::new(StatusCode::UNAUTHORIZED, ErrorCode::InvalidCredential, "the session credential is missing, invalid or expired")
    }

    /// 404 `session_not_found`: unknown session id (expired, or unknown to this server).
    pub fn session_not_found() -> Self {
        AppError::new(StatusCode::NOT_FOUND, ErrorCode::SessionNotFound, "no such session (it may have expired or the server restarted)")
    }

    /// 404 `session_ended`: the chat has ended; the customer must start a new session.
    pub fn session_ended() -> Self {
        AppError::new(StatusCode::NOT_FOUND, ErrorCode::SessionEnded, "this chat has ended; start a new session")
    }
}

impl From<CallError> for AppError {
    fn from(e: CallError) -> Self {
        tracing::warn!(error = %e, "Twilio call failed");
        match e {
            CallError::Api { status: 429, .. } => {
                AppError::new(StatusCode::SERVICE_UNAVAILABLE, ErrorCode::TwilioBusy, "Twilio is rate limiting us; try again shortly").with_retry_after(1)
            }
            CallError::Busy { retry_after_secs, .. } => AppError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                ErrorCode::TwilioBusy,
                "too many chats are starting at once; try again shortly",
            )
            .with_retry_after(retry_after_secs),
            // Twilio's HTTP status and error code go to the log above, never to the caller: the API is public and
            // they tell a stranger how our Twilio account is set up.
            CallError::Api { status, .. } if status >= 500 => {
                AppError::new(StatusCode::BAD_GATEWAY, ErrorCode::TwilioUnavailable, "Twilio failed; try again shortly")
            }
            CallError::Api { .. } => AppError::new(
                StatusCode::BAD_GATEWAY,
                ErrorCode::TwilioRejected,
                "Twilio refused the request; the server's Twilio configuration needs checking (see its log)",
            ),
            CallError::Unreachable { .. } => AppError::new(StatusCode::GATEWAY_TIMEOUT, ErrorCode::TwilioUnreachable, "Twilio did not answer in time"),
            CallError::BadResponse { .. } => AppError::new(StatusCode::BAD_GATEWAY, ErrorCode::TwilioBadResponse, "Twilio answered in an unexpected way"),
        }
    }
}

impl From<IdentityError> for AppError {
    fn from(e: IdentityError) -> Self {
        match e {
            IdentityError::Invalid(reason) => {
                AppError::new(StatusCode::UNAUTHORIZED, ErrorCode::IdentityInvalid, format!("the identity token was refused: {reason}"))
            }
            IdentityError::NotConfigured => AppError::new(
                StatusCode::BAD_REQUEST,
                ErrorCode::IdentityNotConfigured,
                "this server does not verify identity tokens; start the chat without identityToken",
            ),
            IdentityError::Unavailable => AppError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                ErrorCode::IdentityUnavailable,
                "the keys that verify identity tokens cannot be read right now; try again shortly",
            )
            .with_retry_after(30),
            IdentityError::Required => AppError::new(
                StatusCode::UNAUTHORIZED,
                ErrorCode::IdentityRequired,
                "this server starts chats only for signed-in customers; send identityToken",
            ),
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let mut response = (self.status, Json(ApiError::new(self.code, self.message))).into_response();
        if let Some(secs) = self.retry_after {
            response.headers_mut().insert(axum::http::header::RETRY_AFTER, secs.into());
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A refused identity token is a 401 `identity_invalid` naming what failed, never the secret.
    #[test]
    fn a_refused_identity_token_names_what_failed() {
        let answer = AppError::from(IdentityError::Invalid("its signature does not verify"));
        assert_eq!((answer.status, answer.code), (StatusCode::UNAUTHORIZED, ErrorCode::IdentityInvalid));
        assert_eq!(answer.message, "the identity token was refused: its signature does not verify");
    }
}
