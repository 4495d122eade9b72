//! "Are you still there?" (issue 28): with an agent in the chat and the page's `idlePromptMs` set, a customer silent
//! that long is asked, and the chat closes when `idleCloseMs` more pass without an answer. Any message, file or start
//! of typing is an answer. The silence is counted by one [`Timer::Idle`] per activity: a timer of an older activity
//! is stale (the core has no clock).

use super::config::Config;
use super::effect::Effect;
use super::event::Timer;

/// The customer's silence in a live chat.
#[derive(Debug, Clone, Default)]
pub(super) struct Idle {
    /// The customer's activity count: names the timer counting the silence since.
    count: u32,
    /// The question was asked and not answered yet.
    asked: bool,
}

/// What a due [`Timer::Idle`] means.
pub(super) enum Due {
    /// Stale, or no agent in the chat: nothing.
    Nothing,
    /// Ask "Are you still there?" now.
    Ask,
    /// No answer: close the chat.
    Close,
}

impl Idle {
    /// The customer did something, or an agent joined: the silence counts from now (when an agent is in the chat and
    /// the page asked for it), and a question asked is answered.
    pub(super) fn active(&mut self, config: &Config, agent_present: bool, out: &mut Vec<Effect>) {
        self.count = self.count.wrapping_add(1);
        self.asked = false;
        if let (Some(delay_ms), true) = (config.idle_prompt_ms, agent_present) {
            out.push(Effect::Timer { timer: Timer::Idle(self.count), delay_ms });
        }
    }

    /// Timer `n` is due: ask (and wait `idleCloseMs` for the answer), or close when asked already.
    pub(super) fn due(&mut self, n: u32, config: &Config, agent_present: bool, out: &mut Vec<Effect>) -> Due {
        if n != self.count || !agent_present {
            return Due::Nothing;
        }
        if std::mem::replace(&mut self.asked, true) {
            return Due::Close;
        }
        out.push(Effect::Timer { timer: Timer::Idle(n), delay_ms: config.idle_close_ms });
        Due::Ask
    }
}
