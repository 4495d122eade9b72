//! Chats whose last tab went away (issue 28, "no ghost chats"): the desk's beacon (`POST /v1/sessions/{id}/leave`)
//! starts a grace period (`ABANDON_GRACE_SECONDS`); any authenticated refresh of that session within it cancels it
//! (a reload or another tab taking the chat up refreshes first: flexdesk-core `Chat::resumed`; a reload while waiting
//! asks whether the chat is live with a refresh too: crates/flexdesk/js/index.js `live`); when it runs out the chat
//! is ended as the customer's own end is (http/routes/leave.rs).
//!
//! Which abandonment is current is a ticket: a second beacon replaces the first's, and a timer whose ticket is no
//! longer the current one does nothing. With `REDIS_URL` the ticket is in Redis too (`abandon:{id}`), so a refresh
//! on any replica cancels it; the timer itself runs on the replica that took the beacon, so if that replica stops
//! within the grace period nothing ends the chat but Twilio's own conversation timers (docs/auth-server.md).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::infra::redis::Redis;

/// The pending abandonments of this process: session id → ticket.
#[derive(Default)]
pub struct Abandonments {
    pending: Mutex<HashMap<String, u128>>,
}

impl Abandonments {
    /// The last tab of session `id` went away: a new ticket, current from now (here and, with Redis, on every
    /// replica for `grace` and a minute more).
    pub async fn schedule(&self, redis: Option<&Arc<Redis>>, id: &str, grace: Duration) -> u128 {
        let ticket = uuid::Uuid::new_v4().as_u128();
        self.lock().insert(id.to_string(), ticket);
        if let Some(redis) = redis {
            redis.abandon_set(id, Some(ticket), grace.as_secs() + 60).await;
        }
        ticket
    }

    /// Session `id` is in use again (an authenticated refresh): nothing pending for it is carried out. One Redis
    /// `DEL` with `REDIS_URL` (a beacon may have reached another replica).
    pub async fn cancel(&self, redis: Option<&Arc<Redis>>, id: &str) {
        let here = self.lock().remove(id).is_some();
        if here {
            tracing::info!(session_id = id, "abandonment cancelled: the chat is in use again");
        }
        if let Some(redis) = redis {
            redis.abandon_set(id, None, 0).await;
        }
    }

    /// The grace period of `ticket` ran out: true when it is still the current one, here and (when Redis answers)
    /// in Redis; it is then used up, so only one timer ends the chat.
    pub async fn due(&self, redis: Option<&Arc<Redis>>, id: &str, ticket: u128) -> bool {
        let here = {
            let mut pending = self.lock();
            let current = pending.get(id) == Some(&ticket);
            if current {
                pending.remove(id);
            }
            current
        };
        if !here {
            return false;
        }
        match redis {
            // Redis not answering: this process's own record decides.
            Some(redis) => redis.abandon_take(id, ticket).await.unwrap_or(true),
            None => true,
        }
    }

    /// How many are pending here (a gauge for tests and metrics).
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// No abandonment pending here.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, u128>> {
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_refresh_cancels_and_only_the_current_ticket_is_due_once() {
        let a = Abandonments::default();
        let grace = Duration::from_secs(60);
        let first = a.schedule(None, "s1", grace).await;
        let second = a.schedule(None, "s1", grace).await;
        assert!(!a.due(None, "s1", first).await, "replaced by the second beacon");
        assert!(a.due(None, "s1", second).await);
        assert!(!a.due(None, "s1", second).await, "used up: one end only");

        let t = a.schedule(None, "s2", grace).await;
        a.cancel(None, "s2").await;
        assert!(!a.due(None, "s2", t).await, "a refresh within the grace period keeps the chat");
        assert!(a.is_empty());
    }

    /// REDIS_URL: the beacon reaches replica A, the reload's refresh replica B; B's cancel must stop A's timer.
    #[tokio::test]
    async fn a_refresh_on_another_replica_cancels_through_redis() {
        use crate::infra::redis::test_replica as replica;
        let Some(r) = crate::infra::test_redis::redis_server().await else { return };
        let (ra, rb) = (replica(r.1, "ab:").await, replica(r.1, "ab:").await);
        let (a, b) = (Abandonments::default(), Abandonments::default());
        let grace = Duration::from_secs(60);
        let t = a.schedule(Some(&ra), "s1", grace).await;
        b.cancel(Some(&rb), "s1").await;
        assert!(!a.due(Some(&ra), "s1", t).await, "cancelled on the other replica");
        // Not cancelled: due once, on the replica that took the beacon.
        let t = a.schedule(Some(&ra), "s2", grace).await;
        assert!(a.due(Some(&ra), "s2", t).await);
        assert!(!a.due(Some(&ra), "s2", t).await);
    }
}
