//! What the session reacts to ([`Event`]) and the values events carry: participants, messages, connection
//! states, the auth server's failures, the saved state.

use serde::{Deserialize, Serialize};

#[cfg(doc)]
use super::TYPING_REPEAT_MS;
#[cfg(doc)]
use super::{AuthCall, ClientCall, Effect, Session, MAX_BODY_BYTES};
#[cfg(doc)]
use crate::media::MediaLimits;
use super::outbox::Outgoing;
use crate::wire::{Availability, CreateSessionRequest, QueuePosition, SessionCreated, TokenRefreshed};

/// A human agent as the web chat shows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Agent {
    /// The agent's Conversations identity.
    pub id: String,
    /// The name shown to the customer (see [`Participant::agent`]); empty when it is not known.
    pub name: String,
    /// URL of the agent's picture, when the participant's attributes carry one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avatar: Option<String>,
}

/// A conversation participant as the SDK reports it. Who counts as an agent, and the name shown, are decided
/// here ([`Participant::agent`]).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Participant {
    /// The participant's Conversations identity.
    pub identity: String,
    /// `attributes.member_type`, when set: the participant's role in Flex's words (see [`Participant::agent`]).
    pub member_type: Option<String>,
    /// The Conversations User's `friendlyName` (`participant.getUser()`): where Flex puts the agent's name.
    pub friendly_name: Option<String>,
    /// `attributes.avatar`, when set.
    pub avatar: Option<String>,
}

impl Participant {
    /// Whether this participant is an agent the customer chats with, and as whom: the name is the User's friendly
    /// name, else none. Never the identity: Flex's are worker contact URIs (an e-mail address, escaped), and the
    /// shell gives up waiting for the User after a few seconds; without a name Carbon says "An agent" in its own
    /// words (agentStatusMessage.ts: `agent_agentJoinedNoName` and the other `…NoName` texts for an empty
    /// `nickname`).
    ///
    /// Flex names a participant's role with the Interaction Channel Participant `type`: `agent`, `customer`,
    /// `supervisor`, `external` or `unknown` (twilio-oai `twilio_flex_v1.json`,
    /// `interaction_channel_participant_enum_type`; docs: flex/developer/conversations/interactions-api/
    /// interaction-channel-participants). The customer's SDK sees only the Conversations participant, so the role is
    /// read from its `member_type` attribute in that vocabulary (the auth server writes `customer` for the customer,
    /// the emulator `agent` for its agents): `agent` is an agent; any other role is not (a supervisor joining or
    /// leaving is no transfer, and what they write is a status line, not the agent's). Which attributes Flex itself
    /// writes on a Conversations participant is not documented, so a participant with no role at all is taken for an
    /// agent, as someone Flex added who is not the customer (`me`).
    pub fn agent(&self, me: &str) -> Option<Agent> {
        if self.identity == me || self.member_type.as_deref().is_some_and(|t| t != "agent") {
            return None;
        }
        let name = self.friendly_name.as_deref().map_or("", str::trim);
        Some(Agent { id: self.identity.clone(), name: name.into(), avatar: self.avatar.clone() })
    }
}

/// One attached file of a conversation message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Media {
    /// The media's SID (`ME…`, the SDK's `Media.sid`): what the auth server's media link names.
    #[serde(default)]
    pub sid: String,
    /// The file's name as sent.
    pub filename: String,
    /// Its MIME type, e.g. `image/png`.
    pub content_type: String,
    /// A temporary URL (Twilio's expire after minutes), resolved by the shell when the message is shown; empty
    /// when the chat links media through the auth server ([`super::Session::wants_temporary_urls`]).
    pub url: String,
}

/// What a conversation message carries: text, files, or both (the SDK's `body` and `attachedMedia`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Content {
    /// The text, if any.
    pub body: Option<String>,
    /// The attached files, in order.
    pub media: Vec<Media>,
}

impl Content {
    /// Text only.
    pub fn text(body: &str) -> Content {
        Content { body: Some(body.into()), media: Vec::new() }
    }
}

/// Why the auth server did not answer as hoped: its HTTP status (0 when it was not reached), its stable error
/// `code` (`{"error": {"code"}}`, see docs/auth-server.md and [`crate::wire::ApiError`]) and `Retry-After`.
/// Never its message: the customer sees a message chosen by [`super::refusal`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AuthFailure {
    /// The HTTP status; 0 when the auth server was not reached.
    pub status: u16,
    /// The error's `code`, when the answer had one.
    pub code: Option<String>,
    /// The `Retry-After` header, in seconds, when present.
    pub retry_after_secs: Option<u64>,
}

impl AuthFailure {
    /// Worth asking again later (not reached, rate limited, Twilio busy or down) rather than a final answer.
    pub fn is_transient(&self) -> bool {
        self.status == 0 || self.status == 429 || self.status >= 500
    }
}

/// The SDK's connection states (`Client.connectionState`, `connectionStateChanged`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnState {
    /// `connecting`: (re)connecting to Twilio.
    Connecting,
    /// `connected`.
    Connected,
    /// `disconnecting`: closing the connection (e.g. an expired token's).
    Disconnecting,
    /// `disconnected`: no connection; the SDK retries on its own.
    Disconnected,
    /// `denied`: Twilio refused the token.
    Denied,
    /// `error`: the SDK gave up.
    Error,
    /// Any state this code does not know.
    Unknown,
}

impl ConnState {
    /// The state named by the SDK's string (`"connected"`, ...); [`ConnState::Unknown`] for any other.
    pub fn parse(s: &str) -> ConnState {
        match s {
            "connecting" => ConnState::Connecting,
            "connected" => ConnState::Connected,
            "disconnecting" => ConnState::Disconnecting,
            "disconnected" => ConnState::Disconnected,
            "denied" => ConnState::Denied,
            "error" => ConnState::Error,
            _ => ConnState::Unknown,
        }
    }
}

/// Timers the shell runs for the session: [`Effect::Timer`] asks, [`Event::TimerDue`] answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timer {
    /// Retry a user message after a retryable failure.
    Retry,
    /// Join attempt `n` took too long.
    Join(u32),
    /// Ask for a token again after a transient refusal.
    Refresh,
    /// Read the queue figures again while waiting.
    Queue,
    /// Tell the agent again that the customer is still typing ([`TYPING_REPEAT_MS`]).
    Typing,
    /// The customer has been silent since their activity number `n` (issue 28: ask, then close).
    Idle(u32),
}

/// Everything the session reacts to, fed to [`Session::handle`] by the shell: what the web chat asks, what the auth
/// server and the Conversations client answer, and timers.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// The web chat asked for an agent (`startChat`).
    StartRequested(CreateSessionRequest),
    /// The auth server created the session.
    SessionCreated(SessionCreated),
    /// The auth server refused to create the session (or could not be reached).
    SessionRefused(AuthFailure),
    /// The web chat asked for an agent (`startChat`) while this customer's chat is still open elsewhere: in another
    /// tab, or in this one before a reload while waiting (Carbon hands a waiting chat back only through a new
    /// `startChat`: `handleHydration` calls `reconnect` only `if (isConnected)`). Carry on with that chat, the
    /// same Flex task, instead of creating one, and tell the other tabs ([`super::TabCall::Announce`]); the web chat
    /// does not know its agent yet, so the agent is announced again and the agent's messages after what this tab
    /// showed are shown.
    Adopt {
        /// The open chat, as every tab reads it (the shared copy; without one, this tab's own).
        chat: PersistedState,
        /// What this tab's web chat saved (its `persistedState`), if anything: its `last_shown`, when it is the same
        /// chat, is what this tab has shown of it.
        this_tab: Option<PersistedState>,
    },
    /// At the web chat's start (`chat:ready`), an open chat of this customer was found where every tab reads it
    /// (the shared copy; without one, this tab's own). `connected`: the web chat counts a chat with an agent as
    /// connected (Carbon then calls `reconnect` itself).
    ChatFound {
        /// The chat found.
        chat: PersistedState,
        /// Carbon's `humanAgent.isConnected`.
        connected: bool,
    },
    /// The answer to [`AuthCall::CheckChat`]: `None` when the auth server gave a token (the chat is open), else
    /// its refusal (or 0 when it was not reached).
    ChatChecked(Option<AuthFailure>),
    /// Another tab announced it took the chat `session_id` ([`super::TabCall::Announce`], heard on the tabs'
    /// channel).
    TakenElsewhere {
        /// The chat it took.
        session_id: String,
    },
    /// After a page reload, the web chat called `reconnect`: carry on with the chat saved by
    /// [`Effect::Persist`].
    Resume(PersistedState),
    /// The Conversations client is connected and subscribed to the conversation.
    ConversationJoined,
    /// The Conversations client could not reach the conversation (the text is for the console only).
    JoinFailed {
        /// The SDK's error, for the console.
        message: String,
    },
    /// The Conversations client gave up for good (a terminal connection error) after the chat was joined.
    ClientFailed {
        /// The SDK's error, for the console.
        message: String,
    },
    /// The SDK's connection state changed.
    Connection(ConnState),
    /// A participant joined the conversation (also reported for those present at [`ClientCall::SyncMessages`]).
    ParticipantJoined(Participant),
    /// A participant left the conversation.
    ParticipantLeft(Participant),
    /// A message in the conversation, live or replayed; `author` tells the customer's own from the agent's.
    Message {
        /// The message's index in the conversation (Twilio's, increasing).
        index: u64,
        /// The author's identity.
        author: String,
        /// The web chat's id of a message the customer sent (the `flexdeskId` message attribute), if any.
        client_id: Option<String>,
        /// The bot hand-off kind (`note`, `transcript`, `request`) when the message carries the attributes
        /// `{"flexdesk": {"handoff": kind}}`: the auth server posts the bot's hand-off into the conversation so the
        /// agent reads it in Flex's own UI (issue 22). Never shown in the web chat, whoever the author is.
        handoff: Option<String>,
        /// Text and files.
        content: Content,
    },
    /// A participant's typing indicator (the customer's own are ignored).
    AgentTyping {
        /// The participant's identity.
        agent_id: String,
        /// Started (`true`) or stopped typing.
        typing: bool,
    },
    /// A participant's read horizon (`lastReadMessageIndex`) moved (the customer's own are ignored).
    AgentRead {
        /// The participant's identity.
        agent_id: String,
        /// The highest message index they have read.
        index: u64,
    },
    /// The user sent a text (`sendMessageToAgent`); queued until the conversation is joined.
    UserMessage {
        /// The web chat's id of the message.
        id: String,
        /// The text; at most [`MAX_BODY_BYTES`] bytes are accepted.
        text: String,
    },
    /// The user picked files in the web chat (`filesSelectedForUpload`), before sending: each is checked against
    /// the [`MediaLimits`] at once, so the user sees a problem before sending.
    FilesSelected(Vec<ChosenFile>),
    /// The user chose a file to send (`filesToUpload`); checked against the [`MediaLimits`] first.
    UserFile {
        /// The web chat's id of the upload; the shell keeps the file under it.
        id: String,
        /// The file's name.
        name: String,
        /// Its size, in bytes.
        size: u64,
    },
    /// The shell delivered [`ClientCall::SendMessage`] / [`ClientCall::SendFile`]; Twilio gave it `index`.
    MessageSent {
        /// The message's id.
        id: String,
        /// Its index in the conversation; `None` when the SDK resolved without it (some builds do): the message's
        /// echo (matched by its `flexdeskId`) then tells the index.
        index: Option<u64>,
    },
    /// Delivery failed, with the HTTP-ish status of the SDK's error if it had one. Network errors, 429 and 5xx
    /// are retried (after [`Timer::Retry`] or the next reconnect, whichever comes first); other 4xx are final.
    MessageFailed {
        /// The message's id.
        id: String,
        /// The error's status, if it had one.
        status: Option<u16>,
    },
    /// [`ClientCall::SendFile`] could not even be tried: the shell no longer holds the chosen file, or there is no
    /// conversation to send it to. Final: trying again cannot succeed.
    FileUnavailable {
        /// The upload's id.
        id: String,
    },
    /// The shell fed every participant and message of a [`ClientCall::SyncMessages`] (after them, in order).
    Synced,
    /// A timer asked for with [`Effect::Timer`] is due.
    TimerDue(Timer),
    /// The user started (`true`) or stopped typing (`userTyping`).
    UserTyping(bool),
    /// The user has seen the messages shown so far (`userReadMessages`).
    UserRead,
    /// The page suspended (`true`) or resumed (`false`) the chat with the agent
    /// (`instance.serviceDesk.updateIsSuspended`). Carbon AI Chat never calls the desk about it; the wrapper reads it
    /// from the instance (`getState().humanAgent.isSuspended`, and every `state:change`). While suspended, Carbon
    /// drops what the desk shows (`addMessages(…, !isSuspended())`), so agent messages are held until resumed.
    Suspended(bool),
    /// The SDK's `tokenAboutToExpire`: time to ask the auth server for a new token.
    TokenAboutToExpire,
    /// The SDK's `tokenExpired`: the token lapsed before a new one came (the page slept, the refresh failed for a
    /// while). Asked for like [`Event::TokenAboutToExpire`]: a fresh token is what brings the client back.
    TokenExpired,
    /// The auth server issued a new token ([`AuthCall::RefreshToken`]).
    TokenRefreshed(TokenRefreshed),
    /// The auth server refused a new token (or could not be reached).
    TokenRefused(AuthFailure),
    /// The auth server's queue figures (`GET /v1/agents/availability`), or `None` when they could not be read.
    QueueRead(Option<Availability>),
    /// This session's own place in the queue (`GET /v1/sessions/{id}/queue`), or `None` when it could not be read
    /// (an auth server without the route, a failure): the queue-wide figures are read instead, as before.
    QueuePositionRead(Option<QueuePosition>),
    /// The user ended the chat.
    EndRequested,
    /// The conversation was closed by the agent / contact centre.
    ConversationClosed,
    /// The auth server added the customer's phone to the chat (`POST /v1/sessions/{id}/sms` with the number
    /// [`crate::Session::sms_request`] gave; `sms.rs`): the number masked, as it answered.
    SmsAdded(String),
}

/// What survives a page reload. Small and JSON-serialisable: it goes to the web chat's session storage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PersistedState {
    /// The auth server's session id.
    pub session_id: String,
    /// The session credential (refreshes the token and ends the chat).
    pub credential: String,
    /// The conversation (`CH…`).
    pub conversation_sid: String,
    /// The customer's Conversations identity.
    pub identity: String,
    /// The agent in the chat, if one joined.
    #[serde(default)]
    pub agent: Option<Agent>,
    /// An agent joined this chat, whether or not one is in it now (during a cold transfer none is): the web chat
    /// counts it as connected until it ends (Carbon's persisted `isConnected`). States saved before this field
    /// count as connected when they name an agent.
    #[serde(default)]
    pub connected: bool,
    /// Highest conversation index shown to the user.
    #[serde(default)]
    pub last_shown: Option<u64>,
    /// User messages not yet confirmed by Twilio, oldest first.
    #[serde(default)]
    pub outbox: Vec<Outgoing>,
    /// The chat's media link query ([`crate::wire::SessionCreated::media_link_query`]), so a reload keeps linking
    /// agent files through the auth server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_link_query: Option<String>,
    /// The chat goes on by SMS too ([`crate::Session::continues_by_sms`]).
    #[serde(default)]
    pub by_sms: bool,
}

/// A file the user picked ([`Event::FilesSelected`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChosenFile {
    /// The web chat's id of the upload.
    pub id: String,
    /// The file's name.
    pub name: String,
    /// Its size, in bytes.
    pub size: u64,
}
