// flexdesk/history (issue 23, defect 2) on its own, in Node with a fake ChatInstance: what it keeps from the web
// chat's events and gives back as `customLoadHistory`, across a reload; what it leaves out (lines Carbon does not show
// while suspended); "Restart conversation"; the bounds. The real web chat drives it in tests/e2e/customer-sees.test.mjs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chatHistory } from '../../crates/flexdesk/js/history.js';

/**
 * A ChatInstance, enough for the module: `on` / `off` with `TypeAndHandler` lists, `getState().humanAgent.isSuspended`
 * (Carbon AI Chat 1.9's types in node_modules/@carbon/ai-chat/dist/types: `EventHandlers`, `PublicChatState`), and
 * `fire` for the test.
 */
function fakeInstance() {
  let handlers = [];
  const instance = {
    suspended: false,
    on: (list) => void (handlers = handlers.concat(list)),
    off: (list) => void (handlers = handlers.filter((h) => !list.includes(h))),
    fire: (event) => handlers.filter((h) => h.type === event.type).forEach((h) => h.handler(event)),
    getState: () => ({ humanAgent: { isSuspended: instance.suspended } }),
    count: () => handlers.length,
  };
  return instance;
}

function memoryStorage() {
  const map = new Map();
  return { getItem: (k) => map.get(k) ?? null, setItem: (k, v) => void map.set(k, String(v)), removeItem: (k) => void map.delete(k), map };
}

const alice = { id: 'alice', nickname: 'Alice', user_type: 'human' };
const response = (id, text, extra = {}) => ({ id, output: { generic: [{ response_type: 'text', text }] }, ...extra });
const request = (id, text) => ({ id, input: { text } });
const texts = (items) => items.map(({ message }) => message.input?.text ?? message.output.generic[0].text);

test('keeps the bot part and the agent part as shown, in order, and gives them back after a reload', async () => {
  const storage = memoryStorage();
  const instance = fakeInstance();
  const history = chatHistory({ storage });
  assert.deepEqual(await history.customLoadHistory(instance), [], 'nothing kept yet');
  instance.fire({ type: 'send', data: { id: 'w', input: { text: '' }, history: { silent: true, is_welcome_request: true } } });
  instance.fire({ type: 'receive', data: response('r1', 'Hi!', { history: { timestamp: Date.UTC(2025, 0, 31, 10) } }) });
  instance.fire({ type: 'send', data: request('q1', 'agent please') });
  instance.fire({ type: 'human_agent:receive', data: { id: 's1', output: { generic: [{ response_type: 'text', agent_message_type: 'human_agent_joined', text: 'Alice connected.' }] } } });
  instance.fire({ type: 'human_agent:send', data: request('q2', 'hello Alice') });
  const fromAlice = response('a1', 'Hello, how can I help?', { message_options: { response_user_profile: alice } });
  instance.fire({ type: 'human_agent:receive', data: Object.freeze(fromAlice), responseUserProfile: alice });
  // A turn of files only: an empty text (the uploads are separate messages): not an empty bubble to restore.
  instance.fire({ type: 'human_agent:send', data: request('q3', ''), files: [{ id: 'f1' }] });

  // A reload: a new page, a new web chat instance, the same storage.
  const again = chatHistory({ storage });
  const items = await again.customLoadHistory(fakeInstance());
  assert.deepEqual(texts(items), ['', 'Hi!', 'agent please', 'Alice connected.', 'hello Alice', 'Hello, how can I help?']);
  assert.deepEqual(items.at(-1).message.message_options.response_user_profile, alice, "the agent's message keeps the agent's profile (name)");
  assert.equal(items[1].time, '2025-01-31T10:00:00.000Z', "the message's own time");
  assert.ok(items.every((i) => !Number.isNaN(Date.parse(i.time))), 'every item has an ISO time (HistoryItem)');
  // Copies: what Carbon changes on restored messages (it sets `history.timestamp`, `ui_state_internal`) is not kept.
  items[1].message.output.generic[0].text = 'changed';
  assert.equal(texts(await again.customLoadHistory(fakeInstance()))[1], 'Hi!');
});

test('the same message again replaces its copy; a new web chat instance moves the listening to it', async () => {
  const storage = memoryStorage();
  const first = fakeInstance();
  const history = chatHistory({ storage });
  await history.customLoadHistory(first);
  first.fire({ type: 'receive', data: response('r1', 'one') });
  first.fire({ type: 'receive', data: response('r1', 'one, edited') });
  const second = fakeInstance();
  await history.customLoadHistory(second);
  assert.equal(first.count(), 0, 'the old instance is no longer listened to');
  first.fire({ type: 'receive', data: response('r2', 'from the old instance') });
  second.fire({ type: 'receive', data: response('r3', 'two') });
  assert.deepEqual(texts(await chatHistory({ storage }).customLoadHistory(fakeInstance())), ['one, edited', 'two']);
});

test('lines Carbon does not show while the page has the chat suspended are not kept', async () => {
  // HumanAgentServiceImpl.ts: `addMessages(…, !isSuspended())` then the human_agent:receive event all the same; the
  // tab that hands the chat to another tab suspends it, then ends it (Carbon's "You disconnected" is fired, not shown).
  const storage = memoryStorage();
  const instance = fakeInstance();
  const history = chatHistory({ storage });
  await history.customLoadHistory(instance);
  instance.fire({ type: 'human_agent:receive', data: response('a1', 'shown') });
  instance.suspended = true;
  instance.fire({ type: 'human_agent:receive', data: { id: 's2', output: { generic: [{ response_type: 'text', agent_message_type: 'chat_was_ended', text: 'You disconnected from the live agent.' }] } } });
  instance.suspended = false;
  instance.fire({ type: 'receive', data: response('c1', 'Your chat with an agent goes on in another tab.') });
  assert.deepEqual(texts(await chatHistory({ storage }).customLoadHistory(fakeInstance())), ['shown', 'Your chat with an agent goes on in another tab.']);
});

test('"Restart conversation" forgets everything before it; clear() and stop()', async () => {
  const storage = memoryStorage();
  const instance = fakeInstance();
  const history = chatHistory({ storage });
  await history.customLoadHistory(instance);
  instance.fire({ type: 'human_agent:receive', data: response('a1', 'Alice ended the chat.') });
  instance.fire({ type: 'restartConversation' });
  instance.fire({ type: 'receive', data: response('r1', 'Hi! (the welcome again)') });
  assert.deepEqual(texts(await chatHistory({ storage }).customLoadHistory(fakeInstance())), ['Hi! (the welcome again)']);
  history.stop();
  instance.fire({ type: 'receive', data: response('r2', 'after stop') });
  assert.equal(instance.count(), 0);
  history.clear();
  assert.equal(storage.map.size, 0, 'clear() removes the stored copy');
  assert.deepEqual(await chatHistory({ storage }).customLoadHistory(fakeInstance()), []);
});

test('bounded: the newest maxItems; corrupt or full storage never breaks the web chat', async () => {
  const storage = memoryStorage();
  const instance = fakeInstance();
  const history = chatHistory({ storage, maxItems: 3 });
  await history.customLoadHistory(instance);
  for (let i = 0; i < 5; i++) instance.fire({ type: 'receive', data: response(`r${i}`, `m${i}`) });
  assert.deepEqual(texts(await chatHistory({ storage }).customLoadHistory(fakeInstance())), ['m2', 'm3', 'm4']);

  storage.setItem('flexdesk-history', '{"not":"a list"}');
  assert.deepEqual(await chatHistory({ storage }).customLoadHistory(fakeInstance()), []);
  storage.setItem('flexdesk-history', '[null, {"message": 1, "time": "x"}, "junk"]');
  assert.deepEqual(await chatHistory({ storage }).customLoadHistory(fakeInstance()), []);

  const full = { getItem: () => null, setItem: () => { throw new Error('QuotaExceededError'); }, removeItem: () => {} };
  const inMemory = chatHistory({ storage: full });
  const i2 = fakeInstance();
  await inMemory.customLoadHistory(i2);
  i2.fire({ type: 'receive', data: response('r', 'kept in memory') });
  assert.ok(Array.isArray(await inMemory.customLoadHistory(i2)));
  assert.throws(() => chatHistory({ maxItems: 0 }), /maxItems must be a positive whole number/);
});
