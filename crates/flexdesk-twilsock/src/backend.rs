//! The conversation backend: the state the twilsock router serves to the SDK. The router never stores conversation
//! state itself; it projects this backend into the Sync documents/lists/maps the SDK reads and turns the backend's
//! events into Sync events and typing notifications. The emulator implements it over its own store.

use axum::body::Bytes;
use serde_json::Value;
use tokio::sync::broadcast;

/// The records the backend serves: Twilio's Conversations records, typed, from `twilio_model::conversations` (the
/// emulator stores the same values).
pub use twilio_model::conversations::{Conversation, Media, Message, Participant};
pub use twilio_model::ConversationState;

/// A chat participant's identity: the backend serves only participants that have one.
pub fn identity_of(p: &Participant) -> &str {
    p.identity.as_deref().unwrap_or_default()
}

/// What the SDK asked to post.
#[derive(Debug, Clone, PartialEq)]
pub struct NewMessage {
    pub body: Option<String>,
    /// A JSON object, as the SDK sent it.
    pub attributes: Value,
    pub media_sids: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum BackendEvent {
    ConversationUpdated(Conversation),
    ParticipantAdded { conversation_sid: String, participant: Participant },
    ParticipantUpdated { conversation_sid: String, participant: Participant },
    ParticipantRemoved { conversation_sid: String, participant: Participant },
    MessageAdded { conversation_sid: String, message: Message },
    /// `identity` started typing (the SDK's typing indicator lasts `typing_timeout`, then ends by itself).
    Typing { conversation_sid: String, identity: String },
}

#[derive(Debug, Clone, PartialEq)]
pub enum BackendError {
    NotFound(String),
    /// The identity may not do this (not a participant, conversation closed, …).
    Forbidden(String),
    Invalid(String),
    /// A Twilio error from the backend, passed through with its status and code (e.g. 50377 for a closed
    /// conversation).
    Twilio(twilio_model::TwilioError),
}

impl BackendError {
    /// The HTTP status and Twilio error code the SDK sees.
    pub fn status_and_code(&self) -> (u16, u32) {
        match self {
            BackendError::NotFound(_) => (404, 20404),
            BackendError::Forbidden(_) => (403, 50400),
            BackendError::Invalid(_) => (400, 50100),
            BackendError::Twilio(e) => (e.status, e.code),
        }
    }

    pub fn message(&self) -> &str {
        match self {
            BackendError::NotFound(m) | BackendError::Forbidden(m) | BackendError::Invalid(m) => m,
            BackendError::Twilio(e) => &e.message,
        }
    }
}

/// Conversation state as the twilsock router needs it. Implementations must be cheap to call (they are called on
/// every Sync fetch) and must publish every change on [`ConversationBackend::events`].
pub trait ConversationBackend: Send + Sync + 'static {
    /// Conversations `identity` participates in.
    fn conversations_of(&self, identity: &str) -> Vec<Conversation>;
    fn conversation(&self, sid: &str) -> Option<Conversation>;
    /// The chat participants (those with an identity: the SDK's roster needs one).
    fn participants(&self, conversation_sid: &str) -> Result<Vec<Participant>, BackendError>;
    /// All messages in index order.
    fn messages(&self, conversation_sid: &str) -> Result<Vec<Message>, BackendError>;
    /// Adds `identity` as a participant (the SDK's `conversation.join()`).
    fn join(&self, conversation_sid: &str, identity: &str) -> Result<Participant, BackendError>;
    fn send_message(&self, conversation_sid: &str, author: &str, message: NewMessage) -> Result<Message, BackendError>;
    fn typing(&self, conversation_sid: &str, identity: &str) -> Result<(), BackendError>;
    /// Sets `identity`'s read horizon; `None` marks everything unread.
    fn set_last_read(&self, conversation_sid: &str, identity: &str, index: Option<u64>) -> Result<Participant, BackendError>;
    fn events(&self) -> broadcast::Receiver<BackendEvent>;
    /// Stores an upload (the SDK's media service, MCS); `send_message` later refers to it by SID.
    fn store_media(&self, author: &str, content_type: &str, filename: Option<&str>, bytes: Bytes) -> Result<Media, BackendError>;
    fn media(&self, sid: &str) -> Option<(Media, Bytes)>;
    /// The Conversations User's friendly name for `identity` (`participant.getUser()` → `friendlyName`): where Flex
    /// puts an agent's display name. `None`: the user has none.
    fn user_friendly_name(&self, _identity: &str) -> Option<String> {
        None
    }
}
