//! The wait while no agent joined yet, in Carbon's own localised text (`updateAgentAvailability`): the estimated
//! wait when the server has one, else the chat's place in the queue, else the queue's length; each told only when
//! it changed.

use super::config::{MAX_ROUTING_POLLS, ROUTING_POLL_MS};
use super::effect::{AuthCall, Effect, WebCall};
use super::event::Timer;
use crate::wire::{Availability, QueuePosition};

/// What the web chat was told of the wait, and how soon to read it again.
#[derive(Debug, Clone, Default)]
pub(super) struct Wait {
    /// What the web chat was last told: (minutes, the figure); else the queue position.
    shown: Option<(bool, u32)>,
    /// Queue reads that found the chat not routed yet, before any wait was shown ([`ROUTING_POLL_MS`]).
    routing_polls: u8,
}

impl Wait {
    /// This chat's own place in the queue (issue 17), or `None` when it could not be read. Not waiting (an agent
    /// accepted and is joining): nothing to show, read again until the agent is there.
    pub(super) fn position_read(&mut self, answer: Option<QueuePosition>, queue_poll_ms: u64, out: &mut Vec<Effect>) {
        let Some(p) = answer else {
            // Fall back to the queue-wide figures (their answer re-arms the timer).
            return out.push(Effect::Auth(AuthCall::ReadQueue));
        };
        // The wait when the server estimates one (Carbon prefers it: AvailabilityMessage.tsx), in whole minutes,
        // rounded up (Carbon's `estimatedWaitTime` is in minutes); else the place.
        match (p.waiting, p.estimated_wait_seconds, p.position) {
            (true, Some(secs), _) => {
                let minutes = u32::try_from(secs.div_ceil(60)).unwrap_or(u32::MAX).max(1);
                self.show(true, minutes, out);
            }
            (true, None, Some(position)) => self.show(false, position.max(1), out),
            _ => {}
        }
        // Not in the queue before any wait was shown: most likely not routed yet, so soon again.
        let routing = !p.waiting && self.shown.is_none() && self.routing_polls < MAX_ROUTING_POLLS;
        if routing {
            self.routing_polls += 1;
        }
        let delay_ms = if routing { ROUTING_POLL_MS.min(queue_poll_ms) } else { queue_poll_ms };
        out.push(Effect::Timer { timer: Timer::Queue, delay_ms });
    }

    /// The fallback when the chat's own place could not be read: how many chats wait in the queue; this chat is one
    /// of them, most likely the last (an upper bound).
    pub(super) fn queue_read(&mut self, figures: Option<Availability>, queue_poll_ms: u64, out: &mut Vec<Effect>) {
        if let Some(a) = figures {
            self.show(false, a.tasks_waiting.max(1), out);
        }
        out.push(Effect::Timer { timer: Timer::Queue, delay_ms: queue_poll_ms });
    }

    /// `updateAgentAvailability` with the estimated wait in minutes (`minutes`) or the position, only when what it
    /// says changed. (A plain pair, not a `WebCall` compared: the wasm's size.)
    fn show(&mut self, minutes: bool, figure: u32, out: &mut Vec<Effect>) {
        if self.shown != Some((minutes, figure)) {
            self.shown = Some((minutes, figure));
            out.push(Effect::Web(if minutes { WebCall::WaitMinutes(figure) } else { WebCall::QueuePosition(figure) }));
        }
    }
}
