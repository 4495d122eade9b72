//! Flex's pipeline: what happens *after* a call, in the order Twilio documents, so a test sees the gaps a real
//! account has (no task before a message, routing a moment after the answer, no webhook for a REST change).
//! Each rule is a row of docs/emulator.md ("Flex's pipeline"); where Twilio is silent, a switch holds each answer
//! (`POST /admin/pipeline`) and the tests run both.
//!
//! - An Address Configuration (or Flex Flow) with a Studio integration runs on `onMessageAdded`: "the backend
//!   endpoint [...] will get called for the onMessageAdded event"
//!   (<https://www.twilio.com/docs/flex/admin-guide/setup/conversations/prerequisites>); `/v2/WebChats` only attaches
//!   it (twilio-oai `CreateWebChannel.AddressSid`: "the callback URL will be set to the corresponding Studio Flow SID
//!   or webhook URL"). SDK clients fire `onMessageAdded`; a REST message only with `X-Twilio-Webhook-Enabled: true`
//!   (<https://help.twilio.com/articles/360046342593>, "Troubleshooting Webhook Delivery for Conversations or Chat").
//! - The flow modelled is the default Chat address flow: *Incoming Conversation* → *Send to Flex*, which "will
//!   create a new Interaction using the /Interactions endpoint which then creates new tasks", on the task channel
//!   "Programmable Chat" (`chat`), adding `channelType`, `customerAddress`, `from`, `name`, `customerName`, then
//!   `{"from": "{{trigger.conversation.ChannelAttributes.pre_engagement_data.friendlyName}}"}`
//!   (<https://www.twilio.com/docs/studio/widget-library/send-flex>).
//! - `POST /v1/Interactions` is asynchronous ("a 200 response only indicates that the server has accepted the
//!   request", <https://www.twilio.com/docs/flex/developer/conversations/interactions-api/interactions>): the task
//!   appears `routing_delay_ms` later, or the channel ends `failed` (twilio-oai
//!   `interaction_channel_enum_channel_status`) when the `fail_routing` switch says so.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use twilio_model::ChannelStatus;

use crate::state::{Shared, Task};

/// Task channel of the default Chat flow's Send to Flex widget ("Programmable Chat").
pub const CHAT_TASK_CHANNEL: &str = "chat";

/// The answers to what Twilio leaves open, and the pipeline's timing. `POST /admin/pipeline` changes them.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct Switches {
    /// Milliseconds between an accepted routing request (a Send to Flex run, `POST /v1/Interactions`) and the
    /// task appearing. Twilio publishes no figure; 250 ms keeps "at once" from hiding the gap.
    pub routing_delay_ms: u64,
    /// The next N routings end with the interaction channel `failed` and no task (fault switch).
    pub fail_routing: u32,
    /// Does a close made by Flex itself (the agent's "end chat", an interaction channel closing its conversation)
    /// fire the Conversations post-event webhooks? Twilio does not document it; default: no (the harder case).
    pub flex_close_fires_webhook: bool,
    /// What a direct conversation close (`State=closed`) does to its Flex task. Twilio does not document it:
    /// `true` cancels a waiting task and completes an assigned one; `false` leaves the task as it is (the agent
    /// keeps a task whose chat is gone).
    pub direct_close_ends_task: bool,
}

impl Default for Switches {
    fn default() -> Self {
        Switches { routing_delay_ms: 250, fail_routing: 0, flex_close_fires_webhook: false, direct_close_ends_task: true }
    }
}

/// What an address's integration needs to route the conversation when its first `onMessageAdded` fires.
#[derive(Debug, Clone)]
pub struct Integration {
    /// The customer's identity (the chat address's `customerAddress`).
    pub customer_identity: String,
    /// `CustomerFriendlyName` / `ChatUserFriendlyName`.
    pub customer_name: Option<String>,
    /// `PreEngagementData`, as the conversation's `pre_engagement_data` attribute.
    pub pre_engagement: Option<Value>,
    /// Set once the flow ran: the execution ends at Send to Flex (one task per conversation; emulator's reading).
    pub ran: bool,
}

impl Integration {
    /// The task attributes the default Chat flow's Send to Flex widget sets (module docs). For a chat address
    /// the page does not say what "the sender's address" is: the customer's identity for `customerAddress`, and
    /// the friendly name for `name` / `customerName` (what Flex shows a web chat as) are the emulator's reading.
    fn task_attributes(&self) -> Value {
        let name = self.customer_name.clone().unwrap_or_else(|| self.customer_identity.clone());
        let from = self
            .pre_engagement
            .as_ref()
            .and_then(|p| p.get("friendlyName"))
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| name.clone());
        json!({
            "channelType": "web",
            "customerAddress": self.customer_identity,
            "name": name,
            "customerName": name,
            "from": from,
        })
    }
}

/// The conversation's Studio integration runs once, on its first `onMessageAdded` (called by every path that
/// fires it: SDK sends, REST sends with `X-Twilio-Webhook-Enabled: true`).
pub fn message_added(emu: &Shared, conversation_sid: &str) {
    let attributes = {
        let mut st = emu.lock();
        let Some(conv) = st.conversations.iter_mut().find(|c| c.sid == conversation_sid) else { return };
        match conv.integration.as_mut() {
            Some(i) if !i.ran => {
                i.ran = true;
                i.task_attributes()
            }
            _ => return,
        }
    };
    route(emu, conversation_sid.to_string(), "web", attributes, CHAT_TASK_CHANNEL.to_string(), None);
}

/// Creates the interaction at once and its task a moment later (or fails its channel), as the Interactions API
/// does. `task_sid`: the SID already promised in the create answer, if any.
pub fn route(emu: &Shared, conversation_sid: String, channel_type: &str, attributes: Value, task_channel: String, task_sid: Option<String>) -> crate::state::Interaction {
    let interaction = emu.create_interaction(&conversation_sid, channel_type);
    let (delay, fail) = {
        let mut s = emu.switches();
        let fail = s.fail_routing > 0;
        s.fail_routing = s.fail_routing.saturating_sub(1);
        (s.routing_delay_ms, fail)
    };
    let emu = emu.clone();
    let i = interaction.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(delay)).await;
        if fail {
            emu.set_channel_status(&i.sid, ChannelStatus::Failed);
            return;
        }
        let mut attrs = attributes;
        // The attributes Flex adds to a conversation task (twilio-oai `CreateInteraction` example).
        attrs["conversationSid"] = json!(i.conversation_sid);
        attrs["flexInteractionSid"] = json!(i.sid);
        attrs["flexInteractionChannelSid"] = json!(i.channel_sid);
        attrs["initiatedBy"] = json!("customer");
        attrs["direction"] = json!("inbound");
        if attrs.get("channelType").is_none() {
            attrs["channelType"] = json!(i.channel_type);
        }
        emu.route_task(&i, attrs, &task_channel, task_sid);
    });
    interaction
}

/// A task as `routing_rest` describes it before it exists (the create answer promises its SID).
pub fn promised_task(conversation_sid: &str, attributes: Value, task_channel: &str) -> Task {
    crate::state::new_task(conversation_sid, attributes, task_channel)
}
