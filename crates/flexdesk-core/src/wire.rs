//! JSON bodies of the auth server's HTTP API, shared by the server (which produces them) and the desk
//! (which consumes them). Field names are camelCase on the wire, as a JavaScript caller expects.

use serde::{Deserialize, Serialize};
use serde_json::Value;

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
        };
        let v = serde_json::to_value(&s).unwrap();
        assert_eq!(v["conversationSid"], "CH1");
        assert_eq!(v["sessionCredential"], "c");
        assert_eq!(v["tokenExpiresAt"], 5);
    }
}
