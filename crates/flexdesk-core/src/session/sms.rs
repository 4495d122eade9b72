//! "Continue by SMS" (issue 28, item 4): the customer leaves a phone number while waiting or chatting, the auth
//! server adds an SMS participant to the same conversation (`POST /v1/sessions/{id}/sms`), and from then on the chat
//! goes on by SMS as well: same task, same agent, the agent's replies reach the phone.
//!
//! The rules: only a live chat (one with credentials: waiting, chatting, or reconnecting) can go on by SMS; the
//! number is checked here first ([`crate::phone::e164`], so a typo never leaves the page) and again by the server
//! (with its country allowlist); once the server added it, the web chat says so ([`Text::ContinuesBySms`]) and the
//! chat is marked [`Session::continues_by_sms`], saved across a reload (`PersistedState::by_sms`). That mark is what
//! the page and the "ghost chat" rule (issue 28, item 1) read: a chat that goes on by SMS is not abandoned when its
//! last tab goes away.
//!
//! The request itself is not an [`Effect`]: [`Session::sms_request`] answers at once with the number to send, and the
//! npm wrapper posts it with the saved chat's session id and credential (one `fetch`, as it already checks a saved
//! chat's token), because a desk-side auth call with its promise cost the size-budgeted wasm 0.5 KiB more gzipped
//! (measured with `scripts/build-wasm`); the wrapper then reports the answer with [`super::Event::SmsAdded`].

use super::effect::{Effect, WebCall};
use super::{Link, Session};
use crate::texts::Text;
use crate::wire::ErrorCode;

impl Session {
    /// True once the auth server added the customer's phone to this chat: the chat goes on by SMS, so a closed tab
    /// is not the customer leaving it.
    pub fn continues_by_sms(&self) -> bool {
        self.chat().is_some_and(|c| c.by_sms)
    }

    /// The number (E.164) to send to `POST /v1/sessions/{id}/sms` of this chat's session, for the number the customer
    /// `typed` (and confirmed), or why not, as an [`ErrorCode`] name: `session_ended` without a live chat,
    /// `phone_invalid` when it is not an international number. Changes nothing. (A name, not the enum: its every
    /// name would cost the wasm 0.3 KiB, see `refusal`.)
    pub fn sms_request(&self, typed: &str) -> Result<String, &'static str> {
        if !matches!(self.link, Link::Live(_)) {
            return Err(ErrorCode::SessionEnded.as_str());
        }
        crate::phone::e164(typed).ok_or(ErrorCode::PhoneInvalid.as_str())
    }

    /// [`super::Event::SmsAdded`]: the server added the number (`masked`, as it answered).
    pub(super) fn sms_added(&mut self, masked: String, out: &mut Vec<Effect>) {
        // A chat that ended meanwhile: nothing to mark or say (the closed conversation texts nobody).
        if let Link::Live(chat) = &mut self.link {
            chat.by_sms = true;
            out.push(Effect::Persist);
            out.push(Effect::Web(WebCall::Notice(Text::ContinuesBySms { phone: masked })));
        }
    }
}
