// examples/watsonx-handoff (issue 25, "A watsonx recipe"): the integrator's proxy signs watsonx's connect_to_agent,
// and the real auth server trusts exactly what it signed. watsonx itself cannot be reached here: the stand-in below
// answers in the shapes of the Assistant v2 API reference (https://cloud.ibm.com/apidocs/assistant-v2: create session
// -> { session_id }; message -> { output: { generic: [...] } }, a connect_to_agent item with message_to_human_agent,
// topic and transfer_info), checks the documented Basic `apikey:` auth and `version` query, and nothing more.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { createServer } from '../../examples/watsonx-handoff/server.mjs';
import { signHandoff, signConnectToAgent } from '../../examples/watsonx-handoff/signer.mjs';
import { startStack, routedTask } from '../support/servers.mjs';

const HANDOFF_SECRET = 'fake-handoff-secret-of-the-bot-back-end-0002';
const APIKEY = 'fake-watsonx-apikey';

function watsonxStandIn() {
  const seen = [];
  const server = http.createServer(async (req, res) => {
    let raw = '';
    for await (const c of req) raw += c;
    const url = new URL(req.url, 'http://x');
    seen.push({ path: url.pathname, version: url.searchParams.get('version'), auth: req.headers.authorization });
    const reply = (body) => { res.writeHead(200, { 'content-type': 'application/json' }); res.end(JSON.stringify(body)); };
    if (url.pathname === '/v2/assistants/env-1/sessions') return reply({ session_id: 'session-1' });
    const text = JSON.parse(raw).input?.text ?? '';
    if (!/agent/.test(text)) return reply({ output: { generic: [{ response_type: 'text', text: 'Hello! How can I help?' }] } });
    reply({ output: { generic: [
      { response_type: 'text', text: 'I will connect you with an agent.' },
      { response_type: 'connect_to_agent', message_to_human_agent: 'Customer disputes a refund', topic: 'Billing',
        transfer_info: { target: { flexdesk: { skill: 'refunds' } } },
        agent_available: { message: 'An agent will be with you shortly.' }, agent_unavailable: { message: 'No agent is online.' } },
    ] } });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, seen, url: `http://127.0.0.1:${server.address().port}` })));
}

const listen = (server) => new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${server.address().port}`)));
const post = async (url, body) => {
  const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', origin: 'https://shop.example.com' }, body: JSON.stringify(body) });
  return { status: r.status, json: await r.json(), cors: r.headers.get('access-control-allow-origin') };
};

test('the proxy signs what watsonx routed and what it saw, and the auth server puts exactly that on the task', async (t) => {
  const watsonx = await watsonxStandIn();
  t.after(() => watsonx.server.close());
  const proxy = createServer({ watsonxUrl: watsonx.url, apikey: APIKEY, environmentId: 'env-1', handoffSecret: HANDOFF_SECRET, allowedOrigin: 'https://shop.example.com' });
  const proxyUrl = await listen(proxy);
  t.after(() => proxy.close());
  const stack = await startStack({ FLEX_START_MODE: 'interactions', HANDOFF_SECRET, ALLOWED_ORIGINS: 'http://127.0.0.1:3000' });
  t.after(() => stack.stop());

  // The page's customSendMessage, twice: a greeting, then the ask for an agent.
  const hello = await post(`${proxyUrl}/message`, { input: { text: 'hi' } });
  assert.equal(hello.status, 200);
  assert.equal(hello.cors, 'https://shop.example.com');
  const ask = await post(`${proxyUrl}/message`, { sessionId: hello.json.sessionId, input: { text: 'I want an agent' } });
  assert.equal(ask.json.sessionId, 'session-1', 'the same watsonx session');
  assert.deepEqual(watsonx.seen.map((s) => s.path), ['/v2/assistants/env-1/sessions', '/v2/assistants/env-1/sessions/session-1/message', '/v2/assistants/env-1/sessions/session-1/message']);
  for (const s of watsonx.seen) {
    assert.equal(s.version, '2021-11-27');
    assert.equal(s.auth, 'Basic ' + Buffer.from(`apikey:${APIKEY}`).toString('base64'));
  }
  const item = ask.json.answer.output.generic.find((i) => i.response_type === 'connect_to_agent');
  const token = item.transfer_info.additional_data.handoff_token;
  assert.match(token, /^[\w-]+\.[\w-]+\.[\w-]+$/);

  // What the desk sends at startChat (crates/flexdesk-core/src/handoff.rs reads these fields of the item).
  const start = await fetch(`${stack.auth.url}/v1/sessions`, { method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ customerName: 'Ada', handoff: { message_to_human_agent: item.message_to_human_agent, handoff_token: token,
      topic: 'fraud-desk', transcript: [{ from: 'bot', text: 'page-written line' }] } }) });
  assert.equal(start.status, 201, await start.clone().text());
  const { conversationSid } = await start.json();
  const task = await routedTask(stack.emulator.url, conversationSid);
  const attrs = typeof task.attributes === 'string' ? JSON.parse(task.attributes) : task.attributes;
  assert.deepEqual([attrs.topic, attrs.skill], ['Billing', 'refunds'], 'signed routing reaches the task; the page\'s topic does not');
  assert.equal(attrs.pre_engagement_data.transcript_source, 'bot-signed');
  assert.deepEqual(attrs.pre_engagement_data.transcript.map((l) => `${l.from}: ${l.text}`), [
    'user: hi', 'bot: Hello! How can I help?', 'user: I want an agent', 'bot: I will connect you with an agent.',
  ], 'the transcript the proxy saw, not the page\'s');
});

test('the signer refuses weak settings, and a token signed with another secret routes nothing', async (t) => {
  assert.throws(() => signHandoff({}, 'short'), /at least 32/);
  assert.throws(() => signHandoff({}, HANDOFF_SECRET, { ttlSeconds: 7200 }), /ttlSeconds/);
  const answer = { output: { generic: [{ response_type: 'connect_to_agent', topic: 'Billing' }, { response_type: 'text', text: 'x' }] } };
  const signed = signConnectToAgent(answer, { secret: 'another-secret-that-is-long-enough-000000' });
  assert.equal(answer.output.generic[0].transfer_info, undefined, 'the input is not changed');
  assert.equal(signed.output.generic[1].transfer_info, undefined, 'only connect_to_agent items are signed');
  const stack = await startStack({ FLEX_START_MODE: 'interactions', HANDOFF_SECRET, ALLOWED_ORIGINS: 'http://127.0.0.1:3000' });
  t.after(() => stack.stop());
  const start = await fetch(`${stack.auth.url}/v1/sessions`, { method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ customerName: 'Eve', handoff: { handoff_token: signed.output.generic[0].transfer_info.additional_data.handoff_token } }) });
  assert.equal(start.status, 201);
  const task = await routedTask(stack.emulator.url, (await start.json()).conversationSid);
  const attrs = typeof task.attributes === 'string' ? JSON.parse(task.attributes) : task.attributes;
  assert.equal(attrs.topic, undefined);
});
