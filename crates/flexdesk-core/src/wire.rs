//! JSON bodies of the auth server's HTTP API, shared by the server (which produces them) and the desk
//! (which consumes them). Field names are camelCase on the wire, as a JavaScript caller expects.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Longest `customerName`, in characters (as sent, before trimming); longer is refused with 422.
pub const MAX_CUSTOMER_NAME_CHARS: usize = 100;

/// `POST /v1/sessions` request body. Unknown fields are ignored so older desks keep working.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateSessionRequest {
    /// The name the agent sees (`customerName`): 1–100 characters as sent, not all white space, no control
    /// characters (else 422 `invalid_body`). The server trims it; a verified identity token's name wins over it.
    pub customer_name: String,
    /// The pre-engagement form's fields (`preEngagement`), normally a JSON object. The server keeps only the keys
    /// listed in its `PRE_ENGAGEMENT_KEYS` and passes them to Flex as `PreEngagementData`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pre_engagement: Option<Value>,
    /// What the bot handed over (its `connect_to_agent` item and the transcript), if the chat comes from a bot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handoff: Option<Handoff>,
    /// The page's human-verification token (e.g. a CAPTCHA answer), checked by the auth server when it is
    /// configured with a verifier (`VERIFY_URL`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verification_token: Option<String>,
    /// A token the host page's back end signed for a signed-in customer (a JWT), verified by the auth server when
    /// it is configured for it (`IDENTITY_JWT_SECRET` / `IDENTITY_JWKS_*`): the customer's identity, name and email
    /// then come from it. Opaque to the desk, which only carries it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_token: Option<String>,
}

/// The bot's `connect_to_agent` item as the web chat hands it over, plus the bot transcript.
/// Field names follow the web chat's item (snake_case) so the item can be passed through unchanged.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Handoff {
    /// The bot's summary for the agent; becomes the `question` (and `message_to_human_agent`) of the
    /// pre-engagement data, the first thing the agent reads.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_to_human_agent: Option<String>,
    /// Routing key (at most 200 characters). Used only when it is signed in [`Handoff::handoff_token`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topic: Option<String>,
    /// Routing key (at most 200 characters), e.g. the TaskRouter skill a workflow filters on. Used only when it is
    /// signed in [`Handoff::handoff_token`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skill: Option<String>,
    /// Routing key (at most 200 characters), e.g. `en`. Used only when it is signed in [`Handoff::handoff_token`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// The bot conversation, oldest first. The server labels it `customer-supplied` unless the signed token carries
    /// it, and drops the oldest lines when the pre-engagement data would exceed its 12 KB budget.
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
    /// What was said, as plain text.
    pub text: String,
}

/// `201` answer to `POST /v1/sessions`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionCreated {
    /// The server's id of this chat (32 hex digits), the `{id}` of the later `/v1/sessions/{id}` calls.
    pub session_id: String,
    /// The Twilio Conversation the chat takes place in (`CH…`), the one the customer joins.
    pub conversation_sid: String,
    /// The customer's Conversations identity (the token's grant identity). In the `webchat` start mode Twilio
    /// chooses it; otherwise it is `customer-<uuid>` for a guest, or derived from a verified identity token.
    pub identity: String,
    /// A Twilio Conversations access token (JWT) for [`SessionCreated::identity`], for the Conversations client.
    pub token: String,
    /// When [`SessionCreated::token`] expires, in Unix seconds (the server's `TOKEN_TTL_SECONDS`, 1 h by default).
    pub token_expires_at: u64,
    /// Server-signed credential bound to this session; needed to refresh the token and to end the chat.
    pub session_credential: String,
    /// The pre-engagement keys the server dropped (not in its `PRE_ENGAGEMENT_KEYS`), names only, at most 10; left
    /// out when none. For the page's developer: the desk says them in the console.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dropped_pre_engagement_keys: Vec<String>,
    /// The query of this chat's media links (`conversation=CH…&expires=…&signature=…`): an agent's file is then
    /// linked as `GET /v1/media/{MediaSid}?<this>` on the auth server, which redirects to a fresh Twilio temporary
    /// URL each time it is opened (docs/auth-server.md, "Agent files"). Signed for the conversation and the
    /// session's lifetime, never the session credential. Left out by a server without media links: the desk then
    /// shows Twilio's temporary URL, which expires after minutes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_link_query: Option<String>,
}

/// Answer to `POST /v1/sessions/{id}/token`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenRefreshed {
    /// A fresh Twilio Conversations access token (JWT) for the same identity.
    pub token: String,
    /// When the new token expires, in Unix seconds.
    pub token_expires_at: u64,
}

/// Body of `POST /v1/sessions/{id}/token` and `DELETE /v1/sessions/{id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionAuth {
    /// The [`SessionCreated::session_credential`] of the session.
    pub session_credential: String,
}

/// Body of `POST /v1/sessions/{id}/rating` (issue 28): the customer's rating of a chat with an agent, sent after the
/// chat ended with that session's credential. The server writes it to the chat's TaskRouter task for Flex Insights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RatingRequest {
    /// The [`SessionCreated::session_credential`] of the ended session.
    pub session_credential: String,
    /// The score, a whole number from 1 to [`MAX_RATING_SCORE`].
    pub score: u8,
    /// What the customer wrote, at most [`MAX_RATING_COMMENT_CHARS`] characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

/// The highest [`RatingRequest::score`] (1 to 5, the scale of the demo's question).
pub const MAX_RATING_SCORE: u8 = 5;
/// Longest [`RatingRequest::comment`], in characters.
pub const MAX_RATING_COMMENT_CHARS: usize = 500;

/// Body of `POST /v1/sessions/{id}/sms`: continue the chat by SMS to `phone`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContinueBySms {
    /// The [`SessionCreated::session_credential`] of the session.
    pub session_credential: String,
    /// The customer's number, E.164 (`+4915112345678`; spaces, dashes and brackets are accepted: `crate::phone`).
    pub phone: String,
}

/// Answer to `POST /v1/sessions/{id}/sms`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SmsContinued {
    /// The number the chat continues to, masked (`crate::phone::mask`): what the page may show.
    pub phone: String,
}

/// Answer to `GET /v1/agents/availability`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Availability {
    /// Workers of the configured TaskRouter queue in an `available` activity, busy or not (the queue's
    /// `total_available_workers`: <https://www.twilio.com/docs/taskrouter/api/taskqueue-statistics>).
    pub agents_available: u32,
    /// Chat tasks of the queue not yet accepted by an agent (`pending` plus `reserved`).
    pub tasks_waiting: u32,
    /// Age of the queue's oldest waiting task, in seconds.
    pub longest_wait_seconds: u64,
}

/// The whole answer to `GET /v1/agents/availability`: the queue figures, plus, outside the business hours
/// (`BUSINESS_HOURS`), when agents are back. Outside them the figures are not read from Twilio: all zero.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AvailabilityAnswer {
    /// The queue figures, flattened into the answer (all zero when [`AvailabilityAnswer::closed`]).
    #[serde(flatten)]
    pub figures: Availability,
    /// True outside the business hours (then no agent is reported available).
    #[serde(default, skip_serializing_if = "is_false")]
    pub closed: bool,
    /// RFC 3339 with the business time zone's offset: when the next business hours begin. Only when `closed`, and
    /// only when an opening is configured within a year.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opens_at: Option<String>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// Answer to `GET /v1/sessions/{id}/queue`: the session's own place in the TaskRouter queue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueuePosition {
    /// True while the chat's task waits for an agent (TaskRouter `pending` or `reserved`).
    pub waiting: bool,
    /// 1 = the next task an agent gets. `None` when not waiting, or when more tasks are ahead than one read covers.
    pub position: Option<u32>,
    /// Seconds until an agent is expected, from the queue's recent acceptances; `None` when the statistics cannot
    /// tell (no task accepted recently) or when not waiting.
    pub estimated_wait_seconds: Option<u64>,
}

/// Every `code` the auth server answers with (docs/auth-server.md, "HTTP API"): one list for the server that writes
/// them and the desk that reads them. On the wire each is its snake_case name ([`ErrorCode::as_str`]); a desk reads
/// [`ApiErrorBody::code`] as a string, so a code added by a newer server still parses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// 400: the body is not JSON.
    InvalidJson,
    /// 400: a request axum could not read (other than its size).
    BadRequest,
    /// 422: JSON of the wrong shape, or a field out of bounds.
    InvalidBody,
    /// 413: the body is over the limit.
    PayloadTooLarge,
    /// 415: not the body's expected content type.
    UnsupportedMediaType,
    /// 404: no such endpoint.
    NotFound,
    /// 405: the endpoint does not take this method.
    MethodNotAllowed,
    /// 504 (or 408): the request took longer than the server allows.
    Timeout,
    /// 500: a bug (a handler panicked).
    InternalError,
    /// 403: the `Origin` is not in `ALLOWED_ORIGINS`.
    OriginNotAllowed,
    /// 429: the client's request budget is spent (with `Retry-After`).
    RateLimited,
    /// 429: the client's or the server's open-chat cap is reached (with `Retry-After`).
    TooManySessions,
    /// 401: the session credential is missing, forged, expired or of another session.
    InvalidCredential,
    /// 404: no such session.
    SessionNotFound,
    /// 404: the chat has ended; a new session is needed.
    SessionEnded,
    /// 503: outside `BUSINESS_HOURS` (with `Retry-After` to the next opening).
    OutsideBusinessHours,
    /// 403: the server needs a human-verification token.
    VerificationRequired,
    /// 403: the human-verification token was refused.
    VerificationFailed,
    /// 503: the human-verification hook does not answer.
    VerificationUnavailable,
    /// 401: the identity token does not verify.
    IdentityInvalid,
    /// 400: an identity token sent to a server that verifies none.
    IdentityNotConfigured,
    /// 503: the keys that verify identity tokens cannot be read.
    IdentityUnavailable,
    /// 401: the server starts chats only for signed-in customers.
    IdentityRequired,
    /// 403: a webhook not signed by Twilio.
    InvalidSignature,
    /// 503: queue positions need `TWILIO_WORKSPACE_SID`.
    QueueNotConfigured,
    /// 503: availability needs `TWILIO_WORKSPACE_SID` and `TWILIO_QUEUE_SID`.
    AvailabilityNotConfigured,
    /// 503: Twilio is rate limiting us, or too many chats start at once (with `Retry-After`).
    TwilioBusy,
    /// 502: Twilio answered with a 5xx.
    TwilioUnavailable,
    /// 502: Twilio refused the call (the server's Twilio configuration needs checking).
    TwilioRejected,
    /// 504: Twilio did not answer in time.
    TwilioUnreachable,
    /// 502: Twilio answered in an unexpected way.
    TwilioBadResponse,
    /// 409: a rating for a chat that has not ended (issue 28).
    ChatNotEnded,
    /// 409: the chat was rated already; a rating is accepted once.
    AlreadyRated,
    /// 409: the chat can no longer be rated: too long after its end (`RATING_WINDOW_SECONDS`), or its task can no
    /// longer take it (gone, or Twilio refused the update).
    RatingClosed,
    /// 503: ratings need `TWILIO_WORKSPACE_SID` (the task is found in TaskRouter).
    RatingNotConfigured,
    /// 503: "continue by SMS" is off (`TWILIO_SMS_NUMBER` unset).
    SmsNotConfigured,
    /// 422: not a phone number in international (E.164) form.
    PhoneInvalid,
    /// 422: the number's country calling code is not in `SMS_ALLOWED_CALLING_CODES`.
    PhoneNotAllowed,
    /// 409: the number already talks to the SMS number in another open conversation (Twilio error 50416).
    PhoneInUse,
    /// 409: this chat already continues by SMS, to another number (one number per chat).
    SmsAlreadyOn,
    /// 404: erasure on request is off (`ERASE_ON_REQUEST` not `on`; issue 28).
    EraseNotEnabled,
    /// 410: the chat's conversation was erased already (or is gone at Twilio); an erasure is done once.
    AlreadyErased,
}

impl ErrorCode {
    /// Every code, in the order above.
    pub const ALL: [ErrorCode; 42] = [ErrorCode::InvalidJson, ErrorCode::BadRequest, ErrorCode::InvalidBody, ErrorCode::PayloadTooLarge, ErrorCode::UnsupportedMediaType, ErrorCode::NotFound, ErrorCode::MethodNotAllowed, ErrorCode::Timeout, ErrorCode::InternalError, ErrorCode::OriginNotAllowed, ErrorCode::RateLimited, ErrorCode::TooManySessions, ErrorCode::InvalidCredential, ErrorCode::SessionNotFound, ErrorCode::SessionEnded, ErrorCode::OutsideBusinessHours, ErrorCode::VerificationRequired, ErrorCode::VerificationFailed, ErrorCode::VerificationUnavailable, ErrorCode::IdentityInvalid, ErrorCode::IdentityNotConfigured, ErrorCode::IdentityUnavailable, ErrorCode::IdentityRequired, ErrorCode::InvalidSignature, ErrorCode::QueueNotConfigured, ErrorCode::AvailabilityNotConfigured, ErrorCode::TwilioBusy, ErrorCode::TwilioUnavailable, ErrorCode::TwilioRejected, ErrorCode::TwilioUnreachable, ErrorCode::TwilioBadResponse, ErrorCode::ChatNotEnded, ErrorCode::AlreadyRated, ErrorCode::RatingClosed, ErrorCode::RatingNotConfigured, ErrorCode::SmsNotConfigured, ErrorCode::PhoneInvalid, ErrorCode::PhoneNotAllowed, ErrorCode::PhoneInUse, ErrorCode::SmsAlreadyOn, ErrorCode::EraseNotEnabled, ErrorCode::AlreadyErased];

    /// The code written `code` on the wire, if this version knows it. A plain lookup, not serde: the wasm desk reads
    /// codes without serde's deserializers (its size budget).
    pub fn parse(code: &str) -> Option<ErrorCode> {
        ErrorCode::ALL.into_iter().find(|c| c.as_str() == code)
    }

    /// The code as written on the wire (the same string serde writes).
    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidJson => "invalid_json",
            ErrorCode::BadRequest => "bad_request",
            ErrorCode::InvalidBody => "invalid_body",
            ErrorCode::PayloadTooLarge => "payload_too_large",
            ErrorCode::UnsupportedMediaType => "unsupported_media_type",
            ErrorCode::NotFound => "not_found",
            ErrorCode::MethodNotAllowed => "method_not_allowed",
            ErrorCode::Timeout => "timeout",
            ErrorCode::InternalError => "internal_error",
            ErrorCode::OriginNotAllowed => "origin_not_allowed",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::TooManySessions => "too_many_sessions",
            ErrorCode::InvalidCredential => "invalid_credential",
            ErrorCode::SessionNotFound => "session_not_found",
            ErrorCode::SessionEnded => "session_ended",
            ErrorCode::OutsideBusinessHours => "outside_business_hours",
            ErrorCode::VerificationRequired => "verification_required",
            ErrorCode::VerificationFailed => "verification_failed",
            ErrorCode::VerificationUnavailable => "verification_unavailable",
            ErrorCode::IdentityInvalid => "identity_invalid",
            ErrorCode::IdentityNotConfigured => "identity_not_configured",
            ErrorCode::IdentityUnavailable => "identity_unavailable",
            ErrorCode::IdentityRequired => "identity_required",
            ErrorCode::InvalidSignature => "invalid_signature",
            ErrorCode::QueueNotConfigured => "queue_not_configured",
            ErrorCode::AvailabilityNotConfigured => "availability_not_configured",
            ErrorCode::TwilioBusy => "twilio_busy",
            ErrorCode::TwilioUnavailable => "twilio_unavailable",
            ErrorCode::TwilioRejected => "twilio_rejected",
            ErrorCode::TwilioUnreachable => "twilio_unreachable",
            ErrorCode::TwilioBadResponse => "twilio_bad_response",
            ErrorCode::ChatNotEnded => "chat_not_ended",
            ErrorCode::AlreadyRated => "already_rated",
            ErrorCode::RatingClosed => "rating_closed",
            ErrorCode::RatingNotConfigured => "rating_not_configured",
            ErrorCode::SmsNotConfigured => "sms_not_configured",
            ErrorCode::PhoneInvalid => "phone_invalid",
            ErrorCode::PhoneNotAllowed => "phone_not_allowed",
            ErrorCode::PhoneInUse => "phone_in_use",
            ErrorCode::SmsAlreadyOn => "sms_already_on",
            ErrorCode::EraseNotEnabled => "erase_not_enabled",
            ErrorCode::AlreadyErased => "already_erased",
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Every error the auth server answers with: `{"error": {"code": "...", "message": "..."}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiError {
    /// The error itself.
    pub error: ApiErrorBody,
}

/// The `error` object of an [`ApiError`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiErrorBody {
    /// A stable machine-readable code in snake_case, e.g. `invalid_body`, `rate_limited`, `identity_invalid`;
    /// docs/auth-server.md lists them.
    pub code: String,
    /// A human-readable explanation for the developer (not meant to be shown to the customer as is).
    pub message: String,
}

impl ApiError {
    /// An error body with this `code` and `message`.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError { error: ApiErrorBody { code: code.as_str().into(), message: message.into() } }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `as_str` and serde write the same string for every code, and a code reads back as itself.
    #[test]
    fn error_codes_are_their_snake_case_names() {
        for code in ErrorCode::ALL {
            assert_eq!(serde_json::to_value(code).unwrap(), serde_json::Value::from(code.as_str()));
            assert_eq!(serde_json::from_value::<ErrorCode>(code.as_str().into()).unwrap(), code);
        }
        assert_eq!(ErrorCode::TooManySessions.as_str(), "too_many_sessions");
        assert_eq!(ErrorCode::ALL.map(|c| ErrorCode::parse(c.as_str())), ErrorCode::ALL.map(Some));
        assert_eq!(ErrorCode::parse("a_code_of_a_newer_server"), None);
    }

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

    /// Issue 17: the identity token travels as `identityToken`, left out when there is none (older servers and
    /// guests see the same body as before); a refused one is told to the customer in plain words.
    #[test]
    fn the_identity_token_is_optional_and_camel_case() {
        let req = CreateSessionRequest { customer_name: "Ada".into(), identity_token: Some("t.o.k".into()), ..Default::default() };
        let v = serde_json::to_value(&req).unwrap();
        assert_eq!(v["identityToken"], "t.o.k");
        let guest = serde_json::to_value(CreateSessionRequest { customer_name: "Ada".into(), ..Default::default() }).unwrap();
        assert!(guest.get("identityToken").is_none());
        let back: CreateSessionRequest = serde_json::from_value(v).unwrap();
        assert_eq!(back.identity_token.as_deref(), Some("t.o.k"));
        let refused = crate::session::AuthFailure { status: 401, code: Some("identity_invalid".into()), retry_after_secs: None };
        assert!(crate::session::refusal_text(&refused).contains("signed in"));
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
            dropped_pre_engagement_keys: Vec::new(),
            media_link_query: Some("conversation=CH1&expires=9&signature=x".into()),
        };
        let v = serde_json::to_value(&s).unwrap();
        assert_eq!(v["conversationSid"], "CH1");
        assert!(v.get("droppedPreEngagementKeys").is_none(), "left out when none");
        assert_eq!(v["mediaLinkQuery"], "conversation=CH1&expires=9&signature=x");
        assert_eq!(v["sessionCredential"], "c");
        assert_eq!(v["tokenExpiresAt"], 5);
    }
}
