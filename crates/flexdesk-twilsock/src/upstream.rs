//! The HTTP requests the SDK tunnels through twilsock (`method: "message"` frames with an `http_request` header):
//! the Conversations client API (configuration, my conversations, messages, typing, read horizon) and the Sync API
//! (documents, lists, maps, subscriptions). Only the path is used; the host the SDK put in the URL is ignored, so the
//! SDK's default hosts work unchanged.

use serde_json::{json, Value};
use twilio_model::time::iso8601;

use crate::backend::{BackendError, NewMessage};
use crate::entities::{self, Entity};
use crate::frame::Frame;
use crate::hub::Hub;

/// A tunnelled request, decoded.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    /// Percent-decoded path segments.
    pub segments: Vec<String>,
    /// Percent-decoded query parameters (first value of each).
    pub params: Vec<(String, String)>,
    pub content_type: String,
    pub body: Vec<u8>,
}

impl Request {
    pub fn from_frame(frame: &Frame) -> Option<Request> {
        let http = frame.header.get("http_request")?;
        let method = http.get("method")?.as_str()?.to_ascii_uppercase();
        let path = http.get("path")?.as_str()?;
        let segments = path
            .split('/')
            .filter(|s| !s.is_empty())
            .map(|s| percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned())
            .collect();
        let mut params = Vec::new();
        if let Some(Value::Object(p)) = http.get("params") {
            for (k, v) in p {
                let first = match v {
                    Value::Array(a) => a.first().cloned().unwrap_or(Value::Null),
                    other => other.clone(),
                };
                let raw = match first {
                    Value::String(s) => s,
                    Value::Null => continue,
                    other => other.to_string(),
                };
                params.extend(form_decode(k, &raw));
            }
        }
        let content_type = frame.header.get("payload_type").and_then(Value::as_str).unwrap_or("application/json").to_string();
        Some(Request { method, segments, params, content_type, body: frame.payload.clone() })
    }

    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    fn json_body(&self) -> Result<Value, Response> {
        if self.body.is_empty() {
            return Ok(json!({}));
        }
        serde_json::from_slice(&self.body).map_err(|e| Response::error(400, 50100, &format!("body is not JSON: {e}")))
    }

    fn form_body(&self) -> Vec<(String, String)> {
        form_urlencoded::parse(&self.body).into_owned().collect()
    }
}

/// One query parameter as the SDK encoded it, form-decoded (`+` is a space).
fn form_decode(key: &str, raw: &str) -> Option<(String, String)> {
    form_urlencoded::parse(format!("{key}={raw}").as_bytes()).into_owned().next()
}

/// What the tunnelled request answers, plus anything to send after the reply.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub body: Value,
    pub after: Vec<Frame>,
}

impl Response {
    pub fn ok(body: Value) -> Response {
        Response { status: 200, body, after: vec![] }
    }

    pub fn created(body: Value) -> Response {
        Response { status: 201, body, after: vec![] }
    }

    /// A Twilio-shaped error body.
    pub fn error(status: u16, code: u32, message: &str) -> Response {
        Response {
            status,
            body: json!({"status": status, "code": code, "message": message,
                "more_info": format!("https://www.twilio.com/docs/errors/{code}")}),
            after: vec![],
        }
    }

    fn from_backend(e: BackendError) -> Response {
        let (status, code) = e.status_and_code();
        Response::error(status, code, e.message())
    }
}

/// The connection a request arrived on.
pub struct Caller<'a> {
    pub session: u64,
    pub identity: &'a str,
}

pub fn handle(hub: &Hub, caller: &Caller, req: &Request) -> Response {
    let segs: Vec<&str> = req.segments.iter().map(String::as_str).collect();
    let result = match (req.method.as_str(), segs.as_slice()) {
        ("GET", ["Client", "v2", "Configuration"]) => Ok(configuration(hub, caller)),
        ("GET", ["v1", "Me", "Conversations"]) => Ok(my_conversations(hub, caller)),
        ("GET", ["v1", "Me", "Conversations", id]) => my_conversation(hub, caller, id),
        ("POST", ["v1", "Me", "Conversations", ch]) => set_read_horizon(hub, caller, ch, req),
        ("GET", ["v1", "Conversations", ch]) => peek_conversation(hub, ch),
        ("POST", ["v1", "Conversations", ch, "Messages"]) => send_message(hub, caller, ch, req),
        ("POST", ["v1", "Conversations", ch, "Participants"]) => join(hub, caller, ch),
        ("POST", ["v1", "Typing"]) => typing(hub, caller, req),
        ("GET", ["v1", "Users", identity]) => Ok(user(hub, identity)),
        ("GET", ["v3", "Documents", name]) => document(hub, caller, name),
        ("GET", ["v3", "Lists", name]) => collection(hub, caller, name, "list", false),
        ("GET", ["v3", "Maps", name]) => {
            let include = req.param("Include") == Some("items");
            collection(hub, caller, name, "map", include)
        }
        ("GET", ["v3", "Lists", name, "Items"]) | ("GET", ["v3", "Maps", name, "Items"]) => items(hub, caller, name, req),
        ("GET", ["v3", "Lists", name, "Items", key]) | ("GET", ["v3", "Maps", name, "Items", key]) => {
            single_item(hub, caller, name, key)
        }
        ("POST", ["v4", "Subscriptions"]) => subscriptions(hub, caller, req),
        _ => Err(Response::error(404, 20404, &format!("no such resource: {} /{}", req.method, req.segments.join("/")))),
    };
    result.unwrap_or_else(|e| e)
}

fn api(hub: &Hub, path: &str) -> String {
    format!("{}{}", hub.config.api_base_url, path)
}

fn configuration(hub: &Hub, caller: &Caller) -> Response {
    let media = hub.config.media_base_url.clone();
    Response::ok(json!({
        "identity": caller.identity,
        "links": {
            "my_conversations": api(hub, "/v1/Me/Conversations"),
            "conversations": api(hub, "/v1/Conversations"),
            "users": api(hub, "/v1/Users"),
            "current_user": api(hub, "/v1/Me"),
            "typing": api(hub, "/v1/Typing"),
            "media_service": format!("{media}{}/v1/Services/{}/Media", crate::mcs::PREFIX, hub.config.service_sid),
            "media_set_service": format!("{media}{}/v1/Services/{}/MediaSet", crate::mcs::PREFIX, hub.config.service_sid),
            "messages_receipts": api(hub, "/v1/Conversations/%s/Messages/%s/Receipts"),
        },
        "options": {
            "consumption_report_interval": "PT1S",
            "http_cache_interval": "PT1S",
            "reachability_enabled": false,
            "user_infos_to_subscribe": 100,
            "media_attachments_count_limit": 1,
            "media_attachment_size_limit_in_mb": 16,
            "media_attachments_total_size_limit_in_mb": 64,
            "email_histories_allowed_mime_types": [],
            "email_bodies_allowed_mime_types": [],
        },
        "sync_objects": {
            "my_conversations": Entity::MyConversations(caller.identity.to_string()).name(),
            "my_user_info": Entity::UserInfo(caller.identity.to_string()).name(),
        },
    }))
}

/// Messages after `last_read` (all of them when nothing was read yet).
fn unread_count(hub: &Hub, ch: &str, last_read: Option<u64>) -> u64 {
    let messages = hub.backend.messages(ch).unwrap_or_default();
    match last_read {
        None => messages.len() as u64,
        Some(i) => messages.iter().filter(|m| m.index > i).count() as u64,
    }
}

fn conversation_descriptor(hub: &Hub, caller: &Caller, ch: &str) -> Option<Value> {
    let c = hub.backend.conversation(ch)?;
    let me = hub.backend.participants(ch).ok()?.into_iter().find(|p| p.is(caller.identity));
    let last_read = me.as_ref().and_then(|p| p.last_read_message_index);
    Some(json!({
        "conversation_sid": c.sid,
        "status": if me.is_some() { "joined" } else { "notParticipating" },
        "last_read_message_index": last_read,
        // The SDK reads null as "no read horizon set".
        "unread_messages_count": last_read.map(|i| unread_count(hub, ch, Some(i))),
        "notification_level": "default",
        "friendly_name": c.friendly_name,
        "unique_name": c.unique_name,
        "attributes": c.attributes,
        "date_created": iso8601(c.date_created),
        "date_updated": iso8601(c.date_updated),
        "created_by": entities::CREATED_BY,
        "sync_objects": {
            "conversation": Entity::Conversation(c.sid.clone()).name(),
            "messages": Entity::Messages(c.sid.clone()).name(),
            "participants": Entity::Roster(c.sid.clone()).name(),
        },
    }))
}

fn my_conversations(hub: &Hub, caller: &Caller) -> Response {
    let list: Vec<Value> = hub
        .backend
        .conversations_of(caller.identity)
        .iter()
        .filter_map(|c| conversation_descriptor(hub, caller, &c.sid))
        .collect();
    Response::ok(json!({"conversations": list, "meta": {"next_token": null, "previous_token": null}}))
}

fn my_conversation(hub: &Hub, caller: &Caller, id: &str) -> Result<Response, Response> {
    // The SDK looks conversations up here by unique name; accept SIDs too.
    let sid = hub
        .backend
        .conversations_of(caller.identity)
        .into_iter()
        .find(|c| c.sid == id || c.unique_name.as_deref() == Some(id))
        .map(|c| c.sid)
        .ok_or_else(|| Response::error(404, 50350, &format!("conversation {id} not found")))?;
    conversation_descriptor(hub, caller, &sid).map(Response::ok).ok_or_else(|| Response::error(404, 50350, "conversation not found"))
}

fn peek_conversation(hub: &Hub, ch: &str) -> Result<Response, Response> {
    let c = hub.backend.conversation(ch).ok_or_else(|| Response::error(404, 50350, &format!("conversation {ch} not found")))?;
    Ok(Response::ok(json!({
        "sid": c.sid,
        "participants_count": hub.backend.participants(ch).map(|p| p.len()).unwrap_or(0),
        "messages_count": hub.backend.messages(ch).map(|m| m.len()).unwrap_or(0),
        "friendly_name": c.friendly_name,
        "unique_name": c.unique_name,
        "attributes": c.attributes,
        "date_created": iso8601(c.date_created),
        "date_updated": iso8601(c.date_updated),
        "created_by": entities::CREATED_BY,
        "status": "notParticipating",
        "sync_objects": {
            "conversation": Entity::Conversation(c.sid.clone()).name(),
            "messages": Entity::Messages(c.sid.clone()).name(),
            "participants": Entity::Roster(c.sid.clone()).name(),
        },
    })))
}

fn require_participant(hub: &Hub, caller: &Caller, ch: &str) -> Result<(), Response> {
    let participants = hub.backend.participants(ch).map_err(Response::from_backend)?;
    if participants.iter().any(|p| p.is(caller.identity)) {
        Ok(())
    } else {
        Err(Response::error(403, 50400, "you are not a participant of this conversation"))
    }
}

fn set_read_horizon(hub: &Hub, caller: &Caller, ch: &str, req: &Request) -> Result<Response, Response> {
    let body = req.json_body()?;
    let index = match body.get("last_read_message_index") {
        None | Some(Value::Null) => None,
        Some(v) => Some(v.as_u64().ok_or_else(|| Response::error(400, 50100, "last_read_message_index must be a non-negative integer"))?),
    };
    let p = hub.backend.set_last_read(ch, caller.identity, index).map_err(Response::from_backend)?;
    let unread = unread_count(hub, ch, p.last_read_message_index);
    Ok(Response::ok(json!({
        "conversation_sid": ch, "last_read_message_index": p.last_read_message_index, "unread_messages_count": unread,
    })))
}

fn attributes_from(v: Option<&Value>) -> Result<Value, Response> {
    match v {
        None | Some(Value::Null) => Ok(json!({})),
        // The SDK sends attributes as a JSON string.
        Some(Value::String(s)) => serde_json::from_str(s).map_err(|_| Response::error(400, 50100, "attributes must be a JSON string")),
        Some(obj @ Value::Object(_)) => Ok(obj.clone()),
        Some(_) => Err(Response::error(400, 50100, "attributes must be a JSON object")),
    }
}

fn send_message(hub: &Hub, caller: &Caller, ch: &str, req: &Request) -> Result<Response, Response> {
    let body = req.json_body()?;
    let text = body.get("body").and_then(Value::as_str).map(str::to_string);
    let attributes = attributes_from(body.get("attributes"))?;
    let media_sids = match body.get("media_sids") {
        None | Some(Value::Null) => vec![],
        Some(Value::Array(a)) => a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect(),
        Some(_) => return Err(Response::error(400, 50100, "media_sids must be an array")),
    };
    let m = hub
        .backend
        .send_message(ch, caller.identity, NewMessage { body: text.filter(|t| !t.is_empty()), attributes, media_sids })
        .map_err(Response::from_backend)?;
    Ok(Response::created(json!({
        "sid": m.sid, "index": m.index, "conversation_sid": ch, "author": m.author, "body": m.body,
        "attributes": m.attributes, "date_created": iso8601(m.date_created), "date_updated": iso8601(m.date_created),
        "participant_sid": m.participant_sid,
    })))
}

fn join(hub: &Hub, caller: &Caller, ch: &str) -> Result<Response, Response> {
    let p = hub.backend.join(ch, caller.identity).map_err(Response::from_backend)?;
    Ok(Response::created(json!({
        "sid": p.sid, "identity": p.identity, "conversation_sid": ch, "attributes": p.attributes,
        "date_created": iso8601(p.date_created), "date_updated": iso8601(p.date_updated),
    })))
}

fn typing(hub: &Hub, caller: &Caller, req: &Request) -> Result<Response, Response> {
    let form = req.form_body();
    let ch = form
        .iter()
        .find(|(k, _)| k == "ChannelSid")
        .map(|(_, v)| v.clone())
        .ok_or_else(|| Response::error(400, 50100, "ChannelSid is required"))?;
    hub.backend.typing(&ch, caller.identity).map_err(Response::from_backend)?;
    Ok(Response::ok(json!({"typing_timeout": hub.config.typing_timeout_secs})))
}

/// A user descriptor (participant.getUser()): the SDK then reads the user-info map it names.
/// Sources: `@twilio/conversations` 3.0 `builds/lib.d.ts` (`Participant.getUser(): Promise<User>`,
/// `User.friendlyName: string | null`); the REST User resource's `friendly_name`
/// (<https://www.twilio.com/docs/conversations/api/user-resource>). That Flex writes the agent's display name there
/// is not stated on a Twilio page we could find: it is what Flex-side code reads, and our reading.
fn user(hub: &Hub, identity: &str) -> Response {
    Response::ok(json!({
        "identity": identity,
        "friendly_name": hub.backend.user_friendly_name(identity),
        "attributes": "{}",
        "sync_objects": {"user_info_map": Entity::UserInfo(identity.to_string()).name()},
    }))
}

// ---- Sync ----

fn sync_not_found(name: &str) -> Response {
    Response::error(404, 54100, &format!("Sync object {name} not found"))
}

/// Checks `caller` may read the object and that it exists.
fn readable(hub: &Hub, caller: &Caller, name: &str) -> Result<Entity, Response> {
    let entity = Entity::parse(name).ok_or_else(|| sync_not_found(name))?;
    match &entity {
        Entity::Conversation(ch) => {
            hub.backend.conversation(ch).ok_or_else(|| sync_not_found(name))?;
        }
        Entity::Messages(ch) | Entity::Roster(ch) => {
            hub.backend.conversation(ch).ok_or_else(|| sync_not_found(name))?;
            require_participant(hub, caller, ch)?;
        }
        Entity::MyConversations(id) => {
            if id != caller.identity {
                return Err(Response::error(403, 54007, "another identity's conversations"));
            }
        }
        Entity::UserInfo(_) => {}
    }
    Ok(entity)
}

fn document(hub: &Hub, caller: &Caller, name: &str) -> Result<Response, Response> {
    let entity = readable(hub, caller, name)?;
    let Entity::Conversation(ch) = &entity else { return Err(sync_not_found(name)) };
    let c = hub.backend.conversation(ch).ok_or_else(|| sync_not_found(name))?;
    let last = hub.backend.messages(ch).ok().and_then(|m| m.last().cloned());
    let id = hub.object_event_id(name);
    Ok(Response::ok(json!({
        "sid": name, "unique_name": name, "url": hub.object_url(&entity), "revision": id.to_string(),
        "last_event_id": id, "data": entities::conversation_data(&c, last.as_ref()), "date_updated": iso8601(c.date_updated),
        "date_expires": null,
    })))
}

/// One list or map item as projected: key, list index, data, date updated.
type Item = (String, Option<u64>, Value, String);

/// All items of a list or map, in key order.
fn all_items(hub: &Hub, entity: &Entity) -> Result<Vec<Item>, Response> {
    let be = |e| Response::from_backend(e);
    Ok(match entity {
        Entity::Messages(ch) => hub
            .backend
            .messages(ch)
            .map_err(be)?
            .iter()
            .map(|m| (m.index.to_string(), Some(m.index), entities::message_data(m), iso8601(m.date_created)))
            .collect(),
        Entity::Roster(ch) => {
            let mut v: Vec<_> = hub
                .backend
                .participants(ch)
                .map_err(be)?
                .iter()
                .map(|p| (p.sid.clone(), None, entities::participant_data(p), iso8601(p.date_updated)))
                .collect();
            v.sort_by(|a, b| a.0.cmp(&b.0));
            v
        }
        Entity::MyConversations(identity) => {
            let mut v: Vec<_> = hub
                .backend
                .conversations_of(identity)
                .iter()
                .map(|c| {
                    let me = hub.backend.participants(&c.sid).ok().and_then(|ps| ps.into_iter().find(|p| p.is(identity)));
                    (c.sid.clone(), None, entities::my_conversation_data(c, me.as_ref()), iso8601(c.date_updated))
                })
                .collect();
            v.sort_by(|a, b| a.0.cmp(&b.0));
            v
        }
        Entity::UserInfo(identity) => {
            let epoch = crate::ids::format_unix_millis(0);
            vec![
                ("attributes".into(), None, json!({"value": "{}"}), epoch.clone()),
                // Flex puts an agent's display name on the Conversations User.
                ("friendlyName".into(), None, json!({"value": hub.backend.user_friendly_name(identity)}), epoch.clone()),
                ("reachability".into(), None, json!({"online": false, "notifiable": false}), epoch),
            ]
        }
        Entity::Conversation(_) => return Err(Response::error(400, 54100, "a document has no items")),
    })
}

fn item_json(hub: &Hub, entity: &Entity, (key, index, data, date_updated): Item) -> Value {
    let name = entity.name();
    let id = hub.item_event_id(&name, &key);
    let mut item = json!({
        "url": hub.item_url(entity, &key), "revision": id.to_string(), "last_event_id": id, "data": data,
        "date_updated": date_updated, "date_expires": null,
    });
    match index {
        Some(i) => item["index"] = json!(i),
        None => item["key"] = json!(key),
    }
    item
}

fn collection(hub: &Hub, caller: &Caller, name: &str, kind: &str, include_items: bool) -> Result<Response, Response> {
    let entity = readable(hub, caller, name)?;
    if entity.kind() != kind {
        return Err(sync_not_found(name));
    }
    let url = hub.object_url(&entity);
    let id = hub.object_event_id(name);
    let mut body = json!({
        "sid": name, "unique_name": name, "url": url, "revision": id.to_string(), "last_event_id": id,
        "date_updated": crate::ids::now_rfc3339(), "date_expires": null,
        "links": {"items": format!("{url}/Items"), "context": format!("{url}/Context")},
    });
    if include_items {
        let items: Vec<Value> =
            all_items(hub, &entity)?.into_iter().map(|item| item_json(hub, &entity, item)).collect();
        body["items"] = Value::Array(items);
    }
    Ok(Response::ok(body))
}

fn items(hub: &Hub, caller: &Caller, name: &str, req: &Request) -> Result<Response, Response> {
    let entity = readable(hub, caller, name)?;
    let mut all = all_items(hub, &entity)?;
    let is_list = entity.kind() == "list";
    let desc = req.param("Order") == Some("desc");
    let page_size: usize = req.param("PageSize").and_then(|s| s.parse().ok()).unwrap_or(50).clamp(1, 100);
    // Exact lookups: Key (maps) or Index (lists).
    if let Some(key) = req.param("Key").or(req.param("Index")) {
        all.retain(|(k, _, _, _)| k == key);
    }
    if is_list {
        all.sort_by_key(|(_, i, _, _)| i.unwrap_or(0));
    }
    if desc {
        all.reverse();
    }
    // From is inclusive and follows the order.
    let start = match req.param("From") {
        None => 0,
        Some(from) => all
            .iter()
            .position(|(k, i, _, _)| {
                if is_list {
                    let f: u64 = from.parse().unwrap_or(0);
                    let i = i.unwrap_or(0);
                    if desc { i <= f } else { i >= f }
                } else if desc {
                    k.as_str() <= from
                } else {
                    k.as_str() >= from
                }
            })
            .unwrap_or(all.len()),
    };
    let end = (start + page_size).min(all.len());
    let page: Vec<Value> =
        all[start..end].iter().cloned().map(|item| item_json(hub, &entity, item)).collect();
    Ok(Response::ok(json!({
        "items": page,
        "meta": {
            "previous_token": if start > 0 { json!("previous") } else { Value::Null },
            "next_token": if end < all.len() { json!("next") } else { Value::Null },
        },
    })))
}

fn single_item(hub: &Hub, caller: &Caller, name: &str, key: &str) -> Result<Response, Response> {
    let entity = readable(hub, caller, name)?;
    let item = all_items(hub, &entity)?
        .into_iter()
        .find(|(k, _, _, _)| k == key)
        .ok_or_else(|| Response::error(404, 54201, &format!("item {key} not found")))?;
    Ok(Response::ok(item_json(hub, &entity, item)))
}

fn subscriptions(hub: &Hub, caller: &Caller, req: &Request) -> Result<Response, Response> {
    let body = req.json_body()?;
    let action = body.get("action").and_then(Value::as_str).unwrap_or("");
    let correlation_id = body.get("correlation_id").cloned().unwrap_or(Value::Null);
    // (object sid, the last event the SDK has seen of it)
    let requests: Vec<(String, u64)> = body
        .get("requests")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|r| {
                    let sid = r.get("object_sid").and_then(Value::as_str)?.to_string();
                    Some((sid, r.get("last_event_id").and_then(Value::as_u64).unwrap_or(0)))
                })
                .collect()
        })
        .unwrap_or_default();
    let sids: Vec<String> = requests.iter().map(|(s, _)| s.clone()).collect();
    let after = match action {
        "establish" => {
            let mut ok = vec![];
            let mut failed = vec![];
            let mut frames = vec![];
            for (sid, last_seen) in requests {
                match readable(hub, caller, &sid) {
                    Ok(_) => {
                        hub.subscribe(caller.session, &sid);
                        frames.extend(hub.replay(&sid, last_seen));
                        ok.push(sid);
                    }
                    Err(e) => failed.push((sid, e)),
                }
            }
            frames.push(hub.subscription_established(&correlation_id, &ok));
            if !failed.is_empty() {
                let events: Vec<Value> = failed
                    .iter()
                    .map(|(sid, e)| json!({"object_sid": sid, "error": {"status": e.status, "code": e.body["code"], "message": e.body["message"]}}))
                    .collect();
                frames.push(crate::hub::notification(
                    crate::hub::SYNC_EVENT,
                    &json!({"event_type": "subscription_failed", "correlation_id": correlation_id, "events": events}),
                ));
            }
            frames
        }
        "cancel" => {
            for sid in &sids {
                hub.unsubscribe(caller.session, sid);
            }
            vec![hub.subscription_canceled(&correlation_id, &sids)]
        }
        other => return Err(Response::error(400, 54000, &format!("unknown subscription action {other:?}"))),
    };
    Ok(Response {
        status: 202,
        body: json!({"estimated_delivery_in_ms": 5000, "max_batch_size": 100, "ttl_in_s": 3600}),
        after,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_parameters_are_form_decoded() {
        assert_eq!(form_decode("Order", "a+b%2Fc%C3%A9"), Some(("Order".into(), "a b/cé".into())));
        // Only the first `=` separates: a token's padding stays in the value.
        assert_eq!(form_decode("PageToken", "PT=="), Some(("PageToken".into(), "PT==".into())));
    }
}
