//! One customer's chat with a Flex agent, as a sans-IO state machine.
//!
//! Rules this module guarantees (and `tests/properties.rs` checks over random event sequences):
//! - user messages sent before the conversation is joined (or while the connection is down) are queued and
//!   handed to the shell exactly once, in order, one at a time, once it is joined;
//! - nothing is emitted after the chat ended, until a new chat is started (except ending a session whose
//!   creation was still under way when the user ended: it is ended as soon as it exists);
//! - an agent message (by conversation index) is shown at most once, however often it is replayed;
//! - every `startChat` / `reconnect` promise is settled exactly once ([`Web::StartSettled`],
//!   [`Web::ReconnectSettled`]).
//!
//! How Carbon AI Chat 1.9.1 reacts to what the desk reports decides several rules here; each cites the place in
//! its source (`packages/ai-chat/src/chat/services/haa/HumanAgentServiceImpl.ts`, compiled in
//! `node_modules/@carbon/ai-chat/dist/es/chat.ChatAppEntry.js`, class `HumanAgentServiceImpl` and
//! `ServiceDeskCallbackImpl`).
//!
//! The session is a sum type over the link to the conversation (`Link`): the credentials exist exactly in the
//! phases that have them, so "chatting without credentials" cannot be written.

use std::collections::{BTreeSet, VecDeque};

use serde::{Deserialize, Serialize};

use crate::media::MediaLimits;
use crate::texts::{Retry, Text};
use crate::wire::{Availability, CreateSessionRequest, QueuePosition, SessionCreated, TokenRefreshed};

/// Twilio refuses message bodies over 32 KB; refusing early gives the user a clear error instead.
pub const MAX_BODY_BYTES: usize = 32 * 1024;

/// How many times in a row a Conversations client that gave up is replaced (fresh token, new client) before
/// the chat is given up.
pub const MAX_REJOINS: u32 = 3;

/// How long joining the conversation may take, unless the desk is configured otherwise
/// ([`Session::with_join_timeout`]). The SDK's `getConversationBySid` waits until the client is connected, which
/// never happens while its socket keeps retrying; and Carbon blocks the chat until `reconnect` settles
/// (`handleHydration` awaits `serviceDesk.reconnect()`).
pub const JOIN_TIMEOUT_MS: u64 = 20_000;

/// How often the queue figures are read again while waiting for an agent, unless the desk is configured otherwise
/// ([`Session::with_queue_poll`]).
pub const QUEUE_POLL_MS: u64 = 30_000;

/// How soon the queue is read again while the chat is not in it yet. Flex routes a moment after the start (the
/// address's Studio flow runs on the hand-off message; `POST /v1/Interactions` "only indicates that the server has
/// accepted the request"): the first reads can come before the task exists (docs/emulator.md, "Flex's pipeline").
pub const ROUTING_POLL_MS: u64 = 2_000;
/// At most this many such early reads per chat; then [`QUEUE_POLL_MS`] again.
pub const MAX_ROUTING_POLLS: u8 = 5;

/// A human agent as the web chat shows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Agent {
    /// The agent's Conversations identity.
    pub id: String,
    /// The name shown to the customer (see [`Participant::agent`]).
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
    /// `attributes.member_type` (`"customer"` / `"agent"`), when set.
    pub member_type: Option<String>,
    /// The Conversations User's `friendlyName` (`participant.getUser()`): where Flex puts the agent's name.
    pub friendly_name: Option<String>,
    /// `attributes.avatar`, when set.
    pub avatar: Option<String>,
}

impl Participant {
    /// Anyone but the customer (`me`) who is not marked as a customer is an agent; the name is the User's
    /// friendly name, else the identity.
    pub fn agent(&self, me: &str) -> Option<Agent> {
        if self.identity == me || self.member_type.as_deref() == Some("customer") {
            return None;
        }
        let name = self.friendly_name.as_deref().map(str::trim).filter(|n| !n.is_empty()).unwrap_or(&self.identity);
        Some(Agent { id: self.identity.clone(), name: name.into(), avatar: self.avatar.clone() })
    }
}

/// One attached file of a conversation message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Media {
    /// The file's name as sent.
    pub filename: String,
    /// Its MIME type, e.g. `image/png`.
    pub content_type: String,
    /// A temporary URL (Twilio's expire after minutes): resolved by the shell when the message is shown.
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

/// One item of an agent message as the web chat shows it (one `output.generic` item each). Text is passed as
/// typed: Carbon removes HTML from human-agent text itself (`removeHTML`, markdown-it with `html: false`), so
/// escaping it again would show `&lt;` in code spans and break `&` in links.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AgentItem {
    /// Text (markdown), as the agent typed it.
    Text(String),
    /// An image, shown inline.
    Image {
        /// Where the image can be loaded (temporary).
        url: String,
        /// Its file name.
        title: String,
    },
    /// A file that is not an image: a link named after the file.
    File {
        /// Where the file can be downloaded (temporary).
        url: String,
        /// Its file name.
        name: String,
    },
}

/// The web chat's error states (`ErrorType` in Carbon AI Chat).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorStatus {
    /// The chat could not start (or resume), with the text shown to the user; the web chat treats the chat as
    /// ended. Only before an agent joined: after that Carbon would not end the chat (see [`Session`]'s `fail`).
    Connecting {
        /// The text shown to the user.
        message: Text,
    },
    /// The connection to Twilio is down (`true`) or back (`false`).
    Disconnected(bool),
    /// One user message could not be delivered.
    UserMessage {
        /// The web chat's id of the message.
        id: String,
    },
}

/// Why the auth server did not answer as hoped: its HTTP status (0 when it was not reached), its stable error
/// `code` (`{"error": {"code"}}`, see docs/auth-server.md and [`crate::wire::ApiError`]) and `Retry-After`.
/// Never its message: the customer sees a message chosen here ([`refusal`]).
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
    /// same Flex task, instead of creating one; the web chat does not know its agent yet, so the agent is
    /// announced again and the agent's messages after `last_shown` are shown.
    Adopt(PersistedState),
    /// Another tab took this chat over: close the connection but keep the session (the other tab carries on).
    Released,
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
    /// A participant joined the conversation (also reported for those present at [`Client::SyncMessages`]).
    ParticipantJoined(Participant),
    /// A participant left the conversation.
    ParticipantLeft(Participant),
    /// The contact centre says the chat is being moved to another agent.
    AgentTransferred {
        /// The agent the chat goes to, when known.
        to: Option<Agent>,
    },
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
    /// The user chose a file to send (`filesToUpload`); checked against the [`MediaLimits`] first.
    UserFile {
        /// The web chat's id of the upload; the shell keeps the file under it.
        id: String,
        /// The file's name.
        name: String,
        /// Its size, in bytes.
        size: u64,
    },
    /// The shell delivered [`Client::SendMessage`] / [`Client::SendFile`]; Twilio gave it `index`.
    MessageSent {
        /// The message's id.
        id: String,
        /// Its index in the conversation.
        index: u64,
    },
    /// Delivery failed, with the HTTP-ish status of the SDK's error if it had one. Network errors, 429 and 5xx
    /// are retried (after [`Timer::Retry`] or the next reconnect, whichever comes first); other 4xx are final.
    MessageFailed {
        /// The message's id.
        id: String,
        /// The error's status, if it had one.
        status: Option<u16>,
    },
    /// [`Client::SendFile`] could not even be tried: the shell no longer holds the chosen file, or there is no
    /// conversation to send it to. Final: trying again cannot succeed.
    FileUnavailable {
        /// The upload's id.
        id: String,
    },
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
    /// The SDK's `tokenAboutToExpire` (or `tokenExpired`): time to ask the auth server for a new token.
    TokenAboutToExpire,
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
}

/// Calls to the auth server.
#[derive(Debug, Clone, PartialEq)]
pub enum AuthCall {
    /// `POST /v1/sessions`; answer with [`Event::SessionCreated`] or [`Event::SessionRefused`].
    CreateSession(CreateSessionRequest),
    /// `POST /v1/sessions/{id}/token`; answer with [`Event::TokenRefreshed`] or [`Event::TokenRefused`].
    RefreshToken {
        /// The session's id.
        session_id: String,
        /// Its session credential.
        credential: String,
    },
    /// `DELETE /v1/sessions/{id}`: end the chat for the agent too.
    EndSession {
        /// The session's id.
        session_id: String,
        /// Its session credential.
        credential: String,
    },
    /// Read the queue figures; answer with [`Event::QueueRead`].
    ReadQueue,
    /// Read this session's own place in the queue; answer with [`Event::QueuePositionRead`].
    ReadPosition {
        /// The session's id.
        session_id: String,
        /// Its session credential.
        credential: String,
    },
}

/// Calls to the Conversations client.
#[derive(Debug, Clone, PartialEq)]
pub enum Client {
    /// Replace any client by a new one for `token` (clearing the old one's listeners) and join the conversation.
    Join {
        /// The access token for the new client.
        token: String,
        /// The conversation to join (`CH…`).
        conversation_sid: String,
    },
    /// Load messages with an index above `after` (all when `None`) and the present participants, and feed
    /// them back as events; duplicates are dropped here.
    SyncMessages {
        /// The highest index already shown, if any.
        after: Option<u64>,
    },
    /// Hand the current client a fresh token (`updateToken`).
    UpdateToken {
        /// The new access token.
        token: String,
    },
    /// Send a text; answer with [`Event::MessageSent`] or [`Event::MessageFailed`].
    SendMessage {
        /// The web chat's id of the message (sent along as the `flexdeskId` message attribute).
        id: String,
        /// The text.
        text: String,
    },
    /// Send the file the shell keeps under `id`; answer with [`Event::MessageSent`], [`Event::MessageFailed`] or
    /// [`Event::FileUnavailable`].
    SendFile {
        /// The upload's id.
        id: String,
    },
    /// Tell the agent the customer is typing (`conversation.typing()`).
    SendTyping,
    /// Move the customer's read horizon to `index` (`advanceLastReadMessageIndex`).
    SetReadHorizon {
        /// The highest index the customer has seen.
        index: u64,
    },
    /// Shut the client down and forget its listeners.
    Close,
}

/// Calls to the web chat (`ServiceDeskCallback`) and the settling of its pending promises.
#[derive(Debug, Clone, PartialEq)]
pub enum Web {
    /// Resolve the pending `startChat` promise (never rejected: see [`Event::SessionRefused`]).
    StartSettled,
    /// Resolve the pending `reconnect` promise with whether the chat is back.
    ReconnectSettled(bool),
    /// `updateAgentAvailability({ positionInQueue })` (Carbon 1.9.1's `AgentAvailability` is camelCase and
    /// its `AvailabilityMessage` formats `agent_connectingQueue` in the user's language).
    QueuePosition(u32),
    /// `updateAgentAvailability({ estimatedWaitTime })`, in minutes: Carbon 1.9.1 prefers it to the position
    /// (AvailabilityMessage.tsx, `agent_connectingMinutes`: "Current wait time is {time} minutes").
    WaitMinutes(u32),
    /// `agentJoined`.
    AgentJoined(Agent),
    /// `agentLeftChat`.
    AgentLeft,
    /// `beginTransferToAnotherAgent`, with the next agent when known.
    BeginTransfer(Option<Agent>),
    /// `sendMessageToUser`: one agent message, as web chat items.
    ShowAgentMessage {
        /// The identity of the agent who wrote it; `None` when its author is not an agent who joined this chat (a
        /// Studio greeting, a supervisor, the system): it is then shown as a status line, under nobody's name.
        /// Carbon shows a message whose `agentID` no agent joined under as the current agent's (and before any agent
        /// joined, as the bot's): HumanAgentServiceImpl.ts `sendMessageToUser`, `responseUserProfiles[agentID]`
        /// falling back to `responseUserProfile`.
        agent_id: Option<String>,
        /// The message's items.
        items: Vec<AgentItem>,
    },
    /// `agentTyping`.
    ShowAgentTyping(bool),
    /// `agentReadMessages`: the agent has read the customer's messages.
    ShowAgentRead,
    /// `setErrorStatus`.
    SetError(ErrorStatus),
    /// `setFileUploadStatus`: `error: None` means the file was delivered.
    FileStatus {
        /// The upload's id.
        id: String,
        /// Why it failed, as shown to the user.
        error: Option<Text>,
    },
    /// `agentEndedChat`.
    ChatEnded,
    /// The chat with an agent is over: the page's `onChatEnd` hook hears how (once per chat, after the web chat
    /// was told).
    Outcome(Outcome),
}

/// Who or what ended a chat with an agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndedBy {
    /// The agent (or the contact centre) closed the conversation after an agent joined.
    Agent,
    /// The customer ended it (also while it was still being created or waiting).
    Customer,
    /// It could not start, or could not go on (refused, join timeouts, the connection given up).
    Failure,
    /// The conversation was closed before any agent joined.
    ClosedBeforeAgent,
}

impl EndedBy {
    /// The name the page sees (`endedBy`): `agent`, `customer`, `failure`, `closedBeforeAgent`.
    pub fn key(self) -> &'static str {
        match self {
            EndedBy::Agent => "agent",
            EndedBy::Customer => "customer",
            EndedBy::Failure => "failure",
            EndedBy::ClosedBeforeAgent => "closedBeforeAgent",
        }
    }
}

/// How a chat with an agent ended ([`Web::Outcome`]): told exactly once per chat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// Who or what ended it.
    pub ended_by: EndedBy,
    /// The last agent in the chat, if one joined.
    pub agent: Option<Agent>,
    /// Whether an agent ever joined.
    pub agent_joined: bool,
}

/// What the shell must do, as returned by [`Session::handle`], in order.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Call the auth server.
    Auth(AuthCall),
    /// Call the Conversations client.
    Client(Client),
    /// Call the web chat.
    Web(Web),
    /// Feed [`Event::TimerDue`] with `timer` after this many milliseconds.
    Timer {
        /// Which timer.
        timer: Timer,
        /// Milliseconds from now.
        delay_ms: u64,
    },
    /// The saved state changed: store [`Session::saved_state`] (or forget it when that is `None`) so a reload
    /// can [`Event::Resume`]. A marker rather than the state itself: a burst of messages then costs one save
    /// when the shell gets round to it, not one copy of the outbox per message.
    Persist,
}

/// Where the chat is, as [`Session::phase`] reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Phase {
    /// No chat yet.
    Idle,
    /// Waiting for the auth server.
    Starting,
    /// Refreshing the token before (re)joining.
    Resuming,
    /// Connecting the Conversations client.
    Joining,
    /// In the conversation, no agent yet.
    Waiting,
    /// An agent is (or was) in the conversation.
    Chatting,
    /// The chat is over (ended by either side, or given up).
    Ended,
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
    /// Highest conversation index shown to the user.
    #[serde(default)]
    pub last_shown: Option<u64>,
    /// User messages not yet confirmed by Twilio, oldest first.
    #[serde(default)]
    pub outbox: Vec<Outgoing>,
}

/// A user message not yet confirmed by Twilio (`{"kind": "text" | "file", ...}` in the saved state).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Outgoing {
    /// A text message.
    Text {
        /// The web chat's id of the message.
        id: String,
        /// The text.
        text: String,
    },
    /// A file, which the shell keeps under `id`.
    File {
        /// The upload's id.
        id: String,
    },
}

impl Outgoing {
    fn id(&self) -> &str {
        match self {
            Outgoing::Text { id, .. } | Outgoing::File { id } => id,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Creds {
    session_id: String,
    credential: String,
    conversation_sid: String,
    identity: String,
}

impl Creds {
    fn end(&self) -> Effect {
        Effect::Auth(AuthCall::EndSession { session_id: self.session_id.clone(), credential: self.credential.clone() })
    }
}

/// Where the session is with the conversation; each phase carries exactly the data it has.
#[derive(Debug, Clone)]
enum Link {
    Idle,
    /// Waiting for the auth server; `cancelled` when the user ended meanwhile: the session is ended as soon as it
    /// exists.
    Starting { cancelled: bool },
    /// Getting a fresh token before joining: after a reload (`rejoin: false`) or to replace a client that gave
    /// up (`rejoin: true`).
    Resuming { creds: Creds, rejoin: bool },
    /// Connecting the Conversations client; `attempt` names its join timer.
    Joining { creds: Creds, attempt: u32 },
    /// In the conversation.
    Joined { creds: Creds },
    Ended,
}

/// What the current Conversations client reported about its connection.
#[derive(Debug, Clone, Default)]
struct ClientConn {
    was_connected: bool,
    disconnecting: bool,
    /// A token waiting for the connection to settle: the real SDK drops a token handed over while it is still
    /// closing an expired connection ("disconnecting", ~3 s).
    pending_token: Option<String>,
}

/// One customer's chat: feed it [`Event`]s with [`Session::handle`] and carry out the [`Effect`]s it returns.
#[derive(Debug, Clone)]
pub struct Session {
    link: Link,
    conn: ClientConn,
    online: bool,
    shown_disconnected: bool,
    refreshing: bool,
    refresh_attempt: u32,
    /// Sending is paused after a retryable failure until the connection comes back.
    send_paused: bool,
    retry_attempt: u32,
    /// Clients replaced since the last successful join.
    rejoins: u32,
    join_attempt: u32,
    /// The web chat awaits `startChat` / `reconnect`.
    start_pending: bool,
    reconnect_pending: bool,
    /// The web chat counts the chat as connected to an agent (`isConnected`, set by `agentJoined`, and kept
    /// across a reload): from then on a failure is never reported as CONNECTING.
    connected: bool,
    outbox: VecDeque<Outgoing>,
    in_flight: Option<Outgoing>,
    agents: Vec<Agent>,
    current_agent: Option<Agent>,
    /// The agent who last joined (kept when they leave): the [`Outcome`]'s agent when none is current.
    last_agent: Option<Agent>,
    /// Every agent announced to the web chat in this chat (`agentJoined`), present or gone: their messages are
    /// shown under their name; anyone else's as a status line.
    announced: Vec<String>,
    /// This chat's [`Outcome`] was told: once per chat.
    outcome_told: bool,
    shown: BTreeSet<u64>,
    /// After a reload, every index up to here was shown before: the web chat keeps its own history.
    shown_floor: Option<u64>,
    last_shown: Option<u64>,
    read_horizon_sent: Option<u64>,
    last_user_index: Option<u64>,
    agent_read_upto: Option<u64>,
    /// What the web chat was last told of the wait: (minutes, the figure); else the queue position.
    wait_shown: Option<(bool, u32)>,
    /// A start asked for while a cancelled one is still being created: sent once that one is ended.
    next_start: Option<CreateSessionRequest>,
    /// Kept across chats.
    limits: MediaLimits,
    /// Kept across chats.
    join_timeout_ms: u64,
    /// Kept across chats: how often the queue position is read while waiting.
    queue_poll_ms: u64,
    /// Queue reads that found the chat not routed yet, before any position was shown ([`ROUTING_POLL_MS`]).
    routing_polls: u8,
    /// The page suspended the chat ([`Event::Suspended`]). Kept across chats: it is the web chat's state (Carbon
    /// keeps it across a reload and clears it itself when a chat ends, telling the wrapper).
    suspended: bool,
    /// Messages that came while suspended, by index: what to show on resume (`None`: nothing to show, e.g. the
    /// bot hand-off). `last_shown` stays below them, so a reload meanwhile replays them.
    held: Vec<(u64, Option<Web>)>,
}

impl Default for Session {
    fn default() -> Self {
        Self::new()
    }
}

/// The customer-facing message for an auth server refusal: chosen by its stable error code, never its message
/// (which names Twilio's internals). Codes: docs/auth-server.md, "HTTP API".
pub fn refusal(f: &AuthFailure) -> Text {
    let later = Retry::after(f.retry_after_secs);
    match f.code.as_deref() {
        _ if f.status == 0 => Text::Unreachable,
        Some("too_many_sessions") => Text::TooManySessions(later),
        Some("rate_limited") => Text::RateLimited(later),
        Some("twilio_busy") => Text::TwilioBusy(later),
        Some("verification_required") => Text::VerificationRequired,
        Some("verification_failed") => Text::VerificationFailed,
        Some("identity_invalid") => Text::IdentityInvalid,
        // Its Retry-After runs to the next opening, often hours: "in about 900 minutes" would read oddly.
        Some("outside_business_hours") => Text::Unavailable(Retry::Later),
        _ => Text::Unavailable(later),
    }
}

/// [`refusal`] in English.
pub fn refusal_text(f: &AuthFailure) -> String {
    refusal(f).english()
}

impl Session {
    /// A session with no chat, Twilio's media limits, [`JOIN_TIMEOUT_MS`] and [`QUEUE_POLL_MS`].
    pub fn new() -> Self {
        Session {
            link: Link::Idle,
            conn: ClientConn::default(),
            online: true,
            shown_disconnected: false,
            refreshing: false,
            refresh_attempt: 0,
            send_paused: false,
            retry_attempt: 0,
            rejoins: 0,
            join_attempt: 0,
            start_pending: false,
            reconnect_pending: false,
            connected: false,
            outbox: VecDeque::new(),
            in_flight: None,
            agents: Vec::new(),
            current_agent: None,
            last_agent: None,
            announced: Vec::new(),
            outcome_told: false,
            shown: BTreeSet::new(),
            shown_floor: None,
            last_shown: None,
            read_horizon_sent: None,
            last_user_index: None,
            agent_read_upto: None,
            wait_shown: None,
            next_start: None,
            limits: MediaLimits::default(),
            join_timeout_ms: JOIN_TIMEOUT_MS,
            queue_poll_ms: QUEUE_POLL_MS,
            routing_polls: 0,
            suspended: false,
            held: Vec::new(),
        }
    }

    /// A session that checks files against `limits` instead of Twilio's.
    pub fn with_limits(limits: MediaLimits) -> Self {
        Session { limits, ..Session::new() }
    }

    /// This session, giving each join `ms` milliseconds (at least 1) instead of [`JOIN_TIMEOUT_MS`].
    pub fn with_join_timeout(self, ms: u64) -> Self {
        Session { join_timeout_ms: ms.max(1), ..self }
    }

    /// This session, reading the queue position every `ms` milliseconds (at least 1 s) while waiting, instead of
    /// every [`QUEUE_POLL_MS`].
    pub fn with_queue_poll(self, ms: u64) -> Self {
        Session { queue_poll_ms: ms.max(1_000), ..self }
    }

    /// The limits files are checked against.
    pub fn limits(&self) -> &MediaLimits {
        &self.limits
    }

    /// Back to a fresh session, keeping the configuration.
    fn reset(&mut self) {
        let limits = std::mem::take(&mut self.limits);
        let join_timeout_ms = self.join_timeout_ms;
        let queue_poll_ms = self.queue_poll_ms;
        let suspended = self.suspended;
        *self = Session::with_limits(limits).with_join_timeout(join_timeout_ms).with_queue_poll(queue_poll_ms);
        self.suspended = suspended;
    }

    /// Where the chat is.
    pub fn phase(&self) -> Phase {
        match &self.link {
            Link::Idle => Phase::Idle,
            Link::Starting { .. } => Phase::Starting,
            Link::Resuming { .. } => Phase::Resuming,
            Link::Joining { .. } => Phase::Joining,
            Link::Joined { .. } if self.current_agent.is_some() => Phase::Chatting,
            Link::Joined { .. } => Phase::Waiting,
            Link::Ended => Phase::Ended,
        }
    }

    /// True once the chat is over (until a new one is started).
    pub fn is_ended(&self) -> bool {
        matches!(self.link, Link::Ended)
    }

    /// The agent the customer is chatting with, if one joined.
    pub fn current_agent(&self) -> Option<&Agent> {
        self.current_agent.as_ref()
    }

    fn creds(&self) -> Option<&Creds> {
        match &self.link {
            Link::Resuming { creds, .. } | Link::Joining { creds, .. } | Link::Joined { creds } => Some(creds),
            _ => None,
        }
    }

    /// The customer's Conversations identity, once the auth server created the session.
    pub fn identity(&self) -> Option<&str> {
        self.creds().map(|c| c.identity.as_str())
    }

    /// Messages waiting to be handed to Twilio (queued plus the one in flight).
    pub fn pending(&self) -> usize {
        self.outbox.len() + usize::from(self.in_flight.is_some())
    }

    /// What a reload needs to resume this chat; `None` when there is no chat to resume.
    pub fn saved_state(&self) -> Option<PersistedState> {
        let c = self.creds()?;
        Some(PersistedState {
            session_id: c.session_id.clone(),
            credential: c.credential.clone(),
            conversation_sid: c.conversation_sid.clone(),
            identity: c.identity.clone(),
            agent: self.current_agent.clone(),
            last_shown: self.last_shown,
            outbox: self.in_flight.iter().chain(self.outbox.iter()).cloned().collect(),
        })
    }

    /// Asks for this session's own place in the queue (the queue-wide figures when there are no credentials).
    fn read_position(&self, out: &mut Vec<Effect>) {
        out.push(Effect::Auth(match self.creds() {
            Some(c) => AuthCall::ReadPosition { session_id: c.session_id.clone(), credential: c.credential.clone() },
            None => AuthCall::ReadQueue,
        }));
    }

    /// `updateAgentAvailability({ positionInQueue })`, only when the position changed.
    fn show_position(&mut self, position: u32, out: &mut Vec<Effect>) {
        self.show_wait(false, position, out);
    }

    /// `updateAgentAvailability` with the estimated wait in minutes (`minutes`) or the position, only when what it
    /// says changed. (A plain pair, not a `Web` compared: the wasm's size.)
    fn show_wait(&mut self, minutes: bool, figure: u32, out: &mut Vec<Effect>) {
        if self.wait_shown != Some((minutes, figure)) {
            self.wait_shown = Some((minutes, figure));
            out.push(Effect::Web(if minutes { Web::WaitMinutes(figure) } else { Web::QueuePosition(figure) }));
        }
    }

    fn joined(&self) -> bool {
        matches!(self.link, Link::Joined { .. })
    }

    fn live(&self) -> bool {
        !matches!(self.link, Link::Idle | Link::Ended)
    }

    /// Applies one event and returns what the shell must do, in order.
    pub fn handle(&mut self, event: Event) -> Vec<Effect> {
        let mut out = Vec::new();
        match event {
            Event::StartRequested(req) => match self.link {
                Link::Idle | Link::Ended => self.begin(req, &mut out),
                Link::Starting { cancelled: true } => {
                    // The cancelled creation has not answered yet: this start goes out once it is ended.
                    self.next_start = Some(req);
                    self.start_pending = true;
                    // A new chat: it gets its own outcome.
                    self.outcome_told = false;
                }
                _ => {}
            },
            Event::Resume(mut state) => {
                if matches!(self.link, Link::Idle | Link::Ended) {
                    let agent = state.agent.take();
                    self.resume(state);
                    self.reconnect_pending = true;
                    // The web chat kept its own record of the agent across the reload.
                    self.connected = agent.is_some();
                    self.current_agent = agent.clone();
                    // Announced before the reload: Carbon keeps its profile (`responseUserProfiles`, persisted).
                    self.announced.extend(agent.as_ref().map(|a| a.id.clone()));
                    self.agents.extend(agent);
                    self.refresh(&mut out);
                }
            }
            Event::Adopt(mut state) => {
                if matches!(self.link, Link::Idle | Link::Ended) {
                    // The agent, if any, is announced again when the participants are synced after the join.
                    state.agent = None;
                    self.resume(state);
                    self.start_pending = true;
                    self.refresh(&mut out);
                }
            }
            Event::Released => {
                if self.creds().is_some() {
                    if matches!(self.link, Link::Joining { .. } | Link::Joined { .. }) {
                        out.push(Effect::Client(Client::Close));
                    }
                    self.settle_start(&mut out);
                    self.settle_reconnect(false, &mut out);
                    // No EndSession: the chat goes on in the other tab.
                    self.link = Link::Ended;
                    out.push(Effect::Persist);
                }
            }
            Event::SessionCreated(s) => {
                if let Link::Starting { cancelled } = self.link {
                    let creds = Creds {
                        session_id: s.session_id,
                        credential: s.session_credential,
                        conversation_sid: s.conversation_sid,
                        identity: s.identity,
                    };
                    if cancelled {
                        // The user ended while the chat was being created: end it now it exists.
                        out.push(creds.end());
                        self.after_cancelled_start(&mut out);
                    } else {
                        self.settle_start(&mut out);
                        self.join(creds, s.token, &mut out);
                        self.persist(&mut out);
                    }
                }
            }
            Event::SessionRefused(why) => {
                if let Link::Starting { cancelled } = self.link {
                    // A rejected startChat makes Carbon show its own default text (only `logInfo` is passed on):
                    // report the reason as CONNECTING with `messageToUser`, then resolve.
                    if cancelled {
                        self.after_cancelled_start(&mut out);
                    } else {
                        out.push(Effect::Web(Web::SetError(ErrorStatus::Connecting { message: refusal(&why) })));
                        self.settle_start(&mut out);
                        self.link = Link::Ended;
                        self.tell_outcome(EndedBy::Failure, &mut out);
                    }
                }
            }
            Event::ConversationJoined => {
                if let Link::Joining { creds, .. } = &self.link {
                    self.link = Link::Joined { creds: creds.clone() };
                    self.rejoins = 0;
                    self.settle_start(&mut out);
                    self.settle_reconnect(true, &mut out);
                    out.push(Effect::Client(Client::SyncMessages { after: self.last_shown }));
                    if self.current_agent.is_none() {
                        self.read_position(&mut out);
                    }
                    self.pump(&mut out);
                }
            }
            Event::JoinFailed { .. } => {
                if matches!(self.link, Link::Joining { .. }) {
                    self.rejoin_or_fail(&mut out);
                }
            }
            Event::TimerDue(Timer::Join(n)) => {
                if matches!(self.link, Link::Joining { attempt, .. } if attempt == n) {
                    if self.reconnect_pending && self.connected {
                        // Do not keep the web chat blocked on `reconnect`: it is back, but disconnected for now.
                        self.settle_reconnect(true, &mut out);
                        self.show_disconnected(&mut out);
                    }
                    self.rejoin_or_fail(&mut out);
                }
            }
            Event::ClientFailed { .. } => {
                if self.joined() {
                    self.rejoin_or_fail(&mut out);
                }
            }
            Event::Connection(state) => self.connection(state, &mut out),
            Event::ParticipantJoined(p) => {
                let Some(me) = self.identity() else { return out };
                let Some(agent) = p.agent(me) else { return out };
                if self.live() && !self.agents.iter().any(|a| a.id == agent.id) {
                    self.agents.push(agent.clone());
                    if self.current_agent.as_ref().is_some_and(|c| c.id != agent.id) {
                        out.push(Effect::Web(Web::BeginTransfer(Some(agent.clone()))));
                    }
                    let already_shown = self.current_agent.as_ref() == Some(&agent) && self.connected;
                    self.current_agent = Some(agent.clone());
                    self.last_agent = Some(agent.clone());
                    if !self.announced.contains(&agent.id) {
                        self.announced.push(agent.id.clone());
                    }
                    if !already_shown {
                        self.connected = true;
                        out.push(Effect::Web(Web::AgentJoined(agent)));
                    }
                    self.persist(&mut out);
                }
            }
            Event::ParticipantLeft(p) => {
                let Some(me) = self.identity() else { return out };
                let Some(agent) = p.agent(me) else { return out };
                if self.live() && self.agents.iter().any(|a| a.id == agent.id) {
                    self.agents.retain(|a| a.id != agent.id);
                    if self.current_agent.as_ref().is_some_and(|c| c.id == agent.id) {
                        // Another agent still present (end of a warm transfer): they carry on.
                        self.current_agent = self.agents.last().cloned();
                        match &self.current_agent {
                            Some(next) => out.push(Effect::Web(Web::AgentJoined(next.clone()))),
                            // The last agent left but Flex kept the conversation open: in Flex an agent leaves an
                            // open chat only to transfer it (ending it closes the conversation), so this is a
                            // cold transfer. The web chat is told the agent left first: only `agentLeftChat`
                            // clears the current agent's profile (HumanAgentServiceImpl.ts `agentLeftChat` →
                            // `setHumanAgentLeftChat`; humanAgentReducers.ts `HA_SET_HUMAN_AGENT_LEFT_CHAT` sets
                            // `responseUserProfile: null`, leaving `isConnected`), while
                            // `beginTransferToAnotherAgent` without a profile keeps the old one in the header, and
                            // a later `agentEndedChat` would name them ("Alice ended the chat"). Then the
                            // transfer (`beginTransferToAnotherAgent`), shown without a name.
                            None => {
                                out.push(Effect::Web(Web::AgentLeft));
                                out.push(Effect::Web(Web::BeginTransfer(None)));
                            }
                        }
                        self.persist(&mut out);
                    }
                }
            }
            Event::AgentTransferred { to } => {
                if self.live() {
                    out.push(Effect::Web(Web::BeginTransfer(to)));
                }
            }
            Event::Message { index, author, client_id, handoff, content } => {
                let Some(me) = self.identity() else { return out };
                if handoff.is_some() {
                    // The bot's hand-off, posted for the agent (issue 22): the customer saw it with the bot
                    // already. Counted as passed, so a later sync does not offer it again; not the customer's
                    // own message either (it was not sent from this web chat).
                    if self.live() && self.shown_floor.is_none_or(|f| index > f) && self.shown.insert(index) {
                        self.passed(index, None, &mut out);
                    }
                } else if author == me {
                    self.own_message_seen(index, client_id, &mut out);
                } else if self.shown_floor.is_none_or(|f| index > f) && self.shown.insert(index) {
                    let agent_id = self.announced.contains(&author).then_some(author);
                    let items = agent_items(content);
                    let show = (!items.is_empty()).then_some(Web::ShowAgentMessage { agent_id, items });
                    self.passed(index, show, &mut out);
                }
            }
            Event::AgentTyping { agent_id, typing } => {
                if self.joined() && self.identity() != Some(agent_id.as_str()) {
                    out.push(Effect::Web(Web::ShowAgentTyping(typing)));
                }
            }
            Event::AgentRead { agent_id, index } => {
                if self.joined()
                    && self.identity() != Some(agent_id.as_str())
                    && self.last_user_index.is_some_and(|u| index >= u)
                    && self.agent_read_upto.is_none_or(|r| index > r)
                {
                    self.agent_read_upto = Some(index);
                    out.push(Effect::Web(Web::ShowAgentRead));
                }
            }
            Event::UserMessage { id, text } => {
                if !self.live() {
                    return out;
                }
                if text.len() > MAX_BODY_BYTES {
                    out.push(Effect::Web(Web::SetError(ErrorStatus::UserMessage { id })));
                } else if !text.trim().is_empty() {
                    self.outbox.push_back(Outgoing::Text { id, text });
                    self.pump(&mut out);
                    self.persist(&mut out);
                }
            }
            Event::UserFile { id, name, size } => {
                if !self.live() {
                    return out;
                }
                match self.limits.check(&name, size) {
                    Err(why) => out.push(Effect::Web(Web::FileStatus { id, error: Some(why.text()) })),
                    Ok(()) => {
                        self.outbox.push_back(Outgoing::File { id });
                        self.pump(&mut out);
                    }
                }
            }
            Event::MessageSent { id, index } => {
                if self.live() && self.in_flight.as_ref().is_some_and(|m| m.id() == id) {
                    let sent = self.in_flight.take();
                    self.retry_attempt = 0;
                    self.last_user_index = self.last_user_index.max(Some(index));
                    if let Some(Outgoing::File { id }) = sent {
                        out.push(Effect::Web(Web::FileStatus { id, error: None }));
                    }
                    self.pump(&mut out);
                    self.persist(&mut out);
                }
            }
            Event::MessageFailed { .. } | Event::FileUnavailable { .. } => {
                let (id, retryable) = match event {
                    // 4xx other than 429 will fail again: report it instead of retrying forever.
                    Event::MessageFailed { id, status } => (id, status.is_none_or(|s| s == 429 || !(400..500).contains(&s))),
                    Event::FileUnavailable { id } => (id, false),
                    _ => return out,
                };
                if self.live() && self.in_flight.as_ref().is_some_and(|m| m.id() == id) {
                    let failed = self.in_flight.take();
                    if let (true, Some(m)) = (retryable, failed.clone()) {
                        self.outbox.push_front(m);
                        self.send_paused = true;
                        let delay_ms = (500u64 << self.retry_attempt.min(5)).min(10_000);
                        self.retry_attempt = self.retry_attempt.saturating_add(1);
                        out.push(Effect::Timer { timer: Timer::Retry, delay_ms });
                    } else {
                        match failed {
                            Some(Outgoing::File { id }) => out.push(Effect::Web(Web::FileStatus {
                                id,
                                error: Some(Text::FileNotSent),
                            })),
                            _ => out.push(Effect::Web(Web::SetError(ErrorStatus::UserMessage { id }))),
                        }
                        self.pump(&mut out);
                    }
                    self.persist(&mut out);
                }
            }
            Event::TimerDue(Timer::Retry) => {
                if self.live() && self.send_paused {
                    self.send_paused = false;
                    self.pump(&mut out);
                }
            }
            Event::TimerDue(Timer::Refresh) => {
                if self.live() {
                    self.refresh(&mut out);
                }
            }
            Event::TimerDue(Timer::Queue) => {
                if self.joined() && self.current_agent.is_none() {
                    self.read_position(&mut out);
                }
            }
            Event::QueuePositionRead(answer) => {
                if self.joined() && self.current_agent.is_none() {
                    match answer {
                        // The chat's own place (issue 17). Not waiting (an agent accepted and is joining): nothing
                        // to show, read again until the agent is there.
                        Some(p) => {
                            // The wait when the server estimates one (Carbon prefers it: AvailabilityMessage.tsx),
                            // in whole minutes, rounded up (Carbon's `estimatedWaitTime` is in minutes); else the place.
                            match (p.waiting, p.estimated_wait_seconds, p.position) {
                                (true, Some(secs), _) => {
                                    let minutes = u32::try_from(secs.div_ceil(60)).unwrap_or(u32::MAX).max(1);
                                    self.show_wait(true, minutes, &mut out);
                                }
                                (true, None, Some(position)) => self.show_position(position.max(1), &mut out),
                                _ => {}
                            }
                            // Not in the queue before any wait was shown: most likely not routed yet, so soon again.
                            let routing = !p.waiting && self.wait_shown.is_none() && self.routing_polls < MAX_ROUTING_POLLS;
                            if routing {
                                self.routing_polls += 1;
                            }
                            let delay_ms = if routing { ROUTING_POLL_MS.min(self.queue_poll_ms) } else { self.queue_poll_ms };
                            out.push(Effect::Timer { timer: Timer::Queue, delay_ms });
                        }
                        // Fall back to the queue-wide figures (their answer re-arms the timer).
                        None => out.push(Effect::Auth(AuthCall::ReadQueue)),
                    }
                }
            }
            Event::QueueRead(figures) => {
                if self.joined() && self.current_agent.is_none() {
                    // The fallback when the session's own place could not be read: how many chats wait in the
                    // queue; this chat is one of them, most likely the last (an upper bound).
                    if let Some(a) = figures {
                        self.show_position(a.tasks_waiting.max(1), &mut out);
                    }
                    out.push(Effect::Timer { timer: Timer::Queue, delay_ms: self.queue_poll_ms });
                }
            }
            Event::UserTyping(typing) => {
                // The Conversations SDK has no "stopped typing" signal: the indicator lapses on its own.
                if typing && self.joined() && self.online {
                    out.push(Effect::Client(Client::SendTyping));
                }
            }
            Event::Suspended(suspended) => {
                self.suspended = suspended;
                if !suspended && !self.held.is_empty() {
                    let held = std::mem::take(&mut self.held);
                    if self.live() {
                        for (index, show) in held {
                            self.last_shown = self.last_shown.max(Some(index));
                            out.extend(show.map(Effect::Web));
                        }
                        self.persist(&mut out);
                    }
                }
            }
            Event::UserRead => {
                if self.joined() && self.online && self.last_shown > self.read_horizon_sent {
                    self.read_horizon_sent = self.last_shown;
                    if let Some(index) = self.last_shown {
                        out.push(Effect::Client(Client::SetReadHorizon { index }));
                    }
                }
            }
            Event::TokenAboutToExpire => {
                if self.creds().is_some() {
                    self.refresh(&mut out);
                }
            }
            Event::TokenRefreshed(t) => {
                if self.live() && self.refreshing {
                    self.refreshing = false;
                    self.refresh_attempt = 0;
                    match &self.link {
                        Link::Resuming { creds, .. } => {
                            let creds = creds.clone();
                            self.join(creds, t.token, &mut out);
                        }
                        _ => {
                            self.conn.pending_token = Some(t.token);
                            self.apply_token(&mut out);
                        }
                    }
                }
            }
            Event::TokenRefused(why) => {
                if self.live() && self.refreshing {
                    self.refreshing = false;
                    if why.is_transient() && self.refresh_attempt < MAX_REJOINS {
                        // Not a "no": ask again in a while.
                        let delay_ms = (2_000u64 << self.refresh_attempt.min(4)).min(30_000);
                        self.refresh_attempt += 1;
                        out.push(Effect::Timer { timer: Timer::Refresh, delay_ms });
                    } else if matches!(self.link, Link::Resuming { rejoin: false, .. }) {
                        // The saved chat is over (ended elsewhere, or expired): forget it; the web chat ends it
                        // itself when `reconnect` answers false (`handleHydration`). An adopted chat was asked for
                        // with `startChat`: a CONNECTING error with a message tells the customer and ends it.
                        if self.start_pending {
                            out.push(Effect::Web(Web::SetError(ErrorStatus::Connecting { message: Text::ChatFailed })));
                            self.settle_start(&mut out);
                        }
                        self.settle_reconnect(false, &mut out);
                        self.link = Link::Ended;
                        out.push(Effect::Persist);
                    } else {
                        self.fail(&mut out);
                    }
                }
            }
            Event::EndRequested => match self.link {
                Link::Starting { cancelled: false } => {
                    // Nothing to end yet: remember it, so the session is ended when it arrives; Carbon still awaits
                    // startChat, and a promise rejected later would cancel whatever chat runs then.
                    self.link = Link::Starting { cancelled: true };
                    self.settle_start(&mut out);
                    out.push(Effect::Persist);
                    self.tell_outcome(EndedBy::Customer, &mut out);
                }
                Link::Starting { cancelled: true } => {
                    self.next_start = None;
                    self.settle_start(&mut out);
                    self.tell_outcome(EndedBy::Customer, &mut out);
                }
                Link::Resuming { .. } | Link::Joining { .. } | Link::Joined { .. } => {
                    self.end(&mut out);
                    self.tell_outcome(EndedBy::Customer, &mut out);
                }
                _ => {}
            },
            Event::ConversationClosed => {
                if self.creds().is_some() {
                    let by = if self.connected {
                        // Carbon shows "the agent ended the chat" only while connected (`doEndChat`:
                        // `if (isConnected && showHumanAgentLeftMessage)`).
                        out.push(Effect::Web(Web::ChatEnded));
                        EndedBy::Agent
                    } else {
                        // Closed before any agent joined: a CONNECTING error with a message is what ends a
                        // chat that is still connecting, and tells the user.
                        out.push(Effect::Web(Web::SetError(ErrorStatus::Connecting { message: Text::ClosedBeforeAgent })));
                        EndedBy::ClosedBeforeAgent
                    };
                    self.end(&mut out);
                    self.tell_outcome(by, &mut out);
                }
            }
        }
        out
    }

    /// Back to a saved chat: a fresh token first, then the join.
    fn resume(&mut self, state: PersistedState) {
        self.reset();
        self.last_shown = state.last_shown;
        self.shown_floor = state.last_shown;
        self.read_horizon_sent = state.last_shown;
        self.outbox = state.outbox.into();
        self.link = Link::Resuming {
            creds: Creds {
                session_id: state.session_id,
                credential: state.credential,
                conversation_sid: state.conversation_sid,
                identity: state.identity,
            },
            rejoin: false,
        };
    }

    fn begin(&mut self, req: CreateSessionRequest, out: &mut Vec<Effect>) {
        self.reset();
        self.link = Link::Starting { cancelled: false };
        self.start_pending = true;
        out.push(Effect::Auth(AuthCall::CreateSession(req)));
    }

    /// The cancelled creation answered (and was ended if it had made a session): start the next chat if one was
    /// asked for meanwhile.
    fn after_cancelled_start(&mut self, out: &mut Vec<Effect>) {
        match self.next_start.take() {
            Some(req) => self.begin(req, out),
            None => self.link = Link::Ended,
        }
    }

    fn settle_start(&mut self, out: &mut Vec<Effect>) {
        if std::mem::take(&mut self.start_pending) {
            out.push(Effect::Web(Web::StartSettled));
        }
    }

    fn settle_reconnect(&mut self, back: bool, out: &mut Vec<Effect>) {
        if std::mem::take(&mut self.reconnect_pending) {
            out.push(Effect::Web(Web::ReconnectSettled(back)));
        }
    }

    fn show_disconnected(&mut self, out: &mut Vec<Effect>) {
        if self.connected && !self.shown_disconnected {
            self.shown_disconnected = true;
            out.push(Effect::Web(Web::SetError(ErrorStatus::Disconnected(true))));
        }
    }

    /// A new client for `token`, with a timer on how long it may take.
    fn join(&mut self, creds: Creds, token: String, out: &mut Vec<Effect>) {
        self.join_attempt = self.join_attempt.wrapping_add(1);
        self.conn = ClientConn::default();
        out.push(Effect::Client(Client::Join { token, conversation_sid: creds.conversation_sid.clone() }));
        out.push(Effect::Timer { timer: Timer::Join(self.join_attempt), delay_ms: self.join_timeout_ms });
        self.link = Link::Joining { creds, attempt: self.join_attempt };
    }

    /// Maps the SDK's connection states onto the session. Once connected, "connecting" means the SDK is
    /// retrying a dropped connection (the real SDK never says "disconnected" then), so it counts as lost.
    fn connection(&mut self, state: ConnState, out: &mut Vec<Effect>) {
        if self.creds().is_none() {
            return;
        }
        self.conn.disconnecting = state == ConnState::Disconnecting;
        self.apply_token(out);
        let lost = match state {
            ConnState::Connected => {
                self.conn.was_connected = true;
                false
            }
            ConnState::Disconnected | ConnState::Denied | ConnState::Error => true,
            ConnState::Connecting if self.conn.was_connected => true,
            _ => return,
        };
        if lost && self.online {
            self.online = false;
            if self.joined() {
                // While waiting, a DISCONNECTED error would end the chat in Carbon (`setErrorStatus` turns it
                // into CONNECTING while `isConnecting`): say nothing then; the sync catches up.
                self.show_disconnected(out);
            }
        } else if !lost && !self.online {
            self.online = true;
            self.send_paused = false;
            if std::mem::take(&mut self.shown_disconnected) {
                out.push(Effect::Web(Web::SetError(ErrorStatus::Disconnected(false))));
            }
            if self.joined() {
                out.push(Effect::Client(Client::SyncMessages { after: self.last_shown }));
            }
            self.pump(out);
        }
    }

    fn apply_token(&mut self, out: &mut Vec<Effect>) {
        if !self.conn.disconnecting {
            if let Some(token) = self.conn.pending_token.take() {
                out.push(Effect::Client(Client::UpdateToken { token }));
            }
        }
    }

    /// Hands the next queued message to the shell when it can be delivered; one at a time keeps order.
    fn pump(&mut self, out: &mut Vec<Effect>) {
        if !self.joined() || !self.online || self.send_paused || self.in_flight.is_some() {
            return;
        }
        if let Some(next) = self.outbox.pop_front() {
            out.push(Effect::Client(match &next {
                Outgoing::Text { id, text } => Client::SendMessage { id: id.clone(), text: text.clone() },
                Outgoing::File { id } => Client::SendFile { id: id.clone() },
            }));
            self.in_flight = Some(next);
        }
    }

    /// A message authored by the customer came back (live echo, or replay after a reload): when it is one we
    /// still hold as pending, it reached Twilio and must not be sent again.
    /// A message of the conversation is dealt with (`show`: what the web chat shows of it): shown now, or held
    /// while the page has the chat suspended, as Carbon would drop it then (HumanAgentServiceImpl.ts
    /// `sendMessageToUser`: `addMessages(…, !this.service.isSuspended(), …)`).
    fn passed(&mut self, index: u64, show: Option<Web>, out: &mut Vec<Effect>) {
        if self.suspended {
            // Kept in index order (a sync may bring older ones after newer live ones); no sort: the wasm's size.
            let at = self.held.partition_point(|(i, _)| *i < index);
            self.held.insert(at, (index, show));
            return;
        }
        self.last_shown = self.last_shown.max(Some(index));
        out.extend(show.map(Effect::Web));
        self.persist(out);
    }

    fn own_message_seen(&mut self, index: u64, client_id: Option<String>, out: &mut Vec<Effect>) {
        if !self.live() {
            return;
        }
        self.last_user_index = self.last_user_index.max(Some(index));
        let Some(cid) = client_id else { return };
        if self.in_flight.as_ref().is_some_and(|m| m.id() == cid) {
            // Confirmation may still arrive as MessageSent; that is then ignored.
            if let Some(Outgoing::File { id }) = self.in_flight.take() {
                out.push(Effect::Web(Web::FileStatus { id, error: None }));
            }
            self.pump(out);
            self.persist(out);
        } else if let Some(pos) = self.outbox.iter().position(|m| m.id() == cid) {
            self.outbox.remove(pos);
            self.persist(out);
        }
    }

    fn refresh(&mut self, out: &mut Vec<Effect>) {
        if self.refreshing {
            return;
        }
        if let Some(c) = self.creds() {
            let call = AuthCall::RefreshToken { session_id: c.session_id.clone(), credential: c.credential.clone() };
            self.refreshing = true;
            out.push(Effect::Auth(call));
        }
    }

    /// The client cannot carry the chat any more: replace it (a fresh token, then a new client), a few times
    /// in a row at most. What was in flight goes back to the head of the queue; its echo, if it did arrive,
    /// takes it out again.
    fn rejoin_or_fail(&mut self, out: &mut Vec<Effect>) {
        if self.rejoins >= MAX_REJOINS {
            return self.fail(out);
        }
        let Some(creds) = self.creds().cloned() else { return };
        self.rejoins += 1;
        out.push(Effect::Client(Client::Close));
        self.show_disconnected(out);
        self.online = false;
        if let Some(m) = self.in_flight.take() {
            self.outbox.push_front(m);
        }
        self.link = Link::Resuming { creds, rejoin: true };
        self.refreshing = false;
        self.refresh(out);
    }

    /// The chat cannot go on. Before an agent joined, a CONNECTING error ends it in the web chat. After, Carbon
    /// would not end it (`setErrorStatus` CONNECTING clears `chatStarted`, and its `endChat` then returns early:
    /// the user is stuck), so it is reported as DISCONNECTED: the user reads that the connection was lost and can
    /// end the chat from the header, back to the bot.
    fn fail(&mut self, out: &mut Vec<Effect>) {
        if self.reconnect_pending {
            self.settle_reconnect(false, out);
        } else if self.connected {
            self.show_disconnected(out);
        } else {
            out.push(Effect::Web(Web::SetError(ErrorStatus::Connecting { message: Text::ChatFailed })));
        }
        self.end(out);
        self.tell_outcome(EndedBy::Failure, out);
    }

    /// How this chat ended, for the page's `onChatEnd`: once per chat, whichever way it ends. Not when the chat
    /// goes on elsewhere (another tab took it over) or was found over when resumed (ended in another tab, or
    /// while the page was away): that page told it, or nobody saw it end.
    fn tell_outcome(&mut self, ended_by: EndedBy, out: &mut Vec<Effect>) {
        if !std::mem::replace(&mut self.outcome_told, true) {
            let agent = self.current_agent.clone().or_else(|| self.last_agent.clone());
            out.push(Effect::Web(Web::Outcome(Outcome { ended_by, agent, agent_joined: self.connected })));
        }
    }

    /// Ends the session on the auth server, closes the client, forgets the saved state.
    fn end(&mut self, out: &mut Vec<Effect>) {
        if let Some(c) = self.creds() {
            out.push(c.end());
        }
        if matches!(self.link, Link::Joining { .. } | Link::Joined { .. }) {
            out.push(Effect::Client(Client::Close));
        }
        self.settle_start(out);
        self.settle_reconnect(false, out);
        out.push(Effect::Persist);
        self.link = Link::Ended;
    }

    fn persist(&self, out: &mut Vec<Effect>) {
        if self.creds().is_some() {
            out.push(Effect::Persist);
        }
    }
}

/// The items the web chat shows for an agent message: its text first, then each file (an image inline, any
/// other file as a link), none dropped.
pub fn agent_items(content: Content) -> Vec<AgentItem> {
    let mut items = Vec::new();
    if let Some(body) = content.body.filter(|b| !b.trim().is_empty()) {
        items.push(AgentItem::Text(body));
    }
    for m in content.media {
        items.push(if m.content_type.starts_with("image/") {
            AgentItem::Image { url: m.url, title: m.filename }
        } else {
            AgentItem::File { url: m.url, name: m.filename }
        });
    }
    items
}

/// A markdown link to a file, shown as the file's name: the characters markdown would read as syntax in the
/// name are backslash-escaped (so it shows as typed), and the URL is kept inside `<…>`.
pub fn file_link(name: &str, url: &str) -> String {
    let mut out = String::from("[");
    for c in name.chars() {
        if matches!(c, '[' | ']' | '\\' | '*' | '_' | '`' | '<' | '>' | '&') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push_str("](<");
    for c in url.chars() {
        match c {
            '<' => out.push_str("%3C"),
            '>' => out.push_str("%3E"),
            ' ' => out.push_str("%20"),
            c => out.push(c),
        }
    }
    out.push_str(">)");
    out
}
