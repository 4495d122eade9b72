//! [`Settings::validate`]: the raw settings into a [`Config`], or every problem at once (one line per key, never a
//! secret's value).
//!
//! Over 600 lines because every setting's check sits here, one after the other, so `validate` can report every
//! problem in one pass (issue 26: one `validate()`); the checks themselves are small.

use std::net::IpAddr;
use std::time::Duration;

use super::settings::Settings;
use super::sid::{self, Sid, SidKind};
use super::*;
use crate::infra::pacing::Rates;
use crate::infra::secret::Secret;

/// Who the configuration is for: the server refuses the published demo secrets with real Twilio URLs; the offline
/// subcommands (which sign no session and serve nothing) do not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// The server itself.
    Serve,
    /// `mint-token`, `verify-token`, `healthcheck`, `doctor`.
    Offline,
}

/// One setting's value (trimmed; empty counts as unset) and the environment variable it came from, for messages.
struct Value {
    key: String,
    text: Option<String>,
}

impl Value {
    /// This value, or the seed's old name for it when this one is unset (the problem is still named by this key).
    fn or(self, old: Value) -> Value {
        Value { text: self.text.or(old.text), ..self }
    }
}

/// `value!(settings.field)`: the field's value, named by its environment variable (the field's name in capitals, as
/// clap's `env` names it).
macro_rules! value {
    ($settings:ident . $($field:ident).+) => {{
        let key = stringify!($($field).+);
        Value {
            key: key.rsplit('.').next().unwrap_or(key).to_ascii_uppercase(),
            text: $settings.$($field).+.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(String::from),
        }
    }};
}

impl Settings {
    /// The typed configuration, or every problem found (checks that involve several keys included).
    pub fn validate(&self, purpose: Purpose) -> Result<Config, ConfigError> {
        let s = self;
        let mut r = Problems(Vec::new());

        let account_sid = r.sid::<sid::Account>(value!(s.twilio_account_sid).or(value!(s.account_id)), true);
        let auth_token = value!(s.twilio_auth_token).or(value!(s.auth_token)).text.map(Secret::new);
        let api_key_sid = r.sid::<sid::ApiKey>(value!(s.twilio_api_key_sid).or(value!(s.api_key)), true);
        let api_key_secret = r.required(value!(s.twilio_api_key_secret).or(value!(s.api_secret))).map(Secret::new);
        let conversations_service_sid = r.sid::<sid::ConversationsService>(value!(s.twilio_conversations_service_sid).or(value!(s.chat_service_id)), true);
        let address_sid = r.sid::<sid::Address>(value!(s.twilio_address_sid), false);
        let flex_flow_sid = r.sid::<sid::FlexFlow>(value!(s.twilio_flex_flow_sid).or(value!(s.flex_flow_id)), false);
        let workspace_sid = r.sid::<sid::Workspace>(value!(s.twilio_workspace_sid), false);
        let workflow_sid = r.sid::<sid::Workflow>(value!(s.twilio_workflow_sid), false);
        let queue_sid = r.sid::<sid::Queue>(value!(s.twilio_queue_sid), false);

        let session_secret = r.secret(value!(s.session_secret), true);
        let session_secret_previous = r.secret(value!(s.session_secret_previous), false);
        let start_mode = r.start_mode(value!(s.flex_start_mode), &address_sid, &flex_flow_sid, &workspace_sid, &workflow_sid);

        let allowed_origins = r.origins(value!(s.allowed_origins));
        let token_ttl_seconds = r.number(value!(s.token_ttl_seconds), 3600, 60, MAX_TOKEN_TTL_SECONDS);
        let session_max_age_seconds = r.number(value!(s.session_max_age_seconds), 86_400, 60, 7 * 86_400);
        let abandon_grace = match value!(s.abandon_grace_seconds) {
            v if v.text.as_deref().is_some_and(|t| t.eq_ignore_ascii_case("off")) => None,
            v => Some(Duration::from_secs(r.number(v, 60, 1, 3600))),
        };
        // Twilio's minimums: 1 minute and 10 minutes (twilio-oai `conversations.v1.configuration` default timers). The
        // default is the session's own lifetime: no customer can use a chat longer, so no waiting customer is closed.
        let mut timer = |v: Value, min: u64| {
            if v.text.as_deref().is_some_and(|t| t.eq_ignore_ascii_case("off")) {
                None
            } else {
                Some(r.number(v, session_max_age_seconds, min, 30 * 86_400))
            }
        };
        let conversation_timers = super::ConversationTimers {
            inactive: timer(value!(s.conversation_inactive_seconds), 60),
            closed: timer(value!(s.conversation_closed_seconds), 600),
        };
        let port = r.number(value!(s.port), 4000, 0, u16::MAX as u64) as u16;
        let flex_api_url = r.base_url(value!(s.twilio_flex_api_url), "https://flex-api.twilio.com");
        let conversations_api_url = r.base_url(value!(s.twilio_conversations_api_url), "https://conversations.twilio.com");
        let taskrouter_api_url = r.base_url(value!(s.twilio_taskrouter_api_url), "https://taskrouter.twilio.com");
        let studio_api_url = r.base_url(value!(s.twilio_studio_api_url), "https://studio.twilio.com");
        let media_api_url = r.base_url(value!(s.twilio_media_api_url), "https://mcs.us1.twilio.com");
        let twilio_timeout = Duration::from_secs(r.number(value!(s.twilio_timeout_seconds), 5, 1, 60));
        let twilio_max_retries = r.number(value!(s.twilio_max_retries), 2, 0, 10) as u32;
        let twilio_retry_base = Duration::from_millis(r.number(value!(s.twilio_retry_base_ms), 250, 0, 10_000));
        let request_timeout = Duration::from_secs(r.number(value!(s.request_timeout_seconds), 30, 1, 300));
        let connections = ConnectionLimits {
            max_connections: r.number(value!(s.max_connections), 4096, 1, 1_000_000) as usize,
            header_read_timeout: Duration::from_secs(r.number(value!(s.header_read_timeout_seconds), 10, 1, 300)),
        };
        let published = Rates::PUBLISHED;
        let twilio_rates = Rates {
            webchats: r.number(value!(s.twilio_webchats_rate), published.webchats.into(), 0, 10_000) as u32,
            interactions: r.number(value!(s.twilio_interactions_rate), published.interactions.into(), 0, 10_000) as u32,
            conversations_create: r.number(value!(s.twilio_conversations_create_rate), published.conversations_create.into(), 0, 10_000) as u32,
        };
        let twilio_pacing_max_wait = Duration::from_secs(r.number(value!(s.twilio_pacing_max_wait_seconds), 10, 0, 300));
        if twilio_pacing_max_wait >= request_timeout {
            r.problem("TWILIO_PACING_MAX_WAIT_SECONDS", "must be shorter than REQUEST_TIMEOUT_SECONDS (a start must be answered before it times out)");
        }
        let budgets = r.budgets(s);
        let block_budgets = BlockBudgets {
            factor: r.number(value!(s.rate_limit_block_factor), 4, 0, 1000) as u32,
            ipv4_24: r.flag(value!(s.rate_limit_ipv4_24)),
        };
        let availability_cache = Duration::from_secs(r.number(value!(s.availability_cache_seconds), 5, 0, 3600));
        let trust_proxy_hops = r.proxy_hops(value!(s.trust_proxy), value!(s.trust_proxy_hops));
        let proxy_header = r.choice(value!(s.trust_proxy_header), "x-forwarded-for or forwarded", |v| match v {
            "x-forwarded-for" => Some(ProxyHeader::XForwardedFor),
            "forwarded" => Some(ProxyHeader::Forwarded),
            _ => None,
        });
        let proxy_header = proxy_header.unwrap_or(ProxyHeader::XForwardedFor);
        let trusted_proxies = r.trusted_proxies(value!(s.trusted_proxies), trust_proxy_hops);
        let bind = r.ip(value!(s.bind), IpAddr::from([127, 0, 0, 1]));
        let admin_bind = r.ip(value!(s.admin_bind), IpAddr::from([127, 0, 0, 1]));
        let admin_port = value!(s.admin_port);
        let admin = match admin_port.text.as_deref() {
            Some("off") => None,
            None if port == u16::MAX => {
                r.problem("ADMIN_PORT", "must be set (or off) when PORT is 65535");
                None
            }
            // PORT=0 (tests): an ephemeral admin port too.
            None => Some(AdminListener { bind: admin_bind, port: if port == 0 { 0 } else { port + 1 } }),
            Some(_) => {
                let admin_port = r.number(admin_port, 0, 0, u16::MAX as u64) as u16;
                if admin_port != 0 && admin_port == port && admin_bind == bind {
                    r.problem("ADMIN_PORT", "must differ from PORT: /metrics must not be on the public listener");
                }
                Some(AdminListener { bind: admin_bind, port: admin_port })
            }
        };
        let max_open_sessions_per_client = r.number(value!(s.max_open_sessions_per_client), 5, 0, 1_000_000) as u32;
        let max_open_sessions = r.number(value!(s.max_open_sessions), 1000, 0, 10_000_000) as u32;
        let pre_engagement_keys = match value!(s.pre_engagement_keys).text {
            None => DEFAULT_PRE_ENGAGEMENT_KEYS.iter().map(|k| k.to_string()).collect(),
            Some(list) if list == "-" => Vec::new(),
            Some(list) => list.split(',').map(str::trim).filter(|k| !k.is_empty()).map(String::from).collect(),
        };
        let handoff_secret = r.secret(value!(s.handoff_secret), false);
        let handoff_secret_previous = value!(s.handoff_secret_previous);
        let handoff_secret_previous = if handoff_secret_previous.text.is_some() && handoff_secret.is_none() {
            r.problem("HANDOFF_SECRET_PREVIOUS", "is only used with HANDOFF_SECRET");
            None
        } else {
            r.secret(handoff_secret_previous, false)
        };
        let handoff_transcript = r
            .choice(value!(s.handoff_transcript), "off, summary or full", |v| match v {
                "off" => Some(TranscriptMode::Off),
                "summary" => Some(TranscriptMode::Summary),
                "full" => Some(TranscriptMode::Full),
                _ => None,
            })
            .unwrap_or_default();
        let handoff_bot_name = match value!(s.handoff_bot_name).text {
            None => "Bot".to_string(),
            Some(n) if n.chars().count() > 64 || n.chars().any(char::is_control) => {
                r.problem("HANDOFF_BOT_NAME", "must be at most 64 characters, no control characters");
                String::new()
            }
            Some(n) => n,
        };
        let twilio_webhooks = r
            .choice(value!(s.twilio_webhooks), "on or off", |v| match v {
                "off" | "false" | "0" => Some(false),
                "on" | "true" | "1" => Some(true),
                _ => None,
            })
            .unwrap_or(false);
        let erase_on_request = r
            .choice(value!(s.erase_on_request), "on or off", |v| match v {
                "off" | "false" | "0" => Some(false),
                "on" | "true" | "1" => Some(true),
                _ => None,
            })
            .unwrap_or(false);
        let public_base_url = value!(s.public_base_url).text;
        if let Some(url) = &public_base_url {
            let ok = reqwest::Url::parse(url).ok().is_some_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some() && u.query().is_none());
            if !ok {
                r.problem("PUBLIC_BASE_URL", &format!("must be the http(s) URL of this server's root as Twilio calls it, without a query, got {url:?}"));
            }
        }
        let webhooks_fresh = Duration::from_secs(r.number(value!(s.twilio_webhooks_fresh_seconds), 600, 1, 86_400));
        let ratings = Ratings {
            window: Duration::from_secs(r.number(value!(s.rating_window_seconds), 900, 0, 86_400)),
            slot: r.number(value!(s.rating_insights_slot), 1, 1, 10) as u8,
        };
        let webhooks = match (twilio_webhooks, &auth_token) {
            (false, _) => None,
            (true, None) => {
                r.problem("TWILIO_WEBHOOKS", "needs TWILIO_AUTH_TOKEN: Twilio signs its webhooks with the account's Auth Token");
                None
            }
            (true, Some(token)) => Some(Webhooks { auth_token: token.clone(), public_base_url, fresh: webhooks_fresh }),
        };
        let verify_url = value!(s.verify_url).text;
        if let Some(url) = &verify_url {
            if !crate::infra::url::is_secure_url(url) {
                r.problem("VERIFY_URL", &format!("must be an https URL (http only to a loopback address), got {url:?}"));
            }
        }
        let verify_secret = value!(s.verify_secret).text.map(Secret::new);
        let redis = r.redis(s);
        let ready_twilio_fresh = Duration::from_secs(r.number(value!(s.ready_twilio_fresh_seconds), 60, 1, 86_400));
        let ready_probe_retry = Duration::from_secs(r.number(value!(s.ready_probe_retry_seconds), 5, 1, 3600));
        let ready_twilio_grace = Duration::from_secs(r.number(value!(s.ready_twilio_grace_seconds), 30, 0, 3600));
        let log_format = r
            .choice(value!(s.log_format), "text or json", |v| match v {
                "text" => Some(LogFormat::Text),
                "json" => Some(LogFormat::Json),
                _ => None,
            })
            .unwrap_or(LogFormat::Text);
        let business_hours = r.business_hours(value!(s.business_hours).text, value!(s.business_tz).text, value!(s.business_holidays).text);
        let sms = crate::infra::sms::from_settings(value!(s.twilio_sms_number).text, value!(s.sms_allowed_calling_codes).text).unwrap_or_else(|problems| {
            for (key, what) in problems {
                r.problem(key, &what);
            }
            None
        });
        let identity = match crate::infra::identity::from_settings(&s.identity, session_secret.as_ref()) {
            Ok(identity) => identity,
            Err(problems) => {
                for (key, what) in problems {
                    r.problem(key, &what);
                }
                None
            }
        };
        let real_twilio = [&flex_api_url, &conversations_api_url, &taskrouter_api_url].iter().any(|u| crate::infra::url::is_twilio_com(u));
        if purpose == Purpose::Serve && real_twilio {
            // The demo secrets are published: with real Twilio behind them, anyone could forge credentials, or sign in
            // as anyone.
            let demo_identity = value!(s.identity.identity_jwt_secret).text.is_some_and(|s| crate::infra::identity::DEMO_IDENTITY_SECRETS.contains(&s.as_str()));
            if demo_identity {
                r.problem("IDENTITY_JWT_SECRET", "is the published demo secret; with real Twilio URLs set a random one (`openssl rand -hex 32`)");
            }
            for secret in session_secret.iter().chain(&session_secret_previous) {
                if DEMO_SESSION_SECRETS.contains(&secret.expose()) {
                    r.problem("SESSION_SECRET", "is the published demo secret; with real Twilio URLs set a random one (`openssl rand -hex 32`)");
                }
            }
        }

        if !r.0.is_empty() {
            return Err(ConfigError(r.0));
        }
        // Each of these was reported above when missing, so with no problem they are all there.
        let (Some(account_sid), Some(api_key_sid), Some(api_key_secret), Some(conversations_service_sid), Some(start_mode), Some(session_secret)) =
            (account_sid, api_key_sid, api_key_secret, conversations_service_sid, start_mode, session_secret)
        else {
            return Err(ConfigError(r.0));
        };
        Ok(Config {
            port,
            bind,
            admin,
            account_sid,
            auth_token,
            api_key_sid,
            api_key_secret,
            conversations_service_sid,
            address_sid,
            flex_flow_sid,
            workspace_sid,
            workflow_sid,
            queue_sid,
            start_mode,
            session_secret,
            session_secret_previous,
            allowed_origins,
            token_ttl_seconds,
            session_max_age_seconds,
            abandon_grace,
            conversation_timers,
            flex_api_url,
            conversations_api_url,
            taskrouter_api_url,
            studio_api_url,
            media_api_url,
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
            webhooks,
            ratings,
            erase_on_request,
            verify_url,
            verify_secret,
            redis,
            ready_twilio_fresh,
            ready_probe_retry,
            ready_twilio_grace,
            log_format,
            business_hours,
            sms,
            identity,
        })
    }
}

/// Every problem found so far, one line per key; each check records its own and returns a usable value.
struct Problems(Vec<String>);

impl Problems {
    fn problem(&mut self, key: &str, what: &str) {
        self.0.push(format!("{key}: {what}"));
    }

    fn required(&mut self, value: Value) -> Option<String> {
        if value.text.is_none() {
            self.problem(&value.key, "is required but not set");
        }
        value.text
    }

    /// A Twilio SID of kind `K`.
    fn sid<K: SidKind>(&mut self, value: Value, required: bool) -> Option<Sid<K>> {
        let key = value.key.clone();
        let text = if required { self.required(value)? } else { value.text? };
        let sid = Sid::parse(&text);
        if sid.is_none() {
            // A SID is not a secret, but keep the message short and do not echo long junk.
            let shown: String = text.chars().take(6).collect();
            self.problem(&key, &format!("must be {} followed by 32 hex digits (got a value starting {shown:?})", K::PREFIX));
        }
        sid
    }

    /// A random secret of at least 32 characters.
    fn secret(&mut self, value: Value, required: bool) -> Option<Secret> {
        let key = value.key.clone();
        let text = if required { self.required(value)? } else { value.text? };
        if text.len() < 32 {
            // The current secrets get the hint; a previous one was made before.
            let hint = if key.ends_with("_PREVIOUS") { "" } else { " (random; e.g. `openssl rand -hex 32`)" };
            self.problem(&key, &format!("must be at least 32 characters{hint}"));
            return None;
        }
        Some(Secret::new(text))
    }

    fn number(&mut self, value: Value, default: u64, min: u64, max: u64) -> u64 {
        match &value.text {
            None => default,
            Some(v) => crate::infra::setting::whole_number(v, min, max).unwrap_or_else(|why| {
                self.problem(&value.key, &why);
                default
            }),
        }
    }

    /// One of a few words (any case); `None` when unset or refused (refused: reported, naming `allowed`).
    fn choice<T>(&mut self, value: Value, allowed: &str, pick: impl Fn(&str) -> Option<T>) -> Option<T> {
        let text = value.text?.to_ascii_lowercase();
        let picked = pick(&text);
        if picked.is_none() {
            self.problem(&value.key, &format!("must be {allowed}, got {text:?}"));
        }
        picked
    }

    /// A switch: true or false (1 or 0); unset = false.
    fn flag(&mut self, value: Value) -> bool {
        self.choice(value, "true or false", |v| match v {
            "true" | "1" => Some(true),
            "false" | "0" => Some(false),
            _ => None,
        })
        .unwrap_or(false)
    }

    /// `TRUSTED_PROXIES`: CIDRs or single addresses (each a /32 or /128), which only mean something with
    /// `TRUST_PROXY_HOPS`.
    fn trusted_proxies(&mut self, value: Value, trust_proxy_hops: u32) -> Vec<ipnet::IpNet> {
        let mut nets = Vec::new();
        for item in value.text.as_deref().unwrap_or_default().split(',').map(str::trim).filter(|i| !i.is_empty()) {
            match item.parse::<ipnet::IpNet>().or_else(|_| item.parse::<IpAddr>().map(ipnet::IpNet::from)) {
                Ok(net) => nets.push(net.trunc()),
                Err(_) => self.problem(&value.key, &format!("must be a comma list of CIDRs or addresses, got {item:?}")),
            }
        }
        if !nets.is_empty() && trust_proxy_hops == 0 {
            self.problem(&value.key, "needs TRUST_PROXY_HOPS (how many of those proxies stand in front of the server)");
        }
        nets
    }

    fn ip(&mut self, value: Value, default: IpAddr) -> IpAddr {
        match &value.text {
            None => default,
            Some(v) => v.parse().unwrap_or_else(|_| {
                self.problem(&value.key, &format!("must be an IP address such as 127.0.0.1, 0.0.0.0 or ::, got {v:?}"));
                default
            }),
        }
    }

    /// How chats start: `FLEX_START_MODE`, or without it the modes of a current account (the Flex Flow mode,
    /// Programmable Chat for Flex, end of life on June 1, 2026, only when named); each mode with its own SIDs.
    fn start_mode(
        &mut self,
        mode: Value,
        address: &Option<Sid<sid::Address>>,
        flow: &Option<Sid<sid::FlexFlow>>,
        workspace: &Option<Sid<sid::Workspace>>,
        workflow: &Option<Sid<sid::Workflow>>,
    ) -> Option<StartMode> {
        let name = match mode.text.as_deref() {
            None if address.is_some() => "webchat",
            None if workspace.is_some() && workflow.is_some() => "interactions",
            None => {
                self.problem(
                    "FLEX_START_MODE",
                    "cannot be chosen: set TWILIO_ADDRESS_SID (webchat) or TWILIO_WORKSPACE_SID + TWILIO_WORKFLOW_SID (interactions); the legacy Flex Flow mode (past end of life) only with FLEX_START_MODE=flexflow",
                );
                return None;
            }
            Some(name @ ("webchat" | "interactions" | "flexflow")) => name,
            Some(other) => {
                self.problem("FLEX_START_MODE", &format!("must be webchat, interactions or flexflow, got {other:?}"));
                return None;
            }
        };
        let mut needs = |present: bool, key: &str| {
            if !present {
                self.problem(key, &format!("is required when FLEX_START_MODE is {name}"));
            }
        };
        match name {
            "webchat" => {
                needs(address.is_some(), "TWILIO_ADDRESS_SID");
                Some(StartMode::Webchat { address: address.clone()? })
            }
            "flexflow" => {
                needs(flow.is_some(), "TWILIO_FLEX_FLOW_SID");
                Some(StartMode::FlexFlow { flow: flow.clone()? })
            }
            _ => {
                needs(workspace.is_some(), "TWILIO_WORKSPACE_SID");
                needs(workflow.is_some(), "TWILIO_WORKFLOW_SID");
                Some(StartMode::Interactions { workspace: workspace.clone()?, workflow: workflow.clone()? })
            }
        }
    }

    /// `TRUST_PROXY_HOPS`, or the older `TRUST_PROXY=true` (= one hop).
    fn proxy_hops(&mut self, legacy: Value, hops: Value) -> u32 {
        let legacy = match legacy.text.as_deref() {
            None | Some("0") | Some("false") => false,
            Some("1") | Some("true") => true,
            Some(other) => {
                self.problem(&legacy.key, &format!("must be true or false, got {other:?}"));
                false
            }
        };
        if hops.text.is_none() {
            return u32::from(legacy);
        }
        let hops = self.number(hops, 0, 0, 16) as u32;
        if legacy && hops == 0 {
            self.problem("TRUST_PROXY_HOPS", "is 0 but TRUST_PROXY=true; set only TRUST_PROXY_HOPS");
        }
        hops
    }

    /// The four budgets. `RATE_LIMIT_PER_MINUTE` / `RATE_LIMIT_BURST`, when set, replace every default;
    /// `RATE_LIMIT_<BUDGET>_PER_MINUTE` / `_BURST` set one budget.
    fn budgets(&mut self, s: &Settings) -> Budgets {
        let every_rate = value!(s.rate_limit_per_minute);
        let every_rate = every_rate.text.is_some().then(|| self.number(every_rate, 60, 1, 1_000_000) as u32);
        let every_burst = value!(s.rate_limit_burst);
        let every_burst = every_burst.text.is_some().then(|| self.number(every_burst, 20, 1, 1_000_000) as u32);
        let mut one = |rate: Value, burst: Value, default_rate: u32, default_burst: u32| Budget {
            per_minute: self.number(rate, every_rate.unwrap_or(default_rate).into(), 1, 1_000_000) as u32,
            burst: self.number(burst, every_burst.unwrap_or(default_burst).into(), 1, 1_000_000) as u32,
        };
        Budgets {
            start: one(value!(s.rate_limit_start_per_minute), value!(s.rate_limit_start_burst), 10, 5),
            refresh: one(value!(s.rate_limit_refresh_per_minute), value!(s.rate_limit_refresh_burst), 60, 20),
            availability: one(value!(s.rate_limit_availability_per_minute), value!(s.rate_limit_availability_burst), 120, 30),
            other: one(value!(s.rate_limit_other_per_minute), value!(s.rate_limit_other_burst), 60, 20),
        }
    }

    /// Stored as parsed, not as written: `http:host` is read as `http://host/` (found by
    /// fuzz/fuzz_targets/config_values.rs), and the rest of the server joins paths onto this string.
    fn base_url(&mut self, value: Value, default: &str) -> String {
        let text = value.text.unwrap_or_else(|| default.to_string());
        match reqwest::Url::parse(&text) {
            Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() && url.query().is_none() => url.as_str().trim_end_matches('/').to_string(),
            _ => {
                self.problem(&value.key, &format!("must be an http(s) base URL such as {default}, got {text:?}"));
                default.to_string()
            }
        }
    }

    /// Comma-separated exact origins. A wildcard is refused on purpose: the allowlist must mean something.
    fn origins(&mut self, value: Value) -> Vec<String> {
        let Some(text) = &value.text else { return Vec::new() };
        let mut origins = Vec::new();
        for item in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            // Exactly as a browser sends it in `Origin` (the URL parser also reads `http:host` or `HTTP://Host:80`,
            // which would never match a real Origin header: found by fuzz/fuzz_targets/config_values.rs).
            let ok = reqwest::Url::parse(item).ok().filter(|u| {
                matches!(u.scheme(), "http" | "https") && u.host().is_some() && u.path() == "/" && u.query().is_none() && u.origin().ascii_serialization() == item
            });
            if ok.is_some() {
                origins.push(item.to_string());
            } else {
                self.problem(&value.key, &format!("{item:?} is not an origin like https://shop.example.com or http://localhost:3000 (no wildcard, no path)"));
            }
        }
        origins
    }

    /// `REDIS_*`: `None` without `REDIS_URL`. The URL may hold a password: never echoed.
    fn redis(&mut self, s: &Settings) -> Option<RedisConfig> {
        let url = value!(s.redis_url).text;
        let ca_file = value!(s.redis_ca_file).text;
        let ca_pem = match &ca_file {
            Some(path) => match std::fs::read(path) {
                Ok(pem) => Some(pem),
                Err(e) => {
                    self.problem("REDIS_CA_FILE", &format!("cannot be read ({path}: {e})"));
                    None
                }
            },
            None => None,
        };
        let key_prefix = value!(s.redis_key_prefix).text.unwrap_or_else(|| "flexdesk:".to_string());
        let timeout = Duration::from_millis(self.number(value!(s.redis_timeout_ms), 250, 10, 10_000));
        let Some(url) = url else {
            if ca_file.is_some() {
                self.problem("REDIS_CA_FILE", "is only used with a rediss:// REDIS_URL");
            }
            return None;
        };
        if redis::Client::open(url.as_str()).is_err() {
            self.problem("REDIS_URL", "must be a redis:// or rediss:// (TLS) URL (e.g. redis://redis:6379/0 or rediss://:password@host:6380)");
            return None;
        }
        if ca_file.is_some() && !url.starts_with("rediss://") {
            self.problem("REDIS_CA_FILE", "is only used with a rediss:// REDIS_URL");
        } else if let Some(pem) = &ca_pem {
            if let Err(e) = crate::infra::redis::client(&url, Some(pem)) {
                self.problem("REDIS_CA_FILE", &format!("is not a PEM CA certificate ({e})"));
            }
        }
        Some(RedisConfig { url: Secret::new(url), ca_pem, key_prefix, timeout })
    }

    /// `BUSINESS_HOURS`, `BUSINESS_TZ`, `BUSINESS_HOLIDAYS`: `None` = always open.
    fn business_hours(&mut self, hours: Option<String>, tz: Option<String>, holidays: Option<String>) -> Option<crate::infra::hours::BusinessHours> {
        match (hours, tz) {
            (None, None) => {
                if holidays.is_some() {
                    self.problem("BUSINESS_HOLIDAYS", "needs BUSINESS_HOURS and BUSINESS_TZ");
                }
                None
            }
            (Some(_), None) => {
                self.problem("BUSINESS_TZ", "is required with BUSINESS_HOURS: the IANA time zone of those hours, e.g. Europe/Paris");
                None
            }
            (None, Some(_)) => {
                self.problem("BUSINESS_HOURS", "is required with BUSINESS_TZ, e.g. \"Mon-Fri 09:00-17:00\"");
                if holidays.is_some() {
                    self.problem("BUSINESS_HOLIDAYS", "needs BUSINESS_HOURS and BUSINESS_TZ");
                }
                None
            }
            (Some(hours), Some(tz)) => match crate::infra::hours::BusinessHours::parse(&hours, &tz, holidays.as_deref()) {
                Ok(h) => Some(h),
                Err((key, what)) => {
                    self.problem(key, &what);
                    None
                }
            },
        }
    }
}
