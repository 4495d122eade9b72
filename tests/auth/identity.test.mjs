// Issue 17, item 1, server side: verified customer identity. The host page's back end signs a JWT for a signed-in
// customer; `POST /v1/sessions` with `identityToken` verifies it (HS256 with IDENTITY_JWT_SECRET, or RS256 from a JWKS
// file or URL), derives a stable Twilio identity from issuer + subject, and puts the verified name / email / id in the
// task's `customers` attributes. A token that does not verify is a 401 and nothing reaches Twilio (the emulator sees
// no conversation and no task). Needs `cargo build --workspace --bins`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import http from 'node:http';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { startBinary, startStack, ROOT, routedTask } from '../support/servers.mjs';

const SECRET = 'identity-secret-for-the-node-tests-0123456789';
const ISSUER = 'https://shop.example.com';
const AUDIENCE = 'flexdesk-chat';
const FIXTURES = path.join(ROOT, 'crates/flexdesk-auth/tests/fixtures');
const RSA_PRIVATE = readFileSync(path.join(FIXTURES, 'identity-rsa-private.pem'), 'utf8');
const RSA_PUBLIC = readFileSync(path.join(FIXTURES, 'identity-rsa-public.pem'), 'utf8');
const JWKS_FILE = path.join(FIXTURES, 'identity-jwks.json');
const KID = 'flexdesk-test-rsa-1';

const b64 = (v) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');
const now = () => Math.floor(Date.now() / 1000);

/** A JWT: HS256 with `secret`, or RS256 with an RSA private key (PEM). */
function jwt(claims, { alg = 'HS256', secret = SECRET, kid } = {}) {
  const head = `${b64({ alg, typ: 'JWT', ...(kid ? { kid } : {}) })}.${b64(claims)}`;
  const sig =
    alg === 'HS256'
      ? crypto.createHmac('sha256', secret).update(head).digest('base64url')
      : crypto.sign('sha256', Buffer.from(head), secret).toString('base64url');
  return `${head}.${sig}`;
}

const claims = (extra = {}) => ({
  iss: ISSUER, aud: AUDIENCE, sub: 'user-42', iat: now(), exp: now() + 300, name: 'Ada Lovelace', email: 'ada@example.com', ...extra,
});

// Each test starts more chats than the default start budget (burst 5) allows one client.
const HS_ENV = { IDENTITY_JWT_SECRET: SECRET, IDENTITY_ISSUER: ISSUER, IDENTITY_AUDIENCE: AUDIENCE, RATE_LIMIT_START_BURST: '100' };

async function start(stack, body) {
  const r = await fetch(`${stack.auth.url}/v1/sessions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ customerName: 'Typed Name', ...body }),
  });
  const answer = { status: r.status, body: await r.json() };
  // A started chat is routed a moment later (Flex's pipeline, docs/emulator.md): wait for its task.
  if (r.status === 201) await routedTask(stack.emulator.url, answer.body.conversationSid);
  return answer;
}

const emulatorState = async (stack) => (await fetch(`${stack.emulator.url}/admin/state`)).json();
const taskOf = (state, conversationSid) => state.tasks.find((t) => t.conversationSid === conversationSid);

test('interactions: a verified customer gets a stable identity and Flex Insights `customers`, over the page', async () => {
  const stack = await startStack({ FLEX_START_MODE: 'interactions', ...HS_ENV });
  try {
    // The page says someone else; the signed claims win for name and email.
    const first = await start(stack, { identityToken: jwt(claims()), preEngagement: { name: 'Mallory', email: 'mallory@example.com' } });
    assert.equal(first.status, 201, JSON.stringify(first.body));
    assert.match(first.body.identity, /^customer-v-[0-9a-f]{32}$/);
    assert.ok(!first.body.identity.includes('42'), 'the subject does not show in the identity');

    const state = await emulatorState(stack);
    const task = taskOf(state, first.body.conversationSid);
    assert.deepEqual(task.attributes.customers, { external_id: 'user-42', name: 'Ada Lovelace', email: 'ada@example.com' });
    assert.equal(task.attributes.customer_verified, true);
    assert.equal(task.attributes.name, 'Ada Lovelace (verified)', 'what Flex shows as the customer (the task `name`)');
    assert.equal(task.attributes.pre_engagement_data.email, 'ada@example.com');
    assert.equal(task.attributes.pre_engagement_data.name, 'Ada Lovelace');
    const conv = state.conversations.find((c) => c.sid === first.body.conversationSid);
    assert.deepEqual(conv.participants.map((p) => p.identity), [first.body.identity], 'the conversation participant is the verified identity');

    // Same subject, another chat: the same identity. Another subject: another one.
    const again = await start(stack, { identityToken: jwt(claims({ name: 'Ada L.' })) });
    assert.equal(again.status, 201);
    assert.equal(again.body.identity, first.body.identity);
    assert.notEqual(again.body.conversationSid, first.body.conversationSid);
    const againConv = (await emulatorState(stack)).conversations.find((c) => c.sid === again.body.conversationSid);
    assert.deepEqual(againConv.participants.map((p) => p.identity), [first.body.identity]);
    const other = await start(stack, { identityToken: jwt(claims({ sub: 'user-43' })) });
    assert.notEqual(other.body.identity, first.body.identity);

    // A guest (no token) still starts, as a random guest, without `customers`, and cannot claim the mark.
    const guest = await start(stack, { customerName: 'Mallory (verified)', preEngagement: { customers: { name: 'CEO' } } });
    assert.equal(guest.status, 201);
    assert.match(guest.body.identity, /^customer-[0-9a-f-]{36}$/);
    const guestTask = taskOf(await emulatorState(stack), guest.body.conversationSid);
    assert.equal(guestTask.attributes.customers, undefined);
    assert.equal(guestTask.attributes.customer_verified, undefined);
    assert.equal(guestTask.attributes.name, 'Mallory');

    // The verified session's credential still works on a restarted server (another process, same secrets): the
    // rebuilt session accepts the derived identity as a customer's.
    const replica = await startBinary('flexdesk-auth', {
      PORT: '0', FLEX_START_MODE: 'interactions', ...HS_ENV, PRE_ENGAGEMENT_KEYS: 'name,email,topic',
      TWILIO_FLEX_API_URL: stack.emulator.url, TWILIO_CONVERSATIONS_API_URL: stack.emulator.url, TWILIO_TASKROUTER_API_URL: stack.emulator.url,
    });
    try {
      const r = await fetch(`${replica.url}/v1/sessions/${first.body.sessionId}/token`, {
        method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ sessionCredential: first.body.sessionCredential }),
      });
      assert.equal(r.status, 200, await r.clone().text());
    } finally {
      await replica.stop();
    }
  } finally {
    await stack.stop();
  }
});

test('forged, expired, wrong-issuer and wrong-audience tokens: 401 identity_invalid, and no Twilio call', async () => {
  const stack = await startStack({ FLEX_START_MODE: 'interactions', ...HS_ENV });
  try {
    const cases = [
      [jwt(claims(), { secret: 'not-the-secret-0123456789abcdef-0123456789' }), /signature does not verify/],
      [jwt(claims({ exp: now() - 3600 })), /expired/],
      [jwt(claims({ iss: 'https://evil.example.com' })), /issuer/],
      [jwt(claims({ aud: 'another-app' })), /audience/],
      [jwt({ ...claims(), sub: undefined }), /subject/],
      [`${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims())}.`, /well-formed/],
      ['garbage', /well-formed/],
    ];
    for (const [token, why] of cases) {
      const r = await start(stack, { identityToken: token });
      assert.equal(r.status, 401, `${why}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.error.code, 'identity_invalid');
      assert.match(r.body.error.message, why);
      assert.ok(!JSON.stringify(r.body).includes(SECRET));
    }
    const state = await emulatorState(stack);
    assert.equal(state.tasks.length, 0, 'no task');
    assert.equal(state.conversations.length, 0, 'no conversation: Twilio was never called');
    assert.ok(!stack.auth.output().includes(SECRET), 'the secret is not logged');
    // Within the 60 s default leeway, a just-expired token still verifies.
    assert.equal((await start(stack, { identityToken: jwt(claims({ exp: now() - 20 })) })).status, 201);
  } finally {
    await stack.stop();
  }
});

test('a server without identity verification refuses a token (400 identity_not_configured) and starts guests', async () => {
  const stack = await startStack({ FLEX_START_MODE: 'webchat' });
  try {
    const r = await start(stack, { identityToken: jwt(claims()) });
    assert.equal(r.status, 400);
    assert.equal(r.body.error.code, 'identity_not_configured');
    assert.equal((await emulatorState(stack)).tasks.length, 0);
    assert.equal((await start(stack, {})).status, 201);
  } finally {
    await stack.stop();
  }
});

test('webchat: Twilio picks the identity; the verified customer still reaches the task as `customers`', async () => {
  const stack = await startStack({ FLEX_START_MODE: 'webchat', ...HS_ENV });
  try {
    const r = await start(stack, { identityToken: jwt(claims()) });
    assert.equal(r.status, 201);
    assert.doesNotMatch(r.body.identity, /^customer-v-/, 'the orchestrator takes no Identity');
    const state = await emulatorState(stack);
    const task = taskOf(state, r.body.conversationSid);
    // PreEngagementData carries it into the conversation's `pre_engagement_data` attribute, where the address's Studio
    // flow can copy it to the task (docs/auth-server.md); the default flow modelled names the customer only.
    const conv = state.conversations.find((c) => c.sid === r.body.conversationSid);
    assert.deepEqual(JSON.parse(conv.attributes).pre_engagement_data.customers, { external_id: 'user-42', name: 'Ada Lovelace', email: 'ada@example.com' });
    assert.equal(task.attributes.name, 'Ada Lovelace (verified)', 'what Flex shows as the customer (the task `name`)');
  } finally {
    await stack.stop();
  }
});

test('flexflow with a JWKS file: RS256 verifies; an HS256 token made with the public key is refused', async () => {
  const stack = await startStack({ FLEX_START_MODE: 'flexflow', IDENTITY_JWKS_FILE: JWKS_FILE, IDENTITY_ISSUER: ISSUER, IDENTITY_AUDIENCE: AUDIENCE });
  try {
    const ok = await start(stack, { identityToken: jwt(claims(), { alg: 'RS256', secret: RSA_PRIVATE, kid: KID }) });
    assert.equal(ok.status, 201, JSON.stringify(ok.body));
    assert.match(ok.body.identity, /^customer-v-/);
    for (const kid of [KID, undefined]) {
      const confused = await start(stack, { identityToken: jwt(claims(), { alg: 'HS256', secret: RSA_PUBLIC, kid }) });
      assert.equal(confused.status, 401);
      assert.match(confused.body.error.message, /algorithm/);
    }
    assert.equal((await emulatorState(stack)).tasks.length, 1, 'only the valid start made a task');
  } finally {
    await stack.stop();
  }
});

test('a JWKS URL is fetched and cached; when it cannot be read, starts with a token get 503 and no task', async () => {
  let fetches = 0;
  const jwks = http.createServer((req, res) => {
    fetches += 1;
    res.writeHead(200, { 'content-type': 'application/json' }).end(readFileSync(JWKS_FILE));
  });
  await new Promise((done) => jwks.listen(0, '127.0.0.1', done));
  const url = `http://127.0.0.1:${jwks.address().port}/.well-known/jwks.json`;
  const stack = await startStack({ FLEX_START_MODE: 'interactions', IDENTITY_JWKS_URL: url, IDENTITY_ISSUER: ISSUER, IDENTITY_AUDIENCE: AUDIENCE });
  try {
    for (let i = 0; i < 3; i++) {
      const r = await start(stack, { identityToken: jwt(claims(), { alg: 'RS256', secret: RSA_PRIVATE, kid: KID }) });
      assert.equal(r.status, 201, JSON.stringify(r.body));
    }
    assert.equal(fetches, 1, 'one fetch serves every start while cached');
    // An unknown key id: refused (and the set is not fetched again within the bounded refresh interval).
    const unknown = await start(stack, { identityToken: jwt(claims(), { alg: 'RS256', secret: RSA_PRIVATE, kid: 'unknown' }) });
    assert.equal(unknown.status, 401);
    assert.ok(fetches <= 2);
  } finally {
    await stack.stop();
    jwks.close();
  }
  // Nothing answers at the URL.
  const down = await startStack({ FLEX_START_MODE: 'interactions', IDENTITY_JWKS_URL: url, IDENTITY_ISSUER: ISSUER, IDENTITY_AUDIENCE: AUDIENCE });
  try {
    const r = await start(down, { identityToken: jwt(claims(), { alg: 'RS256', secret: RSA_PRIVATE, kid: KID }) });
    assert.equal(r.status, 503);
    assert.equal(r.body.error.code, 'identity_unavailable');
    assert.equal((await emulatorState(down)).tasks.length, 0);
  } finally {
    await down.stop();
  }
});
