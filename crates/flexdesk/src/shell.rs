//! The shell around `flexdesk_core::Session`: it turns SDK and web-chat calls into events, and carries out the
//! effects. It translates and nothing more: which participant is an agent, what a connection state means, which
//! failure is retried, when `startChat` / `reconnect` settle, what the user is told — all of that is the core's.
//! Events are queued and handled one at a time, so a callback that re-enters the desk (the SDK may emit
//! synchronously) never interleaves with the effects of another event.
//! Over 600 lines because it is one `match` over every effect the core emits, each arm a few SDK or web-chat calls;
//! splitting the arms across files would hide that the loop carries out effects and decides nothing.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

use flexdesk_core::media::MediaLimits;
use flexdesk_core::texts::Text;
use flexdesk_core::{AgentItem, AuthCall, ClientCall, Effect, Event, Phase, Save, Session, TabCall, Timer, WebCall};
use js_sys::{Array, Function, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::{spawn_local, JsFuture};

use crate::auth::AuthClient;
use crate::bindings::{call, call_promise, ServiceDeskCallback};
use crate::interop::{self, agent_message, message_event, participant, profile, sent, typing_event, user_name};
use crate::js::{array, error_message, get, get_u64, object, warn};
use crate::serial::Serial;

/// Longest a closed client's shutdown waits for its joining and syncing calls ([`Shell::close_client`]): the SDK's
/// own limit for a request waiting for its connection (twilsock's `REQUEST_TIMEOUT`, 20 s, in
/// `@twilio/conversations` 3.0's build), after which those requests have failed anyway.
const SHUTDOWN_WAIT_MS: f64 = 20_000.0;

/// What a timer firing means (the argument `setTimeout` hands to `Shell::timers`); the core's
/// join timers are `TIMER_JOIN + attempt`.
const TIMER_RETRY: i32 = 0;
const TIMER_SAVE: i32 = 1;
const TIMER_TYPING: i32 = 2;
const TIMER_REFRESH: i32 = 3;
const TIMER_QUEUE: i32 = 4;
const TIMER_JOIN: i32 = 16;

/// The `agent_message_type` of a message from someone who is not an agent of the chat (shown as a status line; the
/// `flexdesk/transcript` module writes it as a note).
const NOTICE: &str = "flexdesk_notice";

/// The page's `config.onChatEnd`, called through the web-chat queue ([`Shell::ui`]).
const ON_CHAT_END: &str = "onChatEnd";

/// A task on the page's event loop. Boxed, so the executor is instantiated once rather than once per future.
type Task = Pin<Box<dyn Future<Output = ()>>>;

fn go(task: Task) {
    spawn_local(task);
}

/// What an SDK listener does with its argument: an event for the session, or a side effect of its own.
type Handler = Box<dyn Fn(&Rc<Shell>, JsValue) -> Option<Event>>;

/// Conversation items converted in arrival order, some needing an async lookup (media URLs, the agent's User).
enum Incoming {
    Message(JsValue),
    Joined(JsValue),
    /// Queued too, so a warm transfer's "new agent joined, old one left" keeps its order.
    Left(JsValue),
    /// The end of a sync, after its items.
    Synced,
}

pub struct Shell {
    session: RefCell<Session>,
    /// Events for the session, handled one at a time: effects of one event never interleave with another's.
    events: Serial<Event>,
    pub callback: ServiceDeskCallback,
    pub auth: AuthClient,
    make_client: Function,
    client: RefCell<Option<JsValue>>,
    conversation: RefCell<Option<JsValue>>,
    /// The current client's joining and syncing calls, settled or not: its shutdown waits for them (`close_client`).
    in_flight: RefCell<Option<Promise>>,
    /// Files the user chose (`File`s), by web-chat upload id, until they are sent.
    pub files: RefCell<Vec<(String, JsValue)>>,
    start_waiter: RefCell<Option<Function>>,
    reconnect_waiter: RefCell<Option<Function>>,
    /// Bumped whenever a client is closed: listeners of an older client are ignored.
    generation: Cell<u32>,
    listeners: RefCell<Vec<Closure<dyn FnMut(JsValue)>>>,
    /// The one callback of every timer (`setTimeout`); its argument says what is due.
    timers: Closure<dyn FnMut(JsValue)>,
    /// SDK items being converted, in arrival order.
    inbox: Serial<Incoming>,
    /// The page's wording (`config.strings`, made a function `(key, params) => string | undefined` by
    /// `js/index.js`): asked for each customer text before the core's English.
    pub strings: RefCell<Option<Function>>,
    /// `config.onChatEnd(outcome)`, when the page gave a function (`undefined` otherwise).
    pub on_chat_end: RefCell<JsValue>,
    save_scheduled: Cell<bool>,
    /// Web-chat callbacks not yet made: method name and arguments.
    ui_calls: Serial<(&'static str, Array)>,
}

impl Shell {
    pub fn new(callback: ServiceDeskCallback, auth: AuthClient, make_client: Function, limits: MediaLimits, join_timeout_ms: u64) -> Rc<Self> {
        Rc::new_cyclic(|me: &std::rc::Weak<Shell>| Shell {
            session: RefCell::new(Session::with_limits(limits).with_join_timeout(join_timeout_ms).with_auth_server(auth.base())),
            events: Serial::default(),
            callback,
            auth,
            make_client,
            client: RefCell::new(None),
            conversation: RefCell::new(None),
            in_flight: RefCell::new(None),
            files: RefCell::new(Vec::new()),
            start_waiter: RefCell::new(None),
            reconnect_waiter: RefCell::new(None),
            generation: Cell::new(0),
            listeners: RefCell::new(Vec::new()),
            inbox: Serial::default(),
            strings: RefCell::new(None),
            on_chat_end: RefCell::new(JsValue::UNDEFINED),
            save_scheduled: Cell::new(false),
            ui_calls: Serial::default(),
            timers: {
                let me = me.clone();
                Closure::new(move |due: JsValue| {
                    if let Some(this) = me.upgrade() {
                        this.timer_due(due.as_f64().unwrap_or(-1.0) as i32);
                    }
                })
            },
        })
    }

    /// A customer text: its key and parameters (`Text::data`) go to the page's `strings` function, which
    /// `js/index.js` always passes and which holds the English defaults (so the wasm carries no texts); without
    /// one (the desk made by hand), the key itself.
    pub fn text(&self, t: &Text) -> JsValue {
        let (key, params) = t.data();
        let key = JsValue::from_str(key);
        let values = JsValue::from(js_sys::Object::new());
        for (name, value) in &params {
            crate::js::set(&values, name, &JsValue::from_str(value));
        }
        let strings = self.strings.borrow();
        let said = strings.as_ref().and_then(|f| f.call2(&JsValue::NULL, &key, &values).ok());
        said.filter(JsValue::is_string).unwrap_or(key)
    }

    fn timer_due(self: &Rc<Self>, due: i32) {
        match due {
            TIMER_RETRY => self.dispatch(Event::TimerDue(Timer::Retry)),
            TIMER_SAVE => self.save_now(),
            TIMER_TYPING => self.dispatch(Event::TimerDue(Timer::Typing)),
            TIMER_REFRESH => self.dispatch(Event::TimerDue(Timer::Refresh)),
            TIMER_QUEUE => self.dispatch(Event::TimerDue(Timer::Queue)),
            n if n >= TIMER_JOIN => self.dispatch(Event::TimerDue(Timer::Join((n - TIMER_JOIN) as u32))),
            n if n < 0 => self.dispatch(Event::TimerDue(Timer::Idle((-1 - n) as u32))),
            _ => {}
        }
    }

    pub fn phase(&self) -> Phase {
        self.session.borrow().phase()
    }

    pub fn sms_request(&self, typed: &str) -> Result<String, &'static str> {
        self.session.borrow().sms_request(typed)
    }

    /// A promise resolved when the core settles `startChat` (never rejected: a refusal is told to the user with
    /// `setErrorStatus`).
    pub fn start_promise(self: &Rc<Self>, event: Event) -> Promise {
        let this = self.clone();
        let p = Promise::new(&mut |resolve, _| {
            *this.start_waiter.borrow_mut() = Some(resolve);
        });
        self.dispatch(event);
        p
    }

    /// A promise of `true` when a saved chat is back, `false` when it is over.
    pub fn reconnect_promise(self: &Rc<Self>, event: Event) -> Promise {
        let this = self.clone();
        let p = Promise::new(&mut |resolve, _| {
            *this.reconnect_waiter.borrow_mut() = Some(resolve);
        });
        self.dispatch(event);
        p
    }

    /// The page's `queuePollMs` (how often the queue position is read while waiting) and `idlePromptMs` /
    /// `idleCloseMs` ("Are you still there?"), set once, before the first chat.
    pub fn configure(&self, ms: u64, (idle_prompt_ms, idle_close_ms): (Option<u64>, u64)) {
        let mut session = self.session.take().with_queue_poll(ms);
        session.set_idle(idle_prompt_ms, idle_close_ms);
        *self.session.borrow_mut() = session;
    }

    pub fn dispatch(self: &Rc<Self>, event: Event) {
        if !self.events.push(event) {
            return;
        }
        while let Some(event) = self.events.next() {
            let effects = self.session.borrow_mut().handle(event);
            for effect in effects {
                self.execute(effect);
            }
        }
    }

    fn spawn(self: &Rc<Self>, fut: Pin<Box<dyn Future<Output = Option<Event>>>>) {
        let this = self.clone();
        go(Box::pin(async move {
            if let Some(event) = fut.await {
                this.dispatch(event);
            }
        }));
    }

    /// Takes the file chosen for upload `id`, if it is still there.
    fn take_file(&self, id: &str) -> Option<JsValue> {
        let mut files = self.files.borrow_mut();
        let at = files.iter().position(|(f, _)| f == id)?;
        Some(files.swap_remove(at).1)
    }

    /// Runs timer `due` (`TIMER_*`) after `ms` milliseconds.
    fn after(&self, ms: f64, due: i32) {
        crate::js::set_timeout(self.timers.as_ref().unchecked_ref(), ms, due);
    }

    fn execute(self: &Rc<Self>, effect: Effect) {
        match effect {
            Effect::Auth(call) => self.auth_call(call),
            Effect::Client(call) => self.client_call(call),
            Effect::Web(call) => self.web_call(call),
            Effect::Tab(call) => self.tab_call(call),
            Effect::Timer { timer, delay_ms } => {
                let due = match timer {
                    Timer::Retry => TIMER_RETRY,
                    Timer::Refresh => TIMER_REFRESH,
                    Timer::Queue => TIMER_QUEUE,
                    Timer::Typing => TIMER_TYPING,
                    Timer::Join(n) => TIMER_JOIN + (n % 1_000_000) as i32,
                    Timer::Idle(n) => -1 - (n % 1_000_000) as i32,
                };
                self.after(delay_ms as f64, due);
            }
            Effect::Persist => self.schedule_save(),
        }
    }

    /// Every auth-server call is this one future ([`crate::auth::Request`] says why).
    fn auth_call(self: &Rc<Self>, call: AuthCall) {
        let request = self.auth.request(&call);
        let this = self.clone();
        go(Box::pin(async move {
            let got = this.auth.send(request).await;
            if let Some(event) = crate::auth::answer(call, got) {
                this.dispatch(event);
            }
        }));
    }

    fn client_call(self: &Rc<Self>, call: ClientCall) {
        match call {
            ClientCall::Join { token, conversation_sid } => self.join(token, conversation_sid),
            ClientCall::SyncMessages { after } => self.sync(after),
            ClientCall::UpdateToken { token } => {
                if let Some(client) = self.client.borrow().as_ref() {
                    settle(call_promise(client, "updateToken", &[&JsValue::from_str(&token)]), "updateToken failed");
                }
            }
            ClientCall::SendMessage { id, text } => {
                let Some(conv) = self.conversation.borrow().clone() else { return };
                let attrs = object(&[("flexdeskId", JsValue::from_str(&id))]);
                let p = call_promise(&conv, "sendMessage", &[&JsValue::from_str(&text), &attrs]);
                self.spawn(Box::pin(async move { Some(sent(id, JsFuture::from(p).await)) }));
            }
            ClientCall::SendFile { id } => self.send_file(id),
            ClientCall::SendTyping => self.typing(),
            ClientCall::SetReadHorizon { index } => {
                if let Some(conv) = self.conversation.borrow().as_ref() {
                    let p = call_promise(conv, "advanceLastReadMessageIndex", &[&JsValue::from_f64(index as f64)]);
                    settle(p, "advancing the read horizon failed");
                }
            }
            ClientCall::Close => self.close_client(),
        }
    }

    fn web_call(self: &Rc<Self>, call: WebCall) {
        match call {
            WebCall::StartSettled => {
                if let Some(resolve) = self.start_waiter.borrow_mut().take() {
                    let _ = resolve.call0(&JsValue::NULL);
                }
            }
            WebCall::ReconnectSettled(back) => {
                if let Some(resolve) = self.reconnect_waiter.borrow_mut().take() {
                    let _ = resolve.call1(&JsValue::NULL, &JsValue::from_bool(back));
                }
            }
            WebCall::QueuePosition(n) => {
                self.ui("updateAgentAvailability", &[object(&[("positionInQueue", JsValue::from_f64(n.into()))])]);
            }
            WebCall::WaitMinutes(n) => {
                self.ui("updateAgentAvailability", &[object(&[("estimatedWaitTime", JsValue::from_f64(n.into()))])]);
            }
            WebCall::AgentJoined(agent) => self.ui("agentJoined", &[profile(&agent)]),
            WebCall::AgentLeft => self.ui("agentLeftChat", &[]),
            WebCall::BeginTransfer(agent) => {
                self.ui("beginTransferToAnotherAgent", &[agent.as_ref().map(profile).unwrap_or(JsValue::UNDEFINED)]);
            }
            WebCall::ShowAgentMessage { agent_id: Some(agent_id), items } => {
                self.ui("sendMessageToUser", &[agent_message(&items, None), JsValue::from_str(&agent_id)]);
            }
            // Not from an agent who joined: a status line (centered, no name or avatar). Carbon shows an item whose
            // `agent_message_type` is none of its own message kinds as a status message (MessageComponent.tsx
            // `isHumanAgentStatusMessage`: `default: return true`; `getHumanAgentMessageClassName`:
            // `cds-aichat--received--agent-status-message`), and `sendMessageToUser` keeps a type already set.
            WebCall::ShowAgentMessage { agent_id: None, items } => {
                self.ui("sendMessageToUser", &[agent_message(&items, Some(NOTICE))]);
            }
            WebCall::ShowAgentTyping(on) => self.ui("agentTyping", &[JsValue::from_bool(on)]),
            WebCall::ShowAgentRead => self.ui("agentReadMessages", &[]),
            WebCall::SetError(status) => self.ui("setErrorStatus", &[interop::error_info(status, |t| self.text(t))]),
            WebCall::FileStatus { id, error } => {
                if error.is_some() {
                    self.take_file(&id);
                }
                let failed = JsValue::from_bool(error.is_some());
                let error = error.as_ref().map_or(JsValue::UNDEFINED, |t| self.text(t));
                self.ui("setFileUploadStatus", &[JsValue::from_str(&id), failed, error]);
            }
            WebCall::ChatEnded => self.ui("agentEndedChat", &[]),
            WebCall::ChatEndedQuietly => self.ui("endQuietly", &[]),
            WebCall::Notice(t) => {
                let line = self.text(&t).as_string().unwrap_or_default();
                self.ui("sendMessageToUser", &[agent_message(&[AgentItem::Text(line)], Some(NOTICE))]);
            }
            WebCall::Outcome(o) => {
                // `config.onChatEnd(outcome)`, queued behind the web chat's own calls (so after `agentEndedChat`).
                if self.on_chat_end.borrow().is_function() {
                    self.ui(ON_CHAT_END, &[interop::outcome(o)]);
                }
            }
        }
    }

    /// The tab calls go to the functions `js/index.js` adds to the callback it gives the desk, in order with the web
    /// chat's other calls (so a card comes after the end it follows).
    fn tab_call(self: &Rc<Self>, tab: TabCall) {
        let (what, arg) = match tab {
            TabCall::Announce { session_id } => ("announceChat", JsValue::from_str(&session_id)),
            TabCall::Forget => ("forgetChat", JsValue::UNDEFINED),
            TabCall::LetGo => ("letGo", JsValue::UNDEFINED),
            TabCall::Offer(text) => ("offerChat", self.text(&text)),
        };
        self.ui(what, &[arg]);
    }

    fn send_file(self: &Rc<Self>, id: String) {
        let file = self.take_file(&id);
        let (Some(conv), Some(file)) = (self.conversation.borrow().clone(), file) else {
            self.events.defer(Event::FileUnavailable { id });
            return;
        };
        let media = object(&[("contentType", get(&file, "type")), ("filename", get(&file, "name")), ("media", file.clone())]);
        let attrs = object(&[("flexdeskId", JsValue::from_str(&id))]);
        let built = (|| {
            let b = call(&conv, "prepareMessage", &[])?;
            let b = call(&b, "setAttributes", &[&attrs])?;
            let b = call(&b, "addMedia", &[&media])?;
            call(&b, "build", &[])
        })();
        let p = match built {
            Ok(unsent) => call_promise(&unsent, "send", &[]),
            Err(e) => Promise::reject(&e),
        };
        let this = self.clone();
        self.spawn(Box::pin(async move {
            let result = JsFuture::from(p).await;
            if result.is_err() {
                // Keep the file so a retry can send it again.
                this.files.borrow_mut().push((id.clone(), file));
            }
            Some(sent(id, result))
        }));
    }

    /// Saves once per task however many changes a burst of events made: each save serialises the outbox.
    fn schedule_save(self: &Rc<Self>) {
        if self.save_scheduled.replace(true) {
            return;
        }
        self.after(0.0, TIMER_SAVE);
    }

    pub fn save_now(&self) {
        self.save_scheduled.set(false);
        // Forgetting is `false`, the one kind of value Carbon 1.9.1 both takes and reads as "no agent session":
        // `updatePersistedState(state, false)` stores `deepFreeze(cloneDeep(state))`, and deepFreeze
        // (utils/lang/objectUtils.ts) calls `Object.getOwnPropertyNames`, which throws on null and undefined; while
        // the welcome is skipped for any truthy `serviceDeskState` (ChatActionsImpl.ts
        // `shouldSkipWelcomeForAgentSession`), so an empty object kept the bot's welcome away for good in this tab
        // (after "Restart conversation" and after a reload), and ending a chat never clears it (humanAgentReducers.ts
        // `HA_END_CHAT`). Replaced, not merged (`false`): merging a saved chat with nothing would keep it.
        let value = match self.session.borrow().to_save() {
            Save::Chat(s) => interop::saved_to_js(&s),
            Save::Forget => JsValue::FALSE,
            // The chat went to another tab: its saves are that tab's.
            Save::Nothing => return,
        };
        report("updatePersistedState", call(&self.callback, "updatePersistedState", &[&value, &JsValue::FALSE]));
    }

    /// Calls the web chat one callback at a time, each after the previous one's promise settled: Carbon AI Chat
    /// refuses a second `human_agent:*` event while one is still being handled, and order matters to the user.
    fn ui(self: &Rc<Self>, what: &'static str, args: &[JsValue]) {
        if !self.ui_calls.push((what, args.iter().collect())) {
            return;
        }
        let this = self.clone();
        go(Box::pin(async move {
            while let Some((what, args)) = this.ui_calls.next() {
                let hook = what == ON_CHAT_END;
                let f = if hook { this.on_chat_end.borrow().clone() } else { get(&this.callback, what) };
                let result = match f.dyn_ref::<Function>() {
                    Some(f) => js_sys::Reflect::apply(f, &this.callback, &args),
                    None => Err(js_sys::Error::new(&(String::from(what) + " is not a function")).into()),
                };
                match result {
                    // The page's hook is not waited for: a slow survey must not hold up the next chat.
                    Ok(_) if hook => {}
                    Ok(result) => {
                        if let Err(e) = JsFuture::from(Promise::resolve(&result)).await {
                            warn(&(String::from("the web chat's ") + what + " failed"), &e);
                        }
                    }
                    Err(e) => report(what, Err::<(), _>(e)),
                }
            }
        }));
    }

    fn join(self: &Rc<Self>, token: String, conversation_sid: String) {
        // A client being replaced: its listeners go with it.
        self.close_client();
        let generation = self.generation.get();
        // The page's factory may return the client or a promise of one, so a page can import the SDK only when a
        // chat with an agent starts (`async (t) => { const sdk = await import('@twilio/conversations'); return new (sdk.Client ?? sdk.default.Client)(t); }`).
        let made = self.make_client.call1(&JsValue::NULL, &JsValue::from_str(&token)).map(|c| Promise::resolve(&c));
        let this = self.clone();
        go(Box::pin(async move {
            let made = match made {
                Ok(p) => JsFuture::from(p).await,
                Err(e) => Err(e),
            };
            if this.generation.get() != generation {
                // Replaced or ended while the page was still making it: nobody will use this client.
                if let Ok(c) = made {
                    let _ = call(&c, "shutdown", &[]);
                }
                return;
            }
            let client = match made {
                Ok(c) if c.is_object() => c,
                Ok(_) => return this.dispatch(Event::JoinFailed { message: "createConversationsClient returned no client".into() }),
                Err(e) => return this.dispatch(Event::JoinFailed { message: error_message(&e) }),
            };
            this.listen(&client, "connectionStateChanged", generation, Box::new(|_, state| Some(interop::connection_event(&state))));
            this.listen(&client, "tokenAboutToExpire", generation, Box::new(|_, _| Some(Event::TokenAboutToExpire)));
            this.listen(&client, "tokenExpired", generation, Box::new(|_, _| Some(Event::TokenExpired)));
            this.listen(&client, "initFailed", generation, Box::new(|_, e| {
                Some(Event::JoinFailed { message: error_message(&get(&e, "error")) })
            }));
            // A terminal connection error: the SDK stops retrying for good (e.g. the socket closed during its init
            // handshake).
            this.listen(&client, "connectionError", generation, Box::new(|_, e| {
                (get(&e, "terminal") == JsValue::TRUE).then(|| Event::ClientFailed { message: error_message(&e) })
            }));
            let found = call_promise(&client, "getConversationBySid", &[&JsValue::from_str(&conversation_sid)]);
            this.hold(&found);
            // The real SDK fetches the user's conversations as it starts (`Client._initialize`: `_conversationsPromise`,
            // whose failure is logged and rethrown) and nothing holds that promise unless the page asks for them: a
            // shutdown while it is under way left "Unable to connect: Connection is not initialized" uncaught in the
            // page (issue 23). Asking for them holds it (the answer is local, no request); held here, so a shutdown
            // also waits for it. The stand-in has no such method and no such fetch.
            if get(&client, "getSubscribedConversations").is_function() {
                this.hold(&call_promise(&client, "getSubscribedConversations", &[]));
            }
            *this.client.borrow_mut() = Some(client);
            match JsFuture::from(found).await {
                Ok(conv) if this.generation.get() == generation => {
                    this.attach(&conv, generation);
                    let closed = interop::is_closed(&conv);
                    *this.conversation.borrow_mut() = Some(conv);
                    this.dispatch(Event::ConversationJoined);
                    if closed {
                        this.dispatch(Event::ConversationClosed);
                    }
                }
                Ok(_) => {}
                Err(e) if this.generation.get() == generation => {
                    warn("joining the conversation failed", &e);
                    this.dispatch(Event::JoinFailed { message: error_message(&e) });
                }
                Err(_) => {}
            }
        }));
    }

    fn attach(self: &Rc<Self>, conv: &JsValue, generation: u32) {
        self.listen(conv, "messageAdded", generation, Box::new(|this, m| {
            this.receive(Incoming::Message(m));
            None
        }));
        self.listen(conv, "participantJoined", generation, Box::new(|this, p| {
            this.receive(Incoming::Joined(p));
            None
        }));
        self.listen(conv, "participantLeft", generation, Box::new(|this, p| {
            this.receive(Incoming::Left(p));
            None
        }));
        self.listen(conv, "participantUpdated", generation, Box::new(|_, u| interop::read_event(&u)));
        self.listen(conv, "typingStarted", generation, Box::new(|_, p| typing_event(&p, true)));
        self.listen(conv, "typingEnded", generation, Box::new(|_, p| typing_event(&p, false)));
        self.listen(conv, "updated", generation, Box::new(|_, u| {
            interop::is_closed(&get(&u, "conversation")).then_some(Event::ConversationClosed)
        }));
    }

    /// Registers `handler` for `event` on an SDK object; its result, if any, is fed to the session. Every
    /// listener is this one closure type, so wasm-bindgen generates one closure shim, not one per event.
    fn listen(self: &Rc<Self>, target: &JsValue, event: &str, generation: u32, handler: Handler) {
        let this = self.clone();
        let closure = Closure::<dyn FnMut(JsValue)>::new(move |arg: JsValue| {
            if this.generation.get() == generation {
                if let Some(e) = handler(&this, arg) {
                    this.dispatch(e);
                }
            }
        });
        if let Err(e) = call(target, "on", &[&JsValue::from_str(event), closure.as_ref()]) {
            warn("listening to the SDK failed", &e);
        }
        self.listeners.borrow_mut().push(closure);
    }

    /// Queues an SDK item; one worker converts them in order.
    fn receive(self: &Rc<Self>, item: Incoming) {
        if !self.inbox.push(item) {
            return;
        }
        let this = self.clone();
        go(Box::pin(async move {
            while let Some(item) = this.inbox.next() {
                let generation = this.generation.get();
                let event = match item {
                    Incoming::Message(m) => {
                        let temporary_urls = this.session.borrow().wants_temporary_urls();
                        message_event(&m, temporary_urls).await
                    }
                    Incoming::Joined(p) => {
                        let name = user_name(&p).await;
                        Some(Event::ParticipantJoined(participant(&p, name)))
                    }
                    Incoming::Left(p) => Some(Event::ParticipantLeft(participant(&p, None))),
                    Incoming::Synced => Some(Event::Synced),
                };
                if let (Some(event), true) = (event, this.generation.get() == generation) {
                    this.dispatch(event);
                }
            }
        }));
    }

    /// Loads the participants present and the messages after `after`, and feeds them through the normal paths.
    fn sync(self: &Rc<Self>, after: Option<u64>) {
        let Some(conv) = self.conversation.borrow().clone() else { return };
        let this = self.clone();
        let generation = self.generation.get();
        go(Box::pin(async move {
            let participants = call_promise(&conv, "getParticipants", &[]);
            if this.generation.get() == generation {
                this.hold(&participants);
            }
            if let Ok(list) = JsFuture::from(participants).await {
                if this.generation.get() == generation {
                    for p in array(&list).iter() {
                        this.receive(Incoming::Joined(p));
                    }
                }
            }
            // Pages come newest first, each in index order: older pages go in front.
            let mut missed: Vec<JsValue> = Vec::new();
            let first = call_promise(&conv, "getMessages", &[&JsValue::from_f64(50.0)]);
            if this.generation.get() == generation {
                this.hold(&first);
            }
            let mut page = JsFuture::from(first).await.ok();
            while let Some(p) = page {
                let items: Vec<JsValue> = array(&get(&p, "items")).iter().collect();
                let oldest = items.iter().filter_map(|m| get_u64(m, "index")).min();
                let mut older: Vec<JsValue> =
                    items.into_iter().filter(|m| after.is_none_or(|a| get_u64(m, "index").is_some_and(|i| i > a))).collect();
                older.append(&mut missed);
                missed = older;
                let more = get(&p, "hasPrevPage") == JsValue::TRUE && oldest.is_some_and(|o| after.is_none_or(|a| o > a + 1));
                page = if more { JsFuture::from(call_promise(&p, "prevPage", &[])).await.ok() } else { None };
            }
            sort_by_index(&mut missed);
            if this.generation.get() == generation {
                for m in missed {
                    this.receive(Incoming::Message(m));
                }
                this.receive(Incoming::Synced);
            }
        }));
    }

    /// `conversation.typing()`.
    fn typing(&self) {
        if let Some(conv) = self.conversation.borrow().as_ref() {
            settle(call_promise(conv, "typing", &[]), "sending typing failed");
        }
    }

    /// Keeps `p` among the current client's calls its shutdown waits for.
    fn hold(&self, p: &Promise) {
        let mut held = self.in_flight.borrow_mut();
        let all = match held.take() {
            Some(prev) => Array::of2(&prev, p),
            None => Array::of1(p),
        };
        *held = Some(Promise::all_settled(&all));
    }

    /// Shuts the client down, removes the listeners this desk put on it and its conversation, and forgets them.
    ///
    /// The shutdown waits (at most [`SHUTDOWN_WAIT_MS`]) for the joining and syncing calls still under way. A shutdown
    /// rejects every request the real SDK still has waiting for its connection as "Unable to connect: Connection is
    /// not initialized" (twilsock's `rejectPendingMessages`, on `disconnected`), and some of them sit in promises the
    /// SDK holds itself and rethrows: its start-up fetch of the user's conversations (`_conversationsPromise`, the one
    /// seen uncaught in the page in issue 23: a reload during a cold transfer, then Flex's close, the conversation's
    /// message list still being fetched), and a joined conversation's own subscription of its lists
    /// (`Conversation._setStatus` → `_subscribeStreams()`, rethrown unless the sync client already says
    /// `disconnected`). Our `getParticipants` / `getMessages` wait for that same subscription (cached in
    /// `_subscribeStreams`), and `getSubscribedConversations` for the start-up fetch, so once they settled the SDK's
    /// have too, and nothing is left to reject.
    fn close_client(&self) {
        self.generation.set(self.generation.get().wrapping_add(1));
        let mut removed = true;
        if let Some(conv) = self.conversation.borrow_mut().take() {
            removed &= call(&conv, "removeAllListeners", &[]).is_ok();
        }
        let held = self.in_flight.borrow_mut().take();
        if let Some(client) = self.client.borrow_mut().take() {
            removed &= call(&client, "removeAllListeners", &[]).is_ok();
            go(Box::pin(async move {
                if let Some(held) = held {
                    let bound = Promise::new(&mut |resolve, _| {
                        crate::js::set_timeout(&resolve, SHUTDOWN_WAIT_MS, 0);
                    });
                    let _ = JsFuture::from(Promise::race(&Array::of2(&held, &bound))).await;
                }
                let _ = JsFuture::from(call_promise(&client, "shutdown", &[])).await;
            }));
        }
        // Listeners still registered (an SDK object without removeAllListeners) would call a dropped closure: keep
        // them then, muted by the generation check.
        if removed {
            self.listeners.borrow_mut().clear();
        }
    }
}

/// Waits for an SDK call whose answer the desk does not use: its failure is logged (`failed`), never left unhandled
/// in the page. One future for all such calls, as each `async` block is its own code in the size-budgeted wasm.
fn settle(p: Promise, failed: &'static str) {
    go(Box::pin(async move {
        if let Err(e) = JsFuture::from(p).await {
            warn(failed, &e);
        }
    }));
}

/// Insertion sort by conversation index (stable; linear on the already ordered lists the SDK gives): far less
/// code than the standard library's sort.
fn sort_by_index(items: &mut [JsValue]) {
    for i in 1..items.len() {
        let mut j = i;
        while j > 0 && get_u64(&items[j - 1], "index") > get_u64(&items[j], "index") {
            items.swap(j - 1, j);
            j -= 1;
        }
    }
}

/// Logs a throwing web-chat callback instead of letting the exception unwind through the desk.
fn report<T>(what: &str, result: Result<T, JsValue>) {
    if let Err(e) = result {
        warn(&(String::from("the web chat's ") + what + " threw"), &e);
    }
}







