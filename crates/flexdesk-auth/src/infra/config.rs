//! Typed configuration, read once at start from the environment (and a `.env` file, if present).
//!
//! Every problem is collected before failing, so one start tells the operator about every bad key at once.
//! Secrets live in [`Secret`], whose `Debug` never prints the value.
//!
//! Long (about 800 lines of code, then its tests): every setting with its default, check and message, read by
//! hand in one pass. Issue 26 asks for this reader on clap/figment; until then, keep each key next to its check.

use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

use crate::infra::pacing::Rates;
use crate::infra::secret::Secret;

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

impl TranscriptMode {
    /// `off`, `summary` or `full`.
    pub fn parse(s: &str) -> Option<TranscriptMode> {
        match s {
            "off" => Some(TranscriptMode::Off),
            "summary" => Some(TranscriptMode::Summary),
            "full" => Some(TranscriptMode::Full),
            _ => None,
        }
    }
}

/// How `POST /v1/sessions` starts the Flex chat (see docs/auth-server.md), with the SIDs that mode needs: a mode
/// without its SIDs cannot be built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartMode {
    /// `POST /v2/WebChats` with the Address Configuration `address` (TWILIO_ADDRESS_SID).
    Webchat {
        /// `IG…`
        address: String,
    },
    /// Conversation + participant + `POST /v1/Interactions` into `workspace` with `workflow` (TWILIO_WORKSPACE_SID
    /// and TWILIO_WORKFLOW_SID).
    Interactions {
        /// `WS…`
        workspace: String,
        /// `WW…`
        workflow: String,
    },
    /// Legacy Flex Flow `POST /v1/Channels` with `flow` (TWILIO_FLEX_FLOW_SID).
    FlexFlow {
        /// `FO…`
        flow: String,
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
    pub account_sid: String,
    /// The account's Auth Token (`TWILIO_AUTH_TOKEN`): only checks the signatures of Twilio's webhooks (Twilio signs
    /// them with it: <https://www.twilio.com/docs/usage/webhooks/webhooks-security>); REST calls never use it.
    pub auth_token: Option<Secret>,
    /// API key for access tokens and REST (`TWILIO_API_KEY_SID`, `SK…`; required;
    /// <https://www.twilio.com/docs/iam/api-keys>).
    pub api_key_sid: String,
    /// The API key's secret (`TWILIO_API_KEY_SECRET`; required): signs the access tokens.
    pub api_key_secret: Secret,
    /// Flex's Conversations service (`TWILIO_CONVERSATIONS_SERVICE_SID`, `IS…`; required): the access tokens'
    /// chat grant and the conversations created in the `interactions` mode.
    pub conversations_service_sid: String,
    /// The Flex Conversations address configuration (`TWILIO_ADDRESS_SID`, `IG…`): needed in the `webchat` mode
    /// (<https://www.twilio.com/docs/conversations/api/address-configuration-resource>).
    pub address_sid: Option<String>,
    /// The legacy Flex Flow (`TWILIO_FLEX_FLOW_SID`, `FO…`): needed in the `flexflow` mode.
    pub flex_flow_sid: Option<String>,
    /// The Flex TaskRouter workspace (`TWILIO_WORKSPACE_SID`, `WS…`): needed in the `interactions` mode, for the
    /// availability figures and the queue position.
    pub workspace_sid: Option<String>,
    /// The TaskRouter workflow (`TWILIO_WORKFLOW_SID`, `WW…`) that routes the chat task in the `interactions` mode.
    pub workflow_sid: Option<String>,
    /// The TaskRouter queue (`TWILIO_QUEUE_SID`, `WQ…`) whose figures `GET /v1/agents/availability` reports.
    pub queue_sid: Option<String>,
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
    /// Base URL of the Flex API (`TWILIO_FLEX_API_URL`, default `https://flex-api.twilio.com`; the emulator's in tests).
    pub flex_api_url: String,
    /// Base URL of the Conversations API (`TWILIO_CONVERSATIONS_API_URL`, default `https://conversations.twilio.com`).
    pub conversations_api_url: String,
    /// Base URL of the TaskRouter API (`TWILIO_TASKROUTER_API_URL`, default `https://taskrouter.twilio.com`).
    pub taskrouter_api_url: String,
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
    pub handoff_transcript: crate::infra::config::TranscriptMode,
    /// The author of the bot's hand-off messages (`HANDOFF_BOT_NAME`, default `Bot`), as the agent sees it.
    pub handoff_bot_name: String,
    /// `TWILIO_WEBHOOKS=on`: Twilio's Conversations webhooks reach `POST /v1/twilio/webhooks` (needs
    /// `TWILIO_AUTH_TOKEN`, their signing key); while they are healthy, refresh trusts them (see [`crate::http::webhooks`]).
    pub twilio_webhooks: bool,
    /// The public URL of this server's root as Twilio calls it (`PUBLIC_BASE_URL`, e.g. behind a proxy
    /// `https://chat.example.com/auth`); the webhook signature covers it. `None`: `http://<Host>`.
    pub public_base_url: Option<String>,
    /// How recent the last verified webhook must be for webhooks to count as healthy (`TWILIO_WEBHOOKS_FRESH_SECONDS`).
    pub twilio_webhooks_fresh_seconds: u64,
    /// Human verification: the page's token is POSTed here before a chat starts.
    pub verify_url: Option<String>,
    /// Sent to the verifier as `secret` (`VERIFY_SECRET`), as the `siteverify` endpoints expect.
    pub verify_secret: Option<Secret>,
    /// Shared state for replicas (`REDIS_URL`; see [`crate::infra::redis`]). `None`: everything in this process.
    pub redis_url: Option<Secret>,
    /// PEM of the CA that signed a `rediss://` server's certificate (`REDIS_CA_FILE`), instead of the public roots.
    pub redis_ca_pem: Option<Vec<u8>>,
    /// Prefix of every Redis key (`REDIS_KEY_PREFIX`, default `flexdesk:`), so deployments can share a Redis.
    pub redis_key_prefix: String,
    /// Longest wait for one Redis call before this replica decides on its own (`REDIS_TIMEOUT_MS`).
    pub redis_timeout: Duration,
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
    /// `IDENTITY_*` (see [`crate::infra::identity`]): verifies the identity tokens of signed-in customers; `None`: a start
    /// that carries one is refused (400 `identity_not_configured`), guests start as before.
    pub identity: Option<crate::infra::identity::IdentityConfig>,
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

/// Loads `.env` when there is one. A line dotenvy cannot read stops the start naming it: dotenvy stops at such a line,
/// so ignoring the error (as before) silently dropped every setting after it.
fn read_dotenv() -> Result<(), ConfigError> {
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
    /// Reads `.env` (if any; real environment variables win) and then the process environment.
    pub fn from_env() -> Result<Config, ConfigError> {
        read_dotenv()?;
        Config::from_lookup(|name| std::env::var(name).ok())
    }

    /// For the offline subcommands (`mint-token`, `verify-token`): no session is signed and Twilio is not called,
    /// so the demo `SESSION_SECRET` is not refused.
    pub fn from_env_offline() -> Result<Config, ConfigError> {
        read_dotenv()?;
        Config::load(|name| std::env::var(name).ok(), false)
    }

    /// Builds the config from any name → value lookup (the tests pass a map).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        Config::load(lookup, true)
    }

    /// `serving`: the config of the server itself, which refuses the demo secret with real Twilio URLs.
    fn load(lookup: impl Fn(&str) -> Option<String>, serving: bool) -> Result<Config, ConfigError> {
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
        let session_secret_previous = match r.text("SESSION_SECRET_PREVIOUS") {
            Some(s) if s.len() < 32 => {
                r.problem("SESSION_SECRET_PREVIOUS", "must be at least 32 characters");
                None
            }
            other => other.map(Secret::new),
        };

        let mode_setting = r.text("FLEX_START_MODE");
        let mode_name = match mode_setting.as_deref() {
            // Without FLEX_START_MODE: the modes of a current account. The Flex Flow mode (Programmable Chat for
            // Flex, end of life on June 1, 2026) only when named.
            None if address_sid.is_some() => Some("webchat"),
            None if workspace_sid.is_some() && workflow_sid.is_some() => Some("interactions"),
            None => {
                r.problem(
                    "FLEX_START_MODE",
                    "cannot be chosen: set TWILIO_ADDRESS_SID (webchat) or TWILIO_WORKSPACE_SID + TWILIO_WORKFLOW_SID (interactions); the legacy Flex Flow mode (past end of life) only with FLEX_START_MODE=flexflow",
                );
                None
            }
            Some(name @ ("webchat" | "interactions" | "flexflow")) => Some(name),
            Some(other) => {
                r.problem("FLEX_START_MODE", &format!("must be webchat, interactions or flexflow, got {other:?}"));
                None
            }
        };
        // Each start mode needs its own SIDs; name the missing ones.
        let start_mode = match mode_name {
            Some("webchat") => {
                let address = address_sid.clone();
                if address.is_none() {
                    r.missing_for("TWILIO_ADDRESS_SID", "webchat");
                }
                address.map(|address| StartMode::Webchat { address })
            }
            Some("flexflow") => {
                let flow = flex_flow_sid.clone();
                if flow.is_none() {
                    r.missing_for("TWILIO_FLEX_FLOW_SID", "flexflow");
                }
                flow.map(|flow| StartMode::FlexFlow { flow })
            }
            Some(_) => {
                if workspace_sid.is_none() {
                    r.missing_for("TWILIO_WORKSPACE_SID", "interactions");
                }
                if workflow_sid.is_none() {
                    r.missing_for("TWILIO_WORKFLOW_SID", "interactions");
                }
                workspace_sid.clone().zip(workflow_sid.clone()).map(|(workspace, workflow)| StartMode::Interactions { workspace, workflow })
            }
            None => None,
        };

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
        let connections = ConnectionLimits {
            max_connections: r.number("MAX_CONNECTIONS", 4096, 1, 1_000_000) as usize,
            header_read_timeout: Duration::from_secs(r.number("HEADER_READ_TIMEOUT_SECONDS", 10, 1, 300)),
        };
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
        let budgets = r.budgets();
        let block_budgets = BlockBudgets { factor: r.number("RATE_LIMIT_BLOCK_FACTOR", 4, 0, 1000) as u32, ipv4_24: r.flag("RATE_LIMIT_IPV4_24") };
        let availability_cache = Duration::from_secs(r.number("AVAILABILITY_CACHE_SECONDS", 5, 0, 3600));
        let trust_proxy_hops = r.proxy_hops();
        let proxy_header = match r.text("TRUST_PROXY_HEADER").map(|h| h.to_ascii_lowercase()).as_deref() {
            None | Some("x-forwarded-for") => ProxyHeader::XForwardedFor,
            Some("forwarded") => ProxyHeader::Forwarded,
            Some(other) => {
                r.problem("TRUST_PROXY_HEADER", &format!("must be x-forwarded-for or forwarded, got {other:?}"));
                ProxyHeader::XForwardedFor
            }
        };
        let mut trusted_proxies = Vec::new();
        for item in r.text("TRUSTED_PROXIES").unwrap_or_default().split(',').map(str::trim).filter(|i| !i.is_empty()) {
            match item.parse::<ipnet::IpNet>().or_else(|_| item.parse::<IpAddr>().map(ipnet::IpNet::from)) {
                Ok(net) => trusted_proxies.push(net.trunc()),
                Err(_) => r.problem("TRUSTED_PROXIES", &format!("must be a comma list of CIDRs or addresses, got {item:?}")),
            }
        }
        if !trusted_proxies.is_empty() && trust_proxy_hops == 0 {
            r.problem("TRUSTED_PROXIES", "needs TRUST_PROXY_HOPS (how many of those proxies stand in front of the server)");
        }
        let bind = r.ip("BIND", IpAddr::from([127, 0, 0, 1]));
        let admin_bind = r.ip("ADMIN_BIND", IpAddr::from([127, 0, 0, 1]));
        let admin = match r.text("ADMIN_PORT").as_deref() {
            Some("off") => None,
            None if port == u16::MAX => {
                r.problem("ADMIN_PORT", "must be set (or off) when PORT is 65535");
                None
            }
            // PORT=0 (tests): an ephemeral admin port too.
            None => Some(AdminListener { bind: admin_bind, port: if port == 0 { 0 } else { port + 1 } }),
            Some(_) => {
                let admin_port = r.number("ADMIN_PORT", 0, 0, u16::MAX as u64) as u16;
                if admin_port != 0 && admin_port == port && admin_bind == bind {
                    r.problem("ADMIN_PORT", "must differ from PORT: /metrics must not be on the public listener");
                }
                Some(AdminListener { bind: admin_bind, port: admin_port })
            }
        };
        let max_open_sessions_per_client = r.number("MAX_OPEN_SESSIONS_PER_CLIENT", 5, 0, 1_000_000) as u32;
        let max_open_sessions = r.number("MAX_OPEN_SESSIONS", 1000, 0, 10_000_000) as u32;
        let pre_engagement_keys = match r.text("PRE_ENGAGEMENT_KEYS") {
            None => DEFAULT_PRE_ENGAGEMENT_KEYS.iter().map(|k| k.to_string()).collect(),
            Some(list) if list == "-" => Vec::new(),
            Some(list) => list.split(',').map(str::trim).filter(|k| !k.is_empty()).map(String::from).collect(),
        };
        let handoff_secret = match r.text("HANDOFF_SECRET") {
            Some(s) if s.len() < 32 => {
                r.problem("HANDOFF_SECRET", "must be at least 32 characters (random; e.g. `openssl rand -hex 32`)");
                None
            }
            other => other.map(Secret::new),
        };
        let handoff_secret_previous = match r.text("HANDOFF_SECRET_PREVIOUS") {
            Some(_) if handoff_secret.is_none() => {
                r.problem("HANDOFF_SECRET_PREVIOUS", "is only used with HANDOFF_SECRET");
                None
            }
            Some(s) if s.len() < 32 => {
                r.problem("HANDOFF_SECRET_PREVIOUS", "must be at least 32 characters");
                None
            }
            other => other.map(Secret::new),
        };
        let handoff_transcript = match r.text("HANDOFF_TRANSCRIPT") {
            None => crate::infra::config::TranscriptMode::default(),
            Some(v) => crate::infra::config::TranscriptMode::parse(&v.to_ascii_lowercase()).unwrap_or_else(|| {
                r.problem("HANDOFF_TRANSCRIPT", &format!("must be off, summary or full, got {v:?}"));
                Default::default()
            }),
        };
        let handoff_bot_name = match r.text("HANDOFF_BOT_NAME") {
            None => "Bot".to_string(),
            Some(n) if n.chars().count() > 64 || n.chars().any(char::is_control) => {
                r.problem("HANDOFF_BOT_NAME", "must be at most 64 characters, no control characters");
                String::new()
            }
            Some(n) => n,
        };
        let twilio_webhooks = match r.text("TWILIO_WEBHOOKS").map(|v| v.to_ascii_lowercase()).as_deref() {
            None | Some("off") | Some("false") | Some("0") => false,
            Some("on") | Some("true") | Some("1") => true,
            Some(other) => {
                r.problem("TWILIO_WEBHOOKS", &format!("must be on or off, got {other:?}"));
                false
            }
        };
        if twilio_webhooks && auth_token.is_none() {
            r.problem("TWILIO_WEBHOOKS", "needs TWILIO_AUTH_TOKEN: Twilio signs its webhooks with the account's Auth Token");
        }
        let public_base_url = r.text("PUBLIC_BASE_URL");
        if let Some(url) = &public_base_url {
            let ok = reqwest::Url::parse(url).ok().is_some_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some() && u.query().is_none());
            if !ok {
                r.problem("PUBLIC_BASE_URL", &format!("must be the http(s) URL of this server's root as Twilio calls it, without a query, got {url:?}"));
            }
        }
        let twilio_webhooks_fresh_seconds = r.number("TWILIO_WEBHOOKS_FRESH_SECONDS", 600, 1, 86_400);
        let verify_url = r.text("VERIFY_URL");
        if let Some(url) = &verify_url {
            if !crate::infra::url::is_secure_url(url) {
                r.problem("VERIFY_URL", &format!("must be an https URL (http only to a loopback address), got {url:?}"));
            }
        }
        let verify_secret = r.text("VERIFY_SECRET").map(Secret::new);
        let redis_url = r.text("REDIS_URL");
        let redis_ca_file = r.text("REDIS_CA_FILE");
        let redis_ca_pem = match &redis_ca_file {
            Some(path) => match std::fs::read(path) {
                Ok(pem) => Some(pem),
                Err(e) => {
                    r.problem("REDIS_CA_FILE", &format!("cannot be read ({path}: {e})"));
                    None
                }
            },
            None => None,
        };
        if let Some(url) = &redis_url {
            if redis::Client::open(url.as_str()).is_err() {
                // The URL may hold a password: not echoed.
                r.problem(
                    "REDIS_URL",
                    "must be a redis:// or rediss:// (TLS) URL (e.g. redis://redis:6379/0 or rediss://:password@host:6380)",
                );
            } else if redis_ca_file.is_some() && !url.starts_with("rediss://") {
                r.problem("REDIS_CA_FILE", "is only used with a rediss:// REDIS_URL");
            } else if let Some(pem) = &redis_ca_pem {
                if let Err(e) = crate::infra::redis::client(url, Some(pem)) {
                    r.problem("REDIS_CA_FILE", &format!("is not a PEM CA certificate ({e})"));
                }
            }
        } else if redis_ca_file.is_some() {
            r.problem("REDIS_CA_FILE", "is only used with a rediss:// REDIS_URL");
        }
        let redis_url = redis_url.map(Secret::new);
        let redis_key_prefix = r.text("REDIS_KEY_PREFIX").unwrap_or_else(|| "flexdesk:".to_string());
        let redis_timeout = Duration::from_millis(r.number("REDIS_TIMEOUT_MS", 250, 10, 10_000));
        let ready_twilio_fresh = Duration::from_secs(r.number("READY_TWILIO_FRESH_SECONDS", 60, 1, 86_400));
        let ready_probe_retry = Duration::from_secs(r.number("READY_PROBE_RETRY_SECONDS", 5, 1, 3600));
        let ready_twilio_grace = Duration::from_secs(r.number("READY_TWILIO_GRACE_SECONDS", 30, 0, 3600));
        let log_format = match r.text("LOG_FORMAT").map(|v| v.to_ascii_lowercase()).as_deref() {
            None | Some("text") => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(other) => {
                r.problem("LOG_FORMAT", &format!("must be text or json, got {other:?}"));
                LogFormat::Text
            }
        };
        let business_hours = match (r.text("BUSINESS_HOURS"), r.text("BUSINESS_TZ")) {
            (None, None) => None,
            (Some(_), None) => {
                r.problem("BUSINESS_TZ", "is required with BUSINESS_HOURS: the IANA time zone of those hours, e.g. Europe/Paris");
                None
            }
            (None, Some(_)) => {
                r.problem("BUSINESS_HOURS", "is required with BUSINESS_TZ, e.g. \"Mon-Fri 09:00-17:00\"");
                None
            }
            (Some(hours), Some(tz)) => match crate::infra::hours::BusinessHours::parse(&hours, &tz, r.text("BUSINESS_HOLIDAYS").as_deref()) {
                Ok(h) => Some(h),
                Err((key, what)) => {
                    r.problem(key, &what);
                    None
                }
            },
        };
        if business_hours.is_none() && r.text("BUSINESS_HOLIDAYS").is_some() && r.text("BUSINESS_HOURS").is_none() {
            r.problem("BUSINESS_HOLIDAYS", "needs BUSINESS_HOURS and BUSINESS_TZ");
        }
        let identity = match crate::infra::identity::from_settings(&|k| r.text(k), session_secret.as_ref()) {
            Ok(identity) => identity,
            Err(problems) => {
                for (key, what) in problems {
                    r.problem(key, &what);
                }
                None
            }
        };
        // The demo identity secret is published too: with real Twilio behind it, anyone could sign in as anyone.
        let demo_identity = r.text("IDENTITY_JWT_SECRET").is_some_and(|s| crate::infra::identity::DEMO_IDENTITY_SECRETS.contains(&s.as_str()));
        if serving && demo_identity && [&flex_api_url, &conversations_api_url, &taskrouter_api_url].iter().any(|u| is_twilio_com(u)) {
            r.problem("IDENTITY_JWT_SECRET", "is the published demo secret; with real Twilio URLs set a random one (`openssl rand -hex 32`)");
        }
        // The demo secret is published: with real Twilio behind it, anyone could forge credentials.
        if let Some(secret) = &session_secret {
            let real_twilio = [&flex_api_url, &conversations_api_url, &taskrouter_api_url].iter().any(|u| is_twilio_com(u));
            for s in std::iter::once(secret).chain(session_secret_previous.as_ref()) {
                if serving && real_twilio && DEMO_SESSION_SECRETS.contains(&s.expose()) {
                    r.problem("SESSION_SECRET", "is the published demo secret; with real Twilio URLs set a random one (`openssl rand -hex 32`)");
                }
            }
        }

        if !r.problems.is_empty() {
            return Err(ConfigError(r.problems));
        }
        // Every `None` below was reported as a problem above, so these unwraps cannot fail.
        Ok(Config {
            port,
            bind,
            admin,
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
            session_secret_previous,
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
            connections,
            budgets,
            block_budgets,
            availability_cache,
            trust_proxy_hops,
            proxy_header,
            trusted_proxies,
            max_open_sessions_per_client,
            max_open_sessions,
            pre_engagement_keys,
            handoff_secret,
            handoff_secret_previous,
            handoff_transcript,
            handoff_bot_name,
            twilio_webhooks,
            public_base_url,
            twilio_webhooks_fresh_seconds,
            verify_url,
            verify_secret,
            redis_url,
            redis_ca_pem,
            redis_key_prefix,
            redis_timeout,
            ready_twilio_fresh,
            ready_probe_retry,
            ready_twilio_grace,
            log_format,
            business_hours,
            identity,
        })
    }
}

/// True for Twilio's own hosts (`*.twilio.com`).
fn is_twilio_com(url: &str) -> bool {
    reqwest::Url::parse(url).ok().and_then(|u| u.host_str().map(|h| h == "twilio.com" || h.ends_with(".twilio.com"))).unwrap_or(false)
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
            Some(v) => crate::infra::setting::whole_number(&v, min, max).unwrap_or_else(|why| {
                self.problem(key, &why);
                default
            }),
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

    fn ip(&mut self, key: &str, default: IpAddr) -> IpAddr {
        match self.text(key) {
            None => default,
            Some(v) => v.parse().unwrap_or_else(|_| {
                self.problem(key, &format!("must be an IP address such as 127.0.0.1, 0.0.0.0 or ::, got {v:?}"));
                default
            }),
        }
    }

    /// `TRUST_PROXY_HOPS`, or the older `TRUST_PROXY=true` (= one hop).
    fn proxy_hops(&mut self) -> u32 {
        let legacy = self.flag("TRUST_PROXY");
        match self.text("TRUST_PROXY_HOPS") {
            Some(_) => {
                let hops = self.number("TRUST_PROXY_HOPS", 0, 0, 16) as u32;
                if legacy && hops == 0 {
                    self.problem("TRUST_PROXY_HOPS", "is 0 but TRUST_PROXY=true; set only TRUST_PROXY_HOPS");
                }
                hops
            }
            None => u32::from(legacy),
        }
    }

    /// The four budgets. `RATE_LIMIT_PER_MINUTE` / `RATE_LIMIT_BURST`, when set, replace every default;
    /// `RATE_LIMIT_<BUDGET>_PER_MINUTE` / `_BURST` set one budget.
    fn budgets(&mut self) -> Budgets {
        let all_rate = self.text("RATE_LIMIT_PER_MINUTE").is_some().then(|| self.number("RATE_LIMIT_PER_MINUTE", 60, 1, 1_000_000) as u32);
        let all_burst = self.text("RATE_LIMIT_BURST").is_some().then(|| self.number("RATE_LIMIT_BURST", 20, 1, 1_000_000) as u32);
        let mut one = |name: &str, per_minute: u32, burst: u32| Budget {
            per_minute: self.number(&format!("RATE_LIMIT_{name}_PER_MINUTE"), all_rate.unwrap_or(per_minute).into(), 1, 1_000_000) as u32,
            burst: self.number(&format!("RATE_LIMIT_{name}_BURST"), all_burst.unwrap_or(burst).into(), 1, 1_000_000) as u32,
        };
        Budgets {
            start: one("START", 10, 5),
            refresh: one("REFRESH", 60, 20),
            availability: one("AVAILABILITY", 120, 30),
            other: one("OTHER", 60, 20),
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
            // The demo secret above is refused with real Twilio URLs, so point at an emulator as the tests do.
            ("TWILIO_FLEX_API_URL", "http://127.0.0.1:4010".into()),
            ("TWILIO_CONVERSATIONS_API_URL", "http://127.0.0.1:4010".into()),
            ("TWILIO_TASKROUTER_API_URL", "http://127.0.0.1:4010".into()),
        ])
    }

    fn load(env: &HashMap<&'static str, String>) -> Result<Config, ConfigError> {
        Config::from_lookup(|k| env.get(k).cloned())
    }

    #[test]
    fn the_shared_fake_env_is_valid_and_defaults_to_webchat() {
        let c = load(&fake_env()).unwrap();
        assert!(matches!(c.start_mode, StartMode::Webchat { .. }));
        assert_eq!(c.token_ttl_seconds, 3600);
        assert_eq!(c.port, 4000);
        assert_eq!(c.bind, IpAddr::from([127, 0, 0, 1]));
        assert_eq!(c.admin, Some(AdminListener { bind: IpAddr::from([127, 0, 0, 1]), port: 4001 }));
        assert_eq!(c.trust_proxy_hops, 0);
        assert_eq!(c.budgets.start, Budget { per_minute: 10, burst: 5 });
        assert!(c.allowed_origins.is_empty());
    }

    /// The published demo secret with real Twilio behind it would let anyone forge session credentials.
    #[test]
    fn the_demo_secret_is_refused_with_real_twilio_urls() {
        let mut env = fake_env();
        for key in ["TWILIO_FLEX_API_URL", "TWILIO_CONVERSATIONS_API_URL", "TWILIO_TASKROUTER_API_URL"] {
            env.remove(key);
        }
        let err = load(&env).unwrap_err().to_string();
        assert!(err.contains("SESSION_SECRET: is the published demo secret"), "{err}");
        assert!(!err.contains("dev-session-secret"), "{err}");
        env.insert("SESSION_SECRET", "a-real-random-secret-0123456789abcdef0123".into());
        let c = load(&env).unwrap();
        assert_eq!(c.flex_api_url, "https://flex-api.twilio.com");
        // Rotating to the demo secret through SESSION_SECRET_PREVIOUS is refused too.
        env.insert("SESSION_SECRET_PREVIOUS", "dev-session-secret-change-me-0123456789abcdef".into());
        assert!(load(&env).is_err());
    }

    /// Issue 17: the demo identity secret signs the demo's "signed-in" customer; with real Twilio it would let anyone
    /// sign in as anyone.
    #[test]
    fn the_demo_identity_secret_is_refused_with_real_twilio_urls() {
        let mut env = fake_env();
        env.insert("IDENTITY_JWT_SECRET", crate::infra::identity::DEMO_IDENTITY_SECRETS[0].into());
        env.insert("IDENTITY_AUDIENCE", "flexdesk".into());
        assert!(load(&env).unwrap().identity.is_some(), "accepted against an emulator");
        for key in ["TWILIO_FLEX_API_URL", "TWILIO_CONVERSATIONS_API_URL", "TWILIO_TASKROUTER_API_URL"] {
            env.remove(key);
        }
        env.insert("SESSION_SECRET", "a-real-random-secret-0123456789abcdef0123".into());
        let err = load(&env).unwrap_err().to_string();
        assert!(err.contains("IDENTITY_JWT_SECRET: is the published demo secret"), "{err}");
        assert!(!err.contains("dev-identity-secret"), "{err}");
        env.insert("IDENTITY_JWT_SECRET", "a-real-identity-secret-0123456789abcdef".into());
        assert!(load(&env).unwrap().identity.is_some());
    }

    #[test]
    fn handoff_secret_previous_needs_a_current_secret_of_its_length() {
        let mut env = fake_env();
        env.insert("HANDOFF_SECRET_PREVIOUS", "old-handoff-secret-0123456789abcdef-0123".into());
        assert!(load(&env).unwrap_err().to_string().contains("HANDOFF_SECRET_PREVIOUS: is only used with HANDOFF_SECRET"));
        env.insert("HANDOFF_SECRET", "new-handoff-secret-0123456789abcdef-0123".into());
        assert!(load(&env).unwrap().handoff_secret_previous.is_some());
        env.insert("HANDOFF_SECRET_PREVIOUS", "short".into());
        assert!(load(&env).unwrap_err().to_string().contains("HANDOFF_SECRET_PREVIOUS: must be at least 32"));
    }

    #[test]
    fn redis_url_is_optional_checked_and_never_echoed() {
        let mut env = fake_env();
        assert!(load(&env).unwrap().redis_url.is_none(), "in memory by default");
        env.insert("REDIS_URL", "redis://:hunter2-redis@127.0.0.1:6379/0".into());
        let c = load(&env).unwrap();
        assert_eq!((c.redis_key_prefix.as_str(), c.redis_timeout), ("flexdesk:", Duration::from_millis(250)));
        assert!(!format!("{c:?}").contains("hunter2"), "the URL is a secret");
        env.insert("REDIS_URL", "http://:hunter2-redis@x".into());
        let e = load(&env).unwrap_err().to_string();
        assert!(e.contains("REDIS_URL") && !e.contains("hunter2"), "{e}");
        env.insert("REDIS_URL", "rediss://:hunter2-redis@redis.example:6380/0".into());
        assert!(load(&env).unwrap().redis_ca_pem.is_none(), "TLS with the public roots");
        let dir = std::env::temp_dir().join(format!("flexdesk-redis-ca-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let bad = dir.join("not-a-ca.pem");
        std::fs::write(&bad, "hello").unwrap();
        env.insert("REDIS_CA_FILE", bad.display().to_string());
        let e = load(&env).unwrap_err().to_string();
        assert!(e.contains("REDIS_CA_FILE") && !e.contains("hunter2"), "{e}");
        env.insert("REDIS_CA_FILE", dir.join("missing.pem").display().to_string());
        assert!(load(&env).unwrap_err().to_string().contains("REDIS_CA_FILE: cannot be read"));
        env.insert("REDIS_URL", "redis://127.0.0.1:6379".into());
        std::fs::write(&bad, "-----BEGIN CERTIFICATE-----\n").unwrap();
        env.insert("REDIS_CA_FILE", bad.display().to_string());
        assert!(load(&env).unwrap_err().to_string().contains("only used with a rediss://"));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn proxy_hops_admin_listener_and_budgets() {
        let mut env = fake_env();
        env.insert("TRUST_PROXY", "true".into());
        assert_eq!(load(&env).unwrap().trust_proxy_hops, 1, "TRUST_PROXY=true is one hop");
        env.insert("TRUST_PROXY_HOPS", "2".into());
        assert_eq!(load(&env).unwrap().trust_proxy_hops, 2);
        env.insert("TRUST_PROXY_HOPS", "0".into());
        assert!(load(&env).is_err(), "contradicting settings are refused");
        env.remove("TRUST_PROXY");
        env.insert("PORT", "0".into());
        assert_eq!(load(&env).unwrap().admin.unwrap().port, 0);
        env.insert("ADMIN_PORT", "off".into());
        assert_eq!(load(&env).unwrap().admin, None);
        env.insert("PORT", "9000".into());
        env.insert("ADMIN_PORT", "9000".into());
        assert!(load(&env).is_err(), "admin on the public listener");
        env.insert("ADMIN_PORT", "9100".into());
        env.insert("ADMIN_BIND", "0.0.0.0".into());
        env.insert("BIND", "::".into());
        let c = load(&env).unwrap();
        assert_eq!(c.admin, Some(AdminListener { bind: IpAddr::from([0, 0, 0, 0]), port: 9100 }));
        assert_eq!(c.bind, "::".parse::<IpAddr>().unwrap());
        env.insert("RATE_LIMIT_BURST", "1000".into());
        env.insert("RATE_LIMIT_START_BURST", "2".into());
        let b = load(&env).unwrap().budgets;
        assert_eq!((b.start.burst, b.refresh.burst, b.availability.burst), (2, 1000, 1000));
        env.insert("BIND", "localhost".into());
        assert!(load(&env).is_err());
    }

    #[test]
    fn readiness_and_log_format_keys() {
        let mut env = fake_env();
        let c = load(&env).unwrap();
        assert_eq!((c.ready_twilio_fresh, c.ready_probe_retry, c.log_format), (Duration::from_secs(60), Duration::from_secs(5), LogFormat::Text));
        assert_eq!(c.ready_twilio_grace, Duration::from_secs(30));
        env.insert("READY_TWILIO_GRACE_SECONDS", "0".into());
        assert_eq!(load(&env).unwrap().ready_twilio_grace, Duration::ZERO, "0 turns the grace off");
        env.insert("LOG_FORMAT", "JSON".into());
        env.insert("READY_TWILIO_FRESH_SECONDS", "30".into());
        let c = load(&env).unwrap();
        assert_eq!((c.ready_twilio_fresh, c.log_format), (Duration::from_secs(30), LogFormat::Json));
        env.insert("LOG_FORMAT", "xml".into());
        env.insert("READY_TWILIO_FRESH_SECONDS", "0".into());
        let e = load(&env).unwrap_err().to_string();
        assert!(e.contains("LOG_FORMAT: must be text or json") && e.contains("READY_TWILIO_FRESH_SECONDS"), "{e}");
    }

    #[test]
    fn without_an_address_sid_the_mode_is_interactions_and_flexflow_only_when_named() {
        let mut env = fake_env();
        env.remove("TWILIO_ADDRESS_SID");
        assert!(matches!(load(&env).unwrap().start_mode, StartMode::Interactions { .. }));
        env.remove("TWILIO_WORKFLOW_SID");
        let e = load(&env).unwrap_err().to_string();
        assert!(e.contains("FLEX_START_MODE: cannot be chosen") && e.contains("FLEX_START_MODE=flexflow"), "{e}");
        env.insert("FLEX_START_MODE", "flexflow".into());
        assert!(matches!(load(&env).unwrap().start_mode, StartMode::FlexFlow { .. }));
    }

    #[test]
    fn handoff_transcript_and_bot_name_are_read_and_checked() {
        let mut env = fake_env();
        let c = load(&env).unwrap();
        assert_eq!((c.handoff_transcript, c.handoff_bot_name.as_str()), (crate::infra::config::TranscriptMode::Summary, "Bot"));
        env.insert("HANDOFF_TRANSCRIPT", "full".into());
        env.insert("HANDOFF_BOT_NAME", "Watson".into());
        let c = load(&env).unwrap();
        assert_eq!((c.handoff_transcript, c.handoff_bot_name.as_str()), (crate::infra::config::TranscriptMode::Full, "Watson"));
        env.insert("HANDOFF_TRANSCRIPT", "everything".into());
        assert!(load(&env).unwrap_err().to_string().contains("HANDOFF_TRANSCRIPT: must be off, summary or full"));
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
        assert!(matches!(c.start_mode, StartMode::Webchat { .. }));
        assert_eq!(c.allowed_origins, ["http://localhost:3000"]);
    }
}
