//! `GET /v1/agents/availability`: the queue's live numbers, cached for AVAILABILITY_CACHE_SECONDS; outside the
//! business hours (`BUSINESS_HOURS`, crate::infra::hours) no agent, and when they are back, without asking Twilio.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use flexdesk_core::wire::{Availability, AvailabilityAnswer};
use jiff::Timestamp;

use crate::chat::error::{AppError, ErrorCode};
use crate::twilio::flex::Flex;
use crate::infra::hours::Status;
use crate::http::state::AppState;

/// Agents available, tasks waiting and the longest wait in the configured TaskRouter queue; outside business hours
/// zeros, `closed: true` and `opensAt`.
#[utoipa::path(get, path = "/v1/agents/availability", tag = "agents",
    responses(
        (status = 200, body = crate::http::schemas::Availability),
        (status = 429, body = crate::http::schemas::ApiError, description = "rate limited"),
        (status = 502, body = crate::http::schemas::ApiError, description = "Twilio failed"),
        (status = 503, body = crate::http::schemas::ApiError, description = "availability_not_configured (TWILIO_WORKSPACE_SID / TWILIO_QUEUE_SID unset) or twilio_busy"),
        (status = 504, body = crate::http::schemas::ApiError, description = "twilio_unreachable or timeout"),
    ))]
pub async fn availability(State(state): State<Arc<AppState>>) -> Result<Json<AvailabilityAnswer>, AppError> {
    availability_at(&state, Timestamp::now()).await.map(Json)
}

/// The answer at `now` (the tests fix the clock).
pub async fn availability_at(state: &AppState, now: Timestamp) -> Result<AvailabilityAnswer, AppError> {
    if let Some(Status::Closed { opens_at }) = state.config.business_hours.as_ref().map(|h| h.status(now)) {
        let figures = Availability { agents_available: 0, tasks_waiting: 0, longest_wait_seconds: 0 };
        return Ok(AvailabilityAnswer { figures, closed: true, opens_at });
    }
    let flex = Flex { client: &state.twilio, config: &state.config };
    let figures = state
        .availability
        .get_or_fetch(async {
            match flex.availability().await {
                Some(result) => result.map_err(AppError::from),
                None => Err(AppError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    ErrorCode::AvailabilityNotConfigured,
                    "set TWILIO_WORKSPACE_SID and TWILIO_QUEUE_SID to report agent availability",
                )),
            }
        })
        .await?;
    Ok(AvailabilityAnswer { figures, closed: false, opens_at: None })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::infra::config::Config;

    fn state(extra: &[(&'static str, &str)]) -> Arc<AppState> {
        // Nothing listens there: a Twilio call would fail, so an answer proves none was made.
        let mut env = crate::infra::config::test_env("http://127.0.0.1:9");
        env.insert("TWILIO_MAX_RETRIES", "0".into());
        for (k, v) in extra {
            env.insert(k, v.to_string());
        }
        AppState::new(Config::from_lookup(|k| env.get(k).cloned()).unwrap())
    }

    #[tokio::test]
    async fn outside_business_hours_no_agent_and_when_they_are_back_without_twilio() {
        let s = state(&[("BUSINESS_HOURS", "Mon-Fri 09:00-17:00"), ("BUSINESS_TZ", "Europe/Paris"), ("BUSINESS_HOLIDAYS", "2026-12-25")]);
        // Friday 25 December 2026, a holiday, at noon in Paris: back on Monday 28 at 09:00.
        let answer = availability_at(&s, "2026-12-25T11:00:00Z".parse().unwrap()).await.unwrap();
        assert_eq!(answer.figures, Availability { agents_available: 0, tasks_waiting: 0, longest_wait_seconds: 0 });
        assert!(answer.closed);
        assert_eq!(answer.opens_at.as_deref(), Some("2026-12-28T09:00:00+01:00"));
        let json = serde_json::to_value(&answer).unwrap();
        assert_eq!(json["opensAt"], "2026-12-28T09:00:00+01:00");
        assert_eq!(json["agentsAvailable"], 0);
    }

    #[tokio::test]
    async fn within_business_hours_twilio_is_asked() {
        let s = state(&[("BUSINESS_HOURS", "Mon-Fri 09:00-17:00"), ("BUSINESS_TZ", "Europe/Paris")]);
        // Thursday 24 December 2026 at 10:00 in Paris: open, so TaskRouter is asked (and here it cannot answer).
        let err = availability_at(&s, "2026-12-24T09:00:00Z".parse().unwrap()).await.unwrap_err();
        assert_eq!((err.status, err.code), (StatusCode::GATEWAY_TIMEOUT, ErrorCode::TwilioUnreachable), "{}", err.message);
    }
}
