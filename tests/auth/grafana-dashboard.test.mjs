// Issue 28, item 3: deploy/grafana-dashboard.json charts the auth server's metrics by the names the server serves. Every
// metric a panel's query (or the queue variable) names must exist in a fresh server's /metrics (admin listener), with
// the suffix its type gives it (`_total` a counter, `_bucket` / `_sum` / `_count` a histogram), so a renamed metric
// fails here instead of leaving an empty panel. A family is served once it has a series, so the test first runs two
// chats through the emulator. Needs `cargo build --workspace --bins`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT, routedTask, sendTaskRouterEvents, startStack } from '../support/servers.mjs';

const DASHBOARD = path.join(ROOT, 'deploy', 'grafana-dashboard.json');

/** Every string in the dashboard that Grafana sends to Prometheus: panel targets' `expr`, variables' queries. */
function queries(node, found = []) {
  if (Array.isArray(node)) node.forEach((n) => queries(n, found));
  else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      if ((k === 'expr' || k === 'definition' || k === 'query') && typeof v === 'string') found.push(v);
      else queries(v, found);
    }
  }
  return found;
}

/** `# TYPE name kind` lines of an OpenMetrics page: name → kind. */
function families(text) {
  return new Map([...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1], m[2]]));
}

/** The family and the type a series name implies (`x_total` → counter `x`, `x_bucket` → histogram `x`, …). */
function familyOf(name, known) {
  for (const [suffix, type] of [['_total', 'counter'], ['_bucket', 'histogram'], ['_sum', 'histogram'], ['_count', 'histogram']]) {
    if (name.endsWith(suffix) && known.get(name.slice(0, -suffix.length)) === type) return name.slice(0, -suffix.length);
  }
  return known.has(name) && !['counter', 'histogram'].includes(known.get(name)) ? name : null;
}

test('every metric the Grafana dashboard names is served by /metrics, with its type', async () => {
  const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8'));
  const names = [...new Set(queries(dashboard).flatMap((q) => q.match(/\bflexdesk_[a-z0-9_]+/g) ?? []))].sort();
  // The figures are all charted.
  for (const want of ['flexdesk_chats_waiting', 'flexdesk_queue_wait_seconds_bucket', 'flexdesk_chats_abandoned_total', 'flexdesk_chats_answered_total', 'flexdesk_chat_duration_seconds_bucket']) {
    assert.ok(names.includes(want), `the dashboard charts ${want}`);
  }
  // A family appears in /metrics once it has a series: a short mix of chats gives every one of them one (an answered
  // chat that ends, one the customer gives up while waiting), through the emulator's TaskRouter events.
  const stack = await startStack({ TWILIO_WEBHOOKS: 'on' });
  const { auth, emulator } = stack;
  try {
    await sendTaskRouterEvents(stack);
    const post = (url, body) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const start = async (name) => {
      const s = await (await post(`${auth.url}/v1/sessions`, { customerName: name })).json();
      return { ...s, task: await routedTask(emulator.url, s.conversationSid) };
    };
    const answered = await start('Ada');
    assert.equal((await post(`${emulator.url}/agent/api/tasks/${answered.task.sid}/accept`, { agent: 'alice' })).status, 200);
    assert.equal((await post(`${emulator.url}/agent/api/tasks/${answered.task.sid}/end`, {})).status, 200);
    const gaveUp = await start('Grace');
    const end = await fetch(`${auth.url}/v1/sessions/${gaveUp.sessionId}`, { method: 'DELETE', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sessionCredential: gaveUp.sessionCredential }) });
    assert.equal(end.status, 204);
    const metrics = async () => (await fetch(`${auth.adminUrl}/metrics`)).text();
    const deadline = Date.now() + 10_000;
    while (!/flexdesk_chat_duration_seconds_count.* 1$/m.test(await metrics()) || !/flexdesk_chats_abandoned_total\{.*\} 1$/m.test(await metrics())) {
      if (Date.now() > deadline) throw new Error(`the events did not reach /metrics:\n${await metrics()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const text = await (await fetch(`${auth.adminUrl}/metrics`)).text();
    const known = families(text);
    const missing = names.filter((n) => !familyOf(n, known));
    assert.deepEqual(missing, [], `named by deploy/grafana-dashboard.json but not in /metrics (families: ${[...known.keys()].join(', ')})`);
  } finally {
    await stack.stop();
  }
  // Every panel reads the dashboard's Prometheus input, so the import asks for one data source.
  for (const panel of dashboard.panels) assert.equal(panel.datasource?.uid, '${DS_PROMETHEUS}', `panel "${panel.title}"`);
});
