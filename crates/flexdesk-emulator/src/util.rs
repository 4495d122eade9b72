//! Small helpers: Twilio-style SIDs, ISO-8601 dates, constant-time comparison.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

static COUNTER: AtomicU64 = AtomicU64::new(1);

/// A SID like Twilio's: two-letter prefix plus 32 hex digits. Unique per process (a counter) and not
/// guessable across runs (mixed with the process's random hasher keys).
pub fn sid(prefix: &str) -> String {
    thread_local!(static KEYS: RandomState = RandomState::new());
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let (a, b) = KEYS.with(|k| {
        let mut h1 = k.build_hasher();
        h1.write_u64(n);
        let mut h2 = k.build_hasher();
        h2.write_u64(n ^ 0x9e37_79b9_7f4a_7c15);
        (h1.finish(), h2.finish())
    });
    // The low bits carry the counter so two SIDs can never collide.
    format!("{prefix}{a:016x}{:016x}", (b & 0xffff_ffff_0000_0000) | (n & 0xffff_ffff))
}

/// Random-looking hex string of 64 digits, for per-process signing keys.
pub fn random_key() -> String {
    format!("{}{}", &sid("")[..32], &sid("")[..32])
}

pub fn now_secs() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

pub fn now_millis() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

/// `2026-11-25T09:27:41Z` as Twilio formats dates.
pub fn iso8601(unix_secs: u64) -> String {
    let days = (unix_secs / 86_400) as i64;
    let rem = unix_secs % 86_400;
    // Civil-from-days (Howard Hinnant), valid for the whole u64 range we care about.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + if m <= 2 { 1 } else { 0 };
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

/// Compares secrets without an early exit on the first differing byte.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sids_have_twilio_shape_and_differ() {
        let a = sid("CH");
        let b = sid("CH");
        assert_eq!(a.len(), 34);
        assert!(a.starts_with("CH") && a[2..].chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }

    #[test]
    fn iso8601_formats_known_dates() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00Z");
        assert_eq!(iso8601(1_764_063_000), "2025-11-25T09:30:00Z");
        assert_eq!(iso8601(951_782_400), "2000-02-29T00:00:00Z");
    }
}
