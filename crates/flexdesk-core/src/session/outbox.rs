//! The customer's messages on their way to Twilio: queued, handed out one at a time, retried.


use serde::{Deserialize, Serialize};

use super::backoff::Backoff;
use super::effect::{ClientCall, Effect, WebCall};
use crate::texts::Text;

/// A user message not yet confirmed by Twilio (`{"kind": "text" | "file", ...}` in the saved state).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Outgoing {
    /// A text message.
    Text {
        /// The web chat's id of the message.
        id: String,
        /// The text.
        text: String,
    },
    /// A file, which the shell keeps under `id`.
    File {
        /// The upload's id.
        id: String,
    },
}

impl Outgoing {
    fn id(&self) -> &str {
        match self {
            Outgoing::Text { id, .. } | Outgoing::File { id } => id,
        }
    }
}

/// The queue of the customer's messages: handed to the shell one at a time, in order (one at a time keeps the
/// order Twilio gives them), each kept until Twilio confirms it or refuses it for good.
#[derive(Debug, Clone)]
pub(super) struct Outbox {
    // A Vec, not a VecDeque: a customer's unsent messages are a handful, and the ring buffer's code costs the
    // size-budgeted wasm (scripts/build-wasm) more than the shifts it saves.
    queue: Vec<Outgoing>,
    in_flight: Option<Outgoing>,
    /// Sending is paused after a retryable failure until [`Outbox::resume`] (the retry timer, or the connection
    /// coming back).
    paused: bool,
    /// Network errors, 429 and 5xx: 0.5 s, doubling, at most 10 s.
    retry: Backoff,
}

/// What a failed delivery means for the message in flight.
pub(super) enum Failed {
    /// Not the message in flight (a late answer): nothing to do.
    NotOurs,
    /// Back at the head of the queue; sending resumes after this many milliseconds (or on reconnect).
    Retry(u64),
    /// Refused for good: the web chat is told.
    Final(Outgoing),
}

/// Which of the held messages an echo was.
pub(super) enum Echo {
    /// None: already confirmed, or sent from elsewhere.
    Unknown,
    /// One still queued: taken out.
    Queued,
    /// The one in flight (its confirmation may still arrive as [`super::Event::MessageSent`]; it is then ignored).
    InFlight(Outgoing),
}

impl Outbox {
    /// Messages saved before a reload, oldest first.
    pub(super) fn new(saved: Vec<Outgoing>) -> Self {
        Outbox { queue: saved, in_flight: None, paused: false, retry: Backoff::new(500, 10_000) }
    }

    pub(super) fn push(&mut self, m: Outgoing) {
        self.queue.push(m);
    }

    /// The next message for the shell to send, unless one is in flight or sending is paused.
    pub(super) fn next(&mut self) -> Option<ClientCall> {
        if self.paused || self.in_flight.is_some() {
            return None;
        }
        if self.queue.is_empty() {
            return None;
        }
        let next = self.queue.remove(0);
        let call = match &next {
            Outgoing::Text { id, text } => ClientCall::SendMessage { id: id.clone(), text: text.clone() },
            Outgoing::File { id } => ClientCall::SendFile { id: id.clone() },
        };
        self.in_flight = Some(next);
        Some(call)
    }

    fn take_in_flight(&mut self, id: &str) -> Option<Outgoing> {
        self.in_flight.take_if(|m| m.id() == id)
    }

    /// Twilio confirmed the message `id`: the one in flight, if it is that one.
    pub(super) fn sent(&mut self, id: &str) -> Option<Outgoing> {
        let sent = self.take_in_flight(id)?;
        self.retry.reset();
        Some(sent)
    }

    /// Delivering `id` failed; `retryable` when trying again may succeed.
    pub(super) fn failed(&mut self, id: &str, retryable: bool) -> Failed {
        let Some(m) = self.take_in_flight(id) else { return Failed::NotOurs };
        if !retryable {
            return Failed::Final(m);
        }
        self.queue.insert(0, m);
        self.paused = true;
        Failed::Retry(self.retry.next_delay_ms())
    }

    /// Sending may go on after a retryable failure; `true` when it was paused.
    pub(super) fn resume(&mut self) -> bool {
        std::mem::take(&mut self.paused)
    }

    /// The client was replaced: what was in flight goes back to the head of the queue (its echo, if it did arrive,
    /// takes it out again).
    pub(super) fn requeue(&mut self) {
        if let Some(m) = self.in_flight.take() {
            self.queue.insert(0, m);
        }
    }

    /// The customer's message `id` came back from Twilio (live echo, or replay after a reload): it reached Twilio
    /// and must not be sent again.
    pub(super) fn echoed(&mut self, id: &str) -> Echo {
        if let Some(m) = self.take_in_flight(id) {
            return Echo::InFlight(m);
        }
        match self.queue.iter().position(|m| m.id() == id) {
            Some(pos) => {
                self.queue.remove(pos);
                Echo::Queued
            }
            None => Echo::Unknown,
        }
    }

    /// The chat ended with these still unsent: each file's upload is told it failed, so the web chat drops its
    /// spinner (Carbon 1.9.1 shows one until `setFileUploadStatus` names the file, which it accepts after the end
    /// too: HumanAgentServiceImpl.ts `setFileUploadStatus` has no `chatStarted` check). Texts need nothing: Carbon
    /// shows no pending state for them. The queue is emptied: nothing of it is sent any more.
    pub(super) fn abandon_files(&mut self, out: &mut Vec<Effect>) {
        self.requeue();
        for m in std::mem::take(&mut self.queue) {
            if let Outgoing::File { id } = m {
                out.push(Effect::Web(WebCall::FileStatus { id, error: Some(Text::FileNotSent) }));
            }
        }
    }

    /// Queued plus the one in flight.
    pub(super) fn len(&self) -> usize {
        self.queue.len() + usize::from(self.in_flight.is_some())
    }

    /// What a reload must send again: the one in flight first.
    pub(super) fn saved(&self) -> Vec<Outgoing> {
        self.in_flight.iter().chain(self.queue.iter()).cloned().collect()
    }
}
