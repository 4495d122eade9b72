//! Test-only controls: fault injection and a readable dump of the state. Loopback-only like the rest
//! of the emulator; never part of a real deployment.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::state::{message_json, Faults, Shared};
use crate::twilio_error::TwilioError;
use crate::util::now_secs;

pub fn router() -> Router<Shared> {
    Router::new()
        .route("/admin/faults", post(set_faults).get(get_faults).delete(clear_faults))
        .route("/admin/state", get(state))
        .route("/admin/rates", get(get_rates).post(set_rates).delete(reset_rates))
        .route("/admin/webhooks", get(get_webhooks).delete(clear_webhooks))
        .route("/admin/pipeline", get(get_pipeline).post(set_pipeline))
        .route("/admin/calls", get(get_calls).delete(reset_calls))
        .route("/admin/sms", get(get_sms).post(inject_sms))
}

/// `GET /admin/sms`: the texts Twilio would have sent to SMS participants so far, oldest first, each
/// `{to, from, body, media, conversationSid, messageSid, dateCreated}` (`sms.rs`).
async fn get_sms(State(emu): State<Shared>) -> Json<Value> {
    Json(json!({ "sent": emu.lock().sms.sent }))
}

/// `POST /admin/sms` `{"from": "+1…", "to"?: "+1…", "body": "…"}`: a text from a phone, into the open conversation that
/// has it as an SMS participant (authored by the phone's address, `sms.rs`); answers the message as `/admin/state`
/// shows it, 404 when no open conversation has that participant.
async fn inject_sms(State(emu): State<Shared>, body: Result<Json<Value>, axum::extract::rejection::JsonRejection>) -> Response {
    let Ok(Json(v)) = body else { return TwilioError::new(400, 20001, "Bad SMS: a JSON object {from, body} is required").into_response() };
    let (Some(from), Some(text)) = (v["from"].as_str(), v["body"].as_str()) else {
        return TwilioError::new(400, 20001, "Bad SMS: from and body are required").into_response();
    };
    match emu.receive_sms(from, v["to"].as_str(), text.to_string()) {
        Ok(m) => {
            let conversation = emu.lock().conversations.iter().find(|c| c.messages.iter().any(|x| x.sid == m.sid)).map(|c| c.sid.clone());
            // Like any customer message: Flex's pipeline hears of it (`onMessageAdded`).
            if let Some(sid) = conversation {
                crate::pipeline::message_added(&emu, &sid);
            }
            Json(message_json(&m)).into_response()
        }
        Err(e) => e.into_response(),
    }
}

/// `GET /admin/calls`: the Twilio REST calls received so far, `{"total": N, "byRoute": {"GET /v1/Workspaces/WS…/Tasks":
/// N, …}}` (every call, refused ones included: Twilio counts a request against the account's limits either way).
async fn get_calls(State(emu): State<Shared>) -> Json<Value> {
    Json(json!(*emu.calls.lock().unwrap_or_else(|e| e.into_inner())))
}

/// `DELETE /admin/calls`: the counts start again.
async fn reset_calls(State(emu): State<Shared>) -> Json<Value> {
    *emu.calls.lock().unwrap_or_else(|e| e.into_inner()) = Default::default();
    get_calls(State(emu)).await
}

/// `GET /admin/webhooks`: the Conversations webhooks sent so far (last 500), each with its URL, parameters,
/// `X-Twilio-Signature`, the answer's status and when it came (`answeredAtMs`), so a test can replay one exactly.
async fn get_webhooks(State(emu): State<Shared>) -> Json<Value> {
    Json(json!({ "deliveries": emu.webhooks.deliveries() }))
}

async fn clear_webhooks(State(emu): State<Shared>) -> axum::http::StatusCode {
    emu.webhooks.clear_deliveries();
    axum::http::StatusCode::NO_CONTENT
}

/// `GET /admin/pipeline`: Flex's pipeline switches (pipeline.rs).
async fn get_pipeline(State(emu): State<Shared>) -> Json<Value> {
    Json(json!(*emu.switches()))
}

/// `POST /admin/pipeline`: any of the switches (`routingDelayMs`, `failRouting`, `flexCloseFiresWebhook`,
/// `directCloseEndsTask`); the others keep their values.
async fn set_pipeline(State(emu): State<Shared>, body: Result<Json<Value>, axum::extract::rejection::JsonRejection>) -> Response {
    let Json(patch) = match body {
        Ok(b) => b,
        Err(e) => return TwilioError::new(400, 20001, format!("Bad pipeline request: {}", e.body_text())).into_response(),
    };
    let mut merged = json!(*emu.switches());
    match (&mut merged, patch) {
        (Value::Object(m), Value::Object(p)) => m.extend(p),
        _ => return TwilioError::new(400, 20001, "Bad pipeline request: a JSON object is required").into_response(),
    }
    match serde_json::from_value::<crate::pipeline::Switches>(merged) {
        Ok(s) => {
            *emu.switches() = s;
            get_pipeline(State(emu)).await.into_response()
        }
        Err(e) => TwilioError::new(400, 20001, format!("Bad pipeline request: {e}")).into_response(),
    }
}

/// `POST /admin/rates` body: new requests-per-second limits (0 = off) for the rate-limited endpoints.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RatesRequest {
    webchats: Option<u32>,
    interactions: Option<u32>,
}

/// `GET /admin/rates`: per rate-limited endpoint its rate, accepted and rejected (429) counts, and the most requests
/// accepted in any 1-second window.
async fn get_rates(State(emu): State<Shared>) -> Json<Value> {
    Json(emu.rates.lock().unwrap_or_else(|e| e.into_inner()).snapshot())
}

async fn set_rates(State(emu): State<Shared>, body: Result<Json<RatesRequest>, axum::extract::rejection::JsonRejection>) -> Response {
    let Json(req) = match body {
        Ok(b) => b,
        Err(e) => return TwilioError::new(400, 20001, format!("Bad rates request: {}", e.body_text())).into_response(),
    };
    emu.rates.lock().unwrap_or_else(|e| e.into_inner()).set_rates(req.webchats, req.interactions);
    get_rates(State(emu)).await.into_response()
}

/// `DELETE /admin/rates`: the counters start again (the rates stay).
async fn reset_rates(State(emu): State<Shared>) -> Json<Value> {
    emu.rates.lock().unwrap_or_else(|e| e.into_inner()).reset_stats();
    get_rates(State(emu)).await
}

#[derive(Deserialize)]
struct RestFault {
    status: u16,
    count: u32,
}

/// `POST /admin/faults` body; every field optional and applied independently.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct FaultRequest {
    rest: Option<RestFault>,
    delay_ms: Option<u64>,
    realtime_delay_ms: Option<u64>,
    drop_websockets: Option<bool>,
    refuse_websockets: Option<u32>,
    expire_tokens_in_seconds: Option<u64>,
    media_url_ttl_seconds: Option<u64>,
}

async fn set_faults(State(emu): State<Shared>, body: Result<Json<FaultRequest>, axum::extract::rejection::JsonRejection>) -> Response {
    let Json(req) = match body {
        Ok(b) => b,
        Err(e) => return TwilioError::new(400, 20001, format!("Bad fault request: {}", e.body_text())).into_response(),
    };
    if let Some(r) = &req.rest {
        if !(r.status == 429 || (500..=599).contains(&r.status)) {
            return TwilioError::new(400, 20001, "rest.status must be 429 or 5xx").into_response();
        }
    }
    {
        let mut st = emu.lock();
        if let Some(r) = req.rest {
            st.faults.rest_status = Some(r.status);
            st.faults.rest_count = r.count;
        }
        if let Some(d) = req.delay_ms {
            st.faults.delay_ms = d;
        }
        if let Some(d) = req.realtime_delay_ms {
            st.faults.realtime_delay_ms = d;
        }
        if let Some(n) = req.refuse_websockets {
            st.faults.refuse_websockets = n;
        }
        if let Some(secs) = req.media_url_ttl_seconds {
            st.faults.media_url_ttl_seconds = Some(secs);
        }
        if let Some(secs) = req.expire_tokens_in_seconds {
            // Only tokens that exist now expire early; tokens minted afterwards keep their own expiry,
            // so a client that refreshes recovers.
            let at = now_secs() + secs;
            let tokens: Vec<String> = st.tokens_seen.iter().cloned().collect();
            for t in tokens {
                let e = st.early_expiry.entry(t).or_insert(at);
                *e = (*e).min(at);
            }
        }
    }
    if req.expire_tokens_in_seconds.is_some() {
        emu.expiry_generation.send_modify(|g| *g += 1);
    }
    if req.drop_websockets == Some(true) {
        emu.drop_generation.send_modify(|g| *g += 1);
    }
    get_faults(State(emu)).await.into_response()
}

async fn get_faults(State(emu): State<Shared>) -> Json<Faults> {
    Json(emu.lock().faults.clone())
}

async fn clear_faults(State(emu): State<Shared>) -> Json<Faults> {
    emu.lock().faults = Faults::default();
    Json(Faults::default())
}

async fn state(State(emu): State<Shared>) -> Json<Value> {
    let st = emu.lock();
    let conversations: Vec<Value> = st
        .conversations
        .iter()
        .map(|c| {
            json!({
                "sid": c.sid, "serviceSid": c.service_sid, "state": c.state, "attributes": c.attributes,
                "messageCount": c.messages.len(),
                "participants": c.participants.iter().map(|p| json!({
                    "sid": p.sid, "identity": p.identity, "attributes": p.attributes,
                    "lastReadMessageIndex": p.last_read_message_index,
                })).collect::<Vec<_>>(),
                "messages": c.messages.iter().map(message_json).collect::<Vec<_>>(),
            })
        })
        .collect();
    let tasks: Vec<Value> = st
        .tasks
        .iter()
        .map(|t| json!({"sid": t.sid, "status": t.status, "taskChannel": t.task_channel, "agent": t.agent, "conversationSid": t.conversation_sid, "attributes": t.attributes}))
        .collect();
    let agents: Vec<Value> = st.agents.iter().map(|a| json!({"id": a.id, "name": a.name, "identity": a.identity, "available": a.available})).collect();
    Json(json!({
        "conversations": conversations,
        "tasks": tasks,
        "agents": agents,
        "openWebsockets": st.open_websockets,
        // The identity of each open `/v3/wsconnect` (real SDK) connection.
        "sdkIdentities": emu.twilsock.get().map(|t| t.connected_identities()).unwrap_or_default(),
        "faults": st.faults,
        "mediaCount": st.media.len(),
        "interactions": st.interactions.iter().map(|i| json!({"sid": i.sid, "channelSid": i.channel_sid, "channelStatus": i.channel_status, "conversationSid": i.conversation_sid})).collect::<Vec<_>>(),
        "rates": emu.rates.lock().unwrap_or_else(|e| e.into_inner()).snapshot(),
    }))
}
