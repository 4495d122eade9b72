//! Request bodies the auth server parses (`CreateSessionRequest`, `SessionAuth`, the DELETE credential from a
//! header or body) and what it builds from them for the agent (pre-engagement data, routing attributes); plus
//! the desk's own parsers of what the web chat hands it (the connect message, agent text to escape).
//! Properties: no panic; accepted names are 1–100 chars without control characters; the pre-engagement
//! object always fits Twilio's attribute budget; escaped text holds no markup.
#![no_main]

use arbitrary::Arbitrary;
use axum::http::{header, HeaderMap, HeaderValue};
use flexdesk_auth::engagement::{customer_name, pre_engagement_data, routing_attributes, MAX_PRE_ENGAGEMENT_BYTES};
use flexdesk_auth::extract::credential_from;
use flexdesk_core::handoff::{escape_html, handoff_from_connect_message};
use flexdesk_core::wire::{CreateSessionRequest, SessionAuth};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct Input<'a> {
    body: &'a [u8],
    authorization: Option<&'a [u8]>,
    text: &'a str,
}

fuzz_target!(|input: Input<'_>| {
    if let Ok(req) = serde_json::from_slice::<CreateSessionRequest>(input.body) {
        if let Ok(name) = customer_name(&req) {
            let n = name.chars().count();
            assert!((1..=100).contains(&n) && !name.chars().any(char::is_control), "{name:?}");
            if let Ok(data) = pre_engagement_data(&req, &name) {
                let size = serde_json::to_vec(&data).unwrap().len();
                assert!(size <= MAX_PRE_ENGAGEMENT_BYTES, "pre-engagement {size} bytes");
                assert_eq!(data["friendlyName"], name.as_str(), "the client cannot override the name");
                let attrs = routing_attributes(&data, &name, "CH00000000000000000000000000000000");
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
    let escaped = escape_html(input.text);
    assert!(!escaped.contains(['<', '>', '"', '\'']), "markup survived escaping: {escaped:?}");
});
