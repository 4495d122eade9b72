//! flexdesk-auth: the server side of flexdesk. For now it starts, reads `PORT` and answers `/healthz`.

use std::net::SocketAddr;

use axum::{routing::get, Json, Router};
use serde_json::json;

fn app() -> Router {
    Router::new().route("/healthz", get(|| async { Json(json!({ "status": "ok" })) }))
}

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt().with_env_filter(tracing_subscriber::EnvFilter::from_default_env()).init();
    let port: u16 = match std::env::var("PORT") {
        Ok(p) => p.parse().unwrap_or_else(|_| {
            eprintln!("PORT must be a number from 1 to 65535, got {p:?}");
            std::process::exit(2)
        }),
        Err(_) => 4000,
    };
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let listener = tokio::net::TcpListener::bind(addr).await.unwrap_or_else(|e| {
        eprintln!("cannot listen on {addr}: {e}");
        std::process::exit(1)
    });
    println!("listening on http://{}", listener.local_addr().expect("bound"));
    axum::serve(listener, app()).with_graceful_shutdown(async { let _ = tokio::signal::ctrl_c().await; }).await.expect("server");
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use tower::ServiceExt;

    #[tokio::test]
    async fn healthz_answers_ok() {
        let res = app().oneshot(Request::get("/healthz").body(Body::empty()).unwrap()).await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
    }
}
