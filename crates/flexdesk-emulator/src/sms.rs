//! SMS participants (issue 28, item 4): a participant added with a `MessagingBinding` instead of an `Identity`, as
//! flexdesk-auth's "continue by SMS" adds one. Twilio's rules followed here (docs/emulator.md, "SMS participants"):
//!
//! - twilio-oai `CreateServiceConversationParticipant` (`twilio_conversations_v1.json`): `MessagingBinding.Address` is
//!   the phone, `MessagingBinding.ProxyAddress` the Twilio number it talks to; "together with the Proxy address, this
//!   determines a participant uniquely". The participant's `messaging_binding` is `{type, address, proxy_address}`
//!   (Conversation Participant Resource, <https://www.twilio.com/docs/conversations/api/conversation-participant-resource>);
//! - errors: 50412 empty proxy address, 50409 address equal to proxy address, 50416 the pair already in another
//!   active conversation, 50437 already in this one (<https://www.twilio.com/docs/api/errors/504NN>);
//! - every message added to the conversation by anyone else is sent to the phone as an SMS from the proxy number
//!   ("the connected person will receive all subsequent messages", same page): recorded here, `GET /admin/sms`;
//! - a text from the phone becomes a message authored by the phone's address (twilio-oai
//!   `conversation_message.author`: "the channel specific identifier of the message's author"; Twilio shows no SMS
//!   example, so the address as the author is the emulator's reading), with the participant's SID:
//!   `POST /admin/sms` injects one.

use serde::Serialize;
use serde_json::{json, Value};

use crate::state::{find_conversation, Emulator, Participant};
use crate::twilio_error::TwilioError;
use crate::util::now_secs;
use twilio_model::ConversationState;

/// One SMS participant: which conversation, which participant, which numbers.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Binding {
    pub conversation_sid: String,
    pub participant_sid: String,
    pub address: String,
    pub proxy_address: String,
}

/// An SMS Twilio would have sent to a phone.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SentSms {
    pub to: String,
    pub from: String,
    pub body: Option<String>,
    /// MMS: how many media the message carried.
    pub media: usize,
    pub conversation_sid: String,
    pub message_sid: String,
    pub date_created: u64,
}

/// The SMS side of the emulator's world.
#[derive(Debug, Default)]
pub struct Sms {
    pub bindings: Vec<Binding>,
    pub sent: Vec<SentSms>,
}

impl Sms {
    /// The SMS participant of `conversation_sid` whose address is `author`, if any.
    pub fn participant_sid(&self, conversation_sid: &str, author: &str) -> Option<String> {
        self.bindings.iter().find(|b| b.conversation_sid == conversation_sid && b.address == author).map(|b| b.participant_sid.clone())
    }

    /// The participant's `messaging_binding` as REST shows it, or null for a chat participant.
    pub fn binding_json(&self, participant_sid: &str) -> Value {
        match self.bindings.iter().find(|b| b.participant_sid == participant_sid) {
            Some(b) => json!({ "type": "sms", "address": b.address, "proxy_address": b.proxy_address }),
            None => Value::Null,
        }
    }

    /// A message was added: each SMS participant of the conversation but its author gets it as an SMS.
    pub fn deliver(&mut self, conversation_sid: &str, message: &crate::state::Message) {
        let to: Vec<(String, String)> = self
            .bindings
            .iter()
            .filter(|b| b.conversation_sid == conversation_sid && b.address != message.author)
            .map(|b| (b.address.clone(), b.proxy_address.clone()))
            .collect();
        for (to, from) in to {
            self.sent.push(SentSms {
                to,
                from,
                body: message.body.clone(),
                media: message.media.len(),
                conversation_sid: conversation_sid.to_string(),
                message_sid: message.sid.clone(),
                date_created: now_secs(),
            });
        }
    }
}

impl Emulator {
    /// Adds an SMS participant (see the module's rules).
    pub fn add_sms_participant(&self, conv_key: &str, address: String, proxy: Option<String>, attributes: Option<String>) -> Result<Participant, TwilioError> {
        let proxy = proxy.filter(|p| !p.trim().is_empty()).ok_or_else(|| TwilioError::new(400, 50412, "Participant proxy address is empty"))?;
        if address.trim().is_empty() || address.len() > 256 {
            return Err(TwilioError::new(400, 50407, "Invalid messaging binding address"));
        }
        if address == proxy {
            return Err(TwilioError::new(400, 50409, "Participant address equals proxy address"));
        }
        let mut st = self.lock();
        let idx = find_conversation(&st, conv_key)?;
        let conversation_sid = st.conversations[idx].sid.clone();
        for b in st.sms.bindings.iter().filter(|b| b.address == address && b.proxy_address == proxy) {
            if b.conversation_sid == conversation_sid {
                return Err(TwilioError::new(409, 50437, "Group Participant already exists"));
            }
            let active = st.conversations.iter().any(|c| c.sid == b.conversation_sid && c.state != ConversationState::Closed);
            if active {
                return Err(TwilioError::new(409, 50416, format!("Participant {address} and proxy address pair is already in use")));
            }
        }
        let participant = self.add_participant_in(&mut st.conversations[idx], None, attributes)?;
        st.sms.bindings.push(Binding { conversation_sid, participant_sid: participant.sid.clone(), address, proxy_address: proxy });
        Ok(participant)
    }

    /// A text from the phone `from` (to the proxy number `to`, when given): a message of the open conversation that
    /// has it as an SMS participant, authored by the address. 404 when none has.
    pub fn receive_sms(&self, from: &str, to: Option<&str>, body: String) -> Result<crate::state::Message, TwilioError> {
        let conversation_sid = {
            let st = self.lock();
            st.sms
                .bindings
                .iter()
                .rev()
                .filter(|b| b.address == from && to.map_or(true, |t| t == b.proxy_address))
                .find(|b| st.conversations.iter().any(|c| c.sid == b.conversation_sid && c.state != ConversationState::Closed))
                .map(|b| b.conversation_sid.clone())
                .ok_or_else(|| TwilioError::not_found("/admin/sms (no open conversation has this SMS participant)"))?
        };
        self.add_message_as(
            crate::state::MessageRules::AgentSdk,
            &conversation_sid,
            crate::state::Poster::Account(Some(from.to_string())),
            Some(body),
            None,
            Vec::new(),
        )
    }
}
