//! The account's configuration, read-only, as Twilio answers it: Conversations services and Address Configurations,
//! Flex Flows, and the TaskRouter workspace, workflow, task queue and task channels. `flexdesk-auth doctor` and the
//! auth server's `/readyz` probe read these. Each handler names its twilio-oai operation; docs/emulator.md has the
//! table with the sources.
//!
//! What exists (fixtures built from the emulator's configuration, the same `TWILIO_*` variables the auth server reads):
//! - Conversations services: the Flex service (`TWILIO_CONVERSATIONS_SERVICE_SID`, also the account's default unless
//!   `EMULATOR_DEFAULT_SERVICE_SID` says otherwise, as Flex requires) and [`OTHER_SERVICE`];
//! - the chat Address Configuration `TWILIO_ADDRESS_SID` (auto-creation into the Flex service, through a Studio flow)
//!   and [`OTHER_SERVICE_ADDRESS`], a chat address whose conversations go to [`OTHER_SERVICE`] (a misconfiguration
//!   to test against);
//! - [`DRAFT_FLOW_ADDRESS`] and [`MISSING_FLOW_ADDRESS`], chat addresses whose Studio flow is a draft or does not
//!   exist; the Studio flows themselves (`GET /v2/Flows/{Sid}`): [`STUDIO_FLOW`] published, [`DRAFT_FLOW`] a draft;
//! - the Flex Flow `TWILIO_FLEX_FLOW_SID` (web, Studio, the Flex service) and [`OTHER_SERVICE_FLEX_FLOW`] (into
//!   [`OTHER_SERVICE`]);
//! - the workspace `TWILIO_WORKSPACE_SID` with the workflow `TWILIO_WORKFLOW_SID` (routing every task to the queue
//!   `TWILIO_QUEUE_SID`), that queue, and Flex's task channels (`default`, `voice`, `chat`, `sms`, `video`, `email`).
//!
//! Anything else is 404 / 20404, as Twilio answers an unknown SID.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

use crate::rest_support::page;
use crate::state::Shared;
use crate::twilio_error::TwilioError;

type Params = Path<HashMap<String, String>>;
type Q = Query<HashMap<String, String>>;
type R = Result<Response, TwilioError>;

/// Another Conversations service of the account (not Flex's), for the misconfigured fixtures below; with
/// `EMULATOR_DEFAULT_SERVICE_SID` set to it, the account's default service is not Flex's.
pub const OTHER_SERVICE: &str = "IS0000000000000000000000000000defa";
/// A chat Address Configuration whose conversations are created in another service, not Flex's.
pub const OTHER_SERVICE_ADDRESS: &str = "IG0000000000000000000000000000defa";
/// A web Flex Flow of another service, not Flex's.
pub const OTHER_SERVICE_FLEX_FLOW: &str = "FO0000000000000000000000000000defa";
/// The Studio flow the emulated address and Flex Flow name ("Send to Flex"; the emulator runs no Studio flow), published.
pub const STUDIO_FLOW: &str = "FW0000000000000000000000000000f1e8";
/// A chat address into the Flex service whose Studio flow ([`DRAFT_FLOW`]) was never published (a misconfiguration).
pub const DRAFT_FLOW_ADDRESS: &str = "IG0000000000000000000000000000d4af";
/// A Studio flow in `draft` status (twilio-oai studio v2 `flow_enum_status`: `draft` | `published`).
pub const DRAFT_FLOW: &str = "FW0000000000000000000000000000d4af";
/// A chat address into the Flex service whose Studio flow ([`MISSING_FLOW`]) does not exist (deleted).
pub const MISSING_FLOW_ADDRESS: &str = "IG0000000000000000000000000000dead";
/// A Studio flow SID no flow has: `GET /v2/Flows/{Sid}` answers 404.
pub const MISSING_FLOW: &str = "FW0000000000000000000000000000dead";
/// Flex's task channels (unique names) in a Flex workspace.
const TASK_CHANNELS: &[(&str, &str)] = &[("default", "Default"), ("voice", "Voice"), ("chat", "Programmable Chat"), ("sms", "SMS"), ("video", "Video"), ("email", "Email")];
/// Creation date of every fixture (they exist before the emulator starts).
const CREATED: &str = "2026-01-05T09:00:00Z";

pub fn router() -> Router<Shared> {
    Router::new()
        .route("/v1/Services", get(list_services))
        .route("/v1/Services/{is}", get(fetch_service))
        .route("/v1/Configuration", get(fetch_configuration))
        .route("/v1/Configuration/Webhooks", get(fetch_account_webhooks))
        .route("/v1/Configuration/Addresses/{ig}", get(fetch_address))
        .route("/v1/FlexFlows/{fo}", get(fetch_flex_flow))
        .route("/v2/Flows/{fw}", get(fetch_studio_flow))
        .route("/v1/Workspaces/{ws}", get(fetch_workspace).post(update_workspace))
        .route("/v1/Workspaces/{ws}/Workflows/{ww}", get(fetch_workflow))
        .route("/v1/Workspaces/{ws}/TaskQueues/{wq}", get(fetch_task_queue))
        .route("/v1/Workspaces/{ws}/TaskChannels", get(list_task_channels))
}

/// Another resource's SID with the same hex digits (the workspace's activities).
fn sid_like(prefix: &str, from: &str) -> String {
    format!("{prefix}{}", &from[2.min(from.len())..])
}

fn ok(v: Value) -> R {
    Ok(Json(v).into_response())
}

// ---- conversations -------------------------------------------------------------------------------

/// `conversations.v1.service`: exactly its fields.
fn service_rest(emu: &Shared, is: &str) -> Value {
    let url = format!("{}/v1/Services/{is}", emu.base_url());
    let name = if is == emu.config.service_sid { "Flex Conversations Service (emulator)" } else { "Default Conversations Service (emulator)" };
    json!({
        "account_sid": emu.config.account_sid,
        "sid": is,
        "friendly_name": name,
        "date_created": CREATED,
        "date_updated": CREATED,
        "url": url,
        "links": {
            "conversations": format!("{url}/Conversations"),
            "users": format!("{url}/Users"),
            "roles": format!("{url}/Roles"),
            "bindings": format!("{url}/Bindings"),
            "configuration": format!("{url}/Configuration"),
            "participant_conversations": format!("{url}/ParticipantConversations"),
        },
    })
}

/// twilio-oai conversations v1 `ListService` (`GET /v1/Services`, paged, key `services`).
async fn list_services(State(emu): State<Shared>, Query(q): Q) -> R {
    let mut sids = vec![emu.config.service_sid.as_str(), OTHER_SERVICE];
    if !sids.contains(&emu.config.default_service_sid.as_str()) {
        sids.push(&emu.config.default_service_sid);
    }
    let items = sids.iter().map(|is| service_rest(&emu, is)).collect();
    ok(page(emu.base_url(), "/v1/Services", "services", items, &q)?)
}

/// twilio-oai conversations v1 `FetchService` (`GET /v1/Services/{Sid}`).
/// twilio-oai `FetchConfiguration` (`GET /v1/Configuration`, `conversations.v1.configuration`): the account's default
/// Conversations service (`EMULATOR_DEFAULT_SERVICE_SID`, the Flex service unless set otherwise). The timers are
/// null: the emulator sets none.
async fn fetch_configuration(State(emu): State<Shared>) -> R {
    let base = emu.base_url();
    Ok(Json(json!({
        "account_sid": emu.config.account_sid,
        "default_chat_service_sid": emu.config.default_service_sid,
        "default_messaging_service_sid": null,
        "default_inactive_timer": null,
        "default_closed_timer": null,
        "url": format!("{base}/v1/Configuration"),
        "links": {"service": format!("{base}/v1/Services/{}", emu.config.default_service_sid), "webhooks": format!("{base}/v1/Configuration/Webhooks")},
    }))
    .into_response())
}

/// twilio-oai `FetchConfigurationWebhook` (`GET /v1/Configuration/Webhooks`): the account-level webhook target. The
/// emulator has none (no account-level webhooks, docs/emulator.md): `target` `webhook`, no URLs, no filters.
async fn fetch_account_webhooks(State(emu): State<Shared>) -> R {
    Ok(Json(json!({
        "account_sid": emu.config.account_sid,
        "method": "POST",
        "filters": [],
        "pre_webhook_url": null,
        "post_webhook_url": null,
        "target": "webhook",
        "url": format!("{}/v1/Configuration/Webhooks", emu.base_url()),
    }))
    .into_response())
}

async fn fetch_service(State(emu): State<Shared>, Path(p): Params) -> R {
    let is = &p["is"];
    if !emu.known_service(is) {
        return Err(TwilioError::not_found(&format!("/v1/Services/{is}")));
    }
    ok(service_rest(&emu, is))
}

/// twilio-oai conversations v1 `FetchConfigurationAddress` (`GET /v1/Configuration/Addresses/{Sid}`; the spec: "This
/// value can be either the `sid` or the `address` of the configuration"). Shape: `conversations.v1.configuration_address`
/// and the spec's example for `auto_creation` (`enabled`, `type`, `conversation_service_sid`, then the type's own keys).
async fn fetch_address(State(emu): State<Shared>, Path(p): Params) -> R {
    let key = &p["ig"];
    let (sid, service, name, flow) = if key == &emu.config.address_sid || key == "flexdesk-web" {
        (emu.config.address_sid.clone(), emu.config.service_sid.clone(), "Web chat (emulator)", STUDIO_FLOW)
    } else if key == OTHER_SERVICE_ADDRESS || key == "flexdesk-web-default-service" {
        (OTHER_SERVICE_ADDRESS.to_string(), OTHER_SERVICE.to_string(), "Web chat into another service (emulator)", STUDIO_FLOW)
    } else if key == DRAFT_FLOW_ADDRESS {
        (key.to_string(), emu.config.service_sid.clone(), "Web chat with a draft flow (emulator)", DRAFT_FLOW)
    } else if key == MISSING_FLOW_ADDRESS {
        (key.to_string(), emu.config.service_sid.clone(), "Web chat with a deleted flow (emulator)", MISSING_FLOW)
    } else {
        return Err(TwilioError::not_found(&format!("/v1/Configuration/Addresses/{key}")));
    };
    let address = match sid.as_str() {
        s if s == emu.config.address_sid => "flexdesk-web",
        OTHER_SERVICE_ADDRESS => "flexdesk-web-default-service",
        other => other,
    };
    ok(json!({
        "sid": sid,
        "account_sid": emu.config.account_sid,
        "type": "chat",
        "address": address,
        "friendly_name": name,
        "auto_creation": {
            "enabled": true,
            "type": "studio",
            "conversation_service_sid": service,
            "studio_flow_sid": flow,
            "studio_retry_count": 3,
        },
        "date_created": CREATED,
        "date_updated": CREATED,
        "url": format!("{}/v1/Configuration/Addresses/{sid}", emu.base_url()),
        "address_country": null,
    }))
}

// ---- studio --------------------------------------------------------------------------------------

/// twilio-oai studio v2 `FetchFlow` (`GET /v2/Flows/{Sid}`, host studio.twilio.com): `studio.v2.flow`, with `status`
/// `published` for [`STUDIO_FLOW`] and `draft` for [`DRAFT_FLOW`]; the `definition` is not modelled (`{}`).
async fn fetch_studio_flow(State(emu): State<Shared>, Path(p): Params) -> R {
    let fw = &p["fw"];
    let (status, name) = match fw.as_str() {
        STUDIO_FLOW => ("published", "Send to Flex (emulator)"),
        DRAFT_FLOW => ("draft", "Never published (emulator)"),
        _ => return Err(TwilioError::not_found(&format!("/v2/Flows/{fw}"))),
    };
    ok(json!({
        "sid": fw,
        "account_sid": emu.config.account_sid,
        "friendly_name": name,
        "definition": {},
        "status": status,
        "revision": 1,
        "commit_message": null,
        "valid": true,
        "errors": [],
        "warnings": [],
        "date_created": CREATED,
        "date_updated": CREATED,
        "webhook_url": format!("{}/v2/Flows/{fw}/Executions", emu.base_url()),
        "url": format!("{}/v2/Flows/{fw}", emu.base_url()),
        "links": { "revisions": format!("{}/v2/Flows/{fw}/Revisions", emu.base_url()) },
    }))
}

// ---- flex ----------------------------------------------------------------------------------------

/// twilio-oai flex v1 `FetchFlexFlow` (`GET /v1/FlexFlows/{Sid}`): `flex.v1.flex_flow`; `integration` as in the
/// spec's example for a Studio integration (`flow_sid`, `retry_count`).
async fn fetch_flex_flow(State(emu): State<Shared>, Path(p): Params) -> R {
    let fo = &p["fo"];
    let service = if fo == &emu.config.flex_flow_sid {
        emu.config.service_sid.clone()
    } else if fo == OTHER_SERVICE_FLEX_FLOW {
        OTHER_SERVICE.to_string()
    } else {
        return Err(TwilioError::not_found(&format!("/v1/FlexFlows/{fo}")));
    };
    ok(json!({
        "account_sid": emu.config.account_sid,
        "date_created": CREATED,
        "date_updated": CREATED,
        "sid": fo,
        "friendly_name": if service == emu.config.service_sid { "Flex Web Channel (emulator)" } else { "Web channel of the default service (emulator)" },
        "chat_service_sid": service,
        "channel_type": "web",
        "contact_identity": null,
        "enabled": true,
        "integration_type": "studio",
        "integration": { "flow_sid": STUDIO_FLOW, "retry_count": 3 },
        "long_lived": false,
        "janitor_enabled": true,
        "url": format!("{}/v1/FlexFlows/{fo}", emu.base_url()),
    }))
}

// ---- taskrouter ----------------------------------------------------------------------------------

fn workspace(emu: &Shared, p: &HashMap<String, String>) -> Result<String, TwilioError> {
    let ws = &p["ws"];
    if ws != &emu.config.workspace_sid {
        return Err(TwilioError::not_found(&format!("/v1/Workspaces/{ws}")));
    }
    Ok(format!("{}/v1/Workspaces/{ws}", emu.base_url()))
}

/// twilio-oai taskrouter v1 `FetchWorkspace`: `taskrouter.v1.workspace`.
async fn fetch_workspace(State(emu): State<Shared>, Path(p): Params) -> R {
    let url = workspace(&emu, &p)?;
    let events = emu.webhooks.workspace_events();
    let links = ["activities", "statistics", "real_time_statistics", "cumulative_statistics", "task_queues", "tasks", "workers", "workflows", "task_channels", "events"];
    let path = |l: &str| match l {
        "task_queues" => "TaskQueues".to_string(),
        "task_channels" => "TaskChannels".to_string(),
        "real_time_statistics" => "RealTimeStatistics".to_string(),
        "cumulative_statistics" => "CumulativeStatistics".to_string(),
        other => other[..1].to_uppercase() + &other[1..],
    };
    ok(json!({
        "account_sid": emu.config.account_sid,
        "date_created": CREATED,
        "date_updated": CREATED,
        "default_activity_name": "Offline",
        "default_activity_sid": sid_like("WA", &emu.config.workspace_sid),
        "event_callback_url": events.url,
        "events_filter": events.filter.map(|f| f.join(",")),
        "friendly_name": "Flex Task Assignment (emulator)",
        "multi_task_enabled": true,
        "sid": emu.config.workspace_sid,
        "timeout_activity_name": "Offline",
        "timeout_activity_sid": sid_like("WA", &emu.config.workspace_sid),
        "prioritize_queue_order": "FIFO",
        "url": url,
        "links": links.iter().map(|l| (l.to_string(), Value::from(format!("{url}/{}", path(l))))).collect::<serde_json::Map<_, _>>(),
    }))
}

/// twilio-oai taskrouter v1 `UpdateWorkspace`, its `EventCallbackUrl` and `EventsFilter` only (where TaskRouter posts
/// its events, webhooks.rs; an empty URL stops them, the emulator's reading: the spec types it a URI); any other parameter is an emulator limit (400 / 20001). Answers
/// the workspace as `FetchWorkspace` does.
async fn update_workspace(State(emu): State<Shared>, Path(p): Params, headers: axum::http::HeaderMap, body: axum::body::Bytes) -> R {
    workspace(&emu, &p)?;
    let form = crate::rest_support::Form::parse(&headers, &body)?;
    if let Some((key, _)) = form.0.iter().find(|(k, _)| k != "EventCallbackUrl" && k != "EventsFilter") {
        return Err(TwilioError::invalid(key, "the emulator updates a workspace's EventCallbackUrl and EventsFilter only"));
    }
    let mut events = emu.webhooks.workspace_events();
    if let Some(url) = form.get("EventCallbackUrl") {
        let http = url.starts_with("http://") || url.starts_with("https://");
        if !url.is_empty() && !http {
            return Err(TwilioError::invalid("EventCallbackUrl", "must be an http(s) URL"));
        }
        events.url = Some(url).filter(|u| !u.is_empty());
    }
    if let Some(filter) = form.get("EventsFilter") {
        let list: Vec<String> = filter.split(',').map(|e| e.trim().to_string()).filter(|e| !e.is_empty()).collect();
        events.filter = Some(list).filter(|l| !l.is_empty());
    }
    emu.webhooks.set_workspace_events(events);
    fetch_workspace(State(emu), Path(p)).await
}

/// twilio-oai taskrouter v1 `FetchWorkflow`: `taskrouter.v1.workspace.workflow`. `configuration` is the JSON string
/// TaskRouter stores: every task to the configured queue (<https://www.twilio.com/docs/taskrouter/workflow-configuration>).
async fn fetch_workflow(State(emu): State<Shared>, Path(p): Params) -> R {
    let ws_url = workspace(&emu, &p)?;
    let ww = &p["ww"];
    if ww != &emu.config.workflow_sid {
        return Err(TwilioError::not_found(&format!("/v1/Workspaces/{}/Workflows/{ww}", p["ws"])));
    }
    let configuration = json!({
        "task_routing": {
            "filters": [{ "filter_friendly_name": "Everyone", "expression": "1==1", "targets": [{ "queue": emu.config.queue_sid }] }],
            "default_filter": { "queue": emu.config.queue_sid },
        }
    });
    let url = format!("{ws_url}/Workflows/{ww}");
    ok(json!({
        "account_sid": emu.config.account_sid,
        "assignment_callback_url": null,
        "configuration": configuration.to_string(),
        "date_created": CREATED,
        "date_updated": CREATED,
        "document_content_type": "application/json",
        "fallback_assignment_callback_url": null,
        "friendly_name": "Assign to Anyone (emulator)",
        "sid": ww,
        "task_reservation_timeout": 120,
        "workspace_sid": emu.config.workspace_sid,
        "url": url,
        "links": { "statistics": format!("{url}/Statistics"), "real_time_statistics": format!("{url}/RealTimeStatistics"), "cumulative_statistics": format!("{url}/CumulativeStatistics") },
    }))
}

/// twilio-oai taskrouter v1 `FetchTaskQueue`: `taskrouter.v1.workspace.task_queue`. A queue SID of another workspace
/// is not found under this one.
async fn fetch_task_queue(State(emu): State<Shared>, Path(p): Params) -> R {
    let ws_url = workspace(&emu, &p)?;
    let wq = &p["wq"];
    if wq != &emu.config.queue_sid {
        return Err(TwilioError::not_found(&format!("/v1/Workspaces/{}/TaskQueues/{wq}", p["ws"])));
    }
    let url = format!("{ws_url}/TaskQueues/{wq}");
    ok(json!({
        "account_sid": emu.config.account_sid,
        "assignment_activity_sid": null,
        "assignment_activity_name": null,
        "date_created": CREATED,
        "date_updated": CREATED,
        "friendly_name": "Everyone (emulator)",
        "max_reserved_workers": 1,
        "reservation_activity_sid": null,
        "reservation_activity_name": null,
        "sid": wq,
        "target_workers": "1==1",
        "task_order": "FIFO",
        "url": url,
        "workspace_sid": emu.config.workspace_sid,
        "links": {
            "workspace": ws_url,
            "statistics": format!("{url}/Statistics"),
            "real_time_statistics": format!("{url}/RealTimeStatistics"),
            "cumulative_statistics": format!("{url}/CumulativeStatistics"),
            "list_statistics": format!("{ws_url}/TaskQueues/Statistics"),
        },
    }))
}

/// twilio-oai taskrouter v1 `ListTaskChannel` (paged, key `channels`): `taskrouter.v1.workspace.task_channel` items.
async fn list_task_channels(State(emu): State<Shared>, Path(p): Params, Query(q): Q) -> R {
    let ws_url = workspace(&emu, &p)?;
    let items = TASK_CHANNELS
        .iter()
        .enumerate()
        .map(|(i, (unique, friendly))| {
            let tc = format!("TC{:032x}", 0xc0_u128 + i as u128);
            json!({
                "account_sid": emu.config.account_sid,
                "date_created": CREATED,
                "date_updated": CREATED,
                "friendly_name": friendly,
                "sid": tc,
                "unique_name": unique,
                "workspace_sid": emu.config.workspace_sid,
                "channel_optimized_routing": null,
                "url": format!("{ws_url}/TaskChannels/{tc}"),
                "links": { "workspace": ws_url },
            })
        })
        .collect();
    // TaskRouter lists page up to 1000 (twilio-oai `ListTaskChannel` `PageSize` maximum); the helper's 1..100 bound
    // covers what any client asks for here.
    ok(page(emu.base_url(), &format!("/v1/Workspaces/{}/TaskChannels", p["ws"]), "channels", items, &q)?)
}
