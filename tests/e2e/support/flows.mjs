// Steps several scenarios share.
import { CustomerPage } from './customer.mjs';

/**
 * One open chat per client (the scenario runs with `authEnv: { MAX_OPEN_SESSIONS_PER_CLIENT: '1' }`): the first
 * customer waits for Alice, then a second one (same address) asks for an agent, which the auth server refuses with 429
 * too_many_sessions. Returns the second customer's page; what it is shown is for the caller to check.
 */
export async function secondCustomerRefused({ customer, agent, newPage, www }) {
  await customer.open({ name: 'First Customer' });
  await customer.askForAgent();
  await agent.open('Alice');
  await agent.waitForIncomingTask('First Customer');
  const second = new CustomerPage(await newPage('customer'), www.url);
  await second.open({ name: 'Second Customer' });
  await second.askForAgent();
  return second;
}

/** Customer escalates from the bot, `agentName` accepts in the console; both see each other. Returns the task. */
export async function connectCustomerToAgent({ customer, agent }, { agentName = 'Alice', customerName = 'Dana Customer' } = {}) {
  await customer.open({ name: customerName });
  await customer.askForAgent();
  await agent.open(agentName);
  const task = await agent.waitForIncomingTask(customerName);
  await agent.accept(task);
  await customer.seeAgentInHeader(agentName);
  return task;
}

/** Test-only emulator controls (fault injection), as documented in docs/emulator.md. */
export async function injectFaults(stack, faults) {
  const res = await fetch(`${stack.emulator.url}/admin/faults`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(faults),
  });
  if (!res.ok) throw new Error(`POST /admin/faults ${JSON.stringify(faults)}: ${res.status} ${await res.text()}`);
  return res.json();
}

/** Lifts every injected fault. */
export async function clearFaults(stack) {
  const res = await fetch(`${stack.emulator.url}/admin/faults`, { method: 'DELETE' });
  if (!res.ok) throw new Error(`DELETE /admin/faults: ${res.status} ${await res.text()}`);
}
