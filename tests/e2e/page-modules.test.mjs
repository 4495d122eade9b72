// Unit tests of the demo page's own logic (no browser): the scripted bot, the read-receipt state, the config check.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { reply, Rating, Transcript, makeCustomSendMessage, AGENT_UNAVAILABLE_TEXT } from '../../www/src/bot.js';
import { ReceiptState } from '../../www/src/read-receipt.js';
import { readPageConfig } from '../../www/src/page-config.js';

const memoryStorage = () => {
  const m = new Map();
  return { getItem: (k) => m.get(k) ?? null, setItem: (k, v) => m.set(k, String(v)) };
};

test('the bot greets on the welcome request, with buttons', () => {
  const items = reply('', new Transcript(memoryStorage()));
  assert.match(items[0].text, /flexdesk demo bot/);
  assert.equal(items[1].response_type, 'option');
  assert.ok(items[1].options.some((o) => /agent/i.test(o.value.input.text)));
});

test('the bot escalates on agent/human with a complete connect_to_agent item', () => {
  const transcript = new Transcript(memoryStorage());
  transcript.add('user', 'What are your opening hours?');
  for (const ask of ['agent please', 'Can I talk to a HUMAN?']) {
    const item = reply(ask, transcript).find((i) => i.response_type === 'connect_to_agent');
    assert.ok(item, ask);
    assert.equal(typeof item.message_to_human_agent, 'string');
    assert.equal(item.agent_unavailable.message, AGENT_UNAVAILABLE_TEXT);
    assert.equal(typeof item.agent_available.message, 'string');
    assert.match(item.transfer_info.summary_message_to_agent[0].text, /opening hours/);
  }
  assert.ok(!reply('shipping?', transcript).some((i) => i.response_type === 'connect_to_agent'));
});

test('customSendMessage answers through addMessage and records both sides in the transcript', async () => {
  const storage = memoryStorage();
  const transcript = new Transcript(storage);
  const added = [];
  const send = makeCustomSendMessage(transcript);
  await send({ input: { text: 'How long does shipping take?' } }, {}, { messaging: { addMessage: async (m) => added.push(m) } });
  assert.match(added[0].output.generic[0].text, /shipping takes/);
  assert.deepEqual(transcript.get().map((l) => l.from), ['user', 'bot']);
  // Kept in storage: a reload of the page keeps the transcript for the agent.
  assert.equal(new Transcript(storage).get().length, 2);
  // get() hands out copies.
  transcript.get()[0].text = 'changed';
  assert.equal(transcript.get()[0].text, 'How long does shipping take?');
});

test('a corrupt stored transcript starts empty instead of breaking the page', () => {
  const storage = memoryStorage();
  storage.setItem('flexdesk-demo-transcript', '{not json');
  assert.deepEqual(new Transcript(storage).get(), []);
});

test('read receipt: shown only after the customer sent something to this agent, cleared by a new message', () => {
  const s = new ReceiptState();
  s.agentJoined({ nickname: 'Alice' });
  s.agentRead();
  assert.equal(s.text, null);
  s.userSent();
  s.agentRead();
  assert.equal(s.text, 'Read by Alice');
  s.userSent();
  assert.equal(s.text, null);
  s.agentRead();
  s.agentJoined({ nickname: 'Bob' });
  assert.equal(s.text, null, 'a new agent has not read anything yet');
  s.userSent();
  s.agentRead();
  assert.equal(s.text, 'Read by Bob');
  s.ended();
  assert.equal(s.text, null);
});

test('the page config must name absolute URLs, and says which key is wrong', () => {
  const urls = { authServerUrl: 'http://127.0.0.1:4000/', emulatorUrl: 'http://127.0.0.1:4010' };
  assert.deepEqual(readPageConfig(urls), {
    authServerUrl: 'http://127.0.0.1:4000',
    emulatorUrl: 'http://127.0.0.1:4010',
    client: 'real-sdk',
  });
  assert.throws(() => readPageConfig(undefined), /FLEXDESK_CONFIG is missing/);
  assert.throws(() => readPageConfig({ authServerUrl: '/auth', emulatorUrl: 'http://x' }), /authServerUrl must be an absolute URL/);
});

test('the page config chooses the Conversations client: real SDK by default, ?client= overrides the config', () => {
  const urls = { authServerUrl: 'http://127.0.0.1:4000', emulatorUrl: 'http://127.0.0.1:4010' };
  assert.equal(readPageConfig({ ...urls, client: 'stand-in' }).client, 'stand-in');
  assert.equal(readPageConfig({ ...urls, client: 'stand-in' }, '?client=real-sdk').client, 'real-sdk');
  assert.equal(readPageConfig(urls, '?client=stand-in&x=1').client, 'stand-in');
  assert.throws(() => readPageConfig(urls, '?client=sdk'), /\?client= parameter must be one of real-sdk, stand-in, got "sdk"/);
  assert.throws(() => readPageConfig({ ...urls, client: 42 }), /FLEXDESK_CONFIG\.client must be one of/);
});

test('the real SDK is pointed at the emulator\'s twilsock endpoint', async () => {
  const { twilsockUri } = await import('../../www/src/conversations-client.js');
  assert.equal(twilsockUri('http://127.0.0.1:4010'), 'ws://127.0.0.1:4010/v3/wsconnect');
  assert.equal(twilsockUri('https://emu.example/'), 'wss://emu.example/v3/wsconnect');
});

test('back with the bot (issue 17): after a chat with an agent it asks for a rating and answers the reply', async () => {
  const m = new Map();
  const storage = { getItem: (k) => m.get(k) ?? null, setItem: (k, v) => m.set(k, String(v)), removeItem: (k) => m.delete(k) };
  const rating = new Rating(storage);
  assert.equal(rating.ask({ endedBy: 'closedBeforeAgent', agent: null, agentJoined: false }), null, 'no agent, no question');
  assert.equal(rating.ask({ endedBy: 'agent', agent: { name: 'Alice' }, agentJoined: true }), 'How was your chat with Alice? Reply 1 to 5.');
  const added = [];
  const send = makeCustomSendMessage(new Transcript(memoryStorage()), { rating });
  const instance = { messaging: { addMessage: async (m) => added.push(m.output.generic) } };
  await send({ input: { text: '4' } }, {}, instance);
  assert.deepEqual(added.pop(), [{ response_type: 'text', text: 'Thanks for rating 4.' }]);
  await send({ input: { text: '5' } }, {}, instance);
  assert.notEqual(added.pop()[0].text, 'Thanks for rating 5.', 'asked once, answered once');
  rating.ask({ endedBy: 'customer', agent: { name: 'Bob' }, agentJoined: true });
  await send({ input: { text: 'What are your opening hours?' } }, {}, instance);
  assert.match(added.pop()[0].text, /We are open/, 'not a rating: the bot answers as usual');
});

test('the rating goes to the desk (issue 28): the outcome\'s rate() gets the score, and a rating Flex did not take is said', async () => {
  const m = new Map();
  const storage = { getItem: (k) => m.get(k) ?? null, setItem: (k, v) => m.set(k, String(v)), removeItem: (k) => m.delete(k) };
  const rating = new Rating(storage);
  const sent = [];
  const outcome = (answer) => ({ endedBy: 'agent', agent: { name: 'Alice' }, agentJoined: true, rate: async (r) => (sent.push(r), answer) });
  const added = [];
  const send = makeCustomSendMessage(new Transcript(memoryStorage()), { rating });
  const instance = { messaging: { addMessage: async (x) => added.push(x.output.generic) } };
  rating.ask(outcome({ recorded: true }));
  await send({ input: { text: ' 4 ' } }, {}, instance);
  assert.deepEqual(sent, [{ score: 4 }]);
  assert.deepEqual(added.pop(), [{ response_type: 'text', text: 'Thanks for rating 4.' }]);
  rating.ask(outcome({ recorded: false, reason: 'rating_closed' }));
  await send({ input: { text: '2' } }, {}, instance);
  assert.deepEqual(sent.at(-1), { score: 2 });
  assert.equal(added.pop()[0].text, 'Thanks for rating 2. (It could not be recorded: rating_closed.)');
  rating.ask(outcome({ recorded: true }));
  await send({ input: { text: 'not now' } }, {}, instance);
  assert.equal(sent.length, 2, 'no score, nothing sent');
});
