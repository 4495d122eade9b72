// Starts the project's binaries for JS tests and `npm start`. Each binary prints
// `listening on http://127.0.0.1:PORT` on stdout once it accepts connections; port 0 picks a free one.
// flexdesk-auth first prints `admin listening on http://…` (its /metrics and /openapi.json listener): `adminUrl`.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { FAKE_TWILIO_ENV } from './fake-env.mjs';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

function binary(name) {
  for (const profile of ['debug', 'release']) {
    const p = path.join(ROOT, 'target', profile, name);
    if (existsSync(p)) return p;
  }
  throw new Error(`${name} is not built: run \`cargo build --workspace --bins\` first`);
}

/** Spawns `name` with `env` added to the fake Twilio config; resolves to { url, adminUrl?, child, output(), stop() }. */
export function startBinary(name, env = {}, { timeoutMs = 20000, quiet = true } = {}) {
  const child = spawn(binary(name), [], {
    env: { ...process.env, ...FAKE_TWILIO_ENV, RUST_LOG: process.env.RUST_LOG ?? 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const collect = (chunk) => {
    out += chunk;
    if (!quiet) process.stderr.write(chunk);
  };
  child.stdout.setEncoding('utf8').on('data', collect);
  child.stderr.setEncoding('utf8').on('data', collect);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error(`${name} did not start within ${timeoutMs} ms:\n${out}`));
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with ${code} before listening:\n${out}`));
    });
    child.stdout.on('data', () => {
      const m = out.match(/^listening on (http:\/\/[\d.]+:\d+)/m);
      if (!m) return;
      clearTimeout(timer);
      child.removeAllListeners('exit');
      resolve({
        url: m[1],
        adminUrl: out.match(/^admin listening on (http:\/\/[\d.]+:\d+)/m)?.[1],
        child,
        output: () => out,
        stop: () =>
          new Promise((done) => {
            if (child.exitCode !== null || child.signalCode !== null) return done();
            child.once('exit', () => done());
            child.kill('SIGTERM');
          }),
      });
    });
  });
}

/** The emulator, and an auth server configured against it (all Twilio base URLs pointing at the emulator). */
export async function startStack(authEnv = {}, emulatorEnv = {}) {
  const emulator = await startBinary('flexdesk-emulator', { EMULATOR_PORT: '0', ...emulatorEnv });
  const auth = await startBinary('flexdesk-auth', {
    PORT: '0',
    // Every test customer (and the demo's) comes from 127.0.0.1: the per-client cap on open chats would count
    // them all as one client, so it is off here (tests of the cap set it). The demo page's form sends these keys.
    MAX_OPEN_SESSIONS_PER_CLIENT: '0',
    PRE_ENGAGEMENT_KEYS: 'name,email,topic',
    TWILIO_FLEX_API_URL: emulator.url,
    TWILIO_CONVERSATIONS_API_URL: emulator.url,
    TWILIO_TASKROUTER_API_URL: emulator.url,
    // Agent files' links (GET /v1/media/{MediaSid}) read the media service's record there.
    TWILIO_MEDIA_API_URL: emulator.url,
    ...authEnv,
  });
  return { emulator, auth, stop: async () => { await auth.stop(); await emulator.stop(); } };
}

/**
 * Points the emulator's TaskRouter workspace event callbacks at the auth server's webhook route, as a Flex administrator
 * does (twilio-oai `UpdateWorkspace` `EventCallbackUrl`): the queue figures of docs/auth-server.md ("Live figures").
 * The auth server needs `TWILIO_WEBHOOKS=on`.
 */
export async function sendTaskRouterEvents({ emulator, auth }) {
  const res = await fetch(`${emulator.url}/v1/Workspaces/${FAKE_TWILIO_ENV.TWILIO_WORKSPACE_SID}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: 'Basic ' + Buffer.from(`${FAKE_TWILIO_ENV.TWILIO_API_KEY_SID}:${FAKE_TWILIO_ENV.TWILIO_API_KEY_SECRET}`).toString('base64'),
    },
    body: new URLSearchParams({ EventCallbackUrl: `${auth.url}/v1/twilio/webhooks` }),
  });
  if (res.status !== 200) throw new Error(`UpdateWorkspace EventCallbackUrl: ${res.status} ${await res.text()}`);
}

/**
 * The chat's task once Flex's pipeline made it (docs/emulator.md, "Flex's pipeline"): a task appears a moment after
 * the message that runs the address's Studio flow, or after `POST /v1/Interactions`. Resolves to the task as
 * `GET /agent/api/state` lists it; rejects after `timeoutMs`.
 */
export async function routedTask(emulatorUrl, conversationSid, { timeoutMs = 5000 } = {}) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const state = await (await fetch(`${emulatorUrl}/agent/api/state`)).json();
    const task = state.tasks.find((t) => t.conversationSid === conversationSid);
    if (task) return task;
    if (Date.now() > until) throw new Error(`no task was routed for ${conversationSid} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * For a chat made straight through the emulator's `/v2/WebChats` (no auth server): posts the message that routes it,
 * as the auth server does (a REST message with `X-Twilio-Webhook-Enabled: true`), and resolves to its task.
 */
export async function routeChat(emulatorUrl, conversationSid, author = 'customer') {
  const { TWILIO_ACCOUNT_SID: ac, TWILIO_AUTH_TOKEN: token, TWILIO_CONVERSATIONS_SERVICE_SID: is } = FAKE_TWILIO_ENV;
  const r = await fetch(`${emulatorUrl}/v1/Services/${is}/Conversations/${conversationSid}/Messages`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${ac}:${token}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
      'x-twilio-webhook-enabled': 'true',
    },
    body: new URLSearchParams({ Author: author, Body: 'I would like to talk to someone', Attributes: JSON.stringify({ flexdesk: { handoff: 'request' } }) }),
  });
  if (r.status !== 201) throw new Error(`routing message refused: ${r.status} ${await r.text()}`);
  return routedTask(emulatorUrl, conversationSid);
}
