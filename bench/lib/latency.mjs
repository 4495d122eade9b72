// startChat → connecting → agentJoined → the agent's first message with the real Conversations SDK against the
// emulator, beside the physical floor (one auth round trip + the twilsock handshake, measured in the same page). The
// agent is played from here: it accepts a chat's task as soon as the emulator lists it (polled every 5 ms) and the
// customer's client is in the conversation (as for a customer who waits: the agent's arrival is an SDK event), then
// writes once; the time of its accept's answer is recorded so the part of agentJoined spent waiting for the (bench)
// agent is visible. Each run is made twice, the SDK loaded with the page (`eager`) and by createConversationsClient
// when the chat starts (`lazy`, issue 27), in alternation so load on the shared cores falls on both alike; the lazy
// runs also record what flexdesk and Twilio code the page fetched before the chat started (gzipped).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { chromium } from 'playwright-core';
import { FLAGS, openPage, serve } from './browser.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** Where the bench page's flexdesk and Twilio code comes from (bench/lib/browser.mjs's mounts). */
const CODE = { '/pkg/': 'crates/flexdesk/pkg', '/sdk/': 'node_modules/@twilio/conversations/builds' };
const gzipped = (p) => {
  const mount = Object.keys(CODE).find((m) => p.startsWith(m));
  return mount ? gzipSync(readFileSync(path.join(ROOT, CODE[mount], p.slice(mount.length))), { level: 9 }).length : 0;
};

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor((s.length - 1) / 2)] : undefined;
};

/** `startStack(env)` starts emulator + auth server with `env` added to the auth server's (it needs the page's origin). */
export async function latencyBench({ startStack, runs = 5 }) {
  const server = await serve();
  const origin = `http://127.0.0.1:${server.address().port}`;
  const url = `${origin}/bench/latency.html`;
  const stack = await startStack({ ALLOWED_ORIGINS: origin });
  const { url: authUrl } = stack.auth;
  const { url: emulatorUrl } = stack.emulator;
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: FLAGS, timeout: 60000 });
  let stopAgent = false;
  // The conversation the current page's client has joined (null before): the agent accepts its task only then.
  let customerJoined = async () => null;
  const accepted = new Map(); // conversation SID → Date.now() when the accept was answered
  const agent = (async () => {
    while (!stopAgent) {
      try {
        const state = await (await fetch(`${emulatorUrl}/agent/api/state`)).json();
        for (const task of state.tasks ?? []) {
          if (task.status !== 'pending' || accepted.has(task.conversationSid) || task.conversationSid !== (await customerJoined())) continue;
          accepted.set(task.conversationSid, null);
          const r = await fetch(`${emulatorUrl}/agent/api/tasks/${task.sid}/accept`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ agent: 'alice' }) });
          accepted.set(task.conversationSid, r.ok ? Date.now() : NaN);
          await fetch(`${emulatorUrl}/agent/api/conversations/${task.conversationSid}/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ agent: 'alice', body: 'Hello, this is Alice.' }) });
        }
      } catch { /* the stack is stopping */ }
      await new Promise((r) => setTimeout(r, 5));
    }
  })();
  try {
    const chats = [];
    const lazyChats = [];
    const floors = [];
    let weight;
    for (let i = 0; i < runs; i++) {
      for (const lazy of [false, true]) {
        // A fresh context per run: nothing cached from the previous one (the wasm and the SDK are fetched again).
        const { page, close } = await openPage(browser, url, 'latencyReady');
        try {
          const requested = [];
          page.on('request', (r) => requested.push(new URL(r.url()).pathname));
          customerJoined = () => page.evaluate(() => window.latency.joined).catch(() => null);
          await page.evaluate((l) => window.latency.load(l), lazy);
          const beforeChat = requested.length;
          const chat = await page.evaluate(([a, e]) => window.latency.startToJoined(a, e), [authUrl, emulatorUrl]);
          const sid = chat.conversationSid;
          chat.ms.agentAccepted = sid && accepted.get(sid) ? accepted.get(sid) - chat.start : undefined;
          (lazy ? lazyChats : chats).push(chat.ms);
          if (lazy) {
            // The module page itself (`/pkg/index.js`) was fetched before `load`: count from the first request on.
            const sum = (list) => [...new Set(list)].reduce((a, p) => a + gzipped(p), 0);
            weight = { beforeEscalation: sum(['/pkg/index.js', ...requested.slice(0, beforeChat)]), atEscalation: sum(requested.slice(beforeChat)), files: [...new Set(requested)].filter((p) => gzipped(p) > 0) };
          } else {
            floors.push(await page.evaluate(([a, e]) => window.latency.floor(a, e), [authUrl, emulatorUrl]));
          }
        } finally {
          await close();
        }
      }
    }
    const m = (k, list = chats) => median(list.map((c) => c[k]).filter((x) => x !== undefined));
    const gap = (from, to, list = chats) => median(list.map((c) => c[to] - c[from]).filter((x) => Number.isFinite(x)));
    return {
      agentMessageMs: m('agentMessage'),
      lazyAgentMessageMs: m('agentMessage', lazyChats),
      lazyAgentJoinedMs: m('agentJoined', lazyChats),
      lazySdkLoadMs: gap('connecting', 'sdkLoaded', lazyChats),
      // Issue 27 item 3: from the agent's accept to the desk's agentJoined, and the floor: to the SDK's own event.
      acceptToJoinedMs: gap('agentAccepted', 'agentJoined'),
      acceptToSdkEventMs: gap('agentAccepted', 'sdkAgentJoined'),
      acceptToSdkUserMs: gap('agentAccepted', 'sdkAgentUser'),
      weight,
      lazyEach: lazyChats,
      runs,
      chromium: browser.version(),
      authSentMs: m('authSent'),
      authAnsweredMs: m('authAnswered'),
      connectingMs: m('connecting'),
      connectedMs: m('connected'),
      startResolvedMs: m('startResolved'),
      agentAcceptedMs: m('agentAccepted'),
      agentJoinedMs: m('agentJoined'),
      each: chats,
      floorAuthMs: median(floors.map((f) => f.authMs)),
      floorHandshakeMs: median(floors.map((f) => f.handshakeMs)),
      floors,
    };
  } finally {
    stopAgent = true;
    await agent;
    await browser.close();
    await stack.stop();
    server.close();
  }
}
