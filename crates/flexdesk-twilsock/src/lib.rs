//! The server side of Twilio's twilsock protocol, enough for the real `@twilio/conversations` 3.x SDK to run
//! against a local backend: `new Client(token, { Twilsock: { uri: "ws://HOST/v3/wsconnect" } })`.
//!
//! Everything the SDK does after connecting travels over that one WebSocket: its HTTP calls (configuration,
//! Conversations, Sync) are tunnelled as twilsock `message` frames and answered here by path, whatever host the SDK
//! put in the URL; Sync events and typing indicators come back as `notification` frames. Conversation state lives
//! in a [`ConversationBackend`]; see `docs/twilsock.md` for the protocol as implemented.

pub mod backend;
pub mod entities;
pub mod frame;
pub mod hooks;
pub mod hub;
pub mod ids;
pub mod mcs;
pub mod session;
pub mod token;
pub mod upstream;

use std::sync::Arc;

use axum::extract::{State, WebSocketUpgrade};
use axum::response::Response;
use axum::routing::get;
use axum::Router;

pub use backend::{BackendError, BackendEvent, ConversationBackend};
pub use hooks::{ConnectionHooks, NoHooks};

#[derive(Debug, Clone)]
pub struct TwilsockConfig {
    /// Verifies the AccessTokens the SDK presents (TWILIO_API_KEY_SECRET).
    pub api_key_secret: String,
    /// Tokens whose chat grant names another service are refused; empty accepts any.
    pub service_sid: String,
    /// Tokens whose `iss` is not this API key are refused (20103); empty skips the check.
    pub api_key_sid: String,
    /// Tokens whose `sub` is not this account are refused (20103); empty skips the check.
    pub account_sid: String,
    /// Base of the Conversations links handed to the SDK in its configuration. Only paths matter (requests are
    /// tunnelled through twilsock), so the real host is a fine default.
    pub api_base_url: String,
    /// Base of the Sync object URLs (likewise only their paths are used).
    pub sync_base_url: String,
    /// Base of the media (MCS) links: the SDK calls these over plain HTTP, not through twilsock.
    pub media_base_url: String,
    /// Seconds a typing indicator lasts.
    pub typing_timeout_secs: u64,
    /// The SDK is told its token is about to expire this many seconds before it does.
    pub token_warning_secs: u64,
}

impl TwilsockConfig {
    pub fn new(api_key_secret: impl Into<String>, service_sid: impl Into<String>) -> Self {
        TwilsockConfig {
            api_key_secret: api_key_secret.into(),
            service_sid: service_sid.into(),
            api_key_sid: String::new(),
            account_sid: String::new(),
            api_base_url: "https://aim.us1.twilio.com".into(),
            sync_base_url: "https://cds.us1.twilio.com".into(),
            media_base_url: "https://mcs.us1.twilio.com".into(),
            typing_timeout_secs: 5,
            token_warning_secs: 60,
        }
    }
}

impl TwilsockConfig {
    /// A configuration that checks tokens by exactly these rules (the emulator passes its own, so a token passes
    /// on `/v3/wsconnect` exactly when it passes on `/v1/realtime`).
    pub fn with_rules(rules: twilio_model::TokenRules) -> Self {
        let mut c = TwilsockConfig::new(rules.api_key_secret, rules.service_sid);
        c.api_key_sid = rules.api_key_sid;
        c.account_sid = rules.account_sid;
        c
    }

    /// The token rules: Twilio's checks and codes, from `twilio_model::token`.
    pub fn token_rules(&self) -> twilio_model::TokenRules {
        twilio_model::TokenRules {
            api_key_secret: self.api_key_secret.clone(),
            api_key_sid: self.api_key_sid.clone(),
            account_sid: self.account_sid.clone(),
            service_sid: self.service_sid.clone(),
        }
    }
}

/// A running twilsock server: its router and a few operations on live connections.
#[derive(Clone)]
pub struct Twilsock {
    hub: Arc<hub::Hub>,
}

impl Twilsock {
    /// Must be called inside a tokio runtime: it starts the task that forwards backend events to clients.
    pub fn new(backend: Arc<dyn ConversationBackend>, config: TwilsockConfig) -> Self {
        Self::with_hooks(backend, config, Arc::new(NoHooks))
    }

    /// Like [`Twilsock::new`], with fault-injection hooks.
    pub fn with_hooks(backend: Arc<dyn ConversationBackend>, config: TwilsockConfig, hooks: Arc<dyn ConnectionHooks>) -> Self {
        Twilsock { hub: hub::Hub::start(backend, config, hooks) }
    }

    /// The media service's record of media `sid` (`GET /v1/Services/{IS}/Media/{ME}`), with a fresh
    /// `content_direct_temporary` URL; `None` when there is no such media. For a host that serves the record to
    /// account credentials (the emulator's REST side), which this router does not check.
    pub fn media_record(&self, sid: &str) -> Option<serde_json::Value> {
        self.hub.backend.media(sid).map(|(m, _)| mcs::record_json(&self.hub, &m))
    }

    /// Makes every connection ask [`ConnectionHooks::expiry`] again for its token (after an injected early expiry).
    pub fn expiries_changed(&self) {
        self.hub.expiry_generation.send_modify(|g| *g += 1);
    }

    /// `GET /v3/wsconnect` (the twilsock WebSocket) and the media service under `/mcs/v1/Services/{IS}/Media…`
    /// and `/mcs/v1/Services/{IS}/MediaSet` (point `media_base_url` at wherever this router is served).
    pub fn router(&self) -> Router {
        Router::new()
            .route("/v3/wsconnect", get(upgrade))
            .with_state(self.hub.clone())
            .merge(mcs::routes(self.hub.clone()))
    }

    /// Drops every connection abruptly (as a network failure would); returns how many were dropped.
    pub fn drop_connections(&self) -> usize {
        self.hub.drop_connections()
    }

    /// The identity of each open connection.
    pub fn connected_identities(&self) -> Vec<String> {
        self.hub.connected_identities()
    }
}

/// Shorthand for `Twilsock::new(backend, config).router()`.
pub fn router(backend: Arc<dyn ConversationBackend>, config: TwilsockConfig) -> Router {
    Twilsock::new(backend, config).router()
}

async fn upgrade(State(hub): State<Arc<hub::Hub>>, ws: WebSocketUpgrade) -> Response {
    ws.on_upgrade(move |socket| async move {
        if !hub.hooks.admit() {
            tracing::info!("twilsock: connection refused (injected fault)");
            drop(socket); // abrupt: the SDK sees an abnormal closure and retries
            return;
        }
        session::run(hub.clone(), socket).await;
        hub.hooks.released();
    })
}
