//! The bot's hand-off as messages in the Flex conversation, where a stock Flex agent reads it.
//!
//! Flex's agent UI shows the conversation's messages and the task's display name; other task attributes (our
//! `pre_engagement_data`) need a Flex plugin (docs/auth-server.md, "What the agent sees"). So the server posts, before
//! the customer can type anything else:
//! - `HANDOFF_TRANSCRIPT=full`: each bot-conversation line, the bot's as the bot, the customer's as the customer;
//! - `summary` (default) and `full`: the bot's note (`message_to_human_agent`, which carries Carbon's
//!   `summary_message_to_agent`), as the bot, labelled when it came from the page unverified;
//! - `summary`: first the customer's own last words to the bot, as the customer (Twilio's Webchat React App posts
//!   the customer's query as the customer's message: `server/controllers/initWebchatController.js`);
//! - `off`: one neutral line, as the bot, so there is a message to route on.
//!
//! The last message is the one that routes the chat in the webchat and Flex Flow modes: the address's Studio flow
//! runs on `onMessageAdded`, which a REST message fires only with `X-Twilio-Webhook-Enabled: true`
//! (<https://help.twilio.com/articles/360046342593>). Each message carries `{"flexdesk":{"handoff":<kind>}}` in its
//! attributes so the customer's desk never shows it again in the web chat.

use serde_json::{json, Map, Value};

use crate::infra::config::TranscriptMode;

/// At most this many transcript lines become messages: each is one Twilio call at the start, and Conversations
/// allows 30 actions per second per conversation (Flex docs, "Conversations limits").
pub const MAX_TRANSCRIPT_MESSAGES: usize = 20;

/// What a stock agent reads when nothing else was handed over.
pub const ASKED_FOR_AGENT: &str = "The customer asked for an agent.";

/// One message to post, oldest first.
#[derive(Debug, Clone, PartialEq)]
pub struct HandoffMessage {
    /// `Author`: the customer's identity or the bot's name.
    pub author: String,
    /// `Body`.
    pub body: String,
    /// `note`, `transcript` or `request` (in the message's attributes).
    pub kind: &'static str,
}

impl HandoffMessage {
    /// The message's `Attributes` (a JSON string on the REST API).
    pub fn attributes(&self) -> String {
        json!({ "flexdesk": { "handoff": self.kind } }).to_string()
    }
}

/// The messages for `pre_engagement` (built by [`crate::chat::engagement::pre_engagement_data`]), in posting order;
/// never empty, so there is always a last message to route on.
pub fn handoff_messages(pre_engagement: &Map<String, Value>, identity: &str, bot_name: &str, mode: TranscriptMode) -> Vec<HandoffMessage> {
    let lines: Vec<(&str, &str)> = pre_engagement
        .get("transcript")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|l| Some((l.get("from")?.as_str()?, l.get("text")?.as_str()?))).collect())
        .unwrap_or_default();
    let lines: Vec<(&str, &str)> = lines.into_iter().filter(|(_, text)| !text.trim().is_empty()).collect();
    let signed = pre_engagement.get("transcript_source").and_then(Value::as_str) == Some("bot-signed");
    let bot = |body: String, kind| HandoffMessage { author: bot_name.to_string(), body, kind };
    let customer = |body: &str, kind| HandoffMessage { author: identity.to_string(), body: body.to_string(), kind };
    let note = pre_engagement.get("message_to_human_agent").and_then(Value::as_str).map(str::trim).filter(|m| !m.is_empty());
    // The note comes from the page (Carbon's connect_to_agent item): never signed, so the agent is told.
    let note_message = |transcript_unverified: bool| {
        let mut body = match note {
            Some(m) => format!("Hand-off note from the bot (sent by the customer's page, not verified): {m}"),
            None => ASKED_FOR_AGENT.to_string(),
        };
        if transcript_unverified {
            body.push_str("\nThe bot conversation above was sent by the customer's page and is not verified.");
        }
        bot(body, "note")
    };
    let mut out = Vec::new();
    match mode {
        TranscriptMode::Off => out.push(bot(ASKED_FOR_AGENT.to_string(), "request")),
        TranscriptMode::Summary => {
            if let Some((_, text)) = lines.iter().rev().find(|(from, _)| *from == "user") {
                out.push(customer(text, "request"));
            }
            out.push(note_message(false));
        }
        TranscriptMode::Full => {
            let skip = lines.len().saturating_sub(MAX_TRANSCRIPT_MESSAGES);
            for (from, text) in &lines[skip..] {
                out.push(if *from == "user" { customer(text, "transcript") } else { bot(text.to_string(), "transcript") });
            }
            out.push(note_message(!lines.is_empty() && !signed));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pre(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn summary_is_the_customers_last_words_then_the_labelled_note() {
        let p = pre(json!({"message_to_human_agent": "Order 42 is late", "transcript": [
            {"from": "user", "text": "hi"}, {"from": "bot", "text": "Hello!"}, {"from": "user", "text": "my order is late"}, {"from": "bot", "text": "Connecting you"}
        ], "transcript_source": "customer-supplied"}));
        let m = handoff_messages(&p, "customer-1", "Bot", TranscriptMode::Summary);
        assert_eq!(m.len(), 2);
        assert_eq!((m[0].author.as_str(), m[0].body.as_str(), m[0].kind), ("customer-1", "my order is late", "request"));
        assert_eq!((m[1].author.as_str(), m[1].kind), ("Bot", "note"));
        assert!(m[1].body.contains("Order 42 is late") && m[1].body.contains("not verified"), "{}", m[1].body);
        assert_eq!(m[1].attributes(), r#"{"flexdesk":{"handoff":"note"}}"#);
    }

    #[test]
    fn full_posts_each_line_as_who_said_it_and_labels_an_unsigned_transcript() {
        let lines: Vec<Value> = (0..25).map(|i| json!({"from": if i % 2 == 0 { "user" } else { "bot" }, "text": format!("line {i}")})).collect();
        let p = pre(json!({"transcript": lines, "transcript_source": "customer-supplied"}));
        let m = handoff_messages(&p, "customer-1", "Bot", TranscriptMode::Full);
        assert_eq!(m.len(), MAX_TRANSCRIPT_MESSAGES + 1, "the newest lines, then the note");
        assert_eq!((m[0].body.as_str(), m[0].author.as_str()), ("line 5", "Bot"));
        assert_eq!((m[1].body.as_str(), m[1].author.as_str()), ("line 6", "customer-1"));
        let last = m.last().unwrap();
        assert_eq!((last.kind, last.body.starts_with(ASKED_FOR_AGENT)), ("note", true));
        assert!(last.body.contains("not verified"));
        let signed = pre(json!({"transcript": [{"from": "user", "text": "x"}], "transcript_source": "bot-signed"}));
        assert!(!handoff_messages(&signed, "c", "Bot", TranscriptMode::Full).last().unwrap().body.contains("not verified"));
    }

    #[test]
    fn off_and_empty_still_give_one_message_to_route_on() {
        let p = pre(json!({"message_to_human_agent": "secret summary", "transcript": [{"from": "user", "text": "hi"}]}));
        let off = handoff_messages(&p, "c", "Bot", TranscriptMode::Off);
        assert_eq!(off, vec![HandoffMessage { author: "Bot".into(), body: ASKED_FOR_AGENT.into(), kind: "request" }]);
        let empty = handoff_messages(&Map::new(), "c", "Bot", TranscriptMode::Summary);
        assert_eq!(empty.len(), 1);
        assert_eq!(empty[0].body, ASKED_FOR_AGENT);
    }
}
