//! Clock readings and Twilio's date formats: REST `2026-11-25T09:27:41Z`, Sync/SDK `…T09:27:41.123Z`.

use std::time::{SystemTime, UNIX_EPOCH};

use jiff::Timestamp;

pub fn now_secs() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

pub fn now_millis() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

/// `2026-11-25T09:27:41Z`, as Twilio's REST APIs format dates.
pub fn iso8601(unix_secs: u64) -> String {
    let t = i64::try_from(unix_secs).ok().and_then(|s| Timestamp::from_second(s).ok()).unwrap_or(Timestamp::MAX);
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// `YYYY-MM-DDTHH:MM:SS.mmmZ`, as the Conversations SDK's Sync data carries dates.
pub fn rfc3339_millis(ms: i64) -> String {
    let t = Timestamp::from_millisecond(ms).unwrap_or(if ms < 0 { Timestamp::MIN } else { Timestamp::MAX });
    t.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// The current UTC time with milliseconds.
pub fn now_rfc3339() -> String {
    rfc3339_millis(now_millis() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_dates() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00Z");
        assert_eq!(iso8601(1_764_063_000), "2025-11-25T09:30:00Z");
        assert_eq!(iso8601(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339_millis(1_700_000_000_123), "2023-11-14T22:13:20.123Z");
        assert_eq!(rfc3339_millis(951_782_400_000), "2000-02-29T00:00:00.000Z");
    }
}
