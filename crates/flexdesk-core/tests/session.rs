//! One test (at least) per event of the session state machine.
//! Over 600 lines because it holds one short test per event (about 50), sharing `common`; the rules of one concern
//! have their own files (`carbon_rules.rs`, `tabs.rs`, `outcome.rs`, `suspended.rs`, `queue_poll.rs`).

mod common;
use common::*;
use flexdesk_core::wire::CreateSessionRequest;
use flexdesk_core::session::{refusal, refusal_text};
use flexdesk_core::texts::{Retry, Text};
use flexdesk_core::{
    AgentItem, AuthCall, AuthFailure, ClientCall, ConnState, Content, Effect, EndedBy, ErrorStatus, Event, Media, Outcome, Participant, PersistedState, Phase, Session, TabCall, Timer, WebCall,
};

#[test]
fn start_asks_the_auth_server_once() {
    let mut s = Session::new();
    let req = CreateSessionRequest { customer_name: "Ada".into(), ..Default::default() };
    assert_eq!(s.handle(Event::StartRequested(req.clone())), vec![Effect::Auth(AuthCall::CreateSession(req.clone()))]);
    assert_eq!(s.phase(), Phase::Starting);
    assert!(s.handle(Event::StartRequested(req)).is_empty(), "a second start while starting is ignored");
}

#[test]
fn session_created_joins_the_conversation_and_persists() {
    let mut s = starting();
    let fx = s.handle(Event::SessionCreated(created()));
    assert_eq!(fx[0], Effect::Web(WebCall::StartSettled), "startChat resolves once the chat exists");
    assert_eq!(fx[1], Effect::Client(ClientCall::Join { token: "tok-1".into(), conversation_sid: "CH1".into() }));
    assert_eq!(fx[2], Effect::Timer { timer: Timer::Join(1), delay_ms: flexdesk_core::session::JOIN_TIMEOUT_MS });
    assert_eq!(fx[3], Effect::Persist);
    let saved = s.saved_state().unwrap();
    assert_eq!((saved.session_id.as_str(), saved.credential.as_str()), ("sess-1", "cred-1"));
    assert_eq!(s.phase(), Phase::Joining);
}

#[test]
fn session_refused_is_a_connecting_error_with_customer_text_then_start_resolves() {
    // Defect 4: a rejected startChat shows Carbon's default text (`startChat`'s catch passes only `logInfo`); the
    // reason must go through setErrorStatus({type: CONNECTING, messageToUser}) and startChat must resolve.
    let mut s = starting();
    let busy = AuthFailure { status: 503, code: Some("twilio_busy".into()), retry_after_secs: Some(300) };
    let fx = s.handle(Event::SessionRefused(busy));
    let message = Text::TwilioBusy(Retry::InMinutes(5));
    assert_eq!(message.english(), "Our agents' system is busy. Please try again in about 5 minutes.");
    let outcome = Outcome { ended_by: EndedBy::Failure, agent: None, agent_joined: false, ticket: None };
    assert_eq!(
        fx,
        vec![Effect::Web(WebCall::SetError(ErrorStatus::Connecting { message })), Effect::Web(WebCall::StartSettled), Effect::Web(WebCall::Outcome(outcome))]
    );
    assert!(s.is_ended());
}

#[test]
fn refusal_codes_become_customer_text_never_the_server_message() {
    let text = |status, code: &str, retry| refusal_text(&AuthFailure { status, code: Some(code.into()), retry_after_secs: retry });
    assert_eq!(text(429, "too_many_sessions", Some(30)), "Too many chats with an agent are open right now. Please try again in a minute.");
    assert_eq!(text(403, "verification_required", None), "Please confirm you are not a robot before asking for an agent.");
    assert_eq!(text(502, "twilio_rejected", None), "Chat with an agent is not available right now. Please try again later.");
    assert_eq!(text(0, "", None), "The chat service cannot be reached. Check your connection and try again.");
    for code in ["twilio_rejected", "twilio_unavailable", "whatever"] {
        assert!(!text(502, code, None).to_lowercase().contains("twilio"));
    }
}

#[test]
fn each_refusal_code_has_its_message_key_and_retry() {
    let key = |status, code: Option<&str>, retry| {
        let t = refusal(&AuthFailure { status, code: code.map(Into::into), retry_after_secs: retry });
        (t.key(), t.retry().map(|r| r.key()), t.retry().map(|r| r.params()).unwrap_or_default())
    };
    assert_eq!(key(0, None, None), ("unreachable", None, vec![]));
    assert_eq!(key(0, Some("too_many_sessions"), None), ("unreachable", None, vec![]), "not reached wins");
    assert_eq!(key(429, Some("too_many_sessions"), Some(30)), ("tooManySessions", Some("retryInAMinute"), vec![]));
    assert_eq!(key(429, Some("rate_limited"), Some(91)), ("rateLimited", Some("retryInMinutes"), vec![("minutes", "2".to_string())]));
    assert_eq!(key(503, Some("twilio_busy"), None), ("twilioBusy", Some("retryLater"), vec![]));
    assert_eq!(key(403, Some("verification_required"), None), ("verificationRequired", None, vec![]));
    assert_eq!(key(403, Some("verification_failed"), None), ("verificationFailed", None, vec![]));
    assert_eq!(key(401, Some("identity_invalid"), None), ("identityInvalid", None, vec![]));
    assert_eq!(key(502, Some("twilio_rejected"), Some(600)), ("unavailable", Some("retryInMinutes"), vec![("minutes", "10".to_string())]));
    assert_eq!(key(500, None, None), ("unavailable", Some("retryLater"), vec![]));
    // Outside business hours Retry-After runs to the next opening: the customer is told "later", not "in 900 minutes".
    assert_eq!(key(503, Some("outside_business_hours"), Some(54_000)), ("unavailable", Some("retryLater"), vec![]));
}

#[test]
fn file_messages_have_their_keys_and_parameters() {
    let mut s = chatting();
    let fx = s.handle(Event::UserFile { id: "f1".into(), name: "big.png".into(), size: 17 << 20 });
    let Effect::Web(WebCall::FileStatus { error: Some(t), .. }) = &fx[0] else { panic!("{fx:?}") };
    assert_eq!((t.key(), t.params()), ("fileTooLarge", vec![("size", "17.0".to_string()), ("max", "16".to_string())]));
    let fx = s.handle(Event::UserFile { id: "f2".into(), name: "empty.pdf".into(), size: 0 });
    assert!(matches!(&fx[0], Effect::Web(WebCall::FileStatus { error: Some(Text::FileEmpty), .. })), "{fx:?}");
    let fx = s.handle(Event::UserFile { id: "f3".into(), name: "noext".into(), size: 1 });
    let Effect::Web(WebCall::FileStatus { error: Some(t), .. }) = &fx[0] else { panic!("{fx:?}") };
    assert_eq!(t.key(), "fileType");
    assert_eq!(t.params()[0], ("type", "(none)".to_string()));
    // A file Twilio refused for good: fileNotSent.
    let _ = s.handle(Event::UserFile { id: "f4".into(), name: "x.png".into(), size: 5 });
    let fx = s.handle(Event::MessageFailed { id: "f4".into(), status: Some(400) });
    assert!(fx.contains(&Effect::Web(WebCall::FileStatus { id: "f4".into(), error: Some(Text::FileNotSent) })), "{fx:?}");
}

#[test]
fn joined_conversation_waits_for_an_agent_and_syncs() {
    let mut s = joining();
    let fx = s.handle(Event::ConversationJoined);
    assert_eq!(fx[0], Effect::Client(ClientCall::SyncMessages { after: None }));
    let read = AuthCall::ReadPosition { session_id: "sess-1".into(), credential: "cred-1".into() };
    assert_eq!(fx[1], Effect::Auth(read), "the session's own place in the queue is read while waiting");
    assert_eq!(s.phase(), Phase::Waiting);
}

#[test]
fn join_failure_is_retried_with_a_new_client_then_ends_with_a_connecting_error() {
    let mut s = joining();
    for _ in 0..flexdesk_core::session::MAX_REJOINS {
        let fx = visible(s.handle(Event::JoinFailed { message: "denied".into() }));
        assert_eq!(fx, vec![Effect::Client(ClientCall::Close), Effect::Auth(AuthCall::RefreshToken { session_id: "sess-1".into(), credential: "cred-1".into() })]);
        let fx = visible(s.handle(Event::TokenRefreshed(token("t"))));
        assert_eq!(fx, vec![Effect::Client(ClientCall::Join { token: "t".into(), conversation_sid: "CH1".into() })]);
    }
    let fx = visible(s.handle(Event::JoinFailed { message: "denied".into() }));
    let message = Text::ChatFailed;
    assert_eq!(fx[0], Effect::Web(WebCall::SetError(ErrorStatus::Connecting { message })), "the SDK's text is not for the customer");
    assert_eq!(fx[1], Effect::Auth(AuthCall::EndSession { session_id: "sess-1".into(), credential: "cred-1".into() }));
    assert!(s.is_ended());
}

#[test]
fn a_client_that_gives_up_mid_chat_is_replaced_and_nothing_is_lost() {
    let mut s = chatting();
    s.handle(user_msg("m1")); // in flight when the client dies
    let fx = visible(s.handle(Event::ClientFailed { message: "terminal".into() }));
    assert_eq!(
        fx,
        vec![
            Effect::Client(ClientCall::Close),
            Effect::Web(WebCall::SetError(ErrorStatus::Disconnected(true))),
            Effect::Auth(AuthCall::RefreshToken { session_id: "sess-1".into(), credential: "cred-1".into() })
        ]
    );
    assert!(!s.is_ended());
    s.handle(Event::TokenRefreshed(token("t2")));
    s.handle(Event::Connection(ConnState::Connected));
    let fx = s.handle(Event::ConversationJoined);
    assert_eq!(s.phase(), Phase::Chatting, "the agent is still there");
    assert!(sends(&fx).is_empty(), "not before the sync: it may have arrived");
    assert_eq!(sends(&s.handle(Event::Synced)), vec!["m1"], "the message in flight is sent again");
}

#[test]
fn a_refused_rejoin_after_an_agent_joined_ends_the_session_but_never_reports_connecting() {
    // Defect 3: after agentJoined, a CONNECTING error clears Carbon's chatStarted and its endChat then returns
    // early (HumanAgentServiceImpl.endChat: `if (!this.chatStarted ...) return`): the user would be stuck.
    let mut s = chatting();
    let fx = visible(s.handle(Event::ClientFailed { message: "terminal".into() }));
    assert!(fx.contains(&Effect::Web(WebCall::SetError(ErrorStatus::Disconnected(true)))));
    let fx = visible(s.handle(Event::TokenRefused(refused())));
    assert!(!fx.iter().any(|e| matches!(e, Effect::Web(WebCall::SetError(ErrorStatus::Connecting { .. })))), "{fx:?}");
    assert!(fx.contains(&Effect::Auth(AuthCall::EndSession { session_id: "sess-1".into(), credential: "cred-1".into() })));
    assert!(s.is_ended());
    assert!(s.handle(Event::EndRequested).is_empty(), "the user's end (from the header) then just closes Carbon's side");
}

#[test]
fn agent_joined_is_shown_once() {
    let mut s = waiting();
    let fx = visible(s.handle(Event::ParticipantJoined(participant("alice"))));
    assert_eq!(fx, vec![Effect::Web(WebCall::AgentJoined(agent("alice")))]);
    assert_eq!(s.phase(), Phase::Chatting);
    assert!(visible(s.handle(Event::ParticipantJoined(participant("alice")))).is_empty());
}

#[test]
fn the_last_agent_leaving_an_open_conversation_is_a_cold_transfer() {
    // Defect 9: in Flex an agent leaves a chat that stays open only to transfer it (ending closes the conversation).
    // Issue 23, defect 8: the web chat hears that the agent left (`agentLeftChat`, the only call that clears the
    // agent's profile in Carbon) before the transfer.
    let mut s = chatting();
    assert_eq!(
        visible(s.handle(Event::ParticipantLeft(participant("alice")))),
        vec![Effect::Web(WebCall::AgentLeft), Effect::Web(WebCall::BeginTransfer(None))]
    );
    assert!(!s.is_ended(), "an agent leaving does not end the chat");
    assert!(visible(s.handle(Event::ParticipantLeft(participant("alice")))).is_empty());
}

#[test]
fn a_cold_transfer_then_a_close_by_flex_ends_the_chat_with_no_agent_left_in_the_web_chat() {
    // Issue 23, defect 8: after the cold transfer the web chat holds no agent (agentLeftChat was called), and Flex
    // closing the conversation ends the chat there as a connected chat (`agentEndedChat`, Carbon's isConnected is
    // still true) without announcing anyone new.
    let mut s = chatting();
    let left = visible(s.handle(Event::ParticipantLeft(participant("alice"))));
    assert!(left.contains(&Effect::Web(WebCall::AgentLeft)), "agentLeftChat on a cold transfer: {left:?}");
    let closed = visible(s.handle(Event::ConversationClosed));
    assert_eq!(closed.first(), Some(&Effect::Web(WebCall::ChatEnded)), "{closed:?}");
    assert!(!closed.iter().any(|e| matches!(e, Effect::Web(WebCall::AgentJoined(_)))), "{closed:?}");
    assert!(s.is_ended());
}

#[test]
fn a_reload_during_a_cold_transfer_keeps_the_chat_connected_so_a_later_end_is_not_connecting() {
    // Issue 23, defect 4: after `agentLeftChat` Carbon still counts the chat as connected (humanAgentReducers.ts
    // HA_SET_HUMAN_AGENT_LEFT_CHAT clears only the profile; `isConnected` is persisted), so after a reload it calls
    // `reconnect` (HumanAgentServiceImpl.ts `handleHydration`: `if (isConnected)`). A close or failure must then be
    // reported as for a connected chat: a CONNECTING error would clear `chatStarted` and Carbon's `endChat` would
    // return early, leaving the customer stuck.
    let mut s = chatting();
    s.handle(Event::ParticipantLeft(participant("alice")));
    let saved = s.saved_state().unwrap();
    assert_eq!(saved.agent, None, "no agent in the header after the cold transfer");
    let resume = |saved: &PersistedState| {
        let mut s = Session::new();
        s.handle(Event::Resume(saved.clone()));
        s.handle(Event::TokenRefreshed(token("tok-2")));
        s.handle(Event::ConversationJoined);
        s
    };
    let mut closed = resume(&saved);
    let fx = visible(closed.handle(Event::ConversationClosed));
    assert_eq!(fx.first(), Some(&Effect::Web(WebCall::ChatEnded)), "ended as a connected chat: {fx:?}");
    assert!(!fx.iter().any(|e| matches!(e, Effect::Web(WebCall::SetError(ErrorStatus::Connecting { .. })))), "{fx:?}");
    let mut failed = resume(&saved);
    failed.handle(Event::ClientFailed { message: "terminal".into() });
    let fx = visible(failed.handle(Event::TokenRefused(refused())));
    assert!(!fx.iter().any(|e| matches!(e, Effect::Web(WebCall::SetError(ErrorStatus::Connecting { .. })))), "{fx:?}");
    // The connected chat is saved again as such: a second reload keeps it.
    assert!(resume(&saved).saved_state().unwrap().connected);
}

#[test]
fn a_supervisor_joining_and_leaving_is_no_transfer_and_their_words_are_a_status_line() {
    // Issue 23, defect 7: Flex's participant roles are `agent`, `customer`, `supervisor`, `external`, `unknown`
    // (twilio-oai `interaction_channel_participant_enum_type`); only an agent is someone the customer chats with.
    let mut s = chatting();
    let role = |id: &str, t: &str| Participant { member_type: Some(t.into()), ..participant(id) };
    for (id, t) in [("sam", "supervisor"), ("ext", "external"), ("who", "unknown")] {
        assert!(visible(s.handle(Event::ParticipantJoined(role(id, t)))).is_empty(), "{t} joining");
    }
    let fx = visible(s.handle(agent_msg(5, "sam", "Supervisor here, all good.")));
    assert_eq!(fx, vec![Effect::Web(WebCall::ShowAgentMessage { agent_id: None, items: vec![AgentItem::Text("Supervisor here, all good.".into())] })]);
    assert!(visible(s.handle(Event::ParticipantLeft(role("sam", "supervisor")))).is_empty(), "the supervisor leaving");
    assert_eq!(s.current_agent().map(|a| a.id.as_str()), Some("alice"));
    // Alice leaving while only the supervisor is left is still a cold transfer: the supervisor does not carry on.
    assert_eq!(
        visible(s.handle(Event::ParticipantLeft(participant("alice")))),
        vec![Effect::Web(WebCall::AgentLeft), Effect::Web(WebCall::BeginTransfer(None))]
    );
}

#[test]
fn warm_transfer_begins_transfer_then_joins_and_the_old_agent_leaving_is_silent() {
    let mut s = chatting();
    let fx = visible(s.handle(Event::ParticipantJoined(participant("bob"))));
    assert_eq!(fx, vec![Effect::Web(WebCall::BeginTransfer(Some(agent("bob")))), Effect::Web(WebCall::AgentJoined(agent("bob")))]);
    assert!(visible(s.handle(Event::ParticipantLeft(participant("alice")))).is_empty());
    assert_eq!(s.current_agent().map(|a| a.id.as_str()), Some("bob"));
    assert!(!s.is_ended());
}

#[test]
fn agent_message_is_shown_once_per_index() {
    let mut s = chatting();
    let fx = visible(s.handle(agent_msg(3, "alice", "hi")));
    assert_eq!(fx, vec![Effect::Web(WebCall::ShowAgentMessage { agent_id: Some("alice".into()), items: vec![AgentItem::Text("hi".into())] })]);
    assert!(visible(s.handle(agent_msg(3, "alice", "hi"))).is_empty());
}

#[test]
fn own_messages_are_not_shown_back() {
    let mut s = chatting();
    assert!(visible(s.handle(agent_msg(4, ME, "mine"))).is_empty());
}

#[test]
fn messages_from_authors_who_are_not_joined_agents_are_status_lines_never_the_current_agent() {
    // Issue 23, defect 6: a Studio greeting, a supervisor or the system writes in the conversation. Carbon would show
    // a message sent with an agent id no agent joined under as the current agent's (before any agent, as the bot's).
    let notice = |text: &str| Effect::Web(WebCall::ShowAgentMessage { agent_id: None, items: vec![AgentItem::Text(text.into())] });
    let mut s = waiting();
    assert_eq!(visible(s.handle(agent_msg(0, "system", "Thanks, an agent will be with you shortly."))), vec![notice("Thanks, an agent will be with you shortly.")]);
    s.handle(Event::ParticipantJoined(participant("alice")));
    assert_eq!(visible(s.handle(agent_msg(1, "supervisor-sam", "Quality check."))), vec![notice("Quality check.")]);
    let from_alice = visible(s.handle(agent_msg(2, "alice", "Hello, Alice here.")));
    assert_eq!(from_alice, vec![Effect::Web(WebCall::ShowAgentMessage { agent_id: Some("alice".into()), items: vec![AgentItem::Text("Hello, Alice here.".into())] })]);
    // An agent who joined and left (cold transfer) is still named on their late message: Carbon keeps their profile.
    s.handle(Event::ParticipantLeft(participant("alice")));
    let late = visible(s.handle(agent_msg(3, "alice", "One more thing.")));
    assert_eq!(late, vec![Effect::Web(WebCall::ShowAgentMessage { agent_id: Some("alice".into()), items: vec![AgentItem::Text("One more thing.".into())] })]);
}

#[test]
fn after_a_reload_the_saved_agent_is_still_named_on_their_messages() {
    let mut s = Session::new();
    let saved = PersistedState {
        session_id: "sess-1".into(),
        credential: "cred-1".into(),
        conversation_sid: "CH1".into(),
        identity: ME.into(),
        agent: Some(agent("alice")),
        last_shown: Some(4),
        outbox: vec![],
        connected: true,
        media_link_query: None,
        by_sms: false,
    };
    s.handle(Event::Resume(saved));
    s.handle(Event::TokenRefreshed(token("tok-2")));
    s.handle(Event::ConversationJoined);
    let fx = visible(s.handle(agent_msg(5, "alice", "Still here.")));
    assert_eq!(fx, vec![Effect::Web(WebCall::ShowAgentMessage { agent_id: Some("alice".into()), items: vec![AgentItem::Text("Still here.".into())] })]);
}

#[test]
fn hand_off_messages_are_never_shown_whoever_wrote_them() {
    // Issue 22: the auth server posts the bot's hand-off into the conversation for the agent, each message with the
    // attributes {"flexdesk": {"handoff": kind}}; the customer saw all of it with the bot already.
    let handoff = |index, author: &str, kind: &str| Event::Message {
        index,
        author: author.into(),
        client_id: None,
        handoff: Some(kind.into()),
        content: text("from the bot"),
    };
    for mut s in [waiting(), chatting()] {
        for (index, author, kind) in [(0, "bot", "note"), (1, "bot", "transcript"), (2, ME, "request"), (3, "alice", "note")] {
            let fx = s.handle(handoff(index, author, kind));
            assert!(visible(fx).is_empty(), "hand-off {kind} by {author} shown");
        }
        // Replayed by a sync: still not shown; the agent's own message after them is.
        assert!(visible(s.handle(handoff(1, "bot", "transcript"))).is_empty());
        let fx = visible(s.handle(agent_msg(4, "alice", "Hello, I read your chat with the bot")));
        assert_eq!(fx.len(), 1, "{fx:?}");
        assert_eq!(s.saved_state().unwrap().last_shown, Some(4));
    }
}

#[test]
fn agent_media_is_shown() {
    let mut s = chatting();
    let media = Media { sid: String::new(), filename: "a.png".into(), content_type: "image/png".into(), url: "u".into() };
    let content = Content { body: None, media: vec![media] };
    let fx = visible(s.handle(Event::Message { index: 1, author: "alice".into(), client_id: None, handoff: None, content }));
    let image = AgentItem::Image { url: "u".into(), title: "a.png".into() };
    assert_eq!(fx, vec![Effect::Web(WebCall::ShowAgentMessage { agent_id: Some("alice".into()), items: vec![image] })]);
}

#[test]
fn agent_typing_is_shown_on_and_off() {
    let mut s = chatting();
    assert_eq!(s.handle(Event::AgentTyping { agent_id: "alice".into(), typing: true }), vec![Effect::Web(WebCall::ShowAgentTyping(true))]);
    assert_eq!(s.handle(Event::AgentTyping { agent_id: "alice".into(), typing: false }), vec![Effect::Web(WebCall::ShowAgentTyping(false))]);
}

#[test]
fn agent_read_marks_user_messages_read_once_they_are_covered() {
    let mut s = chatting();
    s.handle(user_msg("m1"));
    s.handle(Event::MessageSent { id: "m1".into(), index: Some(5) });
    assert!(s.handle(Event::AgentRead { agent_id: "alice".into(), index: 4 }).is_empty(), "not yet read");
    assert_eq!(s.handle(Event::AgentRead { agent_id: "alice".into(), index: 5 }), vec![Effect::Web(WebCall::ShowAgentRead)]);
    assert!(s.handle(Event::AgentRead { agent_id: "alice".into(), index: 5 }).is_empty(), "no repeat");
}

#[test]
fn user_message_is_sent_at_once_when_joined_one_at_a_time() {
    let mut s = chatting();
    assert_eq!(sends(&s.handle(user_msg("m1"))), vec!["m1"]);
    assert!(sends(&s.handle(user_msg("m2"))).is_empty(), "m1 still in flight");
    assert_eq!(sends(&s.handle(Event::MessageSent { id: "m1".into(), index: Some(1) })), vec!["m2"]);
}

#[test]
fn user_messages_before_join_are_queued_then_sent_in_order() {
    let mut s = starting();
    s.handle(user_msg("m1"));
    s.handle(Event::SessionCreated(created()));
    s.handle(user_msg("m2"));
    assert_eq!(s.pending(), 2);
    assert_eq!(sends(&s.handle(Event::ConversationJoined)), vec!["m1"]);
    assert_eq!(sends(&s.handle(Event::MessageSent { id: "m1".into(), index: Some(0) })), vec!["m2"]);
    assert!(sends(&s.handle(Event::MessageSent { id: "m2".into(), index: Some(1) })).is_empty());
    assert_eq!(s.pending(), 0);
}

#[test]
fn oversized_or_empty_user_message_is_refused() {
    let mut s = chatting();
    let big = "x".repeat(flexdesk_core::session::MAX_BODY_BYTES + 1);
    assert_eq!(
        s.handle(Event::UserMessage { id: "big".into(), text: big }),
        vec![Effect::Web(WebCall::SetError(ErrorStatus::UserMessage { id: "big".into() }))]
    );
    assert!(s.handle(Event::UserMessage { id: "e".into(), text: "  ".into() }).is_empty());
}

#[test]
fn user_file_is_checked_then_sent_and_confirmed() {
    let mut s = chatting();
    let fx = s.handle(Event::UserFile { id: "f1".into(), name: "x.exe".into(), size: 5 });
    assert!(matches!(&fx[0], Effect::Web(WebCall::FileStatus { id, error: Some(e) }) if id == "f1" && e.key() == "fileType" && e.english().contains("exe")));
    assert_eq!(sends(&s.handle(Event::UserFile { id: "f2".into(), name: "x.png".into(), size: 5 })), vec!["f2"]);
    let fx = s.handle(Event::MessageSent { id: "f2".into(), index: Some(2) });
    assert!(fx.contains(&Effect::Web(WebCall::FileStatus { id: "f2".into(), error: None })));
}

#[test]
fn after_a_reload_queued_text_waits_for_the_sync_that_drops_what_already_arrived() {
    // Issue 23, item 11: a message saved unconfirmed may have reached Twilio before the reload; its echo, matched by
    // `flexdeskId`, comes with the sync after the join. Sending before the sync would send it twice.
    let mut saved = chatting().saved_state().unwrap();
    saved.outbox = vec![
        flexdesk_core::session::Outgoing::Text { id: "m1".into(), text: "arrived".into() },
        flexdesk_core::session::Outgoing::Text { id: "m2".into(), text: "did not".into() },
    ];
    let mut s = Session::new();
    s.handle(Event::Resume(saved));
    s.handle(Event::TokenRefreshed(token("tok-2")));
    assert!(sends(&s.handle(Event::ConversationJoined)).is_empty(), "nothing sent before the sync");
    let echo = Event::Message { index: 7, author: ME.into(), client_id: Some("m1".into()), handoff: None, content: text("arrived") };
    assert!(sends(&s.handle(echo)).is_empty());
    assert_eq!(sends(&s.handle(Event::Synced)), vec!["m2"], "only what did not arrive, after the sync");
    assert!(sends(&s.handle(Event::Synced)).is_empty(), "a later sync sends nothing again");
}

#[test]
fn files_still_unsent_when_the_chat_ends_lose_their_spinner() {
    // Issue 23, item 11: Carbon 1.9.1 shows a file's spinner until `setFileUploadStatus` names it (it accepts the
    // call after the end too); a file in flight or queued at the end would spin for ever.
    let failed = |id: &str| Effect::Web(WebCall::FileStatus { id: id.into(), error: Some(Text::FileNotSent) });
    let file = |id: &str| Event::UserFile { id: id.into(), name: format!("{id}.png"), size: 5 };
    let mut ended = [Event::EndRequested, Event::ConversationClosed, Event::TakenElsewhere { session_id: "sess-1".into() }].into_iter().map(|end| {
        let mut s = chatting();
        s.handle(file("f1"));
        s.handle(user_msg("m1"));
        s.handle(file("f2"));
        s.handle(end)
    });
    for fx in ended.by_ref() {
        assert!(fx.contains(&failed("f1")) && fx.contains(&failed("f2")), "{fx:?}");
    }
    // Ended while the chat was still being created: its queued files too, once.
    let mut s = starting();
    s.handle(file("f3"));
    assert!(s.handle(Event::EndRequested).contains(&failed("f3")));
    s.handle(Event::StartRequested(CreateSessionRequest::default()));
    assert!(!s.handle(Event::EndRequested).contains(&failed("f3")), "told once");
}

#[test]
fn retryable_failure_requeues_and_resends_after_reconnect() {
    let mut s = chatting();
    s.handle(user_msg("m1"));
    s.handle(user_msg("m2"));
    let fx = s.handle(Event::MessageFailed { id: "m1".into(), status: None });
    assert_eq!(fx.iter().filter(|e| matches!(e, Effect::Timer  { timer: Timer::Retry, delay_ms: 500 })).count(), 1);
    assert!(sends(&fx).is_empty());
    assert_eq!(s.pending(), 2);
    s.handle(Event::Connection(ConnState::Disconnected));
    assert_eq!(sends(&s.handle(Event::Connection(ConnState::Connected))), vec!["m1"], "the failed one goes first");
}

#[test]
fn retryable_failure_is_retried_with_backoff_when_the_connection_stays_up() {
    let mut s = chatting();
    s.handle(user_msg("m1"));
    let delays: Vec<u64> = (0..3)
        .flat_map(|_| {
            let fx = s.handle(Event::MessageFailed { id: "m1".into(), status: None });
            let again = s.handle(Event::TimerDue(Timer::Retry));
            assert_eq!(sends(&again), vec!["m1"]);
            fx.into_iter().filter_map(|e| match e { Effect::Timer  { timer: Timer::Retry, delay_ms } => Some(delay_ms), _ => None })
        })
        .collect();
    assert_eq!(delays, vec![500, 1000, 2000]);
}

#[test]
fn final_failure_is_a_user_message_error_and_the_queue_moves_on() {
    let mut s = chatting();
    s.handle(user_msg("m1"));
    s.handle(user_msg("m2"));
    let fx = s.handle(Event::MessageFailed { id: "m1".into(), status: Some(400) });
    assert!(fx.contains(&Effect::Web(WebCall::SetError(ErrorStatus::UserMessage { id: "m1".into() }))));
    assert_eq!(sends(&fx), vec!["m2"]);
}

#[test]
fn user_typing_sends_typing_only_when_on() {
    let mut s = chatting();
    let fx = s.handle(Event::UserTyping(true));
    assert_eq!(fx[0], Effect::Client(ClientCall::SendTyping), "{fx:?}");
    assert!(s.handle(Event::UserTyping(false)).is_empty());
    assert!(starting().handle(Event::UserTyping(true)).is_empty(), "nothing to type into before joining");
}

#[test]
fn user_read_advances_the_horizon_to_the_newest_shown_message_once() {
    let mut s = chatting();
    assert!(s.handle(Event::UserRead).is_empty(), "nothing shown yet");
    s.handle(agent_msg(2, "alice", "a"));
    s.handle(agent_msg(7, "alice", "b"));
    assert_eq!(s.handle(Event::UserRead), vec![Effect::Client(ClientCall::SetReadHorizon { index: 7 })]);
    assert!(s.handle(Event::UserRead).is_empty());
}

#[test]
fn connection_lost_and_restored_toggle_disconnected_and_resync() {
    let mut s = chatting();
    s.handle(agent_msg(1, "alice", "a"));
    assert_eq!(s.handle(Event::Connection(ConnState::Disconnected)), vec![Effect::Web(WebCall::SetError(ErrorStatus::Disconnected(true)))]);
    assert!(sends(&s.handle(user_msg("m1"))).is_empty(), "queued while down");
    let fx = s.handle(Event::Connection(ConnState::Connected));
    assert_eq!(fx[0], Effect::Web(WebCall::SetError(ErrorStatus::Disconnected(false))));
    assert_eq!(fx[1], Effect::Client(ClientCall::SyncMessages { after: Some(1) }));
    assert_eq!(sends(&fx), vec!["m1"]);
}

#[test]
fn connection_lost_while_waiting_does_not_end_the_chat() {
    let mut s = waiting();
    let fx = s.handle(Event::Connection(ConnState::Disconnected));
    assert!(fx.is_empty(), "a DISCONNECTED error while connecting would end the chat in Carbon: {fx:?}");
    assert!(!fx.iter().any(|e| matches!(e, Effect::Web(WebCall::SetError(_)))));
}

#[test]
fn token_about_to_expire_refreshes_once_and_updates_the_client() {
    let mut s = chatting();
    let refresh = Effect::Auth(AuthCall::RefreshToken { session_id: "sess-1".into(), credential: "cred-1".into() });
    assert_eq!(s.handle(Event::TokenAboutToExpire), vec![refresh]);
    assert!(s.handle(Event::TokenAboutToExpire).is_empty(), "one refresh at a time");
    assert_eq!(s.handle(Event::TokenRefreshed(token("tok-2"))), vec![Effect::Client(ClientCall::UpdateToken { token: "tok-2".into() })]);
}

#[test]
fn token_refused_while_chatting_shows_disconnected_and_ends_the_session_so_the_user_can_end() {
    // Defect 3: was "disconnected" forever with the session still held.
    let mut s = chatting();
    s.handle(Event::TokenAboutToExpire);
    let fx = s.handle(Event::TokenRefused(refused()));
    assert_eq!(fx[0], Effect::Web(WebCall::SetError(ErrorStatus::Disconnected(true))));
    assert!(fx.contains(&Effect::Client(ClientCall::Close)));
    assert!(s.is_ended());
}

#[test]
fn a_transient_refresh_failure_is_asked_again_later() {
    let mut s = chatting();
    s.handle(Event::TokenAboutToExpire);
    let down = AuthFailure { status: 0, code: None, retry_after_secs: None };
    assert_eq!(s.handle(Event::TokenRefused(down)), vec![Effect::Timer { timer: Timer::Refresh, delay_ms: 2000 }]);
    assert_eq!(s.handle(Event::TimerDue(Timer::Refresh)), vec![Effect::Auth(AuthCall::RefreshToken { session_id: "sess-1".into(), credential: "cred-1".into() })]);
    assert!(!s.is_ended());
}

#[test]
fn user_end_ends_the_session_quietly() {
    let mut s = chatting();
    let fx = s.handle(Event::EndRequested);
    assert_eq!(
        fx,
        vec![
            Effect::Auth(AuthCall::EndSession { session_id: "sess-1".into(), credential: "cred-1".into() }),
            Effect::Client(ClientCall::Close),
            Effect::Persist,
            Effect::Web(WebCall::Outcome(Outcome {
                ended_by: EndedBy::Customer,
                agent: Some(agent("alice")),
                agent_joined: true,
                ticket: Some(flexdesk_core::SessionTicket { session_id: "sess-1".into(), credential: "cred-1".into() }),
            })),
        ]
    );
    assert!(s.is_ended());
    assert_eq!(s.saved_state(), None, "nothing left to resume");
}

#[test]
fn conversation_closed_by_agent_tells_the_web_chat() {
    let mut s = chatting();
    let fx = s.handle(Event::ConversationClosed);
    assert_eq!(fx[0], Effect::Web(WebCall::ChatEnded));
    assert!(fx.contains(&Effect::Client(ClientCall::Close)));
    assert!(s.is_ended());
}

#[test]
fn nothing_after_the_end_but_a_new_start_works() {
    let mut s = chatting();
    s.handle(Event::ConversationClosed);
    for e in [agent_msg(9, "alice", "late"), Event::AgentTyping { agent_id: "alice".into(), typing: true }, user_msg("m"), Event::ConversationClosed, Event::EndRequested] {
        assert!(s.handle(e).is_empty());
    }
    let req = CreateSessionRequest { customer_name: "Ada".into(), ..Default::default() };
    assert_eq!(s.handle(Event::StartRequested(req.clone())), vec![Effect::Auth(AuthCall::CreateSession(req))]);
}

#[test]
fn resume_refreshes_then_rejoins_and_replays_only_what_was_missed() {
    let mut before = chatting();
    before.handle(agent_msg(4, "alice", "seen"));
    before.handle(user_msg("m1")); // in flight when the page reloads
    let saved = before.saved_state().unwrap();

    let mut s = Session::new();
    assert_eq!(
        s.handle(Event::Resume(saved)),
        vec![
            Effect::Tab(TabCall::Announce { session_id: "sess-1".into() }),
            Effect::Auth(AuthCall::RefreshToken { session_id: "sess-1".into(), credential: "cred-1".into() })
        ]
    );
    assert_eq!(visible(s.handle(Event::TokenRefreshed(token("t2")))), vec![Effect::Client(ClientCall::Join { token: "t2".into(), conversation_sid: "CH1".into() })]);
    let fx = s.handle(Event::ConversationJoined);
    assert_eq!(s.phase(), Phase::Chatting, "the agent is remembered");
    assert!(fx.contains(&Effect::Client(ClientCall::SyncMessages { after: Some(4) })));
    assert!(sends(&fx).is_empty(), "not before the sync");
    assert_eq!(sends(&s.handle(Event::Synced)), vec!["m1"], "the unconfirmed message is still delivered");
    assert!(visible(s.handle(agent_msg(4, "alice", "seen"))).is_empty());
    assert_eq!(visible(s.handle(agent_msg(5, "alice", "new"))).len(), 1);
}

#[test]
fn resume_drops_pending_messages_that_already_reached_twilio() {
    let mut before = chatting();
    before.handle(user_msg("m1"));
    let saved = before.saved_state().unwrap();
    let mut s = Session::new();
    s.handle(Event::Resume(saved));
    s.handle(Event::TokenRefreshed(token("t2")));
    s.handle(Event::ConversationJoined);
    // The sync's replay shows m1 had arrived before the reload: it is not sent again, and m2 goes after the sync.
    s.handle(Event::Message { index: 3, author: ME.into(), client_id: Some("m1".into()), handoff: None, content: text("text of m1") });
    assert!(sends(&s.handle(user_msg("m2"))).is_empty());
    assert_eq!(sends(&s.handle(Event::Synced)), vec!["m2"]);
}

#[test]
fn resume_of_an_ended_chat_forgets_it() {
    let saved = chatting().saved_state().unwrap();
    let mut s = Session::new();
    s.handle(Event::Resume(saved));
    assert_eq!(s.handle(Event::TokenRefused(refused())), vec![Effect::Web(WebCall::ReconnectSettled(false)), Effect::Persist]);
    assert!(s.is_ended());
}

#[test]
fn a_late_delivery_confirmation_after_the_end_does_nothing() {
    // Found by fuzz/core_events: the confirmation re-saved the ended chat, so a reload tried to resume it.
    for late in [
        Event::MessageSent { id: "u1".into(), index: Some(3) },
        Event::MessageFailed { id: "u1".into(), status: None },
        Event::MessageFailed { id: "u1".into(), status: Some(400) },
    ] {
        let mut s = waiting();
        s.handle(user_msg("u1"));
        s.handle(Event::ConversationClosed);
        assert!(s.handle(late).is_empty());
        assert_eq!(s.saved_state(), None);
    }
}
