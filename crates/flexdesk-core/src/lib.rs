//! flexdesk-core: the chat logic of one customer's chat with a Twilio Flex agent, with no I/O.
//!
//! [`Session`] is a state machine in the style of quinn-proto or rustls: the shell (the wasm desk in the
//! browser, or a test) feeds it [`Event`]s and carries out the [`Effect`]s it returns. Nothing here touches
//! the network, a clock or JavaScript, so every rule is tested natively.
//!
//! [`wire`] holds the JSON bodies exchanged between the desk and the auth server, so both sides share one
//! definition.

pub mod handoff;
pub mod media;
pub mod session;
pub mod wire;

pub use session::{Agent, Content, Effect, ErrorStatus, Event, PersistedState, Phase, Session};
