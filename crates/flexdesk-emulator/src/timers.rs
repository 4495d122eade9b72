//! Conversation timers: `Timers.Inactive` and `Timers.Closed` on twilio-oai conversations v1
//! `CreateServiceConversation` / `UpdateServiceConversation` (and the default-service `CreateConversation` /
//! `UpdateConversation`), shown as the conversation's `timers` (`date_inactive`, `date_closed`).
//!
//! What the sources say, and what the emulator reads into their silence (docs/emulator.md, "Conversation timers"):
//! - <https://www.twilio.com/docs/conversations/states-timers>: two timers move a conversation from `active` to
//!   `inactive` and from `inactive` to `closed`; "The Conversation will automatically move from an inactive to active
//!   state when a new text or media message arrives"; `closed` is final.
//! - twilio-oai `conversations.v1.configuration` `default_inactive_timer` / `default_closed_timer`: ISO 8601
//!   durations, at least 1 minute / 10 minutes; a support article (<https://help.twilio.com/articles/46619837838235>,
//!   "Default Inactive Timer in Twilio Conversations Classic") says `PT0S` turns a timer off.
//! - <https://www.twilio.com/docs/api/errors/50382>: timers sent at creation need `State`; 50379: a `Timers.Inactive`
//!   that is not an ISO 8601 duration.
//! - Silent: what a timer counts from, and whether a message restarts it. The emulator counts both from when they were
//!   set or from the last message since, whichever is later (a message restarts them), and the closed timer from the
//!   same moment, not from the move to `inactive` (the earlier close of the two readings). Silent too: what a close by
//!   timer does to the Flex task: the same as a direct close (`TaskEffect::End`, state.rs).

use serde_json::{json, Value};
use twilio_model::ConversationState;

use crate::rest_support::Form;
use crate::state::{Conversation, Emulator};
use crate::twilio_error::TwilioError;
use crate::util::iso8601;

/// A conversation's timers, as durations in seconds from `since`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Timers {
    pub inactive: Option<u64>,
    pub closed: Option<u64>,
    /// Unix seconds they count from: when set, or the last message since.
    pub since: u64,
}

impl Timers {
    /// `timers` as the REST representation shows it: `{}` without timers.
    pub fn rest(&self) -> Value {
        let mut v = json!({});
        if let Some(d) = self.inactive {
            v["date_inactive"] = json!(iso8601(self.since + d));
        }
        if let Some(d) = self.closed {
            v["date_closed"] = json!(iso8601(self.since + d));
        }
        v
    }

    /// The state a conversation in `state` moves to at `now`, if a timer ran out.
    pub fn due(&self, state: ConversationState, now: u64) -> Option<ConversationState> {
        let ran_out = |d: Option<u64>| d.is_some_and(|d| now >= self.since + d);
        match state {
            ConversationState::Closed => None,
            _ if ran_out(self.closed) => Some(ConversationState::Closed),
            ConversationState::Active if ran_out(self.inactive) => Some(ConversationState::Inactive),
            _ => None,
        }
    }
}

/// Timers a form asks for: each `Some(None)` turns one off, `None` leaves it.
pub type Requested = (Option<Option<u64>>, Option<Option<u64>>);

/// The timers a create (`at_creation`) or update form asks for: `None` when it names neither. Checked before anything
/// changes; at creation they need `State` (<https://www.twilio.com/docs/api/errors/50382>).
pub fn requested(form: &Form, at_creation: bool) -> Result<Option<Requested>, TwilioError> {
    let (inactive, closed) = (form.get("Timers.Inactive"), form.get("Timers.Closed"));
    if inactive.is_none() && closed.is_none() {
        return Ok(None);
    }
    if at_creation && form.get("State").is_none() {
        return Err(TwilioError::new(400, 50382, "Timer can't be set without state"));
    }
    let inactive = inactive.map(|t| duration("Timers.Inactive", &t, 60, 50379)).transpose()?;
    let closed = closed.map(|t| duration("Timers.Closed", &t, 600, 50380)).transpose()?;
    Ok(Some((inactive, closed)))
}

/// The conversation with the `requested` timers set from now (as it is when none were asked for).
pub fn apply(emu: &Emulator, c: Conversation, requested: Option<Requested>) -> Result<Conversation, TwilioError> {
    match requested {
        Some((inactive, closed)) => emu.set_timers(&c.sid, inactive, closed, crate::util::now_secs()),
        None => Ok(c),
    }
}

/// An ISO 8601 duration (`P[nD][T[nH][nM][nS]]`, also `PnW`) in seconds; `PT0S` is `None` (off). Not a duration →
/// 400 / `format_code` (50379 is documented for `Timers.Inactive`; 50380 for `Timers.Closed` is the emulator's guess at
/// its sibling); under the documented minimum → 400 / 20001 (the code is the emulator's: none is published).
pub fn duration(param: &str, text: &str, min_secs: u64, format_code: u32) -> Result<Option<u64>, TwilioError> {
    let bad = || TwilioError::new(400, format_code, format!("'{param}' parameter supports values which are ISO8601 durations, got {text:?}"));
    let rest = text.strip_prefix('P').ok_or_else(bad)?;
    let (mut secs, mut number, mut in_time, mut any, mut time_part) = (0u64, String::new(), false, false, false);
    for c in rest.chars() {
        match c {
            '0'..='9' => number.push(c),
            'T' if !in_time && number.is_empty() => in_time = true,
            _ => {
                let n: u64 = number.parse().map_err(|_| bad())?;
                number.clear();
                let unit = match (c, in_time) {
                    ('W', false) => 604_800,
                    ('D', false) => 86_400,
                    ('H', true) => 3_600,
                    ('M', true) => 60,
                    ('S', true) => 1,
                    _ => return Err(bad()),
                };
                secs = n.checked_mul(unit).and_then(|s| secs.checked_add(s)).ok_or_else(bad)?;
                any = true;
                time_part |= in_time;
            }
        }
    }
    if !number.is_empty() || !any || (in_time && !time_part) {
        return Err(bad());
    }
    if secs == 0 {
        return Ok(None);
    }
    if secs < min_secs {
        return Err(TwilioError::invalid(param, &format!("must be at least {} minutes (or PT0S: off)", min_secs / 60)));
    }
    Ok(Some(secs))
}

/// Runs the timers every second, once per emulator (a second `app` for the same emulator starts nothing).
pub fn start(emu: &crate::state::Shared) {
    if emu.timers_started.set(()).is_err() {
        return;
    }
    let weak = std::sync::Arc::downgrade(emu);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
        loop {
            tick.tick().await;
            let Some(emu) = weak.upgrade() else { return };
            emu.run_timers(crate::util::now_secs());
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_iso_8601_with_the_documented_minimums() {
        assert_eq!(duration("Timers.Closed", "P1D", 600, 50380).unwrap(), Some(86_400));
        assert_eq!(duration("Timers.Closed", "PT1H30M", 600, 50380).unwrap(), Some(5_400));
        assert_eq!(duration("Timers.Inactive", "PT0S", 60, 50379).unwrap(), None, "off");
        assert_eq!(duration("Timers.Inactive", "PT30S", 60, 50379).unwrap_err().code, 20001);
        for bad in ["1D", "P", "PT", "P1H", "PT1D", "P1DT", "PTxM"] {
            assert_eq!(duration("Timers.Inactive", bad, 60, 50379).unwrap_err().code, 50379, "{bad}");
        }
    }

    #[test]
    fn inactive_then_closed_counted_from_since_and_closed_is_final() {
        let t = Timers { inactive: Some(60), closed: Some(600), since: 1_000 };
        assert_eq!(t.due(ConversationState::Active, 1_059), None);
        assert_eq!(t.due(ConversationState::Active, 1_060), Some(ConversationState::Inactive));
        assert_eq!(t.due(ConversationState::Inactive, 1_599), None);
        assert_eq!(t.due(ConversationState::Inactive, 1_600), Some(ConversationState::Closed));
        assert_eq!(t.due(ConversationState::Active, 1_600), Some(ConversationState::Closed), "closed wins when both ran out");
        assert_eq!(t.due(ConversationState::Closed, 9_999), None);
        assert_eq!(Timers::default().due(ConversationState::Active, u64::MAX), None, "no timers");
    }
}
