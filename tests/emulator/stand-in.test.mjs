// Drives the JS stand-in for @twilio/conversations against a running flexdesk-emulator, playing the
// customer, while the test plays the agent through the emulator's agent API.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { routeChat, routedTask, startBinary } from '../support/servers.mjs';
import { FAKE_TWILIO_ENV as ENV } from '../support/fake-env.mjs';
import { Client } from '../../www/emulator-client/index.js';

// node 20 has no global WebSocket; the `ws` package is in node_modules (a dependency of the toolchain).
const WebSocketImpl = globalThis.WebSocket ?? (await import('ws')).default;

const b64url = (v) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

/** A Twilio AccessToken exactly as the auth server mints it (HS256 with the API key secret). */
function mintToken(identity, { ttl = 3600, secret = ENV.TWILIO_API_KEY_SECRET, serviceSid = ENV.TWILIO_CONVERSATIONS_SERVICE_SID } = {}) {
  const iat = Math.floor(Date.now() / 1000);
  const header = b64url({ alg: 'HS256', typ: 'JWT', cty: 'twilio-fpa;v=1' });
  const payload = b64url({
    jti: `${ENV.TWILIO_API_KEY_SID}-${iat}-${Math.random()}`,
    grants: { identity, chat: { service_sid: serviceSid } },
    iat,
    exp: iat + ttl,
    iss: ENV.TWILIO_API_KEY_SID,
    sub: ENV.TWILIO_ACCOUNT_SID,
  });
  const sig = createHmac('sha256', secret).update(`${header}.${payload}`).digest('base64url');
  return `${header}.${payload}.${sig}`;
}

let emu;
const basic = 'Basic ' + Buffer.from(`${ENV.TWILIO_ACCOUNT_SID}:${ENV.TWILIO_AUTH_TOKEN}`).toString('base64');

async function twilio(path, form) {
  const res = await fetch(emu.url + path, {
    method: form ? 'POST' : 'GET',
    headers: { Authorization: basic, ...(form ? { 'Content-Type': 'application/x-www-form-urlencoded' } : {}) },
    body: form ? new URLSearchParams(form) : undefined,
  });
  return { status: res.status, body: await res.json() };
}

async function json(path, body, method = body === undefined ? 'GET' : 'POST') {
  const res = await fetch(emu.url + path, {
    method,
    headers: { 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  const parsed = text ? JSON.parse(text) : null;
  if (!res.ok) throw new Error(`${method} ${path} -> ${res.status} ${text}`);
  return parsed;
}

/** Resolves with the first emission of `event` on `emitter` that satisfies `pred`. */
function next(emitter, event, pred = () => true, ms = 5000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.off(event, listener);
      reject(new Error(`no ${event} within ${ms} ms`));
    }, ms);
    const listener = (...args) => {
      if (!pred(...args)) return;
      clearTimeout(timer);
      emitter.off(event, listener);
      resolve(args[0]);
    };
    emitter.on(event, listener);
  });
}

/** Starts a chat like the auth server does (webchat orchestrator) and connects the stand-in as the customer. */
async function startChat(pre = {}, backoff = { minMs: 50, maxMs: 200 }) {
  const started = await twilio('/v2/WebChats', {
    AddressSid: ENV.TWILIO_ADDRESS_SID,
    ChatFriendlyName: 'Chat with Ann',
    CustomerFriendlyName: 'Ann',
    PreEngagementData: JSON.stringify({ topic: 'billing', skill: 'payments', language: 'en', message_to_human_agent: 'refund please', ...pre }),
  });
  assert.equal(started.status, 201, JSON.stringify(started.body));
  const { identity, conversation_sid: sid } = started.body;
  const client = new Client(mintToken(identity), { emulatorUrl: emu.url, WebSocket: WebSocketImpl, backoff });
  const states = [];
  client.on('connectionStateChanged', (s) => states.push(s));
  await next(client, 'initialized');
  const conversation = await client.getConversationBySid(sid);
  // Not routed yet: the address's Studio flow runs on the first message that fires onMessageAdded (the customer's,
  // from the SDK, or the auth server's REST message with X-Twilio-Webhook-Enabled; docs/emulator.md).
  return { client, conversation, identity, sid, states };
}

before(async () => {
  emu = await startBinary('flexdesk-emulator', { EMULATOR_PORT: '0' });
});
after(async () => {
  await emu?.stop();
});

test('a customer message reaches the agent and the agent reply comes back', async () => {
  const { client, conversation, identity, sid } = await startChat();
  try {
    assert.equal(conversation.state.current, 'active');
    // The customer's message (from the SDK) fires onMessageAdded: that routes the chat (Flex's pipeline).
    const index = await conversation.sendMessage('Hello, I need help', { flexdeskId: 'wc-1' });
    assert.equal(index, 0);
    const task = await routedTask(emu.url, sid);
    const seen = (await json('/agent/api/state')).conversations[sid].messages;
    assert.deepEqual(seen.map((m) => [m.index, m.author, m.body, m.attributes.flexdeskId]), [[0, identity, 'Hello, I need help', 'wc-1']]);
    assert.equal(task.status, 'pending');
    // The default Chat flow's Send to Flex attributes name the customer; the pre-engagement data stays in the
    // conversation's attributes.
    assert.equal(task.attributes.name, 'Ann');
    assert.equal(task.attributes.customerName, 'Ann');

    const joined = next(conversation, 'participantJoined');
    await json(`/agent/api/tasks/${task.sid}/accept`, { agent: 'alice' });
    const agent = await joined;
    assert.deepEqual(
      { ...agent.attributes, avatar: typeof agent.attributes.avatar },
      { member_type: 'agent', friendlyName: 'Alice', avatar: 'string' },
    );
    const avatar = await fetch(agent.attributes.avatar);
    assert.equal(avatar.headers.get('content-type'), 'image/svg+xml');

    const typing = next(conversation, 'typingStarted');
    await json(`/agent/api/conversations/${sid}/typing`, { agent: 'alice' });
    assert.equal((await typing).identity, 'agent.alice');

    const read = next(conversation, 'participantUpdated', (d) => d.updateReasons.includes('lastReadMessageIndex'));
    await json(`/agent/api/conversations/${sid}/read`, { agent: 'alice' });
    const update = await read;
    assert.equal(update.participant.identity, 'agent.alice');
    assert.equal(update.participant.lastReadMessageIndex, 0);

    const reply = next(conversation, 'messageAdded', (m) => m.author === 'agent.alice');
    const typingEnded = next(conversation, 'typingEnded');
    await json(`/agent/api/conversations/${sid}/messages`, { agent: 'alice', body: '<b>Hi Ann</b>, how can I help?' });
    const m = await reply;
    assert.equal(m.body, '<b>Hi Ann</b>, how can I help?');
    assert.equal(m.index, 1);
    assert.equal(m.type, 'text');
    assert.ok(m.dateCreated instanceof Date);
    assert.equal((await typingEnded).identity, 'agent.alice', 'a message ends its author typing');

    // The customer's read horizon reaches the agent side.
    assert.equal(await conversation.setAllMessagesRead(), 0);
    const parts = (await json('/agent/api/state')).conversations[sid].participants;
    assert.equal(parts.find((p) => p.identity === identity).lastReadMessageIndex, 1);

    const page = await conversation.getMessages(1);
    assert.deepEqual(page.items.map((x) => x.index), [1]);
    assert.equal(page.hasPrevPage, true);
    const older = await page.prevPage();
    assert.deepEqual(older.items.map((x) => x.body), ['Hello, I need help']);
    assert.equal(older.hasPrevPage, false);
  } finally {
    await client.shutdown();
  }
});

test('media: upload with the token, limits enforced, temporary URL serves the file', async () => {
  const { client, conversation, sid } = await startChat();
  try {
    const index = await conversation
      .prepareMessage()
      .setAttributes({ flexdeskId: 'wc-file' })
      .addMedia({ contentType: 'text/plain', filename: 'notes.txt', media: new Blob(['order 1234']) })
      .build()
      .send();
    assert.equal(index, 0);
    const [msg] = (await conversation.getMessages()).items;
    assert.equal(msg.type, 'media');
    assert.equal(msg.body, null);
    assert.deepEqual(
      msg.attachedMedia.map((x) => [x.filename, x.contentType, x.size]),
      [['notes.txt', 'text/plain; charset=utf-8', 10]],
    );
    const url = await msg.attachedMedia[0].getContentTemporaryUrl();
    assert.equal(await (await fetch(url)).text(), 'order 1234');
    const tampered = await fetch(url.replace(/t=.{8}/, 't=AAAAAAAA'));
    assert.equal(tampered.status, 403);

    await assert.rejects(
      conversation.prepareMessage().setBody('text').addMedia({ contentType: 'image/png', filename: 'a.png', media: new Blob(['x']) }).build().send(),
      /both text and media/,
    );
    await assert.rejects(conversation.sendMessage({ contentType: 'text/html', filename: 'evil.html', media: new Blob(['<script>']) }), /media content type/);
    const tooBig = new Blob([new Uint8Array(16 * 1024 * 1024 + 1)]);
    await assert.rejects(conversation.sendMessage({ contentType: 'image/png', filename: 'big.png', media: tooBig }), /16 MiB/);
    const state = await json('/admin/state');
    assert.equal(state.conversations.find((c) => c.sid === sid).messageCount, 1, 'refused media never became messages');
  } finally {
    await client.shutdown();
  }
});

test('transfer: the new agent joins before the old one leaves; end closes the conversation', async () => {
  const { client, conversation, sid } = await startChat();
  try {
    const task = await routeChat(emu.url, sid);
    await json(`/agent/api/tasks/${task.sid}/accept`, { agent: 'alice' });
    await next(conversation, 'participantJoined', (p) => p.identity === 'agent.alice').catch(() => {});
    const order = [];
    conversation.on('participantJoined', (p) => order.push(`joined ${p.identity}`));
    conversation.on('participantLeft', (p) => order.push(`left ${p.identity}`));
    const left = next(conversation, 'participantLeft');
    await json(`/agent/api/tasks/${task.sid}/transfer`, { to: 'bob' });
    await left;
    assert.deepEqual(order, ['joined agent.bob', 'left agent.alice']);

    const ended = next(conversation, 'updated', (d) => d.updateReasons.includes('state'));
    await json(`/agent/api/tasks/${task.sid}/end`, {});
    const { conversation: c } = await ended;
    assert.equal(c.state.current, 'closed');
    const parts = await conversation.getParticipants();
    assert.ok(parts.some((p) => p.identity === 'agent.bob'), 'participants are not removed by the close');
    const t = (await json('/agent/api/state')).tasks.find((x) => x.sid === task.sid);
    assert.equal(t.status, 'completed');
    await assert.rejects(conversation.sendMessage('anyone?'), /closed/);
  } finally {
    await client.shutdown();
  }
});

test('reconnects after a dropped socket and replays what it missed, once', async () => {
  const { client, conversation, sid, states } = await startChat();
  try {
    // The customer's first message routes the chat; then the agent accepts.
    await conversation.sendMessage('before the drop');
    const task = await routedTask(emu.url, sid);
    await json(`/agent/api/tasks/${task.sid}/accept`, { agent: 'alice' });
    const received = [];
    conversation.on('messageAdded', (m) => received.push(m.index));
    // Make the next connection attempt fail too, so the backoff path runs.
    const disconnected = next(client, 'connectionStateChanged', (s) => s === 'disconnected');
    await json('/admin/faults', { dropWebsockets: true, refuseWebsockets: 1 });
    await disconnected;
    await json(`/agent/api/conversations/${sid}/messages`, { agent: 'alice', body: 'sent while you were away' });
    await json(`/agent/api/conversations/${sid}/messages`, { agent: 'alice', body: 'and another' });
    await next(client, 'connectionStateChanged', (s) => s === 'connected');
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(received, [1, 2]);
    assert.deepEqual(states.slice(-3), ['disconnected', 'connecting', 'connected']);
    assert.ok(states.filter((s) => s === 'connecting').length >= 3, `retried after the refused attempt: ${states}`);
    // Live traffic flows again.
    assert.equal(await conversation.sendMessage('after'), 3);
  } finally {
    await client.shutdown();
  }
});

test('token expiry: warning, expiry, then updateToken reconnects', async () => {
  const { client, conversation, identity } = await startChat();
  try {
    const warned = next(client, 'tokenAboutToExpire');
    const expired = next(client, 'tokenExpired', () => true, 8000);
    await json('/admin/faults', { expireTokensInSeconds: 1 });
    await warned;
    await expired;
    await next(client, 'connectionStateChanged', (s) => s === 'disconnected' || s === 'denied').catch(() => {});
    assert.notEqual(client.connectionState, 'connected');
    await client.updateToken(mintToken(identity));
    assert.equal(client.connectionState, 'connected');
    assert.equal(await conversation.sendMessage('still here'), 0);
  } finally {
    await client.shutdown();
  }
});

test('updateToken from inside the tokenExpired listener reconnects at once', async () => {
  // A long backoff: only an immediate reconnect (not the retry timer) can pass the timing check below.
  const { client, conversation, identity } = await startChat({}, { minMs: 3000, maxMs: 3000 });
  try {
    let renewed;
    client.on('tokenExpired', () => {
      renewed = client.updateToken(mintToken(identity));
    });
    const expiredAt = next(client, 'tokenExpired', () => true, 8000).then(() => Date.now());
    await json('/admin/faults', { expireTokensInSeconds: 1 });
    const t = await expiredAt;
    await renewed;
    assert.equal(client.connectionState, 'connected');
    assert.ok(Date.now() - t < 1000, 'no reconnect backoff after a renewal');
    assert.equal(await conversation.sendMessage('renewed'), 0);
  } finally {
    await client.shutdown();
  }
});

test('a bad token is refused with initFailed and state denied', async () => {
  const client = new Client(mintToken('someone', { secret: 'wrong-secret' }), { emulatorUrl: emu.url, WebSocket: WebSocketImpl });
  const failed = await next(client, 'initFailed');
  assert.equal(failed.error.terminal, true);
  assert.match(failed.error.message, /signature/);
  assert.equal(client.connectionState, 'denied');
  await client.shutdown();

  const other = new Client(mintToken('someone', { serviceSid: 'IS' + '0'.repeat(32) }), { emulatorUrl: emu.url, WebSocket: WebSocketImpl });
  assert.match((await next(other, 'initFailed')).error.message, /another service/);
  await other.shutdown();
});

test('a customer cannot open someone else\'s conversation', async () => {
  const { sid, client: owner } = await startChat();
  const intruder = new Client(mintToken('intruder'), { emulatorUrl: emu.url, WebSocket: WebSocketImpl });
  try {
    await next(intruder, 'initialized');
    await assert.rejects(intruder.getConversationBySid(sid), /not a participant/);
  } finally {
    await intruder.shutdown();
    await owner.shutdown();
  }
});
