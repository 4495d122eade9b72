// Contract: every Twilio REST call `npm run smoke:twilio` (scripts/smoke-twilio.mjs) makes is a twilio-oai operation
// sent as the spec says, and every answer the emulator gives it (including the reservation and worker endpoints of
// src/rest_reservations.rs) passes the spec. The script runs unchanged, its TaskRouter and Conversations base URLs
// pointed at the contract proxies (recorder → Prism `--errors` → emulator, see support.mjs), against an auth server
// in the webchat and the interactions modes. Needs `cargo build --workspace --bins`.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { ROOT } from '../support/servers.mjs';
import { FAKE_TWILIO_ENV as ENV, assertNone, checkAnswer, checkRequest, matchPath, startContractStack } from './support.mjs';

let stack;
const runs = {};

function runSmoke(env) {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(TWILIO_|SMOKE_)/.test(k)));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(ROOT, 'scripts', 'smoke-twilio.mjs')], { env: { ...base, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (c) => (out += c));
    child.stderr.setEncoding('utf8').on('data', (c) => (out += c));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, out }));
  });
}

before(async () => {
  stack = await startContractStack();
  for (const mode of ['webchat', 'interactions']) {
    const auth = await stack.startAuth(mode);
    stack.state.mode = mode;
    stack.state.step = 'smoke:twilio';
    runs[mode] = await runSmoke({
      TWILIO_ACCOUNT_SID: ENV.TWILIO_ACCOUNT_SID,
      TWILIO_AUTH_TOKEN: ENV.TWILIO_AUTH_TOKEN,
      TWILIO_WORKSPACE_SID: ENV.TWILIO_WORKSPACE_SID,
      TWILIO_CONVERSATIONS_SERVICE_SID: ENV.TWILIO_CONVERSATIONS_SERVICE_SID,
      SMOKE_AUTH_URL: auth.url,
      SMOKE_TASKROUTER_URL: stack.recorders.taskrouter.url,
      SMOKE_CONVERSATIONS_URL: stack.recorders.conversations.url,
      SMOKE_TIMEOUT_SECONDS: '20',
    });
  }
});

after(async () => {
  await stack?.stop();
});

/** The operation a recorded request matched (the records hold the auth server's calls and the script's alike). */
const opOf = (rec) => matchPath(stack.specs[rec.domain], rec.path)?.item[rec.method.toLowerCase()]?.operationId;

for (const mode of ['webchat', 'interactions']) {
  test(`${mode}: the smoke test passes through the contract proxies`, () => {
    assert.equal(runs[mode].code, 0, runs[mode].out);
    assert.match(runs[mode].out, /smoke:twilio passed/);
  });

  test(`${mode}: every request is a twilio-oai operation, sent as the spec says`, () => {
    const records = stack.records.filter((r) => r.mode === mode);
    const others = (rec) => Object.values(stack.specs).filter((s) => s.name !== rec.domain);
    const problems = records.flatMap((rec) =>
      checkRequest(stack.specs[rec.domain], rec, { others: others(rec), conversationsServiceSid: ENV.TWILIO_CONVERSATIONS_SERVICE_SID }),
    );
    assertNone([...new Set(problems)], `${mode}: requests`);
    // The operations the docs name for the script (docs/auth-server.md, "Smoke test on a real account").
    const ops = new Set(records.map(opOf));
    const expected = [
      'ListTask',
      'ListTaskReservation',
      'UpdateTaskReservation',
      'FetchTask',
      'FetchWorker',
      'ListServiceConversationParticipant',
      'CreateServiceConversationMessage',
      'ListServiceConversationMessage',
    ];
    assert.deepEqual(expected.filter((op) => !ops.has(op)), [], `operations seen: ${[...ops].join(', ')}`);
  });

  test(`${mode}: every answer passes the spec`, () => {
    const records = stack.records.filter((r) => r.mode === mode);
    assertNone([...new Set(records.flatMap((rec) => checkAnswer(stack.specs[rec.domain], rec)))], `${mode}: answers`);
  });
}

test('Prism logged no violation except error statuses the specs do not declare', () => {
  const other = stack.prismWarnings().filter((w) => !/Unable to match the returned status code/.test(w));
  assertNone(other, 'Prism violations logged as warnings');
});
