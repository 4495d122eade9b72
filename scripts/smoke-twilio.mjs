#!/usr/bin/env node
// `npm run smoke:twilio`: a live-account smoke test for Flex administrators (docs/auth-server.md, "Smoke test on a
// real account"). It drives one chat end to end with the account's own credentials, the way a customer and an agent
// would, and says which step failed:
//   1. start a chat through a running flexdesk-auth server (POST /v1/sessions);
//   2. wait for its task in TaskRouter (twilio-oai ListTask, EvaluateTaskAttributes=conversationSid=="CH…");
//   3. wait for TaskRouter to offer it to a worker (ListTaskReservation, ReservationStatus=pending) and accept the
//      offer (UpdateTaskReservation, ReservationStatus=accepted);
//   4. answer as that worker: its identity is its `contact_uri` without `client:` (FetchWorker); it is added to the
//      conversation if Flex has not added it (ListServiceConversationParticipant, CreateServiceConversationParticipant)
//      and posts a reply (CreateServiceConversationMessage, Author = the worker's identity);
//   5. see that the customer gets it: the reply is in the conversation (ListServiceConversationMessage), the
//      customer is a participant of it, and their access token's chat grant names that service and identity, so
//      their SDK receives it;
//   6. end as the customer (DELETE /v1/sessions/{id}) and wait for the task to reach `wrapping` or `completed`
//      (FetchTask); a task left in `wrapping` is completed through its reservation (UpdateTaskReservation,
//      ReservationStatus=completed), as an agent finishing wrap-up.
// Without the variables it needs it prints them and exits 0 without calling anything. Any failed step: exit 1.
// In `npm test` the same script runs against the emulator (tests/auth/smoke-twilio.test.mjs), with the Twilio base
// URLs pointed at it.
import { randomUUID } from 'node:crypto';

const env = process.env;

const NEEDS = [
  ['TWILIO_ACCOUNT_SID', 'the account SID (AC…): REST calls use Basic auth with it and the auth token'],
  ['TWILIO_AUTH_TOKEN', "the account's auth token"],
  ['TWILIO_WORKSPACE_SID', 'the Flex TaskRouter workspace (WS…), "Flex Task Assignment"'],
  ['TWILIO_CONVERSATIONS_SERVICE_SID', "Flex's Conversations service (IS…), the one the auth server creates chats in"],
  ['SMOKE_AUTH_URL', 'the URL of a running flexdesk-auth server configured for this account, e.g. https://chat-auth.example.com'],
];
const OPTIONAL = [
  ['SMOKE_WORKER_SID', 'accept only a reservation offered to this worker (WK…): use a test worker, so no real agent is given the test chat'],
  ['SMOKE_ORIGIN', 'sent as Origin to the auth server (must be in its ALLOWED_ORIGINS); unset: no Origin, as curl'],
  ['SMOKE_TIMEOUT_SECONDS', 'how long to wait for each asynchronous step (default 120)'],
  ['SMOKE_CUSTOMER_NAME', 'the test customer\'s name, shown to the agent (default "flexdesk smoke test")'],
  ['SMOKE_TWILIO_API_BASE', 'one base URL for every Twilio API (the emulator); else SMOKE_TASKROUTER_URL (default https://taskrouter.twilio.com) and SMOKE_CONVERSATIONS_URL (default https://conversations.twilio.com)'],
];

const missing = NEEDS.filter(([key]) => !env[key]);
if (missing.length) {
  console.log('smoke:twilio drives one test chat through a real Twilio Flex account and a running flexdesk-auth server.');
  console.log(`It needs these environment variables (missing: ${missing.map(([k]) => k).join(', ')}):`);
  for (const [key, what] of NEEDS) console.log(`  ${key.padEnd(34)} ${what}`);
  console.log('Optional:');
  for (const [key, what] of OPTIONAL) console.log(`  ${key.padEnd(34)} ${what}`);
  console.log('It also needs a Flex worker that is Available and that the workflow routes web chats to.');
  console.log('Nothing was called. See docs/auth-server.md, "Smoke test on a real account".');
  process.exit(0);
}

const trim = (u) => u.replace(/\/+$/, '');
const AUTH = trim(env.SMOKE_AUTH_URL);
const TASKROUTER = trim(env.SMOKE_TWILIO_API_BASE || env.SMOKE_TASKROUTER_URL || 'https://taskrouter.twilio.com');
const CONVERSATIONS = trim(env.SMOKE_TWILIO_API_BASE || env.SMOKE_CONVERSATIONS_URL || 'https://conversations.twilio.com');
const WS = env.TWILIO_WORKSPACE_SID;
const IS = env.TWILIO_CONVERSATIONS_SERVICE_SID;
const TIMEOUT_MS = Number(env.SMOKE_TIMEOUT_SECONDS || 120) * 1000;
const BASIC = 'Basic ' + Buffer.from(`${env.TWILIO_ACCOUNT_SID}:${env.TWILIO_AUTH_TOKEN}`).toString('base64');
const started = Date.now();
let calls = 0;

class StepError extends Error {}

function ok(step, detail) {
  console.log(`ok   ${step}${detail ? `: ${detail}` : ''}  (${((Date.now() - started) / 1000).toFixed(1)} s)`);
}

/** A Twilio REST call: Basic auth, form-encoded body; Twilio's error JSON becomes the thrown message. */
async function twilio(method, url, params) {
  calls++;
  const res = await fetch(url, {
    method,
    headers: { Authorization: BASIC, ...(params ? { 'Content-Type': 'application/x-www-form-urlencoded' } : {}) },
    body: params ? new URLSearchParams(params) : undefined,
  });
  const text = await res.text();
  let body = {};
  try {
    body = text ? JSON.parse(text) : {};
  } catch {
    if (res.ok) throw new StepError(`${method} ${url} answered ${res.status} with no JSON: ${text.slice(0, 200)}`);
  }
  if (!res.ok) {
    throw new StepError(`${method} ${url} answered ${res.status}${body.code ? ` (Twilio error ${body.code}: ${body.message})` : `: ${text.slice(0, 200)}`}`);
  }
  return body;
}

async function authServer(method, path, { body, credential } = {}) {
  const headers = {};
  if (body) headers['Content-Type'] = 'application/json';
  if (credential) headers.Authorization = `Bearer ${credential}`;
  if (env.SMOKE_ORIGIN) headers.Origin = env.SMOKE_ORIGIN;
  const res = await fetch(`${AUTH}${path}`, { method, headers, body: body ? JSON.stringify(body) : undefined });
  const text = await res.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    // Not JSON (a proxy's error page): the status and text say what happened.
  }
  return { status: res.status, body: json, text };
}

/** Calls `check` until it returns a value, every `every` ms, for at most the step timeout. */
async function poll(what, check, { every = 1000, timeout = TIMEOUT_MS, hint = '' } = {}) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new StepError(`timed out after ${timeout / 1000} s waiting for ${what}${hint ? `. ${hint}` : ''}`);
    await new Promise((r) => setTimeout(r, every));
  }
}

const taskUrl = (wt) => `${TASKROUTER}/v1/Workspaces/${WS}/Tasks/${wt}`;
const conversationUrl = (ch) => `${CONVERSATIONS}/v1/Services/${IS}/Conversations/${ch}`;

let session = null;
let step = 'start a chat through the auth server';
try {
  // 1. The customer starts a chat.
  const name = env.SMOKE_CUSTOMER_NAME || 'flexdesk smoke test';
  const start = await authServer('POST', '/v1/sessions', {
    body: { customerName: name, handoff: { message_to_human_agent: 'flexdesk smoke test: an automated check, no reply needed' } },
  });
  if (start.status !== 201) throw new StepError(`POST ${AUTH}/v1/sessions answered ${start.status}: ${start.text.slice(0, 300)}`);
  session = start.body;
  ok(step, `session ${session.sessionId}, conversation ${session.conversationSid}, customer ${session.identity}`);

  // 2. Its task appears in TaskRouter (routing may take a moment: Studio, or the Interactions API, creates it).
  step = 'the task appears in TaskRouter';
  const expression = `conversationSid=="${session.conversationSid}"`;
  const task = await poll(
    `a task with ${expression}`,
    async () => (await twilio('GET', `${TASKROUTER}/v1/Workspaces/${WS}/Tasks?${new URLSearchParams({ EvaluateTaskAttributes: expression })}`)).tasks[0],
    { hint: "Check the address's Studio flow (Send to Flex) or the workflow; `flexdesk-auth doctor` checks the configuration." },
  );
  ok(step, `${task.sid} (${task.assignment_status}, queue ${task.task_queue_friendly_name ?? task.task_queue_sid})`);

  // 3. TaskRouter offers it to a worker; accept the offer.
  step = 'a worker is offered the task and accepts it';
  const filter = { ReservationStatus: 'pending', ...(env.SMOKE_WORKER_SID ? { WorkerSid: env.SMOKE_WORKER_SID } : {}) };
  const offered = await poll(
    `a pending reservation${env.SMOKE_WORKER_SID ? ` for ${env.SMOKE_WORKER_SID}` : ''}`,
    async () => (await twilio('GET', `${taskUrl(task.sid)}/Reservations?${new URLSearchParams(filter)}`)).reservations[0],
    { hint: 'Make a worker Available in Flex (the one in SMOKE_WORKER_SID, if set) that the workflow routes chats to.' },
  );
  if (!env.SMOKE_WORKER_SID) console.log(`     note: no SMOKE_WORKER_SID: accepting the offer made to ${offered.worker_name} (${offered.worker_sid})`);
  const accepted = await twilio('POST', `${taskUrl(task.sid)}/Reservations/${offered.sid}`, { ReservationStatus: 'accepted' });
  if (accepted.reservation_status !== 'accepted') throw new StepError(`the reservation is ${accepted.reservation_status}, not accepted`);
  const assigned = await twilio('GET', taskUrl(task.sid));
  ok(step, `${offered.worker_name} accepted ${offered.sid}; the task is ${assigned.assignment_status}`);

  // 4. Answer as that worker, with the identity Flex gives it in conversations.
  step = 'the agent answers in the conversation';
  const worker = await twilio('GET', `${TASKROUTER}/v1/Workspaces/${WS}/Workers/${offered.worker_sid}`);
  const contactUri = JSON.parse(worker.attributes || '{}').contact_uri;
  if (typeof contactUri !== 'string' || !contactUri.startsWith('client:')) {
    throw new StepError(`worker ${worker.sid} has no contact_uri "client:…" in its attributes (Flex sets it when the user first logs in to Flex)`);
  }
  const agentIdentity = contactUri.slice('client:'.length);
  const participants = async () => (await twilio('GET', `${conversationUrl(session.conversationSid)}/Participants?PageSize=100`)).participants;
  // Flex UI joins the agent when it accepts; whether an accept through REST does is not documented: wait a little,
  // then add the worker ourselves.
  const joined = await poll('the agent in the conversation', async () => (await participants()).some((p) => p.identity === agentIdentity), {
    timeout: Math.min(10_000, TIMEOUT_MS),
  }).catch(() => false);
  if (!joined) {
    await twilio('POST', `${conversationUrl(session.conversationSid)}/Participants`, { Identity: agentIdentity });
    console.log(`     note: the accept did not add ${agentIdentity} to the conversation; added it as a participant`);
  }
  const reply = `flexdesk smoke test: agent reply ${randomUUID().slice(0, 8)}`;
  const sent = await twilio('POST', `${conversationUrl(session.conversationSid)}/Messages`, { Author: agentIdentity, Body: reply });
  ok(step, `${agentIdentity} posted message ${sent.index} (${sent.sid})`);

  // 5. The customer gets it: the reply is in their conversation, and they are a participant of it.
  step = 'the customer gets the reply';
  const got = await poll('the reply among the conversation\'s messages', async () =>
    (await twilio('GET', `${conversationUrl(session.conversationSid)}/Messages?Order=desc&PageSize=50`)).messages.find((m) => m.body === reply && m.author === agentIdentity),
  );
  if (!(await participants()).some((p) => p.identity === session.identity)) {
    throw new StepError(`the customer ${session.identity} is not a participant of ${session.conversationSid}: their SDK would not receive the reply`);
  }
  // The customer's access token (read, not verified: the API key secret is the auth server's) must let their SDK into
  // that service as that identity (chat grant, https://www.twilio.com/docs/iam/access-tokens).
  const grants = JSON.parse(Buffer.from(String(session.token).split('.')[1] ?? '', 'base64url').toString('utf8') || '{}').grants ?? {};
  if (grants.identity !== session.identity || grants.chat?.service_sid !== IS) {
    throw new StepError(`the customer's token is for ${grants.identity} in ${grants.chat?.service_sid}, not ${session.identity} in ${IS}: their SDK could not read the conversation`);
  }
  ok(step, `message ${got.index} by ${got.author} in ${session.conversationSid}; ${session.identity} is a participant, and their token's chat grant names ${IS}`);

  // 6. The customer ends; the task goes to wrap-up (or is completed).
  step = 'the customer ends the chat and the task leaves the agent';
  const end = await authServer('DELETE', `/v1/sessions/${session.sessionId}`, { credential: session.sessionCredential });
  if (end.status !== 204) throw new StepError(`DELETE ${AUTH}/v1/sessions/${session.sessionId} answered ${end.status}: ${end.text.slice(0, 300)}`);
  const ended = session;
  session = null;
  const finished = await poll(
    'the task in wrapping or completed',
    async () => {
      const t = await twilio('GET', taskUrl(task.sid));
      return ['wrapping', 'completed'].includes(t.assignment_status) && t;
    },
    { hint: 'The chat was closed but Flex did not end its task: see docs/auth-server.md, "DELETE /v1/sessions/{id}".' },
  );
  ok(step, `session ${ended.sessionId} ended; the task is ${finished.assignment_status}`);

  if (finished.assignment_status === 'wrapping') {
    step = 'clean up: the agent completes wrap-up';
    const done = await twilio('POST', `${taskUrl(task.sid)}/Reservations/${offered.sid}`, { ReservationStatus: 'completed' });
    const after = await twilio('GET', taskUrl(task.sid));
    ok(step, `reservation ${done.reservation_status}; the task is ${after.assignment_status}`);
  }
  console.log(`smoke:twilio passed: ${calls} Twilio REST calls, ${((Date.now() - started) / 1000).toFixed(1)} s.`);
} catch (e) {
  console.log(`FAIL ${step}: ${e instanceof StepError ? e.message : e.stack}`);
  if (session) {
    // Leave nothing open: end the test chat (the auth server closes it in Twilio).
    const end = await authServer('DELETE', `/v1/sessions/${session.sessionId}`, { credential: session.sessionCredential }).catch((err) => ({ status: err.message }));
    console.log(`     cleanup: DELETE /v1/sessions/${session.sessionId} answered ${end.status}`);
  }
  process.exit(1);
}
