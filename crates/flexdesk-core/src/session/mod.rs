//! One customer's chat with a Flex agent, as a sans-IO state machine.
//!
//! Rules this module guarantees (and `tests/properties.rs` checks over random event sequences):
//! - user messages sent before the conversation is joined (or while the connection is down) are queued and
//!   handed to the shell exactly once, in order, one at a time, once it is joined;
//! - nothing is emitted after the chat ended, until a new chat is started (except ending a session whose
//!   creation was still under way when the user ended: it is ended as soon as it exists; and the check of files
//!   the user picks, [`Event::FilesSelected`], which answers the web chat's file picker whenever it is used);
//! - an agent message (by conversation index) is shown at most once, however often it is replayed;
//! - every `startChat` / `reconnect` promise is settled exactly once ([`WebCall::StartSettled`],
//!   [`WebCall::ReconnectSettled`]).
//!
//! How Carbon AI Chat 1.9.1 reacts to what the desk reports decides several rules here; each cites the place in
//! its source (`packages/ai-chat/src/chat/services/haa/HumanAgentServiceImpl.ts`, compiled in
//! `node_modules/@carbon/ai-chat/dist/es/chat.ChatAppEntry.js`, class `HumanAgentServiceImpl` and
//! `ServiceDeskCallbackImpl`).
//!
//! The session is a sum type over the link to the conversation (`Link`): a live chat is one value
//! (`Chat`: credentials, step, outbox, roster, transcript), so "chatting without credentials" cannot be
//! written and a new chat starts from nothing but the page's [`Config`].
//!
//! Layout, by concern: [`event`] what the session reacts to, [`effect`] what it asks for, [`config`] what the page
//! sets, `chat` a live chat, `outbox` the customer's messages on their way, `roster` the agents, `transcript` what
//! the customer has seen, `wait` the wait shown before an agent joins, `backoff` the retry delays, `sms` going on by SMS, `tab` the rules
//! between the customer's tabs (who holds the chat, when it is offered, letting go), `idle` "Are you still there?".

mod backoff;
mod chat;
mod creds;
mod media_link;
pub mod config;
pub mod effect;
pub mod event;
mod idle;
mod outbox;
mod roster;
mod sms;
mod tab;
mod transcript;
mod wait;

use serde::{Deserialize, Serialize};

pub use config::{
    Config, IDLE_CLOSE_MS, JOIN_TIMEOUT_MS, MAX_BODY_BYTES, MAX_REJOINS, MAX_ROUTING_POLLS, QUEUE_POLL_MS, ROUTING_POLL_MS, TYPING_REPEAT_MS,
};
pub use effect::{agent_items, file_link, AgentItem, AuthCall, ClientCall, Effect, EndedBy, ErrorStatus, Outcome, SessionTicket, TabCall, WebCall};
pub use event::{Agent, AuthFailure, ChosenFile, ConnState, Content, Event, Media, Participant, PersistedState, Timer};
pub use outbox::Outgoing;
pub use tab::Save;

use crate::media::MediaLimits;
use crate::texts::{Retry, Text};
use crate::wire::CreateSessionRequest;
use chat::{Chat, Creds, Fate, Owed, Step};
use outbox::Outbox;
use roster::Roster;

/// One customer's chat: feed it [`Event`]s with [`Session::handle`] and carry out the [`Effect`]s it returns.
#[derive(Debug, Clone)]
pub struct Session {
    config: Config,
    /// The page suspended the chat ([`Event::Suspended`]). Kept across chats: it is the web chat's state (Carbon
    /// keeps it across a reload and clears it itself when a chat ends, telling the wrapper).
    suspended: bool,
    link: Link,
}

/// Where the session is with the conversation; each phase carries exactly the data it has.
#[derive(Debug, Clone)]
enum Link {
    Idle,
    /// Waiting for the auth server to create the session; the customer's messages queue meanwhile.
    Starting { start: Start, outbox: Outbox },
    /// A chat with credentials: resuming, joining or joined.
    Live(Chat),
    Ended,
    /// The chat went on in another tab ([`Event::TakenElsewhere`]): over here, kept open there.
    Elsewhere,
}

/// What becomes of a session being created when the auth server answers.
#[derive(Debug, Clone)]
enum Start {
    /// `startChat` awaits it: it becomes the live chat.
    Asked,
    /// The user ended meanwhile (`startChat` settled, the outcome told): it is ended as soon as it exists.
    Cancelled,
    /// Ended, then asked for again: once the cancelled one is ended, this request goes out (its `startChat`
    /// awaits).
    Again(CreateSessionRequest),
}

impl Default for Session {
    fn default() -> Self {
        Self::new()
    }
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

/// The customer-facing message for an auth server refusal: chosen by its stable error code, never its message
/// (which names Twilio's internals). Codes: docs/auth-server.md, "HTTP API".
pub fn refusal(f: &AuthFailure) -> Text {
    let later = Retry::after(f.retry_after_secs);
    // The server's `wire::ErrorCode` names, as strings: matching the enum costs the size-budgeted wasm every name
    // (measured: +0.3 KiB gzipped); `refusal_codes_are_the_servers` keeps each string one of the enum's.
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
    /// A session with no chat and the default [`Config`]: Twilio's media limits, [`JOIN_TIMEOUT_MS`] and
    /// [`QUEUE_POLL_MS`].
    pub fn new() -> Self {
        Session::with_config(Config::default())
    }

    /// A session with no chat and the page's `config`.
    pub fn with_config(config: Config) -> Self {
        Session { config, suspended: false, link: Link::Idle }
    }

    /// A session that checks files against `limits` instead of Twilio's.
    pub fn with_limits(limits: MediaLimits) -> Self {
        Session::with_config(Config { limits, ..Config::default() })
    }

    /// Asks "Are you still there?" after `prompt_ms` of the customer's silence with an agent (`None`: never), and closes
    /// `close_ms` later without an answer (session/idle.rs).
    pub fn set_idle(&mut self, prompt_ms: Option<u64>, close_ms: u64) {
        self.config.idle_prompt_ms = prompt_ms.map(|ms| ms.max(1));
        self.config.idle_close_ms = close_ms.max(1);
    }

    /// This session, giving each join `ms` milliseconds (at least 1) instead of [`JOIN_TIMEOUT_MS`].
    pub fn with_join_timeout(mut self, ms: u64) -> Self {
        self.config.join_timeout_ms = ms.max(1);
        self
    }

    /// This session, reading the queue position every `ms` milliseconds (at least 1 s) while waiting, instead of
    /// every [`QUEUE_POLL_MS`].
    pub fn with_queue_poll(mut self, ms: u64) -> Self {
        self.config.queue_poll_ms = ms.max(1_000);
        self
    }

    /// This session, linking agent files through the auth server at `url` when it offers media links.
    pub fn with_auth_server(mut self, url: &str) -> Self {
        self.config.auth_server_url = url.trim_end_matches('/').into();
        self
    }

    /// Whether agent messages need Twilio's temporary URLs for their files: not when the chat links them through
    /// the auth server (then the shell skips the SDK's `getContentTemporaryUrl`, one media-service call per file).
    pub fn wants_temporary_urls(&self) -> bool {
        self.chat().is_none_or(|c| c.creds.media_links(&self.config).is_none())
    }

    /// The limits files are checked against.
    pub fn limits(&self) -> &MediaLimits {
        &self.config.limits
    }

    /// Where the chat is.
    pub fn phase(&self) -> Phase {
        match &self.link {
            Link::Idle => Phase::Idle,
            Link::Starting { .. } => Phase::Starting,
            Link::Live(chat) => match chat.step {
                Step::Resuming { .. } => Phase::Resuming,
                Step::Joining { .. } => Phase::Joining,
                Step::Joined if chat.roster.current.is_some() => Phase::Chatting,
                Step::Joined => Phase::Waiting,
            },
            Link::Ended | Link::Elsewhere => Phase::Ended,
        }
    }

    /// True once the chat is over here (until a new one is started), also when it went to another tab.
    pub fn is_ended(&self) -> bool {
        matches!(self.link, Link::Ended | Link::Elsewhere)
    }

    fn chat(&self) -> Option<&Chat> {
        match &self.link {
            Link::Live(chat) => Some(chat),
            _ => None,
        }
    }

    /// The agent the customer is chatting with, if one joined.
    pub fn current_agent(&self) -> Option<&Agent> {
        self.chat()?.roster.current.as_ref()
    }

    /// The customer's Conversations identity, once the auth server created the session.
    pub fn identity(&self) -> Option<&str> {
        self.chat().map(|c| c.creds.identity.as_str())
    }

    /// Messages waiting to be handed to Twilio (queued plus the one in flight).
    pub fn pending(&self) -> usize {
        match &self.link {
            Link::Starting { outbox, .. } => outbox.len(),
            Link::Live(chat) => chat.outbox.len(),
            _ => 0,
        }
    }

    /// What a reload needs to resume this chat; `None` when there is no chat to resume.
    pub fn saved_state(&self) -> Option<PersistedState> {
        self.chat().map(Chat::saved_state)
    }

    /// A chat is being started or is live: the customer's messages are taken.
    fn open(&self) -> bool {
        !matches!(self.link, Link::Idle | Link::Ended | Link::Elsewhere)
    }

    /// Applies one event and returns what the shell must do, in order.
    pub fn handle(&mut self, event: Event) -> Vec<Effect> {
        let mut out = Vec::new();
        match event {
            Event::StartRequested(req) => match &mut self.link {
                Link::Idle | Link::Ended | Link::Elsewhere => self.begin(req, &mut out),
                // The cancelled creation has not answered yet: this start goes out once it is ended.
                Link::Starting { start: start @ (Start::Cancelled | Start::Again(_)), .. } => *start = Start::Again(req),
                _ => {}
            },
            Event::Resume(mut state) => {
                if !self.open() {
                    Session::announce(&state.session_id, &mut out);
                    // The web chat kept its own record of the agent across the reload, and whether it counts the
                    // chat as connected (also during a cold transfer, when it shows no agent).
                    let roster = Roster::resumed(state.agent.take(), state.connected);
                    self.link = Link::Live(Chat::resumed(state, roster, Owed::Reconnect, &mut out));
                }
            }
            Event::Adopt { chat: mut state, this_tab } => {
                if !self.open() {
                    Session::announce(&state.session_id, &mut out);
                    // The agent, if any, is announced again when the participants are synced after the join; the
                    // agent's messages are shown after what this tab showed of this chat (nothing of another one).
                    state.agent = None;
                    state.last_shown = this_tab.filter(|t| t.session_id == state.session_id).and_then(|t| t.last_shown);
                    self.link = Link::Live(Chat::resumed(state, Roster::default(), Owed::Start, &mut out));
                }
            }
            Event::ChatFound { chat, connected } => self.found(chat, connected, &mut out),
            Event::ChatChecked(refused) => self.checked(refused, &mut out),
            Event::TakenElsewhere { session_id } => self.taken_elsewhere(&session_id, &mut out),
            Event::SessionCreated(s) => {
                let Some((start, outbox)) = self.take_start() else { return out };
                let creds = Creds::created(s.clone());
                match start {
                    Start::Asked => {
                        out.push(Effect::Web(WebCall::StartSettled));
                        self.link = Link::Live(Chat::created(creds, s.token, outbox, &self.config, &mut out));
                        out.push(Effect::Persist);
                    }
                    // The user ended while the chat was being created: end it now it exists.
                    start => {
                        out.push(creds.end());
                        self.after_cancelled(start, &mut out);
                    }
                }
            }
            Event::SessionRefused(why) => {
                let Some((start, _)) = self.take_start() else { return out };
                match start {
                    // A rejected startChat makes Carbon show its own default text (only `logInfo` is passed on):
                    // report the reason as CONNECTING with `messageToUser`, then resolve.
                    Start::Asked => {
                        out.push(Effect::Web(WebCall::SetError(ErrorStatus::Connecting { message: refusal(&why) })));
                        out.push(Effect::Web(WebCall::StartSettled));
                        out.push(no_agent_outcome(EndedBy::Failure));
                    }
                    start => self.after_cancelled(start, &mut out),
                }
            }
            Event::UserMessage { id, text } => {
                if !self.open() {
                    return out;
                }
                if text.len() > MAX_BODY_BYTES {
                    out.push(Effect::Web(WebCall::SetError(ErrorStatus::UserMessage { id })));
                } else if !text.trim().is_empty() {
                    self.queue(Outgoing::Text { id, text }, true, &mut out);
                    self.customer_active(&mut out);
                }
            }
            Event::FilesSelected(files) => {
                // Any time: Carbon offers the file picker before a chat too; nothing is kept.
                for ChosenFile { id, name, size } in files {
                    if let Err(why) = self.config.limits.check(&name, size) {
                        out.push(Effect::Web(WebCall::FileStatus { id, error: Some(why.text()) }));
                    }
                }
            }
            Event::UserFile { id, name, size } => {
                if !self.open() {
                    return out;
                }
                match self.config.limits.check(&name, size) {
                    Err(why) => out.push(Effect::Web(WebCall::FileStatus { id, error: Some(why.text()) })),
                    Ok(()) => {
                        self.queue(Outgoing::File { id }, false, &mut out);
                        self.customer_active(&mut out);
                    }
                }
            }
            Event::Suspended(suspended) => {
                self.suspended = suspended;
                if let (false, Link::Live(chat)) = (suspended, &mut self.link) {
                    if chat.transcript.release(&mut out) {
                        out.push(Effect::Persist);
                    }
                }
            }
            Event::EndRequested if matches!(self.link, Link::Starting { .. }) => {
                let Link::Starting { start, outbox } = &mut self.link else { return out };
                outbox.abandon_files(&mut out);
                match std::mem::replace(start, Start::Cancelled) {
                    // Nothing to end yet: remember it, so the session is ended when it arrives; Carbon still awaits
                    // startChat, and a promise rejected later would cancel whatever chat runs then.
                    Start::Asked => {
                        out.push(Effect::Web(WebCall::StartSettled));
                        out.push(Effect::Persist);
                        out.push(no_agent_outcome(EndedBy::Customer));
                    }
                    // The start asked for again is dropped before it went out.
                    Start::Again(_) => {
                        out.push(Effect::Web(WebCall::StartSettled));
                        out.push(no_agent_outcome(EndedBy::Customer));
                    }
                    Start::Cancelled => {}
                }
            }
            Event::SmsAdded(masked) => self.sms_added(masked, &mut out),
            event => {
                if let Link::Live(chat) = &mut self.link {
                    if let Fate::Over = chat.handle(&self.config, self.suspended, event, &mut out) {
                        self.link = Link::Ended;
                    }
                }
            }
        }
        out
    }

    fn begin(&mut self, req: CreateSessionRequest, out: &mut Vec<Effect>) {
        self.link = Link::Starting { start: Start::Asked, outbox: Outbox::new(Vec::new()) };
        out.push(Effect::Auth(AuthCall::CreateSession(req)));
    }

    /// The session being created, taken out of the link (which is then `Ended`), when there is one.
    fn take_start(&mut self) -> Option<(Start, Outbox)> {
        match std::mem::replace(&mut self.link, Link::Ended) {
            Link::Starting { start, outbox } => Some((start, outbox)),
            other => {
                self.link = other;
                None
            }
        }
    }

    /// The cancelled creation answered (and was ended if it had made a session): start the next chat if one was
    /// asked for meanwhile.
    fn after_cancelled(&mut self, start: Start, out: &mut Vec<Effect>) {
        if let Start::Again(req) = start {
            self.begin(req, out);
        }
    }

    /// The customer's message or file: queued while the chat starts, or with the live chat.
    fn queue(&mut self, m: Outgoing, save: bool, out: &mut Vec<Effect>) {
        match &mut self.link {
            Link::Starting { outbox, .. } => outbox.push(m),
            Link::Live(chat) => chat.queue(m, save, out),
            _ => {}
        }
    }

    /// The customer sent something: counts as an answer to "Are you still there?" ([`Chat::customer_active`]).
    fn customer_active(&mut self, out: &mut Vec<Effect>) {
        if let Link::Live(chat) = &mut self.link {
            chat.customer_active(&self.config, out);
        }
    }
}

/// How a chat ended that never had a session (it was still being created): no agent, and no ticket.
fn no_agent_outcome(ended_by: EndedBy) -> Effect {
    Effect::Web(WebCall::Outcome(Outcome { ended_by, agent: None, agent_joined: false, ticket: None }))
}

#[cfg(test)]
mod refusal_codes {
    use super::*;
    use crate::wire::ErrorCode;

    /// Every code `refusal` matches is a name of the server's `ErrorCode`, and each gives its own text.
    #[test]
    fn refusal_codes_are_the_servers() {
        let texts: Vec<Text> = [
            ErrorCode::TooManySessions,
            ErrorCode::RateLimited,
            ErrorCode::TwilioBusy,
            ErrorCode::VerificationRequired,
            ErrorCode::VerificationFailed,
            ErrorCode::IdentityInvalid,
        ]
        .into_iter()
        .map(|c| refusal(&AuthFailure { status: 429, code: Some(c.as_str().to_string()), retry_after_secs: None }))
        .collect();
        let unknown = refusal(&AuthFailure { status: 429, code: Some("no_such_code".into()), retry_after_secs: None });
        for t in &texts {
            assert_ne!(t, &unknown, "{t:?} is matched, not the fallback");
        }
        let closed = refusal(&AuthFailure { status: 503, code: Some(ErrorCode::OutsideBusinessHours.as_str().into()), retry_after_secs: Some(3600) });
        assert_eq!(closed, Text::Unavailable(Retry::Later));
    }
}
