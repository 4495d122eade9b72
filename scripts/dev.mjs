#!/usr/bin/env node
// `npm start`: builds the demo page once, starts the Twilio emulator, the auth server pointed at it, and a static
// server for www/, prints the URLs a person needs, and stops everything on Ctrl-C / SIGTERM.
// Ports: EMULATOR_PORT (default 4010), AUTH_PORT (4000), WWW_PORT (4020); 0 picks free ones.
// FLEXDESK_CLIENT: the Conversations client the page runs, `real-sdk` (default: the production @twilio/conversations
// SDK against the emulator) or `stand-in` (the emulator's JS stand-in); `?client=…` on the page URL overrides it.
import { spawnSync } from 'node:child_process';
import { ensureWwwBuilt, ROOT } from './build-www.mjs';
import { CLIENT_KINDS, DEFAULT_CLIENT } from '../www/src/page-config.js';
import { sendTaskRouterEvents, startStack } from '../tests/support/servers.mjs';
import { DEMO_SMS_ENV } from '../tests/support/fake-env.mjs';
import { DEMO_IDENTITY, DEMO_IDENTITY_AUTH_ENV, startWwwServer } from '../www/serve.mjs';

const HOST = '127.0.0.1';

function port(name, fallback) {
  const raw = process.env[name] ?? String(fallback);
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    console.error(`[dev] ${name} must be a port number (0-65535), got ${JSON.stringify(raw)}`);
    process.exit(2);
  }
  return n;
}

const client = process.env.FLEXDESK_CLIENT || DEFAULT_CLIENT;
if (!CLIENT_KINDS.includes(client)) {
  console.error(`[dev] FLEXDESK_CLIENT must be one of ${CLIENT_KINDS.join(', ')}, got ${JSON.stringify(client)}`);
  process.exit(2);
}
const CLIENT_LABEL = {
  'real-sdk': 'the real @twilio/conversations SDK (emulator twilsock endpoint /v3/wsconnect)',
  'stand-in': "the emulator's stand-in client (www/emulator-client, /v1/realtime)",
};

const ports = { emulator: port('EMULATOR_PORT', 4010), auth: port('AUTH_PORT', 4000), www: port('WWW_PORT', 4020) };
const stoppers = [];
let stopping = false;

async function stopAll(code) {
  if (stopping) return;
  stopping = true;
  console.log('\n[dev] stopping…');
  for (const stop of stoppers.reverse()) {
    try {
      await stop();
    } catch (e) {
      console.error(`[dev] while stopping: ${e.message}`);
    }
  }
  process.exit(code);
}
process.on('SIGINT', () => stopAll(0));
process.on('SIGTERM', () => stopAll(0));

try {
  // The server binaries: quick when they are up to date. FLEXDESK_SKIP_CARGO=1 uses whatever is in target/.
  if (process.env.FLEXDESK_SKIP_CARGO !== '1') {
    console.log('[dev] cargo build -p flexdesk-emulator -p flexdesk-auth');
    const cargo = spawnSync('cargo', ['build', '-q', '-p', 'flexdesk-emulator', '-p', 'flexdesk-auth'], {
      cwd: ROOT,
      stdio: 'inherit',
    });
    if (cargo.status !== 0) throw new Error('cargo build failed');
  }

  // Built once: reused as long as its inputs (page sources, desk package, emulator client) are unchanged.
  const built = await ensureWwwBuilt();
  if (built.cached) console.log('[dev] www/dist is up to date');

  // The page's origin must be known before the auth server starts (its CORS allowlist), so the page server's
  // port is reserved first; with WWW_PORT=0 it is whatever the OS picked.
  const pageConfig = {};
  // demoIdentity: the page's `?signed-in` mode gets a demo customer's identity token (issue 17).
  const www = await startWwwServer({ pageConfig, port: ports.www, host: HOST, demoIdentity: DEMO_IDENTITY });
  stoppers.push(www.stop);
  const pagePort = new URL(www.url).port;
  const origins = [`http://${HOST}:${pagePort}`, `http://localhost:${pagePort}`].join(',');

  const stack = await startStack(
    // The demo posts the whole bot conversation for the agent (docs/auth-server.md, "What the agent sees").
    // TWILIO_WEBHOOKS: the emulator's TaskRouter events feed the queue figures (/status, docs/auth-server.md "Live figures").
    // ERASE_ON_REQUEST: the chat menu's "Delete this conversation" (docs/auth-server.md, "Erase on request").
    { PORT: String(ports.auth), ALLOWED_ORIGINS: origins, HANDOFF_TRANSCRIPT: 'full', TWILIO_WEBHOOKS: 'on', ERASE_ON_REQUEST: 'on', ...DEMO_IDENTITY_AUTH_ENV, ...DEMO_SMS_ENV },
    { EMULATOR_PORT: String(ports.emulator), ALLOWED_ORIGINS: origins },
  );
  stoppers.push(stack.stop);
  await sendTaskRouterEvents(stack);
  // The config object is read per request, so filling it in now is enough.
  Object.assign(pageConfig, { authServerUrl: stack.auth.url, emulatorUrl: stack.emulator.url, client });
  for (const [name, child] of [['emulator', stack.emulator.child], ['auth server', stack.auth.child]]) {
    child.on('exit', (code, signal) => {
      if (stopping) return;
      console.error(`[dev] the ${name} stopped unexpectedly (${signal ?? code}); its output:\n${(name === 'emulator' ? stack.emulator : stack.auth).output()}`);
      stopAll(1);
    });
  }

  console.log(`
flexdesk demo is running:

  Customer page:  ${www.url}/
  Signed in:      ${www.url}/?signed-in   (a signed-in customer: no form, the agent sees a verified name)
  Agent console:  ${stack.emulator.url}/console
  Ratings:        ${stack.emulator.url}/console/supervisor   (what Flex Insights reads from each task: a supervisor's view)
  Texts sent:     ${stack.emulator.url}/admin/sms   ("Text me instead" in a chat; POST {from, body} there to answer by SMS)
  Auth server:    ${stack.auth.url}   (API: ${stack.auth.adminUrl}/openapi.json)
  Queue status:   ${stack.auth.adminUrl}/status   (for a supervisor: waits, abandonment)

  Conversations client: ${client}, ${CLIENT_LABEL[client]}
  (FLEXDESK_CLIENT=${client === 'real-sdk' ? 'stand-in' : 'real-sdk'} npm start, or ?client=${client === 'real-sdk' ? 'stand-in' : 'real-sdk'} on the page URL, for the other one)

Open the customer page, click the chat launcher, type "agent", click "Connect to agent",
then accept and answer the chat in the agent console. Ctrl-C stops everything.
`);
} catch (e) {
  const hint = e.code === 'EADDRINUSE' ? ` (port ${e.port} is taken: set WWW_PORT, or stop what uses it)` : '';
  console.error(`[dev] ${e.message}${hint}`);
  await stopAll(1);
}
