//! The real `@twilio/conversations` SDK on the emulator: the `twilsock` crate serves the SDK's protocol over a
//! [`ConversationBackend`]; this module implements that trait over the emulator's own state, so a conversation
//! started over REST (the auth server) and answered from the agent console or API is the same conversation the
//! SDK sees on `/v3/wsconnect`, and the stand-in's `/v1/realtime` keeps working beside it.
//!
//! Events: the emulator publishes one JSON event per change (what `/v1/realtime` forwards); a task here turns
//! each into a [`BackendEvent`] in the same order. Faults from `/admin/faults` reach twilsock connections through
//! [`EmulatorHooks`] (refused sockets, realtime delay, early token expiry) and the drop/expiry watch channels.

use std::sync::{Arc, Weak};
use std::time::Duration;

use bytes::Bytes;
use serde_json::{json, Value};
use tokio::sync::broadcast;
use twilsock::backend::{ConversationInfo, ConversationState, MediaInfo, MessageInfo, NewMessage, ParticipantInfo};
use twilsock::{BackendError, BackendEvent, ConnectionHooks, ConversationBackend, Twilsock, TwilsockConfig};

use crate::state::{conversation_json, message_json, participant_json, Emulator, Event, Shared, TYPING_MILLIS};
use crate::twilio_error::TwilioError;
use crate::util::{iso8601, now_secs};

/// The emulator's state as a twilsock backend. Holds the emulator weakly: the emulator keeps the twilsock server
/// (and so this backend) alive, not the other way round.
pub struct EmulatorBackend {
    emu: Weak<Emulator>,
    events: broadcast::Sender<BackendEvent>,
}

/// Creates the twilsock server over `emu` and wires the emulator's fault injection into it. Needs a tokio runtime.
pub fn start(emu: &Shared) -> Twilsock {
    let backend = EmulatorBackend::start(emu);
    // The same token rules as /v1/realtime: a token passes on both or on neither.
    let mut config = TwilsockConfig::with_rules(crate::token::rules(&emu.config));
    // The SDK's media client uses plain HTTP against these links: this very server.
    config.media_base_url = emu.base_url().to_string();
    config.typing_timeout_secs = TYPING_MILLIS / 1000;
    config.token_warning_secs = emu.config.token_warning_seconds;
    let ts = Twilsock::with_hooks(backend, config, Arc::new(EmulatorHooks { emu: Arc::downgrade(emu) }));
    let (mut drops, mut expiries) = (emu.drop_generation.subscribe(), emu.expiry_generation.subscribe());
    let handle = ts.clone();
    // Ends when the emulator (which owns the watch senders) is dropped.
    tokio::spawn(async move {
        loop {
            tokio::select! {
                r = drops.changed() => match r {
                    Ok(()) => { let n = handle.drop_connections(); tracing::info!(dropped = n, "twilsock: connections dropped (fault)"); }
                    Err(_) => break,
                },
                r = expiries.changed() => match r {
                    Ok(()) => handle.expiries_changed(),
                    Err(_) => break,
                },
            }
        }
    });
    ts
}

impl EmulatorBackend {
    pub fn start(emu: &Shared) -> Arc<EmulatorBackend> {
        let (events, _) = broadcast::channel(4096);
        let backend = Arc::new(EmulatorBackend { emu: Arc::downgrade(emu), events: events.clone() });
        let mut source = emu.events.subscribe();
        tokio::spawn(async move {
            loop {
                match source.recv().await {
                    Ok(ev) => {
                        if let Some(e) = backend_event(&ev) {
                            let _ = events.send(e);
                        }
                    }
                    Err(broadcast::error::RecvError::Lagged(n)) => {
                        tracing::warn!(missed = n, "twilsock adapter lagged behind emulator events; SDK clients may miss updates");
                    }
                    Err(broadcast::error::RecvError::Closed) => break,
                }
            }
        });
        backend
    }

    fn emu(&self) -> Result<Shared, BackendError> {
        self.emu.upgrade().ok_or_else(|| BackendError::NotFound("the emulator has stopped".into()))
    }

    /// The conversation, if `identity` is one of its participants (the SDK acts only as a participant).
    fn require_participant(&self, emu: &Emulator, conversation_sid: &str, identity: &str) -> Result<(), BackendError> {
        let conv = emu.flex_conversation(conversation_sid).map_err(backend_error)?;
        if conv.participants.iter().any(|p| p.identity.as_deref() == Some(identity)) {
            Ok(())
        } else {
            Err(BackendError::Forbidden(format!("{identity} is not a participant of {}", conv.sid)))
        }
    }
}

/// The emulator's Twilio error, passed through to the SDK with its status and code.
fn backend_error(e: TwilioError) -> BackendError {
    BackendError::Twilio(e)
}

// ---- conversions: from the emulator's event JSON (also used for state, via the same JSON) ----------------------

fn text(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_string()
}

fn object(v: &Value) -> Value {
    if v.is_object() {
        v.clone()
    } else {
        json!({})
    }
}

fn conversation_info(c: &Value) -> ConversationInfo {
    let state = match c["state"]["current"].as_str() {
        Some("closed") => ConversationState::Closed,
        Some("inactive") => ConversationState::Inactive,
        _ => ConversationState::Active,
    };
    ConversationInfo {
        sid: text(&c["sid"]),
        friendly_name: c["friendlyName"].as_str().map(str::to_string),
        unique_name: c["uniqueName"].as_str().map(str::to_string),
        attributes: object(&c["attributes"]),
        state,
        state_updated: text(&c["state"]["dateUpdated"]),
        created_by: "system".into(),
        date_created: text(&c["dateCreated"]),
        date_updated: text(&c["dateUpdated"]),
    }
}

/// `None` for participants without an identity (SMS-style): the SDK's roster needs one.
fn participant_info(p: &Value) -> Option<ParticipantInfo> {
    Some(ParticipantInfo {
        sid: text(&p["sid"]),
        identity: p["identity"].as_str()?.to_string(),
        attributes: object(&p["attributes"]),
        last_read_message_index: p["lastReadMessageIndex"].as_u64(),
        last_read_timestamp: p["lastReadTimestamp"].as_str().map(str::to_string),
        date_created: text(&p["dateCreated"]),
        date_updated: text(&p["dateUpdated"]),
    })
}

fn message_info(conversation_sid: &str, m: &Value) -> MessageInfo {
    let author = text(&m["author"]);
    let sid = text(&m["sid"]);
    let date = text(&m["dateCreated"]);
    let media = m["media"]
        .as_array()
        .map(|all| {
            all.iter()
                .map(|x| MediaInfo {
                    sid: text(&x["sid"]),
                    content_type: text(&x["contentType"]),
                    filename: x["filename"].as_str().map(str::to_string),
                    size: x["size"].as_u64().unwrap_or(0),
                    author: author.clone(),
                    conversation_sid: Some(conversation_sid.to_string()),
                    message_sid: Some(sid.clone()),
                    date_created: date.clone(),
                })
                .collect()
        })
        .unwrap_or_default();
    MessageInfo {
        index: m["index"].as_u64().unwrap_or(0),
        body: m["body"].as_str().map(str::to_string),
        attributes: object(&m["attributes"]),
        participant_sid: m["participantSid"].as_str().map(str::to_string),
        media,
        date_created: date.clone(),
        date_updated: date,
        author,
        sid,
    }
}

/// One emulator event as a backend event; `None` for events the SDK has no counterpart for.
pub fn backend_event(ev: &Event) -> Option<BackendEvent> {
    let p = &ev.payload;
    let conversation_sid = ev.conversation_sid.clone();
    Some(match p["event"].as_str()? {
        "messageAdded" => BackendEvent::MessageAdded { message: message_info(&conversation_sid, &p["message"]), conversation_sid },
        "participantJoined" => BackendEvent::ParticipantAdded { participant: participant_info(&p["participant"])?, conversation_sid },
        "participantUpdated" => BackendEvent::ParticipantUpdated { participant: participant_info(&p["participant"])?, conversation_sid },
        "participantLeft" => BackendEvent::ParticipantRemoved { participant: participant_info(&p["participant"])?, conversation_sid },
        "conversationUpdated" => BackendEvent::ConversationUpdated(conversation_info(&p["conversation"])),
        "typing" => BackendEvent::Typing { identity: ev.actor.clone()?, conversation_sid },
        // Deleting a conversation has no SDK event here (the SDK never sees deletions in flexdesk's flows).
        _ => return None,
    })
}

/// A file name the emulator accepts (it types media by extension) for an upload that came without one: from the
/// shared media type table.
fn filename_for(content_type: &str) -> Option<String> {
    twilio_model::limits::extension_for(content_type).map(|ext| format!("attachment.{ext}"))
}

impl ConversationBackend for EmulatorBackend {
    fn conversations_of(&self, identity: &str) -> Vec<ConversationInfo> {
        let Ok(emu) = self.emu() else { return Vec::new() };
        let st = emu.lock();
        st.conversations
            .iter()
            .filter(|c| c.service_sid == emu.config.service_sid && c.participants.iter().any(|p| p.identity.as_deref() == Some(identity)))
            .map(|c| conversation_info(&conversation_json(c)))
            .collect()
    }

    fn conversation(&self, sid: &str) -> Option<ConversationInfo> {
        let c = self.emu().ok()?.flex_conversation(sid).ok()?;
        Some(conversation_info(&conversation_json(&c)))
    }

    fn participants(&self, conversation_sid: &str) -> Result<Vec<ParticipantInfo>, BackendError> {
        let c = self.emu()?.flex_conversation(conversation_sid).map_err(backend_error)?;
        Ok(c.participants.iter().filter_map(|p| participant_info(&participant_json(p))).collect())
    }

    fn messages(&self, conversation_sid: &str) -> Result<Vec<MessageInfo>, BackendError> {
        let c = self.emu()?.flex_conversation(conversation_sid).map_err(backend_error)?;
        Ok(c.messages.iter().map(|m| message_info(&c.sid, &message_json(m))).collect())
    }

    fn join(&self, conversation_sid: &str, identity: &str) -> Result<ParticipantInfo, BackendError> {
        let emu = self.emu()?;
        emu.flex_conversation(conversation_sid).map_err(backend_error)?;
        let p = emu.add_participant(conversation_sid, Some(identity.to_string()), None).map_err(backend_error)?;
        participant_info(&participant_json(&p)).ok_or_else(|| BackendError::Invalid("participant without identity".into()))
    }

    fn send_message(&self, conversation_sid: &str, author: &str, message: NewMessage) -> Result<MessageInfo, BackendError> {
        let emu = self.emu()?;
        self.require_participant(&emu, conversation_sid, author)?;
        // Only the uploader may attach a media (as on /v1/realtime).
        for m in &message.media_sids {
            let owner = emu.lock().media.get(m).map(|x| x.uploaded_by.clone());
            if owner.as_deref().is_some_and(|o| o != author) {
                return Err(BackendError::Forbidden(format!("media {m} was uploaded by someone else")));
            }
        }
        let attributes = if message.attributes.is_null() { None } else { Some(message.attributes.to_string()) };
        let m = emu
            .add_message(conversation_sid, Some(author.to_string()), message.body, attributes, message.media_sids)
            .map_err(backend_error)?;
        // The SDK's message fires onMessageAdded (pipeline.rs).
        crate::pipeline::message_added(&emu, conversation_sid);
        Ok(message_info(conversation_sid, &message_json(&m)))
    }

    fn typing(&self, conversation_sid: &str, identity: &str) -> Result<(), BackendError> {
        self.emu()?.typing(conversation_sid, identity).map_err(backend_error)
    }

    fn set_last_read(&self, conversation_sid: &str, identity: &str, index: Option<u64>) -> Result<ParticipantInfo, BackendError> {
        let (p, _) = self.emu()?.set_last_read(conversation_sid, identity, index, false).map_err(backend_error)?;
        participant_info(&participant_json(&p)).ok_or_else(|| BackendError::Invalid("participant without identity".into()))
    }

    fn events(&self) -> broadcast::Receiver<BackendEvent> {
        self.events.subscribe()
    }

    fn store_media(&self, author: &str, content_type: &str, filename: Option<&str>, bytes: Bytes) -> Result<MediaInfo, BackendError> {
        let name = match filename.filter(|f| !f.trim().is_empty()) {
            Some(f) => f.to_string(),
            None => filename_for(content_type)
                .ok_or_else(|| BackendError::Invalid(format!("a file name is needed for content type {content_type:?}")))?,
        };
        let info = self.emu()?.store_media(&name, bytes, author).map_err(backend_error)?;
        Ok(MediaInfo {
            sid: info.sid,
            content_type: info.content_type,
            filename: Some(info.filename),
            size: info.size as u64,
            author: author.to_string(),
            conversation_sid: None,
            message_sid: None,
            date_created: iso8601(now_secs()),
        })
    }

    /// The agent's display name, as Flex sets it on the agent's Conversations User.
    fn user_friendly_name(&self, identity: &str) -> Option<String> {
        let emu = self.emu().ok()?;
        let st = emu.lock();
        st.agents.iter().find(|a| a.identity == identity).map(|a| a.name.clone())
    }

    fn media(&self, sid: &str) -> Option<(MediaInfo, Bytes)> {
        let emu = self.emu().ok()?;
        let st = emu.lock();
        let m = st.media.get(sid)?;
        let conversation = m.message_sid.as_ref().and_then(|msid| {
            st.conversations.iter().find(|c| c.messages.iter().any(|x| &x.sid == msid)).map(|c| (c.sid.clone(), c.messages.iter().find(|x| &x.sid == msid).map(|x| x.date_created)))
        });
        let info = MediaInfo {
            sid: m.info.sid.clone(),
            content_type: m.info.content_type.clone(),
            filename: Some(m.info.filename.clone()),
            size: m.info.size as u64,
            author: m.uploaded_by.clone(),
            conversation_sid: conversation.as_ref().map(|c| c.0.clone()),
            message_sid: m.message_sid.clone(),
            date_created: iso8601(conversation.and_then(|c| c.1).unwrap_or_else(now_secs)),
        };
        Some((info, m.bytes.clone()))
    }
}

/// `/admin/faults` applied to twilsock connections, sharing the counters with `/v1/realtime`.
pub struct EmulatorHooks {
    emu: Weak<Emulator>,
}

impl ConnectionHooks for EmulatorHooks {
    fn admit(&self) -> bool {
        let Some(emu) = self.emu.upgrade() else { return false };
        let mut st = emu.lock();
        if st.faults.refuse_websockets > 0 {
            st.faults.refuse_websockets -= 1;
            false
        } else {
            st.open_websockets += 1;
            true
        }
    }

    fn released(&self) {
        if let Some(emu) = self.emu.upgrade() {
            let mut st = emu.lock();
            st.open_websockets = st.open_websockets.saturating_sub(1);
        }
    }

    fn expiry(&self, token: &str, exp: u64) -> u64 {
        let Some(emu) = self.emu.upgrade() else { return exp };
        let mut st = emu.lock();
        // Remembered so `expireTokensInSeconds` can target the tokens in use.
        if !st.tokens_seen.contains(token) {
            st.tokens_seen.insert(token.to_string());
        }
        st.early_expiry.get(token).map_or(exp, |early| exp.min(*early))
    }

    fn delay(&self) -> Duration {
        self.emu.upgrade().map_or(Duration::ZERO, |emu| Duration::from_millis(emu.lock().faults.realtime_delay_ms))
    }
}
