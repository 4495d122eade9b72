//! Verified customer identity (issue 17, item 1): the host page's back end signs a JWT for a signed-in customer, the
//! page hands it to the desk (`identityToken`), the desk sends it with `POST /v1/sessions` (`identityToken`), and
//! this module verifies it. A verified customer gets a stable Twilio identity derived from the token's issuer and
//! subject, and a name and email the page cannot change. docs/auth-server.md, "Verified identity", is the reference.
//!
//! Keys (exactly one; see [`Keys`]): `IDENTITY_JWT_SECRET` (HS256), or `IDENTITY_JWKS_FILE` / `IDENTITY_JWKS_URL`
//! (RS256/384/512, PS256/384/512, ES256/384, EdDSA, by the key's type). The algorithm a token names must belong to
//! the configured key's type (and equal the key's `alg` when the JWKS gives one), so an RSA public key can never be
//! used as an HMAC secret (alg confusion), and `none` is never accepted (jsonwebtoken has no such algorithm).
//!
//! Long because of its tests (about 540 lines of code): every refusal rule has its case here.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, JwkSet, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use sha2::Sha256;

use crate::infra::secret::Secret;

/// The published demo identity secret (`scripts/dev.mjs`, tests): refused with real Twilio URLs, like the demo
/// `SESSION_SECRET`.
pub const DEMO_IDENTITY_SECRETS: &[&str] = &["dev-identity-secret-change-me-0123456789abcdef"];
/// Every identity derived from a verified subject starts with this; guests are `customer-<uuid>`.
pub const VERIFIED_IDENTITY_PREFIX: &str = "customer-v-";
/// Appended to a verified customer's name where the agent sees it (the task's `name`, the chat's friendly name).
/// A guest cannot claim it: any spelling of it in an unsigned name is removed (`crate::chat::names::strip_mark`).
pub const VERIFIED_MARK: &str = "(verified)";
/// Longest token accepted (JWTs of identity providers are a few KB at most).
pub const MAX_TOKEN_BYTES: usize = 8192;
/// Largest JWK set read from `IDENTITY_JWKS_URL` (identity providers publish a few keys: a few KB).
const MAX_JWKS_BYTES: usize = 256 * 1024;
/// Default clock skew allowed on `exp` and `nbf` (`IDENTITY_LEEWAY_SECONDS`).
pub const DEFAULT_LEEWAY_SECONDS: u64 = 60;
/// Default for `IDENTITY_MAX_TOKEN_AGE_SECONDS`: from `iat` to `exp` at most ten minutes.
pub const DEFAULT_MAX_TOKEN_AGE_SECONDS: u64 = 600;
/// A JWKS URL is fetched again at most this often when a token names a key it does not hold (key rotation).
const MIN_REFETCH: Duration = Duration::from_secs(30);

/// Where the verification keys come from.
#[derive(Clone)]
pub enum Keys {
    /// `IDENTITY_JWT_SECRET`: HS256 only.
    Secret(Secret),
    /// `IDENTITY_JWKS_FILE`: read once at start.
    Jwks(Arc<JwkSet>),
    /// `IDENTITY_JWKS_URL`: fetched, cached, refreshed.
    Remote(Arc<RemoteJwks>),
}

impl fmt::Debug for Keys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Keys::Secret(_) => f.write_str("Secret([redacted])"),
            Keys::Jwks(set) => write!(f, "Jwks({} keys)", set.keys.len()),
            Keys::Remote(r) => write!(f, "Remote({})", r.url),
        }
    }
}

/// `IDENTITY_*`: how identity tokens are verified.
#[derive(Debug, Clone)]
pub struct IdentityConfig {
    /// Where the verification keys come from.
    pub keys: Keys,
    /// `iss` must equal this when set (`IDENTITY_ISSUER`; required with a JWKS).
    pub issuer: Option<String>,
    /// `aud` must contain this (`IDENTITY_AUDIENCE`; required with every key source, issue 24 item 4: without it a
    /// token the same back end signed for another application started chats here).
    pub audience: String,
    /// Clock skew allowed on `exp` / `nbf`, seconds.
    pub leeway: u64,
    /// A token must carry `iat` and live at most this long from it (`IDENTITY_MAX_TOKEN_AGE_SECONDS`, default 600): a
    /// stolen token is worth little for long.
    pub max_token_age: u64,
    /// `IDENTITY_SINGLE_USE=true`: a token must carry a `jti` and starts one chat (the check is
    /// `chat::engagement::prepare`'s, with Redis when configured).
    pub single_use: bool,
    /// Keys the hash that turns issuer + subject into the Twilio identity (`IDENTITY_SUBJECT_KEY`, else derived from
    /// `SESSION_SECRET`).
    pub subject_key: Secret,
    /// `IDENTITY_REQUIRED=true`: a start without an identity token (a guest) is refused (401 `identity_required`).
    pub required: bool,
    /// `IDENTITY_JWT_SECRET_PREVIOUS`: during a rotation, HS256 tokens signed with the previous secret verify too.
    pub previous_secret: Option<Secret>,
}

/// A JWKS fetched from a URL: cached for `cache_for`, fetched again after that, or sooner (at most every
/// 30 s) when a token names an unknown key. One fetch at a time; a failed fetch keeps the keys it had. No lock is
/// held across a fetch: a token whose key is held is answered from it while a refresh is under way (issue 24);
/// only callers that nothing held can answer wait for the fetch.
pub struct RemoteJwks {
    /// The JWKS URL (`IDENTITY_JWKS_URL`).
    pub url: String,
    cache_for: Duration,
    http: reqwest::Client,
    /// Held only to read or write the state, never across a fetch.
    state: tokio::sync::Mutex<RemoteState>,
    /// One fetch at a time.
    fetching: tokio::sync::Mutex<()>,
    /// Held keys older than this are not used, however the refresh fails (issue 24).
    max_age: Duration,
}

/// Default for `IDENTITY_JWKS_MAX_AGE_SECONDS`: keys that could not be refreshed serve a day at most.
pub const DEFAULT_JWKS_MAX_AGE_SECONDS: u64 = 86_400;

#[derive(Default)]
struct RemoteState {
    keys: Option<Arc<JwkSet>>,
    fetched_at: Option<Instant>,
    tried_at: Option<Instant>,
    in_flight: bool,
}

impl RemoteState {
    /// The held keys, unless they were fetched more than `max_age` ago.
    fn usable(&self, max_age: Duration) -> Option<Arc<JwkSet>> {
        self.keys.clone().filter(|_| self.fetched_at.is_some_and(|at| at.elapsed() <= max_age))
    }

    /// What the held keys answer for a token naming `kid`, or `None` when a fetch is needed: a known key while fresh
    /// or while a refresh is under way; whatever is held (or `Unavailable`) when a fetch was tried within
    /// [`MIN_REFETCH`].
    fn answer(&self, kid: Option<&str>, cache_for: Duration, max_age: Duration) -> Option<Result<Arc<JwkSet>, IdentityError>> {
        let fresh = self.fetched_at.is_some_and(|at| at.elapsed() < cache_for);
        let tried_recently = self.tried_at.is_some_and(|at| at.elapsed() < MIN_REFETCH);
        match &self.usable(max_age) {
            Some(set) if kid.map_or(true, |k| set.find(k).is_some()) && (fresh || self.in_flight) => Some(Ok(set.clone())),
            Some(set) if tried_recently => Some(Ok(set.clone())),
            None if tried_recently && !self.in_flight => Some(Err(IdentityError::Unavailable)),
            _ => None,
        }
    }
}

impl RemoteJwks {
    /// Keys from `url`, kept `cache_for`; nothing is fetched before the first token needs them.
    pub fn new(url: String, cache_for: Duration) -> RemoteJwks {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("reqwest client with rustls");
        RemoteJwks {
            url,
            cache_for,
            http,
            state: Default::default(),
            fetching: Default::default(),
            max_age: Duration::from_secs(DEFAULT_JWKS_MAX_AGE_SECONDS),
        }
    }

    /// Keys that could not be refreshed are used at most `age` after they were fetched (`IDENTITY_JWKS_MAX_AGE_SECONDS`).
    pub fn max_key_age(mut self, age: Duration) -> RemoteJwks {
        self.max_age = age;
        self
    }

    /// The key set, fetched when there is none, when it is older than `cache_for`, or when `kid` is not in it (at
    /// most every [`MIN_REFETCH`]).
    async fn keys(&self, kid: Option<&str>) -> Result<Arc<JwkSet>, IdentityError> {
        if let Some(answer) = self.state.lock().await.answer(kid, self.cache_for, self.max_age) {
            return answer;
        }
        let _one_fetch = self.fetching.lock().await;
        {
            let mut st = self.state.lock().await;
            // The fetch this caller waited for may answer it.
            if let Some(answer) = st.answer(kid, self.cache_for, self.max_age) {
                return answer;
            }
            st.tried_at = Some(Instant::now());
            st.in_flight = true;
        }
        let fetched = self.fetch().await;
        let mut st = self.state.lock().await;
        st.in_flight = false;
        match fetched {
            Ok(set) => {
                let set = Arc::new(set);
                st.keys = Some(set.clone());
                st.fetched_at = Some(Instant::now());
                Ok(set)
            }
            Err(why) => {
                let held = st.usable(self.max_age);
                if held.is_some() {
                    tracing::warn!(url = %self.url, why, "IDENTITY_JWKS_URL could not be read; keeping the keys held so far");
                } else {
                    tracing::warn!(url = %self.url, why, "IDENTITY_JWKS_URL could not be read and no keys young enough are held (IDENTITY_JWKS_MAX_AGE_SECONDS)");
                }
                held.ok_or(IdentityError::Unavailable)
            }
        }
    }

    async fn fetch(&self) -> Result<JwkSet, &'static str> {
        let mut res = self.http.get(&self.url).send().await.map_err(|_| "no answer")?;
        if !res.status().is_success() {
            return Err("not a 2xx answer");
        }
        // Cut at the cap while it streams (issue 24, item 5): a declared length over it is refused unread, and an
        // undeclared or false one stops being read at the cap, so neither memory nor the wait grows with the body.
        if res.content_length().is_some_and(|n| n > MAX_JWKS_BYTES as u64) {
            return Err("larger than 256 KB");
        }
        let mut body = Vec::new();
        while let Some(chunk) = res.chunk().await.map_err(|_| "body not read")? {
            if body.len() + chunk.len() > MAX_JWKS_BYTES {
                return Err("larger than 256 KB");
            }
            body.extend_from_slice(&chunk);
        }
        serde_json::from_slice(&body).map_err(|_| "not a JWK set")
    }
}

/// A customer whose token verified.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedCustomer {
    /// The Twilio identity: [`VERIFIED_IDENTITY_PREFIX`] + 32 hex digits of HMAC-SHA256(subject key, iss NUL sub).
    pub identity: String,
    /// The `name` claim without control characters, trimmed and shortened to fit the name limit; `None` when absent
    /// or blank.
    pub name: Option<String>,
    /// The `email` claim, cleaned the same way (at most 254 characters); `None` when absent.
    pub email: Option<String>,
    /// The `customer_id` claim, else `sub`: Flex Insights' `customers.external_id`, the attribute it links a customer's
    /// conversations by first (<https://www.twilio.com/docs/flex/developer/insights/enhance-integration>, "Link common
    /// communications to a single customer"). Insights loads the first 128 characters of a value.
    pub external_id: String,
    /// The `jti` claim, when the token has one (used with `IDENTITY_SINGLE_USE`).
    pub jti: Option<String>,
}

/// Why a token was refused. The reasons are fixed phrases: they name what failed, never a key or a claim's value.
#[derive(Debug, Clone, PartialEq)]
pub enum IdentityError {
    /// The token does not verify (401 `identity_invalid`); the phrase says what failed.
    Invalid(&'static str),
    /// A token was sent but this server verifies none.
    NotConfigured,
    /// The JWKS URL could not be read and no keys are held.
    Unavailable,
    /// No token, and `IDENTITY_REQUIRED=true`: guests are refused.
    Required,
}

#[derive(serde::Deserialize)]
struct Claims {
    sub: Option<String>,
    iss: Option<String>,
    name: Option<String>,
    email: Option<String>,
    customer_id: Option<serde_json::Value>,
    iat: Option<u64>,
    // (Present: `exp` is a required claim, checked before.)
    exp: Option<u64>,
    jti: Option<String>,
}

impl IdentityConfig {
    /// Verifies `token` and returns the customer it names.
    pub async fn verify(&self, token: &str) -> Result<VerifiedCustomer, IdentityError> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(IdentityError::Invalid("the token is too long"));
        }
        // `alg: none` and unknown algorithms fail here: jsonwebtoken's Algorithm has no `none`.
        let header = jsonwebtoken::decode_header(token).map_err(|_| IdentityError::Invalid("the token is not a well-formed JWT"))?;
        let key = match &self.keys {
            Keys::Secret(secret) => {
                if header.alg != Algorithm::HS256 {
                    return Err(IdentityError::Invalid("its algorithm is not the one configured for this server"));
                }
                DecodingKey::from_secret(secret.expose().as_bytes())
            }
            Keys::Jwks(set) => jwk_key(set, header.kid.as_deref(), header.alg)?,
            Keys::Remote(remote) => jwk_key(&*remote.keys(header.kid.as_deref()).await?, header.kid.as_deref(), header.alg)?,
        };
        let mut validation = Validation::new(header.alg);
        validation.algorithms = vec![header.alg];
        validation.leeway = self.leeway;
        validation.validate_nbf = true;
        let mut required = vec!["exp", "sub"];
        match &self.issuer {
            Some(iss) => {
                validation.set_issuer(&[iss]);
                required.push("iss");
            }
            None => validation.iss = None,
        }
        validation.set_audience(&[&self.audience]);
        required.push("aud");
        validation.set_required_spec_claims(&required);
        let decoded = match (jsonwebtoken::decode::<Claims>(token, &key, &validation), &self.keys, &self.previous_secret) {
            // Rotation: a signature that the current secret does not verify may be the previous secret's.
            (Err(e), Keys::Secret(_), Some(previous)) if *e.kind() == jsonwebtoken::errors::ErrorKind::InvalidSignature => {
                jsonwebtoken::decode::<Claims>(token, &DecodingKey::from_secret(previous.expose().as_bytes()), &validation)
            }
            (result, _, _) => result,
        };
        let claims = decoded.map_err(|e| IdentityError::Invalid(reason(e.kind())))?.claims;
        // Lifetime from `iat` (issue 24, item 4): a token signed to live a day is refused, not trusted for a day.
        let Some(iat) = claims.iat else { return Err(IdentityError::Invalid("it has no issue time (iat)")) };
        if iat > crate::infra::clock::unix_now() + self.leeway {
            return Err(IdentityError::Invalid("its issue time (iat) is in the future"));
        }
        if claims.exp.unwrap_or(u64::MAX).saturating_sub(iat) > self.max_token_age {
            return Err(IdentityError::Invalid("it lives longer than IDENTITY_MAX_TOKEN_AGE_SECONDS"));
        }
        let jti = claims.jti.filter(|j| !j.is_empty() && j.len() <= 256);
        if self.single_use && jti.is_none() {
            return Err(IdentityError::Invalid("it has no token id (jti), and each token starts one chat here"));
        }
        let sub = claims.sub.filter(|s| !s.trim().is_empty() && s.len() <= 255 && !s.chars().any(char::is_control));
        let Some(sub) = sub else { return Err(IdentityError::Invalid("it names no subject (sub)")) };
        let iss = claims.iss.unwrap_or_default();
        let external_id = match claims.customer_id {
            Some(serde_json::Value::String(s)) => clean(&s, 255),
            Some(serde_json::Value::Number(n)) => Some(n.to_string()),
            _ => None,
        }
        .unwrap_or_else(|| sub.clone());
        Ok(VerifiedCustomer {
            identity: derive_identity(self.subject_key.expose().as_bytes(), &iss, &sub),
            name: claims.name.as_deref().and_then(|n| clean(n, flexdesk_core::wire::MAX_CUSTOMER_NAME_CHARS - VERIFIED_MARK.len() - 1)),
            email: claims.email.as_deref().and_then(|e| clean(e, 254)),
            external_id,
            jti,
        })
    }
}

/// The key a JWKS holds for `kid` (or its only key when the token names none), if `alg` is one that key's type
/// signs with and, when the key states its `alg`, that one.
fn jwk_key(set: &JwkSet, kid: Option<&str>, alg: Algorithm) -> Result<DecodingKey, IdentityError> {
    let jwk: &Jwk = match kid {
        Some(kid) => set.find(kid),
        None if set.keys.len() == 1 => set.keys.first(),
        None => None,
    }
    .ok_or(IdentityError::Invalid("it names no key of the configured key set (kid)"))?;
    if matches!(&jwk.common.public_key_use, Some(u) if *u != PublicKeyUse::Signature) {
        return Err(IdentityError::Invalid("its key is not a signing key"));
    }
    let allowed = allowed_algorithms(jwk);
    let stated = jwk.common.key_algorithm.map(|a| serde_json::to_value(a).ok());
    let matches_stated = match stated {
        None => true,
        Some(stated) => stated == serde_json::to_value(alg).ok(),
    };
    if !allowed.contains(&alg) || !matches_stated {
        return Err(IdentityError::Invalid("its algorithm is not the one configured for this server"));
    }
    DecodingKey::from_jwk(jwk).map_err(|_| IdentityError::Invalid("its key cannot be used"))
}

/// The signature algorithms of a public key's type. A symmetric (`oct`) key in a JWKS signs nothing here: a key
/// set is public, and an HMAC key in it would be a published secret.
pub fn allowed_algorithms(jwk: &Jwk) -> &'static [Algorithm] {
    use Algorithm::*;
    match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => &[RS256, RS384, RS512, PS256, PS384, PS512],
        AlgorithmParameters::EllipticCurve(p) if p.curve == EllipticCurve::P256 => &[ES256],
        AlgorithmParameters::EllipticCurve(p) if p.curve == EllipticCurve::P384 => &[ES384],
        AlgorithmParameters::OctetKeyPair(p) if p.curve == EllipticCurve::Ed25519 => &[EdDSA],
        _ => &[],
    }
}

fn reason(kind: &jsonwebtoken::errors::ErrorKind) -> &'static str {
    use jsonwebtoken::errors::ErrorKind::*;
    match kind {
        ExpiredSignature => "it has expired",
        ImmatureSignature => "it is not valid yet (nbf)",
        InvalidIssuer => "its issuer (iss) is not the configured one",
        InvalidAudience => "its audience (aud) is not this server",
        InvalidSignature => "its signature does not verify",
        InvalidAlgorithm => "its algorithm is not the one configured for this server",
        MissingRequiredClaim(c) if c == "exp" => "it has no expiry (exp)",
        MissingRequiredClaim(c) if c == "sub" => "it names no subject (sub)",
        MissingRequiredClaim(c) if c == "iss" => "it names no issuer (iss)",
        MissingRequiredClaim(c) if c == "aud" => "it names no audience (aud)",
        _ => "the token is not a well-formed JWT",
    }
}

/// Trimmed, control characters removed, at most `max` characters; `None` when nothing is left.
fn clean(s: &str, max: usize) -> Option<String> {
    let s: String = s.chars().filter(|c| !c.is_control()).collect();
    let s: String = s.trim().chars().take(max).collect();
    let s = s.trim().to_string();
    (!s.is_empty()).then_some(s)
}

/// `customer-v-` + the first 16 bytes of HMAC-SHA256(key, iss NUL sub), in hex: the same customer of the same
/// issuer gets the same identity at every chat; nobody without the key can tell whose identity it is, or make
/// one for a subject. 43 characters of `[a-z0-9-]`, well within Twilio's identity limits.
pub fn derive_identity(key: &[u8], iss: &str, sub: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(iss.as_bytes());
    mac.update(&[0]);
    mac.update(sub.as_bytes());
    let digest = mac.finalize().into_bytes();
    let mut id = String::from(VERIFIED_IDENTITY_PREFIX);
    for b in &digest[..16] {
        id.push_str(&format!("{b:02x}"));
    }
    id
}

/// True for an identity [`derive_identity`] makes.
pub fn is_verified_identity(identity: &str) -> bool {
    identity.strip_prefix(VERIFIED_IDENTITY_PREFIX).is_some_and(|h| h.len() == 32 && h.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
}

/// The identity key when `IDENTITY_SUBJECT_KEY` is not set: HMAC-SHA256(SESSION_SECRET, a fixed label), so it is
/// secret, stable while `SESSION_SECRET` is, and not the session key itself.
pub fn subject_key_from_session_secret(session_secret: &str) -> Secret {
    let mut mac = Hmac::<Sha256>::new_from_slice(session_secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(b"flexdesk identity subject key v1");
    let digest = mac.finalize().into_bytes();
    Secret::new(digest.iter().map(|b| format!("{b:02x}")).collect::<String>())
}

/// `identityToken` of a start request: `None` without one; the verified customer; or the refusal.
pub async fn check(config: Option<&IdentityConfig>, token: Option<&str>) -> Result<Option<VerifiedCustomer>, IdentityError> {
    let Some(token) = token else {
        if config.is_some_and(|c| c.required) {
            tracing::info!("a start without an identity token, and IDENTITY_REQUIRED=true; start refused");
            return Err(IdentityError::Required);
        }
        return Ok(None);
    };
    let Some(config) = config else {
        tracing::info!("an identity token was sent but no IDENTITY_* verification is configured; start refused");
        return Err(IdentityError::NotConfigured);
    };
    match config.verify(token.trim()).await {
        Ok(v) => Ok(Some(v)),
        Err(e) => {
            tracing::info!(reason = ?e, "identity token refused; no chat started");
            Err(e)
        }
    }
}

/// The `IDENTITY_*` settings, as clap reads them (flattened into [`crate::infra::config::Settings`]; see
/// [`from_settings`]).
#[derive(clap::Args, Debug, Clone, Default)]
pub struct IdentitySettings {
    /// HS256 secret that verifies the page's identity tokens (at least 32 characters).
    #[arg(long, env)]
    pub identity_jwt_secret: Option<String>,
    /// The identity secret before the last rotation: tokens signed with it still verify.
    #[arg(long, env)]
    pub identity_jwt_secret_previous: Option<String>,
    /// A JWK set file of the identity provider's public keys.
    #[arg(long, env)]
    pub identity_jwks_file: Option<String>,
    /// The identity provider's JWK set URL (https).
    #[arg(long, env)]
    pub identity_jwks_url: Option<String>,
    /// The `iss` identity tokens must carry.
    #[arg(long, env)]
    pub identity_issuer: Option<String>,
    /// The `aud` identity tokens must carry (required with every key source).
    #[arg(long, env)]
    pub identity_audience: Option<String>,
    /// Clock skew allowed on `exp`/`nbf`, seconds (default 60, 0 to 300).
    #[arg(long, env)]
    pub identity_leeway_seconds: Option<String>,
    /// Longest life of a token from its `iat` to its `exp`, seconds (default 600, 10 to 86400).
    #[arg(long, env)]
    pub identity_max_token_age_seconds: Option<String>,
    /// `true`: a token must carry a `jti` and starts one chat.
    #[arg(long, env)]
    pub identity_single_use: Option<String>,
    /// How long fetched JWKS keys are reused, seconds (default 300).
    #[arg(long, env)]
    pub identity_jwks_cache_seconds: Option<String>,
    /// How long keys are kept while the JWKS URL fails, seconds.
    #[arg(long, env)]
    pub identity_jwks_max_age_seconds: Option<String>,
    /// `true`: a start without an identity token is refused (no guests).
    #[arg(long, env)]
    pub identity_required: Option<String>,
    /// Key of the verified customers' Twilio identities (default: derived from SESSION_SECRET).
    #[arg(long, env)]
    pub identity_subject_key: Option<String>,
}

/// Reads the `IDENTITY_*` settings (trimmed, empty = unset); every problem is returned as (key, what is wrong), never
/// with a secret or the file's content.
pub fn from_settings(
    settings: &IdentitySettings,
    session_secret: Option<&Secret>,
) -> Result<Option<IdentityConfig>, Vec<(&'static str, String)>> {
    let s = settings;
    let text = |value: &Option<String>| value.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(String::from);
    let mut problems = Vec::new();
    let secret = text(&s.identity_jwt_secret);
    let file = text(&s.identity_jwks_file);
    let url = text(&s.identity_jwks_url);
    let issuer = text(&s.identity_issuer);
    let audience = text(&s.identity_audience);
    let number = |key: &'static str, value: &Option<String>, default: u64, min: u64, max: u64, problems: &mut Vec<(&'static str, String)>| match text(value) {
        None => default,
        Some(v) => crate::infra::setting::whole_number(&v, min, max).unwrap_or_else(|why| {
            problems.push((key, why));
            default
        }),
    };
    let leeway = number("IDENTITY_LEEWAY_SECONDS", &s.identity_leeway_seconds, DEFAULT_LEEWAY_SECONDS, 0, 300, &mut problems);
    let max_token_age = number("IDENTITY_MAX_TOKEN_AGE_SECONDS", &s.identity_max_token_age_seconds, DEFAULT_MAX_TOKEN_AGE_SECONDS, 10, 86_400, &mut problems);
    let cache_for = number("IDENTITY_JWKS_CACHE_SECONDS", &s.identity_jwks_cache_seconds, 300, 10, 86_400, &mut problems);
    let max_age = number("IDENTITY_JWKS_MAX_AGE_SECONDS", &s.identity_jwks_max_age_seconds, DEFAULT_JWKS_MAX_AGE_SECONDS.max(cache_for), cache_for, 30 * 86_400, &mut problems);
    let flag = |key: &'static str, value: &Option<String>, problems: &mut Vec<(&'static str, String)>| match text(value).map(|v| v.to_ascii_lowercase()) {
        None => false,
        Some(v) if ["true", "1", "yes", "on"].contains(&v.as_str()) => true,
        Some(v) if ["false", "0", "no", "off"].contains(&v.as_str()) => false,
        Some(v) => {
            problems.push((key, format!("must be true or false, got {v:?}")));
            false
        }
    };
    let required = flag("IDENTITY_REQUIRED", &s.identity_required, &mut problems);
    let single_use = flag("IDENTITY_SINGLE_USE", &s.identity_single_use, &mut problems);
    let set = [secret.is_some(), file.is_some(), url.is_some()].iter().filter(|b| **b).count();
    if set == 0 {
        if required {
            problems.push(("IDENTITY_REQUIRED", "needs IDENTITY_JWT_SECRET, IDENTITY_JWKS_FILE or IDENTITY_JWKS_URL".into()));
        }
        if text(&s.identity_jwt_secret_previous).is_some() {
            problems.push(("IDENTITY_JWT_SECRET_PREVIOUS", "is only used with IDENTITY_JWT_SECRET".into()));
        }
        for (key, value) in [("IDENTITY_ISSUER", &issuer), ("IDENTITY_AUDIENCE", &audience), ("IDENTITY_SUBJECT_KEY", &text(&s.identity_subject_key))] {
            if value.is_some() {
                problems.push((key, "needs IDENTITY_JWT_SECRET, IDENTITY_JWKS_FILE or IDENTITY_JWKS_URL".into()));
            }
        }
        return if problems.is_empty() { Ok(None) } else { Err(problems) };
    }
    if set > 1 {
        problems.push(("IDENTITY_JWT_SECRET", "set only one of IDENTITY_JWT_SECRET, IDENTITY_JWKS_FILE and IDENTITY_JWKS_URL".into()));
    }
    let previous_secret = match text(&s.identity_jwt_secret_previous) {
        Some(_) if secret.is_none() => {
            problems.push(("IDENTITY_JWT_SECRET_PREVIOUS", "is only used with IDENTITY_JWT_SECRET".into()));
            None
        }
        Some(p) if p.len() < 32 => {
            problems.push(("IDENTITY_JWT_SECRET_PREVIOUS", "must be at least 32 characters".into()));
            None
        }
        other => other.map(Secret::new),
    };
    let keys = if let Some(secret) = secret {
        if secret.len() < 32 {
            problems.push(("IDENTITY_JWT_SECRET", "must be at least 32 characters (random; e.g. `openssl rand -hex 32`)".into()));
        }
        Some(Keys::Secret(Secret::new(secret)))
    } else if let Some(path) = file {
        match std::fs::read(&path).ok().and_then(|b| serde_json::from_slice::<JwkSet>(&b).ok()) {
            Some(set) if !set.keys.is_empty() && set.keys.iter().all(|k| !allowed_algorithms(k).is_empty()) => Some(Keys::Jwks(Arc::new(set))),
            Some(_) => {
                problems.push(("IDENTITY_JWKS_FILE", "must hold public signing keys only (RSA, EC P-256/P-384, Ed25519), at least one".into()));
                None
            }
            None => {
                problems.push(("IDENTITY_JWKS_FILE", format!("{path:?} cannot be read as a JWK set ({{\"keys\": [...]}})")));
                None
            }
        }
    } else {
        let url = url.unwrap_or_default();
        let ok = crate::infra::url::is_secure_url(&url);
        if !ok {
            problems.push(("IDENTITY_JWKS_URL", format!("must be an https URL of a JWK set (http only to a loopback address), got {url:?}")));
        }
        Some(Keys::Remote(Arc::new(RemoteJwks::new(url, Duration::from_secs(cache_for)).max_key_age(Duration::from_secs(max_age)))))
    };
    // A signer's keys (an identity provider's, or a back end's secret) sign tokens for every application it serves:
    // the audience makes one of them ours, whatever the key source (issue 24, item 4); with a provider, the issuer too.
    if audience.is_none() {
        problems.push(("IDENTITY_AUDIENCE", "is required: the aud your site or identity provider puts in tokens for this chat (e.g. flexdesk)".into()));
    }
    if matches!(keys, Some(Keys::Jwks(_) | Keys::Remote(_))) && issuer.is_none() {
        problems.push(("IDENTITY_ISSUER", "is required with IDENTITY_JWKS_FILE / IDENTITY_JWKS_URL (your identity provider's iss)".into()));
    }
    let subject_key = match text(&s.identity_subject_key) {
        Some(k) if k.len() < 32 => {
            problems.push(("IDENTITY_SUBJECT_KEY", "must be at least 32 characters".into()));
            None
        }
        Some(k) => Some(Secret::new(k)),
        None => session_secret.map(|s| subject_key_from_session_secret(s.expose())),
    };
    match (keys, subject_key, audience) {
        (Some(keys), Some(subject_key), Some(audience)) if problems.is_empty() => Ok(Some(IdentityConfig {
            keys,
            issuer,
            audience,
            leeway,
            max_token_age,
            single_use,
            subject_key,
            required,
            previous_secret,
        })),
        _ => Err(problems),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{EncodingKey, Header};
    use serde_json::{json, Value};

    const SECRET: &str = "identity-secret-for-tests-0123456789abcdef";
    const RSA_PRIVATE: &str = include_str!("../../tests/fixtures/identity-rsa-private.pem");
    const RSA_PUBLIC: &str = include_str!("../../tests/fixtures/identity-rsa-public.pem");
    const JWKS: &str = include_str!("../../tests/fixtures/identity-jwks.json");
    const KID: &str = "flexdesk-test-rsa-1";

    fn now() -> u64 {
        crate::infra::clock::unix_now()
    }

    fn hs_config() -> IdentityConfig {
        IdentityConfig {
            keys: Keys::Secret(Secret::new(SECRET)),
            issuer: Some("https://shop.example.com".into()),
            audience: "flexdesk".into(),
            leeway: DEFAULT_LEEWAY_SECONDS,
            max_token_age: DEFAULT_MAX_TOKEN_AGE_SECONDS,
            single_use: false,
            subject_key: Secret::new("subject-key-0123456789abcdef-0123456789"),
            required: false,
            previous_secret: None,
        }
    }

    fn rs_config() -> IdentityConfig {
        IdentityConfig { keys: Keys::Jwks(Arc::new(serde_json::from_str(JWKS).unwrap())), ..hs_config() }
    }

    fn claims() -> Value {
        json!({"iss": "https://shop.example.com", "aud": "flexdesk", "sub": "user-42", "iat": now(), "exp": now() + 300,
               "name": "Ada Lovelace", "email": "ada@example.com"})
    }

    fn hs(claims: &Value) -> String {
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &EncodingKey::from_secret(SECRET.as_bytes())).unwrap()
    }

    fn rs(claims: &Value) -> String {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(KID.into());
        jsonwebtoken::encode(&header, claims, &EncodingKey::from_rsa_pem(RSA_PRIVATE.as_bytes()).unwrap()).unwrap()
    }

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(f)
    }

    #[test]
    fn a_valid_hs256_token_names_a_stable_verified_customer() {
        let c = hs_config();
        let v = block_on(c.verify(&hs(&claims()))).unwrap();
        assert_eq!((v.name.as_deref(), v.email.as_deref(), v.external_id.as_str()), (Some("Ada Lovelace"), Some("ada@example.com"), "user-42"));
        assert!(is_verified_identity(&v.identity), "{}", v.identity);
        // The same subject at another chat: the same identity; another subject or issuer: another one.
        let again = block_on(c.verify(&hs(&json!({"iat": now(), "exp": now() + 60, "sub": "user-42", "iss": "https://shop.example.com", "aud": "flexdesk"})))).unwrap();
        assert_eq!(again.identity, v.identity);
        assert_eq!(again.name, None);
        let other = block_on(c.verify(&hs(&{ let mut x = claims(); x["sub"] = json!("user-43"); x }))).unwrap();
        assert_ne!(other.identity, v.identity);
        assert_ne!(derive_identity(b"k", "https://a", "user-42"), derive_identity(b"k", "https://b", "user-42"));
        // Keyed: another server key gives another identity, and the subject does not show in it.
        assert_ne!(derive_identity(b"k1", "i", "s"), derive_identity(b"k2", "i", "s"));
        assert!(!v.identity.contains("42"));
        // A customer id claim is the external id.
        let mut with_id = claims();
        with_id["customer_id"] = json!(1234);
        assert_eq!(block_on(c.verify(&hs(&with_id))).unwrap().external_id, "1234");
    }

    #[test]
    fn a_valid_rs256_token_verifies_against_the_jwks_file() {
        let v = block_on(rs_config().verify(&rs(&claims()))).unwrap();
        assert_eq!(v.name.as_deref(), Some("Ada Lovelace"));
        // The same subject and issuer as with HS256 and the same subject key: the same customer.
        assert_eq!(v.identity, block_on(hs_config().verify(&hs(&claims()))).unwrap().identity);
        // A kid the set does not hold.
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some("rotated-away".into());
        let t = jsonwebtoken::encode(&header, &claims(), &EncodingKey::from_rsa_pem(RSA_PRIVATE.as_bytes()).unwrap()).unwrap();
        assert_eq!(block_on(rs_config().verify(&t)), Err(IdentityError::Invalid("it names no key of the configured key set (kid)")));
    }

    #[test]
    fn expired_wrong_audience_wrong_issuer_and_forged_tokens_are_refused() {
        let c = hs_config();
        let with = |k: &str, v: Value| {
            let mut x = claims();
            x[k] = v;
            x
        };
        let cases = [
            (hs(&with("exp", json!(now() - 3600))), "it has expired"),
            (hs(&with("aud", json!("another-app"))), "its audience (aud) is not this server"),
            (hs(&with("iss", json!("https://evil.example.com"))), "its issuer (iss) is not the configured one"),
            (hs(&with("nbf", json!(now() + 3600))), "it is not valid yet (nbf)"),
            (
                jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims(), &EncodingKey::from_secret(b"another-secret-0123456789abcdef-0123")).unwrap(),
                "its signature does not verify",
            ),
            ("not.a.jwt".into(), "the token is not a well-formed JWT"),
        ];
        for (token, why) in cases {
            assert_eq!(block_on(c.verify(&token)), Err(IdentityError::Invalid(why)), "{why}");
        }
        // A token signed for the RSA key does not pass an HS256 configuration either.
        assert!(block_on(c.verify(&rs(&claims()))).is_err());
        // `alg: none` (unsigned): not a JWT this server reads.
        let b64 = |v: Value| base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, v.to_string());
        let none = format!("{}.{}.", b64(json!({"alg": "none", "typ": "JWT"})), b64(claims()));
        assert_eq!(block_on(c.verify(&none)), Err(IdentityError::Invalid("the token is not a well-formed JWT")));
    }

    /// Alg confusion: with an RSA key set, a token saying HS256 and "signed" with the public key as an HMAC secret
    /// is refused, whatever bytes of the public key were used.
    #[test]
    fn an_rs256_key_set_refuses_an_hs256_token_made_with_the_public_key() {
        let c = rs_config();
        let set: JwkSet = serde_json::from_str(JWKS).unwrap();
        let n = match &set.keys[0].algorithm {
            AlgorithmParameters::RSA(p) => p.n.clone(),
            _ => unreachable!(),
        };
        for public in [RSA_PUBLIC.as_bytes(), n.as_bytes(), JWKS.as_bytes()] {
            for kid in [Some(KID.to_string()), None] {
                let mut header = Header::new(Algorithm::HS256);
                header.kid = kid;
                let forged = jsonwebtoken::encode(&header, &claims(), &EncodingKey::from_secret(public)).unwrap();
                assert_eq!(block_on(c.verify(&forged)), Err(IdentityError::Invalid("its algorithm is not the one configured for this server")));
            }
        }
        // And an HS256 configuration refuses RS256 tokens (no algorithm but HS256 there).
        let t = rs(&claims());
        assert_eq!(block_on(hs_config().verify(&t)), Err(IdentityError::Invalid("its algorithm is not the one configured for this server")));
    }

    #[test]
    fn a_token_without_subject_expiry_issuer_or_audience_is_refused() {
        let c = hs_config();
        for (missing, why) in [
            ("sub", "it names no subject (sub)"),
            ("exp", "it has no expiry (exp)"),
            ("iss", "it names no issuer (iss)"),
            ("aud", "it names no audience (aud)"),
        ] {
            let mut x = claims();
            x.as_object_mut().unwrap().remove(missing);
            assert_eq!(block_on(c.verify(&hs(&x))), Err(IdentityError::Invalid(why)), "{missing}");
        }
        let mut blank = claims();
        blank["sub"] = json!("  ");
        assert_eq!(block_on(c.verify(&hs(&blank))), Err(IdentityError::Invalid("it names no subject (sub)")));
        // Without IDENTITY_ISSUER configured, no issuer is needed (HS256 only); an audience always is.
        let open = IdentityConfig { issuer: None, ..hs_config() };
        let mut x = claims();
        x.as_object_mut().unwrap().remove("iss");
        assert!(block_on(open.verify(&hs(&x))).is_ok());
    }

    /// Issue 24, item 4: a stolen identity token is worth little, for little time. Failed before: a back end's
    /// HS256 secret without IDENTITY_AUDIENCE was accepted (so a token it signed for another application started
    /// chats here), and tokens without `iat`, or signed to live a day, were trusted until `exp`.
    #[test]
    fn a_token_names_this_audience_and_lives_at_most_the_maximum_age_from_its_issue() {
        let session = Secret::new("session-secret-0123456789abcdef-0123456789");
        let settings = IdentitySettings { identity_jwt_secret: Some(SECRET.into()), ..IdentitySettings::default() };
        let e = from_settings(&settings, Some(&session)).unwrap_err();
        assert!(e.iter().any(|(k, _)| *k == "IDENTITY_AUDIENCE"), "an HS256 secret without an audience: {e:?}");

        let c = hs_config();
        assert_eq!(c.max_token_age, 600, "ten minutes by default");
        let mut no_iat = claims();
        no_iat.as_object_mut().unwrap().remove("iat");
        assert_eq!(block_on(c.verify(&hs(&no_iat))), Err(IdentityError::Invalid("it has no issue time (iat)")));
        let mut day = claims();
        day["exp"] = json!(now() + 86_400);
        assert_eq!(block_on(c.verify(&hs(&day))), Err(IdentityError::Invalid("it lives longer than IDENTITY_MAX_TOKEN_AGE_SECONDS")));
        let mut old = claims();
        (old["iat"], old["exp"]) = (json!(now() - 3600), json!(now() + 300));
        assert!(block_on(c.verify(&hs(&old))).is_err(), "issued an hour ago, still unexpired");
        let mut future = claims();
        (future["iat"], future["exp"]) = (json!(now() + 3600), json!(now() + 3900));
        assert_eq!(block_on(c.verify(&hs(&future))), Err(IdentityError::Invalid("its issue time (iat) is in the future")));
        let mut ten = claims();
        ten["exp"] = json!(now() + 600);
        assert!(block_on(c.verify(&hs(&ten))).is_ok(), "exactly the maximum");
        // IDENTITY_SINGLE_USE: a token without a jti is refused (which jti was used is the start's check).
        let once = IdentityConfig { single_use: true, ..hs_config() };
        assert_eq!(block_on(once.verify(&hs(&claims()))), Err(IdentityError::Invalid("it has no token id (jti), and each token starts one chat here")));
        let mut with_jti = claims();
        with_jti["jti"] = json!("t-1");
        assert_eq!(block_on(once.verify(&hs(&with_jti))).unwrap().jti.as_deref(), Some("t-1"));
    }

    #[test]
    fn clock_skew_is_bounded_by_the_leeway() {
        let c = hs_config();
        let at = |exp: u64| {
            let mut x = claims();
            x["exp"] = json!(exp);
            hs(&x)
        };
        assert!(block_on(c.verify(&at(now() - 30))).is_ok(), "30 s late is within the default 60 s");
        assert!(block_on(c.verify(&at(now() - 90))).is_err(), "90 s late is not");
        let strict = IdentityConfig { leeway: 0, ..hs_config() };
        assert!(block_on(strict.verify(&at(now() - 5))).is_err());
        let loose = IdentityConfig { leeway: 120, ..hs_config() };
        assert!(block_on(loose.verify(&at(now() - 90))).is_ok());
    }

    #[test]
    fn settings_are_checked_and_never_echo_secrets() {
        let session = Secret::new("session-secret-0123456789abcdef-0123456789");
        // (With a key source and no audience named, IDENTITY_AUDIENCE=flexdesk: it is always required.)
        let read = |pairs: &[(&str, &str)]| {
            let mut map: std::collections::HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
            if map.keys().any(|k| k.starts_with("IDENTITY_JWT_SECRET") || k.starts_with("IDENTITY_JWKS_")) && !map.contains_key("IDENTITY_AUDIENCE") {
                map.insert("IDENTITY_AUDIENCE".into(), "flexdesk".into());
            }
            let settings: IdentitySettings = crate::infra::setting::from_lookup(|k| map.get(k).cloned()).unwrap();
            from_settings(&settings, Some(&session))
        };
        assert!(read(&[]).unwrap().is_none(), "off by default");
        let c = read(&[("IDENTITY_JWT_SECRET", SECRET)]).unwrap().unwrap();
        assert_eq!((c.leeway, c.issuer.as_deref()), (60, None));
        assert!(!format!("{c:?}").contains(SECRET));
        let e = read(&[("IDENTITY_JWT_SECRET", "short-hunter2")]).unwrap_err();
        assert!(e.iter().any(|(k, _)| *k == "IDENTITY_JWT_SECRET") && !format!("{e:?}").contains("hunter2"));
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/identity-jwks.json");
        let e = read(&[("IDENTITY_JWKS_FILE", path)]).unwrap_err();
        assert!(e.iter().any(|(k, _)| *k == "IDENTITY_ISSUER"), "{e:?}");
        assert!(read(&[("IDENTITY_JWKS_FILE", path), ("IDENTITY_AUDIENCE", "a"), ("IDENTITY_ISSUER", "i")]).unwrap().is_some());
        assert!(read(&[("IDENTITY_JWKS_FILE", "/nonexistent.json"), ("IDENTITY_AUDIENCE", "a"), ("IDENTITY_ISSUER", "i")]).is_err());
        assert!(read(&[("IDENTITY_JWT_SECRET", SECRET), ("IDENTITY_JWKS_URL", "https://idp.example.com/jwks")]).is_err(), "one source");
        assert!(read(&[("IDENTITY_JWT_SECRET", SECRET), ("IDENTITY_LEEWAY_SECONDS", "3600")]).is_err(), "bounded skew");
        assert!(read(&[("IDENTITY_AUDIENCE", "a")]).is_err(), "an audience with nothing to verify");
        // IDENTITY_REQUIRED (issue 25): off by default, needs a key source, refuses guests only.
        assert!(!c.required);
        let e = read(&[("IDENTITY_REQUIRED", "true")]).unwrap_err();
        assert!(e.iter().any(|(k, _)| *k == "IDENTITY_REQUIRED"), "guests refused with nothing to verify: {e:?}");
        assert!(read(&[("IDENTITY_JWT_SECRET", SECRET), ("IDENTITY_REQUIRED", "maybe")]).is_err());
        let required = read(&[("IDENTITY_JWT_SECRET", SECRET), ("IDENTITY_REQUIRED", "true")]).unwrap().unwrap();
        assert!(required.required);
        assert_eq!(block_on(check(Some(&required), None)).unwrap_err(), IdentityError::Required);
        assert!(block_on(check(Some(&c), None)).unwrap().is_none(), "guests start when not required");
        // IDENTITY_JWT_SECRET_PREVIOUS (issue 25): only with a secret, as long as one.
        assert!(read(&[("IDENTITY_JWT_SECRET_PREVIOUS", SECRET)]).is_err(), "a previous secret with no current one");
        assert!(read(&[("IDENTITY_JWT_SECRET", SECRET), ("IDENTITY_JWT_SECRET_PREVIOUS", "short")]).is_err());
        let rotating = read(&[("IDENTITY_JWT_SECRET", SECRET), ("IDENTITY_JWT_SECRET_PREVIOUS", "old-identity-secret-0123456789abcdef-xyz")]);
        assert!(rotating.unwrap().unwrap().previous_secret.is_some());
    }

    #[test]
    fn during_a_rotation_tokens_signed_with_either_secret_verify_and_name_the_same_customer() {
        const OLD: &str = "old-identity-secret-0123456789abcdef-xyz";
        let old_token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims(), &EncodingKey::from_secret(OLD.as_bytes())).unwrap();
        assert_eq!(block_on(hs_config().verify(&old_token)).unwrap_err(), IdentityError::Invalid("its signature does not verify"));
        let rotating = IdentityConfig { previous_secret: Some(Secret::new(OLD)), ..hs_config() };
        let by_old = block_on(rotating.verify(&old_token)).expect("the previous secret verifies");
        let by_new = block_on(rotating.verify(&hs(&claims()))).expect("the current secret verifies");
        assert_eq!(by_old.identity, by_new.identity, "the Twilio identity does not depend on which secret signed");
        // A third secret still fails, and the previous one does not relax the other checks (expiry here).
        let other = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims(), &EncodingKey::from_secret(b"some-other-secret-0123456789abcdef-000")).unwrap();
        assert!(block_on(rotating.verify(&other)).is_err());
        let mut expired = claims();
        expired["exp"] = json!(now() - 3600);
        let old_expired = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &expired, &EncodingKey::from_secret(OLD.as_bytes())).unwrap();
        assert_eq!(block_on(rotating.verify(&old_expired)).unwrap_err(), IdentityError::Invalid("it has expired"));
    }

    /// Issue 24, item 5: the JWKS body is cut at its cap while it streams, not read whole first. A key-set URL that
    /// never stops sending held a start until the 5 s client timeout, with the body growing in memory meanwhile.
    #[tokio::test]
    async fn an_endless_key_set_is_cut_at_its_cap_not_read_to_the_timeout() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/jwks", listener.local_addr().unwrap());
        tokio::spawn(async move {
            while let Ok((mut sock, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let mut request = [0u8; 1024];
                    let _ = sock.read(&mut request).await;
                    let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n";
                    if sock.write_all(head.as_bytes()).await.is_err() {
                        return;
                    }
                    let chunk = format!("4000\r\n{}\r\n", " ".repeat(0x4000));
                    // 16 KB a millisecond for at most 10 s (bounded), or until the client hangs up.
                    for _ in 0..10_000 {
                        if sock.write_all(chunk.as_bytes()).await.is_err() {
                            return;
                        }
                        tokio::time::sleep(Duration::from_millis(1)).await;
                    }
                });
            }
        });
        let remote = RemoteJwks::new(url, Duration::from_secs(300));
        let started = Instant::now();
        assert_eq!(remote.keys(None).await.err(), Some(IdentityError::Unavailable));
        let took = started.elapsed();
        assert!(took < Duration::from_secs(2), "refused after {took:?}");
    }

    /// Issue 24, item 5: a slow key-set fetch (a token naming a key not held yet) does not hold up the starts whose
    /// tokens name a key already held: no lock is held across the fetch.
    #[tokio::test]
    async fn a_slow_key_refresh_does_not_stall_tokens_whose_key_is_held() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/jwks", listener.local_addr().unwrap());
        let served = Arc::new(AtomicUsize::new(0));
        let count = served.clone();
        tokio::spawn(async move {
            while let Ok((mut sock, _)) = listener.accept().await {
                let n = count.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(async move {
                    let mut request = [0u8; 1024];
                    let _ = sock.read(&mut request).await;
                    if n > 0 {
                        // Every fetch after the first one is slow.
                        tokio::time::sleep(Duration::from_millis(2500)).await;
                    }
                    let head = format!("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n", JWKS.len());
                    let _ = sock.write_all(head.as_bytes()).await;
                    let _ = sock.write_all(JWKS.as_bytes()).await;
                });
            }
        });
        let remote = Arc::new(RemoteJwks::new(url, Duration::from_secs(10)));
        assert!(remote.keys(Some("flexdesk-test-rsa-1")).await.is_ok(), "first fetch");
        // The keys are now old and the last try long ago: the next token with an unknown key fetches again (slowly).
        {
            let mut st = remote.state.lock().await;
            let long_ago = Instant::now().checked_sub(Duration::from_secs(120)).unwrap();
            st.fetched_at = Some(long_ago);
            st.tried_at = Some(long_ago);
        }
        let slow = remote.clone();
        let refetch = tokio::spawn(async move { slow.keys(Some("a-rotated-key")).await });
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(served.load(Ordering::SeqCst), 2, "the refresh is under way");
        let started = Instant::now();
        let held = remote.keys(Some("flexdesk-test-rsa-1")).await;
        let took = started.elapsed();
        assert!(held.is_ok_and(|set| set.find("flexdesk-test-rsa-1").is_some()));
        assert!(took < Duration::from_millis(1000), "a token whose key is held waited {took:?} for another token's key fetch");
        assert!(refetch.await.unwrap().is_ok(), "the refresh itself completes");
    }

    /// Issue 24, item 5: keys that could not be refreshed are used only up to a maximum age, not for good: a key the
    /// identity provider revoked (leaked) stops being accepted once the age is over, even while its URL is down.
    #[tokio::test]
    async fn keys_that_cannot_be_refreshed_expire_after_the_maximum_age() {
        // Nothing listens here: every fetch fails.
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let remote = RemoteJwks::new(format!("http://127.0.0.1:{port}/jwks"), Duration::from_secs(10)).max_key_age(Duration::from_secs(3600));
        let set: Arc<JwkSet> = Arc::new(serde_json::from_str(JWKS).unwrap());
        let at = |secs: u64| Instant::now().checked_sub(Duration::from_secs(secs)).unwrap();
        // Fetched 20 minutes ago, refresh failing: still used (within the maximum age).
        *remote.state.lock().await = RemoteState { keys: Some(set.clone()), fetched_at: Some(at(1200)), tried_at: Some(at(60)), in_flight: false };
        assert!(remote.keys(Some("flexdesk-test-rsa-1")).await.is_ok(), "within the maximum age");
        // Fetched two hours ago, refresh failing: no longer used.
        *remote.state.lock().await = RemoteState { keys: Some(set.clone()), fetched_at: Some(at(7200)), tried_at: Some(at(60)), in_flight: false };
        assert_eq!(remote.keys(Some("flexdesk-test-rsa-1")).await.err(), Some(IdentityError::Unavailable), "fetch failed, keys too old");
        assert_eq!(remote.keys(Some("flexdesk-test-rsa-1")).await.err(), Some(IdentityError::Unavailable), "and not after the failed try either");
    }
}
