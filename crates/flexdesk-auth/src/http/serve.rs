//! The public listener's accept loop, with the limits axum's `serve` does not set (issue 24, item 10): a cap on open
//! connections and a header-read timeout that also closes idle keep-alive connections
//! ([`crate::infra::config::ConnectionLimits`]). axum 0.8's `serve` builds hyper's connection without a timer, so
//! hyper's own 30 s header-read timeout never ran: a client sending its headers a byte at a time (slowloris) held a
//! connection, a file descriptor and a task for ever, and enough of them took the process's open-file limit.
//!
//! HTTP/1.1 only, as `axum::serve` was here (axum's `http2` feature is off). Graceful shutdown as before: when
//! `shutdown` resolves no connection is accepted any more, in-flight requests finish, idle connections close.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt;

use crate::infra::config::ConnectionLimits;

/// Serves `router` on `listener` within `limits` until `shutdown` resolves, then waits for open requests to finish.
/// Each request carries the peer as `ConnectInfo<SocketAddr>`, as `into_make_service_with_connect_info` gave it.
pub async fn serve(listener: TcpListener, router: Router, limits: ConnectionLimits, shutdown: impl Future<Output = ()>) {
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new()).header_read_timeout(limits.header_read_timeout).keep_alive(true);
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        // A slot first, then accept: past the cap, new connections wait in the kernel's backlog.
        let permit = tokio::select! {
            permit = permits.clone().acquire_owned() => permit.expect("the semaphore is never closed"),
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(conn) => conn,
                Err(e) => {
                    // EMFILE and the like: the listener is fine, this process is out of something; back off a little.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let service = router.clone().map_request(move |mut req: axum::http::Request<Incoming>| {
            req.extensions_mut().insert(ConnectInfo(peer));
            req
        });
        let conn = graceful.watch(http.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service)));
        tokio::spawn(async move {
            // A timed-out or broken connection is the client's business: nothing to log per connection.
            let _ = conn.await;
            drop(permit);
        });
    }
    drop(listener);
    graceful.shutdown().await;
}
