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
}

#[derive(Default)]
pub struct SessionStore {
    sessions: Mutex<HashMap<String, Session>>,
    /// Pruning scans the table: at most once a second, not on every start.
    last_prune: AtomicU64,
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

    pub fn open_count(&self) -> usize {
        self.sessions.lock().unwrap_or_else(|e| e.into_inner()).values().filter(|s| s.state == SessionState::Open).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(expires_at: u64) -> Session {
        Session { identity: "i".into(), conversation_sid: "CH".into(), interaction: None, state: SessionState::Open, expires_at }
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
        assert_eq!(store.open_count(), 1);
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
