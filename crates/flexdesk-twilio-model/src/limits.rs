//! Twilio's published limits, each with its source.

/// Conversation `Attributes` ≤ 16 KB; message `Body` (chat) ≤ 32 KB; message and participant `Attributes` ≤ 4 KB:
/// <https://www.twilio.com/docs/conversations/conversations-limits> and <https://www.twilio.com/docs/conversations/attributes>.
/// "KB" read as 1024 bytes (the emulator's reading).
pub const MAX_CONVERSATION_ATTRIBUTES_BYTES: usize = 16 * 1024;
pub const MAX_PARTICIPANT_ATTRIBUTES_BYTES: usize = 4 * 1024;
pub const MAX_MESSAGE_ATTRIBUTES_BYTES: usize = 4 * 1024;
pub const MAX_BODY_BYTES: usize = 32 * 1024;
/// `PreEngagementData` ≤ 16 KB, else 45731: <https://www.twilio.com/docs/api/errors/45731>.
pub const MAX_PRE_ENGAGEMENT_BYTES: usize = 16 * 1024;
/// A conversation has at most 1000 participants: <https://www.twilio.com/docs/conversations/conversations-limits>.
pub const MAX_PARTICIPANTS: usize = 1000;

/// Web address type: 1 attachment per message, 16777216 bytes each, and these extensions; text and media never in
/// one message: <https://www.twilio.com/docs/flex/developer/conversations/limits>.
pub const MAX_MEDIA_BYTES: usize = 16_777_216;
pub const MAX_MEDIA_PER_MESSAGE: usize = 1;
pub const ALLOWED_EXTENSIONS: &[&str] = &["jpg", "jpeg", "png", "amr", "mp3", "mp4", "pdf", "heic", "txt", "gif"];

/// The web channel's media types: extension → content type. The content types are the usual IANA ones (Twilio
/// publishes the extensions only).
pub const MEDIA_TYPES: &[(&str, &str)] = &[
    ("jpg", "image/jpeg"),
    ("jpeg", "image/jpeg"),
    ("png", "image/png"),
    ("gif", "image/gif"),
    ("heic", "image/heic"),
    ("amr", "audio/amr"),
    ("mp3", "audio/mpeg"),
    ("mp4", "video/mp4"),
    ("pdf", "application/pdf"),
    ("txt", "text/plain"),
];

/// Content type from the file name's extension (never from the uploader, so nothing is served as HTML).
pub fn content_type_for(filename: &str) -> Option<&'static str> {
    let ext = filename.rsplit_once('.')?.1.to_ascii_lowercase();
    MEDIA_TYPES.iter().find(|(e, _)| *e == ext).map(|(_, t)| *t)
}

/// A file name for an upload that came with a content type only (the SDK's media client may send none).
pub fn extension_for(content_type: &str) -> Option<&'static str> {
    let ct = content_type.split(';').next()?.trim();
    MEDIA_TYPES.iter().find(|(_, t)| *t == ct).map(|(e, _)| *e)
}

/// Conversations list operations: `PageSize` minimum 1, maximum 100 (twilio-oai `twilio_conversations_v1.json`,
/// `ListConversation`, `ListConversationMessage`, `ListConversationParticipant`); Twilio's default page size is 50.
pub const MAX_PAGE_SIZE: usize = 100;
pub const DEFAULT_PAGE_SIZE: usize = 50;

/// Flex Webchat orchestrator `POST /v2/WebChats`: 5 requests per second per account; Interactions API: 20 requests
/// per second per endpoint per account; over it HTTP 429 / 45780:
/// <https://www.twilio.com/docs/flex/developer/conversations/limits>, <https://www.twilio.com/docs/api/errors/45780>.
pub const WEBCHATS_PER_SECOND: u32 = 5;
pub const INTERACTIONS_PER_SECOND: u32 = 20;

/// AccessToken lifetime at most 24 h: <https://www.twilio.com/docs/iam/access-tokens>, error 20157.
pub const MAX_TOKEN_TTL_SECS: u64 = 24 * 3600;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_table_covers_every_published_extension() {
        for e in ALLOWED_EXTENSIONS {
            assert!(content_type_for(&format!("x.{e}")).is_some(), "{e}");
        }
        assert_eq!(content_type_for("A.PNG"), Some("image/png"));
        assert_eq!(content_type_for("evil.html"), None);
        assert_eq!(extension_for("text/plain; charset=utf-8"), Some("txt"));
        assert_eq!(extension_for("image/jpeg"), Some("jpg"));
    }
}
