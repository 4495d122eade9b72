// Issue 17, item 2, desk side: while waiting, the wasm desk reads the session's own place in the queue
// (`GET /v1/sessions/{id}/queue` on the real auth server, TaskRouter played by the emulator) and tells the web chat
// through `updateAgentAvailability({ positionInQueue })`; when the chat ahead is accepted it moves up (the desk polls
// every QUEUE_POLL_MS, 30 s). The stand-in client; no web chat: the recording callback of harness.mjs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setup, until, calls, missing } from './harness.mjs';

const skip = missing.length > 0 && `not built yet: ${missing.join(', ')}`;

test('a waiting customer sees their own place, then the estimated wait once the chat ahead is accepted', { skip, timeout: 90_000 }, async (t) => {
  const { stack, newPage, emu } = await setup(t);
  // Someone else is already waiting (started straight through the auth server).
  const ahead = await (
    await fetch(`${stack.auth.url}/v1/sessions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ customerName: 'Grace' }) })
  ).json();
  assert.ok(ahead.conversationSid, JSON.stringify(ahead));

  const page = await newPage();
  await page.evaluate(() => window.desk.startChat(window.connectMessage, {}));
  const first = await until('a position', async () => (await calls(page, 'updateAgentAvailability'))[0], 15_000);
  assert.deepEqual(first, [{ positionInQueue: 2 }], 'second in line, not the queue length guess');

  const { tasks } = await emu('GET', '/agent/api/state');
  const task = tasks.find((x) => x.conversationSid === ahead.conversationSid);
  await emu('POST', `/agent/api/tasks/${task.sid}/accept`, { agent: 'alice' });
  const moved = await until('moved up', async () => (await calls(page, 'updateAgentAvailability'))[1], 45_000);
  // Issue 23: with an acceptance in the auth server's 30-minute window it has an estimate (queue.rs
  // `estimated_wait`: place 1 × 1800 s / 1 acceptance), which Carbon prefers to the place; sent in minutes.
  assert.deepEqual(moved, [{ estimatedWaitTime: 30 }]);
  assert.equal((await calls(page, 'agentJoined')).length, 0, 'still waiting for an agent of its own');
});
