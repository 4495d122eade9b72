// Issue 25 ("Diagnostics a developer sees"): a refused start reaches the page's console once, with the server's code
// and x-request-id (the key to the server's log line), never a secret; an origin the server does not allow (a CORS
// refusal the page cannot read: the Fetch standard's network error, status 0) is named as what to check; the
// pre-engagement keys the server dropped (not in its PRE_ENGAGEMENT_KEYS) are named too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setup, until, calls, missing } from './harness.mjs';

const skip = missing.length > 0 && `not built yet: ${missing.join(', ')}`;

/** The page's console.warn lines from the desk, each as its arguments' JSON; `options`: startChat's. */
async function startAndRead(page, options = {}, settled = 'setErrorStatus') {
  const lines = [];
  page.on('console', async (m) => {
    if (m.type() !== 'warning') return;
    const args = await Promise.all(m.args().map((a) => a.jsonValue().catch(() => null)));
    lines.push(args);
  });
  await page.evaluate((o) => window.desk.startChat(window.connectMessage, o).catch(() => {}), options);
  await until(`the web chat told (${settled})`, async () => (await calls(page, settled)).length > 0);
  await new Promise((r) => setTimeout(r, 200));
  return lines.filter((a) => a[0] === 'flexdesk:');
}

test("a refused start: the server's code and x-request-id in the page's console, once", { skip }, async (t) => {
  const { newPage } = await setup(t, { authEnv: { IDENTITY_REQUIRED: 'true', IDENTITY_JWT_SECRET: 'diagnostics-test-secret-0123456789abcdef', IDENTITY_AUDIENCE: 'flexdesk-diagnostics-test' } });
  const lines = await startAndRead(await newPage());
  const refused = lines.filter((a) => /refused to start the chat/.test(a[1]));
  assert.equal(refused.length, 1, JSON.stringify(lines));
  const [, , detail] = refused[0];
  assert.equal(detail.status, 401);
  assert.equal(detail.code, 'identity_required');
  assert.match(detail.requestId, /^[0-9a-f-]{16,}$/, 'the id the server logged the request under');
  assert.doesNotMatch(JSON.stringify(lines), /credential|token"/i, 'nothing secret');
});

test("an origin the server does not allow: the console says to check ALLOWED_ORIGINS", { skip }, async (t) => {
  const { newPage } = await setup(t, { authEnv: { ALLOWED_ORIGINS: 'https://shop.example.com' } });
  const lines = await startAndRead(await newPage());
  const told = lines.filter((a) => /ALLOWED_ORIGINS/.test(a[1]));
  assert.equal(told.length, 1, JSON.stringify(lines));
  assert.match(told[0][2], /^http:\/\/127\.0\.0\.1:\d+\/v1\/sessions$/, 'names the URL the page tried');
});

test('pre-engagement keys the server dropped are named in the console, and the chat starts', { skip }, async (t) => {
  // The test stack's PRE_ENGAGEMENT_KEYS: name, email, topic (tests/support/servers.mjs).
  const { newPage } = await setup(t);
  const page = await newPage();
  const lines = await startAndRead(page, { preStartChatPayload: { email: 'ada@example.com', shoeSize: 42, plan: 'pro' } }, 'updateAgentAvailability');
  const told = lines.filter((a) => /dropped these pre-engagement keys/.test(a[1]));
  assert.equal(told.length, 1, JSON.stringify(lines));
  assert.deepEqual(told[0][2], ['plan', 'shoeSize']);
  assert.doesNotMatch(JSON.stringify(told), /ada@example\.com|pro"/, 'names only, never values');
});
