// issue 16: the packed npm package in the apps web teams build. flexdesk is packed (`npm pack` of crates/flexdesk/pkg)
// and installed from the tarball by file path; each app uses the real @carbon/ai-chat and the real
// @twilio/conversations, is built with its tool's defaults, and is opened in headless Chromium against the emulator and
// the auth server: the customer asks the bot for an agent, the agent (the emulator's agent API) accepts, the web chat
// shows "Alice connected.", and one message goes each way. Each app also proves the wasm was fetched as
// application/wasm, the real SDK's realtime socket (/v3/wsconnect) was used, and the page threw nothing.
//
// The apps: Vite (build + preview, and the dev server), webpack 5 with its defaults, esbuild, Carbon's React
// ChatContainer, a plain page importing the package files from a static folder and from another origin (a CDN), and
// a TypeScript type-check through `exports`. Sources in tests/consumers/apps, built in a fresh run directory.
//
// Part of `npm test` (1.5 minutes on 2 cores at load 5, 3 minutes at load 10; webpack's production build is most of
// it); `npm run check:consumers` runs only these and tests/consumers/package.test.mjs. The bundlers are locked in tests/consumers/package-lock.json and
// installed once into target/consumers (see support.mjs). FLEXDESK_KEEP_CONSUMERS=1 keeps the run's directory.
import { after, before, test as nodeTest } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, lstatSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { ROOT, startStack } from '../support/servers.mjs';
import { CustomerPage } from '../e2e/support/customer.mjs';
import { seen, waitUntil } from '../e2e/support/wait.mjs';
import { PKG, bin, freePort, prepare, serveStatic, startServer, tool } from './support.mjs';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const GREETING = 'Consumer app bot here. Type "agent" to talk to a person.';
const TIMEOUT = 360_000;

/** Why these cannot run here, or null (checked when the file loads: every test is then reported as skipped). */
function missing() {
  if (!existsSync(CHROMIUM)) return `no Chromium at ${CHROMIUM} (bash scripts/bootstrap installs it)`;
  if (!existsSync(path.join(PKG, 'flexdesk_bg.wasm'))) return 'crates/flexdesk/pkg is not built (bash scripts/build-wasm)';
  for (const name of ['flexdesk-emulator', 'flexdesk-auth']) {
    if (!['debug', 'release'].some((p) => existsSync(path.join(ROOT, 'target', p, name)))) return `target/*/${name} is not built (cargo build --workspace --bins)`;
  }
  return null;
}
const skip = missing() ?? false;
const test = (name, options, fn) => (typeof options === 'function' ? nodeTest(name, { skip }, options) : nodeTest(name, { skip, ...options }, fn));

let browser;
let packed;
let APPS;
if (!skip) before(async () => {
  packed = await prepare();
  APPS = packed.apps;
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
}, { timeout: 600_000 });
if (!skip) after(async () => {
  await browser?.close();
  if (process.env.FLEXDESK_KEEP_CONSUMERS) console.error(`[consumers] kept ${packed?.run}`);
  else packed?.cleanup();
});

async function api(url, body) {
  const res = await fetch(url, body === undefined ? {} : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (!res.ok) throw new Error(`${url}: ${res.status} ${await res.text()}`);
  return res.json();
}

/**
 * One chat through the app served at `origin`: a fresh emulator + auth server allowing that origin, the customer's
 * page, and the agent Alice on the emulator's agent API. `afterJoin(page)` runs once the agent joined.
 */
async function chatThrough(t, origin, label, { afterJoin, path: pagePath = '/', query: extra = {} } = {}) {
  const stack = await startStack({ ALLOWED_ORIGINS: origin }, { ALLOWED_ORIGINS: origin });
  const context = await browser.newContext({ viewport: { width: 1200, height: 800 } });
  const logs = [];
  const wasm = [];
  const sockets = [];
  try {
    const page = await context.newPage();
    page.on('console', (m) => logs.push(`[${m.type()}] ${m.text()}`));
    page.on('pageerror', (e) => logs.push(`[pageerror] ${e.stack ?? e.message}`));
    page.on('websocket', (ws) => sockets.push(new URL(ws.url()).pathname));
    page.on('response', (r) => {
      if (new URL(r.url()).pathname.endsWith('.wasm')) wasm.push({ url: r.url(), status: r.status(), type: r.headers()['content-type'] });
    });
    const query = new URLSearchParams({ auth: stack.auth.url, emulator: stack.emulator.url, ...extra });
    await page.goto(`${origin}${pagePath}?${query}`);
    const customer = new CustomerPage(page, origin);
    await (await seen(page.getByRole('button', { name: 'Open the chat window' }), 'the chat launcher', 30_000)).click();
    await customer.see(GREETING, { timeout: 30_000 });
    await customer.askForAgent();

    // The agent's side: the waiting task appears, Alice accepts it.
    const state = () => api(`${stack.emulator.url}/agent/api/state`);
    const task = await waitUntil(async () => (await state()).tasks.find((x) => x.status === 'pending'), {
      timeout: 20_000,
      message: 'a waiting chat in the emulator',
    });
    const alice = (await state()).agents.find((a) => a.name === 'Alice');
    await api(`${stack.emulator.url}/agent/api/tasks/${task.sid}/accept`, { agent: alice.id });
    await customer.seeAgentInHeader('Alice');
    if (afterJoin) await afterJoin(page);

    // One message each way.
    const fromCustomer = `Hello from the ${label} app`;
    await customer.send(fromCustomer);
    await waitUntil(
      async () => (await state()).conversations[task.conversationSid]?.messages.some((m) => m.body === fromCustomer && m.author !== alice.identity),
      { timeout: 20_000, message: `"${fromCustomer}" to reach the agent` },
    );
    const fromAgent = `Alice answers the ${label} app`;
    await api(`${stack.emulator.url}/agent/api/conversations/${task.conversationSid}/messages`, { agent: alice.id, body: fromAgent });
    await customer.see(fromAgent, { exact: true, timeout: 20_000 });

    assert.ok(wasm.length > 0, 'the page fetched the desk\'s .wasm');
    for (const w of wasm) {
      assert.equal(w.status, 200, `${w.url} answered ${w.status}`);
      assert.match(w.type ?? '', /^application\/wasm/, `${w.url} served as ${w.type}`);
    }
    assert.ok(sockets.includes('/v3/wsconnect'), `the real Conversations SDK connected (sockets: ${sockets.join(', ') || 'none'})`);
    const errors = logs.filter((l) => l.startsWith('[pageerror]') || /flexdesk: /.test(l));
    assert.deepEqual(errors, [], 'errors in the page');
    t.diagnostic(`wasm: ${wasm.map((w) => w.url).join(', ')}`);
    return { page, wasm };
  } catch (e) {
    t.diagnostic(`page console:\n${logs.join('\n')}`);
    t.diagnostic(`auth server:\n${stack.auth.output().slice(-3000)}`);
    throw e;
  } finally {
    await context.close().catch(() => {});
    await stack.stop();
  }
}

/** Serves `dir` statically for the duration of the test. */
async function serve(t, dir, options) {
  const site = await serveStatic(dir, options);
  t.after(() => site.stop());
  return site.url;
}

const timed = async (t, what, f) => {
  const started = Date.now();
  const r = await f();
  t.diagnostic(`${what}: ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return r;
};

test('the installed package is the packed tarball, at the crate version', () => {
  const installed = packed.installed;
  assert.ok(!lstatSync(installed).isSymbolicLink(), 'a copy, not a link');
  assert.equal(JSON.parse(readFileSync(path.join(installed, 'package.json'), 'utf8')).version, packed.version);
  assert.deepEqual(readdirSync(installed).sort(), packed.files);
});

test('Vite: vite build + vite preview, no config', { timeout: TIMEOUT }, async (t) => {
  const dir = path.join(APPS, 'vite');
  assert.ok(!readdirSync(dir).some((f) => f.startsWith('vite.config')), 'the Vite app has no config file');
  await timed(t, 'vite build', () => tool(dir, [bin.vite, 'build']));
  const assets = readdirSync(path.join(dir, 'dist/assets'));
  assert.ok(assets.some((f) => /^flexdesk_bg-.*\.wasm$/.test(f)), `vite build emitted the .wasm as an asset: ${assets.filter((f) => !/\.js$/.test(f))}`);
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const server = await startServer(dir, [bin.vite, 'preview', '--host', '127.0.0.1', '--port', String(port), '--strictPort'], `${origin}/`);
  t.after(() => server.stop());
  const { wasm } = await timed(t, 'chat', () => chatThrough(t, origin, 'Vite preview'));
  assert.ok(wasm.every((w) => /\/assets\/flexdesk_bg-[\w-]+\.wasm$/.test(w.url)), `the hashed asset was loaded: ${wasm.map((w) => w.url)}`);
});

test('Vite: the dev server, no config', { timeout: TIMEOUT }, async (t) => {
  const dir = path.join(APPS, 'vite');
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const server = await startServer(dir, [bin.vite, '--host', '127.0.0.1', '--port', String(port), '--strictPort'], `${origin}/`);
  t.after(() => server.stop());
  await timed(t, 'chat', () => chatThrough(t, origin, 'Vite dev server'));
});

test('webpack 5: defaults (no asyncWebAssembly, no loaders, no plugins)', { timeout: TIMEOUT }, async (t) => {
  const dir = path.join(APPS, 'webpack');
  const config = readFileSync(path.join(dir, 'webpack.config.js'), 'utf8').replace(/\/\/.*$/gm, '');
  assert.doesNotMatch(config, /experiments|module:\s*\{|plugins/, 'the webpack config stays at the defaults');
  await timed(t, 'webpack build', () => tool(dir, [bin.webpack]));
  const dist = path.join(dir, 'dist');
  assert.ok(readdirSync(dist).some((f) => f.endsWith('.wasm')), 'webpack emitted the .wasm as an asset');
  copyFileSync(path.join(dir, 'index.html'), path.join(dist, 'index.html'));
  await timed(t, 'chat', async () => chatThrough(t, await serve(t, dist), 'webpack'));
});

test('esbuild: ES modules (the SDK a chunk of its own, imported at the first chat), the .wasm copied next to them', { timeout: TIMEOUT }, async (t) => {
  const dir = path.join(APPS, 'esbuild');
  await timed(t, 'esbuild build', () => tool(dir, ['build.mjs']));
  await timed(t, 'chat', async () => chatThrough(t, await serve(t, path.join(dir, 'dist')), 'esbuild'));
});

test("React: Carbon's ChatContainer with a stable factory survives a re-render mid-chat (vite build)", { timeout: TIMEOUT }, async (t) => {
  const dir = path.join(APPS, 'react');
  await timed(t, 'vite build', () => tool(dir, [bin.vite, 'build']));
  const afterJoin = async (page) => {
    await page.evaluate(() => window.rerenderApp());
    await page.evaluate(() => window.rerenderApp());
    await waitUntil(async () => (await page.locator('[data-renders="2"]').count()) === 1, { message: 'the app to re-render' });
  };
  await timed(t, 'chat', async () => chatThrough(t, await serve(t, path.join(dir, 'dist')), 'React', { afterJoin }));
});

test('a plain page: <script type="module"> importing the package files from a static folder', { timeout: TIMEOUT }, async (t) => {
  const dir = path.join(APPS, 'static');
  await timed(t, 'vendor files (vendor.mjs)', () => tool(dir, ['vendor.mjs']));
  assert.ok(existsSync(path.join(dir, 'flexdesk/flexdesk_bg.wasm')));
  const { wasm } = await timed(t, 'chat', async () => chatThrough(t, await serve(t, dir), 'plain page'));
  assert.ok(wasm.every((w) => w.url.endsWith('/flexdesk/flexdesk_bg.wasm')), `the .wasm next to index.js: ${wasm.map((w) => w.url)}`);
});

test('a plain page importing flexdesk from another origin (a CDN): the .wasm comes from there too', { timeout: TIMEOUT }, async (t) => {
  const dir = path.join(APPS, 'static');
  if (!existsSync(path.join(dir, 'vendor/carbon-ai-chat.js'))) await tool(dir, ['vendor.mjs']);
  const cdn = await serve(t, path.join(dir, 'flexdesk'), { cors: true });
  const { wasm } = await timed(t, 'chat', async () => chatThrough(t, await serve(t, dir), 'CDN page', { path: '/cdn.html', query: { cdn } }));
  assert.ok(wasm.every((w) => w.url === `${cdn}/flexdesk_bg.wasm`), `the .wasm from the CDN: ${wasm.map((w) => w.url)}`);
});

test('TypeScript: the types resolve from the tarball through exports (moduleResolution Bundler), and catch a wrong config', async () => {
  const dir = path.join(APPS, 'typescript');
  const tsc = path.join(ROOT, 'node_modules/typescript/bin/tsc');
  await tool(dir, [tsc, '-p', 'tsconfig.json']);
  await assert.rejects(tool(dir, [tsc, '-p', 'tsconfig.bad.json']), (e) => /Property 'createConversationsClient' is missing/.test(e.message) && /bad\.ts\(4,\d+\): error TS2322/.test(e.message));
});
