//! Every conversion between JavaScript values and the core's types, in one place (as automerge-wasm's bindings only
//! convert): SDK objects into [`Event`]s, effects into the web chat's arguments, the auth server's JSON bodies, and
//! the saved state. Written field by field rather than with serde's generic (de)serializers: the same JSON, and tens
//! of kilobytes less wasm; structs are destructured exhaustively, so a field added to a core or wire type does not
//! compile until it is handled here.

use flexdesk_core::session::{file_link, Outgoing};
use flexdesk_core::texts::Text;
use flexdesk_core::wire::{
    Availability, CreateSessionRequest, Handoff, QueuePosition, SessionCreated, TokenRefreshed, TranscriptLine,
};
use flexdesk_core::{Agent, AgentItem, ConnState, Content, ErrorStatus, Event, Media, Outcome, Participant, PersistedState};
use js_sys::{Array, Promise};
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;

use crate::bindings::call;
use crate::js::{array, attributes, error_status, get, get_str, get_u64, object, opt_str, set, warn};

/// How long the SDK may take to give a participant's User (its name) before the identity is shown instead.
const USER_WAIT_MS: f64 = 3000.0;

// ---- SDK objects into events ----

/// `connectionStateChanged`'s state.
pub fn connection_event(state: &JsValue) -> Event {
    Event::Connection(ConnState::parse(&state.as_string().unwrap_or_default()))
}

/// Whether a conversation (`Conversation.state.current`) is closed.
pub fn is_closed(conv: &JsValue) -> bool {
    get_str(&get(conv, "state"), "current").as_deref() == Some("closed")
}

/// `participantUpdated`: a participant's read horizon moved.
pub fn read_event(update: &JsValue) -> Option<Event> {
    let p = get(update, "participant");
    let reasons = array(&get(update, "updateReasons"));
    let read = reasons.iter().any(|r| r.as_string().as_deref() == Some("lastReadMessageIndex"));
    let index = get_u64(&p, "lastReadMessageIndex")?;
    read.then(|| Event::AgentRead { agent_id: get_str(&p, "identity").unwrap_or_default(), index })
}

/// A send's outcome (`sendMessage` / `send` resolve with the message's index) as an event.
pub fn sent(id: String, result: Result<JsValue, JsValue>) -> Event {
    match result {
        // Some SDK builds resolve without the index: what that means is the core's rule.
        Ok(index) => Event::MessageSent { id, index: index.as_f64().filter(|i| *i >= 0.0).map(|i| i as u64) },
        Err(e) => {
            warn("sending a message failed", &e);
            Event::MessageFailed { id, status: error_status(&e).map(|s| s as u16) }
        }
    }
}

/// `typingStarted` / `typingEnded`.
pub fn typing_event(p: &JsValue, typing: bool) -> Option<Event> {
    Some(Event::AgentTyping { agent_id: get_str(p, "identity")?, typing })
}

/// An SDK participant, with its User's name when read.
pub fn participant(p: &JsValue, friendly_name: Option<String>) -> Participant {
    let attrs = attributes(p);
    Participant {
        identity: get_str(p, "identity").unwrap_or_default(),
        member_type: get_str(&attrs, "member_type"),
        friendly_name,
        avatar: get_str(&attrs, "avatar"),
    }
}

/// The participant's Conversations User's `friendlyName` (`participant.getUser()`), where Flex puts the agent's
/// name; `None` when the SDK has no user for it or takes too long.
pub async fn user_name(p: &JsValue) -> Option<String> {
    let user = call(p, "getUser", &[]).ok()?;
    let timeout = Promise::new(&mut |resolve, _| {
        crate::js::set_timeout(&resolve, USER_WAIT_MS, 0);
    });
    let user = JsFuture::from(Promise::race(&Array::of2(&Promise::resolve(&user), &timeout))).await.ok()?;
    get_str(&user, "friendlyName")
}

/// Converts an SDK message into a session event; with `temporary_urls` (the core's
/// `Session::wants_temporary_urls`), reading each file's temporary URL, fresh each time it is shown.
pub async fn message_event(m: &JsValue, temporary_urls: bool) -> Option<Event> {
    let index = get_u64(m, "index")?;
    let author = get_str(m, "author").unwrap_or_default();
    // `Message.attributes`: a parsed JSON value in @twilio/conversations (`builds/lib.d.ts`:
    // `attributes: JSONValue`), the same object in the emulator's stand-in (`www/emulator-client/index.js`).
    let attrs = attributes(m);
    let client_id = get_str(&attrs, "flexdeskId");
    // The bot hand-off the auth server posts for the agent (`{"flexdesk": {"handoff": kind}}`, issue 22): whether
    // to show it is the core's rule; any value counts as present.
    let handoff = get(&get(&attrs, "flexdesk"), "handoff");
    let handoff = (!handoff.is_undefined() && !handoff.is_null()).then(|| handoff.as_string().unwrap_or_default());
    let mut media = Vec::new();
    for item in array(&get(m, "attachedMedia")).iter() {
        let url = match temporary_urls.then(|| call(&item, "getContentTemporaryUrl", &[])) {
            Some(Ok(p)) => JsFuture::from(Promise::resolve(&p)).await.ok().and_then(|u| u.as_string()).unwrap_or_default(),
            _ => String::new(),
        };
        media.push(Media {
            sid: get_str(&item, "sid").unwrap_or_default(),
            filename: get_str(&item, "filename").unwrap_or_else(|| "file".into()),
            content_type: get_str(&item, "contentType").unwrap_or_default(),
            url,
        });
    }
    Some(Event::Message { index, author, client_id, handoff, content: Content { body: get_str(m, "body"), media } })
}


// ---- Web chat calls and uploads ----

/// One file Carbon hands over (`filesToUpload` / `filesSelectedForUpload` items: `{ id, file }`).
pub struct Upload {
    pub id: String,
    pub file: JsValue,
    pub name: String,
    pub size: u64,
}

/// The uploads in `list`; items without an id, a name or a size are skipped.
pub fn uploads(list: &JsValue) -> Vec<Upload> {
    array(list)
        .iter()
        .filter_map(|u| {
            let (id, file) = (get_str(&u, "id")?, get(&u, "file"));
            Some(Upload { id, name: get_str(&file, "name")?, size: get_u64(&file, "size")?, file })
        })
        .collect()
}

/// `setErrorStatus`'s argument; `text` gives a customer text in the page's wording.
pub fn error_info(status: ErrorStatus, text: impl FnOnce(&Text) -> JsValue) -> JsValue {
    // ErrorType: CONNECTING = 1, DISCONNECTED = 2, USER_MESSAGE = 3.
    match status {
        ErrorStatus::Connecting { message } => object(&[("type", JsValue::from_f64(1.0)), ("messageToUser", text(&message))]),
        ErrorStatus::Disconnected(down) => {
            object(&[("type", JsValue::from_f64(2.0)), ("isDisconnected", JsValue::from_bool(down))])
        }
        ErrorStatus::UserMessage { id } => object(&[("type", JsValue::from_f64(3.0)), ("messageID", JsValue::from_str(&id))]),
    }
}

/// The page's `onChatEnd` argument: `{ endedBy, agent: { name } | null, agentJoined }`, plus `ticket: { sessionId,
/// sessionCredential } | null`, which `js/index.js` takes off and turns into the outcome's `rate()` and `erase()`.
pub fn outcome(o: Outcome) -> JsValue {
    let agent = o.agent.map_or(JsValue::NULL, |a| object(&[("name", JsValue::from_str(&a.name))]));
    let ended_by = JsValue::from_str(o.ended_by.key());
    let ticket = o.ticket.map_or(JsValue::NULL, |t| {
        object(&[("sessionId", JsValue::from_str(&t.session_id)), ("sessionCredential", JsValue::from_str(&t.credential))])
    });
    object(&[("endedBy", ended_by), ("agent", agent), ("agentJoined", o.agent_joined.into()), ("ticket", ticket)])
}

/// The web chat's `ResponseUserProfile` of an agent.
pub fn profile(agent: &Agent) -> JsValue {
    let mut fields = vec![
        ("id", JsValue::from_str(&agent.id)),
        ("nickname", JsValue::from_str(&agent.name)),
        ("user_type", JsValue::from_str("human")),
    ];
    if let Some(a) = &agent.avatar {
        fields.push(("profile_picture_url", JsValue::from_str(a)));
    }
    object(&fields)
}

/// The `MessageResponse` the web chat shows for an agent message: one `output.generic` item per core item, each of
/// `kind` (`agent_message_type`) when given.
pub fn agent_message(items: &[AgentItem], kind: Option<&str>) -> JsValue {
    let generic: Array = items
        .iter()
        .map(|item| match item {
            AgentItem::Text(text) => object(&[("response_type", JsValue::from_str("text")), ("text", JsValue::from_str(text))]),
            AgentItem::Image { url, title } => object(&[
                ("response_type", JsValue::from_str("image")),
                ("source", JsValue::from_str(url)),
                ("title", JsValue::from_str(title)),
                ("alt_text", JsValue::from_str(title)),
            ]),
            AgentItem::File { url, name } => {
                object(&[("response_type", JsValue::from_str("text")), ("text", JsValue::from_str(&file_link(name, url)))])
            }
        })
        .collect();
    if let Some(kind) = kind {
        for item in generic.iter() {
            crate::js::set(&item, "agent_message_type", &JsValue::from_str(kind));
        }
    }
    object(&[("output", object(&[("generic", generic.into())]))])
}


// ---- The auth server's bodies ----

/// `POST /v1/sessions`'s answer.
pub fn session_created(v: &JsValue) -> Option<SessionCreated> {
    Some(SessionCreated {
        session_id: get_str(v, "sessionId")?,
        conversation_sid: get_str(v, "conversationSid")?,
        identity: get_str(v, "identity")?,
        token: get_str(v, "token")?,
        token_expires_at: get_u64(v, "tokenExpiresAt")?,
        session_credential: get_str(v, "sessionCredential")?,
        // Said in the console by `AuthClient::create_session`; the core has no use for them.
        dropped_pre_engagement_keys: Vec::new(),
        media_link_query: get_str(v, "mediaLinkQuery"),
    })
}

/// `POST /v1/sessions/{id}/token`'s answer.
pub fn token_refreshed(v: &JsValue) -> Option<TokenRefreshed> {
    Some(TokenRefreshed { token: get_str(v, "token")?, token_expires_at: get_u64(v, "tokenExpiresAt")? })
}

/// `GET /v1/agents/availability`'s answer.
pub fn availability(v: &JsValue) -> Option<Availability> {
    Some(Availability {
        agents_available: get_u64(v, "agentsAvailable")? as u32,
        tasks_waiting: get_u64(v, "tasksWaiting")? as u32,
        longest_wait_seconds: get_u64(v, "longestWaitSeconds").unwrap_or_default(),
    })
}

/// `GET /v1/sessions/{id}/queue`'s answer.
pub fn queue_position(v: &JsValue) -> Option<QueuePosition> {
    Some(QueuePosition {
        waiting: get(v, "waiting").as_bool()?,
        position: get_u64(v, "position").map(|p| p as u32),
        estimated_wait_seconds: get_u64(v, "estimatedWaitSeconds"),
    })
}

/// The body with the session credential (refresh, end).
pub fn credential_body(credential: &str) -> JsValue {
    object(&[("sessionCredential", JsValue::from_str(credential))])
}

/// `POST /v1/sessions` body, as serde would write it (camelCase, absent options left out).
/// The pre-engagement data is `pre_engagement`, the JavaScript value the desk keeps (the request's own is unused).
pub fn session_request(req: &CreateSessionRequest, pre_engagement: Option<&JsValue>) -> JsValue {
    let CreateSessionRequest { customer_name, pre_engagement: _, handoff, verification_token, identity_token } = req;
    let o = object(&[
        ("customerName", JsValue::from_str(customer_name)),
        ("verificationToken", opt_str(verification_token)),
        ("identityToken", opt_str(identity_token)),
    ]);
    if let Some(p) = pre_engagement {
        set(&o, "preEngagement", p);
    }
    if let Some(h) = handoff {
        let Handoff { message_to_human_agent, topic, skill, language, transcript, handoff_token } = h;
        let h = object(&[
            ("message_to_human_agent", opt_str(message_to_human_agent)),
            ("topic", opt_str(topic)),
            ("skill", opt_str(skill)),
            ("language", opt_str(language)),
            ("handoff_token", opt_str(handoff_token)),
        ]);
        if !transcript.is_empty() {
            let lines = transcript
                .iter()
                .map(|TranscriptLine { from, text }| object(&[("from", JsValue::from_str(from)), ("text", JsValue::from_str(text))]))
                .collect::<js_sys::Array>();
            set(&h, "transcript", &lines);
        }
        set(&o, "handoff", &h);
    }
    o
}


// ---- The saved state ----

/// The saved state as the plain object the web chat keeps (serde's JSON shape: camelCase fields, `outbox` items
/// tagged by `kind`). Exhaustive destructuring makes a new field a compile error here until it is handled.
pub fn saved_to_js(state: &PersistedState) -> JsValue {
    let PersistedState { session_id, credential, conversation_sid, identity, agent, connected, last_shown, outbox, media_link_query, by_sms } = state;
    let outbox: Array = outbox
        .iter()
        .map(|o| match o {
            Outgoing::Text { id, text } => {
                object(&[("kind", "text".into()), ("id", JsValue::from_str(id)), ("text", JsValue::from_str(text))])
            }
            Outgoing::File { id } => object(&[("kind", "file".into()), ("id", JsValue::from_str(id))]),
        })
        .collect();
    let saved = object(&[
        ("sessionId", JsValue::from_str(session_id)),
        ("credential", JsValue::from_str(credential)),
        ("conversationSid", JsValue::from_str(conversation_sid)),
        ("identity", JsValue::from_str(identity)),
        ("agent", agent.as_ref().map_or(JsValue::NULL, agent_to_js)),
        ("connected", JsValue::from_bool(*connected)),
        ("lastShown", last_shown.map_or(JsValue::NULL, |i| JsValue::from_f64(i as f64))),
        ("outbox", outbox.into()),
    ]);
    // Only when the server offered media links, as serde leaves it out.
    if let Some(q) = media_link_query {
        set(&saved, "mediaLinkQuery", &JsValue::from_str(q));
    }
    set(&saved, "bySms", &JsValue::from_bool(*by_sms));
    saved
}

fn agent_to_js(agent: &Agent) -> JsValue {
    let Agent { id, name, avatar } = agent;
    object(&[("id", JsValue::from_str(id)), ("name", JsValue::from_str(name)), ("avatar", opt_str(avatar))])
}

/// The saved state from the web chat's plain object; `None` when `v` is not a saved chat (an empty object is what
/// ending a chat leaves behind).
pub fn saved_from_js(v: &JsValue) -> Option<PersistedState> {
    let agent = get(v, "agent");
    let agent = if agent.is_null() || agent.is_undefined() {
        None
    } else {
        Some(Agent { id: get_str(&agent, "id")?, name: get_str(&agent, "name")?, avatar: get_str(&agent, "avatar") })
    };
    // A loop, not `collect::<Option<Vec<_>>>()`: the adapter that collects options cost the wasm its own code.
    let mut outbox = Vec::new();
    for o in array(&get(v, "outbox")).iter() {
        let id = get_str(&o, "id")?;
        outbox.push(match get_str(&o, "kind")?.as_str() {
            "text" => Outgoing::Text { id, text: get_str(&o, "text")? },
            "file" => Outgoing::File { id },
            _ => return None,
        });
    }
    Some(PersistedState {
        session_id: get_str(v, "sessionId")?,
        credential: get_str(v, "credential")?,
        conversation_sid: get_str(v, "conversationSid")?,
        identity: get_str(v, "identity")?,
        agent,
        // Missing in states saved before it: serde's default, false.
        connected: get(v, "connected") == JsValue::TRUE,
        last_shown: get_u64(v, "lastShown"),
        outbox,
        media_link_query: get_str(v, "mediaLinkQuery"),
        by_sms: get(v, "bySms") == JsValue::TRUE,
    })
}
