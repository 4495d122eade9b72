// Several auth-server replicas behind a small round-robin front, sharing a Redis (the three-replica tests in
// tests/reliability/replicas.test.mjs and reliability/replicas.mjs). Redis is Debian's redis-server (installed by
// scripts/bootstrap), started here on a free port with no persistence and stopped after.
import { spawn } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import { startBinary } from './servers.mjs';

export async function freePort() {
  const srv = net.createServer();
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address();
  await new Promise((r) => srv.close(r));
  return port;
}

/** redis-server on `port` (a free one by default); resolves once it accepts connections. */
export async function startRedis(port) {
  port ??= await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d) => { out += d; });
  child.stderr.setEncoding('utf8').on('data', (d) => { out += d; });
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`redis-server did not start:\n${out}`)), 10000);
    child.on('error', (e) => { clearTimeout(timer); reject(new Error(`redis-server: ${e.message} (scripts/bootstrap installs it)`)); });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`redis-server exited with ${code}:\n${out}`)); });
    child.stdout.on('data', () => {
      if (/Ready to accept connections/.test(out)) { clearTimeout(timer); child.removeAllListeners('exit'); resolve(); }
    });
  });
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    child,
    /** Gone at once, as in a crash (SIGKILL). */
    kill: () => new Promise((done) => {
      if (child.exitCode !== null || child.signalCode !== null) return done();
      child.once('exit', () => done());
      child.kill('SIGKILL');
    }),
  };
}

/**
 * A round-robin front over `backends()` (a function, so a killed replica can be skipped): each request goes to the
 * next replica; one that refuses the connection is skipped, as a load balancer's health check would. The client
 * address is what the test puts in `x-test-client` (else the peer), written as X-Forwarded-For: the replicas run
 * with TRUST_PROXY_HOPS=1. Records which replica answered each request (`served`).
 */
export async function startFront(backends) {
  let next = 0;
  const served = [];
  const server = http.createServer(async (req, res) => {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const body = Buffer.concat(chunks);
    const list = backends();
    const client = req.headers['x-test-client'] ?? req.socket.remoteAddress;
    const headers = { ...req.headers, 'x-forwarded-for': client };
    delete headers['x-test-client'];
    delete headers.host;
    for (let tries = 0; tries < list.length; tries++) {
      const i = next++ % list.length;
      const target = new URL(list[i]);
      try {
        const answer = await new Promise((resolve, reject) => {
          const up = http.request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: { ...headers, host: target.host } }, resolve);
          up.on('error', reject);
          up.end(body);
        });
        served.push(i);
        res.writeHead(answer.statusCode, { ...answer.headers, 'x-replica': String(i) });
        answer.pipe(res);
        return;
      } catch (e) {
        if (e.code !== 'ECONNREFUSED' && e.code !== 'ECONNRESET') { res.writeHead(502).end(String(e)); return; }
      }
    }
    res.writeHead(502).end('no replica');
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    served,
    stop: () => new Promise((r) => { server.closeAllConnections?.(); server.close(() => r()); }),
  };
}

/** `n` auth-server replicas against `emulatorUrl`, with `env` (REDIS_URL etc.). */
export async function startReplicas(n, emulatorUrl, env = {}) {
  const replicas = [];
  for (let i = 0; i < n; i++) {
    replicas.push(await startBinary('flexdesk-auth', {
      PORT: '0',
      TRUST_PROXY_HOPS: '1',
      MAX_OPEN_SESSIONS_PER_CLIENT: '0',
      PRE_ENGAGEMENT_KEYS: 'name,email,topic',
      TWILIO_FLEX_API_URL: emulatorUrl,
      TWILIO_CONVERSATIONS_API_URL: emulatorUrl,
      TWILIO_TASKROUTER_API_URL: emulatorUrl,
      ...env,
    }));
  }
  return replicas;
}

/** A JSON call; `client` becomes the X-Forwarded-For address the front writes. */
export async function call(base, method, path, { body, client, headers = {} } = {}) {
  const res = await fetch(base + path, {
    method,
    headers: { 'content-type': 'application/json', ...(client ? { 'x-test-client': client } : {}), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: res.status, json, text, headers: res.headers, replica: res.headers.get('x-replica') };
}

/** A replica's metric (from its admin listener): the value of the first series starting with `series`
 * (a name, or a name and the start of its labels: `flexdesk_redis_fallbacks_total{op="ratelimit"`); 0 if none. */
export async function metric(replica, series) {
  const text = await (await fetch(replica.adminUrl + '/metrics')).text();
  const line = text.split('\n').find((l) => l.startsWith(series));
  return line ? Number(line.split(' ').pop()) : 0;
}
