// A busy chat between the wasm desk (headless Chromium, tests/desk/harness.mjs) and an agent on the
// emulator, with faults injected while it runs; then every message is counted on both sides.
// Used by the quick tests here and, with 100 drops, by reliability/faults-long.mjs.
import { setup, until, calls, shownText } from '../desk/harness.mjs';

export { setup, until, calls };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Starts a chat and has alice accept it; resolves when the desk shows her. */
export async function acceptedChat(t, options) {
  const env = await setup(t, options);
  const page = await env.newPage();
  await page.evaluate(() => window.desk.startChat(window.connectMessage, {}));
  const task = await until('the task', async () => (await env.emu('GET', '/agent/api/state')).tasks[0]);
  await env.emu('POST', `/agent/api/tasks/${task.sid}/accept`, { agent: 'alice' });
  await until('alice shown', async () => (await calls(page, 'agentJoined')).length === 1);
  return { ...env, page, task, ch: task.conversationSid };
}

/**
 * Sends `messages` texts each way, interleaved, calling `fault(i)` before message i when given.
 * Returns the counts: { sent, lost, duplicated } per direction, after waiting for delivery to settle.
 */
export async function busyChat({ page, emu, ch }, { messages, fault, gapMs = 20, settleMs = 30000, tag = 'm' }) {
  let faults = 0;
  for (let i = 0; i < messages; i++) {
    if (fault && (await fault(i))) faults++;
    await page.evaluate(([text, id]) => { window.desk.sendMessageToAgent({ input: { text } }, id, {}); }, [`${tag}-c-${i}`, `${tag}-id-${i}`]);
    await emu('POST', `/agent/api/conversations/${ch}/messages`, { agent: 'alice', body: `${tag}-a-${i}` });
    await sleep(gapMs);
  }
  const count = async () => {
    const state = await emu('GET', '/admin/state');
    const atAgent = state.conversations.find((c) => c.sid === ch).messages.map((m) => m.body);
    const atCustomer = (await calls(page, 'sendMessageToUser')).map((a) => shownText(a[0]));
    const tally = (seen, prefix) => {
      const n = new Map();
      for (const b of seen) if (typeof b === 'string' && b.startsWith(prefix)) n.set(b, (n.get(b) ?? 0) + 1);
      let lost = 0, duplicated = 0;
      for (let i = 0; i < messages; i++) {
        const c = n.get(`${prefix}${i}`) ?? 0;
        if (c === 0) lost++;
        if (c > 1) duplicated += c - 1;
      }
      return { sent: messages, lost, duplicated };
    };
    return { toAgent: tally(atAgent, `${tag}-c-`), toCustomer: tally(atCustomer, `${tag}-a-`), faults };
  };
  // Settle: wait until nothing is missing (or the time is up), then a little longer to catch late duplicates.
  const end = Date.now() + settleMs;
  let c = await count();
  while (Date.now() < end && (c.toAgent.lost || c.toCustomer.lost)) {
    await sleep(200);
    c = await count();
  }
  await sleep(500);
  return count();
}

/** The desk's error-status calls so far (type 1 connecting, 2 disconnected, 3 one message). */
export const errorStatuses = async (page) => (await calls(page, 'setErrorStatus')).map((a) => a[0]);
