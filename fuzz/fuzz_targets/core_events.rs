//! The core's event stream: `flexdesk_core::Session::handle` over arbitrary event sequences. The events come
//! from outside (Twilio's realtime stream, the auth server, the web chat), in any order, repeated or late.
//! Bytes become events through `arbitrary`, over small value domains so ids and indexes collide often.
//! Properties: no panic; nothing is emitted after the end (until a new start); one user message in flight at
//! a time; an agent message index is shown at most once; the persisted state survives a JSON round trip.
#![no_main]

use std::collections::BTreeSet;

use arbitrary::Arbitrary;
use flexdesk_core::session::Outgoing;
use flexdesk_core::wire::{CreateSessionRequest, SessionCreated, TokenRefreshed};
use flexdesk_core::{Agent, AuthFailure, ClientCall, ConnState, Content, Effect, Event, Media, Participant, PersistedState, Session, Timer, WebCall};
use libfuzzer_sys::fuzz_target;

const ME: &str = "customer-1";

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Who {
    Me,
    Alice,
    Bob,
}

impl Who {
    fn id(self) -> &'static str {
        match self {
            Who::Me => ME,
            Who::Alice => "alice",
            Who::Bob => "bob",
        }
    }
}

#[derive(Arbitrary, Debug)]
enum FuzzEvent {
    Start,
    Created,
    Refused,
    Adopt { last_shown: Option<u8>, outbox: Vec<u8>, agent: Option<Who> },
    TakenElsewhere(bool),
    Found { connected: bool },
    Checked(Option<u16>),
    Resume { last_shown: Option<u8>, outbox: Vec<u8>, agent: Option<Who>, connected: bool },
    Joined,
    JoinFailed,
    AgentJoined(Who),
    AgentLeft(Who),
    Message { index: u8, author: Who, client_id: Option<u8>, media: u8, body: bool },
    AgentTyping(Who, bool),
    AgentRead(Who, u8),
    UserMessage { id: u8, text: String },
    UserFile { id: u8, name: String, size: u64 },
    Sent { id: u8, index: u8 },
    Failed { id: u8, status: Option<u16> },
    RetryDue,
    TypingDue,
    JoinTimeout(u8),
    RefreshDue,
    QueueDue,
    QueueRead(Option<u8>),
    PositionRead(Option<(bool, Option<u8>)>),
    Connection(u8),
    UserTyping(bool),
    UserRead,
    AboutToExpire,
    Expired,
    TokenRefreshed,
    TokenRefused,
    EndRequested,
    Closed,
}

fn agent(w: Who) -> Agent {
    Agent { id: w.id().into(), name: format!("Agent {}", w.id()), avatar: None }
}

fn participant(w: Who) -> Participant {
    Participant { identity: w.id().into(), member_type: None, friendly_name: Some(format!("Agent {}", w.id())), avatar: None }
}

fn saved(last_shown: Option<u8>, outbox: Vec<u8>, a: Option<Who>, connected: bool) -> PersistedState {
    PersistedState {
        session_id: "s1".into(),
        credential: "c1".into(),
        conversation_sid: "CH1".into(),
        identity: ME.into(),
        connected: connected || a.is_some(),
        agent: a.map(agent),
        last_shown: last_shown.map(|i| u64::from(i % 32)),
        outbox: outbox.into_iter().take(4).map(|n| Outgoing::Text { id: uid(n), text: "queued".into() }).collect(),
        media_link_query: None,
    }
}

fn uid(n: u8) -> String {
    format!("u{}", n % 6)
}

fn to_event(e: FuzzEvent) -> Event {
    match e {
        FuzzEvent::Start => Event::StartRequested(CreateSessionRequest { customer_name: "Ada".into(), ..Default::default() }),
        FuzzEvent::Created => Event::SessionCreated(SessionCreated {
            session_id: "s1".into(),
            conversation_sid: "CH1".into(),
            identity: ME.into(),
            token: "t1".into(),
            token_expires_at: 100,
            session_credential: "c1".into(),
            dropped_pre_engagement_keys: Vec::new(),
            media_link_query: Some("conversation=CH1&expires=9&signature=s".into()),
        }),
        FuzzEvent::Refused => Event::SessionRefused(AuthFailure { status: 503, code: Some("twilio_busy".into()), retry_after_secs: Some(5) }),
        FuzzEvent::Adopt { last_shown, outbox, agent: a } => {
            let chat = saved(last_shown, outbox, a, false);
            Event::Adopt { this_tab: Some(chat.clone()), chat }
        }
        FuzzEvent::TakenElsewhere(this_chat) => Event::TakenElsewhere { session_id: if this_chat { "s1" } else { "s2" }.into() },
        FuzzEvent::Found { connected } => Event::ChatFound { chat: saved(None, Vec::new(), None, false), connected },
        FuzzEvent::Checked(status) => Event::ChatChecked(status.map(|status| AuthFailure { status, code: None, retry_after_secs: None })),
        FuzzEvent::Resume { last_shown, outbox, agent: a, connected } => Event::Resume(saved(last_shown, outbox, a, connected)),
        FuzzEvent::Joined => Event::ConversationJoined,
        FuzzEvent::JoinFailed => Event::JoinFailed { message: "no".into() },
        FuzzEvent::AgentJoined(w) => Event::ParticipantJoined(participant(w)),
        FuzzEvent::AgentLeft(w) => Event::ParticipantLeft(participant(w)),
        FuzzEvent::Message { index, author, client_id, media, body } => Event::Message {
            index: u64::from(index % 32),
            author: author.id().into(),
            client_id: client_id.map(uid),
            handoff: None,
            content: Content {
                body: body.then(|| "hi".into()),
                media: (0..media % 3)
                    .map(|_| Media { sid: "ME00000000000000000000000000000001".into(), filename: "a.png".into(), content_type: "image/png".into(), url: "http://x".into() })
                    .collect(),
            },
        },
        FuzzEvent::AgentTyping(w, t) => Event::AgentTyping { agent_id: w.id().into(), typing: t },
        FuzzEvent::AgentRead(w, i) => Event::AgentRead { agent_id: w.id().into(), index: u64::from(i % 32) },
        FuzzEvent::UserMessage { id, text } => Event::UserMessage { id: uid(id), text },
        FuzzEvent::UserFile { id, name, size } => Event::UserFile { id: uid(id), name, size },
        FuzzEvent::Sent { id, index } => Event::MessageSent { id: uid(id), index: Some(u64::from(index % 32)) },
        FuzzEvent::Failed { id, status } => Event::MessageFailed { id: uid(id), status },
        FuzzEvent::RetryDue => Event::TimerDue(Timer::Retry),
        FuzzEvent::TypingDue => Event::TimerDue(Timer::Typing),
        FuzzEvent::JoinTimeout(n) => Event::TimerDue(Timer::Join(u32::from(n % 4))),
        FuzzEvent::RefreshDue => Event::TimerDue(Timer::Refresh),
        FuzzEvent::QueueDue => Event::TimerDue(Timer::Queue),
        FuzzEvent::QueueRead(n) => Event::QueueRead(n.map(|n| flexdesk_core::wire::Availability {
            agents_available: 0,
            tasks_waiting: u32::from(n),
            longest_wait_seconds: 1,
        })),
        FuzzEvent::PositionRead(p) => Event::QueuePositionRead(p.map(|(waiting, position)| flexdesk_core::wire::QueuePosition {
            waiting,
            position: position.map(u32::from),
            estimated_wait_seconds: None,
        })),
        FuzzEvent::Connection(n) => Event::Connection(
            [ConnState::Connecting, ConnState::Connected, ConnState::Disconnecting, ConnState::Disconnected, ConnState::Denied]
                [usize::from(n % 5)],
        ),
        FuzzEvent::UserTyping(t) => Event::UserTyping(t),
        FuzzEvent::UserRead => Event::UserRead,
        FuzzEvent::AboutToExpire => Event::TokenAboutToExpire,
        FuzzEvent::Expired => Event::TokenExpired,
        FuzzEvent::TokenRefreshed => Event::TokenRefreshed(TokenRefreshed { token: "t2".into(), token_expires_at: 200 }),
        FuzzEvent::TokenRefused => Event::TokenRefused(AuthFailure { status: 404, code: Some("session_ended".into()), retry_after_secs: None }),
        FuzzEvent::EndRequested => Event::EndRequested,
        FuzzEvent::Closed => Event::ConversationClosed,
    }
}

fuzz_target!(|events: Vec<FuzzEvent>| {
    let mut s = Session::new();
    let mut in_flight: Option<String> = None;
    let mut shown: BTreeSet<u64> = BTreeSet::new();
    for fe in events.into_iter().take(200) {
        // The shell hears conversation messages only once it knows the conversation (after SessionCreated or
        // Resume); before that (Starting) the core cannot tell the customer's own messages from an agent's.
        if matches!(fe, FuzzEvent::Message { .. }) && s.identity().is_none() {
            continue;
        }
        // A start after a cancelled one is held until that one answers; Adopt and Resume start from a saved chat.
        let restart = matches!(fe, FuzzEvent::Start | FuzzEvent::Resume { .. } | FuzzEvent::Adopt { .. } | FuzzEvent::Created | FuzzEvent::Refused);
        let event = to_event(fe);
        let was_ended = s.is_ended();
        // What the event itself resolves, as the shell sees it.
        let (msg_index, resolves): (Option<u64>, Option<String>) = match &event {
            Event::Message { index, author, client_id, .. } if author != ME => (Some(*index), None),
            Event::Message { client_id, .. } => (None, client_id.clone()),
            Event::MessageSent { id, .. } | Event::MessageFailed { id, .. } => (None, Some(id.clone())),
            _ => (None, None),
        };
        if let Event::Resume(p) | Event::Adopt { chat: p, .. } = &event {
            if was_ended || s.phase() == flexdesk_core::Phase::Idle {
                shown = p.last_shown.map(|l| (0..=l).collect()).unwrap_or_default();
            }
        }
        let effects = s.handle(event);
        if was_ended && !restart {
            assert!(effects.is_empty(), "effects after the end: {effects:?}");
        }
        if restart && !effects.is_empty() {
            in_flight = None;
            if !effects.iter().any(|e| matches!(e, Effect::Auth(flexdesk_core::AuthCall::RefreshToken { .. }))) {
                shown.clear();
            }
        }
        if resolves.is_some() && resolves == in_flight {
            in_flight = None;
        }
        for e in &effects {
            match e {
                Effect::Client(ClientCall::SendMessage { id, .. } | ClientCall::SendFile { id }) => {
                    assert!(in_flight.is_none(), "{id} handed out while {in_flight:?} is in flight");
                    in_flight = Some(id.clone());
                }
                Effect::Web(WebCall::ShowAgentMessage { .. }) => {
                    let index = msg_index.expect("an agent message is shown only for an agent message event");
                    assert!(shown.insert(index), "agent message {index} shown twice");
                }
                Effect::Persist => {
                    if let Some(state) = s.saved_state() {
                        let json = serde_json::to_string(&state).unwrap();
                        assert_eq!(serde_json::from_str::<PersistedState>(&json).unwrap(), state);
                    }
                }
                _ => {}
            }
        }
    }
});
