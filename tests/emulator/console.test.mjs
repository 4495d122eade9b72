// The agent console page in headless Chromium, driven by its documented roles and labels, against a
// customer played by the JS stand-in in node.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createHmac } from 'node:crypto';
import { chromium } from 'playwright-core';
import { startBinary } from '../support/servers.mjs';
import { FAKE_TWILIO_ENV as ENV } from '../support/fake-env.mjs';
import { Client } from '../../www/emulator-client/index.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const WebSocketImpl = globalThis.WebSocket ?? (await import('ws')).default;
const b64url = (v) => Buffer.from(JSON.stringify(v)).toString('base64url');

function mintToken(identity) {
  const iat = Math.floor(Date.now() / 1000);
  const head = `${b64url({ alg: 'HS256', typ: 'JWT', cty: 'twilio-fpa;v=1' })}.${b64url({
    jti: `${ENV.TWILIO_API_KEY_SID}-${iat}`,
    grants: { identity, chat: { service_sid: ENV.TWILIO_CONVERSATIONS_SERVICE_SID } },
    iat,
    exp: iat + 3600,
    iss: ENV.TWILIO_API_KEY_SID,
    sub: ENV.TWILIO_ACCOUNT_SID,
  })}`;
  return `${head}.${createHmac('sha256', ENV.TWILIO_API_KEY_SECRET).update(head).digest('base64url')}`;
}

const basic = 'Basic ' + Buffer.from(`${ENV.TWILIO_ACCOUNT_SID}:${ENV.TWILIO_AUTH_TOKEN}`).toString('base64');
let emu;
let browser;

function next(emitter, event, pred = () => true, ms = 10000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${event} within ${ms} ms`)), ms);
    const listener = (arg) => {
      if (!pred(arg)) return;
      clearTimeout(timer);
      emitter.off(event, listener);
      resolve(arg);
    };
    emitter.on(event, listener);
  });
}

const skip = existsSync(CHROMIUM) ? false : `no Chromium at ${CHROMIUM}`;

before(async () => {
  if (skip) return;
  emu = await startBinary('flexdesk-emulator', { EMULATOR_PORT: '0' });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
});
after(async () => {
  await browser?.close();
  await emu?.stop();
});

const form = (path, params) =>
  fetch(`${emu.url}${path}`, {
    method: 'POST',
    headers: { Authorization: basic, 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(params),
  });

test('an agent accepts, reads, replies, transfers and ends a chat in the console', { skip, timeout: 60000 }, async () => {
  const res = await form('/v2/WebChats', {
    AddressSid: ENV.TWILIO_ADDRESS_SID,
    CustomerFriendlyName: 'Ann Example',
    PreEngagementData: JSON.stringify({
      email: 'ann@example.com',
      topic: 'billing',
      skill: 'payments',
      transcript: [{ from: 'user', text: 'Where is my refund?' }, { from: 'bot', text: 'Let me get a human.' }],
    }),
  });
  const { identity, conversation_sid: sid } = await res.json();
  const client = new Client(mintToken(identity), { emulatorUrl: emu.url, WebSocket: WebSocketImpl });
  await next(client, 'initialized');
  const conversation = await client.getConversationBySid(sid);
  // The customer's first message (from the SDK, so it fires onMessageAdded: what routes a web chat in Flex).
  await conversation.sendMessage('Hello, I need a person');
  // A hand-off message as the auth server posts it (REST, attributes flexdesk.handoff): an ordinary message.
  const handoff = await form(`/v1/Services/${ENV.TWILIO_CONVERSATIONS_SERVICE_SID}/Conversations/${sid}/Messages`, {
    Author: 'bot',
    Body: 'Customer asked about a refund for order 42.',
    Attributes: JSON.stringify({ flexdesk: { handoff: 'note' } }),
  });
  assert.equal(handoff.status, 201, await handoff.clone().text());
  const page = await browser.newPage();
  try {
    await page.goto(`${emu.url}/console?agent=alice`);
    // Listed by the task's display name (its `name` attribute); no task attribute beside it.
    const waiting = page.getByRole('list', { name: 'Waiting chats' }).getByRole('listitem').filter({ hasText: 'Ann Example' });
    await waiting.waitFor();
    assert.equal(await waiting.getByText('billing').count(), 0, 'the topic attribute is not shown in the waiting list');
    const joined = next(conversation, 'participantJoined');
    await page.getByRole('button', { name: 'Accept chat from Ann Example' }).click();
    assert.equal((await joined).attributes.friendlyName, 'Alice');
    const chat = page.getByRole('region', { name: 'Chat' });
    await chat.getByText('Chat with Ann Example').waitFor();

    // What a stock Flex agent sees: the messages, each with its author, the hand-off note among them.
    const log = page.getByRole('log', { name: 'Messages' });
    const note = log.locator('article[data-author="bot"]');
    await note.getByText('Customer asked about a refund for order 42.').waitFor();
    assert.equal(await note.locator('.muted').first().textContent(), 'bot');
    await log.locator(`article[data-author="${identity}"]`).getByText('Hello, I need a person').waitFor();

    // Task attributes are in the plugin-only panel, collapsed: nothing of them is shown until it is opened. The task's
    // attributes are what the address's default Chat flow set (docs/emulator.md, "Flex's pipeline"): the pre-engagement
    // data stays in the conversation's attributes, so it is nowhere in the console.
    const panel = page.getByRole('region', { name: /visible in Flex only with a plugin/ });
    assert.equal(await panel.isVisible(), false, 'the plugin-only panel starts collapsed');
    assert.equal(await chat.getByText('customerAddress').first().isVisible().catch(() => false), false, 'not shown before the panel is opened');
    await chat.getByText('Task attributes — visible in Flex only with a plugin', { exact: true }).click();
    // Read on purpose: a stock Flex agent would not see these attributes.
    await panel.getByText('customerAddress').first().waitFor();
    await panel.getByText('flexInteractionSid').first().waitFor();
    for (const text of ['payments', 'ann@example.com', 'Where is my refund?']) {
      assert.equal(await page.getByText(text).count(), 0, `${text} (pre-engagement data) is not on the task`);
    }

    // Untrusted text is shown as text.
    const hostile = '<img src=x onerror="window.pwned=1">hello';
    // The console reads what it shows: the customer sees the agent's read horizon.
    let hostileIndex = -1;
    const read = next(conversation, 'participantUpdated', (d) => d.participant.identity === 'agent.alice' && d.participant.lastReadMessageIndex === hostileIndex);
    hostileIndex = await conversation.sendMessage(hostile);
    await log.getByText(hostile).waitFor();
    assert.equal(await log.locator('img').count(), 0);
    assert.equal(await page.evaluate(() => window.pwned), undefined);
    await read;

    await conversation.typing();
    await page.getByRole('status', { name: 'Typing indicator' }).getByText('Ann Example is typing…').waitFor();

    const typing = next(conversation, 'typingStarted');
    const reply = next(conversation, 'messageAdded', (m) => m.author === 'agent.alice');
    await page.getByRole('textbox', { name: 'Message' }).pressSequentially('Hi Ann', { delay: 20 });
    assert.equal((await typing).identity, 'agent.alice');
    await page.getByRole('button', { name: 'Send', exact: true }).click();
    assert.equal((await reply).body, 'Hi Ann');
    await page.getByRole('status', { name: 'Console status' }).getByText('Send: done').waitFor();

    await conversation.setAllMessagesRead();
    await log.locator('article').filter({ hasText: 'Hi Ann' }).getByLabel('Read by customer').waitFor();

    // Availability shows in TaskRouter's statistics.
    await page.getByRole('checkbox', { name: 'Available' }).uncheck();
    await page.getByRole('status', { name: 'Console status' }).getByText('Unavailable: done').waitFor();
    const stats = await (
      await fetch(`${emu.url}/v1/Workspaces/${ENV.TWILIO_WORKSPACE_SID}/TaskQueues/${ENV.TWILIO_QUEUE_SID}/RealTimeStatistics`, { headers: { Authorization: basic } })
    ).json();
    assert.equal(stats.total_available_workers, 1);

    const order = [];
    conversation.on('participantJoined', (p) => order.push(`+${p.identity}`));
    const left = next(conversation, 'participantLeft');
    await page.getByLabel('Transfer to').selectOption({ label: 'Bob' });
    await page.getByRole('button', { name: 'Transfer', exact: true }).click();
    assert.equal((await left).identity, 'agent.alice');
    assert.deepEqual(order, ['+agent.bob']);

    await page.getByLabel('Agent', { exact: true }).selectOption({ label: 'Bob' });
    await page.getByRole('button', { name: 'Open chat with Ann Example' }).waitFor();
    const ended = next(conversation, 'updated', (d) => d.updateReasons.includes('state'));
    await page.getByRole('button', { name: 'End chat' }).click();
    assert.equal((await ended).conversation.state.current, 'closed');
  } finally {
    await page.close();
    await client.shutdown();
  }
});

test('the display name is the task\'s `name`, else `from`, never another attribute', { skip, timeout: 60000 }, async () => {
  // An Interactions API task whose attributes have no `name`: Flex shows `from`, not `customerName`.
  const conv = await (await form(`/v1/Services/${ENV.TWILIO_CONVERSATIONS_SERVICE_SID}/Conversations`, { FriendlyName: 'no name' })).json();
  const created = await form('/v1/Interactions', {
    Channel: JSON.stringify({ type: 'chat', initiated_by: 'customer', properties: { media_channel_sid: conv.sid } }),
    Routing: JSON.stringify({
      properties: {
        workspace_sid: ENV.TWILIO_WORKSPACE_SID,
        workflow_sid: ENV.TWILIO_WORKFLOW_SID,
        task_channel_unique_name: 'chat',
        attributes: { from: 'zed@example.com', customerName: 'Not The Display Name' },
      },
    }),
  });
  assert.equal(created.status, 201, await created.clone().text());
  const page = await browser.newPage();
  try {
    await page.goto(`${emu.url}/console?agent=bob`);
    // The interaction routes a moment after the 201 (Interactions is asynchronous): the task appears when it does.
    await page.getByRole('button', { name: 'Accept chat from zed@example.com' }).waitFor({ timeout: 15000 });
    assert.equal(await page.getByRole('list', { name: 'Waiting chats' }).getByText('Not The Display Name').count(), 0);
  } finally {
    await page.close();
  }
});

/** A chat task for `name` through the Interactions API (as Studio's Send to Flex makes one): its KD, UO and WT. */
async function interactionTask(name) {
  const conv = await (await form(`/v1/Services/${ENV.TWILIO_CONVERSATIONS_SERVICE_SID}/Conversations`, { FriendlyName: name })).json();
  const created = await form('/v1/Interactions', {
    Channel: JSON.stringify({ type: 'chat', initiated_by: 'customer', properties: { media_channel_sid: conv.sid } }),
    Routing: JSON.stringify({
      properties: { workspace_sid: ENV.TWILIO_WORKSPACE_SID, workflow_sid: ENV.TWILIO_WORKFLOW_SID, task_channel_unique_name: 'chat', attributes: { name } },
    }),
  });
  const v = await created.json();
  assert.equal(created.status, 201, JSON.stringify(v));
  const wt = v.routing.properties.sid;
  // Interactions is asynchronous: TaskRouter has the task a moment after the 201.
  for (let i = 0; i < 100; i++) {
    const { tasks } = await (await fetch(`${emu.url}/agent/api/state`)).json();
    if (tasks.some((t) => t.sid === wt)) return { kd: v.sid, uo: v.channel.sid, wt };
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the interaction's task ${wt} was not routed within 10 s`);
}

/** The console's three lists, as the names each lists. */
async function lists(page) {
  const names = (label) => page.getByRole('list', { name: label }).getByRole('listitem').allTextContents();
  return { waiting: await names('Waiting chats'), active: await names('Active chats'), ended: await names('Ended chats') };
}

test('a task in wrap-up is in the agent\'s Active chats only, marked Wrap-up, until Complete moves it to Ended chats', { skip, timeout: 60000 }, async () => {
  const { kd, uo, wt } = await interactionTask('Wes Wrapup');
  const page = await browser.newPage();
  try {
    await page.goto(`${emu.url}/console?agent=alice`);
    await page.getByRole('button', { name: 'Accept chat from Wes Wrapup' }).click({ timeout: 15000 });
    await page.getByRole('status', { name: 'Console status' }).getByText('Accept: done').waitFor();
    // The customer leaves: the interaction channel closes without Routing, so the agent's task wraps up
    // (https://www.twilio.com/docs/flex/developer/conversations/interactions-api/channels-subresource).
    const closed = await form(`/v1/Interactions/${kd}/Channels/${uo}`, { Status: 'closed' });
    assert.equal(closed.status, 200, await closed.clone().text());
    const active = page.getByRole('list', { name: 'Active chats' }).getByRole('listitem').filter({ hasText: 'Wes Wrapup' });
    await active.getByText('Wrap-up', { exact: true }).waitFor();
    // A wrapping task is still the agent's (https://www.twilio.com/docs/taskrouter/lifecycle-task-state): one list only.
    let shown = await lists(page);
    assert.equal(shown.ended.filter((t) => t.includes('Wes Wrapup')).length, 0, `not in Ended chats while wrapping: ${JSON.stringify(shown)}`);
    assert.equal(shown.active.filter((t) => t.includes('Wes Wrapup')).length, 1, JSON.stringify(shown));
    // In wrap-up the chat offers Complete, not the reply box, Transfer or End chat.
    const chat = page.getByRole('region', { name: 'Chat' });
    await chat.getByRole('status', { name: 'Wrap-up' }).waitFor();
    for (const name of ['End chat', 'Transfer', 'Send']) {
      assert.equal(await chat.getByRole('button', { name, exact: true }).isVisible(), false, `${name} is hidden in wrap-up`);
    }
    await chat.getByRole('button', { name: 'Complete', exact: true }).click();
    await page.getByRole('status', { name: 'Console status' }).getByText('Complete: done').waitFor();
    await page.getByRole('list', { name: 'Ended chats' }).getByRole('listitem').filter({ hasText: 'Wes Wrapup' }).waitFor();
    shown = await lists(page);
    assert.equal(shown.active.filter((t) => t.includes('Wes Wrapup')).length, 0, `left Active chats: ${JSON.stringify(shown)}`);
    const task = await (await fetch(`${emu.url}/v1/Workspaces/${ENV.TWILIO_WORKSPACE_SID}/Tasks/${wt}`, { headers: { Authorization: basic } })).json();
    assert.equal(task.assignment_status, 'completed');
  } finally {
    await page.close();
  }
});

test('a chat\'s rating is in the supervisor view (Flex Insights), not in the agent console', { skip, timeout: 60000 }, async () => {
  // The customer's comment is untrusted text: shown as text.
  const COMMENT = 'Quick and kind <img src=x onerror="window.pwned=1">';
  const { wt } = await interactionTask('Rae Rated');
  const accepted = await fetch(`${emu.url}/agent/api/tasks/${wt}/accept`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ agent: 'alice' }),
  });
  assert.equal(accepted.status, 200, await accepted.clone().text());
  assert.equal((await fetch(`${emu.url}/agent/api/tasks/${wt}/end`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' })).status, 200);
  // As the auth server writes a rating: Flex Insights' custom conversation data on the task (twilio-oai UpdateTask).
  const task = await (await fetch(`${emu.url}/v1/Workspaces/${ENV.TWILIO_WORKSPACE_SID}/Tasks/${wt}`, { headers: { Authorization: basic } })).json();
  const attributes = { ...JSON.parse(task.attributes), conversations: { conversation_measure_1: 4, conversation_attribute_1: COMMENT } };
  const updated = await form(`/v1/Workspaces/${ENV.TWILIO_WORKSPACE_SID}/Tasks/${wt}`, { Attributes: JSON.stringify(attributes) });
  assert.equal(updated.status, 200, await updated.clone().text());

  const page = await browser.newPage();
  try {
    await page.goto(`${emu.url}/console?agent=alice`);
    const ended = page.getByRole('list', { name: 'Ended chats' }).getByRole('listitem').filter({ hasText: 'Rae Rated' });
    await ended.waitFor();
    // A stock Flex agent does not see the rating (a task attribute): not in the agent's view.
    assert.deepEqual(await ended.allTextContents(), ['Rae Rated']);
    assert.equal(await page.getByText(/Rated 4 of 5|Quick and kind/).count(), 0, 'no rating anywhere in the agent console');
    // The supervisor view, opened from the console's link in a tab of its own.
    const [supervisor] = await Promise.all([
      page.context().waitForEvent('page'),
      page.getByRole('link', { name: 'Supervisor view (Flex Insights)' }).click(),
    ]);
    try {
      await supervisor.getByRole('heading', { name: 'Supervisor view (Flex Insights)' }).waitFor();
      const row = supervisor.getByRole('table', { name: 'Conversations as Flex Insights reads them' }).getByRole('row').filter({ hasText: 'Rae Rated' });
      await row.getByText('Rated 4 of 5', { exact: true }).waitFor();
      assert.deepEqual(await row.getByRole('cell').allTextContents(), ['Rae Rated', 'Alice', 'completed', 'Rated 4 of 5', COMMENT]);
      assert.equal(await supervisor.locator('img').count(), 0, 'no element was made from the comment');
      assert.equal(await supervisor.evaluate(() => window.pwned), undefined);
    } finally {
      await supervisor.close();
    }
  } finally {
    await page.close();
  }
});
