// What one token refresh costs flexdesk-auth, in figures that do not depend on how busy the machine is (issue 15):
// the server's CPU time per request and, under valgrind's callgrind, its instructions per request. run.mjs's req/s
// move with every other process on the shared cores; these move only with the code.
//
//   node bench/cost.mjs                      build (release), then CPU time per refresh (20 000 requests)
//   node bench/cost.mjs --callgrind          also instructions per refresh under callgrind (2 000 requests, ~1 min)
//   --requests=N --connections=C             how many refreshes, over how many keep-alive connections (default 32)
//   --bin=path                               another flexdesk-auth binary (e.g. a saved build of the previous code)
//   --ceiling                                the bare ceiling (bench/ceiling, built by run.mjs) measured the same way
//   --no-build                               use target/release as it is
//   --top=N                                  with --callgrind: the N functions with the most instructions of their own
//   --keep                                   keep callgrind's dumps (in the temp directory) for callgrind_annotate
//
// The stack is run.mjs's "webhooks healthy" row (the one issue 15's targets are about): emulator + release
// flexdesk-auth with TWILIO_WEBHOOKS=on, RUST_LOG=warn, limits lifted, one session refreshed over and over.
// Only the requests after a warm-up are counted, and only the server's own threads: CPU time is the sum over its
// threads of /proc/<pid>/task/*/schedstat (ns on a CPU); instructions are callgrind's Ir between a zero and a dump
// of its counters (callgrind_control). CPU time includes the kernel's share (socket I/O, wake-ups), so it still moves
// with how requests batch up on a busy machine; instructions are user space only and do not. Both include hyper and
// tokio, which is why they are well above what the handler alone costs. bench/README.md has the figures of issue 15.
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { peakRssKb, run, startServer } from './lib/proc.mjs';
import { bin, configureWebhooks, post, startStack } from './lib/stack.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const flag = (name) => args.includes(`--${name}`);
const option = (name, fallback) => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
const say = (s) => console.error(`[cost] ${s}`);

const callgrind = flag('callgrind');
const connections = Number(option('connections', 32));
const authBin = path.resolve(option('bin', bin.auth));

/** Nanoseconds the process's threads have spent on a CPU (user + system), from the scheduler's own accounting. */
function cpuNs(pid) {
  let total = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      total += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return total;
}

/** `n` refreshes over `conns` keep-alive connections; resolves to how many were not 200. */
async function refreshes(url, body, n, conns) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: conns });
  const u = new URL(url);
  const payload = JSON.stringify(body);
  let sent = 0;
  let bad = 0;
  const one = () =>
    new Promise((resolve, reject) => {
      const req = http.request(
        { agent, host: u.hostname, port: u.port, path: u.pathname, method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } },
        (res) => {
          res.resume();
          res.on('end', () => {
            if (res.statusCode !== 200) bad++;
            resolve();
          });
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  await Promise.all(Array.from({ length: conns }, async () => {
    while (sent++ < n) await one();
  }));
  agent.destroy();
  return bad;
}

/**
 * Instructions of each function's own (callees excluded), from a callgrind dump: cost lines after `fn=` are the
 * function's own, the line after `calls=` is a callee's inclusive cost. (callgrind_annotate 3.19 files all of a
 * Rust binary's self cost under its thread entry point, hence this.)
 */
function selfCost(file) {
  const names = new Map();
  const self = new Map();
  let fn;
  let skipNext = false;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    // Names are given once, at the first `fn=(id) name` or `cfn=(id) name`, then only `(id)`.
    const m = line.match(/^(c?)fn=\((\d+)\)(?: (.*))?$/);
    if (m) {
      if (m[3] !== undefined) names.set(m[2], m[3]);
      if (!m[1]) fn = names.get(m[2]);
      continue;
    }
    if (line.startsWith('calls=')) {
      skipNext = true;
      continue;
    }
    const cost = line.match(/^(?:[+-]?\d+|\*)\s+(\d+)$/);
    if (!cost) continue;
    if (skipNext) {
      skipNext = false;
      continue;
    }
    if (fn !== undefined) self.set(fn, (self.get(fn) ?? 0) + Number(cost[1]));
  }
  return [...self.entries()].sort((a, b) => b[1] - a[1]);
}

/**
 * SHA-256's block function (the credential's HMAC, the token's HS256 signature). Valgrind's CPU has no SHA
 * extensions, so under callgrind it runs in software at many times the instructions it takes natively (SHA-NI):
 * counted apart, so the rest, what the code around it costs, can be compared.
 */
const SHA256 = /sha256|sha2::|compress256/;

/** Callgrind's total Ir in a dump file (its `totals:` line, or `summary:` in older formats). */
function dumpedIr(file) {
  const m = readFileSync(file, 'utf8').match(/^(?:totals|summary):\s+(\d+)/m);
  if (!m) throw new Error(`no totals in ${file}`);
  return Number(m[1]);
}

/** Runs `binary` as is, or under callgrind writing its dumps to `${outBase}.<pid>[.n]`. */
function command(binary, underCallgrind, outBase) {
  return underCallgrind
    ? { command: 'valgrind', args: ['--tool=callgrind', `--callgrind-out-file=${outBase}.%p`, '--dump-instr=no', binary], timeoutMs: 120000 }
    : { command: binary, args: [] };
}

/** CPU time (and under callgrind instructions) per refresh of `target`: flexdesk-auth, or the bare ceiling. */
async function measure({ underCallgrind, target }) {
  const requests = Number(option('requests', underCallgrind ? 2000 : 20000));
  const warmup = Math.max(200, Math.round(requests / 10));
  const outBase = path.join(os.tmpdir(), `flexdesk-cost-${process.pid}-${target}.callgrind`);
  const measured = command(target === 'ceiling' ? bin.ceiling : authBin, underCallgrind, outBase);
  // Generous freshness: under valgrind the set-up alone takes seconds.
  const stack = await startStack({ TWILIO_WEBHOOKS: 'on', TWILIO_WEBHOOKS_FRESH_SECONDS: '3600' }, {}, target === 'ceiling' ? {} : measured);
  let ceiling;
  try {
    await configureWebhooks(stack, { tries: underCallgrind ? 6000 : 500 });
    // The ceiling checks the same credential (same SESSION_SECRET), so a session of the real server serves both.
    const session = await post(`${stack.auth.url}/v1/sessions`, { customerName: 'Cost' });
    if (target === 'ceiling') ceiling = await startServer('ceiling', measured.command, measured.args, { PORT: '0' }, { timeoutMs: measured.timeoutMs });
    const server = ceiling ?? stack.auth;
    const url = `${server.url}/v1/sessions/${session.sessionId}/token`;
    const body = { sessionCredential: session.sessionCredential };
    const pid = server.pid;
    say(`${target}, ${underCallgrind ? 'callgrind' : 'native'}: ${warmup} warm-up refreshes, then ${requests} over ${connections} connections`);
    if (await refreshes(url, body, warmup, connections)) throw new Error('warm-up refreshes failed');
    if (underCallgrind) await run('callgrind_control', ['-z', String(pid)], { quiet: true });
    const cpu0 = cpuNs(pid);
    const t0 = performance.now();
    const bad = await refreshes(url, body, requests, connections);
    const wallMs = performance.now() - t0;
    const cpu1 = cpuNs(pid);
    if (bad) throw new Error(`${bad} of ${requests} refreshes were not 200`);
    let ir;
    let sha;
    let top;
    if (underCallgrind) {
      const before = new Set(readdirSync(os.tmpdir()));
      await run('callgrind_control', ['-d', String(pid)], { quiet: true });
      const dump = readdirSync(os.tmpdir()).filter((f) => !before.has(f) && f.startsWith(path.basename(outBase))).sort().pop();
      if (!dump) throw new Error('callgrind_control -d wrote no dump');
      ir = dumpedIr(path.join(os.tmpdir(), dump));
      const costs = selfCost(path.join(os.tmpdir(), dump));
      sha = costs.filter(([fn]) => SHA256.test(fn)).reduce((a, [, n]) => a + n, 0);
      if (option('top')) top = costs.slice(0, Number(option('top')));
    }
    return { target, requests, cpuUsPerRequest: (cpu1 - cpu0) / 1000 / requests, wallMs, rssKb: peakRssKb(pid), irPerRequest: ir === undefined ? undefined : ir / requests, shaPerRequest: sha === undefined ? undefined : sha / requests, top };
  } finally {
    await ceiling?.stop();
    await stack.stop();
    if (flag('keep')) say(`callgrind dumps kept: ${outBase}.*`);
    else for (const f of readdirSync(os.tmpdir())) if (f.startsWith(path.basename(outBase))) rmSync(path.join(os.tmpdir(), f), { force: true });
  }
}

async function main() {
  if (!option('bin') && !flag('no-build')) {
    say('building flexdesk-auth and flexdesk-emulator (release)');
    await run('cargo', ['build', '--release', '-q', '-p', 'flexdesk-auth', '-p', 'flexdesk-emulator'], { cwd: ROOT });
  }
  if (!existsSync(authBin)) throw new Error(`no binary at ${authBin}`);
  const targets = flag('ceiling') ? ['auth', 'ceiling'] : ['auth'];
  for (const target of targets) {
    const name = target === 'auth' ? 'flexdesk-auth' : 'ceiling';
    const native = await measure({ underCallgrind: false, target });
    console.log(`${name}: ${native.cpuUsPerRequest.toFixed(1)} µs CPU per refresh (${native.requests} refreshes, ${connections} connections, ${(native.wallMs / 1000).toFixed(1)} s; peak RSS ${(native.rssKb / 1024).toFixed(1)} MiB; load ${os.loadavg()[0].toFixed(2)} on ${os.availableParallelism()} cores)`);
    if (callgrind) {
      const cg = await measure({ underCallgrind: true, target });
      const n = (x) => Math.round(x).toLocaleString('en-US');
      console.log(`${name}: ${n(cg.irPerRequest)} instructions per refresh under callgrind, ${n(cg.irPerRequest - cg.shaPerRequest)} without SHA-256 compression (${cg.requests} refreshes, ${connections} connections)`);
      for (const [fn, ir] of cg.top ?? []) console.log(`${String(Math.round(ir / cg.requests)).padStart(9)}  ${fn.slice(0, 160)}`);
    }
  }
}

main().catch((e) => {
  console.error(`[cost] failed: ${e.stack ?? e}`);
  process.exit(1);
});
