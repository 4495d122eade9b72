//! One chat wherever the customer is (issue 17): the rules between tabs (`session/tab.rs`). The npm wrapper forwards
//! what it reads in storage and hears on the tabs' BroadcastChannel and carries out the `TabCall`s; each rule it once
//! held is here. Carbon AI Chat 1.9.1 keeps its state per tab and calls `reconnect` after a reload only when an agent
//! had joined (`handleHydration`: `if (isConnected)`), hence the connect card for every other case.

mod common;
use common::*;
use flexdesk_core::texts::Text;
use flexdesk_core::{AuthCall, AuthFailure, ClientCall, Effect, Event, Phase, Save, Session, TabCall, WebCall};

fn announce(session_id: &str) -> Effect {
    Effect::Tab(TabCall::Announce { session_id: session_id.into() })
}

fn taken(session_id: &str) -> Event {
    Event::TakenElsewhere { session_id: session_id.into() }
}

fn check_call() -> Effect {
    Effect::Auth(AuthCall::CheckChat { session_id: "sess-1".into(), credential: "cred-1".into() })
}

fn refusal(status: u16) -> Option<AuthFailure> {
    Some(AuthFailure { status, code: None, retry_after_secs: None })
}

/// A tab whose web chat starts while `chat` is open elsewhere.
fn found(chat: &Session) -> Event {
    Event::ChatFound { chat: chat.saved_state().unwrap(), connected: false }
}

/// A tab that took `chat` up with `startChat` (nothing of its own saved).
fn adopted(chat: &Session) -> Session {
    let mut s = Session::new();
    s.handle(Event::Adopt { chat: chat.saved_state().unwrap(), this_tab: None });
    s
}

fn tabs(fx: &[Effect]) -> Vec<&TabCall> {
    fx.iter().filter_map(|e| if let Effect::Tab(t) = e { Some(t) } else { None }).collect()
}

// ---- Who holds the chat: the tab that takes it says so ----

#[test]
fn a_tab_that_adopts_the_chat_tells_the_other_tabs_then_takes_it_up() {
    let fx = Session::new().handle(Event::Adopt { chat: waiting().saved_state().unwrap(), this_tab: None });
    assert_eq!(fx[0], announce("sess-1"), "announced first: {fx:?}");
    assert!(fx.contains(&Effect::Auth(AuthCall::RefreshToken { session_id: "sess-1".into(), credential: "cred-1".into() })), "{fx:?}");
}

#[test]
fn a_tab_that_reconnects_after_a_reload_tells_the_other_tabs() {
    let fx = Session::new().handle(Event::Resume(chatting().saved_state().unwrap()));
    assert_eq!(tabs(&fx), vec![&TabCall::Announce { session_id: "sess-1".into() }]);
}

#[test]
fn a_new_chat_is_nobody_elses_so_it_is_not_announced() {
    let mut s = starting();
    let mut fx = s.handle(Event::SessionCreated(created()));
    fx.extend(s.handle(Event::ConversationJoined));
    assert!(tabs(&fx).is_empty(), "{fx:?}");
}

#[test]
fn adopting_shows_agent_messages_after_what_this_tab_showed_of_that_chat_only() {
    let mut chat = chatting();
    for i in 1..=3 {
        chat.handle(agent_msg(i, "alice", "hi"));
    }
    let shared = chat.saved_state().unwrap();
    assert_eq!(shared.last_shown, Some(3), "what the other tab showed");
    let mut mine = shared.clone();
    mine.last_shown = Some(1);
    let mut other_chat = mine.clone();
    other_chat.session_id = "sess-0".into();
    // This tab's own copy of the same chat: what it showed (1), not what the other tab showed (3).
    for (this_tab, replayed) in [(Some(mine), vec![2, 3]), (Some(other_chat), vec![1, 2, 3]), (None, vec![1, 2, 3])] {
        let mut s = Session::new();
        s.handle(Event::Adopt { chat: shared.clone(), this_tab });
        s.handle(Event::TokenRefreshed(token("tok-2")));
        s.handle(Event::ConversationJoined);
        s.handle(Event::ParticipantJoined(participant("alice")));
        let shown: Vec<u64> =
            (1..=3).filter(|&i| visible(s.handle(agent_msg(i, "alice", "hi"))).iter().any(|e| matches!(e, Effect::Web(WebCall::ShowAgentMessage { .. })))).collect();
        assert_eq!(shown, replayed);
    }
}

// ---- Letting go when another tab takes the chat ----

#[test]
fn the_tab_holding_the_chat_lets_go_when_another_takes_it_and_offers_it_back() {
    let mut s = chatting();
    let fx = s.handle(taken("sess-1"));
    assert_eq!(
        fx,
        vec![
            Effect::Client(ClientCall::Close),
            Effect::Tab(TabCall::LetGo),
            Effect::Tab(TabCall::Offer(Text::ContinuedElsewhere)),
        ],
        "the connection closed, the chat ended in this web chat, then the card (after the end)"
    );
    assert!(!fx.iter().any(|e| matches!(e, Effect::Auth(AuthCall::EndSession { .. }))), "the chat goes on in the other tab");
    assert_eq!(s.phase(), Phase::Ended);
    assert!(s.handle(Event::EndRequested).is_empty(), "the web chat's endChat, as it ends there, ends nothing");
    assert!(s.handle(taken("sess-1")).is_empty(), "let go once");
}

#[test]
fn a_tab_still_taking_the_chat_up_lets_go_too_and_settles_its_start() {
    let mut s = adopted(&waiting());
    let fx = s.handle(taken("sess-1"));
    assert!(fx.contains(&Effect::Web(WebCall::StartSettled)), "startChat is settled: {fx:?}");
    assert!(fx.contains(&Effect::Tab(TabCall::LetGo)), "{fx:?}");
}

#[test]
fn another_chats_announcement_or_a_tab_without_a_chat_lets_nothing_go() {
    let mut s = chatting();
    assert!(s.handle(taken("sess-other")).is_empty(), "a tab without the shared copy started its own chat");
    assert_eq!(s.phase(), Phase::Chatting);
    for mut s in [Session::new(), starting()] {
        assert!(s.handle(taken("sess-1")).is_empty());
    }
    let mut ended = chatting();
    ended.handle(Event::EndRequested);
    assert!(ended.handle(taken("sess-1")).is_empty(), "a chat over here is no longer held");
}

#[test]
fn the_tab_that_let_go_saves_nothing_even_a_save_asked_for_before() {
    // The shell saves when it gets round to a Persist: one asked for just before the other tab took the chat must not
    // forget the chat in every tab (the shared copy is the other tab's now), nor overwrite what this web chat showed.
    let mut s = chatting();
    assert!(s.handle(agent_msg(1, "alice", "hi")).contains(&Effect::Persist));
    s.handle(taken("sess-1"));
    assert_eq!(s.to_save(), Save::Nothing);
}

#[test]
fn the_tab_that_let_go_can_take_the_chat_back() {
    let mut s = chatting();
    s.handle(taken("sess-1"));
    let shared = chatting().saved_state().unwrap();
    let fx = s.handle(Event::Adopt { chat: shared, this_tab: None });
    assert_eq!(fx[0], announce("sess-1"));
    assert!(matches!(s.to_save(), Save::Chat(c) if c.session_id == "sess-1"), "its saves count again");
}

#[test]
fn a_chat_that_ends_here_is_forgotten_in_every_tab() {
    let mut s = chatting();
    s.handle(Event::EndRequested);
    assert_eq!(s.to_save(), Save::Forget);
    let mut s = chatting();
    s.handle(Event::ConversationClosed);
    assert_eq!(s.to_save(), Save::Forget);
}

// ---- A chat found at the web chat's start: checked, then offered or forgotten ----

#[test]
fn a_chat_found_at_start_is_checked_before_it_is_offered() {
    assert_eq!(Session::new().handle(found(&waiting())), vec![check_call()]);
}

#[test]
fn a_chat_the_web_chat_reconnects_itself_or_one_this_tab_already_took_is_not_offered() {
    let saved = chatting().saved_state().unwrap();
    assert!(Session::new().handle(Event::ChatFound { chat: saved.clone(), connected: true }).is_empty(), "Carbon calls reconnect");
    let mut s = Session::new();
    s.handle(Event::Resume(saved.clone()));
    assert!(s.handle(Event::ChatFound { chat: saved, connected: false }).is_empty(), "reconnect came first");
}

#[test]
fn an_open_chat_is_offered_with_a_card() {
    let mut s = Session::new();
    s.handle(found(&waiting()));
    assert_eq!(s.handle(Event::ChatChecked(None)), vec![Effect::Tab(TabCall::Offer(Text::ResumeChat))]);
}

#[test]
fn a_chat_that_ended_while_no_tab_had_it_is_forgotten_not_offered() {
    // The auth server refuses a token for a chat that is over: 401 or 404 (docs/auth-server.md, "HTTP API").
    for status in [401, 404] {
        let mut s = Session::new();
        s.handle(found(&waiting()));
        assert_eq!(s.handle(Event::ChatChecked(refusal(status))), vec![Effect::Tab(TabCall::Forget)], "{status}");
    }
}

#[test]
fn a_chat_that_could_not_be_checked_is_offered_all_the_same() {
    // Not reached, rate limited, Twilio busy: the chat may well be open; its start tells the customer what went wrong.
    for status in [0, 429, 503] {
        let mut s = Session::new();
        s.handle(found(&waiting()));
        assert_eq!(s.handle(Event::ChatChecked(refusal(status))), vec![Effect::Tab(TabCall::Offer(Text::ResumeChat))], "{status}");
    }
}

#[test]
fn no_card_once_the_customer_asked_for_an_agent_while_the_chat_was_checked() {
    let mut s = Session::new();
    s.handle(found(&waiting()));
    s.handle(Event::Adopt { chat: waiting().saved_state().unwrap(), this_tab: None });
    assert!(s.handle(Event::ChatChecked(None)).is_empty());
    assert!(s.handle(Event::ChatChecked(refusal(404))).is_empty(), "nor forgotten under the adopting chat's feet");
}
