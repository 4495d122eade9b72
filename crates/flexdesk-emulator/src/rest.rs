//! The emulated Twilio REST paths (flex-api, conversations, taskrouter), all on one port. Shapes follow
//! Twilio's official API description (twilio-oai, `twilio_flex_v1.json`, `twilio_flex_v2.json`,
//! `twilio_conversations_v1.json`, `twilio_taskrouter_v1.json`): snake_case JSON, `attributes` as a JSON string,
//! Twilio's error body. Every rule cites its source; the table is in docs/emulator.md.
//!
//! Over 600 lines because it is the one router of every emulated REST path, each handler a few lines that parse
//! Twilio's form and call the state; the rules themselves live in `state.rs`, `pipeline.rs`, `timers.rs`, `sms.rs`.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};
use twilio_model::limits;

use crate::pipeline::Integration;
use crate::ratelimit::Endpoint;
use crate::rest_support::{page, Form};
use crate::state::{ChannelStatus, Conversation, ConversationState, Interaction, Message, Participant, Shared, Task};
use crate::twilio_error::TwilioError;
use crate::util::{iso8601, now_secs, sid};

type Params = Path<HashMap<String, String>>;
type Q = Query<HashMap<String, String>>;
type R = Result<Response, TwilioError>;


pub fn router() -> Router<Shared> {
    let conversations = Router::new()
        .route("/Conversations", post(create_conversation).get(list_conversations))
        .route("/Conversations/{ch}", get(fetch_conversation).post(update_conversation).delete(delete_conversation))
        .route("/Conversations/{ch}/Participants", post(create_participant).get(list_participants))
        .route("/Conversations/{ch}/Participants/{mb}", get(fetch_participant).delete(delete_participant))
        .route("/Conversations/{ch}/Messages", post(create_message).get(list_messages))
        .route("/Conversations/{ch}/Messages/{im}", get(fetch_message));
    Router::new()
        .route("/v2/WebChats", post(create_webchat))
        .route("/v1/Interactions", post(create_interaction))
        .route("/v1/Interactions/{kd}/Channels/{uo}", post(update_interaction_channel).get(fetch_interaction_channel))
        .route("/v1/Channels", post(create_flex_channel))
        .route("/v1/Workspaces/{ws}/TaskQueues/{wq}/RealTimeStatistics", get(queue_statistics))
        .route("/v1/Workspaces/{ws}/Workers/Statistics", get(worker_statistics))
        .route("/v1/Services/{is}/Configuration/Webhooks", get(fetch_service_webhooks).post(update_service_webhooks))
        // The media service (mcs.us1.twilio.com), read with account credentials: crate::media::record.
        .route("/v1/Services/{is}/Media/{me}", get(crate::media::record))
        // `/v1/Conversations/…` addresses the account's default service only; `/v1/Services/{IS}/Conversations/…`
        // any service of the account (twilio-oai: the two path families of twilio_conversations_v1.json).
        .nest("/v1", conversations.clone())
        .nest("/v1/Services/{is}", conversations)
}

/// A REST change fires the Conversations webhooks (and an address's integration) only with
/// `X-Twilio-Webhook-Enabled: true` (twilio-oai: the header parameter of the Conversations create/update/delete
/// operations; <https://help.twilio.com/articles/360046342593>).
fn webhook_enabled(headers: &HeaderMap) -> bool {
    headers.get("x-twilio-webhook-enabled").and_then(|v| v.to_str().ok()).is_some_and(|v| v.eq_ignore_ascii_case("true"))
}

/// The service a Conversations path addresses: the default service for `/v1/Conversations/…`, the named one for
/// `/v1/Services/{IS}/…` (404 / 20404 when the account has no such service).
fn service(emu: &Shared, p: &HashMap<String, String>) -> Result<String, TwilioError> {
    match p.get("is") {
        Some(is) if emu.known_service(is) => Ok(is.clone()),
        Some(is) => Err(TwilioError::not_found(&format!("/v1/Services/{is}"))),
        None => Ok(emu.config.default_service_sid.clone()),
    }
}

/// Where a service's conversations live: `/v1` for the default service, `/v1/Services/{IS}` for the others.
fn base_path(emu: &Shared, service_sid: &str) -> String {
    if service_sid == emu.config.default_service_sid {
        "/v1".into()
    } else {
        format!("/v1/Services/{service_sid}")
    }
}

fn created(v: Value) -> R {
    Ok((StatusCode::CREATED, Json(v)).into_response())
}

fn ok(v: Value) -> R {
    Ok(Json(v).into_response())
}

// ---- representations -----------------------------------------------------------------------------

fn conversation_url(emu: &Shared, c: &Conversation) -> String {
    format!("{}{}/Conversations/{}", emu.base_url(), base_path(emu, &c.service_sid), c.sid)
}

fn conversation_rest(emu: &Shared, c: &Conversation) -> Value {
    let url = conversation_url(emu, c);
    json!({
        "account_sid": emu.config.account_sid,
        "chat_service_sid": c.service_sid,
        "messaging_service_sid": null,
        "sid": c.sid,
        "friendly_name": c.friendly_name,
        "unique_name": c.unique_name,
        "attributes": c.attributes,
        "state": c.state,
        "date_created": iso8601(c.date_created),
        "date_updated": iso8601(c.date_updated),
        "timers": c.timers.rest(),
        "bindings": null,
        "url": url,
        "links": {
            "participants": format!("{url}/Participants"),
            "messages": format!("{url}/Messages"),
            "webhooks": format!("{url}/Webhooks"),
        },
    })
}

/// conversations v1: the participant of a service-scoped path (`conversations.v1.service.service_conversation.
/// service_conversation_participant`) has `chat_service_sid`; the default-service one
/// (`conversations.v1.conversation.conversation_participant`) does not.
fn participant_rest(emu: &Shared, c: &Conversation, p: &Participant, scoped: bool) -> Value {
    let mut v = json!({
        "account_sid": emu.config.account_sid,
        "chat_service_sid": c.service_sid,
        "conversation_sid": c.sid,
        "sid": p.sid,
        "identity": p.identity,
        "attributes": p.attributes,
        "messaging_binding": emu.lock().sms.binding_json(&p.sid),
        "role_sid": null,
        "last_read_message_index": p.last_read_message_index,
        "last_read_timestamp": p.last_read_at.map(iso8601),
        "date_created": iso8601(p.date_created),
        "date_updated": iso8601(p.date_updated),
        "url": format!("{}/Participants/{}", conversation_url(emu, c), p.sid),
    });
    if !scoped {
        v.as_object_mut().expect("object").remove("chat_service_sid");
    }
    v
}

fn message_rest(emu: &Shared, c: &Conversation, m: &Message) -> Value {
    let media: Value = if m.media.is_empty() {
        Value::Null
    } else {
        m.media
            .iter()
            .map(|x| json!({"sid": x.sid, "size": x.size, "content_type": x.content_type, "filename": x.filename, "category": "media"}))
            .collect()
    };
    let url = format!("{}/Messages/{}", conversation_url(emu, c), m.sid);
    json!({
        "account_sid": emu.config.account_sid,
        "chat_service_sid": c.service_sid,
        "conversation_sid": c.sid,
        "sid": m.sid,
        "index": m.index,
        "author": m.author,
        "body": m.body,
        "media": media,
        "attributes": m.attributes,
        "participant_sid": m.participant_sid,
        "date_created": iso8601(m.date_created),
        "date_updated": iso8601(m.date_created),
        "delivery": null,
        "content_sid": null,
        "links": {"delivery_receipts": format!("{url}/Receipts")},
        "url": url,
    })
}

/// twilio-oai `flex.v1.interaction.interaction_channel`: exactly its fields.
fn interaction_channel_rest(emu: &Shared, i: &Interaction) -> Value {
    let url = format!("{}/v1/Interactions/{}/Channels/{}", emu.base_url(), i.sid, i.channel_sid);
    json!({
        "sid": i.channel_sid,
        "interaction_sid": i.sid,
        "type": i.channel_type,
        "status": i.channel_status,
        "error_code": null,
        "error_message": null,
        "url": url,
        "links": {
            "participants": format!("{url}/Participants"),
            "invites": format!("{url}/Invites"),
            "transfers": format!("{url}/Transfers"),
        },
    })
}

// ---- flex-api ------------------------------------------------------------------------------------

/// `PreEngagementData` is a JSON string on the real API (kept as text when it is not JSON); at most 16 KB, else
/// 45731 "Pre-engagement data too large" (<https://www.twilio.com/docs/api/errors/45731>).
fn pre_engagement(form: &Form) -> Result<Option<Value>, TwilioError> {
    let Some(s) = form.get("PreEngagementData") else { return Ok(None) };
    if s.len() > limits::MAX_PRE_ENGAGEMENT_BYTES {
        return Err(TwilioError::new(400, 45731, "Failed to create webchat conversation. Pre-engagement data too large."));
    }
    Ok(Some(serde_json::from_str(&s).unwrap_or(Value::String(s))))
}

/// The pre-engagement data "is then saved to conversation attributes `conversations.attributes.pre_engagement_data`",
/// where Studio reads it as `trigger.conversation.ChannelAttributes.pre_engagement_data`
/// (<https://www.twilio.com/docs/flex/developer/conversations/integrate-twilio-webchat-react-app>).
fn pre_engagement_attributes(pre: &Option<Value>) -> Option<String> {
    pre.as_ref().map(|p| json!({ "pre_engagement_data": p }).to_string())
}

/// A UUID-shaped identity. Twilio chooses the identity (twilio-oai `CreateWebChannel` has no `Identity`
/// parameter); its format is not documented (the spec's example is "seinfeld"), so this shape is the emulator's.
fn chosen_identity() -> String {
    let h = sid("").to_lowercase();
    format!("{}-{}-{}-{}-{}", &h[0..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32])
}

/// `POST /v2/WebChats` (twilio-oai `CreateWebChannel`): `AddressSid` required, `ChatFriendlyName`,
/// `CustomerFriendlyName`, `PreEngagementData`; answers 201 `flex.v2.web_channel` `{conversation_sid, identity}`.
/// 5 requests per second per account (ratelimit.rs).
async fn create_webchat(State(emu): State<Shared>, headers: HeaderMap, body: Bytes) -> R {
    emu.admit(Endpoint::WebChats)?;
    let form = Form::parse(&headers, &body)?;
    let address = form.require("AddressSid")?;
    if address != emu.config.address_sid {
        return Err(TwilioError::new(404, 20404, format!("Address configuration {address} not found")));
    }
    let pre = pre_engagement(&form)?;
    let customer = form.get("CustomerFriendlyName");
    let conv = emu.create_conversation(&emu.config.service_sid, form.get("ChatFriendlyName"), None, pre_engagement_attributes(&pre), None)?;
    // Any `Identity` sent is ignored: the spec has no such parameter, Twilio chooses the identity.
    let identity = chosen_identity();
    // Emulator convenience: the customer's attributes carry member_type and friendlyName for the console.
    let attrs = json!({"member_type": "customer", "friendlyName": customer}).to_string();
    emu.add_participant(&conv.sid, Some(identity.clone()), Some(attrs))?;
    // No task yet: the address's Studio flow runs on the first onMessageAdded (pipeline.rs).
    emu.attach_integration(&conv.sid, Integration {
        customer_identity: identity.clone(),
        customer_name: customer,
        pre_engagement: pre,
        ran: false,
    });
    created(json!({"conversation_sid": conv.sid, "identity": identity}))
}

/// `POST /v1/Interactions` (twilio-oai `CreateInteraction`): `Channel` required, `Routing` optional (no task
/// without it), `InteractionContextSid`, `WebhookTtid`; answers 201 `flex.v1.interaction`. 20 requests per second.
async fn create_interaction(State(emu): State<Shared>, headers: HeaderMap, body: Bytes) -> R {
    emu.admit(Endpoint::Interactions)?;
    let form = Form::parse(&headers, &body)?;
    let channel = form.json("Channel")?.ok_or_else(|| TwilioError::missing("Channel"))?;
    let routing = form.json("Routing")?;
    let channel_type = channel["type"].as_str().unwrap_or_default().to_string();
    // twilio-oai `interaction_channel_enum_type`; the emulator routes chat-like channels only.
    if !matches!(channel_type.as_str(), "chat" | "web") {
        return Err(TwilioError::invalid("Channel", "type must be chat or web (the emulator has no other media)"));
    }
    let conv_sid = channel["properties"]["media_channel_sid"]
        .as_str()
        .ok_or_else(|| TwilioError::invalid("Channel", "properties.media_channel_sid (the conversation CH…) is required"))?
        .to_string();
    let conv = emu.conversation(&conv_sid).map_err(|_| TwilioError::invalid("Channel", &format!("conversation {conv_sid} does not exist")))?;
    let routing = match &routing {
        None => None,
        Some(r) => {
            let props = &r["properties"];
            if props["workspace_sid"].as_str() != Some(&emu.config.workspace_sid) {
                return Err(TwilioError::invalid("Routing", "properties.workspace_sid is not the configured workspace"));
            }
            if props["workflow_sid"].as_str() != Some(&emu.config.workflow_sid) {
                return Err(TwilioError::invalid("Routing", "properties.workflow_sid is not the configured workflow"));
            }
            let mut attrs = props.get("attributes").cloned().unwrap_or_else(|| json!({}));
            if let Value::String(s) = &attrs {
                attrs = serde_json::from_str(s).map_err(|_| TwilioError::invalid("Routing", "properties.attributes must be JSON"))?;
            }
            if !attrs.is_object() {
                return Err(TwilioError::invalid("Routing", "properties.attributes must be a JSON object"));
            }
            // TaskRouter's default task channel when none is named.
            let task_channel = props["task_channel_unique_name"].as_str().unwrap_or("default").to_string();
            Some((attrs, task_channel))
        }
    };
    // Accepted now, routed a moment later (pipeline.rs): the answer promises the task's SID, as the spec's
    // example shows it, but TaskRouter has it only once routing is done (or never, if the channel fails).
    let task = routing.map(|(attrs, task_channel)| crate::pipeline::promised_task(&conv.sid, attrs, &task_channel));
    let mut interaction = match &task {
        Some(t) => crate::pipeline::route(&emu, conv.sid.clone(), &channel_type, t.attributes.clone(), t.task_channel.clone(), Some(t.sid.clone())),
        None => emu.create_interaction(&conv.sid, &channel_type),
    };
    interaction.channel_type = channel_type;
    let url = format!("{}/v1/Interactions/{}", emu.base_url(), interaction.sid);
    created(json!({
        "sid": interaction.sid,
        "channel": {"type": interaction.channel_type, "sid": interaction.channel_sid},
        "routing": task.as_ref().map(|t| routing_rest(&emu, t)),
        "url": url,
        "links": {"channels": format!("{url}/Channels")},
        "interaction_context_sid": form.get("InteractionContextSid"),
        "webhook_ttid": form.get("WebhookTtid"),
    }))
}

/// The `routing` object of a created interaction, shaped as the spec's CreateInteraction example (the schema
/// leaves it untyped): `{reservation, properties: {sid: WT…, …, attributes: "<JSON string>"}}`.
fn routing_rest(emu: &Shared, t: &Task) -> Value {
    json!({
        "reservation": null,
        "properties": {
            "sid": t.sid,
            "account_sid": emu.config.account_sid,
            "workspace_sid": emu.config.workspace_sid,
            "workflow_sid": emu.config.workflow_sid,
            "queue_sid": emu.config.queue_sid,
            "task_channel_unique_name": t.task_channel,
            "assignment_status": t.status,
            "attributes": t.attributes.to_string(),
            "priority": 0,
            "age": 0,
            "timeout": 86400,
            "reason": "",
            "addons": "{}",
            "date_created": t.date_created,
            "date_updated": t.date_created,
        },
    })
}

/// `POST /v1/Interactions/{KD}/Channels/{UO}` (twilio-oai `UpdateInteractionChannel`): `Status` required
/// (`closed | inactive`); `Routing` `{"status":"closed"}` completes the tasks, without it they go to `wrapping`;
/// "Routing status is required when the channel status is set to `inactive`" (the spec's `Routing` description).
/// Answers 200 `flex.v1.interaction.interaction_channel`. 20 requests per second.
async fn update_interaction_channel(State(emu): State<Shared>, Path(p): Params, headers: HeaderMap, body: Bytes) -> R {
    emu.admit(Endpoint::InteractionChannel)?;
    let form = Form::parse(&headers, &body)?;
    let status = match form.require("Status")?.as_str() {
        "closed" => ChannelStatus::Closed,
        "inactive" => ChannelStatus::Inactive,
        other => return Err(TwilioError::invalid("Status", &format!("{other:?} is not closed or inactive"))),
    };
    let routing_closed = match form.json("Routing")? {
        None => false,
        Some(r) if r["status"] == "closed" => true,
        Some(_) => return Err(TwilioError::invalid("Routing", "the only allowed routing status is closed")),
    };
    if status == ChannelStatus::Inactive && !routing_closed {
        return Err(TwilioError::missing("Routing (required when Status is inactive)"));
    }
    let interaction = emu.update_interaction_channel(&p["kd"], &p["uo"], status, routing_closed)?;
    ok(interaction_channel_rest(&emu, &interaction))
}

/// `GET /v1/Interactions/{KD}/Channels/{UO}` (twilio-oai `FetchInteractionChannel`): the channel's `status`, e.g.
/// `failed` when routing failed (pipeline.rs).
async fn fetch_interaction_channel(State(emu): State<Shared>, Path(p): Params) -> R {
    let i = emu
        .lock()
        .interactions
        .iter()
        .find(|i| i.sid == p["kd"] && i.channel_sid == p["uo"])
        .cloned()
        .ok_or_else(|| TwilioError::not_found(&format!("/v1/Interactions/{}/Channels/{}", p["kd"], p["uo"])))?;
    ok(interaction_channel_rest(&emu, &i))
}

/// Legacy Flex Flow (twilio-oai `CreateChannel`, flex v1): one call creates the channel (a conversation of the
/// Flex service), the chat user and the task.
async fn create_flex_channel(State(emu): State<Shared>, headers: HeaderMap, body: Bytes) -> R {
    let form = Form::parse(&headers, &body)?;
    let flow = form.require("FlexFlowSid")?;
    if flow != emu.config.flex_flow_sid {
        return Err(TwilioError::new(404, 20404, format!("Flex Flow {flow} not found")));
    }
    let identity = form.require("Identity")?;
    let user_name = form.require("ChatUserFriendlyName")?;
    let chat_name = form.require("ChatFriendlyName")?;
    let pre = pre_engagement(&form)?;
    let conv = emu.create_conversation(&emu.config.service_sid, Some(chat_name), form.get("ChatUniqueName"), pre_engagement_attributes(&pre), None)?;
    let attrs = json!({"member_type": "customer", "friendlyName": user_name}).to_string();
    emu.add_participant(&conv.sid, Some(identity.clone()), Some(attrs))?;
    // The Flex Flow's Studio integration, like an address's, runs on the first onMessageAdded (pipeline.rs).
    emu.attach_integration(&conv.sid, Integration {
        customer_identity: identity,
        customer_name: Some(user_name),
        pre_engagement: pre,
        ran: false,
    });
    let now = iso8601(now_secs());
    created(json!({
        "account_sid": emu.config.account_sid,
        "flex_flow_sid": flow,
        "sid": conv.sid,
        "user_sid": sid("US"),
        // twilio-oai `flex.v1.channel.task_sid`: "The SID of the TaskRouter Task"; none exists until the flow
        // routes the chat (pipeline.rs), so null.
        "task_sid": null,
        "url": format!("{}/v1/Channels/{}", emu.base_url(), conv.sid),
        "date_created": now,
        "date_updated": now,
    }))
}

// ---- taskrouter ----------------------------------------------------------------------------------

fn check_workspace(emu: &Shared, p: &HashMap<String, String>) -> Result<(), TwilioError> {
    if p["ws"] != emu.config.workspace_sid {
        return Err(TwilioError::not_found(&format!("/v1/Workspaces/{}", p["ws"])));
    }
    Ok(())
}

/// twilio-oai `FetchTaskQueueRealTimeStatistics`, with its `TaskChannel` query parameter (a task channel's unique
/// name: only the emulator's names are known; a SID or unknown name counts no tasks).
async fn queue_statistics(State(emu): State<Shared>, Path(p): Params, Query(q): Q) -> R {
    check_workspace(&emu, &p)?;
    if p["wq"] != emu.config.queue_sid {
        return Err(TwilioError::not_found(&format!("/v1/Workspaces/{}/TaskQueues/{}", p["ws"], p["wq"])));
    }
    let mut stats = emu.queue_statistics(q.get("TaskChannel").map(String::as_str));
    stats["account_sid"] = json!(emu.config.account_sid);
    stats["workspace_sid"] = json!(emu.config.workspace_sid);
    stats["task_queue_sid"] = json!(emu.config.queue_sid);
    stats["url"] = json!(format!("{}/v1/Workspaces/{}/TaskQueues/{}/RealTimeStatistics", emu.base_url(), p["ws"], p["wq"]));
    ok(stats)
}

/// twilio-oai `FetchWorkerStatistics` (its example's `realtime` and `cumulative` objects).
async fn worker_statistics(State(emu): State<Shared>, Path(p): Params, Query(q): Q) -> R {
    check_workspace(&emu, &p)?;
    let stats = emu.queue_statistics(q.get("TaskChannel").map(String::as_str));
    ok(json!({
        "account_sid": emu.config.account_sid,
        "workspace_sid": emu.config.workspace_sid,
        "realtime": {
            "total_workers": stats["total_eligible_workers"],
            "activity_statistics": stats["activity_statistics"],
        },
        "cumulative": {},
        "url": format!("{}/v1/Workspaces/{}/Workers/Statistics", emu.base_url(), p["ws"]),
    }))
}

// ---- conversations -------------------------------------------------------------------------------

async fn create_conversation(State(emu): State<Shared>, Path(p): Params, headers: HeaderMap, body: Bytes) -> R {
    let svc = service(&emu, &p)?;
    let form = Form::parse(&headers, &body)?;
    let timers = crate::timers::requested(&form, true)?;
    let c = emu.create_conversation(&svc, form.get("FriendlyName"), form.get("UniqueName"), form.get("Attributes"), form.get("State"))?;
    created(conversation_rest(&emu, &crate::timers::apply(&emu, c, timers)?))
}

async fn list_conversations(State(emu): State<Shared>, Path(p): Params, Query(q): Q) -> R {
    let svc = service(&emu, &p)?;
    let state = match q.get("State") {
        None => None,
        Some(s) => Some(ConversationState::parse(s).ok_or_else(|| TwilioError::invalid("State", &format!("{s:?} is not active, inactive or closed")))?),
    };
    let items: Vec<Value> = {
        let st = emu.lock();
        st.conversations
            .iter()
            .filter(|c| c.service_sid == svc && state.map_or(true, |s| s == c.state))
            .map(|c| conversation_rest(&emu, c))
            .collect()
    };
    ok(page(emu.base_url(), &format!("{}/Conversations", base_path(&emu, &svc)), "conversations", items, &q)?)
}

async fn fetch_conversation(State(emu): State<Shared>, Path(p): Params) -> R {
    let svc = service(&emu, &p)?;
    ok(conversation_rest(&emu, &emu.conversation_in(&svc, &p["ch"])?))
}

async fn update_conversation(State(emu): State<Shared>, Path(p): Params, headers: HeaderMap, body: Bytes) -> R {
    let svc = service(&emu, &p)?;
    let form = Form::parse(&headers, &body)?;
    let conv = emu.conversation_in(&svc, &p["ch"])?;
    let timers = crate::timers::requested(&form, false)?;
    let c = emu.update_conversation(&conv.sid, form.get("State"), form.get("Attributes"), form.get("FriendlyName"), webhook_enabled(&headers))?;
    ok(conversation_rest(&emu, &crate::timers::apply(&emu, c, timers)?))
}

/// twilio-oai `FetchServiceWebhookConfiguration`.
async fn fetch_service_webhooks(State(emu): State<Shared>, Path(p): Params) -> R {
    let svc = service(&emu, &p)?;
    ok(crate::webhooks::target_json(&emu.config.account_sid, &svc, emu.base_url(), &emu.webhooks.target(&svc)))
}

/// twilio-oai `UpdateServiceWebhookConfiguration`: `PreWebhookUrl`, `PostWebhookUrl`, `Filters` (repeated),
/// `Method` (`GET` or `POST`); parameters not sent keep their value. Only post-event webhooks are sent (the
/// emulator fires no pre-event hooks).
async fn update_service_webhooks(State(emu): State<Shared>, Path(p): Params, headers: HeaderMap, body: Bytes) -> R {
    let svc = service(&emu, &p)?;
    let form = Form::parse(&headers, &body)?;
    let mut t = emu.webhooks.target(&svc);
    for (key, slot) in [("PreWebhookUrl", &mut t.pre_webhook_url), ("PostWebhookUrl", &mut t.post_webhook_url)] {
        if let Some(url) = form.get(key) {
            if !url.is_empty() && !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(TwilioError::invalid(key, "not an absolute http(s) URL"));
            }
            *slot = (!url.is_empty()).then_some(url);
        }
    }
    let filters = form.all("Filters");
    if !filters.is_empty() {
        t.filters = filters;
    }
    if let Some(m) = form.get("Method") {
        let m = m.to_ascii_uppercase();
        if m != "GET" && m != "POST" {
            return Err(TwilioError::invalid("Method", "must be GET or POST"));
        }
        t.method = m;
    }
    emu.webhooks.set_target(&svc, t.clone());
    ok(crate::webhooks::target_json(&emu.config.account_sid, &svc, emu.base_url(), &t))
}

async fn delete_conversation(State(emu): State<Shared>, Path(p): Params, headers: HeaderMap) -> R {
    let svc = service(&emu, &p)?;
    let conv = emu.conversation_in(&svc, &p["ch"])?;
    emu.delete_conversation(&conv.sid, webhook_enabled(&headers))?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn create_participant(State(emu): State<Shared>, Path(p): Params, headers: HeaderMap, body: Bytes) -> R {
    let svc = service(&emu, &p)?;
    let form = Form::parse(&headers, &body)?;
    let identity = form.get("Identity");
    if identity.is_none() && form.get("MessagingBinding.Address").is_none() {
        return Err(TwilioError::missing("Identity"));
    }
    let conv = emu.conversation_in(&svc, &p["ch"])?;
    let participant = match (identity, form.get("MessagingBinding.Address")) {
        (None, Some(address)) => emu.add_sms_participant(&conv.sid, address, form.get("MessagingBinding.ProxyAddress"), form.get("Attributes"))?,
        (identity, _) => emu.add_participant(&conv.sid, identity, form.get("Attributes"))?,
    };
    created(participant_rest(&emu, &conv, &participant, p.contains_key("is")))
}

async fn list_participants(State(emu): State<Shared>, Path(p): Params, Query(q): Q) -> R {
    let svc = service(&emu, &p)?;
    let conv = emu.conversation_in(&svc, &p["ch"])?;
    let items = conv.participants.iter().map(|x| participant_rest(&emu, &conv, x, p.contains_key("is"))).collect();
    let path = format!("{}/Conversations/{}/Participants", base_path(&emu, &svc), conv.sid);
    ok(page(emu.base_url(), &path, "participants", items, &q)?)
}

async fn fetch_participant(State(emu): State<Shared>, Path(p): Params) -> R {
    let svc = service(&emu, &p)?;
    let conv = emu.conversation_in(&svc, &p["ch"])?;
    let part = conv
        .participants
        .iter()
        .find(|x| x.sid == p["mb"] || x.identity.as_deref() == Some(&p["mb"]))
        .ok_or_else(|| TwilioError::not_found(&format!("/v1/Conversations/{}/Participants/{}", conv.sid, p["mb"])))?;
    ok(participant_rest(&emu, &conv, part, p.contains_key("is")))
}

async fn delete_participant(State(emu): State<Shared>, Path(p): Params) -> R {
    let svc = service(&emu, &p)?;
    let conv = emu.conversation_in(&svc, &p["ch"])?;
    emu.remove_participant(&conv.sid, &p["mb"])?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn create_message(State(emu): State<Shared>, Path(p): Params, headers: HeaderMap, body: Bytes) -> R {
    let svc = service(&emu, &p)?;
    let form = Form::parse(&headers, &body)?;
    let conv = emu.conversation_in(&svc, &p["ch"])?;
    let m = emu.add_message(&conv.sid, form.get("Author"), form.get("Body"), form.get("Attributes"), form.all("MediaSid"))?;
    if webhook_enabled(&headers) {
        crate::pipeline::message_added(&emu, &conv.sid);
    }
    created(message_rest(&emu, &conv, &m))
}

async fn list_messages(State(emu): State<Shared>, Path(p): Params, Query(q): Q) -> R {
    let svc = service(&emu, &p)?;
    let conv = emu.conversation_in(&svc, &p["ch"])?;
    let mut items: Vec<Value> = conv.messages.iter().map(|m| message_rest(&emu, &conv, m)).collect();
    match q.get("Order").map(String::as_str) {
        None | Some("asc") => {}
        Some("desc") => items.reverse(),
        Some(other) => return Err(TwilioError::invalid("Order", &format!("{other:?} is not asc or desc"))),
    }
    let path = format!("{}/Conversations/{}/Messages", base_path(&emu, &svc), conv.sid);
    ok(page(emu.base_url(), &path, "messages", items, &q)?)
}

async fn fetch_message(State(emu): State<Shared>, Path(p): Params) -> R {
    let svc = service(&emu, &p)?;
    let conv = emu.conversation_in(&svc, &p["ch"])?;
    let m = conv
        .messages
        .iter()
        .find(|m| m.sid == p["im"] || m.index.to_string() == p["im"])
        .ok_or_else(|| TwilioError::not_found(&format!("/v1/Conversations/{}/Messages/{}", conv.sid, p["im"])))?;
    ok(message_rest(&emu, &conv, m))
}
