//! The rules that follow from how Carbon AI Chat 1.9.1 drives a service desk (issue 13), each citing where in
//! Carbon's source the behaviour comes from (`HumanAgentServiceImpl` / `ServiceDeskCallbackImpl` in
//! `packages/ai-chat/src/chat/services/haa/HumanAgentServiceImpl.ts`, compiled in
//! `node_modules/@carbon/ai-chat/dist/es/chat.ChatAppEntry.js`).

mod common;
use common::*;
use flexdesk_core::session::{file_link, JOIN_TIMEOUT_MS};
use flexdesk_core::texts::Text;
use flexdesk_core::wire::{Availability, CreateSessionRequest, QueuePosition};
use flexdesk_core::{
    AgentItem, AuthCall, ChosenFile, ClientCall, ConnState, Content, Effect, ErrorStatus, Event, Media, Participant, Phase, Session, Timer,
    WebCall,
};

fn end_session() -> Effect {
    Effect::Auth(AuthCall::EndSession { session_id: "sess-1".into(), credential: "cred-1".into() })
}

// ---- Defect 1: orphaned Flex chats ----

fn refresh_call() -> Effect {
    Effect::Auth(AuthCall::RefreshToken { session_id: "sess-1".into(), credential: "cred-1".into() })
}

#[test]
fn start_chat_adopts_a_chat_still_open_elsewhere_instead_of_creating_a_second_task() {
    // `handleHydration` calls `serviceDesk.reconnect()` only `if (isConnected)`, which `agentJoined` sets: a chat
    // still waiting at reload (or open in another tab) comes back only through a new `startChat` (issue 17).
    let saved = waiting().saved_state().unwrap();
    let mut s = Session::new();
    let fx = s.handle(Event::Adopt { chat: saved, this_tab: None });
    assert_eq!(visible(fx).last(), Some(&refresh_call()), "the saved session's token, no CreateSession");
    let fx = s.handle(Event::TokenRefreshed(token("tok-2")));
    assert!(fx.contains(&Effect::Client(ClientCall::Join { token: "tok-2".into(), conversation_sid: "CH1".into() })), "{fx:?}");
    let fx = s.handle(Event::ConversationJoined);
    assert!(fx.contains(&Effect::Web(WebCall::StartSettled)), "startChat resolves once the chat is joined again: {fx:?}");
    assert_eq!(s.phase(), Phase::Waiting);
}

#[test]
fn an_adopted_chat_announces_its_agent_and_replays_what_this_tab_has_not_shown() {
    // The web chat of another tab never saw this agent: `agentJoined` again, then the agent's messages after the
    // saved `last_shown`.
    let mut chat = chatting();
    chat.handle(agent_msg(1, "alice", "hello"));
    let saved = chat.saved_state().unwrap();
    assert_eq!(saved.last_shown, Some(1));
    let mut s = Session::new();
    s.handle(Event::Adopt { chat: saved.clone(), this_tab: Some(saved) });
    s.handle(Event::TokenRefreshed(token("tok-2")));
    s.handle(Event::ConversationJoined);
    assert_eq!(visible(s.handle(Event::ParticipantJoined(participant("alice")))), vec![Effect::Web(WebCall::AgentJoined(agent("alice")))]);
    assert!(visible(s.handle(agent_msg(1, "alice", "hello"))).is_empty(), "shown here before");
    assert_eq!(visible(s.handle(agent_msg(2, "alice", "still there?"))).len(), 1);
    assert_eq!(s.phase(), Phase::Chatting);
}

#[test]
fn adopting_a_chat_that_is_over_tells_the_customer_and_settles_start() {
    let saved = waiting().saved_state().unwrap();
    let mut s = Session::new();
    s.handle(Event::Adopt { chat: saved, this_tab: None });
    let fx = s.handle(Event::TokenRefused(refused()));
    assert_eq!(
        visible(fx),
        vec![Effect::Web(WebCall::SetError(ErrorStatus::Connecting { message: Text::ChatFailed })), Effect::Web(WebCall::StartSettled)]
    );
    assert!(s.is_ended());
    assert_eq!(s.saved_state(), None);
}

/// Issue 23, defect 11: the customer ends while a chat is being adopted (a token being fetched, or the join under
/// way, which may take a join timeout). Carbon waits 5 s for `endChat` (HumanAgentServiceImpl.ts `doEndChat`,
/// `END_CHAT_TIMEOUT_MS`): the end is handled at once, whatever step the adoption is at, `startChat` settles and the
/// chat is ended for the agent too (the wrapper hands the `endChat` to the desk at once: `js/index.js` `startChat`).
#[test]
fn ending_while_a_chat_is_being_adopted_settles_start_and_ends_it_at_once() {
    for joining in [false, true] {
        let saved = waiting().saved_state().unwrap();
        let mut s = Session::new();
        s.handle(Event::Adopt { chat: saved, this_tab: None });
        if joining {
            s.handle(Event::TokenRefreshed(token("tok-2")));
        }
        let fx = s.handle(Event::EndRequested);
        assert!(fx.contains(&Effect::Web(WebCall::StartSettled)), "joining: {joining}: {fx:?}");
        assert!(fx.contains(&end_session()), "joining: {joining}: {fx:?}");
        assert!(s.is_ended(), "joining: {joining}");
        assert!(s.handle(Event::ConversationJoined).iter().all(|e| !matches!(e, Effect::Web(_))), "nothing after the end");
    }
}

#[test]
fn ending_during_the_start_request_settles_start_and_ends_the_session_when_it_arrives() {
    let mut s = starting();
    let fx = s.handle(Event::EndRequested);
    assert!(fx.contains(&Effect::Web(WebCall::StartSettled)), "Carbon still awaits startChat: {fx:?}");
    let fx = s.handle(Event::SessionCreated(created()));
    assert_eq!(fx, vec![end_session()], "the late session is ended, not joined");
    assert!(s.is_ended());
}

#[test]
fn a_new_start_after_a_cancelled_one_goes_out_once_the_cancelled_one_answered() {
    let mut s = starting();
    s.handle(Event::EndRequested);
    let req = CreateSessionRequest { customer_name: "Bo".into(), ..Default::default() };
    assert!(s.handle(Event::StartRequested(req.clone())).is_empty());
    let fx = s.handle(Event::SessionCreated(created()));
    assert_eq!(fx, vec![end_session(), Effect::Auth(AuthCall::CreateSession(req))]);
    let fx = s.handle(Event::SessionCreated(created()));
    assert_eq!(fx[0], Effect::Web(WebCall::StartSettled), "the second startChat resolves");
    assert_eq!(s.phase(), Phase::Joining);
}

// ---- Defect 3: failures after an agent joined ----

#[test]
fn failing_to_rejoin_after_an_agent_joined_is_disconnected_never_connecting() {
    let mut s = chatting();
    for _ in 0..=flexdesk_core::session::MAX_REJOINS {
        s.handle(Event::ClientFailed { message: "x".into() });
        s.handle(Event::TokenRefreshed(token("t")));
        s.handle(Event::JoinFailed { message: "x".into() });
    }
    assert!(s.is_ended());
}

#[test]
fn a_failure_before_any_agent_is_a_connecting_error() {
    let mut s = joining();
    for _ in 0..flexdesk_core::session::MAX_REJOINS {
        s.handle(Event::JoinFailed { message: "x".into() });
        s.handle(Event::TokenRefreshed(token("t")));
    }
    let fx = s.handle(Event::JoinFailed { message: "Twilio said 20003".into() });
    assert!(matches!(&fx[0], Effect::Web(WebCall::SetError(ErrorStatus::Connecting { message })) if !message.english().contains("20003")));
}

// ---- Defect 6: timeouts on join and reconnect ----

#[test]
fn a_join_that_takes_too_long_replaces_the_client() {
    let mut s = joining();
    let fx = visible(s.handle(Event::TimerDue(Timer::Join(1))));
    assert_eq!(fx[0], Effect::Client(ClientCall::Close));
    assert!(fx.contains(&Effect::Auth(AuthCall::RefreshToken { session_id: "sess-1".into(), credential: "cred-1".into() })));
    assert!(s.handle(Event::TimerDue(Timer::Join(1))).is_empty(), "a stale timer does nothing");
}

#[test]
fn a_timer_of_an_earlier_join_does_nothing() {
    let mut s = waiting();
    assert!(s.handle(Event::TimerDue(Timer::Join(1))).is_empty());
}

#[test]
fn a_reconnect_that_takes_too_long_settles_reconnect_and_shows_disconnected() {
    // Carbon blocks the chat until `reconnect` resolves (`handleHydration` awaits it).
    let saved = chatting().saved_state().unwrap();
    let mut s = Session::new();
    s.handle(Event::Resume(saved));
    let fx = s.handle(Event::TokenRefreshed(token("t")));
    assert!(fx.contains(&Effect::Timer { timer: Timer::Join(1), delay_ms: JOIN_TIMEOUT_MS }));
    let fx = visible(s.handle(Event::TimerDue(Timer::Join(1))));
    assert_eq!(fx[0], Effect::Web(WebCall::ReconnectSettled(true)));
    assert_eq!(fx[1], Effect::Web(WebCall::SetError(ErrorStatus::Disconnected(true))));
    // The replacement client joins: the chat is back.
    s.handle(Event::TokenRefreshed(token("t2")));
    s.handle(Event::ConversationJoined);
    let fx = s.handle(Event::Connection(ConnState::Connected));
    assert_eq!(fx[0], Effect::Web(WebCall::SetError(ErrorStatus::Disconnected(false))));
}

#[test]
fn a_configured_join_timeout_is_used_for_every_join_and_kept_across_chats() {
    // The desk option `joinTimeoutMs`: a page (or a test) may wait less, or more, than the default.
    let mut s = Session::new().with_join_timeout(1_500);
    s.handle(Event::StartRequested(CreateSessionRequest::default()));
    let fx = s.handle(Event::SessionCreated(created()));
    assert!(fx.contains(&Effect::Timer { timer: Timer::Join(1), delay_ms: 1_500 }), "{fx:?}");
    s.handle(Event::TimerDue(Timer::Join(1)));
    let fx = s.handle(Event::TokenRefreshed(token("t")));
    assert!(fx.contains(&Effect::Timer { timer: Timer::Join(2), delay_ms: 1_500 }), "the replacement client too: {fx:?}");
    s.handle(Event::EndRequested);
    s.handle(Event::StartRequested(CreateSessionRequest::default()));
    let fx = s.handle(Event::SessionCreated(created()));
    assert!(fx.iter().any(|e| matches!(e, Effect::Timer { timer: Timer::Join(_), delay_ms: 1_500 })), "the next chat: {fx:?}");
}

#[test]
fn a_join_that_never_completes_ends_in_a_connecting_error_the_user_can_leave() {
    // The socket never becomes ready: no JoinFailed, no ConversationJoined, only the timers. After the last
    // replacement client the chat is given up with a CONNECTING error (before any agent joined, that is what ends a
    // chat that is still connecting in Carbon) and the session is ended on the auth server.
    let mut s = joining();
    let mut attempt = 1;
    for _ in 0..flexdesk_core::session::MAX_REJOINS {
        s.handle(Event::TimerDue(Timer::Join(attempt)));
        s.handle(Event::TokenRefreshed(token("t")));
        attempt += 1;
    }
    let fx = s.handle(Event::TimerDue(Timer::Join(attempt)));
    assert!(matches!(&fx[0], Effect::Web(WebCall::SetError(ErrorStatus::Connecting { .. }))), "{fx:?}");
    assert!(fx.contains(&end_session()), "{fx:?}");
    assert!(s.is_ended());
}

#[test]
fn reconnect_resolves_true_once_joined() {
    let saved = chatting().saved_state().unwrap();
    let mut s = Session::new();
    s.handle(Event::Resume(saved));
    s.handle(Event::TokenRefreshed(token("t")));
    assert_eq!(s.handle(Event::ConversationJoined)[0], Effect::Web(WebCall::ReconnectSettled(true)));
}

// ---- Defect 7: agent text and several files in one message ----

#[test]
fn agent_text_and_every_file_of_one_message_are_shown_text_first() {
    let mut s = chatting();
    let media = |f: &str, t: &str| Media { sid: String::new(), filename: f.into(), content_type: t.into(), url: format!("https://m/{f}") };
    let content = Content { body: Some("Here you go".into()), media: vec![media("a.png", "image/png"), media("b.pdf", "application/pdf")] };
    let fx = visible(s.handle(Event::Message { index: 3, author: "alice".into(), client_id: None, handoff: None, content }));
    let items = vec![
        AgentItem::Text("Here you go".into()),
        AgentItem::Image { url: "https://m/a.png".into(), title: "a.png".into() },
        AgentItem::File { url: "https://m/b.pdf".into(), name: "b.pdf".into() },
    ];
    assert_eq!(fx, vec![Effect::Web(WebCall::ShowAgentMessage { agent_id: Some("alice".into()), items })]);
}

// ---- Defect 2: agent text as typed ----

#[test]
fn agent_text_is_passed_as_typed() {
    // Carbon removes HTML from human-agent text itself (`removeHTML`; markdown-it `html: false`).
    let mut s = chatting();
    let typed = "`a < b && c` [x](https://e.com/?a=1&b=2) <b>bold</b> it's";
    let fx = visible(s.handle(agent_msg(1, "alice", typed)));
    assert_eq!(fx, vec![Effect::Web(WebCall::ShowAgentMessage { agent_id: Some("alice".into()), items: vec![AgentItem::Text(typed.into())] })]);
}

#[test]
fn file_links_show_the_name_as_typed() {
    assert_eq!(file_link("a_[1].pdf", "https://m/x?a=1&b=2"), "[a\\_\\[1\\].pdf](<https://m/x?a=1&b=2>)");
}

// ---- Defect 8: agent names from the Conversations User ----

#[test]
fn the_agent_name_is_the_users_friendly_name_else_none_never_the_identity() {
    // Issue 23, item 11: the shell waits 3 s at most for the User; an identity (a Flex worker's contact URI) is no
    // name to show. Carbon words an empty nickname itself ("An agent connected": agent_agentJoinedNoName).
    let mut s = waiting();
    let p = Participant { identity: "WKalice".into(), member_type: None, friendly_name: Some("Alice".into()), avatar: None };
    let fx = visible(s.handle(Event::ParticipantJoined(p)));
    assert!(matches!(&fx[0], Effect::Web(WebCall::AgentJoined(a)) if a.name == "Alice" && a.id == "WKalice"));
    let bob = Participant { identity: "WKbob".into(), friendly_name: Some("  ".into()), ..Default::default() };
    let fx = visible(s.handle(Event::ParticipantJoined(bob)));
    assert!(fx.iter().any(|e| matches!(e, Effect::Web(WebCall::AgentJoined(a)) if a.name.is_empty() && a.id == "WKbob")));
    let carol = Participant { identity: "WKcarol".into(), ..Default::default() };
    let fx = visible(s.handle(Event::ParticipantJoined(carol)));
    assert!(fx.iter().any(|e| matches!(e, Effect::Web(WebCall::AgentJoined(a)) if a.name.is_empty() && a.id == "WKcarol")), "no User at all: {fx:?}");
}

#[test]
fn the_customer_and_participants_marked_customer_are_not_agents() {
    let mut s = waiting();
    let me = Participant { identity: ME.into(), ..Default::default() };
    assert!(s.handle(Event::ParticipantJoined(me)).is_empty());
    let other = Participant { identity: "c2".into(), member_type: Some("customer".into()), ..Default::default() };
    assert!(s.handle(Event::ParticipantJoined(other)).is_empty());
    assert!(s.handle(Event::AgentTyping { agent_id: ME.into(), typing: true }).is_empty(), "own typing is not the agent's");
}

// ---- Defect 9: waiting, queue position, closed before any agent ----

#[test]
fn waiting_shows_the_sessions_own_queue_position_and_polls() {
    // Issue 17: the auth server's per-session position (GET /v1/sessions/{id}/queue).
    let mut s = joining();
    let read = Effect::Auth(AuthCall::ReadPosition { session_id: "sess-1".into(), credential: "cred-1".into() });
    let fx = s.handle(Event::ConversationJoined);
    assert!(fx.contains(&read), "{fx:?}");
    let at = |position: Option<u32>, waiting: bool| Event::QueuePositionRead(Some(QueuePosition { waiting, position, estimated_wait_seconds: None }));
    let poll = Effect::Timer { timer: Timer::Queue, delay_ms: flexdesk_core::session::QUEUE_POLL_MS };
    assert_eq!(s.handle(at(Some(2), true)), vec![Effect::Web(WebCall::QueuePosition(2)), poll.clone()]);
    assert_eq!(s.handle(at(Some(2), true)), vec![poll.clone()], "unchanged: not repeated");
    assert_eq!(s.handle(Event::TimerDue(Timer::Queue)), vec![read.clone()]);
    assert_eq!(s.handle(at(Some(1), true)), vec![Effect::Web(WebCall::QueuePosition(1)), poll.clone()], "the one ahead was accepted");
    // Accepted, the agent not joined yet: nothing to show, keep reading.
    assert_eq!(s.handle(at(None, false)), vec![poll.clone()]);
    // Not readable (an older auth server, a failure): the queue-wide figures, as below.
    assert_eq!(s.handle(Event::QueuePositionRead(None)), vec![Effect::Auth(AuthCall::ReadQueue)]);
    s.handle(Event::ParticipantJoined(participant("alice")));
    assert!(s.handle(Event::TimerDue(Timer::Queue)).is_empty(), "no more polling once an agent joined");
    assert!(s.handle(at(Some(1), true)).is_empty(), "a late answer changes nothing once an agent joined");
}

#[test]
fn waiting_shows_the_estimated_wait_in_minutes_when_the_server_has_one_else_the_position() {
    // Issue 23: Carbon 1.9.1 prefers `estimatedWaitTime` to `positionInQueue` (AvailabilityMessage.tsx: the
    // `agent_connectingMinutes` text, "Current wait time is {time} minutes"; `AgentAvailability.estimatedWaitTime` is
    // "the estimated wait time for the user in minutes"). The auth server answers in seconds: rounded up, at least 1.
    let mut s = joining();
    s.handle(Event::ConversationJoined);
    let at = |position: Option<u32>, secs: Option<u64>| {
        Event::QueuePositionRead(Some(QueuePosition { waiting: true, position, estimated_wait_seconds: secs }))
    };
    assert_eq!(visible(s.handle(at(Some(3), Some(150)))), vec![Effect::Web(WebCall::WaitMinutes(3))], "150 s: about 3 minutes");
    assert_eq!(visible(s.handle(at(Some(2), Some(170)))), vec![], "still 3 minutes: not repeated");
    assert_eq!(visible(s.handle(at(Some(1), Some(20)))), vec![Effect::Web(WebCall::WaitMinutes(1))], "under a minute: 1");
    assert_eq!(visible(s.handle(at(Some(1), None))), vec![Effect::Web(WebCall::QueuePosition(1))], "no estimate: the place");
    assert_eq!(visible(s.handle(at(None, Some(0)))), vec![Effect::Web(WebCall::WaitMinutes(1))], "an estimate without a place");
}

#[test]
fn waiting_shows_the_queue_position_the_data_allows_and_polls() {
    let mut s = joining();
    let fx = s.handle(Event::ConversationJoined);
    assert!(!fx.iter().any(|e| matches!(e, Effect::Web(_))), "Carbon's own localised waiting text stays: {fx:?}");
    // Without a per-session position (an auth server without GET /v1/sessions/{id}/queue): the queue length.
    assert_eq!(s.handle(Event::QueuePositionRead(None)), vec![Effect::Auth(AuthCall::ReadQueue)]);
    let figures = Availability { agents_available: 0, tasks_waiting: 3, longest_wait_seconds: 40 };
    let fx = s.handle(Event::QueueRead(Some(figures.clone())));
    assert_eq!(fx[0], Effect::Web(WebCall::QueuePosition(3)));
    assert_eq!(fx[1], Effect::Timer { timer: Timer::Queue, delay_ms: flexdesk_core::session::QUEUE_POLL_MS });
    assert_eq!(visible(s.handle(Event::QueueRead(Some(figures)))), vec![], "unchanged: not repeated");
    s.handle(Event::ParticipantJoined(participant("alice")));
    assert!(s.handle(Event::TimerDue(Timer::Queue)).is_empty(), "no more polling once an agent joined");
}

#[test]
fn closed_before_any_agent_joined_tells_the_user() {
    // Carbon shows "agent ended the chat" only while connected (`doEndChat`: `if (isConnected && ...)`).
    let mut s = waiting();
    let fx = s.handle(Event::ConversationClosed);
    assert!(matches!(&fx[0], Effect::Web(WebCall::SetError(ErrorStatus::Connecting { message: Text::ClosedBeforeAgent }))), "{fx:?}");
    assert!(fx.contains(&end_session()));
    assert!(s.is_ended());
}

#[test]
fn closed_after_an_agent_joined_is_agent_ended_chat() {
    let mut s = chatting();
    assert_eq!(s.handle(Event::ConversationClosed)[0], Effect::Web(WebCall::ChatEnded));
}

// ---- SDK connection states and send failures (rules moved from the shell) ----

#[test]
fn a_token_is_held_while_the_sdk_is_disconnecting() {
    let mut s = chatting();
    s.handle(Event::Connection(ConnState::Connected));
    s.handle(Event::TokenAboutToExpire);
    s.handle(Event::Connection(ConnState::Disconnecting));
    assert!(visible(s.handle(Event::TokenRefreshed(token("t2")))).is_empty());
    let fx = s.handle(Event::Connection(ConnState::Disconnected));
    assert_eq!(fx[0], Effect::Client(ClientCall::UpdateToken { token: "t2".into() }));
}

#[test]
fn connecting_after_having_been_connected_counts_as_lost() {
    let mut s = chatting();
    assert!(s.handle(Event::Connection(ConnState::Connecting)).is_empty(), "the first connect is not a loss");
    s.handle(Event::Connection(ConnState::Connected));
    assert_eq!(s.handle(Event::Connection(ConnState::Connecting)), vec![Effect::Web(WebCall::SetError(ErrorStatus::Disconnected(true)))]);
}

#[test]
fn send_failures_are_retried_unless_a_final_4xx() {
    for (status, retried) in [(None, true), (Some(429), true), (Some(503), true), (Some(400), false), (Some(413), false)] {
        let mut s = chatting();
        s.handle(user_msg("m1"));
        let fx = s.handle(Event::MessageFailed { id: "m1".into(), status });
        assert_eq!(fx.iter().any(|e| matches!(e, Effect::Timer { timer: Timer::Retry, .. })), retried, "{status:?}");
    }
}

// ---- Defect 10: upload limits configurable, Twilio's by default ----

#[test]
fn configured_upload_limits_are_checked_and_kept_across_chats() {
    use flexdesk_core::media::MediaLimits;
    let mut s = Session::with_limits(MediaLimits { max_bytes: 1 << 20, extensions: vec!["pdf".into()] });
    s.handle(Event::StartRequested(CreateSessionRequest::default()));
    s.handle(Event::SessionCreated(created()));
    let fx = s.handle(Event::UserFile { id: "f".into(), name: "a.png".into(), size: 5 });
    assert!(matches!(&fx[0], Effect::Web(WebCall::FileStatus { error: Some(e), .. }) if e.english().contains("Allowed: pdf")));
    s.handle(Event::EndRequested);
    s.handle(Event::StartRequested(CreateSessionRequest::default()));
    assert_eq!(s.limits().max_bytes, 1 << 20);
}

// ---- Rules out of the shell ----

#[test]
fn blank_user_text_is_not_sent_and_not_an_error() {
    // Carbon calls sendMessageToAgent with files and an empty text; the shell passes every text on.
    let mut s = chatting();
    assert!(s.handle(Event::UserMessage { id: "m1".into(), text: " \n\t".into() }).is_empty());
    assert_eq!(s.pending(), 0);
    let fx = s.handle(Event::UserMessage { id: "m2".into(), text: "hi".into() });
    assert!(fx.contains(&Effect::Client(ClientCall::SendMessage { id: "m2".into(), text: "hi".into() })), "{fx:?}");
}

#[test]
fn a_file_the_shell_cannot_send_is_reported_and_the_queue_moves_on() {
    // Was a made-up HTTP 400 from the shell, to steer the retry rule: now its own event, final by definition.
    let mut s = chatting();
    s.handle(Event::UserFile { id: "f1".into(), name: "a.pdf".into(), size: 10 });
    s.handle(user_msg("m2"));
    let fx = s.handle(Event::FileUnavailable { id: "f1".into() });
    assert!(matches!(&fx[0], Effect::Web(WebCall::FileStatus { id, error: Some(_) }) if id == "f1"), "{fx:?}");
    assert!(fx.iter().any(|e| matches!(e, Effect::Client(ClientCall::SendMessage { id, .. }) if id == "m2")), "{fx:?}");
    assert!(!fx.iter().any(|e| matches!(e, Effect::Timer { timer: Timer::Retry, .. })), "never retried: {fx:?}");
}

#[test]
fn a_send_confirmed_without_an_index_leaves_the_read_receipt_to_the_echo() {
    // Some SDK builds resolve `sendMessage` without the index (was "index 0" made up by the shell, which let an
    // agent's read horizon at 0 mark the customer's message read). The echo, matched by `flexdeskId`, tells it.
    let mut s = chatting();
    s.handle(user_msg("m1"));
    s.handle(Event::MessageSent { id: "m1".into(), index: None });
    assert_eq!(s.pending(), 0, "confirmed all the same");
    let read = |index| Event::AgentRead { agent_id: "alice".into(), index };
    assert!(s.handle(read(0)).is_empty(), "nothing of the customer's is known read");
    s.handle(Event::Message { index: 3, author: ME.into(), client_id: Some("m1".into()), handoff: None, content: text("hi") });
    assert!(s.handle(read(2)).is_empty());
    assert_eq!(s.handle(read(3)), vec![Effect::Web(WebCall::ShowAgentRead)]);
}

#[test]
fn an_expired_token_is_asked_for_again() {
    // The SDK's `tokenExpired` (the page slept past `tokenAboutToExpire`): its own event, the core's rule.
    let mut s = chatting();
    assert_eq!(s.handle(Event::TokenExpired), vec![refresh_call()]);
    assert!(s.handle(Event::TokenExpired).is_empty(), "one refresh at a time");
    assert!(Session::new().handle(Event::TokenExpired).is_empty(), "no chat, no token");
}

#[test]
fn files_picked_are_checked_at_once_even_before_a_chat() {
    // Carbon's `filesSelectedForUpload`: a file the chat cannot send is flagged before the user sends it.
    let file = |id: &str, name: &str, size| ChosenFile { id: id.into(), name: name.into(), size };
    let mut s = Session::new();
    let fx = s.handle(Event::FilesSelected(vec![file("f1", "x.exe", 3), file("f2", "ok.png", 3), file("f3", "big.pdf", 17 << 20)]));
    let flagged: Vec<(&str, &str)> = fx
        .iter()
        .filter_map(|e| match e {
            Effect::Web(WebCall::FileStatus { id, error: Some(t) }) => Some((id.as_str(), t.key())),
            _ => None,
        })
        .collect();
    assert_eq!(flagged, [("f1", "fileType"), ("f3", "fileTooLarge")], "{fx:?}");
    assert_eq!(fx.len(), 2, "nothing else: {fx:?}");
    assert_eq!(s.phase(), Phase::Idle);
}

#[test]
fn typing_is_sent_again_every_few_seconds_while_the_user_types() {
    // The SDK's `typing()` has no "stopped" signal and the agent's indicator lapses after about 5 s.
    let typing = Effect::Client(ClientCall::SendTyping);
    let again = Effect::Timer { timer: Timer::Typing, delay_ms: flexdesk_core::session::TYPING_REPEAT_MS };
    let mut s = chatting();
    assert_eq!(s.handle(Event::UserTyping(true)), vec![typing.clone(), again.clone()]);
    assert_eq!(s.handle(Event::UserTyping(true)), vec![typing.clone()], "one repeat timer at a time");
    assert_eq!(s.handle(Event::TimerDue(Timer::Typing)), vec![typing.clone(), again.clone()]);
    assert!(s.handle(Event::UserTyping(false)).is_empty(), "stopping sends nothing");
    assert!(s.handle(Event::TimerDue(Timer::Typing)).is_empty(), "and the repeats stop");
    assert_eq!(s.handle(Event::UserTyping(true)), vec![typing.clone(), again.clone()], "typing again starts them again");
    s.handle(Event::Connection(ConnState::Disconnected));
    assert!(s.handle(Event::TimerDue(Timer::Typing)).is_empty(), "nothing while the connection is down");
}
