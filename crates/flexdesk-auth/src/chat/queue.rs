//! A waiting customer's own place in the TaskRouter queue and the expected wait (`GET /v1/sessions/{id}/queue`).
//!
//! Three TaskRouter reads (twilio-oai `twilio_taskrouter_v1.json`; tests/contract checks each request):
//! 1. the chat's task: `ListTask` with `EvaluateTaskAttributes=conversationSid == "CH…"` ("Returns the Tasks that match
//!    the attributes specified in this parameter") and `AssignmentStatus=pending,reserved`. Flex's chat tasks carry
//!    the conversation in their `conversationSid` attribute (the spec's `CreateInteraction` example, and Flex's
//!    Interactions API page <https://www.twilio.com/docs/flex/developer/conversations/interactions-api/>), whatever
//!    started them (the Webchat orchestrator and Studio's "Send to Flex" create an interaction too). This works in
//!    every start mode, also for a session rebuilt from its credential. It is asked once per chat (issue 27): the
//!    task is remembered ([`QueueCache`]) and later polls find it in the queue's list (read 2), so a poll costs no
//!    call of its own and the calls per minute do not grow with the customers waiting. It is asked again only when
//!    the remembered task is no longer in a list read after it was found (assigned, cancelled, or moved to another
//!    queue by a transfer);
//! 2. the tasks waiting in that task's queue: `ListTask` with `TaskQueueSid`, `AssignmentStatus=pending,reserved` and
//!    `Ordering=Priority:desc,VirtualStartTime:asc` (LIFO queues: `VirtualStartTime:desc`), one page of up to
//!    [`QUEUE_PAGE_SIZE`] (the spec's `PageSize` maximum is 1000). Lists carry no attributes (the schema: "only
//!    displayed in FETCH action"), hence read 1. The queue's `task_order` (`FetchTaskQueue`: `FIFO` or `LIFO`) is read
//!    once per queue and cached like the list;
//! 3. the queue's recent acceptances: `FetchTaskQueueCumulativeStatistics` over [`STATISTICS_MINUTES`] on the chat
//!    task channel.
//!
//! The position rule, [`position`]: TaskRouter assigns "Higher priority tasks [...] before lower priority tasks,
//! regardless of the age of the lower-priority tasks" and "Among tasks of the same priority, the oldest task is always
//! assigned first" (<https://www.twilio.com/docs/taskrouter/api/task-queue>, "Task assignment precedence"), where age
//! is the task's `virtual_start_time` ("used in place of the task creation time", twilio-oai `CreateTask`; it defaults
//! to `date_created`). So the position is 1 + the waiting tasks of the same queue with a higher priority, or the same
//! priority and an earlier virtual start (within the same second, Twilio's list order decides). A LIFO queue
//! (`task_order`) assigns the newest first and ignores priority (the task-queue page, "Task assignment precedence").
//! The position is approximate when a workflow targets workers by expression: a task another worker cannot take may
//! sit ahead without being ahead.
//!
//! The estimate, [`estimated_wait`], is flexdesk's, not Twilio's: the queue served `reservations_accepted` tasks in the
//! last [`STATISTICS_MINUTES`], so it takes `position × window / reservations_accepted` seconds, no estimate when it
//! accepted none. Reads 2 and 3 are per queue, cached `AVAILABILITY_CACHE_SECONDS` and shared by every waiting
//! customer; read 1 is once per chat.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use flexdesk_core::wire::QueuePosition;
use jiff::Timestamp;
use serde_json::Value;
use tokio::sync::Mutex;

use crate::infra::config::Config;
use crate::twilio::client::{Operation, TwilioClient, CallError};

/// taskrouter v1 `ListTask` (the chat's own task).
const FIND_TASK: Operation = Operation::repeatable("find_task");
/// taskrouter v1 `ListTask` (the tasks waiting in a queue).
const LIST_WAITING: Operation = Operation::repeatable("list_waiting_tasks");
/// taskrouter v1 `FetchTaskQueue` (its `task_order`).
const FETCH_QUEUE: Operation = Operation::repeatable("fetch_task_queue");
/// taskrouter v1 `FetchTaskQueueCumulativeStatistics`.
const QUEUE_CUMULATIVE: Operation = Operation::repeatable("queue_cumulative_statistics");

/// How many waiting tasks one read covers; with more ahead, the position is unknown (`null`).
pub const QUEUE_PAGE_SIZE: u32 = 1000;
/// The statistics window of the estimate.
pub const STATISTICS_MINUTES: u64 = 30;
/// flexdesk's chats are routed on this task channel (as in flex.rs).
const TASK_CHANNEL: &str = "chat";

/// A task as the Tasks list shows it, reduced to what the position rule needs.
#[derive(Debug, Clone, PartialEq)]
pub struct WaitingTask {
    /// The task's SID (`WT…`).
    pub sid: String,
    /// TaskRouter priority: a higher one is offered first, whatever its age.
    pub priority: i64,
    /// `virtual_start_time` (else `date_created`); `None` when Twilio's date could not be read (then it counts as
    /// oldest).
    pub created: Option<Timestamp>,
    /// The TaskQueue (`WQ…`) the task waits in, when Twilio says.
    pub queue_sid: Option<String>,
}

impl WaitingTask {
    fn from_rest(v: &Value) -> Option<WaitingTask> {
        Some(WaitingTask {
            sid: v.get("sid")?.as_str()?.to_string(),
            priority: v.get("priority").and_then(Value::as_i64).unwrap_or(0),
            created: ["virtual_start_time", "date_created"].iter().find_map(|k| v.get(*k).and_then(Value::as_str).and_then(|d| d.parse().ok())),
            queue_sid: v.get("task_queue_sid").and_then(Value::as_str).map(String::from),
        })
    }
}

/// The queue's `task_order` (twilio-oai `taskqueue_enum_task_order`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskOrder {
    /// Priority first, then the oldest (the default).
    Fifo,
    /// The newest first, whatever the priority.
    Lifo,
}

impl TaskOrder {
    fn ordering(self) -> &'static str {
        match self {
            TaskOrder::Fifo => "Priority:desc,VirtualStartTime:asc",
            TaskOrder::Lifo => "VirtualStartTime:desc",
        }
    }
}

/// 1 + the tasks of `queue` (the queue's waiting tasks, in Twilio's list order) assigned before `mine`: FIFO, a
/// higher priority, or the same priority and an earlier start; LIFO, a later start. The same second is decided by the
/// list order (when `mine` is not in the list, a task of the same second is not counted). See the module comment for
/// the source.
pub fn position(mine: &WaitingTask, queue: &[WaitingTask], order: TaskOrder) -> u32 {
    let my_index = queue.iter().position(|t| t.sid == mine.sid);
    let (by_priority, newest_first) = match order {
        TaskOrder::Fifo => (true, false),
        TaskOrder::Lifo => (false, true),
    };
    let ahead = queue
        .iter()
        .enumerate()
        .filter(|(i, t)| {
            t.sid != mine.sid
                && ((by_priority && t.priority > mine.priority)
                    || ((!by_priority || t.priority == mine.priority)
                        && match (t.created, mine.created) {
                            (Some(a), Some(b)) if a != b => (a < b) != newest_first,
                            (Some(_), Some(_)) => my_index.is_some_and(|m| *i < m),
                            (None, Some(_)) => true,
                            (Some(_), None) => false,
                            (None, None) => my_index.is_some_and(|m| *i < m),
                        }))
        })
        .count();
    1 + ahead as u32
}

/// Seconds until `position` is served, at the pace the queue accepted tasks over the window (see the module comment):
/// `None` when it accepted none (nothing to go by).
pub fn estimated_wait(position: u32, reservations_accepted: u64, window_seconds: u64) -> Option<u64> {
    if reservations_accepted == 0 {
        return None;
    }
    Some((u64::from(position) * window_seconds).div_ceil(reservations_accepted))
}

/// A chat's waiting task(s) as read 1 found them, and when.
#[derive(Clone)]
struct Found {
    at: Instant,
    tasks: Vec<WaitingTask>,
    queue_sid: String,
}

/// How long a chat's task is remembered without a poll: a page that stopped polling (closed while waiting) is
/// forgotten after this, so the table holds only the chats still waiting.
const FORGET_AFTER: Duration = Duration::from_secs(600);

/// The per-queue reads (2 and 3), cached and shared by every waiting customer of this replica, and each waiting
/// chat's task (read 1), remembered by conversation SID.
pub struct QueueCache {
    ttl: Duration,
    waiting: Mutex<HashMap<String, (Instant, Vec<WaitingTask>)>>,
    accepted: Mutex<HashMap<String, (Instant, u64)>>,
    order: Mutex<HashMap<String, (Instant, TaskOrder)>>,
    /// conversation SID → (last poll, its task). A plain mutex: never held across a Twilio call.
    remembered: std::sync::Mutex<Remembered>,
}

/// The remembered tasks and when stale ones were last swept.
#[derive(Default)]
struct Remembered {
    by_conversation: HashMap<String, (Instant, Found)>,
    swept: Option<Instant>,
}

impl QueueCache {
    /// An empty cache whose reads live `ttl`.
    pub fn new(ttl: Duration) -> QueueCache {
        QueueCache { ttl, waiting: Mutex::default(), accepted: Mutex::default(), order: Mutex::default(), remembered: Default::default() }
    }

    fn remembered(&self, conversation_sid: &str) -> Option<Found> {
        let mut t = self.remembered.lock().unwrap_or_else(|e| e.into_inner());
        let entry = t.by_conversation.get_mut(conversation_sid)?;
        entry.0 = Instant::now();
        Some(entry.1.clone())
    }

    fn remember(&self, conversation_sid: &str, found: Option<Found>) {
        let mut t = self.remembered.lock().unwrap_or_else(|e| e.into_inner());
        match found {
            Some(f) => {
                t.by_conversation.insert(conversation_sid.to_string(), (Instant::now(), f));
            }
            None => {
                t.by_conversation.remove(conversation_sid);
            }
        }
        // A sweep at most once a minute keeps the cost of forgetting off each poll.
        if t.swept.is_none_or(|at| at.elapsed() > Duration::from_secs(60)) {
            t.by_conversation.retain(|_, (used, _)| used.elapsed() < FORGET_AFTER);
            t.swept = Some(Instant::now());
        }
    }
}

/// A count from Twilio's JSON, a number or a numeric string (as `availability_from` reads the real-time statistics).
fn count(v: Option<&Value>) -> u64 {
    match v {
        Some(Value::Number(n)) => n.as_u64().unwrap_or(0),
        Some(Value::String(s)) => s.trim().parse().unwrap_or(0),
        _ => 0,
    }
}

fn query(pairs: &[(&str, &str)]) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        s.append_pair(k, v);
    }
    s.finish()
}

/// The session's position and estimate; `None` when no workspace is configured (TaskRouter cannot be asked).
pub async fn read(client: &TwilioClient, config: &Config, cache: &QueueCache, conversation_sid: &str) -> Option<Result<QueuePosition, CallError>> {
    let ws = config.workspace_sid.as_ref()?;
    Some(read_in(client, config, cache, ws, conversation_sid).await)
}

async fn read_in(client: &TwilioClient, config: &Config, cache: &QueueCache, ws: &str, conversation_sid: &str) -> Result<QueuePosition, CallError> {
    let not_waiting = QueuePosition { waiting: false, position: None, estimated_wait_seconds: None };
    // The SID goes into an expression: it comes from our own signed credential, and only a SID's characters pass.
    if conversation_sid.is_empty() || !conversation_sid.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Ok(not_waiting);
    }
    let mut found = match cache.remembered(conversation_sid) {
        Some(f) => f,
        None => match find_task(client, config, cache, ws, conversation_sid).await? {
            Some(f) => f,
            None => return Ok(not_waiting),
        },
    };
    let mut asked = false;
    loop {
        let order = task_order(client, config, cache, ws, &found.queue_sid).await?;
        let (listed_at, waiting) = waiting_list(client, config, cache, ws, &found, order).await?;
        if let Some(best) = found.tasks.iter().filter(|m| waiting.iter().any(|t| t.sid == m.sid)).min_by_key(|m| position(m, &waiting, order)) {
            let place = position(best, &waiting, order);
            let accepted = accepted_recently(client, config, cache, ws, &found.queue_sid).await?;
            return Ok(QueuePosition { waiting: true, position: Some(place), estimated_wait_seconds: estimated_wait(place, accepted, STATISTICS_MINUTES * 60) });
        }
        if waiting.len() >= QUEUE_PAGE_SIZE as usize {
            // Waiting, but not within the first page of the queue: more than QUEUE_PAGE_SIZE tasks ahead.
            return Ok(QueuePosition { waiting: true, position: None, estimated_wait_seconds: None });
        }
        if asked || listed_at < found.at {
            // Just asked, or a list older than the task: nothing more to learn now.
            return Ok(not_waiting);
        }
        // Gone from a list read after it was found: assigned, cancelled or transferred. Asked once more.
        asked = true;
        found = match find_task(client, config, cache, ws, conversation_sid).await? {
            Some(f) => f,
            None => return Ok(not_waiting),
        };
    }
}

/// Read 1: the chat's waiting task(s), remembered for its later polls (forgotten when it has none).
async fn find_task(client: &TwilioClient, config: &Config, cache: &QueueCache, ws: &str, conversation_sid: &str) -> Result<Option<Found>, CallError> {
    let expression = format!("conversationSid == \"{conversation_sid}\"");
    let url = format!(
        "{}/v1/Workspaces/{ws}/Tasks?{}",
        config.taskrouter_api_url,
        query(&[("EvaluateTaskAttributes", &expression), ("AssignmentStatus", "pending"), ("AssignmentStatus", "reserved"), ("PageSize", "20")])
    );
    let at = Instant::now();
    let answer = client.get(FIND_TASK, &url).await?;
    // Several waiting tasks for one chat (a transfer to a queue): the one TaskRouter assigns first counts.
    let tasks: Vec<WaitingTask> = answer.get("tasks").and_then(Value::as_array).into_iter().flatten().filter_map(WaitingTask::from_rest).collect();
    // No task: with an agent already, not routed yet, or over.
    let queue_sid = tasks.iter().find_map(|t| t.queue_sid.clone()).or_else(|| config.queue_sid.as_ref().map(|q| q.to_string()));
    let found = queue_sid.filter(|_| !tasks.is_empty()).map(|queue_sid| Found { at, tasks, queue_sid });
    cache.remember(conversation_sid, found.clone());
    Ok(found)
}

/// The queue's `task_order`, cached per queue.
async fn task_order(client: &TwilioClient, config: &Config, cache: &QueueCache, ws: &str, queue_sid: &str) -> Result<TaskOrder, CallError> {
    let mut cached = cache.order.lock().await;
    if let Some((_, o)) = cached.get(queue_sid).filter(|(at, _)| at.elapsed() < cache.ttl) {
        return Ok(*o);
    }
    let q = client.get(FETCH_QUEUE, &format!("{}/v1/Workspaces/{ws}/TaskQueues/{queue_sid}", config.taskrouter_api_url)).await?;
    let o = if q.get("task_order").and_then(Value::as_str) == Some("LIFO") { TaskOrder::Lifo } else { TaskOrder::Fifo };
    cached.insert(queue_sid.to_string(), (Instant::now(), o));
    Ok(o)
}

/// Read 2, cached per queue, and when it was read. Read again when stale, or when it is older than the chat's task,
/// does not list it and is not a full page (a task newer than the list; past a full page it is simply far back).
async fn waiting_list(client: &TwilioClient, config: &Config, cache: &QueueCache, ws: &str, found: &Found, order: TaskOrder) -> Result<(Instant, Vec<WaitingTask>), CallError> {
    let mut cached = cache.waiting.lock().await;
    let fresh = cached.get(&found.queue_sid).filter(|(at, list)| {
        at.elapsed() < cache.ttl
            && (*at >= found.at || list.len() >= QUEUE_PAGE_SIZE as usize || found.tasks.iter().all(|m| list.iter().any(|t| t.sid == m.sid)))
    });
    if let Some((at, list)) = fresh {
        return Ok((*at, list.clone()));
    }
    let page = QUEUE_PAGE_SIZE.to_string();
    let url = format!(
        "{}/v1/Workspaces/{ws}/Tasks?{}",
        config.taskrouter_api_url,
        query(&[
            ("TaskQueueSid", &found.queue_sid),
            ("AssignmentStatus", "pending"),
            ("AssignmentStatus", "reserved"),
            ("Ordering", order.ordering()),
            ("PageSize", &page),
        ])
    );
    let at = Instant::now();
    let list = client.get(LIST_WAITING, &url).await?;
    let list: Vec<WaitingTask> = list.get("tasks").and_then(Value::as_array).into_iter().flatten().filter_map(WaitingTask::from_rest).collect();
    cached.retain(|_, (at, _)| at.elapsed() < cache.ttl);
    cached.insert(found.queue_sid.clone(), (at, list.clone()));
    Ok((at, list))
}

/// Read 3: the queue's acceptances over the statistics window, cached per queue.
async fn accepted_recently(client: &TwilioClient, config: &Config, cache: &QueueCache, ws: &str, queue_sid: &str) -> Result<u64, CallError> {
    let mut cached = cache.accepted.lock().await;
    if let Some((_, n)) = cached.get(queue_sid).filter(|(at, _)| at.elapsed() < cache.ttl) {
        return Ok(*n);
    }
    let minutes = STATISTICS_MINUTES.to_string();
    let url = format!(
        "{}/v1/Workspaces/{ws}/TaskQueues/{queue_sid}/CumulativeStatistics?{}",
        config.taskrouter_api_url,
        query(&[("Minutes", &minutes), ("TaskChannel", TASK_CHANNEL)])
    );
    let stats = client.get(QUEUE_CUMULATIVE, &url).await?;
    let n = count(stats.get("reservations_accepted"));
    cached.insert(queue_sid.to_string(), (Instant::now(), n));
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(sid: &str, priority: i64, created: &str) -> WaitingTask {
        WaitingTask { sid: sid.into(), priority, created: Some(created.parse().unwrap()), queue_sid: Some("WQ".into()) }
    }

    #[test]
    fn older_tasks_of_the_same_priority_are_ahead() {
        let a = task("WTa", 0, "2026-12-01T10:00:00Z");
        let b = task("WTb", 0, "2026-12-01T10:00:05Z");
        let c = task("WTc", 0, "2026-12-01T10:01:00Z");
        let queue = vec![a.clone(), b.clone(), c.clone()];
        assert_eq!(position(&a, &queue, TaskOrder::Fifo), 1);
        assert_eq!(position(&b, &queue, TaskOrder::Fifo), 2);
        assert_eq!(position(&c, &queue, TaskOrder::Fifo), 3);
        // The first is accepted: everyone moves up.
        let queue = vec![b.clone(), c.clone()];
        assert_eq!(position(&b, &queue, TaskOrder::Fifo), 1);
        assert_eq!(position(&c, &queue, TaskOrder::Fifo), 2);
    }

    #[test]
    fn a_higher_priority_is_ahead_whatever_its_age() {
        let old = task("WTold", 0, "2026-12-01T09:00:00Z");
        let urgent = task("WTurgent", 10, "2026-12-01T10:30:00Z");
        let low = task("WTlow", -1, "2026-12-01T08:00:00Z");
        // Whatever order the list comes in (the rule does not trust it, except within one second).
        let queue = vec![low.clone(), old.clone(), urgent.clone()];
        assert_eq!(position(&urgent, &queue, TaskOrder::Fifo), 1);
        assert_eq!(position(&old, &queue, TaskOrder::Fifo), 2);
        assert_eq!(position(&low, &queue, TaskOrder::Fifo), 3);
    }

    #[test]
    fn the_same_second_is_decided_by_the_list_order() {
        let a = task("WTa", 0, "2026-12-01T10:00:00Z");
        let b = task("WTb", 0, "2026-12-01T10:00:00Z");
        assert_eq!(position(&a, &[a.clone(), b.clone()], TaskOrder::Fifo), 1);
        assert_eq!(position(&b, &[a.clone(), b.clone()], TaskOrder::Fifo), 2);
        assert_eq!(position(&b, &[b.clone(), a.clone()], TaskOrder::Fifo), 1);
        // Not in the list (read before it existed): a task of the same second is not counted, older ones are.
        let older = task("WTo", 0, "2026-12-01T09:59:59Z");
        assert_eq!(position(&b, &[older, a], TaskOrder::Fifo), 2);
    }

    #[test]
    fn a_lifo_queue_serves_the_newest_first_whatever_the_priority() {
        let old = task("WTold", 10, "2026-12-01T09:00:00Z");
        let new = task("WTnew", 0, "2026-12-01T10:30:00Z");
        let queue = vec![new.clone(), old.clone()];
        assert_eq!(position(&new, &queue, TaskOrder::Lifo), 1);
        assert_eq!(position(&old, &queue, TaskOrder::Lifo), 2);
        assert_eq!(position(&old, &queue, TaskOrder::Fifo), 1, "FIFO: priority first");
    }

    #[test]
    fn the_virtual_start_time_is_the_age() {
        // twilio-oai CreateTask.VirtualStartTime: "used in place of the task creation time".
        let v = serde_json::json!({"sid": "WT1", "date_created": "2026-12-01T10:00:00Z", "virtual_start_time": "2026-12-01T08:00:00Z"});
        assert_eq!(WaitingTask::from_rest(&v).unwrap().created, Some("2026-12-01T08:00:00Z".parse().unwrap()));
    }

    #[test]
    fn the_estimate_follows_the_recent_pace_and_needs_one() {
        // 10 accepted in 30 minutes: one every 3 minutes.
        assert_eq!(estimated_wait(1, 10, 1800), Some(180));
        assert_eq!(estimated_wait(3, 10, 1800), Some(540));
        assert_eq!(estimated_wait(1, 7, 1800), Some(258), "rounded up");
        assert_eq!(estimated_wait(2, 0, 1800), None);
    }

    #[test]
    fn tasks_are_read_from_twilio_json() {
        let v = serde_json::json!({"sid": "WT1", "priority": 5, "date_created": "2014-05-14T14:26:54Z", "task_queue_sid": "WQ1", "attributes": null});
        let t = WaitingTask::from_rest(&v).unwrap();
        assert_eq!((t.sid.as_str(), t.priority, t.queue_sid.as_deref()), ("WT1", 5, Some("WQ1")));
        assert_eq!(t.created, Some("2014-05-14T14:26:54Z".parse().unwrap()));
        assert!(WaitingTask::from_rest(&serde_json::json!({"priority": 1})).is_none());
    }
}
