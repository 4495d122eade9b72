// The auth server's access tokens must be exactly what Twilio's official helper (npm `twilio`) mints:
// same header, same claims, and each side's token verifies with the other side's secret handling.
// Sessions are started against the project's Twilio emulator. Needs `cargo build --workspace --bins`
// (scripts/test builds every binary first).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import path from 'node:path';
import { createRequire } from 'node:module';
import twilio from 'twilio';
import { startStack, ROOT } from '../support/servers.mjs';
import { FAKE_TWILIO_ENV as ENV } from '../support/fake-env.mjs';

// The `jsonwebtoken` the helper itself uses.
const jwt = createRequire(createRequire(import.meta.url).resolve('twilio'))('jsonwebtoken');
const { AccessToken } = twilio.jwt;
const TTL = 1800;

let stack, auth;
before(async () => {
  stack = await startStack({ TOKEN_TTL_SECONDS: String(TTL) });
  auth = stack.auth;
});
after(async () => {
  await stack?.stop();
});

function helperToken(identity, secret = ENV.TWILIO_API_KEY_SECRET) {
  const token = new AccessToken(ENV.TWILIO_ACCOUNT_SID, ENV.TWILIO_API_KEY_SID, secret, { identity, ttl: TTL });
  token.addGrant(new AccessToken.ChatGrant({ serviceSid: ENV.TWILIO_CONVERSATIONS_SERVICE_SID }));
  return token.toJwt();
}

const part = (token, i) => JSON.parse(Buffer.from(token.split('.')[i], 'base64url').toString('utf8'));

/** Header and payload must match exactly, except the time-based claims, which must be consistent. */
function assertSameShape(ours, theirs) {
  assert.deepEqual(part(ours, 0), part(theirs, 0), 'header');
  const [a, b] = [part(ours, 1), part(theirs, 1)];
  assert.deepEqual(Object.keys(a).sort(), Object.keys(b).sort(), 'claim names');
  for (const p of [a, b]) {
    assert.equal(p.jti, `${ENV.TWILIO_API_KEY_SID}-${p.iat}`, 'jti = <key SID>-<iat>');
    assert.equal(p.exp - p.iat, TTL, 'ttl');
  }
  assert.ok(Math.abs(a.iat - b.iat) <= 10, `iat close: ${a.iat} vs ${b.iat}`);
  const timeless = ({ iat, exp, jti, ...rest }) => rest;
  assert.deepEqual(timeless(a), timeless(b));
}

async function startSession() {
  const res = await fetch(`${auth.url}/v1/sessions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ customerName: 'Ada' }),
  });
  assert.equal(res.status, 201);
  return res.json();
}

test('a session token equals the helper token claim by claim', async () => {
  const s = await startSession();
  assertSameShape(s.token, helperToken(s.identity));
  assert.equal(s.tokenExpiresAt, part(s.token, 1).exp);
  assert.deepEqual(part(s.token, 1).grants, { identity: s.identity, chat: { service_sid: ENV.TWILIO_CONVERSATIONS_SERVICE_SID } });
});

test('a refreshed token equals the helper token too', async () => {
  const s = await startSession();
  const res = await fetch(`${auth.url}/v1/sessions/${s.sessionId}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ sessionCredential: s.sessionCredential }),
  });
  assert.equal(res.status, 200);
  const { token } = await res.json();
  assertSameShape(token, helperToken(s.identity));
});

test('our token verifies with the helper\'s jsonwebtoken and with a plain HMAC', async () => {
  const { token } = await startSession();
  const claims = jwt.verify(token, ENV.TWILIO_API_KEY_SECRET, { algorithms: ['HS256'] });
  assert.equal(claims.iss, ENV.TWILIO_API_KEY_SID);
  assert.equal(claims.sub, ENV.TWILIO_ACCOUNT_SID);
  assert.throws(() => jwt.verify(token, 'another-secret', { algorithms: ['HS256'] }), /invalid signature/);
  const [h, p, sig] = token.split('.');
  assert.equal(createHmac('sha256', ENV.TWILIO_API_KEY_SECRET).update(`${h}.${p}`).digest('base64url'), sig);
});

function rustVerify(token) {
  const bin = path.join(ROOT, 'target', 'debug', 'flexdesk-auth');
  return spawnSync(bin, ['verify-token'], { input: token, env: { ...process.env, ...ENV }, encoding: 'utf8' });
}

test('the helper token verifies in Rust (jsonwebtoken) with the same claims', () => {
  const token = helperToken('customer-parity');
  const ok = rustVerify(token);
  assert.equal(ok.status, 0, ok.stderr);
  const { header, claims } = JSON.parse(ok.stdout);
  assert.equal(header.cty, 'twilio-fpa;v=1');
  assert.deepEqual(claims, part(token, 1));

  const forged = rustVerify(helperToken('customer-parity', 'not-the-secret'));
  assert.equal(forged.status, 1);
  assert.match(forged.stderr, /does not verify/);
});

test('mint-token prints the same token shape as the helper', () => {
  const bin = path.join(ROOT, 'target', 'debug', 'flexdesk-auth');
  const out = spawnSync(bin, ['mint-token', 'customer-cli', String(TTL)], { env: { ...process.env, ...ENV }, encoding: 'utf8' });
  assert.equal(out.status, 0, out.stderr);
  assertSameShape(out.stdout.trim(), helperToken('customer-cli'));
});
