//! Tests only: a throwaway redis-server (Debian's, installed by scripts/bootstrap) on a free port (replicas connect
//! with [`crate::infra::redis::test_replica`]). Used by the Redis scripts' own tests and by the caps and single-use
//! tests that run with and without Redis.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A redis-server child, killed on drop; `.1` is its port.
pub struct RedisServer(Child, pub u16);

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A port nothing listens on (just now).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Starts a redis-server, or `None` (the test is skipped, saying so) when it is not installed.
pub async fn redis_server() -> Option<RedisServer> {
    let port = free_port();
    let child = Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    let Ok(child) = child else {
        eprintln!("redis-server is not installed (scripts/bootstrap installs it): skipped");
        return None;
    };
    let redis = RedisServer(child, port);
    for _ in 0..200 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Some(redis);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("redis-server did not start on {port}");
}
