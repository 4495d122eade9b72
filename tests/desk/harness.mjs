// The wasm desk in headless Chromium, driven against the real emulator + auth server, through either the emulator's
// stand-in Conversations client (`/v1/realtime`) or the real `@twilio/conversations` SDK (its UMD build, pointed at
// the emulator's twilsock endpoint `/v3/wsconnect`). No web chat: a recording callback shows exactly what the desk
// told it.
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { ROOT, startStack } from '../support/servers.mjs';

export const missing = ['crates/flexdesk/pkg/index.js', 'www/emulator-client/index.js', 'target/debug/flexdesk-emulator', 'target/debug/flexdesk-auth']
  .filter((p) => !existsSync(path.join(ROOT, p)));

export const SDK_BUILD = 'node_modules/@twilio/conversations/builds/twilio-conversations.min.js';

/** The client factories the desk can be given: the stand-in, or the real SDK (global `Twilio.Conversations`). */
export const MODES = {
  'stand-in': { head: '', factory: `(token) => new Client(token, { emulatorUrl })` },
  'real-sdk': {
    // The UMD build as published; a classic script, so it runs before the module below.
    head: '<script src="/sdk/twilio-conversations.min.js"></script>',
    // DESK_TEST_LOGS=1 also turns on the SDK's own debug log (every frame and state change).
    factory: `(token) => new Twilio.Conversations.Client(token, { Twilsock: { uri: emulatorUrl.replace(/^http/, 'ws') + '/v3/wsconnect' }${
      process.env.DESK_TEST_LOGS ? ", logLevel: 'debug'" : ''} })`,
  },
};

const TYPES = { '.js': 'text/javascript', '.wasm': 'application/wasm', '.html': 'text/html' };
const page = (mode) => `<!doctype html>${MODES[mode].head}<script type="module">
import { createTwilioFlexServiceDesk } from '/pkg/index.js';
import { Client } from '/emu/index.js';
window.calls = [];
window.startDesk = async (authServerUrl, emulatorUrl, persistedState = null) => {
  // As after a reload: Carbon's store holds what the page saved, and hands it to the factory too.
  if (persistedState) window.saved = persistedState;
  const callback = new Proxy({}, { get: (_, name) => {
    if (name === 'persistedState') return () => window.saved ?? null;
    if (name === 'updatePersistedState') return (s) => { window.saved = s; };
    return (...args) => { window.calls.push({ name, args: JSON.parse(JSON.stringify(args)) }); return Promise.resolve(); };
  } });
  const factory = createTwilioFlexServiceDesk({
    authServerUrl, customerName: 'Ada',
    createConversationsClient: ${MODES[mode].factory},
    transcript: () => [{ from: 'user', text: 'I need help' }, { from: 'bot', text: 'Let me get an agent' }],
  });
  window.desk = await factory({ callback, instance: {}, persistedState });
};
window.connectMessage = { output: { generic: [{ response_type: 'connect_to_agent', message_to_human_agent: 'Customer wants a refund',
  // Carbon's ConnectToHumanAgentItemTransferInfo.summary_message_to_agent (TextItem[]): for the agent too.
  transfer_info: { additional_data: { skill: 'billing' }, summary_message_to_agent: [{ response_type: 'text', text: 'Order 42 arrived broken' }] } }] } };
</script>`;

/** Serves the test page, the package, the stand-in and the SDK build from 127.0.0.1 (a real local origin: CORS,
 * and the SDK needs a secure context for `crypto.randomUUID`). */
async function serve(mode) {
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url, 'http://x');
    if (url.pathname === '/') return res.writeHead(200, { 'content-type': 'text/html' }).end(page(mode));
    const dir = url.pathname.startsWith('/pkg/') ? 'crates/flexdesk/pkg'
      : url.pathname.startsWith('/emu/') ? 'www/emulator-client'
      : url.pathname.startsWith('/sdk/') ? path.dirname(SDK_BUILD) : null;
    try {
      if (!dir) throw new Error('not found');
      const file = path.join(ROOT, dir, path.basename(url.pathname));
      res.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream' }).end(await readFile(file));
    } catch {
      res.writeHead(404).end('not found');
    }
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { server, origin: `http://127.0.0.1:${server.address().port}` };
}

/** Browser + stack for one test; `t.after` cleans up. `mode`: 'stand-in' (default) or 'real-sdk'. */
export async function setup(t, { authEnv = {}, mode = 'stand-in' } = {}) {
  if (!MODES[mode]) throw new Error(`unknown client mode ${mode}; one of ${Object.keys(MODES).join(', ')}`);
  const { server, origin } = await serve(mode);
  const stack = await startStack({ ALLOWED_ORIGINS: origin, ...authEnv });
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
  t.after(async () => { await browser.close(); await stack.stop(); server.close(); });
  const context = await browser.newContext();
  const newPage = async (persisted = null) => {
    const page = await context.newPage();
    page.on('pageerror', (e) => console.error('[page error]', e.message));
    if (process.env.DESK_TEST_LOGS) page.on('console', (m) => console.error(`[page ${m.type()}]`, m.text()));
    await page.goto(`${origin}/`);
    await page.waitForFunction(() => typeof window.startDesk === 'function');
    await page.evaluate(([a, e, p]) => window.startDesk(a, e, p), [stack.auth.url, stack.emulator.url, persisted]);
    return page;
  };
  const emu = async (method, p, body) => {
    const res = await fetch(stack.emulator.url + p, { method, headers: { 'content-type': 'application/json' }, body: body && JSON.stringify(body) });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${p} -> ${res.status} ${text}`);
    return text ? JSON.parse(text) : null;
  };
  return { stack, newPage, emu };
}

export async function until(what, fn, timeoutMs = 8000) {
  const end = Date.now() + timeoutMs;
  let last;
  while (Date.now() < end) {
    last = await fn();
    if (last) return last;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(last)}`);
}

export const calls = (page, name) => page.evaluate((n) => window.calls.filter((c) => c.name === n).map((c) => c.args), name);

/** What `sendMessageToUser` showed: a MessageResponse (one output.generic item per text or file) as its parts, joined. */
export const shownText = (m) => (typeof m === 'string' ? m : m.output.generic.map((i) => i.text ?? i.source).join(' | '));
