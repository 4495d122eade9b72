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
    /// See [`crate::wire::SessionCreated::media_link_query`].
    pub(super) media_link_query: Option<String>,
}

impl Creds {
    pub(super) fn created(s: SessionCreated) -> Creds {
        let SessionCreated { session_id, session_credential: credential, conversation_sid, identity, media_link_query, .. } = s;
        Creds { session_id, credential, conversation_sid, identity, media_link_query }
    }

    pub(super) fn saved(s: &PersistedState) -> Creds {
        Creds {
            session_id: s.session_id.clone(),
            credential: s.credential.clone(),
            conversation_sid: s.conversation_sid.clone(),
            identity: s.identity.clone(),
            media_link_query: s.media_link_query.clone(),
        }
    }

    /// `DELETE /v1/sessions/{id}`.
    pub(super) fn end(&self) -> Effect {
        Effect::Auth(AuthCall::EndSession { session_id: self.session_id.clone(), credential: self.credential.clone() })
    }
}
