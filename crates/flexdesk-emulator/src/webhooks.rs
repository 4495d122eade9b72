//! Conversations post-event webhooks, signed as Twilio signs them.
//!
//! Twilio: a Conversations service's webhook configuration (`POST /v1/Services/{IS}/Configuration/Webhooks`,
//! `PostWebhookUrl`, `Filters`, `Method`; <https://www.twilio.com/docs/conversations/api/per-service-webhook-resource>)
//! says where the post-event webhooks of its conversations go and which fire
//! (<https://www.twilio.com/docs/conversations/conversations-webhooks>). Each request is form-encoded and carries
//! `X-Twilio-Signature`: base64 HMAC-SHA1, keyed with the account's Auth Token, of the URL followed by each
//! parameter's name and value in sorted name order (<https://www.twilio.com/docs/usage/webhooks/webhooks-security>).
//!
//! The emulator sends `onConversationStateUpdated` (`StateFrom`, `StateTo`, `Reason`, `StateUpdated`: the fields of
//! <https://events-schemas.twilio.com/Conversations.ConversationStateUpdated/1>) and `onConversationRemoved`, in the
//! order they happen, one at a time, with Twilio's 5-second timeout and no retry (emulator simplification).
//! Conveniences (not Twilio's): `EMULATOR_WEBHOOK_URL` configures the Flex service at start (filters
//! `onConversationStateUpdated,onConversationRemoved`), and `GET /admin/webhooks` lists what was sent.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use serde_json::{json, Value};
use tokio::sync::mpsc;

/// The events the emulator can send.
pub const STATE_UPDATED: &str = "onConversationStateUpdated";
pub const REMOVED: &str = "onConversationRemoved";

/// A service's webhook configuration (twilio-oai `conversations.v1.service.service_configuration.service_webhook_configuration`).
#[derive(Debug, Clone, Default)]
pub struct Target {
    pub pre_webhook_url: Option<String>,
    pub post_webhook_url: Option<String>,
    pub filters: Vec<String>,
    /// `POST` (default) or `GET`.
    pub method: String,
}

/// One webhook sent (for `GET /admin/webhooks`): enough to replay it exactly.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Delivery {
    pub event_type: String,
    pub conversation_sid: String,
    pub url: String,
    pub method: String,
    pub params: Vec<(String, String)>,
    pub signature: String,
    /// HTTP status of the answer; `None` when there was none (`error` says why).
    pub status: Option<u16>,
    pub error: Option<String>,
    /// Unix milliseconds when the answer came.
    pub answered_at_ms: u64,
}

struct Outgoing {
    url: String,
    method: String,
    params: Vec<(String, String)>,
    signature: String,
}

/// The workspace's event callback (twilio-oai taskrouter v1 `UpdateWorkspace`: `EventCallbackUrl`, and `EventsFilter`,
/// "The list of Workspace events for which to call event_callback_url. For example, if `EventsFilter=task.created,
/// task.canceled,worker.activity.update`, then TaskRouter will call event_callback_url only when a task is created,
/// canceled, or a Worker activity is updated").
#[derive(Debug, Clone, Default)]
pub struct WorkspaceEvents {
    pub url: Option<String>,
    /// `None`: every event.
    pub filter: Option<Vec<String>>,
}

#[derive(Default)]
pub struct Webhooks {
    /// Service SID → its webhook configuration.
    targets: Mutex<HashMap<String, Target>>,
    /// The one workspace's event callback.
    workspace: Mutex<WorkspaceEvents>,
    queue: OnceLock<mpsc::UnboundedSender<Outgoing>>,
    deliveries: Mutex<VecDeque<Delivery>>,
}

const KEPT_DELIVERIES: usize = 500;

impl Webhooks {
    pub fn target(&self, service_sid: &str) -> Target {
        self.targets.lock().unwrap_or_else(|e| e.into_inner()).get(service_sid).cloned().unwrap_or_else(|| Target { method: "POST".into(), ..Target::default() })
    }

    pub fn set_target(&self, service_sid: &str, target: Target) {
        self.targets.lock().unwrap_or_else(|e| e.into_inner()).insert(service_sid.to_string(), target);
    }

    pub fn workspace_events(&self) -> WorkspaceEvents {
        self.workspace.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub fn set_workspace_events(&self, events: WorkspaceEvents) {
        *self.workspace.lock().unwrap_or_else(|e| e.into_inner()) = events;
    }

    /// Queues TaskRouter's `event` about `t` for the workspace's `EventCallbackUrl` (when set and its filter allows the
    /// event): POSTed, form-encoded, signed like every Twilio webhook. The parameters every event has, from the events
    /// reference (<https://www.twilio.com/docs/taskrouter/api/event/reference>, "Event Callbacks": `EventType`,
    /// `AccountSid`, `WorkspaceSid`, `WorkspaceName`, `EventDescription`, `ResourceType`, `ResourceSid`, `Timestamp`), then
    /// the task's: the reference lists them as "Task" without naming each; the names here are the Event Streams
    /// schema's (<https://www.twilio.com/docs/events/event-types/taskrouter/reservation>: `task_sid`, `task_attributes`,
    /// `task_age`, `task_assignment_status`, `task_canceled_reason`, `task_channel_unique_name`, …) in the callback's
    /// capitalised form (`TaskSid`, `TaskAge`, …: the emulator's reading), plus `TaskQueueSid` (listed for reservation
    /// events) and, for `task-queue.entered`, `TaskQueueName`. One queue, one workflow (rest_tasks.rs).
    pub fn notify_taskrouter(&self, config: &crate::config::Config, event: &str, t: &crate::state::Task, now: u64) {
        let WorkspaceEvents { url, filter } = self.workspace_events();
        let Some(url) = url.filter(|_| filter.as_ref().map_or(true, |f| f.iter().any(|e| e == event))) else { return };
        let Some(queue) = self.queue.get() else { return };
        let reservation = event.starts_with("reservation.");
        let mut params: Vec<(String, String)> = vec![
            ("EventType".into(), event.into()),
            ("AccountSid".into(), config.account_sid.clone()),
            ("WorkspaceSid".into(), config.workspace_sid.clone()),
            ("WorkspaceName".into(), "Flex Task Assignment (emulator)".into()),
            ("EventDescription".into(), format!("Task {} {event}", t.sid)),
            ("ResourceType".into(), if reservation { "Reservation" } else { "Task" }.into()),
            ("ResourceSid".into(), t.sid.clone()),
            ("Timestamp".into(), now.to_string()),
            ("TaskSid".into(), t.sid.clone()),
            ("TaskAttributes".into(), t.attributes.to_string()),
            ("TaskAge".into(), now.saturating_sub(t.date_created).to_string()),
            ("TaskPriority".into(), "0".into()),
            ("TaskAssignmentStatus".into(), t.status.as_str().into()),
            ("TaskChannelUniqueName".into(), t.task_channel.clone()),
            ("TaskQueueSid".into(), config.queue_sid.clone()),
        ];
        if event == "task-queue.entered" {
            params.push(("TaskQueueName".into(), "Everyone (emulator)".into()));
        }
        if event == "task.canceled" {
            params.push(("TaskCanceledReason".into(), "Task canceled".into()));
        }
        let signature = twilio_model::webhook::signature(config.auth_token.as_bytes(), &url, &params);
        let _ = queue.send(Outgoing { url, method: "POST".into(), params, signature });
    }

    pub fn deliveries(&self) -> Vec<Delivery> {
        self.deliveries.lock().unwrap_or_else(|e| e.into_inner()).iter().cloned().collect()
    }

    pub fn clear_deliveries(&self) {
        self.deliveries.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }

    /// Queues `event` for the service's post-event URL when its filters include it. `params` come without
    /// `EventType`, `AccountSid`, `ChatServiceSid` (added here).
    pub fn notify(&self, auth_token: &str, account_sid: &str, service_sid: &str, event: &str, mut params: Vec<(String, String)>) {
        let target = self.target(service_sid);
        let Some(url) = target.post_webhook_url.filter(|_| target.filters.iter().any(|f| f == event)) else { return };
        let Some(queue) = self.queue.get() else { return };
        params.push(("EventType".into(), event.into()));
        params.push(("AccountSid".into(), account_sid.into()));
        params.push(("ChatServiceSid".into(), service_sid.into()));
        params.push(("Source".into(), "API".into()));
        params.push(("RetryCount".into(), "0".into()));
        // GET puts the parameters in the query string, and then the URL alone is signed.
        let (url, signed_params) = if target.method.eq_ignore_ascii_case("GET") {
            let query = form_urlencoded::Serializer::new(String::new()).extend_pairs(&params).finish();
            let sep = if url.contains('?') { '&' } else { '?' };
            (format!("{url}{sep}{query}"), Vec::new())
        } else {
            (url, params.clone())
        };
        let signature = twilio_model::webhook::signature(auth_token.as_bytes(), &url, &signed_params);
        let _ = queue.send(Outgoing { url, method: target.method.to_ascii_uppercase(), params: signed_params, signature });
    }

    fn record(&self, d: Delivery) {
        let mut deliveries = self.deliveries.lock().unwrap_or_else(|e| e.into_inner());
        if deliveries.len() == KEPT_DELIVERIES {
            deliveries.pop_front();
        }
        deliveries.push_back(d);
    }
}

/// Starts the task that sends the queued webhooks in order (must run inside a tokio runtime).
pub fn start(emu: &crate::state::Shared) {
    let (tx, mut rx) = mpsc::unbounded_channel::<Outgoing>();
    if emu.webhooks.queue.set(tx).is_err() {
        return;
    }
    let weak = std::sync::Arc::downgrade(emu);
    tokio::spawn(async move {
        // Twilio waits 5 s for an answer (conversations-webhooks page).
        let http = reqwest::Client::builder().timeout(Duration::from_secs(5)).redirect(reqwest::redirect::Policy::none()).build().expect("reqwest client");
        while let Some(out) = rx.recv().await {
            let request = if out.method == "GET" { http.get(&out.url) } else { http.post(&out.url).form(&out.params) };
            let answer = request.header("X-Twilio-Signature", &out.signature).header("User-Agent", "TwilioProxy/1.1").send().await;
            let Some(emu) = weak.upgrade() else { return };
            let get = |name: &str| out.params.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
            let (status, error) = match answer {
                Ok(r) => (Some(r.status().as_u16()), None),
                Err(e) => (None, Some(e.to_string())),
            };
            if error.is_some() || status.is_some_and(|s| s >= 300) {
                tracing::warn!(url = out.url, ?status, ?error, "webhook not accepted");
            }
            emu.webhooks.record(Delivery {
                event_type: get("EventType").unwrap_or_else(|| query_value(&out.url, "EventType")),
                conversation_sid: get("ConversationSid").unwrap_or_else(|| query_value(&out.url, "ConversationSid")),
                url: out.url,
                method: out.method,
                params: out.params,
                signature: out.signature,
                status,
                error,
                answered_at_ms: crate::util::now_millis(),
            });
        }
    });
}

fn query_value(url: &str, name: &str) -> String {
    url.split_once('?').map(|(_, q)| form_urlencoded::parse(q.as_bytes()).find(|(k, _)| k == name).map(|(_, v)| v.into_owned()).unwrap_or_default()).unwrap_or_default()
}

/// twilio-oai `conversations.v1.service.service_configuration.service_webhook_configuration`.
pub fn target_json(account_sid: &str, service_sid: &str, base_url: &str, t: &Target) -> Value {
    json!({
        "account_sid": account_sid,
        "chat_service_sid": service_sid,
        "pre_webhook_url": t.pre_webhook_url,
        "post_webhook_url": t.post_webhook_url,
        "filters": t.filters,
        "method": t.method,
        "url": format!("{base_url}/v1/Services/{service_sid}/Configuration/Webhooks"),
    })
}
