// Issue 17, item 2 (live queue position and wait; business hours), through the real web chat page and the agent
// console: two customers waiting see positions 1 and 2, and 1 after the first is accepted; outside business hours
// the bot says when agents are back, in the customer's own time zone, and no task reaches the agents.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AGENT_UNAVAILABLE_TEXT, Transcript, backAt, makeCustomSendMessage } from '../../www/src/bot.js';
import { e2eSuite } from './support/harness.mjs';
import { CustomerPage, STRINGS } from './support/customer.mjs';
import { seen, notSeen, waitUntil, firstShown } from './support/wait.mjs';

const scenario = e2eSuite('queue-hours');

// Carbon's language pack (agent_connectingQueue): "You're number {position} in line".
const inLine = (n) => new RegExp(`You're number\\s*${n}\\s*in line`);
// And agent_connectingMinutes, which Carbon prefers when the desk sends an estimate (issue 23): the auth server
// estimates once the queue accepted a task within its 30-minute window (queue.rs `estimated_wait`): place 1 after one
// acceptance is 30 minutes.
const waitMinutes = (n) => new RegExp(`Current wait time is\\s*${n}\\s*minutes`);

/** The emulator's agent-side state (tasks, conversations, agents). */
async function emuState(stack) {
  return (await fetch(`${stack.emulator.url}/agent/api/state`)).json();
}

scenario('two customers waiting see positions 1 and 2, and the estimated wait after the first is accepted', async ({ customer, agent, newPage, www }) => {
  await customer.open({ name: 'Quinn First' });
  await customer.askForAgent();
  await seen(customer.page.getByText(inLine(1)), 'the first customer\'s queue position, 1', 20_000);

  const second = new CustomerPage(await newPage('customer'), www.url);
  // Each read of the second customer's own place in the queue (GET /v1/sessions/{id}/queue).
  let reads = 0;
  second.page.on('request', (r) => /\/v1\/sessions\/[^/]+\/queue$/.test(new URL(r.url()).pathname) && r.method() === 'GET' && reads++);
  await second.open({ name: 'Rita Second' });
  await second.askForAgent();
  await seen(second.page.getByText(inLine(2)), 'the second customer\'s queue position, 2', 20_000);

  await agent.open('Alice');
  const task = await agent.waitForIncomingTask('Quinn First');
  await agent.waitForIncomingTask('Rita Second');
  await agent.accept(task);
  await customer.seeAgentInHeader('Alice');
  // The second customer moves up: the desk reads the session's own place again while it waits (queuePollMs here,
  // 30 s by default), with no reload and nothing typed. Well under 30 s: the default interval would not pass.
  // With one acceptance the server now has an estimate, which Carbon shows instead of the place.
  await seen(second.page.getByText(waitMinutes(30)), 'the second customer\'s wait, now estimated', 12_000);
  assert.equal(await firstShown(second.page.getByText(inLine(2))), null, 'the old position is no longer shown');
  // Still waiting, so still read every queuePollMs (2 s here), not once per 30 s: two more reads within 8 s.
  const before = reads;
  await waitUntil(() => reads >= before + 2, { timeout: 8_000, message: `two more reads of the second customer's place (${before} so far)` });
  assert.ok(await firstShown(second.page.getByText(waitMinutes(30))), 'still the estimate');
}, {
  timeout: 150_000,
  // The auth server must not answer the second read with the first one's cached figures.
  authEnv: { AVAILABILITY_CACHE_SECONDS: '0' },
  pageConfig: { queuePollMs: 2_000 },
});

/** `YYYY-MM-DD` of `date` in `timeZone`, and the days around it. */
function dayIn(timeZone, date = new Date()) {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(date);
}
function addDays(ymd, n) {
  const d = new Date(`${ymd}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

// The contact centre works in Paris every day 09:00-17:00, but yesterday, today and tomorrow are holidays there (so
// "now" is closed whatever the hour, even if the date turns during the test): agents are back the day after tomorrow
// at 09:00 Paris time. The customer is in New York, with a British English browser.
const BUSINESS_TZ = 'Europe/Paris';
const TODAY = dayIn(BUSINESS_TZ);
const HOLIDAYS = [addDays(TODAY, -1), TODAY, addDays(TODAY, 1)];
const CUSTOMER = { locale: 'en-GB', timezoneId: 'America/New_York' };

scenario('outside business hours the bot says when agents are back, in the customer\'s time zone, and no task is made', async ({ customer, agent, stack }) => {
  const res = await fetch(`${stack.auth.url}/v1/agents/availability`);
  assert.equal(res.status, 200);
  const answer = await res.json();
  assert.equal(answer.closed, true, JSON.stringify(answer));
  assert.equal(answer.agentsAvailable, 0);
  assert.match(answer.opensAt, new RegExp(`^${addDays(TODAY, 2)}T09:00:00[+-]\\d\\d:\\d\\d$`), 'back the day after tomorrow at 09:00, Paris time');

  // What the customer should read: the reopening in New York time (03:00 most of the year, 04:00 in the weeks when
  // only one of Paris and New York has changed clocks: computed, not hard-coded).
  const opensAt = new Date(answer.opensAt);
  const day = opensAt.toLocaleDateString(CUSTOMER.locale, { weekday: 'long', timeZone: CUSTOMER.timezoneId });
  const time = opensAt.toLocaleTimeString(CUSTOMER.locale, { hour: '2-digit', minute: '2-digit', timeZone: CUSTOMER.timezoneId });
  const expected = `Our agents are away right now. They are back ${day} at ${time}.`;
  assert.notEqual(time, '09:00', 'the customer\'s zone, not the contact centre\'s');

  await agent.open('Alice');
  await customer.open({ name: 'Olive Offhours' });
  await customer.askForAgent({ expectCard: false });
  await customer.see(expected, { exact: true, timeout: 20_000 });
  await notSeen(customer.page.getByText(STRINGS.agentUnavailable), 'the generic "no agents" text', 300);
  await notSeen(customer.page.getByRole('button', { name: STRINGS.connectButton }), 'the "Connect to agent" button', 1_000);

  // Nothing reached the agents: no waiting chat in the console, no task or conversation in Twilio (the emulator).
  await notSeen(
    agent.page.getByRole('list', { name: 'Waiting chats' }).getByRole('listitem').filter({ hasText: 'Olive Offhours' }),
    'a waiting chat in the agent console',
    2_000,
  );
  const st = await emuState(stack);
  assert.deepEqual(st.tasks, [], 'no TaskRouter task');
  assert.equal(Object.keys(st.conversations ?? {}).length, 0, 'no conversation');

  // The bot still answers.
  await customer.send('What are your opening hours?');
  await customer.see('We are open Monday to Friday, 9:00 to 17:00.');
}, {
  timeout: 120_000,
  authEnv: { BUSINESS_HOURS: 'Mon-Sun 09:00-17:00', BUSINESS_TZ, BUSINESS_HOLIDAYS: HOLIDAYS.join(',') },
  contextOptions: CUSTOMER,
});

// The demo bot's side of it, without a browser: what it puts in the connect_to_agent item it sends.

/** Runs the bot on `text` with `agentAvailability`; resolves to its connect_to_agent item (or undefined). */
async function offerFor(agentAvailability, text = 'I want to talk to an agent') {
  const added = [];
  const send = makeCustomSendMessage(new Transcript(null), { agentAvailability });
  await send({ input: { text } }, {}, { messaging: { addMessage: async (m) => added.push(m) } });
  return added[0].output.generic.find((i) => i.response_type === 'connect_to_agent');
}

test('bot: closed, it says when agents are back; open, unknown or failing, its usual texts', async () => {
  const opensAt = new Date('2026-12-28T08:00:00Z'); // Monday 09:00 in Paris
  const closed = await offerFor(async () => ({ available: false, closed: true, opensAt }));
  assert.match(closed.agent_unavailable.message, /^Our agents are away right now\. They are back .+ at .+\.$/);
  assert.ok(closed.agent_unavailable.message.includes(backAt(opensAt)), closed.agent_unavailable.message);
  const noTime = await offerFor(async () => ({ available: false, closed: true, opensAt: null }));
  assert.equal(noTime.agent_unavailable.message, 'Our agents are away right now. Please try again during opening hours.');
  for (const answer of [async () => ({ available: true, closed: false, opensAt: null }), async () => { throw new Error('down'); }, undefined]) {
    assert.equal((await offerFor(answer)).agent_unavailable.message, AGENT_UNAVAILABLE_TEXT);
  }
});

test('bot: a slow availability answer does not hold the bot up for more than about 3 s', async () => {
  const started = Date.now();
  let asked = 0;
  const offer = await offerFor(() => (asked++, new Promise(() => {})));
  assert.equal(asked, 1, 'the bot asked before offering an agent');
  assert.equal(offer.agent_unavailable.message, AGENT_UNAVAILABLE_TEXT);
  assert.ok(Date.now() - started < 6_000);
  // Only when it offers an agent.
  await offerFor(() => (asked++, new Promise(() => {})), 'How long does shipping take?');
  assert.equal(asked, 1, 'not asked for other answers');
});

test('bot: the reopening time in the customer\'s locale and time zone, the date too when more than a week away', () => {
  const opensAt = new Date('2026-12-28T08:00:00Z'); // Monday 09:00 in Paris
  const now = new Date('2026-12-24T20:00:00Z');
  assert.equal(backAt(opensAt, { now, locales: 'en-GB', timeZone: 'Europe/Paris' }), 'Monday at 09:00');
  assert.equal(backAt(opensAt, { now, locales: 'en-GB', timeZone: 'America/New_York' }), 'Monday at 03:00');
  assert.equal(backAt(opensAt, { now, locales: 'de-DE', timeZone: 'Asia/Tokyo' }), 'Montag at 17:00');
  assert.equal(backAt(opensAt, { now: new Date('2026-12-10T00:00:00Z'), locales: 'en-GB', timeZone: 'Europe/Paris' }), 'Monday 28 December at 09:00');
});
