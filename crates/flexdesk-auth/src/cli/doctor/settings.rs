//! The checks `doctor` makes on the settings alone, without calling Twilio (issue 25): what the server accepts but a
//! production deployment should not run with.

use super::{check, fail, warn, Check, Status};
use crate::http::ratelimit::client_ip;
use crate::infra::config::{Config, ProxyHeader, DEMO_SESSION_SECRETS};
use crate::infra::identity::{Keys, DEMO_IDENTITY_SECRETS};
use crate::infra::url::{is_secure_url, is_twilio_com};

/// The four checks, in report order.
pub fn checks(config: &Config) -> Vec<Check> {
    vec![handoff(config), demo_secrets(config), plain_http(config), client_address(config)]
}

/// Without `HANDOFF_SECRET` no hand-off token verifies, so the bot's routing keys never reach Flex.
fn handoff(config: &Config) -> Check {
    if config.handoff_secret.is_some() {
        return check("hand-off secret", Status::Ok, "HANDOFF_SECRET is set: routing keys from a signed hand-off reach Flex.");
    }
    warn(
        "hand-off secret",
        "HANDOFF_SECRET is not set: every routing key of a hand-off (topic, skill, priority…) is dropped and chats route on Flex's defaults.",
        "set HANDOFF_SECRET (`openssl rand -hex 32`) and sign hand-offs with it in the bot's back end (docs/auth-server.md, Hand-off trust), if the bot routes chats.",
    )
}

/// The repository's published demo secrets: anyone could forge session credentials, or sign in as anyone. The server
/// refuses them with Twilio's own URLs; against an emulator they are expected, so only a warning there.
fn demo_secrets(config: &Config) -> Check {
    let mut found = Vec::new();
    if DEMO_SESSION_SECRETS.contains(&config.session_secret.expose()) {
        found.push("SESSION_SECRET");
    }
    if config.session_secret_previous.as_ref().is_some_and(|s| DEMO_SESSION_SECRETS.contains(&s.expose())) {
        found.push("SESSION_SECRET_PREVIOUS");
    }
    if config.identity.as_ref().is_some_and(|i| matches!(&i.keys, Keys::Secret(s) if DEMO_IDENTITY_SECRETS.contains(&s.expose()))) {
        found.push("IDENTITY_JWT_SECRET");
    }
    if found.is_empty() {
        return check("demo secrets", Status::Ok, "no setting holds one of the repository's published demo secrets.");
    }
    let detail = format!("{} holds the repository's published demo value: anyone can forge what it signs.", found.join(", "));
    let fix = format!("set {} to a random value (`openssl rand -hex 32`).", found.join(" and "));
    let real_twilio = [&config.flex_api_url, &config.conversations_api_url, &config.taskrouter_api_url].iter().any(|u| is_twilio_com(u));
    if real_twilio {
        fail("demo secrets", detail, fix)
    } else {
        warn("demo secrets", format!("{detail} (fine against an emulator)"), fix)
    }
}

/// Every URL that carries a secret or customers' messages, over plain `http` to another machine: the API key in
/// every Twilio call's Basic auth, the conversations Twilio posts to `PUBLIC_BASE_URL`. (`VERIFY_URL` and
/// `IDENTITY_JWKS_URL` are refused at start already.)
fn plain_http(config: &Config) -> Check {
    let urls = [
        ("TWILIO_FLEX_API_URL", Some(config.flex_api_url.as_str())),
        ("TWILIO_CONVERSATIONS_API_URL", Some(config.conversations_api_url.as_str())),
        ("TWILIO_TASKROUTER_API_URL", Some(config.taskrouter_api_url.as_str())),
        ("TWILIO_STUDIO_API_URL", Some(config.studio_api_url.as_str())),
        ("TWILIO_MEDIA_API_URL", Some(config.media_api_url.as_str())),
        ("PUBLIC_BASE_URL", config.webhooks.as_ref().and_then(|w| w.public_base_url.as_deref())),
    ];
    let open: Vec<String> = urls.iter().filter_map(|(key, url)| url.filter(|u| !is_secure_url(u)).map(|u| format!("{key}={u}"))).collect();
    if open.is_empty() {
        return check("plain http", Status::Ok, "every Twilio URL and PUBLIC_BASE_URL is https (or http to this machine).");
    }
    fail(
        "plain http",
        format!("{} is plain http to another machine: the API key (or the customers' messages) would cross the network readable.", open.join(", ")),
        "use https URLs (leave the TWILIO_*_API_URL settings unset for Twilio; put PUBLIC_BASE_URL behind TLS).",
    )
}

/// What the server would count a test request as: a customer at 203.0.113.7 (an RFC 5737 documentation address)
/// reaching it through `TRUST_PROXY_HOPS` proxies (198.51.100.x, or the first `TRUSTED_PROXIES` address for the last
/// one), each adding itself to the forwarding header as proxies do. The server's own rule ([`client_ip`]) decides,
/// so the line shows what `TRUST_PROXY_HOPS` / `TRUST_PROXY_HEADER` / `TRUSTED_PROXIES` mean together; a count that
/// is off puts every customer in the proxy's budget, or lets a client choose its own key (docs/auth-server.md).
fn client_address(config: &Config) -> Check {
    use std::net::{IpAddr, Ipv4Addr};
    const CUSTOMER: IpAddr = IpAddr::V4(Ipv4Addr::new(203, 0, 113, 7));
    let hops = config.trust_proxy_hops;
    if hops == 0 {
        return check("client address", Status::Ok, "TRUST_PROXY_HOPS=0: a request counts as its TCP peer (behind a proxy, every customer would share the proxy's budgets: set TRUST_PROXY_HOPS to the number of your proxies).");
    }
    let mut proxies: Vec<IpAddr> = (1..=hops.min(200)).map(|i| IpAddr::V4(Ipv4Addr::new(198, 51, 100, i as u8))).collect();
    if let (Some(net), Some(last)) = (config.trusted_proxies.first(), proxies.last_mut()) {
        *last = net.network();
    }
    // Each proxy appends the address it received the request from: the customer, then every proxy but the last.
    let chain: Vec<IpAddr> = std::iter::once(CUSTOMER).chain(proxies[..proxies.len() - 1].iter().copied()).collect();
    let mut headers = axum::http::HeaderMap::new();
    let (name, value) = match config.proxy_header {
        ProxyHeader::XForwardedFor => ("x-forwarded-for", chain.iter().map(IpAddr::to_string).collect::<Vec<_>>().join(", ")),
        ProxyHeader::Forwarded => ("forwarded", chain.iter().map(|a| format!("for={a}")).collect::<Vec<_>>().join(", ")),
    };
    headers.insert(name, value.parse().expect("addresses are header-safe"));
    let peer = *proxies.last().expect("hops > 0");
    let seen = client_ip(&headers, Some(peer), hops, config.proxy_header, &config.trusted_proxies);
    let request = format!("a request from {peer} with `{name}: {value}`");
    if seen == CUSTOMER {
        check("client address", Status::Ok, format!("TRUST_PROXY_HOPS={hops}: {request} counts as the customer, {seen}."))
    } else {
        fail(
            "client address",
            format!("TRUST_PROXY_HOPS={hops}: {request} counts as {seen}, not the customer {CUSTOMER}."),
            "make TRUSTED_PROXIES hold the address your last proxy connects from, and TRUST_PROXY_HOPS the number of proxies.",
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::infra::config::{test_env, Purpose, Settings};

    /// The settings the doctor sees (it reads them for an offline subcommand: the demo secret is not refused).
    fn config(overrides: &[(&'static str, &str)]) -> Config {
        let mut env = test_env("http://127.0.0.1:4010");
        for (k, v) in overrides {
            env.insert(k, v.to_string());
        }
        Settings::from_lookup(|k| env.get(k).cloned()).unwrap().validate(Purpose::Offline).unwrap()
    }

    fn status(checks: &[Check], name: &str) -> Status {
        checks.iter().find(|c| c.name == name).unwrap().status
    }

    #[test]
    fn the_demo_secret_fails_against_twilio_and_is_only_named() {
        let emulator = checks(&config(&[]));
        assert_eq!(status(&emulator, "demo secrets"), Status::Warn);
        let urls = [
            ("TWILIO_FLEX_API_URL", "https://flex-api.twilio.com"),
            ("TWILIO_CONVERSATIONS_API_URL", "https://conversations.twilio.com"),
            ("TWILIO_TASKROUTER_API_URL", "https://taskrouter.twilio.com"),
        ];
        let twilio = checks(&config(&urls));
        let line = twilio.iter().find(|c| c.name == "demo secrets").unwrap().to_string();
        assert_eq!(status(&twilio, "demo secrets"), Status::Fail, "{line}");
        assert!(line.contains("SESSION_SECRET") && !line.contains(DEMO_SESSION_SECRETS[0]), "{line}");
        let identity = checks(&config(&[("IDENTITY_JWT_SECRET", DEMO_IDENTITY_SECRETS[0]), ("IDENTITY_AUDIENCE", "flexdesk")]));
        assert!(identity.iter().any(|c| c.name == "demo secrets" && c.detail.contains("IDENTITY_JWT_SECRET")));
        let fine = checks(&config(&[urls[0], urls[1], urls[2], ("SESSION_SECRET", "a-real-random-secret-0123456789abcdef0123")]));
        assert_eq!(status(&fine, "demo secrets"), Status::Ok);
    }

    #[test]
    fn plain_http_to_another_machine_fails_naming_the_setting() {
        assert_eq!(status(&checks(&config(&[])), "plain http"), Status::Ok, "loopback (an emulator) is fine");
        let open = checks(&config(&[("TWILIO_TASKROUTER_API_URL", "http://twilio-proxy.internal:8080")]));
        let line = open.iter().find(|c| c.name == "plain http").unwrap().to_string();
        assert!(line.starts_with("FAIL") && line.contains("TWILIO_TASKROUTER_API_URL=http://twilio-proxy.internal:8080"), "{line}");
        let hooks = checks(&config(&[("TWILIO_WEBHOOKS", "on"), ("PUBLIC_BASE_URL", "http://chat.example.com/auth")]));
        assert_eq!(status(&hooks, "plain http"), Status::Fail);
    }

    #[test]
    fn the_client_address_of_a_test_request_is_shown_as_the_server_counts_it() {
        let line = |o: &[(&'static str, &str)]| checks(&config(o)).into_iter().find(|c| c.name == "client address").unwrap();
        assert!(line(&[]).detail.contains("TCP peer"));
        let two = line(&[("TRUST_PROXY_HOPS", "2")]);
        assert_eq!(two.status, Status::Ok, "{two}");
        assert!(two.detail.contains("x-forwarded-for: 203.0.113.7, 198.51.100.1") && two.detail.ends_with("counts as the customer, 203.0.113.7."), "{two}");
        let forwarded = line(&[("TRUST_PROXY_HOPS", "1"), ("TRUST_PROXY_HEADER", "forwarded"), ("TRUSTED_PROXIES", "10.1.0.0/16")]);
        assert!(forwarded.detail.contains("a request from 10.1.0.0 with `forwarded: for=203.0.113.7`"), "{forwarded}");
        assert_eq!(forwarded.status, Status::Ok, "{forwarded}");
    }

    #[test]
    fn an_unset_handoff_secret_warns_that_routing_keys_are_dropped() {
        let unset = checks(&config(&[]));
        assert_eq!(status(&unset, "hand-off secret"), Status::Warn);
        assert!(unset[0].to_string().contains("routing key"));
        let set = checks(&config(&[("HANDOFF_SECRET", "a-handoff-secret-0123456789abcdef-0123")]));
        assert_eq!(status(&set, "hand-off secret"), Status::Ok);
    }
}
