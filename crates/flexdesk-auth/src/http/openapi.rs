//! The OpenAPI 3 document served at `/openapi.json`.
//!
//! The schemas are the mirrors in `schemas.rs`. A test below compares each mirror's properties with what the core
//! type really serialises, so the two cannot drift apart silently.

use utoipa::OpenApi;

use crate::http::schemas::*;

#[derive(OpenApi)]
#[openapi(
    info(title = "flexdesk auth server", description = "Starts, refreshes and ends Twilio Flex chats for the flexdesk web chat. Errors are `{\"error\":{\"code\",\"message\"}}`."),
    paths(
        crate::http::routes::sessions::create,
        crate::http::routes::sessions::refresh,
        crate::http::routes::sessions::end,
        crate::http::routes::leave::leave,
        crate::http::routes::agents::availability,
        crate::http::routes::queue::position,
        crate::http::routes::rating::rate,
        crate::http::routes::erase::erase,
        crate::http::routes::media::open,
        crate::http::routes::sms::continue_by_sms,
        crate::http::routes::ops::healthz,
        crate::http::routes::ready::readyz,
    ),
    components(schemas(CreateSessionRequest, Handoff, TranscriptLine, SessionCreated, TokenRefreshed, SessionAuth, RatingRequest, EraseReceipt, ContinueBySms, SmsContinued, Availability, QueuePosition, ApiError, ApiErrorBody)),
    modifiers(&OptionalDeleteBody)
)]
/// The OpenAPI document of the public API (`ApiDoc::openapi()`, from [`utoipa::OpenApi`]).
pub struct ApiDoc;

/// The DELETE body is optional (the credential may come in an `Authorization` header instead) but, when
/// present, must be a `SessionAuth`: utoipa can only say "optional" by also allowing `null`, so say it here.
struct OptionalDeleteBody;

impl utoipa::Modify for OptionalDeleteBody {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        if let Some(item) = doc.paths.paths.get_mut("/v1/sessions/{id}") {
            if let Some(body) = item.delete.as_mut().and_then(|op| op.request_body.as_mut()) {
                body.required = Some(utoipa::openapi::Required::False);
            }
        }
    }
}

/// This API's OpenAPI 3 description, as this server is configured. Served on the admin listener only.
///
/// A server without `IDENTITY_*` refuses every `identityToken` (400 `identity_not_configured`), so its document does
/// not offer the field: schemathesis (issue 24, item 11) rightly called a start the document allowed and the server
/// refused a disagreement.
#[utoipa::path(get, path = "/openapi.json", tag = "ops", responses((status = 200, description = "OpenAPI 3.1 document (admin listener only)")))]
pub async fn document(axum::extract::State(state): axum::extract::State<std::sync::Arc<crate::http::state::AppState>>) -> axum::Json<utoipa::openapi::OpenApi> {
    use utoipa::openapi::{schema::Schema, RefOr};
    let mut doc = ApiDoc::openapi();
    if state.config.identity.is_none() {
        if let Some(RefOr::T(Schema::Object(start))) = doc.components.as_mut().and_then(|c| c.schemas.get_mut("CreateSessionRequest")) {
            start.properties.remove("identityToken");
        }
    }
    axum::Json(doc)
}

#[cfg(test)]
mod tests {
    use super::*;
    use flexdesk_core::wire;
    use serde_json::{json, Value};
    use std::collections::BTreeSet;

    fn schema_properties(doc: &Value, name: &str) -> BTreeSet<String> {
        doc["components"]["schemas"][name]["properties"].as_object().unwrap_or_else(|| panic!("schema {name}")).keys().cloned().collect()
    }

    fn keys(v: Value) -> BTreeSet<String> {
        v.as_object().unwrap().keys().cloned().collect()
    }

    #[test]
    fn mirrors_match_the_core_wire_types() {
        let doc = serde_json::to_value(ApiDoc::openapi()).unwrap();
        let full_handoff = wire::Handoff {
            message_to_human_agent: Some("m".into()),
            topic: Some("t".into()),
            skill: Some("s".into()),
            language: Some("l".into()),
            transcript: vec![wire::TranscriptLine { from: "user".into(), text: "x".into() }],
            handoff_token: Some("t".into()),
        };
        let cases = [
            ("CreateSessionRequest", serde_json::to_value(wire::CreateSessionRequest { customer_name: "a".into(), pre_engagement: Some(json!({})), handoff: Some(full_handoff.clone()), verification_token: Some("v".into()), identity_token: Some("i".into()) }).unwrap()),
            ("Handoff", serde_json::to_value(&full_handoff).unwrap()),
            ("TranscriptLine", serde_json::to_value(wire::TranscriptLine { from: "u".into(), text: "t".into() }).unwrap()),
            ("SessionCreated", serde_json::to_value(wire::SessionCreated { session_id: "".into(), conversation_sid: "".into(), identity: "".into(), token: "".into(), token_expires_at: 0, session_credential: "".into(), dropped_pre_engagement_keys: vec!["".into()], media_link_query: Some("".into()) }).unwrap()),
            ("TokenRefreshed", serde_json::to_value(wire::TokenRefreshed { token: "".into(), token_expires_at: 0 }).unwrap()),
            ("SessionAuth", serde_json::to_value(wire::SessionAuth { session_credential: "".into() }).unwrap()),
            ("RatingRequest", serde_json::to_value(wire::RatingRequest { session_credential: "".into(), score: 1, comment: Some("c".into()) }).unwrap()),
            ("ContinueBySms", serde_json::to_value(wire::ContinueBySms { session_credential: "".into(), phone: "".into() }).unwrap()),
            ("SmsContinued", serde_json::to_value(wire::SmsContinued { phone: "".into() }).unwrap()),
            ("Availability", serde_json::to_value(wire::AvailabilityAnswer { figures: wire::Availability { agents_available: 0, tasks_waiting: 0, longest_wait_seconds: 0 }, closed: true, opens_at: Some("t".into()) }).unwrap()),
            ("QueuePosition", serde_json::to_value(wire::QueuePosition { waiting: true, position: Some(1), estimated_wait_seconds: Some(1) }).unwrap()),
            ("ApiError", serde_json::to_value(wire::ApiError::new(wire::ErrorCode::NotFound, "m")).unwrap()),
            ("ApiErrorBody", serde_json::to_value(wire::ApiError::new(wire::ErrorCode::NotFound, "m").error).unwrap()),
        ];
        for (name, value) in cases {
            assert_eq!(schema_properties(&doc, name), keys(value), "{name} drifted from flexdesk-core::wire");
        }
    }

    #[test]
    fn every_endpoint_is_documented() {
        let doc = serde_json::to_value(ApiDoc::openapi()).unwrap();
        for (path, method) in [
            ("/v1/sessions", "post"),
            ("/v1/sessions/{id}/token", "post"),
            ("/v1/sessions/{id}", "delete"),
            ("/v1/agents/availability", "get"),
            ("/v1/sessions/{id}/queue", "get"),
            ("/v1/sessions/{id}/rating", "post"),
            ("/v1/sessions/{id}/erase", "post"),
            ("/v1/media/{mediaSid}", "get"),
            ("/v1/sessions/{id}/sms", "post"),
            ("/healthz", "get"),
            ("/readyz", "get"),
        ] {
            assert!(doc["paths"][path][method].is_object(), "{method} {path} missing");
        }
        // The admin routes are not on the listener this document describes.
        assert!(doc["paths"]["/metrics"].is_null() && doc["paths"]["/openapi.json"].is_null());
    }
}
