//! Start, refresh and end a chat.
//!
//! Every call after the start must present the session credential, checked in this order:
//! signature and binding to the URL's session (401 otherwise), then the session is known (404
//! `session_not_found`), then still open (404 `session_ended`). Refresh also asks Twilio whether the agent
//! has closed the conversation, so a token can never outlive the chat.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use axum::Json;
use flexdesk_core::wire::{CreateSessionRequest, SessionAuth, SessionCreated};
use uuid::Uuid;

use crate::chat::credential;
use crate::infra::config::StartMode;
use crate::chat::engagement::{routing_attributes, Prepared};
use crate::chat::error::{AppError, ErrorCode};
use crate::chat::figures::AbandonReason;
use crate::http::extract::{credential_from, ApiJson};
use crate::twilio::flex::{ChatRequest, Flex, InteractionRef};
use crate::chat::sessions::ClientKey;
use crate::http::ratelimit::Client;
use crate::chat::sessions::{LiveSession, Session, SessionState};
use crate::twilio::token::{self, Minted};
use crate::http::state::AppState;
use crate::infra::clock::unix_now;

/// Starts a Flex chat for the customer and returns its first access token and the session credential.
#[utoipa::path(post, path = "/v1/sessions", tag = "sessions",
    request_body = crate::http::schemas::CreateSessionRequest,
    responses(
        (status = 201, body = crate::http::schemas::SessionCreated),
        (status = 400, body = crate::http::schemas::ApiError, description = "broken JSON, or identity_not_configured (an identityToken sent to a server without IDENTITY_*)"),
        (status = 401, body = crate::http::schemas::ApiError, description = "identity_invalid: the identityToken does not verify (forged, expired, wrong issuer or audience); or identity_required: no identityToken and the server has IDENTITY_REQUIRED=true (guests refused); no chat is started"),
        (status = 413, body = crate::http::schemas::ApiError, description = "body over 64 KB"),
        (status = 415, body = crate::http::schemas::ApiError, description = "not application/json"),
        (status = 403, body = crate::http::schemas::ApiError, description = "verification_required / verification_failed (only with VERIFY_URL)"),
        (status = 422, body = crate::http::schemas::ApiError, description = "wrong shape, empty or too long customerName, transcript line not from user or bot"),
        (status = 429, body = crate::http::schemas::ApiError, description = "rate_limited, or too_many_sessions (the client's or the server's open-chat cap); with Retry-After"),
        (status = 502, body = crate::http::schemas::ApiError, description = "twilio_rejected / twilio_unavailable / twilio_bad_response"),
        (status = 503, body = crate::http::schemas::ApiError, description = "twilio_busy: Twilio is rate limiting us; outside_business_hours (BUSINESS_HOURS), with Retry-After to the next opening"),
        (status = 504, body = crate::http::schemas::ApiError, description = "twilio_unreachable, or the request took longer than REQUEST_TIMEOUT_SECONDS"),
    ))]
pub async fn create(
    State(state): State<Arc<AppState>>,
    client: Option<Extension<Client>>,
    ApiJson(req): ApiJson<CreateSessionRequest>,
) -> Result<(StatusCode, Json<SessionCreated>), AppError> {
    // The identity token (issue 17) is checked first: a refused one starts nothing (crate::infra::identity).
    let Prepared { name, pre_engagement, identity, handoff_claim, identity_claim, dropped_keys } =
        crate::chat::engagement::prepare(&state.config, &state.used_tokens, &req).await?;
    let client = client.map(|Extension(c)| c).unwrap_or(Client {
        ip: std::net::IpAddr::from([0, 0, 0, 0]),
        key: ClientKey::from_ip(std::net::IpAddr::from([0, 0, 0, 0])),
    });
    // Every start is a task in front of an agent: caps on open chats, per client and in total, before anything
    // leaves this server. The slot is held from here, so simultaneous starts cannot slip past together.
    let c = &state.config;
    // Outside business hours nobody would take the task: a page that skipped areAnyAgentsOnline must not queue one.
    if let Some(crate::infra::hours::Status::Closed { opens_at }) = c.business_hours.as_ref().map(|h| h.status(jiff::Timestamp::now())) {
        state.metrics.record_start_refused("outside_business_hours");
        return Err(closed_error(opens_at.as_deref(), jiff::Timestamp::now()));
    }
    // With REDIS_URL the caps count every replica's chats (crate::chat::replicas).
    let slot = state.chats().reserve(client.key, unix_now()).await.map_err(|too| {
        let reason = if too.per_client { "per_client_cap" } else { "total_cap" };
        tracing::info!(client = %client.key, reason, "start refused: too many open sessions");
        state.metrics.record_start_refused(if too.per_client { "too_many_sessions_client" } else { "too_many_sessions_total" });
        let message = if too.per_client {
            "you already have the most open chats allowed; end one or try again later"
        } else {
            "too many chats are open right now; try again later"
        };
        AppError::new(StatusCode::TOO_MANY_REQUESTS, ErrorCode::TooManySessions, message).with_retry_after(too.retry_after_secs)
    })?;
    if let Err(e) = crate::chat::verify::check(&state.verifier, c, req.verification_token.as_deref(), client.ip).await {
        state.metrics.record_start_refused("verification");
        return Err(e);
    }
    // The server picks the identity (`prepare`); a client-chosen one could impersonate another customer.
    let flex = Flex { client: &state.twilio, config: &state.config };
    let task_attributes = |conversation_sid: &str| routing_attributes(&pre_engagement, &name, &identity, conversation_sid);
    let chat = ChatRequest { identity: &identity, customer_name: &name, pre_engagement: &pre_engagement, task_attributes: &task_attributes };
    let started = flex.start(&chat).await?;
    // The single-use tokens did their work; a start that failed before here gave their jti back, so the desk's retry
    // routes (and, with IDENTITY_SINGLE_USE, is not refused).
    for claim in [handoff_claim, identity_claim].into_iter().flatten() {
        claim.keep();
    }

    let now = unix_now();
    let session_id = Uuid::new_v4().simple().to_string();
    let expires_at = now + state.config.session_max_age_seconds;
    let Minted { token, expires_at: token_expires_at } = mint(&state, &started.identity, now, expires_at);
    let context = credential::Context {
        identity: started.identity.clone(),
        conversation_sid: started.conversation_sid.clone(),
        interaction_sid: started.interaction.as_ref().map(|i| i.interaction_sid.clone()),
        channel_sid: started.interaction.as_ref().map(|i| i.channel_sid.clone()),
    };
    let session_credential = state.session_keys.issue(&session_id, expires_at, &context);
    tracing::info!(session_id, conversation_sid = %started.conversation_sid, mode = state.config.start_mode.as_str(), "chat started");
    let live = state.sessions.insert(
        session_id.clone(),
        Session {
            identity: started.identity.clone(),
            conversation_sid: started.conversation_sid.clone(),
            interaction: started.interaction,
            state: SessionState::Open,
            expires_at,
            client: Some(client.key),
            active_until: token_expires_at,
        },
        now,
    );
    // Twilio made it open just now.
    live.mark_checked_open(now);
    crate::chat::replicas::opened(slot, &session_id, &started.conversation_sid, token_expires_at, expires_at, now).await;
    // The agent's files are linked through `GET /v1/media/{MediaSid}` for as long as the session lives.
    let media_link_query = state.media_link_keys.query(&started.conversation_sid, expires_at);
    // Twilio's conversation timers, the backstop for a page that sends nothing (issue 28): not on the customer's wait.
    let (st, sid) = (state.clone(), started.conversation_sid.clone());
    tokio::spawn(async move { Flex { client: &st.twilio, config: &st.config }.set_timers(&sid).await });
    Ok((
        StatusCode::CREATED,
        Json(SessionCreated {
            session_id,
            conversation_sid: started.conversation_sid,
            identity: started.identity,
            token,
            token_expires_at,
            session_credential,
            dropped_pre_engagement_keys: dropped_keys,
            media_link_query: Some(media_link_query),
        }),
    ))
}

/// A fresh access token for an open chat.
#[utoipa::path(post, path = "/v1/sessions/{id}/token", tag = "sessions",
    params(("id" = String, Path, description = "session id from SessionCreated")),
    request_body = crate::http::schemas::SessionAuth,
    responses(
        (status = 200, body = crate::http::schemas::TokenRefreshed),
        (status = 400, body = crate::http::schemas::ApiError, description = "broken JSON"),
        (status = 413, body = crate::http::schemas::ApiError, description = "body over 64 KB"),
        (status = 415, body = crate::http::schemas::ApiError, description = "not application/json"),
        (status = 422, body = crate::http::schemas::ApiError, description = "JSON of the wrong shape"),
        (status = 401, body = crate::http::schemas::ApiError, description = "credential missing, forged, expired or of another session"),
        (status = 404, body = crate::http::schemas::ApiError, description = "session_not_found or session_ended (also when the agent closed the chat)"),
        (status = 429, body = crate::http::schemas::ApiError, description = "rate limited"),
        (status = 502, body = crate::http::schemas::ApiError, description = "twilio_rejected / twilio_unavailable / twilio_bad_response"),
        (status = 503, body = crate::http::schemas::ApiError, description = "twilio_busy: Twilio is rate limiting us"),
        (status = 504, body = crate::http::schemas::ApiError, description = "twilio_unreachable, or the request took longer than REQUEST_TIMEOUT_SECONDS"),
    ))]
pub async fn refresh(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    ApiJson(auth): ApiJson<SessionAuth>,
) -> Result<Response, AppError> {
    let session = authorize(&state, &id, &auth.session_credential).await?;
    if session.is_ended() {
        return Err(AppError::session_ended());
    }
    // Whoever refreshes has the chat: a reload or another tab within an abandonment's grace period (routes/leave.rs).
    state.abandonments.cancel(state.redis.as_ref(), &id).await;
    // A token is minted only while the chat is open (a cached "open" answer once let refresh succeed after the
    // agent had closed the chat; tests/auth/emulator-stack.test.mjs). Who says it is open:
    // - a verified Twilio webhook said it ended: ended, whatever else;
    // - webhooks healthy (on, and one verified within TWILIO_WEBHOOKS_FRESH_SECONDS), this process started the
    //   session, and Twilio itself said it was open less than one token lifetime ago: the webhook record (no
    //   webhook = still open), no Twilio call. The lifetime bound is what keeps webhooks from ever making refresh
    //   less safe than asking Twilio: a close that fires no webhook (a REST close without
    //   `X-Twilio-Webhook-Enabled`, https://help.twilio.com/articles/360046342593, or Flex's own end, which Twilio
    //   does not document) still gets no token later than one token lifetime after it (issue 22);
    // - otherwise (webhooks off or silent, the record too old, or a session rebuilt from its credential): Twilio,
    //   one call per conversation however many refreshes overlap.
    let now = unix_now();
    let c = &state.config;
    // (Ended here or on any replica: crate::chat::replicas, by session id or conversation SID.)
    let closed = if state.chats().known_ended_session(&id, &session).await {
        true
    } else if session.client().is_some()
        && now < session.checked_open_at().saturating_add(c.token_ttl_seconds)
        && state.webhooks.healthy(c.webhooks.as_ref().map(|w| w.fresh), now)
    {
        false
    } else {
        let flex = Flex { client: &state.twilio, config: c };
        let sid = session.conversation_sid();
        let closed = state.closed_checks.run(sid, || flex.conversation_closed(sid)).await?;
        if !closed {
            session.mark_checked_open(now);
        }
        closed
    };
    if closed {
        tracing::info!(session_id = id, "conversation closed by the agent side; refusing refresh");
        state.chats().session_ended(&id, session.conversation_sid(), session.expires_at(), unix_now()).await;
        return Err(AppError::session_ended());
    }
    // (A fresh clock: the check above may have waited for Twilio.)
    let now = unix_now();
    let Minted { token, expires_at } = mint(&state, session.identity(), now, session.expires_at());
    state.chats().touched(&session, &id, expires_at, now).await;
    Ok(token_refreshed(token, expires_at))
}

/// The refresh answer, byte for byte what `Json(TokenRefreshed { .. })` writes, without serde's string escaper:
/// it looked at each of the token's ~500 bytes (some 6 000 instructions a refresh, bench/README.md), and a JWT
/// (base64url parts and dots) never needs escaping.
fn token_refreshed(token: String, token_expires_at: u64) -> Response {
    use std::fmt::Write;
    debug_assert!(token.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.')), "not a JWT");
    let mut body = String::with_capacity(token.len() + 48);
    body.push_str(r#"{"token":""#);
    body.push_str(&token);
    let _ = write!(body, r#"","tokenExpiresAt":{token_expires_at}}}"#);
    ([(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], body).into_response()
}

/// Ends the chat: closes the conversation (and the interaction channel) so no task is left orphaned.
/// Idempotent: ending an ended session answers 204 again.
#[utoipa::path(delete, path = "/v1/sessions/{id}", tag = "sessions",
    params(("id" = String, Path, description = "session id from SessionCreated")),
    request_body(content = crate::http::schemas::SessionAuth, description = "or header `Authorization: Bearer <sessionCredential>` (then no body). With `\"reason\": \"idle\"` beside the credential (the desk closing for the customer's silence), a line for the agent is posted first"),
    responses(
        (status = 204, description = "ended"),
        (status = 400, body = crate::http::schemas::ApiError, description = "broken JSON"),
        (status = 413, body = crate::http::schemas::ApiError, description = "body over 64 KB"),
        (status = 422, body = crate::http::schemas::ApiError, description = "JSON of the wrong shape"),
        (status = 429, body = crate::http::schemas::ApiError, description = "rate limited"),
        (status = 401, body = crate::http::schemas::ApiError, description = "credential missing, forged, expired or of another session"),
        (status = 404, body = crate::http::schemas::ApiError, description = "session_not_found (kept for compatibility; a valid credential now always names a session)"),
        (status = 502, body = crate::http::schemas::ApiError, description = "Twilio failed; the session stays open so the call can be retried"),
        (status = 503, body = crate::http::schemas::ApiError, description = "twilio_busy; the session stays open"),
        (status = 504, body = crate::http::schemas::ApiError, description = "twilio_unreachable or timeout; the session stays open"),
    ))]
pub async fn end(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<StatusCode, AppError> {
    let body = body.map_err(crate::http::extract::bytes_rejection)?;
    let credential = credential_from(&headers, &body)?;
    let session = authorize(&state, &id, &credential).await?;
    // `"reason": "idle"`: the desk closes a chat whose customer did not answer "Are you still there?" (issue 28).
    let idle = serde_json::from_slice::<serde_json::Value>(&body).ok().is_some_and(|v| v.get("reason").and_then(|r| r.as_str()) == Some("idle"));
    let (by, reason, notice) = if idle {
        ("idle customer", AbandonReason::Idle, Some(("customer_idle", CUSTOMER_IDLE)))
    } else {
        ("the customer", AbandonReason::Customer, None)
    };
    close_chat(&state, &id, &session, by, reason, notice).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// What the agent reads when the desk closed the chat for the customer's silence (flexdesk-core `session/idle.rs`).
pub const CUSTOMER_IDLE: &str = "The customer did not answer \"Are you still there?\", so the chat was closed.";

/// Ends session `id`'s chat for everyone, unless it already ended (here or, with REDIS_URL, on another replica:
/// closed there already, so Twilio is not called again). `by` says who, for the log; `notice` (its attributes' key
/// and text) is a line posted for the agent first, one Twilio call (a failure to post it is logged, the end goes on).
/// The customer's end, an idle customer's and the end of a chat whose last tab went away (routes/leave.rs) come here.
pub(crate) async fn close_chat(
    state: &AppState,
    id: &str,
    session: &LiveSession,
    by: &str,
    reason: AbandonReason,
    notice: Option<(&str, &str)>,
) -> Result<(), AppError> {
    if session.is_ended() {
        return Ok(());
    }
    if state.chats().known_ended(id, session.conversation_sid()).await {
        state.sessions.end(id, unix_now());
    } else {
        // Noted first: TaskRouter's `task.canceled` for this chat may arrive before Twilio answers the close.
        state.figures.ended(session.conversation_sid(), reason, unix_now());
        let flex = Flex { client: &state.twilio, config: &state.config };
        if let Some((kind, text)) = notice {
            if let Err(e) = flex.post_notice(session.conversation_sid(), kind, text).await {
                tracing::info!(session_id = id, error = %e, "could not post the line for the agent");
            }
        }
        flex.close(session.conversation_sid(), session.interaction()).await?;
        state.chats().session_ended(id, session.conversation_sid(), session.expires_at(), unix_now()).await;
        tracing::info!(session_id = id, by, "chat ended");
    }
    Ok(())
}

/// Checks the credential against the URL's session and returns that session. A session this process does not
/// know (it restarted, or another instance started it) is rebuilt from the credential's signed context as
/// open: refresh then asks Twilio whether the conversation is still open, exactly as for a known session.
///
/// Rebuilding trusts the context only as far as it must: the identity must be a customer's, and a customer of the
/// conversation it names. In the interactions and flexflow modes the server minted it (`customer-<uuid>`); in the
/// webchat mode Twilio chose it. In every mode Twilio is asked whether it is a (non-agent) participant of that
/// conversation, so a leaked `SESSION_SECRET` can neither mint tokens for an agent or any other identity nor end,
/// or read the queue place of, a chat its forged identity is not in (issue 24, item 8: with a minted-looking identity
/// and another chat's conversation SID, a forged credential closed that chat).
pub(crate) async fn authorize(state: &AppState, id: &str, credential: &str) -> Result<LiveSession, AppError> {
    let c = &state.config;
    let credential::Verified { context, expires_at } = match state.session_keys.verify(credential, id, unix_now()) {
        Ok(v) => v,
        Err(reason) => {
            tracing::info!(?reason, "session credential refused");
            return Err(AppError::invalid_credential());
        }
    };
    if let Some(session) = state.sessions.find(id) {
        return Ok(session);
    }
    let shaped = match c.start_mode {
        StartMode::Webchat { .. } => true,
        StartMode::Interactions { .. } | StartMode::FlexFlow { .. } => is_minted_identity(&context.identity),
    };
    let flex = Flex { client: &state.twilio, config: c };
    let customer = shaped && flex.is_customer_participant(&context.conversation_sid, &context.identity).await?;
    if !customer {
        tracing::warn!(session_id = id, "a validly signed credential names no customer of its conversation; refused (is SESSION_SECRET leaked?)");
        return Err(AppError::invalid_credential());
    }
    let interaction = match (context.interaction_sid, context.channel_sid) {
        (Some(interaction_sid), Some(channel_sid)) => Some(InteractionRef { interaction_sid, channel_sid }),
        _ => None,
    };
    let now = unix_now();
    let session = Session {
        identity: context.identity,
        conversation_sid: context.conversation_sid,
        interaction,
        state: SessionState::Open,
        expires_at,
        client: None,
        active_until: now,
    };
    tracing::info!(session_id = id, "session rebuilt from its credential");
    Ok(state.sessions.insert(id.to_string(), session, now))
}

/// `customer-<uuid v4>`, exactly as [`create`] mints it.
fn is_minted_identity(identity: &str) -> bool {
    identity.strip_prefix("customer-").and_then(|u| Uuid::try_parse(u).ok()).is_some_and(|u| u.get_version_num() == 4)
        || crate::infra::identity::is_verified_identity(identity)
}


/// A token for `identity`, never outliving the session.
fn mint(state: &AppState, identity: &str, now: u64, session_expires_at: u64) -> Minted {
    let c = &state.config;
    let keys = token::TokenKeys {
        account_sid: &c.account_sid,
        api_key_sid: &c.api_key_sid,
        api_key_secret: c.api_key_secret.expose(),
        service_sid: &c.conversations_service_sid,
    };
    let ttl = c.token_ttl_seconds.min(session_expires_at.saturating_sub(now)).max(1);
    token::mint(&keys, identity, now, ttl)
}

/// 503 `outside_business_hours`, with Retry-After up to the next opening when it is known.
fn closed_error(opens_at: Option<&str>, now: jiff::Timestamp) -> AppError {
    let message = match opens_at {
        Some(t) => format!("outside business hours; agents are back at {t}"),
        None => "outside business hours".to_string(),
    };
    let err = AppError::new(StatusCode::SERVICE_UNAVAILABLE, ErrorCode::OutsideBusinessHours, message);
    match opens_at.and_then(|t| t.parse::<jiff::Timestamp>().ok()) {
        Some(at) if at > now => err.with_retry_after(at.as_second().saturating_sub(now.as_second()) as u64),
        _ => err,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::to_bytes;
    use flexdesk_core::wire::TokenRefreshed;

    #[tokio::test]
    async fn the_refresh_answer_is_what_serde_writes() {
        let token = "eyJhbGciOiJIUzI1NiJ9.eyJqdGkiOiJTSy0xIn0.abc-_DEF123".to_string();
        let direct = token_refreshed(token.clone(), 1_700_003_600);
        let serde = Json(TokenRefreshed { token, token_expires_at: 1_700_003_600 }).into_response();
        assert_eq!((direct.status(), direct.headers()), (serde.status(), serde.headers()));
        let (a, b) = (to_bytes(direct.into_body(), 4096).await.unwrap(), to_bytes(serde.into_body(), 4096).await.unwrap());
        assert_eq!(a, b);
    }
}
