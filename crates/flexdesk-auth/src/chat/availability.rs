//! A few seconds of caching in front of TaskRouter, so a burst of page loads costs one Twilio call.
//! The lock is held across the fetch on purpose: concurrent misses wait for the first one instead of
//! all calling Twilio.

use std::future::Future;
use std::time::{Duration, Instant};

use flexdesk_core::wire::Availability;
use tokio::sync::Mutex;

/// The last `GET /v1/agents/availability` figures, kept for `AVAILABILITY_CACHE_SECONDS` (default 5; 0 = always
/// ask Twilio), plus the per-queue reads of the queue-position route.
pub struct AvailabilityCache {
    ttl: Duration,
    last: Mutex<Option<(Instant, Availability)>>,
    /// The per-queue reads behind a session's own position (`GET /v1/sessions/{id}/queue`), same lifetime.
    pub queues: crate::chat::queue::QueueCache,
}

impl AvailabilityCache {
    /// An empty cache whose entries live `ttl`.
    pub fn new(ttl: Duration) -> Self {
        AvailabilityCache { ttl, last: Mutex::new(None), queues: crate::chat::queue::QueueCache::new(ttl) }
    }

    /// The cached value while fresh, else whatever `fetch` gives (errors are not cached).
    pub async fn get_or_fetch<E, F>(&self, fetch: F) -> Result<Availability, E>
    where
        F: Future<Output = Result<Availability, E>>,
    {
        let mut last = self.last.lock().await;
        if let Some((at, value)) = &*last {
            if at.elapsed() < self.ttl {
                return Ok(value.clone());
            }
        }
        let value = fetch.await?;
        *last = Some((Instant::now(), value.clone()));
        Ok(value)
    }
}
