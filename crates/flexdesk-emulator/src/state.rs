//! The emulator's in-memory world: conversations, participants, messages, media, tasks and agents.
//! Every mutation happens under one lock and publishes its realtime event while still holding it, so
//! all subscribers see events in the same order as message indexes were assigned.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use bytes::Bytes;
use serde_json::{json, Value};
use tokio::sync::{broadcast, watch};

use crate::config::Config;
use crate::twilio_error::TwilioError;
use crate::util::{iso8601, now_millis, now_secs, random_key, sid};

/// Twilio's limits for the Flex web channel.
pub const MAX_MEDIA_BYTES: usize = 16 * 1024 * 1024;
pub const MAX_BODY_BYTES: usize = 32 * 1024;
pub const MAX_MESSAGE_ATTRIBUTES_BYTES: usize = 4 * 1024;
pub const MAX_CONVERSATION_ATTRIBUTES_BYTES: usize = 16 * 1024;
pub const ALLOWED_EXTENSIONS: &[&str] = &["jpg", "jpeg", "png", "amr", "mp3", "mp4", "pdf", "heic", "txt", "gif"];
/// How long a typing signal counts as "typing" (the SDK's default typing timeout).
pub const TYPING_MILLIS: u64 = 5_000;

/// One realtime event about one conversation. `seq` orders events within the conversation so a
/// socket that subscribed from a snapshot can skip the events the snapshot already contains.
#[derive(Debug, Clone)]
pub struct Event {
    pub conversation_sid: String,
    pub seq: u64,
    /// Identity that caused it (typing events are not echoed to their author).
    pub actor: Option<String>,
    pub payload: Value,
}

#[derive(Debug, Clone)]
pub struct Participant {
    pub sid: String,
    pub identity: Option<String>,
    pub attributes: String,
    pub last_read_message_index: Option<u64>,
    pub last_read_at: Option<u64>,
    pub date_created: u64,
    pub date_updated: u64,
}

#[derive(Debug, Clone)]
pub struct MediaInfo {
    pub sid: String,
    pub filename: String,
    pub content_type: String,
    pub size: usize,
}

#[derive(Debug, Clone)]
pub struct Message {
    pub sid: String,
    pub index: u64,
    pub author: String,
    pub body: Option<String>,
    pub attributes: String,
    pub media: Vec<MediaInfo>,
    pub participant_sid: Option<String>,
    pub date_created: u64,
}

#[derive(Debug, Clone)]
pub struct Conversation {
    pub sid: String,
    pub unique_name: Option<String>,
    pub friendly_name: Option<String>,
    pub attributes: String,
    pub state: String,
    pub date_created: u64,
    pub date_updated: u64,
    pub participants: Vec<Participant>,
    pub messages: Vec<Message>,
    pub seq: u64,
    /// identity → millis of its last typing signal (for the console).
    pub typing: HashMap<String, u64>,
}

#[derive(Debug, Clone)]
pub struct Media {
    pub info: MediaInfo,
    pub bytes: Bytes,
    pub uploaded_by: String,
    /// Set once a message carries it: the media may not be attached twice.
    pub message_sid: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Task {
    pub sid: String,
    pub conversation_sid: String,
    /// pending | assigned | wrapping | completed | canceled (TaskRouter's names).
    pub status: String,
    pub attributes: Value,
    pub agent: Option<String>,
    pub date_created: u64,
    pub interaction_sid: Option<String>,
    pub channel_sid: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Agent {
    pub id: String,
    pub name: String,
    pub identity: String,
    pub available: bool,
}

#[derive(Debug, Clone, Default, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Faults {
    /// Status (429 or 5xx) for the next `rest_count` Twilio REST calls.
    pub rest_status: Option<u16>,
    pub rest_count: u32,
    pub delay_ms: u64,
    /// Latency added before each realtime reply (requests over the WebSocket).
    pub realtime_delay_ms: u64,
    /// Realtime sockets refused outright (before the token is read) for the next N connection attempts.
    pub refuse_websockets: u32,
}

#[derive(Default)]
pub struct State {
    pub conversations: Vec<Conversation>,
    pub tasks: Vec<Task>,
    pub agents: Vec<Agent>,
    pub media: HashMap<String, Media>,
    /// Every access token seen so far, so "expire tokens early" can target the existing ones only.
    pub tokens_seen: HashSet<String>,
    /// token → unix second at which it now expires (fault injection).
    pub early_expiry: HashMap<String, u64>,
    pub faults: Faults,
    pub open_websockets: usize,
}

/// Shared handle passed to every handler.
pub struct Emulator {
    pub config: Config,
    state: Mutex<State>,
    pub events: broadcast::Sender<Arc<Event>>,
    /// Bumped to make every open socket drop (fault injection) or re-read its token expiry.
    pub drop_generation: watch::Sender<u64>,
    pub expiry_generation: watch::Sender<u64>,
    /// Key for the temporary media URLs: random per process, never leaves it.
    pub media_key: String,
    base_url: OnceLock<String>,
    /// The real SDK's server (`/v3/wsconnect`), created with the first router (it needs a runtime).
    pub(crate) twilsock: OnceLock<twilsock::Twilsock>,
}

pub type Shared = Arc<Emulator>;

impl Emulator {
    pub fn new(config: Config) -> Shared {
        let (events, _) = broadcast::channel(4096);
        let agents = config
            .agents
            .iter()
            .map(|name| {
                let id = crate::config::agent_id(name);
                Agent { identity: format!("agent.{id}"), id, name: name.clone(), available: true }
            })
            .collect();
        let state = State { agents, ..State::default() };
        Arc::new(Emulator {
            config,
            state: Mutex::new(state),
            events,
            drop_generation: watch::channel(0).0,
            expiry_generation: watch::channel(0).0,
            media_key: random_key(),
            base_url: OnceLock::new(),
            twilsock: OnceLock::new(),
        })
    }

    pub fn set_base_url(&self, url: String) {
        let _ = self.base_url.set(url);
    }

    pub fn base_url(&self) -> &str {
        self.base_url.get().map(String::as_str).unwrap_or("http://127.0.0.1")
    }

    pub fn lock(&self) -> MutexGuard<'_, State> {
        // A panic in one handler must not wedge the whole emulator.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn avatar_url(&self, agent_id: &str) -> String {
        format!("{}/console/avatars/{agent_id}.svg", self.base_url())
    }

    pub fn agent_attributes(&self, agent: &Agent) -> String {
        json!({"member_type": "agent", "friendlyName": agent.name, "avatar": self.avatar_url(&agent.id)}).to_string()
    }

    fn publish(&self, conv: &mut Conversation, actor: Option<&str>, event: &str, mut payload: Value) {
        conv.seq += 1;
        payload["type"] = json!("event");
        payload["event"] = json!(event);
        payload["conversationSid"] = json!(conv.sid);
        payload["seq"] = json!(conv.seq);
        let _ = self.events.send(Arc::new(Event {
            conversation_sid: conv.sid.clone(),
            seq: conv.seq,
            actor: actor.map(str::to_string),
            payload,
        }));
    }

    // ---- conversations -------------------------------------------------------------------------

    pub fn create_conversation(
        &self,
        friendly_name: Option<String>,
        unique_name: Option<String>,
        attributes: Option<String>,
        state: Option<String>,
    ) -> Result<Conversation, TwilioError> {
        let attributes = validate_json_attributes("Attributes", attributes, MAX_CONVERSATION_ATTRIBUTES_BYTES)?;
        let state = match state.as_deref() {
            None => "active".to_string(),
            Some(s @ ("active" | "inactive" | "closed")) => s.to_string(),
            Some(other) => return Err(TwilioError::invalid("State", &format!("{other:?} is not active, inactive or closed"))),
        };
        let mut st = self.lock();
        if let Some(u) = &unique_name {
            if st.conversations.iter().any(|c| c.unique_name.as_deref() == Some(u)) {
                return Err(TwilioError::new(409, 50353, format!("Conversation with provided unique name already exists: {u}")));
            }
        }
        let now = now_secs();
        let conv = Conversation {
            sid: sid("CH"),
            unique_name,
            friendly_name,
            attributes,
            state,
            date_created: now,
            date_updated: now,
            participants: Vec::new(),
            messages: Vec::new(),
            seq: 0,
            typing: HashMap::new(),
        };
        st.conversations.push(conv.clone());
        Ok(conv)
    }

    /// Applies `State` / `Attributes` / `FriendlyName` changes and tells subscribers which changed.
    pub fn update_conversation(
        &self,
        key: &str,
        state: Option<String>,
        attributes: Option<String>,
        friendly_name: Option<String>,
    ) -> Result<Conversation, TwilioError> {
        if let Some(s) = &state {
            if !matches!(s.as_str(), "active" | "inactive" | "closed") {
                return Err(TwilioError::invalid("State", &format!("{s:?} is not active, inactive or closed")));
            }
        }
        let attributes = match attributes {
            Some(a) => Some(validate_json_attributes("Attributes", Some(a), MAX_CONVERSATION_ATTRIBUTES_BYTES)?),
            None => None,
        };
        let mut st = self.lock();
        let idx = find_conversation(&st, key)?;
        let mut reasons = Vec::new();
        let closing;
        {
            let conv = &mut st.conversations[idx];
            if conv.state == "closed" && state.as_deref().is_some_and(|s| s != "closed") {
                return Err(TwilioError::new(400, 50446, "A closed conversation cannot be reopened"));
            }
            closing = state.as_deref() == Some("closed") && conv.state != "closed";
            if let Some(s) = state {
                if s != conv.state {
                    conv.state = s;
                    reasons.push("state");
                }
            }
            if let Some(a) = attributes {
                if a != conv.attributes {
                    conv.attributes = a;
                    reasons.push("attributes");
                }
            }
            if let Some(f) = friendly_name {
                if Some(&f) != conv.friendly_name.as_ref() {
                    conv.friendly_name = Some(f);
                    reasons.push("friendlyName");
                }
            }
            if !reasons.is_empty() {
                conv.date_updated = now_secs();
                reasons.push("dateUpdated");
                let payload = json!({"conversation": conversation_json(conv), "updateReasons": reasons});
                self.publish(conv, None, "conversationUpdated", payload);
            }
        }
        if closing {
            let sid = st.conversations[idx].sid.clone();
            close_tasks_of(&mut st, &sid);
        }
        Ok(st.conversations[idx].clone())
    }

    pub fn delete_conversation(&self, key: &str) -> Result<(), TwilioError> {
        let mut st = self.lock();
        let idx = find_conversation(&st, key)?;
        let sid = st.conversations[idx].sid.clone();
        close_tasks_of(&mut st, &sid);
        let mut conv = st.conversations.remove(idx);
        self.publish(&mut conv, None, "conversationRemoved", json!({}));
        Ok(())
    }

    pub fn conversation(&self, key: &str) -> Result<Conversation, TwilioError> {
        let st = self.lock();
        let idx = find_conversation(&st, key)?;
        Ok(st.conversations[idx].clone())
    }

    // ---- participants ----------------------------------------------------------------------------

    pub fn add_participant(&self, conv_key: &str, identity: Option<String>, attributes: Option<String>) -> Result<Participant, TwilioError> {
        let attributes = validate_json_attributes("Attributes", attributes, MAX_CONVERSATION_ATTRIBUTES_BYTES)?;
        let identity = match identity {
            Some(i) if i.trim().is_empty() => return Err(TwilioError::invalid("Identity", "must not be empty")),
            other => other,
        };
        let mut st = self.lock();
        let idx = find_conversation(&st, conv_key)?;
        let conv = &mut st.conversations[idx];
        if conv.state == "closed" {
            return Err(TwilioError::new(400, 50446, "Participants cannot be added to a closed conversation"));
        }
        if let Some(i) = &identity {
            if conv.participants.iter().any(|p| p.identity.as_ref() == Some(i)) {
                return Err(TwilioError::new(409, 50433, format!("Participant already exists: {i}")));
            }
        }
        let now = now_secs();
        let p = Participant {
            sid: sid("MB"),
            identity,
            attributes,
            last_read_message_index: None,
            last_read_at: None,
            date_created: now,
            date_updated: now,
        };
        conv.participants.push(p.clone());
        let payload = json!({"participant": participant_json(&p)});
        self.publish(conv, None, "participantJoined", payload);
        Ok(p)
    }

    pub fn remove_participant(&self, conv_key: &str, participant_key: &str) -> Result<Participant, TwilioError> {
        let mut st = self.lock();
        let idx = find_conversation(&st, conv_key)?;
        let conv = &mut st.conversations[idx];
        let pos = conv
            .participants
            .iter()
            .position(|p| p.sid == participant_key || p.identity.as_deref() == Some(participant_key))
            .ok_or_else(|| TwilioError::not_found(&format!("/v1/Conversations/{}/Participants/{participant_key}", conv.sid)))?;
        let p = conv.participants.remove(pos);
        if let Some(i) = &p.identity {
            conv.typing.remove(i);
        }
        let payload = json!({"participant": participant_json(&p)});
        self.publish(conv, None, "participantLeft", payload);
        Ok(p)
    }

    /// Moves a participant's read horizon; `advance` only ever moves it forward (the SDK's
    /// `advanceLastReadMessageIndex`). Returns the participant and the number of unread messages.
    pub fn set_last_read(&self, conv_key: &str, identity: &str, index: Option<u64>, advance: bool) -> Result<(Participant, u64), TwilioError> {
        let mut st = self.lock();
        let idx = find_conversation(&st, conv_key)?;
        let conv = &mut st.conversations[idx];
        let last = conv.messages.last().map(|m| m.index);
        let index = match (index, last) {
            (Some(i), Some(l)) => Some(i.min(l)),
            (Some(_), None) => None,
            (None, _) => None,
        };
        let p = conv
            .participants
            .iter_mut()
            .find(|p| p.identity.as_deref() == Some(identity))
            .ok_or_else(|| TwilioError::new(403, 50400, format!("{identity} is not a participant of this conversation")))?;
        let new = if advance { p.last_read_message_index.max(index) } else { index };
        let changed = new != p.last_read_message_index;
        if changed {
            p.last_read_message_index = new;
            p.last_read_at = Some(now_secs());
            p.date_updated = now_secs();
        }
        let p = p.clone();
        let unread = conv.messages.iter().filter(|m| Some(m.index) > new || new.is_none()).count() as u64;
        if changed {
            let payload = json!({"participant": participant_json(&p), "updateReasons": ["lastReadMessageIndex", "lastReadTimestamp"]});
            self.publish(conv, Some(identity), "participantUpdated", payload);
        }
        Ok((p, unread))
    }

    pub fn typing(&self, conv_key: &str, identity: &str) -> Result<(), TwilioError> {
        let mut st = self.lock();
        let idx = find_conversation(&st, conv_key)?;
        let conv = &mut st.conversations[idx];
        let p = conv
            .participants
            .iter()
            .find(|p| p.identity.as_deref() == Some(identity))
            .cloned()
            .ok_or_else(|| TwilioError::new(403, 50400, format!("{identity} is not a participant of this conversation")))?;
        conv.typing.insert(identity.to_string(), now_millis());
        let payload = json!({"participant": participant_json(&p)});
        self.publish(conv, Some(identity), "typing", payload);
        Ok(())
    }

    // ---- messages --------------------------------------------------------------------------------

    /// Adds a message with Twilio's rules: body or one media, never both; size limits on body and
    /// attributes; the media must exist and not be attached already.
    pub fn add_message(
        &self,
        conv_key: &str,
        author: Option<String>,
        body: Option<String>,
        attributes: Option<String>,
        media_sids: Vec<String>,
    ) -> Result<Message, TwilioError> {
        let attributes = validate_json_attributes("Attributes", attributes, MAX_MESSAGE_ATTRIBUTES_BYTES)?;
        let body = body.filter(|b| !b.is_empty());
        if body.is_some() && !media_sids.is_empty() {
            return Err(TwilioError::new(400, 50511, "A message cannot carry both text and media: send them as two messages"));
        }
        if body.is_none() && media_sids.is_empty() {
            return Err(TwilioError::new(400, 50504, "A message needs a Body or a MediaSid"));
        }
        if media_sids.len() > 1 {
            return Err(TwilioError::new(400, 50512, "At most one media per message on the web channel"));
        }
        if let Some(b) = &body {
            if b.len() > MAX_BODY_BYTES {
                return Err(TwilioError::new(400, 50505, format!("Body is {} bytes; the limit is {MAX_BODY_BYTES}", b.len())));
            }
        }
        let author = author.unwrap_or_else(|| "system".to_string());
        let mut st = self.lock();
        let idx = find_conversation(&st, conv_key)?;
        if st.conversations[idx].state == "closed" {
            return Err(TwilioError::new(400, 50446, "Messages cannot be added to a closed conversation"));
        }
        let mut media = Vec::new();
        for m in &media_sids {
            let entry = st.media.get(m).ok_or_else(|| TwilioError::invalid("MediaSid", &format!("{m} does not exist")))?;
            if entry.message_sid.is_some() {
                return Err(TwilioError::invalid("MediaSid", &format!("{m} is already attached to a message")));
            }
            media.push(entry.info.clone());
        }
        let conv = &mut st.conversations[idx];
        let now = now_secs();
        let message = Message {
            sid: sid("IM"),
            index: conv.messages.last().map(|m| m.index + 1).unwrap_or(0),
            participant_sid: conv.participants.iter().find(|p| p.identity.as_deref() == Some(&author)).map(|p| p.sid.clone()),
            author,
            body,
            attributes,
            media,
            date_created: now,
        };
        conv.messages.push(message.clone());
        conv.typing.remove(&message.author);
        conv.date_updated = now;
        let payload = json!({"message": message_json(&message)});
        self.publish(conv, Some(&message.author), "messageAdded", payload);
        for m in &media_sids {
            if let Some(entry) = st.media.get_mut(m) {
                entry.message_sid = Some(message.sid.clone());
            }
        }
        Ok(message)
    }

    /// Stores an upload after checking Twilio's extension and size limits.
    pub fn store_media(&self, filename: &str, bytes: Bytes, uploaded_by: &str) -> Result<MediaInfo, TwilioError> {
        let filename = filename.trim();
        if filename.is_empty() || filename.len() > 255 || filename.contains(['/', '\\', '\0']) {
            return Err(TwilioError::invalid("filename", "a plain file name such as photo.png is required"));
        }
        let content_type = content_type_for(filename).ok_or_else(|| {
            TwilioError::new(415, 50516, format!("File type not allowed: {filename}; allowed extensions: {}", ALLOWED_EXTENSIONS.join(", ")))
        })?;
        if bytes.len() > MAX_MEDIA_BYTES {
            return Err(TwilioError::new(413, 50515, format!("Media is {} bytes; the limit is 16 MiB", bytes.len())));
        }
        if bytes.is_empty() {
            return Err(TwilioError::invalid("media", "the file is empty"));
        }
        let info = MediaInfo { sid: sid("ME"), filename: filename.to_string(), content_type: content_type.to_string(), size: bytes.len() };
        self.lock().media.insert(
            info.sid.clone(),
            Media { info: info.clone(), bytes, uploaded_by: uploaded_by.to_string(), message_sid: None },
        );
        Ok(info)
    }

    // ---- tasks and agents ------------------------------------------------------------------------

    pub fn create_task(&self, conversation_sid: &str, attributes: Value, interaction: Option<(String, String)>) -> Task {
        let task = Task {
            sid: sid("WT"),
            conversation_sid: conversation_sid.to_string(),
            status: "pending".into(),
            attributes,
            agent: None,
            date_created: now_secs(),
            interaction_sid: interaction.as_ref().map(|i| i.0.clone()),
            channel_sid: interaction.map(|i| i.1),
        };
        self.lock().tasks.push(task.clone());
        task
    }

    pub fn agent(&self, id: &str) -> Result<Agent, TwilioError> {
        self.lock()
            .agents
            .iter()
            .find(|a| a.id == id)
            .cloned()
            .ok_or_else(|| TwilioError::new(404, 20404, format!("No agent {id:?}")))
    }

    pub fn task(&self, sid: &str) -> Result<Task, TwilioError> {
        self.lock().tasks.iter().find(|t| t.sid == sid).cloned().ok_or_else(|| TwilioError::not_found(&format!("task {sid}")))
    }

    fn set_task(&self, sid: &str, f: impl FnOnce(&mut Task)) {
        if let Some(t) = self.lock().tasks.iter_mut().find(|t| t.sid == sid) {
            f(t);
        }
    }

    /// The agent joins the conversation with the agreed agent attributes; the task becomes assigned.
    pub fn accept_task(&self, task_sid: &str, agent_id: &str) -> Result<Task, TwilioError> {
        let agent = self.agent(agent_id)?;
        let task = self.task(task_sid)?;
        if task.status != "pending" {
            return Err(TwilioError::new(409, 20409, format!("Task is {}, not pending", task.status)));
        }
        self.add_participant(&task.conversation_sid, Some(agent.identity.clone()), Some(self.agent_attributes(&agent)))?;
        self.set_task(task_sid, |t| {
            t.status = "assigned".into();
            t.agent = Some(agent.id.clone());
        });
        self.task(task_sid)
    }

    /// Warm transfer as the customer sees it: the new agent joins, then the old one leaves.
    pub fn transfer_task(&self, task_sid: &str, to_agent: &str) -> Result<Task, TwilioError> {
        let to = self.agent(to_agent)?;
        let task = self.task(task_sid)?;
        let from = match (&task.status[..], &task.agent) {
            ("assigned", Some(a)) => self.agent(a)?,
            _ => return Err(TwilioError::new(409, 20409, format!("Only an assigned task can be transferred (it is {})", task.status))),
        };
        if from.id == to.id {
            return Err(TwilioError::invalid("to", "the task is already with this agent"));
        }
        self.add_participant(&task.conversation_sid, Some(to.identity.clone()), Some(self.agent_attributes(&to)))?;
        self.remove_participant(&task.conversation_sid, &from.identity)?;
        self.set_task(task_sid, |t| t.agent = Some(to.id.clone()));
        self.task(task_sid)
    }

    /// The agent ends the chat: the conversation closes (participants stay, as agreed).
    pub fn end_task(&self, task_sid: &str) -> Result<Task, TwilioError> {
        let task = self.task(task_sid)?;
        self.update_conversation(&task.conversation_sid, Some("closed".into()), None, None)?;
        self.task(task_sid)
    }

    pub fn set_available(&self, agent_id: &str, available: bool) -> Result<Agent, TwilioError> {
        let mut st = self.lock();
        let a = st.agents.iter_mut().find(|a| a.id == agent_id).ok_or_else(|| TwilioError::new(404, 20404, format!("No agent {agent_id:?}")))?;
        a.available = available;
        Ok(a.clone())
    }

    /// TaskRouter's queue statistics computed from the tasks and agents.
    pub fn queue_statistics(&self) -> Value {
        let st = self.lock();
        let now = now_secs();
        let count = |s: &str| st.tasks.iter().filter(|t| t.status == s).count();
        let oldest = st.tasks.iter().filter(|t| t.status == "pending").min_by_key(|t| t.date_created);
        let available = st.agents.iter().filter(|a| a.available).count();
        json!({
            "total_available_workers": available,
            "total_eligible_workers": st.agents.len(),
            "total_tasks": st.tasks.iter().filter(|t| !matches!(t.status.as_str(), "completed" | "canceled")).count(),
            "tasks_by_status": {
                "pending": count("pending"), "reserved": count("reserved"), "assigned": count("assigned"),
                "wrapping": count("wrapping"), "completed": count("completed"), "canceled": count("canceled"),
            },
            "tasks_by_priority": {},
            "longest_task_waiting_age": oldest.map(|t| now.saturating_sub(t.date_created)).unwrap_or(0),
            "longest_task_waiting_sid": oldest.map(|t| t.sid.clone()),
            "longest_relative_task_age_in_queue": oldest.map(|t| now.saturating_sub(t.date_created)).unwrap_or(0),
            "longest_relative_task_sid_in_queue": oldest.map(|t| t.sid.clone()),
            "average_task_acceptance_time": 0,
            "activity_statistics": [
                {"sid": "WA00000000000000000000000000000001", "friendly_name": "Available", "workers": available},
                {"sid": "WA00000000000000000000000000000002", "friendly_name": "Unavailable", "workers": st.agents.len() - available},
            ],
        })
    }
}

/// When a conversation closes, its tasks end: waiting ones are canceled, assigned ones completed.
fn close_tasks_of(st: &mut State, conversation_sid: &str) {
    for t in st.tasks.iter_mut().filter(|t| t.conversation_sid == conversation_sid) {
        t.status = match t.status.as_str() {
            "pending" | "reserved" => "canceled".into(),
            "assigned" | "wrapping" => "completed".into(),
            other => other.to_string(),
        };
    }
}

pub fn find_conversation(st: &State, key: &str) -> Result<usize, TwilioError> {
    st.conversations
        .iter()
        .position(|c| c.sid == key || c.unique_name.as_deref() == Some(key))
        .ok_or_else(|| TwilioError::not_found(&format!("/v1/Conversations/{key}")))
}

/// Attributes are a JSON string on Twilio's REST API; absent means `{}`.
pub fn validate_json_attributes(name: &str, value: Option<String>, limit: usize) -> Result<String, TwilioError> {
    let Some(v) = value else { return Ok("{}".into()) };
    if v.len() > limit {
        return Err(TwilioError::new(400, 50507, format!("{name} is {} bytes; the limit is {limit}", v.len())));
    }
    serde_json::from_str::<Value>(&v).map_err(|e| TwilioError::invalid(name, &format!("not valid JSON ({e})")))?;
    Ok(v)
}

/// Content type from the extension (never trusted from the uploader, so nothing can be served as HTML).
pub fn content_type_for(filename: &str) -> Option<&'static str> {
    let ext = filename.rsplit_once('.')?.1.to_ascii_lowercase();
    Some(match ext.as_str() {
        "jpg" | "jpeg" => "image/jpeg",
        "png" => "image/png",
        "gif" => "image/gif",
        "heic" => "image/heic",
        "amr" => "audio/amr",
        "mp3" => "audio/mpeg",
        "mp4" => "video/mp4",
        "pdf" => "application/pdf",
        "txt" => "text/plain; charset=utf-8",
        _ => return None,
    })
}

fn parse_attributes(s: &str) -> Value {
    serde_json::from_str(s).unwrap_or_else(|_| json!({}))
}

// ---- realtime (camelCase) representations ---------------------------------------------------------

pub fn conversation_json(c: &Conversation) -> Value {
    json!({
        "sid": c.sid,
        "uniqueName": c.unique_name,
        "friendlyName": c.friendly_name,
        "attributes": parse_attributes(&c.attributes),
        "state": {"current": c.state, "dateUpdated": iso8601(c.date_updated)},
        "dateCreated": iso8601(c.date_created),
        "dateUpdated": iso8601(c.date_updated),
    })
}

pub fn participant_json(p: &Participant) -> Value {
    json!({
        "sid": p.sid,
        "identity": p.identity,
        "attributes": parse_attributes(&p.attributes),
        "lastReadMessageIndex": p.last_read_message_index,
        "lastReadTimestamp": p.last_read_at.map(iso8601),
        "dateCreated": iso8601(p.date_created),
        "dateUpdated": iso8601(p.date_updated),
    })
}

pub fn media_info_json(m: &MediaInfo) -> Value {
    json!({"sid": m.sid, "filename": m.filename, "contentType": m.content_type, "size": m.size, "category": "media"})
}

pub fn message_json(m: &Message) -> Value {
    json!({
        "sid": m.sid,
        "index": m.index,
        "author": m.author,
        "body": m.body,
        "attributes": parse_attributes(&m.attributes),
        "type": if m.media.is_empty() { "text" } else { "media" },
        "media": m.media.iter().map(media_info_json).collect::<Vec<_>>(),
        "participantSid": m.participant_sid,
        "dateCreated": iso8601(m.date_created),
    })
}
