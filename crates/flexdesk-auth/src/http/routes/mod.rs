//! The handlers, one file per resource.

pub mod agents;
pub mod erase;
pub mod leave;
pub mod media;
pub mod ops;
pub mod queue;
pub mod rating;
pub mod ready;
pub mod sessions;
pub mod sms;
pub mod status;
