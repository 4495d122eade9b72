//! The Sync objects the Conversations SDK reads, projected from the backend: their names and the JSON the SDK
//! expects inside them (camelCase in Sync data, attributes as JSON *strings* for messages and participants, which is
//! what the SDK's `parseAttributes` parses).

use serde_json::{json, Value};

use twilio_model::time::iso8601;

use crate::backend::{Conversation, Message, Participant};

/// A Sync object. Its SID and unique name are the same string, so whatever id the SDK opens it by, the
/// subscription and the events use that one name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Entity {
    /// Document: the conversation's properties.
    Conversation(String),
    /// List: the conversation's messages, item index = message index.
    Messages(String),
    /// Map: the conversation's participants keyed by participant SID.
    Roster(String),
    /// Map: the identity's conversations keyed by conversation SID.
    MyConversations(String),
    /// Map: the identity's user info (friendlyName, attributes, reachability).
    UserInfo(String),
}

impl Entity {
    pub fn name(&self) -> String {
        match self {
            Entity::Conversation(ch) => format!("{ch}.channel"),
            Entity::Messages(ch) => format!("{ch}.messages"),
            Entity::Roster(ch) => format!("{ch}.roster"),
            Entity::MyConversations(id) => format!("my_conversations.{id}"),
            Entity::UserInfo(id) => format!("user_info.{id}"),
        }
    }

    pub fn parse(name: &str) -> Option<Entity> {
        if let Some(id) = name.strip_prefix("my_conversations.") {
            return Some(Entity::MyConversations(id.to_string()));
        }
        if let Some(id) = name.strip_prefix("user_info.") {
            return Some(Entity::UserInfo(id.to_string()));
        }
        let (ch, kind) = name.rsplit_once('.')?;
        if !ch.starts_with("CH") {
            return None;
        }
        match kind {
            "channel" => Some(Entity::Conversation(ch.into())),
            "messages" => Some(Entity::Messages(ch.into())),
            "roster" => Some(Entity::Roster(ch.into())),
            _ => None,
        }
    }

    /// Sync's object type, as in subscription requests and event names.
    pub fn kind(&self) -> &'static str {
        match self {
            Entity::Conversation(_) => "document",
            Entity::Messages(_) => "list",
            _ => "map",
        }
    }
}

/// Who created the conversations the SDK reads: they are made over REST (every conversation flexdesk joins), which
/// Twilio reports as `system`.
pub const CREATED_BY: &str = "system";

pub fn conversation_data(c: &Conversation, last_message: Option<&Message>) -> Value {
    let mut data = json!({
        "friendlyName": c.friendly_name,
        "uniqueName": c.unique_name,
        "attributes": c.attributes,
        "createdBy": CREATED_BY,
        "dateCreated": iso8601(c.date_created),
        "dateUpdated": iso8601(c.date_updated),
        "messages": Entity::Messages(c.sid.clone()).name(),
        "roster": Entity::Roster(c.sid.clone()).name(),
        "state": {"current": c.state.as_str(), "dateUpdated": iso8601(c.date_updated)},
    });
    if let Some(m) = last_message {
        data["lastMessage"] = json!({"index": m.index, "timestamp": iso8601(m.date_created)});
    }
    data
}

pub fn message_data(m: &Message) -> Value {
    let medias: Vec<Value> = m
        .media
        .iter()
        .map(|x| json!({"sid": x.sid, "contentType": x.content_type, "filename": x.filename, "size": x.size, "category": "media"}))
        .collect();
    json!({
        "sid": m.sid,
        "author": m.author,
        "text": m.body,
        "attributes": m.attributes,
        "timestamp": iso8601(m.date_created),
        // Messages are never edited here.
        "dateUpdated": iso8601(m.date_created),
        "lastUpdatedBy": null,
        "memberSid": m.participant_sid,
        "type": if m.media.is_empty() { "text" } else { "media" },
        "medias": if medias.is_empty() { Value::Null } else { Value::Array(medias) },
    })
}

pub fn participant_data(p: &Participant) -> Value {
    json!({
        "identity": p.identity,
        "attributes": p.attributes,
        "dateCreated": iso8601(p.date_created),
        "dateUpdated": iso8601(p.date_updated),
        "roleSid": null,
        "lastConsumedMessageIndex": p.last_read_message_index,
        "lastConsumptionTimestamp": p.last_read_at.map(iso8601),
        "type": "chat",
        "userInfo": Entity::UserInfo(p.identity.clone().unwrap_or_default()).name(),
    })
}

/// The `my_conversations` map item for one of the identity's conversations.
pub fn my_conversation_data(c: &Conversation, me: Option<&Participant>) -> Value {
    json!({
        "channel_sid": c.sid,
        "status": "joined",
        "channel": Entity::Conversation(c.sid.clone()).name(),
        "messages": Entity::Messages(c.sid.clone()).name(),
        "roster": Entity::Roster(c.sid.clone()).name(),
        "lastConsumedMessageIndex": me.and_then(|p| p.last_read_message_index),
        "notificationLevel": "default",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for e in [
            Entity::Conversation("CH1".into()),
            Entity::Messages("CH1".into()),
            Entity::Roster("CH1".into()),
            Entity::MyConversations("web.user-1".into()),
            Entity::UserInfo("a.b.c".into()),
        ] {
            assert_eq!(Entity::parse(&e.name()), Some(e.clone()));
        }
        assert_eq!(Entity::parse("XX1.channel"), None);
        assert_eq!(Entity::parse("CH1.other"), None);
        assert_eq!(Entity::parse("nothing"), None);
    }
}
