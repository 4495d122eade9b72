// Test harness for the real @twilio/conversations SDK against flexdesk-twilsock as the emulator serves it: starts the
// emulator, mints AccessTokens, and opens headless Chromium on a page that has the SDK's UMD build loaded.
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

/**
 * Starts the emulator (the one Twilio fake: its `/v3/wsconnect` serves the real SDK) and answers helpers that play
 * the other side of the chat through the emulator's own paths: Twilio's Conversations REST API in the Flex service
 * for conversations, participants, messages and state; the agent API for an agent's typing and read horizon
 * (agents are the emulator's configured ones: `alice` acts as `agent.alice`); the test controls for connections.
 */
export async function startServer(env = {}) {
  const server = await startBinary('flexdesk-emulator', { EMULATOR_PORT: '0', RUST_LOG: process.env.RUST_LOG ?? 'info', ...env });
  const basic = 'Basic ' + Buffer.from(`${FAKE_TWILIO_ENV.TWILIO_ACCOUNT_SID}:${FAKE_TWILIO_ENV.TWILIO_AUTH_TOKEN}`).toString('base64');
  const call = async (method, p, { form, json } = {}) => {
    const headers = {};
    let body;
    if (form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(form);
    } else if (json) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(json);
    }
    if (p.startsWith('/v1/')) headers.authorization = basic;
    const res = await fetch(server.url + p, { method, headers, body });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${p} -> ${res.status} ${text}`);
    return text ? JSON.parse(text) : null;
  };
  const conversations = `/v1/Services/${FAKE_TWILIO_ENV.TWILIO_CONVERSATIONS_SERVICE_SID}/Conversations`;
  const C = (sid) => `${conversations}/${sid}`;
  const agent = (identity) => identity.replace(/^agent\./, '');
  const twilio = {
    createConversation: (friendlyName) => call('POST', conversations, { form: { FriendlyName: friendlyName } }),
    addParticipant: (sid, identity, attributes = {}) =>
      call('POST', `${C(sid)}/Participants`, { form: { Identity: identity, Attributes: JSON.stringify(attributes) } }),
    removeParticipant: (sid, identity) => call('DELETE', `${C(sid)}/Participants/${encodeURIComponent(identity)}`),
    post: (sid, author, body) => call('POST', `${C(sid)}/Messages`, { form: { Author: author, Body: body } }),
    /** Messages with their attributes parsed (REST carries them as a JSON string). */
    messages: async (sid) =>
      (await call('GET', `${C(sid)}/Messages?PageSize=100`)).messages.map((m) => ({ ...m, attributes: JSON.parse(m.attributes) })),
    participants: async (sid) => (await call('GET', `${C(sid)}/Participants`)).participants,
    setState: (sid, state) => call('POST', C(sid), { form: { State: state } }),
    /** An agent (its participant identity, `agent.<id>`) typing or moving its read horizon, as the console does. */
    typing: (sid, identity) => call('POST', `/agent/api/conversations/${sid}/typing`, { json: { agent: agent(identity) } }),
    read: (sid, identity, index) => call('POST', `/agent/api/conversations/${sid}/read`, { json: { agent: agent(identity), index } }),
    /** The identity of each open real-SDK connection. */
    sdkIdentities: async () => (await call('GET', '/admin/state')).sdkIdentities,
    dropConnections: () => call('POST', '/admin/faults', { json: { dropWebsockets: true } }),
  };
  return { ...server, wsUri: server.url.replace('http:', 'ws:') + '/v3/wsconnect', twilio };
}

export function launchBrowser() {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking',
      '--disable-component-update', '--no-first-run'],
  });
}

/**
 * Opens a page (own browser context, so two clients share no storage) at `origin` -- the emulator's
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
  // from a page it considers public (a page.route-fulfilled document counts as public). Any path of the server does.
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
