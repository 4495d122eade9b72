//! The thin shell around `flexdesk_core::Session`: it turns SDK and web-chat calls into events, and carries
//! out the effects. Events are queued and handled one at a time, so a callback that re-enters the desk (the
//! SDK may emit synchronously) never interleaves with the effects of another event.

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, VecDeque};
use std::rc::Rc;

use flexdesk_core::handoff::escape_html;
use flexdesk_core::{Agent, Content, Effect, ErrorStatus, Event, Phase, Session};
use js_sys::{Array, Function, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::{spawn_local, JsFuture};

use crate::auth::AuthClient;
use crate::bindings::{Conversation, ConversationsClient, Paginator, ServiceDeskCallback};
use crate::js::{array, attributes, error_message, error_status, get, get_str, get_u64, object, warn};

/// How often typing is re-signalled while the user keeps typing: the agent's indicator lapses after ~5 s.
const TYPING_REPEAT_MS: i32 = 3000;

pub struct Shell {
    session: RefCell<Session>,
    queue: RefCell<VecDeque<Event>>,
    busy: Cell<bool>,
    pub callback: ServiceDeskCallback,
    pub auth: AuthClient,
    make_client: Function,
    client: RefCell<Option<ConversationsClient>>,
    conversation: RefCell<Option<Conversation>>,
    /// Files the user chose, by web-chat upload id, until they are sent.
    pub files: RefCell<HashMap<String, web_sys::File>>,
    start_waiter: RefCell<Option<(Function, Function)>>,
    reconnect_waiter: RefCell<Option<Function>>,
    typing_timer: Cell<Option<i32>>,
    /// Bumped whenever a client is closed: listeners of an older client are ignored.
    generation: Cell<u32>,
    listeners: RefCell<Vec<Closure<dyn FnMut(JsValue)>>>,
    /// Incoming conversation messages, converted in arrival order (media needs an async URL lookup).
    inbox: RefCell<VecDeque<JsValue>>,
    inbox_running: Cell<bool>,
    save_scheduled: Cell<bool>,
    ui_queue: RefCell<VecDeque<(&'static str, UiCall)>>,
    ui_running: Cell<bool>,
    /// The SDK's last connection state, whether it was ever connected, and a token waiting for it to settle.
    connection: RefCell<String>,
    was_connected: Cell<bool>,
    pending_token: RefCell<Option<String>>,
}

type UiCall = Box<dyn FnOnce(&ServiceDeskCallback) -> Result<JsValue, JsValue>>;

impl Shell {
    pub fn new(callback: ServiceDeskCallback, auth: AuthClient, make_client: Function) -> Rc<Self> {
        Rc::new(Shell {
            session: RefCell::new(Session::new()),
            queue: RefCell::new(VecDeque::new()),
            busy: Cell::new(false),
            callback,
            auth,
            make_client,
            client: RefCell::new(None),
            conversation: RefCell::new(None),
            files: RefCell::new(HashMap::new()),
            start_waiter: RefCell::new(None),
            reconnect_waiter: RefCell::new(None),
            typing_timer: Cell::new(None),
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
        })
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

    fn spawn<F: std::future::Future<Output = Option<Event>> + 'static>(self: &Rc<Self>, fut: F) {
        let this = self.clone();
        spawn_local(async move {
            if let Some(event) = fut.await {
                this.dispatch(event);
            }
        });
    }

    fn execute(self: &Rc<Self>, effect: Effect) {
        match effect {
            Effect::CreateSession(req) => {
                let auth = self.auth.clone();
                self.spawn(async move {
                    Some(match auth.create_session(&req).await {
                        Ok(created) => Event::SessionCreated(created),
                        Err(e) => Event::SessionRefused { message: e.message },
                    })
                });
            }
            Effect::RefreshToken { session_id, credential } => {
                let auth = self.auth.clone();
                self.spawn(async move {
                    Some(match auth.refresh(&session_id, &credential).await {
                        Ok(t) => Event::TokenRefreshed(t),
                        Err(e) => Event::TokenRefused { message: e.message },
                    })
                });
            }
            Effect::EndSession { session_id, credential } => {
                let auth = self.auth.clone();
                self.spawn(async move {
                    if let Err(e) = auth.end(&session_id, &credential).await {
                        // 404: already ended (the agent closed it first) — nothing to do.
                        if e.status != 404 {
                            warn("ending the session failed", &JsValue::from_str(&e.message));
                        }
                    }
                    None
                });
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
                let p = settle(conv.send_message(&text, &attrs));
                self.spawn(async move { Some(sent(id, JsFuture::from(p).await)) });
            }
            Effect::SendFile { id } => {
                let file = self.files.borrow_mut().remove(&id);
                let (Some(conv), Some(file)) = (self.conversation.borrow().clone(), file) else {
                    self.dispatch_later(Event::MessageFailed { id, retryable: false });
                    return;
                };
                let media = object(&[
                    ("contentType", JsValue::from_str(&file.type_())),
                    ("filename", JsValue::from_str(&file.name())),
                    ("media", file.clone().into()),
                ]);
                let attrs = object(&[("flexdeskId", JsValue::from_str(&id))]);
                let p = settle((|| conv.prepare_message()?.set_attributes(&attrs)?.add_media(&media)?.build()?.send())());
                let this = self.clone();
                self.spawn(async move {
                    let result = JsFuture::from(p).await;
                    if result.is_err() {
                        // Keep the file so a retry can send it again.
                        this.files.borrow_mut().insert(id.clone(), file);
                    }
                    Some(sent(id, result))
                });
            }
            Effect::SendTyping => self.start_typing(),
            Effect::ScheduleRetry { delay_ms } => {
                let this = self.clone();
                let f = Closure::once_into_js(move || this.dispatch(Event::RetryDue));
                if let Some(w) = web_sys::window() {
                    let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(f.unchecked_ref(), delay_ms as i32);
                }
            }
            Effect::SetReadHorizon { index } => {
                if let Some(conv) = self.conversation.borrow().as_ref() {
                    let p = settle(conv.advance_last_read_message_index(index as f64));
                    spawn_local(async move {
                        if let Err(e) = JsFuture::from(p).await {
                            warn("advancing the read horizon failed", &e);
                        }
                    });
                }
            }
            Effect::CloseClient => self.close_client(),
            Effect::WaitingStatus { message } => {
                let availability = object(&[("message", JsValue::from_str(&message))]);
                self.ui("updateAgentAvailability", move |cb| cb.update_agent_availability(&availability));
            }
            Effect::AgentJoined(agent) => {
                let p = profile(&agent);
                self.ui("agentJoined", move |cb| cb.agent_joined(&p));
            }
            Effect::AgentLeft => self.ui("agentLeftChat", |cb| cb.agent_left_chat()),
            Effect::BeginTransfer(agent) => {
                let p = agent.as_ref().map(profile).unwrap_or(JsValue::UNDEFINED);
                self.ui("beginTransferToAnotherAgent", move |cb| cb.begin_transfer_to_another_agent(&p));
            }
            Effect::ShowAgentMessage { agent_id, content } => {
                let m = agent_message(&content);
                self.ui("sendMessageToUser", move |cb| cb.send_message_to_user(&m, &agent_id));
            }
            Effect::ShowAgentTyping(on) => self.ui("agentTyping", move |cb| cb.agent_typing(on)),
            Effect::ShowAgentRead => self.ui("agentReadMessages", |cb| cb.agent_read_messages()),
            Effect::SetError(status) => self.set_error(status),
            Effect::FileStatus { id, error } => {
                if error.is_some() {
                    self.files.borrow_mut().remove(&id);
                }
                self.ui("setFileUploadStatus", move |cb| cb.set_file_upload_status(&id, error.is_some(), error));
            }
            Effect::ChatEnded { .. } => self.ui("agentEndedChat", |cb| cb.agent_ended_chat()),
            Effect::Persist => self.schedule_save(),
        }
    }

    /// Saves once per task however many changes a burst of events made: each save serialises the outbox.
    fn schedule_save(self: &Rc<Self>) {
        if self.save_scheduled.replace(true) {
            return;
        }
        let this = self.clone();
        let save = Closure::once_into_js(move || this.save_now());
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(save.unchecked_ref(), 0);
        }
    }

    fn save_now(&self) {
        self.save_scheduled.set(false);
        // Forgetting is an empty object: the web chat deep-freezes what it is given and throws on null.
        let value = match self.session.borrow().saved_state() {
            Some(s) => serde_wasm_bindgen::to_value(&s).unwrap_or_else(|_| js_sys::Object::new().into()),
            None => js_sys::Object::new().into(),
        };
        report("updatePersistedState", self.callback.update_persisted_state(&value, false));
    }

    /// Feeds an event after the current one is fully handled (from inside `execute`).
    fn dispatch_later(self: &Rc<Self>, event: Event) {
        self.queue.borrow_mut().push_back(event);
    }

    fn apply_token(&self) {
        let Some(token) = self.pending_token.borrow_mut().take() else { return };
        if let Some(client) = self.client.borrow().as_ref() {
            let p = settle(client.update_token(&token));
            spawn_local(async move {
                if let Err(e) = JsFuture::from(p).await {
                    warn("updateToken failed", &e);
                }
            });
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
                object(&[("type", 1.into()), ("messageToUser", JsValue::from_str(&message))])
            }
            ErrorStatus::Disconnected(down) => object(&[("type", 2.into()), ("isDisconnected", down.into())]),
            ErrorStatus::UserMessage { id } => object(&[("type", 3.into()), ("messageID", JsValue::from_str(&id))]),
        };
        self.ui("setErrorStatus", move |cb| cb.set_error_status(&info));
    }

    /// Calls the web chat one callback at a time, each after the previous one's promise settled: Carbon AI Chat
    /// refuses a second `human_agent:*` event while one is still being handled, and order matters to the user.
    fn ui(self: &Rc<Self>, what: &'static str, call: impl FnOnce(&ServiceDeskCallback) -> Result<JsValue, JsValue> + 'static) {
        self.ui_queue.borrow_mut().push_back((what, Box::new(call)));
        if self.ui_running.replace(true) {
            return;
        }
        let this = self.clone();
        spawn_local(async move {
            loop {
                let next = this.ui_queue.borrow_mut().pop_front();
                let Some((what, call)) = next else { break };
                match call(&this.callback) {
                    Ok(result) => {
                        if let Err(e) = JsFuture::from(Promise::resolve(&result)).await {
                            warn(&format!("the web chat's {what} failed"), &e);
                        }
                    }
                    Err(e) => report(what, Err::<(), _>(e)),
                }
            }
            this.ui_running.set(false);
        });
    }

    fn join(self: &Rc<Self>, token: String, conversation_sid: String) {
        let client = match self.make_client.call1(&JsValue::NULL, &JsValue::from_str(&token)) {
            Ok(c) if c.is_object() => c.unchecked_into::<ConversationsClient>(),
            Ok(_) => return self.dispatch_later(Event::JoinFailed { message: "createConversationsClient returned no client".into() }),
            Err(e) => return self.dispatch_later(Event::JoinFailed { message: error_message(&e) }),
        };
        let generation = self.generation.get();
        *self.connection.borrow_mut() = String::new();
        self.was_connected.set(false);
        let this = self.clone();
        let on_state = Closure::<dyn FnMut(JsValue)>::new(move |state: JsValue| {
            if this.generation.get() == generation {
                this.connection_changed(state.as_string().unwrap_or_default());
            }
        });
        report("on(connectionStateChanged)", client.on("connectionStateChanged", on_state.as_ref().unchecked_ref()));
        self.listeners.borrow_mut().push(on_state);
        self.listen(client.unchecked_ref(), "tokenAboutToExpire", generation, |_| Some(Event::TokenAboutToExpire));
        self.listen(client.unchecked_ref(), "tokenExpired", generation, |_| Some(Event::TokenAboutToExpire));
        self.listen(client.unchecked_ref(), "initFailed", generation, |e| {
            Some(Event::JoinFailed { message: error_message(&get(&e, "error")) })
        });
        // A terminal connection error: the SDK stops retrying for good (e.g. the socket closed during its init
        // handshake); the session replaces the client.
        self.listen(client.unchecked_ref(), "connectionError", generation, |e| {
            (get(&e, "terminal") == JsValue::TRUE).then(|| Event::ClientFailed { message: error_message(&e) })
        });
        let found = settle(client.get_conversation_by_sid(&conversation_sid));
        *self.client.borrow_mut() = Some(client);
        let this = self.clone();
        spawn_local(async move {
            match JsFuture::from(found).await {
                Ok(conv) if this.generation.get() == generation => {
                    let conv: Conversation = conv.unchecked_into();
                    this.attach(&conv, generation);
                    let closed = get_str(&conv.state(), "current").as_deref() == Some("closed");
                    *this.conversation.borrow_mut() = Some(conv);
                    this.dispatch(Event::ConversationJoined);
                    if closed {
                        this.dispatch(Event::ConversationClosed);
                    }
                }
                Ok(_) => {}
                Err(e) => this.dispatch(Event::JoinFailed { message: error_message(&e) }),
            }
        });
    }

    fn attach(self: &Rc<Self>, conv: &Conversation, generation: u32) {
        let target: &JsValue = conv.unchecked_ref();
        let me = self.session.borrow().identity().unwrap_or_default().to_string();
        let is_agent = {
            let me = me.clone();
            move |p: &JsValue| {
                get_str(p, "identity").is_some_and(|id| id != me)
                    && get_str(&attributes(p), "member_type").as_deref() != Some("customer")
            }
        };
        let this = self.clone();
        let closure = Closure::<dyn FnMut(JsValue)>::new(move |m: JsValue| {
            if this.generation.get() == generation {
                this.receive(m);
            }
        });
        report("on(messageAdded)", conv.on("messageAdded", closure.as_ref().unchecked_ref()));
        self.listeners.borrow_mut().push(closure);
        let agent_check = is_agent.clone();
        self.listen(target, "participantJoined", generation, move |p| agent_check(&p).then(|| Event::AgentJoined(agent_of(&p))));
        let agent_check = is_agent.clone();
        self.listen(target, "participantLeft", generation, move |p| {
            agent_check(&p).then(|| Event::AgentLeft { agent_id: get_str(&p, "identity").unwrap_or_default() })
        });
        let agent_check = is_agent.clone();
        self.listen(target, "participantUpdated", generation, move |u| {
            let p = get(&u, "participant");
            let reasons = array(&get(&u, "updateReasons"));
            let read = reasons.iter().any(|r| r.as_string().as_deref() == Some("lastReadMessageIndex"));
            let index = get_u64(&p, "lastReadMessageIndex")?;
            (read && agent_check(&p)).then(|| Event::AgentRead { agent_id: get_str(&p, "identity").unwrap_or_default(), index })
        });
        for (name, typing) in [("typingStarted", true), ("typingEnded", false)] {
            let agent_check = is_agent.clone();
            self.listen(target, name, generation, move |p| {
                agent_check(&p).then(|| Event::AgentTyping { agent_id: get_str(&p, "identity").unwrap_or_default(), typing })
            });
        }
        self.listen(target, "updated", generation, |u| {
            let conv = get(&u, "conversation");
            let closed = get_str(&get(&conv, "state"), "current").as_deref() == Some("closed");
            closed.then_some(Event::ConversationClosed)
        });
    }

    /// Registers `handler` for `event` on an SDK object; its result, if any, is fed to the session.
    fn listen(self: &Rc<Self>, target: &JsValue, event: &str, generation: u32, handler: impl Fn(JsValue) -> Option<Event> + 'static) {
        let this = self.clone();
        let closure = Closure::<dyn FnMut(JsValue)>::new(move |arg: JsValue| {
            if this.generation.get() == generation {
                if let Some(e) = handler(arg) {
                    this.dispatch(e);
                }
            }
        });
        let on = get(target, "on");
        if let Some(on) = on.dyn_ref::<Function>() {
            let _ = on.call2(target, &JsValue::from_str(event), closure.as_ref());
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
        spawn_local(async move {
            loop {
                let next = this.inbox.borrow_mut().pop_front();
                let Some(m) = next else { break };
                if let Some(event) = message_event(&m).await {
                    this.dispatch(event);
                }
            }
            this.inbox_running.set(false);
        });
    }

    /// Loads the agents present and the messages after `after`, and feeds them through the normal paths.
    fn sync(self: &Rc<Self>, after: Option<u64>) {
        let Some(conv) = self.conversation.borrow().clone() else { return };
        let this = self.clone();
        let generation = self.generation.get();
        spawn_local(async move {
            let me = this.session.borrow().identity().unwrap_or_default().to_string();
            if let Ok(list) = JsFuture::from(settle(conv.get_participants())).await {
                for p in array(&list).iter() {
                    let agent = get_str(&p, "identity").is_some_and(|id| id != me)
                        && get_str(&attributes(&p), "member_type").as_deref() != Some("customer");
                    if agent && this.generation.get() == generation {
                        this.dispatch(Event::AgentJoined(agent_of(&p)));
                    }
                }
            }
            let mut missed = Vec::new();
            let mut page = JsFuture::from(settle(conv.get_messages(50))).await.ok().map(|p| p.unchecked_into::<Paginator>());
            while let Some(p) = page {
                let items: Vec<JsValue> = p.items().iter().collect();
                let oldest = items.iter().filter_map(|m| get_u64(m, "index")).min();
                missed.extend(items.into_iter().filter(|m| after.is_none_or(|a| get_u64(m, "index").is_some_and(|i| i > a))));
                let more = p.has_prev_page() && oldest.is_some_and(|o| after.is_none_or(|a| o > a + 1));
                page = if more { JsFuture::from(settle(p.prev_page())).await.ok().map(|p| p.unchecked_into()) } else { None };
            }
            missed.sort_by_key(|m| get_u64(m, "index"));
            if this.generation.get() == generation {
                for m in missed {
                    this.receive(m);
                }
            }
        });
    }

    fn start_typing(self: &Rc<Self>) {
        let Some(conv) = self.conversation.borrow().clone() else { return };
        let _ = conv.typing();
        if self.typing_timer.get().is_none() {
            let repeat = Closure::<dyn FnMut()>::new(move || {
                let _ = conv.typing();
            });
            if let Some(w) = web_sys::window() {
                let id = w.set_interval_with_callback_and_timeout_and_arguments_0(repeat.as_ref().unchecked_ref(), TYPING_REPEAT_MS);
                self.typing_timer.set(id.ok());
            }
            repeat.forget(); // the interval holds it until stop_typing clears the interval
        }
    }

    pub fn stop_typing(&self) {
        if let (Some(id), Some(w)) = (self.typing_timer.take(), web_sys::window()) {
            w.clear_interval_with_handle(id);
        }
    }

    fn close_client(&self) {
        self.stop_typing();
        self.generation.set(self.generation.get().wrapping_add(1));
        self.conversation.borrow_mut().take();
        if let Some(client) = self.client.borrow_mut().take() {
            let p = settle(client.shutdown());
            spawn_local(async move {
                let _ = JsFuture::from(p).await;
            });
        }
    }
}

/// A promise-returning call that may also throw synchronously, as one promise.
fn settle(call: Result<Promise, JsValue>) -> Promise {
    call.unwrap_or_else(|e| Promise::reject(&e))
}

/// Logs a throwing web-chat callback instead of letting the exception unwind through the desk.
fn report<T>(what: &str, result: Result<T, JsValue>) {
    if let Err(e) = result {
        warn(&format!("the web chat's {what} threw"), &e);
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
            JsValue::from_str(&format!("Attachment: [{}]({})", escape_html(filename), safe_url))
        }
    }
}
