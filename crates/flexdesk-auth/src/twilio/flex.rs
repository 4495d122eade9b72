//! The Twilio calls that make a Flex chat: start it (three ways, per FLEX_START_MODE), check it, close it,
//! and read the queue's real-time statistics. Every path, parameter and answer field follows Twilio's API
//! description (twilio-oai: `twilio_flex_v1.json`, `twilio_flex_v2.json`, `twilio_conversations_v1.json`,
//! `twilio_taskrouter_v1.json`); tests/contract checks each request we send against it. docs/auth-server.md
//! says how starting, ending and pacing behave.

use flexdesk_core::wire::Availability;
use serde_json::{json, Map, Value};

use crate::infra::config::{Config, StartMode};
use crate::infra::pacing::Lane;
use crate::twilio::client::{field, Operation, TwilioClient, CallError};

// Operation ids name the twilio-oai operation each call is.
/// flex v2 `CreateWebChannel`.
const START_WEBCHAT: Operation = Operation::create("start_webchat").paced(Lane::WebChats);
/// flex v1 `CreateChannel` (legacy Flex Flow).
const START_FLEXFLOW: Operation = Operation::create("start_flexflow");
/// conversations v1 `CreateServiceConversation`.
const CREATE_CONVERSATION: Operation = Operation::create("create_conversation").paced(Lane::ConversationsCreate);
/// conversations v1 `CreateServiceConversationParticipant`.
const ADD_PARTICIPANT: Operation = Operation::create("add_participant");
/// flex v1 `CreateInteraction`.
const CREATE_INTERACTION: Operation = Operation::create("create_interaction").paced(Lane::Interactions);
/// flex v1 `UpdateInteractionChannel`.
const CLOSE_INTERACTION: Operation = Operation::repeatable("close_interaction").paced(Lane::InteractionChannels);
/// conversations v1 `UpdateServiceConversation`.
const CLOSE_CONVERSATION: Operation = Operation::repeatable("close_conversation");
/// conversations v1 `DeleteServiceConversation` (erase on request).
const DELETE_CONVERSATION: Operation = Operation::repeatable("delete_conversation");
/// conversations v1 `FetchServiceConversation`.
const GET_CONVERSATION: Operation = Operation::repeatable("get_conversation");
/// conversations v1 `ListServiceConversationParticipant`.
const LIST_PARTICIPANTS: Operation = Operation::repeatable("list_participants");
/// conversations v1 `CreateServiceConversationMessage` (the hand-off messages).
const POST_HANDOFF: Operation = Operation::create("post_handoff_message");
/// conversations v1 `CreateServiceConversationMessage` (a line for the agent: the customer left).
const POST_NOTICE: Operation = Operation::create("post_notice_message");
/// conversations v1 `UpdateServiceConversation` (`Timers.Inactive`, `Timers.Closed`).
const SET_TIMERS: Operation = Operation::repeatable("set_conversation_timers");
/// flex v1 `FetchInteractionChannel` (did routing fail?).
const GET_INTERACTION_CHANNEL: Operation = Operation::repeatable("get_interaction_channel");
/// taskrouter v1 `ListTask` (the chat's task, to end it through its interaction).
const FIND_CHAT_TASK: Operation = Operation::repeatable("find_chat_task");
/// taskrouter v1 `FetchTask` (its attributes: lists carry none).
const FETCH_TASK: Operation = Operation::repeatable("fetch_task");
/// taskrouter v1 `FetchTaskQueueRealTimeStatistics`.
const QUEUE_STATISTICS: Operation = Operation::repeatable("queue_statistics");

/// Twilio error 50377: "Can't update conversation as it's in final closed state"
/// (<https://www.twilio.com/docs/api/errors/50377>).
const CONVERSATION_CLOSED: u64 = 50377;

/// The task channel flexdesk's chats are routed on; statistics are narrowed to it.
const TASK_CHANNEL: &str = "chat";

/// The Interactions API's handles, needed to close the agent side of the chat.
#[derive(Debug, Clone, PartialEq)]
pub struct InteractionRef {
    /// The interaction (`KD…`).
    pub interaction_sid: String,
    /// Its customer channel (`UO…`).
    pub channel_sid: String,
}

/// A chat Twilio started, routed to Flex.
#[derive(Debug, Clone)]
pub struct StartedChat {
    /// The customer's Conversations identity (chosen by Twilio in the `webchat` mode, else the requested one).
    pub identity: String,
    /// The conversation (`CH…`).
    pub conversation_sid: String,
    /// In the `interactions` mode, the handles that close the agent side; else `None`.
    pub interaction: Option<InteractionRef>,
}

/// What the customer typed and the bot handed over, ready for Twilio.
pub struct ChatRequest<'a> {
    /// The customer's identity (ignored in the `webchat` mode, where Twilio chooses it).
    pub identity: &'a str,
    /// The name the agent sees.
    pub customer_name: &'a str,
    /// The `PreEngagementData` object ([`crate::chat::engagement::pre_engagement_data`]).
    pub pre_engagement: &'a Map<String, Value>,
    /// The TaskRouter task's attributes for a conversation SID (the interactions mode;
    /// [`crate::chat::engagement::routing_attributes`]): the chat rules say what routes, this module only sends it.
    pub task_attributes: &'a (dyn Fn(&str) -> Value + Sync),
}

/// The Flex calls, made with `client` against the services and SIDs of `config`.
pub struct Flex<'a> {
    /// The REST client the calls go through.
    pub client: &'a TwilioClient,
    /// The settings: start mode, SIDs, API base URLs.
    pub config: &'a Config,
}

impl Flex<'_> {
    /// Starts a chat the way `FLEX_START_MODE` says: `webchat` (`POST /v2/WebChats` with the Address
    /// Configuration, <https://www.twilio.com/docs/flex/developer/conversations/webchat>), `interactions`
    /// (a conversation, its participant, then `POST /v1/Interactions`,
    /// <https://www.twilio.com/docs/flex/developer/conversations/interactions-api>) or `flexflow` (legacy
    /// `POST /v1/Channels` with a Flex Flow). A half-made conversation is closed again when a later step fails.
    ///
    /// The bot's hand-off is posted as messages ([`crate::twilio::handoff_messages`]) before the answer, so the agent reads it
    /// before anything the customer types next. In the webchat and Flex Flow modes the last one carries
    /// `X-Twilio-Webhook-Enabled: true`: it is what runs the address's Studio flow and so routes the chat (Twilio's
    /// pipeline: no message, no task). In the interactions mode they are posted before the interaction is created.
    pub async fn start(&self, chat: &ChatRequest<'_>) -> Result<StartedChat, CallError> {
        let started = match &self.config.start_mode {
            StartMode::Webchat { address } => self.start_webchat(address, chat).await?,
            StartMode::Interactions { workspace, workflow } => return self.start_interaction(workspace, workflow, chat).await,
            StartMode::FlexFlow { flow } => self.start_flexflow(flow, chat).await?,
        };
        match self.post_handoff(&started.conversation_sid, &started.identity, chat.pre_engagement, true).await {
            Ok(()) => Ok(started),
            Err(e) => {
                // Unrouted and half told: end it rather than leave a conversation no agent will ever get.
                if let Err(close) = self.close_conversation(&started.conversation_sid).await {
                    tracing::warn!(error = %close, "could not close the conversation of a failed start");
                }
                Err(e)
            }
        }
    }

    /// Twilio's conversation timers (`CONVERSATION_*_SECONDS`), the backstop for a page that sends nothing (no beacon:
    /// a crash, a phone that killed the browser): at creation they need `State` too
    /// (<https://www.twilio.com/docs/api/errors/50382>), so no extra call in the interactions mode.
    fn timers_at_creation(&self) -> Vec<(&'static str, String)> {
        let form = self.config.conversation_timers.form();
        if form.is_empty() {
            return form;
        }
        std::iter::once(("State", "active".to_string())).chain(form).collect()
    }

    /// Sets the timers on a conversation Twilio made (webchat and Flex Flow modes; the interactions mode sets them
    /// at creation): one call per chat, after the start has answered (routes/sessions.rs `create`), so the customer
    /// never waits for it. A failure is logged, not the start's: the chat works, only the backstop is missing.
    pub async fn set_timers(&self, conversation_sid: &str) {
        let form = self.config.conversation_timers.form();
        if form.is_empty() || matches!(self.config.start_mode, StartMode::Interactions { .. }) {
            return;
        }
        let url = format!("{}/{conversation_sid}", self.conversations_url());
        if let Err(e) = self.client.post_form(SET_TIMERS, &url, &form).await {
            tracing::warn!(error = %e, "could not set the conversation's timers; Twilio will not close it by itself");
        }
    }

    /// Posts the hand-off messages; with `route`, the last one fires `onMessageAdded` (see [`Flex::start`]).
    async fn post_handoff(&self, conversation_sid: &str, identity: &str, pre_engagement: &Map<String, Value>, route: bool) -> Result<(), CallError> {
        let c = self.config;
        let messages = crate::twilio::handoff_messages::handoff_messages(pre_engagement, identity, &c.handoff_bot_name, c.handoff_transcript);
        let url = format!("{}/{conversation_sid}/Messages", self.conversations_url());
        let last = messages.len().saturating_sub(1);
        for (i, m) in messages.iter().enumerate() {
            let form = [("Author", m.author.clone()), ("Body", m.body.clone()), ("Attributes", m.attributes())];
            if route && i == last {
                self.client.post_form_firing_webhooks(POST_HANDOFF, &url, &form).await?;
            } else {
                self.client.post_form(POST_HANDOFF, &url, &form).await?;
            }
        }
        Ok(())
    }

    /// The configured Flex Conversations service's conversations. Never the default-service path
    /// `/v1/Conversations`: it reaches only the account's default service, which need not be Flex's.
    fn conversations_url(&self) -> String {
        format!("{}/v1/Services/{}/Conversations", self.config.conversations_api_url, self.config.conversations_service_sid)
    }

    /// Webchat orchestrator: Twilio creates the conversation and the participant, routed by the address,
    /// and chooses the customer's identity (the operation has no `Identity` parameter).
    async fn start_webchat(&self, address: &str, chat: &ChatRequest<'_>) -> Result<StartedChat, CallError> {
        let url = format!("{}/v2/WebChats", self.config.flex_api_url);
        let form = [
            ("AddressSid", address.to_string()),
            ("ChatFriendlyName", format!("Chat with {}", chat.customer_name)),
            ("CustomerFriendlyName", chat.customer_name.to_string()),
            ("PreEngagementData", Value::Object(chat.pre_engagement.clone()).to_string()),
        ];
        let answer = self.client.post_form(START_WEBCHAT, &url, &form).await?;
        Ok(StartedChat {
            identity: field(START_WEBCHAT, &answer, "identity")?.to_string(),
            conversation_sid: field(START_WEBCHAT, &answer, "conversation_sid")?.to_string(),
            interaction: None,
        })
    }

    /// Interactions API: our own conversation and participant, then an interaction that routes a task to Flex.
    async fn start_interaction(&self, workspace: &str, workflow: &str, chat: &ChatRequest<'_>) -> Result<StartedChat, CallError> {
        let conv_url = self.conversations_url();
        let conversation = self
            .client
            .post_form(
                CREATE_CONVERSATION,
                &conv_url,
                &[
                    ("FriendlyName", format!("Chat with {}", chat.customer_name)),
                    ("Attributes", json!({ "pre_engagement_data": chat.pre_engagement }).to_string()),
                ]
                .into_iter()
                .chain(self.timers_at_creation())
                .collect::<Vec<_>>(),
            )
            .await?;
        let conversation_sid = field(CREATE_CONVERSATION, &conversation, "sid")?.to_string();

        let routed = async {
            self.client
                .post_form(
                    ADD_PARTICIPANT,
                    &format!("{conv_url}/{conversation_sid}/Participants"),
                    &[("Identity", chat.identity.to_string()), ("Attributes", json!({ "member_type": "customer" }).to_string())],
                )
                .await?;
            // Before the interaction: the agent's task opens on the hand-off already in the conversation.
            self.post_handoff(&conversation_sid, chat.identity, chat.pre_engagement, false).await?;
            let routing = json!({ "properties": {
                "workspace_sid": workspace,
                "workflow_sid": workflow,
                "task_channel_unique_name": TASK_CHANNEL,
                "attributes": (chat.task_attributes)(&conversation_sid),
            }});
            let channel = json!({ "type": "chat", "initiated_by": "customer",
                "properties": { "media_channel_sid": conversation_sid } });
            let interaction = self
                .client
                .post_form(
                    CREATE_INTERACTION,
                    &format!("{}/v1/Interactions", self.config.flex_api_url),
                    &[("Channel", channel.to_string()), ("Routing", routing.to_string())],
                )
                .await?;
            let interaction_sid = field(CREATE_INTERACTION, &interaction, "sid")?.to_string();
            // flex.v1.interaction: `channel` is an object holding the channel's `sid` (UO…).
            let channel_sid = interaction
                .pointer("/channel/sid")
                .and_then(Value::as_str)
                .ok_or_else(|| CallError::BadResponse { operation: CREATE_INTERACTION.name, detail: "no channel.sid".into() })?
                .to_string();
            Ok::<_, CallError>(InteractionRef { interaction_sid, channel_sid })
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
    async fn start_flexflow(&self, flow: &str, chat: &ChatRequest<'_>) -> Result<StartedChat, CallError> {
        let url = format!("{}/v1/Channels", self.config.flex_api_url);
        let form = [
            ("FlexFlowSid", flow.to_string()),
            ("Identity", chat.identity.to_string()),
            ("ChatUserFriendlyName", chat.customer_name.to_string()),
            ("ChatFriendlyName", format!("Chat with {}", chat.customer_name)),
            ("PreEngagementData", Value::Object(chat.pre_engagement.clone()).to_string()),
        ];
        let answer = self.client.post_form(START_FLEXFLOW, &url, &form).await?;
        Ok(StartedChat {
            identity: chat.identity.to_string(),
            conversation_sid: field(START_FLEXFLOW, &answer, "sid")?.to_string(),
            interaction: None,
        })
    }

    /// Ends the chat for everyone, the way Flex ends its own web chats: through the Interactions Channels
    /// subresource ("Do not use Task API directly to cancel or delete a task",
    /// <https://www.twilio.com/docs/flex/developer/conversations/interactions-api/channels-subresource>), so the
    /// agent's task goes to `wrapping` (a waiting one is withdrawn) and the conversation closes with it
    /// (<https://www.twilio.com/docs/api/errors/80906>).
    /// - the interaction is the one remembered at start (interactions mode), else found from the conversation: the
    ///   chat's open task in TaskRouter carries `flexInteractionSid` / `flexInteractionChannelSid` (twilio-oai
    ///   `CreateInteraction` example; Studio's Send to Flex creates an interaction too);
    /// - with no interaction (not routed yet, no workspace configured, or its channel gone) the conversation is
    ///   closed directly (`State=closed`).
    ///
    /// A conversation already closed (error 50377: closed is final) or gone (404) counts as ended.
    pub async fn close(&self, conversation_sid: &str, interaction: Option<&InteractionRef>) -> Result<(), CallError> {
        let found = match interaction {
            Some(i) => Some(i.clone()),
            None => self.find_interaction(conversation_sid).await.unwrap_or_else(|e| {
                tracing::info!(error = %e, "could not find the chat's interaction; closing the conversation");
                None
            }),
        };
        if let Some(i) = found {
            let url = format!("{}/v1/Interactions/{}/Channels/{}", self.config.flex_api_url, i.interaction_sid, i.channel_sid);
            match self.client.post_form(CLOSE_INTERACTION, &url, &[("Status", "closed".into())]).await {
                // Closing the channel closes its conversation too (error page 80906): no second call.
                Ok(_) => return Ok(()),
                // Gone (404), or refused for a reason Twilio does not document for this case (e.g. the agent
                // side closed it first): the conversation then decides, and 50377 there means already ended.
                Err(e @ CallError::Api { status: 400..=428 | 430..=499, .. }) => {
                    tracing::info!(error = %e, "interaction channel not closable; closing the conversation")
                }
                Err(e) => return Err(e),
            }
        }
        self.close_conversation(conversation_sid).await
    }

    /// Posts a line for the agent, without an `Author` (Twilio's default author is `system`: twilio-oai
    /// `CreateServiceConversationMessage`), with `{"flexdesk": {kind: true}}` in its attributes. Fires no webhook (no
    /// `X-Twilio-Webhook-Enabled`), so it routes nothing.
    pub async fn post_notice(&self, conversation_sid: &str, kind: &str, body: &str) -> Result<(), CallError> {
        let url = format!("{}/{conversation_sid}/Messages", self.conversations_url());
        let form = [("Body", body.to_string()), ("Attributes", json!({ "flexdesk": { kind: true } }).to_string())];
        self.client.post_form(POST_NOTICE, &url, &form).await.map(|_| ())
    }

    /// The interaction of the chat's open task, from TaskRouter (`None` without a workspace or an open task).
    pub async fn find_interaction(&self, conversation_sid: &str) -> Result<Option<InteractionRef>, CallError> {
        let Some(ws) = self.config.workspace_sid.as_ref() else { return Ok(None) };
        // The SID goes into an expression: only a SID's characters pass.
        if conversation_sid.is_empty() || !conversation_sid.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Ok(None);
        }
        let tasks_url = format!("{}/v1/Workspaces/{ws}/Tasks", self.config.taskrouter_api_url);
        // (Built before any await: the serializer is not Send.)
        let query = {
            let mut q = form_urlencoded::Serializer::new(String::new());
            q.append_pair("EvaluateTaskAttributes", &format!("conversationSid == \"{conversation_sid}\""));
            for status in ["pending", "reserved", "assigned"] {
                q.append_pair("AssignmentStatus", status);
            }
            q.append_pair("PageSize", "20");
            q.finish()
        };
        let list = self.client.get(FIND_CHAT_TASK, &format!("{tasks_url}?{query}")).await?;
        let Some(sid) = list.pointer("/tasks/0/sid").and_then(Value::as_str) else { return Ok(None) };
        // Lists carry no attributes (twilio-oai task schema: "only displayed in FETCH action"): fetch the task.
        let task = self.client.get(FETCH_TASK, &format!("{tasks_url}/{sid}")).await?;
        let attributes: Value = task.get("attributes").and_then(Value::as_str).and_then(|a| serde_json::from_str(a).ok()).unwrap_or(Value::Null);
        let text = |k: &str| attributes.get(k).and_then(Value::as_str).filter(|v| v.bytes().all(|b| b.is_ascii_alphanumeric())).map(str::to_string);
        Ok(match (text("flexInteractionSid"), text("flexInteractionChannelSid")) {
            (Some(interaction_sid), Some(channel_sid)) => Some(InteractionRef { interaction_sid, channel_sid }),
            _ => None,
        })
    }

    /// True when routing the chat failed: its interaction channel is `failed` (twilio-oai
    /// `interaction_channel_enum_channel_status`; `POST /v1/Interactions` is asynchronous, "a 200 response only
    /// indicates that the server has accepted the request").
    pub async fn routing_failed(&self, interaction: &InteractionRef) -> Result<bool, CallError> {
        let url = format!("{}/v1/Interactions/{}/Channels/{}", self.config.flex_api_url, interaction.interaction_sid, interaction.channel_sid);
        let channel = self.client.get(GET_INTERACTION_CHANNEL, &url).await?;
        Ok(channel.get("status").and_then(Value::as_str) == Some("failed"))
    }

    async fn close_conversation(&self, conversation_sid: &str) -> Result<(), CallError> {
        let url = format!("{}/{conversation_sid}", self.conversations_url());
        match self.client.post_form(CLOSE_CONVERSATION, &url, &[("State", "closed".into())]).await {
            Ok(_) => Ok(()),
            Err(e) if e.is_not_found() || e.code() == Some(CONVERSATION_CLOSED) => {
                tracing::info!(error = %e, "conversation already closed or gone");
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    /// Deletes the conversation: "all its Messages, attached Media, and Participants will be deleted"
    /// (<https://www.twilio.com/docs/conversations/modifying-objects>, "Deleting"; twilio-oai
    /// `DeleteServiceConversation`, 204). `Ok(false)`: it was gone already (404).
    pub async fn delete_conversation(&self, conversation_sid: &str) -> Result<bool, CallError> {
        let url = format!("{}/{conversation_sid}", self.conversations_url());
        match self.client.delete(DELETE_CONVERSATION, &url).await {
            Ok(_) => Ok(true),
            Err(e) if e.is_not_found() => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// True when the conversation is closed (the agent ended the chat) or no longer exists.
    pub async fn conversation_closed(&self, conversation_sid: &str) -> Result<bool, CallError> {
        let url = format!("{}/{conversation_sid}", self.conversations_url());
        match self.client.get(GET_CONVERSATION, &url).await {
            Ok(c) => Ok(c.get("state").and_then(Value::as_str) == Some("closed")),
            Err(e) if e.is_not_found() => Ok(true),
            Err(e) => Err(e),
        }
    }

    /// True when `identity` is a customer participant of the conversation (listed, and not marked as an agent).
    /// Used when a session is rebuilt from its credential in the webchat mode, where Twilio chose the identity.
    pub async fn is_customer_participant(&self, conversation_sid: &str, identity: &str) -> Result<bool, CallError> {
        let url = format!("{}/{conversation_sid}/Participants?PageSize=100", self.conversations_url());
        let list = match self.client.get(LIST_PARTICIPANTS, &url).await {
            Ok(list) => list,
            Err(e) if e.is_not_found() => return Ok(false),
            Err(e) => return Err(e),
        };
        let participants = list.get("participants").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
        Ok(participants.iter().any(|p| {
            let attributes: Value = p.get("attributes").and_then(Value::as_str).and_then(|a| serde_json::from_str(a).ok()).unwrap_or(Value::Null);
            p.get("identity").and_then(Value::as_str) == Some(identity) && attributes.get("member_type").and_then(Value::as_str) != Some("agent")
        }))
    }

    /// The queue's live numbers for the chat task channel; `None` when no workspace/queue is configured.
    pub async fn availability(&self) -> Option<Result<Availability, CallError>> {
        let (ws, wq) = (self.config.workspace_sid.as_ref()?, self.config.queue_sid.as_ref()?);
        let url = format!(
            "{}/v1/Workspaces/{ws}/TaskQueues/{wq}/RealTimeStatistics?TaskChannel={TASK_CHANNEL}",
            self.config.taskrouter_api_url
        );
        Some(self.client.get(QUEUE_STATISTICS, &url).await.map(|s| availability_from(&s)))
    }
}

/// Reads taskrouter.v1.workspace.task_queue.task_queue_real_time_statistics. The description types the
/// `tasks_by_status` values as strings while its example has numbers, so both are read.
fn availability_from(stats: &Value) -> Availability {
    let count = |v: Option<&Value>| match v {
        Some(Value::Number(n)) => n.as_u64().unwrap_or(0),
        Some(Value::String(s)) => s.trim().parse().unwrap_or(0),
        _ => 0,
    };
    let by_status = stats.get("tasks_by_status");
    let status = |name: &str| count(by_status.and_then(|b| b.get(name)));
    Availability {
        // twilio-oai `task_queue_real_time_statistics.total_available_workers`: "Workers in the TaskQueue with an
        // `available` status [...] may already have active interactions or may have none" — agents online and
        // taking chats, busy or not; workers on a break or offline activity are not counted, as they take no chat.
        agents_available: count(stats.get("total_available_workers")) as u32,
        // Waiting = not yet accepted by an agent.
        tasks_waiting: (status("pending") + status("reserved")) as u32,
        longest_wait_seconds: count(stats.get("longest_task_waiting_age")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statistics_counts_are_read_as_numbers_or_strings() {
        let numbers = json!({"total_available_workers": 2, "tasks_by_status": {"pending": 3, "reserved": 1}, "longest_task_waiting_age": 40});
        let strings = json!({"total_available_workers": 2, "tasks_by_status": {"pending": "3", "reserved": "1"}, "longest_task_waiting_age": 40});
        let want = Availability { agents_available: 2, tasks_waiting: 4, longest_wait_seconds: 40 };
        assert_eq!(availability_from(&numbers), want);
        assert_eq!(availability_from(&strings), want);
    }
}
