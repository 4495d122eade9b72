//! The emulated Twilio REST paths (flex-api, conversations, taskrouter), all on one port. Shapes follow
//! Twilio's public API: snake_case JSON, `attributes` as a JSON string, Twilio's error body.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};

use crate::rest_support::{page, Form};
use crate::state::{Conversation, Message, Participant, Shared};
use crate::twilio_error::TwilioError;
use crate::util::{iso8601, sid};

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
        .route("/v1/Interactions/{kd}/Channels/{uo}", post(update_interaction_channel))
        .route("/v1/Channels", post(create_flex_channel))
        .route("/v1/Workspaces/{ws}/TaskQueues/{wq}/RealTimeStatistics", get(queue_statistics))
        .route("/v1/Workspaces/{ws}/Workers/Statistics", get(worker_statistics))
        // The default service's paths, and the same paths scoped to the configured service.
        .nest("/v1", conversations.clone())
        .nest("/v1/Services/{is}", conversations)
}

fn check_service(emu: &Shared, p: &HashMap<String, String>) -> Result<(), TwilioError> {
    match p.get("is") {
        Some(is) if *is != emu.config.service_sid => Err(TwilioError::not_found(&format!("/v1/Services/{is}"))),
        _ => Ok(()),
    }
}

fn created(v: Value) -> R {
    Ok((StatusCode::CREATED, Json(v)).into_response())
}

fn ok(v: Value) -> R {
    Ok(Json(v).into_response())
}

// ---- representations -----------------------------------------------------------------------------

fn conversation_rest(emu: &Shared, c: &Conversation) -> Value {
    let url = format!("{}/v1/Conversations/{}", emu.base_url(), c.sid);
    json!({
        "account_sid": emu.config.account_sid,
        "chat_service_sid": emu.config.service_sid,
        "messaging_service_sid": null,
        "sid": c.sid,
        "friendly_name": c.friendly_name,
        "unique_name": c.unique_name,
        "attributes": c.attributes,
        "state": c.state,
        "date_created": iso8601(c.date_created),
        "date_updated": iso8601(c.date_updated),
        "timers": {},
        "bindings": null,
        "url": url,
        "links": {
            "participants": format!("{url}/Participants"),
            "messages": format!("{url}/Messages"),
            "webhooks": format!("{url}/Webhooks"),
        },
    })
}

fn participant_rest(emu: &Shared, conversation_sid: &str, p: &Participant) -> Value {
    json!({
        "account_sid": emu.config.account_sid,
        "chat_service_sid": emu.config.service_sid,
        "conversation_sid": conversation_sid,
        "sid": p.sid,
        "identity": p.identity,
        "attributes": p.attributes,
        "messaging_binding": null,
        "role_sid": null,
        "last_read_message_index": p.last_read_message_index,
        "last_read_timestamp": p.last_read_at.map(iso8601),
        "date_created": iso8601(p.date_created),
        "date_updated": iso8601(p.date_updated),
        "url": format!("{}/v1/Conversations/{conversation_sid}/Participants/{}", emu.base_url(), p.sid),
    })
}

fn message_rest(emu: &Shared, conversation_sid: &str, m: &Message) -> Value {
    let media: Value = if m.media.is_empty() {
        Value::Null
    } else {
        m.media
            .iter()
            .map(|x| json!({"sid": x.sid, "size": x.size, "content_type": x.content_type, "filename": x.filename, "category": "media"}))
            .collect()
    };
    json!({
        "account_sid": emu.config.account_sid,
        "chat_service_sid": emu.config.service_sid,
        "conversation_sid": conversation_sid,
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
        "url": format!("{}/v1/Conversations/{conversation_sid}/Messages/{}", emu.base_url(), m.sid),
        "links": {"delivery_receipts": format!("{}/v1/Conversations/{conversation_sid}/Messages/{}/Receipts", emu.base_url(), m.sid)},
    })
}

// ---- flex-api ------------------------------------------------------------------------------------

/// The attributes a task carries: the pre-engagement data (whatever JSON the caller sent), plus the
/// names Flex uses for the customer.
fn task_attributes(customer_name: Option<String>, pre_engagement: Option<Value>, channel: &str, conversation_sid: &str) -> Value {
    let mut attrs = json!({"channelType": channel, "conversationSid": conversation_sid});
    if let Some(name) = customer_name {
        attrs["customerName"] = json!(name);
        attrs["name"] = json!(name);
    }
    if let Some(pre) = pre_engagement {
        attrs["pre_engagement_data"] = pre.clone();
        // Flatten an object's fields too, so routing keys (topic, skill, language…) sit at the top
        // level as a Studio "Send to Flex" widget would put them.
        if let Value::Object(map) = pre {
            for (k, v) in map {
                attrs[k] = v;
            }
        }
    }
    attrs
}

/// `PreEngagementData` is a JSON string on the real API; a non-JSON value is kept as text.
fn pre_engagement(form: &Form) -> Option<Value> {
    form.get("PreEngagementData").map(|s| serde_json::from_str(&s).unwrap_or(Value::String(s)))
}

async fn create_webchat(State(emu): State<Shared>, headers: HeaderMap, body: Bytes) -> R {
    let form = Form::parse(&headers, &body)?;
    let address = form.require("AddressSid")?;
    if address != emu.config.address_sid {
        return Err(TwilioError::new(404, 20404, format!("Address configuration {address} not found")));
    }
    let customer = form.get("CustomerFriendlyName");
    let conv = emu.create_conversation(form.get("ChatFriendlyName"), None, None, None)?;
    // The caller may choose the identity (flexdesk does); otherwise a UUID-like one, as Twilio's.
    let identity = match form.get("Identity").filter(|i| !i.trim().is_empty()) {
        Some(i) => i,
        None => {
            let h = sid("").to_lowercase();
            format!("{}-{}-{}-{}-{}", &h[0..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32])
        }
    };
    let attrs = json!({"member_type": "customer", "friendlyName": customer}).to_string();
    emu.add_participant(&conv.sid, Some(identity.clone()), Some(attrs))?;
    emu.create_task(&conv.sid, task_attributes(customer, pre_engagement(&form), "web", &conv.sid), None);
    created(json!({"conversation_sid": conv.sid, "identity": identity}))
}

async fn create_interaction(State(emu): State<Shared>, headers: HeaderMap, body: Bytes) -> R {
    let form = Form::parse(&headers, &body)?;
    let channel = form.json("Channel")?.ok_or_else(|| TwilioError::missing("Channel"))?;
    let routing = form.json("Routing")?.ok_or_else(|| TwilioError::missing("Routing"))?;
    if channel["type"] != "chat" && channel["type"] != "web" {
        return Err(TwilioError::invalid("Channel", "type must be chat (the emulator routes chats only)"));
    }
    let conv_sid = channel["properties"]["media_channel_sid"]
        .as_str()
        .ok_or_else(|| TwilioError::invalid("Channel", "properties.media_channel_sid (the conversation CH…) is required"))?
        .to_string();
    let conv = emu.conversation(&conv_sid).map_err(|_| TwilioError::invalid("Channel", &format!("conversation {conv_sid} does not exist")))?;
    let props = &routing["properties"];
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
    attrs["conversationSid"] = json!(conv.sid);
    attrs["channelType"] = json!("web");
    let (kd, uo) = (sid("KD"), sid("UO"));
    let task = emu.create_task(&conv.sid, attrs.clone(), Some((kd.clone(), uo.clone())));
    let url = format!("{}/v1/Interactions/{kd}", emu.base_url());
    created(json!({
        "sid": kd,
        "channel": {"type": channel["type"], "sid": uo, "initiated_by": channel["initiated_by"], "properties": channel["properties"]},
        "routing": {"properties": {
            "sid": task.sid,
            "workspace_sid": emu.config.workspace_sid,
            "workflow_sid": emu.config.workflow_sid,
            "queue_sid": emu.config.queue_sid,
            "task_channel_unique_name": props["task_channel_unique_name"],
            "attributes": attrs,
            "assignment_status": "pending",
        }},
        "interaction_context_sid": null,
        "url": url,
        "links": {"channels": format!("{url}/Channels")},
    }))
}

async fn update_interaction_channel(State(emu): State<Shared>, Path(p): Params, headers: HeaderMap, body: Bytes) -> R {
    let form = Form::parse(&headers, &body)?;
    let status = form.require("Status")?;
    let (kd, uo) = (&p["kd"], &p["uo"]);
    let task = emu
        .lock()
        .tasks
        .iter()
        .find(|t| t.interaction_sid.as_deref() == Some(kd) && t.channel_sid.as_deref() == Some(uo))
        .cloned()
        .ok_or_else(|| TwilioError::not_found(&format!("/v1/Interactions/{kd}/Channels/{uo}")))?;
    let routing_closed = form.json("Routing")?.is_some_and(|r| r["status"] == "closed");
    match status.as_str() {
        "closed" => {
            emu.update_conversation(&task.conversation_sid, Some("closed".into()), None, None)?;
        }
        "inactive" => {
            if routing_closed {
                emu.update_conversation(&task.conversation_sid, Some("closed".into()), None, None)?;
            } else {
                emu.update_conversation(&task.conversation_sid, Some("inactive".into()), None, None)?;
            }
        }
        other => return Err(TwilioError::invalid("Status", &format!("{other:?} is not closed or inactive"))),
    }
    ok(json!({
        "sid": uo,
        "interaction_sid": kd,
        "type": "chat",
        "status": status,
        "media_properties": {"media_channel_sid": task.conversation_sid},
        "url": format!("{}/v1/Interactions/{kd}/Channels/{uo}", emu.base_url()),
    }))
}

/// Legacy Flex Flow: one call creates the channel (a conversation), the chat user and the task.
async fn create_flex_channel(State(emu): State<Shared>, headers: HeaderMap, body: Bytes) -> R {
    let form = Form::parse(&headers, &body)?;
    let flow = form.require("FlexFlowSid")?;
    if flow != emu.config.flex_flow_sid {
        return Err(TwilioError::new(404, 20404, format!("Flex Flow {flow} not found")));
    }
    let identity = form.require("Identity")?;
    let user_name = form.require("ChatUserFriendlyName")?;
    let chat_name = form.require("ChatFriendlyName")?;
    let conv = emu.create_conversation(Some(chat_name), form.get("ChatUniqueName"), None, None)?;
    let attrs = json!({"member_type": "customer", "friendlyName": user_name}).to_string();
    emu.add_participant(&conv.sid, Some(identity), Some(attrs))?;
    let task = emu.create_task(&conv.sid, task_attributes(Some(user_name), pre_engagement(&form), "web", &conv.sid), None);
    let now = iso8601(crate::util::now_secs());
    created(json!({
        "account_sid": emu.config.account_sid,
        "flex_flow_sid": flow,
        "sid": conv.sid,
        "user_sid": sid("US"),
        "task_sid": task.sid,
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

async fn queue_statistics(State(emu): State<Shared>, Path(p): Params) -> R {
    check_workspace(&emu, &p)?;
    if p["wq"] != emu.config.queue_sid {
        return Err(TwilioError::not_found(&format!("/v1/Workspaces/{}/TaskQueues/{}", p["ws"], p["wq"])));
    }
    let mut stats = emu.queue_statistics();
    stats["account_sid"] = json!(emu.config.account_sid);
    stats["workspace_sid"] = json!(emu.config.workspace_sid);
    stats["task_queue_sid"] = json!(emu.config.queue_sid);
    stats["url"] = json!(format!("{}/v1/Workspaces/{}/TaskQueues/{}/RealTimeStatistics", emu.base_url(), p["ws"], p["wq"]));
    ok(stats)
}

async fn worker_statistics(State(emu): State<Shared>, Path(p): Params) -> R {
    check_workspace(&emu, &p)?;
    let stats = emu.queue_statistics();
    ok(json!({
        "account_sid": emu.config.account_sid,
        "workspace_sid": emu.config.workspace_sid,
        "realtime": {
            "total_workers": stats["total_eligible_workers"],
            "activity_statistics": stats["activity_statistics"],
            "tasks_by_status": stats["tasks_by_status"],
        },
        "cumulative": {},
        "url": format!("{}/v1/Workspaces/{}/Workers/Statistics", emu.base_url(), p["ws"]),
    }))
}

// ---- conversations -------------------------------------------------------------------------------

async fn create_conversation(State(emu): State<Shared>, Path(p): Params, headers: HeaderMap, body: Bytes) -> R {
    check_service(&emu, &p)?;
    let form = Form::parse(&headers, &body)?;
    let c = emu.create_conversation(form.get("FriendlyName"), form.get("UniqueName"), form.get("Attributes"), form.get("State"))?;
    created(conversation_rest(&emu, &c))
}

async fn list_conversations(State(emu): State<Shared>, Path(p): Params, Query(q): Q) -> R {
    check_service(&emu, &p)?;
    let items: Vec<Value> = {
        let st = emu.lock();
        st.conversations
            .iter()
            .filter(|c| q.get("State").map_or(true, |s| *s == c.state))
            .map(|c| conversation_rest(&emu, c))
            .collect()
    };
    ok(page(emu.base_url(), "/v1/Conversations", "conversations", items, &q)?)
}

async fn fetch_conversation(State(emu): State<Shared>, Path(p): Params) -> R {
    check_service(&emu, &p)?;
    ok(conversation_rest(&emu, &emu.conversation(&p["ch"])?))
}

async fn update_conversation(State(emu): State<Shared>, Path(p): Params, headers: HeaderMap, body: Bytes) -> R {
    check_service(&emu, &p)?;
    let form = Form::parse(&headers, &body)?;
    let c = emu.update_conversation(&p["ch"], form.get("State"), form.get("Attributes"), form.get("FriendlyName"))?;
    ok(conversation_rest(&emu, &c))
}

async fn delete_conversation(State(emu): State<Shared>, Path(p): Params) -> R {
    check_service(&emu, &p)?;
    emu.delete_conversation(&p["ch"])?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn create_participant(State(emu): State<Shared>, Path(p): Params, headers: HeaderMap, body: Bytes) -> R {
    check_service(&emu, &p)?;
    let form = Form::parse(&headers, &body)?;
    let identity = form.get("Identity");
    if identity.is_none() && form.get("MessagingBinding.Address").is_none() {
        return Err(TwilioError::missing("Identity"));
    }
    let conv = emu.conversation(&p["ch"])?;
    let participant = emu.add_participant(&conv.sid, identity, form.get("Attributes"))?;
    created(participant_rest(&emu, &conv.sid, &participant))
}

async fn list_participants(State(emu): State<Shared>, Path(p): Params, Query(q): Q) -> R {
    check_service(&emu, &p)?;
    let conv = emu.conversation(&p["ch"])?;
    let items = conv.participants.iter().map(|x| participant_rest(&emu, &conv.sid, x)).collect();
    ok(page(emu.base_url(), &format!("/v1/Conversations/{}/Participants", conv.sid), "participants", items, &q)?)
}

async fn fetch_participant(State(emu): State<Shared>, Path(p): Params) -> R {
    check_service(&emu, &p)?;
    let conv = emu.conversation(&p["ch"])?;
    let part = conv
        .participants
        .iter()
        .find(|x| x.sid == p["mb"] || x.identity.as_deref() == Some(&p["mb"]))
        .ok_or_else(|| TwilioError::not_found(&format!("/v1/Conversations/{}/Participants/{}", conv.sid, p["mb"])))?;
    ok(participant_rest(&emu, &conv.sid, part))
}

async fn delete_participant(State(emu): State<Shared>, Path(p): Params) -> R {
    check_service(&emu, &p)?;
    emu.remove_participant(&p["ch"], &p["mb"])?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn create_message(State(emu): State<Shared>, Path(p): Params, headers: HeaderMap, body: Bytes) -> R {
    check_service(&emu, &p)?;
    let form = Form::parse(&headers, &body)?;
    let conv = emu.conversation(&p["ch"])?;
    let m = emu.add_message(&conv.sid, form.get("Author"), form.get("Body"), form.get("Attributes"), form.all("MediaSid"))?;
    created(message_rest(&emu, &conv.sid, &m))
}

async fn list_messages(State(emu): State<Shared>, Path(p): Params, Query(q): Q) -> R {
    check_service(&emu, &p)?;
    let conv = emu.conversation(&p["ch"])?;
    let mut items: Vec<Value> = conv.messages.iter().map(|m| message_rest(&emu, &conv.sid, m)).collect();
    match q.get("Order").map(String::as_str) {
        None | Some("asc") => {}
        Some("desc") => items.reverse(),
        Some(other) => return Err(TwilioError::invalid("Order", &format!("{other:?} is not asc or desc"))),
    }
    ok(page(emu.base_url(), &format!("/v1/Conversations/{}/Messages", conv.sid), "messages", items, &q)?)
}

async fn fetch_message(State(emu): State<Shared>, Path(p): Params) -> R {
    check_service(&emu, &p)?;
    let conv = emu.conversation(&p["ch"])?;
    let m = conv
        .messages
        .iter()
        .find(|m| m.sid == p["im"] || m.index.to_string() == p["im"])
        .ok_or_else(|| TwilioError::not_found(&format!("/v1/Conversations/{}/Messages/{}", conv.sid, p["im"])))?;
    ok(message_rest(&emu, &conv.sid, m))
}
