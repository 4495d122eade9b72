// REDIS_URL=rediss:// (issue 25): two auth-server replicas share state through a TLS-only redis-server whose
// certificate comes from a private CA made here with openssl (REDIS_CA_FILE). The shared rate limit holds across
// the replicas, and the keys are really in that Redis (read back with redis-cli --tls). Before issue 25 the server
// refused to start ("REDIS_URL: must be a redis:// URL").
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startBinary } from '../support/servers.mjs';
import { freePort, startReplicas, call, metric } from '../support/replicas.mjs';

const BURST = 4;
let dir, redis, port, emulator, replicas = [];

function certificates() {
  dir = mkdtempSync(path.join(tmpdir(), 'flexdesk-redis-tls-'));
  const f = (n) => path.join(dir, n);
  const ssl = (...args) => execFileSync('openssl', args, { stdio: 'pipe' });
  ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=flexdesk test CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
    '-keyout', f('ca.key'), '-out', f('ca.pem'));
  ssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', f('redis.key'), '-out', f('redis.csr'));
  writeFileSync(f('ext.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n');
  ssl('x509', '-req', '-in', f('redis.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial', '-days', '2',
    '-extfile', f('ext.cnf'), '-out', f('redis.pem'));
  return f;
}

async function startTlsRedis(f) {
  port = await freePort();
  const child = spawn('redis-server', ['--port', '0', '--tls-port', String(port), '--bind', '127.0.0.1',
    '--tls-cert-file', f('redis.pem'), '--tls-key-file', f('redis.key'), '--tls-ca-cert-file', f('ca.pem'),
    '--tls-auth-clients', 'no', '--save', '', '--appendonly', 'no', '--daemonize', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d) => { out += d; });
  child.stderr.setEncoding('utf8').on('data', (d) => { out += d; });
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`redis-server (TLS) did not start:\n${out}`)), 10000);
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`redis-server exited with ${code}:\n${out}`)); });
    child.stdout.on('data', () => {
      if (/Ready to accept connections/.test(out)) { clearTimeout(timer); child.removeAllListeners('exit'); resolve(); }
    });
  });
  return child;
}

const cli = (f, ...args) => execFileSync('redis-cli', ['--tls', '--cacert', f('ca.pem'), '-h', '127.0.0.1', '-p', String(port), ...args], { encoding: 'utf8' });

let f;
before(async () => {
  f = certificates();
  redis = await startTlsRedis(f);
  emulator = await startBinary('flexdesk-emulator', { EMULATOR_PORT: '0' });
  replicas = await startReplicas(2, emulator.url, {
    REDIS_URL: `rediss://127.0.0.1:${port}`,
    REDIS_CA_FILE: f('ca.pem'),
    REDIS_KEY_PREFIX: 'tls-test:',
    REDIS_TIMEOUT_MS: '2000',
    RATE_LIMIT_AVAILABILITY_BURST: String(BURST),
    RATE_LIMIT_AVAILABILITY_PER_MINUTE: String(BURST),
  });
});

after(async () => {
  for (const r of replicas) await r.stop();
  await emulator?.stop();
  if (redis && redis.exitCode === null) { const gone = new Promise((r) => redis.once('exit', r)); redis.kill('SIGKILL'); await gone; }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('the redis-server only speaks TLS: a clear-text client gets nothing', () => {
  assert.throws(() => execFileSync('redis-cli', ['-h', '127.0.0.1', '-p', String(port), 'PING'], { encoding: 'utf8', stdio: 'pipe', timeout: 5000 }));
  assert.equal(cli(f, 'PING').trim(), 'PONG', 'redis-cli --tls with the CA reaches it');
});

test('two replicas on rediss:// share one rate limit through the TLS Redis', async () => {
  const statuses = [];
  for (let i = 0; i < BURST * 2 + 2; i++) {
    const r = replicas[i % 2];
    statuses.push((await call(r.url, 'GET', '/v1/agents/availability', { headers: { 'x-forwarded-for': '10.25.0.1' } })).status);
  }
  assert.equal(statuses.filter((s) => s === 200).length, BURST, `one budget across both replicas: ${statuses}`);
  const keys = cli(f, '--scan', '--pattern', 'tls-test:rl:*').trim().split('\n').filter(Boolean);
  assert.ok(keys.length >= 1, `the budget is a key in the TLS Redis: ${keys}`);
  for (const r of replicas) assert.equal(await metric(r, 'flexdesk_redis_up'), 1, 'each replica reports Redis up');
});
