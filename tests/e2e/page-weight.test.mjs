// Issue 27, item 1: nothing heavy before escalation. A visitor who only talks to the bot pays for the page, Carbon and
// flexdesk's small wrapper: the demo page requests neither the Conversations SDK nor the desk's wasm until the customer
// asks for an agent, and both once they do. Judged by the requests the page made (Playwright's `request` event).
import assert from 'node:assert/strict';
import { e2eSuite } from './support/harness.mjs';
import { seen, waitUntil } from './support/wait.mjs';

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
