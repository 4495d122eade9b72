//! Typed states, with Twilio's wire names.

use std::fmt;

/// A conversation's `state`. twilio-oai `conversation_enum_state`: `inactive | active | closed` (its description
/// also names `initializing`, which a client cannot set). `closed` is final:
/// <https://www.twilio.com/docs/api/errors/50377>.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConversationState {
    Active,
    Inactive,
    Closed,
}

impl ConversationState {
    pub fn as_str(self) -> &'static str {
        match self {
            ConversationState::Active => "active",
            ConversationState::Inactive => "inactive",
            ConversationState::Closed => "closed",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "active" => ConversationState::Active,
            "inactive" => ConversationState::Inactive,
            "closed" => ConversationState::Closed,
            _ => return None,
        })
    }
}

/// A TaskRouter task's `assignment_status` (twilio-oai `task_enum_status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TaskStatus {
    Pending,
    Reserved,
    Assigned,
    Wrapping,
    Completed,
    Canceled,
}

impl TaskStatus {
    pub const ALL: [TaskStatus; 6] =
        [TaskStatus::Pending, TaskStatus::Reserved, TaskStatus::Assigned, TaskStatus::Wrapping, TaskStatus::Completed, TaskStatus::Canceled];
    pub fn as_str(self) -> &'static str {
        match self {
            TaskStatus::Pending => "pending",
            TaskStatus::Reserved => "reserved",
            TaskStatus::Assigned => "assigned",
            TaskStatus::Wrapping => "wrapping",
            TaskStatus::Completed => "completed",
            TaskStatus::Canceled => "canceled",
        }
    }
    /// Still in the queue or with an agent (not completed or canceled).
    pub fn is_open(self) -> bool {
        !matches!(self, TaskStatus::Completed | TaskStatus::Canceled)
    }
    /// Not yet with an agent: the task can only be canceled, never wrapped.
    pub fn is_waiting(self) -> bool {
        matches!(self, TaskStatus::Pending | TaskStatus::Reserved)
    }
}

/// An Interactions channel's `status` (twilio-oai `interaction_channel_enum_channel_status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChannelStatus {
    Setup,
    Active,
    Failed,
    Closed,
    Inactive,
}

impl ChannelStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ChannelStatus::Setup => "setup",
            ChannelStatus::Active => "active",
            ChannelStatus::Failed => "failed",
            ChannelStatus::Closed => "closed",
            ChannelStatus::Inactive => "inactive",
        }
    }
}

macro_rules! display_as_str {
    ($($t:ty),*) => {$(
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { f.write_str(self.as_str()) }
        }
        impl serde::Serialize for $t {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> { s.serialize_str(self.as_str()) }
        }
        impl PartialEq<&str> for $t {
            fn eq(&self, other: &&str) -> bool { self.as_str() == *other }
        }
    )*};
}
display_as_str!(ConversationState, TaskStatus, ChannelStatus);
