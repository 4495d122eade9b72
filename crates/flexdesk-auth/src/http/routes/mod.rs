//! The handlers, one file per resource.

pub mod agents;
pub mod ops;
pub mod queue;
pub mod ready;
pub mod sessions;
pub mod sms;
