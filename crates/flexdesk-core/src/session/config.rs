//! What the page configures, kept across chats, and the limits the session works within.

use crate::media::MediaLimits;

/// Twilio refuses message bodies over 32 KB; refusing early gives the user a clear error instead.
pub const MAX_BODY_BYTES: usize = 32 * 1024;

/// How many times in a row a Conversations client that gave up is replaced (fresh token, new client) before
/// the chat is given up.
pub const MAX_REJOINS: u32 = 3;

/// How long joining the conversation may take, unless the desk is configured otherwise
/// ([`Config::join_timeout_ms`]). The SDK's `getConversationBySid` waits until the client is connected, which
/// never happens while its socket keeps retrying; and Carbon blocks the chat until `reconnect` settles
/// (`handleHydration` awaits `serviceDesk.reconnect()`).
pub const JOIN_TIMEOUT_MS: u64 = 20_000;

/// How often the queue figures are read again while waiting for an agent, unless the desk is configured otherwise
/// ([`Config::queue_poll_ms`]).
pub const QUEUE_POLL_MS: u64 = 30_000;

/// How soon the queue is read again while the chat is not in it yet. Flex routes a moment after the start (the
/// address's Studio flow runs on the hand-off message; `POST /v1/Interactions` "only indicates that the server has
/// accepted the request"): the first reads can come before the task exists (docs/emulator.md, "Flex's pipeline").
pub const ROUTING_POLL_MS: u64 = 2_000;
/// At most this many such early reads per chat; then [`QUEUE_POLL_MS`] again.
pub const MAX_ROUTING_POLLS: u8 = 5;

/// How often "typing" is sent again while the user keeps typing: the agent's indicator lapses after about 5 s
/// (the Conversations SDK's `typing()` has no "stopped" signal, and a participant's typing indicator times out on
/// its own: <https://www.twilio.com/docs/conversations/typing-indicator>).
pub const TYPING_REPEAT_MS: u64 = 3_000;

/// How long "Are you still there?" waits for the customer before the chat is closed, unless the page sets
/// `idleCloseMs` ([`Config::idle_close_ms`]).
pub const IDLE_CLOSE_MS: u64 = 60_000;

/// What the page configures: kept across chats, so a new chat is a new value and the configuration stays.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// The limits files are checked against (Twilio's unless the page sets its own).
    pub limits: MediaLimits,
    /// How long joining the conversation may take ([`JOIN_TIMEOUT_MS`] unless the page sets `joinTimeoutMs`).
    pub join_timeout_ms: u64,
    /// How often the queue figures are read while waiting ([`QUEUE_POLL_MS`] unless the page sets `queuePollMs`).
    pub queue_poll_ms: u64,
    /// The auth server's base URL (the page's `authServerUrl`, no trailing `/`): where agent files are linked when
    /// the server offers media links. Empty: files are linked by Twilio's temporary URLs.
    pub auth_server_url: String,
    /// With an agent in the chat, a customer silent this long is asked "Are you still there?" (issue 28); `None`
    /// (the default: the page sets `idlePromptMs`) asks nothing.
    pub idle_prompt_ms: Option<u64>,
    /// How long the question waits for the customer before the chat is closed ([`IDLE_CLOSE_MS`] unless the page
    /// sets `idleCloseMs`).
    pub idle_close_ms: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            limits: MediaLimits::default(),
            join_timeout_ms: JOIN_TIMEOUT_MS,
            queue_poll_ms: QUEUE_POLL_MS,
            idle_prompt_ms: None,
            idle_close_ms: IDLE_CLOSE_MS,
            auth_server_url: String::new(),
        }
    }
}
