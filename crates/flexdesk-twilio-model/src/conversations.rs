//! The Conversations records: conversation, participant, message and media, once and typed. The emulator stores
//! them; the twilsock server reads the same values through its `ConversationBackend` (no JSON in between), and each
//! side renders its own wire shape (REST snake_case, `/v1/realtime` camelCase, the SDK's Sync documents).
//!
//! Fields follow Twilio's Conversations resources (twilio-oai `twilio_conversations_v1.json`:
//! `conversations.v1.conversation`, `….conversation_participant`, `….conversation_message` with its `media` array)
//! and the media service record the SDK reads (`author`, `channel_sid`, `message_sid`). Dates are unix seconds,
//! formatted where they are shown (`time::iso8601`). Attributes stay the JSON string Twilio stores and returns.

use serde_json::{json, Value};

use crate::{ConversationState, TwilioError};

#[derive(Debug, Clone, PartialEq)]
pub struct Conversation {
    /// `CH…`
    pub sid: String,
    /// The Conversations service (`IS…`), `chat_service_sid`.
    pub service_sid: String,
    pub unique_name: Option<String>,
    pub friendly_name: Option<String>,
    /// A JSON object as a string (REST `attributes`).
    pub attributes: String,
    pub state: ConversationState,
    pub date_created: u64,
    pub date_updated: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Participant {
    /// `MB…`
    pub sid: String,
    /// `None` for a participant without a chat identity (SMS-style, a `MessagingBinding` only).
    pub identity: Option<String>,
    /// A JSON object as a string; Flex's agents carry `member_type` / `friendlyName` / `avatar`.
    pub attributes: String,
    pub last_read_message_index: Option<u64>,
    /// When the read horizon last moved (the SDK's `lastReadTimestamp`).
    pub last_read_at: Option<u64>,
    pub date_created: u64,
    pub date_updated: u64,
}

impl Participant {
    /// Whether this is the chat participant `identity`.
    pub fn is(&self, identity: &str) -> bool {
        self.identity.as_deref() == Some(identity)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    /// `IM…`
    pub sid: String,
    pub index: u64,
    pub author: String,
    pub body: Option<String>,
    /// A JSON object as a string.
    pub attributes: String,
    /// The attached media, in the order given.
    pub media: Vec<Media>,
    /// The author's participant, when the author is one.
    pub participant_sid: Option<String>,
    pub date_created: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Media {
    /// `ME…`
    pub sid: String,
    pub filename: String,
    pub content_type: String,
    pub size: u64,
    /// The identity that uploaded it.
    pub author: String,
    /// Set once a message carries it (MCS `channel_sid` / `message_sid`); from then on the conversation's
    /// participants may read it, and it may not be attached again.
    pub conversation_sid: Option<String>,
    pub message_sid: Option<String>,
    pub date_created: u64,
}

impl Media {
    /// May a client of `identity` attach this media to a new message? Only its uploader, and only while no message
    /// carries it. Twilio does not publish what happens when a participant attaches media another identity
    /// uploaded; the media service shows an unattached media to its uploader alone (the MCS record's `author`), so
    /// the emulator refuses it (its reading), 403 / 20403 (<https://www.twilio.com/docs/api/errors/20403>). Messages
    /// sent over REST with the account's credentials are not subject to it.
    pub fn attachable_by(&self, identity: &str) -> Result<(), TwilioError> {
        if self.author != identity {
            return Err(TwilioError::new(403, 20403, format!("Media {} was uploaded by someone else", self.sid)));
        }
        self.attachable()
    }

    /// A media rides one message only (emulator's reading: Twilio does not document re-attaching one).
    pub fn attachable(&self) -> Result<(), TwilioError> {
        match self.message_sid {
            Some(_) => Err(TwilioError::invalid("MediaSid", &format!("{} is already attached to a message", self.sid))),
            None => Ok(()),
        }
    }
}

/// A record's attributes as JSON: Twilio validates them on the way in, so anything else reads as `{}`.
pub fn attributes_json(attributes: &str) -> Value {
    serde_json::from_str(attributes).unwrap_or_else(|_| json!({}))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn media(author: &str, message: Option<&str>) -> Media {
        Media {
            sid: "ME1".into(),
            filename: "a.png".into(),
            content_type: "image/png".into(),
            size: 3,
            author: author.into(),
            conversation_sid: message.map(|_| "CH1".into()),
            message_sid: message.map(str::to_string),
            date_created: 0,
        }
    }

    #[test]
    fn only_the_uploader_attaches_and_only_once() {
        assert!(media("ann", None).attachable_by("ann").is_ok());
        assert_eq!(media("ann", None).attachable_by("bob").unwrap_err().code, 20403);
        assert_eq!(media("ann", Some("IM1")).attachable_by("ann").unwrap_err().code, 20001);
        assert!(media("ann", Some("IM1")).attachable().is_err());
    }

    #[test]
    fn attributes_read_as_json_or_empty() {
        assert_eq!(attributes_json(r#"{"a":1}"#), json!({"a": 1}));
        assert_eq!(attributes_json("not json"), json!({}));
    }
}
