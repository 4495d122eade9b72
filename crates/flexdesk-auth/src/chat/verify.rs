//! The optional human-verification hook (`VERIFY_URL`): before a chat starts, the page's token
//! (`verificationToken`, e.g. a CAPTCHA answer) is POSTed to the verifier, form-encoded as the common
//! `siteverify` endpoints expect it (`secret` = `VERIFY_SECRET`, `response` = the token, `remoteip` = the client),
//! so Cloudflare Turnstile, hCaptcha and reCAPTCHA work directly, as does a verifier of your own. The start goes
//! ahead only when the verifier answers 2xx JSON with `"success": true`. Fails closed: no answer is a 503.

use std::net::IpAddr;

use axum::http::StatusCode;
use serde_json::Value;

use crate::infra::config::Config;
use crate::chat::error::{AppError, ErrorCode};

/// Longest token passed on (Turnstile's are ~2 KB).
const MAX_TOKEN_BYTES: usize = 4096;

/// Checks the page's verification token with the verifier at `VERIFY_URL`; `Ok` at once when none is configured.
///
/// # Errors
/// 403 `verification_required` when the token is missing or blank, 403 `verification_failed` when it is longer
/// than 4096 bytes or the verifier says no, 503 `verification_unavailable` (with `Retry-After`) when the verifier
/// does not answer usably.
pub async fn check(http: &reqwest::Client, config: &Config, token: Option<&str>, ip: IpAddr) -> Result<(), AppError> {
    let Some(url) = &config.verify_url else { return Ok(()) };
    let token = token.map(str::trim).filter(|t| !t.is_empty()).ok_or_else(|| {
        AppError::new(StatusCode::FORBIDDEN, ErrorCode::VerificationRequired, "this server needs a human-verification token (verificationToken)")
    })?;
    let failed = || AppError::new(StatusCode::FORBIDDEN, ErrorCode::VerificationFailed, "human verification failed; try again");
    if token.len() > MAX_TOKEN_BYTES {
        return Err(failed());
    }
    let unavailable = |why: &str| {
        tracing::warn!(why, "human verification could not be checked");
        AppError::new(StatusCode::SERVICE_UNAVAILABLE, ErrorCode::VerificationUnavailable, "human verification is not available right now; try again shortly")
            .with_retry_after(5)
    };
    let mut form = vec![("response", token.to_string()), ("remoteip", ip.to_string())];
    if let Some(secret) = &config.verify_secret {
        form.push(("secret", secret.expose().to_string()));
    }
    let answer = http.post(url).form(&form).send().await.map_err(|e| unavailable(if e.is_timeout() { "timed out" } else { "no connection" }))?;
    let status = answer.status();
    if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS {
        return Err(unavailable("verifier failed"));
    }
    let body: Value = answer.bytes().await.ok().and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or(Value::Null);
    if status.is_success() && body.get("success") == Some(&Value::Bool(true)) {
        Ok(())
    } else {
        tracing::info!(status = status.as_u16(), "human verification refused");
        Err(failed())
    }
}
