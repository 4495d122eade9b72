//! Helpers shared by the session tests: a session driven to a given phase.
#![allow(dead_code)]

use flexdesk_core::wire::{CreateSessionRequest, SessionCreated, TokenRefreshed};
use flexdesk_core::{Agent, AuthFailure, Content, Effect, Event, Participant, Session, ClientCall};

pub const ME: &str = "customer-1";

pub fn created() -> SessionCreated {
    SessionCreated {
        session_id: "sess-1".into(),
        conversation_sid: "CH1".into(),
        identity: ME.into(),
        token: "tok-1".into(),
        token_expires_at: 100,
        session_credential: "cred-1".into(),
        dropped_pre_engagement_keys: Vec::new(),
        media_link_query: None,
    }
}

pub fn agent(id: &str) -> Agent {
    Agent { id: id.into(), name: format!("Agent {id}"), avatar: None }
}

pub fn text(body: &str) -> Content {
    Content::text(body)
}

/// An agent participant as the shell reports it: the name from the Conversations User.
pub fn participant(id: &str) -> Participant {
    Participant { identity: id.into(), member_type: Some("agent".into()), friendly_name: Some(format!("Agent {id}")), avatar: None }
}

/// The auth server's final "no" (the session is over).
pub fn refused() -> AuthFailure {
    AuthFailure { status: 404, code: Some("session_ended".into()), retry_after_secs: None }
}

pub fn agent_msg(index: u64, author: &str, body: &str) -> Event {
    Event::Message { index, author: author.into(), client_id: None, handoff: None, content: text(body) }
}

pub fn user_msg(id: &str) -> Event {
    Event::UserMessage { id: id.into(), text: format!("text of {id}") }
}

pub fn token(t: &str) -> TokenRefreshed {
    TokenRefreshed { token: t.into(), token_expires_at: 200 }
}

pub fn starting() -> Session {
    let mut s = Session::new();
    s.handle(Event::StartRequested(CreateSessionRequest { customer_name: "Ada".into(), ..Default::default() }));
    s
}

pub fn joining() -> Session {
    let mut s = starting();
    s.handle(Event::SessionCreated(created()));
    s
}

pub fn waiting() -> Session {
    let mut s = joining();
    s.handle(Event::ConversationJoined);
    s
}

pub fn chatting() -> Session {
    let mut s = waiting();
    s.handle(Event::ParticipantJoined(participant("alice")));
    s
}

/// The effects without the Persist ones and timers, which most tests do not care about.
pub fn visible(effects: Vec<Effect>) -> Vec<Effect> {
    effects.into_iter().filter(|e| !matches!(e, Effect::Persist | Effect::Timer { .. })).collect()
}

pub fn sends(effects: &[Effect]) -> Vec<String> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Client(ClientCall::SendMessage { id, .. }) | Effect::Client(ClientCall::SendFile { id }) => Some(id.clone()),
            _ => None,
        })
        .collect()
}
