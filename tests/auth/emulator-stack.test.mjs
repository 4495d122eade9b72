// The auth server against the project's Twilio emulator, in each start mode: the handoff reaches the
// agent's task, the token refreshes while the chat is open, an agent's "end chat" stops refreshes, and
// the customer's DELETE closes the conversation. Needs `cargo build --workspace --bins`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { routedTask, startStack } from '../support/servers.mjs';

const json = (url, method = 'GET', body, headers = {}) =>
  fetch(url, {
    method,
    headers: body ? { 'content-type': 'application/json', ...headers } : headers,
    body: body ? JSON.stringify(body) : undefined,
  });

const handoff = {
  message_to_human_agent: 'Please help with my invoice',
  topic: 'billing',
  transcript: [
    { from: 'user', text: 'my invoice is wrong' },
    { from: 'bot', text: 'let me get a person' },
  ],
};

for (const mode of ['webchat', 'interactions', 'flexflow']) {
  test(`${mode}: start, handoff on the task, refresh, agent end stops refresh, customer end closes`, async () => {
    const stack = await startStack({ FLEX_START_MODE: mode });
    try {
      const { auth, emulator } = stack;
      const start = async () => {
        const r = await json(`${auth.url}/v1/sessions`, 'POST', { customerName: 'Ada', handoff });
        assert.equal(r.status, 201, await r.clone().text());
        const s = await r.json();
        // Routed a moment later (Flex's pipeline): the customer then waits in the queue.
        await routedTask(emulator.url, s.conversationSid);
        return s;
      };
      const refresh = (s) => json(`${auth.url}/v1/sessions/${s.sessionId}/token`, 'POST', { sessionCredential: s.sessionCredential });
      const stateOf = async () => (await json(`${emulator.url}/agent/api/state`)).json();

      const s = await start();
      // Flex routes a moment after the message that fires the flow or the interaction (docs/emulator.md).
      let task;
      for (let i = 0; i < 100 && !task; i++) {
        task = (await stateOf()).tasks.find((t) => t.conversationSid === s.conversationSid);
        if (!task) await new Promise((r) => setTimeout(r, 50));
      }
      assert.ok(task, 'a Flex task was created for the conversation');
      const attrs = typeof task.attributes === 'string' ? JSON.parse(task.attributes) : task.attributes;
      if (mode === 'interactions') {
        // Our own routing attributes (a plugin could show them; the messages are what a stock agent reads).
        assert.equal(attrs.pre_engagement_data.question, handoff.message_to_human_agent);
        assert.deepEqual(attrs.pre_engagement_data.transcript, handoff.transcript);
        assert.equal(attrs.from, s.identity, 'Insights links a guest by identity, not by name');
      } else {
        // The address's (or Flex Flow's) Studio flow decides the attributes: its Send to Flex widget's defaults.
        assert.equal(attrs.name, 'Ada');
      }
      assert.equal((await refresh(s)).status, 200);

      // The agent ends the chat: the conversation closes, so the session can no longer refresh.
      const ended = await json(`${emulator.url}/agent/api/tasks/${task.sid}/end`, 'POST', {});
      assert.equal(ended.status, 200, await ended.clone().text());
      const after = await refresh(s);
      assert.equal(after.status, 404);
      assert.equal((await after.json()).error.code, 'session_ended');

      // A second chat, ended by the customer.
      const s2 = await start();
      const del = await json(`${auth.url}/v1/sessions/${s2.sessionId}`, 'DELETE', { sessionCredential: s2.sessionCredential });
      assert.equal(del.status, 204);
      const conv = (await stateOf()).conversations[s2.conversationSid];
      assert.equal(conv.state, 'closed');
      assert.equal((await refresh(s2)).status, 404);
    } finally {
      await stack.stop();
    }
  });
}
