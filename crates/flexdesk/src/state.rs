//! [`PersistedState`] to and from the plain object the web chat keeps in session storage, written field by
//! field (serde's derive would pull its generic deserializer into the wasm). The JSON shape is serde's: camelCase
//! fields, `outbox` items tagged by `kind`, absent optionals left out. Exhaustive destructuring makes a new field
//! a compile error here until it is handled.

use flexdesk_core::session::Outgoing;
use flexdesk_core::{Agent, PersistedState};
use js_sys::Array;
use wasm_bindgen::JsValue;

use crate::js::{array, get, get_str, get_u64, object, opt_str};

pub fn to_js(state: &PersistedState) -> JsValue {
    let PersistedState { session_id, credential, conversation_sid, identity, agent, last_shown, outbox } = state;
    let outbox: Array = outbox
        .iter()
        .map(|o| match o {
            Outgoing::Text { id, text } => {
                object(&[("kind", "text".into()), ("id", JsValue::from_str(id)), ("text", JsValue::from_str(text))])
            }
            Outgoing::File { id } => object(&[("kind", "file".into()), ("id", JsValue::from_str(id))]),
        })
        .collect();
    object(&[
        ("sessionId", JsValue::from_str(session_id)),
        ("credential", JsValue::from_str(credential)),
        ("conversationSid", JsValue::from_str(conversation_sid)),
        ("identity", JsValue::from_str(identity)),
        ("agent", agent.as_ref().map_or(JsValue::NULL, agent_to_js)),
        ("lastShown", last_shown.map_or(JsValue::NULL, |i| JsValue::from_f64(i as f64))),
        ("outbox", outbox.into()),
    ])
}

fn agent_to_js(agent: &Agent) -> JsValue {
    let Agent { id, name, avatar } = agent;
    object(&[("id", JsValue::from_str(id)), ("name", JsValue::from_str(name)), ("avatar", opt_str(avatar))])
}

/// `None` when `v` is not a saved chat (an empty object is what ending a chat leaves behind).
pub fn from_js(v: &JsValue) -> Option<PersistedState> {
    let agent = get(v, "agent");
    let agent = if agent.is_null() || agent.is_undefined() {
        None
    } else {
        Some(Agent { id: get_str(&agent, "id")?, name: get_str(&agent, "name")?, avatar: get_str(&agent, "avatar") })
    };
    let outbox = array(&get(v, "outbox"))
        .iter()
        .map(|o| {
            let id = get_str(&o, "id")?;
            match get_str(&o, "kind")?.as_str() {
                "text" => Some(Outgoing::Text { id, text: get_str(&o, "text")? }),
                "file" => Some(Outgoing::File { id }),
                _ => None,
            }
        })
        .collect::<Option<Vec<_>>>()?;
    Some(PersistedState {
        session_id: get_str(v, "sessionId")?,
        credential: get_str(v, "credential")?,
        conversation_sid: get_str(v, "conversationSid")?,
        identity: get_str(v, "identity")?,
        agent,
        last_shown: get_u64(v, "lastShown"),
        outbox,
    })
}
