// Scenarios 6 and 8: a page reload mid-chat, and a connection dropped by the emulator.
import assert from 'node:assert/strict';
import { BOTH_CLIENTS, e2eSuite } from './support/harness.mjs';
import { STRINGS } from './support/customer.mjs';
import { seen } from './support/wait.mjs';
import { clearFaults, connectCustomerToAgent, injectFaults } from './support/flows.mjs';

const scenario = e2eSuite('resilience');

scenario('6. page reload mid-chat: the chat resumes and messages the agent sent meanwhile appear', async (ctx) => {
  const { customer, agent } = ctx;
  await customer.open({ name: 'Dana Customer' });
  await customer.send('What are your opening hours?');
  await customer.see('We are open Monday to Friday');
  await customer.askForAgent();
  await agent.open('Alice');
  await agent.accept(await agent.waitForIncomingTask('Dana Customer'));
  await customer.seeAgentInHeader('Alice');
  await customer.send('before reload');
  await agent.see('before reload');
  await agent.send('reply before reload');
  await customer.see('reply before reload');

  // The customer leaves the page; the agent writes while nobody is there; the customer comes back.
  await customer.page.goto('about:blank');
  await agent.send('sent while you were away');
  await customer.returnToPage();

  // Still with Alice (her name in the header, the Disconnect button), and her message from meanwhile is shown.
  await seen(customer.page.getByText('Alice', { exact: true }), 'Alice in the chat header');
  await seen(customer.page.getByRole('button', { name: 'Disconnect' }), 'the Disconnect button');
  await customer.see('sent while you were away', { timeout: 30_000 });
  // The conversation so far is shown again, with what the agent wrote meanwhile after it.
  await customer.expectInOrder(['What are your opening hours?', 'before reload', 'reply before reload', 'sent while you were away']);
  await customer.send('after reload');
  await agent.see('after reload');
  await agent.send('welcome back');
  await customer.see('welcome back');
  // Nothing the customer sent before the reload was sent again.
  assert.equal(await agent.countOf('before reload'), 1, 'the agent sees "before reload" once');
});

scenario('8. connection dropped by the emulator: the web chat shows it, recovers, nothing lost', async (ctx) => {
  const { customer, agent, stack, client } = ctx;
  await connectCustomerToAgent(ctx);
  await customer.send('before the outage');
  await agent.see('before the outage');

  // Drop the realtime connection and keep it from coming back for a while: long enough for the desk to say so.
  // The stand-in's reconnections are refused; the real SDK's are slowed down instead (every reply delayed), because
  // it gives up for good when a socket is lost before its init is answered (see scenario 2), and the emulator
  // refuses by dropping the socket after the upgrade.
  await injectFaults(stack, { dropWebsockets: true, ...(client === 'stand-in' ? { refuseWebsockets: 6 } : { realtimeDelayMs: 3000 }) });
  await customer.see(STRINGS.disconnected, { timeout: 30_000 });
  await agent.send('sent during the outage');
  if (client === 'real-sdk') await clearFaults(stack);
  await customer.see(STRINGS.reconnected, { timeout: 60_000 });
  await customer.see('sent during the outage', { timeout: 15_000 });
  await customer.send('after the outage');
  await agent.see('after the outage');
  await customer.expectInOrder(['before the outage', 'sent during the outage', 'after the outage']);
  assert.equal(await agent.countOf('before the outage'), 1, 'nothing sent twice');
}, { clients: BOTH_CLIENTS });
