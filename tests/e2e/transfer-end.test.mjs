// Scenarios 4 and 5: a transfer to a second agent, and the chat ended by either side.
import { BOTH_CLIENTS, e2eSuite } from './support/harness.mjs';
import { STRINGS } from './support/customer.mjs';
import { AgentConsole } from './support/agent-console.mjs';
import { connectCustomerToAgent } from './support/flows.mjs';

const scenario = e2eSuite('transfer-end');

scenario('4. transfer to a second agent: the web chat shows the new agent and the chat continues', async (ctx) => {
  const { customer, agent: alice, stack, newPage } = ctx;
  const task = await connectCustomerToAgent(ctx);
  await customer.send('I need help with billing.');
  await alice.see('I need help with billing.');
  await alice.send('Let me transfer you to Bob, our billing expert.');
  await customer.see('Let me transfer you to Bob, our billing expert.');

  // Bob works in his own console window.
  const bob = new AgentConsole(await newPage('agent'), stack.emulator.url);
  await bob.open('Bob');
  await alice.transfer(task, 'Bob');
  // A transfer goes straight to Bob's active chats, with the conversation so far.
  await bob.waitForActiveChat('Dana Customer');
  await bob.see('I need help with billing.');

  await customer.seeAgentInHeader('Bob');
  await bob.send('Hi, Bob here. What is the billing question?');
  await customer.see('Hi, Bob here. What is the billing question?');
  await customer.send('I was charged twice.');
  await bob.see('I was charged twice.');
  await alice.seeNoLongerIn(task);
});

scenario('5a. agent ends the chat: the web chat shows it ended', async (ctx) => {
  const { customer, agent } = ctx;
  const task = await connectCustomerToAgent(ctx);
  await customer.send('Thanks, that is all.');
  await agent.see('Thanks, that is all.');
  await agent.end(task);
  await customer.see(STRINGS.agentEndedChat('Alice'));
  // Back with the bot: it answers again.
  await customer.send('What are your opening hours?');
  await customer.see('We are open Monday to Friday, 9:00 to 17:00.');
}, { clients: BOTH_CLIENTS });

scenario('5b. user ends the chat: the console shows it closed, in wrap-up until the agent completes it', async (ctx) => {
  const { customer, agent } = ctx;
  const task = await connectCustomerToAgent(ctx);
  await customer.send('Never mind, bye.');
  await agent.see('Never mind, bye.');
  await customer.disconnect();
  await agent.seeClosed(task);
  // The task wraps up: in one list only, the agent's active chats, until Complete (as in Flex).
  await agent.seeWrapUp(task);
  await agent.complete(task);
});
