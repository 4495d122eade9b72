// The auth server as a service (issue 16 item 3), as deploy/Dockerfile and deploy/flexdesk-auth.service run it: the
// binary started from an empty directory with only environment variables, as a non-root user (nobody, when the test
// runs as root), with BIND=0.0.0.0 and LOG_FORMAT=json. It answers /healthz and /readyz (and its `healthcheck`
// subcommand, the image's HEALTHCHECK, agrees), /readyz probes Twilio only when traffic has not shown it reachable and
// caches a failed probe, and SIGTERM mid-request finishes the in-flight chat start, refuses new connections and exits 0.
// Needs `cargo build --workspace --bins` (or `cargo build --release -p flexdesk-auth`: the newer binary is used).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ROOT, startBinary } from '../support/servers.mjs';
import { FAKE_TWILIO_ENV as ENV } from '../support/fake-env.mjs';

const BIN = ['debug', 'release']
  .map((p) => path.join(ROOT, 'target', p, 'flexdesk-auth'))
  .filter(existsSync)
  .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0];
const AS_ROOT = process.getuid?.() === 0;
const NOBODY = 65534; // nobody / nogroup
const SECRETS = [ENV.TWILIO_API_KEY_SECRET, ENV.TWILIO_AUTH_TOKEN, ENV.SESSION_SECRET];

let emulator;
let dir;
before(async () => {
  assert.ok(BIN, 'flexdesk-auth is not built: run `cargo build --workspace --bins`');
  emulator = await startBinary('flexdesk-emulator', { EMULATOR_PORT: '0' });
  dir = mkdtempSync(path.join(os.tmpdir(), 'flexdesk-service-'));
  chmodSync(dir, 0o755); // nobody may enter it, not write to it
});
after(async () => {
  await emulator?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Only these variables: no .env, no inherited TWILIO_*; the Twilio URLs point at the emulator. */
function serviceEnv(extra = {}) {
  return {
    PATH: '/usr/bin:/bin',
    ...ENV,
    TWILIO_FLEX_API_URL: emulator.url,
    TWILIO_CONVERSATIONS_API_URL: emulator.url,
    TWILIO_TASKROUTER_API_URL: emulator.url,
    BIND: '0.0.0.0',
    PORT: '0',
    LOG_FORMAT: 'json',
    RUST_LOG: 'info',
    ...extra,
  };
}

const asUser = AS_ROOT ? { uid: NOBODY, gid: NOBODY } : {};

/** Starts the server; resolves to { port, child, out(), err(), exited }. */
function startService(extra = {}) {
  const child = spawn(BIN, [], { cwd: dir, env: serviceEnv(extra), stdio: ['ignore', 'pipe', 'pipe'], ...asUser });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (c) => (out += c));
  child.stderr.setEncoding('utf8').on('data', (c) => (err += c));
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`did not start:\n${out}\n${err}`)), 20000);
    exited.then((e) => reject(new Error(`exited ${JSON.stringify(e)} before listening:\n${out}\n${err}`)));
    child.stdout.on('data', () => {
      const m = out.match(/^listening on http:\/\/([\d.]+):(\d+)$/m);
      if (!m) return;
      clearTimeout(timer);
      resolve({ host: m[1], port: Number(m[2]), child, out: () => out, err: () => err, exited, url: `http://127.0.0.1:${m[2]}` });
    });
  });
}

/** `flexdesk-auth healthcheck [--ready]` with the service's environment; resolves to { code, out }. */
function healthcheck(port, args = [], extra = {}) {
  return new Promise((resolve) => {
    const child = spawn(BIN, ['healthcheck', ...args], { cwd: dir, env: serviceEnv({ PORT: String(port), ...extra }), ...asUser });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (c) => (out += c));
    child.stderr.setEncoding('utf8').on('data', (c) => (out += c));
    child.on('exit', (code) => resolve({ code, out }));
  });
}

/** How many times the emulator logged a REST call to exactly the path `p` (its `twilio REST` line, one per call). */
const emulatorCalls = (p) => {
  const exact = new RegExp(`${p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![/\\w])`);
  return emulator.output().split('\n').filter((l) => l.includes('twilio REST') && exact.test(l)).length;
};

/** Resolves true when a new TCP connection to the port is refused. */
const refused = (port) =>
  new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', (e) => resolve(e.code === 'ECONNREFUSED'));
  });

const stopService = async (svc) => {
  if (svc.child.exitCode === null && svc.child.signalCode === null) svc.child.kill('SIGTERM');
  return svc.exited;
};

test('from an empty directory, with only environment variables, as a non-root user, on 0.0.0.0: /healthz, /readyz, healthcheck', async () => {
  assert.deepEqual(readdirSync(dir), [], 'the working directory is empty');
  const svc = await startService();
  try {
    assert.equal(svc.host, '0.0.0.0', 'BIND=0.0.0.0 is the public listener');
    if (AS_ROOT) {
      const uid = readFileSync(`/proc/${svc.child.pid}/status`, 'utf8').match(/^Uid:\s+(\d+)/m)[1];
      assert.equal(Number(uid), NOBODY, 'the server runs as nobody');
    }
    // Reachable on a non-loopback address too, when the machine has one.
    const external = Object.values(os.networkInterfaces()).flat().find((i) => i && i.family === 'IPv4' && !i.internal);
    if (external) assert.equal((await fetch(`http://${external.address}:${svc.port}/healthz`)).status, 200);

    assert.deepEqual(await (await fetch(`${svc.url}/healthz`)).json(), { status: 'ok' });
    // No Twilio call yet: /readyz probes (FetchService of the configured service), then answers from that.
    const probePath = `/v1/Services/${ENV.TWILIO_CONVERSATIONS_SERVICE_SID}`;
    const before = emulatorCalls(probePath);
    const r = await fetch(`${svc.url}/readyz`);
    assert.equal(r.status, 200);
    const body = await r.json();
    assert.equal(body.status, 'ready');
    assert.equal(typeof body.twilio.lastAnsweredSecondsAgo, 'number');
    for (let i = 0; i < 5; i++) assert.equal((await fetch(`${svc.url}/readyz`)).status, 200);
    const probes = emulatorCalls(probePath) - before;
    assert.equal(probes, 1, 'one probe, then the fresh answer is reused');

    // The image's HEALTHCHECK: the binary itself, no curl; a proxy meant for Twilio is not used for it.
    const hc = await healthcheck(svc.port, [], { HTTP_PROXY: 'http://127.0.0.1:9', ALL_PROXY: 'http://127.0.0.1:9' });
    assert.equal(hc.code, 0, hc.out);
    assert.match(hc.out, /127\.0\.0\.1:\d+\/healthz: 200/);
    const ready = await healthcheck(svc.port, ['--ready']);
    assert.equal(ready.code, 0, ready.out);
    assert.deepEqual(readdirSync(dir), [], 'nothing was written to the working directory');
  } finally {
    const { code } = await stopService(svc);
    assert.equal(code, 0);
  }
  // JSON logs: every stderr line is one JSON object, the request lines carry their span, no secret anywhere.
  const lines = svc.err().split('\n').filter(Boolean);
  assert.ok(lines.length > 3, svc.err());
  const parsed = lines.map((l) => {
    try {
      return JSON.parse(l);
    } catch {
      assert.fail(`not a JSON log line: ${l}`);
    }
  });
  for (const p of parsed) assert.ok(p.timestamp && p.level && p.fields, JSON.stringify(p));
  assert.ok(parsed.some((p) => p.span?.name === 'request' && p.span.path === '/readyz'), 'request lines carry the request span');
  assert.ok(parsed.some((p) => p.fields.message === 'stopped'));
  for (const s of SECRETS) assert.ok(!svc.err().includes(s) && !svc.out().includes(s), 'a secret was logged');
});

test('/readyz is 503 with a reason when Twilio refuses or does not answer, caches a failed probe, and healthcheck --ready agrees', async () => {
  const unknownService = `IS${'0'.repeat(29)}bad`;
  const probePath = `/v1/Services/${unknownService}`;
  const svc = await startService({ TWILIO_CONVERSATIONS_SERVICE_SID: unknownService, READY_PROBE_RETRY_SECONDS: '1' });
  try {
    const before = emulatorCalls(probePath);
    const r = await fetch(`${svc.url}/readyz`);
    assert.equal(r.status, 503);
    const body = await r.json();
    assert.equal(body.status, 'not_ready');
    assert.equal(body.reason, 'twilio_refused');
    assert.ok(body.message);
    for (let i = 0; i < 5; i++) assert.equal((await fetch(`${svc.url}/readyz`)).status, 503);
    assert.equal(emulatorCalls(probePath) - before, 1, 'a failed probe is reused for READY_PROBE_RETRY_SECONDS');
    await new Promise((res) => setTimeout(res, 1100));
    assert.equal((await fetch(`${svc.url}/readyz`)).status, 503);
    assert.equal(emulatorCalls(probePath) - before, 2, 'then Twilio is probed again');
    // Liveness is not readiness: the process is alive.
    assert.equal((await healthcheck(svc.port)).code, 0);
    const hc = await healthcheck(svc.port, ['--ready']);
    assert.equal(hc.code, 1, hc.out);
    assert.match(hc.out, /503/);
  } finally {
    await stopService(svc);
  }

  const dead = await startService({ TWILIO_CONVERSATIONS_API_URL: 'http://127.0.0.1:9' });
  try {
    const r = await fetch(`${dead.url}/readyz`);
    assert.equal(r.status, 503);
    assert.equal((await r.json()).reason, 'twilio_unreachable');
  } finally {
    await stopService(dead);
  }
});

test('chat traffic keeps /readyz fresh without a probe', async () => {
  const svc = await startService({ MAX_OPEN_SESSIONS_PER_CLIENT: '0' });
  try {
    const probePath = `/v1/Services/${ENV.TWILIO_CONVERSATIONS_SERVICE_SID}`;
    const start = await fetch(`${svc.url}/v1/sessions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ customerName: 'Ada' }) });
    assert.equal(start.status, 201);
    const before = emulatorCalls(probePath);
    assert.equal((await fetch(`${svc.url}/readyz`)).status, 200);
    assert.equal(emulatorCalls(probePath), before, 'the chat start showed Twilio reachable: no probe');
  } finally {
    await stopService(svc);
  }
});

test('SIGTERM mid-request: the in-flight chat start completes, new connections are refused, the process exits 0', async () => {
  const svc = await startService({ MAX_OPEN_SESSIONS_PER_CLIENT: '0' });
  const faults = (body) => fetch(`${emulator.url}/admin/faults`, { method: body ? 'POST' : 'DELETE', headers: { 'content-type': 'application/json' }, body: body && JSON.stringify(body) });
  try {
    assert.equal((await faults({ delayMs: 1500 })).status, 200);
    const started = Date.now();
    const inflight = fetch(`${svc.url}/v1/sessions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ customerName: 'Grace' }) });
    // The start is now waiting on the (slowed) emulator.
    await new Promise((res) => setTimeout(res, 400));
    svc.child.kill('SIGTERM');
    // New connections are refused while the in-flight request is still running.
    let refusedAt = null;
    for (let i = 0; i < 40 && refusedAt === null; i++) {
      if (await refused(svc.port)) refusedAt = Date.now();
      else await new Promise((res) => setTimeout(res, 25));
    }
    assert.ok(refusedAt !== null, 'the listener still accepts connections after SIGTERM');
    const res = await inflight;
    const doneAt = Date.now();
    assert.equal(res.status, 201, 'the in-flight start completed');
    const s = await res.json();
    assert.match(s.conversationSid, /^CH[0-9a-f]{32}$/);
    assert.ok(s.sessionCredential && s.token);
    assert.ok(doneAt - started >= 1400, 'it really waited on the slow emulator');
    assert.ok(refusedAt < doneAt, 'connections were refused before the in-flight request finished');
    const { code, signal } = await svc.exited;
    assert.deepEqual({ code, signal }, { code: 0, signal: null });
    assert.match(svc.err(), /shutting down/);
    assert.match(svc.err(), /"stopped"/);
  } finally {
    await faults(null);
    await stopService(svc);
  }
});

test('deploy/: the systemd unit verifies (systemd-analyze) and the Dockerfile runs the binary as a non-root user with its own HEALTHCHECK', async (t) => {
  const unit = readFileSync(path.join(ROOT, 'deploy/flexdesk-auth.service'), 'utf8');
  for (const line of ['DynamicUser=yes', 'ProtectSystem=strict', 'NoNewPrivileges=yes', 'EnvironmentFile=/etc/flexdesk-auth/env', 'KillSignal=SIGTERM']) {
    assert.ok(unit.split('\n').includes(line), `the unit lacks ${line}`);
  }
  const docker = readFileSync(path.join(ROOT, 'deploy/Dockerfile'), 'utf8');
  const entry = JSON.parse(docker.match(/^ENTRYPOINT (\[.*\])$/m)[1]);
  const health = JSON.parse(docker.match(/^HEALTHCHECK .* CMD (\[.*\])$/m)[1]);
  assert.deepEqual(health, [entry[0], 'healthcheck'], 'the HEALTHCHECK is the binary itself (no curl in distroless)');
  assert.match(docker, /^COPY --from=build \/flexdesk-auth \/usr\/local\/bin\/flexdesk-auth$/m);
  assert.equal(entry[0], '/usr/local/bin/flexdesk-auth');
  assert.match(docker, /^FROM gcr\.io\/distroless\/\S+:nonroot$/m);
  assert.match(docker, /^USER nonroot:nonroot$/m);
  assert.match(docker, /^ENV BIND=0\.0\.0\.0 /m);

  const analyze = ['/usr/bin/systemd-analyze', '/bin/systemd-analyze'].find(existsSync);
  if (!analyze) return t.skip('systemd-analyze is not installed');
  // The unit as installed, with the built binary and an empty environment file in place of /usr/local/bin and /etc.
  const unitDir = mkdtempSync(path.join(os.tmpdir(), 'flexdesk-unit-'));
  try {
    const envFile = path.join(unitDir, 'env');
    writeFileSync(envFile, '');
    const file = path.join(unitDir, 'flexdesk-auth.service');
    writeFileSync(file, unit.replace('ExecStart=/usr/local/bin/flexdesk-auth', `ExecStart=${BIN}`).replace('EnvironmentFile=/etc/flexdesk-auth/env', `EnvironmentFile=${envFile}`));
    const r = await new Promise((resolve) => {
      const c = spawn(analyze, ['verify', file], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      c.stdout.on('data', (d) => (out += d));
      c.stderr.on('data', (d) => (out += d));
      c.on('exit', (code) => resolve({ code, out }));
    });
    assert.equal(r.code, 0, r.out);
    // Unknown or misspelt keys are only warnings for systemd: none allowed.
    assert.deepEqual(r.out.split('\n').filter((l) => l.includes('flexdesk-auth.service')), [], r.out);
  } finally {
    rmSync(unitDir, { recursive: true, force: true });
  }
});
