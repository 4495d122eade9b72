//! A tiny server for tests and experiments: the twilsock router over the in-memory backend, plus `/control/…`
//! routes that play the agent. Reads TWILIO_API_KEY_SECRET and TWILIO_CONVERSATIONS_SERVICE_SID (and, when set,
//! TWILIO_API_KEY_SID and TWILIO_ACCOUNT_SID for the issuer/subject checks), listens on
//! TWILSOCK_PORT (0 = ephemeral) and prints `listening on http://127.0.0.1:PORT` when ready.

use std::sync::Arc;

use twilsock::{memory, InMemoryBackend, Twilsock, TwilsockConfig};

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr)
        .init();
    let secret = match std::env::var("TWILIO_API_KEY_SECRET") {
        Ok(s) if !s.is_empty() => s,
        _ => {
            eprintln!("TWILIO_API_KEY_SECRET is required (it verifies the SDK's access tokens)");
            std::process::exit(2);
        }
    };
    let service = std::env::var("TWILIO_CONVERSATIONS_SERVICE_SID").unwrap_or_default();
    let port: u16 = match std::env::var("TWILSOCK_PORT").unwrap_or_else(|_| "0".into()).parse() {
        Ok(p) => p,
        Err(_) => {
            eprintln!("TWILSOCK_PORT must be a port number");
            std::process::exit(2);
        }
    };
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.expect("bind 127.0.0.1");
    let addr = listener.local_addr().expect("local address");
    let mut config = TwilsockConfig::new(secret, service);
    // With these set, tokens are checked exactly as the emulator checks them (iss = API key, sub = account).
    config.api_key_sid = std::env::var("TWILIO_API_KEY_SID").unwrap_or_default();
    config.account_sid = std::env::var("TWILIO_ACCOUNT_SID").unwrap_or_default();
    config.media_base_url = format!("http://{addr}");
    let backend = Arc::new(InMemoryBackend::new());
    // `/` gives browser tests a same-address document to load the SDK into (see tests/twilsock/harness.mjs).
    let index = axum::routing::get(|| async { axum::response::Html("<!doctype html><title>flexdesk-twilsock</title>") });
    let twilsock = Twilsock::new(backend.clone(), config);
    let drop_all = {
        let t = twilsock.clone();
        axum::routing::post(move || async move { axum::Json(serde_json::json!({"dropped": t.drop_connections()})) })
    };
    let connections = {
        let t = twilsock.clone();
        axum::routing::get(move || async move { axum::Json(serde_json::json!({"identities": t.connected_identities()})) })
    };
    let app = twilsock
        .router()
        .merge(memory::control_router(backend))
        .route("/control/connections", connections)
        .route("/control/connections/drop", drop_all)
        .route("/", index);
    println!("listening on http://{addr}");
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("SIGTERM handler");
            tokio::select! { _ = tokio::signal::ctrl_c() => {}, _ = term.recv() => {} }
        })
        .await
        .expect("server");
}
