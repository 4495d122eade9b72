//! The OpenAPI 3 document served at `/openapi.json`.
//!
//! The wire types live in flexdesk-core, which stays free of utoipa (it also compiles to wasm), so the
//! schemas below mirror them field for field. A test compares each mirror's properties with what the core
//! type really serialises, so the two cannot drift apart silently.

#![allow(dead_code)] // The mirrors exist only for their schemas.

use serde::Serialize;
use utoipa::{OpenApi, ToSchema};

#[derive(OpenApi)]
#[openapi(
    info(title = "flexdesk auth server", description = "Starts, refreshes and ends Twilio Flex chats for the flexdesk web chat. Errors are `{\"error\":{\"code\",\"message\"}}`."),
    paths(
        crate::routes::sessions::create,
        crate::routes::sessions::refresh,
        crate::routes::sessions::end,
        crate::routes::agents::availability,
        crate::routes::queue::position,
        crate::routes::ops::healthz,
        crate::routes::ready::readyz,
    ),
    components(schemas(CreateSessionRequest, Handoff, TranscriptLine, SessionCreated, TokenRefreshed, SessionAuth, Availability, QueuePosition, ApiError, ApiErrorBody)),
    modifiers(&OptionalDeleteBody)
)]
/// The OpenAPI document of the public API (`ApiDoc::openapi()`, from [`utoipa::OpenApi`]).
pub struct ApiDoc;

/// The DELETE body is optional (the credential may come in an `Authorization` header instead) but, when
/// present, must be a `SessionAuth`: utoipa can only say "optional" by also allowing `null`, so say it here.
struct OptionalDeleteBody;

impl utoipa::Modify for OptionalDeleteBody {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        if let Some(item) = doc.paths.paths.get_mut("/v1/sessions/{id}") {
            if let Some(body) = item.delete.as_mut().and_then(|op| op.request_body.as_mut()) {
                body.required = Some(utoipa::openapi::Required::False);
            }
        }
    }
}

/// Start a chat. Unknown fields are ignored.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateSessionRequest {
    /// Shown to the agent: 1–100 characters, not all white space, no control characters.
    #[schema(min_length = 1, max_length = 100, pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$")]
    customer_name: String,
    /// Pre-engagement form fields (an object), passed to Flex as `PreEngagementData`. Any other JSON value is
    /// passed along under the key `preEngagement`.
    #[schema(value_type = Value, required = false)]
    pre_engagement: Option<serde_json::Value>,
    handoff: Option<Handoff>,
    /// Human-verification token from the page (e.g. a CAPTCHA answer); required when the server has `VERIFY_URL`.
    /// Longer than 4096 characters: 422 `invalid_body`, whether or not the server has `VERIFY_URL`.
    #[schema(max_length = 4096)]
    verification_token: Option<String>,
    /// A JWT the host page's back end signed for a signed-in customer; verified when the server has
    /// `IDENTITY_JWT_SECRET`, `IDENTITY_JWKS_FILE` or `IDENTITY_JWKS_URL` (else 400 `identity_not_configured`).
    /// A token that does not verify: 401 `identity_invalid`, and no chat is started. Longer than 8192 characters:
    /// 422 `invalid_body`, checked first.
    #[schema(max_length = 8192)]
    identity_token: Option<String>,
}

/// The bot's `connect_to_agent` item plus the bot transcript (snake_case, as the web chat passes it).
#[derive(Serialize, ToSchema)]
pub struct Handoff {
    message_to_human_agent: Option<String>,
    /// Ignored (dropped, whatever its length) unless signed in `handoff_token`, where it may have at most 200
    /// characters (else 422). The document used to state `maxLength: 200` here, which the server never enforced on
    /// a value it drops (issue 24, item 4).
    topic: Option<String>,
    /// As `topic`.
    skill: Option<String>,
    /// As `topic`.
    language: Option<String>,
    /// The bot conversation, oldest first (an array; `null` is not accepted).
    #[schema(nullable = false)]
    transcript: Option<Vec<TranscriptLine>>,
    /// The routing keys (and optionally the transcript) signed by the bot's back end: a JWT, HS256 with
    /// `HANDOFF_SECRET`, `aud` `flexdesk-handoff`, `exp` at most an hour ahead. Unsigned topic/skill/language are dropped.
    handoff_token: Option<String>,
}

/// One line of the bot conversation.
#[derive(Serialize, ToSchema)]
pub struct TranscriptLine {
    /// `user` or `bot`.
    #[schema(pattern = "^(user|bot)$")]
    from: String,
    text: String,
}

/// The chat started: what the desk needs to join the conversation.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionCreated {
    session_id: String,
    conversation_sid: String,
    identity: String,
    /// Twilio Conversations access token (JWT).
    token: String,
    /// Unix seconds.
    token_expires_at: u64,
    /// Needed to refresh the token and to end the chat; dies with the session.
    session_credential: String,
}

/// A fresh access token for the same identity.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TokenRefreshed {
    token: String,
    /// Unix seconds.
    token_expires_at: u64,
}

/// The session's credential, proving the caller started the session.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionAuth {
    session_credential: String,
}

/// Live figures of the chat queue.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Availability {
    agents_available: u32,
    tasks_waiting: u32,
    longest_wait_seconds: u64,
    /// Only outside the business hours (`BUSINESS_HOURS`): `true`, and the figures are zeros (Twilio is not asked).
    closed: Option<bool>,
    /// Only outside the business hours: when they begin again, RFC 3339 with the business time zone's offset.
    opens_at: Option<String>,
}

/// A waiting session's own place in the TaskRouter queue.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct QueuePosition {
    /// True while the chat's task waits for an agent (pending or reserved).
    waiting: bool,
    /// 1 = the next task an agent gets; `null` when not waiting or more than 1000 tasks are ahead.
    #[schema(minimum = 1)]
    position: Option<u32>,
    /// Expected seconds until an agent takes the chat, at the queue's pace over the last 30 minutes; `null` when
    /// no chat was accepted in that time, or not waiting.
    estimated_wait_seconds: Option<u64>,
}

/// Every error answer.
#[derive(Serialize, ToSchema)]
pub struct ApiError {
    error: ApiErrorBody,
}

/// The `error` object of an error answer.
#[derive(Serialize, ToSchema)]
pub struct ApiErrorBody {
    /// Stable machine-readable code, e.g. `invalid_credential`, `session_ended`, `rate_limited`.
    code: String,
    message: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use flexdesk_core::wire;
    use serde_json::{json, Value};
    use std::collections::BTreeSet;

    fn schema_properties(doc: &Value, name: &str) -> BTreeSet<String> {
        doc["components"]["schemas"][name]["properties"].as_object().unwrap_or_else(|| panic!("schema {name}")).keys().cloned().collect()
    }

    fn keys(v: Value) -> BTreeSet<String> {
        v.as_object().unwrap().keys().cloned().collect()
    }

    #[test]
    fn mirrors_match_the_core_wire_types() {
        let doc = serde_json::to_value(ApiDoc::openapi()).unwrap();
        let full_handoff = wire::Handoff {
            message_to_human_agent: Some("m".into()),
            topic: Some("t".into()),
            skill: Some("s".into()),
            language: Some("l".into()),
            transcript: vec![wire::TranscriptLine { from: "user".into(), text: "x".into() }],
            handoff_token: Some("t".into()),
        };
        let cases = [
            ("CreateSessionRequest", serde_json::to_value(wire::CreateSessionRequest { customer_name: "a".into(), pre_engagement: Some(json!({})), handoff: Some(full_handoff.clone()), verification_token: Some("v".into()), identity_token: Some("i".into()) }).unwrap()),
            ("Handoff", serde_json::to_value(&full_handoff).unwrap()),
            ("TranscriptLine", serde_json::to_value(wire::TranscriptLine { from: "u".into(), text: "t".into() }).unwrap()),
            ("SessionCreated", serde_json::to_value(wire::SessionCreated { session_id: "".into(), conversation_sid: "".into(), identity: "".into(), token: "".into(), token_expires_at: 0, session_credential: "".into() }).unwrap()),
            ("TokenRefreshed", serde_json::to_value(wire::TokenRefreshed { token: "".into(), token_expires_at: 0 }).unwrap()),
            ("SessionAuth", serde_json::to_value(wire::SessionAuth { session_credential: "".into() }).unwrap()),
            ("Availability", serde_json::to_value(wire::AvailabilityAnswer { figures: wire::Availability { agents_available: 0, tasks_waiting: 0, longest_wait_seconds: 0 }, closed: true, opens_at: Some("t".into()) }).unwrap()),
            ("QueuePosition", serde_json::to_value(wire::QueuePosition { waiting: true, position: Some(1), estimated_wait_seconds: Some(1) }).unwrap()),
            ("ApiError", serde_json::to_value(wire::ApiError::new(wire::ErrorCode::NotFound, "m")).unwrap()),
            ("ApiErrorBody", serde_json::to_value(wire::ApiError::new(wire::ErrorCode::NotFound, "m").error).unwrap()),
        ];
        for (name, value) in cases {
            assert_eq!(schema_properties(&doc, name), keys(value), "{name} drifted from flexdesk-core::wire");
        }
    }

    #[test]
    fn every_endpoint_is_documented() {
        let doc = serde_json::to_value(ApiDoc::openapi()).unwrap();
        for (path, method) in [
            ("/v1/sessions", "post"),
            ("/v1/sessions/{id}/token", "post"),
            ("/v1/sessions/{id}", "delete"),
            ("/v1/agents/availability", "get"),
            ("/v1/sessions/{id}/queue", "get"),
            ("/healthz", "get"),
            ("/readyz", "get"),
        ] {
            assert!(doc["paths"][path][method].is_object(), "{method} {path} missing");
        }
        // The admin routes are not on the listener this document describes.
        assert!(doc["paths"]["/metrics"].is_null() && doc["paths"]["/openapi.json"].is_null());
    }
}
