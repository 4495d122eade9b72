//! Emulator configuration: the same `TWILIO_*` variables the auth server reads, so the tokens it mints
//! verify here and its Basic-auth credentials are accepted.

use std::fmt;

#[derive(Clone)]
pub struct Config {
    pub account_sid: String,
    pub auth_token: String,
    pub api_key_sid: String,
    pub api_key_secret: String,
    /// The Flex Conversations service (`TWILIO_CONVERSATIONS_SERVICE_SID`): Flex's chats live here and the tokens'
    /// chat grant names it.
    pub service_sid: String,
    /// The account's default Conversations service, the only one `/v1/Conversations/…` reaches
    /// (`EMULATOR_DEFAULT_SERVICE_SID`; by default a SID different from the Flex service, as on an account whose
    /// Flex service is not the default).
    pub default_service_sid: String,
    /// Requests per second per account for `POST /v2/WebChats` (`EMULATOR_WEBCHATS_RATE`, default 5, 0 = off).
    pub webchats_rate: u32,
    /// Requests per second per endpoint for the Interactions API (`EMULATOR_INTERACTIONS_RATE`, default 20, 0 = off).
    pub interactions_rate: u32,
    pub address_sid: String,
    pub flex_flow_sid: String,
    pub workspace_sid: String,
    pub workflow_sid: String,
    pub queue_sid: String,
    /// Seconds before a token's expiry at which the realtime channel warns (`tokenAboutToExpire`).
    pub token_warning_seconds: u64,
    /// The agents' display names (`EMULATOR_AGENTS`, comma-separated; default Alice, Bob).
    pub agents: Vec<String>,
    /// `EMULATOR_WEBHOOK_URL` (convenience): the Flex service's post-event webhook URL at start.
    pub webhook_url: Option<String>,
    /// Flex's pipeline at start (`EMULATOR_ROUTING_DELAY_MS`, `EMULATOR_FLEX_CLOSE_WEBHOOK`,
    /// `EMULATOR_DIRECT_CLOSE_ENDS_TASK`); `POST /admin/pipeline` changes them later.
    pub switches: crate::pipeline::Switches,
}

// Hand-written so a stray `{:?}` can never print the secrets.
impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("account_sid", &self.account_sid)
            .field("api_key_sid", &self.api_key_sid)
            .field("service_sid", &self.service_sid)
            .field("default_service_sid", &self.default_service_sid)
            .field("webchats_rate", &self.webchats_rate)
            .field("interactions_rate", &self.interactions_rate)
            .field("workspace_sid", &self.workspace_sid)
            .field("queue_sid", &self.queue_sid)
            .finish_non_exhaustive()
    }
}

impl Config {
    /// Reads the environment; every missing variable is named in the error.
    pub fn from_env() -> Result<Config, String> {
        let mut missing = Vec::new();
        let mut get = |name: &str| match std::env::var(name) {
            Ok(v) if !v.trim().is_empty() => v.trim().to_string(),
            _ => {
                missing.push(name.to_string());
                String::new()
            }
        };
        let config = Config {
            account_sid: get("TWILIO_ACCOUNT_SID"),
            auth_token: get("TWILIO_AUTH_TOKEN"),
            api_key_sid: get("TWILIO_API_KEY_SID"),
            api_key_secret: get("TWILIO_API_KEY_SECRET"),
            service_sid: get("TWILIO_CONVERSATIONS_SERVICE_SID"),
            default_service_sid: String::new(),
            webchats_rate: twilio_model::limits::WEBCHATS_PER_SECOND,
            interactions_rate: twilio_model::limits::INTERACTIONS_PER_SECOND,
            address_sid: get("TWILIO_ADDRESS_SID"),
            flex_flow_sid: get("TWILIO_FLEX_FLOW_SID"),
            workspace_sid: get("TWILIO_WORKSPACE_SID"),
            workflow_sid: get("TWILIO_WORKFLOW_SID"),
            queue_sid: get("TWILIO_QUEUE_SID"),
            token_warning_seconds: 60,
            agents: default_agents(),
            webhook_url: None,
            switches: crate::pipeline::Switches::default(),
        };
        if !missing.is_empty() {
            return Err(format!("missing environment variables: {}", missing.join(", ")));
        }
        let token_warning_seconds = match std::env::var("EMULATOR_TOKEN_WARNING_SECONDS") {
            Ok(v) => v.parse().map_err(|_| format!("EMULATOR_TOKEN_WARNING_SECONDS must be a number, got {v:?}"))?,
            Err(_) => 60,
        };
        let agents = match std::env::var("EMULATOR_AGENTS") {
            Ok(v) if !v.trim().is_empty() => parse_agents(&v)?,
            _ => default_agents(),
        };
        let default_service_sid = match std::env::var("EMULATOR_DEFAULT_SERVICE_SID") {
            Ok(v) if !v.trim().is_empty() => {
                let v = v.trim().to_string();
                if !twilio_model::sid::is_sid(&v, "IS") {
                    return Err(format!("EMULATOR_DEFAULT_SERVICE_SID must be a service SID (IS + 32 hex digits), got {v:?}"));
                }
                v
            }
            // Flex requires its service to be the account's default ("'Flex Chat Service' must be configured as
            // the default Conversations service", Flex Conversations best practices,
            // https://www.twilio.com/docs/flex/developer/conversations/best-practices).
            _ => config.service_sid.clone(),
        };
        let rate = |name: &str, default: u32| match std::env::var(name) {
            Ok(v) if !v.trim().is_empty() => v.trim().parse::<u32>().map_err(|_| format!("{name} must be a whole number of requests per second (0 = off), got {v:?}")),
            _ => Ok(default),
        };
        let webchats_rate = rate("EMULATOR_WEBCHATS_RATE", twilio_model::limits::WEBCHATS_PER_SECOND)?;
        let interactions_rate = rate("EMULATOR_INTERACTIONS_RATE", twilio_model::limits::INTERACTIONS_PER_SECOND)?;
        let webhook_url = match std::env::var("EMULATOR_WEBHOOK_URL") {
            Ok(v) if !v.trim().is_empty() => {
                let v = v.trim().to_string();
                if !(v.starts_with("http://") || v.starts_with("https://")) {
                    return Err(format!("EMULATOR_WEBHOOK_URL must be an http(s) URL, got {v:?}"));
                }
                Some(v)
            }
            _ => None,
        };
        let mut switches = crate::pipeline::Switches::default();
        if let Ok(v) = std::env::var("EMULATOR_ROUTING_DELAY_MS") {
            switches.routing_delay_ms = v.trim().parse().map_err(|_| format!("EMULATOR_ROUTING_DELAY_MS must be a whole number of milliseconds, got {v:?}"))?;
        }
        let on_off = |name: &str, default: bool| match std::env::var(name).as_deref().map(str::trim) {
            Err(_) | Ok("") => Ok(default),
            Ok("on" | "true" | "1") => Ok(true),
            Ok("off" | "false" | "0") => Ok(false),
            Ok(v) => Err(format!("{name} must be on or off, got {v:?}")),
        };
        switches.flex_close_fires_webhook = on_off("EMULATOR_FLEX_CLOSE_WEBHOOK", switches.flex_close_fires_webhook)?;
        switches.direct_close_ends_task = on_off("EMULATOR_DIRECT_CLOSE_ENDS_TASK", switches.direct_close_ends_task)?;
        Ok(Config { token_warning_seconds, agents, default_service_sid, webchats_rate, interactions_rate, webhook_url, switches, ..config })
    }

    /// A fixed configuration for tests (same shape as tests/support/fake-env.mjs).
    pub fn for_tests() -> Config {
        let sid = |p: &str| format!("{p}{:032x}", 0xf1e8);
        Config {
            account_sid: sid("AC"),
            auth_token: "f1e8de5c0ffee0000000000000000001".into(),
            api_key_sid: sid("SK"),
            api_key_secret: "fakeApiKeySecret-not-a-real-secret-0001".into(),
            service_sid: sid("IS"),
            default_service_sid: sid("IS"),
            webchats_rate: twilio_model::limits::WEBCHATS_PER_SECOND,
            interactions_rate: twilio_model::limits::INTERACTIONS_PER_SECOND,
            address_sid: sid("IG"),
            flex_flow_sid: sid("FO"),
            workspace_sid: sid("WS"),
            workflow_sid: sid("WW"),
            queue_sid: sid("WQ"),
            token_warning_seconds: 60,
            agents: default_agents(),
            webhook_url: None,
            switches: crate::pipeline::Switches::default(),
        }
    }
}

fn default_agents() -> Vec<String> {
    vec!["Alice".into(), "Bob".into()]
}

/// `"Alice, Bob, Chloé"` → the names; each must give a distinct, non-empty id (see `agent_id`).
fn parse_agents(v: &str) -> Result<Vec<String>, String> {
    let names: Vec<String> = v.split(',').map(|n| n.trim().to_string()).filter(|n| !n.is_empty()).collect();
    let mut ids: Vec<String> = names.iter().map(|n| agent_id(n)).collect();
    if ids.iter().any(String::is_empty) {
        return Err(format!("EMULATOR_AGENTS: every name needs a letter or digit, got {v:?}"));
    }
    ids.sort();
    ids.dedup();
    if ids.len() != names.len() {
        return Err(format!("EMULATOR_AGENTS: two names give the same agent id in {v:?}"));
    }
    Ok(names)
}

/// The agent's id (URL `?agent=`, API paths, identity `agent.<id>`): the name's ASCII letters and digits, lowercased.
pub fn agent_id(name: &str) -> String {
    name.chars().filter(char::is_ascii_alphanumeric).collect::<String>().to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agents_list_is_parsed_and_checked() {
        assert_eq!(parse_agents(" Alice , Bob,Carol ").unwrap(), vec!["Alice", "Bob", "Carol"]);
        assert!(parse_agents("Alice, alice").is_err());
        assert!(parse_agents("Alice, ***").is_err());
        assert_eq!(agent_id("Mary Ann"), "maryann");
    }
}
