// A small static server for the demo page (node:http, no dependency), used by `npm start` and the e2e tests.
// It serves www/index.html, www/page.css and the prebuilt bundle in www/dist/, plus /config.js, which tells the
// page where the auth server and the emulator are: the page itself never hard-codes a port.
import http from 'node:http';
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
 * Starts the server. `pageConfig` = { authServerUrl, emulatorUrl }. Resolves to { url, server, stop() }.
 * Port 0 picks a free port.
 */
export function startWwwServer({ pageConfig, port = 0, host = '127.0.0.1' }) {
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
      const configJs = `window.FLEXDESK_CONFIG = ${JSON.stringify(pageConfig)};\n`;
      res.writeHead(200, { 'content-type': TYPES['.js'], 'cache-control': 'no-store' }).end(configJs);
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
