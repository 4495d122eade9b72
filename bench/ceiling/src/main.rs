//! Bare axum + jsonwebtoken token refresh: the ceiling flexdesk-auth is measured against.
//!
//! It does the same per-request work as flexdesk-auth's `POST /v1/sessions/{id}/token` minus everything
//! that makes a real server (middleware, session store, the Twilio "is the chat closed?" check):
//! JSON body → HMAC-SHA256 session credential check → HS256 Twilio AccessToken with a chat grant.
//! The identity is derived from the session id because there is no session store here.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

struct Keys {
    account_sid: String,
    api_key_sid: String,
    service_sid: String,
    signing: EncodingKey,
    session_secret: Vec<u8>,
    ttl: u64,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SessionAuth {
    session_credential: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TokenRefreshed {
    token: String,
    token_expires_at: u64,
}

#[derive(Serialize)]
struct Claims<'a> {
    jti: String,
    grants: Grants<'a>,
    iat: u64,
    exp: u64,
    iss: &'a str,
    sub: &'a str,
}

#[derive(Serialize)]
struct Grants<'a> {
    identity: String,
    chat: ChatGrant<'a>,
}

#[derive(Serialize)]
struct ChatGrant<'a> {
    service_sid: &'a str,
}

/// Same credential format and MAC input as flexdesk-auth's `credential.rs`:
/// `<session id>.<expires at>.<context>.<base64url HMAC>`.
fn credential_ok(secret: &[u8], credential: &str, session_id: &str, now: u64) -> bool {
    let mut parts = credential.splitn(4, '.');
    let (Some(id), Some(exp), Some(context), Some(tag)) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    let (Ok(expires_at), Ok(tag)) = (exp.parse::<u64>(), URL_SAFE_NO_PAD.decode(tag)) else { return false };
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("any key length");
    mac.update(b"flexdesk-session-credential-v2\n");
    mac.update(id.as_bytes());
    mac.update(b"\n");
    mac.update(expires_at.to_string().as_bytes());
    mac.update(b"\n");
    mac.update(context.as_bytes());
    mac.verify_slice(&tag).is_ok() && id == session_id && now < expires_at
}

async fn refresh(
    State(keys): State<Arc<Keys>>,
    Path(id): Path<String>,
    Json(auth): Json<SessionAuth>,
) -> Result<Json<TokenRefreshed>, StatusCode> {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    if !credential_ok(&keys.session_secret, &auth.session_credential, &id, now) {
        return Err(StatusCode::UNAUTHORIZED);
    }
    let claims = Claims {
        jti: format!("{}-{}", keys.api_key_sid, now),
        grants: Grants { identity: format!("customer-{id}"), chat: ChatGrant { service_sid: &keys.service_sid } },
        iat: now,
        exp: now + keys.ttl,
        iss: &keys.api_key_sid,
        sub: &keys.account_sid,
    };
    let header = Header { typ: Some("JWT".into()), cty: Some("twilio-fpa;v=1".into()), ..Header::new(Algorithm::HS256) };
    let token = encode(&header, &claims, &keys.signing).map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?;
    Ok(Json(TokenRefreshed { token, token_expires_at: claims.exp }))
}

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        eprintln!("{name} is required");
        std::process::exit(2)
    })
}

#[tokio::main]
async fn main() {
    let keys = Arc::new(Keys {
        account_sid: env("TWILIO_ACCOUNT_SID"),
        api_key_sid: env("TWILIO_API_KEY_SID"),
        service_sid: env("TWILIO_CONVERSATIONS_SERVICE_SID"),
        signing: EncodingKey::from_secret(env("TWILIO_API_KEY_SECRET").as_bytes()),
        session_secret: env("SESSION_SECRET").into_bytes(),
        ttl: std::env::var("TOKEN_TTL_SECONDS").ok().and_then(|v| v.parse().ok()).unwrap_or(3600),
    });
    let port: u16 = std::env::var("PORT").ok().and_then(|v| v.parse().ok()).unwrap_or(0);
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], port))).await.expect("bind");
    let app = Router::new().route("/v1/sessions/{id}/token", post(refresh)).with_state(keys);
    println!("listening on http://{}", listener.local_addr().expect("bound"));
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("SIGTERM");
            tokio::select! { _ = term.recv() => {}, _ = tokio::signal::ctrl_c() => {} }
        })
        .await
        .expect("serve");
}
