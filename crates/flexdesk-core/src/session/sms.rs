//! "Continue by SMS" (issue 28, item 4): the customer leaves a phone number while waiting or chatting, the auth
//! server adds an SMS participant to the same conversation (`POST /v1/sessions/{id}/sms`), and from then on the chat
//! goes on by SMS as well: same task, same agent, the agent's replies reach the phone.
//!
//! The rules: only a live chat (one with credentials: waiting, chatting, or reconnecting) can go on by SMS; the
//! number is checked here first ([`crate::phone::e164`], so a typo never leaves the page) and again by the server
//! (with its country allowlist); the page's promise is settled exactly once per request ([`WebCall::SmsSettled`]);
//! once the server added the number, the web chat says so ([`Text::ContinuesBySms`]) and the chat is marked
//! [`Session::continues_by_sms`], saved across a reload. That mark is what the page and the "ghost chat" rule (issue
//! 28, item 1) read: a chat that goes on by SMS is not abandoned when its last tab goes away.

use super::effect::{AuthCall, Effect, WebCall};
use super::event::AuthFailure;
use super::{Link, Session};
use crate::texts::Text;
use crate::wire::ErrorCode;

impl Session {
    /// True once the auth server added the customer's phone to this chat: the chat goes on by SMS, so a closed tab
    /// is not the customer leaving it.
    pub fn continues_by_sms(&self) -> bool {
        self.chat().is_some_and(|c| c.by_sms)
    }

    /// [`super::Event::SmsRequested`].
    pub(super) fn sms_requested(&mut self, typed: &str, out: &mut Vec<Effect>) {
        let Link::Live(chat) = &self.link else {
            return settle(Err(ErrorCode::SessionEnded.as_str().into()), out);
        };
        match crate::phone::e164(typed) {
            None => settle(Err(ErrorCode::PhoneInvalid.as_str().into()), out),
            Some(phone) => {
                let c = &chat.creds;
                out.push(Effect::Auth(AuthCall::ContinueBySms { session_id: c.session_id.clone(), credential: c.credential.clone(), phone }));
            }
        }
    }

    /// [`super::Event::SmsAnswered`]: `Ok` with the masked number the server added.
    pub(super) fn sms_answered(&mut self, answer: Result<String, AuthFailure>, out: &mut Vec<Effect>) {
        match (answer, &mut self.link) {
            (Ok(masked), Link::Live(chat)) => {
                chat.by_sms = true;
                out.push(Effect::Persist);
                out.push(Effect::Web(WebCall::Notice(Text::ContinuesBySms { phone: masked.clone() })));
                settle(Ok(masked), out);
            }
            // The chat ended while the server added the number: the phone gets nothing more (the conversation is
            // closed), so the page hears that it is over.
            (Ok(_), _) => settle(Err(ErrorCode::SessionEnded.as_str().into()), out),
            // Status 0: the server could not be reached (no code to give).
            (Err(f), _) => settle(Err(f.code.unwrap_or_else(|| "unreachable".into())), out),
        }
    }
}

fn settle(result: Result<String, String>, out: &mut Vec<Effect>) {
    out.push(Effect::Web(WebCall::SmsSettled(result)));
}
