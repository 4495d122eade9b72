//! Single-flight: concurrent callers asking the same question (is this conversation closed?) share one answer,
//! so a burst of refreshes of one session makes one Twilio call. The entry is dropped as soon as the answer is
//! in: a later caller asks afresh (no caching beyond the calls that overlapped).

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};

use tokio::sync::OnceCell;

/// Coalesces concurrent computations of the same key into one; `T` is the shared answer (cloned to each caller).
pub struct SingleFlight<T> {
    inflight: Mutex<HashMap<String, Arc<OnceCell<T>>>>,
}

impl<T> Default for SingleFlight<T> {
    fn default() -> Self {
        SingleFlight { inflight: Mutex::new(HashMap::new()) }
    }
}

impl<T: Clone> SingleFlight<T> {
    /// Runs `work` for `key` unless a run for `key` is in flight, in which case it waits for that run's answer.
    /// If the running caller is cancelled (its request dropped), a waiting caller takes over (`OnceCell`).
    pub async fn run<F, Fut>(&self, key: &str, work: F) -> T
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = T>,
    {
        let cell = self.inflight.lock().unwrap_or_else(|e| e.into_inner()).entry(key.to_string()).or_default().clone();
        let value = cell.get_or_init(work).await.clone();
        let mut inflight = self.inflight.lock().unwrap_or_else(|e| e.into_inner());
        if inflight.get(key).is_some_and(|c| Arc::ptr_eq(c, &cell)) {
            inflight.remove(key);
        }
        value
    }

    /// Keys with a run in flight (for tests).
    pub fn in_flight(&self) -> usize {
        self.inflight.lock().unwrap_or_else(|e| e.into_inner()).len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    #[tokio::test]
    async fn concurrent_callers_share_one_run_and_later_ones_ask_again() {
        let flight = Arc::new(SingleFlight::<u32>::default());
        let runs = Arc::new(AtomicUsize::new(0));
        let call = |flight: Arc<SingleFlight<u32>>, runs: Arc<AtomicUsize>| async move {
            flight
                .run("CH1", || async {
                    runs.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    7
                })
                .await
        };
        let answers = futures_join(vec![
            tokio::spawn(call(flight.clone(), runs.clone())),
            tokio::spawn(call(flight.clone(), runs.clone())),
            tokio::spawn(call(flight.clone(), runs.clone())),
        ])
        .await;
        assert_eq!(answers, vec![7, 7, 7]);
        assert_eq!(runs.load(Ordering::SeqCst), 1, "one run for three concurrent callers");
        assert_eq!(flight.in_flight(), 0);
        call(flight.clone(), runs.clone()).await;
        assert_eq!(runs.load(Ordering::SeqCst), 2, "a later caller asks afresh");
        // Another key is another question.
        flight.run("CH2", || async { 1 }).await;
        assert_eq!(flight.in_flight(), 0);
    }

    async fn futures_join(handles: Vec<tokio::task::JoinHandle<u32>>) -> Vec<u32> {
        let mut out = Vec::new();
        for h in handles {
            out.push(h.await.unwrap());
        }
        out
    }
}
