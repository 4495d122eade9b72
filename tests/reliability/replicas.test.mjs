// Three auth-server replicas behind a round-robin front, sharing one Redis (issue 14, "horizontal scale"):
// limits hold across replicas, a chat moves freely between them, a replica dying mid-chat loses nothing, and Redis
// going away degrades to per-replica limits (one logged warning per replica, a metric), never to an open door or a
// 500, and shared limits come back with Redis.
//
// REPLICAS_CHATS (default 3) chats go through the kill-a-replica step; tests/reliability/campaign/run.mjs runs this file with more.
// Control run: REPLICAS_WITHOUT_REDIS=1 starts the replicas without REDIS_URL; the cross-replica tests then fail
// (each replica keeps its own limits), which is what they are for.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startBinary } from '../support/servers.mjs';
import { startRedis, startFront, startReplicas, call, metric } from '../support/replicas.mjs';

const withoutRedis = process.env.REPLICAS_WITHOUT_REDIS === '1';
const CHATS = Number(process.env.REPLICAS_CHATS ?? 3);
const BURST = 6;
let redis, emulator, front;
let replicas = [];
let env;

before(async () => {
  redis = await startRedis();
  emulator = await startBinary('flexdesk-emulator', { EMULATOR_PORT: '0' });
  env = {
    ...(withoutRedis ? {} : { REDIS_URL: redis.url }),
    // Availability: BURST at once, then one per 10 s, so a burst test is not blurred by refill.
    RATE_LIMIT_AVAILABILITY_BURST: String(BURST),
    RATE_LIMIT_AVAILABILITY_PER_MINUTE: String(BURST),
    MAX_OPEN_SESSIONS_PER_CLIENT: '2',
    // 4 WebChats starts a second for the whole account, waiting at most 1 s for a slot.
    TWILIO_WEBCHATS_RATE: '4',
    TWILIO_PACING_MAX_WAIT_SECONDS: '1',
  };
  replicas = await startReplicas(3, emulator.url, env);
  front = await startFront(() => replicas.map((r) => r.url));
});

after(async () => {
  await front?.stop();
  for (const r of replicas) await r.stop();
  await emulator?.stop();
  await redis?.kill();
});

/** `n` availability calls from `client` through the front: how many passed, and every status seen. */
async function burst(client, n) {
  const statuses = [];
  for (let i = 0; i < n; i++) statuses.push((await call(front.url, 'GET', '/v1/agents/availability', { client })).status);
  return { ok: statuses.filter((s) => s === 200).length, statuses };
}

const start = (base, client, name = 'Ada') => call(base, 'POST', '/v1/sessions', { client, body: { customerName: name } });
const refresh = (base, s, client) => call(base, 'POST', `/v1/sessions/${s.sessionId}/token`, { client, body: { sessionCredential: s.sessionCredential } });
const end = (base, s, client) => call(base, 'DELETE', `/v1/sessions/${s.sessionId}`, { client, body: { sessionCredential: s.sessionCredential } });
const count = (xs, v) => xs.filter((x) => x === v).length;

test('a burst spread over three replicas is limited as one client', async () => {
  const { ok, statuses } = await burst('10.1.0.1', 15);
  assert.deepEqual(new Set(front.served.slice(-15)), new Set([0, 1, 2]), 'the burst reached every replica');
  assert.equal(ok, BURST, `exactly the burst passes across replicas: ${statuses}`);
  assert.equal(count(statuses, 429), 15 - BURST);
  assert.equal((await burst('10.1.0.2', 1)).ok, 1, 'another client has its own budget');
});

test('the open-session cap counts every replica, and ending on another replica frees the slot', async () => {
  const client = '10.2.0.1';
  const a = await start(front.url, client);
  const b = await start(front.url, client);
  assert.equal(a.status, 201, a.text);
  assert.equal(b.status, 201, b.text);
  assert.notEqual(a.replica, b.replica);
  const c = await start(front.url, client);
  assert.equal(c.status, 429, `the third open chat of one client, on a third replica: ${c.text}`);
  assert.equal(c.json.error.code, 'too_many_sessions');
  assert.ok(Number(c.headers.get('retry-after')) >= 1);
  // Ended through a replica that did not start it: the slot is free on all of them.
  const other = replicas.find((_, i) => String(i) !== a.replica);
  assert.equal((await end(other.url, a.json, client)).status, 204);
  const d = await start(front.url, client);
  assert.equal(d.status, 201, d.text);
  for (const s of [b, d]) assert.equal((await end(front.url, s.json, client)).status, 204);
});

test('Twilio pacing holds across replicas: a start flood is paced as one account', async () => {
  // 12 simultaneous starts, 4 per replica. At 4/s with a 1 s bound the account takes ~4-5; the rest are told 503
  // with Retry-After. Per replica, each would take its own 4 (12 in all: three times Twilio's rate).
  const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => start(front.url, `10.3.0.${i + 1}`, `Flood ${i}`)));
  const created = answers.filter((r) => r.status === 201);
  const busy = answers.filter((r) => r.status === 503);
  assert.equal(created.length + busy.length, 12, answers.map((r) => `${r.status} ${r.text}`).join('\n'));
  assert.ok(created.length >= 3 && created.length <= 5, `created ${created.length} of 12`);
  for (const r of busy) {
    assert.equal(r.json.error.code, 'twilio_busy');
    assert.ok(Number(r.headers.get('retry-after')) >= 1);
  }
  await new Promise((r) => setTimeout(r, 1200));
  for (const [i, r] of answers.entries()) if (r.status === 201) assert.equal((await end(front.url, r.json, `10.3.0.${i + 1}`)).status, 204);
});

test('a chat started on one replica is refreshed and ended on others; ended is refused everywhere', async () => {
  const client = '10.4.0.1';
  const s = await start(replicas[0].url, client);
  assert.equal(s.status, 201, s.text);
  const r1 = await refresh(replicas[1].url, s.json, client);
  assert.equal(r1.status, 200, r1.text);
  assert.ok(r1.json.token);
  assert.equal((await end(replicas[2].url, s.json, client)).status, 204);
  // Replica 1 knows this session as open (it refreshed it): the shared ended marker refuses it without asking
  // Twilio.
  const asked = await metric(replicas[1], 'flexdesk_twilio_requests_total{operation="get_conversation"');
  for (const r of replicas) {
    const again = await refresh(r.url, s.json, client);
    assert.equal(again.status, 404, again.text);
    assert.equal(again.json.error.code, 'session_ended');
  }
  if (!withoutRedis) assert.equal(await metric(replicas[1], 'flexdesk_twilio_requests_total{operation="get_conversation"'), asked, 'no Twilio call');
  assert.equal((await end(replicas[0].url, s.json, client)).status, 204, 'ending again is still 204');
});

test('a replica killed mid-chat loses nothing: the next refresh and end go to another replica', async () => {
  const chats = [];
  for (let i = 0; i < CHATS; i++) {
    const client = `10.5.0.${i + 1}`;
    const s = await start(front.url, client);
    assert.equal(s.status, 201, s.text);
    chats.push({ client, s: s.json, on: Number(s.replica) });
  }
  for (const chat of chats) {
    const victim = chat.on;
    replicas[victim].child.kill('SIGKILL');
    await new Promise((r) => replicas[victim].child.once('exit', r));
    const r = await refresh(front.url, chat.s, chat.client);
    assert.equal(r.status, 200, r.text);
    assert.notEqual(Number(r.replica), victim);
    // The load balancer brings a new replica up in its place.
    replicas[victim] = (await startReplicas(1, emulator.url, env))[0];
    assert.equal((await refresh(front.url, chat.s, chat.client)).status, 200);
  }
  for (const chat of chats) assert.equal((await end(front.url, chat.s, chat.client)).status, 204);
});

test('Redis going away: per-replica limits, one warning per replica, a metric, no 500; shared again when it returns', { skip: withoutRedis && 'no Redis in the control run' }, async () => {
  const port = redis.port;
  await redis.kill();
  // 30 calls from one client, 10 per replica: each replica now limits on its own (BURST each), none lets all
  // through, none fails.
  const down = await burst('10.6.0.1', 30);
  assert.ok(down.statuses.every((s) => s === 200 || s === 429), `${down.statuses}`);
  assert.equal(down.ok, 3 * BURST, `per-replica limits: ${down.statuses}`);
  // A whole chat still works, and an ended one is still refused (Twilio says it is closed).
  const client = '10.6.0.2';
  const s = await start(front.url, client);
  assert.equal(s.status, 201, s.text);
  assert.equal((await refresh(front.url, s.json, client)).status, 200);
  assert.equal((await end(front.url, s.json, client)).status, 204);
  for (const r of replicas) assert.equal((await refresh(r.url, s.json, client)).status, 404);
  for (const r of replicas) {
    const warnings = r.output().split('\n').filter((l) => l.includes('Redis unreachable'));
    assert.equal(warnings.length, 1, `one warning per outage, not per request:\n${warnings.join('\n')}`);
    assert.equal(await metric(r, 'flexdesk_redis_up '), 0);
    assert.ok((await metric(r, 'flexdesk_redis_fallbacks_total{op="ratelimit"')) > 0);
  }

  // Redis is back (empty: it kept nothing). After the 1 s pause each replica uses it again on its next call.
  redis = await startRedis(port);
  const deadline = Date.now() + 15000;
  for (let i = 0; ; i++) {
    await call(front.url, 'GET', '/v1/agents/availability', { client: `10.6.1.${i % 250}` });
    const up = await Promise.all(replicas.map((r) => metric(r, 'flexdesk_redis_up ')));
    if (up.every((v) => v === 1)) break;
    assert.ok(Date.now() < deadline, `replicas back on Redis: ${up}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  for (const r of replicas) assert.match(r.output(), /Redis is reachable again/);
  const back = await burst('10.6.0.3', 15);
  assert.equal(back.ok, BURST, `shared again: ${back.statuses}`);
});
