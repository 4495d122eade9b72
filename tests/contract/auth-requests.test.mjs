// Contract: every request the auth server sends to Twilio is one Twilio's OpenAPI description (twilio-oai, from
// @twilio-alpha/mcp 0.7.0: twilio_flex_v1.json, twilio_flex_v2.json, twilio_conversations_v1.json,
// twilio_taskrouter_v1.json) has: host family, method, path template (and path parameter patterns), form parameter
// names (a name the spec lacks is a failure), required form parameters, query parameter names, and the
// service-scoped Conversations operations for the configured service. In all three start modes, on every route
// (start, refresh, end, availability) and on the retry path. Needs `cargo build --workspace --bins`.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FAKE_TWILIO_ENV, MODES, assertNone, checkRequest, driveAuth, matchPath, startContractStack } from './support.mjs';

let stack;
const steps = {};

before(async () => {
  stack = await startContractStack();
  for (const mode of MODES) steps[mode] = await driveAuth(stack, mode);
});

after(async () => {
  await stack?.stop();
});

/** Groups a mode's recorded requests by domain, method and matched path template. */
function byOperation(records) {
  const groups = new Map();
  for (const rec of records) {
    const m = matchPath(stack.specs[rec.domain], rec.path);
    const key = `${rec.domain} ${rec.method} ${m ? m.template : rec.path}`;
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(rec);
  }
  return groups;
}

/** Problems of several requests, each problem once, with the auth routes that caused it. */
function problemsOf(records) {
  const seen = new Map();
  for (const rec of records) {
    const others = Object.values(stack.specs).filter((s) => s.name !== rec.domain);
    const problems = checkRequest(stack.specs[rec.domain], rec, {
      others,
      conversationsServiceSid: FAKE_TWILIO_ENV.TWILIO_CONVERSATIONS_SERVICE_SID,
    });
    for (const p of problems) {
      if (!seen.has(p)) seen.set(p, new Set());
      seen.get(p).add(rec.step);
    }
  }
  return [...seen].map(([p, s]) => `${p}\n      (sent during: ${[...s].join('; ')})`);
}

for (const mode of MODES) {
  describe(`FLEX_START_MODE=${mode}`, () => {
    test('every auth route answers as documented, and each that must call Twilio did, through the contract proxies', () => {
      const wrong = steps[mode].filter((s) => s.status !== s.expected).map((s) => `${s.name}: HTTP ${s.status} (expected ${s.expected}): ${s.body.slice(0, 300)}`);
      const records = stack.records.filter((r) => r.mode === mode);
      const silent = steps[mode]
        .filter((s) => !/idempotent|refused/.test(s.name))
        .filter((s) => !records.some((r) => r.step === s.name))
        .map((s) => `${s.name}: sent no request to Twilio`);
      assertNone([...wrong, ...silent], `${mode}: auth routes`);
    });

    test('the retry path: after an injected 503 the auth server sent the same request again', () => {
      const records = stack.records.filter((r) => r.mode === mode);
      const retried = steps[mode].filter((s) => s.name.includes('after a 503'));
      assert.ok(retried.length >= 4);
      const missing = retried
        .filter((s) => {
          const recs = records.filter((r) => r.step === s.name);
          const i = recs.findIndex((r) => r.status === 503);
          return i < 0 || !recs.slice(i + 1).some((r) => r.method === recs[i].method && r.path === recs[i].path);
        })
        .map((s) => `${s.name}: no 503 followed by the same request`);
      assertNone(missing, `${mode}: retries`);
    });

    test('every Twilio request the auth server sent is in the spec', async (t) => {
      const records = stack.records.filter((r) => r.mode === mode);
      assert.ok(records.length > 0, 'the auth server sent no Twilio request through the recorders');
      for (const [key, recs] of byOperation(records)) {
        await t.test(key, () => {
          assertNone(problemsOf(recs), `${mode}: ${key}`);
        });
      }
    });
  });
}
