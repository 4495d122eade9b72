// Issue 22: Flex's pipeline, end to end through the auth server and the emulator (docs/emulator.md, "Flex's
// pipeline"; docs/auth-server.md, "What the agent sees").
// 1. A customer who never types is still routed: the start posts the hand-off as messages, and the last one (sent
//    with X-Twilio-Webhook-Enabled: true) runs the address's Studio flow. The agent's first lines are the customer's
//    request and the bot's note, as messages, in every start mode.
// 2. With Flex's own end firing no webhook (Twilio does not document that it does), a chat the agent closed gets no
//    token later than one token lifetime after the close, although healthy webhooks let refresh skip Twilio.
// 3. The customer's end goes through the interaction, so the agent's task wraps up even when a direct conversation
//    close would leave it alone (the other answer to what Twilio leaves open).
// Needs `cargo build --workspace --bins`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import twilio from 'twilio';
import { startBinary, startStack } from '../support/servers.mjs';
import { FAKE_TWILIO_ENV } from '../support/fake-env.mjs';

const json = (url, method = 'GET', body) =>
  fetch(url, { method, headers: body ? { 'content-type': 'application/json' } : {}, body: body ? JSON.stringify(body) : undefined });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const handoff = {
  message_to_human_agent: 'Invoice 42 is wrong',
  transcript: [
    { from: 'user', text: 'my invoice is wrong' },
    { from: 'bot', text: 'let me get a person' },
  ],
};

async function start(auth) {
  const r = await json(`${auth.url}/v1/sessions`, 'POST', { customerName: 'Ada', handoff });
  assert.equal(r.status, 201, await r.clone().text());
  return r.json();
}

/** The chat's task once Flex's pipeline made it (it routes a moment after the triggering message). */
async function taskOf(emulator, conversationSid) {
  for (let i = 0; i < 100; i++) {
    const state = await (await json(`${emulator.url}/agent/api/state`)).json();
    const task = state.tasks.find((t) => t.conversationSid === conversationSid);
    if (task) return task;
    await sleep(50);
  }
  throw new Error(`no task for ${conversationSid}`);
}

for (const mode of ['webchat', 'interactions', 'flexflow']) {
  test(`${mode}: a customer who never types is routed, and the agent reads the hand-off as messages first`, async () => {
    const stack = await startStack({ FLEX_START_MODE: mode });
    try {
      const s = await start(stack.auth);
      const task = await taskOf(stack.emulator, s.conversationSid);
      assert.equal(task.status, 'pending');
      const state = await (await json(`${stack.emulator.url}/admin/state`)).json();
      const conversation = state.conversations.find((c) => c.sid === s.conversationSid);
      const lines = conversation.messages.map((m) => [m.author, m.body]);
      assert.deepEqual(lines[0], [s.identity, 'my invoice is wrong'], 'the customer\'s own words, as the customer');
      assert.equal(lines[1][0], 'Bot');
      assert.match(lines[1][1], /Invoice 42 is wrong/);
      assert.match(lines[1][1], /not verified/, 'the page sent it: the agent is told');
      for (const m of conversation.messages) {
        const a = typeof m.attributes === 'string' ? JSON.parse(m.attributes) : m.attributes;
        assert.ok(a?.flexdesk?.handoff, `marked as hand-off, so the desk never shows it again: ${JSON.stringify(m)}`);
      }
    } finally {
      await stack.stop();
    }
  });
}

test('a chat the agent closed, with no webhook for the close, gets no token after one token lifetime (every mode)', { timeout: 120_000 }, async () => {
  const emulator = await startBinary('flexdesk-emulator', { EMULATOR_PORT: '0', EMULATOR_FLEX_CLOSE_WEBHOOK: 'off' });
  const modes = ['webchat', 'interactions', 'flexflow'];
  const servers = [];
  try {
    for (const mode of modes) {
      servers.push(
        await startBinary('flexdesk-auth', {
          PORT: '0',
          FLEX_START_MODE: mode,
          MAX_OPEN_SESSIONS_PER_CLIENT: '0',
          TWILIO_WEBHOOKS: 'on',
          TOKEN_TTL_SECONDS: '60',
          TWILIO_FLEX_API_URL: emulator.url,
          TWILIO_CONVERSATIONS_API_URL: emulator.url,
          TWILIO_TASKROUTER_API_URL: emulator.url,
        }),
      );
    }
    // Healthy webhooks: each server has just verified one (about another conversation).
    for (const auth of servers) {
      const url = `${auth.url}/v1/twilio/webhooks`;
      const params = { EventType: 'onConversationStateUpdated', ConversationSid: 'CH' + 'e'.repeat(32), StateFrom: 'active', StateTo: 'closed', Reason: 'API' };
      const signature = twilio.getExpectedTwilioSignature(FAKE_TWILIO_ENV.TWILIO_AUTH_TOKEN, url, params);
      const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature }, body: new URLSearchParams(params) });
      assert.ok(r.ok, `webhook accepted: ${r.status}`);
    }
    const started = Date.now();
    await Promise.all(
      servers.map(async (auth, i) => {
        const s = await start(auth);
        const refresh = () => json(`${auth.url}/v1/sessions/${s.sessionId}/token`, 'POST', { sessionCredential: s.sessionCredential });
        const task = await taskOf(emulator, s.conversationSid);
        assert.equal((await json(`${emulator.url}/agent/api/tasks/${task.sid}/accept`, 'POST', { agent: 'alice' })).status, 200);
        assert.equal((await json(`${emulator.url}/agent/api/tasks/${task.sid}/end`, 'POST', {})).status, 200);
        // No webhook came: within one token lifetime of Twilio's last word the record is trusted (no Twilio call).
        assert.equal((await refresh()).status, 200, `${modes[i]}: refresh right after the silent close is still trusted`);
        // One token lifetime after the start (Twilio's last word that it was open), refresh asks Twilio again.
        await sleep(Math.max(0, started + 61_000 - Date.now()));
        const late = await refresh();
        assert.equal(late.status, 404, `${modes[i]}: a token after one lifetime`);
        assert.equal((await late.json()).error.code, 'session_ended');
      }),
    );
  } finally {
    for (const s of servers) await s.stop();
    await emulator.stop();
  }
});

test('the customer\'s end wraps the agent\'s task up through the interaction, also when a direct close would leave it', async () => {
  const stack = await startStack({ FLEX_START_MODE: 'webchat' }, { EMULATOR_DIRECT_CLOSE_ENDS_TASK: 'off' });
  try {
    const { auth, emulator } = stack;
    for (const accepted of [true, false]) {
      const s = await start(auth);
      const task = await taskOf(emulator, s.conversationSid);
      if (accepted) await json(`${emulator.url}/agent/api/tasks/${task.sid}/accept`, 'POST', { agent: 'alice' });
      const del = await json(`${auth.url}/v1/sessions/${s.sessionId}`, 'DELETE', { sessionCredential: s.sessionCredential });
      assert.equal(del.status, 204);
      const after = (await (await json(`${emulator.url}/agent/api/state`)).json()).tasks.find((t) => t.sid === task.sid);
      assert.equal(after.status, accepted ? 'wrapping' : 'canceled', `accepted=${accepted}`);
      const conv = (await (await json(`${emulator.url}/admin/state`)).json()).conversations.find((c) => c.sid === s.conversationSid);
      assert.equal(conv.state, 'closed');
    }
  } finally {
    await stack.stop();
  }
});

test('interactions: a routing that fails (the channel ends `failed`) is ended by the queue poll, so the customer is told', async () => {
  const stack = await startStack({ FLEX_START_MODE: 'interactions' });
  try {
    const { auth, emulator } = stack;
    const r = await json(`${emulator.url}/admin/pipeline`, 'POST', { failRouting: 1, routingDelayMs: 50 });
    assert.equal(r.status, 200);
    const s = await start(auth);
    await sleep(300);
    const poll = await fetch(`${auth.url}/v1/sessions/${s.sessionId}/queue`, { headers: { authorization: `Bearer ${s.sessionCredential}` } });
    assert.equal(poll.status, 404, await poll.clone().text());
    assert.equal((await poll.json()).error.code, 'session_ended');
    const state = await (await json(`${emulator.url}/admin/state`)).json();
    assert.equal(state.conversations.find((c) => c.sid === s.conversationSid).state, 'closed', 'the customer sees the chat end');
    assert.equal(state.tasks.length, 0, 'no task ever reached an agent');
    const refresh = await json(`${auth.url}/v1/sessions/${s.sessionId}/token`, 'POST', { sessionCredential: s.sessionCredential });
    assert.equal(refresh.status, 404);
  } finally {
    await stack.stop();
  }
});
