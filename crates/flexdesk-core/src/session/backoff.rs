//! Exponential backoff: how long to wait before asking again, doubling from a base up to a cap.

/// The delays before successive retries: `base_ms`, then twice that, and so on, never more than `max_ms`.
#[derive(Debug, Clone)]
pub(super) struct Backoff {
    base_ms: u64,
    max_ms: u64,
    attempt: u32,
}

impl Backoff {
    /// No retry yet: the first delay is `base_ms`.
    pub(super) const fn new(base_ms: u64, max_ms: u64) -> Self {
        Backoff { base_ms, max_ms, attempt: 0 }
    }

    /// The delay before the next retry, counting it.
    pub(super) fn next_delay_ms(&mut self) -> u64 {
        let delay = (self.base_ms << self.attempt.min(16)).min(self.max_ms);
        self.attempt = self.attempt.saturating_add(1);
        delay
    }

    /// Retries counted since the last [`Backoff::reset`].
    pub(super) fn attempts(&self) -> u32 {
        self.attempt
    }

    /// It worked: the next failure starts from `base_ms` again.
    pub(super) fn reset(&mut self) {
        self.attempt = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::Backoff;

    #[test]
    fn doubles_up_to_the_cap_and_starts_over_after_a_reset() {
        let mut b = Backoff::new(500, 10_000);
        let delays: Vec<u64> = (0..7).map(|_| b.next_delay_ms()).collect();
        assert_eq!(delays, [500, 1_000, 2_000, 4_000, 8_000, 10_000, 10_000]);
        assert_eq!(b.attempts(), 7);
        b.reset();
        assert_eq!(b.next_delay_ms(), 500);
    }
}
