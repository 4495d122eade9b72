//! Issue 28: with an agent in the chat, a customer silent for `idlePromptMs` is asked "Are you still there?"; any
//! message (or starting to type, or a file) is the way to stay; no answer within `idleCloseMs` closes the chat with
//! a clear line here and, through the auth server (`EndIdle`), for the agent. A timer of an older activity is stale.

mod common;
use common::*;
use flexdesk_core::texts::Text;
use flexdesk_core::wire::CreateSessionRequest;
use flexdesk_core::session::Config;
use flexdesk_core::{AuthCall, EndedBy, Effect, Event, Session, Timer, WebCall};

const PROMPT: u64 = 300_000;
const CLOSE: u64 = 60_000;

/// A chat with Alice in it, on a page that set `idlePromptMs` / `idleCloseMs`; with the idle timer the agent's arrival armed.
fn chatting_with_idle() -> (Session, Timer) {
    let mut s = Session::with_config(Config { idle_prompt_ms: Some(PROMPT), idle_close_ms: CLOSE, ..Config::default() });
    s.handle(Event::StartRequested(CreateSessionRequest { customer_name: "Ada".into(), ..Default::default() }));
    s.handle(Event::SessionCreated(created()));
    s.handle(Event::ConversationJoined);
    let fx = s.handle(Event::ParticipantJoined(participant("alice")));
    (s, idle_timer(&fx, PROMPT).expect("the silence counts from the agent's arrival"))
}

fn idle_timer(fx: &[Effect], ms: u64) -> Option<Timer> {
    fx.iter().find_map(|e| match e {
        Effect::Timer { timer: t @ Timer::Idle(_), delay_ms } if *delay_ms == ms => Some(*t),
        _ => None,
    })
}

fn notice(t: Text) -> Effect {
    Effect::Web(WebCall::Notice(t))
}

#[test]
fn a_silent_customer_is_asked_then_the_chat_closes_with_a_line_on_both_sides() {
    let (mut s, timer) = chatting_with_idle();
    let fx = s.handle(Event::TimerDue(timer));
    assert_eq!(visible(fx.clone()), vec![notice(Text::IdlePrompt)]);
    let close = idle_timer(&fx, CLOSE).expect("the answer is waited for idleCloseMs");
    let fx = s.handle(Event::TimerDue(close));
    let v = visible(fx);
    // Ended quietly: the desk's own line says why, and Carbon adds no "Alice ended the chat." (she did not).
    assert_eq!(v[..2], [notice(Text::IdleClosed), Effect::Web(WebCall::ChatEndedQuietly)], "{v:?}");
    assert!(!v.contains(&Effect::Web(WebCall::ChatEnded)), "no end line of the web chat's own: {v:?}");
    assert!(v.contains(&Effect::Auth(AuthCall::EndIdle { session_id: "sess-1".into(), credential: "cred-1".into() })), "the server tells the agent why: {v:?}");
    assert!(v.iter().any(|e| matches!(e, Effect::Web(WebCall::Outcome(o)) if o.ended_by == EndedBy::Idle)), "{v:?}");
    assert!(s.is_ended());
}

#[test]
fn a_message_after_the_question_keeps_the_chat_and_counts_the_silence_again() {
    let (mut s, timer) = chatting_with_idle();
    let asked = s.handle(Event::TimerDue(timer));
    let close = idle_timer(&asked, CLOSE).unwrap();
    let fx = s.handle(user_msg("u1"));
    let again = idle_timer(&fx, PROMPT).expect("counted again from the message");
    assert!(visible(s.handle(Event::TimerDue(close))).is_empty(), "the question was answered: nothing closes");
    assert!(!s.is_ended());
    // The next silence asks again.
    assert_eq!(visible(s.handle(Event::TimerDue(again))), vec![notice(Text::IdlePrompt)]);
}

#[test]
fn typing_counts_as_activity_and_an_older_timer_is_stale() {
    let (mut s, timer) = chatting_with_idle();
    let fx = s.handle(Event::UserTyping(true));
    assert!(idle_timer(&fx, PROMPT).is_some());
    assert!(visible(s.handle(Event::TimerDue(timer))).is_empty(), "the customer typed since");
}

#[test]
fn nothing_is_asked_while_waiting_for_an_agent_or_when_the_page_did_not_ask_for_it() {
    let mut s = Session::with_config(Config { idle_prompt_ms: Some(PROMPT), ..Config::default() });
    s.handle(Event::StartRequested(CreateSessionRequest { customer_name: "Ada".into(), ..Default::default() }));
    s.handle(Event::SessionCreated(created()));
    s.handle(Event::ConversationJoined);
    let fx = s.handle(user_msg("u1"));
    assert!(idle_timer(&fx, PROMPT).is_none(), "a customer waiting in the queue is never asked");

    let mut plain = chatting();
    let fx = plain.handle(user_msg("u1"));
    assert!(!fx.iter().any(|e| matches!(e, Effect::Timer { timer: Timer::Idle(_), .. })), "off unless idlePromptMs is set");
}

/// Issue 28, items 1 and 4 together: once the chat goes on by SMS the customer answers by phone, so the web chat's
/// silence neither asks nor closes (closing would end the SMS conversation too).
#[test]
fn a_chat_that_goes_on_by_sms_is_not_closed_for_the_web_chats_silence() {
    let (mut s, timer) = chatting_with_idle();
    s.handle(Event::SmsAdded("+49•••••••••78".into()));
    let fx = s.handle(Event::TimerDue(timer));
    assert_eq!(visible(fx), vec![], "no question, no close");
    assert!(!s.is_ended());
}

/// The quiet end is the idle close's only: the next chat (the web chat clears its suspension as it ends) ends as usual,
/// with Carbon's own line when the agent closes it.
#[test]
fn after_an_idle_close_the_next_chat_ends_with_the_web_chats_own_line() {
    let (mut s, timer) = chatting_with_idle();
    let asked = s.handle(Event::TimerDue(timer));
    s.handle(Event::TimerDue(idle_timer(&asked, CLOSE).unwrap()));
    assert!(s.is_ended());
    s.handle(Event::StartRequested(CreateSessionRequest { customer_name: "Ada".into(), ..Default::default() }));
    s.handle(Event::SessionCreated(created()));
    s.handle(Event::ConversationJoined);
    s.handle(Event::ParticipantJoined(participant("alice")));
    let v = visible(s.handle(Event::ConversationClosed));
    assert!(v.contains(&Effect::Web(WebCall::ChatEnded)), "{v:?}");
    assert!(!v.contains(&Effect::Web(WebCall::ChatEndedQuietly)), "{v:?}");
}
