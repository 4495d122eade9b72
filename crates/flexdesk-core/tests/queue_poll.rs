//! Issue 17: the queue position is read again every `queuePollMs` (the desk option) while waiting, across chats.

mod common;
use common::*;
use flexdesk_core::session::QUEUE_POLL_MS;
use flexdesk_core::wire::{CreateSessionRequest, QueuePosition};
use flexdesk_core::{Effect, Event, Session, Timer};

fn position(p: u32) -> Event {
    Event::QueuePositionRead(Some(QueuePosition { waiting: true, position: Some(p), estimated_wait_seconds: None }))
}

fn waiting_in(mut s: Session) -> Session {
    s.handle(Event::StartRequested(CreateSessionRequest { customer_name: "Ada".into(), ..Default::default() }));
    s.handle(Event::SessionCreated(created()));
    s.handle(Event::ConversationJoined);
    s
}

fn poll_delay(fx: &[Effect]) -> Option<u64> {
    fx.iter().find_map(|e| match e {
        Effect::Timer { timer: Timer::Queue, delay_ms } => Some(*delay_ms),
        _ => None,
    })
}

#[test]
fn the_poll_interval_is_configurable_and_kept_across_chats() {
    let mut s = waiting_in(Session::new().with_queue_poll(2_000));
    assert_eq!(poll_delay(&s.handle(position(2))), Some(2_000));
    // The fallback (queue-wide figures) re-arms with the same interval.
    s.handle(Event::QueuePositionRead(None));
    assert_eq!(poll_delay(&s.handle(Event::QueueRead(None))), Some(2_000));
    // A second chat after this one ended keeps the configuration.
    s.handle(Event::EndRequested);
    let mut s = waiting_in(s);
    assert_eq!(poll_delay(&s.handle(position(1))), Some(2_000));
}

#[test]
fn the_default_is_thirty_seconds_and_the_floor_one_second() {
    let mut s = waiting();
    assert_eq!(poll_delay(&s.handle(position(1))), Some(QUEUE_POLL_MS));
    let mut s = waiting_in(Session::new().with_queue_poll(5));
    assert_eq!(poll_delay(&s.handle(position(1))), Some(1_000), "never hammers the auth server");
}

/// Issue 22: Flex routes a moment after the start, so the first reads can find no task yet. Before any place was
/// shown, "not waiting" means "not routed yet": read again soon (a few times), not after the whole interval.
#[test]
fn not_routed_yet_is_read_again_soon_a_few_times() {
    use flexdesk_core::session::{MAX_ROUTING_POLLS, ROUTING_POLL_MS};
    let unrouted = || Event::QueuePositionRead(Some(QueuePosition { waiting: false, position: None, estimated_wait_seconds: None }));
    let mut s = waiting_in(Session::new());
    for _ in 0..MAX_ROUTING_POLLS {
        assert_eq!(poll_delay(&s.handle(unrouted())), Some(ROUTING_POLL_MS));
    }
    assert_eq!(poll_delay(&s.handle(unrouted())), Some(QUEUE_POLL_MS), "then the normal interval");
    // Once a place was shown, "not waiting" is an agent accepting: the normal interval.
    let mut s = waiting_in(Session::new());
    assert_eq!(poll_delay(&s.handle(unrouted())), Some(ROUTING_POLL_MS));
    assert_eq!(poll_delay(&s.handle(position(1))), Some(QUEUE_POLL_MS));
    assert_eq!(poll_delay(&s.handle(unrouted())), Some(QUEUE_POLL_MS));
}
