//! The schemas of the OpenAPI document (`openapi.rs`). The wire types live in flexdesk-core, which stays free of
//! utoipa (it also compiles to wasm), so these mirror them field for field; `openapi.rs` tests that they match.

#![allow(dead_code)] // The mirrors exist only for their schemas.

use serde::Serialize;
use utoipa::ToSchema;

/// Start a chat. Unknown fields are ignored.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateSessionRequest {
    /// Shown to the agent: 1–100 characters, not all white space, no control characters.
    #[schema(min_length = 1, max_length = 100, pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$")]
    customer_name: String,
    /// Pre-engagement form fields (an object), passed to Flex in `PreEngagementData` (the keys in
    /// `PRE_ENGAGEMENT_KEYS`; others are dropped). A field passed on must be a string, a number or a boolean, else
    /// 422 `invalid_body` naming it. Any other JSON value than an object is dropped.
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
    /// `HANDOFF_SECRET`, `aud` `flexdesk-handoff`, `exp` at most 10 minutes ahead, and a `jti`: it routes one chat
    /// (a second start with it is not routed). Unsigned topic/skill/language are dropped.
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
    /// The `preEngagement` keys not in the server's `PRE_ENGAGEMENT_KEYS`, dropped (names only, at most 10, each at
    /// most 40 characters); absent when none.
    #[schema(max_items = 10)]
    dropped_pre_engagement_keys: Option<Vec<String>>,
    /// The query of this chat's media links: the desk links an agent's file as `GET /v1/media/{mediaSid}?<this>`,
    /// which redirects to a fresh Twilio temporary URL whenever it is opened. Signed for the conversation until the
    /// session expires; not a credential.
    media_link_query: Option<String>,
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

/// The customer's rating of an ended chat (issue 28), with that session's credential; accepted once, within
/// `RATING_WINDOW_SECONDS` of the end.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RatingRequest {
    session_credential: String,
    /// A whole number from 1 to 5 (Flex Insights: `conversations.conversation_measure_<RATING_INSIGHTS_SLOT>`).
    #[schema(minimum = 1, maximum = 5)]
    score: u8,
    /// At most 500 characters, no control characters but new lines (`conversation_attribute_<slot>`).
    #[schema(max_length = 500)]
    comment: Option<String>,
}

/// What `POST /v1/sessions/{id}/erase` deleted (issue 28, `ERASE_ON_REQUEST=on`).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EraseReceipt {
    /// What was deleted: `conversation`, `messages`, `participants`, `media` (at Twilio) and `session` (here).
    erased: Vec<String>,
    /// When, RFC 3339 (UTC).
    at: String,
    /// This request's `x-request-id`, to quote to support.
    request_id: String,
}

/// Continue the chat by SMS (`POST /v1/sessions/{id}/sms`).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ContinueBySms {
    session_credential: String,
    /// The customer's number, international (E.164, e.g. `+14155550100`; spaces, dashes, brackets and a leading `00`
    /// are accepted).
    #[schema(max_length = 40)]
    phone: String,
}

/// The chat continues by SMS.
#[derive(Serialize, ToSchema)]
pub struct SmsContinued {
    /// The number, masked (`+14•••••••00`): what a page may show.
    phone: String,
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
