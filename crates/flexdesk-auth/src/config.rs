//! Typed configuration, read once at start from the environment (and a `.env` file, if present).
//!
//! Every problem is collected before failing, so one start tells the operator about every bad key at once.
//! Secrets live in [`Secret`], whose `Debug` never prints the value.

use std::fmt;
use std::time::Duration;

use crate::pacing::Rates;

/// A secret string. `Debug`/`Display` print `[redacted]`; call [`Secret::expose`] where the value is really needed.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// How `POST /v1/sessions` starts the Flex chat (see docs/auth-server.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartMode {
    /// `POST /v2/WebChats` (needs TWILIO_ADDRESS_SID).
    Webchat,
    /// Conversation + participant + `POST /v1/Interactions` (needs TWILIO_WORKSPACE_SID and TWILIO_WORKFLOW_SID).
    Interactions,
    /// Legacy Flex Flow `POST /v1/Channels` (needs TWILIO_FLEX_FLOW_SID).
    Flexflow,
}

impl StartMode {
    pub fn as_str(self) -> &'static str {
        match self {
            StartMode::Webchat => "webchat",
            StartMode::Interactions => "interactions",
            StartMode::Flexflow => "flexflow",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Config {
    pub port: u16,
    pub account_sid: String,
    /// When absent, REST calls authenticate with the API key and secret instead.
    pub auth_token: Option<Secret>,
    pub api_key_sid: String,
    pub api_key_secret: Secret,
    pub conversations_service_sid: String,
    pub address_sid: Option<String>,
    pub flex_flow_sid: Option<String>,
    pub workspace_sid: Option<String>,
    pub workflow_sid: Option<String>,
    pub queue_sid: Option<String>,
    pub start_mode: StartMode,
    pub session_secret: Secret,
    /// Exact origins (`scheme://host[:port]`) allowed to call the API from a browser. Empty = none.
    pub allowed_origins: Vec<String>,
    pub token_ttl_seconds: u64,
    /// A session (and its credential) dies after this long even if nobody ended it.
    pub session_max_age_seconds: u64,
    pub flex_api_url: String,
    pub conversations_api_url: String,
    pub taskrouter_api_url: String,
    pub twilio_timeout: Duration,
    pub twilio_max_retries: u32,
    pub twilio_retry_base: Duration,
    /// Our pace for Twilio's rate-limited endpoints (see [`crate::pacing`]).
    pub twilio_rates: Rates,
    /// How long a start may wait for a paced slot before it is answered 503 with `Retry-After`.
    pub twilio_pacing_max_wait: Duration,
    pub request_timeout: Duration,
    pub rate_limit_per_minute: u32,
    pub rate_limit_burst: u32,
    pub availability_cache: Duration,
    /// Take the client IP from the last `X-Forwarded-For` entry (only behind a proxy you control).
    pub trust_proxy: bool,
}

/// Twilio never issues tokens that live longer than a day (error 20157).
pub const MAX_TOKEN_TTL_SECONDS: u64 = 86_400;
/// Request bodies above this are refused with 413.
pub const BODY_LIMIT_BYTES: usize = 64 * 1024;

/// The seed's variable names, still accepted: (clear new name, old alias).
const ALIASES: &[(&str, &str)] = &[
    ("TWILIO_ACCOUNT_SID", "ACCOUNT_ID"),
    ("TWILIO_AUTH_TOKEN", "AUTH_TOKEN"),
    ("TWILIO_FLEX_FLOW_SID", "FLEX_FLOW_ID"),
    ("TWILIO_API_KEY_SID", "API_KEY"),
    ("TWILIO_API_KEY_SECRET", "API_SECRET"),
    ("TWILIO_CONVERSATIONS_SERVICE_SID", "CHAT_SERVICE_ID"),
];

/// Everything wrong with the configuration, one line per key.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigError(pub Vec<String>);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "invalid configuration (see .env.example and docs/auth-server.md):")?;
        for problem in &self.0 {
            writeln!(f, "  - {problem}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

impl Config {
    /// Reads `.env` (if any; real environment variables win) and then the process environment.
    pub fn from_env() -> Result<Config, ConfigError> {
        let _ = dotenvy::dotenv();
        Config::from_lookup(|name| std::env::var(name).ok())
    }

    /// Builds the config from any name → value lookup (the tests pass a map).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let mut r = Reader { lookup: &lookup, problems: Vec::new() };

        let account_sid = r.sid("TWILIO_ACCOUNT_SID", "AC", true);
        let auth_token = r.text("TWILIO_AUTH_TOKEN").map(Secret::new);
        let api_key_sid = r.sid("TWILIO_API_KEY_SID", "SK", true);
        let api_key_secret = r.required_text("TWILIO_API_KEY_SECRET").map(Secret::new);
        let conversations_service_sid = r.sid("TWILIO_CONVERSATIONS_SERVICE_SID", "IS", true);
        let address_sid = r.sid("TWILIO_ADDRESS_SID", "IG", false);
        let flex_flow_sid = r.sid("TWILIO_FLEX_FLOW_SID", "FO", false);
        let workspace_sid = r.sid("TWILIO_WORKSPACE_SID", "WS", false);
        let workflow_sid = r.sid("TWILIO_WORKFLOW_SID", "WW", false);
        let queue_sid = r.sid("TWILIO_QUEUE_SID", "WQ", false);

        let session_secret = match r.required_text("SESSION_SECRET") {
            Some(s) if s.len() < 32 => {
                r.problem("SESSION_SECRET", "must be at least 32 characters (random; e.g. `openssl rand -hex 32`)");
                None
            }
            other => other.map(Secret::new),
        };

        let start_mode = match r.text("FLEX_START_MODE").as_deref() {
            None if address_sid.is_some() => Some(StartMode::Webchat),
            None => Some(StartMode::Flexflow),
            Some("webchat") => Some(StartMode::Webchat),
            Some("interactions") => Some(StartMode::Interactions),
            Some("flexflow") => Some(StartMode::Flexflow),
            Some(other) => {
                r.problem("FLEX_START_MODE", &format!("must be webchat, interactions or flexflow, got {other:?}"));
                None
            }
        };
        // Each start mode needs its own SIDs; name the missing ones.
        match start_mode {
            Some(StartMode::Webchat) if address_sid.is_none() => r.missing_for("TWILIO_ADDRESS_SID", "webchat"),
            Some(StartMode::Flexflow) if flex_flow_sid.is_none() => r.missing_for("TWILIO_FLEX_FLOW_SID", "flexflow"),
            Some(StartMode::Interactions) => {
                if workspace_sid.is_none() {
                    r.missing_for("TWILIO_WORKSPACE_SID", "interactions");
                }
                if workflow_sid.is_none() {
                    r.missing_for("TWILIO_WORKFLOW_SID", "interactions");
                }
            }
            _ => {}
        }

        let allowed_origins = r.origins("ALLOWED_ORIGINS");
        let token_ttl_seconds = r.number("TOKEN_TTL_SECONDS", 3600, 60, MAX_TOKEN_TTL_SECONDS);
        let session_max_age_seconds = r.number("SESSION_MAX_AGE_SECONDS", 86_400, 60, 7 * 86_400);
        let port = r.number("PORT", 4000, 0, u16::MAX as u64) as u16;
        let flex_api_url = r.base_url("TWILIO_FLEX_API_URL", "https://flex-api.twilio.com");
        let conversations_api_url = r.base_url("TWILIO_CONVERSATIONS_API_URL", "https://conversations.twilio.com");
        let taskrouter_api_url = r.base_url("TWILIO_TASKROUTER_API_URL", "https://taskrouter.twilio.com");
        let twilio_timeout = Duration::from_secs(r.number("TWILIO_TIMEOUT_SECONDS", 5, 1, 60));
        let twilio_max_retries = r.number("TWILIO_MAX_RETRIES", 2, 0, 10) as u32;
        let twilio_retry_base = Duration::from_millis(r.number("TWILIO_RETRY_BASE_MS", 250, 0, 10_000));
        let request_timeout = Duration::from_secs(r.number("REQUEST_TIMEOUT_SECONDS", 30, 1, 300));
        let published = Rates::PUBLISHED;
        let twilio_rates = Rates {
            webchats: r.number("TWILIO_WEBCHATS_RATE", published.webchats.into(), 0, 10_000) as u32,
            interactions: r.number("TWILIO_INTERACTIONS_RATE", published.interactions.into(), 0, 10_000) as u32,
            conversations_create: r.number("TWILIO_CONVERSATIONS_CREATE_RATE", published.conversations_create.into(), 0, 10_000) as u32,
        };
        let twilio_pacing_max_wait = Duration::from_secs(r.number("TWILIO_PACING_MAX_WAIT_SECONDS", 10, 0, 300));
        if twilio_pacing_max_wait >= request_timeout {
            r.problem("TWILIO_PACING_MAX_WAIT_SECONDS", "must be shorter than REQUEST_TIMEOUT_SECONDS (a start must be answered before it times out)");
        }
        let rate_limit_per_minute = r.number("RATE_LIMIT_PER_MINUTE", 60, 1, 1_000_000) as u32;
        let rate_limit_burst = r.number("RATE_LIMIT_BURST", 20, 1, 1_000_000) as u32;
        let availability_cache = Duration::from_secs(r.number("AVAILABILITY_CACHE_SECONDS", 5, 0, 3600));
        let trust_proxy = r.flag("TRUST_PROXY");

        if !r.problems.is_empty() {
            return Err(ConfigError(r.problems));
        }
        // Every `None` below was reported as a problem above, so these unwraps cannot fail.
        Ok(Config {
            port,
            account_sid: account_sid.unwrap(),
            auth_token,
            api_key_sid: api_key_sid.unwrap(),
            api_key_secret: api_key_secret.unwrap(),
            conversations_service_sid: conversations_service_sid.unwrap(),
            address_sid,
            flex_flow_sid,
            workspace_sid,
            workflow_sid,
            queue_sid,
            start_mode: start_mode.unwrap(),
            session_secret: session_secret.unwrap(),
            allowed_origins,
            token_ttl_seconds,
            session_max_age_seconds,
            flex_api_url,
            conversations_api_url,
            taskrouter_api_url,
            twilio_timeout,
            twilio_max_retries,
            twilio_retry_base,
            twilio_rates,
            twilio_pacing_max_wait,
            request_timeout,
            rate_limit_per_minute,
            rate_limit_burst,
            availability_cache,
            trust_proxy,
        })
    }
}

/// Reads keys through the lookup (resolving aliases) and records one problem per bad key.
struct Reader<'a, F: Fn(&str) -> Option<String>> {
    lookup: &'a F,
    problems: Vec<String>,
}

impl<F: Fn(&str) -> Option<String>> Reader<'_, F> {
    fn problem(&mut self, key: &str, what: &str) {
        self.problems.push(format!("{key}: {what}"));
    }

    fn missing_for(&mut self, key: &str, mode: &str) {
        self.problem(key, &format!("is required when FLEX_START_MODE is {mode}"));
    }

    /// The trimmed value of `key` (or its seed alias); empty counts as unset.
    fn text(&self, key: &str) -> Option<String> {
        let alias = ALIASES.iter().find(|(name, _)| *name == key).map(|(_, alias)| *alias);
        std::iter::once(key)
            .chain(alias)
            .filter_map(|k| (self.lookup)(k))
            .map(|v| v.trim().to_string())
            .find(|v| !v.is_empty())
    }

    fn required_text(&mut self, key: &str) -> Option<String> {
        let value = self.text(key);
        if value.is_none() {
            self.problem(key, "is required but not set");
        }
        value
    }

    /// A Twilio SID: two-letter prefix followed by 32 hex digits.
    fn sid(&mut self, key: &str, prefix: &str, required: bool) -> Option<String> {
        let value = if required { self.required_text(key)? } else { self.text(key)? };
        let hex = value.strip_prefix(prefix).unwrap_or("");
        if hex.len() == 32 && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            Some(value)
        } else {
            // A SID is not a secret, but keep the message short and do not echo long junk.
            let shown: String = value.chars().take(6).collect();
            self.problem(key, &format!("must be {prefix} followed by 32 hex digits (got a value starting {shown:?})"));
            None
        }
    }

    fn number(&mut self, key: &str, default: u64, min: u64, max: u64) -> u64 {
        match self.text(key) {
            None => default,
            Some(v) => match v.parse::<u64>() {
                Ok(n) if (min..=max).contains(&n) => n,
                _ => {
                    self.problem(key, &format!("must be a whole number from {min} to {max}, got {v:?}"));
                    default
                }
            },
        }
    }

    fn flag(&mut self, key: &str) -> bool {
        match self.text(key).as_deref() {
            None | Some("0") | Some("false") => false,
            Some("1") | Some("true") => true,
            Some(other) => {
                self.problem(key, &format!("must be true or false, got {other:?}"));
                false
            }
        }
    }

    fn base_url(&mut self, key: &str, default: &str) -> String {
        let value = self.text(key).unwrap_or_else(|| default.to_string());
        match reqwest::Url::parse(&value) {
            // Stored as parsed, not as written: `http:host` is read as `http://host/` (found by
            // fuzz/fuzz_targets/config_values.rs), and the rest of the server joins paths onto this string.
            Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() && url.query().is_none() => {
                url.as_str().trim_end_matches('/').to_string()
            }
            _ => {
                self.problem(key, &format!("must be an http(s) base URL such as {default}, got {value:?}"));
                default.to_string()
            }
        }
    }

    /// Comma-separated exact origins. A wildcard is refused on purpose: the allowlist must mean something.
    fn origins(&mut self, key: &str) -> Vec<String> {
        let Some(value) = self.text(key) else { return Vec::new() };
        let mut origins = Vec::new();
        for item in value.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            // Exactly as a browser sends it in `Origin` (the URL parser also reads `http:host` or `HTTP://Host:80`,
            // which would never match a real Origin header: found by fuzz/fuzz_targets/config_values.rs).
            let ok = reqwest::Url::parse(item).ok().filter(|u| {
                matches!(u.scheme(), "http" | "https")
                    && u.host().is_some()
                    && u.path() == "/"
                    && u.query().is_none()
                    && u.origin().ascii_serialization() == item
            });
            if ok.is_some() {
                origins.push(item.to_string());
            } else {
                self.problem(key, &format!("{item:?} is not an origin like https://shop.example.com or http://localhost:3000 (no wildcard, no path)"));
            }
        }
        origins
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn fake_env() -> HashMap<&'static str, String> {
        let sid = |p: &str| format!("{p}{:032x}", 0xf1e8);
        HashMap::from([
            ("TWILIO_ACCOUNT_SID", sid("AC")),
            ("TWILIO_AUTH_TOKEN", "f1e8de5c0ffee0000000000000000001".into()),
            ("TWILIO_API_KEY_SID", sid("SK")),
            ("TWILIO_API_KEY_SECRET", "fakeApiKeySecret-not-a-real-secret-0001".into()),
            ("TWILIO_CONVERSATIONS_SERVICE_SID", sid("IS")),
            ("TWILIO_ADDRESS_SID", sid("IG")),
            ("TWILIO_FLEX_FLOW_SID", sid("FO")),
            ("TWILIO_WORKSPACE_SID", sid("WS")),
            ("TWILIO_WORKFLOW_SID", sid("WW")),
            ("TWILIO_QUEUE_SID", sid("WQ")),
            ("SESSION_SECRET", "dev-session-secret-change-me-0123456789abcdef".into()),
        ])
    }

    fn load(env: &HashMap<&'static str, String>) -> Result<Config, ConfigError> {
        Config::from_lookup(|k| env.get(k).cloned())
    }

    #[test]
    fn the_shared_fake_env_is_valid_and_defaults_to_webchat() {
        let c = load(&fake_env()).unwrap();
        assert_eq!(c.start_mode, StartMode::Webchat);
        assert_eq!(c.token_ttl_seconds, 3600);
        assert_eq!(c.port, 4000);
        assert_eq!(c.flex_api_url, "https://flex-api.twilio.com");
        assert!(c.allowed_origins.is_empty());
    }

    #[test]
    fn without_an_address_sid_the_mode_defaults_to_flexflow() {
        let mut env = fake_env();
        env.remove("TWILIO_ADDRESS_SID");
        assert_eq!(load(&env).unwrap().start_mode, StartMode::Flexflow);
    }

    #[test]
    fn seed_aliases_are_accepted() {
        let mut env = fake_env();
        for (new, old) in ALIASES {
            let v = env.remove(new).unwrap();
            env.insert(old, v);
        }
        let c = load(&env).unwrap();
        assert!(c.account_sid.starts_with("AC"));
        assert!(c.flex_flow_sid.unwrap().starts_with("FO"));
        assert_eq!(c.api_key_secret.expose(), "fakeApiKeySecret-not-a-real-secret-0001");
    }

    #[test]
    fn every_bad_key_is_named_and_no_secret_is_echoed() {
        let mut env = fake_env();
        env.insert("TWILIO_ACCOUNT_SID", "SK0000".into());
        env.insert("TWILIO_QUEUE_SID", "WQnothex".into());
        env.remove("TWILIO_API_KEY_SECRET");
        env.insert("SESSION_SECRET", "short-secret".into());
        env.insert("TOKEN_TTL_SECONDS", "90000".into());
        env.insert("ALLOWED_ORIGINS", "http://localhost:3000,*".into());
        env.insert("FLEX_START_MODE", "carrier-pigeon".into());
        let err = load(&env).unwrap_err();
        let text = err.to_string();
        for key in [
            "TWILIO_ACCOUNT_SID: must be AC",
            "TWILIO_QUEUE_SID: must be WQ",
            "TWILIO_API_KEY_SECRET: is required",
            "SESSION_SECRET: must be at least 32",
            "TOKEN_TTL_SECONDS: must be a whole number from 60 to 86400",
            "ALLOWED_ORIGINS: \"*\"",
            "FLEX_START_MODE: must be webchat",
        ] {
            assert!(text.contains(key), "{key} missing from:\n{text}");
        }
        assert_eq!(err.0.len(), 7, "{text}");
        assert!(!text.contains("short-secret"));
    }

    #[test]
    fn each_mode_names_the_sids_it_needs() {
        let mut env = fake_env();
        env.remove("TWILIO_WORKFLOW_SID");
        env.remove("TWILIO_WORKSPACE_SID");
        env.insert("FLEX_START_MODE", "interactions".into());
        let err = load(&env).unwrap_err().to_string();
        assert!(err.contains("TWILIO_WORKSPACE_SID: is required when FLEX_START_MODE is interactions"), "{err}");
        assert!(err.contains("TWILIO_WORKFLOW_SID: is required when FLEX_START_MODE is interactions"), "{err}");
    }

    #[test]
    fn origins_must_be_spelled_as_browsers_send_them() {
        for bad in ["http:tth", "HTTP://shop.example.com", "http://shop.example.com:80", "https://shop.example.com/", "http://user@x.com"] {
            let mut env = fake_env();
            env.insert("ALLOWED_ORIGINS", bad.into());
            assert!(load(&env).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn origins_and_urls_are_normalised() {
        let mut env = fake_env();
        env.insert("ALLOWED_ORIGINS", " http://localhost:3000 , https://shop.example.com".into());
        env.insert("TWILIO_FLEX_API_URL", "http://127.0.0.1:9999/".into());
        let c = load(&env).unwrap();
        assert_eq!(c.allowed_origins, ["http://localhost:3000", "https://shop.example.com"]);
        assert_eq!(c.flex_api_url, "http://127.0.0.1:9999");
        env.insert("TWILIO_FLEX_API_URL", "http:emulator.test:4010".into());
        assert_eq!(load(&env).unwrap().flex_api_url, "http://emulator.test:4010");
    }

    #[test]
    fn secrets_do_not_show_in_debug_output() {
        let c = load(&fake_env()).unwrap();
        let debug = format!("{c:?}");
        assert!(!debug.contains("fakeApiKeySecret"));
        assert!(!debug.contains("f1e8de5c0ffee"));
        assert!(!debug.contains("dev-session-secret"));
    }

    /// .env.example parses with dotenvy (inline comments stripped) and, filled with the fake values, loads.
    #[test]
    fn env_example_is_well_formed() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../.env.example");
        let mut env = fake_env();
        for item in dotenvy::from_path_iter(path).unwrap() {
            let (key, value) = item.unwrap();
            assert!(!value.contains('#'), "{key}: inline comment kept in {value:?}");
            let known = fake_env().contains_key(key.as_str()) || ["FLEX_START_MODE", "ALLOWED_ORIGINS"].contains(&key.as_str());
            assert!(known, "unexpected key {key}");
            if !value.is_empty() && !value.contains("xxxx") {
                env.insert(Box::leak(key.into_boxed_str()), value);
            }
        }
        let c = load(&env).unwrap();
        assert_eq!(c.start_mode, StartMode::Webchat);
        assert_eq!(c.allowed_origins, ["http://localhost:3000"]);
    }
}
