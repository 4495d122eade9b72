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

export async function startServer() {
  const server = await startBinary('flexdesk-twilsock-demo', { TWILSOCK_PORT: '0', RUST_LOG: process.env.RUST_LOG ?? 'info' });
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

/**
 * Opens Chromium on a page at `origin` (the server's own http://127.0.0.1:PORT: a secure context, which the SDK
 * needs for crypto.randomUUID) and injects the SDK's UMD build.
 */
export async function openSdkPage(origin, { logs = [] } = {}) {
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking',
      '--disable-component-update', '--no-first-run'],
  });
  const page = await browser.newPage();
  page.on('console', (m) => logs.push(`[${m.type()}] ${m.text()}`));
  page.on('pageerror', (e) => logs.push(`[pageerror] ${e.message}`));
  // The document must come from the server itself: Chromium's local-network checks block a ws://127.0.0.1 socket
  // from a page it considers public (a page.route-fulfilled document counts as public). The demo serves `/`.
  await page.goto(`${origin}/`);
  await page.addScriptTag({ content: readFileSync(SDK_PATH, 'utf8') });
  await page.waitForFunction(() => !!(window.Twilio && window.Twilio.Conversations && window.Twilio.Conversations.Client));
  return { browser, page, logs };
}
