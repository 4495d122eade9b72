//! Twilio's REST error body, shared with the twilsock server: see `twilio_model::error`.

pub use twilio_model::error::TwilioError;
