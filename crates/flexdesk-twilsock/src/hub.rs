//! State shared by all twilsock connections: who is connected as whom, which Sync objects each connection
//! subscribed to, and the Sync event ids. Backend events become Sync events (and typing notifications) here.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};

use serde_json::{json, Map, Value};
use tokio::sync::{broadcast, mpsc, watch, Notify};

use crate::backend::{identity_of, BackendEvent, Conversation, ConversationBackend, Participant};
use crate::entities::{self, Entity};
use crate::frame::Frame;
use crate::hooks::ConnectionHooks;
use crate::ids::now_rfc3339;
use twilio_model::time::iso8601;
use crate::TwilsockConfig;

pub const SYNC_EVENT: &str = "twilio.sync.event";
pub const TYPING_EVENT: &str = "twilio.ipmsg.typing_indicator";

struct SessionHandle {
    identity: String,
    tx: mpsc::UnboundedSender<Frame>,
    subscriptions: HashSet<String>,
    /// Ends the connection abruptly (as a network failure would).
    kill: Arc<Notify>,
}

/// Sync event ids: one increasing counter; each object and each item remembers the id of its last change, which
/// is what fetches report as `last_event_id` (the SDK drops events not newer than what it already has).
///
/// Recent events are kept per object so a subscription can replay what happened since the `last_event_id` the SDK
/// fetched (the SDK fetches an object, then subscribes; anything in between would otherwise be lost).
#[derive(Default)]
struct EventLog {
    last: u64,
    objects: HashMap<String, u64>,
    items: HashMap<(String, String), u64>,
    history: HashMap<String, VecDeque<(u64, Value)>>,
}

/// Events kept per object for replay; older ones are dropped (the SDK then just misses them).
const HISTORY_PER_OBJECT: usize = 500;

pub struct Hub {
    pub backend: Arc<dyn ConversationBackend>,
    pub config: TwilsockConfig,
    pub hooks: Arc<dyn ConnectionHooks>,
    /// Bumped when token expiries may have changed (sessions then ask the hooks again).
    pub expiry_generation: watch::Sender<u64>,
    sessions: Mutex<HashMap<u64, SessionHandle>>,
    log: Mutex<EventLog>,
    next_session: AtomicU64,
}

impl Hub {
    /// Creates the hub and starts forwarding backend events (must be called inside a tokio runtime).
    pub fn start(backend: Arc<dyn ConversationBackend>, config: TwilsockConfig, hooks: Arc<dyn ConnectionHooks>) -> Arc<Hub> {
        let mut events = backend.events();
        let hub = Arc::new(Hub {
            backend,
            config,
            hooks,
            expiry_generation: watch::channel(0).0,
            sessions: Mutex::new(HashMap::new()),
            log: Mutex::new(EventLog::default()),
            next_session: AtomicU64::new(1),
        });
        let weak: Weak<Hub> = Arc::downgrade(&hub);
        tokio::spawn(async move {
            loop {
                match events.recv().await {
                    Ok(event) => match weak.upgrade() {
                        Some(hub) => hub.apply(event),
                        None => break,
                    },
                    Err(broadcast::error::RecvError::Lagged(n)) => {
                        tracing::warn!(missed = n, "twilsock hub lagged behind backend events; clients may miss updates");
                    }
                    Err(broadcast::error::RecvError::Closed) => break,
                }
            }
        });
        hub
    }

    pub fn register(&self, identity: String, tx: mpsc::UnboundedSender<Frame>, kill: Arc<Notify>) -> u64 {
        let id = self.next_session.fetch_add(1, Ordering::Relaxed);
        self.sessions.lock().unwrap().insert(id, SessionHandle { identity, tx, subscriptions: HashSet::new(), kill });
        id
    }

    /// Drops every connection without a close frame; returns how many. The SDKs reconnect, re-subscribe with
    /// their last event ids and get what they missed replayed.
    pub fn drop_connections(&self) -> usize {
        let sessions = self.sessions.lock().unwrap();
        for s in sessions.values() {
            s.kill.notify_one();
        }
        sessions.len()
    }

    /// Identities connected now, one entry per connection.
    pub fn connected_identities(&self) -> Vec<String> {
        self.sessions.lock().unwrap().values().map(|s| s.identity.clone()).collect()
    }

    pub fn unregister(&self, session: u64) {
        self.sessions.lock().unwrap().remove(&session);
    }

    pub fn set_identity(&self, session: u64, identity: String) {
        if let Some(s) = self.sessions.lock().unwrap().get_mut(&session) {
            s.identity = identity;
        }
    }

    pub fn subscribe(&self, session: u64, name: &str) {
        if let Some(s) = self.sessions.lock().unwrap().get_mut(&session) {
            s.subscriptions.insert(name.to_string());
        }
    }

    pub fn unsubscribe(&self, session: u64, name: &str) {
        if let Some(s) = self.sessions.lock().unwrap().get_mut(&session) {
            s.subscriptions.remove(name);
        }
    }

    pub fn object_event_id(&self, name: &str) -> u64 {
        self.log.lock().unwrap().objects.get(name).copied().unwrap_or(0)
    }

    pub fn item_event_id(&self, name: &str, key: &str) -> u64 {
        self.log.lock().unwrap().items.get(&(name.to_string(), key.to_string())).copied().unwrap_or(0)
    }

    fn bump(&self, name: &str, key: &str) -> u64 {
        let mut log = self.log.lock().unwrap();
        log.last += 1;
        let id = log.last;
        log.objects.insert(name.to_string(), id);
        log.items.insert((name.to_string(), key.to_string()), id);
        id
    }

    /// Sends `payload` as a twilsock notification to every session matching `filter`.
    fn notify(&self, message_type: &str, payload: &Value, filter: impl Fn(&SessionHandle) -> bool) {
        let sessions = self.sessions.lock().unwrap();
        for s in sessions.values().filter(|s| filter(s)) {
            let _ = s.tx.send(notification(message_type, payload));
        }
    }

    fn publish_sync(&self, name: &str, event_type: &str, event: Value) {
        let id = event["id"].as_u64().unwrap_or(0);
        let payload = json!({"event_type": event_type, "event": event});
        {
            let mut log = self.log.lock().unwrap();
            let h = log.history.entry(name.to_string()).or_default();
            h.push_back((id, payload.clone()));
            if h.len() > HISTORY_PER_OBJECT {
                h.pop_front();
            }
        }
        self.notify(SYNC_EVENT, &payload, |s| s.subscriptions.contains(name));
    }

    /// Notifications for `name`'s events newer than `after` (call after subscribing: a duplicate is harmless, the
    /// SDK ignores events it has seen; a gap is not).
    pub fn replay(&self, name: &str, after: u64) -> Vec<Frame> {
        let log = self.log.lock().unwrap();
        log.history
            .get(name)
            .map(|h| h.iter().filter(|(id, _)| *id > after).map(|(_, p)| notification(SYNC_EVENT, p)).collect())
            .unwrap_or_default()
    }

    pub fn object_url(&self, entity: &Entity) -> String {
        let collection = match entity.kind() {
            "document" => "Documents",
            "list" => "Lists",
            _ => "Maps",
        };
        format!("{}/v3/{}/{}", self.config.sync_base_url, collection, encode_segment(&entity.name()))
    }

    pub fn item_url(&self, entity: &Entity, key: &str) -> String {
        format!("{}/Items/{}", self.object_url(entity), encode_segment(key))
    }

    fn map_item_event(&self, entity: &Entity, key: &str, data: Option<Value>, kind: &str) {
        let name = entity.name();
        let id = self.bump(&name, key);
        let mut event = json!({
            "id": id, "map_sid": name, "item_key": key, "item_url": self.item_url(entity, key),
            "item_revision": id.to_string(), "map_revision": id.to_string(), "date_created": now_rfc3339(),
        });
        if let Some(data) = data {
            event["item_data"] = data;
        }
        self.publish_sync(&name, kind, event);
    }

    fn document_updated(&self, conversation: &Conversation) {
        let entity = Entity::Conversation(conversation.sid.clone());
        let name = entity.name();
        let id = self.bump(&name, "");
        let last = self.backend.messages(&conversation.sid).ok().and_then(|m| m.last().cloned());
        let event = json!({
            "id": id, "document_sid": name, "document_revision": id.to_string(),
            "document_data": entities::conversation_data(conversation, last.as_ref()), "date_created": now_rfc3339(),
        });
        self.publish_sync(&name, "document_updated", event);
    }

    fn my_conversation_event(&self, conversation_sid: &str, participant: &Participant, kind: &str) {
        let entity = Entity::MyConversations(identity_of(participant).to_string());
        let data = if kind == "map_item_removed" {
            None
        } else {
            match self.backend.conversation(conversation_sid) {
                Some(c) => Some(entities::my_conversation_data(&c, Some(participant))),
                None => return,
            }
        };
        self.map_item_event(&entity, conversation_sid, data, kind);
    }

    pub fn apply(&self, event: BackendEvent) {
        match event {
            BackendEvent::ConversationUpdated(info) => self.document_updated(&info),
            BackendEvent::ParticipantAdded { conversation_sid, participant } => {
                let roster = Entity::Roster(conversation_sid.clone());
                self.map_item_event(&roster, &participant.sid, Some(entities::participant_data(&participant)), "map_item_added");
                self.my_conversation_event(&conversation_sid, &participant, "map_item_added");
            }
            BackendEvent::ParticipantUpdated { conversation_sid, participant } => {
                let roster = Entity::Roster(conversation_sid.clone());
                self.map_item_event(&roster, &participant.sid, Some(entities::participant_data(&participant)), "map_item_updated");
                self.my_conversation_event(&conversation_sid, &participant, "map_item_updated");
            }
            BackendEvent::ParticipantRemoved { conversation_sid, participant } => {
                let roster = Entity::Roster(conversation_sid.clone());
                self.map_item_event(&roster, &participant.sid, Some(entities::participant_data(&participant)), "map_item_removed");
                self.my_conversation_event(&conversation_sid, &participant, "map_item_removed");
                // Having seen their removal, former participants stop receiving the conversation's messages and
                // roster (subscribing needed participation; so does staying subscribed).
                let revoked = [Entity::Messages(conversation_sid.clone()).name(), roster.name()];
                let mut sessions = self.sessions.lock().unwrap();
                for s in sessions.values_mut().filter(|s| s.identity == identity_of(&participant)) {
                    for name in &revoked {
                        s.subscriptions.remove(name);
                    }
                }
            }
            BackendEvent::MessageAdded { conversation_sid, message } => {
                let entity = Entity::Messages(conversation_sid.clone());
                let name = entity.name();
                let key = message.index.to_string();
                let id = self.bump(&name, &key);
                let event = json!({
                    "id": id, "list_sid": name, "item_index": message.index, "item_url": self.item_url(&entity, &key),
                    "item_revision": id.to_string(), "list_revision": id.to_string(),
                    "item_data": entities::message_data(&message), "date_created": iso8601(message.date_created),
                });
                self.publish_sync(&name, "list_item_added", event);
                if let Some(c) = self.backend.conversation(&conversation_sid) {
                    self.document_updated(&c);
                }
            }
            BackendEvent::Typing { conversation_sid, identity } => {
                let Ok(participants) = self.backend.participants(&conversation_sid) else { return };
                let others: HashSet<String> =
                    participants.iter().map(|p| identity_of(p).to_string()).filter(|i| *i != identity).collect();
                // The SDK ends the indicator after typing_timeout seconds; one more second covers latency.
                let payload = json!({
                    "channel_sid": conversation_sid, "identity": identity,
                    "typing_timeout": self.config.typing_timeout_secs + 1,
                });
                self.notify(TYPING_EVENT, &payload, |s| others.contains(&s.identity));
            }
        }
    }

    /// Sync's reply to an `establish` request: every requested object becomes subscribed and its replay is
    /// complete (the SDK fetched the object just before subscribing).
    pub fn subscription_established(&self, correlation_id: &Value, sids: &[String]) -> Frame {
        let events: Vec<Value> = sids
            .iter()
            .map(|sid| json!({"object_sid": sid, "replay_status": "completed", "last_event_id": self.object_event_id(sid)}))
            .collect();
        notification(SYNC_EVENT, &json!({"event_type": "subscription_established", "correlation_id": correlation_id, "events": events}))
    }

    pub fn subscription_canceled(&self, correlation_id: &Value, sids: &[String]) -> Frame {
        let events: Vec<Value> = sids.iter().map(|sid| json!({"object_sid": sid})).collect();
        notification(SYNC_EVENT, &json!({"event_type": "subscription_canceled", "correlation_id": correlation_id, "events": events}))
    }
}

pub fn new_message_id() -> String {
    crate::ids::sid("TM")
}

pub fn notification(message_type: &str, payload: &Value) -> Frame {
    let mut header = Map::new();
    header.insert("method".into(), "notification".into());
    header.insert("id".into(), new_message_id().into());
    header.insert("message_type".into(), message_type.into());
    header.insert("payload_type".into(), "application/json".into());
    Frame::new(header, serde_json::to_vec(payload).expect("JSON values serialise"))
}

pub fn encode_segment(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}
