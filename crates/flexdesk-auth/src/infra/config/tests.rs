//! The settings read from a map, as an operator would set them.

use super::*;
use std::collections::HashMap;

/// The shared test settings, against an emulator (the demo secret is refused with real Twilio URLs).
fn fake_env() -> HashMap<&'static str, String> {
    test_env("http://127.0.0.1:4010")
}

fn load(env: &HashMap<&'static str, String>) -> Result<Config, ConfigError> {
    Config::from_lookup(|k| env.get(k).cloned())
}

#[test]
fn the_shared_fake_env_is_valid_and_defaults_to_webchat() {
    let c = Config::for_tests("http://127.0.0.1:4010");
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
    assert!(load(&env).unwrap().redis.is_none(), "in memory by default");
    env.insert("REDIS_URL", "redis://:hunter2-redis@127.0.0.1:6379/0".into());
    let c = load(&env).unwrap();
    let redis = c.redis.as_ref().unwrap();
    assert_eq!((redis.key_prefix.as_str(), redis.timeout), ("flexdesk:", Duration::from_millis(250)));
    assert!(!format!("{c:?}").contains("hunter2"), "the URL is a secret");
    env.insert("REDIS_URL", "http://:hunter2-redis@x".into());
    let e = load(&env).unwrap_err().to_string();
    assert!(e.contains("REDIS_URL") && !e.contains("hunter2"), "{e}");
    env.insert("REDIS_URL", "rediss://:hunter2-redis@redis.example:6380/0".into());
    assert!(load(&env).unwrap().redis.unwrap().ca_pem.is_none(), "TLS with the public roots");
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
    assert_eq!((c.handoff_transcript, c.handoff_bot_name.as_str()), (TranscriptMode::Summary, "Bot"));
    env.insert("HANDOFF_TRANSCRIPT", "full".into());
    env.insert("HANDOFF_BOT_NAME", "Watson".into());
    let c = load(&env).unwrap();
    assert_eq!((c.handoff_transcript, c.handoff_bot_name.as_str()), (TranscriptMode::Full, "Watson"));
    env.insert("HANDOFF_TRANSCRIPT", "everything".into());
    assert!(load(&env).unwrap_err().to_string().contains("HANDOFF_TRANSCRIPT: must be off, summary or full"));
}

#[test]
fn seed_aliases_are_accepted() {
    let mut env = fake_env();
    // The seed's names, still accepted (hidden from --help).
    for (new, old) in [
        ("TWILIO_ACCOUNT_SID", "ACCOUNT_ID"),
        ("TWILIO_AUTH_TOKEN", "AUTH_TOKEN"),
        ("TWILIO_FLEX_FLOW_SID", "FLEX_FLOW_ID"),
        ("TWILIO_API_KEY_SID", "API_KEY"),
        ("TWILIO_API_KEY_SECRET", "API_SECRET"),
        ("TWILIO_CONVERSATIONS_SERVICE_SID", "CHAT_SERVICE_ID"),
    ] {
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

/// clap reads every setting from its variable, and a lookup replaces the process environment entirely.
#[test]
fn a_lookup_reads_only_its_own_values_and_every_setting_is_documented() {
    let command = <Settings as clap::Args>::augment_args(clap::Command::new("t"));
    let docs = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/auth-server.md")).unwrap();
    let names: Vec<&str> = command.get_arguments().filter_map(|a| a.get_env()?.to_str()).collect();
    assert!(names.len() > 80 && names.contains(&"TWILIO_ACCOUNT_SID") && names.contains(&"IDENTITY_JWT_SECRET"), "{names:?}");
    // Every `NAME` (or `NAME=value`) the docs quote, a `A_{B,C}_{D,E}` spelling expanded.
    let mut documented = std::collections::HashSet::new();
    for quoted in docs.split('`').skip(1).step_by(2).map(|q| q.split('=').next().unwrap_or(q)) {
        let mut names = vec![String::new()];
        for (i, part) in quoted.split(['{', '}']).enumerate() {
            let choices: Vec<&str> = if i % 2 == 1 { part.split(',').collect() } else { vec![part] };
            names = names.iter().flat_map(|n| choices.iter().map(move |c| format!("{n}{c}"))).collect();
        }
        documented.extend(names);
    }
    for name in &names {
        assert!(documented.contains(*name), "{name} is not in docs/auth-server.md");
    }
    // A variable of this process is not read (no other test reads the process environment: all go through lookups).
    std::env::set_var("LOG_FORMAT", "from-the-process");
    let settings = Settings::from_lookup(|k| (k == "PORT").then(|| " 4100 ".to_string())).unwrap();
    assert_eq!(settings.port.as_deref(), Some(" 4100 "));
    assert!(settings.log_format.is_none() && settings.twilio_account_sid.is_none());
    assert_eq!(Settings::from_env().unwrap().log_format.as_deref(), Some("from-the-process"), "the process's own reader reads it");
    std::env::remove_var("LOG_FORMAT");
}

/// A value may start with a dash or hold `=`: it is handed to clap whole.
#[test]
fn values_that_look_like_flags_are_read_whole() {
    let mut env = fake_env();
    env.insert("HANDOFF_BOT_NAME", "--port=1".into());
    env.insert("PRE_ENGAGEMENT_KEYS", "-".into());
    let c = load(&env).unwrap();
    assert_eq!((c.handoff_bot_name.as_str(), c.port), ("--port=1", 4000));
    assert!(c.pre_engagement_keys.is_empty());
}

#[test]
fn webhooks_carry_their_signing_key_and_their_own_settings() {
    let mut env = fake_env();
    assert!(load(&env).unwrap().webhooks.is_none(), "off by default");
    env.insert("TWILIO_WEBHOOKS", "on".into());
    env.insert("PUBLIC_BASE_URL", "https://chat.example.com/auth".into());
    env.insert("TWILIO_WEBHOOKS_FRESH_SECONDS", "60".into());
    let w = load(&env).unwrap().webhooks.unwrap();
    assert_eq!((w.auth_token.expose(), w.public_base_url.as_deref(), w.fresh), (TEST_AUTH_TOKEN, Some("https://chat.example.com/auth"), Duration::from_secs(60)));
    env.remove("TWILIO_AUTH_TOKEN");
    assert!(load(&env).unwrap_err().to_string().contains("TWILIO_WEBHOOKS: needs TWILIO_AUTH_TOKEN"));
}

/// Issue 24's settings: defaults, ranges, and every problem at once (TRUSTED_PROXIES means nothing without
/// TRUST_PROXY_HOPS: the server would read no forwarding header at all).
#[test]
fn connection_limits_block_budgets_and_trusted_proxies() {
    let c = Config::for_tests("http://127.0.0.1:4010");
    assert_eq!(c.connections, ConnectionLimits { max_connections: 4096, header_read_timeout: Duration::from_secs(10) });
    assert_eq!(c.block_budgets, BlockBudgets { factor: 4, ipv4_24: false });
    assert!(c.trusted_proxies.is_empty());

    let mut env = fake_env();
    env.insert("TRUST_PROXY_HOPS", "1".into());
    env.insert("TRUSTED_PROXIES", "10.0.0.0/8, 192.0.2.7 ,2001:db8::1/48".into());
    env.insert("MAX_CONNECTIONS", "100".into());
    env.insert("HEADER_READ_TIMEOUT_SECONDS", "5".into());
    env.insert("RATE_LIMIT_BLOCK_FACTOR", "0".into());
    env.insert("RATE_LIMIT_IPV4_24", "true".into());
    let c = load(&env).unwrap();
    let nets: Vec<String> = c.trusted_proxies.iter().map(|n| n.to_string()).collect();
    assert_eq!(nets, ["10.0.0.0/8", "192.0.2.7/32", "2001:db8::/48"]);
    assert_eq!(c.connections, ConnectionLimits { max_connections: 100, header_read_timeout: Duration::from_secs(5) });
    assert_eq!(c.block_budgets, BlockBudgets { factor: 0, ipv4_24: true });

    env.remove("TRUST_PROXY_HOPS");
    env.insert("MAX_CONNECTIONS", "0".into());
    env.insert("HEADER_READ_TIMEOUT_SECONDS", "301".into());
    env.insert("RATE_LIMIT_BLOCK_FACTOR", "1001".into());
    env.insert("RATE_LIMIT_IPV4_24", "maybe".into());
    let err = load(&env).unwrap_err().to_string();
    for key in ["TRUSTED_PROXIES: needs TRUST_PROXY_HOPS", "MAX_CONNECTIONS", "HEADER_READ_TIMEOUT_SECONDS", "RATE_LIMIT_BLOCK_FACTOR", "RATE_LIMIT_IPV4_24"] {
        assert!(err.contains(key), "{key}: {err}");
    }
    env.insert("TRUST_PROXY_HOPS", "1".into());
    env.insert("TRUSTED_PROXIES", "10.0.0.0/8,proxy.internal".into());
    assert!(load(&env).unwrap_err().to_string().contains("TRUSTED_PROXIES: must be a comma list of CIDRs or addresses, got \"proxy.internal\""));
}
