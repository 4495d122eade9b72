//! One customer's chat with a Flex agent, as a sans-IO state machine.
//!
//! Rules this module guarantees (and `tests/properties.rs` checks over random event sequences):
//! - user messages sent before the conversation is joined (or while the connection is down) are queued and
//!   handed to the shell exactly once, in order, one at a time, once it is joined;
//! - nothing is emitted after the chat ended, until a new chat is started;
//! - an agent message (by conversation index) is shown at most once, however often it is replayed.

use std::collections::{BTreeSet, VecDeque};

use serde::{Deserialize, Serialize};

use crate::media::check_file;
use crate::wire::{CreateSessionRequest, SessionCreated, TokenRefreshed};

/// Twilio refuses message bodies over 32 KB; refusing early gives the user a clear error instead.
pub const MAX_BODY_BYTES: usize = 32 * 1024;

/// How many times in a row a Conversations client that gave up is replaced (fresh token, new client) before
/// the chat is given up.
pub const MAX_REJOINS: u32 = 3;

/// A human agent as the web chat shows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Agent {
    pub id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avatar: Option<String>,
}

/// What a conversation message carries: Twilio never mixes text and media in one message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Content {
    Text { body: String },
    Media { filename: String, content_type: String, url: String },
}

/// The web chat's error states (`ErrorType` in Carbon AI Chat).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorStatus {
    /// The chat could not start (or resume); the web chat treats the chat as ended.
    Connecting { message: String },
    /// The connection to Twilio is down (`true`) or back (`false`).
    Disconnected(bool),
    /// One user message could not be delivered.
    UserMessage { id: String },
}

#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// The web chat asked for an agent (`startChat`).
    StartRequested(CreateSessionRequest),
    /// The auth server created the session.
    SessionCreated(SessionCreated),
    /// The auth server refused to create the session (or could not be reached).
    SessionRefused { message: String },
    /// After a page reload: carry on with the chat saved by [`Effect::Persist`].
    Resume(PersistedState),
    /// The Conversations client is connected and subscribed to the conversation.
    ConversationJoined,
    /// The Conversations client could not reach the conversation.
    JoinFailed { message: String },
    /// The Conversations client gave up for good (a terminal connection error) after the chat was joined.
    ClientFailed { message: String },
    AgentJoined(Agent),
    AgentLeft { agent_id: String },
    /// The contact centre says the chat is being moved to another agent.
    AgentTransferred { to: Option<Agent> },
    /// A message in the conversation, live or replayed; `author` tells the customer's own from the agent's.
    Message { index: u64, author: String, client_id: Option<String>, content: Content },
    AgentTyping { agent_id: String, typing: bool },
    /// An agent's read horizon (`lastReadMessageIndex`) moved.
    AgentRead { agent_id: String, index: u64 },
    UserMessage { id: String, text: String },
    UserFile { id: String, name: String, size: u64 },
    /// The shell delivered [`Effect::SendMessage`] / [`Effect::SendFile`]; Twilio gave it `index`.
    MessageSent { id: String, index: u64 },
    /// Delivery failed. `retryable` failures (network, 5xx) are retried after [`Effect::ScheduleRetry`]'s delay
    /// or the next reconnect, whichever comes first.
    MessageFailed { id: String, retryable: bool },
    /// The delay asked for by [`Effect::ScheduleRetry`] has passed.
    RetryDue,
    UserTyping(bool),
    UserRead,
    ConnectionLost,
    ConnectionRestored,
    TokenAboutToExpire,
    TokenRefreshed(TokenRefreshed),
    TokenRefused { message: String },
    /// The user ended the chat.
    EndRequested,
    /// The conversation was closed by the agent / contact centre.
    ConversationClosed,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    // Auth server.
    CreateSession(CreateSessionRequest),
    RefreshToken { session_id: String, credential: String },
    EndSession { session_id: String, credential: String },
    // Conversations client.
    JoinConversation { token: String, conversation_sid: String },
    /// Load messages with an index above `after` (all when `None`) and the present participants, and feed
    /// them back as events; duplicates are dropped here.
    SyncMessages { after: Option<u64> },
    UpdateToken { token: String },
    SendMessage { id: String, text: String },
    SendFile { id: String },
    SendTyping,
    /// Feed [`Event::RetryDue`] after this many milliseconds (exponential backoff, capped).
    ScheduleRetry { delay_ms: u64 },
    SetReadHorizon { index: u64 },
    CloseClient,
    // Web chat.
    WaitingStatus { message: String },
    AgentJoined(Agent),
    AgentLeft,
    BeginTransfer(Option<Agent>),
    ShowAgentMessage { agent_id: String, content: Content },
    ShowAgentTyping(bool),
    ShowAgentRead,
    SetError(ErrorStatus),
    /// `error: None` means the file was delivered.
    FileStatus { id: String, error: Option<String> },
    ChatEnded { by_agent: bool },
    /// The saved state changed: store [`Session::saved_state`] (or forget it when that is `None`) so a reload
    /// can [`Event::Resume`]. A marker rather than the state itself: a burst of messages then costs one save
    /// when the shell gets round to it, not one copy of the outbox per message.
    Persist,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Phase {
    Idle,
    /// Waiting for the auth server.
    Starting,
    /// Refreshing the token after a reload.
    Resuming,
    /// Connecting the Conversations client.
    Joining,
    /// In the conversation, no agent yet.
    Waiting,
    /// An agent is (or was) in the conversation.
    Chatting,
    Ended,
}

/// What survives a page reload. Small and JSON-serialisable: it goes to the web chat's session storage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PersistedState {
    pub session_id: String,
    pub credential: String,
    pub conversation_sid: String,
    pub identity: String,
    #[serde(default)]
    pub agent: Option<Agent>,
    /// Highest conversation index shown to the user.
    #[serde(default)]
    pub last_shown: Option<u64>,
    /// User messages not yet confirmed by Twilio, oldest first.
    #[serde(default)]
    pub outbox: Vec<Outgoing>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Outgoing {
    Text { id: String, text: String },
    File { id: String },
}

impl Outgoing {
    fn id(&self) -> &str {
        match self {
            Outgoing::Text { id, .. } | Outgoing::File { id } => id,
        }
    }
}

#[derive(Debug, Clone)]
struct Creds {
    session_id: String,
    credential: String,
    conversation_sid: String,
    identity: String,
}

#[derive(Debug, Clone)]
pub struct Session {
    phase: Phase,
    creds: Option<Creds>,
    /// Latest token not yet handed to a client (kept between SessionCreated and the join).
    online: bool,
    shown_disconnected: bool,
    refreshing: bool,
    /// Sending is paused after a retryable failure until the connection comes back.
    send_paused: bool,
    retry_attempt: u32,
    /// Clients replaced since the last successful join, and whether the current refresh is for such a rejoin.
    rejoins: u32,
    rejoining: bool,
    outbox: VecDeque<Outgoing>,
    in_flight: Option<Outgoing>,
    agents: Vec<Agent>,
    current_agent: Option<Agent>,
    shown: BTreeSet<u64>,
    /// After a reload, every index up to here was shown before: the web chat keeps its own history.
    shown_floor: Option<u64>,
    last_shown: Option<u64>,
    read_horizon_sent: Option<u64>,
    last_user_index: Option<u64>,
    agent_read_upto: Option<u64>,
}

impl Default for Session {
    fn default() -> Self {
        Self::new()
    }
}

impl Session {
    pub fn new() -> Self {
        Session {
            phase: Phase::Idle,
            creds: None,
            online: true,
            shown_disconnected: false,
            refreshing: false,
            send_paused: false,
            retry_attempt: 0,
            rejoins: 0,
            rejoining: false,
            outbox: VecDeque::new(),
            in_flight: None,
            agents: Vec::new(),
            current_agent: None,
            shown: BTreeSet::new(),
            shown_floor: None,
            last_shown: None,
            read_horizon_sent: None,
            last_user_index: None,
            agent_read_upto: None,
        }
    }

    pub fn phase(&self) -> Phase {
        self.phase
    }

    pub fn is_ended(&self) -> bool {
        self.phase == Phase::Ended
    }

    pub fn current_agent(&self) -> Option<&Agent> {
        self.current_agent.as_ref()
    }

    pub fn identity(&self) -> Option<&str> {
        self.creds.as_ref().map(|c| c.identity.as_str())
    }

    /// Messages waiting to be handed to Twilio (queued plus the one in flight).
    pub fn pending(&self) -> usize {
        self.outbox.len() + usize::from(self.in_flight.is_some())
    }

    /// What a reload needs to resume this chat; `None` when there is no chat to resume.
    pub fn saved_state(&self) -> Option<PersistedState> {
        if matches!(self.phase, Phase::Idle | Phase::Ended) {
            return None;
        }
        let c = self.creds.as_ref()?;
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

    fn joined(&self) -> bool {
        matches!(self.phase, Phase::Waiting | Phase::Chatting)
    }

    fn live(&self) -> bool {
        !matches!(self.phase, Phase::Idle | Phase::Ended)
    }

    pub fn handle(&mut self, event: Event) -> Vec<Effect> {
        let mut out = Vec::new();
        match event {
            Event::StartRequested(req) => {
                if matches!(self.phase, Phase::Idle | Phase::Ended) {
                    *self = Session::new();
                    self.phase = Phase::Starting;
                    out.push(Effect::CreateSession(req));
                }
            }
            Event::Resume(state) => {
                if matches!(self.phase, Phase::Idle | Phase::Ended) {
                    *self = Session::new();
                    self.phase = Phase::Resuming;
                    self.current_agent = state.agent.clone();
                    self.agents.extend(state.agent);
                    self.last_shown = state.last_shown;
                    self.shown_floor = state.last_shown;
                    self.read_horizon_sent = state.last_shown;
                    self.outbox = state.outbox.into();
                    self.creds = Some(Creds {
                        session_id: state.session_id,
                        credential: state.credential,
                        conversation_sid: state.conversation_sid,
                        identity: state.identity,
                    });
                    self.refresh(&mut out);
                }
            }
            Event::SessionCreated(s) => {
                if self.phase == Phase::Starting {
                    self.phase = Phase::Joining;
                    out.push(Effect::JoinConversation { token: s.token, conversation_sid: s.conversation_sid.clone() });
                    self.creds = Some(Creds {
                        session_id: s.session_id,
                        credential: s.session_credential,
                        conversation_sid: s.conversation_sid,
                        identity: s.identity,
                    });
                    self.persist(&mut out);
                }
            }
            Event::SessionRefused { message } => {
                if self.phase == Phase::Starting {
                    out.push(Effect::SetError(ErrorStatus::Connecting { message }));
                    self.phase = Phase::Ended;
                }
            }
            Event::ConversationJoined => {
                if self.phase == Phase::Joining {
                    self.rejoins = 0;
                    self.rejoining = false;
                    self.phase = if self.current_agent.is_some() { Phase::Chatting } else { Phase::Waiting };
                    if self.phase == Phase::Waiting {
                        out.push(Effect::WaitingStatus { message: "Waiting for an agent to join…".into() });
                    }
                    out.push(Effect::SyncMessages { after: self.last_shown });
                    self.pump(&mut out);
                }
            }
            Event::JoinFailed { message } => {
                if self.phase == Phase::Joining {
                    self.rejoin_or_fail(message, &mut out);
                }
            }
            Event::ClientFailed { message } => {
                if self.joined() {
                    self.rejoin_or_fail(message, &mut out);
                }
            }
            Event::AgentJoined(agent) => {
                if self.live() && !self.agents.iter().any(|a| a.id == agent.id) {
                    self.agents.push(agent.clone());
                    if self.current_agent.as_ref().is_some_and(|c| c.id != agent.id) {
                        out.push(Effect::BeginTransfer(Some(agent.clone())));
                    }
                    let already_shown = self.current_agent.as_ref() == Some(&agent);
                    self.current_agent = Some(agent.clone());
                    if !already_shown {
                        out.push(Effect::AgentJoined(agent));
                    }
                    if self.phase == Phase::Waiting {
                        self.phase = Phase::Chatting;
                    }
                    self.persist(&mut out);
                }
            }
            Event::AgentLeft { agent_id } => {
                if self.live() && self.agents.iter().any(|a| a.id == agent_id) {
                    self.agents.retain(|a| a.id != agent_id);
                    if self.current_agent.as_ref().is_some_and(|c| c.id == agent_id) {
                        // Another agent still present (end of a warm transfer): they carry on.
                        self.current_agent = self.agents.last().cloned();
                        if let Some(next) = &self.current_agent {
                            out.push(Effect::AgentJoined(next.clone()));
                        } else {
                            out.push(Effect::AgentLeft);
                        }
                        self.persist(&mut out);
                    }
                }
            }
            Event::AgentTransferred { to } => {
                if self.live() {
                    out.push(Effect::BeginTransfer(to));
                }
            }
            Event::Message { index, author, client_id, content } => {
                if !self.live() {
                    return out;
                }
                let own = self.creds.as_ref().is_some_and(|c| c.identity == author);
                if own {
                    self.own_message_seen(index, client_id, &mut out);
                } else if self.shown_floor.is_none_or(|f| index > f) && self.shown.insert(index) {
                    self.last_shown = self.last_shown.max(Some(index));
                    let agent_id = self.agents.iter().find(|a| a.id == author).map(|a| a.id.clone()).unwrap_or(author);
                    out.push(Effect::ShowAgentMessage { agent_id, content });
                    self.persist(&mut out);
                }
            }
            Event::AgentTyping { agent_id: _, typing } => {
                if self.joined() {
                    out.push(Effect::ShowAgentTyping(typing));
                }
            }
            Event::AgentRead { agent_id: _, index } => {
                if self.joined()
                    && self.last_user_index.is_some_and(|u| index >= u)
                    && self.agent_read_upto.is_none_or(|r| index > r)
                {
                    self.agent_read_upto = Some(index);
                    out.push(Effect::ShowAgentRead);
                }
            }
            Event::UserMessage { id, text } => {
                if !self.live() {
                    return out;
                }
                if text.len() > MAX_BODY_BYTES {
                    out.push(Effect::SetError(ErrorStatus::UserMessage { id }));
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
                match check_file(&name, size) {
                    Err(why) => out.push(Effect::FileStatus { id, error: Some(why.message()) }),
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
                        out.push(Effect::FileStatus { id, error: None });
                    }
                    self.pump(&mut out);
                    self.persist(&mut out);
                }
            }
            Event::MessageFailed { id, retryable } => {
                if self.live() && self.in_flight.as_ref().is_some_and(|m| m.id() == id) {
                    let failed = self.in_flight.take();
                    if let (true, Some(m)) = (retryable, failed.clone()) {
                        self.outbox.push_front(m);
                        self.send_paused = true;
                        let delay_ms = (500u64 << self.retry_attempt.min(5)).min(10_000);
                        self.retry_attempt = self.retry_attempt.saturating_add(1);
                        out.push(Effect::ScheduleRetry { delay_ms });
                    } else {
                        match failed {
                            Some(Outgoing::File { id }) => out.push(Effect::FileStatus {
                                id,
                                error: Some("The file could not be sent.".into()),
                            }),
                            _ => out.push(Effect::SetError(ErrorStatus::UserMessage { id })),
                        }
                        self.pump(&mut out);
                    }
                    self.persist(&mut out);
                }
            }
            Event::RetryDue => {
                if self.live() && self.send_paused {
                    self.send_paused = false;
                    self.pump(&mut out);
                }
            }
            Event::UserTyping(typing) => {
                // The Conversations SDK has no "stopped typing" signal: the indicator lapses on its own.
                if typing && self.joined() && self.online {
                    out.push(Effect::SendTyping);
                }
            }
            Event::UserRead => {
                if self.joined() && self.online && self.last_shown > self.read_horizon_sent {
                    self.read_horizon_sent = self.last_shown;
                    if let Some(index) = self.last_shown {
                        out.push(Effect::SetReadHorizon { index });
                    }
                }
            }
            Event::ConnectionLost => {
                if self.live() && self.online {
                    self.online = false;
                    if self.phase == Phase::Chatting {
                        self.shown_disconnected = true;
                        out.push(Effect::SetError(ErrorStatus::Disconnected(true)));
                    } else if self.phase == Phase::Waiting {
                        // A DISCONNECTED error while waiting would end the chat in the web chat: just say so.
                        out.push(Effect::WaitingStatus { message: "Connection lost, reconnecting…".into() });
                    }
                }
            }
            Event::ConnectionRestored => {
                if self.live() && !self.online {
                    self.online = true;
                    self.send_paused = false;
                    if std::mem::take(&mut self.shown_disconnected) {
                        out.push(Effect::SetError(ErrorStatus::Disconnected(false)));
                    } else if self.phase == Phase::Waiting {
                        out.push(Effect::WaitingStatus { message: "Waiting for an agent to join…".into() });
                    }
                    if self.joined() {
                        out.push(Effect::SyncMessages { after: self.last_shown });
                    }
                    self.pump(&mut out);
                }
            }
            Event::TokenAboutToExpire => {
                if self.live() && self.creds.is_some() {
                    self.refresh(&mut out);
                }
            }
            Event::TokenRefreshed(t) => {
                if self.live() && self.refreshing {
                    self.refreshing = false;
                    if self.phase == Phase::Resuming {
                        self.phase = Phase::Joining;
                        let conversation_sid = self.creds.as_ref().map(|c| c.conversation_sid.clone()).unwrap_or_default();
                        out.push(Effect::JoinConversation { token: t.token, conversation_sid });
                    } else {
                        out.push(Effect::UpdateToken { token: t.token });
                    }
                }
            }
            Event::TokenRefused { message } => {
                if self.live() && self.refreshing {
                    self.refreshing = false;
                    if self.phase == Phase::Resuming && self.rejoining {
                        self.rejoining = false;
                        if self.current_agent.is_some() {
                            // Chatting before the client failed: say the connection is down rather than end.
                            self.shown_disconnected = true;
                            out.push(Effect::SetError(ErrorStatus::Disconnected(true)));
                        }
                        self.fail(message, &mut out);
                    } else if self.phase == Phase::Resuming {
                        // The saved chat is over (ended elsewhere, or expired): forget it quietly.
                        self.phase = Phase::Ended;
                        out.push(Effect::Persist);
                    } else if self.phase == Phase::Chatting {
                        self.shown_disconnected = true;
                        out.push(Effect::SetError(ErrorStatus::Disconnected(true)));
                    } else {
                        self.fail(message, &mut out);
                    }
                }
            }
            Event::EndRequested => {
                if self.live() {
                    self.end(false, &mut out);
                }
            }
            Event::ConversationClosed => {
                if self.live() && self.phase != Phase::Starting {
                    self.end(true, &mut out);
                }
            }
        }
        out
    }

    /// Hands the next queued message to the shell when it can be delivered; one at a time keeps order.
    fn pump(&mut self, out: &mut Vec<Effect>) {
        if !self.joined() || !self.online || self.send_paused || self.in_flight.is_some() {
            return;
        }
        if let Some(next) = self.outbox.pop_front() {
            out.push(match &next {
                Outgoing::Text { id, text } => Effect::SendMessage { id: id.clone(), text: text.clone() },
                Outgoing::File { id } => Effect::SendFile { id: id.clone() },
            });
            self.in_flight = Some(next);
        }
    }

    /// A message authored by the customer came back (live echo, or replay after a reload): when it is one we
    /// still hold as pending, it reached Twilio and must not be sent again.
    fn own_message_seen(&mut self, index: u64, client_id: Option<String>, out: &mut Vec<Effect>) {
        self.last_user_index = self.last_user_index.max(Some(index));
        let Some(cid) = client_id else { return };
        if self.in_flight.as_ref().is_some_and(|m| m.id() == cid) {
            // Confirmation may still arrive as MessageSent; that is then ignored.
            if let Some(Outgoing::File { id }) = self.in_flight.take() {
                out.push(Effect::FileStatus { id, error: None });
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
        if let Some(c) = &self.creds {
            self.refreshing = true;
            out.push(Effect::RefreshToken { session_id: c.session_id.clone(), credential: c.credential.clone() });
        }
    }

    /// The client cannot carry the chat any more: replace it (a fresh token, then a new client), a few times
    /// in a row at most. What was in flight goes back to the head of the queue; its echo, if it did arrive,
    /// takes it out again.
    fn rejoin_or_fail(&mut self, message: String, out: &mut Vec<Effect>) {
        if self.rejoins >= MAX_REJOINS {
            return self.fail(message, out);
        }
        self.rejoins += 1;
        out.push(Effect::CloseClient);
        if self.phase == Phase::Chatting && !self.shown_disconnected {
            self.shown_disconnected = true;
            out.push(Effect::SetError(ErrorStatus::Disconnected(true)));
        }
        self.online = false;
        if let Some(m) = self.in_flight.take() {
            self.outbox.push_front(m);
        }
        self.phase = Phase::Resuming;
        self.rejoining = true;
        self.refresh(out);
    }

    fn fail(&mut self, message: String, out: &mut Vec<Effect>) {
        out.push(Effect::SetError(ErrorStatus::Connecting { message }));
        self.end_quietly(out);
    }

    fn end(&mut self, by_agent: bool, out: &mut Vec<Effect>) {
        if by_agent {
            out.push(Effect::ChatEnded { by_agent: true });
        }
        self.end_quietly(out);
    }

    fn end_quietly(&mut self, out: &mut Vec<Effect>) {
        if let Some(c) = &self.creds {
            out.push(Effect::EndSession { session_id: c.session_id.clone(), credential: c.credential.clone() });
        }
        if !matches!(self.phase, Phase::Starting | Phase::Resuming) {
            out.push(Effect::CloseClient);
        }
        out.push(Effect::Persist);
        self.phase = Phase::Ended;
    }

    fn persist(&self, out: &mut Vec<Effect>) {
        if self.creds.is_some() {
            out.push(Effect::Persist);
        }
    }
}
