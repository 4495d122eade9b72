//! Hooks a host server can use to inject faults into twilsock connections (the emulator maps its `/admin/faults`
//! onto these), so the real SDK can be tested against refused sockets, slow replies and tokens that expire early.

use std::time::Duration;

/// Every method has a no-fault default.
pub trait ConnectionHooks: Send + Sync + 'static {
    /// Called as each WebSocket opens; `false` drops it at once, as a failed network would.
    fn admit(&self) -> bool {
        true
    }
    /// Called when an admitted WebSocket ends.
    fn released(&self) {}
    /// The expiry (seconds since the epoch) to enforce for `token`, which verified with expiry `exp`. Called on
    /// `init`, `update`, and again on [`crate::Twilsock::expiries_changed`].
    fn expiry(&self, _token: &str, exp: u64) -> u64 {
        exp
    }
    /// Latency added before answering each request frame.
    fn delay(&self) -> Duration {
        Duration::ZERO
    }
    /// How long a media `content_direct_temporary` URL signed now stays valid, in seconds (a test shortens it to
    /// see links expire).
    fn media_url_ttl_secs(&self) -> u64 {
        crate::mcs::TEMPORARY_URL_SECS
    }
}

/// No faults.
pub struct NoHooks;

impl ConnectionHooks for NoHooks {}
