// Issue 28, item 2: the rating reaches Flex Insights. After a chat with an agent the demo's bot asks for a rating; the
// customer's answer goes to the desk (the outcome's `rate()`), the desk to the auth server with the ended session's
// credential, and the server writes it to the chat's TaskRouter task, where Flex Insights reads custom conversation
// data (`conversations.conversation_measure_1`). The emulator keeps it on the task; its supervisor view (Flex Insights)
// shows it, and the agent console does not: a stock Flex agent does not see ratings.
import assert from 'node:assert/strict';
import { e2eSuite } from './support/harness.mjs';
import { STRINGS } from './support/customer.mjs';
import { connectCustomerToAgent } from './support/flows.mjs';
import { seen, waitUntil } from './support/wait.mjs';

const scenario = e2eSuite('rating');

/** The emulator's task of the chat with `customerName` (its attributes as the REST API holds them). */
async function taskOf(stack, customerName) {
  const { tasks } = await (await fetch(`${stack.emulator.url}/agent/api/state`)).json();
  return tasks.find((t) => t.attributes?.name === customerName || t.attributes?.customerName === customerName);
}

scenario('the rating after a chat with an agent reaches the chat\'s Flex task once, and the supervisor view (not the agent) sees it', async (ctx) => {
  const { customer, agent, stack } = ctx;
  const page = customer.page;
  const task = await connectCustomerToAgent(ctx, { customerName: 'Dana Customer' });
  await customer.send('My parcel has not arrived.');
  await agent.see('My parcel has not arrived.');
  await agent.end(task);
  await customer.see(STRINGS.agentEndedChat('Alice'));
  // The outcome stays plain data: the way to rate is there, but neither it nor the credential is enumerable.
  const keys = await waitUntil(() => page.evaluate(() => window.flexdeskLastOutcome && Object.keys(window.flexdeskLastOutcome)), { message: 'the onChatEnd outcome' });
  assert.deepEqual(keys.sort(), ['agent', 'agentJoined', 'endedBy']);
  assert.equal(await page.evaluate(() => typeof window.flexdeskLastOutcome.rate), 'function');

  await customer.see('How was your chat with Alice? Reply 1 to 5.');
  await customer.send('4');
  await customer.see('Thanks for rating 4.');
  // On the chat's task, under Flex Insights' custom measure; every other attribute still there.
  const rated = await waitUntil(async () => {
    const t = await taskOf(stack, 'Dana Customer');
    return t?.attributes?.conversations?.conversation_measure_1 !== undefined && t;
  }, { message: 'the rating on the emulator task' });
  assert.equal(rated.attributes.conversations.conversation_measure_1, 4);
  assert.equal(rated.attributes.conversationSid, rated.conversationSid, 'the routing attributes are kept');
  // The agent console lists the ended chat by name only; the supervisor view (Flex Insights) has its rating.
  await seen(agent.endedChat('Dana Customer'), 'the ended chat in the agent console');
  assert.deepEqual(await agent.endedChat('Dana Customer').allTextContents(), ['Dana Customer'], 'no rating in the agent\'s view');
  const supervisor = await agent.openSupervisorView();
  try {
    const row = supervisor.getByRole('table', { name: 'Conversations as Flex Insights reads them' }).getByRole('row').filter({ hasText: 'Dana Customer' });
    await seen(row.getByText('Rated 4 of 5', { exact: true }), 'the chat rated 4 of 5 in the supervisor view');
  } finally {
    await supervisor.close();
  }

  // Accepted once: the page's second try is refused by the auth server, and the task keeps the first.
  const again = await page.evaluate(() => window.flexdeskLastOutcome.rate({ score: 1, comment: 'changed my mind' }));
  assert.deepEqual(again, { recorded: false, reason: 'already_rated' });
  assert.equal((await taskOf(stack, 'Dana Customer')).attributes.conversations.conversation_measure_1, 4);
  // Bad input is the page's bug: a TypeError, nothing sent.
  const bad = await page.evaluate(() => window.flexdeskLastOutcome.rate({ score: 9 }).then(() => 'resolved', (e) => `${e.name}: ${e.message}`));
  assert.equal(bad, 'TypeError: flexdesk: rate({ score }) takes a whole number from 1 to 5');
});

scenario('a chat that ended before an agent joined has nothing to rate', async ({ customer, agent }) => {
  const page = customer.page;
  await customer.open({ name: 'Erin Customer' });
  await customer.askForAgent();
  await agent.open('Alice');
  await agent.waitForIncomingTask('Erin Customer');
  // Gives up waiting: the header's Cancel, then the confirmation's "Cancel request".
  await (await seen(page.getByRole('button', { name: 'Cancel', exact: true }), "the header's Cancel button")).click();
  await (await seen(page.getByRole('button', { name: 'Cancel request', exact: true }), 'the confirmation\'s "Cancel request"')).click();
  const outcome = await waitUntil(() => page.evaluate(() => window.flexdeskLastOutcome), { message: 'the onChatEnd outcome' });
  assert.equal(outcome.agentJoined, false);
  assert.deepEqual(await page.evaluate(() => window.flexdeskLastOutcome.rate({ score: 5 })), { recorded: false, reason: 'no_agent' });
});
