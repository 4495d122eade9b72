//! TaskRouter's Task Reservations and Workers, as twilio-oai `twilio_taskrouter_v1.json` describes them:
//! `ListTaskReservation` (`GET /v1/Workspaces/{WS}/Tasks/{WT}/Reservations`), `FetchTaskReservation` and
//! `UpdateTaskReservation` (`GET|POST …/Reservations/{WR}`), and `FetchWorker` (`GET /v1/Workspaces/{WS}/Workers/{WK}`).
//! They let a script act as an agent through the REST API, as `npm run smoke:twilio` does against a real account
//! (scripts/smoke-twilio.mjs): find the reservation TaskRouter offered, accept it, learn the worker's identity.
//! docs/emulator.md has the rows with their sources.
//!
//! The emulator keeps no reservation records: a task's reservation is derived from the task (the emulator's model):
//! - a `pending` task is offered to the first available agent, in the configured order (TaskRouter offers a task to
//!   one worker at a time; which worker is the workflow's choice, so this order is the emulator's reading): one
//!   `pending` reservation for that agent;
//! - a task with an agent (`assigned`, `wrapping`, `completed`) has one reservation for that agent, in the same
//!   status (`assigned` reads `accepted`);
//! - a canceled task, or a pending one with no available agent, has none.
//!
//! A reservation's SID is `WR` + the task SID's last 30 hex digits + the agent's index (2 hex digits), so it is the
//! same on every read while the offer stands. Workers are the configured agents, `WK` + their position (from 1) in
//! 32 hex digits; their attributes carry Flex's `contact_uri` (`client:<identity>`: the identity the agent has in the
//! conversation, "How Twilio Flex Uses the TaskRouter Worker contact_uri",
//! <https://support.twilio.com/hc/en-us/articles/42799965656987>) and `full_name`.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

use crate::rest_support::Form;
use crate::state::{Agent, Shared, Task, TaskStatus};
use crate::twilio_error::TwilioError;
use crate::util::iso8601;

type Params = Path<HashMap<String, String>>;
type R = Result<Response, TwilioError>;

/// twilio-oai `ListTaskReservation` `PageSize`: minimum 1, maximum 1000; Twilio's default page size is 50.
const MAX_PAGE_SIZE: usize = 1000;
const DEFAULT_PAGE_SIZE: usize = 50;
/// The activity SIDs the worker statistics already use (state.rs `queue_statistics`).
const AVAILABLE_ACTIVITY: (&str, &str) = ("WA00000000000000000000000000000001", "Available");
const UNAVAILABLE_ACTIVITY: (&str, &str) = ("WA00000000000000000000000000000002", "Unavailable");

pub fn router() -> Router<Shared> {
    Router::new()
        .route("/v1/Workspaces/{ws}/Tasks/{wt}/Reservations", get(list_reservations))
        .route("/v1/Workspaces/{ws}/Tasks/{wt}/Reservations/{wr}", get(fetch_reservation).post(update_reservation))
        .route("/v1/Workspaces/{ws}/Workers/{wk}", get(fetch_worker))
}

fn check_workspace(emu: &Shared, ws: &str) -> Result<(), TwilioError> {
    if ws != emu.config.workspace_sid {
        return Err(TwilioError::not_found(&format!("/v1/Workspaces/{ws}")));
    }
    Ok(())
}

fn worker_sid(index: usize) -> String {
    format!("WK{:032x}", index + 1)
}

/// `WR` + the task SID's last 30 hex digits + the agent's index (module comment).
fn reservation_sid(task_sid: &str, index: usize) -> String {
    format!("WR{}{:02x}", task_sid.get(4..).unwrap_or_default(), index)
}

/// A task's reservation: `(agent index, agent, reservation status)`.
type Offer = (usize, Agent, &'static str);

/// The one reservation a task has in the emulator's model (module comment).
fn reservation_of(agents: &[Agent], t: &Task) -> Option<Offer> {
    let (index, agent) = match (&t.agent, t.status) {
        (_, TaskStatus::Canceled) => return None,
        (Some(id), _) => agents.iter().enumerate().find(|(_, a)| &a.id == id)?,
        (None, TaskStatus::Pending | TaskStatus::Reserved) => agents.iter().enumerate().find(|(_, a)| a.available)?,
        (None, _) => return None,
    };
    let status = match t.status {
        TaskStatus::Pending | TaskStatus::Reserved => "pending",
        TaskStatus::Assigned => "accepted",
        TaskStatus::Wrapping => "wrapping",
        TaskStatus::Completed => "completed",
        TaskStatus::Canceled => return None,
    };
    Some((index, agent.clone(), status))
}

/// taskrouter.v1.workspace.task.task_reservation, exactly its fields.
fn reservation_rest(emu: &Shared, t: &Task, index: usize, agent: &Agent, status: &str) -> Value {
    let c = &emu.config;
    let sid = reservation_sid(&t.sid, index);
    let task_url = format!("{}/v1/Workspaces/{}/Tasks/{}", emu.base_url(), c.workspace_sid, t.sid);
    let created = iso8601(t.date_created);
    // The emulator keeps no reservation times: offered when the task was created, updated when it was accepted.
    let updated = iso8601(t.date_accepted.unwrap_or(t.date_created));
    json!({
        "account_sid": c.account_sid,
        "date_created": created,
        "date_updated": updated,
        "reservation_status": status,
        "sid": sid,
        "task_sid": t.sid,
        "worker_name": agent.id,
        "worker_sid": worker_sid(index),
        "workspace_sid": c.workspace_sid,
        "url": format!("{task_url}/Reservations/{sid}"),
        "links": {
            "task": task_url,
            "worker": format!("{}/v1/Workspaces/{}/Workers/{}", emu.base_url(), c.workspace_sid, worker_sid(index)),
            "workspace": format!("{}/v1/Workspaces/{}", emu.base_url(), c.workspace_sid),
        },
    })
}

/// The task and its reservation (if any), read under one lock.
fn task_and_reservation(emu: &Shared, ws: &str, wt: &str) -> Result<(Task, Option<Offer>), TwilioError> {
    check_workspace(emu, ws)?;
    let st = emu.lock();
    let t = st.tasks.iter().find(|t| t.sid == wt).cloned().ok_or_else(|| TwilioError::not_found(&format!("/v1/Workspaces/{ws}/Tasks/{wt}")))?;
    let r = reservation_of(&st.agents, &t);
    Ok((t, r))
}

/// `ListTaskReservation`: `ReservationStatus` and `WorkerSid` filter; `PageSize`, `Page`, `PageToken`.
async fn list_reservations(State(emu): State<Shared>, Path(p): Params, Query(q): Query<HashMap<String, String>>) -> R {
    let (t, r) = task_and_reservation(&emu, &p["ws"], &p["wt"])?;
    if let Some(s) = q.get("ReservationStatus") {
        const STATUSES: [&str; 8] = ["pending", "accepted", "rejected", "timeout", "canceled", "rescinded", "wrapping", "completed"];
        if !STATUSES.contains(&s.as_str()) {
            return Err(TwilioError::invalid("ReservationStatus", "must be one of task_reservation_enum_status"));
        }
    }
    let items: Vec<Value> = r
        .into_iter()
        .filter(|(_, _, status)| q.get("ReservationStatus").map_or(true, |s| s == status))
        .filter(|(i, _, _)| q.get("WorkerSid").map_or(true, |w| *w == worker_sid(*i)))
        .map(|(i, a, status)| reservation_rest(&emu, &t, i, &a, status))
        .collect();
    let page_size = crate::rest_support::page_size(q.get("PageSize").map(String::as_str), DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)?;
    let page_no = crate::rest_support::page_number(q.get("PageToken").or(q.get("Page")).map(|v| v.trim_start_matches("PT")))?;
    let base = format!("{}/v1/Workspaces/{}/Tasks/{}/Reservations", emu.base_url(), p["ws"], p["wt"]);
    Ok(Json(crate::rest_support::envelope("reservations", &items, page_size, page_no, |n| format!("{base}?PageSize={page_size}&Page={n}"))).into_response())
}

/// The task's reservation if `wr` names it, else 404.
fn named_reservation(emu: &Shared, p: &HashMap<String, String>) -> Result<(Task, usize, Agent, &'static str), TwilioError> {
    let (t, r) = task_and_reservation(emu, &p["ws"], &p["wt"])?;
    let not_found = || TwilioError::not_found(&format!("/v1/Workspaces/{}/Tasks/{}/Reservations/{}", p["ws"], p["wt"], p["wr"]));
    let (i, a, status) = r.ok_or_else(not_found)?;
    if reservation_rest(emu, &t, i, &a, status)["sid"] != p["wr"].as_str() {
        return Err(not_found());
    }
    Ok((t, i, a, status))
}

async fn fetch_reservation(State(emu): State<Shared>, Path(p): Params) -> R {
    let (t, i, a, status) = named_reservation(&emu, &p)?;
    Ok(Json(reservation_rest(&emu, &t, i, &a, status)).into_response())
}

/// `UpdateTaskReservation` with `ReservationStatus`:
/// - `accepted` (a `pending` reservation): the task is assigned to the worker and the agent joins the conversation,
///   exactly as the console's Accept (state.rs `accept_task`). On a real Flex account, whether accepting a
///   reservation through REST alone adds the worker to the conversation is not documented (Flex UI's accept does it);
///   scripts/smoke-twilio.mjs therefore adds the worker as a participant when it is not one.
/// - `completed` (a `wrapping` reservation): the task is completed (the agent finished wrap-up). The enum lists
///   `completed` (twilio-oai `task_reservation_enum_status`); what TaskRouter does from other states is not described,
///   so the emulator refuses them (409 / 20409, its reading).
/// - anything else (`rejected`, `timeout`, …): 400 / 20001, an emulator limit (it keeps no rejection state).
async fn update_reservation(State(emu): State<Shared>, Path(p): Params, headers: HeaderMap, body: Bytes) -> R {
    let form = Form::parse(&headers, &body)?;
    let wanted = form.get("ReservationStatus");
    let (t, _, agent, status) = named_reservation(&emu, &p)?;
    match (wanted.as_deref(), status) {
        (Some("accepted"), "pending") => {
            emu.accept_task(&t.sid, &agent.id)?;
        }
        (Some("completed"), "wrapping") => {
            emu.complete_task(&t.sid)?;
        }
        (Some("accepted" | "completed"), other) => {
            return Err(TwilioError::new(409, 20409, format!("The reservation is {other}")));
        }
        (None, _) => {}
        (Some(_), _) => {
            return Err(TwilioError::invalid("ReservationStatus", "the emulator updates a reservation to accepted or completed only"));
        }
    }
    let (t, i, a, status) = named_reservation(&emu, &p)?;
    Ok(Json(reservation_rest(&emu, &t, i, &a, status)).into_response())
}

/// `FetchWorker`: taskrouter.v1.workspace.worker, exactly its fields.
async fn fetch_worker(State(emu): State<Shared>, Path(p): Params) -> R {
    check_workspace(&emu, &p["ws"])?;
    let agents = emu.lock().agents.clone();
    let (i, a) = agents
        .iter()
        .enumerate()
        .find(|(i, _)| worker_sid(*i) == p["wk"])
        .ok_or_else(|| TwilioError::not_found(&format!("/v1/Workspaces/{}/Workers/{}", p["ws"], p["wk"])))?;
    let c = &emu.config;
    let (activity_sid, activity_name) = if a.available { AVAILABLE_ACTIVITY } else { UNAVAILABLE_ACTIVITY };
    let url = format!("{}/v1/Workspaces/{}/Workers/{}", emu.base_url(), c.workspace_sid, p["wk"]);
    // The emulator keeps no worker times: the Unix epoch stands in (emulator's simplification).
    let epoch = iso8601(0);
    let attributes = json!({"contact_uri": format!("client:{}", a.identity), "full_name": a.name});
    Ok(Json(json!({
        "account_sid": c.account_sid,
        "activity_name": activity_name,
        "activity_sid": activity_sid,
        "attributes": attributes.to_string(),
        "available": a.available,
        "date_created": epoch,
        "date_status_changed": epoch,
        "date_updated": epoch,
        "friendly_name": a.id,
        "sid": worker_sid(i),
        "workspace_sid": c.workspace_sid,
        "url": url,
        "links": {
            "activity": format!("{}/v1/Workspaces/{}/Activities/{}", emu.base_url(), c.workspace_sid, activity_sid),
            "reservations": format!("{url}/Reservations"),
            "worker_channels": format!("{url}/Channels"),
            "workspace": format!("{}/v1/Workspaces/{}", emu.base_url(), c.workspace_sid),
        },
    }))
    .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agent(id: &str, available: bool) -> Agent {
        Agent { id: id.into(), name: id.to_uppercase(), identity: format!("agent.{id}"), available }
    }

    fn task(status: TaskStatus, agent: Option<&str>) -> Task {
        Task {
            sid: format!("WT{:032x}", 7),
            conversation_sid: format!("CH{:032x}", 3),
            status,
            task_channel: "chat".into(),
            attributes: json!({}),
            agent: agent.map(String::from),
            date_created: 0,
            date_accepted: None,
            interaction_sid: None,
            channel_sid: None,
            date_ended: None,
        }
    }

    fn offer(agents: &[Agent], t: &Task) -> Option<(usize, String, &'static str)> {
        reservation_of(agents, t).map(|(i, a, s)| (i, a.id, s))
    }

    #[test]
    fn a_waiting_task_is_offered_to_the_first_available_agent_only() {
        let agents = [agent("alice", false), agent("bob", true), agent("carol", true)];
        assert_eq!(offer(&agents, &task(TaskStatus::Pending, None)), Some((1, "bob".into(), "pending")));
        let away = [agent("alice", false), agent("bob", false)];
        assert_eq!(offer(&away, &task(TaskStatus::Pending, None)), None);
    }

    #[test]
    fn a_task_with_an_agent_has_that_agents_reservation_in_the_matching_status() {
        // Bob holds it even while unavailable (availability only decides new offers).
        let agents = [agent("alice", true), agent("bob", false)];
        for (status, expected) in [(TaskStatus::Assigned, "accepted"), (TaskStatus::Wrapping, "wrapping"), (TaskStatus::Completed, "completed")] {
            assert_eq!(offer(&agents, &task(status, Some("bob"))), Some((1, "bob".into(), expected)));
        }
        assert_eq!(offer(&agents, &task(TaskStatus::Canceled, Some("bob"))), None);
        assert_eq!(offer(&agents, &task(TaskStatus::Canceled, None)), None);
        assert_eq!(offer(&agents, &task(TaskStatus::Completed, None)), None);
    }

    #[test]
    fn sids_have_twilios_shape_and_differ_per_task_and_agent() {
        let sid = |t: &Task, i: usize| reservation_sid(&t.sid, i);
        let a = task(TaskStatus::Pending, None);
        let mut b = a.clone();
        b.sid = format!("WT{:032x}", 8);
        for s in [sid(&a, 0), sid(&a, 1), sid(&b, 0), worker_sid(0), worker_sid(1)] {
            assert_eq!(s.len(), 34, "{s}");
            assert!(s[2..].chars().all(|c| c.is_ascii_hexdigit()), "{s}");
        }
        assert_ne!(sid(&a, 0), sid(&a, 1));
        assert_ne!(sid(&a, 0), sid(&b, 0));
        assert_ne!(worker_sid(0), worker_sid(1));
    }
}
