//! Twilio's REST error body: `{"code":20404,"message":"…","more_info":"https://www.twilio.com/docs/errors/20404","status":404}`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

#[derive(Debug, Clone, PartialEq)]
pub struct TwilioError {
    pub status: u16,
    pub code: u32,
    pub message: String,
}

impl TwilioError {
    pub fn new(status: u16, code: u32, message: impl Into<String>) -> Self {
        TwilioError { status, code, message: message.into() }
    }
    pub fn missing(param: &str) -> Self {
        Self::new(400, 20001, format!("Missing required parameter {param} in the post body"))
    }
    pub fn invalid(param: &str, why: &str) -> Self {
        Self::new(400, 20001, format!("Invalid parameter {param}: {why}"))
    }
    pub fn not_found(what: &str) -> Self {
        Self::new(404, 20404, format!("The requested resource {what} was not found"))
    }
    pub fn unauthenticated() -> Self {
        Self::new(401, 20003, "Authenticate")
    }
    pub fn body(&self) -> serde_json::Value {
        json!({
            "code": self.code,
            "message": self.message,
            "more_info": format!("https://www.twilio.com/docs/errors/{}", self.code),
            "status": self.status,
        })
    }
}

impl IntoResponse for TwilioError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut res = (status, Json(self.body())).into_response();
        if self.status == 401 {
            res.headers_mut().insert("www-authenticate", "Basic realm=\"Twilio API\"".parse().unwrap());
        }
        res
    }
}
