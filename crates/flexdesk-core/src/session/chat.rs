//! A live chat: one value from the moment the auth server created the session (or a saved one is taken up) to its
//! end. A new chat is a new `Chat`; nothing of an old one carries over.
//!
//! Over 600 lines because it is the one `handle` over every event a live chat meets; its parts (outbox, roster,
//! transcript, wait, backoff, media links) are modules of their own.

use super::backoff::Backoff;
pub(super) use super::creds::Creds;
use super::idle::{Due, Idle};
use super::config::{Config, MAX_REJOINS, TYPING_REPEAT_MS};
use super::effect::{AuthCall, ClientCall, EndedBy, Effect, ErrorStatus, Outcome, SessionTicket, WebCall};
use super::event::{ConnState, Event, PersistedState, Timer};
use super::outbox::{Echo, Failed, Outbox, Outgoing};
use super::roster::Roster;
use super::transcript::Transcript;
use super::wait::Wait;
use crate::texts::Text;

/// Where a live chat is with the conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Step {
    /// Getting a fresh token before joining: after a reload (`rejoin: false`) or to replace a client that gave
    /// up (`rejoin: true`).
    Resuming { rejoin: bool },
    /// Connecting the Conversations client; `attempt` names its join timer.
    Joining { attempt: u32 },
    /// In the conversation.
    Joined,
}

/// The web chat's promise a chat still has to settle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Owed {
    /// `startChat` (an adopted chat).
    Start,
    /// `reconnect` (a chat taken up after a reload).
    Reconnect,
}

/// Whether a chat goes on after an event.
#[must_use]
pub(super) enum Fate {
    /// It goes on.
    On,
    /// It is over: the session's link becomes `Ended`.
    Over,
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

/// One chat with an agent, live.
#[derive(Debug, Clone)]
pub(super) struct Chat {
    pub(super) creds: Creds,
    pub(super) step: Step,
    owed: Option<Owed>,
    conn: ClientConn,
    online: bool,
    shown_disconnected: bool,
    /// A token was asked for and not answered yet.
    refreshing: bool,
    /// Transient token refusals: 2 s, doubling, at most 30 s, [`MAX_REJOINS`] times.
    refresh_retry: Backoff,
    /// The user is typing (`userTyping(true)`, not yet `false`).
    typing: bool,
    /// A [`Timer::Typing`] is running: at most one, however often typing starts and stops.
    typing_timer: bool,
    /// The customer's messages wait for the next [`Event::Synced`]: a chat taken up from its saved state (or a
    /// replaced client's, whose message in flight went back to the queue) may hold messages that did reach Twilio;
    /// the sync's echoes (matched by `flexdeskId`) take them out, so they are not sent twice.
    await_sync: bool,
    /// Clients replaced since the last successful join.
    rejoins: u32,
    join_attempt: u32,
    pub(super) outbox: Outbox,
    pub(super) roster: Roster,
    pub(super) transcript: Transcript,
    /// The wait while no agent joined yet.
    wait: Wait,
    /// The customer's silence with an agent: "Are you still there?" (issue 28).
    idle: Idle,
    /// The chat goes on by SMS too (`sms.rs`).
    pub(super) by_sms: bool,
}

impl Chat {
    /// A chat the auth server just created, joined with `token`.
    pub(super) fn created(creds: Creds, token: String, outbox: Outbox, config: &Config, out: &mut Vec<Effect>) -> Chat {
        let mut chat = Chat::new(creds, outbox, Roster::default(), Transcript::default(), None);
        chat.join(config, token, out);
        chat
    }

    /// A saved chat taken up (after a reload, or from another tab): a fresh token first, then the join.
    pub(super) fn resumed(state: PersistedState, roster: Roster, owed: Owed, out: &mut Vec<Effect>) -> Chat {
        let creds = Creds::saved(&state);
        let mut chat = Chat::new(creds, Outbox::new(state.outbox), roster, Transcript::resumed(state.last_shown), Some(owed));
        chat.await_sync = true;
        chat.by_sms = state.by_sms;
        chat.refresh(out);
        chat
    }

    fn new(creds: Creds, outbox: Outbox, roster: Roster, transcript: Transcript, owed: Option<Owed>) -> Chat {
        Chat {
            creds,
            step: Step::Resuming { rejoin: false },
            owed,
            conn: ClientConn::default(),
            online: true,
            shown_disconnected: false,
            refreshing: false,
            refresh_retry: Backoff::new(2_000, 30_000),
            typing: false,
            typing_timer: false,
            await_sync: false,
            rejoins: 0,
            join_attempt: 0,
            outbox,
            roster,
            transcript,
            wait: Wait::default(),
            idle: Idle::default(),
            by_sms: false,
        }
    }

    /// What a reload needs to take this chat up again.
    pub(super) fn saved_state(&self) -> PersistedState {
        let c = &self.creds;
        PersistedState {
            session_id: c.session_id.clone(),
            credential: c.credential.clone(),
            conversation_sid: c.conversation_sid.clone(),
            identity: c.identity.clone(),
            agent: self.roster.current.clone(),
            connected: self.roster.connected,
            last_shown: self.transcript.last_shown,
            outbox: self.outbox.saved(),
            media_link_query: c.media_link_query.clone(),
            by_sms: self.by_sms,
        }
    }

    fn joined(&self) -> bool {
        self.step == Step::Joined
    }

    fn waiting(&self) -> bool {
        self.joined() && self.roster.current.is_none()
    }

    /// Another tab took this chat over: close the connection, settle what the web chat awaits, and keep the
    /// session (no `EndSession`: the chat goes on in the other tab). Nothing is saved: this tab's web chat keeps its
    /// own copy (what it showed, read if it takes the chat back) and the shared copy is the other tab's.
    pub(super) fn let_go(&mut self, out: &mut Vec<Effect>) {
        if matches!(self.step, Step::Joining { .. } | Step::Joined) {
            out.push(Effect::Client(ClientCall::Close));
        }
        self.settle_start(out);
        self.settle_reconnect(false, out);
        // The files stay with this tab's page: the other tab cannot send them.
        self.outbox.abandon_files(out);
    }

    /// Applies one event to the live chat.
    pub(super) fn handle(&mut self, config: &Config, suspended: bool, event: Event, out: &mut Vec<Effect>) -> Fate {
        match event {
            Event::ConversationJoined => {
                if let Step::Joining { .. } = self.step {
                    self.step = Step::Joined;
                    self.rejoins = 0;
                    self.settle_start(out);
                    self.settle_reconnect(true, out);
                    out.push(Effect::Client(ClientCall::SyncMessages { after: self.transcript.last_shown }));
                    if self.roster.current.is_none() {
                        self.read_position(out);
                    }
                    self.pump(out);
                }
            }
            Event::Synced => {
                if std::mem::take(&mut self.await_sync) {
                    self.pump(out);
                }
            }
            Event::JoinFailed { .. } => {
                if let Step::Joining { .. } = self.step {
                    return self.rejoin_or_fail(out);
                }
            }
            Event::TimerDue(Timer::Join(n)) => {
                if self.step == (Step::Joining { attempt: n }) {
                    if self.owed == Some(Owed::Reconnect) && self.roster.connected {
                        // Do not keep the web chat blocked on `reconnect`: it is back, but disconnected for now.
                        self.settle_reconnect(true, out);
                        self.show_disconnected(out);
                    }
                    return self.rejoin_or_fail(out);
                }
            }
            Event::ClientFailed { .. } => {
                if self.joined() {
                    return self.rejoin_or_fail(out);
                }
            }
            Event::Connection(state) => self.connection(state, out),
            Event::ParticipantJoined(p) => {
                if let Some(agent) = p.agent(&self.creds.identity) {
                    if self.roster.joined(agent, out) {
                        out.push(Effect::Persist);
                    }
                    // The customer's silence counts from the agent's arrival.
                    self.customer_active(config, out);
                }
            }
            Event::ParticipantLeft(p) => {
                if let Some(agent) = p.agent(&self.creds.identity) {
                    if self.roster.left(&agent, out) {
                        out.push(Effect::Persist);
                    }
                }
            }
            Event::Message { index, author, client_id, handoff, content } => {
                if handoff.is_some() {
                    // The bot's hand-off, posted for the agent (issue 22): the customer saw it with the bot
                    // already. Counted as passed, so a later sync does not offer it again; not the customer's
                    // own message either (it was not sent from this web chat).
                    if self.transcript.first_sight(index) {
                        self.pass(index, None, suspended, out);
                    }
                } else if author == self.creds.identity {
                    self.own_message_seen(index, client_id, out);
                } else if self.transcript.first_sight(index) {
                    let agent_id = self.roster.announced(&author).then_some(author);
                    let items = super::effect::agent_items(content, self.creds.media_links(config).as_ref());
                    let show = (!items.is_empty()).then_some(WebCall::ShowAgentMessage { agent_id, items });
                    self.pass(index, show, suspended, out);
                }
            }
            Event::AgentTyping { agent_id, typing } => {
                if self.joined() && agent_id != self.creds.identity {
                    out.push(Effect::Web(WebCall::ShowAgentTyping(typing)));
                }
            }
            Event::AgentRead { agent_id, index } => {
                if self.joined() && agent_id != self.creds.identity && self.transcript.agent_read(index) {
                    out.push(Effect::Web(WebCall::ShowAgentRead));
                }
            }
            Event::MessageSent { id, index } => {
                if let Some(sent) = self.outbox.sent(&id) {
                    if let Some(index) = index {
                        self.transcript.user_message(index);
                    }
                    if let Outgoing::File { id } = sent {
                        out.push(Effect::Web(WebCall::FileStatus { id, error: None }));
                    }
                    self.pump(out);
                    out.push(Effect::Persist);
                }
            }
            Event::MessageFailed { .. } | Event::FileUnavailable { .. } => {
                let (id, retryable) = match event {
                    // 4xx other than 429 will fail again: report it instead of retrying forever.
                    Event::MessageFailed { id, status } => (id, status.is_none_or(|s| s == 429 || !(400..500).contains(&s))),
                    Event::FileUnavailable { id } => (id, false),
                    _ => return Fate::On,
                };
                match self.outbox.failed(&id, retryable) {
                    Failed::NotOurs => return Fate::On,
                    Failed::Retry(delay_ms) => out.push(Effect::Timer { timer: Timer::Retry, delay_ms }),
                    Failed::Final(m) => {
                        out.push(Effect::Web(match m {
                            Outgoing::File { id } => WebCall::FileStatus { id, error: Some(Text::FileNotSent) },
                            Outgoing::Text { id, .. } => WebCall::SetError(ErrorStatus::UserMessage { id }),
                        }));
                        self.pump(out);
                    }
                }
                out.push(Effect::Persist);
            }
            Event::TimerDue(Timer::Retry) => {
                if self.outbox.resume() {
                    self.pump(out);
                }
            }
            Event::TimerDue(Timer::Refresh) | Event::TokenAboutToExpire | Event::TokenExpired => self.refresh(out),
            Event::TimerDue(Timer::Queue) => {
                if self.waiting() {
                    self.read_position(out);
                }
            }
            Event::QueuePositionRead(answer) => {
                if self.waiting() {
                    self.wait.position_read(answer, config.queue_poll_ms, out);
                }
            }
            Event::QueueRead(figures) => {
                if self.waiting() {
                    self.wait.queue_read(figures, config.queue_poll_ms, out);
                }
            }
            Event::UserTyping(typing) => {
                // The Conversations SDK has no "stopped typing" signal: the indicator lapses on its own, so stopping
                // only stops the repeats.
                self.typing = typing;
                if typing {
                    self.customer_active(config, out);
                }
                if typing && self.joined() && self.online {
                    out.push(Effect::Client(ClientCall::SendTyping));
                    self.repeat_typing(out);
                }
            }
            Event::TimerDue(Timer::Typing) => {
                self.typing_timer = false;
                if self.typing && self.joined() && self.online {
                    out.push(Effect::Client(ClientCall::SendTyping));
                    self.repeat_typing(out);
                }
            }
            Event::UserRead => {
                if self.joined() && self.online {
                    if let Some(index) = self.transcript.user_read() {
                        out.push(Effect::Client(ClientCall::SetReadHorizon { index }));
                    }
                }
            }
            Event::TokenRefreshed(t) => {
                if std::mem::take(&mut self.refreshing) {
                    self.refresh_retry.reset();
                    if let Step::Resuming { .. } = self.step {
                        self.join(config, t.token, out);
                    } else {
                        self.conn.pending_token = Some(t.token);
                        self.apply_token(out);
                    }
                }
            }
            Event::TokenRefused(why) => {
                if std::mem::take(&mut self.refreshing) {
                    if why.is_transient() && self.refresh_retry.attempts() < MAX_REJOINS {
                        // Not a "no": ask again in a while.
                        let delay_ms = self.refresh_retry.next_delay_ms();
                        out.push(Effect::Timer { timer: Timer::Refresh, delay_ms });
                    } else if self.step == (Step::Resuming { rejoin: false }) {
                        // The saved chat is over (ended elsewhere, or expired): forget it; the web chat ends it
                        // itself when `reconnect` answers false (`handleHydration`). An adopted chat was asked for
                        // with `startChat`: a CONNECTING error with a message tells the customer and ends it.
                        if self.owed == Some(Owed::Start) {
                            out.push(Effect::Web(WebCall::SetError(ErrorStatus::Connecting { message: Text::ChatFailed })));
                            self.settle_start(out);
                        }
                        self.settle_reconnect(false, out);
                        out.push(Effect::Persist);
                        return Fate::Over;
                    } else {
                        return self.fail(out);
                    }
                }
            }
            // A chat that goes on by SMS is never closed for the web chat's silence: the customer answers by phone.
            Event::TimerDue(Timer::Idle(n)) => match self.idle.due(n, config, self.joined() && self.roster.current.is_some() && !self.by_sms, out) {
                Due::Nothing => {}
                Due::Ask => out.push(Effect::Web(WebCall::Notice(Text::IdlePrompt))),
                Due::Close => {
                    // No answer: a clear line here, one for the agent (the server's, `EndIdle`), then the end, without
                    // Carbon's "the agent ended the chat": the agent did not.
                    out.push(Effect::Web(WebCall::Notice(Text::IdleClosed)));
                    out.push(Effect::Web(WebCall::ChatEndedQuietly));
                    let c = &self.creds;
                    let call = Effect::Auth(AuthCall::EndIdle { session_id: c.session_id.clone(), credential: c.credential.clone() });
                    self.end_with(call, out);
                    self.tell_outcome(EndedBy::Idle, out);
                    return Fate::Over;
                }
            },
            Event::EndRequested => {
                self.end(out);
                self.tell_outcome(EndedBy::Customer, out);
                return Fate::Over;
            }
            Event::ConversationClosed => {
                let by = if self.roster.connected {
                    // Carbon shows "the agent ended the chat" only while connected (`doEndChat`:
                    // `if (isConnected && showHumanAgentLeftMessage)`).
                    out.push(Effect::Web(WebCall::ChatEnded));
                    EndedBy::Agent
                } else {
                    // Closed before any agent joined: a CONNECTING error with a message is what ends a
                    // chat that is still connecting, and tells the user.
                    out.push(Effect::Web(WebCall::SetError(ErrorStatus::Connecting { message: Text::ClosedBeforeAgent })));
                    EndedBy::ClosedBeforeAgent
                };
                self.end(out);
                self.tell_outcome(by, out);
                return Fate::Over;
            }
            // The session's own events, and timers of nothing live.
            _ => {}
        }
        Fate::On
    }

    /// The customer did something (a message, a file, started typing), or an agent joined (idle.rs).
    pub(super) fn customer_active(&mut self, config: &Config, out: &mut Vec<Effect>) {
        self.idle.active(config, self.roster.current.is_some(), out);
    }

    /// The customer's message or file, queued; `save` when it belongs in the saved state now.
    pub(super) fn queue(&mut self, m: Outgoing, save: bool, out: &mut Vec<Effect>) {
        self.outbox.push(m);
        self.pump(out);
        if save {
            out.push(Effect::Persist);
        }
    }

    /// Sends typing again in [`TYPING_REPEAT_MS`] while the user keeps typing (one timer at a time).
    fn repeat_typing(&mut self, out: &mut Vec<Effect>) {
        if !std::mem::replace(&mut self.typing_timer, true) {
            out.push(Effect::Timer { timer: Timer::Typing, delay_ms: TYPING_REPEAT_MS });
        }
    }

    /// Asks for this session's own place in the queue.
    fn read_position(&self, out: &mut Vec<Effect>) {
        let c = &self.creds;
        out.push(Effect::Auth(AuthCall::ReadPosition { session_id: c.session_id.clone(), credential: c.credential.clone() }));
    }

    fn settle_start(&mut self, out: &mut Vec<Effect>) {
        if self.owed.take_if(|o| *o == Owed::Start).is_some() {
            out.push(Effect::Web(WebCall::StartSettled));
        }
    }

    fn settle_reconnect(&mut self, back: bool, out: &mut Vec<Effect>) {
        if self.owed.take_if(|o| *o == Owed::Reconnect).is_some() {
            out.push(Effect::Web(WebCall::ReconnectSettled(back)));
        }
    }

    fn show_disconnected(&mut self, out: &mut Vec<Effect>) {
        if self.roster.connected && !self.shown_disconnected {
            self.shown_disconnected = true;
            out.push(Effect::Web(WebCall::SetError(ErrorStatus::Disconnected(true))));
        }
    }

    /// A new client for `token`, with a timer on how long it may take.
    fn join(&mut self, config: &Config, token: String, out: &mut Vec<Effect>) {
        self.join_attempt = self.join_attempt.wrapping_add(1);
        self.conn = ClientConn::default();
        out.push(Effect::Client(ClientCall::Join { token, conversation_sid: self.creds.conversation_sid.clone() }));
        out.push(Effect::Timer { timer: Timer::Join(self.join_attempt), delay_ms: config.join_timeout_ms });
        self.step = Step::Joining { attempt: self.join_attempt };
    }

    /// Maps the SDK's connection states onto the chat. Once connected, "connecting" means the SDK is retrying a
    /// dropped connection (the real SDK never says "disconnected" then), so it counts as lost.
    fn connection(&mut self, state: ConnState, out: &mut Vec<Effect>) {
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
            let _ = self.outbox.resume();
            if std::mem::take(&mut self.shown_disconnected) {
                out.push(Effect::Web(WebCall::SetError(ErrorStatus::Disconnected(false))));
            }
            if self.joined() {
                out.push(Effect::Client(ClientCall::SyncMessages { after: self.transcript.last_shown }));
            }
            self.pump(out);
        }
    }

    fn apply_token(&mut self, out: &mut Vec<Effect>) {
        if !self.conn.disconnecting {
            if let Some(token) = self.conn.pending_token.take() {
                out.push(Effect::Client(ClientCall::UpdateToken { token }));
            }
        }
    }

    /// Hands the next queued message to the shell when it can be delivered.
    fn pump(&mut self, out: &mut Vec<Effect>) {
        if self.joined() && self.online && !self.await_sync {
            out.extend(self.outbox.next().map(Effect::Client));
        }
    }

    fn pass(&mut self, index: u64, show: Option<WebCall>, suspended: bool, out: &mut Vec<Effect>) {
        if self.transcript.pass(index, show, suspended, out) {
            out.push(Effect::Persist);
        }
    }

    /// A message authored by the customer came back (live echo, or replay after a reload): when it is one we
    /// still hold as pending, it reached Twilio and must not be sent again.
    fn own_message_seen(&mut self, index: u64, client_id: Option<String>, out: &mut Vec<Effect>) {
        self.transcript.user_message(index);
        let Some(cid) = client_id else { return };
        match self.outbox.echoed(&cid) {
            Echo::InFlight(m) => {
                if let Outgoing::File { id } = m {
                    out.push(Effect::Web(WebCall::FileStatus { id, error: None }));
                }
                self.pump(out);
                out.push(Effect::Persist);
            }
            Echo::Queued => out.push(Effect::Persist),
            Echo::Unknown => {}
        }
    }

    /// Asks the auth server for a fresh token, unless already asked.
    pub(super) fn refresh(&mut self, out: &mut Vec<Effect>) {
        if !std::mem::replace(&mut self.refreshing, true) {
            let c = &self.creds;
            out.push(Effect::Auth(AuthCall::RefreshToken { session_id: c.session_id.clone(), credential: c.credential.clone() }));
        }
    }

    /// The client cannot carry the chat any more: replace it (a fresh token, then a new client), a few times
    /// in a row at most. What was in flight goes back to the head of the queue; its echo, if it did arrive,
    /// takes it out again.
    fn rejoin_or_fail(&mut self, out: &mut Vec<Effect>) -> Fate {
        if self.rejoins >= MAX_REJOINS {
            return self.fail(out);
        }
        self.rejoins += 1;
        out.push(Effect::Client(ClientCall::Close));
        self.show_disconnected(out);
        self.online = false;
        self.outbox.requeue();
        self.await_sync = true;
        self.step = Step::Resuming { rejoin: true };
        self.refreshing = false;
        self.refresh(out);
        Fate::On
    }

    /// The chat cannot go on. Before an agent joined, a CONNECTING error ends it in the web chat. After, Carbon
    /// would not end it (`setErrorStatus` CONNECTING clears `chatStarted`, and its `endChat` then returns early:
    /// the user is stuck), so it is reported as DISCONNECTED: the user reads that the connection was lost and can
    /// end the chat from the header, back to the bot.
    fn fail(&mut self, out: &mut Vec<Effect>) -> Fate {
        if self.owed == Some(Owed::Reconnect) {
            self.settle_reconnect(false, out);
        } else if self.roster.connected {
            self.show_disconnected(out);
        } else {
            out.push(Effect::Web(WebCall::SetError(ErrorStatus::Connecting { message: Text::ChatFailed })));
        }
        self.end(out);
        self.tell_outcome(EndedBy::Failure, out);
        Fate::Over
    }

    /// How this chat ended, for the page's `onChatEnd`: told when it ends, once, as a chat ends once. Not when the
    /// chat goes on elsewhere (another tab took it over) or was found over when resumed (ended in another tab, or
    /// while the page was away): that page told it, or nobody saw it end.
    fn tell_outcome(&self, ended_by: EndedBy, out: &mut Vec<Effect>) {
        let ticket = Some(SessionTicket { session_id: self.creds.session_id.clone(), credential: self.creds.credential.clone() });
        let outcome = Outcome { ended_by, agent: self.roster.last_agent(), agent_joined: self.roster.connected, ticket };
        out.push(Effect::Web(WebCall::Outcome(outcome)));
    }

    /// Ends the session on the auth server, closes the client, forgets the saved state; files never sent lose
    /// their spinner.
    fn end(&mut self, out: &mut Vec<Effect>) {
        let call = self.creds.end();
        self.end_with(call, out);
    }

    /// [`Chat::end`] with the auth server's `call`.
    fn end_with(&mut self, call: Effect, out: &mut Vec<Effect>) {
        self.outbox.abandon_files(out);
        out.push(call);
        if matches!(self.step, Step::Joining { .. } | Step::Joined) {
            out.push(Effect::Client(ClientCall::Close));
        }
        self.settle_start(out);
        self.settle_reconnect(false, out);
        out.push(Effect::Persist);
    }
}
