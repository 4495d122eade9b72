//! JSON bodies of the auth server's HTTP API, shared by the server (which produces them) and the desk
//! (which consumes them). Field names are camelCase on the wire, as a JavaScript caller expects.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `POST /v1/sessions` request body. Unknown fields are ignored so older desks keep working.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateSessionRequest {
    pub customer_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pre_engagement: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handoff: Option<Handoff>,
    /// The page's human-verification token (e.g. a CAPTCHA answer), checked by the auth server when it is
    /// configured with a verifier (`VERIFY_URL`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verification_token: Option<String>,
}

/// The bot's `connect_to_agent` item as the web chat hands it over, plus the bot transcript.
/// Field names follow the web chat's item (snake_case) so the item can be passed through unchanged.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Handoff {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_to_human_agent: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topic: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skill: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub transcript: Vec<TranscriptLine>,
    /// The routing keys (topic, skill, language) and optionally the transcript, signed by the bot's back end: a
    /// JWT (HS256, `HANDOFF_SECRET`). Without it the auth server trusts no routing key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handoff_token: Option<String>,
}

/// One line of the bot conversation that preceded the hand-off.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TranscriptLine {
    /// `"user"` or `"bot"`.
    pub from: String,
    pub text: String,
}

/// `201` answer to `POST /v1/sessions`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionCreated {
    pub session_id: String,
    pub conversation_sid: String,
    pub identity: String,
    pub token: String,
    /// Unix seconds.
    pub token_expires_at: u64,
    /// Server-signed credential bound to this session; needed to refresh the token and to end the chat.
    pub session_credential: String,
}

/// Answer to `POST /v1/sessions/{id}/token`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenRefreshed {
    pub token: String,
    pub token_expires_at: u64,
}

/// Body of `POST /v1/sessions/{id}/token` and `DELETE /v1/sessions/{id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionAuth {
    pub session_credential: String,
}

/// Answer to `GET /v1/agents/availability`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Availability {
    pub agents_available: u32,
    pub tasks_waiting: u32,
    pub longest_wait_seconds: u64,
}

/// Every error the auth server answers with: `{"error": {"code": "...", "message": "..."}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiError {
    pub error: ApiErrorBody,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiErrorBody {
    pub code: String,
    pub message: String,
}

impl ApiError {
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError { error: ApiErrorBody { code: code.into(), message: message.into() } }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_session_ignores_unknown_fields_and_reads_handoff() {
        let body = r#"{"customerName":"Ada","extra":1,"handoff":{"message_to_human_agent":"help",
            "topic":"billing","response_type":"connect_to_agent","transcript":[{"from":"user","text":"hi"}]}}"#;
        let req: CreateSessionRequest = serde_json::from_str(body).unwrap();
        assert_eq!(req.customer_name, "Ada");
        let h = req.handoff.unwrap();
        assert_eq!(h.message_to_human_agent.as_deref(), Some("help"));
        assert_eq!(h.topic.as_deref(), Some("billing"));
        assert_eq!(h.transcript, vec![TranscriptLine { from: "user".into(), text: "hi".into() }]);
    }

    #[test]
    fn session_created_is_camel_case() {
        let s = SessionCreated {
            session_id: "s".into(),
            conversation_sid: "CH1".into(),
            identity: "i".into(),
            token: "t".into(),
            token_expires_at: 5,
            session_credential: "c".into(),
        };
        let v = serde_json::to_value(&s).unwrap();
        assert_eq!(v["conversationSid"], "CH1");
        assert_eq!(v["sessionCredential"], "c");
        assert_eq!(v["tokenExpiresAt"], 5);
    }
}
