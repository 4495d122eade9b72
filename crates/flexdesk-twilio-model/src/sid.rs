//! Twilio-shaped SIDs: a two-letter prefix and 32 hex digits (e.g. `CH…`, `IS…`, `WT…`).

use uuid::Uuid;

/// A fresh SID: the prefix and a random (v4) UUID's 32 hex digits, so SIDs are unique and not guessable.
pub fn sid(prefix: &str) -> String {
    format!("{prefix}{}", Uuid::new_v4().simple())
}

/// Random hex string of 64 digits, for per-process signing keys.
pub fn random_key() -> String {
    format!("{}{}", Uuid::new_v4().simple(), Uuid::new_v4().simple())
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
        let k = random_key();
        assert!(k.len() == 64 && k.chars().all(|c| c.is_ascii_hexdigit()), "{k}");
    }
}
