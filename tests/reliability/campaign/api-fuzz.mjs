// Test 1: schemathesis against the auth server's /openapi.json (all phases, every check), at least
// API_FUZZ_MIN_CASES generated cases; then the server must still answer /healthz.
// The auth server runs against the emulator with the rate limit lifted, so the cases reach the handlers.
// schemathesis comes from PyPI into reliability/.venv (git-ignored), installed on first use.
import { spawnSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT, startStack, report, json } from './lib.mjs';

const SCHEMATHESIS = '4.32.5';
const venv = path.join(ROOT, 'tests/reliability/campaign/.venv');
const st = path.join(venv, 'bin/schemathesis');
const out = path.join(ROOT, 'tests/reliability/campaign/out');
const minCases = Number(process.env.API_FUZZ_MIN_CASES ?? 2000);

function ensureSchemathesis() {
  if (existsSync(st)) return;
  const run = (cmd, args) => {
    const r = spawnSync(cmd, args, { stdio: 'inherit' });
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed`);
  };
  run('python3', ['-m', 'venv', venv]);
  run(path.join(venv, 'bin/pip'), ['install', '--quiet', `schemathesis==${SCHEMATHESIS}`]);
}

ensureSchemathesis();
mkdirSync(out, { recursive: true });
const stack = await startStack({ RATE_LIMIT_BURST: '1000000', RATE_LIMIT_PER_MINUTE: '1000000', MAX_OPEN_SESSIONS: '0' });
let result;
try {
  // Several runs with different seeds until enough cases were generated (each run: examples, coverage,
  // fuzzing and stateful phases over the 5 operations).
  let cases = 0, failures = 0, runs = 0, serverErrors = 0;
  const failuresText = [];
  while (cases < minCases && runs < 10) {
    runs += 1;
    const ndjson = path.join(out, `schemathesis-${runs}.ndjson`);
    // The document is served on the admin listener; the API it describes on the public one (`--url`).
    const args = ['run', `${stack.auth.adminUrl}/openapi.json`, '--url', stack.auth.url, '--checks', 'all', '--max-examples', '150', '--workers', '2',
      '--seed', String(1000 + runs), '--no-color', '--report', 'ndjson', '--report-ndjson-path', ndjson,
      '--generation-database', 'none', '--request-timeout', '10'];
    // Run inside tests/reliability/campaign/out, where its own cache directory (.schemathesis/) is git-ignored.
    const child = spawn(st, args, { cwd: out, stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    child.stdout.on('data', (d) => { text += d; });
    child.stderr.on('data', (d) => { text += d; });
    const code = await new Promise((r) => child.on('exit', r));
    const generated = Number(text.match(/(\d+) generated/)?.[1] ?? 0);
    cases += generated;
    // The ndjson report has one ScenarioFinished event per scenario, with each check's outcome.
    const lines = readFileSync(ndjson, 'utf8').split('\n').filter(Boolean);
    serverErrors += (lines.join('\n').match(/"status_code": ?5\d\d/g) ?? []).length;
    if (code !== 0) {
      failures += Number(text.match(/(\d+) found (\d+) unique failures/)?.[2] ?? 1);
      failuresText.push(text.slice(text.indexOf('FAILURES')));
    }
    console.log(`schemathesis run ${runs}: ${generated} cases, exit ${code}`);
  }
  const health = await json(`${stack.auth.url}/healthz`);
  const healthy = health.status === 200 && health.body?.status === 'ok';
  if (failuresText.length) console.log(failuresText.join('\n'));
  result = report({ test: 'api fuzzing (schemathesis)', cases, faults: 0, failures: failures + (healthy ? 0 : 1) + (cases < minCases ? 1 : 0),
    detail: `${runs} runs, ${serverErrors} 5xx answers, healthy after: ${healthy}` });
} finally {
  await stack.stop();
}
process.exit(result.failures === 0 ? 0 : 1);
