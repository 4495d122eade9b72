// The real @twilio/conversations 3.0.1 SDK (its UMD build, in headless Chromium) against the emulator's twilsock
// endpoint: connect and initialise, open a conversation, messages both ways, typing both ways, read horizon, close.
// The customer and the agent are two real SDK clients in separate browser contexts; the test also plays the other
// side through the emulator's Conversations REST API and agent API (harness.mjs, `twilio`).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FAKE_TWILIO_ENV } from '../support/fake-env.mjs';
import { launchBrowser, mintToken, openSdkPage, startServer } from './harness.mjs';

const CUSTOMER = 'customer-7f3a';
// An agent the emulator knows (its agent API acts as `agent.alice`).
const AGENT = 'agent.alice';

describe('the real Conversations SDK over twilsock', { timeout: 120000 }, () => {
  let server;
  let browser;
  let conv;
  let customer; // { page, logs }
  let agent;
  const twilio = () => server.twilio;

  const start = async (who, identity, { token = mintToken(identity) } = {}) =>
    who.page.evaluate(
      async ({ token, uri }) => {
        const client = window.startClient(token, uri);
        await window.waitForEvent("(ev) => ev.e === 'initialized' || ev.e === 'initFailed'", 15000);
        return { state: client.connectionState, user: client.user.identity };
      },
      { token, uri: server.wsUri },
    );

  const open = (who, sid) =>
    who.page.evaluate(async (sid) => {
      const c = await window.client.getConversationBySid(sid);
      window.conv = c;
      window.watchConversation(c);
      // Loading the history first means everything after this point is new (as in the desk, which does the same).
      const history = await c.getMessages();
      const participants = await c.getParticipants();
      return {
        sid: c.sid,
        state: c.state && c.state.current,
        history: history.items.length,
        participants: participants.map((p) => ({ identity: p.identity, attributes: p.attributes })),
      };
    }, sid);

  const waitFor = (who, predicate, ms) => who.page.evaluate(([p, ms]) => window.waitForEvent(p, ms), [predicate, ms]);

  const dump = (who) => (who ? who.logs.filter((l) => !/send request|message received/.test(l)).slice(-60).join('\n') : '');

  before(async () => {
    server = await startServer();
    conv = await twilio().createConversation('Chat with customer');
    await twilio().addParticipant(conv.sid, CUSTOMER, { member_type: 'customer' });
    await twilio().addParticipant(conv.sid, AGENT, { member_type: 'agent', friendlyName: 'Alice', avatar: 'https://example.test/a.png' });
    browser = await launchBrowser();
    customer = await openSdkPage(browser, server.url);
    agent = await openSdkPage(browser, server.url);
  });

  after(async (t) => {
    if (process.env.TWILSOCK_TEST_LOGS) console.error(dump(customer), '\n---\n', server && server.output());
    await browser?.close();
    await server?.stop();
  });

  test('milestone 1: connects (connectionStateChanged: connected) and initialises', async () => {
    const r = await start(customer, CUSTOMER);
    assert.equal(r.state, 'connected', dump(customer));
    assert.equal(r.user, CUSTOMER);
    const events = await customer.page.evaluate(() => window.events.map((e) => e.e + ':' + (e.state ?? '')));
    assert.ok(events.includes('connectionStateChanged:connected'), events.join());
    assert.ok(events.includes('initialized:'), events.join());
    await start(agent, AGENT);
  });

  test('a token signed with the wrong secret is refused: the SDK reports denied and never initialises', async () => {
    const { page, context } = await openSdkPage(browser, server.url);
    try {
      const r = await page.evaluate(
        async ({ token, uri }) => {
          window.startClient(token, uri);
          await window.waitForEvent("(ev) => ev.e === 'connectionStateChanged' && ev.state === 'denied'", 10000);
          return window.events.map((e) => e.e + ':' + (e.state ?? ''));
        },
        { token: mintToken(CUSTOMER, { secret: 'not-the-api-key-secret' }), uri: server.wsUri },
      );
      assert.ok(!r.includes('initialized:'), r.join());
    } finally {
      await context.close();
    }
  });

  test('milestone 2: getConversationBySid returns the conversation with its participants', async () => {
    const c = await open(customer, conv.sid);
    assert.equal(c.sid, conv.sid);
    assert.equal(c.state, 'active');
    assert.equal(c.history, 0);
    const alice = c.participants.find((p) => p.identity === AGENT);
    assert.deepEqual(alice.attributes, { member_type: 'agent', friendlyName: 'Alice', avatar: 'https://example.test/a.png' });
    assert.ok(c.participants.some((p) => p.identity === CUSTOMER));
    await open(agent, conv.sid);
  });

  test('a conversation the identity is not in is not readable', async () => {
    const other = await twilio().createConversation('someone else');
    const err = await customer.page.evaluate(
      (sid) => window.client.getConversationBySid(sid).then(() => null, (e) => String(e && e.message)),
      other.sid,
    );
    // The SDK can peek at the conversation document, but its messages and participants are refused.
    const messages = await customer.page.evaluate(
      (sid) => window.client.peekConversationBySid(sid).then((c) => c.getMessages()).then(() => 'readable', (e) => 'refused: ' + e.message),
      other.sid,
    );
    assert.ok(err === null || /not found|Forbidden|403/.test(err), err);
    assert.match(messages, /^refused/);
  });

  test('history pages: getMessages(pageSize) then prevPage, as the desk loads a long chat', async () => {
    const long = await twilio().createConversation('long');
    await twilio().addParticipant(long.sid, CUSTOMER);
    await twilio().addParticipant(long.sid, AGENT);
    for (let i = 0; i < 25; i++) {
      await twilio().post(long.sid, i % 2 ? CUSTOMER : AGENT, `m${i}`);
    }
    const pages = await customer.page.evaluate(async (sid) => {
      const c = await window.client.getConversationBySid(sid);
      const first = await c.getMessages(10);
      const second = await first.prevPage();
      const third = await second.prevPage();
      return [first, second, third].map((p) => ({ bodies: p.items.map((m) => m.body), hasPrevPage: p.hasPrevPage }));
    }, long.sid);
    const range = (a, b) => Array.from({ length: b - a }, (_, i) => `m${a + i}`);
    assert.deepEqual(pages, [
      { bodies: range(15, 25), hasPrevPage: true },
      { bodies: range(5, 15), hasPrevPage: true },
      { bodies: range(0, 5), hasPrevPage: false },
    ]);
  });

  test('being added to a conversation after start-up fires conversationJoined', async () => {
    const later = await twilio().createConversation('later');
    await customer.page.evaluate(() => {
      window.client.on('conversationJoined', (c) => window.events.push({ e: 'conversationJoined', sid: c.sid }));
    });
    await twilio().addParticipant(later.sid, CUSTOMER);
    const ev = await waitFor(customer, `(ev) => ev.e === 'conversationJoined' && ev.sid === '${later.sid}'`);
    assert.equal(ev.sid, later.sid);
  });

  test('milestone 3: sendMessage reaches the backend; a backend message arrives as messageAdded', async () => {
    const index = await customer.page.evaluate(() => window.conv.sendMessage('Hello from the real SDK', { flexdeskId: 'web-1' }));
    assert.equal(index, 0);
    const stored = await twilio().messages(conv.sid);
    assert.deepEqual(
      stored.map((m) => [m.index, m.author, m.body, m.attributes]),
      [[0, CUSTOMER, 'Hello from the real SDK', { flexdeskId: 'web-1' }]],
    );
    // The customer's own message comes back as messageAdded too, and the agent's client sees it.
    await waitFor(customer, "(ev) => ev.e === 'messageAdded' && ev.index === 0 && ev.author === 'customer-7f3a'");
    const seen = await waitFor(agent, "(ev) => ev.e === 'messageAdded' && ev.index === 0");
    assert.deepEqual(seen.attributes, { flexdeskId: 'web-1' });

    await twilio().post(conv.sid, AGENT, 'Hi, Alice here');
    const added = await waitFor(customer, "(ev) => ev.e === 'messageAdded' && ev.author === 'agent.alice'");
    assert.equal(added.body, 'Hi, Alice here');
    assert.equal(added.index, 1);

    // And from the agent's SDK.
    await agent.page.evaluate(() => window.conv.sendMessage('Sent from the agent SDK'));
    const fromAgentSdk = await waitFor(customer, "(ev) => ev.e === 'messageAdded' && ev.index === 2");
    assert.equal(fromAgentSdk.body, 'Sent from the agent SDK');
  });

  test('media: an attachment uploads to the media service, rides a message, and the agent can download it', async () => {
    const index = await customer.page.evaluate(() =>
      window.conv
        .prepareMessage()
        .setAttributes({ flexdeskId: 'web-file-1' })
        .addMedia({ contentType: 'text/plain', filename: 'note.txt', media: new Blob(['hello, file']) })
        .build()
        .send(),
    );
    const seen = await waitFor(agent, `(ev) => ev.e === 'messageAdded' && ev.index === ${index}`);
    assert.equal(seen.type, 'media');
    // The emulator types media by extension, text as UTF-8 (docs/emulator.md, "Web channel media").
    assert.deepEqual(seen.media.map((m) => [m.filename, m.contentType, m.size]), [['note.txt', 'text/plain; charset=utf-8', 11]]);
    const text = await agent.page.evaluate(async (index) => {
      const m = window.messages.find((x) => x.index === index);
      const url = await m.attachedMedia[0].getContentTemporaryUrl();
      return (await fetch(url)).text();
    }, index);
    assert.equal(text, 'hello, file');
    // Without the signed URL or a token the content is refused.
    const sid = seen.media[0].sid;
    const res = await fetch(`${server.url}/mcs/v1/Services/${FAKE_TWILIO_ENV.TWILIO_CONVERSATIONS_SERVICE_SID}/Media/${sid}/Content`);
    assert.equal(res.status, 403);
  });

  test('milestone 4: typing both ways', async () => {
    await customer.page.evaluate(() => window.conv.typing());
    const atAgent = await waitFor(agent, "(ev) => ev.e === 'typingStarted'");
    assert.equal(atAgent.identity, CUSTOMER);

    await twilio().typing(conv.sid, AGENT);
    const atCustomer = await waitFor(customer, "(ev) => ev.e === 'typingStarted'");
    assert.equal(atCustomer.identity, AGENT);
    // The indicator ends on its own (typing_timeout 5 s + 1 s) or when the typist's message arrives.
    await twilio().post(conv.sid, AGENT, 'done typing');
    await waitFor(customer, "(ev) => ev.e === 'typingEnded' && ev.identity === 'agent.alice'", 8000);
  });

  test('milestone 5a: read horizon both ways (participantUpdated with lastReadMessageIndex)', async () => {
    await customer.page.evaluate(() => window.conv.setAllMessagesRead());
    const participants = await twilio().participants(conv.sid);
    assert.equal(participants.find((p) => p.identity === CUSTOMER).last_read_message_index, 4);
    const atAgent = await waitFor(
      agent,
      "(ev) => ev.e === 'participantUpdated' && ev.identity === 'customer-7f3a' && ev.updateReasons.includes('lastReadMessageIndex')",
    );
    assert.equal(atAgent.lastReadMessageIndex, 4);

    await twilio().read(conv.sid, AGENT, 0);
    const atCustomer = await waitFor(
      customer,
      "(ev) => ev.e === 'participantUpdated' && ev.identity === 'agent.alice' && ev.updateReasons.includes('lastReadMessageIndex')",
    );
    assert.equal(atCustomer.lastReadMessageIndex, 0);

    const counts = await customer.page.evaluate(async () => ({
      messages: await window.conv.getMessagesCount(),
      participants: await window.conv.getParticipantsCount(),
      unread: await window.conv.getUnreadMessagesCount(),
    }));
    assert.deepEqual(counts, { messages: 5, participants: 2, unread: 0 });
  });

  test('transfer as the customer sees it: the new agent joins, then the old one leaves; getUser works', async () => {
    await twilio().addParticipant(conv.sid, 'agent.bob', { member_type: 'agent', friendlyName: 'Bob' });
    const joined = await waitFor(customer, "(ev) => ev.e === 'participantJoined' && ev.identity === 'agent.bob'");
    assert.equal(joined.identity, 'agent.bob');
    await twilio().removeParticipant(conv.sid, AGENT);
    await waitFor(customer, "(ev) => ev.e === 'participantLeft' && ev.identity === 'agent.alice'");
    const user = await customer.page.evaluate(async () => {
      const bob = (await window.conv.getParticipants()).find((p) => p.identity === 'agent.bob');
      const u = await bob.getUser();
      return { identity: u.identity, friendlyName: u.friendlyName, attributes: bob.attributes };
    });
    // Flex puts the agent's display name on the Conversations User (the emulator's agent Bob).
    assert.deepEqual(user, { identity: 'agent.bob', friendlyName: 'Bob', attributes: { member_type: 'agent', friendlyName: 'Bob' } });
  });

  test('milestone 5b: closing the conversation emits updated with state closed; sending is then refused', async () => {
    await twilio().setState(conv.sid, 'closed');
    const ev = await waitFor(customer, "(ev) => ev.e === 'updated' && ev.updateReasons.includes('state')");
    assert.equal(ev.state, 'closed');
    const refused = await customer.page.evaluate(() => window.conv.sendMessage('too late').then(() => 'sent', (e) => 'refused'));
    assert.equal(refused, 'refused');
    const stored = await twilio().messages(conv.sid);
    assert.ok(!stored.some((m) => m.body === 'too late'));
  });
});
