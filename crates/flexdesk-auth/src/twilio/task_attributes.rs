//! The Twilio calls a rating makes (issue 28, `chat::rating`): when the chat's conversation closed, the chat's task, and
//! an update of that task's attributes. Paths, parameters and fields follow twilio-oai (`twilio_conversations_v1.json`
//! `FetchServiceConversation`; `twilio_taskrouter_v1.json` `ListTask`, `FetchTask`, `UpdateTask`); tests/contract checks
//! each request against it.

use serde_json::Value;

use crate::twilio::client::{CallError, Operation};
use crate::twilio::flex::Flex;

/// conversations v1 `FetchServiceConversation` (its state and `date_updated`).
const GET_CONVERSATION: Operation = Operation::repeatable("get_conversation");
/// taskrouter v1 `ListTask` (the chat's newest task, whatever its status).
const FIND_RATED_TASK: Operation = Operation::repeatable("find_rated_task");
/// taskrouter v1 `FetchTask` (its attributes: lists carry none).
const FETCH_TASK: Operation = Operation::repeatable("fetch_task");
/// taskrouter v1 `UpdateTask` (`Attributes`). Sent again only when Twilio proves it did nothing (429, 503): the same
/// attributes twice would do no harm, but a retry after a timeout could overwrite an agent's change made meanwhile.
const UPDATE_TASK: Operation = Operation::create("update_task_attributes");

/// A conversation as a rating needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConversationEnd {
    /// Still `active` or `inactive`.
    Open,
    /// `closed`; since its `date_updated` (Unix seconds; closing is its last change), when Twilio gave one.
    Closed(Option<u64>),
    /// Deleted (404).
    Gone,
}

impl Flex<'_> {
    /// Whether the chat's conversation is closed, and since when.
    pub async fn conversation_end(&self, conversation_sid: &str) -> Result<ConversationEnd, CallError> {
        let url = format!("{}/v1/Services/{}/Conversations/{conversation_sid}", self.config.conversations_api_url, self.config.conversations_service_sid);
        match self.client.get(GET_CONVERSATION, &url).await {
            Ok(c) if c.get("state").and_then(Value::as_str) == Some("closed") => {
                let at = c.get("date_updated").and_then(Value::as_str).and_then(|d| d.parse::<jiff::Timestamp>().ok());
                Ok(ConversationEnd::Closed(at.map(|t| t.as_second().max(0) as u64)))
            }
            Ok(_) => Ok(ConversationEnd::Open),
            Err(e) if e.is_not_found() => Ok(ConversationEnd::Gone),
            Err(e) => Err(e),
        }
    }

    /// The chat's newest TaskRouter task (SID and attributes), whatever its status: after a transfer Flex gives the
    /// chat a new task, and the newest is the part the customer ended with. `None` when TaskRouter has none (never
    /// routed, or deleted five minutes after it ended).
    pub async fn newest_chat_task(&self, workspace_sid: &str, conversation_sid: &str) -> Result<Option<(String, Value)>, CallError> {
        // The SID goes into an expression: only a SID's characters pass.
        if conversation_sid.is_empty() || !conversation_sid.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Ok(None);
        }
        let tasks_url = format!("{}/v1/Workspaces/{workspace_sid}/Tasks", self.config.taskrouter_api_url);
        let query = {
            let mut q = form_urlencoded::Serializer::new(String::new());
            q.append_pair("EvaluateTaskAttributes", &format!("conversationSid == \"{conversation_sid}\""));
            // twilio-oai `ListTask` `Ordering`: "`{Attribute}:{Order}`", attributes `DateCreated`, `Priority`,
            // `VirtualStartTime`.
            q.append_pair("Ordering", "DateCreated:desc");
            q.append_pair("PageSize", "20");
            q.finish()
        };
        let list = self.client.get(FIND_RATED_TASK, &format!("{tasks_url}?{query}")).await?;
        let Some(sid) = list.pointer("/tasks/0/sid").and_then(Value::as_str).filter(|s| s.bytes().all(|b| b.is_ascii_alphanumeric())) else {
            return Ok(None);
        };
        let task = match self.client.get(FETCH_TASK, &format!("{tasks_url}/{sid}")).await {
            Ok(t) => t,
            Err(e) if e.is_not_found() => return Ok(None),
            Err(e) => return Err(e),
        };
        let attributes = task.get("attributes").and_then(Value::as_str).and_then(|a| serde_json::from_str(a).ok()).unwrap_or(Value::Null);
        Ok(Some((sid.to_string(), attributes)))
    }

    /// Replaces the task's attributes (`UpdateTask` `Attributes`: the whole JSON string; read, changed, written back).
    pub async fn update_task_attributes(&self, workspace_sid: &str, task_sid: &str, attributes: &Value) -> Result<(), CallError> {
        let url = format!("{}/v1/Workspaces/{workspace_sid}/Tasks/{task_sid}", self.config.taskrouter_api_url);
        self.client.post_form(UPDATE_TASK, &url, &[("Attributes", attributes.to_string())]).await.map(drop)
    }
}
