// Issue 28, item 5: erase on request. After a chat (with an agent or not) the page's "Delete this conversation" calls the
// outcome's `erase()`; the desk asks the auth server (ERASE_ON_REQUEST=on) with the ended session's credential, the
// server deletes the conversation at Twilio (the emulator: messages, participants and attached media go), answers a
// receipt, and the page's saved copy of that chat is forgotten. Once only.
import assert from 'node:assert/strict';
import { e2eSuite } from './support/harness.mjs';
import { STRINGS } from './support/customer.mjs';
import { connectCustomerToAgent } from './support/flows.mjs';
import { seen, waitUntil } from './support/wait.mjs';

const scenario = e2eSuite('erase');

/** Opens the chat header's overflow menu and picks "Delete this conversation" (the demo's; www/src/main.js). */
async function deleteFromMenu(page) {
  const menu = await seen(page.getByRole('button', { name: /list of options|^options$/i }), "the chat header's menu button");
  await menu.click();
  await (await seen(page.getByText('Delete this conversation', { exact: true }), 'the "Delete this conversation" menu option')).click();
}

const conversations = async (stack) => (await (await fetch(`${stack.emulator.url}/admin/state`)).json()).conversations;

scenario(
  'after a chat with an agent, the menu\'s "Delete this conversation" deletes it at Twilio once and the page forgets the saved chat',
  async (ctx) => {
    const { customer, agent, stack } = ctx;
    const page = customer.page;
    const task = await connectCustomerToAgent(ctx, { customerName: 'Gina Customer' });
    await customer.send('Please delete my data afterwards.');
    await agent.see('Please delete my data afterwards.');
    const [chat] = (await conversations(stack)).filter((c) => c.messages.some((m) => m.body === 'Please delete my data afterwards.'));
    assert.ok(chat, 'the chat is in the emulator');
    await agent.end(task);
    await customer.see(STRINGS.agentEndedChat('Alice'));
    await waitUntil(() => page.evaluate(() => typeof window.flexdeskLastOutcome?.erase === 'function'), { message: 'the outcome with erase()' });

    // The customer picks "Delete this conversation" in the chat's menu; the bot quotes the receipt's request id.
    await deleteFromMenu(page);
    await customer.see('Your conversation with our agents was deleted (reference');
    const gone = await waitUntil(async () => !(await conversations(stack)).some((c) => c.sid === chat.sid), { message: 'the conversation deleted' });
    assert.ok(gone);
    assert.equal((await conversations(stack)).some((c) => c.sid === chat.sid), false, 'the conversation is gone from Twilio (the emulator)');
    const saved = await page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('flexdesk:') && localStorage.getItem(k)?.includes('sessionId')));
    // (The desk already forgets an ended chat's saved state; erase() forgets whatever of that chat is left.)
    assert.deepEqual(saved, [], "the page keeps no saved copy of the chat");

    // Once only: the receipt came with the first; the page's second try is refused.
    assert.deepEqual(await page.evaluate(() => window.flexdeskLastOutcome.erase()), { code: 'already_erased' });
  },
  { authEnv: { ERASE_ON_REQUEST: 'on' } },
);

scenario('off by default: erase() answers erase_not_enabled and the conversation stays', async (ctx) => {
  const { customer, agent, stack } = ctx;
  const page = customer.page;
  const task = await connectCustomerToAgent(ctx, { customerName: 'Hugo Customer' });
  await customer.send('Keep this one.');
  await agent.see('Keep this one.');
  await agent.end(task);
  await customer.see(STRINGS.agentEndedChat('Alice'));
  await waitUntil(() => page.evaluate(() => typeof window.flexdeskLastOutcome?.erase === 'function'), { message: 'the outcome with erase()' });
  assert.deepEqual(await page.evaluate(() => window.flexdeskLastOutcome.erase()), { code: 'erase_not_enabled' });
  assert.ok((await conversations(stack)).some((c) => c.messages.some((m) => m.body === 'Keep this one.')));
});

scenario(
  'a chat no agent joined (the customer gave up waiting) is erased too: its conversation holds their messages',
  async ({ customer, agent, stack }) => {
    const page = customer.page;
    await customer.open({ name: 'Wanda Waiting' });
    await customer.askForAgent();
    await agent.open('Alice');
    await agent.waitForIncomingTask('Wanda Waiting');
    // The stack is this scenario's own: its one conversation is Wanda's, holding her details and what she told the bot
    // (the auth server's hand-off, some of it under her own identity).
    const [chat, ...others] = await conversations(stack);
    assert.deepEqual(others, []);
    assert.ok(chat.messages.some((m) => m.body === 'I want to talk to an agent' && m.participantSid), `her own words: ${JSON.stringify(chat.messages)}`);
    // Gives up waiting: the header's Cancel, then the confirmation's "Cancel request" (the task is canceled, no agent).
    await (await seen(page.getByRole('button', { name: 'Cancel', exact: true }), "the header's Cancel button")).click();
    await (await seen(page.getByRole('button', { name: 'Cancel request', exact: true }), 'the confirmation\'s "Cancel request"')).click();
    const outcome = await waitUntil(() => page.evaluate(() => window.flexdeskLastOutcome), { message: 'the onChatEnd outcome' });
    assert.deepEqual(outcome, { endedBy: 'customer', agent: null, agentJoined: false });
    // Nobody to rate (decided from the outcome's agent), but a conversation to erase.
    assert.deepEqual(await page.evaluate(() => window.flexdeskLastOutcome.rate({ score: 5 })), { recorded: false, reason: 'no_agent' });
    assert.ok((await conversations(stack)).some((c) => c.sid === chat.sid), 'ended, not yet erased');

    await deleteFromMenu(page);
    await customer.see('Your conversation with our agents was deleted (reference');
    await waitUntil(async () => !(await conversations(stack)).some((c) => c.sid === chat.sid), { message: 'the conversation deleted' });
    assert.deepEqual(await page.evaluate(() => window.flexdeskLastOutcome.erase()), { code: 'already_erased' });
  },
  { authEnv: { ERASE_ON_REQUEST: 'on' } },
);
