// The real @twilio/conversations SDK (UMD build, headless Chromium) as the customer of a chat started over the
// emulator's REST API, against the emulator's agent console (a second page), through the emulator's twilsock
// endpoint /v3/wsconnect: messages, typing and read receipts both ways, and the agent ending the chat.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { FAKE_TWILIO_ENV as ENV } from '../support/fake-env.mjs';
import { ROOT, startBinary } from '../support/servers.mjs';
import { launchBrowser, mintToken, openSdkPage } from './harness.mjs';

const skip = !existsSync(path.join(ROOT, 'target/debug/flexdesk-emulator')) && 'target/debug/flexdesk-emulator not built';
const basic = 'Basic ' + Buffer.from(`${ENV.TWILIO_ACCOUNT_SID}:${ENV.TWILIO_AUTH_TOKEN}`).toString('base64');
let emu;
let browser;

before(async () => {
  if (skip) return;
  emu = await startBinary('flexdesk-emulator', { EMULATOR_PORT: '0' });
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await emu?.stop();
});

test('real SDK customer and the agent console share one chat: text, typing, read both ways, agent ends', { skip, timeout: 60000 }, async () => {
  const res = await fetch(`${emu.url}/v2/WebChats`, {
    method: 'POST',
    headers: { Authorization: basic, 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ AddressSid: ENV.TWILIO_ADDRESS_SID, CustomerFriendlyName: 'Ann Example' }),
  });
  const { identity, conversation_sid: sid } = await res.json();
  const logs = [];
  const { page: customer } = await openSdkPage(browser, emu.url, { logs });
  try {
    const wsUri = emu.url.replace('http:', 'ws:') + '/v3/wsconnect';
    await customer.evaluate(([token, uri, ch]) => new Promise((resolve, reject) => {
      const client = window.startClient(token, uri, { logLevel: 'warn' });
      client.on('initialized', async () => {
        try {
          window.conversation = await client.getConversationBySid(ch);
          window.watchConversation(window.conversation);
          resolve();
        } catch (e) { reject(e); }
      });
      client.on('initFailed', ({ error }) => reject(new Error(error && error.message)));
    }), [mintToken(identity), wsUri, sid]);
    const waitFor = (pred) => customer.evaluate((p) => window.waitForEvent(p), pred.toString());

    // Customer -> agent: the SDK's message fires onMessageAdded, which is what routes a web chat to Flex (the
    // address's Studio flow; docs/emulator.md, "Flex's pipeline"); before it there is nothing to accept.
    const sent = await customer.evaluate(() => window.conversation.sendMessage('hello from the real SDK'));
    assert.equal(sent, 0, 'sendMessage resolves to the new index');
    const agent = await (await browser.newContext()).newPage();
    await agent.goto(`${emu.url}/console?agent=alice`);
    await agent.getByRole('button', { name: 'Accept chat from Ann Example' }).click();
    assert.equal((await waitFor((ev) => ev.e === 'participantJoined')).identity, 'agent.alice');
    // The console reads what it shows, and the SDK gets the agent's read horizon.
    await agent.getByRole('log', { name: 'Messages' }).getByText('hello from the real SDK').waitFor();
    await waitFor((ev) => ev.e === 'participantUpdated' && ev.identity === 'agent.alice' && ev.lastReadMessageIndex === 0);

    await customer.evaluate(() => window.conversation.typing());
    await agent.getByRole('status', { name: 'Typing indicator' }).getByText('Ann Example is typing…').waitFor();

    // Agent -> customer: typing, then the message.
    await agent.getByRole('textbox', { name: 'Message' }).pressSequentially('Hi Ann', { delay: 20 });
    assert.equal((await waitFor((ev) => ev.e === 'typingStarted')).identity, 'agent.alice');
    await agent.getByRole('button', { name: 'Send', exact: true }).click();
    const reply = await waitFor((ev) => ev.e === 'messageAdded' && ev.author === 'agent.alice');
    assert.deepEqual([reply.body, reply.index], ['Hi Ann', 1]);

    await customer.evaluate(() => window.conversation.setAllMessagesRead());
    await agent.getByRole('log', { name: 'Messages' }).locator('article').filter({ hasText: 'Hi Ann' }).getByLabel('Read by customer').waitFor();

    await agent.getByRole('button', { name: 'End chat' }).click();
    assert.equal((await waitFor((ev) => ev.e === 'updated' && ev.updateReasons.includes('state'))).state, 'closed');
    await assert.rejects(customer.evaluate(() => window.conversation.sendMessage('too late')), 'a closed chat refuses messages');
  } catch (e) {
    console.error(logs.slice(-30).join('\n'));
    throw e;
  } finally {
    await customer.evaluate(() => window.client.shutdown()).catch(() => {});
  }
});
