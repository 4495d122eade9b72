//! AccessToken verification: Twilio's rules and error codes, the same for `/v1/realtime`, `/v3/wsconnect` and
//! media uploads (see `twilio_model::token` for each code's source).

pub use twilio_model::token::{TokenError, TokenRules, VerifiedToken};

use crate::config::Config;
use crate::util::now_secs;

/// What a token must match here: signed with the API key secret, `iss` the API key, `sub` the account, a chat grant
/// for the Flex Conversations service (the only service with realtime clients in the emulator).
pub fn rules(config: &Config) -> TokenRules {
    TokenRules {
        api_key_secret: config.api_key_secret.clone(),
        api_key_sid: config.api_key_sid.clone(),
        account_sid: config.account_sid.clone(),
        service_sid: config.service_sid.clone(),
    }
}

pub fn verify(config: &Config, token: &str) -> Result<VerifiedToken, TokenError> {
    twilio_model::token::verify(&rules(config), token, now_secs())
}
