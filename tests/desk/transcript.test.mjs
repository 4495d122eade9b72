// flexdesk/transcript (issue 17) on its own, in Node with a fake ChatInstance: the lines it writes from the web chat's
// events, untrusted text kept plain, the bounds, surviving a reload; and the wrapper's check of `onChatEnd`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { recordTranscript } from '../../crates/flexdesk/js/transcript.js';
import { createTwilioFlexServiceDesk } from '../../crates/flexdesk/js/index.js';

/**
 * A ChatInstance's event bus, enough for the module: `on`, `off`, and `fire` for the test. The shapes follow Carbon AI
 * Chat 1.9's types (node_modules/@carbon/ai-chat/dist/types: `EventHandlers.on/off` take `TypeAndHandler` lists;
 * `BusEventType` names `send`, `receive`, `human_agent:send`, `human_agent:receive`, `human_agent:endChat`); the real
 * web chat drives the module in tests/e2e/back-to-bot.test.mjs.
 */
function fakeInstance() {
  let handlers = [];
  return {
    on: (list) => void (handlers = handlers.concat(list)),
    off: (list) => void (handlers = handlers.filter((h) => !list.includes(h))),
    fire: (event) => handlers.filter((h) => h.type === event.type).forEach((h) => h.handler(event)),
    count: () => handlers.length,
  };
}

function memoryStorage() {
  const map = new Map();
  return { getItem: (k) => map.get(k) ?? null, setItem: (k, v) => void map.set(k, String(v)), removeItem: (k) => void map.delete(k), map };
}

const at = (h, m, s) => new Date(2025, 0, 31, h, m, s).getTime();
const text = (t) => ({ output: { generic: [{ response_type: 'text', text: t }] } });
const alice = { id: 'alice', nickname: 'Alice', user_type: 'human' };

test('bot and agent parts, in order, as plain text lines with time and who', () => {
  const instance = fakeInstance();
  let now = at(14, 5, 8);
  const t = recordTranscript(instance, { storage: memoryStorage(), labels: { bot: 'Ada' }, now: () => (now += 1000) });
  instance.fire({ type: 'send', data: { input: { text: '' }, history: { silent: true } } });
  instance.fire({ type: 'receive', data: { output: { generic: [{ response_type: 'text', text: 'Hi!' }, { response_type: 'option', title: 'Pick one:', options: [{ label: 'Hours' }, { label: 'Agent' }] }] } } });
  instance.fire({ type: 'send', data: { input: { text: 'I want to talk to an agent' }, history: { label: 'Agent' } } });
  instance.fire({ type: 'receive', data: { output: { generic: [{ response_type: 'connect_to_agent', message_to_human_agent: 'x' }] } } });
  instance.fire({ type: 'human_agent:receive', data: { output: { generic: [{ response_type: 'text', agent_message_type: 'agent_joined' }] }, message_options: { response_user_profile: alice } } });
  instance.fire({ type: 'human_agent:send', data: { input: { text: 'My parcel\nis late' } }, files: [{ id: 'f1', file: { name: 'receipt.pdf' } }] });
  instance.fire({ type: 'human_agent:receive', data: text('Sorry!'), responseUserProfile: alice });
  instance.fire({ type: 'human_agent:receive', data: text('[label\\_1.png](<https://media.example/x?a=1>)'), responseUserProfile: alice });
  instance.fire({ type: 'human_agent:receive', data: { output: { generic: [{ response_type: 'image', source: 'https://m/x.png', title: 'photo.png' }] } }, responseUserProfile: alice });
  instance.fire({ type: 'human_agent:receive', data: { output: { generic: [{ response_type: 'text', agent_message_type: 'agent_ended_chat' }] }, message_options: { response_user_profile: alice } } });
  instance.fire({ type: 'human_agent:endChat', endedByHumanAgent: true, requestCancelled: false });
  instance.fire({ type: 'receive', data: text('How was your chat with Alice? Reply 1 to 5.') });
  assert.equal(
    t.text(),
    [
      '2025-01-31 14:05:09 Ada: Hi!',
      '2025-01-31 14:05:10 Ada: Pick one:',
      '    [options: Hours, Agent]',
      '2025-01-31 14:05:11 You: Agent',
      '2025-01-31 14:05:12 Ada: [offered to connect you to an agent]',
      '2025-01-31 14:05:13 (Alice joined the chat)',
      '2025-01-31 14:05:14 You: My parcel',
      '    is late',
      '2025-01-31 14:05:15 You: [file: receipt.pdf]',
      '2025-01-31 14:05:16 Alice: Sorry!',
      '2025-01-31 14:05:17 Alice: [file: label_1.png]',
      '2025-01-31 14:05:18 Alice: [image: photo.png]',
      '2025-01-31 14:05:19 (Alice ended the chat)',
      '2025-01-31 14:05:20 (Back to Ada)',
      '2025-01-31 14:05:21 Ada: How was your chat with Alice? Reply 1 to 5.',
      '',
    ].join('\n'),
  );
});

test("a note from someone who is not an agent of the chat (flexdesk's status line) is written as a note, not as the agent's", () => {
  // The desk sends such a message with `agent_message_type: 'flexdesk_notice'` (issue 23, defect 6); Carbon still
  // attaches the current agent's profile to it.
  const instance = fakeInstance();
  const t = recordTranscript(instance, { storage: null, now: () => at(9, 0, 0) });
  const note = { output: { generic: [{ response_type: 'text', text: 'This chat may be reviewed.', agent_message_type: 'flexdesk_notice' }] } };
  instance.fire({ type: 'human_agent:receive', data: note, responseUserProfile: { nickname: 'Alice' } });
  assert.equal(t.text(), '2025-01-31 09:00:00 (This chat may be reviewed.)\n');
});

test('untrusted text stays plain: markup kept as typed, control and bidi-override characters removed', () => {
  const instance = fakeInstance();
  const t = recordTranscript(instance, { storage: null, now: () => at(9, 0, 0) });
  instance.fire({ type: 'human_agent:receive', data: text('<img src=x onerror=alert(1)> **hi**\u202Efdp.exe\u0007\r\nok'), responseUserProfile: { nickname: 'Eve\u0000<b>' } });
  assert.equal(t.text(), '2025-01-31 09:00:00 Eve<b>: <img src=x onerror=alert(1)> **hi**fdp.exe\n    ok\n');
});

test('kept in storage: a reload carries on with the same record; bounded; clear() forgets it', () => {
  const storage = memoryStorage();
  const first = fakeInstance();
  recordTranscript(first, { storage, now: () => at(10, 0, 0) });
  first.fire({ type: 'send', data: { input: { text: 'before the reload' } } });
  const again = fakeInstance();
  const t = recordTranscript(again, { storage, now: () => at(10, 0, 1) });
  again.fire({ type: 'send', data: { input: { text: 'after the reload' } } });
  assert.deepEqual(t.text().trimEnd().split('\n'), ['2025-01-31 10:00:00 You: before the reload', '2025-01-31 10:00:01 You: after the reload']);

  for (let i = 0; i < 600; i++) again.fire({ type: 'send', data: { input: { text: `m${i}` } } });
  let lines = t.text().trimEnd().split('\n');
  assert.equal(lines.length, 500, 'the last 500 messages');
  assert.match(lines[0], /You: m100$/);
  for (let i = 0; i < 100; i++) again.fire({ type: 'send', data: { input: { text: `big${i} ${'x'.repeat(5000)}` } } });
  lines = t.text().trimEnd().split('\n');
  assert.match(lines.at(-1), /You: big99 x+…$/, 'the newest kept');
  assert.ok(lines.at(-1).length < 4100, 'each message bounded');
  assert.ok(storage.map.get('flexdesk-transcript').length <= 200_000, 'bounded in storage');
  assert.equal(recordTranscript(fakeInstance(), { storage }).text(), t.text(), 'what is shown is what a reload gets');

  t.clear();
  assert.equal(t.text(), '');
  assert.equal(storage.getItem('flexdesk-transcript'), null);
  t.stop();
  assert.equal(again.count(), 0, 'stop() removes its listeners');
});

test("entries(): the customer's and the bot's lines in the desk's `transcript` shape, chats with an agent and the notes left out", () => {
  const storage = memoryStorage();
  // A line kept by a version before `from` existed: in text(), not in entries() (its role is unknown).
  storage.setItem('flexdesk-transcript', JSON.stringify([{ t: at(8, 0, 0), who: 'You', text: 'old line' }]));
  const instance = fakeInstance();
  const t = recordTranscript(instance, { storage, now: () => at(9, 0, 0) });
  instance.fire({ type: 'send', data: { input: { text: 'I need a person' } } });
  instance.fire({ type: 'send', data: { input: { text: '' }, history: { silent: true } } });
  instance.fire({ type: 'receive', data: { output: { generic: [{ response_type: 'text', text: 'Connecting you.' }, { response_type: 'connect_to_agent' }] } } });
  instance.fire({ type: 'human_agent:send', data: { input: { text: 'hello agent' } } });
  instance.fire({ type: 'human_agent:receive', data: { ...text('Hi, Alice here'), message_options: { response_user_profile: alice } } });
  instance.fire({ type: 'human_agent:receive', data: { output: { generic: [{ response_type: 'text', text: 'x', agent_message_type: 'agent_joined' }] } } });
  instance.fire({ type: 'human_agent:endChat', requestCancelled: false });
  instance.fire({ type: 'receive', data: text('Welcome back.') });
  assert.deepEqual(t.entries(), [
    { from: 'user', text: 'I need a person' },
    { from: 'bot', text: 'Connecting you.' },
    { from: 'bot', text: '[offered to connect you to an agent]' },
    { from: 'bot', text: 'Welcome back.' },
  ]);
  assert.match(t.text(), /You: old line/, 'the old line is still in the text');
  assert.deepEqual(recordTranscript(fakeInstance(), { storage }).entries(), t.entries(), 'the same after a reload');
});

test('a corrupt or foreign stored value is ignored', () => {
  for (const saved of ['{not json', '{"a":1}', '[{"t":"x","text":1},null]']) {
    const storage = memoryStorage();
    storage.setItem('flexdesk-transcript', saved);
    assert.equal(recordTranscript(fakeInstance(), { storage }).text(), '');
  }
});

test('the wrapper checks onChatEnd: a function or nothing', () => {
  const base = { authServerUrl: 'https://chat-auth.example.com', createConversationsClient: () => ({}) };
  for (const onChatEnd of ['survey', {}, 1]) {
    assert.throws(() => createTwilioFlexServiceDesk({ ...base, onChatEnd }), { name: 'TypeError', message: 'flexdesk: config.onChatEnd must be a function (outcome) => void' });
  }
  assert.equal(typeof createTwilioFlexServiceDesk({ ...base, onChatEnd: () => {} }), 'function');
  assert.equal(typeof createTwilioFlexServiceDesk(base), 'function');
});

test('the wrapper checks transcript: a function or nothing (the desk reads it only at startChat)', () => {
  const base = { authServerUrl: 'https://chat-auth.example.com', createConversationsClient: () => ({}) };
  for (const transcript of [[{ from: 'user', text: 'hi' }], 'all', 1]) {
    assert.throws(() => createTwilioFlexServiceDesk({ ...base, transcript }), { name: 'TypeError', message: 'flexdesk: config.transcript must be a function () => [{ from, text }]' });
  }
  for (const transcript of [undefined, null, () => []]) assert.equal(typeof createTwilioFlexServiceDesk({ ...base, transcript }), 'function');
});
