//! Configuration values as an operator (or a bad deploy) sets them: any value for any key, aliases included.
//! Properties: no panic; an accepted config respects every documented bound; a refused one names keys and
//! never echoes the value of a secret key.
#![no_main]

use arbitrary::Arbitrary;
use flexdesk_auth::infra::config::{Config, MAX_TOKEN_TTL_SECONDS};
use libfuzzer_sys::fuzz_target;

const KEYS: &[&str] = &[
    "TWILIO_ACCOUNT_SID", "ACCOUNT_ID", "TWILIO_AUTH_TOKEN", "AUTH_TOKEN", "TWILIO_API_KEY_SID", "API_KEY",
    "TWILIO_API_KEY_SECRET", "API_SECRET", "TWILIO_CONVERSATIONS_SERVICE_SID", "CHAT_SERVICE_ID",
    "TWILIO_ADDRESS_SID", "TWILIO_FLEX_FLOW_SID", "FLEX_FLOW_ID", "TWILIO_WORKSPACE_SID", "TWILIO_WORKFLOW_SID",
    "TWILIO_QUEUE_SID", "SESSION_SECRET", "FLEX_START_MODE", "ALLOWED_ORIGINS", "TOKEN_TTL_SECONDS",
    "SESSION_MAX_AGE_SECONDS", "PORT", "TWILIO_FLEX_API_URL", "TWILIO_CONVERSATIONS_API_URL",
    "TWILIO_TASKROUTER_API_URL", "TWILIO_TIMEOUT_SECONDS", "TWILIO_MAX_RETRIES", "TWILIO_RETRY_BASE_MS",
    "REQUEST_TIMEOUT_SECONDS", "RATE_LIMIT_PER_MINUTE", "RATE_LIMIT_BURST", "RATE_LIMIT_START_PER_MINUTE", "RATE_LIMIT_START_BURST", "AVAILABILITY_CACHE_SECONDS",
    "TRUST_PROXY",
];
const SECRET_KEYS: &[&str] = &["TWILIO_AUTH_TOKEN", "AUTH_TOKEN", "TWILIO_API_KEY_SECRET", "API_SECRET", "SESSION_SECRET"];

#[derive(Arbitrary, Debug)]
struct Input {
    /// Start from a valid configuration (so the fuzzer reaches the checks past "missing"), or from nothing.
    from_valid: bool,
    set: Vec<(u8, String)>,
}

fn valid() -> Vec<(&'static str, String)> {
    let sid = |p: &str| format!("{p}{:032x}", 0xf1e8);
    vec![
        ("TWILIO_ACCOUNT_SID", sid("AC")),
        ("TWILIO_API_KEY_SID", sid("SK")),
        ("TWILIO_API_KEY_SECRET", "fakeApiKeySecret-not-a-real-secret-0001".into()),
        ("TWILIO_CONVERSATIONS_SERVICE_SID", sid("IS")),
        ("TWILIO_ADDRESS_SID", sid("IG")),
        ("SESSION_SECRET", "dev-session-secret-change-me-0123456789abcdef".into()),
    ]
}

fuzz_target!(|input: Input| {
    let mut env: Vec<(&str, String)> = if input.from_valid { valid() } else { Vec::new() };
    for (k, v) in input.set.into_iter().take(12) {
        let key = KEYS[k as usize % KEYS.len()];
        env.retain(|(name, _)| *name != key);
        env.push((key, v));
    }
    let lookup = |k: &str| env.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone());
    match Config::from_lookup(lookup) {
        Ok(c) => {
            assert!((60..=MAX_TOKEN_TTL_SECONDS).contains(&c.token_ttl_seconds));
            assert!(c.session_secret.expose().len() >= 32);
            let b = c.budgets;
            for budget in [b.start, b.refresh, b.availability, b.other] {
                assert!(budget.burst >= 1 && budget.per_minute >= 1, "{budget:?}");
            }
            for o in &c.allowed_origins {
                assert!(!o.contains('*') && !o.ends_with('/') && (o.starts_with("http://") || o.starts_with("https://")), "{o:?}");
            }
            for url in [&c.flex_api_url, &c.conversations_api_url, &c.taskrouter_api_url] {
                assert!(url.starts_with("http://") || url.starts_with("https://"), "{url:?}");
            }
            for sid in [c.account_sid.as_str(), c.api_key_sid.as_str(), c.conversations_service_sid.as_str()] {
                assert_eq!(sid.len(), 34, "{sid:?}");
            }
        }
        Err(e) => {
            assert!(!e.0.is_empty());
            let text = e.to_string();
            // The same config with every secret replaced by a same-length filler: the problems found are the
            // same, so any text that differs between the two renderings came from a secret's value.
            let masked: Vec<(&str, String)> = env
                .iter()
                .map(|(k, v)| (*k, if SECRET_KEYS.contains(k) { "\u{7}".repeat(v.trim().len()) } else { v.clone() }))
                .collect();
            let masked_text = Config::from_lookup(|k| masked.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone()))
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            for (key, value) in &env {
                let v = value.trim();
                if SECRET_KEYS.contains(key) && v.len() >= 8 && text.contains(v) && !masked_text.contains(v) {
                    panic!("{key}'s value echoed in: {text}");
                }
            }
        }
    }
});
