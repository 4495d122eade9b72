//! "Continue by SMS" (issue 28, item 4; `src/session/sms.rs`): when the page may ask, what goes to the auth server,
//! how the page's promise is settled, and the mark a closed tab reads.

mod common;

use common::*;
use flexdesk_core::texts::Text;
use flexdesk_core::{AuthCall, AuthFailure, Effect, Event, Session, WebCall};

fn refused(code: &str) -> Vec<Effect> {
    vec![Effect::Web(WebCall::SmsSettled(Err(code.into())))]
}

#[test]
fn a_waiting_or_chatting_customer_sends_the_number_in_e164_to_the_auth_server() {
    for mut s in [waiting(), chatting()] {
        let fx = s.handle(Event::SmsRequested(" +49 (151) 123-456 78".into()));
        assert_eq!(fx, vec![Effect::Auth(AuthCall::ContinueBySms { session_id: "sess-1".into(), credential: "cred-1".into(), phone: "+4915112345678".into() })]);
        assert!(!s.continues_by_sms(), "not before the server added the number");
    }
}

#[test]
fn a_number_that_is_not_international_never_leaves_the_page() {
    let mut s = chatting();
    assert_eq!(s.handle(Event::SmsRequested("0151 1234 5678".into())), refused("phone_invalid"));
    assert_eq!(s.handle(Event::SmsRequested("call me".into())), refused("phone_invalid"));
}

#[test]
fn without_a_live_chat_there_is_nothing_to_continue() {
    assert_eq!(Session::new().handle(Event::SmsRequested("+4915112345678".into())), refused("session_ended"));
    let mut s = chatting();
    s.handle(Event::EndRequested);
    assert_eq!(s.handle(Event::SmsRequested("+4915112345678".into())), refused("session_ended"));
}

#[test]
fn once_added_the_web_chat_says_so_the_promise_settles_and_the_mark_survives_a_reload() {
    let mut s = chatting();
    s.handle(Event::SmsRequested("+4915112345678".into()));
    let fx = s.handle(Event::SmsAnswered(Ok("+49•••••••••78".into())));
    assert_eq!(
        fx,
        vec![
            Effect::Persist,
            Effect::Web(WebCall::Notice(Text::ContinuesBySms { phone: "+49•••••••••78".into() })),
            Effect::Web(WebCall::SmsSettled(Ok("+49•••••••••78".into()))),
        ]
    );
    assert!(s.continues_by_sms());
    let saved = s.saved_state().unwrap();
    assert!(saved.by_sms);
    // After a reload the chat is taken up from what was saved: still going on by SMS.
    let mut reloaded = Session::new();
    reloaded.handle(Event::Resume(saved));
    assert!(reloaded.continues_by_sms());
}

#[test]
fn a_refusal_settles_the_promise_with_the_servers_code_and_marks_nothing() {
    let mut s = waiting();
    s.handle(Event::SmsRequested("+4915112345678".into()));
    let not_allowed = AuthFailure { status: 422, code: Some("phone_not_allowed".into()), retry_after_secs: None };
    assert_eq!(s.handle(Event::SmsAnswered(Err(not_allowed))), refused("phone_not_allowed"));
    let offline = AuthFailure { status: 0, code: None, retry_after_secs: None };
    assert_eq!(s.handle(Event::SmsAnswered(Err(offline))), refused("unreachable"));
    assert!(!s.continues_by_sms());
    assert!(!s.saved_state().unwrap().by_sms);
}

#[test]
fn an_answer_after_the_chat_ended_marks_nothing() {
    let mut s = chatting();
    s.handle(Event::SmsRequested("+4915112345678".into()));
    s.handle(Event::EndRequested);
    assert_eq!(s.handle(Event::SmsAnswered(Ok("+49•••••••••78".into()))), refused("session_ended"));
    assert!(!s.continues_by_sms());
}
