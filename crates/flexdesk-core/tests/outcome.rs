//! How a chat with an agent ended ([`WebCall::Outcome`], the page's `onChatEnd`): told exactly once per chat, whichever
//! way it ends, with who ended it, the last agent and whether an agent ever joined.

mod common;
use common::*;
use flexdesk_core::session::MAX_REJOINS;
use flexdesk_core::wire::CreateSessionRequest;
use flexdesk_core::{Effect, EndedBy, Event, Outcome, Session, SessionTicket, Timer, WebCall};

fn outcomes(effects: Vec<Effect>) -> Vec<Outcome> {
    effects
        .into_iter()
        .filter_map(|e| match e {
            Effect::Web(WebCall::Outcome(o)) => Some(o),
            _ => None,
        })
        .collect()
}

/// Feeds `events` and returns every outcome told meanwhile.
fn run(s: &mut Session, events: impl IntoIterator<Item = Event>) -> Vec<Outcome> {
    events.into_iter().flat_map(|e| outcomes(s.handle(e))).collect()
}

fn with_alice(ended_by: EndedBy) -> Outcome {
    Outcome { ended_by, agent: Some(agent("alice")), agent_joined: true, ticket: Some(ticket()) }
}

/// A chat that had a session but no agent: its conversation exists at Twilio, so it carries the ticket (issue 28).
fn no_agent(ended_by: EndedBy) -> Outcome {
    Outcome { ended_by, agent: None, agent_joined: false, ticket: Some(ticket()) }
}

/// A chat that ended before the auth server created its session: nothing to rate or erase.
fn no_session(ended_by: EndedBy) -> Outcome {
    Outcome { ended_by, agent: None, agent_joined: false, ticket: None }
}

/// The session the common helpers start (`sess-1`, `cred-1`): what a rating or an erasure of it is sent with.
fn ticket() -> SessionTicket {
    SessionTicket { session_id: "sess-1".into(), credential: "cred-1".into() }
}

fn start() -> Event {
    Event::StartRequested(CreateSessionRequest { customer_name: "Ada".into(), ..Default::default() })
}

/// Whatever may still arrive after the end: none of it tells a second outcome.
fn afterwards() -> Vec<Event> {
    vec![
        Event::EndRequested,
        Event::ConversationClosed,
        Event::ClientFailed { message: "x".into() },
        Event::JoinFailed { message: "x".into() },
        Event::TokenRefused(refused()),
        Event::SessionRefused(refused()),
        Event::TimerDue(Timer::Join(1)),
        agent_msg(9, "alice", "late"),
    ]
}

#[test]
fn the_agent_ends_the_chat() {
    let mut s = chatting();
    assert_eq!(outcomes(s.handle(Event::ConversationClosed)), vec![with_alice(EndedBy::Agent)]);
    // Carbon's `doEndChat` then calls the desk's `endChat`: not a second end.
    assert_eq!(run(&mut s, afterwards()), vec![]);
}

#[test]
fn the_outcome_comes_after_the_web_chat_was_told() {
    let fx = chatting().handle(Event::ConversationClosed);
    let ended = fx.iter().position(|e| *e == Effect::Web(WebCall::ChatEnded)).unwrap();
    let told = fx.iter().position(|e| matches!(e, Effect::Web(WebCall::Outcome(_)))).unwrap();
    assert!(ended < told, "{fx:?}");
}

#[test]
fn the_customer_ends_the_chat_with_an_agent() {
    let mut s = chatting();
    assert_eq!(outcomes(s.handle(Event::EndRequested)), vec![with_alice(EndedBy::Customer)]);
    assert_eq!(run(&mut s, afterwards()), vec![]);
}

#[test]
fn the_customer_ends_while_waiting_for_an_agent() {
    let mut s = waiting();
    assert_eq!(outcomes(s.handle(Event::EndRequested)), vec![no_agent(EndedBy::Customer)]);
    assert_eq!(run(&mut s, afterwards()), vec![]);
}

#[test]
fn the_customer_ends_while_the_chat_is_being_created() {
    let mut s = starting();
    assert_eq!(outcomes(s.handle(Event::EndRequested)), vec![no_session(EndedBy::Customer)]);
    // The session arrives and is ended at once: the same chat, no second outcome.
    assert_eq!(run(&mut s, [Event::SessionCreated(created())]), vec![]);
    assert!(s.is_ended());
}

#[test]
fn a_chat_asked_for_again_while_the_cancelled_one_is_created_has_its_own_outcome() {
    let mut s = starting();
    assert_eq!(run(&mut s, [Event::EndRequested, start(), Event::EndRequested]), vec![no_session(EndedBy::Customer); 2]);
    assert_eq!(run(&mut s, [Event::SessionCreated(created())]), vec![]);
}

#[test]
fn closed_before_an_agent_joined() {
    let mut s = waiting();
    assert_eq!(outcomes(s.handle(Event::ConversationClosed)), vec![no_agent(EndedBy::ClosedBeforeAgent)]);
    assert_eq!(run(&mut s, afterwards()), vec![]);
}

#[test]
fn the_auth_server_refuses_the_chat() {
    let mut s = starting();
    assert_eq!(outcomes(s.handle(Event::SessionRefused(refused()))), vec![no_session(EndedBy::Failure)]);
    assert_eq!(run(&mut s, afterwards()), vec![]);
}

#[test]
fn joins_that_keep_timing_out_are_given_up_once() {
    let mut s = joining();
    let mut told = Vec::new();
    for n in 1..=MAX_REJOINS + 1 {
        told.extend(run(&mut s, [Event::TimerDue(Timer::Join(n)), Event::TokenRefreshed(token("t"))]));
    }
    assert!(s.is_ended());
    assert_eq!(told, vec![no_agent(EndedBy::Failure)]);
}

#[test]
fn a_client_that_keeps_failing_after_an_agent_joined_is_a_failure_with_the_agent() {
    let mut s = chatting();
    let mut told = Vec::new();
    for _ in 0..=MAX_REJOINS {
        told.extend(run(&mut s, [
            Event::ClientFailed { message: "x".into() },
            Event::TokenRefreshed(token("t")),
            Event::JoinFailed { message: "x".into() },
        ]));
    }
    assert!(s.is_ended());
    assert_eq!(told, vec![with_alice(EndedBy::Failure)]);
}

#[test]
fn a_refresh_refused_for_good_is_a_failure() {
    let mut s = chatting();
    assert_eq!(run(&mut s, [Event::TokenAboutToExpire, Event::TokenRefused(refused())]), vec![with_alice(EndedBy::Failure)]);
}

#[test]
fn the_outcome_names_the_last_agent_after_a_transfer() {
    let mut s = chatting();
    // Warm transfer: Bob joins, Alice leaves; Bob ends.
    s.handle(Event::ParticipantJoined(participant("bob")));
    s.handle(Event::ParticipantLeft(participant("alice")));
    let bob = Outcome { ended_by: EndedBy::Agent, agent: Some(agent("bob")), agent_joined: true, ticket: Some(ticket()) };
    assert_eq!(outcomes(s.handle(Event::ConversationClosed)), vec![bob]);
}

#[test]
fn after_a_cold_transfer_the_agent_who_left_is_named() {
    let mut s = chatting();
    s.handle(Event::ParticipantLeft(participant("alice")));
    assert_eq!(s.current_agent(), None);
    assert_eq!(outcomes(s.handle(Event::EndRequested)), vec![with_alice(EndedBy::Customer)]);
}

#[test]
fn an_ended_chat_then_a_new_chat_tells_a_second_outcome() {
    let mut s = chatting();
    assert_eq!(outcomes(s.handle(Event::ConversationClosed)), vec![with_alice(EndedBy::Agent)]);
    // The customer is back with the bot and asks again: the second chat ends before an agent joins.
    let second = run(&mut s, [start(), Event::SessionCreated(created()), Event::ConversationJoined, Event::EndRequested]);
    assert_eq!(second, vec![no_agent(EndedBy::Customer)], "the first chat's agent is not carried over");
    // And a third, with an agent again.
    let third = run(&mut s, [
        start(),
        Event::SessionCreated(created()),
        Event::ConversationJoined,
        Event::ParticipantJoined(participant("alice")),
        Event::ConversationClosed,
    ]);
    assert_eq!(third, vec![with_alice(EndedBy::Agent)]);
}

#[test]
fn a_resumed_chat_ended_by_the_agent_names_the_saved_agent() {
    let saved = chatting().saved_state().unwrap();
    let mut s = Session::new();
    let told = run(&mut s, [Event::Resume(saved), Event::TokenRefreshed(token("t2")), Event::ConversationJoined, Event::ConversationClosed]);
    assert_eq!(told, vec![with_alice(EndedBy::Agent)]);
}

#[test]
fn a_chat_going_on_has_no_outcome() {
    let mut s = Session::new();
    let told = run(&mut s, [
        start(),
        Event::SessionCreated(created()),
        Event::ConversationJoined,
        Event::ParticipantJoined(participant("alice")),
        agent_msg(1, "alice", "hi"),
        user_msg("m1"),
        Event::ClientFailed { message: "x".into() },
        Event::TokenRefreshed(token("t")),
        Event::ConversationJoined,
    ]);
    assert_eq!(told, vec![]);
}

mod random {
    //! Over random event sequences: never two outcomes for one chat, and every chat that ends has told one.
    use super::*;
    use flexdesk_core::{AuthFailure, Phase};
    use proptest::prelude::*;

    fn event() -> impl Strategy<Value = Event> {
        let who = prop_oneof![Just("alice"), Just("bob")];
        prop_oneof![
            2 => Just(start()),
            2 => Just(Event::SessionCreated(created())),
            1 => Just(Event::SessionRefused(refused())),
            2 => Just(Event::ConversationJoined),
            1 => Just(Event::JoinFailed { message: "x".into() }),
            1 => Just(Event::ClientFailed { message: "x".into() }),
            1 => (1u32..6).prop_map(|n| Event::TimerDue(Timer::Join(n))),
            2 => who.clone().prop_map(|a| Event::ParticipantJoined(participant(a))),
            1 => who.prop_map(|a| Event::ParticipantLeft(participant(a))),
            1 => Just(Event::TokenAboutToExpire),
            2 => Just(Event::TokenRefreshed(token("t"))),
            1 => Just(Event::TokenRefused(refused())),
            1 => Just(Event::TokenRefused(AuthFailure { status: 503, code: None, retry_after_secs: None })),
            1 => Just(user_msg("m")),
            1 => Just(Event::EndRequested),
            1 => Just(Event::ConversationClosed),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

        #[test]
        fn one_outcome_per_chat(events in prop::collection::vec(event(), 0..60)) {
            let mut s = Session::new();
            let mut told = 0;
            for e in events {
                let before = s.phase();
                // A start is a new chat when nothing runs, or when the running one was already ended by the customer
                // while it was being created (it is then started once that one is gone).
                if matches!(e, Event::StartRequested(_)) && (matches!(before, Phase::Idle | Phase::Ended) || (before == Phase::Starting && told > 0)) {
                    told = 0;
                }
                told += outcomes(s.handle(e.clone())).len();
                prop_assert!(told <= 1, "a second outcome for one chat, at {:?}", e);
                if s.is_ended() && before != Phase::Ended && before != Phase::Idle {
                    prop_assert_eq!(told, 1, "the chat ended at {:?} without an outcome", e);
                }
            }
        }
    }
}

/// Issue 28: the outcome carries what rates and erases the chat (its own session's id and credential) whenever the chat
/// had a session: one that never reached an agent has nobody to rate (`agent_joined` says so) but a conversation at
/// Twilio holding the customer's messages, which an erasure must reach; a later chat has its own session's.
#[test]
fn every_chat_with_a_session_carries_its_own_ticket_agent_or_not() {
    let mut s = chatting();
    let first = outcomes(s.handle(Event::ConversationClosed));
    assert_eq!((first[0].agent_joined, first[0].ticket.clone()), (true, Some(ticket())));
    let waiting = run(&mut s, [start(), Event::SessionCreated(created()), Event::ConversationJoined, Event::EndRequested]);
    assert_eq!((waiting[0].agent_joined, waiting[0].ticket.clone()), (false, Some(ticket())), "no agent, but a conversation to erase");
    let second = flexdesk_core::wire::SessionCreated { session_id: "sess-2".into(), session_credential: "cred-2".into(), ..created() };
    let rated = run(&mut s, [
        start(),
        Event::SessionCreated(second),
        Event::ConversationJoined,
        Event::ParticipantJoined(participant("alice")),
        Event::EndRequested,
    ]);
    assert_eq!(rated[0].ticket, Some(SessionTicket { session_id: "sess-2".into(), credential: "cred-2".into() }));
    // Ended before the session existed: no ticket (the page's `erase()` answers `no_chat`).
    let mut s = starting();
    assert_eq!(outcomes(s.handle(Event::EndRequested))[0].ticket, None);
}
