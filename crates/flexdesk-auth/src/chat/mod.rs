//! The chat rules: who may start a chat and with what (engagement, verification hook, names), the session
//! credential and the open sessions (here and across replicas), queue positions and availability, and the errors
//! the API answers with. Depends on `twilio` and `infra`, never on `http`.

pub mod abandon;
pub mod availability;
pub mod credential;
pub mod engagement;
pub mod media_link;
pub mod error;
pub mod figures;
pub mod names;
pub mod queue;
pub mod rating;
pub mod replicas;
pub mod sessions;
pub mod single_use;
pub mod verify;
pub mod webhooks;
