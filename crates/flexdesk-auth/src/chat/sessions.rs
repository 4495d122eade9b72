//! The in-memory session table: which chats this server started and whether they are still open.
//!
//! Memory only, on purpose: the session credential carries what a session needs (`credential.rs`), so after a
//! restart a valid credential rebuilds its session, and Twilio says on every refresh whether the chat is over.
//! This table is a cache plus the ended flag. An ended session is kept for [`ENDED_GRACE_SECONDS`] (a repeated
//! end or refresh is answered without calling Twilio) and then forgotten: keeping it until its credential
//! expired (a day) made memory grow with every chat of the day (the soak in tests/reliability/campaign/load.mjs).

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::infra::redis::TooMany;
use crate::twilio::flex::InteractionRef;

/// Who a request counts against: an IPv4 address, or an IPv6 /64 (the host bits are zeroed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientKey(pub IpAddr);

impl ClientKey {
    /// The key of a client address: IPv4 as is (also an IPv4-mapped IPv6 address), IPv6 cut to its /64.
    pub fn from_ip(ip: IpAddr) -> ClientKey {
        match ip {
            IpAddr::V4(v4) => ClientKey(IpAddr::V4(v4)),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => ClientKey(IpAddr::V4(v4)),
                None => ClientKey(IpAddr::V6(Ipv6Addr::from(u128::from(v6) & !((1u128 << 64) - 1)))),
            },
        }
    }
}

impl std::fmt::Display for ClientKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            IpAddr::V6(v6) => write!(f, "{v6}/64"),
            ip => write!(f, "{ip}"),
        }
    }
}

/// Whether a chat is still open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionState {
    /// Not known to have ended.
    Open,
    /// Ended at this Unix time.
    Ended(u64),
}

/// How long an ended session is remembered.
pub const ENDED_GRACE_SECONDS: u64 = 300;

/// A session as plain data: what [`SessionStore::insert`] takes and [`SessionStore::get`] gives back.
#[derive(Debug, Clone)]
pub struct Session {
    /// The customer's Conversations identity, what its tokens are minted for.
    pub identity: String,
    /// The chat's conversation (`CH…`).
    pub conversation_sid: String,
    /// The Flex interaction and channel, in the Interactions mode (closed with the conversation).
    pub interaction: Option<InteractionRef>,
    /// Open, or when it ended.
    pub state: SessionState,
    /// Unix seconds; the credential expires at the same moment.
    pub expires_at: u64,
    /// Who started it (for the per-client cap); `None` for a session rebuilt from its credential.
    pub client: Option<ClientKey>,
    /// Unix seconds: the expiry of the last token minted for it. An open session counts against the caps only
    /// until then: a chat whose page is gone stops refreshing, and frees its slot when its token runs out.
    pub active_until: u64,
}

/// A session as the table holds it, shared with the requests that use it: what never changes, plus its state and
/// slot expiry as atomics. A refresh looks its session up once, reads it in place (no copy of its strings) and
/// extends its slot through the same handle, without holding the table's lock.
#[derive(Clone)]
pub struct LiveSession(Arc<Entry>);

struct Entry {
    identity: String,
    conversation_sid: String,
    interaction: Option<InteractionRef>,
    expires_at: u64,
    client: Option<ClientKey>,
    /// [`OPEN`], or the Unix time it ended.
    ended_at: AtomicU64,
    active_until: AtomicU64,
    /// Unix seconds when the chat was last known open from Twilio itself (its start, or a Twilio check); 0 = never.
    checked_open_at: AtomicU64,
}

/// `ended_at` of an open session (no session ends in the year 584 billion).
const OPEN: u64 = u64::MAX;

impl LiveSession {
    fn new(s: Session) -> LiveSession {
        let ended_at = match s.state {
            SessionState::Open => OPEN,
            SessionState::Ended(at) => at,
        };
        LiveSession(Arc::new(Entry {
            identity: s.identity,
            conversation_sid: s.conversation_sid,
            interaction: s.interaction,
            expires_at: s.expires_at,
            client: s.client,
            ended_at: AtomicU64::new(ended_at),
            active_until: AtomicU64::new(s.active_until),
            checked_open_at: AtomicU64::new(0),
        }))
    }

    /// See [`Session::identity`].
    pub fn identity(&self) -> &str {
        &self.0.identity
    }

    /// See [`Session::conversation_sid`].
    pub fn conversation_sid(&self) -> &str {
        &self.0.conversation_sid
    }

    /// See [`Session::interaction`].
    pub fn interaction(&self) -> Option<&InteractionRef> {
        self.0.interaction.as_ref()
    }

    /// See [`Session::expires_at`].
    pub fn expires_at(&self) -> u64 {
        self.0.expires_at
    }

    /// Who started it; `None` for a session rebuilt from its credential.
    pub fn client(&self) -> Option<ClientKey> {
        self.0.client
    }

    /// Open, or when it ended (here: by the customer, by Twilio's answer or a webhook).
    pub fn state(&self) -> SessionState {
        match self.0.ended_at.load(Ordering::Acquire) {
            OPEN => SessionState::Open,
            at => SessionState::Ended(at),
        }
    }

    /// `state() != Open`.
    pub fn is_ended(&self) -> bool {
        self.state() != SessionState::Open
    }

    /// A new token was minted for it: it holds its slot until that token expires.
    pub fn touch(&self, active_until: u64) {
        self.0.active_until.fetch_max(active_until, Ordering::Relaxed);
    }

    /// When Twilio itself last said the chat was open (see [`LiveSession::mark_checked_open`]); 0 = never.
    pub fn checked_open_at(&self) -> u64 {
        self.0.checked_open_at.load(Ordering::Relaxed)
    }

    /// Twilio said (or, at the start, made) the chat open at `at`: webhooks may be trusted for a token lifetime
    /// from then (routes/sessions.rs `refresh`).
    pub fn mark_checked_open(&self, at: u64) {
        self.0.checked_open_at.fetch_max(at, Ordering::Relaxed);
    }

    fn end(&self, now: u64) {
        self.0.ended_at.store(now, Ordering::Release);
    }

    /// Ends it unless it already had; true if this call ended it.
    fn end_if_open(&self, now: u64) -> bool {
        self.0.ended_at.compare_exchange(OPEN, now, Ordering::AcqRel, Ordering::Acquire).is_ok()
    }

    fn active_until(&self) -> u64 {
        self.0.active_until.load(Ordering::Relaxed)
    }

    fn holds_slot(&self, now: u64) -> bool {
        self.state() == SessionState::Open && self.active_until() > now
    }

    /// A copy as plain data.
    pub fn snapshot(&self) -> Session {
        Session {
            identity: self.0.identity.clone(),
            conversation_sid: self.0.conversation_sid.clone(),
            interaction: self.0.interaction.clone(),
            state: self.state(),
            expires_at: self.0.expires_at,
            client: self.0.client,
            active_until: self.active_until(),
        }
    }
}

/// This process's sessions (see the module's documentation).
#[derive(Default)]
pub struct SessionStore {
    /// One lock for the table, held only to find, add or scan entries: a refresh holds it for one lookup.
    /// (A sharded map would not help here: the critical section is one hash and an `Arc` count, and the lock is
    /// uncontended on the refresh path of `bench/cost.mjs`.)
    sessions: Mutex<HashMap<String, LiveSession>>,
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
    /// ended more than [`ENDED_GRACE_SECONDS`] ago. A session of a conversation a webhook already reported ended
    /// (its start was still answering) starts ended: so the session itself says whether it is over, and a refresh
    /// needs no second lookup. (The webhook takes both locks in the same order: none slips between.)
    pub fn insert(&self, id: String, session: Session, now: u64) -> LiveSession {
        let mut sessions = self.sessions.lock().unwrap_or_else(|e| e.into_inner());
        if self.last_prune.fetch_max(now, Ordering::Relaxed) < now {
            sessions.retain(|_, s| {
                s.expires_at() > now && !matches!(s.state(), SessionState::Ended(at) if now.saturating_sub(at) > ENDED_GRACE_SECONDS)
            });
        }
        let live = LiveSession::new(session);
        if self.is_conversation_ended(live.conversation_sid()) {
            live.end_if_open(now);
        }
        sessions.insert(id, live.clone());
        live
    }


    /// A verified Twilio webhook said the conversation closed or was removed: every session of it ends, and the
    /// conversation is remembered as ended for [`ENDED_GRACE_SECONDS`]. Only ever moves towards ended, so a
    /// replayed webhook changes nothing. Returns how many sessions it ended.
    pub fn mark_ended_by_conversation(&self, conversation_sid: &str, now: u64) -> usize {
        let sessions = self.sessions.lock().unwrap_or_else(|e| e.into_inner());
        {
            let mut ended = self.ended_conversations.lock().unwrap_or_else(|e| e.into_inner());
            ended.retain(|_, at| now.saturating_sub(*at) <= ENDED_GRACE_SECONDS);
            ended.entry(conversation_sid.to_string()).or_insert(now);
        }
        sessions.values().filter(|s| s.conversation_sid() == conversation_sid && s.end_if_open(now)).count()
    }

    /// True when a verified webhook reported the conversation ended (within [`ENDED_GRACE_SECONDS`]).
    pub fn is_conversation_ended(&self, conversation_sid: &str) -> bool {
        self.ended_conversations.lock().unwrap_or_else(|e| e.into_inner()).contains_key(conversation_sid)
    }

    /// The session itself, shared: one lookup, nothing copied.
    pub fn find(&self, id: &str) -> Option<LiveSession> {
        self.sessions.lock().unwrap_or_else(|e| e.into_inner()).get(id).cloned()
    }

    /// A copy of the session as plain data.
    pub fn get(&self, id: &str) -> Option<Session> {
        self.find(id).map(|s| s.snapshot())
    }

    /// Forgets the session (its conversation was erased): a later call with its credential rebuilds nothing, since
    /// Twilio no longer lists it as a participant of anything.
    pub fn remove(&self, id: &str) {
        self.sessions.lock().unwrap_or_else(|e| e.into_inner()).remove(id);
    }

    /// Marks the session ended at `now`; returns false if it was unknown.
    pub fn end(&self, id: &str, now: u64) -> bool {
        self.find(id).map(|s| s.end(now)).is_some()
    }

    /// Open sessions still holding a slot (see [`Session::active_until`]).
    pub fn open_count(&self, now: u64) -> usize {
        self.sessions.lock().unwrap_or_else(|e| e.into_inner()).values().filter(|s| s.holds_slot(now)).count()
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
            let mine: Vec<u64> = open().filter(|s| s.client() == Some(client)).map(|s| s.active_until()).collect();
            let in_progress = pending.get(&client).copied().unwrap_or(0);
            if mine.len() as u64 + u64::from(in_progress) >= u64::from(per_client) {
                let retry = if mine.is_empty() { 5 } else { wait(mine) };
                return Err(TooMany { per_client: true, retry_after_secs: retry });
            }
        }
        if total > 0 {
            let all: Vec<u64> = open().map(|s| s.active_until()).collect();
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

    #[test]
    fn a_session_inserted_after_its_conversations_webhook_starts_ended() {
        let store = SessionStore::default();
        store.mark_ended_by_conversation("CH1", 10);
        let live = store.insert("late".into(), Session { conversation_sid: "CH1".into(), ..session(100_000) }, 12);
        assert_eq!(live.state(), SessionState::Ended(12));
        assert_eq!(store.get("late").unwrap().state, SessionState::Ended(12));
        assert_eq!(store.open_count(12), 0);
        let other = store.insert("other".into(), Session { conversation_sid: "CH2".into(), ..session(100_000) }, 12);
        assert_eq!(other.state(), SessionState::Open);
    }

    #[test]
    fn the_shared_handle_is_the_table_entry() {
        let store = SessionStore::default();
        let live = store.insert("a".into(), Session { active_until: 50, ..session(1_000) }, 0);
        live.touch(600);
        live.touch(300);
        assert_eq!(store.get("a").unwrap().active_until, 600, "only ever extended");
        store.end("a", 20);
        assert!(live.is_ended() && store.find("a").unwrap().is_ended());
        assert_eq!(store.open_count(20), 0);
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
