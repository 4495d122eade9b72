//! The options a web team passes to `createTwilioFlexServiceDesk`, checked once with clear errors.

use flexdesk_core::wire::TranscriptLine;
use js_sys::Function;
use wasm_bindgen::{JsCast, JsError, JsValue};

use crate::js::{get, get_str, to_json};

pub struct Config {
    pub auth_server_url: String,
    /// `(token) => Client`: the real `@twilio/conversations` Client in production, a stand-in in tests.
    pub create_client: Function,
    pub customer_name: String,
    pub pre_engagement: Option<serde_json::Value>,
    transcript: Option<Function>,
}

impl Config {
    pub fn from_js(v: &JsValue) -> Result<Config, JsError> {
        if !v.is_object() {
            return Err(JsError::new("flexdesk: pass a config object: { authServerUrl, createConversationsClient }"));
        }
        let url = get_str(v, "authServerUrl").unwrap_or_default();
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            let got = js_sys::JSON::stringify(&JsValue::from_str(&url)).map(String::from).unwrap_or_default();
            return Err(JsError::new(&(String::from("flexdesk: config.authServerUrl must be an http(s) URL of the flexdesk auth server, got ") + &got)));
        }
        let create_client = get(v, "createConversationsClient").dyn_into::<Function>().map_err(|_| {
            JsError::new("flexdesk: config.createConversationsClient must be a function (token) => Conversations Client")
        })?;
        let transcript = match get(v, "transcript") {
            t if t.is_undefined() || t.is_null() => None,
            t => Some(t.dyn_into::<Function>().map_err(|_| JsError::new("flexdesk: config.transcript must be a function"))?),
        };
        let pre_engagement = match get(v, "preEngagement") {
            p if p.is_undefined() || p.is_null() => None,
            p => Some(to_json(&p)),
        };
        Ok(Config {
            auth_server_url: url,
            create_client,
            customer_name: get_str(v, "customerName").filter(|n| !n.trim().is_empty()).unwrap_or_else(|| "Customer".into()),
            pre_engagement,
            transcript,
        })
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
