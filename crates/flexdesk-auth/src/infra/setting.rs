//! The parsers of one setting's value, shared by every reader of the environment (`config.rs`, and
//! `identity.rs` for the `IDENTITY_*` keys), so a number is read and refused the same way everywhere.

/// A whole number in `min..=max`, or why not (the operator's message, naming the value).
pub fn whole_number(value: &str, min: u64, max: u64) -> Result<u64, String> {
    match value.parse::<u64>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(format!("must be a whole number from {min} to {max}, got {value:?}")),
    }
}
