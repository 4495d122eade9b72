//! Subcommands, for operators (and the token-parity test against the npm helper):
//!
//! - `flexdesk-auth mint-token <identity> [ttl seconds]` prints a token minted with the configured keys;
//! - `flexdesk-auth verify-token` reads a token on stdin, checks its signature with TWILIO_API_KEY_SECRET
//!   (HS256 only, expiry checked) and prints its header and claims as JSON; exit status 1 when it does not verify;
//! - `flexdesk-auth healthcheck [--ready]` GETs `/healthz` (or `/readyz`) of the server configured by the same
//!   environment (`PORT`, `BIND`) and exits 0 on 200, else 1: a container `HEALTHCHECK` for images without curl;
//! - `flexdesk-auth doctor` checks the Twilio account read-only, one line per check (see `doctor.rs`);
//! - `flexdesk-auth config check FILE` (handled in `main.rs`, before the configuration is read) names every value of
//!   an environment file that Docker or systemd would read differently from `.env` (see `envfile.rs`).

pub mod doctor;
pub mod envfile;

use std::io::Read;

use jsonwebtoken::{decode, decode_header, Algorithm, DecodingKey, Validation};
use serde_json::json;

use crate::infra::config::{Config, MAX_TOKEN_TTL_SECONDS};
use crate::twilio::token::{self, Claims, TokenKeys};
use crate::infra::clock::unix_now;

/// The subcommands, each name spelled once: `main` asks [`Subcommand::parse`] whether to read the configuration
/// offline, [`run`] which one to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subcommand {
    /// `mint-token <identity> [ttl seconds]`
    MintToken,
    /// `verify-token` (the token on stdin)
    VerifyToken,
    /// `healthcheck [--ready]`
    Healthcheck,
    /// `doctor`
    Doctor,
}

impl Subcommand {
    /// The subcommand called `name`, if there is one.
    pub fn parse(name: &str) -> Option<Subcommand> {
        match name {
            "mint-token" => Some(Subcommand::MintToken),
            "verify-token" => Some(Subcommand::VerifyToken),
            "healthcheck" => Some(Subcommand::Healthcheck),
            "doctor" => Some(Subcommand::Doctor),
            _ => None,
        }
    }
}

/// Runs a subcommand if `args` names one; returns the exit code, or `None` to start the server.
pub async fn run(config: &Config, args: &[String]) -> Option<i32> {
    let name = args.first()?;
    let Some(subcommand) = Subcommand::parse(name) else {
        eprintln!("unknown subcommand {name:?}; use mint-token <identity> [ttl], verify-token (token on stdin), healthcheck [--ready], doctor or config check FILE");
        return Some(2);
    };
    Some(match subcommand {
        Subcommand::MintToken => mint(config, &args[1..]),
        Subcommand::VerifyToken => verify(config),
        Subcommand::Healthcheck => healthcheck(config, &args[1..]).await,
        Subcommand::Doctor => crate::cli::doctor::print(config, &crate::cli::doctor::run(config).await),
    })
}

/// GETs `/healthz` (`--ready`: `/readyz`) of this host's server: exit 0 on 200, 1 otherwise (2: bad arguments).
async fn healthcheck(config: &Config, args: &[String]) -> i32 {
    let path = match args.first().map(String::as_str) {
        None => "/healthz",
        Some("--ready") => "/readyz",
        Some(_) => {
            eprintln!("usage: flexdesk-auth healthcheck [--ready]");
            return 2;
        }
    };
    // A wildcard bind is reached on loopback.
    let host = match config.bind {
        std::net::IpAddr::V4(a) if a.is_unspecified() => std::net::IpAddr::from([127, 0, 0, 1]),
        std::net::IpAddr::V6(a) if a.is_unspecified() => std::net::IpAddr::from(std::net::Ipv6Addr::LOCALHOST),
        other => other,
    };
    let url = format!("http://{}{path}", std::net::SocketAddr::new(host, config.port));
    // Straight to this host's listener, whatever HTTP(S)_PROXY says (those are for Twilio).
    let client = reqwest::Client::builder().timeout(std::time::Duration::from_secs(3)).no_proxy().build().expect("reqwest client");
    match client.get(&url).send().await {
        Ok(r) if r.status().is_success() => {
            println!("{url}: {}", r.status().as_u16());
            0
        }
        Ok(r) => {
            let status = r.status().as_u16();
            println!("{url}: {status} {}", r.text().await.unwrap_or_default().chars().take(300).collect::<String>());
            1
        }
        Err(e) => {
            println!("{url}: no answer ({})", if e.is_timeout() { "timed out" } else { "connection failed" });
            1
        }
    }
}

fn mint(config: &Config, args: &[String]) -> i32 {
    let Some(identity) = args.first().filter(|s| !s.is_empty()) else {
        eprintln!("usage: flexdesk-auth mint-token <identity> [ttl seconds]");
        return 2;
    };
    let ttl = match args.get(1).map(|t| t.parse::<u64>()) {
        None => config.token_ttl_seconds,
        Some(Ok(t)) if (1..=MAX_TOKEN_TTL_SECONDS).contains(&t) => t,
        Some(_) => {
            eprintln!("ttl must be 1..={MAX_TOKEN_TTL_SECONDS} seconds");
            return 2;
        }
    };
    let keys = TokenKeys {
        account_sid: &config.account_sid,
        api_key_sid: &config.api_key_sid,
        api_key_secret: config.api_key_secret.expose(),
        service_sid: &config.conversations_service_sid,
    };
    println!("{}", token::mint(&keys, identity, unix_now(), ttl).token);
    0
}

fn verify(config: &Config) -> i32 {
    let mut input = String::new();
    if std::io::stdin().read_to_string(&mut input).is_err() {
        eprintln!("cannot read the token from stdin");
        return 2;
    }
    let token = input.trim();
    let validation = Validation::new(Algorithm::HS256);
    let key = DecodingKey::from_secret(config.api_key_secret.expose().as_bytes());
    match (decode_header(token), decode::<Claims>(token, &key, &validation)) {
        (Ok(header), Ok(data)) => {
            println!("{}", json!({ "header": header, "claims": data.claims }));
            0
        }
        (_, Err(e)) | (Err(e), _) => {
            eprintln!("token does not verify: {e}");
            1
        }
    }
}
