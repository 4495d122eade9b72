//! The open chats as the routes see them: Redis when configured and answering (every replica's chats), this
//! process's session table always.

use std::sync::Arc;

use crate::chat::sessions::{ClientKey, LiveSession, Reservation, SessionStore};
use crate::infra::config::Config;
use crate::infra::redis::{Redis, RedisSlot, TooMany};

/// The open chats of this server: its own table, and every replica's through Redis when configured
/// (`AppState::chats`).
#[derive(Clone, Copy)]
pub struct Chats<'a> {
    /// The caps and lifetimes.
    pub config: &'a Config,
    /// This process's session table.
    pub local: &'a SessionStore,
    /// Redis (`REDIS_URL`); `None`: this process only.
    pub redis: Option<&'a Arc<Redis>>,
}

/// An open-session slot held by a start in progress.
pub enum Slot<'a> {
    /// Counted in this process (no Redis, or it did not answer).
    Local(Reservation<'a>),
    /// Counted across the replicas, in Redis.
    Replicated(RedisSlot),
}

impl<'a> Chats<'a> {
    /// Takes an open-session slot for a start by `client`: counted across replicas in Redis, or in this process
    /// (per-replica caps) without Redis or while it is unreachable.
    pub async fn reserve(self, client: ClientKey, now: u64) -> Result<Slot<'a>, TooMany> {
        let c = self.config;
        if let Some(redis) = self.redis {
            let pending = c.request_timeout.as_secs().max(1);
            match redis.reserve(&client.to_string(), c.max_open_sessions_per_client, c.max_open_sessions, now, pending).await {
                Some(Ok(slot)) => return Ok(Slot::Replicated(slot)),
                Some(Err(too)) => return Err(too),
                None => {}
            }
        }
        self.local.reserve(client, c.max_open_sessions_per_client, c.max_open_sessions, now).map(Slot::Local)
    }

    /// A token was minted for session `id`: it holds its slot until `active_until`, on every replica.
    pub async fn touched(self, session: &LiveSession, id: &str, active_until: u64, now: u64) {
        session.touch(active_until);
        if let Some(redis) = self.redis {
            redis.touch(id, active_until, now).await;
        }
    }

    /// The chat of session `id` ended (by the customer, or Twilio said so): here, and for every replica until its
    /// credential could no longer be presented (`expires_at`).
    pub async fn session_ended(self, id: &str, conversation_sid: &str, expires_at: u64, now: u64) {
        self.local.end(id, now);
        if let Some(redis) = self.redis {
            redis.mark_ended(Some(id), Some(conversation_sid), now, expires_at).await;
        }
    }

    /// A conversation ended (a verified Twilio webhook): every session of it, here and on every replica.
    pub async fn conversation_ended(self, conversation_sid: &str, now: u64) -> usize {
        let n = self.local.mark_ended_by_conversation(conversation_sid, now);
        if let Some(redis) = self.redis {
            redis.mark_ended(None, Some(conversation_sid), now, now + self.config.session_max_age_seconds).await;
        }
        n
    }

    /// Whether the chat is known ended: here, or by any replica (Redis). `false` means "not known ended", never
    /// "open": refresh still asks Twilio (or trusts fresh webhooks) before minting.
    pub async fn known_ended(self, id: &str, conversation_sid: &str) -> bool {
        let here = self.local.find(id).is_some_and(|s| s.is_ended()) || self.local.is_conversation_ended(conversation_sid);
        here || self.ended_on_a_replica(id, conversation_sid).await
    }

    /// [`Chats::known_ended`] for a session already in hand (refresh): its own state says whether it ended here (a
    /// webhook marks every session of its conversation, and one inserted after the webhook starts ended), so only
    /// the other replicas are left to ask.
    pub async fn known_ended_session(self, id: &str, session: &LiveSession) -> bool {
        session.is_ended() || self.ended_on_a_replica(id, session.conversation_sid()).await
    }

    /// Whether a replica marked the chat ended in Redis; `false` without Redis or while it does not answer.
    async fn ended_on_a_replica(self, id: &str, conversation_sid: &str) -> bool {
        match self.redis {
            Some(redis) => redis.is_ended(id, conversation_sid).await.unwrap_or(false),
            None => false,
        }
    }
}

/// The start went through (the session is already in this process's table): its slot becomes the session's.
pub async fn opened(slot: Slot<'_>, id: &str, active_until: u64, expires_at: u64, now: u64) {
    if let Slot::Replicated(slot) = slot {
        slot.opened(id, active_until, expires_at.saturating_sub(now), now).await;
    }
}
