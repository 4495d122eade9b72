//! Two small offline subcommands, for operators and for the token-parity test against the npm helper:
//!
//! - `flexdesk-auth mint-token <identity> [ttl seconds]` prints a token minted with the configured keys;
//! - `flexdesk-auth verify-token` reads a token on stdin, checks its signature with TWILIO_API_KEY_SECRET
//!   (HS256 only, expiry checked) and prints its header and claims as JSON; exit status 1 when it does not verify.

use std::io::Read;

use jsonwebtoken::{decode, decode_header, Algorithm, DecodingKey, Validation};
use serde_json::json;

use crate::config::{Config, MAX_TOKEN_TTL_SECONDS};
use crate::token::{self, Claims, TokenKeys};
use crate::unix_now;

/// Runs a subcommand if `args` names one; returns the exit code, or `None` to start the server.
pub fn run(config: &Config, args: &[String]) -> Option<i32> {
    match args.first().map(String::as_str)? {
        "mint-token" => Some(mint(config, &args[1..])),
        "verify-token" => Some(verify(config)),
        other => {
            eprintln!("unknown subcommand {other:?}; use mint-token <identity> [ttl] or verify-token (token on stdin)");
            Some(2)
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
