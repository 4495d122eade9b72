//! Issue 23, defect 9: while the page has suspended the desk (`instance.serviceDesk.updateIsSuspended(true)`),
//! Carbon AI Chat 1.9.1 drops the agent's messages: `ServiceDeskCallbackImpl.sendMessageToUser` adds them with
//! `addMessages(…, !this.service.isSuspended(), …)` (HumanAgentServiceImpl.ts, in
//! `node_modules/@carbon/ai-chat/dist/es/chat.ChatAppEntry.js.map`, `sourcesContent`). The desk must hold them and
//! show them, once and in order, when the page resumes the chat.

mod common;
use common::*;
use flexdesk_core::{AgentItem, Effect, Event, WebCall};

fn shown(effects: &[Effect]) -> Vec<String> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Web(WebCall::ShowAgentMessage { items, .. }) => items.iter().find_map(|i| match i {
                AgentItem::Text(t) => Some(t.clone()),
                _ => None,
            }),
            _ => None,
        })
        .collect()
}

#[test]
fn agent_messages_while_suspended_are_held_and_shown_once_in_order_on_resume() {
    let mut s = chatting();
    assert_eq!(shown(&s.handle(agent_msg(1, "alice", "before"))), vec!["before"]);
    s.handle(Event::Suspended(true));
    assert!(shown(&s.handle(agent_msg(3, "alice", "second"))).is_empty(), "Carbon would drop it");
    assert!(shown(&s.handle(agent_msg(2, "alice", "first"))).is_empty(), "Carbon would drop it");
    assert!(shown(&s.handle(agent_msg(3, "alice", "second"))).is_empty(), "a replay is not a new message");
    let saved = s.saved_state().unwrap();
    assert_eq!(saved.last_shown, Some(1), "a reload while suspended replays what was held");
    let fx = s.handle(Event::Suspended(false));
    assert_eq!(shown(&fx), vec!["first", "second"], "{fx:?}");
    assert!(fx.contains(&Effect::Persist));
    assert_eq!(s.saved_state().unwrap().last_shown, Some(3));
    assert!(shown(&s.handle(Event::Suspended(false))).is_empty(), "once");
    assert!(shown(&s.handle(agent_msg(2, "alice", "first"))).is_empty(), "once");
    assert_eq!(shown(&s.handle(agent_msg(4, "alice", "after"))), vec!["after"]);
}

#[test]
fn messages_held_while_suspended_are_dropped_when_the_chat_ends() {
    let mut s = chatting();
    s.handle(Event::Suspended(true));
    s.handle(agent_msg(1, "alice", "held"));
    s.handle(Event::EndRequested);
    assert!(shown(&s.handle(Event::Suspended(false))).is_empty(), "nothing reaches the web chat after the end");
}

#[test]
fn suspension_told_before_a_chat_starts_holds_its_messages() {
    // After a reload Carbon keeps `isSuspended` (persistedToBrowserStorage.humanAgentState): the wrapper tells the desk
    // at once, before `reconnect`.
    let mut s = flexdesk_core::Session::new();
    s.handle(Event::Suspended(true));
    let mut c = chatting();
    let saved = {
        c.handle(agent_msg(1, "alice", "seen"));
        c.saved_state().unwrap()
    };
    s.handle(Event::Resume(saved));
    s.handle(Event::TokenRefreshed(token("tok-2")));
    s.handle(Event::ConversationJoined);
    s.handle(Event::ParticipantJoined(participant("alice")));
    assert!(shown(&s.handle(agent_msg(2, "alice", "while away"))).is_empty());
    assert_eq!(shown(&s.handle(Event::Suspended(false))), vec!["while away"]);
}
