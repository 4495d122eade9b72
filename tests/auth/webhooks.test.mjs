// Twilio's Conversations webhooks (issue 15 item 2). The emulator sends them, signed as Twilio signs them, to the
// auth server's POST /v1/twilio/webhooks; while they are healthy, refresh trusts them instead of asking Twilio.
// 1. Our signature check accepts exactly what the official helper (`twilio` npm, validateRequest) accepts.
// 2. A refresh after the agent closes is refused within 1 s of the webhook, without asking Twilio.
// 3. A forged webhook is refused (403) and the chat stays open; a replayed one changes nothing.
// Needs `cargo build --workspace --bins`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import twilio from 'twilio';
import { startBinary, startStack, routedTask } from '../support/servers.mjs';
import { FAKE_TWILIO_ENV } from '../support/fake-env.mjs';

const TOKEN = FAKE_TWILIO_ENV.TWILIO_AUTH_TOKEN;
const SERVICE = FAKE_TWILIO_ENV.TWILIO_CONVERSATIONS_SERVICE_SID;

const json = (url, method = 'GET', body) =>
  fetch(url, { method, headers: body ? { 'content-type': 'application/json' } : {}, body: body ? JSON.stringify(body) : undefined });

/** Posts form `params` (values may be arrays: repeated keys) to `url` with `signature`; resolves to the status. */
async function postWebhook(url, params, signature) {
  const form = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) for (const x of [].concat(v)) form.append(k, x);
  const headers = { 'content-type': 'application/x-www-form-urlencoded' };
  if (signature !== undefined) headers['x-twilio-signature'] = signature;
  return (await fetch(url, { method: 'POST', headers, body: form })).status;
}

test('our X-Twilio-Signature check accepts exactly what twilio.validateRequest accepts', async () => {
  const auth = await startBinary('flexdesk-auth', {
    PORT: '0',
    TWILIO_WEBHOOKS: 'on',
    TWILIO_FLEX_API_URL: 'http://127.0.0.1:9',
    TWILIO_CONVERSATIONS_API_URL: 'http://127.0.0.1:9',
    TWILIO_TASKROUTER_API_URL: 'http://127.0.0.1:9',
  });
  try {
    const { port } = new URL(auth.url);
    const base = `${auth.url}/v1/twilio/webhooks`;
    const requestUrls = [base, `${base}?tenant=a&x=%2F1`];
    const paramSets = [
      { EventType: 'onConversationStateUpdated', ConversationSid: 'CH' + 'a'.repeat(32), StateFrom: 'active', StateTo: 'closed', Reason: 'API' },
      { EventType: 'onConversationRemoved', ConversationSid: 'CH' + 'b'.repeat(32), Attributes: '{"a":"é ü 漢 +&="}', FriendlyName: '' },
      { Zeta: '1', alpha: '2', Alpha: '3', 'key with space': 'v+w', Filters: ['onMessageAdded', 'onConversationRemoved', 'onMessageAdded'] },
      {},
    ];
    const cases = [];
    for (const url of requestUrls) {
      const noPort = url.replace(`:${port}`, '');
      for (const params of paramSets) {
        const alteredParams = { ...params, Injected: 'x' };
        const sign = (u, p, token = TOKEN) => twilio.getExpectedTwilioSignature(token, u, p);
        const signatures = {
          exact: sign(url, params),
          withoutPort: sign(noPort, params),
          otherToken: sign(url, params, 'ffffffffffffffffffffffffffffffff'),
          otherUrl: sign(url.replace('/v1/', '/v2/'), params),
          otherParams: sign(url, alteredParams),
          httpsScheme: sign(url.replace('http://', 'https://'), params),
          truncated: sign(url, params).slice(0, 20),
          empty: '',
        };
        for (const [name, signature] of Object.entries(signatures)) cases.push({ name, url, params, signature });
        // The receiver sees other parameters than were signed.
        cases.push({ name: 'bodyAltered', url, params: alteredParams, signature: sign(url, params) });
      }
    }
    let accepted = 0;
    for (const c of cases) {
      const theirs = twilio.validateRequest(TOKEN, c.signature, c.url, c.params);
      const status = await postWebhook(c.url, c.params, c.signature);
      assert.ok(status === 204 || status === 403, `${c.name}: unexpected ${status}`);
      assert.equal(status === 204, theirs, `${c.name} ${c.url} ${JSON.stringify(c.params)}: twilio says ${theirs}, we answered ${status}`);
      accepted += theirs ? 1 : 0;
    }
    assert.ok(accepted >= requestUrls.length * paramSets.length * 2, `both the exact and the port-less URL verify (${accepted} accepted of ${cases.length})`);
    assert.equal(await postWebhook(base, paramSets[0], undefined), 403, 'no signature header');
  } finally {
    await auth.stop();
  }
});

test('emulator webhooks: refresh refused within 1 s of the close webhook, no Twilio call; forged and replayed webhooks change nothing', async () => {
  // Whether Flex's own end fires the webhook is not documented (docs/emulator.md, "Flex's pipeline"): here it does;
  // tests/auth/flex-pipeline.test.mjs covers the other answer.
  const stack = await startStack({ TWILIO_WEBHOOKS: 'on' }, { EMULATOR_FLEX_CLOSE_WEBHOOK: 'on' });
  try {
    const { auth, emulator } = stack;
    // Configure the Flex service's post-event webhook as on Twilio (UpdateServiceWebhookConfiguration).
    const basic = 'Basic ' + Buffer.from(`${FAKE_TWILIO_ENV.TWILIO_ACCOUNT_SID}:${TOKEN}`).toString('base64');
    const form = new URLSearchParams([
      ['PostWebhookUrl', `${auth.url}/v1/twilio/webhooks`],
      ['Filters', 'onConversationStateUpdated'],
      ['Filters', 'onConversationRemoved'],
      ['Method', 'POST'],
    ]);
    const conf = await fetch(`${emulator.url}/v1/Services/${SERVICE}/Configuration/Webhooks`, { method: 'POST', headers: { authorization: basic }, body: form });
    assert.equal(conf.status, 200, await conf.clone().text());
    assert.equal((await conf.json()).post_webhook_url, `${auth.url}/v1/twilio/webhooks`);

    const start = async () => {
      const r = await json(`${auth.url}/v1/sessions`, 'POST', { customerName: 'Ada' });
      assert.equal(r.status, 201, await r.clone().text());
      const s = await r.json();
      await routedTask(emulator.url, s.conversationSid);
      return s;
    };
    const refresh = (s) => json(`${auth.url}/v1/sessions/${s.sessionId}/token`, 'POST', { sessionCredential: s.sessionCredential });
    const taskOf = async (s) => (await (await json(`${emulator.url}/agent/api/state`)).json()).tasks.find((t) => t.conversationSid === s.conversationSid);
    const deliveries = async () => (await (await fetch(`${emulator.url}/admin/webhooks`)).json()).deliveries;
    const agentEnds = async (s) => {
      const r = await json(`${emulator.url}/agent/api/tasks/${(await taskOf(s)).sid}/end`, 'POST', {});
      assert.equal(r.status, 200, await r.clone().text());
    };
    const deliveryFor = async (s) => {
      for (let i = 0; i < 200; i++) {
        const d = (await deliveries()).find((x) => x.conversationSid === s.conversationSid && x.eventType === 'onConversationStateUpdated');
        if (d) return d;
        await new Promise((r) => setTimeout(r, 10));
      }
      assert.fail(`no webhook for ${s.conversationSid}`);
    };

    // A first chat closed by the agent: its webhook makes the webhooks healthy.
    const first = await start();
    await agentEnds(first);
    const d1 = await deliveryFor(first);
    assert.equal(d1.status, 204, JSON.stringify(d1));
    const p = Object.fromEntries(d1.params);
    assert.deepEqual([p.EventType, p.StateFrom, p.StateTo, p.Reason, p.ChatServiceSid], ['onConversationStateUpdated', 'active', 'closed', 'API', SERVICE]);
    assert.equal(twilio.validateRequest(TOKEN, d1.signature, d1.url, p), true, 'the emulator signs as Twilio does');
    assert.equal((await refresh(first)).status, 404);

    // From here every Twilio REST call takes 1.5 s: a refresh that asked Twilio would be slow.
    await json(`${emulator.url}/admin/faults`, 'POST', { delayMs: 1500 });
    const s = await start();
    const other = await start();
    let t0 = Date.now();
    assert.equal((await refresh(s)).status, 200);
    assert.ok(Date.now() - t0 < 1000, `healthy webhooks: refresh answered from the record (${Date.now() - t0} ms)`);

    // The agent closes: the refresh after the webhook is refused within 1 s of it.
    await agentEnds(s);
    const d = await deliveryFor(s);
    const after = await refresh(s);
    const refusedAt = Date.now();
    assert.equal(after.status, 404);
    assert.equal((await after.json()).error.code, 'session_ended');
    assert.ok(refusedAt - d.answeredAtMs < 1000, `refused ${refusedAt - d.answeredAtMs} ms after the webhook`);

    // A forged webhook (signed with another key) for the open chat: 403, and it stays open.
    const forged = { ...Object.fromEntries(d.params), ConversationSid: other.conversationSid };
    const forgedSig = twilio.getExpectedTwilioSignature('00000000000000000000000000000000', d.url, forged);
    assert.equal(await postWebhook(d.url, forged, forgedSig), 403);
    // The genuine signature of the close, moved onto the other conversation: 403 too.
    assert.equal(await postWebhook(d.url, forged, d.signature), 403);
    t0 = Date.now();
    assert.equal((await refresh(other)).status, 200, 'the chat stays open');

    // The close webhook replayed, byte for byte: accepted, still ended, nothing else changed.
    assert.equal(await postWebhook(d.url, Object.fromEntries(d.params), d.signature), 204);
    assert.equal((await refresh(s)).status, 404);
    assert.equal((await refresh(other)).status, 200);
    const state = await (await fetch(`${emulator.url}/agent/api/state`)).json();
    assert.equal(state.conversations[other.conversationSid].state, 'active');
    await json(`${emulator.url}/admin/faults`, 'DELETE');
  } finally {
    await stack.stop();
  }
});
