// The auth server survives Twilio's published rules, played by the emulator in its strict default (docs/emulator.md,
// "Twilio's rules"): a closed conversation is final (error 50377), the Flex service is not the account's default one,
// and /v2/WebChats is rate limited (5/s per account, 429 / 45780 above it). Needs `cargo build --workspace --bins`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { routedTask, startStack } from '../support/servers.mjs';
import { FAKE_TWILIO_ENV as ENV } from '../support/fake-env.mjs';

const BASIC = 'Basic ' + Buffer.from(`${ENV.TWILIO_ACCOUNT_SID}:${ENV.TWILIO_AUTH_TOKEN}`).toString('base64');

const call = (url, method = 'GET', body) =>
  fetch(url, {
    method,
    headers: body ? { 'content-type': 'application/json' } : {},
    body: body ? JSON.stringify(body) : undefined,
  });

function client(stack) {
  const { auth, emulator } = stack;
  return {
    async start() {
      const r = await call(`${auth.url}/v1/sessions`, 'POST', { customerName: 'Ada' });
      assert.equal(r.status, 201, await r.clone().text());
      const s = await r.json();
      // Flex routes it a moment later (docs/emulator.md, "Flex's pipeline"): a customer waiting in the queue.
      await routedTask(emulator.url, s.conversationSid);
      return s;
    },
    refresh: (s) => call(`${auth.url}/v1/sessions/${s.sessionId}/token`, 'POST', { sessionCredential: s.sessionCredential }),
    end: (s) => call(`${auth.url}/v1/sessions/${s.sessionId}`, 'DELETE', { sessionCredential: s.sessionCredential }),
    state: async () => (await call(`${emulator.url}/agent/api/state`)).json(),
    async agentEnds(s) {
      const task = (await this.state()).tasks.find((t) => t.conversationSid === s.conversationSid);
      const r = await call(`${emulator.url}/agent/api/tasks/${task.sid}/end`, 'POST', {});
      assert.equal(r.status, 200, await r.clone().text());
    },
  };
}

for (const mode of ['webchat', 'interactions', 'flexflow']) {
  test(`${mode}: the agent closes, then the customer ends (and ends again): 204 each time; refresh is refused`, async () => {
    const stack = await startStack({ FLEX_START_MODE: mode });
    try {
      const c = client(stack);
      const s = await c.start();
      assert.equal((await c.refresh(s)).status, 200, 'refresh works while the chat is open');
      await c.agentEnds(s);
      const refused = await c.refresh(s);
      assert.equal(refused.status, 404);
      assert.equal((await refused.json()).error.code, 'session_ended');
      assert.equal((await c.end(s)).status, 204, 'ending a chat the agent already closed is not an error');
      assert.equal((await c.end(s)).status, 204);

      // Both at once: the customer's end races the agent's.
      const s2 = await c.start();
      const [, ended] = await Promise.all([c.agentEnds(s2), c.end(s2)]);
      assert.equal(ended.status, 204);
      assert.equal((await c.state()).conversations[s2.conversationSid].state, 'closed');

      // The customer ends twice, on a chat nobody else closed.
      const s3 = await c.start();
      assert.equal((await c.end(s3)).status, 204);
      assert.equal((await c.end(s3)).status, 204);
      assert.equal((await c.state()).conversations[s3.conversationSid].state, 'closed');
    } finally {
      await stack.stop();
    }
  });
}

test('the Flex service is not the default one: refresh and end still reach the chat', async () => {
  // The emulator's default service differs from TWILIO_CONVERSATIONS_SERVICE_SID unless told otherwise; say it
  // explicitly so this test does not depend on that default.
  const stack = await startStack({ FLEX_START_MODE: 'interactions' }, { EMULATOR_DEFAULT_SERVICE_SID: 'IS' + 'd'.repeat(32) });
  try {
    const c = client(stack);
    const s = await c.start();
    // The default-service path does not know this chat, as on Twilio.
    const onDefault = await fetch(`${stack.emulator.url}/v1/Conversations/${s.conversationSid}`, { headers: { authorization: BASIC } });
    assert.equal(onDefault.status, 404, 'a Flex chat is not on the default service path');
    assert.equal((await c.refresh(s)).status, 200);
    assert.equal((await c.end(s)).status, 204);
    assert.equal((await c.state()).conversations[s.conversationSid].state, 'closed');
  } finally {
    await stack.stop();
  }
});

test('a flash crowd: 200 starts within 10 s against the enforced 5/s are served or cleanly refused, none twice, none over the rate', async () => {
  // Published rates on both sides: the emulator enforces /v2/WebChats at 5/s (429 / 45780 above it), the auth
  // server paces at 5/s and waits at most TWILIO_PACING_MAX_WAIT_SECONDS (default 10) for a slot.
  const stack = await startStack({ FLEX_START_MODE: 'webchat', RATE_LIMIT_PER_MINUTE: '100000', RATE_LIMIT_BURST: '100000' });
  try {
    const { auth, emulator } = stack;
    const rates = async () => (await call(`${emulator.url}/admin/rates`)).json();
    assert.equal((await rates()).webchats.ratePerSecond, 5, 'the emulator enforces the published rate');
    const answers = [];
    const started = Date.now();
    for (let i = 0; i < 200; i++) {
      answers.push(call(`${auth.url}/v1/sessions`, 'POST', { customerName: `Customer ${i}` }).then(async (r) => ({ status: r.status, retryAfter: r.headers.get('retry-after'), body: await r.json() })));
      await new Promise((r) => setTimeout(r, 50));
    }
    const results = await Promise.all(answers);
    const elapsed = (Date.now() - started) / 1000;
    const served = results.filter((r) => r.status === 201);
    const refused = results.filter((r) => r.status !== 201);
    for (const r of refused) {
      assert.equal(r.status, 503, JSON.stringify(r.body));
      assert.equal(r.body.error.code, 'twilio_busy');
      assert.ok(Number(r.retryAfter) >= 1, `Retry-After: ${r.retryAfter}`);
    }
    // At 5/s over the ~10 s of arrivals plus the 10 s a start may wait, about 100 are served; all 200 never can be.
    assert.ok(served.length >= 60, `only ${served.length} served in ${elapsed} s`);
    const conversations = new Set(served.map((r) => r.body.conversationSid));
    assert.equal(conversations.size, served.length, 'each served start has its own conversation');
    // Each served start is routed a moment after its answer (Flex's pipeline): wait for the last ones.
    let state;
    for (let i = 0; i < 100; i++) {
      state = await (await call(`${emulator.url}/agent/api/state`)).json();
      if (state.tasks.length >= served.length) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(state.tasks.length, served.length, 'one Flex task per served start: nothing created twice, nothing for a refused start');
    const seen = (await rates()).webchats;
    assert.equal(seen.rejected, 0, 'Twilio never had to refuse a start (no 429 / 45780)');
    assert.equal(seen.accepted, served.length);
    // The pacer spaces calls 1.05/rate s apart; on a loaded machine scheduling jitter can still bring two of them
    // closer on arrival, so a sliding 1-second window may hold one more than the rate. What Twilio enforces (the
    // emulator's bucket, docs/emulator.md) never refused one: that is the check above.
    assert.ok(seen.maxPerSecond <= 6, `Twilio saw ${seen.maxPerSecond} starts within one second`);
  } finally {
    await stack.stop();
  }
});
