//! Property tests over random event sequences: the session's rules hold whatever the order of events.
//!
//! A small simulated shell plays Twilio: it remembers which message the session handed out, and the random
//! script decides when that delivery succeeds, fails, or the connection drops.

mod common;
use common::*;
use flexdesk_core::{ChosenFile, ClientCall, ConnState, Effect, Event, Phase, Session, Timer, WebCall};
use proptest::prelude::*;
use std::collections::BTreeSet;

#[derive(Debug, Clone)]
enum Step {
    User,
    Join,
    Deliver,
    FailRetryable,
    FailFinal,
    RetryDue,
    Lost,
    Restored,
    AgentMsg(u8),
    AgentJoins(u8),
    AgentLeaves(u8),
    AgentRead(u8),
    Typing(bool),
    Read,
    Expire,
    Refreshed,
    Refused,
    UserEnds,
    AgentEnds,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => Just(Step::User),
        1 => Just(Step::Join),
        4 => Just(Step::Deliver),
        1 => Just(Step::FailRetryable),
        1 => Just(Step::FailFinal),
        1 => Just(Step::RetryDue),
        1 => Just(Step::Lost),
        1 => Just(Step::Restored),
        3 => (0u8..20).prop_map(Step::AgentMsg),
        1 => (0u8..3).prop_map(Step::AgentJoins),
        1 => (0u8..3).prop_map(Step::AgentLeaves),
        1 => (0u8..20).prop_map(Step::AgentRead),
        1 => any::<bool>().prop_map(Step::Typing),
        1 => Just(Step::Read),
        1 => Just(Step::Expire),
        1 => Just(Step::Refreshed),
        1 => Just(Step::Refused),
        1 => Just(Step::UserEnds),
        1 => Just(Step::AgentEnds),
    ]
}

/// The simulated shell and what it observed.
#[derive(Default)]
struct World {
    next_user: u32,
    accepted: Vec<String>,
    refused: BTreeSet<String>,
    in_flight: Option<String>,
    delivered: Vec<String>,
    shown: Vec<u64>,
    next_index: u64,
    joined_seen: bool,
    ended: bool,
    effects_after_end: usize,
    sent_before_join: bool,
}

impl World {
    fn apply(&mut self, s: &mut Session, e: Event) {
        let was_ended = s.is_ended();
        let fx = s.handle(e);
        if was_ended {
            self.effects_after_end += fx.len();
        }
        for f in fx {
            match f {
                Effect::Client(ClientCall::SendMessage { id, .. }) | Effect::Client(ClientCall::SendFile { id }) => {
                    if !self.joined_seen {
                        self.sent_before_join = true;
                    }
                    assert!(self.in_flight.is_none(), "two messages in flight at once");
                    self.in_flight = Some(id);
                }
                Effect::Web(WebCall::ShowAgentMessage { .. }) => {}
                Effect::Web(WebCall::SetError(flexdesk_core::ErrorStatus::UserMessage { id })) => {
                    self.refused.insert(id);
                }
                Effect::Client(ClientCall::Close) => self.in_flight = None,
                _ => {}
            }
        }
        self.ended |= s.is_ended();
    }

    fn run(&mut self, s: &mut Session, step: Step) {
        if self.ended {
            // After the end the shell may still receive late events: all must be ignored.
            let late = [agent_msg(999, "late", "x"), user_msg("late"), Event::ConversationClosed, Event::TokenAboutToExpire];
            for e in late {
                self.apply(s, e);
            }
            return;
        }
        match step {
            Step::User => {
                let id = format!("u{}", self.next_user);
                self.next_user += 1;
                self.accepted.push(id.clone());
                self.apply(s, Event::UserMessage { id: id.clone(), text: format!("text of {id}") });
            }
            Step::Join => {
                if s.phase() == Phase::Joining {
                    self.joined_seen = true;
                    self.apply(s, Event::ConversationJoined);
                    // The shell syncs after every join and says when it is done.
                    self.apply(s, Event::Synced);
                }
            }
            Step::Deliver => {
                if let Some(id) = self.in_flight.take() {
                    self.delivered.push(id.clone());
                    self.next_index += 1;
                    self.apply(s, Event::MessageSent { id, index: Some(self.next_index) });
                }
            }
            Step::FailRetryable => {
                if let Some(id) = self.in_flight.take() {
                    self.apply(s, Event::MessageFailed { id, status: None });
                }
            }
            Step::FailFinal => {
                if let Some(id) = self.in_flight.take() {
                    self.apply(s, Event::MessageFailed { id, status: Some(400) });
                }
            }
            Step::RetryDue => self.apply(s, Event::TimerDue(Timer::Retry)),
            Step::Lost => self.apply(s, Event::Connection(ConnState::Disconnected)),
            Step::Restored => self.apply(s, Event::Connection(ConnState::Connected)),
            Step::AgentMsg(i) => {
                let before = s.saved_state().and_then(|p| p.last_shown);
                let fx_index = u64::from(i);
                let was_ended = s.is_ended();
                let fx = s.handle(agent_msg(fx_index, "alice", "hello"));
                if was_ended {
                    self.effects_after_end += fx.len();
                }
                if fx.iter().any(|f| matches!(f, Effect::Web(WebCall::ShowAgentMessage { .. }))) {
                    self.shown.push(fx_index);
                }
                let _ = before;
            }
            Step::AgentJoins(a) => self.apply(s, Event::ParticipantJoined(participant(&format!("a{a}")))),
            Step::AgentLeaves(a) => self.apply(s, Event::ParticipantLeft(participant(&format!("a{a}")))),
            Step::AgentRead(i) => self.apply(s, Event::AgentRead { agent_id: "a0".into(), index: u64::from(i) }),
            Step::Typing(t) => self.apply(s, Event::UserTyping(t)),
            Step::Read => self.apply(s, Event::UserRead),
            Step::Expire => self.apply(s, Event::TokenAboutToExpire),
            Step::Refreshed => self.apply(s, Event::TokenRefreshed(token("t"))),
            Step::Refused => self.apply(s, Event::TokenRefused(refused())),
            Step::UserEnds => self.apply(s, Event::EndRequested),
            Step::AgentEnds => self.apply(s, Event::ConversationClosed),
        }
    }

    /// Lets the world calm down: joined, connected, every delivery succeeds.
    fn settle(&mut self, s: &mut Session) {
        if self.ended {
            return;
        }
        self.run(s, Step::Join);
        self.apply(s, Event::Connection(ConnState::Connected));
        for _ in 0..(self.accepted.len() * 2 + 2) {
            self.apply(s, Event::TimerDue(Timer::Retry));
            self.run(s, Step::Deliver);
        }
    }
}

fn run_script(steps: Vec<Step>) -> (Session, World) {
    let mut s = joining();
    let mut w = World::default();
    for st in steps {
        w.run(&mut s, st);
    }
    w.settle(&mut s);
    (s, w)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    /// Queued user messages go out exactly once, in order, and never before the conversation is joined.
    #[test]
    fn user_messages_are_delivered_once_in_order(steps in prop::collection::vec(step(), 0..80)) {
        let (_s, w) = run_script(steps);
        prop_assert!(!w.sent_before_join, "a message was handed out before the conversation was joined");
        let mut seen = BTreeSet::new();
        for id in &w.delivered {
            prop_assert!(seen.insert(id.clone()), "{id} delivered twice");
        }
        // Delivered ids keep the order in which the user sent them.
        let order: Vec<usize> = w.delivered.iter().map(|d| w.accepted.iter().position(|a| a == d).unwrap()).collect();
        prop_assert!(order.windows(2).all(|p| p[0] < p[1]), "out of order: {:?}", w.delivered);
        if !w.ended {
            // Nothing lost: every message not refused with an error was delivered.
            let expected: Vec<&String> = w.accepted.iter().filter(|a| !w.refused.contains(*a)).collect();
            let got: Vec<&String> = w.delivered.iter().collect();
            prop_assert_eq!(got, expected);
        }
    }

    /// After the chat ended nothing is emitted, whatever arrives late.
    #[test]
    fn nothing_is_emitted_after_the_end(steps in prop::collection::vec(step(), 0..80)) {
        let (_s, w) = run_script(steps);
        prop_assert_eq!(w.effects_after_end, 0);
    }

    /// An agent message index is shown at most once, however often it is replayed.
    #[test]
    fn agent_messages_are_shown_once(steps in prop::collection::vec(step(), 0..120)) {
        let (_s, w) = run_script(steps);
        let unique: BTreeSet<_> = w.shown.iter().collect();
        prop_assert_eq!(unique.len(), w.shown.len(), "shown twice: {:?}", w.shown);
    }

    /// Any event in any state: no panic (the simulated world stops being polite here).
    #[test]
    fn never_panics(events in prop::collection::vec(any_event(), 0..60)) {
        let mut s = Session::new();
        for e in events {
            let _ = s.handle(e);
        }
    }
}

fn any_event() -> impl Strategy<Value = Event> {
    let id = prop_oneof![Just("a".to_string()), Just("b".to_string()), Just(ME.to_string())];
    prop_oneof![
        Just(Event::StartRequested(Default::default())),
        Just(Event::SessionCreated(created())),
        Just(Event::SessionRefused(refused())),
        Just(Event::ConversationJoined),
        Just(Event::JoinFailed { message: "x".into() }),
        Just(Event::ClientFailed { message: "x".into() }),
        id.clone().prop_map(|a| Event::ParticipantJoined(participant(&a))),
        id.clone().prop_map(|a| Event::ParticipantLeft(participant(&a))),
        (any::<u64>(), id.clone(), proptest::option::of(id.clone())).prop_map(|(index, author, client_id)| Event::Message {
            index, author, client_id, handoff: None, content: text("t")
        }),
        (id.clone(), any::<bool>()).prop_map(|(agent_id, typing)| Event::AgentTyping { agent_id, typing }),
        (id.clone(), any::<u64>()).prop_map(|(agent_id, index)| Event::AgentRead { agent_id, index }),
        (id.clone(), ".{0,40}").prop_map(|(id, text)| Event::UserMessage { id, text }),
        (id.clone(), ".{0,12}", any::<u64>()).prop_map(|(id, name, size)| Event::UserFile { id, name, size }),
        (id.clone(), proptest::option::of(any::<u64>())).prop_map(|(id, index)| Event::MessageSent { id, index }),
        (id.clone(), proptest::option::of(any::<u16>())).prop_map(|(id, status)| Event::MessageFailed { id, status }),
        any::<bool>().prop_map(Event::UserTyping),
        Just(Event::UserRead),
        Just(Event::Connection(ConnState::Disconnected)),
        Just(Event::Connection(ConnState::Connected)),
        Just(Event::TimerDue(Timer::Retry)),
        Just(Event::TimerDue(Timer::Typing)),
        Just(Event::TokenAboutToExpire),
        Just(Event::TokenExpired),
        (id.clone(), ".{0,12}", any::<u64>()).prop_map(|(id, name, size)| Event::FilesSelected(vec![ChosenFile { id, name, size }])),
        Just(Event::TokenRefreshed(token("t"))),
        Just(Event::TokenRefused(refused())),
        Just(Event::EndRequested),
        Just(Event::ConversationClosed),
        Just(Event::Resume(chatting().saved_state().unwrap())),
        Just(Event::Adopt { chat: chatting().saved_state().unwrap(), this_tab: None }),
        Just(Event::TakenElsewhere { session_id: "sess-1".into() }),
        Just(Event::ChatFound { chat: chatting().saved_state().unwrap(), connected: false }),
        Just(Event::ChatChecked(None)),
        Just(Event::ChatChecked(Some(refused()))),
    ]
}
