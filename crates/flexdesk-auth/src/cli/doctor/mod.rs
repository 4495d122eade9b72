//! `flexdesk-auth doctor`: a read-only preflight of the configured Twilio account. One line per check, each failure
//! with the setting to fix and how; exit status 1 when any check fails. It only reads (GET); it never prints the API
//! key secret, the auth token or the session secret.
//!
//! Every Twilio call is an operation of Twilio's API description (twilio-oai, `node_modules/@twilio-alpha/mcp/
//! twilio-oai/spec/json/`):
//!
//! | check | operation (spec file) | path |
//! |---|---|---|
//! | API key, auth token | `ListService` (twilio_conversations_v1.json) | `GET /v1/Services` |
//! | Conversations service | `FetchService` (twilio_conversations_v1.json) | `GET /v1/Services/{IS}` |
//! | Flex service is the default | `FetchConfiguration` (twilio_conversations_v1.json) | `GET /v1/Configuration` |
//! | webhook target | `FetchServiceWebhookConfiguration`, `FetchConfigurationWebhook` (twilio_conversations_v1.json) | `GET /v1/Services/{IS}/Configuration/Webhooks`, `GET /v1/Configuration/Webhooks` |
//! | address | `FetchConfigurationAddress` (twilio_conversations_v1.json) | `GET /v1/Configuration/Addresses/{IG}` |
//! | Flex Flow | `FetchFlexFlow` (twilio_flex_v1.json) | `GET /v1/FlexFlows/{FO}` |
//! | workspace | `FetchWorkspace` (twilio_taskrouter_v1.json) | `GET /v1/Workspaces/{WS}` |
//! | workflow | `FetchWorkflow` (twilio_taskrouter_v1.json) | `GET /v1/Workspaces/{WS}/Workflows/{WW}` |
//! | queue | `FetchTaskQueue` (twilio_taskrouter_v1.json) | `GET /v1/Workspaces/{WS}/TaskQueues/{WQ}` |
//! | task channel | `ListTaskChannel` (twilio_taskrouter_v1.json) | `GET /v1/Workspaces/{WS}/TaskChannels` |
//!
//! Checked from the settings alone, first (`settings.rs`): an unset `HANDOFF_SECRET` (routing keys dropped), the
//! repository's demo secrets, plain-http URLs to another machine.
//!
//! The customer token is checked offline (Twilio's REST API takes no access tokens, and joining a conversation with
//! the SDK would need one to exist): it is minted as for a chat, verified with the key secret that Twilio accepted,
//! and its chat grant must name the service the start mode creates conversations in. See docs/auth-server.md.

mod settings;

use std::fmt;
use std::sync::Arc;

use serde_json::Value;

use crate::infra::config::{Config, StartMode};
use crate::infra::metrics::Metrics;
use crate::twilio::token::{self, TokenKeys};
use crate::twilio::client::{Operation, TwilioClient, CallError};

const LIST_SERVICES: Operation = Operation::repeatable("doctor_list_services");
const FETCH_SERVICE: Operation = Operation::repeatable("doctor_fetch_service");
const FETCH_CONFIGURATION: Operation = Operation::repeatable("doctor_fetch_configuration");
const FETCH_SERVICE_WEBHOOKS: Operation = Operation::repeatable("doctor_fetch_service_webhooks");
const FETCH_ACCOUNT_WEBHOOKS: Operation = Operation::repeatable("doctor_fetch_account_webhooks");
const FETCH_ADDRESS: Operation = Operation::repeatable("doctor_fetch_address");
const FETCH_FLEX_FLOW: Operation = Operation::repeatable("doctor_fetch_flex_flow");
const FETCH_STUDIO_FLOW: Operation = Operation::repeatable("doctor_fetch_studio_flow");
const FETCH_WORKSPACE: Operation = Operation::repeatable("doctor_fetch_workspace");
const FETCH_WORKFLOW: Operation = Operation::repeatable("doctor_fetch_workflow");
const FETCH_QUEUE: Operation = Operation::repeatable("doctor_fetch_queue");
const LIST_TASK_CHANNELS: Operation = Operation::repeatable("doctor_list_task_channels");

/// The TaskRouter task channel flexdesk's chats are routed on (and the availability figures are narrowed to).
const TASK_CHANNEL: &str = "chat";

/// The outcome of one [`Check`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Works.
    Ok,
    /// Works, but something an administrator should know (not a failure: exit status 0).
    Warn,
    /// Broken: `doctor` exits with a failure status.
    Fail,
    /// Not configured, or depends on a check that failed.
    Skip,
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Status::Ok => "ok  ",
            Status::Warn => "warn",
            Status::Fail => "FAIL",
            Status::Skip => "skip",
        })
    }
}

/// One line of the report.
#[derive(Debug, Clone)]
pub struct Check {
    /// Short name of what was checked (e.g. the setting or Twilio resource).
    pub name: &'static str,
    /// The outcome.
    pub status: Status,
    /// What was found, for the administrator.
    pub detail: String,
    /// For a failure (or a warning): what to change, naming the setting.
    pub fix: Option<String>,
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {:<22} {}", self.status, self.name, self.detail)?;
        if let Some(fix) = &self.fix {
            write!(f, " Fix: {fix}")?;
        }
        Ok(())
    }
}

fn check(name: &'static str, status: Status, detail: impl Into<String>) -> Check {
    Check { name, status, detail: detail.into(), fix: None }
}

fn fail(name: &'static str, detail: impl Into<String>, fix: impl Into<String>) -> Check {
    Check { name, status: Status::Fail, detail: detail.into(), fix: Some(fix.into()) }
}

fn warn(name: &'static str, detail: impl Into<String>, fix: impl Into<String>) -> Check {
    Check { name, status: Status::Warn, detail: detail.into(), fix: Some(fix.into()) }
}

/// What a Twilio error says, without anything secret (Twilio's messages hold SIDs and paths, never credentials).
fn said(e: &CallError) -> String {
    match e {
        CallError::Api { status, code: Some(code), .. } => format!("Twilio answered HTTP {status}, error {code} (https://www.twilio.com/docs/errors/{code})"),
        CallError::Api { status, code: None, .. } => format!("Twilio answered HTTP {status}"),
        CallError::Unreachable { detail, .. } => format!("Twilio did not answer ({detail})"),
        CallError::BadResponse { detail, .. } => format!("unexpected answer: {detail}"),
        CallError::Busy { .. } => "not sent (paced)".into(),
    }
}

/// A failure that is not about the resource: the caller gets the same fix for every such check.
fn transport_fix(config: &Config, base: &str) -> String {
    let key = if base == config.conversations_api_url {
        "TWILIO_CONVERSATIONS_API_URL"
    } else if base == config.flex_api_url {
        "TWILIO_FLEX_API_URL"
    } else {
        "TWILIO_TASKROUTER_API_URL"
    };
    format!("check that this host reaches {base} over HTTPS (firewall, HTTPS_PROXY / NO_PROXY, TLS inspection), and {key} (leave it unset for Twilio)")
}

fn str_of<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

/// Runs every check, in order, and returns the report.
pub async fn run(config: &Config) -> Vec<Check> {
    let metrics = Arc::new(Metrics::default());
    let rest = TwilioClient::new(config, metrics);
    let conv = &config.conversations_api_url;
    let tr = &config.taskrouter_api_url;
    // 0. What the settings alone say (no Twilio call).
    let mut out = settings::checks(config);

    // 1. The API key: it signs every customer token, so Twilio must accept it for this account.
    let services_url = format!("{conv}/v1/Services?PageSize=100");
    let key_ok = match rest.get(LIST_SERVICES, &services_url).await {
        Ok(list) => {
            let services = list.get("services").and_then(Value::as_array).cloned().unwrap_or_default();
            match services.iter().filter_map(|s| str_of(s, "account_sid")).find(|a| *a != config.account_sid) {
                Some(other) => {
                    out.push(fail(
                        "API key",
                        format!("TWILIO_API_KEY_SID {} belongs to account {other}, not TWILIO_ACCOUNT_SID {}.", config.api_key_sid, config.account_sid),
                        "create the key in the account of TWILIO_ACCOUNT_SID (a subaccount's key cannot sign its parent's tokens), or correct TWILIO_ACCOUNT_SID.",
                    ));
                    false
                }
                None => {
                    out.push(check("API key", Status::Ok, format!("Twilio accepts TWILIO_API_KEY_SID {} with its secret ({} Conversations services visible).", config.api_key_sid, services.len())));
                    true
                }
            }
        }
        Err(e @ CallError::Api { status: 401 | 403, .. }) => {
            out.push(fail(
                "API key",
                format!("Twilio refused TWILIO_API_KEY_SID {} with TWILIO_API_KEY_SECRET: {}.", config.api_key_sid, said(&e)),
                "create a Standard API key in the Console (API keys & tokens) of account TWILIO_ACCOUNT_SID and set TWILIO_API_KEY_SID and TWILIO_API_KEY_SECRET to its SID and secret (the secret is shown once).",
            ));
            false
        }
        Err(e) => {
            out.push(fail("API key", format!("could not check TWILIO_API_KEY_SID: {}.", said(&e)), transport_fix(config, conv)));
            false
        }
    };

    // 2. The auth token, when set: it only checks webhook signatures, so a wrong one fails here and stops nothing else.
    match &config.auth_token {
        None => out.push(check("auth token", Status::Skip, "TWILIO_AUTH_TOKEN is not set: TWILIO_WEBHOOKS cannot be verified without it (REST calls use the API key either way).")),
        Some(token) => match rest.with_credentials(&config.account_sid, token, config.twilio_max_retries).get(LIST_SERVICES, &services_url).await {
            Ok(_) => out.push(check("auth token", Status::Ok, format!("Twilio accepts TWILIO_ACCOUNT_SID {} with TWILIO_AUTH_TOKEN.", config.account_sid))),
            Err(e @ CallError::Api { status: 401 | 403, .. }) => out.push(fail(
                "auth token",
                format!("Twilio refused TWILIO_ACCOUNT_SID {} with TWILIO_AUTH_TOKEN: {}.", config.account_sid, said(&e)),
                "copy the Auth Token of that account from the Console (Account Info); after rotating it there, update TWILIO_AUTH_TOKEN (webhook signatures are checked with it).",
            )),
            Err(e) => out.push(fail("auth token", format!("could not check TWILIO_AUTH_TOKEN: {}.", said(&e)), transport_fix(config, conv))),
        },
    }
    if !key_ok {
        // The customer token is checked offline, so it still says what a refused key means for the chats.
        out.push(token_check(config, key_ok, false, None));
        out.push(check("the rest", Status::Skip, "skipped: fix the API key above first (every other check reads the account with it)."));
        return out;
    }

    // 3. The Conversations service: the customer's token names it, and the server addresses conversations in it.
    let service_sid = &config.conversations_service_sid;
    let service_ok = match rest.get(FETCH_SERVICE, &format!("{conv}/v1/Services/{service_sid}")).await {
        Ok(s) => {
            out.push(check("Conversations service", Status::Ok, format!("TWILIO_CONVERSATIONS_SERVICE_SID {service_sid} exists ({:?}).", str_of(&s, "friendly_name").unwrap_or(""))));
            true
        }
        Err(e) if e.is_not_found() => {
            out.push(fail(
                "Conversations service",
                format!("TWILIO_CONVERSATIONS_SERVICE_SID {service_sid} is not a Conversations service of account {}: {}.", config.account_sid, said(&e)),
                "set it to Flex's service: the `conversation_service_sid` of your Chat address (Flex Console > Messaging > Conversations Addresses), or Console > Conversations > Services.",
            ));
            false
        }
        Err(e) => {
            out.push(fail("Conversations service", format!("could not read TWILIO_CONVERSATIONS_SERVICE_SID {service_sid}: {}.", said(&e)), transport_fix(config, conv)));
            false
        }
    };

    // 3b. Flex requires its service to be the account's default, and the webhooks target decides what refresh hears.
    if service_ok {
        out.push(match rest.get(FETCH_CONFIGURATION, &format!("{conv}/v1/Configuration")).await {
            Ok(c) => default_service_check(config, &c),
            Err(e) => fail("default service", format!("could not read the account's Conversations configuration: {}.", said(&e)), transport_fix(config, conv)),
        });
        let service_hooks = rest.get(FETCH_SERVICE_WEBHOOKS, &format!("{conv}/v1/Services/{service_sid}/Configuration/Webhooks")).await;
        let account_hooks = rest.get(FETCH_ACCOUNT_WEBHOOKS, &format!("{conv}/v1/Configuration/Webhooks")).await;
        out.push(match (service_hooks, account_hooks) {
            (Ok(svc), Ok(acct)) => webhooks_check(config, &svc, &acct),
            (Err(e), _) | (_, Err(e)) => fail("webhooks", format!("could not read the webhook configuration: {}.", said(&e)), transport_fix(config, conv)),
        });
    }

    // 4. Where this start mode creates the conversation the customer joins.
    let mut chats_in: Option<String> = matches!(config.start_mode, StartMode::Interactions { .. }).then(|| service_sid.to_string());
    if let Some(ig) = &config.address_sid {
        let used = matches!(config.start_mode, StartMode::Webchat { .. });
        match rest.get(FETCH_ADDRESS, &format!("{conv}/v1/Configuration/Addresses/{ig}")).await {
            Ok(a) => {
                let (c, service) = address_check(config, ig, &a, used);
                if used {
                    chats_in = service;
                }
                out.push(c);
                let auto = a.get("auto_creation").cloned().unwrap_or(Value::Null);
                if let (Some("studio"), Some(fw)) = (str_of(&auto, "type"), str_of(&auto, "studio_flow_sid")) {
                    out.push(studio_flow_check(config, &rest, ig, fw, used).await);
                }
            }
            Err(e) if e.is_not_found() => out.push(fail_or_warn(
                used,
                "address",
                format!("TWILIO_ADDRESS_SID {ig} is not an Address Configuration of account {}: {}.", config.account_sid, said(&e)),
                "copy the SID (IG…) of your Chat address from Flex Console > Messaging > Conversations Addresses (or `twilio api:conversations:v1:configuration:addresses:list`).",
            )),
            Err(e) => out.push(fail("address", format!("could not read TWILIO_ADDRESS_SID {ig}: {}.", said(&e)), transport_fix(config, conv))),
        }
    } else {
        out.push(check("address", Status::Skip, "TWILIO_ADDRESS_SID is not set (only the webchat start mode needs it)."));
    }
    if let Some(fo) = &config.flex_flow_sid {
        let used = matches!(config.start_mode, StartMode::FlexFlow { .. });
        match rest.get(FETCH_FLEX_FLOW, &format!("{}/v1/FlexFlows/{fo}", config.flex_api_url)).await {
            Ok(f) => {
                let (c, service) = flex_flow_check(config, fo, &f, used);
                if used {
                    chats_in = service;
                }
                out.push(c);
            }
            Err(e) if e.is_not_found() => out.push(fail_or_warn(
                used,
                "Flex Flow",
                format!("TWILIO_FLEX_FLOW_SID {fo} is not a Flex Flow of account {}: {}.", config.account_sid, said(&e)),
                "copy the SID (FO…) from Flex Console > Messaging > Legacy Addresses (or `twilio api:flex:v1:flex-flows:list`), or move to FLEX_START_MODE=webchat.",
            )),
            Err(e) => out.push(fail("Flex Flow", format!("could not read TWILIO_FLEX_FLOW_SID {fo}: {}.", said(&e)), transport_fix(config, &config.flex_api_url))),
        }
    } else {
        out.push(check("Flex Flow", Status::Skip, "TWILIO_FLEX_FLOW_SID is not set (only the flexflow start mode needs it)."));
    }

    // 5. TaskRouter: the workspace, and the workflow, queue and task channel inside it.
    match (&config.workspace_sid, &config.workflow_sid, &config.queue_sid) {
        (None, None, None) => out.push(check("workspace", Status::Skip, "TWILIO_WORKSPACE_SID is not set: no availability figures (and the interactions start mode is off).")),
        (None, _, _) => out.push(fail(
            "workspace",
            "TWILIO_WORKFLOW_SID or TWILIO_QUEUE_SID is set without TWILIO_WORKSPACE_SID.",
            "set TWILIO_WORKSPACE_SID to Flex's workspace (Console > TaskRouter > Workspaces, \"Flex Task Assignment\").",
        )),
        (Some(ws), ww, wq) => taskrouter_checks(config, &rest, tr, ws, ww.as_deref(), wq.as_deref(), &mut out).await,
    }

    // 6. The customer token: minted as for a chat, verified with the secret Twilio accepted, for the right service.
    out.push(token_check(config, key_ok, service_ok, chats_in.as_deref()));
    out
}

/// Flex requires its service to be the default ("'Flex Chat Service' must be configured as the default Conversations
/// service", <https://www.twilio.com/docs/flex/developer/conversations/best-practices>).
fn default_service_check(config: &Config, c: &Value) -> Check {
    let service = &config.conversations_service_sid;
    match str_of(c, "default_chat_service_sid") {
        Some(d) if d == *service => check("default service", Status::Ok, format!("TWILIO_CONVERSATIONS_SERVICE_SID {service} is the account's default Conversations service, as Flex requires.")),
        other => fail(
            "default service",
            format!("the account's default Conversations service is {}, not TWILIO_CONVERSATIONS_SERVICE_SID {service}.", other.unwrap_or("unset")),
            "Flex requires the Flex Chat Service to be the default (Flex Conversations best practices): Console > Conversations > Defaults, or `twilio api:conversations:v1:configuration:update --default-chat-service-sid IS…`; or correct TWILIO_CONVERSATIONS_SERVICE_SID.",
        ),
    }
}

/// Which webhook target the Flex service has, against `TWILIO_WEBHOOKS`. A service's own webhooks replace the
/// account-level ones for that service ("only the service-scoped hooks will fire",
/// <https://www.twilio.com/docs/conversations/api/per-service-webhook-resource>).
fn webhooks_check(config: &Config, service: &Value, account: &Value) -> Check {
    let service_url = str_of(service, "post_webhook_url").filter(|u| !u.is_empty());
    let account_url = str_of(account, "post_webhook_url").filter(|u| !u.is_empty());
    let filters: Vec<&str> = service.get("filters").and_then(Value::as_array).map(|f| f.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
    let ours = service_url.is_some_and(|u| u.trim_end_matches('/').ends_with("/v1/twilio/webhooks"));
    let target = match (service_url, account_url) {
        (Some(s), Some(a)) => format!("the service posts to {s} (this replaces the account-level target {a} for the service)"),
        (Some(s), None) => format!("the service posts to {s}"),
        (None, Some(a)) => format!("no service webhook; the account-level target ({}) posts to {a}", str_of(account, "target").unwrap_or("?")),
        (None, None) => "no post-event webhook on the service or the account".into(),
    };
    match (config.webhooks.is_some(), ours, filters.contains(&"onConversationStateUpdated")) {
        (true, true, true) => check("webhooks", Status::Ok, format!("TWILIO_WEBHOOKS=on and {target}, with onConversationStateUpdated.")),
        (true, _, _) => fail(
            "webhooks",
            format!("TWILIO_WEBHOOKS=on but {target} (filters: {filters:?})."),
            "set the Flex service's PostWebhookUrl to <PUBLIC_BASE_URL>/v1/twilio/webhooks with the filters onConversationStateUpdated and onConversationRemoved (docs/auth-server.md, Twilio webhooks), or set TWILIO_WEBHOOKS=off (refresh then asks Twilio).",
        ),
        (false, true, _) => warn("webhooks", format!("TWILIO_WEBHOOKS is off but {target}: they are refused (404)."), "set TWILIO_WEBHOOKS=on (with TWILIO_AUTH_TOKEN), or remove the service's webhook."),
        (false, false, _) => check("webhooks", Status::Ok, format!("TWILIO_WEBHOOKS is off: refresh asks Twilio; {target}.")),
    }
}

fn fail_or_warn(used: bool, name: &'static str, detail: String, fix: &str) -> Check {
    if used {
        fail(name, detail, fix)
    } else {
        warn(name, format!("{detail} (not used by FLEX_START_MODE)"), fix)
    }
}

/// The Address Configuration: a chat address, auto-creating conversations in the configured service.
/// Returns the check and the service its conversations are created in.
fn address_check(config: &Config, ig: &str, a: &Value, used: bool) -> (Check, Option<String>) {
    let auto = a.get("auto_creation").cloned().unwrap_or(Value::Null);
    let service = str_of(&auto, "conversation_service_sid").map(String::from);
    let kind = str_of(a, "type").unwrap_or("?");
    let route = match str_of(&auto, "type") {
        Some("studio") => format!("Studio flow {}", str_of(&auto, "studio_flow_sid").unwrap_or("?")),
        Some("webhook") => "a webhook".into(),
        Some(other) => other.to_string(),
        None => "nothing".into(),
    };
    let c = if kind != "chat" {
        fail_or_warn(used, "address", format!("TWILIO_ADDRESS_SID {ig} is a {kind:?} address; POST /v2/WebChats needs a Chat address."), "create a Chat address (Flex Console > Messaging > Conversations Addresses > Create new Address > Chat) and set TWILIO_ADDRESS_SID to it.")
    } else if auto.get("enabled").and_then(Value::as_bool) != Some(true) {
        fail_or_warn(used, "address", format!("TWILIO_ADDRESS_SID {ig} has auto-creation off: no conversation, no Flex task."), "edit the address in Flex Console > Messaging > Conversations Addresses and turn the Flex integration (Studio flow) on.")
    } else {
        match &service {
            Some(s) if s != &config.conversations_service_sid => fail_or_warn(
                used,
                "address",
                format!("TWILIO_ADDRESS_SID {ig} creates its conversations in service {s}, not in TWILIO_CONVERSATIONS_SERVICE_SID {}.", config.conversations_service_sid),
                &format!("set TWILIO_CONVERSATIONS_SERVICE_SID={s} if that is Flex's service, or use an address of service {} (the customer's token would name the wrong service).", config.conversations_service_sid),
            ),
            None => warn(
                "address",
                format!("TWILIO_ADDRESS_SID {ig} names no conversation service: its conversations go to the account's default service."),
                "make sure TWILIO_CONVERSATIONS_SERVICE_SID is the account's default Conversations service, or set the address's service.",
            ),
            Some(s) => check("address", Status::Ok, format!("TWILIO_ADDRESS_SID {ig}: a chat address creating conversations in {s}, routed to {route}.")),
        }
    };
    (c, service)
}

/// The address's Studio flow, which creates the Flex task (the "Send to Flex" widget): it must exist and be
/// published. twilio-oai studio v2 `FetchFlow`, `status` is `draft` or `published` (`flow_enum_status`; the Flow
/// resource, <https://www.twilio.com/docs/studio/rest-api/v2/flow>); Studio runs a flow's published revision, so a
/// flow never published routes nothing.
async fn studio_flow_check(config: &Config, rest: &TwilioClient, ig: &str, fw: &str, used: bool) -> Check {
    let studio = &config.studio_api_url;
    match rest.get(FETCH_STUDIO_FLOW, &format!("{studio}/v2/Flows/{fw}")).await {
        Ok(f) if str_of(&f, "status") == Some("published") => {
            check("Studio flow", Status::Ok, format!("TWILIO_ADDRESS_SID {ig} runs Studio flow {fw} ({:?}), published.", str_of(&f, "friendly_name").unwrap_or("")))
        }
        Ok(f) => fail_or_warn(
            used,
            "Studio flow",
            format!("TWILIO_ADDRESS_SID {ig} runs Studio flow {fw}, whose status is {:?}: its changes are not live, and a flow never published creates no Flex task.", str_of(&f, "status").unwrap_or("?")),
            "open the flow in Twilio Console > Studio and Publish it.",
        ),
        Err(e) if e.is_not_found() => fail_or_warn(
            used,
            "Studio flow",
            format!("TWILIO_ADDRESS_SID {ig} names Studio flow {fw}, which does not exist: {}.", said(&e)),
            "edit the address (Flex Console > Messaging > Conversations Addresses) and choose your \"Send to Flex\" flow.",
        ),
        Err(e) => fail("Studio flow", format!("could not read Studio flow {fw}: {}.", said(&e)), transport_fix(config, studio)),
    }
}

/// The Flex Flow: enabled, a web channel, in the configured service (Programmable Chat's end of life noted).
fn flex_flow_check(config: &Config, fo: &str, f: &Value, used: bool) -> (Check, Option<String>) {
    let service = str_of(f, "chat_service_sid").map(String::from);
    let integration = f.get("integration").cloned().unwrap_or(Value::Null);
    let c = if f.get("enabled").and_then(Value::as_bool) == Some(false) {
        fail_or_warn(used, "Flex Flow", format!("TWILIO_FLEX_FLOW_SID {fo} is disabled."), "enable it (Flex Console > Messaging > Legacy Addresses) or move to FLEX_START_MODE=webchat.")
    } else if let Some(s) = service.as_ref().filter(|s| **s != config.conversations_service_sid) {
        fail_or_warn(
            used,
            "Flex Flow",
            format!("TWILIO_FLEX_FLOW_SID {fo} belongs to chat service {s}, not TWILIO_CONVERSATIONS_SERVICE_SID {}.", config.conversations_service_sid),
            &format!("set TWILIO_CONVERSATIONS_SERVICE_SID={s} if that is Flex's service, or use the Flex Flow of service {}.", config.conversations_service_sid),
        )
    } else if str_of(f, "integration_type") == Some("task")
        && config.workspace_sid.is_some()
        && str_of(&integration, "workspace_sid").is_some_and(|w| Some(w) != config.workspace_sid.as_deref())
    {
        fail_or_warn(
            used,
            "Flex Flow",
            format!("TWILIO_FLEX_FLOW_SID {fo} creates tasks in workspace {}, not TWILIO_WORKSPACE_SID.", str_of(&integration, "workspace_sid").unwrap_or("?")),
            "set TWILIO_WORKSPACE_SID to the flow's workspace, or correct the flow's integration.",
        )
    } else if used {
        warn(
            "Flex Flow",
            format!("TWILIO_FLEX_FLOW_SID {fo}: enabled, a {} flow of {}; but Flex Flows are Programmable Chat, whose end of life for Flex Twilio set for 2026-06-01.", str_of(f, "channel_type").unwrap_or("?"), service.as_deref().unwrap_or("?")),
            "move to FLEX_START_MODE=webchat (a Chat address) or interactions (https://www.twilio.com/docs/flex/developer/conversations/programmable-chat-to-flex-conversations).",
        )
    } else {
        check("Flex Flow", Status::Ok, format!("TWILIO_FLEX_FLOW_SID {fo}: enabled, in {} (not used by FLEX_START_MODE).", service.as_deref().unwrap_or("?")))
    };
    (c, service)
}

async fn taskrouter_checks(config: &Config, rest: &TwilioClient, tr: &str, ws: &str, ww: Option<&str>, wq: Option<&str>, out: &mut Vec<Check>) {
    match rest.get(FETCH_WORKSPACE, &format!("{tr}/v1/Workspaces/{ws}")).await {
        Ok(w) => out.push(check("workspace", Status::Ok, format!("TWILIO_WORKSPACE_SID {ws} exists ({:?}).", str_of(&w, "friendly_name").unwrap_or("")))),
        Err(e) if e.is_not_found() => {
            out.push(fail(
                "workspace",
                format!("TWILIO_WORKSPACE_SID {ws} is not a TaskRouter workspace of account {}: {}.", config.account_sid, said(&e)),
                "set it to Flex's workspace (Console > TaskRouter > Workspaces, \"Flex Task Assignment\"; or `twilio api:taskrouter:v1:workspaces:list`).",
            ));
            out.push(check("workflow, queue", Status::Skip, "skipped: they are read inside the workspace."));
            return;
        }
        Err(e) => {
            out.push(fail("workspace", format!("could not read TWILIO_WORKSPACE_SID {ws}: {}.", said(&e)), transport_fix(config, tr)));
            return;
        }
    }
    let mut routes_to: Option<String> = None;
    match ww {
        None => out.push(check("workflow", Status::Skip, "TWILIO_WORKFLOW_SID is not set (only the interactions start mode needs it).")),
        Some(ww) => match rest.get(FETCH_WORKFLOW, &format!("{tr}/v1/Workspaces/{ws}/Workflows/{ww}")).await {
            Ok(w) => {
                routes_to = str_of(&w, "configuration").map(String::from);
                out.push(check("workflow", Status::Ok, format!("TWILIO_WORKFLOW_SID {ww} is a workflow of {ws} ({:?}).", str_of(&w, "friendly_name").unwrap_or(""))));
            }
            Err(e) if e.is_not_found() => out.push(fail(
                "workflow",
                format!("TWILIO_WORKFLOW_SID {ww} is not a workflow of TWILIO_WORKSPACE_SID {ws}: {}.", said(&e)),
                "copy the workflow's SID from Console > TaskRouter > Workspaces > (Flex's workspace) > Workflows; a workflow of another workspace does not count.",
            )),
            Err(e) => out.push(fail("workflow", format!("could not read TWILIO_WORKFLOW_SID {ww}: {}.", said(&e)), transport_fix(config, tr))),
        },
    }
    match wq {
        None => out.push(check("queue", Status::Skip, "TWILIO_QUEUE_SID is not set: GET /v1/agents/availability answers 503 availability_not_configured.")),
        Some(wq) => match rest.get(FETCH_QUEUE, &format!("{tr}/v1/Workspaces/{ws}/TaskQueues/{wq}")).await {
            Ok(q) => {
                let name = str_of(&q, "friendly_name").unwrap_or("");
                match &routes_to {
                    Some(conf) if !conf.contains(wq) => out.push(warn(
                        "queue",
                        format!("TWILIO_QUEUE_SID {wq} ({name:?}) is in {ws}, but TWILIO_WORKFLOW_SID never routes to it: availability would count a queue the chats do not reach."),
                        "set TWILIO_QUEUE_SID to a queue the workflow targets, or add it to the workflow's filters.",
                    )),
                    _ => out.push(check("queue", Status::Ok, format!("TWILIO_QUEUE_SID {wq} is a queue of {ws} ({name:?}){}.", if routes_to.is_some() { ", targeted by the workflow" } else { "" }))),
                }
            }
            Err(e) if e.is_not_found() => out.push(fail(
                "queue",
                format!("TWILIO_QUEUE_SID {wq} is not a queue of TWILIO_WORKSPACE_SID {ws}: {}.", said(&e)),
                "copy the queue's SID from Console > TaskRouter > Workspaces > (Flex's workspace) > Task Queues; queue and workspace must belong together.",
            )),
            Err(e) => out.push(fail("queue", format!("could not read TWILIO_QUEUE_SID {wq}: {}.", said(&e)), transport_fix(config, tr))),
        },
    }
    match rest.get(LIST_TASK_CHANNELS, &format!("{tr}/v1/Workspaces/{ws}/TaskChannels?PageSize=100")).await {
        Ok(list) => {
            let channels = list.get("channels").and_then(Value::as_array).cloned().unwrap_or_default();
            if channels.iter().any(|c| str_of(c, "unique_name") == Some(TASK_CHANNEL)) {
                out.push(check("task channel", Status::Ok, format!("{ws} has the {TASK_CHANNEL:?} task channel (chats are routed and counted on it).")));
            } else {
                out.push(fail(
                    "task channel",
                    format!("TWILIO_WORKSPACE_SID {ws} has no task channel with unique name {TASK_CHANNEL:?}."),
                    "use Flex's workspace (it has \"chat\", shown as Programmable Chat), or create the task channel (Console > TaskRouter > Workspaces > Task Channels).",
                ));
            }
        }
        Err(e) => out.push(fail("task channel", format!("could not list the task channels of {ws}: {}.", said(&e)), transport_fix(config, tr))),
    }
}

/// The closest read-only check that a customer token can read the conversation it would join.
fn token_check(config: &Config, key_ok: bool, service_ok: bool, chats_in: Option<&str>) -> Check {
    let keys = TokenKeys {
        account_sid: &config.account_sid,
        api_key_sid: &config.api_key_sid,
        api_key_secret: config.api_key_secret.expose(),
        service_sid: &config.conversations_service_sid,
    };
    let minted = token::mint(&keys, "flexdesk-doctor", crate::infra::clock::unix_now(), 60);
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
    validation.set_required_spec_claims(&["exp"]);
    let decoded = jsonwebtoken::decode::<token::Claims>(&minted.token, &jsonwebtoken::DecodingKey::from_secret(config.api_key_secret.expose().as_bytes()), &validation);
    let grant = decoded.as_ref().ok().filter(|d| d.claims.iss == config.api_key_sid && d.claims.sub == config.account_sid).map(|d| d.claims.grants.chat.service_sid.clone());
    match (decoded.is_ok(), grant) {
        (false, _) | (_, None) => fail("customer token", "a token minted with TWILIO_API_KEY_SECRET does not verify with it.", "report this as a bug in flexdesk-auth."),
        _ if !key_ok => fail(
            "customer token",
            "customer tokens are signed with an API key Twilio refused: the SDK would fail with error 20103/20107.",
            "fix TWILIO_API_KEY_SID / TWILIO_API_KEY_SECRET (see \"API key\" above).",
        ),
        (_, Some(g)) if chats_in.is_some_and(|s| s != g) => fail(
            "customer token",
            format!("the token's chat grant names {g} but the chat is created in {}: the SDK would not find the conversation.", chats_in.unwrap_or("?")),
            "make TWILIO_CONVERSATIONS_SERVICE_SID the service the address (or Flex Flow) creates conversations in (see above).",
        ),
        (_, Some(g)) if !service_ok => fail("customer token", format!("the token's chat grant names {g}, which is not a service of this account."), "fix TWILIO_CONVERSATIONS_SERVICE_SID (see above)."),
        (_, Some(g)) => check(
            "customer token",
            Status::Ok,
            format!(
                "a customer token (HS256, chat grant for {g}, signed with {}, which Twilio accepts) names the service the chat is created in{}; checked offline: REST takes no access tokens, so no conversation is joined.",
                config.api_key_sid,
                chats_in.map(|s| format!(" ({s})")).unwrap_or_default()
            ),
        ),
    }
}

/// Prints the report, one line per check, and returns the exit status: 1 when any check failed.
pub fn print(config: &Config, checks: &[Check]) -> i32 {
    println!("flexdesk-auth doctor: account {}, FLEX_START_MODE={} (read-only; no secret is printed)", config.account_sid, config.start_mode.as_str());
    for c in checks {
        println!("{c}");
    }
    let failed = checks.iter().filter(|c| c.status == Status::Fail).count();
    if failed == 0 {
        println!("all checks passed");
        0
    } else {
        println!("{failed} check(s) failed");
        1
    }
}
