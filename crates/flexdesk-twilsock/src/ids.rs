//! Twilio-shaped SIDs and timestamps: the shared ones from `twilio_model` (one generator for the emulator and
//! twilsock).

pub use twilio_model::sid::sid;
pub use twilio_model::time::{now_rfc3339, rfc3339_millis as format_unix_millis};
