// `flexdesk-auth doctor` (crates/flexdesk-auth/src/cli/doctor/): the read-only preflight of the Twilio account.
// Against the emulator (whose account configuration lives in crates/flexdesk-emulator/src/rest_config.rs) it passes in
// every start mode; each deliberately wrong setting fails with exit status 1 and a FAIL line naming that setting; no
// secret is ever printed; and every request it sends is a twilio-oai operation, answered as the spec describes
// (through the contract stack of tests/contract: recorders + Prism proxies in front of the emulator).
// Needs `cargo build --workspace --bins`.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT, startBinary } from '../support/servers.mjs';
import { FAKE_TWILIO_ENV as ENV } from '../support/fake-env.mjs';
import { MODES, checkAnswer, checkRequest, startContractStack } from '../contract/support.mjs';

const sid = (prefix, n) => prefix + n.toString(16).padStart(32, '0');
/** The emulator's fixtures of another service (rest_config.rs: OTHER_SERVICE_ADDRESS, OTHER_SERVICE_FLEX_FLOW). */
const DEFAULT_SERVICE = sid('IS', 0xdefa);
const OTHER_SERVICE_ADDRESS = sid('IG', 0xdefa);
const OTHER_SERVICE_FLEX_FLOW = sid('FO', 0xdefa);
const SECRETS = [ENV.TWILIO_API_KEY_SECRET, ENV.TWILIO_AUTH_TOKEN, ENV.SESSION_SECRET];

const BIN = ['debug', 'release'].map((p) => path.join(ROOT, 'target', p, 'flexdesk-auth')).find(existsSync);
let emulator;
let cwd;

before(async () => {
  assert.ok(BIN, 'flexdesk-auth is not built: run `cargo build --workspace --bins`');
  emulator = await startBinary('flexdesk-emulator', { EMULATOR_PORT: '0' });
  // An empty directory: no .env is read.
  cwd = mkdtempSync(path.join(os.tmpdir(), 'flexdesk-doctor-'));
});

after(async () => {
  await emulator?.stop();
  if (cwd) rmSync(cwd, { recursive: true, force: true });
});

/** Runs `flexdesk-auth doctor` with only these variables; resolves to { code, out, lines }. */
function doctor(env, urls = { flex: emulator.url, conversations: emulator.url, taskrouter: emulator.url }) {
  const full = {
    PATH: process.env.PATH,
    ...ENV,
    TWILIO_FLEX_API_URL: urls.flex,
    TWILIO_CONVERSATIONS_API_URL: urls.conversations,
    TWILIO_TASKROUTER_API_URL: urls.taskrouter,
    TWILIO_STUDIO_API_URL: urls.studio ?? urls.conversations,
    TWILIO_RETRY_BASE_MS: '10',
    ...env,
  };
  for (const [k, v] of Object.entries(full)) if (v === undefined) delete full[k];
  return new Promise((resolve, reject) => {
    const child = spawn(BIN, ['doctor'], { cwd, env: full, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (c) => (out += c));
    child.stderr.setEncoding('utf8').on('data', (c) => (out += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out, lines: out.split('\n').filter(Boolean) });
    });
  });
}

const line = (r, status, name) => r.lines.find((l) => l.startsWith(`${status} ${name.padEnd(22)}`));
const fails = (r) => r.lines.filter((l) => l.startsWith('FAIL'));

function assertNoSecrets(r, extra = []) {
  for (const s of [...SECRETS, ...extra]) assert.ok(!r.out.includes(s), `a secret was printed:\n${r.out}`);
}

describe('against the emulator, correctly configured', () => {
  for (const mode of MODES) {
    test(`FLEX_START_MODE=${mode}: every check passes, one line each, exit 0`, async () => {
      const r = await doctor({ FLEX_START_MODE: mode });
      assert.equal(r.code, 0, r.out);
      assert.deepEqual(fails(r), [], r.out);
      for (const name of ['API key', 'auth token', 'Conversations service', 'default service', 'webhooks', 'address', 'Studio flow', 'client address', 'workspace', 'workflow', 'queue', 'task channel', 'customer token']) {
        assert.ok(line(r, 'ok  ', name), `no ok line for ${name}:\n${r.out}`);
      }
      // The legacy Flex Flow works but is reported: Programmable Chat's end of life.
      assert.ok(line(r, mode === 'flexflow' ? 'warn' : 'ok  ', 'Flex Flow'), r.out);
      assert.match(r.out, /all checks passed/);
      assertNoSecrets(r);
    });
  }

  test('the settings alone: an unset HANDOFF_SECRET and the demo SESSION_SECRET warn (named, never shown); https passes', async () => {
    const r = await doctor({});
    assert.equal(r.code, 0, r.out);
    const handoff = line(r, 'warn', 'hand-off secret');
    assert.ok(handoff?.includes('HANDOFF_SECRET') && handoff.includes('routing key'), r.out);
    const demo = line(r, 'warn', 'demo secrets');
    assert.ok(demo?.includes('SESSION_SECRET') && demo.includes('emulator'), r.out);
    assert.ok(line(r, 'ok  ', 'plain http'), r.out);
    const fixed = await doctor({ HANDOFF_SECRET: 'a-handoff-secret-0123456789abcdef-0123', SESSION_SECRET: 'a-real-random-secret-0123456789abcdef0123' });
    assert.ok(line(fixed, 'ok  ', 'hand-off secret') && line(fixed, 'ok  ', 'demo secrets'), fixed.out);
    assertNoSecrets(r);
  });

  test('without an auth token the auth-token check is skipped and the rest passes', async () => {
    const r = await doctor({ TWILIO_AUTH_TOKEN: '' });
    assert.equal(r.code, 0, r.out);
    assert.ok(line(r, 'skip', 'auth token'), r.out);
  });
});

describe('each wrong setting fails, naming the setting, and exits 1', () => {
  const cases = [
    {
      name: 'a Conversations service that does not exist',
      env: { TWILIO_CONVERSATIONS_SERVICE_SID: sid('IS', 0xbad) },
      check: 'Conversations service',
      names: ['TWILIO_CONVERSATIONS_SERVICE_SID', sid('IS', 0xbad)],
      alsoFails: ['address', 'customer token'],
    },
    {
      name: "the wrong service: the account's default service, not the one the address creates chats in",
      env: { TWILIO_CONVERSATIONS_SERVICE_SID: DEFAULT_SERVICE },
      check: 'address',
      names: ['TWILIO_ADDRESS_SID', 'TWILIO_CONVERSATIONS_SERVICE_SID', ENV.TWILIO_CONVERSATIONS_SERVICE_SID],
      // Flex's service must also be the default: this one is not.
      alsoFails: ['customer token', 'default service'],
    },
    {
      name: 'webhooks on, but the Flex service posts none to the server (issue 22)',
      env: { TWILIO_WEBHOOKS: 'on' },
      check: 'webhooks',
      names: ['TWILIO_WEBHOOKS=on', 'PostWebhookUrl'],
    },
    {
      name: 'webhooks to a PUBLIC_BASE_URL over plain http (customers\' messages readable on the way)',
      env: { TWILIO_WEBHOOKS: 'on', PUBLIC_BASE_URL: 'http://chat.example.com/auth' },
      check: 'plain http',
      names: ['PUBLIC_BASE_URL=http://chat.example.com/auth'],
      // The emulator's service posts no webhooks to it either.
      alsoFails: ['webhooks'],
    },
    {
      name: 'an unknown address configuration',
      env: { TWILIO_ADDRESS_SID: sid('IG', 0xbeef) },
      check: 'address',
      names: ['TWILIO_ADDRESS_SID', sid('IG', 0xbeef), 'Conversations Addresses'],
    },
    {
      name: 'an address of another service',
      env: { TWILIO_ADDRESS_SID: OTHER_SERVICE_ADDRESS },
      check: 'address',
      names: ['TWILIO_ADDRESS_SID', DEFAULT_SERVICE, 'TWILIO_CONVERSATIONS_SERVICE_SID'],
      alsoFails: ['customer token'],
    },
    // The emulator's fixtures (rest_config.rs: DRAFT_FLOW_ADDRESS, MISSING_FLOW_ADDRESS): chat addresses into the
    // Flex service whose Studio flow was never published, or was deleted.
    {
      name: "an address whose Studio flow is a draft",
      env: { TWILIO_ADDRESS_SID: sid('IG', 0xd4af) },
      check: 'Studio flow',
      names: ['TWILIO_ADDRESS_SID', sid('FW', 0xd4af), '"draft"', 'Publish'],
    },
    {
      name: "an address whose Studio flow does not exist",
      env: { TWILIO_ADDRESS_SID: sid('IG', 0xdead) },
      check: 'Studio flow',
      names: ['TWILIO_ADDRESS_SID', sid('FW', 0xdead), 'does not exist'],
    },
    {
      name: 'a bad API key secret',
      env: { TWILIO_API_KEY_SECRET: 'wrong-api-key-secret-0123456789' },
      check: 'API key',
      names: ['TWILIO_API_KEY_SECRET', 'TWILIO_API_KEY_SID'],
      secret: 'wrong-api-key-secret-0123456789',
      alsoFails: ['customer token'],
    },
    {
      name: 'an unknown API key',
      env: { TWILIO_API_KEY_SID: sid('SK', 0xbad) },
      check: 'API key',
      names: ['TWILIO_API_KEY_SID', sid('SK', 0xbad)],
      alsoFails: ['customer token'],
    },
    {
      name: 'a bad auth token (only its check fails: the others read with the API key)',
      env: { TWILIO_AUTH_TOKEN: 'ffffffffffffffffffffffffffffffff' },
      check: 'auth token',
      names: ['TWILIO_AUTH_TOKEN'],
      secret: 'ffffffffffffffffffffffffffffffff',
    },
    {
      name: 'a queue that is not in the workspace',
      env: { TWILIO_QUEUE_SID: sid('WQ', 0xbeef) },
      check: 'queue',
      names: ['TWILIO_QUEUE_SID', 'TWILIO_WORKSPACE_SID', sid('WQ', 0xbeef)],
    },
    {
      name: 'a workflow that is not in the workspace (interactions)',
      env: { FLEX_START_MODE: 'interactions', TWILIO_WORKFLOW_SID: sid('WW', 0xbeef) },
      check: 'workflow',
      names: ['TWILIO_WORKFLOW_SID', 'TWILIO_WORKSPACE_SID'],
    },
    {
      name: 'a workspace that does not exist',
      env: { TWILIO_WORKSPACE_SID: sid('WS', 0xbeef) },
      check: 'workspace',
      names: ['TWILIO_WORKSPACE_SID', sid('WS', 0xbeef)],
    },
    {
      name: 'a Flex Flow of another service (flexflow)',
      env: { FLEX_START_MODE: 'flexflow', TWILIO_FLEX_FLOW_SID: OTHER_SERVICE_FLEX_FLOW },
      check: 'Flex Flow',
      names: ['TWILIO_FLEX_FLOW_SID', DEFAULT_SERVICE, 'TWILIO_CONVERSATIONS_SERVICE_SID'],
      alsoFails: ['customer token'],
    },
    {
      name: 'an unknown Flex Flow (flexflow)',
      env: { FLEX_START_MODE: 'flexflow', TWILIO_FLEX_FLOW_SID: sid('FO', 0xbeef) },
      check: 'Flex Flow',
      names: ['TWILIO_FLEX_FLOW_SID', sid('FO', 0xbeef)],
    },
  ];
  for (const c of cases) {
    test(c.name, async () => {
      const r = await doctor(c.env);
      assert.equal(r.code, 1, r.out);
      const l = line(r, 'FAIL', c.check);
      assert.ok(l, `no FAIL line for ${c.check}:\n${r.out}`);
      for (const n of c.names) assert.ok(l.includes(n), `the ${c.check} line does not name ${n}:\n${l}`);
      assert.match(l, / Fix: \S/, 'each failure says how to fix it');
      for (const other of c.alsoFails ?? []) assert.ok(line(r, 'FAIL', other), `${other} should fail too:\n${r.out}`);
      // Only the wrong setting's consequences fail: the unrelated checks stay ok.
      const unrelated = fails(r).filter((f) => ![c.check, ...(c.alsoFails ?? [])].some((n) => f.startsWith(`FAIL ${n.padEnd(22)}`)));
      assert.deepEqual(unrelated, [], r.out);
      assert.match(r.out, /check\(s\) failed/);
      assertNoSecrets(r, c.secret ? [c.secret] : []);
    });
  }

  test("an account whose default Conversations service is not Flex's fails the default-service check (issue 22)", async () => {
    const other = await startBinary('flexdesk-emulator', { EMULATOR_PORT: '0', EMULATOR_DEFAULT_SERVICE_SID: DEFAULT_SERVICE });
    try {
      const r = await doctor({}, { flex: other.url, conversations: other.url, taskrouter: other.url });
      assert.equal(r.code, 1, r.out);
      const l = line(r, 'FAIL', 'default service');
      assert.ok(l && l.includes(DEFAULT_SERVICE) && l.includes(ENV.TWILIO_CONVERSATIONS_SERVICE_SID), r.out);
      assert.deepEqual(fails(r), [l], 'only that check fails');
    } finally {
      await other.stop();
    }
  });

  test('the webhook line names the target when webhooks are on and set', async () => {
    const hooked = await startBinary('flexdesk-emulator', { EMULATOR_PORT: '0', EMULATOR_WEBHOOK_URL: 'https://chat.example.com/v1/twilio/webhooks' });
    try {
      const r = await doctor({ TWILIO_WEBHOOKS: 'on' }, { flex: hooked.url, conversations: hooked.url, taskrouter: hooked.url });
      assert.equal(r.code, 0, r.out);
      assert.match(line(r, 'ok  ', 'webhooks') ?? '', /https:\/\/chat\.example\.com\/v1\/twilio\/webhooks/, r.out);
    } finally {
      await hooked.stop();
    }
  });

  test('a Twilio it cannot reach: each failure says to check the network and the base URL', async () => {
    const dead = 'http://127.0.0.1:9'; // discard port: nothing listens
    const r = await doctor({ TWILIO_MAX_RETRIES: '0' }, { flex: dead, conversations: dead, taskrouter: dead });
    assert.equal(r.code, 1, r.out);
    const l = line(r, 'FAIL', 'API key');
    assert.ok(l && l.includes('did not answer') && l.includes('HTTPS_PROXY') && l.includes('TWILIO_CONVERSATIONS_API_URL'), r.out);
  });
});

describe('through the contract stack (Prism validating against twilio-oai)', () => {
  let stack;
  before(async () => {
    stack = await startContractStack();
  });
  after(async () => {
    await stack?.stop();
  });

  test("every request doctor sends is a twilio-oai operation, and the emulator's answers match the spec", async () => {
    const urls = { flex: stack.recorders.flex.url, conversations: stack.recorders.conversations.url, taskrouter: stack.recorders.taskrouter.url, studio: stack.recorders.studio.url };
    for (const mode of MODES) {
      stack.state.step = `doctor (${mode})`;
      const r = await doctor({ FLEX_START_MODE: mode }, urls);
      assert.equal(r.code, 0, r.out);
    }
    const records = stack.records.filter((rec) => rec.step.startsWith('doctor'));
    const ops = new Set(records.map((rec) => `${rec.domain} ${rec.method} ${rec.path.replace(/[A-Z]{2}[0-9a-f]{32}/g, '{Sid}')}`));
    // Every doctor operation was exercised (doctor.rs's table).
    for (const op of [
      'conversations GET /v1/Services',
      'conversations GET /v1/Services/{Sid}',
      'conversations GET /v1/Configuration/Addresses/{Sid}',
      'studio GET /v2/Flows/{Sid}',
      'flex GET /v1/FlexFlows/{Sid}',
      'taskrouter GET /v1/Workspaces/{Sid}',
      'taskrouter GET /v1/Workspaces/{Sid}/Workflows/{Sid}',
      'taskrouter GET /v1/Workspaces/{Sid}/TaskQueues/{Sid}',
      'taskrouter GET /v1/Workspaces/{Sid}/TaskChannels',
    ]) {
      assert.ok(ops.has(op), `${op} not sent; sent: ${[...ops].join(', ')}`);
    }
    const problems = [];
    for (const rec of records) {
      assert.equal(rec.method, 'GET', 'doctor only reads');
      const spec = stack.specs[rec.domain];
      const others = Object.values(stack.specs).filter((s) => s.name !== rec.domain);
      problems.push(...checkRequest(spec, rec, { others, conversationsServiceSid: ENV.TWILIO_CONVERSATIONS_SERVICE_SID }));
      problems.push(...checkAnswer(spec, rec));
      if (rec.status !== 200) problems.push(`${rec.method} ${rec.path}: HTTP ${rec.status}`);
    }
    assert.deepEqual([...new Set(problems)], []);
  });
});
