// Security, over real HTTP against the built auth server + emulator: credentials that must be refused,
// CORS, oversized and malformed bodies, hostile ids, the rate limit, and no secret in any answer or log line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { stack, SECRETS } from './support.mjs';

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
  const s = await stack(t);
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
  await s.call('GET', '/metrics');
  await s.call('GET', '/openapi.json');
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
