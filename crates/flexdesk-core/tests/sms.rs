//! "Continue by SMS" (issue 28, item 4; `src/session/sms.rs`): when the page may ask, what goes to the auth server,
//! what the web chat is told, and the mark a closed tab reads.

mod common;

use common::*;
use flexdesk_core::texts::Text;
use flexdesk_core::wire::ErrorCode;
use flexdesk_core::{Effect, Event, Session, WebCall};

#[test]
fn a_waiting_or_chatting_customer_sends_the_number_in_e164() {
    for s in [waiting(), chatting(), joining()] {
        assert_eq!(s.sms_request(" +49 (151) 123-456 78").as_deref(), Ok("+4915112345678"));
        assert!(!s.continues_by_sms(), "not before the server added the number");
    }
}

#[test]
fn a_number_that_is_not_international_never_leaves_the_page() {
    let s = chatting();
    assert_eq!(s.sms_request("0151 1234 5678"), Err(ErrorCode::PhoneInvalid.as_str()));
    assert_eq!(s.sms_request("call me"), Err(ErrorCode::PhoneInvalid.as_str()));
}

#[test]
fn without_a_live_chat_there_is_nothing_to_continue() {
    assert_eq!(Session::new().sms_request("+4915112345678"), Err(ErrorCode::SessionEnded.as_str()));
    assert_eq!(starting().sms_request("+4915112345678"), Err(ErrorCode::SessionEnded.as_str()), "no session yet");
    let mut s = chatting();
    s.handle(Event::EndRequested);
    assert_eq!(s.sms_request("+4915112345678"), Err(ErrorCode::SessionEnded.as_str()));
}

#[test]
fn once_added_the_web_chat_says_so_and_the_mark_survives_a_reload() {
    let mut s = chatting();
    assert!(!s.saved_state().unwrap().by_sms);
    let fx = s.handle(Event::SmsAdded("+49•••••••••78".into()));
    assert_eq!(fx, vec![Effect::Persist, Effect::Web(WebCall::Notice(Text::ContinuesBySms { phone: "+49•••••••••78".into() }))]);
    assert!(s.continues_by_sms());
    let saved = s.saved_state().unwrap();
    assert!(saved.by_sms);
    // After a reload the chat is taken up from what was saved: still going on by SMS.
    let mut reloaded = Session::new();
    reloaded.handle(Event::Resume(saved));
    assert!(reloaded.continues_by_sms());
}

#[test]
fn an_answer_after_the_chat_ended_marks_and_says_nothing() {
    let mut s = chatting();
    s.handle(Event::EndRequested);
    assert_eq!(s.handle(Event::SmsAdded("+49•••••••••78".into())), vec![]);
    assert!(!s.continues_by_sms());
}
