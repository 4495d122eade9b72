//! Issue 23, defect 5: an agent's files stay openable. Twilio's temporary media URLs expire after minutes; when the
//! auth server offers media links (`SessionCreated::media_link_query`), every file is linked through it instead,
//! and the link survives a reload and a hand-over to another tab.

mod common;

use common::*;
use flexdesk_core::wire::CreateSessionRequest;
use flexdesk_core::{AgentItem, Content, Effect, Event, Media, Session, WebCall};

const AUTH: &str = "https://auth.example/";
const QUERY: &str = "conversation=CH1&expires=1700000000&signature=c2lnbmF0dXJl";

fn sid(n: u8) -> String {
    format!("ME{:032x}", n)
}

fn media(n: u8, name: &str, content_type: &str) -> Media {
    Media { sid: sid(n), filename: name.into(), content_type: content_type.into(), url: format!("https://mcs.example/expiring/{n}") }
}

fn files_message(index: u64) -> Event {
    let content = Content { body: None, media: vec![media(1, "a.png", "image/png"), media(2, "b.pdf", "application/pdf")] };
    Event::Message { index, author: "alice".into(), client_id: None, handoff: None, content }
}

fn urls(effects: Vec<Effect>) -> Vec<String> {
    effects
        .into_iter()
        .filter_map(|e| match e {
            Effect::Web(WebCall::ShowAgentMessage { items, .. }) => Some(items),
            _ => None,
        })
        .flatten()
        .map(|item| match item {
            AgentItem::Image { url, .. } | AgentItem::File { url, .. } => url,
            AgentItem::Text(t) => t,
        })
        .collect()
}

fn link(n: u8) -> String {
    format!("https://auth.example/v1/media/{}?{QUERY}", sid(n))
}

/// A chat with Alice, on a desk that knows its auth server, created with or without media links.
fn chatting_with(query: Option<&str>) -> Session {
    let mut s = Session::new().with_auth_server(AUTH);
    s.handle(Event::StartRequested(CreateSessionRequest { customer_name: "Ada".into(), ..Default::default() }));
    s.handle(Event::SessionCreated(flexdesk_core::wire::SessionCreated { media_link_query: query.map(Into::into), ..created() }));
    s.handle(Event::ConversationJoined);
    s.handle(Event::ParticipantJoined(participant("alice")));
    s
}

#[test]
fn with_the_servers_links_every_file_is_linked_through_it_not_by_its_expiring_url() {
    let mut s = chatting_with(Some(QUERY));
    assert!(!s.wants_temporary_urls(), "the shell need not read temporary URLs");
    assert_eq!(urls(s.handle(files_message(1))), vec![link(1), link(2)]);
}

#[test]
fn without_them_the_temporary_url_is_shown_as_before() {
    let mut s = chatting_with(None);
    assert!(s.wants_temporary_urls());
    assert_eq!(urls(s.handle(files_message(1))), vec!["https://mcs.example/expiring/1", "https://mcs.example/expiring/2"]);
    // A desk that was not told its server's URL cannot link either.
    let mut s = Session::new();
    s.handle(Event::StartRequested(CreateSessionRequest::default()));
    s.handle(Event::SessionCreated(flexdesk_core::wire::SessionCreated { media_link_query: Some(QUERY.into()), ..created() }));
    assert!(s.wants_temporary_urls());
}

#[test]
fn a_file_without_a_media_sid_keeps_its_temporary_url() {
    let mut s = chatting_with(Some(QUERY));
    let content = Content { body: None, media: vec![Media { sid: String::new(), ..media(3, "c.png", "image/png") }] };
    let fx = s.handle(Event::Message { index: 1, author: "alice".into(), client_id: None, handoff: None, content });
    assert_eq!(urls(fx), vec!["https://mcs.example/expiring/3"]);
}

#[test]
fn the_links_survive_a_reload_and_a_hand_over_to_another_tab() {
    let s = chatting_with(Some(QUERY));
    let saved = s.saved_state().unwrap();
    assert_eq!(saved.media_link_query.as_deref(), Some(QUERY));
    // Saved as JSON by the shell and read back after the reload.
    let saved: flexdesk_core::PersistedState = serde_json::from_value(serde_json::to_value(&saved).unwrap()).unwrap();
    for adopt in [false, true] {
        let mut s = Session::new().with_auth_server(AUTH);
        s.handle(if adopt { Event::Adopt { chat: saved.clone(), this_tab: None } } else { Event::Resume(saved.clone()) });
        assert!(!s.wants_temporary_urls(), "adopt: {adopt}");
        s.handle(Event::TokenRefreshed(token("tok-2")));
        s.handle(Event::ConversationJoined);
        s.handle(Event::ParticipantJoined(participant("alice")));
        assert_eq!(urls(s.handle(files_message(7))), vec![link(1), link(2)], "adopt: {adopt}");
    }
}

#[test]
fn a_state_saved_before_media_links_resumes_with_temporary_urls() {
    let old = serde_json::json!({"sessionId": "sess-1", "credential": "cred-1", "conversationSid": "CH1", "identity": ME});
    let saved: flexdesk_core::PersistedState = serde_json::from_value(old).unwrap();
    let mut s = Session::new().with_auth_server(AUTH);
    s.handle(Event::Resume(saved));
    assert!(s.wants_temporary_urls());
}
