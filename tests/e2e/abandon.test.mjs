// Issue 28, item 1: no ghost chats. When the last tab with a chat goes away, the desk tells the auth server
// (navigator.sendBeacon on pagehide, crates/flexdesk/js/index.js); the server waits ABANDON_GRACE_SECONDS (short here)
// for a reload or another tab to take the chat up, then ends it the Flex way: the waiting task is withdrawn, and an
// agent who has it reads that the customer left.
import assert from 'node:assert/strict';
import { e2eSuite } from './support/harness.mjs';
import { CustomerPage, STRINGS } from './support/customer.mjs';
import { waitUntil } from './support/wait.mjs';
import { connectCustomerToAgent } from './support/flows.mjs';

const scenario = e2eSuite('abandon');
const GRACE = 2; // seconds
const authEnv = { ABANDON_GRACE_SECONDS: String(GRACE) };
const RESUME = 'You have a chat with an agent open.';
// The auth server's line for the agent (crates/flexdesk-auth/src/http/routes/leave.rs CUSTOMER_LEFT).
const LEFT = 'The customer left: every page with this chat was closed, and none came back.';

/** Tasks still waiting or with an agent, and conversations not closed, in the emulator. */
async function live(stack) {
  const st = await (await fetch(`${stack.emulator.url}/agent/api/state`)).json();
  return {
    tasks: st.tasks.filter((t) => ['pending', 'reserved', 'assigned'].includes(t.status)).length,
    open: Object.values(st.conversations).filter((c) => c.state !== 'closed').length,
  };
}

const pause = (s) => new Promise((r) => setTimeout(r, s * 1000));

/** Closes a tab the way a person does: the page gets its pagehide. */
async function closeTab(page) {
  await page.close({ runBeforeUnload: true });
  await waitUntil(async () => page.isClosed(), { message: 'the tab to close' });
}

scenario(
  'closing every tab while waiting leaves no task after the grace period; a tab still open keeps the chat',
  async ({ customer, agent, stack, www }) => {
    await customer.open({ name: 'Gina Ghost' });
    await customer.askForAgent();
    await agent.open('Alice');
    await agent.waitForIncomingTask('Gina Ghost');
    const second = new CustomerPage(await customer.page.context().newPage(), www.url);
    await second.open();
    await second.see(RESUME);

    await closeTab(customer.page);
    await pause(GRACE + 1.5);
    assert.deepEqual(await live(stack), { tasks: 1, open: 1 }, 'another tab has the chat: it keeps waiting');

    await closeTab(second.page);
    await waitUntil(async () => (await live(stack)).tasks === 0, { timeout: (GRACE + 8) * 1000, message: 'the task to be withdrawn' });
    assert.deepEqual(await live(stack), { tasks: 0, open: 0 }, 'no ghost chat left for an agent');
  },
  { authEnv },
);

scenario(
  'a reload within the grace period keeps the same chat',
  async ({ customer, agent, stack }) => {
    await customer.open({ name: 'Rhea Reload' });
    await customer.askForAgent();
    await agent.open('Alice');
    const task = await agent.waitForIncomingTask('Rhea Reload');
    await customer.returnToPage(); // pagehide, the beacon, and the page back at once
    await customer.see(RESUME);
    await pause(GRACE + 1.5);
    assert.deepEqual(await live(stack), { tasks: 1, open: 1 }, 'the reload took the chat up in time');
    await customer.page.getByRole('button', { name: 'Connect to agent' }).last().click();
    await agent.accept(task);
    await customer.seeAgentInHeader('Alice');
    await agent.send('Still here, Rhea?');
    await customer.see('Still here, Rhea?');
  },
  { authEnv },
);

scenario(
  'an agent whose customer closed the page reads that the customer left, and the chat ends',
  async ({ customer, agent }) => {
    const task = await connectCustomerToAgent({ customer, agent }, { customerName: 'Lea Leaves' });
    await closeTab(customer.page);
    await agent.see(LEFT, { timeout: (GRACE + 8) * 1000 });
    await agent.seeClosed(task);
  },
  { authEnv },
);

// "Are you still there?": the page's idlePromptMs / idleCloseMs (short here). With the agent in the chat and the
// customer silent, the prompt appears; a message is the way to stay; no answer closes the chat with a line on both sides.
const IDLE = { idlePromptMs: 2000, idleCloseMs: 3000 };
const ASK = 'Are you still there? Send a message to stay in the chat.';
const CLOSED = 'The chat was closed because there was no answer.';
// The auth server's line for the agent (crates/flexdesk-auth/src/http/routes/sessions.rs CUSTOMER_IDLE).
const IDLE_LINE = 'The customer did not answer "Are you still there?", so the chat was closed.';
// Carbon 1.9.1's own lines at an end (its English `agent_agentEndedChat`, "{name} ended the chat.", and
// `agent_assistantReturned`, added 1.5 s later): the idle close must add neither, the agent did not end it.
const ENDED_THE_CHAT = /ended the chat/;
const ASSISTANT_BACK = 'Can I help you with anything else?';

scenario(
  'a silent customer is asked "Are you still there?"; a message keeps the chat, no answer closes it on both sides with only the desk\'s line, and a new chat goes as usual',
  async ({ customer, agent }) => {
    const page = customer.page;
    const task = await connectCustomerToAgent({ customer, agent }, { customerName: 'Ida Idle' });
    await customer.see(ASK);
    await customer.send('Yes, still here.');
    await agent.see('Yes, still here.');
    await pause((IDLE.idleCloseMs + 500) / 1000);
    // The first question's wait is over by now: only the answer kept the chat.
    assert.equal(await customer.page.getByText(CLOSED).count(), 0, 'the answer kept the chat');
    // Now silence: asked again, then closed.
    await waitUntil(async () => (await customer.page.getByText(ASK).count()) >= 2, { message: 'the question asked again' });
    await customer.see(CLOSED);
    await agent.see(IDLE_LINE, { timeout: 10_000 });
    await agent.seeClosed(task);

    // Only the desk's line: the web chat was suspended for the end (flexdesk-core `WebCall::ChatEndedQuietly`), so
    // Carbon added neither "Alice ended the chat." nor, 1.5 s later, its "back with the assistant" line.
    await waitUntil(() => page.evaluate(() => window.flexdeskLastOutcome?.endedBy === 'idle'), { message: 'the idle outcome' });
    await pause(2.5);
    assert.equal(await page.getByText(CLOSED).count(), 1, "the desk's idle line, once");
    assert.equal(await page.getByText(ENDED_THE_CHAT).count(), 0, 'no "Alice ended the chat." line');
    assert.equal(await page.getByText(ASSISTANT_BACK).count(), 0, "no assistant's return line either");
    // Carbon cleared the suspension as it ended the chat (humanAgentReducers.ts `HA_END_CHAT`).
    assert.equal(await page.evaluate(() => window.flexdeskChat.getState().humanAgent.isSuspended), false, 'the web chat is not left suspended');

    // A new chat afterwards goes as usual: the agent's messages are shown, and an agent's end has Carbon's own line.
    // (Bob takes it: Alice's closed chat with Ida stays in her active chats until she wraps it up.)
    const connect = page.getByRole('button', { name: STRINGS.connectButton });
    const cards = await connect.count();
    await customer.send('I want to talk to an agent');
    await waitUntil(async () => (await connect.count()) > cards && (await connect.last().isEnabled()), { message: 'a new "Connect to agent" card' });
    await connect.last().click();
    await agent.actAs('Bob');
    const again = await agent.waitForIncomingTask('Ida Idle');
    await agent.accept(again);
    await customer.seeAgentInHeader('Bob');
    await agent.send('Welcome back, Ida.');
    await customer.see('Welcome back, Ida.');
    await customer.send('Thanks, bye.'); // (and the silence counts again from here)
    await agent.see('Thanks, bye.');
    await agent.end(again);
    await customer.see(STRINGS.agentEndedChat('Bob'));
  },
  { pageConfig: IDLE },
);
