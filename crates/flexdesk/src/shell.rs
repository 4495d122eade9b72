//! The thin shell around `flexdesk_core::Session`: it turns SDK and web-chat calls into events, and carries
//! out the effects. Events are queued and handled one at a time, so a callback that re-enters the desk (the
//! SDK may emit synchronously) never interleaves with the effects of another event.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

use flexdesk_core::handoff::escape_html;
use flexdesk_core::{Agent, Content, Effect, ErrorStatus, Event, Phase, Session};
use js_sys::{Array, Function, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::{spawn_local, JsFuture};

use crate::auth::AuthClient;
use crate::bindings::{call, call_promise, ServiceDeskCallback};
use crate::js::{array, attributes, error_message, error_status, get, get_str, get_u64, object, warn};

/// How often typing is re-signalled while the user keeps typing: the agent's indicator lapses after ~5 s.
const TYPING_REPEAT_MS: f64 = 3000.0;

/// What a timer firing means (the argument `setTimeout` / `setInterval` hand to `Shell::timers`).
const TIMER_RETRY: i32 = 0;
const TIMER_SAVE: i32 = 1;
const TIMER_TYPING: i32 = 2;

/// A task on the page's event loop. Boxed, so the executor is instantiated once rather than once per future.
type Task = Pin<Box<dyn Future<Output = ()>>>;

fn go(task: Task) {
    spawn_local(task);
}

/// What an SDK listener does with its argument: an event for the session, or a side effect of its own.
type Handler = Box<dyn Fn(&Rc<Shell>, JsValue) -> Option<Event>>;

pub struct Shell {
    session: RefCell<Session>,
    queue: RefCell<VecDeque<Event>>,
    busy: Cell<bool>,
    pub callback: ServiceDeskCallback,
    pub auth: AuthClient,
    make_client: Function,
    client: RefCell<Option<JsValue>>,
    conversation: RefCell<Option<JsValue>>,
    /// Files the user chose (`File`s), by web-chat upload id, until they are sent.
    pub files: RefCell<Vec<(String, JsValue)>>,
    start_waiter: RefCell<Option<(Function, Function)>>,
    reconnect_waiter: RefCell<Option<Function>>,
    typing_timer: RefCell<Option<JsValue>>,
    /// Bumped whenever a client is closed: listeners of an older client are ignored.
    generation: Cell<u32>,
    listeners: RefCell<Vec<Closure<dyn FnMut(JsValue)>>>,
    /// The one callback of every timer (`setTimeout` / `setInterval`); its argument says what is due.
    timers: Closure<dyn FnMut(JsValue)>,
    /// Incoming conversation messages, converted in arrival order (media needs an async URL lookup).
    inbox: RefCell<VecDeque<JsValue>>,
    inbox_running: Cell<bool>,
    save_scheduled: Cell<bool>,
    /// Web-chat callbacks not yet made: method name and arguments.
    ui_queue: RefCell<VecDeque<(&'static str, Array)>>,
    ui_running: Cell<bool>,
    /// The SDK's last connection state, whether it was ever connected, and a token waiting for it to settle.
    connection: RefCell<String>,
    was_connected: Cell<bool>,
    pending_token: RefCell<Option<String>>,
}

impl Shell {
    pub fn new(callback: ServiceDeskCallback, auth: AuthClient, make_client: Function) -> Rc<Self> {
        Rc::new_cyclic(|me: &std::rc::Weak<Shell>| Shell {
            session: RefCell::new(Session::new()),
            queue: RefCell::new(VecDeque::new()),
            busy: Cell::new(false),
            callback,
            auth,
            make_client,
            client: RefCell::new(None),
            conversation: RefCell::new(None),
            files: RefCell::new(Vec::new()),
            start_waiter: RefCell::new(None),
            reconnect_waiter: RefCell::new(None),
            typing_timer: RefCell::new(None),
            generation: Cell::new(0),
            listeners: RefCell::new(Vec::new()),
            inbox: RefCell::new(VecDeque::new()),
            inbox_running: Cell::new(false),
            save_scheduled: Cell::new(false),
            ui_queue: RefCell::new(VecDeque::new()),
            ui_running: Cell::new(false),
            connection: RefCell::new(String::new()),
            was_connected: Cell::new(false),
            pending_token: RefCell::new(None),
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

    fn timer_due(self: &Rc<Self>, due: i32) {
        match due {
            TIMER_RETRY => self.dispatch(Event::RetryDue),
            TIMER_SAVE => self.save_now(),
            TIMER_TYPING => {
                if let Some(conv) = self.conversation.borrow().as_ref() {
                    let _ = call(conv, "typing", &[]);
                }
            }
            _ => {}
        }
    }

    pub fn phase(&self) -> Phase {
        self.session.borrow().phase()
    }

    /// A promise settled when the chat has started (resolve) or could not start (reject with the reason).
    pub fn start_promise(self: &Rc<Self>, event: Event) -> Promise {
        let this = self.clone();
        let p = Promise::new(&mut |resolve, reject| {
            *this.start_waiter.borrow_mut() = Some((resolve, reject));
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

    pub fn dispatch(self: &Rc<Self>, event: Event) {
        self.queue.borrow_mut().push_back(event);
        if self.busy.replace(true) {
            return;
        }
        loop {
            let next = self.queue.borrow_mut().pop_front();
            let Some(event) = next else { break };
            let effects = self.session.borrow_mut().handle(event);
            for effect in effects {
                self.execute(effect);
            }
        }
        self.busy.set(false);
        self.settle_waiters();
    }

    fn settle_waiters(&self) {
        let phase = self.phase();
        if matches!(phase, Phase::Joining | Phase::Waiting | Phase::Chatting) {
            if let Some((resolve, _)) = self.start_waiter.borrow_mut().take() {
                let _ = resolve.call0(&JsValue::NULL);
            }
        }
        if matches!(phase, Phase::Waiting | Phase::Chatting) {
            if let Some(resolve) = self.reconnect_waiter.borrow_mut().take() {
                let _ = resolve.call1(&JsValue::NULL, &JsValue::TRUE);
            }
        }
        if phase == Phase::Ended {
            if let Some(resolve) = self.reconnect_waiter.borrow_mut().take() {
                let _ = resolve.call1(&JsValue::NULL, &JsValue::FALSE);
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
        crate::js::set_timeout(self.timers.as_ref(), ms, due);
    }

    fn execute(self: &Rc<Self>, effect: Effect) {
        match effect {
            Effect::CreateSession(req) => {
                let auth = self.auth.clone();
                self.spawn(Box::pin(async move {
                    Some(match auth.create_session(&req).await {
                        Ok(created) => Event::SessionCreated(created),
                        Err(e) => Event::SessionRefused { message: e.message },
                    })
                }));
            }
            Effect::RefreshToken { session_id, credential } => {
                let auth = self.auth.clone();
                self.spawn(Box::pin(async move {
                    Some(match auth.refresh(&session_id, &credential).await {
                        Ok(t) => Event::TokenRefreshed(t),
                        Err(e) => Event::TokenRefused { message: e.message },
                    })
                }));
            }
            Effect::EndSession { session_id, credential } => {
                let auth = self.auth.clone();
                go(Box::pin(async move {
                    if let Err(e) = auth.end(&session_id, &credential).await {
                        // 404: already ended (the agent closed it first) — nothing to do.
                        if e.status != 404 {
                            warn("ending the session failed", &JsValue::from_str(&e.message));
                        }
                    }
                }));
            }
            Effect::JoinConversation { token, conversation_sid } => self.join(token, conversation_sid),
            Effect::SyncMessages { after } => self.sync(after),
            Effect::UpdateToken { token } => {
                // The real SDK drops a token handed over while it is still closing an expired connection
                // ("disconnecting", ~3 s): keep it until the connection has settled.
                *self.pending_token.borrow_mut() = Some(token);
                if self.connection.borrow().as_str() != "disconnecting" {
                    self.apply_token();
                }
            }
            Effect::SendMessage { id, text } => {
                let Some(conv) = self.conversation.borrow().clone() else { return };
                let attrs = object(&[("flexdeskId", JsValue::from_str(&id))]);
                let p = call_promise(&conv, "sendMessage", &[&JsValue::from_str(&text), &attrs]);
                self.spawn(Box::pin(async move { Some(sent(id, JsFuture::from(p).await)) }));
            }
            Effect::SendFile { id } => {
                let file = self.take_file(&id);
                let (Some(conv), Some(file)) = (self.conversation.borrow().clone(), file) else {
                    self.dispatch_later(Event::MessageFailed { id, retryable: false });
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
            Effect::SendTyping => self.start_typing(),
            Effect::ScheduleRetry { delay_ms } => self.after(delay_ms as f64, TIMER_RETRY),
            Effect::SetReadHorizon { index } => {
                if let Some(conv) = self.conversation.borrow().as_ref() {
                    let p = call_promise(conv, "advanceLastReadMessageIndex", &[&JsValue::from_f64(index as f64)]);
                    go(Box::pin(async move {
                        if let Err(e) = JsFuture::from(p).await {
                            warn("advancing the read horizon failed", &e);
                        }
                    }));
                }
            }
            Effect::CloseClient => self.close_client(),
            Effect::WaitingStatus { message } => {
                self.ui("updateAgentAvailability", &[object(&[("message", JsValue::from_str(&message))])]);
            }
            Effect::AgentJoined(agent) => self.ui("agentJoined", &[profile(&agent)]),
            Effect::AgentLeft => self.ui("agentLeftChat", &[]),
            Effect::BeginTransfer(agent) => {
                self.ui("beginTransferToAnotherAgent", &[agent.as_ref().map(profile).unwrap_or(JsValue::UNDEFINED)]);
            }
            Effect::ShowAgentMessage { agent_id, content } => {
                self.ui("sendMessageToUser", &[agent_message(&content), JsValue::from_str(&agent_id)]);
            }
            Effect::ShowAgentTyping(on) => self.ui("agentTyping", &[JsValue::from_bool(on)]),
            Effect::ShowAgentRead => self.ui("agentReadMessages", &[]),
            Effect::SetError(status) => self.set_error(status),
            Effect::FileStatus { id, error } => {
                if error.is_some() {
                    self.take_file(&id);
                }
                let failed = JsValue::from_bool(error.is_some());
                self.ui("setFileUploadStatus", &[JsValue::from_str(&id), failed, crate::js::opt_str(&error)]);
            }
            Effect::ChatEnded { .. } => self.ui("agentEndedChat", &[]),
            Effect::Persist => self.schedule_save(),
        }
    }

    /// Saves once per task however many changes a burst of events made: each save serialises the outbox.
    fn schedule_save(self: &Rc<Self>) {
        if self.save_scheduled.replace(true) {
            return;
        }
        self.after(0.0, TIMER_SAVE);
    }

    fn save_now(&self) {
        self.save_scheduled.set(false);
        // Forgetting is an empty object: the web chat deep-freezes what it is given and throws on null.
        let value = match self.session.borrow().saved_state() {
            Some(s) => crate::state::to_js(&s),
            None => js_sys::Object::new().into(),
        };
        report("updatePersistedState", call(&self.callback, "updatePersistedState", &[&value, &JsValue::FALSE]));
    }

    /// Feeds an event after the current one is fully handled (from inside `execute`).
    fn dispatch_later(self: &Rc<Self>, event: Event) {
        self.queue.borrow_mut().push_back(event);
    }

    fn apply_token(&self) {
        let Some(token) = self.pending_token.borrow_mut().take() else { return };
        if let Some(client) = self.client.borrow().as_ref() {
            let p = call_promise(client, "updateToken", &[&JsValue::from_str(&token)]);
            go(Box::pin(async move {
                if let Err(e) = JsFuture::from(p).await {
                    warn("updateToken failed", &e);
                }
            }));
        }
    }

    /// Maps the SDK's connection states onto the session. Once connected, "connecting" means the SDK is
    /// retrying a dropped connection (the real SDK never says "disconnected" then), so it counts as lost.
    fn connection_changed(self: &Rc<Self>, state: String) {
        *self.connection.borrow_mut() = state.clone();
        if state != "disconnecting" {
            self.apply_token();
        }
        let event = match state.as_str() {
            "connected" => {
                self.was_connected.set(true);
                Some(Event::ConnectionRestored)
            }
            "disconnected" | "denied" | "error" => Some(Event::ConnectionLost),
            "connecting" if self.was_connected.get() => Some(Event::ConnectionLost),
            _ => None,
        };
        if let Some(e) = event {
            self.dispatch(e);
        }
    }

    fn set_error(self: &Rc<Self>, status: ErrorStatus) {
        let info = match status {
            ErrorStatus::Connecting { message } => {
                // While startChat is pending, its rejection is how the web chat learns the chat did not start.
                if let Some((_, reject)) = self.start_waiter.borrow_mut().take() {
                    let _ = reject.call1(&JsValue::NULL, &js_sys::Error::new(&message));
                    return;
                }
                object(&[("type", JsValue::from_f64(1.0)), ("messageToUser", JsValue::from_str(&message))])
            }
            ErrorStatus::Disconnected(down) => object(&[("type", JsValue::from_f64(2.0)), ("isDisconnected", JsValue::from_bool(down))]),
            ErrorStatus::UserMessage { id } => object(&[("type", JsValue::from_f64(3.0)), ("messageID", JsValue::from_str(&id))]),
        };
        self.ui("setErrorStatus", &[info]);
    }

    /// Calls the web chat one callback at a time, each after the previous one's promise settled: Carbon AI Chat
    /// refuses a second `human_agent:*` event while one is still being handled, and order matters to the user.
    fn ui(self: &Rc<Self>, what: &'static str, args: &[JsValue]) {
        self.ui_queue.borrow_mut().push_back((what, args.iter().collect()));
        if self.ui_running.replace(true) {
            return;
        }
        let this = self.clone();
        go(Box::pin(async move {
            loop {
                let next = this.ui_queue.borrow_mut().pop_front();
                let Some((what, args)) = next else { break };
                let f = get(&this.callback, what);
                let result = match f.dyn_ref::<Function>() {
                    Some(f) => js_sys::Reflect::apply(f, &this.callback, &args),
                    None => Err(js_sys::Error::new(&(String::from(what) + " is not a function")).into()),
                };
                match result {
                    Ok(result) => {
                        if let Err(e) = JsFuture::from(Promise::resolve(&result)).await {
                            warn(&(String::from("the web chat's ") + what + " failed"), &e);
                        }
                    }
                    Err(e) => report(what, Err::<(), _>(e)),
                }
            }
            this.ui_running.set(false);
        }));
    }

    fn join(self: &Rc<Self>, token: String, conversation_sid: String) {
        let client = match self.make_client.call1(&JsValue::NULL, &JsValue::from_str(&token)) {
            Ok(c) if c.is_object() => c,
            Ok(_) => return self.dispatch_later(Event::JoinFailed { message: "createConversationsClient returned no client".into() }),
            Err(e) => return self.dispatch_later(Event::JoinFailed { message: error_message(&e) }),
        };
        let generation = self.generation.get();
        *self.connection.borrow_mut() = String::new();
        self.was_connected.set(false);
        self.listen(&client, "connectionStateChanged", generation, Box::new(|this, state| {
            this.connection_changed(state.as_string().unwrap_or_default());
            None
        }));
        self.listen(&client, "tokenAboutToExpire", generation, Box::new(|_, _| Some(Event::TokenAboutToExpire)));
        self.listen(&client, "tokenExpired", generation, Box::new(|_, _| Some(Event::TokenAboutToExpire)));
        self.listen(&client, "initFailed", generation, Box::new(|_, e| {
            Some(Event::JoinFailed { message: error_message(&get(&e, "error")) })
        }));
        // A terminal connection error: the SDK stops retrying for good (e.g. the socket closed during its init
        // handshake); the session replaces the client.
        self.listen(&client, "connectionError", generation, Box::new(|_, e| {
            (get(&e, "terminal") == JsValue::TRUE).then(|| Event::ClientFailed { message: error_message(&e) })
        }));
        let found = call_promise(&client, "getConversationBySid", &[&JsValue::from_str(&conversation_sid)]);
        *self.client.borrow_mut() = Some(client);
        let this = self.clone();
        go(Box::pin(async move {
            match JsFuture::from(found).await {
                Ok(conv) if this.generation.get() == generation => {
                    this.attach(&conv, generation);
                    let closed = get_str(&get(&conv, "state"), "current").as_deref() == Some("closed");
                    *this.conversation.borrow_mut() = Some(conv);
                    this.dispatch(Event::ConversationJoined);
                    if closed {
                        this.dispatch(Event::ConversationClosed);
                    }
                }
                Ok(_) => {}
                Err(e) => this.dispatch(Event::JoinFailed { message: error_message(&e) }),
            }
        }));
    }

    /// Whether a conversation participant is an agent: anyone but us who is not marked as a customer.
    fn is_agent(&self, p: &JsValue) -> bool {
        let me = self.session.borrow().identity().unwrap_or_default().to_string();
        get_str(p, "identity").is_some_and(|id| id != me) && get_str(&attributes(p), "member_type").as_deref() != Some("customer")
    }

    fn attach(self: &Rc<Self>, conv: &JsValue, generation: u32) {
        self.listen(conv, "messageAdded", generation, Box::new(|this, m| {
            this.receive(m);
            None
        }));
        self.listen(conv, "participantJoined", generation, Box::new(|this, p| this.is_agent(&p).then(|| Event::AgentJoined(agent_of(&p)))));
        self.listen(conv, "participantLeft", generation, Box::new(|this, p| {
            this.is_agent(&p).then(|| Event::AgentLeft { agent_id: get_str(&p, "identity").unwrap_or_default() })
        }));
        self.listen(conv, "participantUpdated", generation, Box::new(|this, u| {
            let p = get(&u, "participant");
            let reasons = array(&get(&u, "updateReasons"));
            let read = reasons.iter().any(|r| r.as_string().as_deref() == Some("lastReadMessageIndex"));
            let index = get_u64(&p, "lastReadMessageIndex")?;
            (read && this.is_agent(&p)).then(|| Event::AgentRead { agent_id: get_str(&p, "identity").unwrap_or_default(), index })
        }));
        self.listen(conv, "typingStarted", generation, Box::new(|this, p| this.agent_typing(&p, true)));
        self.listen(conv, "typingEnded", generation, Box::new(|this, p| this.agent_typing(&p, false)));
        self.listen(conv, "updated", generation, Box::new(|_, u| {
            let conv = get(&u, "conversation");
            let closed = get_str(&get(&conv, "state"), "current").as_deref() == Some("closed");
            closed.then_some(Event::ConversationClosed)
        }));
    }

    fn agent_typing(&self, p: &JsValue, typing: bool) -> Option<Event> {
        self.is_agent(p).then(|| Event::AgentTyping { agent_id: get_str(p, "identity").unwrap_or_default(), typing })
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

    /// Queues an SDK message; one worker converts them in order.
    fn receive(self: &Rc<Self>, message: JsValue) {
        self.inbox.borrow_mut().push_back(message);
        if self.inbox_running.replace(true) {
            return;
        }
        let this = self.clone();
        go(Box::pin(async move {
            loop {
                let next = this.inbox.borrow_mut().pop_front();
                let Some(m) = next else { break };
                if let Some(event) = message_event(&m).await {
                    this.dispatch(event);
                }
            }
            this.inbox_running.set(false);
        }));
    }

    /// Loads the agents present and the messages after `after`, and feeds them through the normal paths.
    fn sync(self: &Rc<Self>, after: Option<u64>) {
        let Some(conv) = self.conversation.borrow().clone() else { return };
        let this = self.clone();
        let generation = self.generation.get();
        go(Box::pin(async move {
            if let Ok(list) = JsFuture::from(call_promise(&conv, "getParticipants", &[])).await {
                for p in array(&list).iter() {
                    if this.is_agent(&p) && this.generation.get() == generation {
                        this.dispatch(Event::AgentJoined(agent_of(&p)));
                    }
                }
            }
            // Pages come newest first, each in index order: older pages go in front.
            let mut missed: Vec<JsValue> = Vec::new();
            let mut page = JsFuture::from(call_promise(&conv, "getMessages", &[&JsValue::from_f64(50.0)])).await.ok();
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
                    this.receive(m);
                }
            }
        }));
    }

    fn start_typing(self: &Rc<Self>) {
        let Some(conv) = self.conversation.borrow().clone() else { return };
        let _ = call(&conv, "typing", &[]);
        if self.typing_timer.borrow().is_none() {
            let id = crate::js::set_interval(self.timers.as_ref(), TYPING_REPEAT_MS, TIMER_TYPING);
            *self.typing_timer.borrow_mut() = Some(id);
        }
    }

    pub fn stop_typing(&self) {
        if let Some(id) = self.typing_timer.borrow_mut().take() {
            crate::js::clear_interval(&id);
        }
    }

    fn close_client(&self) {
        self.stop_typing();
        self.generation.set(self.generation.get().wrapping_add(1));
        self.conversation.borrow_mut().take();
        if let Some(client) = self.client.borrow_mut().take() {
            let p = call_promise(&client, "shutdown", &[]);
            go(Box::pin(async move {
                let _ = JsFuture::from(p).await;
            }));
        }
    }
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

fn sent(id: String, result: Result<JsValue, JsValue>) -> Event {
    match result {
        Ok(index) => match index.as_f64() {
            Some(i) if i >= 0.0 => Event::MessageSent { id, index: i as u64 },
            // Some SDK builds resolve without the index: the echo (by flexdeskId) confirms it instead.
            _ => Event::MessageSent { id, index: 0 },
        },
        Err(e) => {
            warn("sending a message failed", &e);
            // 4xx (other than 429) will fail again: report it instead of retrying forever.
            let retryable = error_status(&e).is_none_or(|s| s == 429 || !(400..500).contains(&s));
            Event::MessageFailed { id, retryable }
        }
    }
}

fn agent_of(p: &JsValue) -> Agent {
    let id = get_str(p, "identity").unwrap_or_default();
    let attrs = attributes(p);
    let name = get_str(&attrs, "friendlyName")
        .or_else(|| get_str(&attrs, "friendly_name"))
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| id.clone());
    Agent { id, name, avatar: get_str(&attrs, "avatar") }
}

fn profile(agent: &Agent) -> JsValue {
    let mut fields = vec![
        ("id", JsValue::from_str(&agent.id)),
        ("nickname", JsValue::from_str(&agent.name)),
        ("user_type", JsValue::from_str("human")),
    ];
    if let Some(a) = &agent.avatar {
        fields.push(("profile_picture_url", JsValue::from_str(a)));
    }
    object(&fields)
}

/// Converts an SDK message (resolving a media URL if needed) into a session event.
async fn message_event(m: &JsValue) -> Option<Event> {
    let index = get_u64(m, "index")?;
    let author = get_str(m, "author").unwrap_or_default();
    let client_id = get_str(&attributes(m), "flexdeskId");
    let media = array(&get(m, "attachedMedia")).get(0);
    let content = if media.is_object() {
        let url = match get(&media, "getContentTemporaryUrl").dyn_ref::<Function>() {
            Some(f) => match f.call0(&media).ok().map(|p| JsFuture::from(Promise::from(p))) {
                Some(fut) => fut.await.ok().and_then(|u| u.as_string()).unwrap_or_default(),
                None => String::new(),
            },
            None => String::new(),
        };
        Content::Media {
            filename: get_str(&media, "filename").unwrap_or_else(|| "file".into()),
            content_type: get_str(&media, "contentType").unwrap_or_default(),
            url,
        }
    } else {
        Content::Text { body: get_str(m, "body").unwrap_or_default() }
    };
    Some(Event::Message { index, author, client_id, content })
}

/// What the web chat shows for an agent message. Text is escaped: agent text is untrusted.
fn agent_message(content: &Content) -> JsValue {
    match content {
        Content::Text { body } => JsValue::from_str(&escape_html(body)),
        Content::Media { filename, content_type, url } if content_type.starts_with("image/") => {
            let item = object(&[
                ("response_type", JsValue::from_str("image")),
                ("source", JsValue::from_str(url)),
                ("title", JsValue::from_str(&escape_html(filename))),
                ("alt_text", JsValue::from_str(&escape_html(filename))),
            ]);
            object(&[("output", object(&[("generic", Array::of1(&item).into())]))])
        }
        Content::Media { filename, url, .. } => {
            let safe_url = url.replace(' ', "%20").replace(')', "%29");
            JsValue::from_str(&(String::from("Attachment: [") + &escape_html(filename) + "](" + &safe_url + ")"))
        }
    }
}
