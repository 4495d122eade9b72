// Scenarios 1 and 9: escalating from the bot to a human agent, and what happens when no agent is available.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { BOTH_CLIENTS, e2eSuite, RESULTS } from './support/harness.mjs';
import { STRINGS } from './support/customer.mjs';
import { seen, notSeen, waitUntil } from './support/wait.mjs';
import { ROOT } from '../../scripts/build-www.mjs';

const scenario = e2eSuite('escalation');

// Every run writes the screenshots under test-results/; docs/ is only rewritten when asked (UPDATE_SCREENSHOTS=1) or
// when a screenshot is missing, so a test run does not leave the checkout modified (the clock in the chat changes).
function screenshotPaths(name) {
  const docs = path.join(ROOT, 'docs', `screenshot-${name}.png`);
  const paths = [path.join(RESULTS, 'screenshots', `screenshot-${name}.png`)];
  if (process.env.UPDATE_SCREENSHOTS === '1' || !existsSync(docs)) paths.push(docs);
  return paths;
}

scenario('1. escalate from the bot: the agent reads the bot conversation as messages first, the web chat shows nothing twice; accept: the web chat shows the agent', async ({ customer, agent, client }) => {
  await customer.open({ name: 'Dana Customer', email: 'dana@example.com', topic: 'Returns' });
  await customer.send('What are your opening hours?');
  await customer.see('We are open Monday to Friday, 9:00 to 17:00.');
  await customer.askForAgent();
  // While nobody has accepted yet, the web chat says where the customer is in the queue, in its own words
  // (updateAgentAvailability({ positionInQueue }) → Carbon's agent_connectingQueue).
  await seen(customer.page.getByText(/You're number\s*1\s*in line/), 'the queue position');

  await agent.open('Alice');
  // The waiting chat is listed under the task's display name (its `name` attribute, as Flex shows it).
  const task = await agent.waitForIncomingTask('Dana Customer');
  await agent.accept(task);
  // Issue 22: what a stock Flex agent reads is the conversation's messages. The auth server posted the bot
  // conversation (HANDOFF_TRANSCRIPT=full), each line as who said it, then the bot's note: they are the first lines.
  const first = await waitUntil(async () => {
    const m = await agent.shownMessages();
    return m.length >= 6 && m;
  }, { message: 'the hand-off messages in the console' });
  // What the page's record gave the desk (flexdesk/transcript's entries(), read from the web chat's own events): the
  // bot's greeting and its options, the customer's question, the bot's answer, the request for an agent, … then the
  // bot's note.
  assert.match(first[0].body, /demo bot/);
  assert.match(first[1].body, /\[options: Opening hours, Shipping, Talk to an agent\]/);
  assert.deepEqual(first.slice(2, 5).map((m) => m.body), ['What are your opening hours?', 'We are open Monday to Friday, 9:00 to 17:00.', 'I want to talk to an agent']);
  assert.deepEqual(first.slice(0, 5).map((m) => m.author === 'Bot'), [true, true, false, true, false], "the bot's words as the bot, the customer's as the customer");
  assert.match(first.find((m) => m.author === 'Bot' && /not verified/.test(m.body))?.body ?? '', /not verified/, "the bot's note, labelled as sent by the page");
  // The customer saw these with the bot: the desk never shows them again (they carry flexdesk.handoff).
  for (const text of ['What are your opening hours?', 'We are open Monday to Friday, 9:00 to 17:00.']) {
    assert.equal(await customer.page.getByText(text, { exact: true }).filter({ visible: true }).count(), 1, `"${text}" shown once in the web chat`);
  }
  const header = await customer.seeAgentInHeader('Alice');
  assert.ok(header);
  // The agent's avatar from the participant attributes is shown (an <img>, not Carbon's initial-letter fallback).
  await seen(customer.page.locator('img[src*="/console/avatars/"]'), "Alice's avatar in the web chat");

  await agent.send('Hi Dana, this is Alice. How can I help?');
  await customer.see('Hi Dana, this is Alice. How can I help?');
  await customer.send('My tent pole arrived broken.');
  await agent.see('My tent pole arrived broken.');
  await agent.send('Sorry to hear that! I am sending a replacement today.');
  await customer.see('Sorry to hear that! I am sending a replacement today.');

  // The README's demo screenshots, made here, not drawn: the web chat with an agent joined, and the agent console's
  // side of the same chat (messages, read marks, the plugin-only attributes panel opened above).
  await customer.page.waitForTimeout(300); // let the scroll animation settle
  await agent.page.evaluate(() => window.scrollTo(0, 0));
  // Made with the demo's default client (the real SDK).
  if (client !== 'real-sdk') return;
  for (const [name, page, fullPage] of [['agent-joined', customer.page, false], ['agent-console', agent.page, true]]) {
    for (const file of screenshotPaths(name)) await page.screenshot({ path: file, fullPage });
  }
}, { clients: BOTH_CLIENTS });

scenario('9. no agents available: the web chat shows the bot\'s agent_unavailable text', async ({ customer, agent }) => {
  await agent.open('Alice');
  await agent.setAvailable('Alice', false);
  await agent.setAvailable('Bob', false);

  await customer.open();
  await customer.askForAgent({ expectCard: false });
  await customer.see(STRINGS.agentUnavailable);
  await notSeen(customer.page.getByRole('button', { name: STRINGS.connectButton }), 'the "Connect to agent" button', 500);
});
