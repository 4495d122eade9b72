//! flexdesk-core: the chat logic of one customer's chat with a Twilio Flex agent, with no I/O.
//!
//! [`Session`] is a state machine in the style of quinn-proto or rustls: the shell (the wasm desk in the
//! browser, or a test) feeds it [`Event`]s and carries out the [`Effect`]s it returns, each addressed to one
//! target: the auth server ([`AuthCall`]), the Conversations client ([`ClientCall`]), the web chat ([`WebCall`]), the
//! customer's other tabs ([`TabCall`]), a timer, or the saved state. Nothing here touches the network, a clock or JavaScript, so every rule is tested natively.
//!
//! [`wire`] holds the JSON bodies exchanged between the desk and the auth server, so both sides share one
//! definition; [`handoff`] reads what the web chat hands over at `startChat`.

#![deny(missing_docs)]

pub mod handoff;
pub mod media;
pub mod phone;
pub mod session;
pub mod texts;
pub mod wire;

pub use session::{
    Agent, AgentItem, AuthCall, AuthFailure, ChosenFile, ClientCall, ConnState, Content, EndedBy, Effect, ErrorStatus, Event, Media, Outcome,
    Participant, PersistedState, Phase, Save, Session, SessionTicket, TabCall, Timer, WebCall,
};
