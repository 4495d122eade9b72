// Issue 16, for integrators: the built package (crates/flexdesk/pkg) in headless Chromium, as a page loads it.
// - `wasmUrl` (option, or initFlexdesk({ wasmUrl })): the .wasm served from another origin, with nothing at the
//   package's own location, loads and runs the desk; a wrong wasmUrl (404, another origin without CORS) keeps today's
//   behaviour: the factory resolves, no agents online, startChat tells the customer, the console names the URL.
// - `strings`: the page's wording reaches the customer through the real wasm desk (a refusal with its {retry} part,
//   a refused file) and through the wrapper's own texts (the desk could not load); keys left out keep the English.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { ROOT } from '../support/servers.mjs';

const PKG = path.join(ROOT, 'crates/flexdesk/pkg');
const skip = !existsSync(path.join(PKG, 'flexdesk_bg.wasm')) && 'crates/flexdesk/pkg is not built (bash scripts/build-wasm)';

// The test builds the config in the page (functions cannot cross page.evaluate): `window.make(options)` with
// `strings` given as templates, or `{ fn: key }` for a function that returns `fn:<params as JSON>`.
const PAGE = `<!doctype html><script type="module">
import { createTwilioFlexServiceDesk, initFlexdesk } from '/pkg/index.js';
window.initFlexdesk = initFlexdesk;
window.calls = [];
window.errors = [];
const consoleError = console.error;
console.error = (...args) => { window.errors.push(args.map(String).join(' ')); consoleError(...args); };
window.warnings = [];
console.warn = (...args) => { window.warnings.push(args.map(String).join(' ')); };
const callback = new Proxy({}, { get: (_, name) => name === 'persistedState' ? () => null
  : (...args) => { window.calls.push([name, ...args]); return Promise.resolve(); } });
window.make = async ({ fnKeys = [], throwKeys = [], ...options } = {}) => {
  const strings = options.strings || fnKeys.length || throwKeys.length ? { ...options.strings } : undefined;
  for (const k of fnKeys) strings[k] = (params) => 'fn:' + JSON.stringify(params);
  for (const k of throwKeys) strings[k] = () => { throw new Error('boom'); };
  const factory = createTwilioFlexServiceDesk({ authServerUrl: location.origin, createConversationsClient: () => ({}), ...options, strings });
  window.desk = await factory({ callback, instance: {}, persistedState: null });
  return true;
};
window.ready = true;
</script>`;

/**
 * A server. `page`: serves the page, the package (with `pkgWasm: false`, no .wasm at the package's location) and
 * fake auth routes (availability; POST /v1/sessions refused with `refuse`). Otherwise a static host of the .wasm
 * only (`cors`: with Access-Control-Allow-Origin).
 */
async function serve({ page = true, pkgWasm = true, cors = true, refuse = null } = {}) {
  const requests = [];
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url, 'http://x');
    requests.push(`${req.method} ${url.pathname}`);
    const allow = cors ? { 'access-control-allow-origin': '*' } : {};
    if (!page) {
      if (url.pathname === '/cdn/flexdesk/flexdesk_bg.wasm') {
        return res.writeHead(200, { ...allow, 'content-type': 'application/wasm' }).end(await readFile(path.join(PKG, 'flexdesk_bg.wasm')));
      }
      return res.writeHead(404, allow).end('not found');
    }
    if (url.pathname === '/') return res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE);
    if (url.pathname === '/v1/agents/availability') {
      return res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ agentsAvailable: 2, tasksWaiting: 0, longestWaitSeconds: 0 }));
    }
    if (url.pathname === '/v1/sessions' && req.method === 'POST' && refuse) {
      req.resume();
      return res.writeHead(refuse.status, { 'content-type': 'application/json', ...(refuse.retryAfter ? { 'retry-after': String(refuse.retryAfter) } : {}) })
        .end(JSON.stringify({ error: { code: refuse.code, message: 'internal text the customer must not see' } }));
    }
    if (url.pathname.startsWith('/pkg/')) {
      const name = path.basename(url.pathname);
      if (name.endsWith('.wasm') && !pkgWasm) return res.writeHead(404).end('not found');
      try {
        const type = name.endsWith('.wasm') ? 'application/wasm' : 'text/javascript';
        return res.writeHead(200, { 'content-type': type }).end(await readFile(path.join(PKG, name)));
      } catch { /* fall through */ }
    }
    res.writeHead(404).end('not found');
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { origin: `http://127.0.0.1:${server.address().port}`, requests, close: () => server.close() };
}

async function open(t, site) {
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
  t.after(() => browser.close());
  const page = await browser.newPage();
  await page.goto(`${site.origin}/`);
  await page.waitForFunction(() => window.ready === true);
  return page;
}

async function sites(t, pageOptions, cdnOptions) {
  const site = await serve(pageOptions);
  const cdn = await serve({ page: false, ...cdnOptions });
  t.after(() => { site.close(); cdn.close(); });
  return { site, cdn };
}

const errorStatus = (page) => page.evaluate(() => window.calls.filter((c) => c[0] === 'setErrorStatus').map((c) => c[1]));

test('wasmUrl on another origin: the desk loads from there (nothing at the package location) and runs', { skip }, async (t) => {
  const { site, cdn } = await sites(t, { pkgWasm: false, refuse: { status: 503, code: 'twilio_busy' } });
  const page = await open(t, site);
  const wasmUrl = `${cdn.origin}/cdn/flexdesk/flexdesk_bg.wasm`;
  assert.equal(await page.evaluate((wasmUrl) => window.make({ wasmUrl }), wasmUrl), true);
  assert.equal(await page.evaluate(() => window.desk.areAnyAgentsOnline({})), true, 'the desk loaded from wasmUrl');
  assert.ok(cdn.requests.includes('GET /cdn/flexdesk/flexdesk_bg.wasm'), JSON.stringify(cdn.requests));
  assert.ok(!site.requests.includes('GET /pkg/flexdesk_bg.wasm'), 'nothing fetched from next to index.js');
  // The wasm desk runs: a start the auth server refuses is told with the core's message, in English by default.
  await page.evaluate(() => window.desk.startChat({}, {}));
  const status = await errorStatus(page);
  assert.deepEqual(status, [{ type: 1, messageToUser: "Our agents' system is busy. Please try again later." }]);
  assert.deepEqual(await page.evaluate(() => window.errors), []);
});

test('initFlexdesk({ wasmUrl }) ahead of the first chat: one load, from that URL, reused by the desk', { skip }, async (t) => {
  const { site, cdn } = await sites(t, { pkgWasm: false });
  const page = await open(t, site);
  // The package's own location has no .wasm here: only the URL given can have loaded the desk.
  const loaded = await page.evaluate((u) => window.initFlexdesk({ wasmUrl: u }).then(() => 'loaded', (e) => String(e)), `${cdn.origin}/cdn/flexdesk/flexdesk_bg.wasm`);
  assert.equal(loaded, 'loaded');
  await page.evaluate(() => window.make({}));
  assert.equal(await page.evaluate(() => window.desk.areAnyAgentsOnline({})), true, 'the loaded desk is reused');
  assert.equal(cdn.requests.filter((r) => r.endsWith('.wasm')).length, 1);
});

test('a wrong wasmUrl (404) keeps the bot working, tells the customer in the configured words, and names the URL', { skip }, async (t) => {
  const { site, cdn } = await sites(t, {});
  const page = await open(t, site);
  const wasmUrl = `${cdn.origin}/cdn/flexdesk/nope.wasm`;
  const strings = { unavailable: 'Pas de conseiller pour le moment. {retry}', retryLater: 'Réessayez plus tard.' };
  await page.evaluate(([wasmUrl, strings]) => window.make({ wasmUrl, strings }), [wasmUrl, strings]);
  assert.equal(await page.evaluate(() => window.desk.areAnyAgentsOnline({})), false);
  assert.equal(await page.evaluate(() => window.desk.startChat({}, {}).then(() => 'resolved')), 'resolved');
  assert.deepEqual(await errorStatus(page), [{ type: 1, messageToUser: 'Pas de conseiller pour le moment. Réessayez plus tard.' }]);
  const errors = await page.evaluate(() => window.errors);
  assert.ok(errors.some((e) => e.includes(`flexdesk: the desk could not be loaded from ${wasmUrl}`) && e.includes('wasmUrl')), JSON.stringify(errors));
  assert.ok(!site.requests.includes('GET /pkg/flexdesk_bg.wasm'), 'no silent fallback to the package location');
  assert.equal(await page.evaluate(() => window.desk.phase), 'Idle');
});

test('wasmUrl on another origin without CORS headers: fails cleanly, like a 404', { skip }, async (t) => {
  const { site, cdn } = await sites(t, {}, { cors: false });
  const page = await open(t, site);
  await page.evaluate((wasmUrl) => window.make({ wasmUrl }), `${cdn.origin}/cdn/flexdesk/flexdesk_bg.wasm`);
  assert.equal(await page.evaluate(() => window.desk.areAnyAgentsOnline({})), false);
  await page.evaluate(() => window.desk.startChat({}, {}));
  assert.deepEqual(await errorStatus(page), [{ type: 1, messageToUser: 'Chat with an agent is not available right now. Please try again later.' }]);
  assert.ok((await page.evaluate(() => window.errors)).some((e) => /flexdesk: the desk could not be loaded from/.test(e)));
});

test('strings: a refusal and its {retry} part in the page words, through the wasm desk', { skip }, async (t) => {
  const { site } = await sites(t, { refuse: { status: 429, code: 'too_many_sessions', retryAfter: 300 } });
  const page = await open(t, site);
  const strings = { tooManySessions: 'Trop de discussions ouvertes. {retry}', retryInMinutes: 'Réessayez dans {minutes} min.' };
  await page.evaluate((strings) => window.make({ strings }), strings);
  await page.evaluate(() => window.desk.startChat({}, {}));
  assert.deepEqual(await errorStatus(page), [{ type: 1, messageToUser: 'Trop de discussions ouvertes. Réessayez dans 5 min.' }]);
});

test('strings: a function gets the parameters; keys left out keep the English default', { skip }, async (t) => {
  const { site } = await sites(t, {});
  const page = await open(t, site);
  await page.evaluate(() => window.make({ strings: { fileEmpty: 'Fichier vide.' }, fnKeys: ['fileType'] }));
  await page.evaluate(() => window.initFlexdesk());
  await page.evaluate(() => window.desk.startChat({}, {})); // creates the wasm desk (the start itself is refused: 404)
  await page.evaluate(() => window.desk.filesSelectedForUpload([
    { id: 'f1', file: new File(['x'], 'tool.exe') },
    { id: 'f2', file: new File([], 'empty.pdf') },
    { id: 'f3', file: new File([new Uint8Array(17 * 1024 * 1024)], 'big.png') },
  ]));
  const statuses = await page.evaluate(() => window.calls.filter((c) => c[0] === 'setFileUploadStatus').map((c) => c.slice(1)));
  assert.deepEqual(statuses, [
    ['f1', true, 'fn:{"type":"exe","allowed":"jpg, jpeg, png, amr, mp3, mp4, pdf, heic, txt, gif"}'],
    ['f2', true, 'Fichier vide.'],
    ['f3', true, 'This file is 17.0 MB; files can be at most 16 MB.'],
  ]);
});

test('strings: a function that throws gets the English default and a console warning', { skip }, async (t) => {
  const { site } = await sites(t, { pkgWasm: false });
  const page = await open(t, site);
  await page.evaluate(() => window.make({ throwKeys: ['unavailable'], strings: { retryLater: 'Plus tard.' } }));
  await page.evaluate(() => window.desk.startChat({}, {}));
  assert.deepEqual(await errorStatus(page), [{ type: 1, messageToUser: 'Chat with an agent is not available right now. Plus tard.' }]);
  const warnings = await page.evaluate(() => window.warnings);
  assert.ok(warnings.some((w) => w.startsWith('flexdesk: config.strings.unavailable threw, so the default text was shown:') && w.includes('boom')), JSON.stringify(warnings));
});

test('strings: a wrong key or value is refused at once, naming the keys', { skip }, async (t) => {
  const { site } = await sites(t, {});
  const page = await open(t, site);
  const refused = (strings) => page.evaluate((strings) => window.make({ strings }).then(() => 'made', (e) => e.message), strings);
  assert.match(await refused({ chatFailled: 'x' }), /^flexdesk: config\.strings\.chatFailled is not one of its keys \(unreachable,.*fileNotSent,idlePrompt,idleClosed,continuesBySms\)/);
  assert.match(await refused({ chatFailed: 3 }), /^flexdesk: config\.strings\.chatFailed is not one of its keys/);
  assert.equal(await refused({ chatFailed: 'ok' }), 'made');
});

test('the README lists every strings key with the default the wrapper holds', { skip }, async () => {
  const readme = await readFile(path.join(ROOT, 'crates/flexdesk/js/README.md'), 'utf8');
  const source = await readFile(path.join(ROOT, 'crates/flexdesk/js/index.js'), 'utf8');
  const block = source.match(/const STRINGS = \{([\s\S]*?)\n\};/)[1];
  const defaults = Object.fromEntries([...block.matchAll(/^\s+(\w+): (['"])(.*)\2,$/gm)].map((m) => [m[1], m[3].replace(/\\'/g, "'")]));
  // The core's keys (flexdesk-core/src/texts.rs, KEYS) are exactly the wrapper's: the core picks every text, the
  // connect cards of a chat open in another tab included (issue 17, `session/tab.rs`).
  const texts = await readFile(path.join(ROOT, 'crates/flexdesk-core/src/texts.rs'), 'utf8');
  const coreKeys = [...texts.match(/pub const KEYS: &\[&str\] = &\[([\s\S]*?)\];/)[1].matchAll(/"(\w+)"/g)].map((m) => m[1]);
  assert.deepEqual(Object.keys(defaults).sort(), coreKeys.sort());
  for (const [key, text] of Object.entries(defaults)) {
    assert.ok(readme.includes(`| \`${key}\` | ${text} |`), `README row for ${key}: ${text}`);
    // The core's English template (texts.rs, used by its native tests) is the same text.
    assert.ok(texts.includes(`=> "${text.replace(/"/g, '\\"')}"`), `texts.rs template for ${key}: ${text}`);
  }
});
