// Scenarios 2, 3 and 10: text both ways in order, typing and read receipts both ways, and HTML shown as text.
import assert from 'node:assert/strict';
import { BOTH_CLIENTS, e2eSuite } from './support/harness.mjs';
import { clearFaults, connectCustomerToAgent, injectFaults } from './support/flows.mjs';
import { STRINGS } from './support/customer.mjs';
import { seen, waitUntil } from './support/wait.mjs';

const scenario = e2eSuite('messaging');

// How each client is kept from connecting while the agent accepts and writes. The stand-in's sockets are refused
// (it retries with backoff). The real SDK treats a socket lost while its init request is unanswered as a terminal
// error (twilsock's sendInit: TwilsockError "disconnected" -> connectionError terminal), and the emulator refuses by
// accepting the upgrade and then dropping it, so for the real SDK every reply is delayed instead: its start-up (init,
// configuration, Sync documents, the conversation) takes many round trips.
const HOLD_CONNECTING = { 'stand-in': { refuseWebsockets: 4 }, 'real-sdk': { realtimeDelayMs: 1500 } };

scenario('2. text both ways, in order, including one sent while still connecting', async (ctx) => {
  const { customer, agent, stack, client } = ctx;
  // The customer's realtime connection is held up: the chat is requested (REST) and the agent accepts and writes
  // while the customer's web chat is still connecting.
  await injectFaults(stack, HOLD_CONNECTING[client]);
  await customer.open({ name: 'Dana Customer' });
  await customer.askForAgent();
  await agent.open('Alice');
  const task = await agent.waitForIncomingTask('Dana Customer');
  await agent.accept(task);
  const openSockets = (await (await fetch(`${stack.emulator.url}/admin/state`)).json()).openWebsockets;
  await agent.send('Hi, sent while you were still connecting');
  const sentAt = Date.now();
  // Not connected yet: no socket at all (stand-in), or the SDK had not finished starting (it reaches `initialized`
  // after the agent's message was stored, so the message is history to it, not a live event).
  const stillConnecting = client === 'stand-in'
    ? openSockets === 0
    : await customer.page.evaluate((t) => (window.flexdeskClients ?? []).every((c) => c.initializedAt === null || c.initializedAt > t), sentAt);
  assert.ok(stillConnecting, 'precondition: the customer was not connected yet when the agent wrote');
  if (client === 'real-sdk') await clearFaults(stack);
  await customer.seeAgentInHeader('Alice');
  await customer.see('Hi, sent while you were still connecting', { timeout: 30_000 });

  // Several messages in a row each way, without waiting for the other side in between.
  await customer.send('first from customer');
  await customer.send('second from customer');
  await customer.send('third from customer');
  await agent.send('first from agent');
  await agent.send('second from agent');
  await agent.expectInOrder(['Hi, sent while you were still connecting', 'first from customer', 'second from customer', 'third from customer', 'first from agent', 'second from agent']);
  await customer.expectInOrder(['Hi, sent while you were still connecting', 'first from customer', 'second from customer', 'third from customer', 'first from agent', 'second from agent']);
  for (const text of ['first from customer', 'second from customer', 'third from customer']) {
    assert.equal(await agent.countOf(text), 1, `the agent sees "${text}" once`);
  }
}, { clients: BOTH_CLIENTS });

scenario('3. typing shown both ways; read receipts shown both ways', async (ctx) => {
  const { customer, agent } = ctx;
  await connectCustomerToAgent(ctx);

  // Customer types (without sending): the console says so.
  await customer.typeWithoutSending('I am still typi');
  await agent.seeCustomerTyping();
  await customer.send('Here is my question.');
  await agent.see('Here is my question.');

  // Agent types: the web chat shows its typing indicator, which goes away when the message arrives.
  await agent.typeWithoutSending('Let me check tha');
  await seen(customer.typingIndicator(), 'the agent typing indicator in the web chat');
  await agent.sendTyped();
  await customer.see('Let me check tha');
  await waitUntil(async () => (await customer.typingIndicator().count()) === 0, { message: 'the typing indicator to go away' });

  // Read receipts: the agent has the conversation open, so the customer's message is marked read in the web chat.
  await customer.send('Did you read this?');
  // The console marks a chat read while it is open on screen.
  await agent.readChatUpTo('Did you read this?');
  await seen(customer.readReceipt().getByText('Read by Alice'), '"Read by Alice" in the web chat');
  // And the other way: the web chat is open and shows the agent's message, so the console shows it read.
  await agent.send('Yes, I did.');
  await customer.see('Yes, I did.');
  await agent.seeReadByCustomer('Yes, I did.');
}, { clients: BOTH_CLIENTS });

const PAYLOAD = '<img src=x onerror="window.__pwned=(window.__pwned||0)+1">';

scenario('10. HTML sent either way is shown as text and runs nothing', async (ctx) => {
  const { customer, agent } = ctx;
  await connectCustomerToAgent(ctx);

  await agent.send(PAYLOAD);
  await customer.see(PAYLOAD, { exact: true });
  await customer.send(`customer says ${PAYLOAD}`);
  await agent.see(`customer says ${PAYLOAD}`);
  await customer.page.waitForTimeout(500); // give a broken image time to fire onerror, if one was made
  for (const [who, page] of [['web chat', customer.page], ['agent console', agent.page]]) {
    assert.equal(await page.evaluate(() => window.__pwned ?? 0), 0, `the ${who} ran the injected onerror`);
    assert.equal(await page.locator('img[src="x"]').count(), 0, `the ${who} made an <img src=x> element`);
  }
});
