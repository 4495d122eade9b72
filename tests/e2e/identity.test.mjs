// Issue 17, item 1, end to end: a signed-in customer. The demo page at `/?signed-in` shows no details form; the desk
// sends the identity token the page's server minted (`identityToken`), the auth server verifies it, and the agent
// console shows the verified name. A forged token is refused: the customer is told why, and no task reaches the
// console.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { e2eSuite } from './support/harness.mjs';
import { STRINGS } from './support/customer.mjs';
import { seen } from './support/wait.mjs';
import { DEMO_IDENTITY, DEMO_IDENTITY_AUTH_ENV, mintDemoIdentityToken } from '../../www/serve.mjs';

const scenario = e2eSuite('identity');
const options = { demoIdentity: DEMO_IDENTITY, authEnv: DEMO_IDENTITY_AUTH_ENV };
const VERIFIED_NAME = `${DEMO_IDENTITY.customer.name} (verified)`;

/** Opens the signed-in page and the chat; the page shows who is signed in instead of the form. */
async function openSignedIn(customer, www) {
  await customer.page.goto(`${www.url}/?signed-in`);
  await seen(customer.page.getByText(`You are signed in as ${DEMO_IDENTITY.customer.name}`), 'the signed-in note');
  assert.equal(await customer.page.locator('#details input').count(), 0, 'no details form on the signed-in page');
  await (await seen(customer.page.getByRole('button', { name: STRINGS.launcher }), 'the chat launcher')).click();
  await customer.see(STRINGS.greeting);
}

const tasks = async (stack) => (await (await fetch(`${stack.emulator.url}/admin/state`)).json()).tasks;

scenario('a signed-in customer reaches the agent by their verified name, with no form', async ({ customer, agent, stack, www }) => {
  await openSignedIn(customer, www);
  await customer.askForAgent();

  await agent.open('Alice');
  const task = await agent.waitForIncomingTask(VERIFIED_NAME);
  await agent.accept(task);
  await customer.seeAgentInHeader('Alice');
  await agent.send(`Hello ${DEMO_IDENTITY.customer.name}, I can see your account.`);
  await customer.see(`Hello ${DEMO_IDENTITY.customer.name}, I can see your account.`);

  // What Flex (and Flex Insights) get: the verified customer, under `customers`, in the pre-engagement data the
  // address's Studio flow reads (`trigger.conversation.ChannelAttributes.pre_engagement_data`; the demo runs the
  // webchat mode, where the flow, not flexdesk, writes the task: docs/auth-server.md, "What the agent sees").
  const state = await (await fetch(`${stack.emulator.url}/admin/state`)).json();
  const conv = state.conversations.find((c) => c.sid === state.tasks[0].conversationSid);
  const pre = JSON.parse(conv.attributes).pre_engagement_data;
  assert.equal(pre.customers.email, DEMO_IDENTITY.customer.email);
  assert.equal(pre.customers.external_id, DEMO_IDENTITY.customer.customer_id);
  assert.equal(pre.customer_verified, true);
}, options);

scenario('a forged identity token is refused: the customer is told, and no task reaches the console', async ({ customer, stack, www }) => {
  // The page's server answers a token signed with another secret (what a tampered or foreign token looks like).
  const forged = mintDemoIdentityToken({ ...DEMO_IDENTITY, secret: crypto.randomBytes(32).toString('hex') });
  await customer.page.route('**/demo/identity-token', (route) =>
    route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify({ token: forged, name: DEMO_IDENTITY.customer.name }) }),
  );
  const refused = customer.page.waitForResponse((r) => r.url().endsWith('/v1/sessions') && r.request().method() === 'POST');
  await openSignedIn(customer, www);
  await customer.askForAgent();
  const answer = await refused;
  assert.equal(answer.status(), 401);
  assert.equal((await answer.json()).error.code, 'identity_invalid');
  await customer.see('We could not confirm that you are signed in.');
  // Nothing was started: the emulator has no task (and so the console shows none).
  await customer.page.waitForTimeout(500);
  assert.deepEqual(await tasks(stack), []);
}, options);
