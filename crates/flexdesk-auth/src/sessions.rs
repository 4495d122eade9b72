//! The in-memory session table: which chats this server started and whether they are still open.
//!
//! Memory only, on purpose: the session credential carries what a session needs (`credential.rs`), so after a
//! restart a valid credential rebuilds its session, and Twilio says on every refresh whether the chat is over.
//! This table is a cache plus the ended flag. An ended session is kept for [`ENDED_GRACE_SECONDS`] (a repeated
//! end or refresh is answered without calling Twilio) and then forgotten: keeping it until its credential
//! expired (a day) made memory grow with every chat of the day (the soak in reliability/load.mjs).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use crate::flex::InteractionRef;
use crate::ratelimit::ClientKey;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionState {
    Open,
    /// Ended at this Unix time.
    Ended(u64),
}

/// How long an ended session is remembered.
pub const ENDED_GRACE_SECONDS: u64 = 300;

#[derive(Debug, Clone)]
pub struct Session {
    pub identity: String,
    pub conversation_sid: String,
    pub interaction: Option<InteractionRef>,
    pub state: SessionState,
    /// Unix seconds; the credential expires at the same moment.
    pub expires_at: u64,
    /// Who started it (for the per-client cap); `None` for a session rebuilt from its credential.
    pub client: Option<ClientKey>,
    /// Unix seconds: the expiry of the last token minted for it. An open session counts against the caps only
    /// until then: a chat whose page is gone stops refreshing, and frees its slot when its token runs out.
    pub active_until: u64,
}

impl Session {
    fn holds_slot(&self, now: u64) -> bool {
        self.state == SessionState::Open && self.active_until > now
    }
}

/// A start over the open-session caps: when the first slot frees up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooMany {
    pub per_client: bool,
    pub retry_after_secs: u64,
}

#[derive(Default)]
pub struct SessionStore {
    sessions: Mutex<HashMap<String, Session>>,
    /// Starts admitted by [`SessionStore::reserve`] and not yet inserted or abandoned, by client.
    pending: Mutex<HashMap<ClientKey, u32>>,
    /// Pruning scans the table: at most once a second, not on every start.
    last_prune: AtomicU64,
    /// Conversations a verified Twilio webhook reported closed or removed: conversation SID → Unix time. Kept
    /// [`ENDED_GRACE_SECONDS`], for a session inserted just after its webhook (the start's answer in flight).
    ended_conversations: Mutex<HashMap<String, u64>>,
}

/// A slot taken by [`SessionStore::reserve`] for a start in progress; freed when dropped (the start failed, or
/// the session was inserted and counts itself).
pub struct Reservation<'a> {
    store: &'a SessionStore,
    client: ClientKey,
}

impl Drop for Reservation<'_> {
    fn drop(&mut self) {
        let mut pending = self.store.pending.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = pending.get_mut(&self.client) {
            *n -= 1;
            if *n == 0 {
                pending.remove(&self.client);
            }
        }
    }
}

impl SessionStore {
    /// Adds a session and forgets the expired ones (their credentials no longer verify anyway) and those
    /// ended more than [`ENDED_GRACE_SECONDS`] ago.
    pub fn insert(&self, id: String, session: Session, now: u64) {
        let mut sessions = self.sessions.lock().unwrap_or_else(|e| e.into_inner());
        if self.last_prune.fetch_max(now, Ordering::Relaxed) < now {
            sessions.retain(|_, s| {
                s.expires_at > now && !matches!(s.state, SessionState::Ended(at) if now.saturating_sub(at) > ENDED_GRACE_SECONDS)
            });
        }
        sessions.insert(id, session);
    }


    /// A verified Twilio webhook said the conversation closed or was removed: every session of it ends, and the
    /// conversation is remembered as ended for [`ENDED_GRACE_SECONDS`]. Only ever moves towards ended, so a
    /// replayed webhook changes nothing. Returns how many sessions it ended.
    pub fn mark_ended_by_conversation(&self, conversation_sid: &str, now: u64) -> usize {
        {
            let mut ended = self.ended_conversations.lock().unwrap_or_else(|e| e.into_inner());
            ended.retain(|_, at| now.saturating_sub(*at) <= ENDED_GRACE_SECONDS);
            ended.entry(conversation_sid.to_string()).or_insert(now);
        }
        let mut sessions = self.sessions.lock().unwrap_or_else(|e| e.into_inner());
        let mut count = 0;
        for s in sessions.values_mut().filter(|s| s.conversation_sid == conversation_sid && s.state == SessionState::Open) {
            s.state = SessionState::Ended(now);
            count += 1;
        }
        count
    }

    /// True when a verified webhook reported the conversation ended (within [`ENDED_GRACE_SECONDS`]).
    pub fn is_conversation_ended(&self, conversation_sid: &str) -> bool {
        self.ended_conversations.lock().unwrap_or_else(|e| e.into_inner()).contains_key(conversation_sid)
    }

    pub fn get(&self, id: &str) -> Option<Session> {
        self.sessions.lock().unwrap_or_else(|e| e.into_inner()).get(id).cloned()
    }

    /// Marks the session ended at `now`; returns false if it was unknown.
    pub fn end(&self, id: &str, now: u64) -> bool {
        match self.sessions.lock().unwrap_or_else(|e| e.into_inner()).get_mut(id) {
            Some(s) => {
                s.state = SessionState::Ended(now);
                true
            }
            None => false,
        }
    }

    /// Open sessions still holding a slot (see [`Session::active_until`]).
    pub fn open_count(&self, now: u64) -> usize {
        self.sessions.lock().unwrap_or_else(|e| e.into_inner()).values().filter(|s| s.holds_slot(now)).count()
    }

    /// A new token was minted for the session: it holds its slot until that token expires.
    pub fn touch(&self, id: &str, active_until: u64) {
        if let Some(s) = self.sessions.lock().unwrap_or_else(|e| e.into_inner()).get_mut(id) {
            s.active_until = s.active_until.max(active_until);
        }
    }

    /// Takes a slot for a start by `client`, unless it already has `per_client` open sessions or the server has
    /// `total` (0 = no cap). Starts in progress count, so a burst of simultaneous starts cannot slip past.
    pub fn reserve(&self, client: ClientKey, per_client: u32, total: u32, now: u64) -> Result<Reservation<'_>, TooMany> {
        let sessions = self.sessions.lock().unwrap_or_else(|e| e.into_inner());
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        let open = || sessions.values().filter(|s| s.holds_slot(now));
        // Retry-After: when the earliest slot frees by itself (a start in progress: a few seconds).
        let wait = |slots: Vec<u64>| slots.into_iter().min().map(|t| t.saturating_sub(now)).unwrap_or(5).clamp(1, 3600);
        if per_client > 0 {
            let mine: Vec<u64> = open().filter(|s| s.client == Some(client)).map(|s| s.active_until).collect();
            let in_progress = pending.get(&client).copied().unwrap_or(0);
            if mine.len() as u64 + u64::from(in_progress) >= u64::from(per_client) {
                let retry = if mine.is_empty() { 5 } else { wait(mine) };
                return Err(TooMany { per_client: true, retry_after_secs: retry });
            }
        }
        if total > 0 {
            let all: Vec<u64> = open().map(|s| s.active_until).collect();
            let in_progress: u32 = pending.values().sum();
            if all.len() as u64 + u64::from(in_progress) >= u64::from(total) {
                let retry = if all.is_empty() { 5 } else { wait(all) };
                return Err(TooMany { per_client: false, retry_after_secs: retry });
            }
        }
        *pending.entry(client).or_default() += 1;
        drop(pending);
        drop(sessions);
        Ok(Reservation { store: self, client })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(expires_at: u64) -> Session {
        Session {
            identity: "i".into(),
            conversation_sid: "CH".into(),
            interaction: None,
            state: SessionState::Open,
            expires_at,
            client: None,
            active_until: expires_at,
        }
    }

    #[test]
    fn caps_count_open_sessions_and_starts_in_progress() {
        let store = SessionStore::default();
        let a = ClientKey::from_ip("10.0.0.1".parse().unwrap());
        let b = ClientKey::from_ip("10.0.0.2".parse().unwrap());
        let r1 = store.reserve(a, 2, 3, 0).unwrap();
        store.insert("a1".into(), Session { client: Some(a), active_until: 600, ..session(1000) }, 0);
        drop(r1);
        let _r2 = store.reserve(a, 2, 3, 0).unwrap();
        // One open, one in progress: a's third is refused until its first token runs out.
        assert_eq!(store.reserve(a, 2, 3, 10).err(), Some(TooMany { per_client: true, retry_after_secs: 590 }));
        let _r3 = store.reserve(b, 2, 3, 10).unwrap();
        assert!(matches!(store.reserve(b, 2, 3, 10), Err(TooMany { per_client: false, .. })), "total cap");
        // Ending frees the slot; so does an abandoned session whose token ran out.
        store.end("a1", 20);
        assert!(store.reserve(a, 2, 4, 20).is_ok());
        assert_eq!(store.open_count(20), 0);
        assert!(store.reserve(a, 0, 0, 20).is_ok(), "0 = no cap");
    }

    #[test]
    fn end_marks_and_expired_sessions_are_pruned() {
        let store = SessionStore::default();
        store.insert("a".into(), session(100), 0);
        assert!(store.end("a", 10));
        assert_eq!(store.get("a").unwrap().state, SessionState::Ended(10));
        assert!(!store.end("nope", 10));
        store.insert("b".into(), session(300), 200);
        assert!(store.get("a").is_none());
        assert_eq!(store.open_count(200), 1);
    }

    #[test]
    fn a_webhook_ends_every_session_of_its_conversation_and_a_replay_changes_nothing() {
        let store = SessionStore::default();
        store.insert("a".into(), Session { conversation_sid: "CH1".into(), ..session(100_000) }, 0);
        store.insert("b".into(), Session { conversation_sid: "CH2".into(), ..session(100_000) }, 0);
        assert!(!store.is_conversation_ended("CH1"));
        assert_eq!(store.mark_ended_by_conversation("CH1", 10), 1);
        assert_eq!(store.get("a").unwrap().state, SessionState::Ended(10));
        assert!(store.is_conversation_ended("CH1"));
        // Replayed later: still ended at 10, nothing else touched.
        assert_eq!(store.mark_ended_by_conversation("CH1", 20), 0);
        assert_eq!(store.get("a").unwrap().state, SessionState::Ended(10));
        assert_eq!(store.get("b").unwrap().state, SessionState::Open);
        // A conversation no session here knows yet (its start still answering) is remembered for a while.
        assert_eq!(store.mark_ended_by_conversation("CH9", 30), 0);
        assert!(store.is_conversation_ended("CH9"));
        store.mark_ended_by_conversation("CH3", 31 + ENDED_GRACE_SECONDS);
        assert!(!store.is_conversation_ended("CH9"), "forgotten after the grace period");
    }

    /// Regression (soak): ended sessions stayed until their credential expired, a day later.
    #[test]
    fn ended_sessions_are_forgotten_after_the_grace_period() {
        let store = SessionStore::default();
        store.insert("ended".into(), session(100_000), 0);
        store.insert("open".into(), session(100_000), 0);
        store.end("ended", 1_000);
        store.insert("x".into(), session(100_000), 1_000 + ENDED_GRACE_SECONDS);
        assert!(store.get("ended").is_some(), "kept during the grace period");
        store.insert("y".into(), session(100_000), 1_001 + ENDED_GRACE_SECONDS);
        assert!(store.get("ended").is_none(), "forgotten after it");
        assert!(store.get("open").is_some(), "open sessions stay");
    }
}
