// flexdesk's benchmarks, side by side in one run (issue 7): `npm run bench` (or `node bench/run.mjs`).
//
//   node bench/run.mjs            the full run (10 s + 2 s warm-up per server), rewrites bench/results.md
//   node bench/run.mjs --quick    2 s + 1 s warm-up, for development; prints the table, leaves results.md alone
//   --only=refresh,session,start,latency,bundle,desk,queue,many,redis   a subset (implies not rewriting results.md)
//
// Everything runs on 127.0.0.1, each load run is bounded in time, and every process started here is stopped
// here. Installs what it needs: wrk (Debian, when root), the Node anchor's own npm dependencies, the release
// builds and the wasm package.
import { createHmac } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { measure } from '../scripts/wasm-size.mjs';
import { shares as crateShares, trials as sizeTrials } from './lib/crates.mjs';
import { deskBench } from './lib/browser.mjs';
import { latencyBench } from './lib/latency.mjs';
import { peakRssKb, run, startServer } from './lib/proc.mjs';
import { load, WRK_THREADS } from './lib/wrk.mjs';
import { describeSplit } from './lib/cpus.mjs';
import { FAKE_TWILIO_ENV } from '../tests/support/fake-env.mjs';
import { AUTH_ENV, bin, configureWebhooks, post, startStack } from './lib/stack.mjs';
import { render, table } from './lib/report.mjs';
import { manySessionsBench, queueBench, redisBench } from './lib/scale.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const only = args.find((a) => a.startsWith('--only='))?.slice('--only='.length).split(',');
const wants = (what) => !only || only.includes(what);
const writeResults = !quick && !only;
// --queue-counts=100,1000: the queue row's sizes (default 100, 1 000, 10 000; --quick 100, 1 000).
const queueCounts = args.find((a) => a.startsWith('--queue-counts='))?.slice('--queue-counts='.length).split(',').map(Number);

const REFRESH = quick ? { seconds: 2, warmup: 1 } : { seconds: 10, warmup: 2 };
const SESSION = quick ? { seconds: 1, warmup: 0 } : { seconds: 3, warmup: 1 };
const CONNECTIONS = 32;
const MESSAGES = 10000;
const say = (s) => console.error(`[bench] ${s}`);

function machine() {
  const cpu = readFileSync('/proc/cpuinfo', 'utf8').match(/^model name\s*:\s*(.+)$/m)?.[1] ?? os.cpus()[0]?.model ?? 'unknown';
  return {
    cores: os.availableParallelism?.() ?? os.cpus().length,
    cpu,
    memGiB: os.totalmem() / 2 ** 30,
    node: process.version,
    date: new Date().toISOString(),
    // Other work on the shared cores skews every figure: the load averages before and after say how much.
    loadBefore: os.loadavg()[0],
    loadavgBefore: os.loadavg(),
  };
}

async function ensureTools() {
  try {
    await run('wrk', ['--version'], { quiet: true }).catch((e) => {
      // wrk --version exits 1 after printing; only a missing binary matters.
      if (/ENOENT/.test(e.code ?? e.message)) throw e;
    });
  } catch {
    if (process.getuid?.() !== 0) throw new Error('wrk is missing: install Debian\'s `wrk` package (apt-get install wrk)');
    say('installing wrk (Debian)');
    await run('apt-get', ['update', '-qq'], { quiet: true });
    await run('apt-get', ['install', '-y', '-qq', 'wrk'], { quiet: true, env: { DEBIAN_FRONTEND: 'noninteractive' } });
  }
  // The Node anchor and the ceiling are only the refresh row's.
  if (!wants('refresh')) return;
  const anchor = path.join(ROOT, 'bench/reference-node');
  const stamp = path.join(anchor, 'node_modules/.package-lock.json');
  if (!existsSync(stamp) || statSync(path.join(anchor, 'package-lock.json')).mtimeMs > statSync(stamp).mtimeMs) {
    say('installing the Node anchor\'s dependencies (bench/reference-node)');
    await run('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: anchor, env: { IBM_TELEMETRY_DISABLED: 'true' } });
  }
}

async function buildServers() {
  say('building flexdesk-auth and flexdesk-emulator (release)');
  await run('cargo', ['build', '--release', '-q', '-p', 'flexdesk-auth', '-p', 'flexdesk-emulator'], { cwd: ROOT });
  if (!wants('refresh')) return;
  say('building the ceiling (bench/ceiling, release)');
  await run('cargo', ['build', '--release', '-q', '--manifest-path', 'bench/ceiling/Cargo.toml'], {
    cwd: ROOT,
    env: { CARGO_TARGET_DIR: path.join(ROOT, 'target/bench-ceiling') },
  });
}

/** Twilio's published rates off on both sides (our pacing and the emulator's 429s): for the server's own capacity. */
const UNPACED = { auth: { TWILIO_WEBCHATS_RATE: '0', TWILIO_INTERACTIONS_RATE: '0', TWILIO_CONVERSATIONS_CREATE_RATE: '0' }, emulator: { EMULATOR_WEBCHATS_RATE: '0', EMULATOR_INTERACTIONS_RATE: '0' } };

/**
 * The three servers must mint the same kind of token for the comparison to mean anything: Twilio's header,
 * the same claim names and chat grant, and an HS256 signature by the API key secret.
 */
function checkToken(name, token) {
  const parts = typeof token === 'string' ? token.split('.') : [];
  if (parts.length !== 3) throw new Error(`${name}: no JWT in the answer (${String(token).slice(0, 80)})`);
  const [header, claims] = parts.slice(0, 2).map((p) => JSON.parse(Buffer.from(p, 'base64url').toString('utf8')));
  const mac = createHmac('sha256', FAKE_TWILIO_ENV.TWILIO_API_KEY_SECRET).update(`${parts[0]}.${parts[1]}`).digest('base64url');
  const problems = [];
  const sorted = (o) => JSON.stringify(Object.entries(o).sort(([a], [b]) => a.localeCompare(b)));
  if (sorted(header) !== sorted({ alg: 'HS256', typ: 'JWT', cty: 'twilio-fpa;v=1' })) problems.push(`header ${JSON.stringify(header)}`);
  if (Object.keys(claims).sort().join() !== 'exp,grants,iat,iss,jti,sub') problems.push(`claims ${Object.keys(claims)}`);
  if (claims.grants?.chat?.service_sid !== FAKE_TWILIO_ENV.TWILIO_CONVERSATIONS_SERVICE_SID || !claims.grants?.identity) problems.push('grants');
  if (claims.iss !== FAKE_TWILIO_ENV.TWILIO_API_KEY_SID || claims.sub !== FAKE_TWILIO_ENV.TWILIO_ACCOUNT_SID) problems.push('iss/sub');
  if (mac !== parts[2]) problems.push('signature');
  if (problems.length) throw new Error(`${name} minted a different token: ${problems.join(', ')}`);
}

/**
 * The three servers loaded in interleaved rounds (flexdesk, node, ceiling, flexdesk, …), so that load from
 * anything else on the shared cores falls on all three alike. Each server gets its warm-up first, then
 * ROUNDS rounds whose durations add up to REFRESH.seconds. req/s = all requests / all time; p50, p99 and max
 * are the worst round's (percentiles cannot be merged exactly; the worst is the honest side to err on).
 */
const ROUNDS = 2;

/**
 * CPU time the host took from this virtual machine (`steal` in /proc/stat, all cores, in ms): on a shared host
 * it stalls whatever runs, the bare ceiling as much as flexdesk-auth, and shows in p99 before anything else.
 */
function stealMs() {
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/);
  return (Number(cpu[8]) || 0) * (1000 / 100); // USER_HZ is 100 on Linux
}

async function refreshRuns(targets) {
  for (const t of targets) {
    checkToken(t.server.name, (await post(t.url, t.body)).token);
    say(`refresh: ${t.server.name}: ${REFRESH.warmup} s warm-up`);
    await load(t.url, t.body, { seconds: REFRESH.warmup, warmup: 0, connections: CONNECTIONS });
  }
  const rounds = new Map(targets.map((t) => [t.key, []]));
  const seconds = REFRESH.seconds / ROUNDS;
  // The servers share the server cores: during one server's round the others are stopped (SIGSTOP), so their own
  // housekeeping (Node's garbage collection after its round, idle timers) cannot land in its tail latency. Measured
  // alone, flexdesk-auth's p99 stayed at 1.1-1.7 ms over 8 rounds; with the others running it reached 5 ms in some runs.
  const pids = [...new Set(targets.flatMap((t) => [t.server.pid, ...(t.extraPids ?? [])]))];
  const signal = (list, sig) => list.forEach((pid) => process.kill(pid, sig));
  for (let i = 0; i < ROUNDS; i++) {
    for (const t of targets) {
      say(`refresh: ${t.server.name}: round ${i + 1}/${ROUNDS}, ${seconds} s, ${CONNECTIONS} connections`);
      const idle = pids.filter((pid) => pid !== t.server.pid && !(t.extraPids ?? []).includes(pid));
      signal(idle, 'SIGSTOP');
      try {
        const stolen = stealMs();
        const r = await load(t.url, t.body, { seconds, warmup: 0, connections: CONNECTIONS });
        rounds.get(t.key).push({ ...r, stealMs: stealMs() - stolen });
      } finally {
        signal(idle, 'SIGCONT');
      }
    }
  }
  const out = {};
  for (const t of targets) {
    const rs = rounds.get(t.key);
    const requests = rs.reduce((a, r) => a + r.requests, 0);
    const worst = (k) => Math.max(...rs.map((r) => r[k]));
    out[t.key] = {
      rps: requests / rs.reduce((a, r) => a + r.raw.duration_us / 1e6, 0),
      roundsRps: rs.map((r) => r.rps),
      roundsStealMs: rs.map((r) => r.stealMs),
      p50Ms: worst('p50Ms'),
      p99Ms: worst('p99Ms'),
      maxMs: worst('maxMs'),
      requests,
      failed: rs.reduce((a, r) => a + r.failed, 0),
      rssKb: peakRssKb(t.server.pid),
      extraRssKb: (t.extraPids ?? []).map(peakRssKb),
    };
  }
  return out;
}

async function refreshAndSessions(results) {
  // flexdesk-auth with TWILIO_WEBHOOKS=on and the emulator posting to it: the refresh row the targets are about.
  const stack = await startStack({ TWILIO_WEBHOOKS: 'on' });
  const others = [];
  try {
    await configureWebhooks(stack);
    // A real session (through the emulator): its credential is valid for all the servers, which share
    // SESSION_SECRET and check the same HMAC.
    const session = await post(`${stack.auth.url}/v1/sessions`, { customerName: 'Bench' });
    const body = { sessionCredential: session.sessionCredential };
    const tokenUrl = (server) => `${server.url}/v1/sessions/${session.sessionId}/token`;
    if (wants('refresh')) {
      // All of them run for the whole refresh benchmark; each is stopped while another is loaded (refreshRuns).
      others.push(await startServer('node anchor', process.execPath, [path.join(ROOT, 'bench/reference-node/server.mjs')], { PORT: '0' }));
      others.push(await startServer('ceiling', bin.ceiling, [], { PORT: '0' }));
      // The same binary with webhooks off: every refresh asks the emulator (one session, so single-flight
      // coalesces the overlapping checks of the 32 connections).
      others.push(await startServer('flexdesk-auth (webhooks off)', bin.auth, [], {
        ...AUTH_ENV, TWILIO_FLEX_API_URL: stack.emulator.url, TWILIO_CONVERSATIONS_API_URL: stack.emulator.url, TWILIO_TASKROUTER_API_URL: stack.emulator.url,
      }));
      const [node, ceiling, off] = others;
      results.refresh = await refreshRuns([
        { key: 'flexdesk', server: stack.auth, url: tokenUrl(stack.auth), body, extraPids: [stack.emulator.pid] },
        { key: 'flexdeskOff', server: off, url: tokenUrl(off), body, extraPids: [stack.emulator.pid] },
        { key: 'node', server: node, url: tokenUrl(node), body },
        { key: 'ceiling', server: ceiling, url: tokenUrl(ceiling), body },
      ]);
      results.settings.rounds = ROUNDS;
    }
    if (wants('start')) results.paced = await pacedStarts(stack);
  } finally {
    for (const server of others) await server.stop();
    await stack.stop();
  }
  if (wants('session')) {
    // The server's own capacity: Twilio's rates off on both sides (with them on, the run would measure 5/s).
    const unpaced = await startStack(UNPACED.auth, UNPACED.emulator);
    try {
      say(`session start (rates off): POST /v1/sessions for ${SESSION.warmup} + ${SESSION.seconds} s, ${CONNECTIONS} connections`);
      const s = await load(`${unpaced.auth.url}/v1/sessions`, { customerName: 'Bench' }, { ...SESSION, connections: CONNECTIONS });
      results.session = { ...s, rssKb: peakRssKb(unpaced.auth.pid), emulatorRssKb: peakRssKb(unpaced.emulator.pid) };
    } finally {
      await unpaced.stop();
    }
  }
}

/** Twilio's published rate for `POST /v2/WebChats` (Flex Conversations limits): the ceiling of start-chat throughput. */
const WEBCHATS_PER_SECOND = 5;

/**
 * Start-chat throughput at Twilio's published rate: `workers` customers start chats back to back for `seconds`
 * against flexdesk-auth (pacing at the published 5/s) and the emulator (enforcing 5/s with 429/45780 like Twilio).
 */
async function pacedStarts(stack, { workers = 10, seconds = quick ? 3 : 10 } = {}) {
  say(`start-chat throughput at Twilio's rate: ${workers} customers for ${seconds} s`);
  await fetch(`${stack.emulator.url}/admin/rates`, { method: 'DELETE' });
  const counts = { created: 0, busy: 0, other: 0 };
  const latencies = [];
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  await Promise.all(Array.from({ length: workers }, async () => {
    while (performance.now() < end) {
      const s = performance.now();
      const r = await fetch(`${stack.auth.url}/v1/sessions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"customerName":"Paced"}' });
      await r.arrayBuffer();
      if (r.status === 201) { counts.created++; latencies.push(performance.now() - s); } else if (r.status === 503) counts.busy++; else counts.other++;
    }
  }));
  const elapsed = (performance.now() - t0) / 1000;
  const rates = await (await fetch(`${stack.emulator.url}/admin/rates`)).json();
  const webchats = rates.webchats ?? rates.endpoints?.webchats ?? rates;
  return { workers, seconds: elapsed, ...counts, perSecond: counts.created / elapsed, ceiling: WEBCHATS_PER_SECOND, twilioRejected: webchats.rejected, twilioMaxPerSecond: webchats.maxPerSecond, p50Ms: median(latencies) };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor((s.length - 1) / 2)] : undefined;
};

async function bundle(results) {
  say('building the wasm package (scripts/build-wasm)');
  await run('bash', ['scripts/build-wasm'], { cwd: ROOT });
  // The same figures `npm run build` prints (scripts/wasm-size.mjs): the wrapper a page loads with it, and the
  // glue + wasm loaded when a chat with an agent starts.
  const m = measure(path.join(ROOT, 'crates/flexdesk/pkg'));
  results.bundle = { files: m.files, raw: m.total.raw, gzip: m.total.gzip, beforeEscalation: m.beforeEscalation };
  const wasm = m.files.find((x) => x.name.endsWith('.wasm'));
  results.bundle.crates = crateShares(ROOT, say).map((x) => ({ ...x, gzipEstimate: x.fraction * (wasm?.gzip ?? 0) }));
  results.bundle.trials = sizeTrials(ROOT, say);
}

async function main() {
  const results = { machine: machine(), quick, settings: { refresh: REFRESH, session: SESSION, connections: CONNECTIONS, messages: MESSAGES, wrkThreads: WRK_THREADS, cpus: describeSplit() } };
  say(`${results.machine.cores} cores, ${results.machine.cpu}${quick ? ' (quick run: figures are indicative only)' : ''}`);
  const scale = ['queue', 'many', 'redis'].filter(wants);
  if (wants('refresh') || wants('session') || wants('start') || wants('latency') || scale.length) {
    await ensureTools();
    await buildServers();
  }
  if (wants('refresh') || wants('session') || wants('start')) await refreshAndSessions(results);
  if (wants('bundle') || wants('desk')) await bundle(results);
  if (wants('latency')) {
    say('latency: startChat → connecting → agentJoined with the real Conversations SDK, and the floor (5 runs)');
    // Rates off: the floor's start follows the chat's within a second, and pacing would make it wait.
    results.latency = await latencyBench({ startStack: (env) => startStack({ ...UNPACED.auth, ...env }, UNPACED.emulator), runs: quick ? 3 : 5 });
  }
  // Contact-centre scale (issue 27), each on fresh stacks with Twilio's rates off (the figures are the server's and
  // the emulator's counts, not Twilio's pacing).
  const startStackUnpaced = (env = {}) => startStack({ ...UNPACED.auth, ...env }, UNPACED.emulator);
  if (wants('queue')) results.queue = await queueBench({ startStackUnpaced, counts: queueCounts ?? (quick ? [100, 1000] : [100, 1000, 10000]), ...(quick && { intervalMs: 5000 }) });
  if (wants('many')) results.many = await manySessionsBench({ startStackUnpaced, ...(quick ? { seconds: 2, warmup: 1, distinct: 200, open: 2000 } : REFRESH), connections: CONNECTIONS });
  if (wants('redis')) results.redis = await redisBench({ startStackUnpaced });
  if (wants('desk')) {
    say(`desk: cold start x3, ${MESSAGES} messages each way and the memory after ${MESSAGES} in headless Chromium`);
    results.desk = await deskBench({ messages: MESSAGES, coldRuns: 3 });
  }
  results.machine.loadAfter = os.loadavg()[0];
  results.machine.loadavgAfter = os.loadavg();
  console.log(table(results));
  if (writeResults) {
    writeFileSync(path.join(ROOT, 'bench/results.md'), render(results, readNotes()));
    say('wrote bench/results.md');
  } else {
    say('partial or quick run: bench/results.md left as it was');
  }
}

/** The hand-written analysis kept across runs: everything from the notes marker on in the current file. */
function readNotes() {
  const file = path.join(ROOT, 'bench/results.md');
  if (!existsSync(file)) return '';
  const text = readFileSync(file, 'utf8');
  const at = text.indexOf('<!-- notes -->');
  return at < 0 ? '' : text.slice(at);
}

main().catch((e) => {
  console.error(`[bench] failed: ${e.stack ?? e}`);
  process.exit(1);
});
