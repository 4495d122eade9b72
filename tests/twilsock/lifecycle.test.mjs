// Connection lifecycle of the real @twilio/conversations SDK against the emulator's twilsock endpoint: token update,
// token expiry warnings and expiry, and a dropped connection that the SDK recovers from without losing messages.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, mintToken, openSdkPage, startServer } from './harness.mjs';

describe('SDK connection lifecycle over twilsock', { timeout: 120000 }, () => {
  let server;
  let browser;
  const pages = [];

  before(async () => {
    server = await startServer();
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  const newClient = async (identity, token = mintToken(identity)) => {
    const p = await openSdkPage(browser, server.url);
    pages.push(p);
    await p.page.evaluate(
      async ({ token, uri }) => {
        window.startClient(token, uri);
        await window.waitForEvent("(ev) => ev.e === 'initialized'", 15000);
      },
      { token, uri: server.wsUri },
    );
    return p.page;
  };
  const names = (page) => page.evaluate(() => window.events.map((e) => e.e + (e.state ? ':' + e.state : '')));

  test('updateToken with a fresh token for the same identity is accepted; another identity is refused', async () => {
    const page = await newClient('dana');
    const ok = await page.evaluate((t) => window.client.updateToken(t).then(() => 'ok', (e) => 'refused: ' + e.message), mintToken('dana', { ttl: 7200 }));
    assert.equal(ok, 'ok');
    const other = await page.evaluate((t) => window.client.updateToken(t).then(() => 'ok', (e) => 'refused'), mintToken('mallory'));
    assert.equal(other, 'refused');
  });

  test('a token near expiry triggers tokenAboutToExpire; at expiry tokenExpired, and updateToken reconnects', async () => {
    const page = await newClient('erin', mintToken('erin', { ttl: 3 }));
    await page.evaluate(() => window.waitForEvent("(ev) => ev.e === 'tokenAboutToExpire'", 5000));
    await page.evaluate(() => window.waitForEvent("(ev) => ev.e === 'tokenExpired'", 8000));
    await page.evaluate(() => window.waitForEvent("(ev) => ev.e === 'connectionStateChanged' && ev.state === 'disconnected'", 8000));
    assert.deepEqual((await server.twilio.sdkIdentities()).filter((i) => i === 'erin'), []);
    await page.evaluate((t) => {
      window.events.length = 0;
      return window.client.updateToken(t);
    }, mintToken('erin'));
    await page.evaluate(() => window.waitForEvent("(ev) => ev.e === 'connectionStateChanged' && ev.state === 'connected'", 10000));
    assert.ok((await server.twilio.sdkIdentities()).includes('erin'));
  });

  test('after a dropped connection the SDK reconnects and receives what was sent meanwhile', async () => {
    const twilio = server.twilio;
    const conv = await twilio.createConversation('resilience');
    await twilio.addParticipant(conv.sid, 'frank', { member_type: 'customer' });
    await twilio.addParticipant(conv.sid, 'agent.alice', { member_type: 'agent' });
    const page = await newClient('frank');
    await page.evaluate(async (sid) => {
      window.conv = await window.client.getConversationBySid(sid);
      window.watchConversation(window.conv);
      await window.conv.getMessages();
    }, conv.sid);
    await twilio.post(conv.sid, 'agent.alice', 'before the drop');
    await page.evaluate(() => window.waitForEvent("(ev) => ev.e === 'messageAdded' && ev.body === 'before the drop'"));

    assert.ok((await twilio.sdkIdentities()).includes('frank'));
    await twilio.dropConnections();
    const since0 = Date.now() - 50;
    await twilio.post(conv.sid, 'agent.alice', 'while you were away');
    await twilio.setState(conv.sid, 'closed');

    // The SDK notices, says so, and reconnects on its own.
    const since = since0;
    await page.evaluate((since) => window.waitForEvent(`(ev) => ev.at >= ${since} && ev.e === 'connectionStateChanged' && ev.state === 'connecting'`, 10000), since);
    await page.evaluate((since) => window.waitForEvent(`(ev) => ev.at >= ${since} && ev.e === 'connectionStateChanged' && ev.state === 'connected'`, 15000), since);
    await page.evaluate(() => window.waitForEvent("(ev) => ev.e === 'messageAdded' && ev.body === 'while you were away'", 20000));
    const closed = await page.evaluate(() => window.waitForEvent("(ev) => ev.e === 'updated' && ev.state === 'closed'", 20000));
    assert.equal(closed.state, 'closed');
    const seen = await names(page);
    assert.ok(seen.filter((n) => n === 'connectionStateChanged:connected').length >= 2, seen.join());
  });
});
