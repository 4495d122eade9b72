//! What the customer has seen of the conversation: which messages were shown, read horizons both ways, and the
//! messages held while the page has the chat suspended.

use super::effect::{Effect, WebCall};

/// The conversation as this web chat has shown it, by Twilio's message index.
#[derive(Debug, Clone, Default)]
pub(super) struct Transcript {
    /// Indexes shown, ascending. A sorted `Vec`, not a `BTreeSet`: the set's B-tree code was the wasm's own copy
    /// (1.5 KiB gzipped, measured with scripts/build-wasm; serde_json's map has another), and a chat's few hundred
    /// messages arrive nearly in order, so the insert is at or near the end.
    shown: Vec<u64>,
    /// After a reload, every index up to here was shown before: the web chat keeps its own history.
    floor: Option<u64>,
    /// Highest index shown (saved, so a reload syncs from here).
    pub(super) last_shown: Option<u64>,
    read_horizon_sent: Option<u64>,
    /// Highest index of the customer's own messages.
    last_user_index: Option<u64>,
    agent_read_upto: Option<u64>,
    /// Messages that came while suspended, by index: what to show on resume (`None`: nothing to show, e.g. the
    /// bot hand-off). `last_shown` stays below them, so a reload meanwhile replays them.
    held: Vec<(u64, Option<WebCall>)>,
}

impl Transcript {
    /// After a reload: everything up to `last_shown` was shown (and counts as read) before.
    pub(super) fn resumed(last_shown: Option<u64>) -> Self {
        Transcript { floor: last_shown, last_shown, read_horizon_sent: last_shown, ..Transcript::default() }
    }

    /// `true` the first time `index` is offered (and not shown before a reload): it is then dealt with.
    pub(super) fn first_sight(&mut self, index: u64) -> bool {
        if self.floor.is_some_and(|f| index <= f) {
            return false;
        }
        match self.shown.binary_search(&index) {
            Ok(_) => false,
            Err(at) => {
                self.shown.insert(at, index);
                true
            }
        }
    }

    /// A message of the conversation is dealt with (`show`: what the web chat shows of it): shown now, or held
    /// while the page has the chat suspended, as Carbon would drop it then (HumanAgentServiceImpl.ts
    /// `sendMessageToUser`: `addMessages(…, !this.service.isSuspended(), …)`). `true` when shown (to be saved).
    pub(super) fn pass(&mut self, index: u64, show: Option<WebCall>, suspended: bool, out: &mut Vec<Effect>) -> bool {
        if suspended {
            // Kept in index order (a sync may bring older ones after newer live ones); no sort: the wasm's size.
            let at = self.held.partition_point(|(i, _)| *i < index);
            self.held.insert(at, (index, show));
            return false;
        }
        self.last_shown = self.last_shown.max(Some(index));
        out.extend(show.map(Effect::Web));
        true
    }

    /// The page resumed the chat: what was held is shown, in index order; `true` when there was any.
    pub(super) fn release(&mut self, out: &mut Vec<Effect>) -> bool {
        if self.held.is_empty() {
            return false;
        }
        for (index, show) in std::mem::take(&mut self.held) {
            self.last_shown = self.last_shown.max(Some(index));
            out.extend(show.map(Effect::Web));
        }
        true
    }

    /// One of the customer's own messages has `index`.
    pub(super) fn user_message(&mut self, index: u64) {
        self.last_user_index = self.last_user_index.max(Some(index));
    }

    /// An agent has read up to `index`: `true` when that newly covers the customer's last message.
    pub(super) fn agent_read(&mut self, index: u64) -> bool {
        if self.last_user_index.is_some_and(|u| index >= u) && self.agent_read_upto.is_none_or(|r| index > r) {
            self.agent_read_upto = Some(index);
            return true;
        }
        false
    }

    /// The customer has seen what was shown: the index to advance the read horizon to, when it moved.
    pub(super) fn user_read(&mut self) -> Option<u64> {
        if self.last_shown > self.read_horizon_sent {
            self.read_horizon_sent = self.last_shown;
            return self.last_shown;
        }
        None
    }
}
