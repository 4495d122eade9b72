//! Twilio: the REST client (retries, pacing, metrics), the Flex calls that start and end a chat and read TaskRouter,
//! what Flex receives at a start (hand-off messages), and the Conversations access token. Depends only on `infra`.

pub mod client;
pub mod flex;
pub mod handoff_messages;
pub mod media;
pub mod sms;
pub mod task_attributes;
pub mod token;
