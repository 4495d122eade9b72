//! What the auth server gave for a chat (its session id and credential, conversation, identity): exactly what a live
//! chat has and a start does not.

use super::effect::{AuthCall, Effect};
use super::event::PersistedState;
use crate::wire::SessionCreated;

/// What the auth server gave for the chat: exactly what a live chat has and a start does not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Creds {
    pub(super) session_id: String,
    pub(super) credential: String,
    pub(super) conversation_sid: String,
    pub(super) identity: String,
}

impl Creds {
    pub(super) fn created(s: SessionCreated) -> Creds {
        Creds { session_id: s.session_id, credential: s.session_credential, conversation_sid: s.conversation_sid, identity: s.identity }
    }

    pub(super) fn saved(s: &PersistedState) -> Creds {
        Creds {
            session_id: s.session_id.clone(),
            credential: s.credential.clone(),
            conversation_sid: s.conversation_sid.clone(),
            identity: s.identity.clone(),
        }
    }

    /// `DELETE /v1/sessions/{id}`.
    pub(super) fn end(&self) -> Effect {
        Effect::Auth(AuthCall::EndSession { session_id: self.session_id.clone(), credential: self.credential.clone() })
    }
}
