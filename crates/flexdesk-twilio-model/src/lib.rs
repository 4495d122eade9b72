//! Twilio's published rules as code. One Twilio fake, not two: the pieces the emulator (`flexdesk-emulator`) and
//! the twilsock server (`flexdesk-twilsock`) share, so a token, an error or a state means the same thing on every
//! path; and the webhook signature, which the emulator signs with and the auth server checks.
//!
//! - [`token`]: AccessToken verification with Twilio's 201xx error codes (one rule set for `/v1/realtime`,
//!   `/v3/wsconnect`, media uploads);
//! - [`error`]: Twilio's REST error body `{code, message, more_info, status}`;
//! - [`conversations`]: the Conversation, Participant, Message and Media records, typed, stored by the emulator
//!   and read by twilsock, and the rule on who may attach a media;
//! - [`sid`] and [`time`]: SIDs and Twilio's date formats;
//! - [`states`]: conversation, task and interaction-channel states as enums;
//! - [`limits`]: the published size limits, page sizes, rate limits and the web channel's media types;
//! - [`webhook`]: the `X-Twilio-Signature` of a webhook request.
//!
//! Every rule cites its Twilio source; the table is in `docs/emulator.md`.

pub mod conversations;
pub mod error;
pub mod limits;
pub mod sid;
pub mod states;
pub mod time;
pub mod token;
pub mod webhook;

pub use error::TwilioError;
pub use states::{ChannelStatus, ConversationState, TaskStatus};
pub use token::{TokenError, TokenRules, VerifiedToken};
