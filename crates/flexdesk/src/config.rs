//! The options a web team passes to `createTwilioFlexServiceDesk` (checked there, in `js/index.js`), read once.

use flexdesk_core::media::MediaLimits;
use flexdesk_core::wire::TranscriptLine;
use js_sys::Function;
use wasm_bindgen::{JsCast, JsValue};

use crate::js::{get, get_str, Js};

pub struct Config {
    pub auth_server_url: String,
    /// `(token) => Client`: the real `@twilio/conversations` Client in production, a stand-in in tests.
    pub create_client: Function,
    /// A string, or a function returning one: read at each `startChat`.
    customer_name: JsValue,
    /// An object, or a function returning one: read at each `startChat` (a page's form may change after the
    /// chat window opened).
    pre_engagement: JsValue,
    transcript: Option<Function>,
    /// `maxFileBytes` / `allowedFileTypes` (extensions, with or without the dot); Twilio's limits by default.
    pub limits: MediaLimits,
    /// `joinTimeoutMs`: how long one attempt to join the conversation may take; the core's default otherwise.
    pub join_timeout_ms: u64,
    /// `queuePollMs`: how often the queue position is read while waiting; the core's default otherwise.
    pub queue_poll_ms: u64,
    /// `idlePromptMs` (off unless set) and `idleCloseMs`: "Are you still there?" (flexdesk-core `session/idle.rs`).
    pub idle: (Option<u64>, u64),
    /// The page's wording of customer texts: `js/index.js` turns the `strings` option into a function
    /// `(key, params) => string | undefined` (see `flexdesk_core::texts`); anything else is ignored.
    pub strings: Option<Function>,
    /// `onChatEnd(outcome)`: told how each chat with an agent ended (`js/index.js` passes a guarded one).
    pub on_chat_end: JsValue,
}

impl Config {
    /// The config as `js/index.js` passes it: `createTwilioFlexServiceDesk` has checked every option already, with
    /// the errors a web team reads, before any wasm loads (the only way to this class: the glue is not exported).
    pub fn from_js(v: &JsValue) -> Config {
        let url = get_str(v, "authServerUrl").unwrap_or_default();
        let create_client = get(v, "createConversationsClient").unchecked_into::<Function>();
        let transcript = get(v, "transcript").dyn_into::<Function>().ok();
        let mut limits = MediaLimits::default();
        if let Some(max) = crate::js::get_u64(v, "maxFileBytes") {
            limits.max_bytes = max;
        }
        let types = get(v, "allowedFileTypes");
        if js_sys::Array::is_array(&types) {
            limits.extensions = crate::js::array(&types)
                .iter()
                .filter_map(|t| t.as_string())
                .map(|t| t.trim().trim_start_matches('.').to_ascii_lowercase())
                .filter(|t| !t.is_empty())
                .collect();
        }
        let join_timeout_ms = crate::js::get_u64(v, "joinTimeoutMs").unwrap_or(flexdesk_core::session::JOIN_TIMEOUT_MS);
        let queue_poll_ms = crate::js::get_u64(v, "queuePollMs").unwrap_or(flexdesk_core::session::QUEUE_POLL_MS);
        Config {
            strings: get(v, "strings").dyn_into::<Function>().ok(),
            on_chat_end: get(v, "onChatEnd"),
            join_timeout_ms,
            queue_poll_ms,
            idle: (crate::js::get_u64(v, "idlePromptMs"), crate::js::get_u64(v, "idleCloseMs").unwrap_or(flexdesk_core::session::IDLE_CLOSE_MS)),
            auth_server_url: url,
            create_client,
            customer_name: get(v, "customerName"),
            pre_engagement: get(v, "preEngagement"),
            transcript,
            limits,
        }
    }

    /// The configured customer name, as it is now.
    pub fn customer_name(&self) -> Option<String> {
        now(&self.customer_name).as_string()
    }

    /// The configured pre-engagement data, as it is now.
    pub fn pre_engagement(&self) -> Option<Js> {
        Some(now(&self.pre_engagement)).filter(JsValue::is_object).map(Js)
    }

    /// The bot conversation so far, as the page reports it; bad entries are skipped, not fatal.
    pub fn transcript(&self) -> Vec<TranscriptLine> {
        let Some(f) = &self.transcript else { return Vec::new() };
        let lines = f.call0(&JsValue::NULL).unwrap_or(JsValue::UNDEFINED);
        crate::js::array(&lines)
            .iter()
            .filter_map(|l| Some(TranscriptLine { from: get_str(&l, "from")?, text: get_str(&l, "text")? }))
            .collect()
    }
}

/// `v`, or what it returns when it is a function.
fn now(v: &JsValue) -> JsValue {
    match v.dyn_ref::<Function>() {
        Some(f) => f.call0(&JsValue::NULL).unwrap_or(JsValue::UNDEFINED),
        None => v.clone(),
    }
}
