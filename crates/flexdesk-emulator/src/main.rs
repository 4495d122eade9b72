//! `flexdesk-emulator`: reads the shared TWILIO_* variables and EMULATOR_PORT (0 = ephemeral), prints
//! `listening on http://127.0.0.1:PORT` once it accepts connections, stops on SIGTERM / Ctrl-C.

use std::io::Write;
use std::time::Duration;

use flexdesk_emulator::{app, Config, Emulator};

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .init();
    let config = match Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("flexdesk-emulator: {e}");
            std::process::exit(2);
        }
    };
    let port: u16 = match std::env::var("EMULATOR_PORT").as_deref() {
        Err(_) | Ok("") => 4010,
        Ok(p) => p.parse().unwrap_or_else(|_| {
            eprintln!("flexdesk-emulator: EMULATOR_PORT must be a port number, got {p:?}");
            std::process::exit(2);
        }),
    };
    let listener = match tokio::net::TcpListener::bind(("127.0.0.1", port)).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("flexdesk-emulator: cannot listen on 127.0.0.1:{port}: {e}");
            std::process::exit(1);
        }
    };
    let port = listener.local_addr().expect("bound socket has an address").port();
    let emu = Emulator::new(config);
    emu.set_base_url(format!("http://127.0.0.1:{port}"));
    tracing::info!(?emu.config, "emulator configured");
    let router = app(emu.clone());
    println!("listening on http://127.0.0.1:{port}");
    let _ = std::io::stdout().flush();
    let shutdown_emu = emu.clone();
    let shutdown = async move {
        shutdown_signal().await;
        // Open WebSockets would keep the server alive: drop them, and do not wait forever.
        shutdown_emu.drop_generation.send_modify(|g| *g += 1);
        tokio::spawn(async {
            tokio::time::sleep(Duration::from_secs(3)).await;
            std::process::exit(0);
        });
    };
    if let Err(e) = axum::serve(listener, router).with_graceful_shutdown(shutdown).await {
        eprintln!("flexdesk-emulator: server error: {e}");
        std::process::exit(1);
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}
