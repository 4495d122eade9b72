//! The real `@twilio/conversations` SDK on the emulator: the `twilsock` crate serves the SDK's protocol over a
//! [`ConversationBackend`]; this module implements that trait over the emulator's own state, so a conversation
//! started over REST (the auth server) and answered from the agent console or API is the same conversation the
//! SDK sees on `/v3/wsconnect`, and the stand-in's `/v1/realtime` keeps working beside it.
//!
//! Both sides hold the same typed records (`twilio_model::conversations`). Events: the emulator publishes one
//! [`Change`] per change (what `/v1/realtime` also renders); a task here turns each into a [`BackendEvent`] in the
//! same order. Faults from `/admin/faults` reach twilsock connections through
//! [`EmulatorHooks`] (refused sockets, realtime delay, early token expiry) and the drop/expiry watch channels.

use std::sync::{Arc, Weak};
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::broadcast;
use twilsock::backend::{Conversation, Media, Message, NewMessage, Participant};
use twilsock::{BackendError, BackendEvent, ConnectionHooks, ConversationBackend, Twilsock, TwilsockConfig};

use crate::state::{Change, Emulator, Event, Shared, TYPING_MILLIS};
use crate::twilio_error::TwilioError;

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
}

/// The emulator's Twilio error, passed through to the SDK with its status and code.
fn backend_error(e: TwilioError) -> BackendError {
    BackendError::Twilio(e)
}

/// The SDK's roster holds chat participants only (it needs an identity).
fn chat_participants(ps: &[Participant]) -> Vec<Participant> {
    ps.iter().filter(|p| p.identity.is_some()).cloned().collect()
}

/// One emulator change as a backend event; `None` for changes the SDK has no counterpart for.
pub fn backend_event(ev: &Event) -> Option<BackendEvent> {
    let conversation_sid = ev.conversation_sid.clone();
    let chat = |p: &Participant| p.identity.is_some().then(|| p.clone());
    Some(match &ev.change {
        Change::MessageAdded(message) => BackendEvent::MessageAdded { message: message.clone(), conversation_sid },
        Change::ParticipantJoined(p) => BackendEvent::ParticipantAdded { participant: chat(p)?, conversation_sid },
        Change::ParticipantUpdated { participant, .. } => BackendEvent::ParticipantUpdated { participant: chat(participant)?, conversation_sid },
        Change::ParticipantLeft(p) => BackendEvent::ParticipantRemoved { participant: chat(p)?, conversation_sid },
        Change::ConversationUpdated { conversation, .. } => BackendEvent::ConversationUpdated(conversation.clone()),
        Change::Typing(_) => BackendEvent::Typing { identity: ev.actor.clone()?, conversation_sid },
        // Deleting a conversation has no SDK event here (the SDK never sees deletions in flexdesk's flows).
        Change::ConversationRemoved => return None,
    })
}

/// A file name the emulator accepts (it types media by extension) for an upload that came without one: from the
/// shared media type table.
fn filename_for(content_type: &str) -> Option<String> {
    twilio_model::limits::extension_for(content_type).map(|ext| format!("attachment.{ext}"))
}

impl ConversationBackend for EmulatorBackend {
    fn conversations_of(&self, identity: &str) -> Vec<Conversation> {
        let Ok(emu) = self.emu() else { return Vec::new() };
        let st = emu.lock();
        st.conversations
            .iter()
            .filter(|c| c.service_sid == emu.config.service_sid && c.participants.iter().any(|p| p.is(identity)))
            .map(|c| c.record.clone())
            .collect()
    }

    fn conversation(&self, sid: &str) -> Option<Conversation> {
        Some(self.emu().ok()?.flex_conversation(sid).ok()?.record)
    }

    fn participants(&self, conversation_sid: &str) -> Result<Vec<Participant>, BackendError> {
        let c = self.emu()?.flex_conversation(conversation_sid).map_err(backend_error)?;
        Ok(chat_participants(&c.participants))
    }

    fn messages(&self, conversation_sid: &str) -> Result<Vec<Message>, BackendError> {
        Ok(self.emu()?.flex_conversation(conversation_sid).map_err(backend_error)?.messages)
    }

    fn join(&self, conversation_sid: &str, identity: &str) -> Result<Participant, BackendError> {
        let emu = self.emu()?;
        emu.flex_conversation(conversation_sid).map_err(backend_error)?;
        emu.add_participant(conversation_sid, Some(identity.to_string()), None).map_err(backend_error)
    }

    fn send_message(&self, conversation_sid: &str, author: &str, message: NewMessage) -> Result<Message, BackendError> {
        let attributes = if message.attributes.is_null() { None } else { Some(message.attributes.to_string()) };
        self.emu()?.send_from_client(conversation_sid, author, message.body, attributes, message.media_sids).map_err(backend_error)
    }

    fn typing(&self, conversation_sid: &str, identity: &str) -> Result<(), BackendError> {
        self.emu()?.typing(conversation_sid, identity).map_err(backend_error)
    }

    fn set_last_read(&self, conversation_sid: &str, identity: &str, index: Option<u64>) -> Result<Participant, BackendError> {
        let (p, _) = self.emu()?.set_last_read(conversation_sid, identity, index, false).map_err(backend_error)?;
        Ok(p)
    }

    fn events(&self) -> broadcast::Receiver<BackendEvent> {
        self.events.subscribe()
    }

    fn store_media(&self, author: &str, content_type: &str, filename: Option<&str>, bytes: Bytes) -> Result<Media, BackendError> {
        let name = match filename.filter(|f| !f.trim().is_empty()) {
            Some(f) => f.to_string(),
            None => filename_for(content_type)
                .ok_or_else(|| BackendError::Invalid(format!("a file name is needed for content type {content_type:?}")))?,
        };
        self.emu()?.store_media(&name, bytes, author).map_err(backend_error)
    }

    /// The agent's display name, as Flex sets it on the agent's Conversations User.
    fn user_friendly_name(&self, identity: &str) -> Option<String> {
        let emu = self.emu().ok()?;
        let st = emu.lock();
        st.agents.iter().find(|a| a.identity == identity).map(|a| a.name.clone())
    }

    fn media(&self, sid: &str) -> Option<(Media, Bytes)> {
        let emu = self.emu().ok()?;
        let st = emu.lock();
        st.media.get(sid).map(|m| (m.record.clone(), m.bytes.clone()))
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

    fn media_url_ttl_secs(&self) -> u64 {
        self.emu.upgrade().map_or(crate::media::URL_TTL_SECONDS, |emu| crate::media::url_ttl(&emu))
    }

    fn delay(&self) -> Duration {
        self.emu.upgrade().map_or(Duration::ZERO, |emu| Duration::from_millis(emu.lock().faults.realtime_delay_ms))
    }
}
