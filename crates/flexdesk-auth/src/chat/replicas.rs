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
    /// Takes an open-session slot for a start by `client`: counted across replicas in Redis (on Redis's clock, not
    /// `now`), or in this process (per-replica caps) without Redis or while it is unreachable.
    pub async fn reserve(self, client: ClientKey, now: u64) -> Result<Slot<'a>, TooMany> {
        let c = self.config;
        if let Some(redis) = self.redis {
            let pending = c.request_timeout.as_secs().max(1);
            match redis.reserve(&client.to_string(), c.max_open_sessions_per_client, c.max_open_sessions, pending).await {
                Some(Ok(slot)) => return Ok(Slot::Replicated(slot)),
                Some(Err(too)) => return Err(too),
                None => {}
            }
        }
        self.local.reserve(client, c.max_open_sessions_per_client, c.max_open_sessions, now).map(Slot::Local)
    }

    /// A token was minted at `now` for session `id`: it holds its slot until `active_until`, on every replica
    /// (in Redis: for as long, on Redis's clock).
    pub async fn touched(self, session: &LiveSession, id: &str, active_until: u64, now: u64) {
        session.touch(active_until);
        if let Some(redis) = self.redis {
            redis.touch(id, session.conversation_sid(), active_until.saturating_sub(now)).await;
        }
    }

    /// The chat of session `id` ended (by the customer, or Twilio said so): here, and for every replica until its
    /// credential could no longer be presented (`expires_at`).
    pub async fn session_ended(self, id: &str, conversation_sid: &str, expires_at: u64, now: u64) {
        self.local.end(id, now);
        if let Some(redis) = self.redis {
            redis.mark_ended(Some(id), conversation_sid, now, expires_at).await;
        }
    }

    /// A conversation ended (a verified Twilio webhook): every session of it, here and on every replica.
    pub async fn conversation_ended(self, conversation_sid: &str, now: u64) -> usize {
        let n = self.local.mark_ended_by_conversation(conversation_sid, now);
        if let Some(redis) = self.redis {
            redis.mark_ended(None, conversation_sid, now, now + self.config.session_max_age_seconds).await;
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

/// The start of session `id` in `conversation_sid` went through at `now` (the session is already in this process's
/// table): its slot becomes the session's, held until `active_until`.
pub async fn opened(slot: Slot<'_>, id: &str, conversation_sid: &str, active_until: u64, expires_at: u64, now: u64) {
    if let Slot::Replicated(slot) = slot {
        slot.opened(id, conversation_sid, active_until.saturating_sub(now), expires_at.saturating_sub(now)).await;
    }
}

#[cfg(test)]
mod tests {
    //! One caps scenario, run against this process's table alone and against Redis (issue 24, item 6): both must
    //! count exactly the same sessions. The clock is the real one (Redis reads its own), so lapses take seconds.
    use std::time::Duration;

    use super::*;
    use crate::chat::sessions::{Session, SessionState};
    use crate::infra::clock::unix_now;
    use crate::infra::redis::test_replica as replica;
    use crate::infra::test_redis::redis_server;

    const CH1: &str = "CH00000000000000000000000000000001";
    const CH2: &str = "CH00000000000000000000000000000002";
    const CH3: &str = "CH00000000000000000000000000000003";

    /// One open chat per client, two in all.
    fn config() -> Config {
        let sid = |p: &str| format!("{p}{:032x}", 0xf1e8);
        let env: std::collections::HashMap<String, String> = [
            ("TWILIO_ACCOUNT_SID", sid("AC")),
            ("TWILIO_API_KEY_SID", sid("SK")),
            ("TWILIO_API_KEY_SECRET", "secret".into()),
            ("TWILIO_CONVERSATIONS_SERVICE_SID", sid("IS")),
            ("TWILIO_ADDRESS_SID", sid("IG")),
            ("SESSION_SECRET", "s".repeat(40)),
            ("MAX_OPEN_SESSIONS_PER_CLIENT", "1".into()),
            ("MAX_OPEN_SESSIONS", "2".into()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        Config::from_lookup(|k| env.get(k).cloned()).unwrap()
    }

    fn key(ip: &str) -> ClientKey {
        ClientKey::from_ip(ip.parse().unwrap())
    }

    /// A start as routes/sessions.rs `create` makes it, on a replica whose clock reads `now`: a slot, the session
    /// in the table, the slot turned into the session's (its token lives `active_secs`).
    async fn start(chats: Chats<'_>, client: ClientKey, id: &str, conversation: &str, active_secs: u64, now: u64) -> Result<LiveSession, TooMany> {
        let slot = chats.reserve(client, now).await?;
        let session = Session {
            identity: "customer-x".into(),
            conversation_sid: conversation.into(),
            interaction: None,
            state: SessionState::Open,
            expires_at: now + 86_400,
            client: Some(client),
            active_until: now + active_secs,
        };
        let live = chats.local.insert(id.into(), session, now);
        opened(slot, id, conversation, now + active_secs, now + 86_400, now).await;
        Ok(live)
    }

    /// Whether `client` could start now; the slot taken to find out is given back (and Redis has it back).
    async fn could_start(chats: Chats<'_>, client: ClientKey, now: u64) -> Result<(), TooMany> {
        let slot = chats.reserve(client, now).await;
        let answer = slot.as_ref().map(|_| ()).map_err(|e| *e);
        drop(slot);
        tokio::time::sleep(Duration::from_millis(50)).await;
        answer
    }

    fn per_client(r: Result<(), TooMany>) -> bool {
        matches!(r, Err(TooMany { per_client: true, .. }))
    }

    fn total(r: Result<(), TooMany>) -> bool {
        matches!(r, Err(TooMany { per_client: false, .. }))
    }

    async fn scenario(chats: Chats<'_>) {
        let (a, b) = (key("10.0.0.1"), key("10.0.0.2"));
        // A start in progress holds its slot.
        let slot = chats.reserve(a, unix_now()).await.unwrap();
        assert!(per_client(could_start(chats, a, unix_now()).await), "a start in progress counts");
        drop(slot);
        tokio::time::sleep(Duration::from_millis(50)).await;

        // An open chat counts while its token lives; then its page is taken as gone and the slot is free.
        let s1 = start(chats, a, "s1", CH1, 1, unix_now()).await.unwrap();
        assert!(per_client(could_start(chats, a, unix_now()).await), "open chat counts");
        tokio::time::sleep(Duration::from_millis(2100)).await;
        assert_eq!(could_start(chats, a, unix_now()).await, Ok(()), "a lapsed slot is free");
        // The page was only slow: its refresh counts the chat again (in process: `LiveSession::touch`).
        chats.touched(&s1, "s1", unix_now() + 600, unix_now()).await;
        assert!(per_client(could_start(chats, a, unix_now()).await), "a refreshed lapsed chat counts again");

        // A session rebuilt from its credential (no client known) counts in the total once it refreshes.
        let now = unix_now();
        let rebuilt = Session {
            identity: "customer-y".into(),
            conversation_sid: CH2.into(),
            interaction: None,
            state: SessionState::Open,
            expires_at: now + 86_400,
            client: None,
            active_until: now,
        };
        let r1 = chats.local.insert("r1".into(), rebuilt, now);
        chats.touched(&r1, "r1", now + 600, now).await;
        assert!(total(could_start(chats, b, unix_now()).await), "the rebuilt chat and s1 fill the total");

        // Ending frees the slot, and a refresh that raced the end does not take it back.
        chats.session_ended("r1", CH2, now + 86_400, unix_now()).await;
        assert_eq!(could_start(chats, b, unix_now()).await, Ok(()), "ended: free");
        chats.touched(&r1, "r1", unix_now() + 600, unix_now()).await;
        assert_eq!(could_start(chats, b, unix_now()).await, Ok(()), "a late refresh of an ended chat does not count");

        // A verified webhook that closes the conversation frees the slots of its sessions.
        chats.conversation_ended(CH1, unix_now()).await;
        assert_eq!(could_start(chats, a, unix_now()).await, Ok(()), "closed by webhook: free");

        // A start that answers after its conversation's close webhook never holds a slot.
        chats.conversation_ended(CH3, unix_now()).await;
        start(chats, b, "s3", CH3, 600, unix_now()).await.unwrap();
        assert_eq!(could_start(chats, b, unix_now()).await, Ok(()), "born ended: free");
    }

    #[tokio::test]
    async fn caps_count_open_chats_in_this_process() {
        let (config, local) = (config(), SessionStore::default());
        scenario(Chats { config: &config, local: &local, redis: None }).await;
    }

    #[tokio::test]
    async fn caps_count_the_same_chats_in_redis() {
        let Some(server) = redis_server().await else { return };
        let redis = replica(server.1, "caps:").await;
        let (config, local) = (config(), SessionStore::default());
        scenario(Chats { config: &config, local: &local, redis: Some(&redis) }).await;
    }

    /// Redis's clock decides what has lapsed, not each replica's: a replica 15 minutes fast used to prune the
    /// others' chats (600 s tokens) and start past the caps.
    #[tokio::test]
    async fn a_replica_with_a_fast_clock_counts_the_same_chats() {
        let Some(server) = redis_server().await else { return };
        let (ra, rb) = (replica(server.1, "clock:").await, replica(server.1, "clock:").await);
        let config = config();
        let (la, lb) = (SessionStore::default(), SessionStore::default());
        let (on_a, on_b) = (Chats { config: &config, local: &la, redis: Some(&ra) }, Chats { config: &config, local: &lb, redis: Some(&rb) });
        let a = key("10.0.0.1");
        start(on_a, a, "s1", CH1, 600, unix_now()).await.unwrap();
        let fast = unix_now() + 900;
        assert!(per_client(could_start(on_b, a, fast).await), "the chat on replica A still counts on fast replica B");
        // B's refresh of it (its token's expiry read on B's clock) holds it as long as one on A would.
        let s1 = lb.insert(
            "s1".into(),
            Session { identity: "customer-x".into(), conversation_sid: CH1.into(), interaction: None, state: SessionState::Open, expires_at: fast + 86_400, client: None, active_until: fast },
            fast,
        );
        on_b.touched(&s1, "s1", fast + 600, fast).await;
        assert!(per_client(could_start(on_a, a, unix_now()).await), "still counted");
    }
}
