//! flexdesk: a Twilio Flex service desk for Carbon AI Chat (Watson web chat), compiled to WebAssembly.
//!
//! [`TwilioFlex`] implements the web chat's `ServiceDesk` methods. The chat rules live in `flexdesk_core`;
//! this crate only binds them to the browser: the auth server over gloo-net's fetch ([`auth`]), the Conversations SDK
//! and the web chat's callbacks through wasm-bindgen ([`bindings`]), every conversion between JavaScript values and
//! the core's types (`interop`), and the event/effect loop ([`shell`]).
//! The npm wrapper (`js/index.js`) exposes `createTwilioFlexServiceDesk(config)`: a light desk that loads this
//! module only when a chat with an agent starts, and answers `areAnyAgentsOnline` itself.
//!
//! The module is size-budgeted (60 KiB gzipped with its glue and the wrapper; `scripts/build-wasm` fails above):
//! no `core::fmt`, no serde (de)serializers (serde-wasm-bindgen is measured by `npm run bench` and left out: the
//! package README; gloo-net for the auth server's HTTP API; web-sys only for the browser APIs the desk calls), one dispatcher for JavaScript calls and one closure
//! type for listeners and timers. See `js.rs` for the rules. The allocator is talc's (a well-kept crate) instead of
//! Rust's default dlmalloc: 2.6 KiB gzipped smaller (measured with `scripts/build-wasm`), the same `GlobalAlloc`.

/// talc's single-threaded wasm allocator, as its README_WASM.md sets it up (the desk never uses wasm threads).
#[cfg(all(not(target_feature = "atomics"), target_family = "wasm"))]
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();

pub mod auth;
pub mod bindings;
mod config;
mod js;
mod interop;
mod serial;
pub mod shell;

use std::rc::Rc;

use flexdesk_core::handoff::{handoff_from_connect_message, session_request};
use flexdesk_core::{ChosenFile, Event, Phase};
use js_sys::Promise;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::auth::AuthClient;
use crate::bindings::{call, ServiceDeskCallback};
use crate::config::Config;
use crate::js::{get, get_str, json_copy, object, Js};
use crate::shell::Shell;

/// One desk per web chat instance; it can run several chats one after the other.
#[wasm_bindgen]
pub struct TwilioFlex {
    shell: Rc<Shell>,
    config: Config,
    persisted: JsValue,
}

#[wasm_bindgen]
impl TwilioFlex {
    /// `config`: see `Config`; `callback`: the web chat's `ServiceDeskCallback`; `persisted_state`: the
    /// factory's `persistedState` (what an earlier page saved with `updatePersistedState`).
    #[wasm_bindgen(constructor)]
    pub fn new(config: JsValue, callback: ServiceDeskCallback, persisted_state: JsValue) -> TwilioFlex {
        let config = Config::from_js(&config);
        let _ = call(&callback, "updateCapabilities", &[&object(&[
            ("allowFileUploads", JsValue::TRUE),
            ("allowMultipleFileUploads", JsValue::TRUE),
            ("allowedFileUploadTypes", JsValue::from_str(&config.limits.accept_attribute())),
        ])]);
        let shell = Shell::new(callback, AuthClient::new(&config.auth_server_url), config.create_client.clone(), config.limits.clone(), config.join_timeout_ms);
        *shell.strings.borrow_mut() = config.strings.clone();
        *shell.on_chat_end.borrow_mut() = config.on_chat_end.clone();
        shell.configure(config.queue_poll_ms, config.idle);
        TwilioFlex { shell, config, persisted: persisted_state }
    }

    /// Starts a chat: the auth server creates the Flex chat, then the desk joins the conversation. Resolves once
    /// the chat exists (the agent joins later) or could not start (the reason told with `setErrorStatus`).
    /// The customer's name and pre-engagement data are read now, not when the chat window opened.
    /// The signed-in customer's token (`config.identityToken`, resolved by `js/index.js` and added to the options
    /// as `identityToken`) is carried to the auth server as is.
    #[wasm_bindgen(js_name = startChat)]
    pub fn start_chat(&self, connect_message: JsValue, start_chat_options: JsValue) -> Promise {
        let handoff = handoff_from_connect_message(&Js(connect_message), self.config.transcript());
        let payload = Js(get(&start_chat_options, "preStartChatPayload"));
        let (mut req, pre_engagement) = session_request(self.config.customer_name(), self.config.pre_engagement(), payload, handoff);
        self.shell.auth.set_pre_engagement(pre_engagement.and_then(|p| json_copy(&p.0, "the pre-engagement data")));
        req.identity_token = get_str(&start_chat_options, "identityToken");
        self.shell.start_promise(Event::StartRequested(req))
    }

    /// Ends the chat from the user's side: the conversation is closed so the agent sees it end.
    #[wasm_bindgen(js_name = endChat)]
    pub fn end_chat(&self, _info: JsValue) -> Promise {
        self.shell.dispatch(Event::EndRequested);
        Promise::resolve(&JsValue::UNDEFINED)
    }

    /// Text goes in order, queued while connecting; each attached file is its own message (the Flex web channel
    /// takes one attachment per message). The text first: Carbon shows it before the files
    /// (`HumanAgentServiceImpl.sendMessageToAgent` adds the text pair, then one pair per upload).
    ///
    /// The text's id is the request's own `message.id`, not Carbon's second argument: Carbon 1.9.1 passes
    /// `textMessage.ui_state.id` there, but `setErrorStatus({ type: USER_MESSAGE, messageID })` marks the message
    /// found under `messageID` in `allMessagesByID` (HumanAgentServiceImpl.ts `setMessageErrorState` →
    /// actions.ts `setMessageResponseHistoryProperty` → reducers.ts `SET_MESSAGE_RESPONSE_HISTORY_PROPERTY`:
    /// `state.allMessagesByID[messageID]`), which is keyed by `message.id` (its own error marks use
    /// `textMessage.fullMessageID`, which inputItemToLocalItem.tsx sets to `message.id`). The second argument is
    /// kept only for a caller that sends no id.
    #[wasm_bindgen(js_name = sendMessageToAgent)]
    pub fn send_message_to_agent(&self, message: JsValue, message_id: String, additional_data: JsValue) -> Promise {
        // Whether the text is sent at all (blank, too long) is the core's rule.
        let text = get_str(&get(&message, "input"), "text").unwrap_or_default();
        let id = get_str(&message, "id").filter(|id| !id.is_empty()).unwrap_or(message_id);
        self.shell.dispatch(Event::UserMessage { id, text });
        for interop::Upload { id, file, name, size } in interop::uploads(&get(&additional_data, "filesToUpload")) {
            self.shell.files.borrow_mut().push((id.clone(), file));
            self.shell.dispatch(Event::UserFile { id, name, size });
        }
        Promise::resolve(&JsValue::UNDEFINED)
    }

    #[wasm_bindgen(js_name = userTyping)]
    pub fn user_typing(&self, is_typing: bool) -> Promise {
        self.shell.dispatch(Event::UserTyping(is_typing));
        Promise::resolve(&JsValue::UNDEFINED)
    }

    #[wasm_bindgen(js_name = userReadMessages)]
    pub fn user_read_messages(&self) -> Promise {
        self.shell.dispatch(Event::UserRead);
        Promise::resolve(&JsValue::UNDEFINED)
    }

    /// Not part of Carbon's `ServiceDesk`: whether the page has the chat suspended
    /// (`instance.serviceDesk.updateIsSuspended`). Carbon never tells the desk; `js/index.js` reads
    /// `instance.getState().humanAgent.isSuspended` and passes every change (`state:change`).
    #[wasm_bindgen(js_name = setSuspended)]
    pub fn set_suspended(&self, suspended: bool) {
        self.shell.dispatch(Event::Suspended(suspended));
    }

    /// Files the user picked, before sending: the core checks them at once, so the user sees a problem early.
    #[wasm_bindgen(js_name = filesSelectedForUpload)]
    pub fn files_selected_for_upload(&self, uploads: JsValue) {
        let files = interop::uploads(&uploads).into_iter().map(|u| ChosenFile { id: u.id, name: u.name, size: u.size });
        self.shell.dispatch(Event::FilesSelected(files.collect()));
    }

    /// Twilio Flex web chat has no screen sharing: nothing to stop.
    #[wasm_bindgen(js_name = screenShareStop)]
    pub fn screen_share_stop(&self) -> Promise {
        Promise::resolve(&JsValue::UNDEFINED)
    }

    /// `startChat` for a chat this customer already has open (another tab's, or this tab's before a reload while
    /// waiting): `chat` as every tab reads it, `this_tab` what this tab's web chat saved (both as
    /// `updatePersistedState` wrote them). The same Flex task, no new one. Settles like `startChat`.
    #[wasm_bindgen(js_name = adoptChat)]
    pub fn adopt_chat(&self, chat: JsValue, this_tab: JsValue) -> Promise {
        match interop::saved_from_js(&chat) {
            Some(chat) => self.shell.start_promise(Event::Adopt { chat, this_tab: interop::saved_from_js(&this_tab) }),
            None => Promise::resolve(&JsValue::FALSE),
        }
    }

    /// Not part of Carbon's `ServiceDesk`: at the web chat's `chat:ready`, the chat `js/index.js` found where every
    /// tab reads it, and whether the web chat counts a chat with an agent as connected. The core decides whether it
    /// is offered (the tab rules: flexdesk-core `session/tab.rs`).
    #[wasm_bindgen(js_name = chatFound)]
    pub fn chat_found(&self, chat: JsValue, connected: bool) {
        if let Some(chat) = interop::saved_from_js(&chat) {
            self.shell.dispatch(Event::ChatFound { chat, connected });
        }
    }

    /// Not part of Carbon's `ServiceDesk`: another tab announced it took the chat `session_id` (heard by
    /// `js/index.js` on the tabs' BroadcastChannel).
    #[wasm_bindgen(js_name = chatTaken)]
    pub fn chat_taken(&self, session_id: String) {
        self.shell.dispatch(Event::TakenElsewhere { session_id });
    }

    /// After a page reload: reattach to the saved chat, refresh its token through the session credential and
    /// replay what arrived meanwhile. Resolves `false` when there is nothing to resume.
    pub fn reconnect(&self) -> Promise {
        let saved = if self.persisted.is_object() {
            self.persisted.clone()
        } else {
            get(&self.shell.callback, "persistedState")
                .dyn_ref::<js_sys::Function>()
                .and_then(|f| f.call0(&self.shell.callback).ok())
                .unwrap_or(JsValue::NULL)
        };
        match interop::saved_from_js(&saved) {
            Some(state) => self.shell.reconnect_promise(Event::Resume(state)),
            None => {
                // Not a chat this desk can read (nothing, or another version's shape): Carbon ends the chat on
                // `false`, and saving what the session holds replaces the unreadable value, which would otherwise
                // keep the bot's welcome away in this tab.
                self.shell.save_now();
                Promise::resolve(&JsValue::FALSE)
            }
        }
    }

    /// Not part of Carbon's `ServiceDesk` (issue 28, item 4): the core's answer to "continue by SMS to `phone`" (typed
    /// and confirmed by the customer): the number in E.164 (`+…`) for the wrapper to post to the auth server
    /// (`POST /v1/sessions/{id}/sms`), or an error code (`session_ended`, `phone_invalid`). Changes nothing.
    #[wasm_bindgen(js_name = smsRequest)]
    pub fn sms_request(&self, phone: String) -> String {
        self.shell.sms_request(&phone).unwrap_or_else(String::from)
    }

    /// The auth server added the customer's phone (`masked`, as it answered): the chat goes on by SMS.
    #[wasm_bindgen(js_name = smsAdded)]
    pub fn sms_added(&self, masked: String) {
        self.shell.dispatch(Event::SmsAdded(masked));
    }

    /// The session's phase (`Idle`, `Starting`, `Waiting`, `Chatting`, `Ended`...), for status displays and tests.
    #[wasm_bindgen(getter)]
    pub fn phase(&self) -> String {
        match self.shell.phase() {
            Phase::Idle => "Idle",
            Phase::Starting => "Starting",
            Phase::Resuming => "Resuming",
            Phase::Joining => "Joining",
            Phase::Waiting => "Waiting",
            Phase::Chatting => "Chatting",
            Phase::Ended => "Ended",
        }
        .into()
    }
}
