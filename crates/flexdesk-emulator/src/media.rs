//! Media upload (token-authenticated, Twilio's limits) and temporary download URLs, for the stand-in client; and
//! the media service's record read with account credentials, as a server does.
//! Upload: `POST /v1/Media?filename=photo.png` with the access token in `X-Twilio-Token` (or
//! `Authorization: Bearer …`) and the file as the raw body. Download: the URL that `temporary_url`
//! signs, valid for [`URL_TTL_SECONDS`] unless a test shortened it (`POST /admin/faults` `mediaUrlTtlSeconds`).

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::state::{media_info_json, Shared, MAX_MEDIA_BYTES};
use crate::twilio_error::TwilioError;
use crate::util::now_secs;

/// How long a temporary media URL stays valid. Twilio publishes no lifetime for `content_direct_temporary` (the
/// media resource, <https://www.twilio.com/docs/conversations/api/media-resource>, names the link; the media guide,
/// <https://www.twilio.com/docs/conversations/media-support-conversations>, calls such URLs "temporary, time-limited"):
/// five minutes is this emulator's choice, the same as its media service's
/// (`twilsock::mcs::TEMPORARY_URL_SECS`).
pub const URL_TTL_SECONDS: u64 = twilsock::mcs::TEMPORARY_URL_SECS;

/// The lifetime of a temporary media URL signed now: [`URL_TTL_SECONDS`], or what a test set.
pub fn url_ttl(emu: &Shared) -> u64 {
    emu.lock().faults.media_url_ttl_seconds.unwrap_or(URL_TTL_SECONDS)
}

#[derive(Serialize, Deserialize)]
struct UrlClaims {
    sub: String,
    exp: u64,
}

/// A URL anyone holding it may fetch for [`url_ttl`] seconds, like Twilio's MCS temporary URLs.
pub fn temporary_url(emu: &Shared, media_sid: &str) -> String {
    let claims = UrlClaims { sub: media_sid.to_string(), exp: now_secs() + url_ttl(emu) };
    let t = encode(&Header::new(Algorithm::HS256), &claims, &EncodingKey::from_secret(emu.media_key.as_bytes()))
        .expect("HS256 signing cannot fail");
    format!("{}/v1/Media/{media_sid}/Content?t={t}", emu.base_url())
}

/// Reads the token from `X-Twilio-Token` or `Authorization: Bearer`.
pub fn bearer(headers: &HeaderMap) -> Option<String> {
    if let Some(v) = headers.get("x-twilio-token").and_then(|v| v.to_str().ok()) {
        return Some(v.trim().to_string());
    }
    let v = headers.get("authorization")?.to_str().ok()?;
    v.strip_prefix("Bearer ").map(|t| t.trim().to_string())
}

pub fn body_or_413(body: Result<Bytes, BytesRejection>) -> Result<Bytes, TwilioError> {
    body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            TwilioError::new(413, 50512, "Message media size is too large: the limit is 16 MiB")
        } else {
            TwilioError::invalid("media", &e.body_text())
        }
    })
}

pub async fn upload(
    State(emu): State<Shared>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, TwilioError> {
    let token = bearer(&headers).ok_or_else(|| TwilioError::new(401, 20101, "Media upload needs the access token in X-Twilio-Token"))?;
    let verified = crate::realtime::authenticate(&emu, &token).map_err(|e| TwilioError::new(401, e.code, e.message))?;
    let filename = q.get("filename").ok_or_else(|| TwilioError::invalid("filename", "the query parameter filename is required"))?;
    let body = body_or_413(body)?;
    let info = emu.store_media(filename, body, &verified.identity)?;
    Ok((StatusCode::CREATED, Json(media_info_json(&info))).into_response())
}

pub async fn content(
    State(emu): State<Shared>,
    Path(media_sid): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, TwilioError> {
    let t = q.get("t").ok_or_else(|| TwilioError::new(403, 20403, "This media URL is not signed"))?;
    let mut v = Validation::new(Algorithm::HS256);
    v.leeway = 0;
    let claims = decode::<UrlClaims>(t, &DecodingKey::from_secret(emu.media_key.as_bytes()), &v)
        .map_err(|_| TwilioError::new(403, 20403, "This media URL is invalid or has expired"))?
        .claims;
    if claims.sub != media_sid {
        return Err(TwilioError::new(403, 20403, "This media URL is for another media"));
    }
    let media = emu.lock().media.get(&media_sid).cloned().ok_or_else(|| TwilioError::not_found(&format!("/v1/Media/{media_sid}")))?;
    let safe_name: String = media.record.filename.chars().filter(|c| c.is_ascii_alphanumeric() || ".-_ ".contains(*c)).collect();
    Ok((
        [
            (header::CONTENT_TYPE, media.record.content_type.clone()),
            (header::CONTENT_DISPOSITION, format!("inline; filename=\"{safe_name}\"")),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_string()),
            (header::CACHE_CONTROL, "private, max-age=300".to_string()),
            (header::CONTENT_SECURITY_POLICY, "default-src 'none'; sandbox".to_string()),
        ],
        media.bytes,
    )
        .into_response())
}

/// `GET /v1/Services/{IS}/Media/{ME}` with the account's credentials (Basic auth, checked by the REST gate): the
/// media service's record, `channel_sid` and a fresh `links.content_direct_temporary` included, as Twilio's media
/// resource documents it (<https://www.twilio.com/docs/conversations/api/media-resource>, "Retrieve Media"; base
/// `https://mcs.us1.twilio.com`, here the emulator's own URL). 404 / 20404 for an unknown service or media.
pub async fn record(State(emu): State<Shared>, Path((service, media_sid)): Path<(String, String)>) -> Result<Response, TwilioError> {
    let path = format!("/v1/Services/{service}/Media/{media_sid}");
    if !emu.known_service(&service) {
        return Err(TwilioError::not_found(&path));
    }
    let twilsock = emu.twilsock.get_or_init(|| crate::twilsock_backend::start(&emu));
    twilsock.media_record(&media_sid).map(|r| Json(r).into_response()).ok_or_else(|| TwilioError::not_found(&path))
}

pub fn limit_layer() -> axum::extract::DefaultBodyLimit {
    axum::extract::DefaultBodyLimit::max(MAX_MEDIA_BYTES)
}

pub fn describe_limits() -> serde_json::Value {
    json!({"maxBytes": MAX_MEDIA_BYTES, "extensions": crate::state::ALLOWED_EXTENSIONS})
}
