// Issue 17, item 3: one chat wherever the customer is. A reload while waiting and a second tab carry on with the same
// Flex chat (same task, every agent message), never a second one; one tab at a time holds the connection.
// Carbon AI Chat 1.9.1 keeps its state per tab (sessionStorage) and calls `reconnect` after a reload only when an agent
// had joined (`handleHydration`: `if (isConnected)`), so the desk offers the open chat with a connect card.
import assert from 'node:assert/strict';
import { e2eSuite } from './support/harness.mjs';
import { CustomerPage, STRINGS } from './support/customer.mjs';
import { notSeen, seen, waitUntil } from './support/wait.mjs';
import { connectCustomerToAgent } from './support/flows.mjs';

const scenario = e2eSuite('tabs');

// The desk's texts (crates/flexdesk/js/index.js, STRINGS.resumeChat / continuedElsewhere).
const RESUME = 'You have a chat with an agent open.';
const ELSEWHERE = 'Your chat with an agent goes on in another tab.';

/** The emulator's agent-side state: tasks and conversations. */
async function emuState(stack) {
  return (await fetch(`${stack.emulator.url}/agent/api/state`)).json();
}

/** Every task the emulator ever created, and the conversations not closed. */
async function tasksAndOpenChats(stack) {
  const st = await emuState(stack);
  return { tasks: st.tasks.length, open: Object.values(st.conversations).filter((c) => c.state !== 'closed').length };
}

/** Carbon's "You disconnected from the live agent." as a line of the conversation (not the text of an ended connect card). */
function disconnectedLine(page) {
  return page
    .locator('.cds-aichat--message')
    .filter({ hasNot: page.locator('.cds-aichat--connect-to-human-agent') })
    .getByText(STRINGS.youDisconnected);
}

/** Clicks the newest "Connect to agent" button (the card the desk offered). */
async function connectAgain(customer) {
  const buttons = customer.page.getByRole('button', { name: STRINGS.connectButton }).filter({ visible: true });
  try {
    await waitUntil(async () => (await buttons.count()) > 0 && (await buttons.last().isEnabled()), { message: 'the offered connect card' });
  } catch (e) {
    const states = await buttons.evaluateAll((bs) => bs.map((b) => `${b.disabled}`));
    const texts = await customer.page.locator('.cds-aichat--connect-to-human-agent__text').evaluateAll((ts) => ts.map((t) => t.textContent));
    throw new Error(`${e.message}: buttons disabled=${states} cards=${JSON.stringify(texts)}`);
  }
  await buttons.last().click();
}

scenario('a reload while waiting keeps the same task: the agent accepts it and both sides talk', async ({ customer, agent, stack }) => {
  await customer.open({ name: 'Rita Reload' });
  await customer.askForAgent();
  await agent.open('Alice');
  const task = await agent.waitForIncomingTask('Rita Reload');
  assert.deepEqual(await tasksAndOpenChats(stack), { tasks: 1, open: 1 });

  await customer.returnToPage();
  await customer.see(RESUME);
  // Offered, not yet taken: the chat is still waiting in the queue (the desk no longer ends it).
  await seen(task.item, 'the same waiting chat in the console');
  await connectAgain(customer);

  await agent.accept(task);
  await customer.seeAgentInHeader('Alice');
  await agent.send('Hello Rita, sorry for the wait.');
  await customer.see('Hello Rita, sorry for the wait.');
  await customer.send('Thanks, I reloaded the page.');
  await agent.see('Thanks, I reloaded the page.');
  assert.deepEqual(await tasksAndOpenChats(stack), { tasks: 1, open: 1 }, 'one task, one chat: the reload made no second one');
});

scenario('two tabs share one chat: the second tab takes it over with every agent message, the first lets go', async ({ customer, agent, stack, www }) => {
  await connectCustomerToAgent({ customer, agent }, { customerName: 'Tomas Tabs' });
  await agent.send('Welcome, Tomas.');
  await customer.see('Welcome, Tomas.');

  // A second tab of the same browser (same localStorage, same BroadcastChannel), with its own web chat state.
  const second = new CustomerPage(await customer.page.context().newPage(), www.url);
  await second.open();
  await second.see(RESUME);
  await connectAgain(second);
  await second.seeAgentInHeader('Alice');
  await second.see('Welcome, Tomas.'); // the agent's message from before this tab existed
  await customer.see(ELSEWHERE); // the first tab let go
  // Issue 23, defect 10: the tab that let go says the chat goes on elsewhere, never Carbon's "You disconnected from
  // the live agent." line (what `instance.serviceDesk.endConversation()`, i.e. `agentEndConversation(false)`, adds).
  // The old connect card keeps Carbon's fixed ended-card text (`agent_cardMessageChatEnded`, the same words, shown on
  // the card of every ended chat: RealConnectToHumanAgent.tsx), which no desk call changes: only lines are checked.
  await notSeen(disconnectedLine(customer.page), 'a "You disconnected" line in the tab that let go', 300);

  await agent.send('Are you on the other tab now?');
  await second.see('Are you on the other tab now?');
  await second.send('Yes, this is the second tab.');
  await agent.see('Yes, this is the second tab.');
  assert.deepEqual(await tasksAndOpenChats(stack), { tasks: 1, open: 1 }, 'one task, one chat for both tabs');

  // And back: the first tab takes the chat again; what the agent says now reaches it.
  await connectAgain(customer);
  await customer.seeAgentInHeader('Alice');
  await second.see(ELSEWHERE);
  await notSeen(disconnectedLine(second.page), 'a "You disconnected" line in the second tab once it let go', 300);
  await agent.send('Back on the first tab?');
  await customer.see('Back on the first tab?');
  assert.equal(await agent.countOf('Yes, this is the second tab.'), 1, 'nothing sent twice');
  assert.deepEqual(await tasksAndOpenChats(stack), { tasks: 1, open: 1 });
});

// Issue 23, defects 10 and 2 together: the tab that let go, reloaded, shows what it showed (the page keeps it with
// flexdesk/history) and still no "You disconnected" line. Carbon fires `human_agent:receive` for that line even while
// the chat is suspended (humanAgentUtils.ts `createHumanAgentLocalMessage` fires, `addMessages(…, !wasSuspended)`
// does not show), so a history that kept every event would bring it back on the reload.
scenario('the tab that let go, reloaded, shows its conversation and still no "You disconnected" line', async ({ customer, agent, www }) => {
  await connectCustomerToAgent({ customer, agent }, { customerName: 'Rita Reload' });
  await agent.send('Hello, Rita.');
  await customer.see('Hello, Rita.');
  const second = new CustomerPage(await customer.page.context().newPage(), www.url);
  await second.open();
  await second.see(RESUME);
  await connectAgain(second);
  await second.seeAgentInHeader('Alice');
  await customer.see(ELSEWHERE);

  await customer.returnToPage();
  await customer.see('Hello, Rita.');
  await notSeen(disconnectedLine(customer.page), 'a "You disconnected" line in the reloaded tab that let go', 500);
  // The chat goes on in the second tab.
  await agent.send('Still here?');
  await second.see('Still here?');
});

scenario('a token that expired while the laptop slept: on waking the same chat goes on, with what the agent said meanwhile', async ({ customer, agent, stack }) => {
  await connectCustomerToAgent({ customer, agent }, { customerName: 'Sally Sleep' });
  await agent.send('Before your nap.');
  await customer.see('Before your nap.');
  // Asleep: the page's JavaScript stops (no timer fires, no refresh ahead of expiry) while the token runs out and the
  // emulator closes the socket as Twilio does (twilsock close 410 at expiry: docs/emulator.md).
  const cdp = await customer.page.context().newCDPSession(customer.page);
  await cdp.send('Debugger.enable');
  await cdp.send('Debugger.pause');
  await fetch(`${stack.emulator.url}/admin/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ expireTokensInSeconds: 1 }) });
  await new Promise((r) => setTimeout(r, 2_500));
  await agent.send('Said while you slept.');
  await cdp.send('Debugger.resume');
  await cdp.detach();

  await customer.see('Said while you slept.', { timeout: 30_000 });
  await customer.send('I am back.');
  await agent.see('I am back.', { timeout: 30_000 });
  assert.deepEqual(await tasksAndOpenChats(stack), { tasks: 1, open: 1 }, 'the same chat, no second task');
});

scenario('a chat that ended while no tab had it is not offered again: a new tab gets the bot, and a new chat when it asks', async ({ customer, agent, stack, www }) => {
  const task = await connectCustomerToAgent({ customer, agent }, { customerName: 'Olga Offline' });
  const context = customer.page.context();
  await customer.page.close(); // every tab closed, the chat still open in Flex
  await agent.end(task);
  await waitUntil(async () => (await tasksAndOpenChats(stack)).open === 0, { message: 'the chat to be closed' });

  const later = new CustomerPage(await context.newPage(), www.url);
  await later.open({ name: 'Olga Offline' });
  await later.send('What are your opening hours?');
  await later.see('We are open Monday to Friday, 9:00 to 17:00.');
  assert.equal(await later.page.getByText(RESUME).count(), 0, 'no card for a chat that is over');
  await later.askForAgent();
  await waitUntil(async () => (await tasksAndOpenChats(stack)).tasks === 2, { message: 'a new task for the new request' });
});
