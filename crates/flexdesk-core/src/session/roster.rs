//! The agents of one chat: who is present, who the web chat shows as the current agent, who was announced.

use super::effect::{Effect, WebCall};
use super::event::Agent;

/// The agents of one chat, as the web chat knows them.
#[derive(Debug, Clone, Default)]
pub(super) struct Roster {
    /// Present in the conversation, in the order they joined.
    present: Vec<Agent>,
    /// The one the web chat shows.
    pub(super) current: Option<Agent>,
    /// The agent who last joined (kept when they leave): the outcome's agent when none is current.
    last: Option<Agent>,
    /// Every agent announced to the web chat in this chat (`agentJoined`), present or gone: their messages are
    /// shown under their name; anyone else's as a status line.
    announced: Vec<String>,
    /// The web chat counts the chat as connected to an agent (`isConnected`, set by `agentJoined`, and kept across
    /// a reload): from then on a failure is never reported as CONNECTING.
    pub(super) connected: bool,
}

impl Roster {
    /// After a reload: the agent the web chat kept (Carbon persists its profile, `responseUserProfiles`), and
    /// whether it counts the chat as connected. Carbon persists `isConnected` and keeps it through a cold transfer
    /// (humanAgentReducers.ts HA_SET_HUMAN_AGENT_LEFT_CHAT clears only the profile), so `connected` without an agent
    /// is a reload during a cold transfer: a later end is reported as for a connected chat, never as CONNECTING.
    pub(super) fn resumed(agent: Option<Agent>, connected: bool) -> Self {
        Roster {
            connected: connected || agent.is_some(),
            announced: agent.iter().map(|a| a.id.clone()).collect(),
            present: agent.iter().cloned().collect(),
            current: agent,
            last: None,
        }
    }

    /// Whether `id` was announced in this chat.
    pub(super) fn announced(&self, id: &str) -> bool {
        self.announced.iter().any(|a| a == id)
    }

    /// The agent to name in the outcome: the current one, else the last who joined.
    pub(super) fn last_agent(&self) -> Option<Agent> {
        self.current.clone().or_else(|| self.last.clone())
    }

    /// `agent` joined; `true` when the roster changed (a new agent). One joining while another is current is a
    /// warm transfer: `beginTransferToAnotherAgent` first.
    pub(super) fn joined(&mut self, agent: Agent, out: &mut Vec<Effect>) -> bool {
        if self.present.iter().any(|a| a.id == agent.id) {
            return false;
        }
        self.present.push(agent.clone());
        if self.current.as_ref().is_some_and(|c| c.id != agent.id) {
            out.push(Effect::Web(WebCall::BeginTransfer(Some(agent.clone()))));
        }
        let already_shown = self.current.as_ref() == Some(&agent) && self.connected;
        self.current = Some(agent.clone());
        self.last = Some(agent.clone());
        if !self.announced(&agent.id) {
            self.announced.push(agent.id.clone());
        }
        if !already_shown {
            self.connected = true;
            out.push(Effect::Web(WebCall::AgentJoined(agent)));
        }
        true
    }

    /// `agent` left; `true` when it was the current agent (the web chat was told who carries on).
    pub(super) fn left(&mut self, agent: &Agent, out: &mut Vec<Effect>) -> bool {
        if !self.present.iter().any(|a| a.id == agent.id) {
            return false;
        }
        self.present.retain(|a| a.id != agent.id);
        if !self.current.as_ref().is_some_and(|c| c.id == agent.id) {
            return false;
        }
        // Another agent still present (end of a warm transfer): they carry on.
        self.current = self.present.last().cloned();
        match &self.current {
            Some(next) => out.push(Effect::Web(WebCall::AgentJoined(next.clone()))),
            // The last agent left but Flex kept the conversation open: in Flex an agent leaves an open chat only to
            // transfer it (ending it closes the conversation), so this is a cold transfer. The web chat is told the
            // agent left first: only `agentLeftChat` clears the current agent's profile (HumanAgentServiceImpl.ts
            // `agentLeftChat` → `setHumanAgentLeftChat`; humanAgentReducers.ts `HA_SET_HUMAN_AGENT_LEFT_CHAT` sets
            // `responseUserProfile: null`, leaving `isConnected`), while `beginTransferToAnotherAgent` without a
            // profile keeps the old one in the header, and a later `agentEndedChat` would name them ("Alice ended the
            // chat"). Then the transfer (`beginTransferToAnotherAgent`), shown without a name.
            None => {
                out.push(Effect::Web(WebCall::AgentLeft));
                out.push(Effect::Web(WebCall::BeginTransfer(None)));
            }
        }
        true
    }
}
