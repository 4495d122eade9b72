//! What the agent sees about the customer before the first message: the pre-engagement data and routing
//! attributes built from `POST /v1/sessions`. Pure functions, so the shape is unit-tested without Twilio.
//!
//! The keys follow Twilio's Webchat conventions (`friendlyName`, `question` — what Studio flows read as
//! `trigger.conversation.ChannelAttributes.pre_engagement_data.question`), plus the bot hand-off
//! (`message_to_human_agent`, topic, skill, language) and the bot transcript so the agent has the context.
//!
//! Long because of its tests (about 400 lines of code): each bypass of issues 17–25 is a case here.

use flexdesk_core::wire::{CreateSessionRequest, TranscriptLine, MAX_CUSTOMER_NAME_CHARS};
use serde_json::{json, Map, Value};

use crate::chat::names;
use crate::chat::single_use::{Claim, UsedTokens};
use crate::infra::identity::{VerifiedCustomer, VERIFIED_MARK};

/// Budget for the pre-engagement JSON. Twilio caps conversation attributes at 16 KB and the
/// routing attributes wrap this object, so leave headroom.
pub const MAX_PRE_ENGAGEMENT_BYTES: usize = 12 * 1024;
/// `topic`, `skill` and `language` are routing keys, short by nature.
pub const MAX_ROUTING_VALUE_CHARS: usize = 200;
/// Longest `verificationToken`, in characters (the OpenAPI document's `maxLength`), whether or not `VERIFY_URL` is
/// set: over it, 422 (issue 24, item 4; Turnstile's tokens are ~2 KB).
pub const MAX_VERIFICATION_TOKEN_CHARS: usize = 4096;
/// Longest `identityToken`, in characters (the OpenAPI document's `maxLength`), whether or not `IDENTITY_*` is set:
/// over it, 422.
pub const MAX_IDENTITY_TOKEN_CHARS: usize = crate::infra::identity::MAX_TOKEN_BYTES;

/// Why the request cannot be turned into a chat (answered as 422).
#[derive(Debug, Clone, PartialEq)]
pub struct EngagementError(pub String);

/// The customer name, trimmed; refused when empty or too long.
/// Length and characters are checked on the name as sent (before trimming), as /openapi.json states them,
/// so every name the spec calls valid is accepted and every other one refused.
pub fn customer_name(req: &CreateSessionRequest) -> Result<String, EngagementError> {
    let raw = &req.customer_name;
    let name = raw.trim();
    if name.is_empty() {
        return Err(EngagementError("customerName must not be empty".into()));
    }
    if raw.chars().count() > MAX_CUSTOMER_NAME_CHARS {
        return Err(EngagementError(format!("customerName must be at most {MAX_CUSTOMER_NAME_CHARS} characters")));
    }
    if raw.chars().any(char::is_control) {
        return Err(EngagementError("customerName must not contain control characters".into()));
    }
    Ok(name.to_string())
}

/// What a start request becomes before Twilio is called: the name the agent sees, the pre-engagement data and the
/// customer's Twilio identity (issue 17: a verified identity token decides the name and the identity).
pub struct Prepared<'a> {
    /// The name the agent sees (from the verified token, else the typed name).
    pub name: String,
    /// The `PreEngagementData` object ([`pre_engagement_data`]).
    pub pre_engagement: Map<String, Value>,
    /// The customer's Conversations identity.
    pub identity: String,
    /// The signed hand-off's `jti`, taken for this start: keep it once the chat started (else it is given back).
    pub handoff_claim: Option<Claim<'a>>,
    /// With `IDENTITY_SINGLE_USE`, the identity token's `jti`, taken the same way.
    pub identity_claim: Option<Claim<'a>>,
    /// The form's keys not passed on ([`dropped_form_keys`]), told to the page so its developer sees them.
    pub dropped_keys: Vec<String>,
}

/// Verifies the identity token (if any: a refusal is 401/400 before anything else happens), then builds the name,
/// pre-engagement data and identity. A guest's identity is a fresh `customer-<uuid>`.
pub async fn prepare<'a>(
    config: &crate::infra::config::Config,
    used: &'a UsedTokens,
    req: &CreateSessionRequest,
) -> Result<Prepared<'a>, crate::chat::error::AppError> {
    let invalid = |e: EngagementError| crate::chat::error::AppError::new(axum::http::StatusCode::UNPROCESSABLE_ENTITY, crate::chat::error::ErrorCode::InvalidBody, e.0);
    check_token_lengths(req).map_err(invalid)?;
    let verified = crate::infra::identity::check(config.identity.as_ref(), req.identity_token.as_deref()).await?;
    // IDENTITY_SINGLE_USE: the token starts one chat (issue 24, item 4); `verify` refused one without a jti.
    let identity_claim = match verified.as_ref().and_then(|v| v.jti.as_deref()) {
        Some(jti) if config.identity.as_ref().is_some_and(|c| c.single_use) => match used.identities.claim(jti).await {
            Some(claim) => Some(claim),
            None => {
                tracing::info!("identity token already used by another start (IDENTITY_SINGLE_USE); start refused");
                return Err(crate::infra::identity::IdentityError::Invalid("it was already used to start a chat").into());
            }
        },
        _ => None,
    };
    let typed = customer_name(req).map_err(invalid)?;
    let name = match &verified {
        Some(v) => verified_name(v),
        None => guest_name(&typed).map_err(invalid)?,
    };
    let mut policy = Policy {
        pre_engagement_keys: &config.pre_engagement_keys,
        handoff_secret: config.handoff_secret.as_ref().map(|s| s.expose().as_bytes()),
        handoff_secret_previous: config.handoff_secret_previous.as_ref().map(|s| s.expose().as_bytes()),
        now: crate::infra::clock::unix_now(),
        verified: verified.as_ref(),
        handoff_replayed: false,
    };
    // A signed hand-off counts once (its `jti`): a replay starts a chat, but as an unsigned one (issue 24, item 9).
    let mut handoff_claim = None;
    if let Some(claims) = req.handoff.as_ref().and_then(|h| decode_handoff(h.handoff_token.as_deref()?, &policy).ok()) {
        handoff_claim = used.handoffs.claim(&claims.jti).await;
        policy.handoff_replayed = handoff_claim.is_none();
    }
    let pre_engagement = pre_engagement_data(req, &name, &policy).map_err(invalid)?;
    let dropped_keys = dropped_form_keys(req, &policy);
    let identity = match verified {
        Some(v) => v.identity,
        None => format!("customer-{}", uuid::Uuid::new_v4()),
    };
    Ok(Prepared { name, pre_engagement, identity, handoff_claim, identity_claim, dropped_keys })
}

/// The tokens' lengths as /openapi.json states them (`maxLength`, in characters), checked before anything else and
/// whatever is configured: the document is the contract integrators generate clients from (issue 24, item 4: a
/// `verificationToken` over it was accepted by a server without `VERIFY_URL`).
fn check_token_lengths(req: &CreateSessionRequest) -> Result<(), EngagementError> {
    for (field, value, max) in [
        ("verificationToken", &req.verification_token, MAX_VERIFICATION_TOKEN_CHARS),
        ("identityToken", &req.identity_token, MAX_IDENTITY_TOKEN_CHARS),
    ] {
        if value.as_ref().is_some_and(|v| v.chars().count() > max) {
            return Err(EngagementError(format!("{field} must be at most {max} characters")));
        }
    }
    Ok(())
}

/// The name the agent sees for a verified customer: the token's `name` (without any spelling of the mark: the host's
/// users may choose their display names), else its `email`, else "Verified customer", normalised
/// ([`crate::chat::names`]) and marked `(verified)` by us, once.
pub fn verified_name(v: &VerifiedCustomer) -> String {
    let claimed = v.name.as_deref().map(names::strip_mark).filter(|n| !n.is_empty());
    let base = claimed.or_else(|| v.email.as_deref().map(names::normalise).filter(|e| !e.is_empty()));
    let base = base.unwrap_or_else(|| "Verified customer".into());
    let base: String = base.chars().take(MAX_CUSTOMER_NAME_CHARS - VERIFIED_MARK.len() - 1).collect();
    format!("{base} {VERIFIED_MARK}")
}

/// A guest's name cannot claim to be verified (issue 24, item 2): normalised as the agent will read it (NFKC, no
/// format, bidi or ignorable characters), then without the word "verified" in any case or look-alike spelling
/// and the brackets around it ([`names::strip_mark`]); at most [`MAX_CUSTOMER_NAME_CHARS`] characters. Nothing left
/// is refused.
pub fn guest_name(name: &str) -> Result<String, EngagementError> {
    let name: String = names::strip_mark(name).chars().take(MAX_CUSTOMER_NAME_CHARS).collect();
    let name = name.trim_end().to_string();
    if name.is_empty() {
        return Err(EngagementError("customerName must not be empty".into()));
    }
    Ok(name)
}

/// Keys that workflows and Studio flows route on. Taken only from a hand-off signed by the bot's back end.
pub const ROUTING_KEYS: [&str; 3] = ["topic", "skill", "language"];
/// The audience a signed hand-off must name, so no other HS256 token made with the same secret passes as one.
pub const HANDOFF_AUDIENCE: &str = "flexdesk-handoff";
/// A signed hand-off may live at most this long (issue 24, item 9: it was an hour). It is used once (its `jti`), and
/// the customer may still read the bot's answer and fill in a form before the chat starts.
pub const MAX_HANDOFF_TOKEN_SECONDS: u64 = 600;

/// What the server trusts in a start request.
pub struct Policy<'a> {
    /// Pre-engagement form keys passed on; every other key is dropped.
    pub pre_engagement_keys: &'a [String],
    /// Verifies `handoff.handoff_token`; `None` = nothing is signed, so no routing key is trusted.
    pub handoff_secret: Option<&'a [u8]>,
    /// `HANDOFF_SECRET_PREVIOUS`: during a rotation, a hand-off signed with it verifies too.
    pub handoff_secret_previous: Option<&'a [u8]>,
    /// Now, Unix seconds (checks the hand-off token's `exp`).
    pub now: u64,
    /// The customer an identity token named (issue 17): their name and email win over the form's, and the
    /// `customers` object (Flex Insights) and `customer_verified` are added. `None`: a guest.
    pub verified: Option<&'a VerifiedCustomer>,
    /// The signed hand-off's `jti` was used by an earlier start: it is ignored like one that does not verify.
    pub handoff_replayed: bool,
}

/// The claims of a signed hand-off (JWT HS256, `aud` = [`HANDOFF_AUDIENCE`], `exp` at most
/// [`MAX_HANDOFF_TOKEN_SECONDS`] ahead and `jti` required).
#[derive(Debug, Default, serde::Deserialize)]
struct HandoffClaims {
    topic: Option<String>,
    skill: Option<String>,
    language: Option<String>,
    transcript: Option<Vec<TranscriptLine>>,
    exp: u64,
    /// The token's id: it routes one chat ([`SingleUse`]).
    jti: String,
}

/// The signed hand-off's claims, or `None` (logged) when there is none, it does not verify or was used before.
fn signed_claims(token: Option<&str>, policy: &Policy) -> Option<HandoffClaims> {
    let token = token?;
    if policy.handoff_replayed {
        tracing::warn!("signed hand-off already used by another start (its jti); its routing keys are ignored");
        return None;
    }
    match decode_handoff(token, policy) {
        Ok(claims) => Some(claims),
        Err(why) => {
            tracing::warn!(reason = %why, "signed hand-off refused; its routing keys are ignored");
            None
        }
    }
}

/// Verifies a hand-off token: signature, audience, `exp` (with [`MAX_HANDOFF_TOKEN_SECONDS`] at most) and `jti`.
fn decode_handoff(token: &str, policy: &Policy) -> Result<HandoffClaims, String> {
    let Some(secret) = policy.handoff_secret else {
        return Err("HANDOFF_SECRET is not set".into());
    };
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
    validation.set_audience(&[HANDOFF_AUDIENCE]);
    validation.set_required_spec_claims(&["exp", "aud"]);
    validation.leeway = 5;
    let decode = |key: &[u8]| jsonwebtoken::decode::<HandoffClaims>(token, &jsonwebtoken::DecodingKey::from_secret(key), &validation);
    let decoded = match (decode(secret), policy.handoff_secret_previous) {
        (Err(e), Some(previous)) if *e.kind() == jsonwebtoken::errors::ErrorKind::InvalidSignature => decode(previous),
        (result, _) => result,
    };
    match decoded {
        Ok(data) if data.claims.exp > policy.now + MAX_HANDOFF_TOKEN_SECONDS => Err(format!("it lives longer than {MAX_HANDOFF_TOKEN_SECONDS} s")),
        Ok(data) if data.claims.jti.is_empty() || data.claims.jti.len() > 256 => Err("its jti is empty or longer than 256 bytes".into()),
        Ok(data) => Ok(data.claims),
        Err(e) => Err(e.to_string()),
    }
}

fn check_transcript(lines: &[TranscriptLine]) -> Result<(), EngagementError> {
    match lines.iter().find(|l| l.from != "user" && l.from != "bot") {
        Some(_) => Err(EngagementError("handoff.transcript[].from must be \"user\" or \"bot\"".into())),
        None => Ok(()),
    }
}

/// The server's own keys of `PreEngagementData`: never taken from the form, even when listed.
const RESERVED: [&str; 7] = ["routing_verified", "transcript_source", "transcript", "transcript_truncated", "customers", "customer_verified", "customer_supplied"];

/// A form field the server passes on: listed in `PRE_ENGAGEMENT_KEYS` and not one of the server's own keys.
fn passed_on(key: &str, policy: &Policy) -> bool {
    policy.pre_engagement_keys.iter().any(|a| a == key) && !RESERVED.contains(&key)
}

/// The form's keys that are not passed on, the first 10, each cut to 40 characters: logged, and answered to the page
/// (`droppedPreEngagementKeys`) so its developer sees them in the console (issue 25), names only, never values.
pub fn dropped_form_keys(req: &CreateSessionRequest, policy: &Policy) -> Vec<String> {
    match &req.pre_engagement {
        Some(Value::Object(fields)) => fields.keys().filter(|k| !passed_on(k, policy)).take(10).map(|k| k.chars().take(40).collect()).collect(),
        _ => Vec::new(),
    }
}

/// The `PreEngagementData` object.
///
/// - Form fields: only the keys in `PRE_ENGAGEMENT_KEYS` (others are dropped and logged by name count).
/// - Routing keys (`topic`, `skill`, `language`): only from the signed hand-off; unsigned ones are dropped and
///   logged. `routing_verified` lists the keys that were signed; only those become top-level task attributes.
/// - The transcript: the signed one if the hand-off carries one (`transcript_source: "bot-signed"`), else the
///   customer's, labelled `transcript_source: "customer-supplied"`. Lines are `from` user or bot only.
/// - Size caps apply to the merged result: routing values at most 200 characters, the whole object under 12 KB.
///   When the transcript makes it too large, the oldest lines are dropped and `transcript_truncated` says so.
pub fn pre_engagement_data(req: &CreateSessionRequest, name: &str, policy: &Policy) -> Result<Map<String, Value>, EngagementError> {
    let mut data = Map::new();
    // Keys whose values the customer's page wrote, unsigned: named for the agent in `customer_supplied`.
    let mut supplied: Vec<String> = Vec::new();
    // The client's form fields first, so the server's own keys below win on a clash.
    match &req.pre_engagement {
        Some(Value::Object(fields)) => {
            for (k, v) in fields {
                if passed_on(k, policy) {
                    // A form field passed on is a string, a number or a boolean (issue 24, item 9): nothing a plugin
                    // or Studio flow would walk into, nothing padded out through nesting. (Dropped keys may be anything.)
                    if !(v.is_string() || v.is_number() || v.is_boolean()) {
                        let k: String = k.chars().take(40).collect();
                        return Err(EngagementError(format!("preEngagement.{k} must be a string, a number or a boolean")));
                    }
                    data.insert(k.clone(), v.clone());
                    supplied.push(k.clone());
                }
            }
            let dropped = dropped_form_keys(req, policy);
            if !dropped.is_empty() {
                tracing::info!(keys = ?dropped, "pre-engagement keys not in PRE_ENGAGEMENT_KEYS dropped");
            }
        }
        Some(Value::Null) | None => {}
        Some(_) => tracing::info!("a pre-engagement value that is not an object was dropped"),
    }
    data.insert("friendlyName".into(), json!(name));
    // The form's own `name` is shown to the agent too: the guest rule applies to it, for guests and for a verified
    // token without a `name` claim (one with a claim replaces it below). Only the token earns the mark.
    if let Some(Value::String(form_name)) = data.get("name") {
        match names::strip_mark(form_name) {
            shown if shown.is_empty() => data.remove("name"),
            shown => data.insert("name".into(), json!(shown)),
        };
    }
    if let Some(v) = policy.verified {
        // Verified claims override what the (unsigned) page says.
        // `customers.{external_id,name,email}` are Flex Insights' own task-attribute names: Twilio's "Add additional
        // TaskRouter data" page (https://www.twilio.com/docs/flex/developer/insights/enhance-integration), section
        // "Enhance customer data", shows `"customers" : { "name" : …, "email" : …, "external_id": …, "phone" : … }`,
        // and "Link common communications to a single customer" links conversations by "Customer attribute
        // `customers.external_id`" first (then `customers.phone`, `customers.email`, `from`/`to`); it must be set
        // "before the first segment is completed" (we set it when the task is created). The page also says "Attribute
        // values can have a maximum of 128 characters" (longer ones are cut), and its HIPAA page removes customer phone,
        // email and external ID for HIPAA accounts. `customer_verified` is ours, not Twilio's: Insights ignores it
        // ("Unknown task attributes are silently ignored").
        let mut customers = Map::new();
        customers.insert("external_id".into(), json!(v.external_id));
        if let Some(n) = v.name.as_deref().map(names::strip_mark).filter(|n| !n.is_empty()) {
            data.insert("name".into(), json!(n));
            customers.insert("name".into(), json!(n));
        }
        if let Some(e) = &v.email {
            data.insert("email".into(), json!(e));
            customers.insert("email".into(), json!(e));
        }
        data.insert("customers".into(), Value::Object(customers));
        data.insert("customer_verified".into(), json!(true));
    }
    let mut transcript: &[TranscriptLine] = &[];
    let signed_transcript;
    if let Some(h) = &req.handoff {
        if let Some(m) = &h.message_to_human_agent {
            data.insert("question".into(), json!(m));
            data.insert("message_to_human_agent".into(), json!(m));
            supplied.extend(["question".to_string(), "message_to_human_agent".to_string()]);
        }
        check_transcript(&h.transcript)?;
        let claims = signed_claims(h.handoff_token.as_deref(), policy);
        let unsigned: Vec<&str> = [("topic", &h.topic), ("skill", &h.skill), ("language", &h.language)]
            .into_iter()
            .filter(|(_, v)| v.is_some())
            .map(|(k, _)| k)
            .collect();
        if !unsigned.is_empty() {
            tracing::warn!(keys = ?unsigned, "unsigned routing keys in the hand-off dropped (only a hand-off signed with HANDOFF_SECRET routes)");
        }
        transcript = &h.transcript;
        data.insert("transcript_source".into(), json!("customer-supplied"));
        if let Some(claims) = claims {
            let mut verified = Vec::new();
            for (key, value) in [("topic", claims.topic), ("skill", claims.skill), ("language", claims.language)] {
                if let Some(v) = value {
                    data.insert(key.into(), json!(v));
                    verified.push(key);
                }
            }
            if !verified.is_empty() {
                data.insert("routing_verified".into(), json!(verified));
            }
            if let Some(lines) = claims.transcript {
                check_transcript(&lines)?;
                signed_transcript = lines;
                transcript = &signed_transcript;
                data.insert("transcript_source".into(), json!("bot-signed"));
            }
        }
    }
    // Caps on the merged result: whatever the source, a routing value is short.
    for key in ROUTING_KEYS {
        if let Some(v) = data.get(key) {
            let len = v.as_str().map(|s| s.chars().count()).unwrap_or(usize::MAX);
            if len > MAX_ROUTING_VALUE_CHARS {
                return Err(EngagementError(format!("{key} must be a string of at most {MAX_ROUTING_VALUE_CHARS} characters")));
            }
        }
    }
    if transcript.is_empty() {
        data.remove("transcript_source");
    }
    // What the page wrote and nobody signed, for the agent (a plugin, a Studio flow) to tell from what the bot's back
    // end or the identity token vouched for (issue 24, item 9); verified claims replace the form's.
    // (`friendlyName` is always the server's: the checked name.)
    supplied.retain(|k| k != "friendlyName" && !(policy.verified.is_some() && matches!(k.as_str(), "name" | "email")) && data.contains_key(k));
    supplied.sort();
    supplied.dedup();
    if !supplied.is_empty() {
        data.insert("customer_supplied".into(), json!(supplied));
    }
    let base_len = serde_json::to_vec(&data).map(|v| v.len()).unwrap_or(usize::MAX);
    if base_len > MAX_PRE_ENGAGEMENT_BYTES {
        return Err(EngagementError(format!(
            "preEngagement and handoff together must stay under {MAX_PRE_ENGAGEMENT_BYTES} bytes of JSON"
        )));
    }
    // Keep the longest suffix of the transcript that fits.
    let mut kept = transcript.len();
    // Room for the transcript key and the truncation flag, whether or not it ends up needed.
    let mut used = base_len + r#","transcript":[],"transcript_truncated":true"#.len();
    for line in transcript.iter().rev() {
        let size = serde_json::to_vec(line).map(|v| v.len() + 1).unwrap_or(usize::MAX);
        if used + size > MAX_PRE_ENGAGEMENT_BYTES {
            break;
        }
        used += size;
        kept -= 1;
    }
    if !transcript.is_empty() {
        data.insert("transcript".into(), json!(&transcript[kept..]));
        if kept > 0 {
            data.insert("transcript_truncated".into(), json!(true));
        }
    }
    Ok(data)
}

/// TaskRouter task attributes for the Interactions API: what Flex shows on the task and what workflows
/// filter on. Only the routing keys the bot's back end signed (`routing_verified`) go to the top level.
///
/// `from` is the customer's identity, not the display name: Flex Insights links a conversation to a customer by
/// `customers.external_id`, then phone, email, then `from` ("Link common communications to a single customer",
/// <https://www.twilio.com/docs/flex/developer/insights/enhance-integration>), so a display name there would make
/// every guest called "Ada" one customer. A guest's identity is unique per chat; a verified one is stable.
pub fn routing_attributes(pre_engagement: &Map<String, Value>, name: &str, identity: &str, conversation_sid: &str) -> Value {
    let mut attrs = json!({
        "name": name,
        "from": identity,
        "customerName": name,
        "channelType": "web",
        "conversationSid": conversation_sid,
        "pre_engagement_data": pre_engagement,
    });
    // Flex Insights reads the customer from the task's `customers` object; only a verified customer has one.
    if let (Some(c), Some(true)) = (pre_engagement.get("customers"), pre_engagement.get("customer_verified").and_then(Value::as_bool)) {
        attrs["customers"] = c.clone();
        attrs["customer_verified"] = json!(true);
    }
    let verified = pre_engagement.get("routing_verified").and_then(Value::as_array);
    for key in ROUTING_KEYS {
        let signed = verified.is_some_and(|v| v.iter().any(|k| k == key));
        if let (true, Some(v)) = (signed, pre_engagement.get(key)) {
            attrs[key] = v.clone();
        }
    }
    attrs
}

#[cfg(test)]
mod tests {
    use super::*;
    use flexdesk_core::wire::Handoff;

    #[allow(non_snake_case)]
    fn NOW() -> u64 {
        crate::infra::clock::unix_now()
    }

    const SECRET: &[u8] = b"handoff-secret-0123456789abcdef-0123456789";

    fn keys(list: &[&str]) -> Vec<String> {
        list.iter().map(|k| k.to_string()).collect()
    }

    fn policy(allowed: &[String]) -> Policy<'_> {
        Policy { pre_engagement_keys: allowed, handoff_secret: Some(SECRET), handoff_secret_previous: None, now: NOW(), verified: None, handoff_replayed: false }
    }

    /// A hand-off token with these claims (a fresh `jti` added unless they name one).
    fn sign(mut claims: Value, secret: &[u8]) -> String {
        if claims.get("jti").is_none() {
            claims["jti"] = json!(uuid::Uuid::new_v4().to_string());
        }
        jsonwebtoken::encode(&jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256), &claims, &jsonwebtoken::EncodingKey::from_secret(secret))
            .unwrap()
    }

    /// Issue 25: HANDOFF_SECRET_PREVIOUS. During a rotation a hand-off signed with either secret routes; a third
    /// secret still does not.
    #[test]
    fn during_a_rotation_a_handoff_signed_with_either_secret_routes() {
        const OLD: &[u8] = b"old-handoff-secret-0123456789abcdef-0123";
        let allowed = keys(&[]);
        let claims = json!({"aud": HANDOFF_AUDIENCE, "exp": NOW() + 300, "skill": "refunds"});
        let routed = |token: String, policy: &Policy| {
            let mut req = request();
            let h = req.handoff.as_mut().unwrap();
            (h.topic, h.skill, h.language) = (None, None, None);
            h.handoff_token = Some(token);
            pre_engagement_data(&req, "Ada", policy).unwrap().get("skill").cloned()
        };
        let rotating = Policy { handoff_secret_previous: Some(OLD), ..policy(&allowed) };
        assert_eq!(routed(sign(claims.clone(), OLD), &policy(&allowed)), None, "without the previous secret: dropped");
        assert_eq!(routed(sign(claims.clone(), OLD), &rotating), Some(json!("refunds")), "signed with the previous secret");
        assert_eq!(routed(sign(claims.clone(), SECRET), &rotating), Some(json!("refunds")), "signed with the current one");
        assert_eq!(routed(sign(claims, b"a-third-secret-0123456789abcdef-0123456"), &rotating), None);
    }

    fn request() -> CreateSessionRequest {
        CreateSessionRequest {
            customer_name: "  Ada  ".into(),
            pre_engagement: Some(json!({"email": "ada@example.com", "friendlyName": "spoofed", "vip": true})),
            handoff: Some(Handoff {
                message_to_human_agent: Some("I need a refund".into()),
                topic: Some("billing".into()),
                skill: Some("refunds".into()),
                language: Some("en".into()),
                transcript: vec![
                    TranscriptLine { from: "user".into(), text: "hi".into() },
                    TranscriptLine { from: "bot".into(), text: "hello".into() },
                ],
                handoff_token: None,
            }),
            verification_token: None,
            identity_token: None,
        }
    }

    #[test]
    fn a_signed_handoff_routes_and_form_fields_reach_the_agent() {
        let allowed = keys(&["email", "friendlyName"]);
        let mut req = request();
        let h = req.handoff.as_mut().unwrap();
        h.topic = None;
        h.handoff_token = Some(sign(json!({"aud": HANDOFF_AUDIENCE, "exp": NOW() + 300, "topic": "billing", "skill": "refunds", "language": "en"}), SECRET));
        let name = customer_name(&req).unwrap();
        assert_eq!(name, "Ada");
        let data = pre_engagement_data(&req, &name, &policy(&allowed)).unwrap();
        assert_eq!(
            Value::Object(data.clone()),
            json!({
                "email": "ada@example.com", "friendlyName": "Ada", "question": "I need a refund",
                "customer_supplied": ["email", "message_to_human_agent", "question"],
                "message_to_human_agent": "I need a refund", "topic": "billing", "skill": "refunds", "language": "en",
                "routing_verified": ["topic", "skill", "language"], "transcript_source": "customer-supplied",
                "transcript": [{"from": "user", "text": "hi"}, {"from": "bot", "text": "hello"}]
            })
        );
        let attrs = routing_attributes(&data, &name, "customer-1", "CH1");
        assert_eq!(attrs["skill"], "refunds");
        assert_eq!(attrs["pre_engagement_data"]["transcript"][1]["text"], "hello");
    }

    /// Issue 14, item 3: the customer wrote what workflows route on.
    #[test]
    fn unsigned_or_badly_signed_routing_keys_are_dropped_and_unlisted_form_keys_too() {
        let allowed = keys(&["email"]);
        for token in [
            None,
            Some(sign(json!({"aud": HANDOFF_AUDIENCE, "exp": NOW() + 300, "skill": "vip"}), b"another-secret-0123456789abcdef-0123456789")),
            Some(sign(json!({"aud": "someone-else", "exp": NOW() + 300, "skill": "vip"}), SECRET)),
            Some(sign(json!({"aud": HANDOFF_AUDIENCE, "exp": NOW() - 3600, "skill": "vip"}), SECRET)),
            Some(sign(json!({"aud": HANDOFF_AUDIENCE, "exp": NOW() + 30 * 86400, "skill": "vip"}), SECRET)),
            Some("not.a.jwt".to_string()),
        ] {
            let mut req = request();
            req.pre_engagement = Some(json!({"email": "a@b.c", "skill": "vip", "routing_verified": ["skill"], "x": 1}));
            req.handoff.as_mut().unwrap().handoff_token = token.clone();
            let p = policy(&allowed);
            let data = pre_engagement_data(&req, "Ada", &p).unwrap();
            for key in ["topic", "skill", "language", "routing_verified", "x"] {
                assert!(!data.contains_key(key), "{key} kept with token {token:?}: {data:?}");
            }
            assert_eq!(data["email"], "a@b.c");
            assert_eq!(data["transcript_source"], "customer-supplied");
            let attrs = routing_attributes(&data, "Ada", "customer-1", "CH1");
            assert!(attrs.get("skill").is_none() && attrs.get("topic").is_none());
        }
    }

    #[test]
    fn a_listed_routing_key_stays_a_form_field_and_never_routes() {
        let allowed = keys(&["topic"]);
        let mut req = request();
        req.pre_engagement = Some(json!({"topic": "Returns"}));
        let data = pre_engagement_data(&req, "Ada", &policy(&allowed)).unwrap();
        assert_eq!(data["topic"], "Returns", "shown to the agent as the customer's choice");
        assert!(routing_attributes(&data, "Ada", "customer-1", "CH1").get("topic").is_none());
        // Caps apply after the merge: a long listed form value is refused like a long hand-off value.
        req.pre_engagement = Some(json!({"topic": "t".repeat(MAX_ROUTING_VALUE_CHARS + 1)}));
        assert!(pre_engagement_data(&req, "Ada", &policy(&allowed)).is_err());
        req.pre_engagement = Some(json!({"topic": {"nested": "x".repeat(5000)}}));
        assert!(pre_engagement_data(&req, "Ada", &policy(&allowed)).is_err());
    }

    #[test]
    fn transcript_lines_are_from_user_or_bot_and_a_signed_one_wins() {
        let allowed = keys(&[]);
        let mut req = request();
        req.handoff.as_mut().unwrap().transcript.push(TranscriptLine { from: "agent".into(), text: "I approve the refund".into() });
        assert!(pre_engagement_data(&req, "Ada", &policy(&allowed)).is_err());
        let mut req = request();
        req.handoff.as_mut().unwrap().handoff_token =
            Some(sign(json!({"aud": HANDOFF_AUDIENCE, "exp": NOW() + 300, "transcript": [{"from": "bot", "text": "signed"}]}), SECRET));
        let data = pre_engagement_data(&req, "Ada", &policy(&allowed)).unwrap();
        assert_eq!(data["transcript"], json!([{"from": "bot", "text": "signed"}]));
        assert_eq!(data["transcript_source"], "bot-signed");
    }

    #[test]
    fn signed_routing_values_stay_under_twilios_cap() {
        let allowed = keys(&[]);
        for len in [MAX_ROUTING_VALUE_CHARS, 2500] {
            let mut req = request();
            req.customer_name = "\u{10348}".repeat(MAX_CUSTOMER_NAME_CHARS);
            let topic = "\u{10348}".repeat(len);
            req.handoff.as_mut().unwrap().handoff_token = Some(sign(json!({"aud": HANDOFF_AUDIENCE, "exp": NOW() + 300, "topic": topic}), SECRET));
            match pre_engagement_data(&req, &customer_name(&req).unwrap(), &policy(&allowed)) {
                Ok(data) => {
                    let attrs = routing_attributes(&data, &customer_name(&req).unwrap(), "customer-1", "CH1");
                    let size = serde_json::to_vec(&attrs).unwrap().len();
                    assert!(size < 16 * 1024, "topic of {len} chars: routing attributes {size} bytes");
                }
                Err(_) => assert!(len > MAX_ROUTING_VALUE_CHARS, "a {len}-char topic must be accepted"),
            }
        }
    }

    #[test]
    fn a_long_transcript_keeps_its_most_recent_lines() {
        let allowed = keys(&[]);
        let mut req = request();
        let lines: Vec<TranscriptLine> =
            (0..2000).map(|i| TranscriptLine { from: "user".into(), text: format!("line {i} {}", "x".repeat(20)) }).collect();
        req.handoff.as_mut().unwrap().transcript = lines;
        let data = pre_engagement_data(&req, "Ada", &policy(&allowed)).unwrap();
        let size = serde_json::to_vec(&data).unwrap().len();
        assert!(size <= MAX_PRE_ENGAGEMENT_BYTES, "{size}");
        let kept = data["transcript"].as_array().unwrap();
        assert!(kept.len() > 100 && kept.len() < 2000);
        assert!(kept.last().unwrap()["text"].as_str().unwrap().starts_with("line 1999 "));
        assert_eq!(data["transcript_truncated"], true);
    }

    /// Issue 17, item 1: verified claims win over the form, and only a verified customer has `customers`.
    #[test]
    fn a_verified_customer_overrides_the_form_and_fills_flex_insights_customers() {
        let allowed = keys(&["name", "email", "customers", "customer_verified"]);
        let v = VerifiedCustomer {
            identity: "customer-v-0123456789abcdef0123456789abcdef".into(),
            name: Some("Ada Lovelace".into()),
            email: Some("ada@example.com".into()),
            external_id: "user-42".into(),
            jti: None,
        };
        let mut req = request();
        req.pre_engagement = Some(json!({"name": "Mallory", "email": "mallory@example.com"}));
        let name = verified_name(&v);
        assert_eq!(name, "Ada Lovelace (verified)");
        let p = Policy { verified: Some(&v), ..policy(&allowed) };
        let data = pre_engagement_data(&req, &name, &p).unwrap();
        assert_eq!((data["name"].as_str(), data["email"].as_str()), (Some("Ada Lovelace"), Some("ada@example.com")));
        assert_eq!(data["customers"], json!({"external_id": "user-42", "name": "Ada Lovelace", "email": "ada@example.com"}));
        let attrs = routing_attributes(&data, &name, "customer-1", "CH1");
        assert_eq!(attrs["customers"]["email"], "ada@example.com");
        assert_eq!((attrs["name"].as_str(), attrs["customer_verified"].as_bool()), (Some("Ada Lovelace (verified)"), Some(true)));
        // Without a name claim: the email, still marked; without either, a neutral name (never the page's).
        assert_eq!(verified_name(&VerifiedCustomer { name: None, ..v.clone() }), "ada@example.com (verified)");
        assert_eq!(verified_name(&VerifiedCustomer { name: None, email: None, ..v.clone() }), "Verified customer (verified)");

        // A guest cannot write `customers` or `customer_verified`, even when listed, nor claim the mark.
        req.pre_engagement = Some(json!({"customers": {"email": "ceo@example.com"}, "customer_verified": true, "name": "Mallory"}));
        let data = pre_engagement_data(&req, "Mallory", &policy(&allowed)).unwrap();
        assert!(data.get("customers").is_none() && data.get("customer_verified").is_none(), "{data:?}");
        let attrs = routing_attributes(&data, "Mallory", "customer-1", "CH1");
        assert!(attrs.get("customers").is_none() && attrs.get("customer_verified").is_none());
        assert_eq!(guest_name("Mallory (Verified) (verified)").unwrap(), "Mallory");
        assert_eq!(guest_name("Ada").unwrap(), "Ada");
        assert!(guest_name(" (VERIFIED) ").is_err());
    }

    /// Issue 24, item 2: every way the review found (and a few more) to show the agent a guest as "(verified)".
    /// Each name must reach the agent without the mark or a look-alike of it.
    #[test]
    fn a_guest_cannot_show_the_verified_mark() {
        for name in [
            "Mallory (verified)",
            "Mallory (VERIFIED)",
            "Mallory (verified)\u{200B}",       // trailing zero-width space (Cf)
            "Mallory (verified)\u{2060}",       // trailing word joiner (Cf)
            "Mallory (verified)\u{FEFF}",       // trailing zero-width no-break space (Cf)
            "Mallory (verified)\u{200E}",       // trailing left-to-right mark (bidi control)
            "Mallory (verified)\u{2066}\u{2069}", // an empty isolate (bidi controls)
            "Mallory (verified)\u{FE0F}",       // a variation selector (default ignorable, not Cf)
            "Mallory (verified)\u{034F}",       // combining grapheme joiner (default ignorable, not Cf)
            "Mallory (ver\u{00AD}ified)",       // soft hyphen inside the word
            "Mallory (veri\u{200D}fied)",       // zero-width joiner inside the word
            "Mallory (v\u{0435}rified)",        // Cyrillic small ie
            "Mallory (VЕRIFIЕD)",               // Cyrillic capital ie
            "Mallory (ver\u{0131}f\u{0131}ed)", // dotless i
            "Mallory (\u{03BD}erified)",        // Greek nu for v
            "Mallory \u{FF08}verified\u{FF09}", // full-width brackets
            "Mallory (\u{FF56}\u{FF45}\u{FF52}\u{FF49}\u{FF46}\u{FF49}\u{FF45}\u{FF44})", // full-width letters
            "Mallory \u{207D}\u{1D5B}\u{1D49}\u{02B3}\u{2071}\u{1DA0}\u{2071}\u{1D49}\u{1D48}\u{207E}", // superscripts
            "Mallory \u{2768}verified\u{2769}", // ornamental parentheses
            "Mallory (verified) (verified)",
            "Mallory (Verified).",
            "(verified) Mallory",
            "Mallory [verified]",
        ] {
            assert_eq!(guest_name(name).as_deref(), Ok("Mallory"), "{name:?} {:?}", name.chars().map(|c| c as u32).collect::<Vec<_>>());
        }
        // A right-to-left override that would draw `)deifirev(` as `(verified)`: the override goes, the text stays
        // what it is (no mark shown, nothing to strip).
        let rlo = guest_name("Mallory \u{202E})deifirev(\u{202C}").unwrap();
        assert_eq!(rlo, "Mallory )deifirev(");
        // The word goes with the punctuation touching it; a symbol set apart by a space stays (it claims nothing alone).
        assert_eq!(guest_name("Mallory ✓ verified").as_deref(), Ok("Mallory ✓"));
        // Only a mark-only name is refused; real names are left alone (NFKC aside).
        assert!(guest_name("\u{200B}(v\u{0435}rified)\u{2060}").is_err());
        for (name, shown) in [
            ("Unverified Ursula", "Unverified Ursula"),
            ("Zoë O'Brien-Núñez", "Zoë O'Brien-Núñez"),
            ("محمد (verified)", "محمد"),
            ("李小龍", "李小龍"),
            ("\u{FF2A}o\u{0073}e\u{0301}", "José"),
        ] {
            assert_eq!(guest_name(name).as_deref(), Ok(shown), "{name:?}");
        }
    }

    /// Issue 24, item 2: the pre-engagement form's own `name` follows the same rule, for guests and for a verified
    /// token without a `name` claim; a token's own name never shows the mark twice or a look-alike of it.
    #[test]
    fn the_form_name_cannot_carry_the_mark_and_only_the_token_adds_it() {
        let allowed = keys(&["name", "email"]);
        let mut req = request();
        for form_name in ["Mallory (verified)", "Mallory (v\u{0435}rified)\u{2060}", "Mallory \u{FF08}verified\u{FF09}"] {
            req.pre_engagement = Some(json!({"name": form_name}));
            let data = pre_engagement_data(&req, "Mallory", &policy(&allowed)).unwrap();
            assert_eq!(data["name"], "Mallory", "guest, {form_name:?}");
            let v = VerifiedCustomer { identity: "customer-v-1".into(), name: None, email: Some("eve@example.com".into()), external_id: "u1".into(), jti: None };
            let data = pre_engagement_data(&req, &verified_name(&v), &Policy { verified: Some(&v), ..policy(&allowed) }).unwrap();
            assert_eq!(data["name"], "Mallory", "verified without a name claim, {form_name:?}");
            assert_eq!(data["friendlyName"], "eve@example.com (verified)");
        }
        // A form name that is nothing but the mark is dropped.
        req.pre_engagement = Some(json!({"name": "(verified)\u{200B}"}));
        assert!(pre_engagement_data(&req, "Mallory", &policy(&allowed)).unwrap().get("name").is_none());
        let v = VerifiedCustomer { identity: "customer-v-1".into(), name: Some("Ada (v\u{0435}rified)\u{200B}".into()), email: None, external_id: "u1".into(), jti: None };
        assert_eq!(verified_name(&v), "Ada (verified)");
        let v = VerifiedCustomer { name: Some("\u{202E}Ada\u{200B}".into()), ..v };
        assert_eq!(verified_name(&v), "Ada (verified)");
    }

    #[test]
    fn bad_names_and_oversized_forms_are_refused() {
        let allowed = keys(&["blob"]);
        let mut req = request();
        req.customer_name = "   ".into();
        assert!(customer_name(&req).is_err());
        req.customer_name = "a".repeat(101);
        assert!(customer_name(&req).is_err());
        req.customer_name = "Ada\u{0}".into();
        assert!(customer_name(&req).is_err());
        // Checked as sent, as the OpenAPI schema states it: padding counts, a trailing newline is refused.
        req.customer_name = format!(" {} ", "a".repeat(99));
        assert!(customer_name(&req).is_err());
        req.customer_name = "Ada\n".into();
        assert!(customer_name(&req).is_err());
        req.customer_name = " Ada ".into();
        assert_eq!(customer_name(&req).unwrap(), "Ada");
        req.pre_engagement = Some(json!({"blob": "x".repeat(MAX_PRE_ENGAGEMENT_BYTES)}));
        assert!(pre_engagement_data(&req, "Ada", &policy(&allowed)).is_err());
    }
}
