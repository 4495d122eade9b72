// Chromium's sampling profiler around one desk benchmark, printing the functions with the most self time.
//   node bench/profile-desk.mjs [userToAgent|userToAgentPaced|agentToUser] [messages]
// Used to find why a desk figure misses its target (see bench/results.md); wasm frames show as wasm-function[N]
// unless the package was built with names kept.
import { chromium } from 'playwright-core';
import { serve, FLAGS } from './lib/browser.mjs';

const [which = 'userToAgent', n = '1000'] = process.argv.slice(2);
const server = await serve();
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: FLAGS });
try {
  const page = await browser.newPage();
  await page.goto(`http://127.0.0.1:${server.address().port}/bench/desk-bench.html`);
  await page.waitForFunction(() => window.flexdeskBenchReady === true, null, { timeout: 30000 });
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
  await cdp.send('Profiler.start');
  const result = await page.evaluate(([w, k]) => window.flexdeskBench[w](k), [which, Number(n)]);
  const { profile } = await cdp.send('Profiler.stop');
  console.log(which, JSON.stringify(result));
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map();
  profile.samples.forEach((id, i) => {
    const { functionName, url, lineNumber } = byId.get(id).callFrame;
    const key = `${functionName || '(anonymous)'}  ${url.split('/').pop()}:${lineNumber + 1}`;
    self.set(key, (self.get(key) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  for (const [key, us] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 25)) {
    console.log(`${(us / 1000).toFixed(1).padStart(9)} ms ${((100 * us) / total).toFixed(1).padStart(5)}%  ${key}`);
  }
} finally {
  await browser.close();
  server.close();
}
