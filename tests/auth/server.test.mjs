// The auth server binary as deployed: real HTTP, CORS headers, the session lifecycle against the project's Twilio
// emulator (docs/emulator.md), config errors at start, secrets kept out of its output, and a clean stop on SIGTERM.
// Needs `cargo build --workspace --bins`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import { routedTask, startBinary, startStack, ROOT } from '../support/servers.mjs';
import { FAKE_TWILIO_ENV as ENV } from '../support/fake-env.mjs';

const ORIGIN = 'http://localhost:5173';
let stack, auth, emulator;
before(async () => {
  stack = await startStack({ ALLOWED_ORIGINS: ORIGIN, RUST_LOG: 'debug' });
  ({ auth, emulator } = stack);
});
after(async () => {
  await stack?.stop();
});

/** The emulator's `GET /admin/state` (docs/emulator.md, test controls). */
const emulatorState = async () => (await fetch(`${emulator.url}/admin/state`)).json();
const conversationOf = async (sid) => (await emulatorState()).conversations.find((c) => c.sid === sid);

const post = (p, body, headers = {}) =>
  fetch(`${auth.url}${p}`, { method: 'POST', headers: { 'content-type': 'application/json', origin: ORIGIN, ...headers }, body: JSON.stringify(body) });

test('a chat starts, refreshes, ends, and then refuses to refresh', async () => {
  const res = await post('/v1/sessions', { customerName: 'Ada', handoff: { message_to_human_agent: 'help', transcript: [{ from: 'user', text: 'hi' }] } });
  assert.equal(res.status, 201);
  assert.equal(res.headers.get('access-control-allow-origin'), ORIGIN);
  const s = await res.json();
  // The emulator answers POST /v2/WebChats only with valid Basic auth and the configured AddressSid (else 401 / 404),
  // so the 201 above already says both were sent; the exact credential pair and the absent Identity are checked on
  // the wire by the next test.
  const conv = await conversationOf(s.conversationSid);
  assert.ok(conv, 'the session is a conversation the emulator created');
  assert.equal(conv.serviceSid, ENV.TWILIO_CONVERSATIONS_SERVICE_SID, 'a Flex chat, in the Flex service');
  assert.deepEqual(conv.participants.map((p) => p.identity), [s.identity], 'Twilio chooses the identity in the webchat mode');

  // The conversation carries the PreEngagementData the server sent (where the address's Studio flow reads it), and
  // the flow routed it a moment after the hand-off message (Flex's pipeline).
  const attrs = JSON.parse(conv.attributes);
  assert.equal(attrs.pre_engagement_data.question, 'help');
  assert.deepEqual(attrs.pre_engagement_data.transcript, [{ from: 'user', text: 'hi' }]);
  const task = await routedTask(emulator.url, s.conversationSid);
  assert.equal(task.status, 'pending', 'a Flex task was created for the conversation');

  const refreshed = await post(`/v1/sessions/${s.sessionId}/token`, { sessionCredential: s.sessionCredential });
  assert.equal(refreshed.status, 200);

  const end = await fetch(`${auth.url}/v1/sessions/${s.sessionId}`, {
    method: 'DELETE',
    headers: { origin: ORIGIN, authorization: `Bearer ${s.sessionCredential}` },
  });
  assert.equal(end.status, 204);
  assert.equal((await conversationOf(s.conversationSid)).state, 'closed', 'the DELETE closed the conversation (State=closed)');

  const after = await post(`/v1/sessions/${s.sessionId}/token`, { sessionCredential: s.sessionCredential });
  assert.equal(after.status, 404);
  assert.equal((await after.json()).error.code, 'session_ended');
  // The old access token is no credential.
  const withToken = await post(`/v1/sessions/${s.sessionId}/token`, { sessionCredential: s.token });
  assert.equal(withToken.status, 401);
});

// A minimal in-test stub, on purpose: the emulator, like Twilio, ignores an `Identity` sent to CreateWebChannel and
// accepts either credential pair (account SID + auth token, or API key SID + secret), so what the binary puts on the
// wire for these two facts is not observable through it. The stub records the one request and answers as twilio-oai
// flex v2 CreateWebChannel does (201 `{conversation_sid, identity}`, the spec's example identity). Library-level
// counterpart: crates/flexdesk-auth/tests/api/sessions.rs (wiremock).
test('the chat start request carries the API key (not the auth token) and no Identity (in-test stub)', async () => {
  const seen = [];
  const stub = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      seen.push({ method: req.method, path: req.url, form: Object.fromEntries(new URLSearchParams(body)), authorization: req.headers.authorization });
      const ok = req.method === 'POST' && req.url === '/v2/WebChats';
      // The hand-off message that routes the chat (twilio-oai CreateServiceConversationMessage answers 201).
      const message = req.method === 'POST' && req.url.endsWith('/Messages');
      res.writeHead(ok || message ? 201 : 404, { 'content-type': 'application/json' });
      res.end(JSON.stringify(ok ? { conversation_sid: 'CH' + '2'.repeat(32), identity: 'seinfeld' } : message ? { sid: 'IM' + '1'.repeat(32), index: 0 } : { code: 20404, message: 'The requested resource was not found', status: 404 }));
    });
  });
  await new Promise((resolve) => stub.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${stub.address().port}`;
  const other = await startBinary('flexdesk-auth', { PORT: '0', TWILIO_FLEX_API_URL: url, TWILIO_CONVERSATIONS_API_URL: url, TWILIO_TASKROUTER_API_URL: url });
  try {
    const res = await fetch(`${other.url}/v1/sessions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ customerName: 'Ada' }) });
    assert.equal(res.status, 201);
    assert.equal((await res.json()).identity, 'seinfeld', 'Twilio chooses the identity in the webchat mode');
    const start = seen.find((r) => r.method === 'POST' && r.path === '/v2/WebChats');
    assert.ok(start, 'the server called CreateWebChannel');
    assert.equal(start.form.AddressSid, ENV.TWILIO_ADDRESS_SID);
    assert.equal(start.form.Identity, undefined, 'CreateWebChannel has no Identity parameter');
    // REST uses the API key even with TWILIO_AUTH_TOKEN set: the Auth Token only checks webhook signatures (issue 25).
    const basic = Buffer.from(`${ENV.TWILIO_API_KEY_SID}:${ENV.TWILIO_API_KEY_SECRET}`).toString('base64');
    assert.equal(start.authorization, `Basic ${basic}`);
  } finally {
    await other.stop();
    await new Promise((resolve) => stub.close(resolve));
  }
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
  // A known TaskRouter picture in the emulator: a chat waiting (its task pending) for >= 1 s, one of the two agents
  // (EMULATOR_AGENTS default Alice,Bob) unavailable. The figures come from its RealTimeStatistics; the waiting count
  // is read from its task list, so a chat another test left open does not make this test fail too.
  const waiting = await (await post('/v1/sessions', { customerName: 'Linus' })).json();
  await routedTask(emulator.url, waiting.conversationSid);
  const startedAt = Date.now();
  const bob = await fetch(`${emulator.url}/agent/api/agents/bob/availability`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ available: false }),
  });
  assert.equal(bob.status, 200, await bob.clone().text());
  try {
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const a = await (await fetch(`${auth.url}/v1/agents/availability`, { headers: { origin: ORIGIN } })).json();
    const elapsed = Math.ceil((Date.now() - startedAt) / 1000);
    const tasks = (await emulatorState()).tasks.filter((t) => t.taskChannel === 'chat' && ['pending', 'reserved'].includes(t.status));
    assert.ok(tasks.some((t) => t.conversationSid === waiting.conversationSid), 'the new chat waits');
    assert.deepEqual({ ...a, longestWaitSeconds: undefined }, { agentsAvailable: 1, tasksWaiting: tasks.length, longestWaitSeconds: undefined });
    assert.ok(a.longestWaitSeconds >= 1 && a.longestWaitSeconds <= elapsed + 1, `longestWaitSeconds ${a.longestWaitSeconds}`);
  } finally {
    await fetch(`${emulator.url}/agent/api/agents/bob/availability`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ available: true }),
    });
    await fetch(`${auth.url}/v1/sessions/${waiting.sessionId}`, { method: 'DELETE', headers: { origin: ORIGIN, authorization: `Bearer ${waiting.sessionCredential}` } });
  }
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
  const other = await startBinary('flexdesk-auth', { PORT: '0', TWILIO_FLEX_API_URL: emulator.url, TWILIO_CONVERSATIONS_API_URL: emulator.url, TWILIO_TASKROUTER_API_URL: emulator.url });
  const code = new Promise((resolve) => other.child.once('exit', (c, signal) => resolve({ c, signal })));
  other.child.kill('SIGTERM');
  assert.deepEqual(await code, { c: 0, signal: null });
  assert.match(other.output(), /shutting down/);
});
