//! Request extractors whose rejections are our JSON errors (400 broken JSON, 413 too large,
//! 415 not JSON, 422 wrong shape) instead of axum's plain-text ones.

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, JsonRejection};
use axum::extract::{FromRequest, Request};
use axum::http::{header, HeaderMap, StatusCode};
use axum::Json;
use flexdesk_core::wire::SessionAuth;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::chat::error::{AppError, ErrorCode};

/// Like axum's `Json` extractor, but a body that is not JSON, too large or of the wrong shape is refused with
/// [`AppError`]'s JSON body (400 `invalid_json`, 413 `payload_too_large`, 415 `unsupported_media_type`,
/// 422 `invalid_body`).
pub struct ApiJson<T>(pub T);

/// Where a body must hold JSON objects. serde's derived structs also accept a JSON *array* of the field
/// values in order (`{"handoff": [null, "billing"]}`, or `["Ada"]` for the whole body), which /openapi.json
/// does not allow; schemathesis found it (tests/reliability/campaign/api-fuzz.mjs). So bodies are checked as JSON first.
pub trait ObjectShape {
    /// Paths that must be objects when present: `""` is the body, `"handoff"` a member, `"handoff.transcript[]"`
    /// every item of an array member.
    const OBJECTS: &'static [&'static str];
}

impl ObjectShape for flexdesk_core::wire::CreateSessionRequest {
    const OBJECTS: &'static [&'static str] = &["", "handoff", "handoff.transcript[]"];
}

impl ObjectShape for SessionAuth {
    const OBJECTS: &'static [&'static str] = &[""];
}

impl ObjectShape for flexdesk_core::wire::RatingRequest {
    const OBJECTS: &'static [&'static str] = &[""];
}

impl ObjectShape for flexdesk_core::wire::ContinueBySms {
    const OBJECTS: &'static [&'static str] = &[""];
}

/// Values found at `path` (absent and `null` members yield nothing).
fn at<'v>(v: &'v Value, path: &str) -> Vec<&'v Value> {
    let mut found = vec![v];
    for part in path.split('.').filter(|p| !p.is_empty()) {
        let (key, each) = part.strip_suffix("[]").map_or((part, false), |k| (k, true));
        found = found
            .into_iter()
            .filter_map(|x| x.get(key))
            .filter(|x| !x.is_null())
            .flat_map(|x| if each { x.as_array().map(|a| a.iter().collect()).unwrap_or_default() } else { vec![x] })
            .collect();
    }
    found
}

fn check_objects<T: ObjectShape>(body: &Value) -> Result<(), AppError> {
    for path in T::OBJECTS {
        if at(body, path).iter().any(|x| !x.is_object()) {
            let what = if path.is_empty() { "the body".to_string() } else { (*path).to_string() };
            return Err(AppError::new(StatusCode::UNPROCESSABLE_ENTITY, ErrorCode::InvalidBody, format!("{what} must be a JSON object")));
        }
    }
    Ok(())
}

impl<S, T> FromRequest<S> for ApiJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned + ObjectShape,
{
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        // Refresh's body (`{"sessionCredential": …}`) straight into its type: no `Value` tree on the way. Only when
        // the content type is the plain one (anything else takes axum's full check below) and the one shape rule is
        // "the body is an object", which its first byte shows. A body this refuses goes the whole way below, so
        // every refusal is as before. (Members the type does not know are skipped unparsed here, so an
        // out-of-range number in one no longer answers 400.)
        let plain_json = req.headers().get(header::CONTENT_TYPE).is_some_and(|v| v == "application/json");
        let value = if plain_json && T::OBJECTS == [""] {
            let bytes = Bytes::from_request(req, state).await.map_err(|e| json_rejection(e.into()))?;
            if bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{') {
                if let Ok(parsed) = serde_json::from_slice::<T>(&bytes) {
                    return Ok(ApiJson(parsed));
                }
            }
            Json::<Value>::from_bytes(&bytes).map_err(json_rejection)?.0
        } else {
            Json::<Value>::from_request(req, state).await.map_err(json_rejection)?.0
        };
        check_objects::<T>(&value)?;
        serde_json::from_value(value).map(ApiJson).map_err(|e| {
            AppError::new(StatusCode::UNPROCESSABLE_ENTITY, ErrorCode::InvalidBody, format!("Failed to deserialize the JSON body into the target type: {e}"))
        })
    }
}

fn json_rejection(rejection: JsonRejection) -> AppError {
    let status = rejection.status();
    let code = match status {
        StatusCode::PAYLOAD_TOO_LARGE => ErrorCode::PayloadTooLarge,
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ErrorCode::UnsupportedMediaType,
        StatusCode::UNPROCESSABLE_ENTITY => ErrorCode::InvalidBody,
        _ => ErrorCode::InvalidJson,
    };
    AppError::new(status, code, rejection.body_text())
}

/// axum's failure to read a body as our JSON error: 413 `payload_too_large` over the body limit, else 400
/// `bad_request`.
pub fn bytes_rejection(rejection: BytesRejection) -> AppError {
    let status = rejection.status();
    let code = if status == StatusCode::PAYLOAD_TOO_LARGE { ErrorCode::PayloadTooLarge } else { ErrorCode::BadRequest };
    AppError::new(status, code, rejection.body_text())
}

/// The session credential of a DELETE: `Authorization: Bearer <credential>`, or a JSON `SessionAuth` body
/// (both work with `fetch(..., {keepalive: true})` when the page is closing).
pub fn credential_from(headers: &HeaderMap, body: &[u8]) -> Result<String, AppError> {
    if let Some(value) = headers.get(header::AUTHORIZATION) {
        let bearer = value.to_str().ok().and_then(|v| v.strip_prefix("Bearer ")).map(str::trim);
        return match bearer {
            Some(c) if !c.is_empty() => Ok(c.to_string()),
            _ => Err(AppError::invalid_credential()),
        };
    }
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(AppError::invalid_credential());
    }
    // Same split as the JSON extractor: broken JSON is 400, well-formed JSON of the wrong shape 422.
    if let Ok(value) = serde_json::from_slice::<Value>(body) {
        check_objects::<SessionAuth>(&value)?;
    }
    serde_json::from_slice::<SessionAuth>(body).map(|a| a.session_credential).map_err(|e| {
        let (status, code) = match e.classify() {
            serde_json::error::Category::Data => (StatusCode::UNPROCESSABLE_ENTITY, ErrorCode::InvalidBody),
            _ => (StatusCode::BAD_REQUEST, ErrorCode::InvalidJson),
        };
        AppError::new(status, code, format!("body must be {{\"sessionCredential\": string}}: {e}"))
    })
}
