//! The in-memory session table: which chats this server started and whether they are still open.
//!
//! Memory only, on purpose: a session lives at most SESSION_MAX_AGE_SECONDS, and after a restart the desk
//! simply starts a new chat (its refresh gets 404). Run one instance, or put sticky sessions in front.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::flex::InteractionRef;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionState {
    Open,
    Ended,
}

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
}

impl SessionStore {
    /// Adds a session and forgets the expired ones (their credentials no longer verify anyway).
    pub fn insert(&self, id: String, session: Session, now: u64) {
        let mut sessions = self.sessions.lock().unwrap_or_else(|e| e.into_inner());
        sessions.retain(|_, s| s.expires_at > now);
        sessions.insert(id, session);
    }

    pub fn get(&self, id: &str) -> Option<Session> {
        self.sessions.lock().unwrap_or_else(|e| e.into_inner()).get(id).cloned()
    }

    /// Marks the session ended; returns false if it was unknown.
    pub fn end(&self, id: &str) -> bool {
        match self.sessions.lock().unwrap_or_else(|e| e.into_inner()).get_mut(id) {
            Some(s) => {
                s.state = SessionState::Ended;
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
        assert!(store.end("a"));
        assert_eq!(store.get("a").unwrap().state, SessionState::Ended);
        assert!(!store.end("nope"));
        store.insert("b".into(), session(300), 200);
        assert!(store.get("a").is_none());
        assert_eq!(store.open_count(), 1);
    }
}
