//! Subcommands, for operators (and the token-parity test against the npm helper):
//!
//! - `flexdesk-auth mint-token <identity> [ttl seconds]` prints a token minted with the configured keys;
//! - `flexdesk-auth verify-token` reads a token on stdin, checks its signature with TWILIO_API_KEY_SECRET
//!   (HS256 only, expiry checked) and prints its header and claims as JSON; exit status 1 when it does not verify;
//! - `flexdesk-auth healthcheck [--ready]` GETs `/healthz` (or `/readyz`) of the server configured by the same
//!   environment (`PORT`, `BIND`) and exits 0 on 200, else 1: a container `HEALTHCHECK` for images without curl;
//! - `flexdesk-auth doctor` checks the Twilio account read-only, one line per check (see `doctor.rs`);
//! - `flexdesk-auth config check FILE` (run before the configuration is read) names every value of an environment
//!   file that Docker or systemd would read differently from `.env` (see `envfile.rs`).
//!
//! clap parses them ([`Cli`]), together with the settings; `flexdesk-auth --help` lists both.

pub mod doctor;
pub mod envfile;

use std::io::Read;

use jsonwebtoken::{decode, decode_header, Algorithm, DecodingKey, Validation};
use serde_json::json;

use clap::{CommandFactory, FromArgMatches, Parser};

use crate::infra::config::{Config, ConfigError, Purpose, Settings, MAX_TOKEN_TTL_SECONDS};
use crate::twilio::token::{self, Claims, TokenKeys};
use crate::infra::clock::unix_now;

/// The command line: the settings (each also read from its environment variable, see
/// [`Settings`]) and at most one subcommand; without one, the server starts.
#[derive(Parser, Debug)]
#[command(name = "flexdesk-auth", version, about = "flexdesk's auth server: holds the Twilio secrets, starts Flex chats, mints short-lived access tokens")]
pub struct Cli {
    /// What to run instead of the server.
    #[command(subcommand)]
    pub command: Option<Subcommand>,
    /// The settings.
    #[command(flatten)]
    pub settings: Settings,
}

impl Cli {
    /// The command line and environment of this process. The values of the environment are never shown in `--help`:
    /// several are secrets.
    pub fn from_process() -> Cli {
        let command = Cli::command().mut_args(|arg| arg.hide_env_values(true));
        match command.try_get_matches().and_then(|m| Cli::from_arg_matches(&m)) {
            Ok(cli) => cli,
            Err(e) => e.exit(),
        }
    }
}

/// The subcommands, each name spelled once.
#[derive(clap::Subcommand, Debug, Clone, PartialEq, Eq)]
pub enum Subcommand {
    /// Check a configuration file (before the configuration itself can be read).
    Config {
        /// What to do with it.
        #[command(subcommand)]
        action: ConfigAction,
    },
    /// The subcommands that read the configuration.
    #[command(flatten)]
    WithConfig(WithConfig),
}

/// `config …`
#[derive(clap::Subcommand, Debug, Clone, PartialEq, Eq)]
pub enum ConfigAction {
    /// Name every value of FILE that Docker or systemd would read differently from `.env`.
    Check {
        /// The environment file.
        file: String,
    },
}

/// The subcommands that read the configuration (for what they do, not to serve: the demo `SESSION_SECRET` is not
/// refused, see [`Purpose::Offline`]).
#[derive(clap::Subcommand, Debug, Clone, PartialEq, Eq)]
pub enum WithConfig {
    /// Print an access token minted with the configured keys.
    MintToken {
        /// The token's identity.
        identity: String,
        /// Lifetime in seconds (default TOKEN_TTL_SECONDS).
        #[arg(value_parser = clap::value_parser!(u64).range(1..=MAX_TOKEN_TTL_SECONDS))]
        ttl: Option<u64>,
    },
    /// Read a token on stdin, check it with TWILIO_API_KEY_SECRET and print its header and claims.
    VerifyToken,
    /// GET this host's /healthz (or /readyz): exit 0 on 200, else 1.
    Healthcheck {
        /// GET /readyz instead of /healthz.
        #[arg(long)]
        ready: bool,
    },
    /// Check the Twilio account read-only, one line per check.
    Doctor,
}

/// Runs `subcommand` with these settings and returns the exit code; `dotenv` is how reading `.env` went, which
/// matters to the subcommands that read the configuration.
pub async fn run(subcommand: &Subcommand, settings: &Settings, dotenv: Result<(), ConfigError>) -> i32 {
    let tool = match subcommand {
        Subcommand::Config { action: ConfigAction::Check { file } } => return crate::cli::envfile::run(file),
        Subcommand::WithConfig(tool) => tool,
    };
    let config = match dotenv.and_then(|()| settings.validate(Purpose::Offline)) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("{e}");
            return 2;
        }
    };
    match tool {
        WithConfig::MintToken { identity, ttl } => mint(&config, identity, *ttl),
        WithConfig::VerifyToken => verify(&config),
        WithConfig::Healthcheck { ready } => healthcheck(&config, *ready).await,
        WithConfig::Doctor => crate::cli::doctor::print(&config, &crate::cli::doctor::run(&config).await),
    }
}

/// GETs `/healthz` (`--ready`: `/readyz`) of this host's server: exit 0 on 200, 1 otherwise.
async fn healthcheck(config: &Config, ready: bool) -> i32 {
    let path = if ready { "/readyz" } else { "/healthz" };
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

fn mint(config: &Config, identity: &str, ttl: Option<u64>) -> i32 {
    if identity.is_empty() {
        eprintln!("usage: flexdesk-auth mint-token <identity> [ttl seconds]");
        return 2;
    }
    let ttl = ttl.unwrap_or(config.token_ttl_seconds);
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
