// Test harness for the real @twilio/conversations SDK against flexdesk-twilsock: starts the demo server, mints
// AccessTokens, and opens headless Chromium on a page that has the SDK's UMD build loaded.
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { FAKE_TWILIO_ENV } from '../support/fake-env.mjs';
import { ROOT, startBinary } from '../support/servers.mjs';

const SDK_PATH = path.join(ROOT, 'node_modules/@twilio/conversations/builds/twilio-conversations.min.js');

const b64url = (v) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

/** A Twilio AccessToken (HS256, cty twilio-fpa;v=1) with a chat grant, signed with the fake API key secret. */
export function mintToken(identity, { ttl = 3600, secret = FAKE_TWILIO_ENV.TWILIO_API_KEY_SECRET } = {}) {
  const now = Math.floor(Date.now() / 1000);
  const header = { alg: 'HS256', typ: 'JWT', cty: 'twilio-fpa;v=1' };
  const payload = {
    jti: `${FAKE_TWILIO_ENV.TWILIO_API_KEY_SID}-${now}`,
    grants: { identity, chat: { service_sid: FAKE_TWILIO_ENV.TWILIO_CONVERSATIONS_SERVICE_SID } },
    iat: now,
    exp: now + ttl,
    iss: FAKE_TWILIO_ENV.TWILIO_API_KEY_SID,
    sub: FAKE_TWILIO_ENV.TWILIO_ACCOUNT_SID,
  };
  const signingInput = `${b64url(header)}.${b64url(payload)}`;
  return `${signingInput}.${createHmac('sha256', secret).update(signingInput).digest('base64url')}`;
}

export async function startServer(env = {}) {
  const server = await startBinary('flexdesk-twilsock-demo', { TWILSOCK_PORT: '0', RUST_LOG: process.env.RUST_LOG ?? 'info', ...env });
  const control = async (method, p, body) => {
    const res = await fetch(server.url + p, {
      method,
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = await res.json();
    if (!res.ok) throw new Error(`${method} ${p} -> ${res.status} ${JSON.stringify(json)}`);
    return json;
  };
  return { ...server, wsUri: server.url.replace('http:', 'ws:') + '/v3/wsconnect', control };
}

export function launchBrowser() {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking',
      '--disable-component-update', '--no-first-run'],
  });
}

/**
 * Opens a page (own browser context, so two clients share no storage) at `origin` -- the demo server's
 * http://127.0.0.1:PORT: a secure context, which the SDK needs for crypto.randomUUID -- and injects the SDK's UMD
 * build plus small helpers: `startClient(token, uri, options)` records every client/conversation event in
 * `window.events`, `waitForEvent(predicate source, ms)` waits for one.
 */
export async function openSdkPage(browser, origin, { logs = [] } = {}) {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.on('console', (m) => logs.push(`[${m.type()}] ${m.text()}`));
  page.on('pageerror', (e) => logs.push(`[pageerror] ${e.message}`));
  // The document must come from the server itself: Chromium's local-network checks block a ws://127.0.0.1 socket
  // from a page it considers public (a page.route-fulfilled document counts as public). The demo serves `/`.
  await page.goto(`${origin}/`);
  await page.addScriptTag({ content: readFileSync(SDK_PATH, 'utf8') });
  await page.waitForFunction(() => !!(window.Twilio && window.Twilio.Conversations && window.Twilio.Conversations.Client));
  await page.evaluate(installHelpers);
  return { context, page, logs };
}

// Runs in the page.
function installHelpers() {
  window.events = [];
  const record = (e) => window.events.push({ at: Date.now(), ...e });
  window.startClient = (token, uri, options = {}) => {
    const client = new window.Twilio.Conversations.Client(token, { Twilsock: { uri }, logLevel: 'debug', ...options });
    window.client = client;
    client.on('connectionStateChanged', (state) => record({ e: 'connectionStateChanged', state }));
    client.on('stateChanged', (state) => record({ e: 'stateChanged', state }));
    client.on('initialized', () => record({ e: 'initialized' }));
    client.on('initFailed', ({ error }) => record({ e: 'initFailed', message: error && error.message }));
    client.on('connectionError', (error) => record({ e: 'connectionError', ...error }));
    client.on('tokenAboutToExpire', () => record({ e: 'tokenAboutToExpire' }));
    client.on('tokenExpired', () => record({ e: 'tokenExpired' }));
    return client;
  };
  window.watchConversation = (c) => {
    window.messages = [];
    c.on('messageAdded', (m) => {
      window.messages.push(m);
      const media = (m.attachedMedia || []).map((x) => ({ sid: x.sid, filename: x.filename, contentType: x.contentType, size: x.size }));
      record({ e: 'messageAdded', author: m.author, body: m.body, index: m.index, attributes: m.attributes, type: m.type, media });
    });
    c.on('typingStarted', (p) => record({ e: 'typingStarted', identity: p.identity }));
    c.on('typingEnded', (p) => record({ e: 'typingEnded', identity: p.identity }));
    c.on('participantJoined', (p) => record({ e: 'participantJoined', identity: p.identity }));
    c.on('participantLeft', (p) => record({ e: 'participantLeft', identity: p.identity }));
    c.on('participantUpdated', ({ participant, updateReasons }) =>
      record({ e: 'participantUpdated', identity: participant.identity, updateReasons, lastReadMessageIndex: participant.lastReadMessageIndex }));
    c.on('updated', ({ conversation, updateReasons }) =>
      record({ e: 'updated', updateReasons, state: conversation.state && conversation.state.current }));
  };
  window.waitForEvent = (predicateSource, ms = 10000) => {
    const predicate = new Function('ev', `return (${predicateSource})(ev)`);
    return new Promise((resolve, reject) => {
      const started = Date.now();
      const poll = () => {
        const found = window.events.find((ev) => predicate(ev));
        if (found) return resolve(found);
        if (Date.now() - started > ms) return reject(new Error(`no event matching ${predicateSource} in ${ms} ms; saw ${JSON.stringify(window.events)}`));
        setTimeout(poll, 25);
      };
      poll();
    });
  };
}
