// Security, over real HTTP against the built auth server + emulator: credentials that must be refused,
// CORS, oversized and malformed bodies, hostile ids, the rate limit, and no secret in any answer or log line.
// Issue 14 (hardening): clients behind a proxy, bounded /metrics on the admin listener, hand-off trust, task floods.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { stack, SECRETS } from './support.mjs';
import { routedTask } from '../support/servers.mjs';

/** One raw HTTP/1.1 exchange (any method, repeated header lines); resolves to { status, body }. */
function raw(url, method, path, headerLines = [], body = '') {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const sock = net.connect(Number(u.port), u.hostname);
    let got = '';
    sock.on('data', (d) => { got += d; });
    sock.on('error', reject);
    sock.on('close', () => resolve({ status: Number(got.match(/^HTTP\/1\.1 (\d+)/)?.[1]), headers: got.split('\r\n\r\n')[0], body: got.slice(got.indexOf('\r\n\r\n') + 4) }));
    const lines = [`${method} ${path} HTTP/1.1`, `host: ${u.host}`, 'connection: close', ...headerLines];
    if (body) lines.push('content-type: application/json', `content-length: ${Buffer.byteLength(body)}`);
    // No half-close: hyper drops a connection whose client stopped sending; `connection: close` ends it.
    sock.write(`${lines.join('\r\n')}\r\n\r\n${body}`);
  });
}

const rssKb = (pid) => Number(readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/)[1]);

/** A hand-off signed by the bot's back end: JWT HS256 with HANDOFF_SECRET. */
function signHandoff(claims, secret) {
  const b64 = (v) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const body = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ aud: 'flexdesk-handoff', exp: Math.floor(Date.now() / 1000) + 300, jti: crypto.randomUUID(), ...claims })}`;
  return `${body}.${crypto.createHmac('sha256', secret).update(body).digest('base64url')}`;
}

const HANDOFF_SECRET = 'fake-handoff-secret-of-the-bot-back-end-0001';

const cred = (c) => ({ body: { sessionCredential: c } });

test('credentials: replay after end, forged, for another session, and an access token alone are refused', async (t) => {
  const s = await stack(t);
  const a = await s.start();
  const b = await s.start();
  assert.equal((await s.call('POST', `/v1/sessions/${a.sessionId}/token`, cred(a.sessionCredential))).status, 200);

  // Forged: another MAC, a longer expiry, another session's id, a truncated one.
  const [id, exp, ctx, mac] = a.sessionCredential.split('.');
  const flipped = mac.slice(0, -2) + (mac.at(-2) === 'A' ? 'B' : 'A') + mac.at(-1);
  // Someone else's conversation in the signed context.
  const otherCtx = Buffer.from(JSON.stringify({ i: b.identity, c: b.conversationSid })).toString('base64url');
  for (const forged of [`${id}.${exp}.${ctx}.${flipped}`, `${id}.${Number(exp) + 3600}.${ctx}.${mac}`, `${b.sessionId}.${exp}.${ctx}.${mac}`,
    `${id}.${exp}.${otherCtx}.${mac}`, `${id}.${exp}.${ctx}`, `${id}.0${exp}.${ctx}.${mac}`]) {
    const r = await s.call('POST', `/v1/sessions/${a.sessionId}/token`, cred(forged));
    assert.equal(r.status, 401, forged);
    assert.equal(r.json.error.code, 'invalid_credential');
  }
  // B's genuine credential on A's session, both for refresh and end.
  assert.equal((await s.call('POST', `/v1/sessions/${a.sessionId}/token`, cred(b.sessionCredential))).status, 401);
  assert.equal((await s.call('DELETE', `/v1/sessions/${a.sessionId}`, { headers: { authorization: `Bearer ${b.sessionCredential}` } })).status, 401);
  // The access token is not a credential, in the body or as a bearer.
  assert.equal((await s.call('POST', `/v1/sessions/${a.sessionId}/token`, cred(a.token))).status, 401);
  assert.equal((await s.call('DELETE', `/v1/sessions/${a.sessionId}`, { headers: { authorization: `Bearer ${a.token}` } })).status, 401);
  assert.equal((await s.call('POST', `/v1/sessions/${a.sessionId}/token`, { body: {}, headers: { authorization: `Bearer ${a.token}` } })).status, 422);

  // Replay after end: the chat is closed for everyone and no new token is minted.
  assert.equal((await s.call('DELETE', `/v1/sessions/${a.sessionId}`, cred(a.sessionCredential))).status, 204);
  const replay = await s.call('POST', `/v1/sessions/${a.sessionId}/token`, cred(a.sessionCredential));
  assert.deepEqual([replay.status, replay.json.error.code], [404, 'session_ended']);
  const conv = (await s.emu('GET', '/admin/state')).conversations.find((c) => c.sid === a.conversationSid);
  assert.equal(conv.state, 'closed');
  // B is untouched by all of this.
  assert.equal((await s.call('POST', `/v1/sessions/${b.sessionId}/token`, cred(b.sessionCredential))).status, 200);
});

test('CORS: a preflight from an unlisted origin is refused; the listed origin is allowed', async (t) => {
  const s = await stack(t);
  const preflight = (origin) => s.call('OPTIONS', '/v1/sessions', {
    headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
  });
  const evil = await preflight('https://evil.example');
  assert.equal(evil.status, 403);
  assert.equal(evil.headers.get('access-control-allow-origin'), null);
  assert.equal(evil.json.error.code, 'origin_not_allowed');
  const ok = await preflight('http://127.0.0.1:3000');
  assert.ok(ok.status < 300, String(ok.status));
  assert.equal(ok.headers.get('access-control-allow-origin'), 'http://127.0.0.1:3000');
  // A simple (non-preflighted) request from the unlisted origin is refused too, before any work is done.
  const simple = await s.call('POST', '/v1/sessions', { body: { customerName: 'Eve' }, headers: { origin: 'https://evil.example' } });
  assert.equal(simple.status, 403);
  assert.equal((await s.emu('GET', '/admin/state')).conversations.length, 0, 'no chat was started');
});

test('a 3 MB body gets 413 JSON, declared or streamed', async (t) => {
  const s = await stack(t);
  const big = JSON.stringify({ customerName: 'Ada', preEngagement: { blob: 'x'.repeat(3 * 1024 * 1024) } });
  const r = await s.call('POST', '/v1/sessions', { raw: big, headers: { 'content-type': 'application/json' } });
  assert.deepEqual([r.status, r.json.error.code], [413, 'payload_too_large']);
  // Chunked (no Content-Length): answered 413 once it has read past the limit.
  const url = new URL(s.auth.url);
  // A raw socket: node's HTTP client drops the answer once its own write fails.
  const streamed = await new Promise((resolve) => {
    const sock = net.connect(Number(url.port), url.hostname);
    let got = '';
    sock.on('data', (d) => { got += d; });
    sock.on('error', () => {});
    sock.on('close', () => resolve({ status: Number(got.match(/^HTTP\/1\.1 (\d+)/)?.[1]), body: got.slice(got.indexOf('{')) }));
    sock.write(`POST /v1/sessions/abc/token HTTP/1.1\r\nhost: ${url.host}\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n`);
    // 80 KB in 16 KB chunks, then wait: the server answers once past 64 KB. (Streaming the whole 3 MB races
    // the server's close: unread bytes make the kernel reset the connection, which can discard the answer.)
    for (let i = 0; i < 5; i++) sock.write(`4000\r\n${'x'.repeat(16384)}\r\n`);
  });
  assert.equal(streamed.status, 413);
  assert.equal(JSON.parse(streamed.body).error.code, 'payload_too_large');
});

test('broken JSON, wrong types, arrays and hostile ids get 4xx JSON errors', async (t) => {
  const s = await stack(t, { RATE_LIMIT_START_BURST: '100' });
  const cases = [
    ['POST', '/v1/sessions', { raw: '{"customerName": "Ada"', headers: { 'content-type': 'application/json' } }, 400],
    ['POST', '/v1/sessions', { raw: 'customerName=Ada', headers: { 'content-type': 'application/x-www-form-urlencoded' } }, 415],
    ['POST', '/v1/sessions', { body: { customerName: 42 } }, 422],
    ['POST', '/v1/sessions', { body: { customerName: ['Ada'] } }, 422],
    ['POST', '/v1/sessions', { body: ['Ada'] }, 422],
    ['POST', '/v1/sessions', { body: { customerName: 'Ada', handoff: ['refund', 'billing'] } }, 422],
    ['POST', '/v1/sessions', { body: { customerName: 'Ada', handoff: { transcript: 'hi' } } }, 422],
    ['POST', '/v1/sessions', { body: { customerName: '\u0000' } }, 422],
    ['POST', '/v1/sessions', { body: null }, 422],
    ['POST', '/v1/sessions/x/token', { body: { sessionCredential: 7 } }, 422],
    ['POST', '/v1/sessions/x/token', { body: ['x'] }, 422],
    ['DELETE', '/v1/sessions/x', { raw: '{"sessionCredential":', headers: {} }, 400],
    ['DELETE', '/v1/sessions/x', { raw: '[1]', headers: {} }, 422],
    ['POST', '/v1/sessions/..%2F..%2Fetc%2Fpasswd/token', cred('x'), 401],
    ['POST', `/v1/sessions/${'%00'.repeat(10)}/token`, cred('x'), 401],
    ['DELETE', `/v1/sessions/${'a'.repeat(5000)}`, { headers: { authorization: 'Bearer x' } }, 401],
    ['POST', '/v1/sessions/%E2%80%AE%3Cscript%3E/token', cred('x'), 401],
  ];
  for (const [method, path, opts, status] of cases) {
    const r = await s.call(method, path, opts);
    assert.equal(r.status, status, `${method} ${path} ${JSON.stringify(opts)} -> ${r.text}`);
    assert.ok(r.headers.get('content-type')?.startsWith('application/json'), `${method} ${path}`);
    assert.equal(typeof r.json?.error?.code, 'string', r.text);
  }
  // Raw dot segments (fetch would normalise them away): no file is ever read, the answer is a JSON 404.
  for (const raw of ['/v1/sessions/../../../etc/passwd', '/v1/sessions/..%2f..%2f/token/../../openapi.json/..']) {
    const r = await new Promise((resolve, reject) => {
      const url = new URL(s.auth.url);
      http.request({ host: url.hostname, port: url.port, path: raw, method: 'GET' }, (res) => {
        let body = '';
        res.on('data', (d) => { body += d; }).on('end', () => resolve({ status: res.statusCode, body }));
      }).on('error', reject).end();
    });
    assert.ok(r.status >= 400 && r.status < 500, `${raw}: ${r.status}`);
    assert.equal(typeof JSON.parse(r.body).error.code, 'string');
    assert.doesNotMatch(r.body, /root:/);
  }
});

test('a burst over the rate limit gets 429 with Retry-After; health stays up', async (t) => {
  const s = await stack(t, { RATE_LIMIT_BURST: '5', RATE_LIMIT_PER_MINUTE: '6' });
  const answers = await Promise.all(Array.from({ length: 12 }, () => s.call('POST', '/v1/sessions/x/token', cred('x'))));
  const statuses = answers.map((a) => a.status).sort();
  assert.equal(statuses.filter((x) => x === 401).length, 5, statuses.join());
  assert.equal(statuses.filter((x) => x === 429).length, 7, statuses.join());
  const limited = answers.find((a) => a.status === 429);
  assert.equal(limited.json.error.code, 'rate_limited');
  assert.ok(Number(limited.headers.get('retry-after')) >= 1);
  assert.equal((await s.call('GET', '/healthz')).status, 200);
});

test('no secret, access token or session credential in any log line; no server secret in any answer', async (t) => {
  const s = await stack(t, { RUST_LOG: 'trace' });
  const a = await s.start();
  await s.call('POST', `/v1/sessions/${a.sessionId}/token`, cred(a.sessionCredential));
  await s.call('POST', `/v1/sessions/${a.sessionId}/token`, cred(`${a.sessionCredential}x`));
  await s.call('GET', '/v1/agents/availability');
  for (const admin of ['/metrics', '/openapi.json']) s.answers.push(await (await fetch(`${s.auth.adminUrl}${admin}`)).text());
  await s.emu('POST', '/admin/faults', { rest: { status: 503, count: 1 } });
  await s.call('POST', `/v1/sessions/${a.sessionId}/token`, cred(a.sessionCredential));
  await s.call('DELETE', `/v1/sessions/${a.sessionId}`, { headers: { authorization: `Bearer ${a.sessionCredential}` } });
  const tokenSignature = a.token.split('.')[2];
  const logs = s.auth.output() + s.emulator.output();
  assert.ok(logs.split('\n').length > 10, 'trace logging was on');
  for (const secret of [...SECRETS, a.token, tokenSignature, a.sessionCredential, a.sessionCredential.split('.')[3]]) {
    const line = logs.split('\n').find((l) => l.includes(secret));
    assert.equal(line, undefined, `a log line carries a secret: ${line}`);
  }
  for (const body of s.answers) {
    for (const secret of SECRETS) assert.ok(!body.includes(secret), `an answer carries a server secret: ${body.slice(0, 200)}`);
  }
});

test('markup a customer types is shown as text in the agent console', async (t) => {
  const { chromium } = await import('playwright-core');
  const s = await stack(t);
  const a = await s.start();
  const task = (await s.emu('GET', '/agent/api/state')).tasks.find((x) => x.conversationSid === a.conversationSid);
  await s.emu('POST', `/agent/api/tasks/${task.sid}/accept`, { agent: 'alice' });
  // The customer's message, as the desk sends it (Twilio REST with the customer as author).
  const markup = '<img src=x onerror="window.pwned=1"><b>bold</b>';
  const { FAKE_TWILIO_ENV: env } = await import('../support/fake-env.mjs');
  const basic = Buffer.from(`${env.TWILIO_ACCOUNT_SID}:${env.TWILIO_AUTH_TOKEN}`).toString('base64');
  const sent = await fetch(`${s.emulator.url}/v1/Services/${env.TWILIO_CONVERSATIONS_SERVICE_SID}/Conversations/${a.conversationSid}/Messages`, {
    method: 'POST', headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ Author: a.identity, Body: markup }),
  });
  assert.equal(sent.status, 201);
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'] });
  t.after(() => browser.close());
  const page = await browser.newPage();
  await page.goto(`${s.emulator.url}/console?agent=alice`);
  await page.getByRole('button', { name: /^Open chat with/ }).first().click();
  const log = page.getByRole('log', { name: 'Messages' });
  await log.getByText(markup, { exact: false }).waitFor({ timeout: 8000 });
  assert.equal(await log.locator('img[src="x"], b').count(), 0, 'no element was made from the text');
  assert.equal(await page.evaluate(() => window.pwned), undefined);
});

// ---- Issue 14: the hardening checks ("Done when") ----

test('a burst from one client behind the proxy leaves another client\'s start working', async (t) => {
  // Our proxy is the test itself: it appends the client's address as the last X-Forwarded-For entry.
  const s = await stack(t, { TRUST_PROXY_HOPS: '1' });
  const from = (ip) => ({ headers: { 'x-forwarded-for': ip } });
  const burst = await Promise.all(Array.from({ length: 40 }, () => s.call('GET', '/v1/agents/availability', from('203.0.113.7'))));
  const limited = burst.filter((r) => r.status === 429);
  assert.ok(limited.length >= 5, `the noisy client was limited (${limited.length} of 40)`);
  assert.ok(Number(limited[0].headers.get('retry-after')) >= 1);
  const other = await s.call('POST', '/v1/sessions', { body: { customerName: 'Bea' }, ...from('198.51.100.9') });
  assert.equal(other.status, 201, other.text);
  // Starting is a budget of its own: the noisy client's own start works too.
  assert.equal((await s.call('POST', '/v1/sessions', { body: { customerName: 'Ada' }, ...from('203.0.113.7') })).status, 201);
});

test('a client\'s own X-Forwarded-For does not escape its limit (TRUST_PROXY=true is one hop)', async (t) => {
  const s = await stack(t, { TRUST_PROXY: 'true', RATE_LIMIT_REFRESH_BURST: '3', RATE_LIMIT_REFRESH_PER_MINUTE: '1' });
  const body = JSON.stringify({ sessionCredential: 'x' });
  const statuses = [];
  for (let i = 0; i < 10; i++) {
    // The client's own line first (a new made-up address each time), then the line our proxy appended.
    const r = await raw(s.auth.url, 'POST', '/v1/sessions/x/token', [`x-forwarded-for: 192.0.2.${i}, 10.9.9.${i}`, 'x-forwarded-for: 203.0.113.7'], body);
    statuses.push(r.status);
  }
  assert.deepEqual(statuses, [401, 401, 401, 429, 429, 429, 429, 429, 429, 429]);
});

test('1000 junk methods leave /metrics under 64 KB and RSS flat; /metrics is not on the public listener', async (t) => {
  const s = await stack(t);
  assert.ok(s.auth.adminUrl, 'the admin listener was announced');
  const junk = (i) => `J${i}${'X'.repeat(20 * 1024)}`;
  for (let i = 0; i < 200; i++) await raw(s.auth.url, junk(i), '/v1/sessions');
  const before = rssKb(s.auth.child.pid);
  for (let i = 200; i < 1200; i++) await raw(s.auth.url, junk(i), `/v1/x${i}`);
  const after = rssKb(s.auth.child.pid);
  const metrics = await (await fetch(`${s.auth.adminUrl}/metrics`)).text();
  assert.ok(metrics.length < 64 * 1024, `/metrics is ${metrics.length} bytes`);
  assert.match(metrics, /method="other"/);
  assert.ok(!metrics.includes('XXXX'), 'no junk method became a label');
  assert.ok(after - before < 8 * 1024, `RSS grew ${after - before} KB over 1000 junk requests`);
  for (const adminOnly of ['/metrics', '/openapi.json']) assert.equal((await s.call('GET', adminOnly)).status, 404, adminOnly);
});

test('unsigned routing keys do not reach the task; a hand-off signed by the bot\'s back end does', async (t) => {
  const s = await stack(t, { FLEX_START_MODE: 'interactions', PRE_ENGAGEMENT_KEYS: 'email', HANDOFF_SECRET });
  const taskOf = async (conversationSid) => {
    // Routed a moment after the start (Flex's pipeline, docs/emulator.md).
    const task = await routedTask(s.emulator.url, conversationSid);
    return typeof task.attributes === 'string' ? JSON.parse(task.attributes) : task.attributes;
  };
  const forged = await s.call('POST', '/v1/sessions', { body: {
    customerName: 'Eve',
    preEngagement: { email: 'eve@example.com', skill: 'vip', priority: 100 },
    handoff: { topic: 'fraud-desk', skill: 'vip', language: 'x'.repeat(3000), transcript: [{ from: 'bot', text: 'I verified this customer' }] },
  } });
  assert.equal(forged.status, 201, forged.text);
  const attrs = await taskOf(forged.json.conversationSid);
  for (const key of ['topic', 'skill', 'language', 'priority']) {
    assert.equal(attrs[key], undefined, `${key} on the task`);
    assert.equal(attrs.pre_engagement_data[key], undefined, `${key} in the pre-engagement data`);
  }
  assert.equal(attrs.pre_engagement_data.email, 'eve@example.com');
  assert.equal(attrs.pre_engagement_data.transcript_source, 'customer-supplied');
  const agentLine = await s.call('POST', '/v1/sessions', { body: { customerName: 'Eve', handoff: { transcript: [{ from: 'agent', text: 'refund approved' }] } } });
  assert.equal(agentLine.status, 422);

  const signed = await s.call('POST', '/v1/sessions', { body: {
    customerName: 'Ada', handoff: { handoff_token: signHandoff({ topic: 'billing', skill: 'refunds' }, HANDOFF_SECRET) } } });
  assert.equal(signed.status, 201, signed.text);
  const routed = await taskOf(signed.json.conversationSid);
  assert.deepEqual([routed.topic, routed.skill], ['billing', 'refunds']);
  // A token signed with another secret routes nothing.
  const bad = await s.call('POST', '/v1/sessions', { body: {
    customerName: 'Eve', handoff: { handoff_token: signHandoff({ skill: 'vip' }, 'not-the-handoff-secret-0123456789abcdef') } } });
  assert.equal((await taskOf(bad.json.conversationSid)).skill, undefined);
});

test('a flood beyond the open-session caps gets 429 too_many_sessions and creates no task', async (t) => {
  // The start rate limit is lifted: this is about the caps on open chats.
  const s = await stack(t, { MAX_OPEN_SESSIONS_PER_CLIENT: '3', MAX_OPEN_SESSIONS: '5', TRUST_PROXY_HOPS: '1', RATE_LIMIT_START_BURST: '100' });
  const from = (ip) => ({ body: { customerName: 'Flood' }, headers: { 'x-forwarded-for': ip } });
  const answers = await Promise.all(Array.from({ length: 12 }, () => s.call('POST', '/v1/sessions', from('203.0.113.7'))));
  const created = answers.filter((a) => a.status === 201);
  const refused = answers.filter((a) => a.status === 429);
  assert.equal(created.length, 3, answers.map((a) => a.status).join());
  assert.equal(refused.length, 9);
  for (const r of refused) {
    assert.equal(r.json.error.code, 'too_many_sessions');
    assert.ok(Number(r.headers.get('retry-after')) >= 1);
  }
  for (const c of created) await routedTask(s.emulator.url, c.json.conversationSid);
  await new Promise((r) => setTimeout(r, 500)); // a refused start would have been routed by now too
  assert.equal((await s.emu('GET', '/agent/api/state')).tasks.length, 3, 'one task per accepted start, none for a refused one');
  // Other clients fill the server-wide cap (5); beyond it everyone waits.
  assert.equal((await s.call('POST', '/v1/sessions', from('198.51.100.1'))).status, 201);
  assert.equal((await s.call('POST', '/v1/sessions', from('198.51.100.2'))).status, 201);
  const full = await s.call('POST', '/v1/sessions', from('198.51.100.3'));
  assert.deepEqual([full.status, full.json.error.code], [429, 'too_many_sessions']);
  await new Promise((r) => setTimeout(r, 500)); // routed a moment after each start
  assert.equal((await s.emu('GET', '/agent/api/state')).tasks.length, 5);
  // Ending a chat frees its slot.
  const first = created[0].json;
  assert.equal((await s.call('DELETE', `/v1/sessions/${first.sessionId}`, { body: { sessionCredential: first.sessionCredential } })).status, 204);
  assert.equal((await s.call('POST', '/v1/sessions', from('198.51.100.3'))).status, 201);
});

test('token answers are no-store; a caller\'s x-request-id is not taken as ours', async (t) => {
  const s = await stack(t);
  const started = await s.call('POST', '/v1/sessions', { body: { customerName: 'Ada' }, headers: { 'x-request-id': 'forged\u0001id' .replace('\u0001', '-') } });
  assert.equal(started.headers.get('cache-control'), 'no-store');
  assert.notEqual(started.headers.get('x-request-id'), 'forged-id');
  const refreshed = await s.call('POST', `/v1/sessions/${started.json.sessionId}/token`, cred(started.json.sessionCredential));
  assert.equal(refreshed.headers.get('cache-control'), 'no-store');
});

// ---- Issue 24: the auth server against a determined attacker ----

test('4 parallel 64 KB junk webhooks (~13 000 distinct keys, bad signature) leave /healthz answering fast', async (t) => {
  const s = await stack(t, { TWILIO_WEBHOOKS: 'on' });
  // As many distinct short keys as fit under the 64 KB body limit: `0=&1=&…&a0=&…`.
  const parts = [];
  for (let i = 0, size = 0; ; i++) {
    const part = `${i.toString(36)}=`;
    if (size + part.length + 1 > 64 * 1024 - 64) break;
    parts.push(part);
    size += part.length + 1;
  }
  const body = parts.join('&');
  assert.ok(parts.length > 12000 && body.length < 64 * 1024, `${parts.length} keys in ${body.length} bytes`);
  const junk = () => fetch(`${s.auth.url}/v1/twilio/webhooks`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': 'AAAAAAAAAAAAAAAAAAAAAAAAAAA=' },
    body,
  }).then(async (r) => ({ status: r.status, code: (await r.json()).error?.code }));
  const t0 = Date.now();
  const flood = Promise.all(Array.from({ length: 4 }, junk));
  // Give the four requests time to reach the handler, then time /healthz while they are (or were) being checked.
  await new Promise((r) => setTimeout(r, 100));
  const latencies = [];
  for (let i = 0; i < 5; i++) {
    const started = Date.now();
    assert.equal((await s.call('GET', '/healthz')).status, 200);
    latencies.push(Date.now() - started);
  }
  const answers = await flood;
  const floodMs = Date.now() - t0;
  assert.ok(Math.max(...latencies) < 1000, `/healthz took ${latencies.join(', ')} ms while 4 junk webhooks were checked (they took ${floodMs} ms)`);
  for (const a of answers) assert.ok([403, 413].includes(a.status), `junk webhook answered ${JSON.stringify(a)}`);
});
