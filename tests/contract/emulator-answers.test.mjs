// Contract: every answer the emulator gives on the Twilio paths the auth server uses passes Twilio's OpenAPI
// description (twilio-oai, from @twilio-alpha/mcp 0.7.0): Prism (`prism proxy --errors`) validates the status code
// (2xx) and the body's types, enums and patterns as the answer passes; `checkAnswer` adds what Prism does not check:
// every body field is one the response schema has, untyped fields have the spec example's JSON types, and every
// error is Twilio's error body {code, message, more_info, status}. First the answers the auth server got in all
// three start modes, then direct calls (through Prism) for the same operations, including the error cases.
// Needs `cargo build --workspace --bins`.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  FAKE_TWILIO_ENV as ENV,
  MODES,
  WRONG_BASIC,
  assertNone,
  checkAnswer,
  driveAuth,
  matchPath,
  startContractStack,
  twilio,
} from './support.mjs';

let stack;

before(async () => {
  stack = await startContractStack();
  for (const mode of MODES) await driveAuth(stack, mode);
});

after(async () => {
  await stack?.stop();
});

const label = (rec) => {
  const spec = stack.specs[rec.domain];
  const m = matchPath(spec, rec.path);
  const op = m?.item[rec.method.toLowerCase()];
  return `${op?.operationId ?? `${rec.method} ${rec.path}`} → ${rec.status}`;
};

const answerProblems = (recs) => {
  const seen = new Map();
  for (const rec of recs) {
    for (const p of checkAnswer(stack.specs[rec.domain], rec)) {
      if (!seen.has(p)) seen.set(p, new Set());
      seen.get(p).add(rec.step);
    }
  }
  return [...seen].map(([p, s]) => `${p}\n      (answered during: ${[...s].join('; ')})`);
};

for (const mode of MODES) {
  test(`FLEX_START_MODE=${mode}: every answer the auth server got passes the spec`, async (t) => {
    const records = stack.records.filter((r) => r.mode === mode);
    assert.ok(records.length > 0, 'no Twilio exchange was recorded');
    const groups = new Map();
    for (const rec of records) {
      const key = `${rec.domain} ${label(rec)}`;
      if (!groups.has(key)) groups.set(key, []);
      groups.get(key).push(rec);
    }
    for (const [key, recs] of groups) await t.test(key, () => assertNone(answerProblems(recs), `${mode}: ${key}`));
  });
}

// ---- direct calls, as the auth server makes them (and as Twilio's helpers do) --------------------------------------

const IS = ENV.TWILIO_CONVERSATIONS_SERVICE_SID;
const UNKNOWN = (prefix) => prefix + '0'.repeat(31) + '9';

/** Makes the call; asserts the expected status, then that the answer passes the spec (via `checkAnswer`). */
async function expectAnswer(domain, method, pathAndQuery, form, expected, options) {
  const rec = await twilio(stack, domain, method, pathAndQuery, form, options);
  const problems = checkAnswer(stack.specs[domain], rec);
  if (rec.status !== expected) problems.unshift(`${method} ${pathAndQuery}: HTTP ${rec.status}, expected ${expected}: ${rec.responseText?.slice(0, 300)}`);
  assertNone(problems, `${method} ${pathAndQuery}`);
  return rec.responseBody;
}

describe('direct calls through Prism: the operations the auth server uses', () => {
  const conv = { sid: null, scopedSid: null };

  // twilio_conversations_v1.json
  test('CreateConversation → 201', async () => {
    const b = await expectAnswer('conversations', 'POST', '/v1/Conversations', { FriendlyName: 'contract', Attributes: '{"a":1}' }, 201);
    conv.sid = b?.sid;
  });
  test('CreateServiceConversation → 201', async () => {
    const b = await expectAnswer('conversations', 'POST', `/v1/Services/${IS}/Conversations`, { FriendlyName: 'contract scoped' }, 201);
    conv.scopedSid = b?.sid;
  });
  test('CreateConversationParticipant → 201', async () => {
    await expectAnswer('conversations', 'POST', `/v1/Conversations/${conv.sid}/Participants`, { Identity: 'contract-customer', Attributes: '{}' }, 201);
  });
  test('CreateServiceConversationParticipant → 201', async () => {
    await expectAnswer('conversations', 'POST', `/v1/Services/${IS}/Conversations/${conv.scopedSid}/Participants`, { Identity: 'contract-customer' }, 201);
  });
  test('FetchConversation → 200', async () => {
    await expectAnswer('conversations', 'GET', `/v1/Conversations/${conv.sid}`, null, 200);
  });
  test('FetchServiceConversation → 200', async () => {
    await expectAnswer('conversations', 'GET', `/v1/Services/${IS}/Conversations/${conv.scopedSid}`, null, 200);
  });
  test('UpdateConversation State=closed → 200', async () => {
    const b = await expectAnswer('conversations', 'POST', `/v1/Conversations/${conv.sid}`, { State: 'closed' }, 200);
    assert.equal(b?.state, 'closed');
  });
  test('UpdateServiceConversation State=closed → 200', async () => {
    const b = await expectAnswer('conversations', 'POST', `/v1/Services/${IS}/Conversations/${conv.scopedSid}`, { State: 'closed' }, 200);
    assert.equal(b?.state, 'closed');
  });
  test('FetchConversation of an unknown conversation → 404, Twilio error body', async () => {
    await expectAnswer('conversations', 'GET', `/v1/Conversations/${UNKNOWN('CH')}`, null, 404);
  });
  test('FetchServiceConversation of an unknown conversation → 404, Twilio error body', async () => {
    await expectAnswer('conversations', 'GET', `/v1/Services/${IS}/Conversations/${UNKNOWN('CH')}`, null, 404);
  });
  test('UpdateServiceConversation of an unknown conversation → 404, Twilio error body', async () => {
    await expectAnswer('conversations', 'POST', `/v1/Services/${IS}/Conversations/${UNKNOWN('CH')}`, { State: 'closed' }, 404);
  });
  test('FetchServiceConversation in an unknown service → 404, Twilio error body', async () => {
    await expectAnswer('conversations', 'GET', `/v1/Services/${UNKNOWN('IS')}/Conversations/${conv.scopedSid}`, null, 404);
  });
  test('FetchConversation with a wrong auth token → 401, Twilio error body', async () => {
    await expectAnswer('conversations', 'GET', `/v1/Conversations/${conv.sid}`, null, 401, { authorization: WRONG_BASIC });
  });

  // twilio_flex_v2.json
  test('CreateWebChannel → 201', async () => {
    await expectAnswer(
      'flex',
      'POST',
      '/v2/WebChats',
      { AddressSid: ENV.TWILIO_ADDRESS_SID, ChatFriendlyName: 'Chat with Ada', CustomerFriendlyName: 'Ada', PreEngagementData: '{"topic":"billing"}' },
      201,
    );
  });
  test('CreateWebChannel with a wrong auth token → 401, Twilio error body', async () => {
    await expectAnswer('flex', 'POST', '/v2/WebChats', { AddressSid: ENV.TWILIO_ADDRESS_SID }, 401, { authorization: WRONG_BASIC });
  });

  // twilio_flex_v1.json
  test('CreateChannel (Flex Flow) → 201', async () => {
    await expectAnswer(
      'flex',
      'POST',
      '/v1/Channels',
      { FlexFlowSid: ENV.TWILIO_FLEX_FLOW_SID, Identity: 'contract-flow', ChatUserFriendlyName: 'Ada', ChatFriendlyName: 'Chat with Ada', PreEngagementData: '{}' },
      201,
    );
  });
  const interaction = { sid: null, channel: null };
  test('CreateInteraction → 201', async () => {
    const c = await expectAnswer('conversations', 'POST', `/v1/Services/${IS}/Conversations`, { FriendlyName: 'contract interaction' }, 201);
    const b = await twilio(stack, 'flex', 'POST', '/v1/Interactions', {
      Channel: JSON.stringify({ type: 'chat', initiated_by: 'customer', properties: { media_channel_sid: c?.sid } }),
      Routing: JSON.stringify({
        properties: { workspace_sid: ENV.TWILIO_WORKSPACE_SID, workflow_sid: ENV.TWILIO_WORKFLOW_SID, task_channel_unique_name: 'chat', attributes: { customerName: 'Ada' } },
      }),
    });
    interaction.sid = b.responseBody?.sid;
    interaction.channel = b.responseBody?.channel?.sid;
    const problems = checkAnswer(stack.specs.flex, b);
    if (b.status !== 201) problems.unshift(`HTTP ${b.status}, expected 201: ${b.responseText?.slice(0, 300)}`);
    assertNone(problems, 'POST /v1/Interactions');
  });
  test('UpdateInteractionChannel Status=closed → 200', async () => {
    await expectAnswer('flex', 'POST', `/v1/Interactions/${interaction.sid}/Channels/${interaction.channel}`, { Status: 'closed' }, 200);
  });
  test('UpdateInteractionChannel of an unknown interaction → 404, Twilio error body', async () => {
    await expectAnswer('flex', 'POST', `/v1/Interactions/${UNKNOWN('KD')}/Channels/${UNKNOWN('UO')}`, { Status: 'closed' }, 404);
  });

  // twilio_taskrouter_v1.json
  const rts = `/v1/Workspaces/${ENV.TWILIO_WORKSPACE_SID}/TaskQueues/${ENV.TWILIO_QUEUE_SID}/RealTimeStatistics`;
  test('FetchTaskQueueRealTimeStatistics → 200', async () => {
    await expectAnswer('taskrouter', 'GET', rts, null, 200);
  });
  test('FetchTaskQueueRealTimeStatistics?TaskChannel=chat → 200', async () => {
    await expectAnswer('taskrouter', 'GET', `${rts}?TaskChannel=chat`, null, 200);
  });
  test('FetchTaskQueueRealTimeStatistics of an unknown queue → 404, Twilio error body', async () => {
    await expectAnswer('taskrouter', 'GET', `/v1/Workspaces/${ENV.TWILIO_WORKSPACE_SID}/TaskQueues/${UNKNOWN('WQ')}/RealTimeStatistics`, null, 404);
  });
  test('FetchTaskQueueRealTimeStatistics with a wrong auth token → 401, Twilio error body', async () => {
    await expectAnswer('taskrouter', 'GET', rts, null, 401, { authorization: WRONG_BASIC });
  });
  // Issue 28: a rating's task update, and where TaskRouter's events go.
  test('UpdateTask Attributes → 200 (the interaction\'s task, ended or not)', async () => {
    const list = await twilio(stack, 'taskrouter', 'GET', `/v1/Workspaces/${ENV.TWILIO_WORKSPACE_SID}/Tasks?PageSize=1&Ordering=DateCreated:desc`);
    const sid = list.responseBody?.tasks?.[0]?.sid;
    assert.ok(sid, `a task to update: ${list.responseText?.slice(0, 300)}`);
    await expectAnswer('taskrouter', 'POST', `/v1/Workspaces/${ENV.TWILIO_WORKSPACE_SID}/Tasks/${sid}`, { Attributes: JSON.stringify({ conversations: { conversation_measure_1: 4 } }) }, 200);
  });
  test('UpdateTask of an unknown task → 404, Twilio error body', async () => {
    await expectAnswer('taskrouter', 'POST', `/v1/Workspaces/${ENV.TWILIO_WORKSPACE_SID}/Tasks/${UNKNOWN('WT')}`, { Attributes: '{}' }, 404);
  });
  test('UpdateWorkspace EventCallbackUrl → 200', async () => {
    // (A closed local port with a filter no event passes: nothing is sent anywhere.)
    await expectAnswer('taskrouter', 'POST', `/v1/Workspaces/${ENV.TWILIO_WORKSPACE_SID}`, { EventCallbackUrl: 'http://127.0.0.1:9/events', EventsFilter: 'workspace.deleted' }, 200);
  });
  test('an injected 429 and 503 (emulator fault injection) → Twilio error bodies', async () => {
    for (const status of [429, 503]) {
      const armed = await fetch(`${stack.emulator.url}/admin/faults`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ rest: { status, count: 1 } }),
      });
      assert.equal(armed.status, 200);
      await expectAnswer('taskrouter', 'GET', rts, null, status);
    }
  });
});

test('Prism logged no violation except error statuses the specs do not declare', () => {
  // With --errors, Prism answers 500 VIOLATIONS for an invalid 2xx answer (checked above); for a 4xx/5xx it only
  // logs "Unable to match the returned status code with those defined in the document": the Twilio specs declare
  // no error responses, so that one is expected for every error answer and is checked by twilioErrorProblems.
  const other = stack.prismWarnings().filter((w) => !/Unable to match the returned status code/.test(w));
  assertNone(other, 'Prism violations logged as warnings');
});
