//! Typed configuration, read once at start from the environment (and a `.env` file, if present).
//!
//! Two steps: clap reads every setting as text ([`settings::Settings`], one field per environment variable), then
//! [`settings::Settings::validate`] turns them into a [`Config`] whose types leave no wrong state to handle later (a
//! start mode carries its SIDs, webhooks their signing key, SIDs their kind) or reports every problem at once, so
//! one start tells the operator about every bad key. Secrets live in [`Secret`], whose `Debug` never prints the value.

pub mod settings;
pub mod sid;
mod validate;

pub use settings::Settings;
pub use sid::Sid;
pub use validate::Purpose;

use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

use crate::infra::pacing::Rates;
use crate::infra::secret::Secret;
/// Twilio's conversation timers (`Timers.Inactive`, `Timers.Closed`), seconds; `None`: not set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ConversationTimers {
    /// Seconds without a message before the conversation goes `inactive`.
    pub inactive: Option<u64>,
    /// Seconds before it is `closed` (final).
    pub closed: Option<u64>,
}

impl ConversationTimers {
    /// The form fields that set them (ISO 8601 durations), none when both are off.
    pub fn form(&self) -> Vec<(&'static str, String)> {
        let mut form = Vec::new();
        if let Some(s) = self.inactive {
            form.push(("Timers.Inactive", format!("PT{s}S")));
        }
        if let Some(s) = self.closed {
            form.push(("Timers.Closed", format!("PT{s}S")));
        }
        form
    }
}

use sid::{Account, Address, ApiKey, ConversationsService, FlexFlow, Queue, Workflow, Workspace};

/// How much of the bot conversation the agent gets as messages (`HANDOFF_TRANSCRIPT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TranscriptMode {
    /// Only a neutral "asked for an agent" line.
    Off,
    /// The customer's last words and the bot's note.
    #[default]
    Summary,
    /// The whole bot conversation (its newest [`crate::twilio::handoff_messages::MAX_TRANSCRIPT_MESSAGES`] lines) and the bot's note.
    Full,
}

/// How `POST /v1/sessions` starts the Flex chat (see docs/auth-server.md), with the SIDs that mode needs: a mode
/// without its SIDs cannot be built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartMode {
    /// `POST /v2/WebChats` with the Address Configuration `address` (TWILIO_ADDRESS_SID).
    Webchat {
        /// `IG…`
        address: Sid<Address>,
    },
    /// Conversation + participant + `POST /v1/Interactions` into `workspace` with `workflow` (TWILIO_WORKSPACE_SID
    /// and TWILIO_WORKFLOW_SID).
    Interactions {
        /// `WS…`
        workspace: Sid<Workspace>,
        /// `WW…`
        workflow: Sid<Workflow>,
    },
    /// Legacy Flex Flow `POST /v1/Channels` with `flow` (TWILIO_FLEX_FLOW_SID).
    FlexFlow {
        /// `FO…`
        flow: Sid<FlexFlow>,
    },
}

impl StartMode {
    /// The `FLEX_START_MODE` value: `webchat`, `interactions` or `flexflow`.
    pub fn as_str(&self) -> &'static str {
        match self {
            StartMode::Webchat { .. } => "webchat",
            StartMode::Interactions { .. } => "interactions",
            StartMode::FlexFlow { .. } => "flexflow",
        }
    }
}

/// One request budget of a client (GCRA: `burst` at once, refilled at `per_minute`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// Sustained rate: requests per minute.
    pub per_minute: u32,
    /// Requests allowed at once, from a full budget.
    pub burst: u32,
}

/// The separate per-client budgets (see [`crate::http::ratelimit`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budgets {
    /// `POST /v1/sessions`: each one is a Flex task in front of an agent.
    pub start: Budget,
    /// `POST /v1/sessions/{id}/token`.
    pub refresh: Budget,
    /// `GET /v1/agents/availability` (pages poll it).
    pub availability: Budget,
    /// Everything else under `/v1` (ending a chat).
    pub other: Budget,
}

/// Start budgets shared by a whole address block, beside each client's own (issue 24, item 3): clients are keyed by
/// their IPv6 /64, so whoever holds a /48 had 65 536 start budgets, enough to fill `MAX_OPEN_SESSIONS` and Twilio's
/// WebChats lane alone. Read by [`crate::http::budgets::RateLimiter`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockBudgets {
    /// An IPv6 /56 (and, with `ipv4_24`, an IPv4 /24) shares this many clients' start budgets, a /48 the square
    /// (`RATE_LIMIT_BLOCK_FACTOR`, default 4, 0 to 1000; 0 = no block budgets).
    pub factor: u32,
    /// `RATE_LIMIT_IPV4_24=true`: one block budget per IPv4 /24 too. Off by default: many unrelated customers share
    /// a /24 behind carrier-grade NAT.
    pub ipv4_24: bool,
}

/// What one client's connections may hold of the public listener (issue 24, item 10): axum's own `serve` sets no
/// header-read timeout (hyper's needs a timer it is not given) and no cap, so a slowloris client held connections
/// for ever. Read by [`crate::http::serve::serve`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// Open connections at most (`MAX_CONNECTIONS`, default 4096, 1 to 1 000 000): past it, new connections wait in
    /// the listen backlog until one closes. Keep it under the process's open-file limit.
    pub max_connections: usize,
    /// A request's headers must arrive within this (`HEADER_READ_TIMEOUT_SECONDS`, default 10, 1 to 300), and an idle
    /// keep-alive connection is closed after it (hyper's HTTP/1 header-read timer also runs while it waits for the
    /// next request).
    pub header_read_timeout: Duration,
}

/// Which header the proxies in front of us append the client address to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProxyHeader {
    /// `X-Forwarded-For: client, proxy1, proxy2` (every header line, in order).
    XForwardedFor,
    /// RFC 7239 `Forwarded: for=client, for=proxy1`.
    Forwarded,
}

/// Where the admin routes (`/metrics`, `/openapi.json`, `/healthz`) are served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AdminListener {
    /// Address (`ADMIN_BIND`, default 127.0.0.1).
    pub bind: IpAddr,
    /// Port (`ADMIN_PORT`, default `PORT` + 1; `off` = no admin listener).
    pub port: u16,
}

/// The demo `SESSION_SECRET` of tests/support/fake-env.mjs (and the docs): refused with real Twilio URLs.
pub const DEMO_SESSION_SECRETS: &[&str] = &["dev-session-secret-change-me-0123456789abcdef"];

/// Pre-engagement keys passed on when `PRE_ENGAGEMENT_KEYS` is not set: Flex's default pre-engagement form.
pub const DEFAULT_PRE_ENGAGEMENT_KEYS: &[&str] = &["friendlyName", "name", "email", "phone", "question"];

/// The server's settings, read from the environment ([`Config::from_env`]) or any lookup
/// ([`Config::from_lookup`]). .env.example and docs/auth-server.md describe each variable; the field docs name them.
#[derive(Debug, Clone)]
pub struct Config {
    /// Port of the public listener (`PORT`, default 4000; 0 = any free port).
    pub port: u16,
    /// Address of the public listener (`BIND`, default 127.0.0.1).
    pub bind: IpAddr,
    /// `None` = no admin listener (`ADMIN_PORT=off`).
    pub admin: Option<AdminListener>,
    /// The Twilio account (`TWILIO_ACCOUNT_SID`, `AC…`; required).
    pub account_sid: Sid<Account>,
    /// The account's Auth Token (`TWILIO_AUTH_TOKEN`): REST calls never use it; `doctor` checks it, and with webhooks
    /// on [`Webhooks::auth_token`] checks their signatures (Twilio signs them with it:
    /// <https://www.twilio.com/docs/usage/webhooks/webhooks-security>).
    pub auth_token: Option<Secret>,
    /// API key for access tokens and REST (`TWILIO_API_KEY_SID`, `SK…`; required;
    /// <https://www.twilio.com/docs/iam/api-keys>).
    pub api_key_sid: Sid<ApiKey>,
    /// The API key's secret (`TWILIO_API_KEY_SECRET`; required): signs the access tokens.
    pub api_key_secret: Secret,
    /// Flex's Conversations service (`TWILIO_CONVERSATIONS_SERVICE_SID`, `IS…`; required): the access tokens'
    /// chat grant and the conversations created in the `interactions` mode.
    pub conversations_service_sid: Sid<ConversationsService>,
    /// The Flex Conversations address configuration (`TWILIO_ADDRESS_SID`, `IG…`), as configured (the mode's own SIDs
    /// are in [`Config::start_mode`]; `doctor` checks every configured one): needed in the `webchat` mode
    /// (<https://www.twilio.com/docs/conversations/api/address-configuration-resource>).
    pub address_sid: Option<Sid<Address>>,
    /// The legacy Flex Flow (`TWILIO_FLEX_FLOW_SID`, `FO…`): needed in the `flexflow` mode.
    pub flex_flow_sid: Option<Sid<FlexFlow>>,
    /// The Flex TaskRouter workspace (`TWILIO_WORKSPACE_SID`, `WS…`): needed in the `interactions` mode, for the
    /// availability figures and the queue position.
    pub workspace_sid: Option<Sid<Workspace>>,
    /// The TaskRouter workflow (`TWILIO_WORKFLOW_SID`, `WW…`) that routes the chat task in the `interactions` mode.
    pub workflow_sid: Option<Sid<Workflow>>,
    /// The TaskRouter queue (`TWILIO_QUEUE_SID`, `WQ…`) whose figures `GET /v1/agents/availability` reports.
    pub queue_sid: Option<Sid<Queue>>,
    /// How chats are started (`FLEX_START_MODE`; default `webchat` when `TWILIO_ADDRESS_SID` is set, else
    /// `flexflow`).
    pub start_mode: StartMode,
    /// Signs the session credentials (`SESSION_SECRET`; required, at least 32 characters; the demo secret is
    /// refused with real Twilio URLs).
    pub session_secret: Secret,
    /// The secret before the last rotation: credentials signed with it still verify (new ones use the current one).
    pub session_secret_previous: Option<Secret>,
    /// Exact origins (`scheme://host[:port]`) allowed to call the API from a browser. Empty = none.
    pub allowed_origins: Vec<String>,
    /// Lifetime of the access tokens, seconds (`TOKEN_TTL_SECONDS`, default 3600, 60 to 86 400).
    pub token_ttl_seconds: u64,
    /// A session (and its credential) dies after this long even if nobody ended it.
    pub session_max_age_seconds: u64,
    /// How long a chat whose last tab went away waits for a reload or another tab before it is ended
    /// (`ABANDON_GRACE_SECONDS`, default 60; `None`: `off`, the beacon is ignored). crate::chat::abandon.
    pub abandon_grace: Option<Duration>,
    /// Twilio's conversation timers set on every chat (`CONVERSATION_INACTIVE_SECONDS`, `CONVERSATION_CLOSED_SECONDS`;
    /// each `None` when `off`): crate::twilio::flex `Flex::start`.
    pub conversation_timers: ConversationTimers,
    /// Base URL of the Flex API (`TWILIO_FLEX_API_URL`, default `https://flex-api.twilio.com`; the emulator's in tests).
    pub flex_api_url: String,
    /// Base URL of the Conversations API (`TWILIO_CONVERSATIONS_API_URL`, default `https://conversations.twilio.com`).
    pub conversations_api_url: String,
    /// Base URL of the TaskRouter API (`TWILIO_TASKROUTER_API_URL`, default `https://taskrouter.twilio.com`).
    pub taskrouter_api_url: String,
    /// Base URL of the Studio API (`TWILIO_STUDIO_API_URL`, default `https://studio.twilio.com`): `doctor` reads the
    /// address's Studio flow there.
    pub studio_api_url: String,
    /// Base URL of Twilio's Media Content Service (`TWILIO_MEDIA_API_URL`, default `https://mcs.us1.twilio.com`):
    /// `GET /v1/media/{MediaSid}` looks the media up there
    /// (<https://www.twilio.com/docs/conversations/api/media-resource>).
    pub media_api_url: String,
    /// Timeout of one Twilio call (`TWILIO_TIMEOUT_SECONDS`, default 5, 1 to 60); also the verifier's.
    pub twilio_timeout: Duration,
    /// Retries after a 429, 5xx or failed connection (`TWILIO_MAX_RETRIES`, default 2, 0 to 10).
    pub twilio_max_retries: u32,
    /// First retry delay, doubled at each retry (`TWILIO_RETRY_BASE_MS`, default 250 ms).
    pub twilio_retry_base: Duration,
    /// Our pace for Twilio's rate-limited endpoints (see [`crate::infra::pacing`]).
    pub twilio_rates: Rates,
    /// How long a start may wait for a paced slot before it is answered 503 with `Retry-After`.
    pub twilio_pacing_max_wait: Duration,
    /// Longest time one request may take before 504 (`REQUEST_TIMEOUT_SECONDS`, default 30, 1 to 300).
    pub request_timeout: Duration,
    /// The public listener's connections (issue 24, item 10; see [`crate::http::serve`]).
    pub connections: ConnectionLimits,
    /// Per-client request budgets.
    pub budgets: Budgets,
    /// Start budgets per address block, beside the per-client ones.
    pub block_budgets: BlockBudgets,
    /// How long availability figures are reused (`AVAILABILITY_CACHE_SECONDS`, default 5; 0 = not cached).
    pub availability_cache: Duration,
    /// How many proxies of ours stand in front of the server: the client is the N-th address from the right of
    /// the forwarding header. 0 = the TCP peer.
    pub trust_proxy_hops: u32,
    /// The forwarding header read with `trust_proxy_hops` (`TRUST_PROXY_HEADER`: `x-forwarded-for`, the default,
    /// or `forwarded`).
    pub proxy_header: ProxyHeader,
    /// The peers whose forwarding headers are read (`TRUSTED_PROXIES`: a comma list of CIDRs or addresses, e.g.
    /// `10.0.0.0/8,192.0.2.7`; needs `TRUST_PROXY_HOPS`). A request from any other peer is keyed by that peer: a
    /// client reaching the server directly cannot choose its key (issue 24, item 3). Empty: every peer's headers are
    /// read (the server warns at start).
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Open chats one client may have at once (0 = no cap).
    pub max_open_sessions_per_client: u32,
    /// Open chats in total (0 = no cap).
    pub max_open_sessions: u32,
    /// Pre-engagement form keys passed on to Flex; every other key is dropped.
    pub pre_engagement_keys: Vec<String>,
    /// Verifies hand-off tokens (HS256) from the bot's back end; without it, no routing key is trusted.
    pub handoff_secret: Option<Secret>,
    /// `HANDOFF_SECRET_PREVIOUS`: during a rotation, hand-offs signed with the previous secret verify too.
    pub handoff_secret_previous: Option<Secret>,
    /// How much of the bot conversation is posted into the Flex conversation for the agent (`HANDOFF_TRANSCRIPT`:
    /// `off`, `summary` (default), `full`; [`crate::twilio::handoff_messages`]).
    pub handoff_transcript: TranscriptMode,
    /// The author of the bot's hand-off messages (`HANDOFF_BOT_NAME`, default `Bot`), as the agent sees it.
    pub handoff_bot_name: String,
    /// `TWILIO_WEBHOOKS=on`: Twilio's Conversations webhooks reach `POST /v1/twilio/webhooks`; `None` when off.
    pub webhooks: Option<Webhooks>,
    /// Customers' ratings of their chats for Flex Insights (`RATING_*`).
    pub ratings: Ratings,
    /// `ERASE_ON_REQUEST=on`: the customer may delete an ended chat's conversation at Twilio (issue 28, item 5;
    /// `chat::erase`). Off by default: the route answers 404 `erase_not_enabled`.
    pub erase_on_request: bool,
    /// Human verification: the page's token is POSTed here before a chat starts.
    pub verify_url: Option<String>,
    /// Sent to the verifier as `secret` (`VERIFY_SECRET`), as the `siteverify` endpoints expect.
    pub verify_secret: Option<Secret>,
    /// Shared state for replicas (`REDIS_*`; see [`crate::infra::redis`]). `None`: everything in this process.
    pub redis: Option<RedisConfig>,
    /// `/readyz`: Twilio counts as reachable while its last good answer is at most this old (`READY_TWILIO_FRESH_SECONDS`).
    pub ready_twilio_fresh: Duration,
    /// `/readyz`: a failed readiness probe is reused this long before Twilio is probed again (`READY_PROBE_RETRY_SECONDS`).
    pub ready_probe_retry: Duration,
    /// `/readyz`: once Twilio has answered, it may fail this long before `/readyz` turns 503
    /// (`READY_TWILIO_GRACE_SECONDS`, 0 = at once): every replica sees the same Twilio, so one blip would otherwise take
    /// them all out of the load balancer together.
    pub ready_twilio_grace: Duration,
    /// `LOG_FORMAT`: human-readable text (default) or one JSON object per line.
    pub log_format: LogFormat,
    /// `BUSINESS_HOURS`, `BUSINESS_TZ`, `BUSINESS_HOLIDAYS` (see [`crate::infra::hours`]); `None`: always open.
    pub business_hours: Option<crate::infra::hours::BusinessHours>,
    /// `TWILIO_SMS_NUMBER`, `SMS_ALLOWED_CALLING_CODES` (see [`crate::infra::sms`]); `None`: "continue by SMS" is off
    /// (`POST /v1/sessions/{id}/sms` answers 503 `sms_not_configured`).
    pub sms: Option<crate::infra::sms::SmsConfig>,
    /// `IDENTITY_*` (see [`crate::infra::identity`]): verifies the identity tokens of signed-in customers; `None`: a start
    /// that carries one is refused (400 `identity_not_configured`), guests start as before.
    pub identity: Option<crate::infra::identity::IdentityConfig>,
}

/// Twilio's webhooks, on (`TWILIO_WEBHOOKS=on`; see [`crate::http::webhooks`]): while they are healthy, refresh
/// trusts them.
#[derive(Debug, Clone)]
pub struct Webhooks {
    /// The Auth Token (`TWILIO_AUTH_TOKEN`), which signs them: webhooks cannot be on without it.
    pub auth_token: Secret,
    /// The public URL of this server's root as Twilio calls it (`PUBLIC_BASE_URL`, e.g. behind a proxy
    /// `https://chat.example.com/auth`); the signature covers it. `None`: `http://<Host>`.
    pub public_base_url: Option<String>,
    /// How recent the last verified webhook must be for webhooks to count as healthy (`TWILIO_WEBHOOKS_FRESH_SECONDS`).
    pub fresh: Duration,
}

/// Customers' ratings of their chats (issue 28; `chat::rating`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ratings {
    /// How long after a chat's end its rating is accepted (`RATING_WINDOW_SECONDS`, default 900; zero: refused).
    pub window: Duration,
    /// The Flex Insights custom slot written (`RATING_INSIGHTS_SLOT`, 1 to 10, default 1): the score goes to
    /// `conversations.conversation_measure_<slot>`, the comment to `conversations.conversation_attribute_<slot>`.
    pub slot: u8,
}

/// Shared state for replicas in Redis (`REDIS_URL`; see [`crate::infra::redis`]).
#[derive(Debug, Clone)]
pub struct RedisConfig {
    /// `redis://` or `rediss://` (TLS); may hold a password.
    pub url: Secret,
    /// PEM of the CA that signed a `rediss://` server's certificate (`REDIS_CA_FILE`), instead of the public roots.
    pub ca_pem: Option<Vec<u8>>,
    /// Prefix of every Redis key (`REDIS_KEY_PREFIX`, default `flexdesk:`), so deployments can share a Redis.
    pub key_prefix: String,
    /// Longest wait for one Redis call before this replica decides on its own (`REDIS_TIMEOUT_MS`).
    pub timeout: Duration,
}

/// How log lines are written (`LOG_FORMAT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// tracing-subscriber's default text lines.
    Text,
    /// One JSON object per line (tracing-subscriber's `json` formatter), for log collectors.
    Json,
}

/// Twilio never issues tokens that live longer than a day (error 20157).
pub const MAX_TOKEN_TTL_SECONDS: u64 = 86_400;
/// Request bodies above this are refused with 413.
pub const BODY_LIMIT_BYTES: usize = 64 * 1024;

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

/// Loads `.env` when there is one. A line dotenvy cannot read stops the start naming it: dotenvy stops at such a line,
/// so ignoring the error (as before) silently dropped every setting after it.
pub fn read_dotenv() -> Result<(), ConfigError> {
    match dotenvy::dotenv() {
        Ok(_) => Ok(()),
        Err(e) if e.not_found() => Ok(()),
        Err(e) => Err(ConfigError(vec![format!(
            ".env cannot be read ({e}); nothing after that line was loaded. A value with spaces needs quotes in .env \
             (and none in a Docker or systemd env file: `flexdesk-auth config check FILE`)"
        )])),
    }
}


impl Config {
    /// Reads `.env` (if any; real environment variables win) and then the process environment: the server's config.
    pub fn from_env() -> Result<Config, ConfigError> {
        read_dotenv()?;
        Settings::from_env().map_err(unreadable)?.validate(Purpose::Serve)
    }

    /// Builds the server's config from any name → value lookup (the tests pass a map).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        Settings::from_lookup(lookup).map_err(unreadable)?.validate(Purpose::Serve)
    }
}

/// clap refuses a value only when it is not text (a variable that is not UTF-8).
fn unreadable(e: clap::Error) -> ConfigError {
    ConfigError(vec![e.to_string().trim().to_string()])
}

/// [`test_env`]'s Auth Token.
#[cfg(any(test, feature = "test-support"))]
pub const TEST_AUTH_TOKEN: &str = "f1e8de5c0ffee0000000000000000001";
/// [`test_env`]'s API key secret.
#[cfg(any(test, feature = "test-support"))]
pub const TEST_API_KEY_SECRET: &str = "fakeApiKeySecret-not-a-real-secret-0001";

/// One fake account's settings for the tests (tests/support/fake-env.mjs), every Twilio URL at `twilio_url` (so the
/// demo secret is accepted): the tests here, tests/api and fuzz/fuzz_targets/http_api.rs start from it.
#[cfg(any(test, feature = "test-support"))]
pub fn test_env(twilio_url: &str) -> std::collections::HashMap<&'static str, String> {
    let sid = |p: &str| format!("{p}{:032x}", 0xf1e8);
    std::collections::HashMap::from([
        ("TWILIO_ACCOUNT_SID", sid("AC")),
        ("TWILIO_AUTH_TOKEN", TEST_AUTH_TOKEN.into()),
        ("TWILIO_API_KEY_SID", sid("SK")),
        ("TWILIO_API_KEY_SECRET", TEST_API_KEY_SECRET.into()),
        ("TWILIO_CONVERSATIONS_SERVICE_SID", sid("IS")),
        ("TWILIO_ADDRESS_SID", sid("IG")),
        ("TWILIO_FLEX_FLOW_SID", sid("FO")),
        ("TWILIO_WORKSPACE_SID", sid("WS")),
        ("TWILIO_WORKFLOW_SID", sid("WW")),
        ("TWILIO_QUEUE_SID", sid("WQ")),
        ("SESSION_SECRET", DEMO_SESSION_SECRETS[0].into()),
        ("TWILIO_FLEX_API_URL", twilio_url.into()),
        ("TWILIO_CONVERSATIONS_API_URL", twilio_url.into()),
        ("TWILIO_TASKROUTER_API_URL", twilio_url.into()),
        ("TWILIO_STUDIO_API_URL", twilio_url.into()),
        ("TWILIO_MEDIA_API_URL", twilio_url.into()),
    ])
}

#[cfg(any(test, feature = "test-support"))]
impl Config {
    /// The config of [`test_env`].
    pub fn for_tests(twilio_url: &str) -> Config {
        let env = test_env(twilio_url);
        Config::from_lookup(|k| env.get(k).cloned()).expect("the test settings are valid")
    }
}

#[cfg(test)]
mod tests;
