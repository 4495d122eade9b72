//! What the session asks the shell to do ([`Effect`]), one enum per target, and how agent messages become web
//! chat items.

use super::event::{Agent, Content, Timer};
pub use super::media_link::MediaLinks;
#[cfg(doc)]
use super::{Event, PersistedState, Session};
use crate::texts::Text;
use crate::wire::CreateSessionRequest;

/// One item of an agent message as the web chat shows it (one `output.generic` item each). Text is passed as
/// typed: Carbon removes HTML from human-agent text itself (`removeHTML`, markdown-it with `html: false`), so
/// escaping it again would show `&lt;` in code spans and break `&` in links.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AgentItem {
    /// Text (markdown), as the agent typed it.
    Text(String),
    /// An image, shown inline.
    Image {
        /// Where the image can be loaded: the auth server's media link, else a temporary URL.
        url: String,
        /// Its file name.
        title: String,
    },
    /// A file that is not an image: a link named after the file.
    File {
        /// Where the file can be downloaded: the auth server's media link, else a temporary URL.
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
    /// Whether a chat found at the web chat's start is still open ([`Event::ChatFound`]): a token for it
    /// (`POST /v1/sessions/{id}/token`, whose token is not used); answer with [`Event::ChatChecked`].
    CheckChat {
        /// The session's id.
        session_id: String,
        /// Its session credential.
        credential: String,
    },
    /// `DELETE /v1/sessions/{id}` with `"reason": "idle"`: the customer did not answer "Are you still there?"; the
    /// server tells the agent why before ending.
    EndIdle {
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
pub enum ClientCall {
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
pub enum WebCall {
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
    /// `agentEndedChat` without Carbon's own lines: the desk ended the chat and said why in its own line first (the
    /// idle close, issue 28), so Carbon's "{agent} ended the chat." (`agent_agentEndedChat`) would be wrong. The wrapper
    /// (`js/index.js` `endQuietly`) suspends the web chat first, as for [`TabCall::LetGo`]: Carbon 1.9.1's `doEndChat`
    /// adds its end line and the assistant's return line through `addMessages(…, !wasSuspended)`
    /// (HumanAgentServiceImpl.ts, humanAgentUtils.ts), and its `HA_END_CHAT` clears the suspension, so the next chat
    /// with the bot or an agent is shown as usual.
    ChatEndedQuietly,
    /// A status line from the desk itself (centred, under nobody's name), e.g. that the chat continues by SMS.
    Notice(Text),
    /// The chat with an agent is over: the page's `onChatEnd` hook hears how (once per chat, after the web chat
    /// was told).
    Outcome(Outcome),
}

/// Calls to the page about this customer's other tabs (the npm wrapper, `js/index.js`, carries them out with the
/// tabs' `BroadcastChannel`, the shared `localStorage` copy and the web chat instance): see `tab.rs`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TabCall {
    /// Tell the other tabs this tab holds the chat `session_id` now: the one holding it lets go
    /// ([`Event::TakenElsewhere`]).
    Announce {
        /// The chat taken.
        session_id: String,
    },
    /// Add a connect card for the open chat with this text (`connect_to_agent`): accepting it, the web chat asks
    /// `areAnyAgentsOnline`, then calls `startChat`, which adopts the chat ([`Event::Adopt`]).
    Offer(Text),
    /// End the chat in this tab's web chat without a word, the chat going on in another tab: suspend it
    /// (`instance.serviceDesk.updateIsSuspended(true)`), then `endConversation()`. Carbon 1.9.1 ends a chat from the
    /// page only with `endConversation()` (`agentEndConversation(false)`: instance/ChatInstanceImpl.ts →
    /// HumanAgentServiceImpl.ts `endChat(false)`), which adds "You disconnected from the live agent."
    /// (`agent_conversationWasEnded`) and, 1.5 s later, the assistant's return line, both through
    /// `addMessages(…, !wasSuspended)` (humanAgentUtils.ts `doEndChat`); suspended first
    /// (humanAgentReducers.ts `HA_UPDATE_IS_SUSPENDED`, cleared again by `HA_END_CHAT`), the ending adds nothing.
    /// Carried out in order with the web chat's other calls: an [`TabCall::Offer`] after it comes after the end.
    LetGo,
    /// Remove the shared copy of the chat: it is over (ended while no tab had it).
    Forget,
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
    /// The customer did not answer "Are you still there?" (issue 28).
    Idle,
}

impl EndedBy {
    /// The name the page sees (`endedBy`): `agent`, `customer`, `failure`, `closedBeforeAgent`.
    pub fn key(self) -> &'static str {
        match self {
            EndedBy::Agent => "agent",
            EndedBy::Customer => "customer",
            EndedBy::Failure => "failure",
            EndedBy::ClosedBeforeAgent => "closedBeforeAgent",
            EndedBy::Idle => "idle",
        }
    }
}

/// How a chat with an agent ended ([`WebCall::Outcome`]): told exactly once per chat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// Who or what ended it.
    pub ended_by: EndedBy,
    /// The last agent in the chat, if one joined.
    pub agent: Option<Agent>,
    /// Whether an agent ever joined.
    pub agent_joined: bool,
    /// What rates and erases this chat (issue 28): the ended session's id and credential, which the auth server
    /// accepts for a while after the end (`POST /v1/sessions/{id}/rating`, `…/erase`). Every chat that had a session
    /// carries it, also one no agent joined: its conversation at Twilio holds the customer's messages, which an erasure
    /// must reach (whether there is anyone to rate is [`Outcome::agent_joined`]'s to say). `None` only when the chat
    /// ended before the auth server created its session (refused, or ended while being created).
    pub ticket: Option<SessionTicket>,
}

/// The ended session a rating or an erasure goes to ([`Outcome::ticket`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionTicket {
    /// The session id (the request's URL).
    pub session_id: String,
    /// The session credential (the request's proof).
    pub credential: String,
}

/// What the shell must do, as returned by [`Session::handle`], in order.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Call the auth server.
    Auth(AuthCall),
    /// Call the Conversations client.
    Client(ClientCall),
    /// Call the web chat.
    Web(WebCall),
    /// Call the page about the other tabs.
    Tab(TabCall),
    /// Feed [`Event::TimerDue`] with `timer` after this many milliseconds.
    Timer {
        /// Which timer.
        timer: Timer,
        /// Milliseconds from now.
        delay_ms: u64,
    },
    /// The saved state changed: store what [`Session::to_save`] says when the shell gets round to it (in the web
    /// chat and in the copy every tab reads), so a reload can [`Event::Resume`] and another tab [`Event::Adopt`].
    /// A marker rather than the state itself: a burst of messages then costs one save, not one copy of the outbox
    /// per message.
    Persist,
}

/// The items the web chat shows for an agent message: its text first, then each file (an image inline, any
/// other file as a link), none dropped. With `links`, each file's URL is its auth server link, which resolves to a
/// fresh temporary URL whenever it is opened (a reload, a restored history, a click an hour later); without, the
/// temporary URL the shell read, which Twilio lets expire.
pub fn agent_items(content: Content, links: Option<&MediaLinks<'_>>) -> Vec<AgentItem> {
    let mut items = Vec::new();
    if let Some(body) = content.body.filter(|b| !b.trim().is_empty()) {
        items.push(AgentItem::Text(body));
    }
    for m in content.media {
        let url = links.and_then(|l| l.url(&m.sid)).unwrap_or(m.url);
        items.push(if m.content_type.starts_with("image/") {
            AgentItem::Image { url, title: m.filename }
        } else {
            AgentItem::File { url, name: m.filename }
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
