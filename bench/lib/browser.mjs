// The desk's numbers in headless Chromium (Debian's /usr/bin/chromium through playwright-core): a tiny
// static server on 127.0.0.1 serves the wasm package at /pkg/ and bench/browser/ at /bench/.
import http from 'node:http';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const MOUNTS = {
  '/pkg/': path.join(ROOT, 'crates/flexdesk/pkg'),
  '/bench/': path.join(ROOT, 'bench/browser'),
  // The real @twilio/conversations UMD build, for the start-to-agent latency (bench/browser/latency.mjs).
  '/sdk/': path.join(ROOT, 'node_modules/@twilio/conversations/builds'),
};
const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm' };

export function serve() {
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url, 'http://x');
    const mount = Object.keys(MOUNTS).find((m) => url.pathname.startsWith(m));
    const file = mount && path.join(MOUNTS[mount], path.normalize(url.pathname.slice(mount.length)));
    if (!file || !file.startsWith(MOUNTS[mount])) return res.writeHead(404).end();
    try {
      const body = await readFile(file);
      res.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
      res.end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

export const FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking',
  '--disable-component-update', '--no-first-run'];

/** Opens `url` in a fresh browser context and waits for the page to set `window[readyFlag]`; resolves to
 * `{ page, close }`. A fresh context per use: nothing cached from the previous one (the wasm is fetched again). */
export async function openPage(browser, url, readyFlag) {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(url);
    await page.waitForFunction((flag) => window[flag] === true, readyFlag, { timeout: 30000 }).catch(() => {
      throw new Error(`${url} did not load: ${errors.join('; ') || 'no error reported'}`);
    });
    return { page, close: () => context.close() };
  } catch (e) {
    await context.close();
    throw e;
  }
}

async function onPage(browser, url, fn, arg) {
  const { page, close } = await openPage(browser, url, 'flexdeskBenchReady');
  try {
    return await page.evaluate(fn, arg);
  } finally {
    await close();
  }
}

/**
 * Desk memory after `n` agent messages: the page's JS heap in use after a forced GC (CDP `Runtime.getHeapUsage`)
 * and the wasm linear memory's size, with a chatting desk before the messages and after them.
 */
async function memoryRun(browser, url, n) {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await page.goto(url);
    await page.waitForFunction(() => window.flexdeskBenchReady === true, null, { timeout: 30000 });
    const cdp = await context.newCDPSession(page);
    const heap = async () => {
      await cdp.send('HeapProfiler.collectGarbage');
      return (await cdp.send('Runtime.getHeapUsage')).usedSize;
    };
    const before = await page.evaluate(() => window.flexdeskBench.memoryPrepare());
    const heapBefore = await heap();
    const after = await page.evaluate((m) => window.flexdeskBench.memoryMessages(m), n);
    const heapAfter = await heap();
    return { n, heapBefore, heapAfter, wasmBefore: before.wasmBytes, wasmAfter: after.wasmBytes, shown: after.shown };
  } finally {
    await context.close();
  }
}

/** The longest a full-size burst run may be expected to take before it is estimated instead. */
const BURST_BUDGET_MS = 20000;

const launch = () => chromium.launch({ executablePath: '/usr/bin/chromium', args: FLAGS, timeout: 60000 });

/**
 * Cold starts: `coldRuns` times a freshly launched browser (nothing compiled or cached survives), one page
 * each. Throughput: each direction on its own fresh page in one more browser. Returns plain numbers.
 */
export async function deskBench({ messages = 10000, coldRuns = 3 } = {}) {
  const server = await serve();
  const url = `http://127.0.0.1:${server.address().port}/bench/desk-bench.html`;
  try {
    const cold = [];
    for (let i = 0; i < coldRuns; i++) {
      const browser = await launch();
      try {
        cold.push(await onPage(browser, url, () => window.flexdeskBench.coldStart()));
      } finally {
        await browser.close();
      }
    }
    const browser = await launch();
    try {
      const agentToUser = await onPage(browser, url, (n) => window.flexdeskBench.agentToUser(n), messages);
      const userToAgentPaced = await onPage(browser, url, (n) => window.flexdeskBench.userToAgentPaced(n), messages);
      // The burst (all n queued at once) last. It cannot be interrupted once started (one microtask chain),
      // so it is sized first: 1000 messages, and the full n only if the 1000 extrapolate (quadratically, the
      // worst case seen) to under BURST_BUDGET_MS; otherwise 2000 more, and the figure for n is an estimate.
      const burst = (k) => onPage(browser, url, (m) => window.flexdeskBench.userToAgent(m), k);
      const probe = await burst(Math.min(1000, messages));
      let userToAgentBurst;
      if (probe.n === messages) userToAgentBurst = { ...probe, measured: [probe] };
      else if (probe.ms * (messages / probe.n) ** 2 < BURST_BUDGET_MS) {
        userToAgentBurst = { ...(await burst(messages)), measured: [probe] };
      } else {
        const second = await burst(Math.min(2000, messages));
        // t(n) = t(k) * (n/k)^e with e fitted from the two sizes.
        const e = Math.log(second.ms / probe.ms) / Math.log(second.n / probe.n);
        userToAgentBurst = { n: messages, ms: second.ms * (messages / second.n) ** e, estimated: true, exponent: e, measured: [probe, second] };
      }
      const memory = await memoryRun(browser, url, messages);
      return { cold, agentToUser, userToAgentPaced, userToAgentBurst, memory, chromium: browser.version() };
    } finally {
      await browser.close();
    }
  } finally {
    server.close();
  }
}
