//! One chat wherever the customer is (issue 17): the rules between the tabs of one browser.
//!
//! Carbon AI Chat keeps its state per tab (sessionStorage) and hands a chat back by itself only through `reconnect`
//! after a reload, and only once an agent joined (`handleHydration`: `if (isConnected)`). So the open chat is also
//! kept where every tab of the origin reads it (the wrapper's `localStorage` copy, written with each save of the tab
//! that holds the chat), a chat found there at the web chat's start is offered with a connect card, and the tab
//! that takes a chat says so on the tabs' channel (a `BroadcastChannel`), so the one holding it lets go. The npm
//! wrapper (`js/index.js`) only forwards what it reads and hears ([`Event::ChatFound`], [`Event::TakenElsewhere`],
//! [`Event::Adopt`]) and carries out the [`TabCall`]s; which tab holds the chat, when a card is offered and when a
//! tab lets go are decided here.
//!
//! Holding the chat is being its live chat here (`Link::Live`, from this tab's start, adoption or reload): a new
//! chat is nobody else's, so only a chat taken up from its saved state is announced. A tab that let go is
//! `Link::Elsewhere` and saves nothing.

use super::effect::{AuthCall, Effect, TabCall};
#[cfg(doc)]
use super::event::Event;
use super::event::{AuthFailure, PersistedState};
use super::{Link, Session};
use crate::texts::Text;

/// What the shell saves when it gets round to an [`Effect::Persist`] ([`Session::to_save`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Save {
    /// This chat, for a reload and for the other tabs.
    Chat(PersistedState),
    /// No chat to resume: forget the saved one (in the web chat and the copy every tab reads).
    Forget,
    /// Nothing: the chat went to another tab, whose saves the shared copy is; this tab's web chat keeps what it
    /// saved last (what it showed of the chat, read if it takes the chat back).
    Nothing,
}

impl Session {
    /// What to save now (see [`Save`]).
    pub fn to_save(&self) -> Save {
        match (&self.link, self.saved_state()) {
            (Link::Elsewhere, _) => Save::Nothing,
            (_, Some(chat)) => Save::Chat(chat),
            (_, None) => Save::Forget,
        }
    }

    /// This tab takes `session_id` up: the tab holding it lets go.
    pub(super) fn announce(session_id: &str, out: &mut Vec<Effect>) {
        out.push(Effect::Tab(TabCall::Announce { session_id: session_id.into() }));
    }

    /// [`Event::ChatFound`]: a chat this web chat will not reconnect (it does not count one as connected), while
    /// this tab has none, is checked first: a chat that ended while no tab had it is not offered.
    pub(super) fn found(&mut self, chat: PersistedState, connected: bool, out: &mut Vec<Effect>) {
        if connected || !matches!(self.link, Link::Idle) {
            return;
        }
        out.push(Effect::Auth(AuthCall::CheckChat { session_id: chat.session_id, credential: chat.credential }));
    }

    /// [`Event::ChatChecked`]: the auth server refuses a token for a chat that is over (401, 404:
    /// docs/auth-server.md), which is forgotten; any other answer (a token, a failure to reach it, a rate limit)
    /// offers the chat, as its start would tell the customer what went wrong. Nothing once this tab took a chat
    /// meanwhile (the customer asked the bot for an agent).
    pub(super) fn checked(&mut self, refused: Option<AuthFailure>, out: &mut Vec<Effect>) {
        if !matches!(self.link, Link::Idle) {
            return;
        }
        let over = refused.is_some_and(|f| f.status == 401 || f.status == 404);
        out.push(Effect::Tab(if over { TabCall::Forget } else { TabCall::Offer(Text::ResumeChat) }));
    }

    /// [`Event::TakenElsewhere`]: another tab took the chat this tab holds. This tab lets go (its connection closed,
    /// the chat kept open), ends the chat in its web chat without a word, and offers it back with a card saying
    /// where it went. Another chat's announcement (a tab without the shared copy starting its own) is not this
    /// tab's business.
    pub(super) fn taken_elsewhere(&mut self, session_id: &str, out: &mut Vec<Effect>) {
        let Link::Live(chat) = &mut self.link else { return };
        if chat.creds.session_id != session_id {
            return;
        }
        chat.let_go(out);
        self.link = Link::Elsewhere;
        out.push(Effect::Tab(TabCall::LetGo));
        out.push(Effect::Tab(TabCall::Offer(Text::ContinuedElsewhere)));
    }
}
