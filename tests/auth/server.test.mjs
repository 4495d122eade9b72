// The auth server binary as deployed: real HTTP, CORS headers, the session lifecycle against a fake
// Twilio, config errors at start, secrets kept out of its output, and a clean stop on SIGTERM.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { startBinary, ROOT } from '../support/servers.mjs';
import { FAKE_TWILIO_ENV as ENV } from '../support/fake-env.mjs';
import { startFakeTwilio } from '../../crates/flexdesk-auth/tests/node/fake-twilio.mjs';

const ORIGIN = 'http://localhost:5173';
let fake, auth;
before(async () => {
  fake = await startFakeTwilio();
  auth = await startBinary('flexdesk-auth', { PORT: '0', ALLOWED_ORIGINS: ORIGIN, RUST_LOG: 'debug', ...fake.env });
});
after(async () => {
  await auth?.stop();
  await fake?.stop();
});

const post = (p, body, headers = {}) =>
  fetch(`${auth.url}${p}`, { method: 'POST', headers: { 'content-type': 'application/json', origin: ORIGIN, ...headers }, body: JSON.stringify(body) });

test('a chat starts, refreshes, ends, and then refuses to refresh', async () => {
  const res = await post('/v1/sessions', { customerName: 'Ada', handoff: { message_to_human_agent: 'help', transcript: [{ from: 'user', text: 'hi' }] } });
  assert.equal(res.status, 201);
  assert.equal(res.headers.get('access-control-allow-origin'), ORIGIN);
  const s = await res.json();
  assert.equal(s.conversationSid, fake.conversationSid);
  assert.equal(s.identity, fake.identity, 'Twilio chooses the identity in the webchat mode');

  const start = fake.requests.find((r) => r.path === '/v2/WebChats');
  assert.equal(start.form.AddressSid, ENV.TWILIO_ADDRESS_SID);
  assert.equal(start.form.Identity, undefined, 'CreateWebChannel has no Identity parameter');
  const pre = JSON.parse(start.form.PreEngagementData);
  assert.equal(pre.question, 'help');
  assert.deepEqual(pre.transcript, [{ from: 'user', text: 'hi' }]);
  const basic = Buffer.from(`${ENV.TWILIO_ACCOUNT_SID}:${ENV.TWILIO_AUTH_TOKEN}`).toString('base64');
  assert.equal(start.authorization, `Basic ${basic}`);

  const refreshed = await post(`/v1/sessions/${s.sessionId}/token`, { sessionCredential: s.sessionCredential });
  assert.equal(refreshed.status, 200);

  const end = await fetch(`${auth.url}/v1/sessions/${s.sessionId}`, {
    method: 'DELETE',
    headers: { origin: ORIGIN, authorization: `Bearer ${s.sessionCredential}` },
  });
  assert.equal(end.status, 204);
  assert.ok(fake.requests.some((r) => r.method === 'POST' && r.path === `/v1/Services/${ENV.TWILIO_CONVERSATIONS_SERVICE_SID}/Conversations/${fake.conversationSid}` && r.form.State === 'closed'));

  const after = await post(`/v1/sessions/${s.sessionId}/token`, { sessionCredential: s.sessionCredential });
  assert.equal(after.status, 404);
  assert.equal((await after.json()).error.code, 'session_ended');
  // The old access token is no credential.
  const withToken = await post(`/v1/sessions/${s.sessionId}/token`, { sessionCredential: s.token });
  assert.equal(withToken.status, 401);
});

test('CORS: a listed origin gets a preflight answer, another origin a 403', async () => {
  const preflight = (origin) =>
    fetch(`${auth.url}/v1/sessions`, {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
    });
  const ok = await preflight(ORIGIN);
  assert.equal(ok.status, 200);
  assert.equal(ok.headers.get('access-control-allow-origin'), ORIGIN);
  const bad = await preflight('https://evil.example');
  assert.equal(bad.status, 403);
  assert.equal(bad.headers.get('access-control-allow-origin'), null);
  assert.equal((await bad.json()).error.code, 'origin_not_allowed');
});

test('availability, health, metrics and the OpenAPI document (the last two on the admin listener only)', async () => {
  const a = await fetch(`${auth.url}/v1/agents/availability`, { headers: { origin: ORIGIN } });
  assert.deepEqual(await a.json(), { agentsAvailable: 2, tasksWaiting: 1, longestWaitSeconds: 7 });
  assert.deepEqual(await (await fetch(`${auth.url}/healthz`)).json(), { status: 'ok' });
  assert.ok(auth.adminUrl && auth.adminUrl !== auth.url, 'the binary announced its admin listener');
  assert.match(await (await fetch(`${auth.adminUrl}/metrics`)).text(), /flexdesk_http_requests_total\{route="\/v1\/sessions",method="POST",status="201"\}/);
  const doc = await (await fetch(`${auth.adminUrl}/openapi.json`)).json();
  assert.ok(doc.paths['/v1/sessions'].post);
  for (const adminOnly of ['/metrics', '/openapi.json']) assert.equal((await fetch(`${auth.url}${adminOnly}`)).status, 404, adminOnly);
});

test('no secret appears in the server output (debug logs included)', async () => {
  const s = await (await post('/v1/sessions', { customerName: 'Grace' })).json();
  await post(`/v1/sessions/${s.sessionId}/token`, { sessionCredential: 'forged.1.AAAA' });
  const out = auth.output();
  assert.match(out, /chat started/);
  for (const secret of [ENV.TWILIO_AUTH_TOKEN, ENV.TWILIO_API_KEY_SECRET, ENV.SESSION_SECRET, s.token, s.sessionCredential]) {
    assert.ok(!out.includes(secret), 'a secret reached the logs');
  }
});

test('a bad configuration stops the start with every bad key named', () => {
  const bin = path.join(ROOT, 'target', 'debug', 'flexdesk-auth');
  const env = { ...process.env, ...ENV, TWILIO_ACCOUNT_SID: 'AC123', TOKEN_TTL_SECONDS: '999999', ALLOWED_ORIGINS: '*', PORT: '0' };
  delete env.SESSION_SECRET;
  const out = spawnSync(bin, [], { env, encoding: 'utf8', timeout: 10000 });
  assert.equal(out.status, 2);
  for (const key of ['TWILIO_ACCOUNT_SID', 'TOKEN_TTL_SECONDS', 'ALLOWED_ORIGINS', 'SESSION_SECRET']) assert.match(out.stderr, new RegExp(key));
  assert.ok(!out.stderr.includes(ENV.TWILIO_API_KEY_SECRET));
  assert.equal(out.stdout, '');
});

test('SIGTERM stops the server cleanly', async () => {
  const other = await startBinary('flexdesk-auth', { PORT: '0', ...fake.env });
  const code = new Promise((resolve) => other.child.once('exit', (c, signal) => resolve({ c, signal })));
  other.child.kill('SIGTERM');
  assert.deepEqual(await code, { c: 0, signal: null });
  assert.match(other.output(), /shutting down/);
});
