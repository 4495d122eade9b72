//! Twilio's Media Content Service (MCS), read with the account's credentials: one media record, for a fresh
//! temporary URL of an agent's file (`GET /v1/media/{MediaSid}`, issue 23).
//!
//! `GET {TWILIO_MEDIA_API_URL}/v1/Services/{ChatServiceSid}/Media/{MediaSid}` answers the record: `channel_sid`
//! ("the unique id of the Conversation … containing the Message that this media instance was added to") and
//! `links.content_direct_temporary`, a URL to the content that needs no credentials and expires
//! (<https://www.twilio.com/docs/conversations/api/media-resource>; Basic auth with the API key; not in the helper
//! libraries or the twilio-oai specs). Twilio publishes no lifetime for that URL ("temporary, time-limited":
//! <https://www.twilio.com/docs/conversations/media-support-conversations>), so it is never kept: each open asks
//! again.

use serde_json::Value;

use crate::infra::config::Config;
use crate::twilio::client::{CallError, Operation, TwilioClient};

const FETCH_MEDIA: Operation = Operation::repeatable("fetch_media");

/// The media's fresh `content_direct_temporary` URL, when it belongs to `conversation_sid`; `None` when Twilio
/// knows no such media, or it belongs to another conversation (or to none yet: uploaded, never sent).
/// `media_sid` and `conversation_sid` have Twilio's shape already (they go into a URL path).
pub async fn temporary_url(client: &TwilioClient, config: &Config, media_sid: &str, conversation_sid: &str) -> Result<Option<String>, CallError> {
    let url = format!("{}/v1/Services/{}/Media/{media_sid}", config.media_api_url, config.conversations_service_sid);
    let record = match client.get(FETCH_MEDIA, &url).await {
        Ok(record) => record,
        Err(e) if e.is_not_found() => return Ok(None),
        Err(e) => return Err(e),
    };
    if record.get("channel_sid").and_then(Value::as_str) != Some(conversation_sid) {
        return Ok(None);
    }
    match record.pointer("/links/content_direct_temporary").and_then(Value::as_str) {
        Some(u) if u.starts_with("https://") || u.starts_with("http://") => Ok(Some(u.to_string())),
        _ => Err(CallError::BadResponse { operation: FETCH_MEDIA.name, detail: "no links.content_direct_temporary URL".into() }),
    }
}
