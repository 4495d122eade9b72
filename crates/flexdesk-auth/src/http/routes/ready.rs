//! Readiness (`GET /readyz`): the configuration is loaded (it is, or the process would have exited 2) and Twilio was
//! reachable recently.
//!
//! "Recently" means the last call that Twilio answered with our credentials accepted (any 2xx, or a 4xx about the
//! resource such as 404; not 401/403, 5xx or no answer) is at most `READY_TWILIO_FRESH_SECONDS` old (default 60) and
//! no call has failed since. Chat traffic keeps that fresh on its own. Otherwise (no call yet, an idle spell, or a
//! failure since) `/readyz` probes Twilio with one cheap read-only call: fetching the configured Conversations
//! service (conversations v1 `FetchService`, `GET /v1/Services/{IS}`), without retries and bounded to 2 s. Concurrent
//! `/readyz` share one probe; a failed probe is reused for `READY_PROBE_RETRY_SECONDS` (default 5), so a load
//! balancer polling every second sends Twilio at most one call per that many seconds.
//!
//! Grace: once Twilio has answered, a failure turns `/readyz` 503 only after Twilio has been failing for
//! `READY_TWILIO_GRACE_SECONDS` (default 30). Every replica talks to the same Twilio, so without it one short blip
//! would take every replica out of the load balancer at the same moment, turning a few failed chats into a full
//! outage. Before any good answer (a replica starting, or a wrong configuration) there is no grace.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::twilio::client::{now_ms, Operation, ProbeOutcome, CallError};
use crate::http::state::AppState;

/// conversations v1 `FetchService`: read-only, always there when the configuration is right.
const READY_PROBE: Operation = Operation::repeatable("ready_probe");
/// The longest a probe may take: readiness checks are usually given a few seconds at most.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// Readiness: 200 while Twilio was reachable recently, else 503 with the reason.
#[utoipa::path(get, path = "/readyz", tag = "ops", responses(
    (status = 200, description = "Ready: `{\"status\":\"ready\",\"twilio\":{\"lastAnsweredSecondsAgo\":n}}`; within the grace after Twilio started failing, `twilio` also has `failingForSeconds`"),
    (status = 503, description = "Not ready: `{\"status\":\"not_ready\",\"reason\":\"twilio_unreachable\"|\"twilio_refused\",\"message\"}` (details in the server log)"),
))]
pub async fn readyz(State(state): State<Arc<AppState>>) -> Response {
    let fresh_ms = state.config.ready_twilio_fresh.as_millis() as u64;
    let reach = state.twilio.reachability();
    if let Some(age) = fresh_age(reach.last_ok_ms(), reach.last_failure_ms(), fresh_ms) {
        return ready(age);
    }
    // One probe at a time; the others wait for it and read its outcome.
    let mut slot = reach.probe.lock().await;
    let now = now_ms();
    // Traffic (or the probe we waited for) may have answered meanwhile.
    if let Some(age) = fresh_age(reach.last_ok_ms(), reach.last_failure_ms(), fresh_ms) {
        return ready(age);
    }
    let retry_ms = state.config.ready_probe_retry.as_millis() as u64;
    if let Some(ProbeOutcome { at_ms, failure: Some(reason) }) = slot.as_ref() {
        if now.saturating_sub(*at_ms) < retry_ms {
            return failing(&state, reason);
        }
    }
    let outcome = probe(&state).await;
    *slot = Some(outcome.clone());
    match outcome.failure {
        None => ready(0),
        Some(reason) => failing(&state, reason),
    }
}

/// Twilio is failing: still ready within the grace that follows a good answer, else 503.
fn failing(state: &AppState, reason: &str) -> Response {
    let reach = state.twilio.reachability();
    let now = now_ms();
    let (last_ok, since) = (reach.last_ok_ms(), reach.failing_since_ms());
    let failing_ms = now.saturating_sub(since);
    if last_ok > 0 && since > 0 && failing_ms < state.config.ready_twilio_grace.as_millis() as u64 {
        let twilio = json!({ "lastAnsweredSecondsAgo": now.saturating_sub(last_ok) / 1000, "failingForSeconds": failing_ms / 1000 });
        return Json(json!({ "status": "ready", "twilio": twilio })).into_response();
    }
    not_ready(reason)
}

/// The age of the last good answer when it is fresh and nothing failed after it.
fn fresh_age(last_ok: u64, last_failure: u64, fresh_ms: u64) -> Option<u64> {
    let age = now_ms().saturating_sub(last_ok);
    (last_ok > 0 && last_ok >= last_failure && age <= fresh_ms).then_some(age)
}

async fn probe(state: &AppState) -> ProbeOutcome {
    let url = format!("{}/v1/Services/{}", state.config.conversations_api_url, state.config.conversations_service_sid);
    let result = match tokio::time::timeout(PROBE_TIMEOUT, state.twilio.get_once(READY_PROBE, &url)).await {
        Ok(r) => r,
        Err(_) => Err(CallError::Unreachable { operation: READY_PROBE.name, detail: "timed out".into() }),
    };
    // Only a good answer makes Twilio "reachable" here: a 404 means the configured service is not there.
    state.twilio.reachability().mark(result.is_ok());
    let failure = match &result {
        Ok(_) => None,
        // Twilio answered: the configuration is wrong (a key it refuses, a service it does not know).
        Err(CallError::Api { status: 400..=499, .. }) => Some("twilio_refused"),
        Err(_) => Some("twilio_unreachable"),
    };
    if let Err(e) = &result {
        tracing::warn!(error = %e, "readiness probe failed: not ready (run `flexdesk-auth doctor` to check the Twilio settings)");
    }
    ProbeOutcome { at_ms: now_ms(), failure }
}

fn ready(age_ms: u64) -> Response {
    Json(json!({ "status": "ready", "twilio": { "lastAnsweredSecondsAgo": age_ms / 1000 } })).into_response()
}

fn not_ready(reason: &str) -> Response {
    let message = match reason {
        "twilio_refused" => "Twilio refused the readiness probe (credentials or TWILIO_CONVERSATIONS_SERVICE_SID); see the server log",
        _ => "Twilio did not answer recently; see the server log",
    };
    (StatusCode::SERVICE_UNAVAILABLE, Json(json!({ "status": "not_ready", "reason": reason, "message": message }))).into_response()
}
