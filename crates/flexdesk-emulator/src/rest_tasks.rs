//! TaskRouter's Task reads and a TaskQueue's cumulative statistics, as twilio-oai `twilio_taskrouter_v1.json`
//! describes them: `ListTask` (`GET /v1/Workspaces/{WS}/Tasks`), `FetchTask` (`GET /v1/Workspaces/{WS}/Tasks/{WT}`)
//! and `FetchTaskQueueCumulativeStatistics` (`GET /v1/Workspaces/{WS}/TaskQueues/{WQ}/CumulativeStatistics`). The
//! auth server reads them for a waiting customer's own place in the queue (`GET /v1/sessions/{id}/queue`).
//! docs/emulator.md has the rows with the sources; where Twilio is silent the comment says it is the emulator's reading.
//!
//! What the emulator knows of its tasks: every task is routed by the one workflow (`TWILIO_WORKFLOW_SID`) to the one
//! queue (`TWILIO_QUEUE_SID`, rest_config.rs), with priority 0 (the emulator's workflow sets none: twilio-oai's
//! `priority` default in the spec's examples is 0).

use std::collections::HashMap;

use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use axum::body::Bytes;
use axum::http::HeaderMap;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

use crate::state::{Shared, Task, TaskStatus};
use crate::twilio_error::TwilioError;
use crate::util::{iso8601, now_secs};

type Params = Path<HashMap<String, String>>;
type R = Result<Response, TwilioError>;

/// twilio-oai `ListTask` `PageSize`: "The default is 50, and the maximum is 1000" (minimum 1).
const MAX_TASK_PAGE_SIZE: usize = 1000;
const DEFAULT_TASK_PAGE_SIZE: usize = 50;
/// twilio-oai `FetchTaskQueueCumulativeStatistics` `Minutes`: "The default is 15 minutes."
const DEFAULT_STATISTICS_MINUTES: u64 = 15;
/// The task channels' unique names in the order rest_config.rs lists them (their SIDs are `TC…c0` onwards there).
const TASK_CHANNEL_NAMES: &[&str] = &["default", "voice", "chat", "sms", "video", "email"];

pub fn router() -> Router<Shared> {
    Router::new()
        .route("/v1/Workspaces/{ws}/Tasks", get(list_tasks))
        .route("/v1/Workspaces/{ws}/Tasks/{wt}", get(fetch_task).post(update_task))
        .route("/v1/Workspaces/{ws}/TaskQueues/{wq}/CumulativeStatistics", get(cumulative_statistics))
}

/// The query string as Twilio reads it: keys may repeat (an array parameter such as `AssignmentStatus` is sent as
/// one key per value by Twilio's helper libraries; the spec's own example URL sends `pending%2Creserved`).
fn query_pairs(raw: Option<String>) -> Vec<(String, String)> {
    form_urlencoded::parse(raw.unwrap_or_default().as_bytes()).into_owned().collect()
}

fn one<'a>(q: &'a [(String, String)], key: &str) -> Option<&'a str> {
    q.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

fn check_workspace(emu: &Shared, ws: &str) -> Result<(), TwilioError> {
    if ws != emu.config.workspace_sid {
        return Err(TwilioError::not_found(&format!("/v1/Workspaces/{ws}")));
    }
    Ok(())
}

fn task_channel_sid(name: &str) -> Option<String> {
    TASK_CHANNEL_NAMES.iter().position(|n| *n == name).map(|i| format!("TC{:032x}", 0xc0_u128 + i as u128))
}

/// taskrouter.v1.workspace.task, exactly its fields. `attributes`: "If this property has been assigned a value, it
/// will only be displayed in FETCH action that returns a single resource. Otherwise, it will be null" (the schema's
/// description), so lists carry `null`.
fn task_rest(emu: &Shared, t: &Task, with_attributes: bool, now: u64) -> Value {
    let c = &emu.config;
    let url = format!("{}/v1/Workspaces/{}/Tasks/{}", emu.base_url(), c.workspace_sid, t.sid);
    let created = iso8601(t.date_created);
    json!({
        "account_sid": c.account_sid,
        "age": now.saturating_sub(t.date_created),
        "assignment_status": t.status.as_str(),
        "attributes": if with_attributes { Value::from(t.attributes.to_string()) } else { Value::Null },
        "addons": "{}",
        "date_created": created,
        // The emulator keeps no update time: the creation time stands in (emulator's simplification).
        "date_updated": created,
        "task_queue_entered_date": created,
        "priority": 0,
        "reason": null,
        "sid": t.sid,
        "task_queue_sid": c.queue_sid,
        "task_queue_friendly_name": "Everyone (emulator)",
        "task_channel_sid": task_channel_sid(&t.task_channel),
        "task_channel_unique_name": t.task_channel,
        "timeout": 86400,
        "workflow_sid": c.workflow_sid,
        "workflow_friendly_name": "Assign to Anyone (emulator)",
        "workspace_sid": c.workspace_sid,
        "url": url,
        "links": {
            "task_queue": format!("{}/v1/Workspaces/{}/TaskQueues/{}", emu.base_url(), c.workspace_sid, c.queue_sid),
            "workflow": format!("{}/v1/Workspaces/{}/Workflows/{}", emu.base_url(), c.workspace_sid, c.workflow_sid),
            "workspace": format!("{}/v1/Workspaces/{}", emu.base_url(), c.workspace_sid),
            "reservations": format!("{url}/Reservations"),
        },
        "virtual_start_time": created,
        "ignore_capacity": false,
        "routing_target": null,
    })
}

/// One term of a TaskRouter expression the emulator evaluates: `key == "string"` (or single quotes), where `key`
/// may be a dotted path into the attributes (<https://www.twilio.com/docs/taskrouter/expression-syntax>: "Strings,
/// represented as single or double quoted blocks of text", keys "object.param").
#[derive(Debug, PartialEq)]
struct Equals {
    path: Vec<String>,
    value: String,
}

/// `EvaluateTaskAttributes`: the emulator understands `key == "value"` terms joined by `AND` only; anything else is
/// refused with 400 / 20001 rather than guessed at (an emulator limit: TaskRouter's syntax has more operators).
fn parse_expression(expr: &str) -> Result<Vec<Equals>, TwilioError> {
    let unsupported = || TwilioError::invalid("EvaluateTaskAttributes", "the emulator evaluates only `key == \"value\"` terms joined by AND");
    let mut terms = Vec::new();
    for term in split_and(expr) {
        let (key, value) = term.split_once("==").ok_or_else(unsupported)?;
        let key = key.trim();
        let value = value.trim();
        let quoted = value.len() >= 2 && ((value.starts_with('"') && value.ends_with('"')) || (value.starts_with('\'') && value.ends_with('\'')));
        let valid_key = !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.');
        if !quoted || !valid_key {
            return Err(unsupported());
        }
        terms.push(Equals { path: key.split('.').map(String::from).collect(), value: value[1..value.len() - 1].to_string() });
    }
    if terms.is_empty() {
        return Err(unsupported());
    }
    Ok(terms)
}

/// Splits on the word `AND` (any case, surrounded by white space) outside quotes.
fn split_and(expr: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut quote: Option<char> = None;
    let chars: Vec<char> = expr.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '"' || c == '\'' => quote = Some(c),
            None => {
                let rest: String = chars[i..chars.len().min(i + 5)].iter().collect();
                let before_ws = i == 0 || chars[i - 1].is_whitespace();
                if before_ws && rest.len() >= 4 && rest[..3].eq_ignore_ascii_case("and") && rest[3..4].chars().all(char::is_whitespace) {
                    parts.push(std::mem::take(&mut current));
                    i += 4;
                    continue;
                }
            }
        }
        current.push(c);
        i += 1;
    }
    parts.push(current);
    parts.into_iter().map(|p| p.trim().to_string()).collect()
}

fn matches(attributes: &Value, terms: &[Equals]) -> bool {
    terms.iter().all(|t| {
        let found = t.path.iter().try_fold(attributes, |v, k| v.get(k));
        found.and_then(Value::as_str) == Some(t.value.as_str())
    })
}

/// One `Ordering` clause: `DateCreated`, `Priority` or `VirtualStartTime`, `asc` or `desc`.
#[derive(Debug, Clone, Copy, PartialEq)]
enum SortKey {
    DateCreated,
    Priority,
    VirtualStartTime,
}

/// twilio-oai `ListTask` `Ordering`: "`Attribute:Order`, where `Attribute` can be either `DateCreated`, `Priority`, or
/// `VirtualStartTime` and `Order` can be either `asc` or `desc` [...] a comma-separated list such as
/// `Priority:desc,DateCreated:asc` [...] The only ordering pairing not allowed is DateCreated and VirtualStartTime."
/// Refusals are 400 / 20001 (the code is the emulator's: the spec documents the rule, not the error).
fn parse_ordering(s: &str) -> Result<Vec<(SortKey, bool)>, TwilioError> {
    let bad = |why: &str| TwilioError::invalid("Ordering", why);
    let mut clauses = Vec::new();
    for clause in s.split(',') {
        let (attr, order) = clause.trim().split_once(':').ok_or_else(|| bad("must be Attribute:Order"))?;
        let key = match attr {
            "DateCreated" => SortKey::DateCreated,
            "Priority" => SortKey::Priority,
            "VirtualStartTime" => SortKey::VirtualStartTime,
            _ => return Err(bad("Attribute must be DateCreated, Priority or VirtualStartTime")),
        };
        let ascending = match order {
            "asc" => true,
            "desc" => false,
            _ => return Err(bad("Order must be asc or desc")),
        };
        clauses.push((key, ascending));
    }
    let has = |k| clauses.iter().any(|(c, _)| *c == k);
    if has(SortKey::DateCreated) && has(SortKey::VirtualStartTime) {
        return Err(bad("DateCreated and VirtualStartTime cannot be paired"));
    }
    Ok(clauses)
}

/// `GET /v1/Workspaces/{WS}/Tasks` (twilio-oai `ListTask`). Filters: `AssignmentStatus` (array; repeated keys or a
/// comma list), `TaskQueueSid` ("Returns the Tasks waiting in the TaskQueue"), `WorkflowSid`, `Priority`,
/// `EvaluateTaskAttributes` (see [`parse_expression`]); `Ordering` ("By default, Tasks are sorted by ascending
/// DateCreated"); `PageSize` 1–1000 (default 50), `Page`, `PageToken`. `TaskQueueName`, `WorkflowName`,
/// `RoutingTarget` and `HasAddons` are not evaluated (the emulator has one queue, one workflow, no add-ons and no
/// routing targets): a value that names something else matches no task.
async fn list_tasks(State(emu): State<Shared>, Path(p): Params, RawQuery(raw): RawQuery) -> R {
    check_workspace(&emu, &p["ws"])?;
    let q = query_pairs(raw);
    let c = &emu.config;
    let now = now_secs();
    let mut statuses: Vec<TaskStatus> = Vec::new();
    for value in q.iter().filter(|(k, _)| k == "AssignmentStatus").flat_map(|(_, v)| v.split(',')) {
        let value = value.trim();
        let status = TaskStatus::ALL
            .into_iter()
            .find(|s| s.as_str() == value)
            .ok_or_else(|| TwilioError::invalid("AssignmentStatus", "must be pending, reserved, assigned, canceled, wrapping or completed"))?;
        statuses.push(status);
    }
    let terms = one(&q, "EvaluateTaskAttributes").map(parse_expression).transpose()?;
    let ordering = one(&q, "Ordering").map(parse_ordering).transpose()?.unwrap_or_else(|| vec![(SortKey::DateCreated, true)]);
    let priority = one(&q, "Priority").map(|v| v.parse::<i64>().map_err(|_| TwilioError::invalid("Priority", "must be an integer"))).transpose()?;
    let page_size = crate::rest_support::page_size(one(&q, "PageSize"), DEFAULT_TASK_PAGE_SIZE, MAX_TASK_PAGE_SIZE)?;
    // `PageToken` is opaque ("provided by the API"): the emulator's own tokens are the page number.
    let page_no = crate::rest_support::page_number(one(&q, "PageToken").or(one(&q, "Page")).map(|v| v.trim_start_matches("PT")))?;
    let name_matches = |key: &str, ours: &str| one(&q, key).map_or(true, |v| v == ours);
    let queue_ok = name_matches("TaskQueueSid", &c.queue_sid) && name_matches("TaskQueueName", "Everyone (emulator)");
    let workflow_ok = name_matches("WorkflowSid", &c.workflow_sid) && name_matches("WorkflowName", "Assign to Anyone (emulator)");
    let others_ok = one(&q, "RoutingTarget").is_none() && one(&q, "HasAddons").map_or(true, |v| v == "false");

    // Creation order is the tie-breaker within one second (`date_created` has second precision). Only the tasks that
    // match are copied out of the store: with 10 000 tasks, copying them all for each look-up of one chat's task made
    // the bench's queue row (bench/lib/scale.mjs) quadratic.
    let mut selected: Vec<(usize, Task)> = emu
        .lock()
        .tasks
        .iter()
        .enumerate()
        .filter(|_| queue_ok && workflow_ok && others_ok)
        .filter(|(_, t)| !t.deleted(now))
        .filter(|(_, t)| statuses.is_empty() || statuses.contains(&t.status))
        .filter(|_| priority.map_or(true, |p| p == 0))
        .filter(|(_, t)| terms.as_ref().map_or(true, |terms| matches(&t.attributes, terms)))
        .map(|(i, t)| (i, t.clone()))
        .collect();
    selected.sort_by(|(ia, a), (ib, b)| {
        for (key, ascending) in &ordering {
            let ord = match key {
                // Every emulated task has priority 0.
                SortKey::Priority => std::cmp::Ordering::Equal,
                SortKey::DateCreated | SortKey::VirtualStartTime => (a.date_created, ia).cmp(&(b.date_created, ib)),
            };
            let ord = if *ascending { ord } else { ord.reverse() };
            if ord != std::cmp::Ordering::Equal {
                return ord;
            }
        }
        std::cmp::Ordering::Equal
    });
    let items: Vec<Value> = selected.iter().map(|(_, t)| task_rest(&emu, t, false, now)).collect();

    // Page URLs keep every filter, as the spec's example `meta` URLs do.
    let base = format!("{}/v1/Workspaces/{}/Tasks", emu.base_url(), c.workspace_sid);
    let filters: Vec<(String, String)> = q.iter().filter(|(k, _)| !matches!(k.as_str(), "PageSize" | "Page" | "PageToken")).cloned().collect();
    let url = |page: usize| {
        let mut s = form_urlencoded::Serializer::new(String::new());
        for (k, v) in &filters {
            s.append_pair(k, v);
        }
        s.append_pair("PageSize", &page_size.to_string()).append_pair("Page", &page.to_string());
        if page > 0 {
            s.append_pair("PageToken", &format!("PT{page}"));
        }
        format!("{base}?{}", s.finish())
    };
    Ok(Json(crate::rest_support::envelope("tasks", &items, page_size, page_no, url)).into_response())
}

/// `GET /v1/Workspaces/{WS}/Tasks/{WT}` (twilio-oai `FetchTask`): one task, with its `attributes`.
async fn fetch_task(State(emu): State<Shared>, Path(p): Params) -> R {
    check_workspace(&emu, &p["ws"])?;
    let now = now_secs();
    let task = emu.task(&p["wt"]).ok().filter(|t| !t.deleted(now)).ok_or_else(|| TwilioError::not_found(&format!("/v1/Workspaces/{}/Tasks/{}", p["ws"], p["wt"])))?;
    Ok(Json(task_rest(&emu, &task, true, now)).into_response())
}

/// `POST /v1/Workspaces/{WS}/Tasks/{WT}` (twilio-oai `UpdateTask`), its `Attributes` ("The JSON string that describes
/// the custom attributes of the task"): replaced whole, whatever the task's status, until TaskRouter deletes the task
/// five minutes after it ended (404 then; the lifecycle page). Twilio documents no refusal of an attribute update for
/// a completed or canceled task, and Flex Insights reads `task.updated` within those five minutes
/// (<https://www.twilio.com/docs/flex/developer/insights/enhance-integration>), so the emulator takes it. Attributes
/// that are not a JSON object: 400 / 20001 (emulator's reading). The other parameters (`AssignmentStatus`, `Reason`,
/// `Priority`, …) are an emulator limit: 400 / 20001, never silently ignored. No `If-Match` check.
async fn update_task(State(emu): State<Shared>, Path(p): Params, headers: HeaderMap, body: Bytes) -> R {
    check_workspace(&emu, &p["ws"])?;
    let form = crate::rest_support::Form::parse(&headers, &body)?;
    if let Some((key, _)) = form.0.iter().find(|(k, _)| k != "Attributes") {
        return Err(TwilioError::invalid(key, "the emulator updates a task's Attributes only"));
    }
    let attributes: Option<Value> = match form.get("Attributes") {
        Some(a) => Some(serde_json::from_str::<Value>(&a).ok().filter(Value::is_object).ok_or_else(|| TwilioError::invalid("Attributes", "must be a JSON object"))?),
        None => None,
    };
    let now = now_secs();
    let gone = || TwilioError::not_found(&format!("/v1/Workspaces/{}/Tasks/{}", p["ws"], p["wt"]));
    let task = {
        let mut st = emu.lock();
        let t = st.tasks.iter_mut().find(|t| t.sid == p["wt"] && !t.deleted(now)).ok_or_else(gone)?;
        if let Some(a) = attributes {
            t.attributes = a;
        }
        t.clone()
    };
    Ok(Json(task_rest(&emu, &task, true, now)).into_response())
}

/// `{avg, min, max, total}` in seconds, as the spec's example shows `wait_duration_until_accepted`.
fn durations(values: &[u64]) -> Value {
    let total: u64 = values.iter().sum();
    json!({
        "avg": if values.is_empty() { 0 } else { total / values.len() as u64 },
        "min": values.iter().min().copied().unwrap_or(0),
        "max": values.iter().max().copied().unwrap_or(0),
        "total": total,
    })
}

/// `GET /v1/Workspaces/{WS}/TaskQueues/{WQ}/CumulativeStatistics` (twilio-oai `FetchTaskQueueCumulativeStatistics`):
/// `Minutes` (default 15) or `StartDate`/`EndDate` (ISO 8601; only `Minutes` is evaluated here, the dates are refused
/// with 400 / 20001 as an emulator limit), `TaskChannel` (unique name; a SID or an unknown name counts no tasks, as for
/// the real-time statistics). Exactly the schema's fields. What the emulator counts, from its tasks:
/// `tasks_entered` (created in the window), `reservations_accepted` and `wait_duration_until_accepted` (tasks an agent
/// accepted in the window: "Calculation is based on the time when the Tasks were created"),
/// `wait_duration_in_queue_until_accepted` (the same: one queue, so entering it is being created), `avg_task_acceptance_time`
/// ("The average time in seconds between Task creation and acceptance"), `tasks_canceled`, `tasks_completed`. The
/// emulator offers a task to no agent before acceptance (the console accepts directly), so every reservation created is
/// accepted: `reservations_created` = `reservations_accepted` and the rejected, timed out, canceled and rescinded
/// counts are 0. It keeps no time for cancellations or completions: those counts cover tasks created in the window
/// (emulator's simplification), and `wait_duration_until_canceled` is zeros.
async fn cumulative_statistics(State(emu): State<Shared>, Path(p): Params, RawQuery(raw): RawQuery) -> R {
    check_workspace(&emu, &p["ws"])?;
    let c = &emu.config;
    if p["wq"] != c.queue_sid {
        return Err(TwilioError::not_found(&format!("/v1/Workspaces/{}/TaskQueues/{}", p["ws"], p["wq"])));
    }
    let q = query_pairs(raw);
    if one(&q, "StartDate").is_some() || one(&q, "EndDate").is_some() {
        return Err(TwilioError::invalid("StartDate", "the emulator evaluates Minutes only"));
    }
    let minutes = match one(&q, "Minutes") {
        None => DEFAULT_STATISTICS_MINUTES,
        Some(v) => v.parse::<u64>().ok().filter(|m| *m > 0).ok_or_else(|| TwilioError::invalid("Minutes", "must be a positive integer"))?,
    };
    let channel = one(&q, "TaskChannel");
    let now = now_secs();
    let since = now.saturating_sub(minutes * 60);
    let tasks: Vec<Task> = emu.lock().tasks.iter().filter(|t| channel.map_or(true, |ch| t.task_channel == ch)).cloned().collect();
    let entered: Vec<&Task> = tasks.iter().filter(|t| t.date_created >= since).collect();
    let waits: Vec<u64> = tasks
        .iter()
        .filter_map(|t| t.date_accepted.filter(|at| *at >= since).map(|at| at.saturating_sub(t.date_created)))
        .collect();
    let count = |s: TaskStatus| entered.iter().filter(|t| t.status == s).count();
    let accepted = durations(&waits);
    Ok(Json(json!({
        "account_sid": c.account_sid,
        "avg_task_acceptance_time": accepted["avg"],
        "start_time": iso8601(since),
        "end_time": iso8601(now),
        "reservations_created": waits.len(),
        "reservations_accepted": waits.len(),
        "reservations_rejected": 0,
        "reservations_timed_out": 0,
        "reservations_canceled": 0,
        "reservations_rescinded": 0,
        "split_by_wait_time": null,
        "task_queue_sid": c.queue_sid,
        "wait_duration_until_accepted": accepted,
        "wait_duration_until_canceled": durations(&[]),
        "wait_duration_in_queue_until_accepted": accepted,
        "tasks_canceled": count(TaskStatus::Canceled),
        "tasks_completed": count(TaskStatus::Completed),
        "tasks_deleted": 0,
        "tasks_entered": entered.len(),
        "tasks_moved": 0,
        "workspace_sid": c.workspace_sid,
        "url": format!("{}/v1/Workspaces/{}/TaskQueues/{}/CumulativeStatistics", emu.base_url(), c.workspace_sid, c.queue_sid),
    }))
    .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expressions_are_equality_terms_joined_by_and() {
        let terms = parse_expression(r#"conversationSid == "CH1" AND customers.name == 'Ada'"#).unwrap();
        assert_eq!(terms.len(), 2);
        let attrs = json!({"conversationSid": "CH1", "customers": {"name": "Ada"}});
        assert!(matches(&attrs, &terms));
        assert!(!matches(&json!({"conversationSid": "CH2", "customers": {"name": "Ada"}}), &terms));
        // A quoted AND is part of the value.
        let t = parse_expression(r#"topic == "this AND that""#).unwrap();
        assert_eq!(t[0].value, "this AND that");
        for bad in ["", "a != \"b\"", "a == b", "a HAS \"b\"", "(a == \"b\") OR (c == \"d\")"] {
            assert!(parse_expression(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn ordering_follows_the_spec() {
        assert_eq!(parse_ordering("Priority:desc,DateCreated:asc").unwrap(), vec![(SortKey::Priority, false), (SortKey::DateCreated, true)]);
        assert!(parse_ordering("DateCreated:asc,VirtualStartTime:desc").is_err());
        assert!(parse_ordering("Age:asc").is_err());
        assert!(parse_ordering("Priority:up").is_err());
    }
}
