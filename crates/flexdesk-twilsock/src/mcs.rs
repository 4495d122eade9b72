//! The Media Content Service (MCS) the SDK uploads attachments to. Unlike everything else it is plain HTTP, not
//! tunnelled through twilsock: the SDK's mcs-client uses XMLHttpRequest against the `media_service` /
//! `media_set_service` links from the client configuration, authenticating with an `X-Twilio-Token` header.
//! Content is also served through short-lived signed URLs (`content_direct_temporary`) usable in `<img src>`.

// Handlers return early with a ready HTTP response; boxing it would only add noise.
#![allow(clippy::result_large_err)]

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{header, HeaderMap, HeaderName, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tower_http::cors::{Any, CorsLayer};

use twilio_model::time::iso8601;

use crate::backend::{BackendError, Media};
use crate::hub::Hub;
use crate::token;

/// The Flex web channel's per-attachment limit.
/// The web channel's media size limit (`twilio_model::limits`).
pub use twilio_model::limits::MAX_MEDIA_BYTES;
/// Lifetime of a `content_direct_temporary` URL, unless the hooks say otherwise
/// ([`crate::hooks::ConnectionHooks::media_url_ttl_secs`]). Twilio publishes none ("temporary, time-limited":
/// <https://www.twilio.com/docs/conversations/media-support-conversations>; the media resource page,
/// <https://www.twilio.com/docs/conversations/api/media-resource>, names the link without a lifetime): five minutes
/// is this emulator's choice, short enough that a page keeping one URL for a chat's length sees it break.
pub const TEMPORARY_URL_SECS: u64 = 300;
const CONTENT_URL_PURPOSE: &str = "flexdesk-mcs-content";

/// Path prefix of the media service, so it cannot collide with a host router's own `/v1/Services/…` routes (the
/// SDK takes the URLs from its configuration, so any path works).
pub const PREFIX: &str = "/mcs";

pub fn routes(hub: Arc<Hub>) -> Router {
    let cors = CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([header::CONTENT_TYPE, HeaderName::from_static("x-twilio-token")]);
    Router::new()
        .route(&format!("{PREFIX}/v1/Services/{{is}}/Media"), post(upload))
        .route(&format!("{PREFIX}/v1/Services/{{is}}/Media/{{me}}"), get(record))
        .route(&format!("{PREFIX}/v1/Services/{{is}}/Media/{{me}}/Content"), get(content))
        .route(&format!("{PREFIX}/v1/Services/{{is}}/MediaSet"), post(media_set))
        .layer(DefaultBodyLimit::max(MAX_MEDIA_BYTES + 64 * 1024))
        .layer(cors)
        .with_state(hub)
}

fn error(status: u16, code: u32, message: &str) -> Response {
    let status_code = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    (status_code, Json(json!({"status": status, "code": code, "message": message}))).into_response()
}

fn backend_error(e: BackendError) -> Response {
    let (status, code) = e.status_and_code();
    error(status, code, e.message())
}

fn check_service(hub: &Hub, service: &str) -> Result<(), Response> {
    if !hub.config.service_sid.is_empty() && service != hub.config.service_sid {
        return Err(error(404, 20404, "unknown service"));
    }
    Ok(())
}

fn identity(hub: &Hub, headers: &HeaderMap) -> Result<String, Response> {
    let token = headers
        .get("x-twilio-token")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| error(401, 20101, "X-Twilio-Token header required"))?;
    token::verify(token, &hub.config.token_rules()).map(|t| t.identity).map_err(|e| error(401, e.code, &e.message))
}

/// The uploader may read their media; once attached to a message, so may the conversation's participants.
fn may_read(hub: &Hub, who: &str, media: &Media) -> bool {
    if media.author == who {
        return true;
    }
    match &media.conversation_sid {
        Some(ch) => hub.backend.participants(ch).map(|ps| ps.iter().any(|p| p.is(who))).unwrap_or(false),
        None => false,
    }
}

#[derive(Serialize, Deserialize)]
struct ContentClaims {
    sub: String,
    purpose: String,
    exp: u64,
}

fn now_secs() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

fn temporary_token(hub: &Hub, sid: &str) -> String {
    let claims = ContentClaims { sub: sid.to_string(), purpose: CONTENT_URL_PURPOSE.into(), exp: now_secs() + hub.hooks.media_url_ttl_secs() };
    encode(&Header::new(Algorithm::HS256), &claims, &EncodingKey::from_secret(hub.config.api_key_secret.as_bytes()))
        .expect("HS256 signing cannot fail")
}

fn temporary_token_valid(hub: &Hub, sid: &str, token: &str) -> bool {
    let mut validation = Validation::new(Algorithm::HS256);
    // Expired is expired: jsonwebtoken's default 60 s of leeway would keep a short-lived URL open a minute longer.
    validation.leeway = 0;
    decode::<ContentClaims>(token, &DecodingKey::from_secret(hub.config.api_key_secret.as_bytes()), &validation)
        .map(|d| d.claims.sub == sid && d.claims.purpose == CONTENT_URL_PURPOSE)
        .unwrap_or(false)
}

/// The media record as MCS returns it.
pub fn record_json(hub: &Hub, m: &Media) -> Value {
    let url = format!("{}{PREFIX}/v1/Services/{}/Media/{}", hub.config.media_base_url, hub.config.service_sid, m.sid);
    json!({
        "sid": m.sid,
        "service_sid": hub.config.service_sid,
        "channel_sid": m.conversation_sid,
        "message_sid": m.message_sid,
        "date_created": iso8601(m.date_created),
        "date_upload_updated": iso8601(m.date_created),
        "date_updated": iso8601(m.date_created),
        "size": m.size,
        "content_type": m.content_type,
        "filename": m.filename,
        "author": m.author,
        "category": "media",
        "is_multipart_upstream": false,
        "url": url,
        "links": {
            "content": format!("{url}/Content"),
            "content_direct_temporary": format!("{url}/Content?Token={}", temporary_token(hub, &m.sid)),
        },
    })
}

#[derive(Deserialize)]
struct UploadQuery {
    #[serde(rename = "Filename")]
    filename: Option<String>,
    #[serde(rename = "Category")]
    category: Option<String>,
}

async fn upload(
    State(hub): State<Arc<Hub>>,
    Path(service): Path<String>,
    Query(q): Query<UploadQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(r) = check_service(&hub, &service) {
        return r;
    }
    let who = match identity(&hub, &headers) {
        Ok(w) => w,
        Err(r) => return r,
    };
    if q.category.as_deref().is_some_and(|c| c != "media") {
        return error(400, 50100, "only the media category is supported");
    }
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("application/octet-stream");
    if content_type.starts_with("multipart/") {
        // The SDK also accepts a FormData; flexdesk sends {contentType, filename, media}, which arrives as a raw body.
        return error(415, 50100, "multipart uploads are not supported; send the raw bytes with their Content-Type");
    }
    if body.len() > MAX_MEDIA_BYTES {
        return error(413, 50512, "Message media size is too large: the limit is 16 MiB");
    }
    match hub.backend.store_media(&who, content_type, q.filename.as_deref(), body) {
        Ok(m) => (StatusCode::CREATED, Json(record_json(&hub, &m))).into_response(),
        Err(e) => backend_error(e),
    }
}

async fn record(State(hub): State<Arc<Hub>>, Path((service, me)): Path<(String, String)>, headers: HeaderMap) -> Response {
    if let Err(r) = check_service(&hub, &service) {
        return r;
    }
    let who = match identity(&hub, &headers) {
        Ok(w) => w,
        Err(r) => return r,
    };
    match hub.backend.media(&me) {
        Some((m, _)) if may_read(&hub, &who, &m) => Json(record_json(&hub, &m)).into_response(),
        _ => error(404, 20404, "media not found"),
    }
}

#[derive(Deserialize)]
struct ContentQuery {
    #[serde(rename = "Token")]
    token: Option<String>,
}

async fn content(
    State(hub): State<Arc<Hub>>,
    Path((service, me)): Path<(String, String)>,
    Query(q): Query<ContentQuery>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = check_service(&hub, &service) {
        return r;
    }
    let Some((m, bytes)) = hub.backend.media(&me) else { return error(404, 20404, "media not found") };
    let allowed = match &q.token {
        Some(t) => temporary_token_valid(&hub, &me, t),
        None => identity(&hub, &headers).map(|who| may_read(&hub, &who, &m)).unwrap_or(false),
    };
    if !allowed {
        return error(403, 20403, "not allowed to read this media (or the temporary URL expired)");
    }
    // Uploads are untrusted: nosniff plus a sandbox CSP keep an uploaded HTML/SVG from running script on this origin.
    let disposition = format!("inline; filename=\"{}\"", m.filename.replace(['"', '\\', '\r', '\n'], "_"));
    (
        [
            (header::CONTENT_TYPE, m.content_type.clone()),
            (header::CONTENT_DISPOSITION, disposition),
            (HeaderName::from_static("x-content-type-options"), "nosniff".to_string()),
            (header::CONTENT_SECURITY_POLICY, "sandbox".to_string()),
        ],
        bytes,
    )
        .into_response()
}

async fn media_set(State(hub): State<Arc<Hub>>, Path(service): Path<String>, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(r) = check_service(&hub, &service) {
        return r;
    }
    let who = match identity(&hub, &headers) {
        Ok(w) => w,
        Err(r) => return r,
    };
    let query: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => return error(400, 50100, &format!("body is not JSON: {e}")),
    };
    if query.get("command").and_then(Value::as_str) != Some("get") {
        return error(400, 50100, "only the get command is supported");
    }
    let Some(list) = query.get("list").and_then(Value::as_array) else { return error(400, 50100, "list is required") };
    let out: Vec<Value> = list
        .iter()
        .map(|entry| {
            let sid = entry.get("media_sid").and_then(Value::as_str).unwrap_or("");
            match hub.backend.media(sid) {
                Some((m, _)) if may_read(&hub, &who, &m) => json!({"code": 200, "media_record": record_json(&hub, &m)}),
                _ => json!({"code": 404, "media_record": {"sid": sid}}),
            }
        })
        .collect();
    Json(Value::Array(out)).into_response()
}
