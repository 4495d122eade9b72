// The demo page on its own: the real web chat renders offline, the scripted bot answers, and asking for a human
// makes the web chat ask the desk (flexdesk → auth server → emulator) and show its request-agent card.
import { e2eSuite } from './support/harness.mjs';
import { STRINGS } from './support/customer.mjs';
import { seen } from './support/wait.mjs';

const scenario = e2eSuite('bot');

scenario('the bot greets, answers questions, and offers an agent when agents are available', async ({ customer }) => {
  const failed = [];
  customer.page.on('requestfailed', (r) => failed.push(r.url()));
  await customer.open();
  await customer.send('How long does shipping take?');
  await customer.see('Standard shipping takes 3 to 5 working days');
  await customer.send('Tell me a joke');
  await customer.see("Sorry, I didn't get that.");
  await customer.send('Can I speak to a human?');
  await customer.see(STRINGS.agentAvailable);
  await seen(customer.page.getByRole('button', { name: STRINGS.connectButton }), 'the "Connect to agent" button');
  // Everything the page loads comes from 127.0.0.1 (no CDN, no fonts from the internet).
  const external = await customer.page.evaluate(() =>
    performance.getEntriesByType('resource').map((e) => e.name).filter((u) => !u.startsWith('http://127.0.0.1:') && !u.startsWith('data:')),
  );
  if (external.length || failed.length) throw new Error(`unexpected requests: ${JSON.stringify({ external, failed })}`);
});
