//! `GET /v1/agents/availability`: the queue's live numbers, cached for AVAILABILITY_CACHE_SECONDS.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use flexdesk_core::wire::Availability;

use crate::error::AppError;
use crate::flex::Flex;
use crate::AppState;

/// Agents available, tasks waiting and the longest wait in the configured TaskRouter queue.
#[utoipa::path(get, path = "/v1/agents/availability", tag = "agents",
    responses(
        (status = 200, body = crate::openapi::Availability),
        (status = 429, body = crate::openapi::ApiError, description = "rate limited"),
        (status = 502, body = crate::openapi::ApiError, description = "Twilio failed"),
        (status = 503, body = crate::openapi::ApiError, description = "availability_not_configured (TWILIO_WORKSPACE_SID / TWILIO_QUEUE_SID unset) or twilio_busy"),
        (status = 504, body = crate::openapi::ApiError, description = "twilio_unreachable or timeout"),
    ))]
pub async fn availability(State(state): State<Arc<AppState>>) -> Result<Json<Availability>, AppError> {
    let flex = Flex { client: &state.twilio, config: &state.config };
    let value = state
        .availability
        .get_or_fetch(async {
            match flex.availability().await {
                Some(result) => result.map_err(AppError::from),
                None => Err(AppError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "availability_not_configured",
                    "set TWILIO_WORKSPACE_SID and TWILIO_QUEUE_SID to report agent availability",
                )),
            }
        })
        .await?;
    Ok(Json(value))
}
