// The release binaries and the flexdesk-auth + emulator stack the refresh benchmarks run against, shared by
// run.mjs (throughput) and cost.mjs (CPU time and instructions per request).
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FAKE_TWILIO_ENV } from '../../tests/support/fake-env.mjs';
import { startServer } from './proc.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export const bin = {
  auth: path.join(ROOT, 'target/release/flexdesk-auth'),
  emulator: path.join(ROOT, 'target/release/flexdesk-emulator'),
  ceiling: path.join(ROOT, 'target/bench-ceiling/release/flexdesk-bench-ceiling'),
};

// The limiter is per client IP and wrk is one IP: lift it so the bench measures serving, not refusing.
export const AUTH_ENV = { PORT: '0', RATE_LIMIT_PER_MINUTE: '1000000', RATE_LIMIT_BURST: '1000000', MAX_OPEN_SESSIONS_PER_CLIENT: '0', MAX_OPEN_SESSIONS: '0' };

/**
 * The emulator, then flexdesk-auth pointed at it. `auth.command`/`auth.args` replace the plain binary (cost.mjs
 * runs it under valgrind), `auth.timeoutMs` the wait for its `listening on` line.
 */
export async function startStack(authEnv = {}, emulatorEnv = {}, auth = {}) {
  const emulator = await startServer('flexdesk-emulator', bin.emulator, [], { EMULATOR_PORT: '0', ...emulatorEnv });
  try {
    const server = await startServer('flexdesk-auth', auth.command ?? bin.auth, auth.args ?? [], {
      ...AUTH_ENV,
      TWILIO_FLEX_API_URL: emulator.url,
      TWILIO_CONVERSATIONS_API_URL: emulator.url,
      TWILIO_TASKROUTER_API_URL: emulator.url,
      ...authEnv,
    }, { timeoutMs: auth.timeoutMs });
    return { emulator, auth: server, stop: async () => { await server.stop(); await emulator.stop(); } };
  } catch (e) {
    await emulator.stop();
    throw e;
  }
}

export async function post(url, body) {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const text = await res.text();
  if (!res.ok) throw new Error(`POST ${url} answered ${res.status}: ${text.slice(0, 300)}`);
  return JSON.parse(text);
}

/**
 * Makes the stack's webhooks healthy as in production: the emulator's Flex service posts its Conversations webhooks
 * to the auth server (configured through Twilio's own API, UpdateServiceWebhookConfiguration), and one chat is
 * closed by the agent so a signed webhook has arrived. Resolves once the auth server answered it (204).
 */
export async function configureWebhooks(stack, { tries = 500 } = {}) {
  const { TWILIO_ACCOUNT_SID: ac, TWILIO_AUTH_TOKEN: token, TWILIO_CONVERSATIONS_SERVICE_SID: is } = FAKE_TWILIO_ENV;
  const form = new URLSearchParams([['PostWebhookUrl', `${stack.auth.url}/v1/twilio/webhooks`], ['Filters', 'onConversationStateUpdated'], ['Filters', 'onConversationRemoved'], ['Method', 'POST']]);
  const conf = await fetch(`${stack.emulator.url}/v1/Services/${is}/Configuration/Webhooks`, { method: 'POST', headers: { authorization: 'Basic ' + Buffer.from(`${ac}:${token}`).toString('base64') }, body: form });
  if (!conf.ok) throw new Error(`webhook configuration answered ${conf.status}`);
  // Whether Flex's own close (the agent ending the task) fires the Conversations webhooks is not documented; the
  // emulator's default is the harder "no" (docs/emulator.md, Flex's pipeline). The bench measures a server whose
  // webhooks arrive, so it takes the "yes" answer.
  await post(`${stack.emulator.url}/admin/pipeline`, { flexCloseFiresWebhook: true });
  const closed = await post(`${stack.auth.url}/v1/sessions`, { customerName: 'Closed by the agent' });
  // Flex's pipeline routes a moment after the start (docs/emulator.md): wait for the task, a bounded while.
  let task;
  for (let i = 0; i < tries && !task; i++) {
    if (i) await new Promise((r) => setTimeout(r, 10));
    const state = await (await fetch(`${stack.emulator.url}/agent/api/state`)).json();
    task = state.tasks.find((t) => t.conversationSid === closed.conversationSid);
  }
  if (!task) throw new Error(`no task routed within ${tries / 100} s`);
  await post(`${stack.emulator.url}/agent/api/tasks/${task.sid}/end`, {});
  for (let i = 0; i < tries; i++) {
    const { deliveries } = await (await fetch(`${stack.emulator.url}/admin/webhooks`)).json();
    const d = deliveries.find((x) => x.conversationSid === closed.conversationSid);
    if (d?.status === 204) return;
    if (d) throw new Error(`the auth server answered the webhook ${d.status ?? d.error}`);
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`no webhook delivered within ${tries / 100} s`);
}
