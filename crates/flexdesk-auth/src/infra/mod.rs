//! What everything else stands on: configuration and secrets, the clock, metrics, Redis, pacing of Twilio calls,
//! business hours and the identity-token keys (both parsed with the configuration), single-flight calls.
//! Depends on nothing else in this crate.

pub mod clock;
pub mod config;
pub mod hours;
pub mod identity;
pub mod metrics;
pub mod pacing;
pub mod redis;
pub mod secret;
pub mod setting;
pub mod singleflight;
pub mod sms;
#[cfg(test)]
pub(crate) mod test_redis;
pub mod url;
