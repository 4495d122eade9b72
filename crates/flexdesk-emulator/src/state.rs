//! The emulator's in-memory world: conversations (each in a Conversations service), participants, messages,
//! media, interactions, tasks and agents. Every mutation happens under one lock and publishes its realtime event
//! while still holding it, so all subscribers see events in the same order as message indexes were assigned.
//! Twilio's rules applied here cite their source; the table is in docs/emulator.md.
//!
//! Over 600 lines because every mutation of the world sits beside the one lock it must hold; the realtime JSON
//! shapes at the end (`conversation_json` …) could move out to their own module.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use bytes::Bytes;
use serde_json::{json, Value};
use tokio::sync::{broadcast, watch};
use twilio_model::conversations::attributes_json;
use twilio_model::limits;
pub use twilio_model::limits::{ALLOWED_EXTENSIONS, MAX_MEDIA_BYTES};
pub use twilio_model::conversations::{Conversation as ConversationRecord, Media, Message, Participant};
pub use twilio_model::{ChannelStatus, ConversationState, TaskStatus};

use crate::config::Config;
use crate::ratelimit::RateLimiter;
use crate::twilio_error::TwilioError;
use crate::util::{iso8601, now_millis, now_secs, random_key, sid};

/// How long a typing signal counts as "typing" (the SDK's default typing timeout).
pub const TYPING_MILLIS: u64 = 5_000;

/// One change to one conversation, for the realtime clients (`/v1/realtime` renders it as JSON, the twilsock
/// server as Sync events). `seq` orders events within the conversation so a socket that subscribed from a snapshot
/// can skip the events the snapshot already contains.
#[derive(Debug, Clone)]
pub struct Event {
    pub conversation_sid: String,
    pub seq: u64,
    /// Identity that caused it (typing events are not echoed to their author).
    pub actor: Option<String>,
    pub change: Change,
}

/// What changed, with the records as they are after the change. `reasons` are the SDK's `updateReasons`.
#[derive(Debug, Clone)]
pub enum Change {
    ConversationUpdated { conversation: ConversationRecord, reasons: Vec<&'static str> },
    ConversationRemoved,
    ParticipantJoined(Participant),
    ParticipantUpdated { participant: Participant, reasons: Vec<&'static str> },
    ParticipantLeft(Participant),
    Typing(Participant),
    MessageAdded(Message),
}

/// A conversation with what the emulator keeps beside its record: participants, messages, the event sequence,
/// typing and the address's integration.
#[derive(Debug, Clone)]
pub struct Conversation {
    pub record: ConversationRecord,
    pub participants: Vec<Participant>,
    pub messages: Vec<Message>,
    pub seq: u64,
    /// identity → millis of its last typing signal (for the console).
    pub typing: HashMap<String, u64>,
    /// The address's (or Flex Flow's) Studio integration, run on the first `onMessageAdded` (`pipeline.rs`).
    pub integration: Option<crate::pipeline::Integration>,
    /// `Timers.Inactive` / `Timers.Closed` (timers.rs).
    pub timers: crate::timers::Timers,
}

// The record's fields read and write as the conversation's own (`c.sid`, `c.state = …`): the wrapper only adds.
impl std::ops::Deref for Conversation {
    type Target = ConversationRecord;
    fn deref(&self) -> &ConversationRecord {
        &self.record
    }
}

impl std::ops::DerefMut for Conversation {
    fn deref_mut(&mut self) -> &mut ConversationRecord {
        &mut self.record
    }
}

/// An upload: its record and its bytes.
#[derive(Debug, Clone)]
pub struct StoredMedia {
    pub record: Media,
    pub bytes: Bytes,
}

#[derive(Debug, Clone)]
pub struct Task {
    pub sid: String,
    pub conversation_sid: String,
    pub status: TaskStatus,
    /// The TaskRouter task channel's unique name (`chat` for every Flex web chat).
    pub task_channel: String,
    pub attributes: Value,
    pub agent: Option<String>,
    pub date_created: u64,
    /// Unix seconds at which an agent accepted it (TaskRouter's cumulative statistics, rest_tasks.rs).
    pub date_accepted: Option<u64>,
    pub interaction_sid: Option<String>,
    pub channel_sid: Option<String>,
    /// Unix seconds at which it was canceled or completed: TaskRouter deletes it five minutes later ("the Task is
    /// deleted five minutes after moving into this state", <https://www.twilio.com/docs/taskrouter/lifecycle-task-state>),
    /// so the REST reads and updates of rest_tasks.rs no longer find it then ([`Task::deleted`]).
    pub date_ended: Option<u64>,
}

/// How long TaskRouter keeps a canceled or completed task (see [`Task::date_ended`]).
pub const ENDED_TASK_KEPT_SECONDS: u64 = 300;

impl Task {
    /// Moves the task to `to` at `now` (noting when it ended); the TaskRouter event that tells it, if any
    /// (<https://www.twilio.com/docs/taskrouter/api/event/reference>: `reservation.accepted`, `task.canceled`,
    /// `task.wrapup`, `task.completed`).
    pub(crate) fn set_status(&mut self, to: TaskStatus, now: u64) -> Option<&'static str> {
        if self.status == to {
            return None;
        }
        self.status = to;
        if !to.is_open() {
            self.date_ended = Some(now);
        }
        match to {
            TaskStatus::Assigned => Some("reservation.accepted"),
            TaskStatus::Canceled => Some("task.canceled"),
            TaskStatus::Wrapping => Some("task.wrapup"),
            TaskStatus::Completed => Some("task.completed"),
            TaskStatus::Pending | TaskStatus::Reserved => None,
        }
    }

    /// TaskRouter has deleted it (five minutes after it ended).
    pub fn deleted(&self, now: u64) -> bool {
        self.date_ended.is_some_and(|at| now >= at + ENDED_TASK_KEPT_SECONDS)
    }
}

/// An Interactions API interaction (`KD…`) with its one channel (`UO…`) and media conversation.
#[derive(Debug, Clone)]
pub struct Interaction {
    pub sid: String,
    pub channel_sid: String,
    pub channel_type: String,
    pub channel_status: ChannelStatus,
    pub conversation_sid: String,
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
    /// Seconds a temporary media URL signed from now on stays valid, instead of `media::URL_TTL_SECONDS`
    /// (`mediaUrlTtlSeconds`: a test expires agent files' URLs).
    pub media_url_ttl_seconds: Option<u64>,
}

#[derive(Default)]
pub struct State {
    pub conversations: Vec<Conversation>,
    pub tasks: Vec<Task>,
    pub interactions: Vec<Interaction>,
    pub agents: Vec<Agent>,
    pub media: HashMap<String, StoredMedia>,
    /// Every access token seen so far, so "expire tokens early" can target the existing ones only.
    pub tokens_seen: HashSet<String>,
    /// token → unix second at which it now expires (fault injection).
    pub early_expiry: HashMap<String, u64>,
    pub faults: Faults,
    pub open_websockets: usize,
    /// SMS participants and the texts sent to them (`sms.rs`).
    pub sms: crate::sms::Sms,
}

/// What closing a conversation does to its tasks.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TaskEffect {
    /// Waiting tasks are canceled, tasks with an agent completed (emulator convenience for a direct conversation
    /// close: Twilio does not document what that does to a Flex task).
    End,
    /// Leave the tasks alone (the caller sets them).
    Keep,
}

/// Shared handle passed to every handler.
pub struct Emulator {
    pub config: Config,
    state: Mutex<State>,
    pub rates: Mutex<RateLimiter>,
    pub events: broadcast::Sender<Arc<Event>>,
    /// Bumped to make every open socket drop (fault injection) or re-read its token expiry.
    pub drop_generation: watch::Sender<u64>,
    pub expiry_generation: watch::Sender<u64>,
    /// Key for the temporary media URLs: random per process, never leaves it.
    pub media_key: String,
    base_url: OnceLock<String>,
    /// The real SDK's server (`/v3/wsconnect`), created with the first router (it needs a runtime).
    pub(crate) twilsock: OnceLock<twilsock::Twilsock>,
    /// Conversations webhooks: each service's configuration and the sender (see `webhooks.rs`).
    pub webhooks: crate::webhooks::Webhooks,
    /// The conversation timers' task runs (timers.rs `start`).
    pub(crate) timers_started: OnceLock<()>,
    /// Flex's pipeline: timing and the answers to what Twilio leaves open (`pipeline.rs`, `POST /admin/pipeline`).
    pub switches: Mutex<crate::pipeline::Switches>,
    /// Every Twilio REST call received, by route (`GET /admin/calls`): what a client costs an account, counted where
    /// Twilio would count it.
    pub calls: Mutex<crate::rest_support::CallCounts>,
}

pub type Shared = Arc<Emulator>;

fn closed_final() -> TwilioError {
    TwilioError::closed_final()
}

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
        let config_switches = config.switches.clone();
        let rates = RateLimiter::new(config.webchats_rate, config.interactions_rate);
        let webhooks = crate::webhooks::Webhooks::default();
        if let Some(url) = &config.webhook_url {
            // EMULATOR_WEBHOOK_URL (convenience): the Flex service's post-event URL, for the two events flexdesk uses.
            webhooks.set_target(
                &config.service_sid,
                crate::webhooks::Target {
                    post_webhook_url: Some(url.clone()),
                    filters: vec![crate::webhooks::STATE_UPDATED.into(), crate::webhooks::REMOVED.into()],
                    method: "POST".into(),
                    pre_webhook_url: None,
                },
            );
        }
        Arc::new(Emulator {
            config,
            state: Mutex::new(state),
            rates: Mutex::new(rates),
            events,
            drop_generation: watch::channel(0).0,
            expiry_generation: watch::channel(0).0,
            media_key: random_key(),
            base_url: OnceLock::new(),
            twilsock: OnceLock::new(),
            webhooks,
            timers_started: OnceLock::new(),
            switches: Mutex::new(config_switches),
            calls: Mutex::default(),
        })
    }

    pub fn set_base_url(&self, url: String) {
        let _ = self.base_url.set(url);
    }

    pub fn base_url(&self) -> &str {
        self.base_url.get().map(String::as_str).unwrap_or("http://127.0.0.1")
    }

    pub fn switches(&self) -> MutexGuard<'_, crate::pipeline::Switches> {
        self.switches.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn lock(&self) -> MutexGuard<'_, State> {
        // A panic in one handler must not wedge the whole emulator.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Counts one request to a rate-limited endpoint; `Err` is Twilio's 429 / 45780.
    pub fn admit(&self, endpoint: crate::ratelimit::Endpoint) -> Result<(), TwilioError> {
        self.rates.lock().unwrap_or_else(|e| e.into_inner()).admit(endpoint)
    }

    /// The services this account has: the Flex one and the default one (the same when configured so).
    pub fn known_service(&self, service_sid: &str) -> bool {
        service_sid == self.config.service_sid || service_sid == self.config.default_service_sid || service_sid == crate::rest_config::OTHER_SERVICE
    }

    pub fn avatar_url(&self, agent_id: &str) -> String {
        format!("{}/console/avatars/{agent_id}.svg", self.base_url())
    }

    pub fn agent_attributes(&self, agent: &Agent) -> String {
        json!({"member_type": "agent", "friendlyName": agent.name, "avatar": self.avatar_url(&agent.id)}).to_string()
    }

    /// Sends a Conversations post-event webhook when the service's configuration asks for it (see `webhooks.rs`).
    fn webhook(&self, service_sid: &str, event: &str, params: Vec<(String, String)>) {
        self.webhooks.notify(&self.config.auth_token, &self.config.account_sid, service_sid, event, params);
    }

    /// Posts TaskRouter's event about task `t` to the workspace's `EventCallbackUrl`, when one is set (webhooks.rs).
    pub(crate) fn task_event(&self, event: &str, t: &Task) {
        self.webhooks.notify_taskrouter(&self.config, event, t, now_secs());
    }

    fn publish(&self, conv: &mut Conversation, actor: Option<&str>, change: Change) {
        conv.seq += 1;
        let _ = self.events.send(Arc::new(Event { conversation_sid: conv.sid.clone(), seq: conv.seq, actor: actor.map(str::to_string), change }));
    }

    // ---- conversations -------------------------------------------------------------------------

    /// Creates a conversation in `service_sid`. `State=closed` is refused with 50384
    /// (<https://www.twilio.com/docs/api/errors/50384>); the state defaults to `active` (twilio-oai
    /// `conversation_enum_state` description).
    pub fn create_conversation(
        &self,
        service_sid: &str,
        friendly_name: Option<String>,
        unique_name: Option<String>,
        attributes: Option<String>,
        state: Option<String>,
    ) -> Result<Conversation, TwilioError> {
        let attributes = validate_json_attributes("Attributes", attributes, limits::MAX_CONVERSATION_ATTRIBUTES_BYTES)?;
        let state = match state.as_deref() {
            None => ConversationState::Active,
            Some(s) => match ConversationState::parse(s) {
                Some(ConversationState::Closed) => return Err(TwilioError::new(400, 50384, "Initial state can't be 'closed'")),
                Some(s) => s,
                None => return Err(TwilioError::invalid("State", &format!("{s:?} is not active or inactive"))),
            },
        };
        let mut st = self.lock();
        if let Some(u) = &unique_name {
            if st.conversations.iter().any(|c| c.service_sid == service_sid && c.unique_name.as_deref() == Some(u)) {
                // https://www.twilio.com/docs/api/errors/50353
                return Err(TwilioError::new(409, 50353, format!("Conversation with provided unique name already exists: {u}")));
            }
        }
        let now = now_secs();
        let conv = Conversation {
            record: ConversationRecord {
                sid: sid("CH"),
                service_sid: service_sid.to_string(),
                unique_name,
                friendly_name,
                attributes,
                state,
                date_created: now,
                date_updated: now,
            },
            participants: Vec::new(),
            messages: Vec::new(),
            seq: 0,
            typing: HashMap::new(),
            integration: None,
            timers: Default::default(),
        };
        st.conversations.push(conv.clone());
        Ok(conv)
    }

    /// Applies `State` / `Attributes` / `FriendlyName` changes and tells subscribers which changed. A closed
    /// conversation is final: any update answers 50377 (<https://www.twilio.com/docs/api/errors/50377>).
    pub fn update_conversation(
        &self,
        key: &str,
        state: Option<String>,
        attributes: Option<String>,
        friendly_name: Option<String>,
        webhook_enabled: bool,
    ) -> Result<Conversation, TwilioError> {
        let state = match state.as_deref() {
            None => None,
            Some(s) => Some(
                ConversationState::parse(s)
                    .ok_or_else(|| TwilioError::invalid("State", &format!("{s:?} is not active, inactive or closed")))?,
            ),
        };
        let attributes = match attributes {
            Some(a) => Some(validate_json_attributes("Attributes", Some(a), limits::MAX_CONVERSATION_ATTRIBUTES_BYTES)?),
            None => None,
        };
        let mut st = self.lock();
        let idx = find_conversation(&st, key)?;
        if st.conversations[idx].state == ConversationState::Closed {
            return Err(closed_final());
        }
        // What a direct close does to a Flex task is not documented: a switch (pipeline.rs).
        let effect = if self.switches().direct_close_ends_task { TaskEffect::End } else { TaskEffect::Keep };
        self.apply_update(&mut st, idx, state, attributes, friendly_name, effect, webhook_enabled, "API");
        Ok(st.conversations[idx].clone())
    }

    /// Sets the conversation's timers (timers.rs `requested`: `Some(None)` turns one off), counted from `now`.
    pub fn set_timers(&self, key: &str, inactive: Option<Option<u64>>, closed: Option<Option<u64>>, now: u64) -> Result<Conversation, TwilioError> {
        let mut st = self.lock();
        let idx = find_conversation(&st, key)?;
        let t = &mut st.conversations[idx].timers;
        if let Some(v) = inactive {
            t.inactive = v;
        }
        if let Some(v) = closed {
            t.closed = v;
        }
        t.since = now;
        Ok(st.conversations[idx].clone())
    }

    /// Moves every conversation whose timer ran out at `now` (timers.rs): to `inactive`, or to `closed` (final, its
    /// tasks ended as by a direct close). Run every second (`timers::start`); tests call it with a later `now`.
    pub fn run_timers(&self, now: u64) {
        let mut st = self.lock();
        let due: Vec<(usize, ConversationState)> =
            st.conversations.iter().enumerate().filter_map(|(i, c)| c.timers.due(c.state, now).map(|s| (i, s))).collect();
        for (idx, to) in due {
            let effect = if to == ConversationState::Closed { TaskEffect::End } else { TaskEffect::Keep };
            self.apply_update(&mut st, idx, Some(to), None, None, effect, true, "TIMER");
        }
    }

    fn apply_update(
        &self,
        st: &mut State,
        idx: usize,
        state: Option<ConversationState>,
        attributes: Option<String>,
        friendly_name: Option<String>,
        effect: TaskEffect,
        webhook: bool,
        reason: &str,
    ) {
        let mut reasons = Vec::new();
        let closing;
        {
            let conv = &mut st.conversations[idx];
            closing = state == Some(ConversationState::Closed) && conv.state != ConversationState::Closed;
            if let Some(s) = state {
                if s != conv.state {
                    let params = vec![
                        ("ConversationSid".to_string(), conv.sid.clone()),
                        ("StateFrom".to_string(), conv.state.as_str().to_string()),
                        ("StateTo".to_string(), s.as_str().to_string()),
                        ("Reason".to_string(), reason.to_string()),
                        ("StateUpdated".to_string(), iso8601(now_secs())),
                    ];
                    if webhook {
                        self.webhook(&conv.service_sid, crate::webhooks::STATE_UPDATED, params);
                    }
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
                let change = Change::ConversationUpdated { conversation: conv.record.clone(), reasons };
                self.publish(conv, None, change);
            }
        }
        if closing && effect == TaskEffect::End {
            let sid = st.conversations[idx].sid.clone();
            end_tasks_of(self, st, &sid);
        }
    }

    /// Closes a conversation from inside Flex (the agent's end): a no-op when it is closed already. Whether such a
    /// close fires webhooks is a switch (pipeline.rs).
    pub fn close_conversation(&self, key: &str, effect: TaskEffect) -> Result<Conversation, TwilioError> {
        let webhook = self.switches().flex_close_fires_webhook;
        let mut st = self.lock();
        let idx = find_conversation(&st, key)?;
        self.apply_update(&mut st, idx, Some(ConversationState::Closed), None, None, effect, webhook, "API");
        Ok(st.conversations[idx].clone())
    }

    /// Deletes a conversation (REST): `onConversationRemoved` only with `X-Twilio-Webhook-Enabled: true`.
    pub fn delete_conversation(&self, key: &str, webhook_enabled: bool) -> Result<(), TwilioError> {
        let mut st = self.lock();
        let idx = find_conversation(&st, key)?;
        let sid = st.conversations[idx].sid.clone();
        end_tasks_of(self, &mut st, &sid);
        let mut conv = st.conversations.remove(idx);
        // "When you remove a Conversation object, all its Messages, attached Media, and Participants will be deleted"
        // (https://www.twilio.com/docs/conversations/modifying-objects): the uploads its messages carry go with it.
        st.media.retain(|_, m| m.record.conversation_sid.as_deref() != Some(sid.as_str()));
        self.publish(&mut conv, None, Change::ConversationRemoved);
        let params = vec![
            ("ConversationSid".to_string(), conv.sid.clone()),
            ("FriendlyName".to_string(), conv.friendly_name.clone().unwrap_or_default()),
            ("UniqueName".to_string(), conv.unique_name.clone().unwrap_or_default()),
            ("Attributes".to_string(), conv.attributes.clone()),
            ("State".to_string(), conv.state.as_str().to_string()),
            ("DateCreated".to_string(), iso8601(conv.date_created)),
            ("DateUpdated".to_string(), iso8601(conv.date_updated)),
        ];
        if webhook_enabled {
            self.webhook(&conv.service_sid, crate::webhooks::REMOVED, params);
        }
        Ok(())
    }

    pub fn conversation(&self, key: &str) -> Result<Conversation, TwilioError> {
        let st = self.lock();
        let idx = find_conversation(&st, key)?;
        Ok(st.conversations[idx].clone())
    }

    /// The conversation as addressed through `service_sid`'s paths: one of another service is 404 / 20404, as on
    /// Twilio (`/v1/Conversations/{CH}` reaches the default service only).
    pub fn conversation_in(&self, service_sid: &str, key: &str) -> Result<Conversation, TwilioError> {
        let c = self.conversation(key)?;
        if c.service_sid != service_sid {
            return Err(TwilioError::not_found(&format!("/v1/Conversations/{key}")));
        }
        Ok(c)
    }

    /// A conversation of the Flex service: the only service the emulator's realtime clients (`/v1/realtime`,
    /// `/v3/wsconnect`) reach, since their tokens' chat grant names it.
    pub fn flex_conversation(&self, key: &str) -> Result<Conversation, TwilioError> {
        self.conversation_in(&self.config.service_sid, key)
    }

    // ---- participants ----------------------------------------------------------------------------

    pub fn add_participant(&self, conv_key: &str, identity: Option<String>, attributes: Option<String>) -> Result<Participant, TwilioError> {
        let mut st = self.lock();
        let idx = find_conversation(&st, conv_key)?;
        self.add_participant_in(&mut st.conversations[idx], identity, attributes)
    }

    /// Participant `Attributes` ≤ 4 KB (<https://www.twilio.com/docs/conversations/conversations-limits>); none may
    /// join a closed conversation (50377).
    pub(crate) fn add_participant_in(&self, conv: &mut Conversation, identity: Option<String>, attributes: Option<String>) -> Result<Participant, TwilioError> {
        let attributes = validate_json_attributes("Attributes", attributes, limits::MAX_PARTICIPANT_ATTRIBUTES_BYTES)?;
        let identity = match identity {
            Some(i) if i.trim().is_empty() => return Err(TwilioError::invalid("Identity", "must not be empty")),
            other => other,
        };
        if conv.state == ConversationState::Closed {
            return Err(closed_final());
        }
        if let Some(i) = &identity {
            if conv.participants.iter().any(|p| p.identity.as_ref() == Some(i)) {
                // https://www.twilio.com/docs/api/errors/50433
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
        self.publish(conv, None, Change::ParticipantJoined(p.clone()));
        Ok(p)
    }

    pub fn remove_participant(&self, conv_key: &str, participant_key: &str) -> Result<Participant, TwilioError> {
        let mut st = self.lock();
        let idx = find_conversation(&st, conv_key)?;
        self.remove_participant_in(&mut st.conversations[idx], participant_key)
    }

    fn remove_participant_in(&self, conv: &mut Conversation, participant_key: &str) -> Result<Participant, TwilioError> {
        let pos = conv
            .participants
            .iter()
            .position(|p| p.sid == participant_key || p.identity.as_deref() == Some(participant_key))
            .ok_or_else(|| TwilioError::not_found(&format!("/v1/Conversations/{}/Participants/{participant_key}", conv.sid)))?;
        let p = conv.participants.remove(pos);
        if let Some(i) = &p.identity {
            conv.typing.remove(i);
        }
        self.publish(conv, None, Change::ParticipantLeft(p.clone()));
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
            .find(|p| p.is(identity))
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
            let change = Change::ParticipantUpdated { participant: p.clone(), reasons: vec!["lastReadMessageIndex", "lastReadTimestamp"] };
            self.publish(conv, Some(identity), change);
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
            .find(|p| p.is(identity))
            .cloned()
            .ok_or_else(|| TwilioError::new(403, 50400, format!("{identity} is not a participant of this conversation")))?;
        conv.typing.insert(identity.to_string(), now_millis());
        self.publish(conv, Some(identity), Change::Typing(p));
        Ok(())
    }

    // ---- messages --------------------------------------------------------------------------------

    /// Adds a message under the web channel's content rules ([`MessageRules::WebChannel`]); see
    /// [`Emulator::add_message_as`].
    pub fn add_message(
        &self,
        conv_key: &str,
        author: Option<String>,
        body: Option<String>,
        attributes: Option<String>,
        media_sids: Vec<String>,
    ) -> Result<Message, TwilioError> {
        self.add_message_as(MessageRules::WebChannel, conv_key, Poster::Account(author), body, attributes, media_sids)
    }

    /// A Flex-service conversation `identity` participates in: what a realtime client (`/v1/realtime`, the SDK on
    /// `/v3/wsconnect`) may read and write. Anyone else gets 403 / 50400.
    pub fn participant_conversation(&self, conv_key: &str, identity: &str) -> Result<Conversation, TwilioError> {
        let conv = self.flex_conversation(conv_key)?;
        if !conv.participants.iter().any(|p| p.is(identity)) {
            return Err(TwilioError::new(403, 50400, format!("{identity} is not a participant of {}", conv.sid)));
        }
        Ok(conv)
    }

    /// A message from a participant's own client (`/v1/realtime`, the SDK on `/v3/wsconnect`): the web channel's
    /// rules, only media the client uploaded itself (`Media::attachable_by`), and it fires `onMessageAdded`
    /// (`pipeline.rs`).
    pub fn send_from_client(
        self: &Arc<Self>,
        conv_key: &str,
        identity: &str,
        body: Option<String>,
        attributes: Option<String>,
        media_sids: Vec<String>,
    ) -> Result<Message, TwilioError> {
        let conv = self.participant_conversation(conv_key, identity)?;
        let m = self.add_message_as(MessageRules::WebChannel, &conv.sid, Poster::Client(identity), body, attributes, media_sids)?;
        crate::pipeline::message_added(self, &conv.sid);
        Ok(m)
    }

    /// Adds a message with Twilio's rules: body ≤ 32 KB (50504) and attributes ≤ 4 KB (50303)
    /// (<https://www.twilio.com/docs/conversations/conversations-limits>); what text and media may share a message
    /// depends on `rules`; nothing is added to a closed conversation (50377). The media must exist and not be
    /// attached already; a client may attach only its own uploads ([`Poster`]).
    pub fn add_message_as(
        &self,
        rules: MessageRules,
        conv_key: &str,
        poster: Poster<'_>,
        body: Option<String>,
        attributes: Option<String>,
        media_sids: Vec<String>,
    ) -> Result<Message, TwilioError> {
        let attributes = validate_json_attributes("Attributes", attributes, limits::MAX_MESSAGE_ATTRIBUTES_BYTES)?;
        let body = body.filter(|b| !b.is_empty());
        if body.is_none() && media_sids.is_empty() {
            return Err(TwilioError::missing("Body or MediaSid"));
        }
        match rules {
            MessageRules::WebChannel => {
                if body.is_some() && !media_sids.is_empty() {
                    return Err(TwilioError::invalid("MediaSid", "a message cannot carry both text and media: send them as two messages"));
                }
                if media_sids.len() > limits::MAX_MEDIA_PER_MESSAGE {
                    return Err(TwilioError::invalid("MediaSid", "at most one media per message on the web channel"));
                }
            }
            MessageRules::AgentSdk => {
                if media_sids.len() > MAX_AGENT_MEDIA_PER_MESSAGE {
                    return Err(TwilioError::invalid("MediaSid", &format!("at most {MAX_AGENT_MEDIA_PER_MESSAGE} media per message")));
                }
            }
        }
        if let Some(b) = &body {
            if b.len() > limits::MAX_BODY_BYTES {
                // https://www.twilio.com/docs/api/errors/50504
                return Err(TwilioError::new(400, 50504, format!("Message body parameter is too long: {} bytes; the limit is {}", b.len(), limits::MAX_BODY_BYTES)));
            }
        }
        let author = match &poster {
            Poster::Account(author) => author.clone().unwrap_or_else(|| "system".to_string()),
            Poster::Client(identity) => identity.to_string(),
        };
        let mut st = self.lock();
        let idx = find_conversation(&st, conv_key)?;
        if st.conversations[idx].state == ConversationState::Closed {
            return Err(closed_final());
        }
        for m in &media_sids {
            // https://www.twilio.com/docs/api/errors/50510
            let entry = st.media.get(m).ok_or_else(|| TwilioError::new(400, 50510, format!("Invalid message media SID: {m}")))?;
            match &poster {
                Poster::Client(identity) => entry.record.attachable_by(identity)?,
                Poster::Account(_) => entry.record.attachable()?,
            }
        }
        let message_sid = sid("IM");
        let conversation_sid = st.conversations[idx].sid.clone();
        let mut media = Vec::with_capacity(media_sids.len());
        for m in &media_sids {
            let Some(entry) = st.media.get_mut(m) else { continue };
            entry.record.conversation_sid = Some(conversation_sid.clone());
            entry.record.message_sid = Some(message_sid.clone());
            media.push(entry.record.clone());
        }
        // An SMS participant's text is authored by its address, not an identity (`sms.rs`).
        let sms_participant = st.sms.participant_sid(&conversation_sid, &author);
        let conv = &mut st.conversations[idx];
        let now = now_secs();
        let message = Message {
            sid: message_sid,
            index: conv.messages.last().map(|m| m.index + 1).unwrap_or(0),
            participant_sid: conv.participants.iter().find(|p| p.identity.as_deref() == Some(&author)).map(|p| p.sid.clone()).or(sms_participant),
            author,
            body,
            attributes,
            media,
            date_created: now,
        };
        conv.messages.push(message.clone());
        conv.typing.remove(&message.author);
        conv.date_updated = now;
        conv.timers.since = now;
        let reactivate = conv.state == ConversationState::Inactive;
        let author = message.author.clone();
        self.publish(conv, Some(&author), Change::MessageAdded(message.clone()));
        // "The Conversation will automatically move from an inactive to active state when a new text or media message
        // arrives" (https://www.twilio.com/docs/conversations/states-timers).
        if reactivate {
            self.apply_update(&mut st, idx, Some(ConversationState::Active), None, None, TaskEffect::Keep, true, "MESSAGE");
        }
        st.sms.deliver(&conversation_sid, &message);
        Ok(message)
    }

    /// Stores an upload after checking the web channel's extensions (50511) and size (50512)
    /// (<https://www.twilio.com/docs/flex/developer/conversations/limits>).
    pub fn store_media(&self, filename: &str, bytes: Bytes, uploaded_by: &str) -> Result<Media, TwilioError> {
        let filename = filename.trim();
        if filename.is_empty() || filename.len() > 255 || filename.contains(['/', '\\', '\0']) {
            return Err(TwilioError::invalid("filename", "a plain file name such as photo.png is required"));
        }
        let content_type = content_type_for(filename).ok_or_else(|| {
            TwilioError::new(415, 50511, format!("Invalid message media content type: {filename}; allowed extensions: {}", ALLOWED_EXTENSIONS.join(", ")))
        })?;
        if bytes.len() > MAX_MEDIA_BYTES {
            return Err(TwilioError::new(413, 50512, format!("Message media size is too large: {} bytes; the limit is 16 MiB", bytes.len())));
        }
        if bytes.is_empty() {
            return Err(TwilioError::invalid("media", "the file is empty"));
        }
        let record = Media {
            sid: sid("ME"),
            filename: filename.to_string(),
            content_type: content_type.to_string(),
            size: bytes.len() as u64,
            author: uploaded_by.to_string(),
            conversation_sid: None,
            message_sid: None,
            date_created: now_secs(),
        };
        self.lock().media.insert(record.sid.clone(), StoredMedia { record: record.clone(), bytes });
        Ok(record)
    }

    // ---- tasks, interactions and agents ----------------------------------------------------------

    /// An interaction over an existing conversation; its task comes later (`pipeline::route`).
    pub fn create_interaction(&self, conversation_sid: &str, channel_type: &str) -> Interaction {
        let interaction = Interaction {
            sid: sid("KD"),
            channel_sid: sid("UO"),
            channel_type: channel_type.to_string(),
            channel_status: ChannelStatus::Active,
            conversation_sid: conversation_sid.to_string(),
        };
        self.lock().interactions.push(interaction.clone());
        interaction
    }

    pub fn set_channel_status(&self, kd: &str, status: ChannelStatus) {
        if let Some(i) = self.lock().interactions.iter_mut().find(|i| i.sid == kd) {
            i.channel_status = status;
        }
    }

    /// The routed task appears, unless the chat ended meanwhile: a channel no longer active or a closed
    /// conversation gets no task (Twilio is silent on this race: emulator's reading).
    pub fn route_task(&self, i: &Interaction, attributes: Value, task_channel: &str, task_sid: Option<String>) {
        let mut st = self.lock();
        let active = st.interactions.iter().any(|x| x.sid == i.sid && x.channel_status == ChannelStatus::Active);
        let open = st.conversations.iter().any(|c| c.sid == i.conversation_sid && c.state != ConversationState::Closed);
        if !(active && open) {
            return;
        }
        let mut t = new_task(&i.conversation_sid, attributes, task_channel);
        if let Some(sid) = task_sid {
            t.sid = sid;
        }
        t.interaction_sid = Some(i.sid.clone());
        t.channel_sid = Some(i.channel_sid.clone());
        // The workflow puts it in the one queue at once: `task-queue.entered` (the events reference).
        self.task_event("task-queue.entered", &t);
        st.tasks.push(t);
    }

    /// Attaches an address's or Flex Flow's Studio integration to a new conversation (`pipeline.rs`).
    pub fn attach_integration(&self, conversation_sid: &str, integration: crate::pipeline::Integration) {
        if let Some(c) = self.lock().conversations.iter_mut().find(|c| c.sid == conversation_sid) {
            c.integration = Some(integration);
        }
    }

    /// `POST /v1/Interactions/{KD}/Channels/{UO}`, all under one lock. From the Channels subresource page
    /// (<https://www.twilio.com/docs/flex/developer/conversations/interactions-api/channels-subresource>) and the
    /// spec's `Routing` description: closing puts the channel's tasks in `wrapping` unless `Routing` status is
    /// `closed`, which completes them; closing the channel closes its media conversation
    /// (<https://www.twilio.com/docs/api/errors/80906>). A channel already closed is left as it is (Twilio documents
    /// no error for it; 80906 is a logged warning).
    pub fn update_interaction_channel(&self, kd: &str, uo: &str, status: ChannelStatus, routing_closed: bool) -> Result<Interaction, TwilioError> {
        let mut st = self.lock();
        let pos = st
            .interactions
            .iter()
            .position(|i| i.sid == kd && i.channel_sid == uo)
            .ok_or_else(|| TwilioError::not_found(&format!("/v1/Interactions/{kd}/Channels/{uo}")))?;
        if st.interactions[pos].channel_status == ChannelStatus::Closed {
            return Ok(st.interactions[pos].clone());
        }
        st.interactions[pos].channel_status = status;
        let conversation_sid = st.interactions[pos].conversation_sid.clone();
        let now = now_secs();
        for t in st.tasks.iter_mut().filter(|t| t.interaction_sid.as_deref() == Some(kd) && t.status.is_open()) {
            let to = match (routing_closed, t.status.is_waiting()) {
                // A task no agent holds cannot wrap up or complete in TaskRouter: it is canceled (emulator's reading).
                (_, true) => TaskStatus::Canceled,
                (true, false) => TaskStatus::Completed,
                (false, false) => TaskStatus::Wrapping,
            };
            if let Some(event) = t.set_status(to, now) {
                self.task_event(event, t);
            }
        }
        if status == ChannelStatus::Closed {
            if let Ok(idx) = find_conversation(&st, &conversation_sid) {
                let webhook = self.switches().flex_close_fires_webhook;
                self.apply_update(&mut st, idx, Some(ConversationState::Closed), None, None, TaskEffect::Keep, webhook, "API");
            }
        }
        Ok(st.interactions[pos].clone())
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

    /// The agent joins the conversation with the agreed agent attributes; the task becomes assigned. Checked and
    /// done under one lock, so two agents accepting at once cannot both join.
    pub fn accept_task(&self, task_sid: &str, agent_id: &str) -> Result<Task, TwilioError> {
        let agent = self.agent(agent_id)?;
        let attributes = self.agent_attributes(&agent);
        let mut st = self.lock();
        let ti = st.tasks.iter().position(|t| t.sid == task_sid).ok_or_else(|| TwilioError::not_found(&format!("task {task_sid}")))?;
        if st.tasks[ti].status != TaskStatus::Pending {
            return Err(TwilioError::new(409, 20409, format!("Task is {}, not pending", st.tasks[ti].status)));
        }
        let ci = find_conversation(&st, &st.tasks[ti].conversation_sid.clone())?;
        self.add_participant_in(&mut st.conversations[ci], Some(agent.identity.clone()), Some(attributes))?;
        let t = &mut st.tasks[ti];
        t.agent = Some(agent.id.clone());
        t.date_accepted = Some(now_secs());
        if let Some(event) = t.set_status(TaskStatus::Assigned, now_secs()) {
            self.task_event(event, t);
        }
        Ok(t.clone())
    }

    /// Warm transfer as the customer sees it: the new agent joins, then the old one leaves (one lock).
    pub fn transfer_task(&self, task_sid: &str, to_agent: &str) -> Result<Task, TwilioError> {
        let to = self.agent(to_agent)?;
        let attributes = self.agent_attributes(&to);
        let task = self.task(task_sid)?;
        let from = match (task.status, &task.agent) {
            (TaskStatus::Assigned, Some(a)) => self.agent(a)?,
            _ => return Err(TwilioError::new(409, 20409, format!("Only an assigned task can be transferred (it is {})", task.status))),
        };
        if from.id == to.id {
            return Err(TwilioError::invalid("to", "the task is already with this agent"));
        }
        let mut st = self.lock();
        let ti = st.tasks.iter().position(|t| t.sid == task_sid).ok_or_else(|| TwilioError::not_found(&format!("task {task_sid}")))?;
        if st.tasks[ti].status != TaskStatus::Assigned || st.tasks[ti].agent.as_deref() != Some(&from.id) {
            return Err(TwilioError::new(409, 20409, "The task changed meanwhile"));
        }
        let ci = find_conversation(&st, &task.conversation_sid)?;
        self.add_participant_in(&mut st.conversations[ci], Some(to.identity.clone()), Some(attributes))?;
        self.remove_participant_in(&mut st.conversations[ci], &from.identity)?;
        st.tasks[ti].agent = Some(to.id.clone());
        Ok(st.tasks[ti].clone())
    }

    /// The agent ends the chat: the conversation closes (participants stay, as agreed) and the task ends
    /// (emulator convenience: the console has no separate wrap-up step for a chat the agent ends).
    pub fn end_task(&self, task_sid: &str) -> Result<Task, TwilioError> {
        let task = self.task(task_sid)?;
        self.close_conversation(&task.conversation_sid, TaskEffect::End)?;
        if self.task(task_sid)?.status == TaskStatus::Wrapping {
            self.complete_task(task_sid)?;
        }
        self.task(task_sid)
    }

    /// The agent finishes wrap-up: a `wrapping` task becomes `completed` (Flex UI's `CompleteTask` action,
    /// <https://www.twilio.com/docs/flex/developer/ui/actions>; a wrapping task is its worker's until completed:
    /// <https://www.twilio.com/docs/taskrouter/lifecycle-task-state>). From any other status TaskRouter documents no
    /// completion for a reservation (twilio-oai `task_reservation_enum_status`): 409 / 20409 (the emulator's reading).
    pub fn complete_task(&self, task_sid: &str) -> Result<Task, TwilioError> {
        let mut st = self.lock();
        let t = st.tasks.iter_mut().find(|t| t.sid == task_sid).ok_or_else(|| TwilioError::not_found(&format!("task {task_sid}")))?;
        if t.status != TaskStatus::Wrapping {
            return Err(TwilioError::new(409, 20409, format!("The task is {}, not wrapping", t.status.as_str())));
        }
        if let Some(event) = t.set_status(TaskStatus::Completed, now_secs()) {
            self.task_event(event, t);
        }
        Ok(t.clone())
    }

    pub fn set_available(&self, agent_id: &str, available: bool) -> Result<Agent, TwilioError> {
        let mut st = self.lock();
        let a = st.agents.iter_mut().find(|a| a.id == agent_id).ok_or_else(|| TwilioError::new(404, 20404, format!("No agent {agent_id:?}")))?;
        a.available = available;
        Ok(a.clone())
    }

    /// TaskRouter's queue statistics computed from the tasks and agents; `task_channel` (`TaskChannel`, a unique
    /// name such as `chat`) narrows the task figures to that channel (twilio-oai `FetchTaskQueueRealTimeStatistics`).
    /// Field names as in the spec's `task_queue_real_time_statistics` schema; counts as numbers, as in its example.
    pub fn queue_statistics(&self, task_channel: Option<&str>) -> Value {
        let st = self.lock();
        let now = now_secs();
        let tasks: Vec<&Task> = st.tasks.iter().filter(|t| task_channel.map_or(true, |c| t.task_channel == c)).collect();
        let count = |s: TaskStatus| tasks.iter().filter(|t| t.status == s).count();
        let oldest = tasks.iter().filter(|t| t.status == TaskStatus::Pending).min_by_key(|t| t.date_created);
        let available = st.agents.iter().filter(|a| a.available).count();
        json!({
            "total_available_workers": available,
            "total_eligible_workers": st.agents.len(),
            "total_tasks": tasks.iter().filter(|t| t.status.is_open()).count(),
            "tasks_by_status": {
                "pending": count(TaskStatus::Pending), "reserved": count(TaskStatus::Reserved),
                "assigned": count(TaskStatus::Assigned), "wrapping": count(TaskStatus::Wrapping),
            },
            "tasks_by_priority": {},
            "longest_task_waiting_age": oldest.map(|t| now.saturating_sub(t.date_created)).unwrap_or(0),
            "longest_task_waiting_sid": oldest.map(|t| t.sid.clone()),
            "longest_relative_task_age_in_queue": oldest.map(|t| now.saturating_sub(t.date_created)).unwrap_or(0),
            "longest_relative_task_sid_in_queue": oldest.map(|t| t.sid.clone()),
            "activity_statistics": [
                {"sid": "WA00000000000000000000000000000001", "friendly_name": "Available", "workers": available},
                {"sid": "WA00000000000000000000000000000002", "friendly_name": "Unavailable", "workers": st.agents.len() - available},
            ],
        })
    }
}

pub(crate) fn new_task(conversation_sid: &str, attributes: Value, task_channel: &str) -> Task {
    Task {
        sid: sid("WT"),
        conversation_sid: conversation_sid.to_string(),
        status: TaskStatus::Pending,
        task_channel: task_channel.to_string(),
        attributes,
        agent: None,
        date_created: now_secs(),
        date_accepted: None,
        interaction_sid: None,
        channel_sid: None,
        date_ended: None,
    }
}

/// When a conversation closes directly, its tasks end: waiting ones are canceled, the others completed
/// (emulator convenience; see [`TaskEffect::End`]).
fn end_tasks_of(emu: &Emulator, st: &mut State, conversation_sid: &str) {
    let now = now_secs();
    for t in st.tasks.iter_mut().filter(|t| t.conversation_sid == conversation_sid) {
        let to = match t.status {
            TaskStatus::Pending | TaskStatus::Reserved => TaskStatus::Canceled,
            TaskStatus::Assigned | TaskStatus::Wrapping => TaskStatus::Completed,
            other => other,
        };
        if let Some(event) = t.set_status(to, now) {
            emu.task_event(event, t);
        }
    }
}

pub fn find_conversation(st: &State, key: &str) -> Result<usize, TwilioError> {
    st.conversations
        .iter()
        .position(|c| c.sid == key || c.unique_name.as_deref() == Some(key))
        .ok_or_else(|| TwilioError::not_found(&format!("/v1/Conversations/{key}")))
}

/// Attributes are a JSON string on Twilio's REST API; absent means `{}`. Too long: 50303
/// (<https://www.twilio.com/docs/api/errors/50303>, "Attributes too long"); not JSON: 50304
/// (<https://www.twilio.com/docs/api/errors/50304>).
pub fn validate_json_attributes(name: &str, value: Option<String>, limit: usize) -> Result<String, TwilioError> {
    let Some(v) = value else { return Ok("{}".into()) };
    if v.len() > limit {
        return Err(TwilioError::new(400, 50303, format!("{name} too long: {} bytes; the limit is {limit}", v.len())));
    }
    serde_json::from_str::<Value>(&v).map_err(|e| TwilioError::new(400, 50304, format!("{name} not valid JSON ({e})")))?;
    Ok(v)
}

/// Content type from the extension (never trusted from the uploader, so nothing can be served as HTML); text is
/// served as UTF-8.
pub fn content_type_for(filename: &str) -> Option<&'static str> {
    match limits::content_type_for(filename)? {
        "text/plain" => Some("text/plain; charset=utf-8"),
        other => Some(other),
    }
}

// ---- realtime (camelCase) representations ---------------------------------------------------------

pub fn conversation_json(c: &ConversationRecord) -> Value {
    json!({
        "sid": c.sid,
        "uniqueName": c.unique_name,
        "friendlyName": c.friendly_name,
        "attributes": attributes_json(&c.attributes),
        "state": {"current": c.state, "dateUpdated": iso8601(c.date_updated)},
        "dateCreated": iso8601(c.date_created),
        "dateUpdated": iso8601(c.date_updated),
    })
}

pub fn participant_json(p: &Participant) -> Value {
    json!({
        "sid": p.sid,
        "identity": p.identity,
        "attributes": attributes_json(&p.attributes),
        "lastReadMessageIndex": p.last_read_message_index,
        "lastReadTimestamp": p.last_read_at.map(iso8601),
        "dateCreated": iso8601(p.date_created),
        "dateUpdated": iso8601(p.date_updated),
    })
}

/// Who posts a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Poster<'a> {
    /// A caller with the account's credentials (REST, Flex UI through the agent API): any author (`None`:
    /// `system`), any unattached media of the account.
    Account(Option<String>),
    /// A participant's own client, authenticated as this identity: it is the author, and attaches only its uploads.
    Client(&'a str),
}

/// Which of Twilio's rules on a message's content apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageRules {
    /// The Flex web channel's (the customer's web chat, REST, `/v1/realtime`, `/v3/wsconnect`): one attachment per
    /// message and never text and media together (<https://www.twilio.com/docs/flex/developer/conversations/limits>:
    /// web "Number of attachments" 1; "You cannot send both text and an image in the same message").
    WebChannel,
    /// An agent's (the console, standing in for Flex UI, which runs the Conversations SDK): the SDK's
    /// `MessageBuilder` builds one message from a body and several media
    /// (<https://www.twilio.com/docs/conversations/sending-messages-and-media>: `.setBody('Hello!')
    /// .addMedia(media1).addMedia(media2)`; `@twilio/conversations` lib.d.ts, `MessageBuilder`, and
    /// `Message.attachedMedia`, an array). The Flex limits page above says Flex's channels do not let text and an
    /// image share a message; whether Twilio refuses such a message built with the SDK in a Flex conversation is not
    /// published: the emulator accepts it, so the desk's display of every message Conversations can deliver is tested.
    AgentSdk,
}

/// The most media in one agent message. The SDK's limit is a per-service setting it reads from its configuration
/// (`media_attachments_count_limit`, lib.d.ts `ConversationLimits.mediaAttachmentsCountLimit`), not published for
/// Flex agents; 10 is the largest per-message count in Flex's attachment table (email) — the emulator's reading.
pub const MAX_AGENT_MEDIA_PER_MESSAGE: usize = 10;

pub fn media_info_json(m: &Media) -> Value {
    json!({"sid": m.sid, "filename": m.filename, "contentType": m.content_type, "size": m.size, "category": "media"})
}

pub fn message_json(m: &Message) -> Value {
    json!({
        "sid": m.sid,
        "index": m.index,
        "author": m.author,
        "body": m.body,
        "attributes": attributes_json(&m.attributes),
        "type": if m.media.is_empty() { "text" } else { "media" },
        "media": m.media.iter().map(media_info_json).collect::<Vec<_>>(),
        "participantSid": m.participant_sid,
        "dateCreated": iso8601(m.date_created),
    })
}
