//! State shared by replicas through Redis (`REDIS_URL`); without it everything stays in this process.
//! Over 600 lines because each shared piece is one Lua script beside the few lines that call it, so every key's
//! layout is read in one place.
//!
//! What is shared, each as one atomic Lua script (Redis ≥ 6.2; one Redis or a primary, not Redis Cluster):
//! - rate-limit budgets: one GCRA "theoretical arrival time" per budget and client (`rl:<budget>:<client>`), the
//!   same algorithm and figures as the in-process `governor` limiter, on Redis's clock;
//! - open-session caps: a sorted set of open sessions scored by the time their slot frees (`open`, and
//!   `open:<client>` per client), starts in progress as short-lived `p:<uuid>` members, the starting client of
//!   each session (`owner:<id>`) so a refresh on another replica extends the right client's slot, and the sessions
//!   of each conversation (`conv:<sid>`) so a close webhook frees them. They count exactly the sessions this
//!   process's table counts ([`crate::chat::sessions::SessionStore::reserve`]; the same scenario runs against both in
//!   `chat::replicas`' tests), with every time on Redis's clock;
//! - Twilio pacing: the next free slot of each lane (`pace:<lane>`), handed out one per interval across replicas,
//!   with the same bounded wait (503 `Retry-After` past it);
//! - ended-session markers (`ended:<id>`, `ended-conv:<conversation sid>`), kept as long as a credential can live;
//! - single-use token ids (`jti:<kind>:<sha-256>`, [`crate::chat::single_use`]), kept as long as such a token lives.
//!
//! Redis going away never opens a door and never answers 500: each call has a short timeout, and on any failure
//! the caller falls back to its in-process state (per-replica limits, caps and pacing; ended sessions still come
//! from Twilio on every refresh). One warning per outage, a metric (`flexdesk_redis_up`,
//! `flexdesk_redis_fallbacks_total`), Redis skipped for a second after each failure so an outage costs no
//! latency, and shared state again as soon as a call succeeds.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock, Weak};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{RedisResult, Script};

use crate::infra::metrics::Metrics;

/// How long Redis is left alone after a failed call.
const SKIP_AFTER_FAILURE_MS: u64 = 1000;

/// GCRA on Redis's clock (µs). ARGV: emission interval (µs), burst. Answers 0 (spent) or the wait in ms.
const GCRA: &str = r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local new_tat = tat + interval
local wait = new_tat - burst * interval - now
if wait > 0 then return math.ceil(wait / 1000) end
redis.call('SET', KEYS[1], string.format('%.0f', new_tat), 'PX', math.ceil((new_tat - now) / 1000) + 1)
return 0
"#;

/// The next free slot of a paced lane (µs). ARGV: interval (µs), longest wait (µs). Answers the wait in µs
/// (>= 0, the slot is taken), or -1 - wait in ms when the wait would be longer than allowed (nothing taken).
const PACE: &str = r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local slot = tonumber(redis.call('GET', KEYS[1]) or '0')
if slot < now then slot = now end
local wait = slot - now
if wait > tonumber(ARGV[2]) then return -1 - math.ceil(wait / 1000) end
local next = slot + interval
redis.call('SET', KEYS[1], string.format('%.0f', next), 'PX', math.ceil((next - now) / 1000) + 1000)
return wait
"#;

/// Takes an open-session slot. KEYS: all open, this client's open. ARGV: per-client cap, total cap, the start's
/// member, how long it may stay pending (s). Answers {0, 0} (taken), {1, retry s} (client cap), {2, retry s} (total).
/// Every time in these sets is on Redis's clock (`TIME`): a replica whose clock runs fast or slow must not prune
/// (or keep) the other replicas' chats early (issue 24, item 6); replicas pass durations, never times.
const RESERVE: &str = r#"
local now = tonumber(redis.call('TIME')[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
local function retry(key)
  local first = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
  if #first == 0 then return 5 end
  return tonumber(first[2]) - now
end
local per_client, total = tonumber(ARGV[1]), tonumber(ARGV[2])
if per_client > 0 and redis.call('ZCARD', KEYS[2]) >= per_client then return {1, retry(KEYS[2])} end
if total > 0 and redis.call('ZCARD', KEYS[1]) >= total then return {2, retry(KEYS[1])} end
local pending = tonumber(ARGV[4])
redis.call('ZADD', KEYS[1], now + pending, ARGV[3])
redis.call('ZADD', KEYS[2], now + pending, ARGV[3])
if redis.call('TTL', KEYS[2]) < pending + 60 then redis.call('EXPIRE', KEYS[2], pending + 60) end
return {0, 0}
"#;

/// A start went through: its pending member becomes the session, listed under its conversation (so a webhook that
/// closes the conversation frees it), unless that conversation was already reported closed (then it never counts,
/// as in [`crate::chat::sessions::SessionStore::insert`]). KEYS: all open, client's open, owner:<id>, conv:<sid>,
/// ended-conv:<sid>. ARGV: pending member, session id, active for (s), client key, owner ttl (s).
const OPENED: &str = r#"
local now = tonumber(redis.call('TIME')[1])
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('SET', KEYS[3], ARGV[4], 'EX', ARGV[5])
redis.call('SADD', KEYS[4], ARGV[2])
if redis.call('TTL', KEYS[4]) < tonumber(ARGV[5]) then redis.call('EXPIRE', KEYS[4], ARGV[5]) end
if redis.call('EXISTS', KEYS[5]) == 1 then return 0 end
local active = tonumber(ARGV[3])
redis.call('ZADD', KEYS[1], now + active, ARGV[2])
redis.call('ZADD', KEYS[2], now + active, ARGV[2])
if redis.call('TTL', KEYS[2]) < active + 60 then redis.call('EXPIRE', KEYS[2], active + 60) end
return 1
"#;

/// A refresh: the session holds its slot until its new token expires. KEYS: all open, owner:<id>, ended:<id>,
/// ended-conv:<sid>. ARGV: session id, active for (s), the key prefix of per-client sets.
/// As in this process (`LiveSession::touch`): a session whose slot lapsed (its page was slow, not gone) is counted
/// again, so `ZADD GT` without `XX` (with `XX` it stayed uncounted once pruned, and so did a session rebuilt from its
/// credential); an ended one never is, even when its refresh raced the end.
const TOUCH: &str = r#"
if redis.call('EXISTS', KEYS[3], KEYS[4]) > 0 then return 0 end
local active = tonumber(ARGV[2])
local score = tonumber(redis.call('TIME')[1]) + active
redis.call('ZADD', KEYS[1], 'GT', score, ARGV[1])
local owner = redis.call('GET', KEYS[2])
if owner then
  local key = ARGV[3] .. owner
  redis.call('ZADD', key, 'GT', score, ARGV[1])
  if redis.call('TTL', key) < active + 60 then redis.call('EXPIRE', key, active + 60) end
end
return 1
"#;

/// A chat ended: frees the slots of the session and of every session of its conversation, and marks both ended.
/// KEYS: all open, ended-conv:<sid>, conv:<sid>, ended:<id> (or ended-conv:<sid> again). ARGV: session id (or ''),
/// per-client prefix, owner prefix, now (s, the marker's value), marker ttl (s).
const END: &str = r#"
local function free(id)
  redis.call('ZREM', KEYS[1], id)
  local owner = redis.call('GET', ARGV[3] .. id)
  if owner then redis.call('ZREM', ARGV[2] .. owner, id) end
end
if ARGV[1] ~= '' then free(ARGV[1]) end
for _, id in ipairs(redis.call('SMEMBERS', KEYS[3])) do free(id) end
redis.call('SET', KEYS[2], ARGV[4], 'EX', ARGV[5])
redis.call('SET', KEYS[4], ARGV[4], 'EX', ARGV[5])
return 1
"#;

/// A pending abandonment's timer ran out: takes it if its ticket is still the current one (crate::chat::abandon).
/// KEYS: abandon:<id>. ARGV: ticket.
const ABANDON_TAKE: &str = r#"
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"#;

/// A wait for a paced lane, as Redis handed it out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Paced {
    /// The slot is ours after this wait.
    After(Duration),
    /// The next slot is further away than allowed; nothing was taken.
    Busy {
        /// When to come back, in seconds.
        retry_after_secs: u64,
    },
}

/// The connection to the Redis the replicas share (`REDIS_URL`), and what goes through it.
pub struct Redis {
    conn: RwLock<Option<ConnectionManager>>,
    prefix: String,
    timeout: Duration,
    /// Unix ms before which Redis is not tried (it just failed).
    skip_until: AtomicU64,
    /// An outage is under way (and was logged).
    down: AtomicBool,
    metrics: Arc<Metrics>,
    gcra: Script,
    pace: Script,
    reserve: Script,
    opened: Script,
    touch: Script,
    end: Script,
    abandon_take: Script,
}

/// The client for `url`: `redis://` in clear, `rediss://` over TLS (rustls) checked against `ca` (PEM) when given,
/// else against the public web roots (Mozilla's set, built in: the system's store is not read).
pub fn client(url: &str, ca: Option<&[u8]>) -> RedisResult<redis::Client> {
    match ca {
        Some(pem) => {
            if !String::from_utf8_lossy(pem).contains("-----BEGIN CERTIFICATE-----") {
                return Err(redis::RedisError::from((redis::ErrorKind::InvalidClientConfig, "no PEM certificate in the CA file")));
            }
            // Parses the PEM now: a bad file is a configuration error, not a failure on every connection.
            redis::Client::build_with_tls(url, redis::TlsCertificates { client_tls: None, root_cert: Some(pem.to_vec()) })
        }
        None => redis::Client::open(url),
    }
}

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

impl Redis {
    /// Prepares the shared state for `url` and starts connecting in the background (inside a tokio runtime).
    /// Until the first connection, and whenever Redis is unreachable, callers use their in-process state.
    /// `ca`: PEM of the CA that signed a `rediss://` server's certificate (else the public web roots).
    pub fn new(
        url: &str,
        ca: Option<&[u8]>,
        prefix: &str,
        timeout: Duration,
        metrics: Arc<Metrics>,
    ) -> RedisResult<Arc<Redis>> {
        let client = client(url, ca)?;
        metrics.set_redis_up(false);
        let shared = Arc::new(Redis {
            conn: RwLock::new(None),
            prefix: prefix.to_string(),
            timeout,
            skip_until: AtomicU64::new(0),
            down: AtomicBool::new(false),
            metrics,
            gcra: Script::new(GCRA),
            pace: Script::new(PACE),
            reserve: Script::new(RESERVE),
            opened: Script::new(OPENED),
            touch: Script::new(TOUCH),
            end: Script::new(END),
            abandon_take: Script::new(ABANDON_TAKE),
        });
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(connect(Arc::downgrade(&shared), client, timeout));
        }
        Ok(shared)
    }

    /// Waits up to `limit` for the first connection (so a replica starts with shared limits when Redis is up).
    pub async fn ready(&self, limit: Duration) -> bool {
        let until = std::time::Instant::now() + limit;
        while std::time::Instant::now() < until {
            if self.conn.read().unwrap_or_else(|e| e.into_inner()).is_some() {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        false
    }

    fn key(&self, rest: &str) -> String {
        format!("{}{rest}", self.prefix)
    }

    /// Runs one Redis call, or answers `None` (the caller falls back to its own state) when Redis is not
    /// connected, failed within the last second, errs or is slower than the timeout.
    async fn call<T, F, Fut>(&self, op: &'static str, f: F) -> Option<T>
    where
        F: FnOnce(ConnectionManager) -> Fut,
        Fut: std::future::Future<Output = RedisResult<T>>,
    {
        let conn = self.conn.read().unwrap_or_else(|e| e.into_inner()).clone();
        let Some(conn) = conn else {
            self.metrics.record_redis_fallback(op);
            return None;
        };
        if now_ms() < self.skip_until.load(Ordering::Relaxed) {
            self.metrics.record_redis_fallback(op);
            return None;
        }
        match tokio::time::timeout(self.timeout, f(conn)).await {
            Ok(Ok(v)) => {
                self.up();
                Some(v)
            }
            Ok(Err(e)) => {
                self.failed(op, &e.to_string());
                None
            }
            Err(_) => {
                self.failed(op, "timed out");
                None
            }
        }
    }

    fn up(&self) {
        if self.down.swap(false, Ordering::SeqCst) {
            tracing::warn!("Redis is reachable again: rate limits, session caps, pacing and ended sessions are shared again");
        }
        self.metrics.set_redis_up(true);
    }

    fn failed(&self, op: &'static str, why: &str) {
        self.skip_until.store(now_ms() + SKIP_AFTER_FAILURE_MS, Ordering::Relaxed);
        self.metrics.record_redis_fallback(op);
        self.metrics.set_redis_up(false);
        if !self.down.swap(true, Ordering::SeqCst) {
            tracing::warn!(
                op,
                error = why,
                "Redis unreachable: rate limits, session caps and Twilio pacing are per replica until it is back"
            );
        }
    }

    /// Spends one request of `budget` for `client`: `Some(Ok)` spent, `Some(Err(wait))` refused, `None` no Redis.
    pub async fn spend(&self, budget: &str, client: &str, per_minute: u32, burst: u32) -> Option<Result<(), Duration>> {
        let key = self.key(&format!("rl:{budget}:{client}"));
        let interval_us = 60_000_000 / u64::from(per_minute.max(1));
        let burst = burst.max(1);
        let script = &self.gcra;
        let wait_ms: u64 = self
            .call("ratelimit", |mut c| async move { script.key(key).arg(interval_us).arg(burst).invoke_async(&mut c).await })
            .await?;
        Some(if wait_ms == 0 { Ok(()) } else { Err(Duration::from_millis(wait_ms)) })
    }

    /// Takes the next slot of a paced lane shared by every replica (`None`: no Redis).
    pub async fn pace(&self, lane: &str, interval: Duration, max_wait: Duration) -> Option<Paced> {
        let key = self.key(&format!("pace:{lane}"));
        let (interval_us, max_us) = (interval.as_micros() as u64, max_wait.as_micros() as u64);
        let script = &self.pace;
        let answer: i64 = self
            .call("pacing", |mut c| async move { script.key(key).arg(interval_us).arg(max_us).invoke_async(&mut c).await })
            .await?;
        Some(if answer >= 0 {
            Paced::After(Duration::from_micros(answer as u64))
        } else {
            let wait_ms = (-1 - answer) as u64;
            Paced::Busy { retry_after_secs: wait_ms.div_ceil(1000).max(1) }
        })
    }

    /// Takes an open-session slot for a start by `client` (caps as in [`crate::chat::sessions::SessionStore::reserve`]);
    /// `pending_secs` bounds how long a start in progress holds it if this replica dies before it ends.
    pub async fn reserve(self: &Arc<Self>, client: &str, per_client: u32, total: u32, pending_secs: u64) -> Option<Result<RedisSlot, TooMany>> {
        let member = format!("p:{}", uuid::Uuid::new_v4().simple());
        let (all, mine) = (self.key("open"), self.key(&format!("open:{client}")));
        let script = &self.reserve;
        let m = member.clone();
        let (code, retry): (i64, i64) = self
            .call("caps", |mut c| async move {
                script.key(all).key(mine).arg(per_client).arg(total).arg(m).arg(pending_secs).invoke_async(&mut c).await
            })
            .await?;
        Some(match code {
            0 => Ok(RedisSlot { shared: self.clone(), client: client.to_string(), member: Some(member) }),
            _ => Err(TooMany { per_client: code == 1, retry_after_secs: (retry.max(1) as u64).min(3600) }),
        })
    }

    /// A refresh on any replica: session `id` (of `conversation_sid`) holds its slot for `active_secs` from now
    /// (Redis's now), unless it ended.
    pub async fn touch(&self, id: &str, conversation_sid: &str, active_secs: u64) {
        let (all, owner, prefix) = (self.key("open"), self.key(&format!("owner:{id}")), self.key("open:"));
        let (ended, conv_ended) = (self.key(&format!("ended:{id}")), self.key(&format!("ended-conv:{conversation_sid}")));
        let script = &self.touch;
        let _: Option<i64> = self
            .call("caps", |mut c| async move {
                script.key(all).key(owner).key(ended).key(conv_ended).arg(id).arg(active_secs).arg(prefix).invoke_async(&mut c).await
            })
            .await;
    }

    /// Marks a chat ended for every replica, by conversation SID and, when known, session id, until `until` (Unix
    /// s), and frees the open-session slots of the session and of every session of the conversation. False when
    /// Redis did not take it.
    pub async fn mark_ended(&self, id: Option<&str>, conversation_sid: &str, now: u64, until: u64) -> bool {
        let by_conv = self.key(&format!("ended-conv:{conversation_sid}"));
        let by_id = id.map_or_else(|| by_conv.clone(), |id| self.key(&format!("ended:{id}")));
        let (all, members) = (self.key("open"), self.key(&format!("conv:{conversation_sid}")));
        let (clients, owners) = (self.key("open:"), self.key("owner:"));
        let ttl = until.saturating_sub(now).max(60);
        let script = &self.end;
        let id = id.unwrap_or("").to_string();
        self.call("ended", |mut c| async move {
            script.key(all).key(by_conv).key(members).key(by_id).arg(id).arg(clients).arg(owners).arg(now).arg(ttl).invoke_async::<i64>(&mut c).await
        })
        .await
        .is_some()
    }

    /// Whether any replica marked the chat ended (by session id or conversation SID); `None`: no Redis.
    pub async fn is_ended(&self, id: &str, conversation_sid: &str) -> Option<bool> {
        let keys = [self.key(&format!("ended:{id}")), self.key(&format!("ended-conv:{conversation_sid}"))];
        let n: u64 = self.call("ended", |mut c| async move { redis::cmd("EXISTS").arg(&keys).query_async(&mut c).await }).await?;
        Some(n > 0)
    }

    /// Sets `key` (under the prefix) for `ttl` unless it exists: `Some(true)` it was new, `Some(false)` it was
    /// there, `None` no Redis. One `SET NX EX`, so two replicas claiming together get one true.
    pub async fn first_use(&self, key: &str, ttl: Duration) -> Option<bool> {
        let key = self.key(key);
        let ttl = ttl.as_secs().max(1);
        let set: Option<String> =
            self.call("single_use", |mut c| async move { redis::cmd("SET").arg(key).arg(1).arg("NX").arg("EX").arg(ttl).query_async(&mut c).await }).await?;
        Some(set.is_some())
    }

    /// Forgets what Redis holds of session `id` of `conversation_sid` (its conversation was erased): its ended marks
    /// and any pending abandonment. (Its open-chat slot went when it ended.)
    pub async fn forget_session(&self, id: &str, conversation_sid: &str) {
        let keys = [self.key(&format!("ended:{id}")), self.key(&format!("ended-conv:{conversation_sid}")), self.key(&format!("abandon:{id}"))];
        let _: Option<i64> = self.call("erase", |mut c| async move { redis::cmd("DEL").arg(&keys).query_async(&mut c).await }).await;
    }

    /// Deletes `key` (under the prefix): a claim given back.
    pub async fn forget(&self, key: &str) {
        let key = self.key(key);
        let _: Option<i64> = self.call("single_use", |mut c| async move { redis::cmd("DEL").arg(key).query_async(&mut c).await }).await;
    }

    /// Makes `ticket` session `id`'s current abandonment for `ttl` s (crate::chat::abandon); `ticket: None` cancels.
    pub async fn abandon_set(&self, id: &str, ticket: Option<u128>, ttl: u64) {
        let key = self.key(&format!("abandon:{id}"));
        let cmd = match ticket {
            Some(t) => redis::cmd("SET").arg(key).arg(t.to_string()).arg("EX").arg(ttl.max(1)).clone(),
            None => redis::cmd("DEL").arg(key).clone(),
        };
        let _: Option<redis::Value> = self.call("abandon", |mut c| async move { cmd.query_async(&mut c).await }).await;
    }

    /// Takes `ticket` if it is still session `id`'s current abandonment: `Some(false)` a refresh (or a later beacon)
    /// on some replica replaced it, `None` no Redis.
    pub async fn abandon_take(&self, id: &str, ticket: u128) -> Option<bool> {
        let (key, script) = (self.key(&format!("abandon:{id}")), &self.abandon_take);
        let taken: i64 = self.call("abandon", |mut c| async move { script.key(key).arg(ticket.to_string()).invoke_async(&mut c).await }).await?;
        Some(taken == 1)
    }

    async fn release(&self, client: &str, member: &str) {
        let (all, mine) = (self.key("open"), self.key(&format!("open:{client}")));
        let _: Option<()> = self
            .call("caps", |mut c| async move {
                redis::pipe().zrem(all, member).ignore().zrem(mine, member).ignore().query_async(&mut c).await
            })
            .await;
    }
}

/// Connects, retrying every second until it works; later outages are handled by the connection manager.
async fn connect(shared: Weak<Redis>, client: redis::Client, timeout: Duration) {
    let config = ConnectionManagerConfig::new()
        .set_connection_timeout(timeout.max(Duration::from_millis(200)))
        .set_response_timeout(timeout)
        .set_number_of_retries(1)
        .set_max_delay(500);
    loop {
        let attempt = tokio::time::timeout(Duration::from_secs(2), ConnectionManager::new_with_config(client.clone(), config.clone())).await;
        let Some(me) = shared.upgrade() else { return };
        match attempt {
            Ok(Ok(conn)) => {
                *me.conn.write().unwrap_or_else(|e| e.into_inner()) = Some(conn);
                me.up();
                tracing::info!("shared state in Redis: connected");
                return;
            }
            Ok(Err(e)) => me.failed("connect", &e.to_string()),
            Err(_) => me.failed("connect", "timed out"),
        }
        drop(me);
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// A start over the open-session caps: when the first slot frees up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooMany {
    /// The client's own cap (else the server's total).
    pub per_client: bool,
    /// The Retry-After to answer with.
    pub retry_after_secs: u64,
}

/// An open-session slot taken in Redis for a start in progress. [`RedisSlot::opened`] turns it into the
/// session's slot; dropped without that (the start failed), it is given back.
pub struct RedisSlot {
    shared: Arc<Redis>,
    client: String,
    member: Option<String>,
}

impl RedisSlot {
    /// The start went through: the slot becomes session `id`'s (of `conversation_sid`), held `active_secs` from
    /// now (Redis's now); its owner is remembered `owner_ttl` seconds (as long as its credential lives).
    pub async fn opened(mut self, id: &str, conversation_sid: &str, active_secs: u64, owner_ttl: u64) {
        let Some(member) = self.member.take() else { return };
        let s = self.shared.clone();
        let (all, mine, owner) = (s.key("open"), s.key(&format!("open:{}", self.client)), s.key(&format!("owner:{id}")));
        let (members, conv_ended) = (s.key(&format!("conv:{conversation_sid}")), s.key(&format!("ended-conv:{conversation_sid}")));
        let client = self.client.clone();
        let script = &s.opened;
        let _: Option<i64> = s
            .call("caps", |mut c| async move {
                script
                    .key(all)
                    .key(mine)
                    .key(owner)
                    .key(members)
                    .key(conv_ended)
                    .arg(member)
                    .arg(id)
                    .arg(active_secs)
                    .arg(client)
                    .arg(owner_ttl.max(60))
                    .invoke_async(&mut c)
                    .await
            })
            .await;
    }
}

impl Drop for RedisSlot {
    fn drop(&mut self) {
        if let (Some(member), Ok(rt)) = (self.member.take(), tokio::runtime::Handle::try_current()) {
            let (shared, client) = (self.shared.clone(), self.client.clone());
            rt.spawn(async move { shared.release(&client, &member).await });
        }
    }
}

/// Tests only: a replica's connection to a test redis-server on `port` (`infra::test_redis`), its keys under
/// `prefix`, connected.
#[cfg(test)]
pub(crate) async fn test_replica(port: u16, prefix: &str) -> Arc<Redis> {
    let s = Redis::new(&format!("redis://127.0.0.1:{port}"), None, prefix, Duration::from_millis(500), Arc::new(Metrics::default())).unwrap();
    assert!(s.ready(Duration::from_secs(5)).await, "connected");
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::infra::clock::unix_now;
    use super::test_replica as replica;
    use crate::infra::test_redis::{free_port, redis_server as redis};

    #[tokio::test]
    async fn two_replicas_share_budgets_caps_and_ended_markers() {
        let Some(r) = redis().await else { return };
        let (a, b) = (replica(r.1, "t1:").await, replica(r.1, "t1:").await);
        // Budget: burst 3 at 60/min, spent alternately on two replicas; the 4th waits ~1 s.
        for i in 0..3 {
            let on = if i % 2 == 0 { &a } else { &b };
            assert_eq!(on.spend("start", "10.0.0.1", 60, 3).await, Some(Ok(())));
        }
        let wait = b.spend("start", "10.0.0.1", 60, 3).await.unwrap().unwrap_err();
        assert!(wait > Duration::from_millis(900) && wait <= Duration::from_secs(1), "{wait:?}");
        assert_eq!(a.spend("start", "10.0.0.2", 60, 3).await, Some(Ok(())), "another client");

        // Caps: 2 per client, 3 in all, across both replicas; a failed start gives its slot back. (Retry-After is
        // read on Redis's clock, which may tick between two calls.)
        let refused = |r: Option<Result<RedisSlot, TooMany>>| r.unwrap().err().map(|t| (t.per_client, t.retry_after_secs));
        let s1 = a.reserve("c1", 2, 3, 30).await.unwrap().unwrap();
        s1.opened("sess1", "CH1", 600, 86_400).await;
        let s2 = b.reserve("c1", 2, 3, 30).await.unwrap().unwrap();
        assert!(matches!(refused(a.reserve("c1", 2, 3, 30).await), Some((true, 29..=30))), "start in progress counts");
        drop(s2);
        tokio::time::sleep(Duration::from_millis(100)).await;
        let s3 = a.reserve("c1", 2, 3, 30).await.unwrap().unwrap();
        s3.opened("sess3", "CH3", 600, 86_400).await;
        assert!(matches!(refused(b.reserve("c1", 2, 3, 30).await), Some((true, 599..=600))));
        let _s4 = b.reserve("c2", 2, 3, 30).await.unwrap().unwrap();
        assert!(matches!(refused(a.reserve("c3", 2, 3, 30).await), Some((false, _))), "total cap");
        // A refresh on the other replica extends the slot; an end there frees it and marks the chat for both.
        b.touch("sess1", "CH1", 3000).await;
        assert!(b.mark_ended(Some("sess3"), "CH3", unix_now(), unix_now() + 90_000).await);
        let held = refused(a.reserve("c1", 1, 0, 30).await);
        assert!(matches!(held, Some((true, 2999..=3000))), "sess1 held for 3000 s: {held:?}");
        assert_eq!(a.is_ended("sess1", "CH1").await, Some(false));
        assert!(b.mark_ended(Some("sess1"), "CH1", unix_now(), unix_now() + 90_000).await);
        assert_eq!(a.is_ended("sess1", "CHx").await, Some(true));
        assert_eq!(a.is_ended("other", "CH1").await, Some(true), "by conversation too");
        assert!(a.reserve("c1", 1, 0, 30).await.unwrap().is_ok(), "its slot is free");
        assert!(b.mark_ended(None, "CH9", unix_now(), unix_now() + 90_000).await, "by conversation only (a webhook)");
        assert_eq!(a.is_ended("s9", "CH9").await, Some(true));
    }

    #[tokio::test]
    async fn pacing_is_one_lane_for_every_replica_with_a_bounded_wait() {
        let Some(r) = redis().await else { return };
        let (a, b) = (replica(r.1, "t2:").await, replica(r.1, "t2:").await);
        let (interval, max) = (Duration::from_millis(100), Duration::from_millis(250));
        let mut waits = Vec::new();
        for i in 0..5 {
            waits.push(if i % 2 == 0 { &a } else { &b }.pace("webchats", interval, max).await.unwrap());
        }
        // Slots 0, 100, 200 ms (within 250 ms); then nothing is taken and the caller is told to come back.
        let ms = |p: &Paced| match p {
            Paced::After(d) => d.as_millis() as i64,
            Paced::Busy { .. } => -1,
        };
        let got: Vec<i64> = waits.iter().map(ms).collect();
        assert!(got[0] <= 5 && (90..=105).contains(&got[1]) && (190..=205).contains(&got[2]), "{got:?}");
        assert!(matches!(waits[3], Paced::Busy { retry_after_secs: 1 }) && matches!(waits[4], Paced::Busy { .. }), "{waits:?}");
    }

    #[tokio::test]
    async fn without_redis_every_call_says_decide_locally_and_is_counted() {
        let metrics = Arc::new(Metrics::default());
        let port = free_port();
        let s = Redis::new(&format!("redis://127.0.0.1:{port}"), None, "t3:", Duration::from_millis(100), metrics.clone()).unwrap();
        assert!(!s.ready(Duration::from_millis(300)).await);
        assert_eq!(s.spend("start", "10.0.0.1", 60, 1).await, None);
        assert!(s.reserve("c", 1, 1, 30).await.is_none());
        assert_eq!(s.pace("webchats", Duration::from_millis(10), Duration::from_secs(1)).await, None);
        assert_eq!(s.is_ended("a", "CH").await, None);
        let text = metrics.render(0);
        assert!(text.contains("flexdesk_redis_up 0"), "{text}");
        assert!(text.contains("flexdesk_redis_fallbacks_total{op=\"ratelimit\"} 1"), "{text}");
    }
}
