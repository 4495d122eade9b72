//! Twilio-shaped SIDs: a two-letter prefix and 32 hex digits (e.g. `CH…`, `IS…`, `WT…`).

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};

static COUNTER: AtomicU64 = AtomicU64::new(1);

/// Unique per process (a counter in the low bits) and not guessable across runs (mixed with the process's
/// random hasher keys).
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
    format!("{prefix}{a:016x}{:016x}", (b & 0xffff_ffff_0000_0000) | (n & 0xffff_ffff))
}

/// Random-looking hex string of 64 digits, for per-process signing keys.
pub fn random_key() -> String {
    format!("{}{}", &sid("")[..32], &sid("")[..32])
}

/// Whether `s` is `prefix` followed by 32 hex digits.
pub fn is_sid(s: &str, prefix: &str) -> bool {
    s.len() == 34 && s.starts_with(prefix) && s[2..].chars().all(|c| c.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sids_have_twilio_shape_and_differ() {
        let a = sid("CH");
        let b = sid("CH");
        assert!(is_sid(&a, "CH"), "{a}");
        assert_ne!(a, b);
        assert!(!is_sid("CH12", "CH"));
    }
}
