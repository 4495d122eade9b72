//! The one Twilio call of "continue by SMS" (issue 28, item 4): add an SMS participant to the chat's conversation.
//!
//! twilio-oai `CreateServiceConversationParticipant` (`twilio_conversations_v1.json`; the same parameters as the
//! default-service `CreateConversationParticipant`, but on the Flex service's own path, as every call here):
//! `POST /v1/Services/{ChatServiceSid}/Conversations/{ConversationSid}/Participants` with `MessagingBinding.Address` =
//! the customer's number and `MessagingBinding.ProxyAddress` = our Twilio number. Twilio's "Conversation Participant
//! Resource" (<https://www.twilio.com/docs/conversations/api/conversation-participant-resource>, "Add a Conversation
//! Participant (SMS)"): from then on every message of the conversation goes to the phone as an SMS from the proxy
//! number, and the phone's replies come back into the same conversation, so the agent keeps the task and the history.

use serde_json::{json, Value};

use crate::infra::config::Config;
use crate::twilio::client::{CallError, Operation, TwilioClient};

/// conversations v1 `CreateServiceConversationParticipant` with a messaging binding.
const ADD_SMS_PARTICIPANT: Operation = Operation::create("add_sms_participant");
/// conversations v1 `ListServiceConversationParticipant` (which SMS participants the chat has already).
const LIST_SMS_PARTICIPANTS: Operation = Operation::repeatable("list_sms_participants");

/// Twilio error 50416: the address and proxy address pair is already in an active conversation: one mapping per pair,
/// so inbound texts can be routed (<https://www.twilio.com/docs/api/errors/50416>).
pub const PAIR_IN_USE: u64 = 50416;
/// Twilio error 50437: that participant is already in this conversation; "ignore this error — your participant is
/// already present" (<https://www.twilio.com/docs/api/errors/50437>).
const ALREADY_HERE: u64 = 50437;

/// The addresses of the conversation's SMS participants (their `messaging_binding.address`, twilio-oai
/// `conversations.v1.service.service_conversation.service_conversation_participant`): asked before adding one, so a chat
/// texts one number at most however often its credential is used (a page that could add numbers at will would be an
/// SMS pumping tool). Twilio is asked, not this process: the answer holds across replicas and restarts.
pub async fn sms_addresses(client: &TwilioClient, config: &Config, conversation_sid: &str) -> Result<Vec<String>, CallError> {
    let url = format!("{}/v1/Services/{}/Conversations/{conversation_sid}/Participants?PageSize=100", config.conversations_api_url, config.conversations_service_sid);
    let list = client.get(LIST_SMS_PARTICIPANTS, &url).await?;
    let participants = list.get("participants").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    Ok(participants.iter().filter_map(|p| p.pointer("/messaging_binding/address").and_then(Value::as_str).map(String::from)).collect())
}

/// Adds `number` (E.164, checked by the caller) to the conversation as an SMS participant texted from `proxy`. Marked
/// `member_type: customer` (Flex's participant roles, twilio-oai `interaction_channel_participant_enum_type`) so no
/// desk or agent UI takes the phone for an agent. Twilio's answer may quote the number: it is kept out of the error.
pub async fn add_participant(client: &TwilioClient, config: &Config, conversation_sid: &str, number: &str, proxy: &str) -> Result<(), CallError> {
    let url = format!("{}/v1/Services/{}/Conversations/{conversation_sid}/Participants", config.conversations_api_url, config.conversations_service_sid);
    let form = [
        ("MessagingBinding.Address", number.to_string()),
        ("MessagingBinding.ProxyAddress", proxy.to_string()),
        ("Attributes", json!({ "member_type": "customer", "flexdesk": { "channel": "sms" } }).to_string()),
    ];
    match client.post_form(ADD_SMS_PARTICIPANT, &url, &form).await {
        Ok(_) => Ok(()),
        Err(e) if e.code() == Some(ALREADY_HERE) => Ok(()),
        Err(CallError::Api { operation, status, code, message }) => {
            let masked = flexdesk_core::phone::mask(number);
            let digits = number.trim_start_matches('+');
            Err(CallError::Api { operation, status, code, message: message.replace(number, &masked).replace(digits, &masked) })
        }
        Err(e) => Err(e),
    }
}
