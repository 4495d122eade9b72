// Test 3, long form: the wasm desk in headless Chromium, FAULT_DROPS (default 100) WebSocket drops during a
// busy chat, then token expiry, every message counted on both sides (tests/reliability/desk-chat.mjs).
import { report } from './lib.mjs';
import { acceptedChat, busyChat, errorStatuses } from '../tests/reliability/desk-chat.mjs';

const drops = Number(process.env.FAULT_DROPS ?? 100);
const cleanups = [];
const t = { after: (fn) => cleanups.push(fn) };
let result;
try {
  const env = await acceptedChat(t);
  let injected = 0;
  // A drop before every other message pair: the chat never gets to settle between drops.
  const counts = await busyChat(env, {
    messages: drops * 2,
    gapMs: 30,
    settleMs: 60000,
    fault: async (i) => {
      if (i % 2 === 1) return false;
      await env.emu('POST', '/admin/faults', { dropWebsockets: true });
      injected++;
      return true;
    },
  });
  const expiry = await busyChat(env, {
    messages: 20, tag: 'exp', gapMs: 100,
    fault: async (i) => i === 3 && (await env.emu('POST', '/admin/faults', { expireTokensInSeconds: 3 }), true),
  });
  const failures = [counts, expiry].reduce((n, c) => n + c.toAgent.lost + c.toAgent.duplicated + c.toCustomer.lost + c.toCustomer.duplicated, 0);
  const connecting = (await errorStatuses(env.page)).filter((s) => s.type === 1).length;
  console.log(`drops: ${injected}; to agent ${JSON.stringify(counts.toAgent)}; to customer ${JSON.stringify(counts.toCustomer)}; ` +
    `token expiry: to agent ${JSON.stringify(expiry.toAgent)}, to customer ${JSON.stringify(expiry.toCustomer)}; connecting errors ${connecting}`);
  result = report({ test: `desk faults (${injected} WebSocket drops + token expiry)`, cases: (counts.toAgent.sent + expiry.toAgent.sent) * 2,
    faults: injected + 1, failures: failures + connecting,
    detail: `lost/duplicated: to agent ${counts.toAgent.lost}/${counts.toAgent.duplicated}, to customer ${counts.toCustomer.lost}/${counts.toCustomer.duplicated}` });
} finally {
  for (const fn of cleanups.reverse()) await fn();
}
process.exit(result?.failures === 0 ? 0 : 1);
