// `npm run smoke:twilio` (scripts/smoke-twilio.mjs), unchanged, against the emulator and an auth server: the script a
// Flex admin runs on a real account, pointed at the local Twilio with SMOKE_TWILIO_API_BASE. Each run is checked
// against the emulator's own state too (the reply is in the conversation, the task ended), so a script that skipped a
// step could not pass. Needs `cargo build --workspace --bins`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import path from 'node:path';
import { ROOT, startStack } from '../support/servers.mjs';
import { FAKE_TWILIO_ENV as ENV } from '../support/fake-env.mjs';

const SCRIPT = path.join(ROOT, 'scripts', 'smoke-twilio.mjs');
const SMOKE_KEYS = /^(TWILIO_|SMOKE_)/;

/** Runs the script with only `env` (plus PATH/HOME) for its Twilio and SMOKE_ variables; resolves to { code, out }. */
function runSmoke(env) {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !SMOKE_KEYS.test(k)));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [SCRIPT], { env: { ...base, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (c) => (out += c));
    child.stderr.setEncoding('utf8').on('data', (c) => (out += c));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, out }));
  });
}

const accountEnv = (stack, extra = {}) => ({
  TWILIO_ACCOUNT_SID: ENV.TWILIO_ACCOUNT_SID,
  TWILIO_AUTH_TOKEN: ENV.TWILIO_AUTH_TOKEN,
  TWILIO_WORKSPACE_SID: ENV.TWILIO_WORKSPACE_SID,
  TWILIO_CONVERSATIONS_SERVICE_SID: ENV.TWILIO_CONVERSATIONS_SERVICE_SID,
  SMOKE_AUTH_URL: stack.auth.url,
  SMOKE_TWILIO_API_BASE: stack.emulator.url,
  SMOKE_TIMEOUT_SECONDS: '20',
  ...extra,
});

const agentState = async (stack) => (await fetch(`${stack.emulator.url}/agent/api/state`)).json();
const setAvailable = (stack, id, available) =>
  fetch(`${stack.emulator.url}/agent/api/agents/${id}/availability`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ available }),
  });

test('without credentials it prints what it needs, calls nothing and exits 0', async () => {
  let hits = 0;
  const server = createServer((req, res) => {
    hits++;
    res.end('{}');
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  try {
    const url = `http://127.0.0.1:${server.address().port}`;
    // Everything but the auth server's URL, all pointed at a server that counts requests.
    const { code, out } = await runSmoke({ TWILIO_ACCOUNT_SID: ENV.TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN: 'x', SMOKE_TWILIO_API_BASE: url });
    assert.equal(code, 0, out);
    assert.match(out, /missing: TWILIO_WORKSPACE_SID, TWILIO_CONVERSATIONS_SERVICE_SID, SMOKE_AUTH_URL/);
    for (const key of ['TWILIO_ACCOUNT_SID', 'TWILIO_AUTH_TOKEN', 'TWILIO_WORKSPACE_SID', 'TWILIO_CONVERSATIONS_SERVICE_SID', 'SMOKE_AUTH_URL', 'SMOKE_WORKER_SID']) {
      assert.match(out, new RegExp(`^  ${key} `, 'm'), `names ${key}`);
    }
    assert.match(out, /Nothing was called/);
    assert.equal(hits, 0);
  } finally {
    server.close();
  }
});

test('webchat mode: start, task in TaskRouter, accept and answer over REST, the customer has it, end, task completed', { timeout: 60_000 }, async () => {
  const stack = await startStack({ FLEX_START_MODE: 'webchat' });
  try {
    const { code, out } = await runSmoke(accountEnv(stack));
    assert.equal(code, 0, out);
    for (const step of [
      'start a chat through the auth server',
      'the task appears in TaskRouter',
      'a worker is offered the task and accepts it',
      'the agent answers in the conversation',
      'the customer gets the reply',
      'the customer ends the chat and the task leaves the agent',
    ]) {
      assert.match(out, new RegExp(`^ok   ${step}`, 'm'), `step "${step}"\n${out}`);
    }
    assert.match(out, /smoke:twilio passed/);
    // What the emulator saw: Alice (the first available agent) was given the task, her reply is in the closed
    // conversation, and the task is over.
    const state = await agentState(stack);
    assert.equal(state.tasks.length, 1);
    const [task] = state.tasks;
    assert.equal(task.agent, 'alice');
    assert.equal(task.status, 'completed');
    const conv = state.conversations[task.conversationSid];
    assert.equal(conv.state, 'closed');
    const reply = conv.messages.find((m) => m.author === 'agent.alice');
    assert.match(reply.body, /^flexdesk smoke test: agent reply [0-9a-f]{8}$/);
    assert.match(out, new RegExp(`agent\\.alice posted message ${reply.index} \\(${reply.sid}\\)`), out);
  } finally {
    await stack.stop();
  }
});

test('interactions mode, one named worker, with Origin: the task wraps up and the script completes it', { timeout: 60_000 }, async () => {
  const origin = 'https://shop.example.com';
  const stack = await startStack({ FLEX_START_MODE: 'interactions', ALLOWED_ORIGINS: origin });
  try {
    // Alice is away: TaskRouter offers the chat to Bob, the worker the admin named (the emulator's worker SIDs follow
    // the configured agents: Bob is the second, src/rest_reservations.rs).
    assert.equal((await setAvailable(stack, 'alice', false)).status, 200);
    const bob = `WK${(2).toString(16).padStart(32, '0')}`;
    const { code, out } = await runSmoke(accountEnv(stack, { SMOKE_WORKER_SID: bob, SMOKE_ORIGIN: origin }));
    assert.equal(code, 0, out);
    assert.match(out, /^ok {3}the customer ends the chat and the task leaves the agent: .* the task is wrapping/m, out);
    assert.match(out, /^ok {3}clean up: the agent completes wrap-up: reservation completed; the task is completed/m, out);
    const [task] = (await agentState(stack)).tasks;
    assert.equal(task.agent, 'bob');
    assert.equal(task.status, 'completed');
  } finally {
    await stack.stop();
  }
});

test('a step that cannot finish fails the run, names the step, and ends the test chat', { timeout: 60_000 }, async () => {
  const stack = await startStack({ FLEX_START_MODE: 'webchat' });
  try {
    // No agent is available: no worker is ever offered the task.
    for (const id of ['alice', 'bob']) assert.equal((await setAvailable(stack, id, false)).status, 200);
    const { code, out } = await runSmoke(accountEnv(stack, { SMOKE_TIMEOUT_SECONDS: '2' }));
    assert.equal(code, 1, out);
    assert.match(out, /^FAIL a worker is offered the task and accepts it: timed out after 2 s waiting for a pending reservation/m);
    assert.match(out, /cleanup: DELETE \/v1\/sessions\/\S+ answered 204/);
    const state = await agentState(stack);
    assert.equal(state.conversations[state.tasks[0].conversationSid].state, 'closed');
  } finally {
    await stack.stop();
  }
});
