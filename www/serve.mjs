// A small static server for the demo page (node:http, no dependency), used by `npm start` and the e2e tests.
// It serves www/index.html, www/page.css and the prebuilt bundle in www/dist/, plus /config.js, which tells the
// page where the auth server and the emulator are: the page itself never hard-codes a port.
import http from 'node:http';
import crypto from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const WWW = path.dirname(fileURLToPath(import.meta.url));

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json',
  '.wasm': 'application/wasm', // needed by WebAssembly.instantiateStreaming
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
};

// Only these are served: nothing else under www/ (sources, this file) is exposed.
function resolveFile(urlPath) {
  if (urlPath === '/' || urlPath === '/index.html') return path.join(WWW, 'index.html');
  if (urlPath === '/page.css') return path.join(WWW, 'page.css');
  if (urlPath.startsWith('/dist/')) {
    const file = path.normalize(path.join(WWW, urlPath));
    if (file.startsWith(path.join(WWW, 'dist') + path.sep)) return file;
  }
  return null;
}

/**
 * The demo's "signed-in customer" (issue 17): the page at `/?signed-in` gets an identity token for this customer from
 * `GET /demo/identity-token`, as a shop's back end would mint one for its logged-in user. The secret is published, so
 * the auth server accepts it only against the emulator (it refuses IDENTITY_JWT_SECRET = this with real Twilio URLs),
 * and it never reaches the browser: only the signed token does.
 */
export const DEMO_IDENTITY = {
  secret: 'dev-identity-secret-change-me-0123456789abcdef',
  issuer: 'https://acme-outdoor.example',
  audience: 'flexdesk-demo',
  customer: { sub: 'acme-customer-1001', name: 'Grace Hopper', email: 'grace@acme-outdoor.example', customer_id: 'CUST-1001' },
};
/** The auth server's settings that verify the demo's tokens. */
export const DEMO_IDENTITY_AUTH_ENV = {
  IDENTITY_JWT_SECRET: DEMO_IDENTITY.secret,
  IDENTITY_ISSUER: DEMO_IDENTITY.issuer,
  IDENTITY_AUDIENCE: DEMO_IDENTITY.audience,
};

/** An HS256 JWT for the demo customer, valid 5 minutes. */
export function mintDemoIdentityToken(demo = DEMO_IDENTITY, now = Math.floor(Date.now() / 1000)) {
  const b64 = (v) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const claims = { iss: demo.issuer, aud: demo.audience, iat: now, exp: now + 300, ...demo.customer };
  const head = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(claims)}`;
  return `${head}.${crypto.createHmac('sha256', demo.secret).update(head).digest('base64url')}`;
}

/**
 * Starts the server. `pageConfig` = { authServerUrl, emulatorUrl }. Resolves to { url, server, stop() }.
 * Port 0 picks a free port. `demoIdentity` (e.g. DEMO_IDENTITY): serve `GET /demo/identity-token` and tell the page
 * (`identityTokenUrl`), for its `?signed-in` mode.
 */
export function startWwwServer({ pageConfig, port = 0, host = '127.0.0.1', demoIdentity }) {
  const server = http.createServer(async (req, res) => {
    let urlPath;
    try {
      urlPath = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    } catch {
      res.writeHead(400).end('bad request');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (urlPath === '/config.js') {
      // Read per request: the launcher fills `pageConfig` in once the servers it points at are up.
      const config = demoIdentity ? { ...pageConfig, identityTokenUrl: '/demo/identity-token' } : pageConfig;
      const configJs = `window.FLEXDESK_CONFIG = ${JSON.stringify(config)};\n`;
      res.writeHead(200, { 'content-type': TYPES['.js'], 'cache-control': 'no-store' }).end(configJs);
      return;
    }
    if (demoIdentity && urlPath === '/demo/identity-token') {
      // What the shop's back end answers its logged-in page: a fresh token, and who it is for (to show on the page).
      const { name, email } = demoIdentity.customer;
      const body = JSON.stringify({ token: mintDemoIdentityToken(demoIdentity), name, email });
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(body);
      return;
    }
    const file = resolveFile(urlPath);
    if (!file) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    try {
      const body = await readFile(file);
      res.writeHead(200, {
        'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream',
        'cache-control': 'no-cache',
      });
      res.end(req.method === 'HEAD' ? undefined : body);
    } catch (e) {
      const missing = e.code === 'ENOENT';
      res.writeHead(missing ? 404 : 500, { 'content-type': 'text/plain' });
      res.end(missing ? 'not found (is www/dist built? run node scripts/build-www.mjs)' : 'server error');
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const { port: actual } = server.address();
      resolve({
        url: `http://${host}:${actual}`,
        server,
        stop: () =>
          new Promise((done) => {
            server.closeAllConnections?.();
            server.close(() => done());
          }),
      });
    });
  });
}
