// Test 3, long form: the wasm desk in headless Chromium, FAULT_DROPS (default 100) WebSocket drops during a
// busy chat, then token expiry, every message counted on both sides (tests/reliability/desk-chat.mjs).
import { report } from './lib.mjs';
import { acceptedChat, busyChat, errorStatuses, until } from '../desk-chat.mjs';
import { startBinary } from '../../support/servers.mjs';

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
  // The token expires while the auth server is down: the desk says it is disconnected, then recovers by
  // itself once the server is back (it refreshes through the credential), and the chat goes on.
  const port = new URL(env.stack.auth.url).port;
  await env.stack.auth.stop();
  await env.emu('POST', '/admin/faults', { expireTokensInSeconds: 2 });
  await until('disconnected shown', async () => (await errorStatuses(env.page)).some((x) => x.type === 2 && x.isDisconnected), 20000);
  const origin = await env.page.evaluate(() => location.origin);
  const again = await startBinary('flexdesk-auth', { PORT: port, ALLOWED_ORIGINS: origin, TWILIO_FLEX_API_URL: env.stack.emulator.url,
    TWILIO_CONVERSATIONS_API_URL: env.stack.emulator.url, TWILIO_TASKROUTER_API_URL: env.stack.emulator.url });
  cleanups.push(() => again.stop());
  await until('reconnected shown', async () => (await errorStatuses(env.page)).at(-1)?.isDisconnected === false, 30000);
  const outage = await busyChat(env, { messages: 10, tag: 'outage' });
  console.log(`token expired during an auth outage: recovered; to agent ${JSON.stringify(outage.toAgent)}, to customer ${JSON.stringify(outage.toCustomer)}`);
  const failures = [counts, expiry, outage].reduce((n, c) => n + c.toAgent.lost + c.toAgent.duplicated + c.toCustomer.lost + c.toCustomer.duplicated, 0);
  const connecting = (await errorStatuses(env.page)).filter((s) => s.type === 1).length;
  console.log(`drops: ${injected}; to agent ${JSON.stringify(counts.toAgent)}; to customer ${JSON.stringify(counts.toCustomer)}; ` +
    `token expiry: to agent ${JSON.stringify(expiry.toAgent)}, to customer ${JSON.stringify(expiry.toCustomer)}; connecting errors ${connecting}`);
  result = report({ test: `desk faults (${injected} WebSocket drops, token expiry, auth outage)`, cases: (counts.toAgent.sent + expiry.toAgent.sent + outage.toAgent.sent) * 2,
    faults: injected + 3, failures: failures + connecting,
    detail: `lost/duplicated: to agent ${counts.toAgent.lost}/${counts.toAgent.duplicated}, to customer ${counts.toCustomer.lost}/${counts.toCustomer.duplicated}` });
} finally {
  for (const fn of cleanups.reverse()) await fn();
}
process.exit(result?.failures === 0 ? 0 : 1);
