//! The conversation backend: the state the twilsock router serves to the SDK. The router never stores conversation
//! state itself; it projects this backend into the Sync documents/lists/maps the SDK reads and turns the backend's
//! events into Sync events and typing notifications. The emulator can implement this over its own store.

use axum::body::Bytes;
use serde_json::Value;
use tokio::sync::broadcast;

/// A conversation's state: the shared enum (`twilio_model::ConversationState`).
pub use twilio_model::ConversationState;

#[derive(Debug, Clone, PartialEq)]
pub struct ConversationInfo {
    pub sid: String,
    pub friendly_name: Option<String>,
    pub unique_name: Option<String>,
    /// A JSON object.
    pub attributes: Value,
    pub state: ConversationState,
    /// When `state` last changed, RFC 3339.
    pub state_updated: String,
    pub created_by: String,
    pub date_created: String,
    pub date_updated: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ParticipantInfo {
    /// `MB…`
    pub sid: String,
    pub identity: String,
    /// A JSON object (agents carry member_type/friendlyName/avatar).
    pub attributes: Value,
    pub last_read_message_index: Option<u64>,
    pub last_read_timestamp: Option<String>,
    pub date_created: String,
    pub date_updated: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MediaInfo {
    /// `ME…`
    pub sid: String,
    pub content_type: String,
    pub filename: Option<String>,
    pub size: u64,
    /// Identity that uploaded it.
    pub author: String,
    /// Set once a message carries it; from then on the conversation's participants may read it.
    pub conversation_sid: Option<String>,
    pub message_sid: Option<String>,
    pub date_created: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MessageInfo {
    /// `IM…`
    pub sid: String,
    pub index: u64,
    pub author: String,
    pub body: Option<String>,
    /// A JSON object.
    pub attributes: Value,
    pub participant_sid: Option<String>,
    pub media: Vec<MediaInfo>,
    pub date_created: String,
    pub date_updated: String,
}

/// What the SDK asked to post.
#[derive(Debug, Clone, PartialEq)]
pub struct NewMessage {
    pub body: Option<String>,
    pub attributes: Value,
    pub media_sids: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum BackendEvent {
    ConversationUpdated(ConversationInfo),
    ParticipantAdded { conversation_sid: String, participant: ParticipantInfo },
    ParticipantUpdated { conversation_sid: String, participant: ParticipantInfo },
    ParticipantRemoved { conversation_sid: String, participant: ParticipantInfo },
    MessageAdded { conversation_sid: String, message: MessageInfo },
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
    fn conversations_of(&self, identity: &str) -> Vec<ConversationInfo>;
    fn conversation(&self, sid: &str) -> Option<ConversationInfo>;
    fn participants(&self, conversation_sid: &str) -> Result<Vec<ParticipantInfo>, BackendError>;
    /// All messages in index order.
    fn messages(&self, conversation_sid: &str) -> Result<Vec<MessageInfo>, BackendError>;
    /// Adds `identity` as a participant (the SDK's `conversation.join()`).
    fn join(&self, conversation_sid: &str, identity: &str) -> Result<ParticipantInfo, BackendError>;
    fn send_message(&self, conversation_sid: &str, author: &str, message: NewMessage) -> Result<MessageInfo, BackendError>;
    fn typing(&self, conversation_sid: &str, identity: &str) -> Result<(), BackendError>;
    /// Sets `identity`'s read horizon; `None` marks everything unread.
    fn set_last_read(&self, conversation_sid: &str, identity: &str, index: Option<u64>) -> Result<ParticipantInfo, BackendError>;
    fn events(&self) -> broadcast::Receiver<BackendEvent>;
    /// Stores an upload (the SDK's media service, MCS); `send_message` later refers to it by SID.
    fn store_media(&self, author: &str, content_type: &str, filename: Option<&str>, bytes: Bytes) -> Result<MediaInfo, BackendError>;
    fn media(&self, sid: &str) -> Option<(MediaInfo, Bytes)>;
    /// The Conversations User's friendly name for `identity` (`participant.getUser()` → `friendlyName`): where Flex
    /// puts an agent's display name. `None`: the user has none.
    fn user_friendly_name(&self, _identity: &str) -> Option<String> {
        None
    }
}
