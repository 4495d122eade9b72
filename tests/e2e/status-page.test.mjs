// Issue 28, item 3: live figures for the people who run the contact centre. TaskRouter's workspace events (played by
// the emulator, posted to the auth server's webhook route) give per queue the wait until an agent accepted, the chats
// abandoned before an agent (and why) and how long chats lasted: Prometheus metrics and the admin listener's
// `/status` page, which a supervisor opens in a browser. A scripted mix of chats: one through the real web chat,
// answered by Alice and ended; one answered by Bob; one the customer gives up while waiting; one still waiting.
// The test saves the page as docs/screenshot-status.png.
import assert from 'node:assert/strict';
import path from 'node:path';
import { e2eSuite } from './support/harness.mjs';
import { STRINGS } from './support/customer.mjs';
import { connectCustomerToAgent } from './support/flows.mjs';
import { routedTask, sendTaskRouterEvents, ROOT } from '../support/servers.mjs';
import { waitUntil } from './support/wait.mjs';
import { blockingViolations } from './support/axe.mjs';

const scenario = e2eSuite('status-page');
const QUEUE = 'Everyone (emulator)';

/** A chat started straight on the auth server (another customer's page), routed into the queue. */
async function startChat(stack, name) {
  const res = await fetch(`${stack.auth.url}/v1/sessions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ customerName: name }) });
  assert.equal(res.status, 201, await res.clone().text());
  const session = await res.json();
  const task = await routedTask(stack.emulator.url, session.conversationSid);
  return { ...session, task };
}

scenario('the status page shows who waits, the median and 90th-percentile wait and the abandonment rate, from a mix of chats', async (ctx) => {
  const { customer, agent, stack, newPage } = ctx;
  await sendTaskRouterEvents(stack);

  // 1. Through the real web chat: Alice takes the chat, they talk, she ends it.
  const task = await connectCustomerToAgent(ctx, { customerName: 'Dana Customer' });
  await customer.send('Is my order on its way?');
  await agent.see('Is my order on its way?');
  await agent.end(task);
  await customer.see(STRINGS.agentEndedChat('Alice'));
  // 2. Another customer waits a moment and Bob takes the chat.
  const answered = await startChat(stack, 'Bert Customer');
  await new Promise((r) => setTimeout(r, 1_200));
  const accept = await fetch(`${stack.emulator.url}/agent/api/tasks/${answered.task.sid}/accept`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ agent: 'bob' }) });
  assert.equal(accept.status, 200, await accept.text());
  // 3. One gives up while waiting (ends the chat from the page: the customer's own end).
  const gaveUp = await startChat(stack, 'Gina Customer');
  const end = await fetch(`${stack.auth.url}/v1/sessions/${gaveUp.sessionId}`, { method: 'DELETE', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sessionCredential: gaveUp.sessionCredential }) });
  assert.equal(end.status, 204);
  // 4. And one is still waiting.
  await startChat(stack, 'Walt Customer');

  // The supervisor's page, on the admin listener, in a browser.
  const page = await newPage('agent');
  await page.setViewportSize({ width: 1000, height: 560 });
  const figure = (key) => page.locator(`section[data-queue="${QUEUE}"] [data-figure="${key}"]`).textContent();
  await waitUntil(
    async () => {
      await page.goto(`${stack.auth.adminUrl}/status`);
      return (await figure('answered')) === '2' && (await figure('abandoned')) === '1' && (await figure('waiting-now')) === '1';
    },
    { message: 'the status page to count the four chats', timeout: 20_000 },
  );
  assert.equal(await figure('abandonment-rate'), '33 %');
  // Two waits, both under the 20 s bar: the median is the shorter, the 90th percentile the longer (nearest rank).
  const median = await figure('median-wait');
  const p90 = await figure('p90-wait');
  assert.match(median, /^\d+ s$/);
  assert.match(p90, /^\d+ s$/);
  assert.ok(parseInt(p90, 10) >= 1 && parseInt(p90, 10) >= parseInt(median, 10), `${median} ≤ ${p90}, Bert waited over a second`);
  assert.equal(await page.getByRole('heading', { name: QUEUE }).count(), 1);
  assert.match(await page.getByRole('img').getAttribute('aria-label'), /≤ 20 s: 2/);
  // Nothing but the page itself was loaded (no script, no CDN).
  assert.deepEqual(await page.evaluate(() => performance.getEntriesByType('resource').map((e) => e.name)), []);
  await page.screenshot({ path: path.join(ROOT, 'docs', 'screenshot-status.png') });
  // On a wall screen it reloads itself when asked (`?refresh=`), not otherwise.
  assert.equal(await page.locator('meta[http-equiv="refresh"]').count(), 0);
  // And a supervisor with a screen reader can read it: no serious or critical axe-core violation. (axe is injected as
  // a script, which the page's own Content-Security-Policy forbids: the scenario's browser contexts bypass it.)
  assert.deepEqual(await blockingViolations(page), []);

  // The same figures in /metrics, by the names the Grafana dashboard uses.
  const metrics = await (await fetch(`${stack.auth.adminUrl}/metrics`)).text();
  for (const line of [
    `flexdesk_chats_answered_total{queue="${QUEUE}"} 2`,
    `flexdesk_chats_abandoned_total{queue="${QUEUE}",reason="customer"} 1`,
    `flexdesk_chats_waiting{queue="${QUEUE}"} 1`,
    `flexdesk_queue_wait_seconds_count{queue="${QUEUE}"} 2`,
    `flexdesk_chat_duration_seconds_count{queue="${QUEUE}"} 1`,
  ]) {
    assert.ok(metrics.includes(line), `${line} in /metrics:\n${metrics.split('\n').filter((l) => l.includes('chat') || l.includes('queue_wait')).join('\n')}`);
  }
}, { authEnv: { TWILIO_WEBHOOKS: 'on' }, contextOptions: { bypassCSP: true } });
