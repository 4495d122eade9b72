// `npm start`'s launcher (scripts/dev.mjs): prints the three URLs, serves a page configured with them, lets the page's
// origin through the auth server's CORS allowlist, and stops every process it started on SIGTERM.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { ROOT } from '../../scripts/build-www.mjs';
import { missingPrerequisite } from './support/harness.mjs';

const missing = missingPrerequisite();

function startLauncher() {
  const child = spawn(process.execPath, [path.join(ROOT, 'scripts/dev.mjs')], {
    cwd: ROOT,
    // Ports 0: never collide with a developer's running `npm start`. The binaries are built by the test runner.
    env: { ...process.env, EMULATOR_PORT: '0', AUTH_PORT: '0', WWW_PORT: '0', FLEXDESK_SKIP_CARGO: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (c) => (out += c));
  child.stderr.setEncoding('utf8').on('data', (c) => (out += c));
  const urls = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the launcher printed no URLs in 60 s:\n${out}`)), 60_000);
    child.on('exit', (code) => reject(new Error(`the launcher exited with ${code}:\n${out}`)));
    child.stdout.on('data', () => {
      const page = out.match(/Customer page:\s+(\S+)/);
      const consoleUrl = out.match(/Agent console:\s+(\S+)/);
      const auth = out.match(/Auth server:\s+(\S+)/);
      if (page && consoleUrl && auth) {
        clearTimeout(timer);
        resolve({ page: page[1], console: consoleUrl[1], auth: auth[1] });
      }
    });
  });
  return { child, urls, output: () => out };
}

const refused = (url) => fetch(url).then(() => false, () => true);

test('npm start: the printed URLs work together, and SIGTERM stops everything', { skip: missing ?? false, timeout: 90_000 }, async () => {
  const launcher = startLauncher();
  let urls;
  try {
    urls = await launcher.urls;
    const page = await fetch(urls.page);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<script type="module" src="\/dist\/app.js">/);
    const config = await (await fetch(new URL('/config.js', urls.page))).text();
    const emulatorUrl = new URL(urls.console).origin;
    assert.ok(config.includes(JSON.stringify(urls.auth)), `config.js names the auth server: ${config}`);
    assert.ok(config.includes(JSON.stringify(emulatorUrl)), `config.js names the emulator: ${config}`);
    // The real Conversations SDK by default, and the launcher says so; the page gets the SDK next to its bundle.
    assert.match(launcher.output(), /Conversations client: real-sdk, the real @twilio\/conversations SDK/);
    assert.ok(config.includes('"client":"real-sdk"'), `config.js chooses the real SDK: ${config}`);
    assert.equal((await fetch(new URL('/dist/twilio-conversations.min.js', urls.page))).status, 200);
    assert.equal((await fetch(new URL('/dist/flexdesk_bg.wasm', urls.page))).headers.get('content-type'), 'application/wasm');
    assert.equal((await fetch(new URL('/serve.mjs', urls.page))).status, 404, 'only the page and its bundle are served');

    const consolePage = await fetch(urls.console);
    assert.equal(consolePage.status, 200);
    assert.match(await consolePage.text(), /agent console/i);

    // The page's origin is allowed by the auth server (CORS), another origin is not.
    const origin = new URL(urls.page).origin;
    const allowed = await fetch(`${urls.auth}/v1/agents/availability`, { headers: { Origin: origin } });
    assert.equal(allowed.status, 200);
    assert.equal(allowed.headers.get('access-control-allow-origin'), origin);
    const other = await fetch(`${urls.auth}/v1/agents/availability`, { headers: { Origin: 'http://evil.example' } });
    assert.notEqual(other.headers.get('access-control-allow-origin'), 'http://evil.example');
  } finally {
    const exited = new Promise((r) => launcher.child.once('exit', (code, signal) => r({ code, signal })));
    launcher.child.kill('SIGTERM');
    const { code } = await exited;
    assert.equal(code, 0, `the launcher exits cleanly on SIGTERM:\n${launcher.output()}`);
  }
  // Nothing it started is left listening.
  for (const url of [urls.page, urls.console, `${urls.auth}/healthz`]) assert.ok(await refused(url), `${url} still answers`);
});

test('npm start: an unknown FLEXDESK_CLIENT is refused with the choices', async () => {
  const child = spawn(process.execPath, [path.join(ROOT, 'scripts/dev.mjs')], {
    cwd: ROOT,
    env: { ...process.env, FLEXDESK_CLIENT: 'sdk', FLEXDESK_SKIP_CARGO: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr.setEncoding('utf8').on('data', (c) => (err += c));
  const code = await new Promise((r) => child.on('exit', r));
  assert.equal(code, 2);
  assert.match(err, /FLEXDESK_CLIENT must be one of real-sdk, stand-in, got "sdk"/);
});
