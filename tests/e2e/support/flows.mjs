// Steps several scenarios share.

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
