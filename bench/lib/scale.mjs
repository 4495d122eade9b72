// Contact-centre scale (issue 27): what many waiting customers and many open chats cost.
//  - queue: N waiting customers poll their place (GET /v1/sessions/{id}/queue) at the desk's default interval;
//    the emulator counts the Twilio calls that causes (GET /admin/calls);
//  - many: a refresh row over 1 000 distinct sessions with webhooks off (each refresh its own Twilio check), and
//    10 000 sessions open in one auth server: its RSS and bytes per session, and the refresh p99 with them open
//    (webhooks off as well, see manySessionsBench);
//  - redis: with REDIS_URL, the Redis commands one chat's lifecycle (start, refreshes, end) costs, from the
//    server's own `INFO commandstats`.
// Every server is started and stopped here, on 127.0.0.1; every loop is bounded.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { startServer } from './proc.mjs';
import { post } from './stack.mjs';
import { load } from './wrk.mjs';

/** The desk's default queue poll (crates/flexdesk-core `QUEUE_POLL_MS`, the README's `queuePollMs` default). */
export const QUEUE_POLL_MS = 30_000;

const say = (s) => console.error(`[bench] ${s}`);
const MAX_IN_FLIGHT = 256;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Starts `n` sessions, `parallel` at a time; resolves to their 201 bodies. */
async function startSessions(url, n, parallel = 32) {
  const out = [];
  let next = 0;
  await Promise.all(Array.from({ length: parallel }, async () => {
    while (next < n) {
      next++;
      out.push(await post(`${url}/v1/sessions`, { customerName: `Customer ${out.length + 1}` }));
    }
  }));
  return out;
}

const calls = async (emulator) => (await fetch(`${emulator.url}/admin/calls`)).json();
const resetCalls = (emulator) => fetch(`${emulator.url}/admin/calls`, { method: 'DELETE' });

/** Waits until the emulator's pipeline has made a task for each of `n` chats (routing comes a moment after a start). */
async function routed(emulator, n, timeoutMs = 120_000) {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const { tasks } = await (await fetch(`${emulator.url}/agent/api/state`)).json();
    if (tasks.length >= n) return;
    await sleep(500);
  }
  throw new Error(`fewer than ${n} tasks routed after ${timeoutMs / 1000} s`);
}

/**
 * One poll interval of every session, spread evenly over it as customers' pages would be (each page polls on its own
 * clock): resolves when each has polled once, to the count of each status other than 200.
 */
async function pollRound(url, sessions, intervalMs) {
  const t0 = performance.now();
  const failed = {};
  const fail = (key) => (failed[key] = (failed[key] ?? 0) + 1);
  // At most this many polls in flight (this process's sockets are bounded); a poll waiting for a slot is late.
  let inFlight = 0;
  const slot = async () => {
    while (inFlight >= MAX_IN_FLIGHT) await sleep(5);
    inFlight++;
  };
  await Promise.all(sessions.map(async (s, i) => {
    await sleep(t0 + (i * intervalMs) / sessions.length - performance.now());
    await slot();
    try {
      const r = await fetch(`${url}/v1/sessions/${s.sessionId}/queue`, { headers: { authorization: `Bearer ${s.sessionCredential}` } });
      const body = await r.text();
      if (r.status !== 200) fail(`${r.status} ${JSON.parse(body || '{}').error?.code ?? ''}`.trim());
    } catch (e) {
      fail(`no answer (${e.cause?.code ?? e.message})`);
    } finally {
      inFlight--;
    }
  }));
  const left = t0 + intervalMs - performance.now();
  if (left > 0) await sleep(left);
  return failed;
}

/**
 * Twilio calls per minute for `counts` waiting customers polling every QUEUE_POLL_MS: a fresh stack per N, every chat
 * routed, then a first round (each chat's task looked up once) and a measured round, counted by the emulator.
 */
export async function queueBench({ startStackUnpaced, counts = [100, 1000, 10000], intervalMs = QUEUE_POLL_MS }) {
  const rows = [];
  for (const n of counts) {
    const stack = await startStackUnpaced();
    try {
      say(`queue: ${n} waiting customers, one poll each per ${intervalMs / 1000} s`);
      const sessions = await startSessions(stack.auth.url, n);
      await routed(stack.emulator, n);
      await resetCalls(stack.emulator);
      const firstFailed = await pollRound(stack.auth.url, sessions, intervalMs);
      const first = await calls(stack.emulator);
      await resetCalls(stack.emulator);
      const failed = await pollRound(stack.auth.url, sessions, intervalMs);
      const measured = await calls(stack.emulator);
      const failedPolls = [...Object.values(firstFailed), ...Object.values(failed)].reduce((a, k) => a + k, 0);
      rows.push({ n, firstRound: first.total, perMinute: (measured.total * 60_000) / intervalMs, byRoute: measured.byRoute, failed: failedPolls, failures: [firstFailed, failed] });
    } finally {
      await stack.stop();
    }
  }
  return { intervalMs, rows };
}

/** A wrk request file: each session's refresh (`path<TAB>body`, bench/wrk/post.lua). */
function refreshFile(dir, sessions) {
  const file = path.join(dir, `refresh-${sessions.length}.tsv`);
  writeFileSync(file, sessions.map((s) => `/v1/sessions/${s.sessionId}/token\t${JSON.stringify({ sessionCredential: s.sessionCredential })}`).join('\n') + '\n');
  return file;
}

const rssKb = (pid) => Number(readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmRSS:\s+(\d+)/m)?.[1] ?? NaN);

/**
 * The refresh rows over many sessions: 1 000 distinct sessions with webhooks off (every refresh asks Twilio for its
 * own chat), and 10 000 open in one server (memory per session, p99 with them open).
 */
export async function manySessionsBench({ startStackUnpaced, seconds, warmup, connections, distinct = 1000, open = 10000 }) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'flexdesk-bench-'));
  try {
    const out = {};
    const off = await startStackUnpaced();
    try {
      say(`refresh: ${distinct} distinct sessions, webhooks off, ${connections} connections`);
      const sessions = await startSessions(off.auth.url, distinct);
      await resetCalls(off.emulator);
      const r = await load(off.auth.url, {}, { seconds, warmup, connections, requestsFile: refreshFile(dir, sessions) });
      const twilio = await calls(off.emulator);
      out.distinct = { sessions: distinct, ...r, raw: undefined, twilioCalls: twilio.total };
    } finally {
      await off.stop();
    }
    // Webhooks off here too, so every refresh asks the emulator, as in the row above. (They were off because no
    // webhook arrived: the emulator's Flex close fires none by default, which configureWebhooks now switches on.)
    const on = await startStackUnpaced();
    try {
      const before = rssKb(on.auth.pid);
      say(`sessions: ${open} open in one auth server`);
      const sessions = await startSessions(on.auth.url, open);
      await sleep(1000); // the starts' buffers returned to the allocator
      const after = rssKb(on.auth.pid);
      say(`refresh: over the ${open} open sessions, webhooks off`);
      const r = await load(on.auth.url, {}, { seconds, warmup, connections, requestsFile: refreshFile(dir, sessions) });
      out.open = { sessions: open, rssBeforeKb: before, rssAfterKb: after, bytesPerSession: ((after - before) * 1024) / open, ...r, raw: undefined };
    } finally {
      await on.stop();
    }
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const freePort = () =>
  new Promise((resolve, reject) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });

/** `INFO commandstats` as { command: calls }. */
function commandstats(port) {
  const text = execFileSync('redis-cli', ['-p', String(port), 'INFO', 'commandstats'], { encoding: 'utf8' });
  return Object.fromEntries([...text.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)].map(([, name, n]) => [name, Number(n)]));
}

/**
 * Redis commands per chat lifecycle with REDIS_URL: `chats` chats each started, refreshed `refreshes` times and
 * ended, one after the other, counted by the Redis server (`CONFIG RESETSTAT` first; the server's own start-up and
 * health checks in the same window are part of what a replica costs). Skipped when `redis-server` is missing.
 */
export async function redisBench({ startStackUnpaced, chats = 20, refreshes = 3 }) {
  let redis;
  try {
    execFileSync('redis-server', ['--version']);
  } catch {
    return { skipped: 'redis-server is not installed' };
  }
  const port = await freePort();
  redis = await startServer('redis-server', 'redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {}, { ready: /Ready to accept connections/ });
  try {
    const stack = await startStackUnpaced({ REDIS_URL: `redis://127.0.0.1:${port}` });
    try {
      // One chat first, so connection set-up and script loading are not counted as a chat's.
      const warm = await post(`${stack.auth.url}/v1/sessions`, { customerName: 'Warm-up' });
      await fetch(`${stack.auth.url}/v1/sessions/${warm.sessionId}`, { method: 'DELETE', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sessionCredential: warm.sessionCredential }) });
      execFileSync('redis-cli', ['-p', String(port), 'CONFIG', 'RESETSTAT']);
      say(`redis: ${chats} chats, each started, refreshed ${refreshes} times and ended`);
      for (let i = 0; i < chats; i++) {
        const s = await post(`${stack.auth.url}/v1/sessions`, { customerName: `Redis ${i}` });
        for (let j = 0; j < refreshes; j++) await post(`${stack.auth.url}/v1/sessions/${s.sessionId}/token`, { sessionCredential: s.sessionCredential });
        const r = await fetch(`${stack.auth.url}/v1/sessions/${s.sessionId}`, { method: 'DELETE', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sessionCredential: s.sessionCredential }) });
        if (r.status !== 204) throw new Error(`ending a chat answered ${r.status}`);
      }
      const stats = commandstats(port);
      delete stats['config|resetstat'];
      delete stats.config;
      delete stats.info;
      const total = Object.values(stats).reduce((a, n) => a + n, 0);
      return { chats, refreshes, perChat: total / chats, byCommand: Object.fromEntries(Object.entries(stats).map(([k, n]) => [k, n / chats])) };
    } finally {
      await stack.stop();
    }
  } finally {
    await redis.stop();
  }
}
