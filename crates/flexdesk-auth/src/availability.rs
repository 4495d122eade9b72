//! A few seconds of caching in front of TaskRouter, so a burst of page loads costs one Twilio call.
//! The lock is held across the fetch on purpose: concurrent misses wait for the first one instead of
//! all calling Twilio.

use std::future::Future;
use std::time::{Duration, Instant};

use flexdesk_core::wire::Availability;
use tokio::sync::Mutex;

pub struct AvailabilityCache {
    ttl: Duration,
    last: Mutex<Option<(Instant, Availability)>>,
}

impl AvailabilityCache {
    pub fn new(ttl: Duration) -> Self {
        AvailabilityCache { ttl, last: Mutex::new(None) }
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
