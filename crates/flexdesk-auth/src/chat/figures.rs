//! Live figures of the chat queues (issue 28, item 3): how long customers wait for an agent, how many give up first and
//! why, how long chats with an agent last; as Prometheus metrics (`infra::metrics`) and, for the last hour, as the
//! admin listener's `/status` page (`http::routes::status`).
//!
//! The source is TaskRouter's own clock: the workspace's event callbacks (`EventCallbackUrl`; the events and their
//! fields: <https://www.twilio.com/docs/taskrouter/api/event/reference>), posted to `POST /v1/twilio/webhooks` and
//! signature-checked there like the Conversations webhooks:
//! - `task-queue.entered` (`TaskQueueSid`, `TaskQueueName`): the chat waits in that queue;
//! - `reservation.accepted` (`TaskAge`, the task's age in seconds): an agent took it, after waiting `TaskAge`;
//! - `task.canceled`: it ended before any agent took it (a task that was assigned only ever completes: "After a Task
//!   has been assigned, it will only terminate at completed", <https://www.twilio.com/docs/taskrouter/lifecycle-task-state>);
//! - `task.wrapup`, else `task.completed`: the chat with the agent is over (Flex puts a chat's task in wrap-up when its
//!   conversation closes, and completes it when the agent finishes).
//!
//! Only chat tasks count: those on the `chat` task channel (`TaskChannelUniqueName`) whose attributes name a
//! conversation (`conversationSid`), whoever started them. Why a chat was abandoned is what this server knows: it
//! ended the chat for the customer ([`AbandonReason::Customer`]; the tab-closed and idle ends of issue 28, item 1 report
//! theirs the same way, [`Figures::ended`]); a cancel it did not cause is Flex's ([`AbandonReason::Flex`]: the task's
//! timeout, the workflow's last step, an agent-side close).
//!
//! Per process: each replica counts the events Twilio posts to it (one `EventCallbackUrl`, so behind a load balancer
//! each event reaches one replica; Prometheus sums the replicas, while `/status` shows one replica's share).
//! Memory is bounded: a task is forgotten a day after it entered a queue (TaskRouter's default task timeout; an ended
//! one is kept until then, so a late or repeated event counts nothing twice), at most `MAX_TASKS` (100 000) of them, and the
//! last hour's outcomes are kept for `/status` only.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};

use serde_json::Value;

use crate::infra::metrics::Metrics;

/// Why a chat ended before an agent took it (`flexdesk_chats_abandoned_total{reason}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AbandonReason {
    /// The customer ended it (`DELETE /v1/sessions/{id}`).
    Customer,
    /// Every tab of the chat went away (issue 28, item 1).
    TabClosed,
    /// The customer stayed silent too long (issue 28, item 1).
    Idle,
    /// Not this server: Flex or TaskRouter canceled the task (timeout, workflow, an agent-side close).
    Flex,
}

impl AbandonReason {
    /// The label value.
    pub const fn as_str(self) -> &'static str {
        match self {
            AbandonReason::Customer => "customer",
            AbandonReason::TabClosed => "tab_closed",
            AbandonReason::Idle => "idle",
            AbandonReason::Flex => "flex",
        }
    }
}

/// How long the `/status` page looks back.
pub const STATUS_WINDOW_SECONDS: u64 = 3600;
/// A task no event finished is forgotten this long after it entered its queue (TaskRouter's default task timeout,
/// twilio-oai `CreateTask` `Timeout`: "defaults to 86400 seconds").
const FORGET_TASK_SECONDS: u64 = 86_400;
/// Most tasks remembered; older ones go first when full.
const MAX_TASKS: usize = 100_000;
/// A chat this server ended is remembered this long for its `task.canceled` (which follows within seconds).
const FORGET_ENDED_SECONDS: u64 = 600;

/// One chat task as the events told it.
#[derive(Debug, Clone)]
struct Seen {
    queue_sid: String,
    conversation: Option<String>,
    entered_at: u64,
    accepted_at: Option<u64>,
    /// Its end was counted (abandoned, or the chat's duration).
    finished: bool,
}

/// An outcome within the last hour, for `/status`.
#[derive(Debug, Clone)]
struct Done {
    at: u64,
    queue_sid: String,
    /// `Some(wait)`: answered after `wait` seconds; `None`: abandoned.
    wait: Option<u64>,
}

#[derive(Default)]
struct Inner {
    tasks: HashMap<String, Seen>,
    /// The tasks waiting now, by queue SID: kept as the events come, so counting them scans nothing.
    waiting: HashMap<String, HashSet<String>>,
    queue_names: HashMap<String, String>,
    ended: HashMap<String, (AbandonReason, u64)>,
    last_hour: VecDeque<Done>,
    pruned_at: u64,
}

/// The figures of this process (see the module's documentation).
pub struct Figures {
    inner: Mutex<Inner>,
    metrics: Arc<Metrics>,
}

/// One queue's figures over the last hour, for `/status`.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueStatus {
    /// The queue's name (`TaskQueueName`), else its SID.
    pub queue: String,
    /// Chats waiting in it now.
    pub waiting_now: usize,
    /// The longest of those waits so far, seconds.
    pub longest_waiting: Option<u64>,
    /// Waits of the chats an agent took in the last hour, seconds, shortest first.
    pub waits: Vec<u64>,
    /// Chats abandoned in the last hour.
    pub abandoned: usize,
}

impl QueueStatus {
    /// Chats an agent took in the last hour.
    pub fn answered(&self) -> usize {
        self.waits.len()
    }

    /// The `p`-th percentile wait (nearest rank: the smallest wait with at least `p` of the waits at or below it).
    pub fn percentile(&self, p: f64) -> Option<u64> {
        percentile(&self.waits, p)
    }

    /// Abandoned ÷ (answered + abandoned) over the last hour; `None` with neither.
    pub fn abandonment_rate(&self) -> Option<f64> {
        let all = self.answered() + self.abandoned;
        (all > 0).then(|| self.abandoned as f64 / all as f64)
    }
}

/// Nearest-rank percentile of sorted `values`.
pub fn percentile(values: &[u64], p: f64) -> Option<u64> {
    if values.is_empty() {
        return None;
    }
    let rank = ((p * values.len() as f64).ceil() as usize).clamp(1, values.len());
    Some(values[rank - 1])
}

impl Figures {
    /// Figures that report to `metrics`.
    pub fn new(metrics: Arc<Metrics>) -> Figures {
        Figures { inner: Mutex::default(), metrics }
    }

    /// This server ended the chat of `conversation_sid` at `now`, for `reason`: if its task is then canceled (no agent
    /// had it), the abandonment counts with that reason.
    pub fn ended(&self, conversation_sid: &str, reason: AbandonReason, now: u64) {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        // (Pruned here too: without TaskRouter's events nothing else would forget these.)
        inner.prune(now);
        inner.ended.insert(conversation_sid.to_string(), (reason, now));
    }

    /// A verified TaskRouter event (`get` reads its form parameters). Events of other task channels, or of tasks that
    /// name no conversation, change nothing.
    pub fn taskrouter_event(&self, get: &dyn Fn(&str) -> Option<String>, now: u64) {
        let Some(event) = get("EventType") else { return };
        let Some(task_sid) = get("TaskSid") else { return };
        if get("TaskChannelUniqueName").is_some_and(|c| c != "chat") {
            return;
        }
        let conversation = get("TaskAttributes")
            .and_then(|a| serde_json::from_str::<Value>(&a).ok())
            .and_then(|a| a.get("conversationSid").and_then(Value::as_str).map(str::to_string));
        let task_age = get("TaskAge").and_then(|a| a.trim().parse::<u64>().ok());
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner.prune(now);
        if let (Some(sid), Some(name)) = (get("TaskQueueSid"), get("TaskQueueName")) {
            inner.queue_names.insert(sid, name);
        }
        let known = inner.tasks.contains_key(&task_sid);
        if !known && conversation.is_none() {
            return;
        }
        let queue_sid = get("TaskQueueSid");
        let touched: Option<String> = match event.as_str() {
            "task-queue.entered" => {
                let Some(queue_sid) = queue_sid else { return };
                if inner.tasks.len() >= MAX_TASKS {
                    inner.forget_oldest();
                }
                let entered_at = now.saturating_sub(task_age.unwrap_or(0));
                let seen = Seen { queue_sid: queue_sid.clone(), conversation, entered_at, accepted_at: None, finished: false };
                // (Moved from another queue: it waits in this one now.)
                inner.stop_waiting(&task_sid);
                let moved_from = inner.tasks.insert(task_sid.clone(), seen).map(|old| old.queue_sid).filter(|q| *q != queue_sid);
                inner.waiting.entry(queue_sid.clone()).or_default().insert(task_sid);
                if let Some(old) = moved_from {
                    let label = inner.label(&old);
                    self.metrics.set_waiting(&label, inner.waiting_in(&old));
                }
                Some(queue_sid)
            }
            "reservation.accepted" => {
                let seen = inner.tasks.entry(task_sid.clone()).or_insert_with(|| Seen {
                    queue_sid: queue_sid.clone().unwrap_or_else(|| "unknown".into()),
                    conversation,
                    entered_at: now.saturating_sub(task_age.unwrap_or(0)),
                    accepted_at: None,
                    finished: false,
                });
                if seen.accepted_at.is_some() {
                    return;
                }
                seen.accepted_at = Some(now);
                let wait = task_age.unwrap_or(now.saturating_sub(seen.entered_at));
                let queue_sid = seen.queue_sid.clone();
                inner.stop_waiting(&task_sid);
                self.metrics.record_answered(&inner.label(&queue_sid), wait);
                inner.last_hour.push_back(Done { at: now, queue_sid: queue_sid.clone(), wait: Some(wait) });
                Some(queue_sid)
            }
            "task.canceled" => {
                inner.stop_waiting(&task_sid);
                let seen = inner.tasks.remove(&task_sid);
                if seen.as_ref().is_some_and(|s| s.accepted_at.is_some() || s.finished) {
                    return;
                }
                let queue_sid = seen.as_ref().map(|s| s.queue_sid.clone()).or(queue_sid).unwrap_or_else(|| "unknown".into());
                let conversation = seen.and_then(|s| s.conversation).or(conversation);
                let reason = conversation.and_then(|c| inner.ended.remove(&c)).map_or(AbandonReason::Flex, |(r, _)| r);
                self.metrics.record_abandoned(&inner.label(&queue_sid), reason.as_str());
                inner.last_hour.push_back(Done { at: now, queue_sid: queue_sid.clone(), wait: None });
                Some(queue_sid)
            }
            "task.wrapup" | "task.completed" => {
                let Some(seen) = inner.tasks.get_mut(&task_sid) else { return };
                let duration = match (seen.accepted_at, seen.finished) {
                    (Some(at), false) => Some(now.saturating_sub(at)),
                    _ => None,
                };
                seen.finished = true;
                let queue_sid = seen.queue_sid.clone();
                inner.stop_waiting(&task_sid);
                if let Some(d) = duration {
                    self.metrics.record_chat_duration(&inner.label(&queue_sid), d);
                }
                Some(queue_sid)
            }
            "task.deleted" => {
                inner.stop_waiting(&task_sid);
                inner.tasks.remove(&task_sid).map(|s| s.queue_sid)
            }
            _ => None,
        };
        if let Some(queue_sid) = touched {
            self.metrics.set_waiting(&inner.label(&queue_sid), inner.waiting_in(&queue_sid));
        }
    }

    /// Every queue seen, with its figures over the last hour, by name.
    pub fn status(&self, now: u64) -> Vec<QueueStatus> {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner.prune(now);
        let mut by_queue: HashMap<String, QueueStatus> = HashMap::new();
        let inner = &*inner;
        for (queue_sid, tasks) in inner.waiting.iter().filter(|(_, t)| !t.is_empty()) {
            let q = by_queue.entry(queue_sid.clone()).or_insert_with(|| empty(inner.label(queue_sid)));
            q.waiting_now = tasks.len();
            q.longest_waiting = tasks.iter().filter_map(|t| inner.tasks.get(t)).map(|t| now.saturating_sub(t.entered_at)).max();
        }
        for d in inner.last_hour.iter().filter(|d| now.saturating_sub(d.at) <= STATUS_WINDOW_SECONDS) {
            let q = by_queue.entry(d.queue_sid.clone()).or_insert_with(|| empty(inner.label(&d.queue_sid)));
            match d.wait {
                Some(w) => q.waits.push(w),
                None => q.abandoned += 1,
            }
        }
        let mut queues: Vec<QueueStatus> = by_queue.into_values().collect();
        for q in &mut queues {
            q.waits.sort_unstable();
        }
        queues.sort_by(|a, b| a.queue.cmp(&b.queue));
        queues
    }
}

fn empty(queue: String) -> QueueStatus {
    QueueStatus { queue, waiting_now: 0, longest_waiting: None, waits: Vec::new(), abandoned: 0 }
}

impl Inner {
    fn label(&self, queue_sid: &str) -> String {
        self.queue_names.get(queue_sid).cloned().unwrap_or_else(|| queue_sid.to_string())
    }

    /// The task no longer waits (wherever it waited).
    fn stop_waiting(&mut self, task_sid: &str) {
        if let Some(queue) = self.tasks.get(task_sid).map(|t| t.queue_sid.clone()) {
            if let Some(set) = self.waiting.get_mut(&queue) {
                set.remove(task_sid);
            }
        }
    }

    fn waiting_in(&self, queue_sid: &str) -> usize {
        self.waiting.get(queue_sid).map_or(0, HashSet::len)
    }

    /// Forgets what is too old, at most once a minute. (A task forgotten while it waits leaves the count here; the
    /// gauge follows at its queue's next event.)
    fn prune(&mut self, now: u64) {
        if now < self.pruned_at.saturating_add(60) {
            return;
        }
        self.pruned_at = now;
        self.tasks.retain(|_, t| now.saturating_sub(t.entered_at) < FORGET_TASK_SECONDS);
        let tasks = &self.tasks;
        for set in self.waiting.values_mut() {
            set.retain(|t| tasks.contains_key(t));
        }
        self.ended.retain(|_, (_, at)| now.saturating_sub(*at) < FORGET_ENDED_SECONDS);
        while self.last_hour.front().is_some_and(|d| now.saturating_sub(d.at) > STATUS_WINDOW_SECONDS) {
            self.last_hour.pop_front();
        }
    }

    fn forget_oldest(&mut self) {
        if let Some(oldest) = self.tasks.iter().min_by_key(|(_, t)| t.entered_at).map(|(k, _)| k.clone()) {
            self.stop_waiting(&oldest);
            self.tasks.remove(&oldest);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Event(Vec<(&'static str, String)>);

    fn event(kind: &str, task: &str, extra: &[(&'static str, &str)]) -> Event {
        let mut p = vec![
            ("EventType", kind.to_string()),
            ("TaskSid", task.to_string()),
            ("TaskChannelUniqueName", "chat".to_string()),
            ("TaskAttributes", format!(r#"{{"conversationSid":"CH{task}"}}"#)),
        ];
        p.extend(extra.iter().map(|(k, v)| (*k, v.to_string())));
        Event(p)
    }

    fn feed(f: &Figures, e: Event, now: u64) {
        let get = move |k: &str| e.0.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone());
        f.taskrouter_event(&get, now);
    }

    fn entered(task: &str) -> Event {
        event("task-queue.entered", task, &[("TaskQueueSid", "WQ1"), ("TaskQueueName", "Support"), ("TaskAge", "0")])
    }

    #[test]
    fn waits_abandonments_and_durations_per_queue() {
        let metrics = Arc::new(Metrics::default());
        let f = Figures::new(metrics.clone());
        // Three chats wait; the first is taken after 40 s (TaskRouter's TaskAge), the second after 100 s.
        for t in ["1", "2", "3", "4"] {
            feed(&f, entered(t), 1_000);
        }
        feed(&f, event("reservation.accepted", "1", &[("TaskQueueSid", "WQ1"), ("TaskAge", "40")]), 1_040);
        feed(&f, event("reservation.accepted", "2", &[("TaskQueueSid", "WQ1"), ("TaskAge", "100")]), 1_100);
        // The third customer ends while waiting (this server ended it), the fourth is canceled by Flex.
        f.ended("CH3", AbandonReason::Customer, 1_200);
        feed(&f, event("task.canceled", "3", &[]), 1_201);
        feed(&f, event("task.canceled", "4", &[("TaskCanceledReason", "Task TTL Exceeded")]), 1_300);
        // The first chat ends 5 minutes after the agent took it; a repeated event counts nothing more.
        feed(&f, event("task.wrapup", "1", &[]), 1_340);
        feed(&f, event("task.completed", "1", &[]), 1_400);
        feed(&f, event("task.canceled", "1", &[]), 1_401);
        // Another channel's task is none of ours.
        feed(&f, Event(vec![("EventType", "task-queue.entered".into()), ("TaskSid", "9".into()), ("TaskChannelUniqueName", "voice".into()), ("TaskQueueSid", "WQ1".into()), ("TaskAttributes", r#"{"conversationSid":"CH9"}"#.into())]), 1_402);

        let status = f.status(1_500);
        assert_eq!(status.len(), 1);
        let q = &status[0];
        assert_eq!((q.queue.as_str(), q.waiting_now, q.answered(), q.abandoned), ("Support", 0, 2, 2));
        assert_eq!((q.percentile(0.5), q.percentile(0.9)), (Some(40), Some(100)));
        assert_eq!(q.abandonment_rate(), Some(0.5));
        let text = metrics.render(0);
        for line in [
            r#"flexdesk_queue_wait_seconds_bucket{le="60.0",queue="Support"} 1"#,
            r#"flexdesk_queue_wait_seconds_count{queue="Support"} 2"#,
            r#"flexdesk_chats_answered_total{queue="Support"} 2"#,
            r#"flexdesk_chats_abandoned_total{queue="Support",reason="customer"} 1"#,
            r#"flexdesk_chats_abandoned_total{queue="Support",reason="flex"} 1"#,
            r#"flexdesk_chat_duration_seconds_sum{queue="Support"} 300.0"#,
            r#"flexdesk_chat_duration_seconds_count{queue="Support"} 1"#,
            r#"flexdesk_chats_waiting{queue="Support"} 0"#,
        ] {
            assert!(text.contains(line), "{line} in\n{text}");
        }
    }

    #[test]
    fn waiting_now_and_the_hour_window() {
        let f = Figures::new(Arc::new(Metrics::default()));
        feed(&f, entered("1"), 1_000);
        feed(&f, entered("2"), 1_030);
        let q = &f.status(1_090)[0];
        assert_eq!((q.waiting_now, q.longest_waiting), (2, Some(90)));
        feed(&f, event("reservation.accepted", "1", &[("TaskAge", "100")]), 1_100);
        assert_eq!(f.status(1_100)[0].answered(), 1);
        assert_eq!(f.status(1_100 + STATUS_WINDOW_SECONDS + 1)[0].answered(), 0, "older than an hour");
    }

    #[test]
    fn a_task_moved_to_another_queue_waits_there_only() {
        let metrics = Arc::new(Metrics::default());
        let f = Figures::new(metrics.clone());
        feed(&f, entered("1"), 1_000);
        feed(&f, event("task-queue.entered", "1", &[("TaskQueueSid", "WQ2"), ("TaskQueueName", "Sales"), ("TaskAge", "30")]), 1_030);
        let status = f.status(1_040);
        let waiting: Vec<(&str, usize)> = status.iter().map(|q| (q.queue.as_str(), q.waiting_now)).collect();
        assert_eq!(waiting, vec![("Sales", 1)]);
        let text = metrics.render(0);
        assert!(text.contains(r#"flexdesk_chats_waiting{queue="Support"} 0"#) && text.contains(r#"flexdesk_chats_waiting{queue="Sales"} 1"#), "{text}");
    }

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<u64> = (1..=10).collect();
        assert_eq!((percentile(&v, 0.5), percentile(&v, 0.9), percentile(&v, 1.0)), (Some(5), Some(9), Some(10)));
        assert_eq!(percentile(&[7], 0.9), Some(7));
        assert_eq!(percentile(&[], 0.5), None);
    }
}
