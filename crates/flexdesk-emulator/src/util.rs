//! SIDs, dates and constant-time comparison, shared with the twilsock server: see `twilio_model`.

pub use twilio_model::sid::{random_key, sid};
pub use twilio_model::time::{constant_time_eq, iso8601, now_millis, now_secs};
