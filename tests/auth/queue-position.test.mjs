// Issue 17, item 2, server side: a waiting customer's own place in the queue (`GET /v1/sessions/{id}/queue`, from
// TaskRouter's Tasks list and the queue's cumulative statistics, played by the emulator), and business hours on
// `GET /v1/agents/availability`. Needs `cargo build --workspace --bins`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, routedTask } from '../support/servers.mjs';
import { FAKE_TWILIO_ENV as ENV } from '../support/fake-env.mjs';

const BASIC = 'Basic ' + Buffer.from(`${ENV.TWILIO_ACCOUNT_SID}:${ENV.TWILIO_AUTH_TOKEN}`).toString('base64');

const call = (url, method = 'GET', body, headers = {}) =>
  fetch(url, {
    method,
    headers: body ? { 'content-type': 'application/json', ...headers } : headers,
    body: body ? JSON.stringify(body) : undefined,
  });

function client({ auth, emulator }) {
  return {
    async start(name) {
      const r = await call(`${auth.url}/v1/sessions`, 'POST', { customerName: name });
      assert.equal(r.status, 201, await r.clone().text());
      const s = await r.json();
      // Routed a moment later (Flex's pipeline, docs/emulator.md): then it waits in the queue.
      await routedTask(emulator.url, s.conversationSid);
      return s;
    },
    queue: (s, credential = s.sessionCredential) =>
      call(`${auth.url}/v1/sessions/${s.sessionId}/queue`, 'GET', undefined, credential ? { authorization: `Bearer ${credential}` } : {}),
    async position(s) {
      const r = await this.queue(s);
      assert.equal(r.status, 200, await r.clone().text());
      assert.equal(r.headers.get('cache-control'), 'no-store');
      return r.json();
    },
    async accept(s, agent = 'alice') {
      const { tasks } = await (await call(`${emulator.url}/agent/api/state`)).json();
      const task = tasks.find((t) => t.conversationSid === s.conversationSid);
      const r = await call(`${emulator.url}/agent/api/tasks/${task.sid}/accept`, 'POST', { agent });
      assert.equal(r.status, 200, await r.clone().text());
      return task;
    },
    end: (s) => call(`${auth.url}/v1/sessions/${s.sessionId}`, 'DELETE', { sessionCredential: s.sessionCredential }),
  };
}

for (const mode of ['webchat', 'interactions', 'flexflow']) {
  test(`${mode}: two customers waiting are 1 and 2; the second is 1 once the first is accepted`, async () => {
    // The per-queue reads are cached AVAILABILITY_CACHE_SECONDS (default 5) for every waiting customer; off here so
    // each read sees the acceptance at once.
    const stack = await startStack({ FLEX_START_MODE: mode, AVAILABILITY_CACHE_SECONDS: '0' });
    try {
      const c = client(stack);
      const first = await c.start('Ada');
      const second = await c.start('Grace');

      // No chat accepted yet in the statistics window: no estimate, only the place.
      assert.deepEqual(await c.position(first), { waiting: true, position: 1, estimatedWaitSeconds: null });
      assert.deepEqual(await c.position(second), { waiting: true, position: 2, estimatedWaitSeconds: null });

      await c.accept(first);
      // The first has an agent: no longer waiting. The second moves up, and the queue's pace (one chat accepted in
      // the last 30 minutes) gives an estimate: 1 × 1800 s / 1.
      assert.deepEqual(await c.position(first), { waiting: false, position: null, estimatedWaitSeconds: null });
      assert.deepEqual(await c.position(second), { waiting: true, position: 1, estimatedWaitSeconds: 1800 });

      // A third customer queues behind the second.
      const third = await c.start('Linus');
      assert.equal((await c.position(third)).position, 2);

      // Once the customer ends the chat, its position is no longer served.
      assert.equal((await c.end(second)).status, 204);
      const ended = await c.queue(second);
      assert.equal(ended.status, 404);
      assert.equal((await ended.json()).error.code, 'session_ended');
      assert.equal((await c.position(third)).position, 1);
    } finally {
      await stack.stop();
    }
  });
}

// Issue 27, item 4: a poll costs no Twilio call of its own. Each chat's task is looked up once (ListTask by
// conversationSid) and remembered; later polls find it in the queue's list, read once per queue and cached. Counted by
// the emulator (`GET /admin/calls`), not timed: the per-queue reads are cached for the whole test, so every poll after
// a chat's first must cost nothing, with 3 customers waiting as with 15.
test('queue polls cost Twilio calls per queue, not per waiting customer', async () => {
  // Limits lifted: 15 customers from one address would spend the start budget.
  const stack = await startStack(
    { FLEX_START_MODE: 'interactions', AVAILABILITY_CACHE_SECONDS: '3600', TWILIO_INTERACTIONS_RATE: '0', RATE_LIMIT_PER_MINUTE: '100000', RATE_LIMIT_BURST: '100000' },
    { EMULATOR_INTERACTIONS_RATE: '0' },
  );
  try {
    const c = client(stack);
    const calls = async () => (await (await call(`${stack.emulator.url}/admin/calls`)).json()).byRoute;
    const reset = () => call(`${stack.emulator.url}/admin/calls`, 'DELETE');
    const FIND = `GET /v1/Workspaces/WS…/Tasks`;
    const waiting = [];
    const rounds = {};
    for (const n of [3, 15]) {
      while (waiting.length < n) waiting.push(await c.start(`Customer ${waiting.length + 1}`));
      await reset();
      for (const s of waiting) assert.equal((await c.position(s)).waiting, true);
      const first = await calls();
      await reset();
      for (let round = 0; round < 2; round++) {
        for (const [i, s] of waiting.entries()) assert.equal((await c.position(s)).position, i + 1);
      }
      rounds[n] = { first, later: await calls() };
    }
    // The first poll of a chat looks its task up (the newcomers only: 3, then 12 more); the Tasks route also serves
    // the queue's list, read once when it first lacked a newcomer.
    assert.ok(rounds[3].first[FIND] <= 3 + 1, JSON.stringify(rounds[3].first));
    assert.ok(rounds[15].first[FIND] <= 12 + 1, JSON.stringify(rounds[15].first));
    assert.deepEqual(rounds[3].later, {}, 'two more polls of 3 customers: no Twilio call');
    assert.deepEqual(rounds[15].later, {}, 'two more polls of 15 customers: no Twilio call');
  } finally {
    await stack.stop();
  }
});

test('the position needs the session credential of that very session', async () => {
  const stack = await startStack({ FLEX_START_MODE: 'webchat' });
  try {
    const c = client(stack);
    const a = await c.start('Ada');
    const b = await c.start('Grace');
    for (const [credential, why] of [
      [undefined, 'no credential'],
      ['not-a-credential', 'forged'],
      [b.sessionCredential, "another session's"],
      [a.sessionCredential.slice(0, -2) + (a.sessionCredential.endsWith('AA') ? 'BB' : 'AA'), 'signature altered'],
    ]) {
      const r = await c.queue(a, credential ?? '');
      assert.equal(r.status, 401, why);
      assert.equal((await r.json()).error.code, 'invalid_credential', why);
    }
    assert.equal((await c.position(a)).position, 1);
  } finally {
    await stack.stop();
  }
});

test("the emulator's Tasks list follows twilio-oai: filters, ordering, no attributes in lists", async () => {
  const stack = await startStack({ FLEX_START_MODE: 'interactions' });
  try {
    const c = client(stack);
    const a = await c.start('Ada');
    const b = await c.start('Grace');
    const tr = (path) => fetch(`${stack.emulator.url}/v1/Workspaces/${ENV.TWILIO_WORKSPACE_SID}${path}`, { headers: { authorization: BASIC } });
    const list = async (query) => {
      const r = await tr(`/Tasks?${new URLSearchParams(query)}`);
      assert.equal(r.status, 200, await r.clone().text());
      return r.json();
    };
    const found = await list([['EvaluateTaskAttributes', `conversationSid == "${b.conversationSid}"`]]);
    assert.equal(found.tasks.length, 1);
    assert.equal(found.tasks[0].attributes, null, 'lists carry no attributes (twilio-oai: only FETCH shows them)');
    assert.equal(found.meta.key, 'tasks');
    const fetched = await (await tr(`/Tasks/${found.tasks[0].sid}`)).json();
    assert.equal(JSON.parse(fetched.attributes).conversationSid, b.conversationSid);

    const queue = [['TaskQueueSid', ENV.TWILIO_QUEUE_SID], ['AssignmentStatus', 'pending'], ['AssignmentStatus', 'reserved']];
    const asc = await list([...queue, ['Ordering', 'Priority:desc,DateCreated:asc']]);
    const desc = await list([...queue, ['Ordering', 'DateCreated:desc']]);
    assert.equal(asc.tasks.length, 2);
    assert.deepEqual(desc.tasks.map((t) => t.sid), asc.tasks.map((t) => t.sid).reverse());
    await c.accept(a);
    assert.deepEqual((await list(queue)).tasks.map((t) => t.sid), [found.tasks[0].sid], 'the accepted task left the waiting list');
    assert.equal((await list([['AssignmentStatus', 'pending,assigned']])).tasks.length, 2, 'a comma list, as in the spec example');

    for (const bad of [[['Ordering', 'DateCreated:asc,VirtualStartTime:asc']], [['PageSize', '1001']], [['AssignmentStatus', 'waiting']]]) {
      const r = await tr(`/Tasks?${new URLSearchParams(bad)}`);
      assert.equal(r.status, 400, JSON.stringify(bad));
    }
    const stats = await (await tr(`/TaskQueues/${ENV.TWILIO_QUEUE_SID}/CumulativeStatistics?Minutes=30&TaskChannel=chat`)).json();
    assert.equal(stats.reservations_accepted, 1);
    assert.equal(stats.tasks_entered, 2);
  } finally {
    await stack.stop();
  }
});

// Business hours: a holiday yesterday, today and tomorrow (in UTC), so it is closed whatever the time of the run, and
// agents are back the day after tomorrow at 09:00.
test('outside business hours no agent is available, and the answer says when they are back', async () => {
  const day = (offset) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);
  const stack = await startStack({
    BUSINESS_HOURS: 'Mon-Sun 09:00-17:00',
    BUSINESS_TZ: 'UTC',
    BUSINESS_HOLIDAYS: [day(-1), day(0), day(1)].join(','),
  });
  try {
    // Twilio would fail every call: the answer must not need it.
    await call(`${stack.emulator.url}/admin/faults`, 'POST', { rest: { status: 503, count: 100 } });
    const r = await call(`${stack.auth.url}/v1/agents/availability`);
    assert.equal(r.status, 200, await r.clone().text());
    assert.deepEqual(await r.json(), {
      agentsAvailable: 0,
      tasksWaiting: 0,
      longestWaitSeconds: 0,
      closed: true,
      opensAt: `${day(2)}T09:00:00+00:00`,
    });
  } finally {
    await stack.stop();
  }
});

test('within business hours the queue figures come from TaskRouter, with no closed flag', async () => {
  const stack = await startStack({ BUSINESS_HOURS: 'Mon-Sun 00:00-24:00', BUSINESS_TZ: 'Europe/Paris' });
  try {
    const r = await call(`${stack.auth.url}/v1/agents/availability`);
    assert.equal(r.status, 200, await r.clone().text());
    const body = await r.json();
    assert.equal(typeof body.agentsAvailable, 'number', JSON.stringify(body));
    assert.equal('closed' in body || 'opensAt' in body, false);
  } finally {
    await stack.stop();
  }
});

test('a bad business-hours setting stops the server at start, naming the key', async () => {
  const { startBinary } = await import('../support/servers.mjs');
  await assert.rejects(startBinary('flexdesk-auth', { PORT: '0', BUSINESS_HOURS: 'Mon-Fri 09:00-17:00', BUSINESS_TZ: 'Mars/Olympus' }), /BUSINESS_TZ/);
  await assert.rejects(startBinary('flexdesk-auth', { PORT: '0', BUSINESS_HOURS: 'Mon-Fri 9-5', BUSINESS_TZ: 'UTC' }), /BUSINESS_HOURS/);
});
