// The demo's static server (www/serve.mjs): serves the page, its bundle and /config.js, and nothing else.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { startWwwServer } from '../../www/serve.mjs';

// fetch() normalises "..", so traversal attempts go out raw.
function rawGet(url, path, method = 'GET') {
  return new Promise((resolve, reject) => {
    const { hostname, port } = new URL(url);
    const req = http.request({ hostname, port, path, method }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('error', reject);
    req.end();
  });
}

test('serves the page and /config.js from the config object, read per request', async (t) => {
  const pageConfig = {};
  const www = await startWwwServer({ pageConfig });
  t.after(() => www.stop());
  const page = await fetch(www.url + '/');
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-type'), /text\/html/);
  Object.assign(pageConfig, { authServerUrl: 'http://127.0.0.1:1', emulatorUrl: 'http://127.0.0.1:2' });
  const config = await fetch(www.url + '/config.js');
  assert.equal(config.headers.get('cache-control'), 'no-store');
  assert.equal(await config.text(), 'window.FLEXDESK_CONFIG = {"authServerUrl":"http://127.0.0.1:1","emulatorUrl":"http://127.0.0.1:2"};\n');
});

test('exposes nothing outside the page, its stylesheet and dist/', async (t) => {
  const www = await startWwwServer({ pageConfig: {} });
  t.after(() => www.stop());
  for (const path of ['/serve.mjs', '/src/main.js', '/dist/../serve.mjs', '/dist/..%2fserve.mjs', '/dist/%2e%2e/serve.mjs', '/%2e%2e/package.json', '/dist/missing.js']) {
    assert.equal(await rawGet(www.url, path), 404, path);
  }
  assert.equal(await rawGet(www.url, '/', 'POST'), 405);
  assert.equal(await rawGet(www.url, '/%E0%A4%A'), 400, 'a malformed escape is a bad request, not a crash');
  assert.equal(await rawGet(www.url, '/page.css', 'HEAD'), 200);
});
