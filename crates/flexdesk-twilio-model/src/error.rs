//! Twilio's REST error body: `{"code":20404,"message":"…","more_info":"https://www.twilio.com/docs/errors/20404","status":404}`
//! (the shape every Twilio REST API answers errors with; see <https://www.twilio.com/docs/usage/twilios-response>).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

#[derive(Debug, Clone, PartialEq)]
pub struct TwilioError {
    pub status: u16,
    pub code: u32,
    pub message: String,
    /// Seconds for a `Retry-After` header (rate limits only).
    pub retry_after: Option<u64>,
}

impl TwilioError {
    pub fn new(status: u16, code: u32, message: impl Into<String>) -> Self {
        TwilioError { status, code, message: message.into(), retry_after: None }
    }
    /// 20001: <https://www.twilio.com/docs/api/errors/20001> (missing or invalid parameter).
    pub fn missing(param: &str) -> Self {
        Self::new(400, 20001, format!("Missing required parameter {param} in the post body"))
    }
    pub fn invalid(param: &str, why: &str) -> Self {
        Self::new(400, 20001, format!("Invalid parameter {param}: {why}"))
    }
    /// 20404: <https://www.twilio.com/docs/api/errors/20404>.
    pub fn not_found(what: &str) -> Self {
        Self::new(404, 20404, format!("The requested resource {what} was not found"))
    }
    /// 20003: <https://www.twilio.com/docs/api/errors/20003>.
    pub fn unauthenticated() -> Self {
        Self::new(401, 20003, "Authenticate")
    }
    /// 50377 "Can't update conversation as it's in final closed state":
    /// <https://www.twilio.com/docs/api/errors/50377> (the page gives no HTTP status; 400 is the emulator's choice).
    pub fn closed_final() -> Self {
        Self::new(400, 50377, "Can't update conversation as it's in final closed state")
    }
    /// 45780 "Operation failed: too many concurrent API requests", HTTP 429:
    /// <https://www.twilio.com/docs/api/errors/45780>.
    pub fn rate_limited(endpoint: &str, per_second: u32, retry_after: u64) -> Self {
        TwilioError {
            status: 429,
            code: 45780,
            message: format!("Too many requests: {endpoint} allows {per_second} requests per second per account"),
            retry_after: Some(retry_after),
        }
    }
    pub fn more_info(&self) -> String {
        format!("https://www.twilio.com/docs/errors/{}", self.code)
    }
    pub fn body(&self) -> Value {
        json!({"code": self.code, "message": self.message, "more_info": self.more_info(), "status": self.status})
    }
}

impl std::fmt::Display for TwilioError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status, self.code, self.message)
    }
}

impl IntoResponse for TwilioError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut res = (status, Json(self.body())).into_response();
        if self.status == 401 {
            res.headers_mut().insert("www-authenticate", "Basic realm=\"Twilio API\"".parse().unwrap());
        }
        if let Some(secs) = self.retry_after {
            res.headers_mut().insert("retry-after", secs.max(1).into());
        }
        res
    }
}
