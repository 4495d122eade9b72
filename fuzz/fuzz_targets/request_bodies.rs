//! Request bodies the auth server parses (`CreateSessionRequest`, `SessionAuth`, the DELETE credential from a
//! header or body) and what it builds from them for the agent (pre-engagement data, routing attributes); plus
//! the desk's own parser of what the web chat hands it (the connect message).
//! Properties: no panic; accepted names are 1–100 chars without control characters; the pre-engagement
//! object always fits Twilio's attribute budget, whatever the allowlist and whether the hand-off is signed.
#![no_main]

use arbitrary::Arbitrary;
use axum::http::{header, HeaderMap, HeaderValue};
use flexdesk_auth::chat::engagement::{customer_name, pre_engagement_data, routing_attributes, Policy, MAX_PRE_ENGAGEMENT_BYTES};
use flexdesk_auth::http::extract::credential_from;
use flexdesk_core::handoff::handoff_from_connect_message;
use flexdesk_core::wire::{CreateSessionRequest, SessionAuth};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct Input<'a> {
    body: &'a [u8],
    authorization: Option<&'a [u8]>,
    allow_every_key: bool,
}

/// The secret the hand-off tokens the fuzzer may find would need (it will not forge HS256; the unsigned path is
/// what it exercises, with and without an allowlist that lets every key it tries through).
const HANDOFF_SECRET: &[u8] = b"fuzz-handoff-secret-0123456789abcdef";

fuzz_target!(|input: Input<'_>| {
    if let Ok(req) = serde_json::from_slice::<CreateSessionRequest>(input.body) {
        if let Ok(name) = customer_name(&req) {
            let n = name.chars().count();
            assert!((1..=100).contains(&n) && !name.chars().any(char::is_control), "{name:?}");
            let keys: Vec<String> = match &req.pre_engagement {
                Some(serde_json::Value::Object(m)) if input.allow_every_key => m.keys().cloned().collect(),
                _ => vec!["email".into(), "question".into()],
            };
            let policy = Policy {
                pre_engagement_keys: &keys,
                handoff_secret: Some(HANDOFF_SECRET),
                handoff_secret_previous: None,
                now: 1_800_000_000,
                verified: None,
                handoff_replayed: false,
            };
            if let Ok(data) = pre_engagement_data(&req, &name, &policy) {
                let size = serde_json::to_vec(&data).unwrap().len();
                assert!(size <= MAX_PRE_ENGAGEMENT_BYTES, "pre-engagement {size} bytes");
                assert_eq!(data["friendlyName"], name.as_str(), "the client cannot override the name");
                let attrs = routing_attributes(&data, &name, "customer-00000000-0000-4000-8000-000000000000", "CH00000000000000000000000000000000");
                assert!(serde_json::to_vec(&attrs).unwrap().len() < 16 * 1024, "Twilio's 16 KB attribute cap");
            }
        }
    }
    let _ = serde_json::from_slice::<SessionAuth>(input.body);

    let mut headers = HeaderMap::new();
    if let Some(v) = input.authorization.and_then(|a| HeaderValue::from_bytes(a).ok()) {
        headers.insert(header::AUTHORIZATION, v);
    }
    if let Ok(credential) = credential_from(&headers, input.body) {
        assert!(!credential.is_empty());
    }

    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(input.body) {
        let h = handoff_from_connect_message(&value, Vec::new());
        for s in [&h.message_to_human_agent, &h.topic, &h.skill, &h.language].into_iter().flatten() {
            assert!(!s.trim().is_empty() && s.trim() == s);
        }
    }
});
