//! The Twilio calls that make a Flex chat: start it (three ways, per FLEX_START_MODE), check it, close it,
//! and read the queue's real-time statistics. See /work/shared/reference/twilio-flex.md and docs/auth-server.md.

use flexdesk_core::wire::Availability;
use serde_json::{json, Map, Value};

use crate::config::{Config, StartMode};
use crate::engagement::routing_attributes;
use crate::twilio::{field, TwilioClient, TwilioError};

/// The Interactions API's handles, needed to close the agent side of the chat.
#[derive(Debug, Clone, PartialEq)]
pub struct InteractionRef {
    pub interaction_sid: String,
    pub channel_sid: String,
}

#[derive(Debug, Clone)]
pub struct StartedChat {
    pub identity: String,
    pub conversation_sid: String,
    pub interaction: Option<InteractionRef>,
}

/// What the customer typed and the bot handed over, ready for Twilio.
pub struct ChatRequest<'a> {
    pub identity: &'a str,
    pub customer_name: &'a str,
    pub pre_engagement: &'a Map<String, Value>,
}

pub struct Flex<'a> {
    pub client: &'a TwilioClient,
    pub config: &'a Config,
}

impl Flex<'_> {
    pub async fn start(&self, chat: &ChatRequest<'_>) -> Result<StartedChat, TwilioError> {
        match self.config.start_mode {
            StartMode::Webchat => self.start_webchat(chat).await,
            StartMode::Interactions => self.start_interaction(chat).await,
            StartMode::Flexflow => self.start_flexflow(chat).await,
        }
    }

    /// Webchat orchestrator: Twilio creates the conversation and the participant, routed by the address.
    async fn start_webchat(&self, chat: &ChatRequest<'_>) -> Result<StartedChat, TwilioError> {
        const OP: &str = "start_webchat";
        let url = format!("{}/v2/WebChats", self.config.flex_api_url);
        let form = [
            ("AddressSid", self.config.address_sid.clone().unwrap_or_default()),
            ("ChatFriendlyName", format!("Chat with {}", chat.customer_name)),
            ("CustomerFriendlyName", chat.customer_name.to_string()),
            ("Identity", chat.identity.to_string()),
            ("PreEngagementData", Value::Object(chat.pre_engagement.clone()).to_string()),
        ];
        let answer = self.client.post_form(OP, &url, &form).await?;
        Ok(StartedChat {
            // Twilio echoes the identity we asked for; trust its answer if it chose another.
            identity: answer.get("identity").and_then(Value::as_str).unwrap_or(chat.identity).to_string(),
            conversation_sid: field(OP, &answer, "conversation_sid")?.to_string(),
            interaction: None,
        })
    }

    /// Interactions API: our own conversation and participant, then an interaction that routes a task to Flex.
    async fn start_interaction(&self, chat: &ChatRequest<'_>) -> Result<StartedChat, TwilioError> {
        let conv_url = format!("{}/v1/Conversations", self.config.conversations_api_url);
        let conversation = self
            .client
            .post_form(
                "create_conversation",
                &conv_url,
                &[
                    ("FriendlyName", format!("Chat with {}", chat.customer_name)),
                    ("Attributes", json!({ "pre_engagement_data": chat.pre_engagement }).to_string()),
                ],
            )
            .await?;
        let conversation_sid = field("create_conversation", &conversation, "sid")?.to_string();

        let routed = async {
            self.client
                .post_form(
                    "add_participant",
                    &format!("{conv_url}/{conversation_sid}/Participants"),
                    &[("Identity", chat.identity.to_string()), ("Attributes", json!({ "member_type": "customer" }).to_string())],
                )
                .await?;
            let config = self.config;
            let routing = json!({ "properties": {
                "workspace_sid": config.workspace_sid,
                "workflow_sid": config.workflow_sid,
                "task_channel_unique_name": "chat",
                "attributes": routing_attributes(chat.pre_engagement, chat.customer_name, &conversation_sid),
            }});
            let channel = json!({ "type": "chat", "initiated_by": "customer",
                "properties": { "media_channel_sid": conversation_sid } });
            let interaction = self
                .client
                .post_form(
                    "create_interaction",
                    &format!("{}/v1/Interactions", config.flex_api_url),
                    &[("Channel", channel.to_string()), ("Routing", routing.to_string())],
                )
                .await?;
            let interaction_sid = field("create_interaction", &interaction, "sid")?.to_string();
            let channel_sid = interaction
                .pointer("/channel/sid")
                .and_then(Value::as_str)
                .ok_or_else(|| TwilioError::BadResponse { operation: "create_interaction", detail: "no channel.sid".into() })?
                .to_string();
            Ok::<_, TwilioError>(InteractionRef { interaction_sid, channel_sid })
        }
        .await;

        match routed {
            Ok(interaction) => Ok(StartedChat { identity: chat.identity.to_string(), conversation_sid, interaction: Some(interaction) }),
            Err(e) => {
                // Do not leave a half-made conversation behind.
                if let Err(close) = self.close_conversation(&conversation_sid).await {
                    tracing::warn!(error = %close, "could not close the conversation of a failed start");
                }
                Err(e)
            }
        }
    }

    /// Legacy Flex Flow channel (the seed's way); the channel SID is the conversation SID.
    async fn start_flexflow(&self, chat: &ChatRequest<'_>) -> Result<StartedChat, TwilioError> {
        const OP: &str = "start_flexflow";
        let url = format!("{}/v1/Channels", self.config.flex_api_url);
        let form = [
            ("FlexFlowSid", self.config.flex_flow_sid.clone().unwrap_or_default()),
            ("Identity", chat.identity.to_string()),
            ("ChatUserFriendlyName", chat.customer_name.to_string()),
            ("ChatFriendlyName", format!("Chat with {}", chat.customer_name)),
            ("PreEngagementData", Value::Object(chat.pre_engagement.clone()).to_string()),
        ];
        let answer = self.client.post_form(OP, &url, &form).await?;
        Ok(StartedChat { identity: chat.identity.to_string(), conversation_sid: field(OP, &answer, "sid")?.to_string(), interaction: None })
    }

    /// Ends the chat for everyone: the interaction channel first (so the agent's task does not sit in
    /// wrapping), then the conversation. A 404 means it is already gone, which is what we wanted.
    pub async fn close(&self, conversation_sid: &str, interaction: Option<&InteractionRef>) -> Result<(), TwilioError> {
        if let Some(i) = interaction {
            let url = format!("{}/v1/Interactions/{}/Channels/{}", self.config.flex_api_url, i.interaction_sid, i.channel_sid);
            ignore_not_found(self.client.post_form("close_interaction", &url, &[("Status", "closed".into())]).await)?;
        }
        self.close_conversation(conversation_sid).await
    }

    async fn close_conversation(&self, conversation_sid: &str) -> Result<(), TwilioError> {
        let url = format!("{}/v1/Conversations/{conversation_sid}", self.config.conversations_api_url);
        ignore_not_found(self.client.post_form("close_conversation", &url, &[("State", "closed".into())]).await)
    }

    /// True when the conversation is closed (the agent ended the chat) or no longer exists.
    pub async fn conversation_closed(&self, conversation_sid: &str) -> Result<bool, TwilioError> {
        let url = format!("{}/v1/Conversations/{conversation_sid}", self.config.conversations_api_url);
        match self.client.get("get_conversation", &url).await {
            Ok(c) => Ok(c.get("state").and_then(Value::as_str) == Some("closed")),
            Err(e) if e.is_not_found() => Ok(true),
            Err(e) => Err(e),
        }
    }

    /// The queue's live numbers; `None` when no workspace/queue is configured.
    pub async fn availability(&self) -> Option<Result<Availability, TwilioError>> {
        const OP: &str = "queue_statistics";
        let (ws, wq) = (self.config.workspace_sid.as_ref()?, self.config.queue_sid.as_ref()?);
        let url = format!("{}/v1/Workspaces/{ws}/TaskQueues/{wq}/RealTimeStatistics", self.config.taskrouter_api_url);
        Some(self.client.get(OP, &url).await.map(|s| {
            let count = |v: Option<&Value>| v.and_then(Value::as_u64).unwrap_or(0);
            let by_status = s.get("tasks_by_status");
            let status = |name: &str| count(by_status.and_then(|b| b.get(name)));
            Availability {
                agents_available: count(s.get("total_available_workers")) as u32,
                // Waiting = not yet accepted by an agent.
                tasks_waiting: (status("pending") + status("reserved")) as u32,
                longest_wait_seconds: count(s.get("longest_task_waiting_age")),
            }
        }))
    }
}

fn ignore_not_found(result: Result<Value, TwilioError>) -> Result<(), TwilioError> {
    match result {
        Ok(_) => Ok(()),
        Err(e) if e.is_not_found() => {
            tracing::info!(error = %e, "already gone while closing");
            Ok(())
        }
        Err(e) => Err(e),
    }
}
