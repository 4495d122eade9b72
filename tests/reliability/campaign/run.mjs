// `npm run check:reliability [-- --long]`: every reliability and security suite, then one table of
// cases run / faults injected / failures per test. Short by default (a few minutes); --long runs the
// figures recorded in docs/reliability.md (10-minute fuzzing per target, 5-minute load, 30-minute soak).
// Suites report through a `RESULT {...}` line on stdout (lib.mjs). Exit status 1 if any failure.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from './lib.mjs';

const long = process.argv.includes('--long');
const only = process.argv.find((a) => a.startsWith('--only='))?.slice(7).split(',');
const env = {
  ...process.env,
  IBM_TELEMETRY_DISABLED: 'true',
  FUZZ_SECONDS: process.env.FUZZ_SECONDS ?? (long ? '600' : '20'),
  LOAD_CHATS: process.env.LOAD_CHATS ?? '500',
  LOAD_SECONDS: process.env.LOAD_SECONDS ?? (long ? '300' : '30'),
  SOAK_SECONDS: process.env.SOAK_SECONDS ?? (long ? '1800' : '60'),
  SOAK_SAMPLE_SECONDS: process.env.SOAK_SAMPLE_SECONDS ?? (long ? '30' : '5'),
  FAULT_DROPS: process.env.FAULT_DROPS ?? '100',
  REPLICAS_CHATS: process.env.REPLICAS_CHATS ?? (long ? '60' : '12'),
};

const suites = [
  { name: 'quick', cmd: 'node', args: ['--test', '--test-concurrency=1', 'tests/reliability/'], nodeTest: 'quick tests (tests/reliability, also in npm test)' },
  { name: 'replicas', cmd: 'node', args: ['--test', 'tests/reliability/replicas.test.mjs'],
    nodeTest: `three replicas + Redis behind a round-robin front (${env.REPLICAS_CHATS} chats through replica kills)` },
  { name: 'api', cmd: 'node', args: ['tests/reliability/campaign/api-fuzz.mjs'] },
  { name: 'fuzz', cmd: 'bash', args: ['tests/reliability/campaign/fuzz.sh'] },
  { name: 'faults', cmd: 'node', args: ['tests/reliability/campaign/faults-long.mjs'] },
  { name: 'load', cmd: 'node', args: ['tests/reliability/campaign/load.mjs', 'load'] },
  { name: 'soak', cmd: 'node', args: ['tests/reliability/campaign/load.mjs', 'soak'] },
].filter((s) => !only || only.includes(s.name));

function build() {
  const steps = [['cargo', ['build', '-p', 'flexdesk-auth', '-p', 'flexdesk-emulator']]];
  if (!existsSync(path.join(ROOT, 'crates/flexdesk/pkg/index.js'))) steps.push(['bash', ['scripts/build-wasm']]);
  for (const [cmd, args] of steps) {
    if (spawnSync(cmd, args, { cwd: ROOT, stdio: 'inherit', env }).status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed`);
  }
}

async function run(suite) {
  const child = spawn(suite.cmd, suite.args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => { out += d; process.stdout.write(d); });
  child.stderr.on('data', (d) => process.stderr.write(d));
  const code = await new Promise((r) => child.on('exit', r));
  if (suite.nodeTest) {
    const n = (re) => Number(out.match(re)?.[1] ?? 0);
    return [{ test: suite.nodeTest, cases: n(/^# tests (\d+)/m), faults: 0, failures: n(/^# fail (\d+)/m) || (code === 0 ? 0 : 1) }];
  }
  const results = out.split('\n').filter((l) => l.startsWith('RESULT ')).map((l) => JSON.parse(l.slice(7)));
  if (code !== 0 && results.every((r) => r.failures === 0)) results.push({ test: `${suite.name} (exit ${code})`, cases: 0, faults: 0, failures: 1 });
  if (results.length === 0) results.push({ test: `${suite.name} (no result)`, cases: 0, faults: 0, failures: 1 });
  return results;
}

build();
const began = Date.now();
const rows = [];
for (const s of suites) rows.push(...(await run(s)));
const w = Math.max(...rows.map((r) => r.test.length), 4);
const line = (a, b, c, d) => `${a.padEnd(w)}  ${String(b).padStart(10)}  ${String(c).padStart(8)}  ${String(d).padStart(8)}`;
console.log(`\n==== reliability summary (${long ? 'long' : 'short'} run, ${Math.round((Date.now() - began) / 1000)} s) ====`);
console.log(line('test', 'cases', 'faults', 'failures'));
for (const r of rows) console.log(line(r.test, r.cases, r.faults, r.failures) + (r.detail ? `   ${r.detail}` : ''));
const failures = rows.reduce((n, r) => n + r.failures, 0);
console.log(`${rows.length - rows.filter((r) => r.failures).length} passed, ${rows.filter((r) => r.failures).length} failed`);
process.exit(failures === 0 ? 0 : 1);
