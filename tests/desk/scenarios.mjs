// The desk against the emulator: every path a customer and an agent take, asserted on what the web chat
// callback was told and on what the agent side (emulator state) holds. Defined once, run per client mode:
// desk-emulator.test.mjs (the stand-in) and desk-real-sdk.test.mjs (the real @twilio/conversations SDK).
import { test as testFn } from 'node:test';
import assert from 'node:assert/strict';
import { setup, until, calls, missing, shownText } from './harness.mjs';

const skip = missing.length > 0 && `not built yet: ${missing.join(', ')}`;

/** Registers every scenario for one client mode ('stand-in' or 'real-sdk'); test names carry the mode. */
export function defineScenarios(mode) {
  const test = (name, opts, fn) => testFn(`[${mode}] ${name}`, opts, fn);

  async function startChat(t, mode) {
    const env = await setup(t, { mode });
    const page = await env.newPage();
    // One message sent while still connecting: it must arrive once, first, in order.
    await page.evaluate(() => {
      window.started = window.desk.startChat(window.connectMessage, { preStartChatPayload: { email: 'ada@example.com' } });
      return window.desk.sendMessageToAgent({ input: { text: 'sent while connecting' } }, 'm1', {});
    });
    await page.evaluate(() => window.started);
    const task = await until('the task', async () => (await env.emu('GET', '/agent/api/state')).tasks[0]);
    return { ...env, page, task, ch: task.conversationSid };
  }

  const texts = (state, ch) => state.conversations[ch].messages.map((m) => m.body);

  test('escalation: the agent reads the hand-off as messages, the pre-engagement reaches the conversation; accept shows the agent; text both ways', { skip }, async (t) => {
    const { page, task, ch, emu } = await startChat(t, mode);
    // What a stock Flex agent reads (docs/auth-server.md, "What the agent sees"): the customer's last words to the
    // bot and the bot's note, as messages, before anything the customer typed after.
    const handoff = await until('the queued message', async () => {
      const st = await emu('GET', '/agent/api/state');
      return texts(st, ch).includes('sent while connecting') && texts(st, ch);
    });
    for (const s of ['I need help', 'Customer wants a refund', 'Order 42 arrived broken']) assert.match(handoff.join('\n'), new RegExp(s));
    assert.ok(handoff.indexOf('I need help') < handoff.indexOf('sent while connecting'), 'the hand-off comes first');
    // The pre-engagement data is the conversation's (where the address's Studio flow reads it), never on display.
    const admin = await emu('GET', '/admin/state');
    const attrs = admin.conversations.find((c) => c.sid === ch).attributes;
    assert.match(attrs, /ada@example.com/);
    // The connect message's skill is not signed by a bot back end (HANDOFF_SECRET), so it never becomes routing data.
    assert.doesNotMatch(attrs + JSON.stringify(task.attributes), /billing/);
    await emu('POST', `/agent/api/tasks/${task.sid}/accept`, { agent: 'alice' });
    const joined = await until('agentJoined', async () => (await calls(page, 'agentJoined'))[0]);
    assert.equal(joined[0].nickname, 'Alice');
    assert.match(joined[0].profile_picture_url, /^http/);
    await until('queued message delivered', async () => texts(await emu('GET', '/agent/api/state'), ch).includes('sent while connecting'));
    await page.evaluate(() => window.desk.sendMessageToAgent({ input: { text: 'second' } }, 'm2', {}));
    const state = await until('second', async () => { const s = await emu('GET', '/agent/api/state'); return texts(s, ch).includes('second') && s; });
    const mine = texts(state, ch).filter((b) => b === 'sent while connecting' || b === 'second');
    assert.deepEqual(mine, ['sent while connecting', 'second'], 'once each, in order');
    await emu('POST', `/agent/api/conversations/${ch}/messages`, { agent: 'alice', body: '<img src=x onerror=alert(1)>' });
    const shown = await until('agent text', async () => (await calls(page, 'sendMessageToUser'))[0]);
    // As typed: Carbon removes HTML from human-agent text itself (removeHTML; markdown-it html:false).
    assert.equal(shownText(shown[0]), '<img src=x onerror=alert(1)>');
  });

  test('typing and read receipts both ways', { skip }, async (t) => {
    const { page, task, ch, emu } = await startChat(t, mode);
    await emu('POST', `/agent/api/tasks/${task.sid}/accept`, { agent: 'alice' });
    await until('agentJoined', async () => (await calls(page, 'agentJoined')).length);
    await emu('POST', `/agent/api/conversations/${ch}/typing`, { agent: 'alice' });
    await until('agent typing shown', async () => (await calls(page, 'agentTyping')).some((a) => a[0] === true));
    await page.evaluate(() => window.desk.userTyping(true));
    await until('customer typing seen by the agent', async () => (await emu('GET', '/agent/api/state')).conversations[ch].typing.length > 0);
    await until('customer message delivered', async () => texts(await emu('GET', '/agent/api/state'), ch).includes('sent while connecting'));
    await emu('POST', `/agent/api/conversations/${ch}/read`, { agent: 'alice' });
    await until('agent read shown', async () => (await calls(page, 'agentReadMessages')).length === 1);
    const sent = await emu('POST', `/agent/api/conversations/${ch}/messages`, { agent: 'alice', body: 'read me' });
    await until('shown', async () => (await calls(page, 'sendMessageToUser')).length);
    await page.evaluate(() => window.desk.userReadMessages());
    await until('customer read horizon', async () => {
      const p = (await emu('GET', '/agent/api/state')).conversations[ch].participants.find((x) => /customer/.test(JSON.stringify(x.attributes)));
      return p && p.lastReadMessageIndex === sent.index;
    });
  });

  test('transfer shows the new agent and the chat goes on; agent end ends it; late events do nothing', { skip }, async (t) => {
    const { page, task, ch, emu } = await startChat(t, mode);
    await emu('POST', `/agent/api/tasks/${task.sid}/accept`, { agent: 'alice' });
    await until('alice', async () => (await calls(page, 'agentJoined')).length === 1);
    const moved = await emu('POST', `/agent/api/tasks/${task.sid}/transfer`, { to: 'bob' });
    const wt = (await emu('GET', '/agent/api/state')).tasks.find((x) => x.status !== 'completed' && x.sid !== task.sid)?.sid ?? moved.sid;
    await emu('POST', `/agent/api/tasks/${wt}/accept`, { agent: 'bob' }).catch(() => {});
    await until('bob joined', async () => (await calls(page, 'agentJoined')).some((a) => a[0].nickname === 'Bob'));
    assert.equal((await calls(page, 'beginTransferToAnotherAgent')).length, 1);
    assert.equal((await calls(page, 'agentEndedChat')).length, 0, 'a transfer is not the end');
    await page.evaluate(() => window.desk.sendMessageToAgent({ input: { text: 'still there?' } }, 'm3', {}));
    await until('delivered after transfer', async () => texts(await emu('GET', '/agent/api/state'), ch).includes('still there?'));
    await emu('POST', `/agent/api/tasks/${wt}/end`);
    await until('ended', async () => (await calls(page, 'agentEndedChat')).length === 1);
    assert.equal(await page.evaluate(() => window.desk.phase), 'Ended');
  });

  test('user ends the chat: the conversation is closed for the agent', { skip }, async (t) => {
    const { page, task, ch, emu } = await startChat(t, mode);
    await emu('POST', `/agent/api/tasks/${task.sid}/accept`, { agent: 'alice' });
    await until('alice', async () => (await calls(page, 'agentJoined')).length === 1);
    await page.evaluate(() => window.desk.endChat({ endedByHumanAgent: false }));
    await until('closed', async () => (await emu('GET', '/agent/api/state')).conversations[ch].state === 'closed');
  });

  test('reload: reconnect replays what the agent sent meanwhile, once', { skip }, async (t) => {
    const { page, task, ch, emu, newPage } = await startChat(t, mode);
    await emu('POST', `/agent/api/tasks/${task.sid}/accept`, { agent: 'alice' });
    await emu('POST', `/agent/api/conversations/${ch}/messages`, { agent: 'alice', body: 'before reload' });
    await until('shown', async () => (await calls(page, 'sendMessageToUser')).length === 1);
    const saved = await page.evaluate(() => window.saved);
    await page.close();
    await emu('POST', `/agent/api/conversations/${ch}/messages`, { agent: 'alice', body: 'while away' });
    const again = await newPage(saved);
    assert.equal(await again.evaluate(() => window.desk.reconnect()), true);
    await until('replayed', async () => (await calls(again, 'sendMessageToUser')).length >= 1);
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual((await calls(again, 'sendMessageToUser')).map((a) => shownText(a[0])), ['while away']);
  });

  test('connection dropped: disconnected shown, then recovered; nothing lost either way', { skip }, async (t) => {
    const { page, task, ch, emu } = await startChat(t, mode);
    await emu('POST', `/agent/api/tasks/${task.sid}/accept`, { agent: 'alice' });
    await until('alice', async () => (await calls(page, 'agentJoined')).length === 1);
    await emu('POST', '/admin/faults', { refuseWebsockets: 2, dropWebsockets: true });
    await until('disconnected shown', async () => (await calls(page, 'setErrorStatus')).some((a) => a[0].type === 2 && a[0].isDisconnected), 8000);
    await page.evaluate(() => window.desk.sendMessageToAgent({ input: { text: 'during the drop' } }, 'm9', {}));
    await emu('POST', `/agent/api/conversations/${ch}/messages`, { agent: 'alice', body: 'agent during the drop' });
    await until('recovered', async () => (await calls(page, 'setErrorStatus')).some((a) => a[0].type === 2 && !a[0].isDisconnected), 15000);
    await until('customer message arrived', async () => texts(await emu('GET', '/agent/api/state'), ch).filter((b) => b === 'during the drop').length === 1, 10000);
    await until('agent message shown', async () => (await calls(page, 'sendMessageToUser')).some((a) => shownText(a[0]) === 'agent during the drop'), 10000);
  });

  test('connection dropped and refused twice: nothing lost either way once the client is back', { skip }, async (t) => {
    const { page, task, ch, emu } = await startChat(t, mode);
    await emu('POST', `/agent/api/tasks/${task.sid}/accept`, { agent: 'alice' });
    await until('alice', async () => (await calls(page, 'agentJoined')).length === 1);
    await emu('POST', '/admin/faults', { refuseWebsockets: 2, dropWebsockets: true });
    await until('the drop', async () => (await emu('GET', '/admin/state')).faults.refuseWebsockets < 2, 5000);
    await page.evaluate(() => window.desk.sendMessageToAgent({ input: { text: 'while reconnecting' } }, 'm8', {}));
    await emu('POST', `/agent/api/conversations/${ch}/messages`, { agent: 'alice', body: 'agent while reconnecting' });
    await until('customer message arrived once', async () => texts(await emu('GET', '/agent/api/state'), ch).filter((b) => b === 'while reconnecting').length === 1, 15000);
    await until('agent message shown', async () => (await calls(page, 'sendMessageToUser')).some((a) => shownText(a[0]) === 'agent while reconnecting'), 15000);
    assert.equal((await emu('GET', '/admin/state')).faults.refuseWebsockets, 0, 'the client retried through both refusals');
  });

  test('token expiry: refreshed through the session credential without a visible break', { skip }, async (t) => {
    const { page, task, ch, emu } = await startChat(t, mode);
    await emu('POST', `/agent/api/tasks/${task.sid}/accept`, { agent: 'alice' });
    await until('alice', async () => (await calls(page, 'agentJoined')).length === 1);
    await emu('POST', '/admin/faults', { expireTokensInSeconds: 2 });
    await new Promise((r) => setTimeout(r, 3500));
    await page.evaluate(() => window.desk.sendMessageToAgent({ input: { text: 'after expiry' } }, 'm5', {}));
    await until('delivered after refresh', async () => texts(await emu('GET', '/agent/api/state'), ch).includes('after expiry'), 10000);
    assert.deepEqual((await calls(page, 'setErrorStatus')).filter((a) => a[0].type === 1), [], 'no connecting error');
  });

  test('token about to expire: the refreshed token replaces it before expiry, no break', { skip }, async (t) => {
    const { page, task, ch, emu } = await startChat(t, mode);
    await emu('POST', `/agent/api/tasks/${task.sid}/accept`, { agent: 'alice' });
    await until('alice', async () => (await calls(page, 'agentJoined')).length === 1);
    // Tokens are minted per second: wait for the next one so the refresh is a different token, as it always is when
    // the warning comes minutes ahead (the fault expires only the tokens already issued).
    await new Promise((r) => setTimeout(r, 1100));
    await emu('POST', '/admin/faults', { expireTokensInSeconds: 3 });
    await new Promise((r) => setTimeout(r, 4000));
    await page.evaluate(() => window.desk.sendMessageToAgent({ input: { text: 'after the old token expired' } }, 'm6', {}));
    await until('delivered with the new token', async () => texts(await emu('GET', '/agent/api/state'), ch).includes('after the old token expired'), 10000);
    assert.deepEqual((await calls(page, 'setErrorStatus')).filter((a) => a[0].type === 1 || a[0].isDisconnected), [], 'no visible break');
  });

  test('availability reflects the agents', { skip }, async (t) => {
    const env = await setup(t, { mode });
    const page = await env.newPage();
    assert.equal(await page.evaluate(() => window.desk.areAnyAgentsOnline(window.connectMessage)), true);
    await env.emu('POST', '/agent/api/agents/alice/availability', { available: false });
    await env.emu('POST', '/agent/api/agents/bob/availability', { available: false });
    // The auth server caches availability for a few seconds.
    await until('no agents', async () => (await page.evaluate(() => window.desk.areAnyAgentsOnline(window.connectMessage))) === false, 15000);
  });
}
