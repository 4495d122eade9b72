// The stand-in in a real browser (headless Chromium): the browser's own WebSocket, and media upload and
// download from another origin than the emulator's (the page is on localhost, the emulator on 127.0.0.1),
// which needs the emulator's CORS answers.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { createHmac } from 'node:crypto';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { routeChat, startBinary, ROOT } from '../support/servers.mjs';
import { FAKE_TWILIO_ENV as ENV } from '../support/fake-env.mjs';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const skip = existsSync(CHROMIUM) ? false : `no Chromium at ${CHROMIUM}`;
const b64url = (v) => Buffer.from(JSON.stringify(v)).toString('base64url');
const basic = 'Basic ' + Buffer.from(`${ENV.TWILIO_ACCOUNT_SID}:${ENV.TWILIO_AUTH_TOKEN}`).toString('base64');

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

let emu;
let browser;
before(async () => {
  if (skip) return;
  emu = await startBinary('flexdesk-emulator', { EMULATOR_PORT: '0' });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
});
after(async () => {
  await browser?.close();
  await emu?.stop();
});

test('the stand-in works in Chromium, cross-origin, text and media both ways', { skip, timeout: 60000 }, async () => {
  const started = await (
    await fetch(`${emu.url}/v2/WebChats`, {
      method: 'POST',
      headers: { Authorization: basic, 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ AddressSid: ENV.TWILIO_ADDRESS_SID, CustomerFriendlyName: 'Ann' }),
    })
  ).json();
  // Routed as the auth server routes it: a REST message that fires the address's Studio flow (Flex's pipeline). It is
  // the conversation's message 0.
  const task = await routeChat(emu.url, started.conversation_sid);
  await fetch(`${emu.url}/agent/api/tasks/${task.sid}/accept`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"agent":"alice"}' });

  const page = await browser.newPage();
  try {
    // Another origin than the emulator's: localhost instead of 127.0.0.1.
    await page.goto(emu.url.replace('127.0.0.1', 'localhost') + '/healthz');
    const source = readFileSync(path.join(ROOT, 'www/emulator-client/index.js'), 'utf8');
    await page.addScriptTag({ type: 'module', content: `${source}\nwindow.StandIn = { Client };` });
    await page.waitForFunction(() => window.StandIn);
    const result = await page.evaluate(
      async ({ token, emulatorUrl, sid }) => {
        const client = new window.StandIn.Client(token, { emulatorUrl });
        await new Promise((resolve, reject) => {
          client.on('initialized', resolve);
          client.on('initFailed', ({ error }) => reject(new Error(error.message)));
        });
        const conv = await client.getConversationBySid(sid);
        const replies = [];
        conv.on('messageAdded', (m) => replies.push(m));
        const textIndex = await conv.sendMessage('from the browser', { flexdeskId: 'b1' });
        const file = new Blob([new Uint8Array([0x89, 0x50, 0x4e, 0x47])], { type: 'image/png' });
        const mediaIndex = await conv.prepareMessage().addMedia({ contentType: 'image/png', filename: 'dot.png', media: file }).build().send();
        const own = (await conv.getMessages()).items.find((m) => m.index === mediaIndex);
        const url = await own.attachedMedia[0].getContentTemporaryUrl();
        const bytes = [...new Uint8Array(await (await fetch(url)).arrayBuffer())];
        window.replies = replies;
        window.client = client;
        return {
          textIndex,
          mediaIndex,
          type: own.type,
          bytes,
        };
      },
      { token: mintToken(started.identity), emulatorUrl: emu.url, sid: started.conversation_sid },
    );
    assert.deepEqual(result, { textIndex: 1, mediaIndex: 2, type: 'media', bytes: [0x89, 0x50, 0x4e, 0x47] });
    // The agent answers (from here: the agent API is the console's, same-origin only).
    await fetch(`${emu.url}/agent/api/conversations/${started.conversation_sid}/messages`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ agent: 'alice', body: 'hello browser' }),
    });
    await page.waitForFunction(() => window.replies.some((m) => m.author === 'agent.alice' && m.body === 'hello browser'), null, { timeout: 5000 });
    assert.equal(await page.evaluate(() => window.client.shutdown().then(() => window.client.connectionState)), 'disconnected');
  } finally {
    await page.close();
  }
});
