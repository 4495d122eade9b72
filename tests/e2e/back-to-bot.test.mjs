// Issue 17, item 4: bot → agent → bot, in one transcript. After the agent ends the chat the customer is back with
// the bot, which knows how the chat ended (flexdesk's `onChatEnd`: the demo's bot asks for a rating), and the whole
// conversation (bot and agent parts) downloads as plain text from the chat header's menu (`flexdesk/transcript`).
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { e2eSuite } from './support/harness.mjs';
import { STRINGS } from './support/customer.mjs';
import { connectCustomerToAgent } from './support/flows.mjs';
import { seen, waitUntil } from './support/wait.mjs';

const scenario = e2eSuite('back-to-bot');

/** Opens the chat header's overflow menu and picks "Download transcript"; resolves to the downloaded text. */
async function downloadTranscript(page) {
  const menu = await seen(page.getByRole('button', { name: /list of options|^options$/i }), "the chat header's menu button");
  await menu.click();
  const item = await seen(page.getByText('Download transcript', { exact: true }), 'the "Download transcript" menu option');
  const [download] = await Promise.all([page.waitForEvent('download'), item.click()]);
  assert.equal(download.suggestedFilename(), 'flexdesk-transcript.txt');
  return readFile(await download.path(), 'utf8');
}

/** The index of the first line after `from` that contains `text` and starts with `who` after its time stamp. */
function lineOf(lines, who, text, from = 0) {
  const at = lines.findIndex((l, i) => i >= from && l.includes(`${who}: `) && l.includes(text));
  assert.ok(at >= 0, `a line "${who}: …${text}…" after line ${from} in the transcript:\n${lines.join('\n')}`);
  return at;
}

scenario('after the agent ends, the bot answers again and the transcript download has both parts', async (ctx) => {
  const { customer, agent } = ctx;
  const page = customer.page;
  await customer.open({ name: 'Dana Customer' });
  await customer.send('How long does shipping take?');
  await customer.see('Standard shipping takes 3 to 5 working days');
  // Then asks for a person; Alice accepts in the agent console.
  await customer.askForAgent();
  await agent.open('Alice');
  const task = await agent.waitForIncomingTask('Dana Customer');
  await agent.accept(task);
  await customer.seeAgentInHeader('Alice');
  await customer.send('My parcel has not arrived.');
  await agent.see('My parcel has not arrived.');
  await agent.send('Sorry to hear that, I have sent a new one.');
  await customer.see('Sorry to hear that, I have sent a new one.');

  // The agent ends the chat from the console: the customer sees it, and is back with the bot.
  await agent.end(task);
  await customer.see(STRINGS.agentEndedChat('Alice'));
  const outcome = await waitUntil(() => page.evaluate(() => window.flexdeskLastOutcome), { message: 'the onChatEnd outcome' });
  assert.deepEqual(outcome, { endedBy: 'agent', agent: { name: 'Alice' }, agentJoined: true });
  // The bot knows how the chat ended: it asks for a rating, and answers the reply.
  await customer.see('How was your chat with Alice? Reply 1 to 5.');
  await customer.send('4');
  await customer.see('Thanks for rating 4.');
  // And it answers as before.
  await customer.send('What are your opening hours?');
  await customer.see('We are open Monday to Friday, 9:00 to 17:00.');

  // The whole conversation, bot and agent parts, in order, as plain text lines with time and who.
  const text = await downloadTranscript(page);
  const lines = text.trimEnd().split('\n');
  for (const l of lines) assert.match(l, /^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d |    )/, `each line starts with its time (or continues one): ${l}`);
  const asked = lineOf(lines, 'You', 'How long does shipping take?');
  const bot = lineOf(lines, 'Flexdesk demo bot', 'Standard shipping takes 3 to 5 working days', asked);
  const toAgent = lineOf(lines, 'You', 'My parcel has not arrived.', bot);
  const fromAgent = lineOf(lines, 'Alice', 'Sorry to hear that, I have sent a new one.', toAgent);
  const question = lineOf(lines, 'Flexdesk demo bot', 'How was your chat with Alice?', fromAgent);
  const reply = lineOf(lines, 'You', '4', question);
  const thanks = lineOf(lines, 'Flexdesk demo bot', 'Thanks for rating 4.', reply);
  lineOf(lines, 'Flexdesk demo bot', 'We are open Monday to Friday', thanks);
  assert.ok(lines.some((l) => l.includes('(Alice ended the chat)')), `the end of the agent part is noted:\n${text}`);
  assert.doesNotMatch(text, /<[a-z][^>]*>/i, 'no HTML in the transcript');
});

scenario('the customer ends the chat: the outcome says so, and the bot asks for a rating too', async (ctx) => {
  const { customer, agent } = ctx;
  const page = customer.page;
  const task = await connectCustomerToAgent(ctx);
  await customer.send('Never mind, bye.');
  await agent.see('Never mind, bye.');
  await customer.disconnect();
  await agent.seeClosed(task);
  const outcome = await waitUntil(() => page.evaluate(() => window.flexdeskLastOutcome), { message: 'the onChatEnd outcome' });
  assert.deepEqual(outcome, { endedBy: 'customer', agent: { name: 'Alice' }, agentJoined: true });
  await customer.see('How was your chat with Alice? Reply 1 to 5.');
  const text = await downloadTranscript(page);
  assert.match(text, /You: Never mind, bye\./);
});
