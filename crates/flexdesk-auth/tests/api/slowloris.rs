//! Issue 24, item 10: the public listener against a slowloris client, on the real binary (its accept loop is what
//! is tested). Clients that send their headers a byte at a time, or nothing at all, are dropped after
//! `HEADER_READ_TIMEOUT_SECONDS`, while `/healthz` keeps answering. Failed before (axum::serve, no timer for hyper's
//! header-read timeout): every slow connection was still open after 4 s.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::env;

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The binary on a free port with a 1 s header-read timeout; its address from its `listening on` line.
fn start() -> (Server, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_flexdesk-auth"));
    cmd.env_clear().env("PATH", std::env::var("PATH").unwrap_or_default());
    for (k, v) in env("http://127.0.0.1:9") {
        cmd.env(k, v);
    }
    cmd.env("PORT", "0").env("ADMIN_PORT", "off").env("HEADER_READ_TIMEOUT_SECONDS", "1").env("MAX_CONNECTIONS", "200");
    let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::null()).spawn().expect("the flexdesk-auth binary");
    let mut out = child.stdout.take().unwrap();
    let server = Server(child);
    let mut seen = String::new();
    let mut buf = [0u8; 256];
    while !seen.contains('\n') || !seen.contains("listening on http://") {
        let n = out.read(&mut buf).expect("stdout");
        assert!(n > 0, "the server exited: {seen}");
        seen.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
    let addr = seen.split("listening on http://").nth(1).unwrap().lines().next().unwrap().trim().to_string();
    (server, addr)
}

/// `GET /healthz` on a fresh connection: its status line, and how long it took.
fn healthz(addr: &str) -> (String, Duration) {
    let t = Instant::now();
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
    let mut answer = String::new();
    let _ = s.read_to_string(&mut answer);
    (answer.lines().next().unwrap_or("").to_string(), t.elapsed())
}

/// Whether the server closed `s`: a read sees end of file or a reset (a write may still land in the buffer).
fn closed_by_server(s: &mut TcpStream) -> bool {
    s.set_read_timeout(Some(Duration::from_millis(200))).unwrap();
    let mut b = [0u8; 512];
    loop {
        match s.read(&mut b) {
            Ok(0) => return true,
            Ok(_) => continue, // a 408 the server wrote before closing
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => return false,
            Err(_) => return true,
        }
    }
}

#[test]
fn slowloris_connections_are_dropped_and_healthz_keeps_answering() {
    let (_server, addr) = start();
    let mut slow: Vec<TcpStream> = (0..50).map(|_| TcpStream::connect(&addr).unwrap()).collect();
    let mut idle: Vec<TcpStream> = (0..10).map(|_| TcpStream::connect(&addr).unwrap()).collect();
    for s in &mut slow {
        s.write_all(b"GET /healthz HTTP/1.1\r\n").unwrap();
    }
    // Four seconds of one header byte every 100 ms per connection (each stays busy, none ever completes).
    let header = b"X-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    let started = Instant::now();
    let mut i = 0;
    while started.elapsed() < Duration::from_secs(4) {
        for s in &mut slow {
            let _ = s.write_all(&header[i % header.len()..][..1]);
        }
        i += 1;
        if i % 5 == 0 {
            let (status, took) = healthz(&addr);
            assert!(status.starts_with("HTTP/1.1 200"), "healthz: {status:?}");
            assert!(took < Duration::from_secs(1), "healthz took {took:?} under the slowloris");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let still_open = slow.iter_mut().map(closed_by_server).filter(|closed| !closed).count();
    assert_eq!(still_open, 0, "slow-header connections still open after 4 s with a 1 s header-read timeout");
    let idle_open = idle.iter_mut().map(closed_by_server).filter(|closed| !closed).count();
    assert_eq!(idle_open, 0, "silent connections still open after 4 s");
    assert!(healthz(&addr).0.starts_with("HTTP/1.1 200"));
}
