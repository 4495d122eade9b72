//! SIDs and dates, shared with the twilsock server: see `twilio_model`.

pub use twilio_model::sid::{random_key, sid};
pub use twilio_model::time::{iso8601, now_millis, now_secs};
