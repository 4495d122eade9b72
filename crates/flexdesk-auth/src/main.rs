//! Starts the auth server: config (exits 2 naming every bad key), logs, listen, serve until SIGTERM/Ctrl-C.
//! The subcommands (`flexdesk-auth --help`): see `cli/mod.rs`.

use std::net::SocketAddr;

use flexdesk_auth::infra::config::{read_dotenv, LogFormat, Purpose, StartMode};
use flexdesk_auth::{admin_app, app, AppState};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() {
    // `.env` first: clap reads the settings from the environment it fills.
    let dotenv = read_dotenv();
    let cli = flexdesk_auth::cli::Cli::from_process();
    if let Some(subcommand) = &cli.command {
        std::process::exit(flexdesk_auth::cli::run(subcommand, &cli.settings, dotenv).await);
    }
    let config = match dotenv.and_then(|()| cli.settings.validate(Purpose::Serve)) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2)
        }
    };
    // Logs go to stderr; stdout carries only the `listening on` line that scripts wait for. `LOG_FORMAT=json`: one
    // JSON object per line (timestamp, level, target, message, fields, the request span). Either way a line holds only
    // what the code logs, and the code never logs a secret (a `Secret` prints `[redacted]`; tests/secrets.rs).
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    match config.log_format {
        LogFormat::Text => tracing_subscriber::fmt().with_writer(std::io::stderr).with_env_filter(filter).init(),
        LogFormat::Json => {
            tracing_subscriber::fmt().json().with_current_span(true).with_span_list(false).with_writer(std::io::stderr).with_env_filter(filter).init()
        }
    }

    let addr = SocketAddr::new(config.bind, config.port);
    let listener = tokio::net::TcpListener::bind(addr).await.unwrap_or_else(|e| {
        eprintln!("cannot listen on {addr}: {e}");
        std::process::exit(1)
    });
    // /metrics and /openapi.json live on their own listener (ADMIN_BIND:ADMIN_PORT, loopback by default), never on
    // the public one.
    let admin_listener = match config.admin {
        Some(admin) => {
            let addr = SocketAddr::new(admin.bind, admin.port);
            Some(tokio::net::TcpListener::bind(addr).await.unwrap_or_else(|e| {
                eprintln!("cannot listen on {addr} (ADMIN_PORT): {e}");
                std::process::exit(1)
            }))
        }
        None => None,
    };
    tracing::info!(mode = config.start_mode.as_str(), origins = ?config.allowed_origins, proxy_hops = config.trust_proxy_hops, "flexdesk-auth configured");
    if config.trust_proxy_hops > 0 && config.trusted_proxies.is_empty() {
        tracing::warn!("TRUST_PROXY_HOPS is set without TRUSTED_PROXIES: forwarding headers are read from every peer, so a client that reaches this server directly chooses its own rate-limit key; list your proxies in TRUSTED_PROXIES");
    }
    if matches!(config.start_mode, StartMode::FlexFlow { .. }) {
        // https://www.twilio.com/docs/flex/developer/messaging/chat-channel: "Programmable Chat for Flex will reach
        // end of life on June 1, 2026".
        tracing::warn!("FLEX_START_MODE=flexflow uses Programmable Chat for Flex, past its end of life (June 1, 2026): move to webchat (TWILIO_ADDRESS_SID) or interactions");
    }
    let limits = config.connections;
    let state = AppState::new(config);
    // Replicas share limits through Redis: give the first connection a moment, so a replica starts with shared
    // limits when Redis is up. Without it the replica starts anyway, on its own limits, and keeps trying.
    if let Some(redis) = &state.redis {
        if !redis.ready(std::time::Duration::from_secs(3)).await {
            tracing::warn!("REDIS_URL is set but Redis does not answer yet: starting with per-replica limits");
        }
    }
    let router = app(state.clone());
    // Install the signal handlers before announcing readiness, so a SIGTERM right after the
    // `listening on` line still shuts down gracefully instead of killing the process.
    let shutdown = shutdown_signal();
    let (stop_admin, admin_stopped) = tokio::sync::watch::channel(false);
    let admin_task = admin_listener.map(|l| {
        // The `admin listening on` line comes first, so the `listening on` line still means "fully ready".
        println!("admin listening on http://{}", l.local_addr().expect("bound"));
        let mut stopped = admin_stopped.clone();
        tokio::spawn(async move {
            let _ = axum::serve(l, admin_app(state).into_make_service())
                .with_graceful_shutdown(async move {
                    let _ = stopped.wait_for(|s| *s).await;
                })
                .await;
        })
    });
    println!("listening on http://{}", listener.local_addr().expect("bound"));
    // Not axum::serve: it sets no header-read timeout and no connection cap (crate::http::serve).
    flexdesk_auth::http::serve::serve(listener, router, limits, shutdown).await;
    let _ = stop_admin.send(true);
    if let Some(task) = admin_task {
        let _ = task.await;
    }
    tracing::info!("stopped");
}

/// Resolves on Ctrl-C (SIGINT) or SIGTERM; in-flight requests then finish before the process exits.
/// The handlers are registered when this is called, not when the future is first polled.
#[cfg(unix)]
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
    let mut int = signal(SignalKind::interrupt()).expect("SIGINT handler");
    async move {
        tokio::select! { _ = term.recv() => {}, _ = int.recv() => {} }
        tracing::info!("shutting down");
    }
}

#[cfg(not(unix))]
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    async {
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("shutting down");
    }
}
