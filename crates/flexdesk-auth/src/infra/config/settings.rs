//! Every setting of the server, as clap reads it: one field per environment variable (the field's name in capitals,
//! clap's `env`), each also a `--flag` of the same name in kebab case. The values stay text here: clap stops at the
//! first value it cannot parse, and the operator must hear about every bad key at once, so the typed
//! [`super::Config`] is built by [`Settings::validate`], which collects every problem.
//!
//! Adding a setting: a field here (or in `IdentitySettings`, crate::infra::identity, for `IDENTITY_*`) (its doc is its `--help` line), its check and its place in `Config` in
//! `validate.rs`, its row in docs/auth-server.md.

use clap::Args;

/// The raw settings; see docs/auth-server.md for each.
#[derive(Args, Debug, Clone, Default)]
pub struct Settings {
    /// The Twilio account, `AC…` (required).
    #[arg(long, env)]
    pub twilio_account_sid: Option<String>,
    /// The account's Auth Token: only checks the signatures of Twilio's webhooks.
    #[arg(long, env)]
    pub twilio_auth_token: Option<String>,
    /// API key for access tokens and REST, `SK…` (required).
    #[arg(long, env)]
    pub twilio_api_key_sid: Option<String>,
    /// The API key's secret (required).
    #[arg(long, env)]
    pub twilio_api_key_secret: Option<String>,
    /// Flex's Conversations service, `IS…` (required).
    #[arg(long, env)]
    pub twilio_conversations_service_sid: Option<String>,
    /// The Flex Conversations address configuration, `IG…` (webchat mode).
    #[arg(long, env)]
    pub twilio_address_sid: Option<String>,
    /// The legacy Flex Flow, `FO…` (flexflow mode).
    #[arg(long, env)]
    pub twilio_flex_flow_sid: Option<String>,
    /// The Flex TaskRouter workspace, `WS…`.
    #[arg(long, env)]
    pub twilio_workspace_sid: Option<String>,
    /// The TaskRouter workflow, `WW…` (interactions mode).
    #[arg(long, env)]
    pub twilio_workflow_sid: Option<String>,
    /// The TaskRouter queue whose figures availability reports, `WQ…`.
    #[arg(long, env)]
    pub twilio_queue_sid: Option<String>,
    /// webchat, interactions or flexflow (default: webchat with an address, else interactions).
    #[arg(long, env)]
    pub flex_start_mode: Option<String>,

    /// Old name of TWILIO_ACCOUNT_SID.
    #[arg(long, env, hide = true)]
    pub account_id: Option<String>,
    /// Old name of TWILIO_AUTH_TOKEN.
    #[arg(long, env, hide = true)]
    pub auth_token: Option<String>,
    /// Old name of TWILIO_FLEX_FLOW_SID.
    #[arg(long, env, hide = true)]
    pub flex_flow_id: Option<String>,
    /// Old name of TWILIO_API_KEY_SID.
    #[arg(long, env, hide = true)]
    pub api_key: Option<String>,
    /// Old name of TWILIO_API_KEY_SECRET.
    #[arg(long, env, hide = true)]
    pub api_secret: Option<String>,
    /// Old name of TWILIO_CONVERSATIONS_SERVICE_SID.
    #[arg(long, env, hide = true)]
    pub chat_service_id: Option<String>,

    /// Signs the session credentials (required, at least 32 characters).
    #[arg(long, env)]
    pub session_secret: Option<String>,
    /// The session secret before the last rotation.
    #[arg(long, env)]
    pub session_secret_previous: Option<String>,
    /// Comma-separated exact origins allowed to call the API from a browser.
    #[arg(long, env)]
    pub allowed_origins: Option<String>,
    /// Lifetime of the access tokens, seconds (default 3600, 60 to 86400).
    #[arg(long, env)]
    pub token_ttl_seconds: Option<String>,
    /// A session dies after this long, seconds (default 86400).
    #[arg(long, env)]
    pub session_max_age_seconds: Option<String>,
    /// After the last tab of a chat is gone (the desk's beacon), wait this long for a reload or another tab before
    /// ending the chat, seconds (default 60, 1 to 3600; off = keep the chat).
    #[arg(long, env)]
    pub abandon_grace_seconds: Option<String>,
    /// Twilio's conversation timers set on every chat, the backstop for a page that sent nothing: seconds without a
    /// message before the conversation goes inactive (default: SESSION_MAX_AGE_SECONDS, at least 60; off = not set).
    #[arg(long, env)]
    pub conversation_inactive_seconds: Option<String>,
    /// ... and before it is closed (default: SESSION_MAX_AGE_SECONDS, at least 600; off = not set).
    #[arg(long, env)]
    pub conversation_closed_seconds: Option<String>,
    /// Port of the public listener (default 4000; 0 = any free port).
    #[arg(long, env)]
    pub port: Option<String>,
    /// Address of the public listener (default 127.0.0.1).
    #[arg(long, env)]
    pub bind: Option<String>,
    /// Address of the admin listener (default 127.0.0.1).
    #[arg(long, env)]
    pub admin_bind: Option<String>,
    /// Port of the admin listener (default PORT + 1; off = none).
    #[arg(long, env)]
    pub admin_port: Option<String>,

    /// Base URL of the Flex API (default `https://flex-api.twilio.com`).
    #[arg(long, env)]
    pub twilio_flex_api_url: Option<String>,
    /// Base URL of the Conversations API (default `https://conversations.twilio.com`).
    #[arg(long, env)]
    pub twilio_conversations_api_url: Option<String>,
    /// Base URL of the TaskRouter API (default `https://taskrouter.twilio.com`).
    #[arg(long, env)]
    pub twilio_taskrouter_api_url: Option<String>,
    /// Base URL of the Studio API (default `https://studio.twilio.com`); only `doctor` reads it (the address's flow).
    #[arg(long, env)]
    pub twilio_studio_api_url: Option<String>,
    /// Base URL of Twilio's Media Content Service (default `https://mcs.us1.twilio.com`): agent files' links.
    #[arg(long, env)]
    pub twilio_media_api_url: Option<String>,
    /// Timeout of one Twilio call, seconds (default 5, 1 to 60).
    #[arg(long, env)]
    pub twilio_timeout_seconds: Option<String>,
    /// Retries after a 429, 5xx or failed connection (default 2, 0 to 10).
    #[arg(long, env)]
    pub twilio_max_retries: Option<String>,
    /// First retry delay, milliseconds, doubled at each retry (default 250).
    #[arg(long, env)]
    pub twilio_retry_base_ms: Option<String>,
    /// Our pace for POST /v2/WebChats, per second.
    #[arg(long, env)]
    pub twilio_webchats_rate: Option<String>,
    /// Our pace for POST /v1/Interactions, per second.
    #[arg(long, env)]
    pub twilio_interactions_rate: Option<String>,
    /// Our pace for creating conversations, per second.
    #[arg(long, env)]
    pub twilio_conversations_create_rate: Option<String>,
    /// Longest wait for a paced slot before 503, seconds (default 10).
    #[arg(long, env)]
    pub twilio_pacing_max_wait_seconds: Option<String>,
    /// Longest time one request may take before 504, seconds (default 30, 1 to 300).
    #[arg(long, env)]
    pub request_timeout_seconds: Option<String>,
    /// Open connections of the public listener at most (default 4096, 1 to 1000000).
    #[arg(long, env)]
    pub max_connections: Option<String>,
    /// A request's headers must arrive within this, seconds; also the idle keep-alive limit (default 10, 1 to 300).
    #[arg(long, env)]
    pub header_read_timeout_seconds: Option<String>,

    /// Every budget's rate, requests per minute.
    #[arg(long, env)]
    pub rate_limit_per_minute: Option<String>,
    /// Every budget's burst.
    #[arg(long, env)]
    pub rate_limit_burst: Option<String>,
    /// The start budget's rate (default 10 per minute).
    #[arg(long, env)]
    pub rate_limit_start_per_minute: Option<String>,
    /// The start budget's burst (default 5).
    #[arg(long, env)]
    pub rate_limit_start_burst: Option<String>,
    /// The refresh budget's rate (default 60 per minute).
    #[arg(long, env)]
    pub rate_limit_refresh_per_minute: Option<String>,
    /// The refresh budget's burst (default 20).
    #[arg(long, env)]
    pub rate_limit_refresh_burst: Option<String>,
    /// The availability budget's rate (default 120 per minute).
    #[arg(long, env)]
    pub rate_limit_availability_per_minute: Option<String>,
    /// The availability budget's burst (default 30).
    #[arg(long, env)]
    pub rate_limit_availability_burst: Option<String>,
    /// The budget of every other route, rate (default 60 per minute).
    #[arg(long, env)]
    pub rate_limit_other_per_minute: Option<String>,
    /// The budget of every other route, burst (default 20).
    #[arg(long, env)]
    pub rate_limit_other_burst: Option<String>,
    /// An IPv6 /56 shares this many clients' start budgets, a /48 the square (default 4, 0 to 1000; 0 = off).
    #[arg(long, env)]
    pub rate_limit_block_factor: Option<String>,
    /// true: one block start budget per IPv4 /24 too (default false).
    #[arg(long, env)]
    pub rate_limit_ipv4_24: Option<String>,
    /// How long availability figures are reused, seconds (default 5; 0 = not cached).
    #[arg(long, env)]
    pub availability_cache_seconds: Option<String>,

    /// Old switch: true = one proxy hop.
    #[arg(long, env)]
    pub trust_proxy: Option<String>,
    /// How many proxies of ours stand in front of the server (default 0).
    #[arg(long, env)]
    pub trust_proxy_hops: Option<String>,
    /// x-forwarded-for (default) or forwarded.
    #[arg(long, env)]
    pub trust_proxy_header: Option<String>,
    /// The proxies whose forwarding headers are read: comma-separated CIDRs or addresses (needs TRUST_PROXY_HOPS).
    #[arg(long, env)]
    pub trusted_proxies: Option<String>,
    /// Open chats one client may have at once (default 5; 0 = no cap).
    #[arg(long, env)]
    pub max_open_sessions_per_client: Option<String>,
    /// Open chats in total (default 1000; 0 = no cap).
    #[arg(long, env)]
    pub max_open_sessions: Option<String>,
    /// Pre-engagement keys passed on to Flex, comma-separated (`-` = none).
    #[arg(long, env)]
    pub pre_engagement_keys: Option<String>,

    /// Verifies hand-off tokens from the bot's back end (at least 32 characters).
    #[arg(long, env)]
    pub handoff_secret: Option<String>,
    /// The hand-off secret before the last rotation.
    #[arg(long, env)]
    pub handoff_secret_previous: Option<String>,
    /// How much of the bot conversation the agent gets: off, summary (default) or full.
    #[arg(long, env)]
    pub handoff_transcript: Option<String>,
    /// The author of the bot's hand-off messages (default Bot).
    #[arg(long, env)]
    pub handoff_bot_name: Option<String>,

    /// on: Twilio's Conversations webhooks reach POST /v1/twilio/webhooks (needs TWILIO_AUTH_TOKEN).
    #[arg(long, env)]
    pub twilio_webhooks: Option<String>,
    /// This server's root URL as Twilio calls it (webhook signatures cover it).
    #[arg(long, env)]
    pub public_base_url: Option<String>,
    /// How recent the last webhook must be for webhooks to count as healthy, seconds (default 600).
    #[arg(long, env)]
    pub twilio_webhooks_fresh_seconds: Option<String>,
    /// How long after a chat ends its rating is accepted, seconds (default 900; 0 = ratings refused).
    #[arg(long, env)]
    pub rating_window_seconds: Option<String>,
    /// on: a customer may delete an ended chat's conversation at Twilio (POST /v1/sessions/{id}/erase; default off).
    #[arg(long, env)]
    pub erase_on_request: Option<String>,
    /// Which Flex Insights custom slot a rating fills, 1 to 10 (default 1): conversation_measure_N and conversation_attribute_N.
    #[arg(long, env)]
    pub rating_insights_slot: Option<String>,
    /// Human verification endpoint (https) the page's token is POSTed to.
    #[arg(long, env)]
    pub verify_url: Option<String>,
    /// Sent to the verifier as `secret`.
    #[arg(long, env)]
    pub verify_secret: Option<String>,

    /// Shared state for replicas: a redis:// or rediss:// URL.
    #[arg(long, env)]
    pub redis_url: Option<String>,
    /// PEM of the CA of a rediss:// server.
    #[arg(long, env)]
    pub redis_ca_file: Option<String>,
    /// Prefix of every Redis key (default flexdesk:).
    #[arg(long, env)]
    pub redis_key_prefix: Option<String>,
    /// Longest wait for one Redis call, milliseconds (default 250).
    #[arg(long, env)]
    pub redis_timeout_ms: Option<String>,

    /// /readyz: how old Twilio's last good answer may be, seconds (default 60).
    #[arg(long, env)]
    pub ready_twilio_fresh_seconds: Option<String>,
    /// /readyz: how long a failed probe is reused, seconds (default 5).
    #[arg(long, env)]
    pub ready_probe_retry_seconds: Option<String>,
    /// /readyz: how long Twilio may fail before 503, seconds (default 30).
    #[arg(long, env)]
    pub ready_twilio_grace_seconds: Option<String>,
    /// text (default) or json.
    #[arg(long, env)]
    pub log_format: Option<String>,

    /// Opening hours, e.g. "Mon-Fri 09:00-17:00".
    #[arg(long, env)]
    pub business_hours: Option<String>,
    /// The IANA time zone of BUSINESS_HOURS.
    #[arg(long, env)]
    pub business_tz: Option<String>,
    /// Closed days, comma-separated dates.
    #[arg(long, env)]
    pub business_holidays: Option<String>,

    /// Continue by SMS: the Twilio number (E.164) texts come from; off when unset.
    #[arg(long, env)]
    pub twilio_sms_number: Option<String>,
    /// Continue by SMS: country calling codes customers' numbers may have, e.g. "1,44" (required with the number).
    #[arg(long, env)]
    pub sms_allowed_calling_codes: Option<String>,

    /// The `IDENTITY_*` settings.
    #[command(flatten)]
    pub identity: crate::infra::identity::IdentitySettings,
}

impl Settings {
    /// The settings from the process environment (after `.env`), read by clap.
    pub fn from_env() -> Result<Settings, clap::Error> {
        crate::infra::setting::from_env()
    }

    /// The settings from any name → value lookup instead of the process environment (the tests pass a map).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Settings, clap::Error> {
        crate::infra::setting::from_lookup(lookup)
    }
}
