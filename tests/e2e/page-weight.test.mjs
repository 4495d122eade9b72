// Issue 27, item 1: nothing heavy before escalation. A visitor who only talks to the bot pays for the page, Carbon and
// flexdesk's small wrapper: the demo page requests neither the Conversations SDK nor the desk's wasm until the customer
// asks for an agent, and both once they do. Judged by the requests the page made (Playwright's `request` event).
import assert from 'node:assert/strict';
import { e2eSuite } from './support/harness.mjs';
import { seen, waitUntil } from './support/wait.mjs';
import { CustomerPage } from './support/customer.mjs';
import { connectCustomerToAgent } from './support/flows.mjs';

const scenario = e2eSuite('page-weight');

const SDK = /\/twilio-conversations(\.min)?\.js$/;
const WASM = /\.wasm$/;

scenario('the page loads neither the Conversations SDK nor the wasm before the customer asks for an agent', async ({ customer }) => {
  const requested = [];
  customer.page.on('request', (r) => requested.push(new URL(r.url()).pathname));
  const heavy = () => requested.filter((p) => SDK.test(p) || WASM.test(p));

  await customer.open({ name: 'Dana Customer' });
  await customer.send('What are your opening hours?');
  await customer.see('We are open Monday to Friday, 9:00 to 17:00.');
  assert.ok(requested.some((p) => p.endsWith('/app.js')), 'the page itself was loaded (the requests are seen)');
  assert.deepEqual(heavy(), [], 'nothing heavy while the customer talks to the bot');

  await customer.askForAgent();
  await seen(customer.page.getByText(/You're number\s*1\s*in line/), 'the queue position');
  assert.ok(requested.some((p) => WASM.test(p)), `the desk's wasm once the customer asked for an agent (${requested.join(', ')})`);
  await waitUntil(() => requested.some((p) => SDK.test(p)), { message: 'the Conversations SDK once the chat with an agent started' });
});

// The one exception, a cost the package README states: a customer with a chat open (here in another tab) loads the
// desk's wasm when the web chat is ready, because the desk (flexdesk-core's tab rules) decides whether that chat is
// offered; the SDK still waits until the customer connects. Read from the tab's resource timing, which lists what the
// page loaded even when the browser cache served it (a second tab of the same browser shares that cache).
scenario('a tab opened while the customer has a chat open loads the wasm to offer it, and the SDK only when they connect', async ({ customer, agent, www }) => {
  await connectCustomerToAgent({ customer, agent }, { customerName: 'Pia Pages' });
  const page = await customer.page.context().newPage();
  await page.addInitScript(() => performance.setResourceTimingBufferSize(10_000));
  const second = new CustomerPage(page, www.url);
  const loaded = () => page.evaluate(() => performance.getEntriesByType('resource').map((e) => new URL(e.name).pathname));
  await second.open();
  await second.see('You have a chat with an agent open.');
  assert.ok((await loaded()).some((p) => WASM.test(p)), 'the wasm, to decide on the open chat');
  assert.ok(!(await loaded()).some((p) => SDK.test(p)), 'no SDK before the customer connects');
  await (await seen(page.getByRole('button', { name: 'Connect to agent' }).filter({ visible: true }).last(), 'the offered card')).click();
  await second.seeAgentInHeader('Alice');
  assert.ok((await loaded()).some((p) => SDK.test(p)), 'the SDK once the customer connected');
});
