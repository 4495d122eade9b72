//! Twilio Conversations webhooks: how the server learns that a chat closed without asking Twilio on every refresh.
//!
//! Twilio posts `onConversationStateUpdated` (`StateFrom`, `StateTo`, `Reason`, ...) and `onConversationRemoved`,
//! form-encoded, to the post-event URL of the Conversations service's webhook configuration
//! (<https://www.twilio.com/docs/conversations/conversations-webhooks>,
//! <https://www.twilio.com/docs/conversations/api/per-service-webhook-resource>). Each request carries
//! `X-Twilio-Signature`: base64 HMAC-SHA1, keyed with the account's Auth Token, of the exact URL Twilio called
//! followed by every POST parameter's name and value in sorted name order
//! (<https://www.twilio.com/docs/usage/webhooks/webhooks-security>). [`verify`] follows the official helper
//! (`twilio` npm 6.x `validateRequest`), and tests/auth/webhooks.test.mjs checks that both accept the same requests.
//!
//! What a webhook can do here: move a conversation to ended, nothing else. One whose signature does not verify is
//! refused (403) before its content is read. One seen before ([`SeenWebhooks`]: the same `I-Twilio-Idempotency-Token`,
//! or the same signed request under another token or none) is acknowledged (204) and changes nothing, not even
//! health: a captured webhook replayed cannot keep refresh trusting a record Twilio stopped feeding (issue 24).
//!
//! "Healthy" ([`WebhookHealth::healthy`]): `TWILIO_WEBHOOKS=on` and a webhook that verified arrived within the last
//! `TWILIO_WEBHOOKS_FRESH_SECONDS`. Only then does refresh trust the record instead of asking Twilio (see
//! `routes::sessions::refresh`). It is a liveness signal, not a proof: a single lost webhook while others arrive
//! is not noticed (the token minted then is for a conversation Twilio has closed, which refuses messages).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use axum::body::Bytes;
use base64::Engine;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode, Uri};
use twilio_model::webhook::verify;

use crate::error::{AppError, ErrorCode};
use crate::{unix_now, AppState};

/// Where Twilio posts (configure `<PUBLIC_BASE_URL>/v1/twilio/webhooks` as the service's post-event URL).
pub const PATH: &str = "/v1/twilio/webhooks";

/// Most form parameters a webhook may carry; more is refused (413) before anything is parsed or hashed.
/// Conversations' post-event webhooks carry a dozen to a few dozen parameters (the event's fields listed on
/// <https://www.twilio.com/docs/conversations/conversations-webhooks>: `onMessageAdded`, among the largest, has
/// about twenty, its media being one JSON-valued `Media`); 256 is ten times that, room for fields Twilio may add,
/// while a request's work stays a sort of at most 256 pairs and two HMACs of at most 64 KB (issue 24, item 1).
pub const MAX_WEBHOOK_PARAMS: usize = 256;
/// Largest webhook body. A conversation's attributes alone may be 16 KB
/// (<https://www.twilio.com/docs/conversations/conversations-limits>) and travel percent-encoded (up to three
/// bytes each) in `Attributes`, next to the other fields: 64 KB holds that. The same as every route's limit
/// (`config::BODY_LIMIT_BYTES`), stated here so the webhook route keeps it if the others change.
pub const MAX_WEBHOOK_BODY_BYTES: usize = 64 * 1024;

/// Webhooks already acted on, so that a repeat changes nothing (issue 24, item 3).
///
/// Twilio sends each webhook with an `I-Twilio-Idempotency-Token` header, the same on its retries of that request
/// (<https://www.twilio.com/docs/usage/webhooks/webhooks-connection-overrides>). The header is not signed (the
/// signature covers the URL and the form parameters only:
/// <https://www.twilio.com/docs/usage/webhooks/webhooks-security>), so whoever replays a captured webhook can drop or
/// change it; the signature itself is therefore a second key: the same signed request is the same event, whatever its
/// token. A request is new only when neither its token nor its signature was seen.
///
/// Bounded: at most [`SEEN_WEBHOOKS_CAPACITY`] keys (least recently used go first), each a SHA-256 (32 bytes), each
/// forgotten after [`SEEN_WEBHOOKS_TTL`]. Twilio's own retries come within seconds (the connection overrides page:
/// "total time" at most 15 000 ms), so a repeat after that window is a replay, and one older than the window is taken
/// as new: it can only end a conversation that is already ended, and refresh webhook health. Per process: with
/// `REDIS_URL`, a replay sent to another replica is new there.
pub struct SeenWebhooks {
    keys: moka::sync::Cache<[u8; 32], ()>,
}

/// Most webhook keys remembered (two per webhook: token and signature).
pub const SEEN_WEBHOOKS_CAPACITY: u64 = 100_000;
/// How long a webhook is remembered.
pub const SEEN_WEBHOOKS_TTL: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

impl Default for SeenWebhooks {
    fn default() -> Self {
        Self::with_capacity(SEEN_WEBHOOKS_CAPACITY)
    }
}

impl SeenWebhooks {
    /// Remembers at most `capacity` keys.
    pub fn with_capacity(capacity: u64) -> Self {
        let keys = moka::sync::Cache::builder()
            .max_capacity(capacity)
            .time_to_live(SEEN_WEBHOOKS_TTL)
            // LRU: a new key is always admitted (the default TinyLFU may turn a one-off key away).
            .eviction_policy(moka::policy::EvictionPolicy::lru())
            .build();
        SeenWebhooks { keys }
    }

    /// Notes a verified webhook's idempotency token (if any) and signature; true when it is new: neither was seen.
    /// Atomic per key, so two copies arriving together are one new and one repeat.
    pub fn first_time(&self, token: Option<&str>, signature: &[u8]) -> bool {
        use sha2::{Digest, Sha256};
        let key = |kind: &[u8], value: &[u8]| -> [u8; 32] { Sha256::new().chain_update(kind).chain_update(value).finalize().into() };
        let signature_new = self.keys.entry(key(b"signature:", signature)).or_insert(()).is_fresh();
        let token_new = token.is_none_or(|t| self.keys.entry(key(b"token:", t.as_bytes())).or_insert(()).is_fresh());
        signature_new && token_new
    }

    /// How many keys are held (after pending evictions run).
    pub fn len(&self) -> u64 {
        self.keys.run_pending_tasks();
        self.keys.entry_count()
    }

    /// Whether no key is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// When the last webhook that verified arrived (Unix seconds; 0 = never).
#[derive(Default)]
pub struct WebhookHealth {
    last_verified: AtomicU64,
}

impl WebhookHealth {
    /// Notes a webhook that verified at `now` (Unix seconds); an older time never replaces a newer one.
    pub fn record(&self, now: u64) {
        self.last_verified.fetch_max(now, Ordering::Relaxed);
    }

    /// Webhooks are on and one verified within `fresh_seconds`: refresh may trust the ended-record.
    pub fn healthy(&self, enabled: bool, fresh_seconds: u64, now: u64) -> bool {
        let last = self.last_verified.load(Ordering::Relaxed);
        enabled && last != 0 && now.saturating_sub(last) <= fresh_seconds
    }

    /// When the last webhook that verified arrived, in Unix seconds; 0 = never since this process started.
    pub fn last_verified(&self) -> u64 {
        self.last_verified.load(Ordering::Relaxed)
    }
}

/// The URL Twilio called: `PUBLIC_BASE_URL` (the server's public root, e.g. `https://chat.example.com/auth`)
/// plus the request's path and query; without it, `http://<Host header>` (direct, no proxy: dev and tests).
fn public_url(public_base_url: Option<&str>, headers: &HeaderMap, uri: &Uri) -> Option<String> {
    let path = uri.path_and_query().map_or(uri.path(), |pq| pq.as_str());
    match public_base_url {
        Some(base) => Some(format!("{}{path}", base.trim_end_matches('/'))),
        None => headers.get(header::HOST).and_then(|h| h.to_str().ok()).map(|host| format!("http://{host}{path}")),
    }
}

/// `POST /v1/twilio/webhooks`: verifies the signature (403 otherwise), then ends the sessions of a conversation
/// Twilio reports closed or removed. Every other event (and another service's) is acknowledged and ignored.
pub async fn receive(State(state): State<Arc<AppState>>, uri: Uri, headers: HeaderMap, body: Bytes) -> Result<StatusCode, AppError> {
    let config = &state.config;
    let Some(auth_token) = config.auth_token.as_ref().filter(|_| config.twilio_webhooks) else {
        return Err(AppError::new(StatusCode::NOT_FOUND, ErrorCode::NotFound, "no such route"));
    };
    let form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(';').next().unwrap_or("").trim().eq_ignore_ascii_case("application/x-www-form-urlencoded"));
    if !form {
        return Err(AppError::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, ErrorCode::UnsupportedMediaType, "Twilio webhooks are form-encoded"));
    }
    // Bounded before parsing: the body's size, then its parameter count (`form_urlencoded` splits on `&` and skips
    // empty pieces; counted the same way, one pass). The signature check after this is linear in the body.
    if body.len() > MAX_WEBHOOK_BODY_BYTES || body.split(|b| *b == b'&').filter(|p| !p.is_empty()).nth(MAX_WEBHOOK_PARAMS).is_some() {
        tracing::warn!(bytes = body.len(), "Twilio webhook refused: over {MAX_WEBHOOK_PARAMS} parameters or {MAX_WEBHOOK_BODY_BYTES} bytes");
        return Err(AppError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::PayloadTooLarge,
            format!("a Twilio webhook carries at most {MAX_WEBHOOK_PARAMS} parameters in {MAX_WEBHOOK_BODY_BYTES} bytes"),
        ));
    }
    let params: Vec<(String, String)> = form_urlencoded::parse(&body).into_owned().collect();
    let signature = headers.get("x-twilio-signature").and_then(|v| v.to_str().ok()).unwrap_or("");
    let url = public_url(config.public_base_url.as_deref(), &headers, &uri);
    if !url.is_some_and(|url| verify(auth_token.expose().as_bytes(), signature, &url, &params)) {
        tracing::warn!("Twilio webhook refused: X-Twilio-Signature does not verify (forged, or PUBLIC_BASE_URL is not the URL Twilio calls)");
        return Err(AppError::new(StatusCode::FORBIDDEN, ErrorCode::InvalidSignature, "the request is not signed by Twilio"));
    }
    let token = headers.get("i-twilio-idempotency-token").and_then(|v| v.to_str().ok()).map(str::trim).filter(|t| !t.is_empty());
    let signed = base64::engine::general_purpose::STANDARD.decode(signature.trim()).unwrap_or_default();
    if !state.seen_webhooks.first_time(token, &signed) {
        tracing::info!(event = params.iter().find(|(k, _)| k == "EventType").map_or("-", |(_, v)| v.as_str()), "Twilio webhook seen before (a retry or a replay): acknowledged, nothing done");
        return Ok(StatusCode::NO_CONTENT);
    }
    let now = unix_now();
    state.webhooks.record(now);
    let get = |name: &str| params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    let ours = get("ChatServiceSid").is_none_or(|s| s == config.conversations_service_sid)
        && get("AccountSid").is_none_or(|s| s == config.account_sid);
    let ended = match get("EventType") {
        Some("onConversationStateUpdated") => get("StateTo") == Some("closed"),
        Some("onConversationRemoved") => true,
        _ => false,
    };
    if let (true, true, Some(conversation_sid)) = (ours, ended, get("ConversationSid")) {
        // Here and, with REDIS_URL, for every replica (crate::shared).
        let sessions = crate::shared::conversation_ended(&state, conversation_sid, now).await;
        tracing::info!(conversation_sid, sessions, event = get("EventType").unwrap_or("-"), "Twilio webhook: conversation ended");
    }
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 24, item 3: a repeat is known by its token or by its signature, and memory stays bounded.
    #[test]
    fn a_webhook_is_new_once_and_memory_is_bounded() {
        let seen = SeenWebhooks::with_capacity(1000);
        assert!(seen.first_time(Some("t1"), b"sig-1"));
        assert!(!seen.first_time(Some("t1"), b"sig-1"), "Twilio's retry");
        assert!(!seen.first_time(Some("t1"), b"sig-1-retry-count-2"), "the same token over another body");
        assert!(!seen.first_time(None, b"sig-1"), "the capture without its token");
        assert!(!seen.first_time(Some("t-made-up"), b"sig-1"), "the capture under another token");
        assert!(seen.first_time(Some("t2"), b"sig-2"));
        assert!(seen.first_time(None, b"sig-3"));
        for i in 0..5000u32 {
            seen.first_time(Some(&format!("token-{i}")), format!("sig-{i}").as_bytes());
        }
        assert!(seen.len() <= 1000, "{} keys held", seen.len());
        assert!(seen.first_time(Some("t-late"), b"sig-late"), "a new key is always admitted when full");
    }

    #[test]
    fn health_needs_a_recent_verified_webhook() {
        let h = WebhookHealth::default();
        assert!(!h.healthy(true, 600, 1_000), "never received");
        h.record(1_000);
        assert!(h.healthy(true, 600, 1_600));
        assert!(!h.healthy(true, 600, 1_601), "stale");
        assert!(!h.healthy(false, 600, 1_000), "off");
    }
}
