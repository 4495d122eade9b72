// startChat → connecting → agentJoined with the real Conversations SDK against the emulator, beside the physical
// floor (one auth round trip + the twilsock handshake, measured in the same page). The agent is played from here:
// it accepts a chat's task as soon as the emulator lists it (polled every 5 ms), and the time of its accept's answer
// is recorded so the part of agentJoined spent waiting for the (bench) agent is visible.
import { chromium } from 'playwright-core';
import { FLAGS, openPage, serve } from './browser.mjs';

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
  const accepted = new Map(); // conversation SID → Date.now() when the accept was answered
  const agent = (async () => {
    while (!stopAgent) {
      try {
        const state = await (await fetch(`${emulatorUrl}/agent/api/state`)).json();
        for (const task of state.tasks ?? []) {
          if (task.status !== 'pending' || accepted.has(task.conversationSid)) continue;
          accepted.set(task.conversationSid, null);
          const r = await fetch(`${emulatorUrl}/agent/api/tasks/${task.sid}/accept`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ agent: 'alice' }) });
          accepted.set(task.conversationSid, r.ok ? Date.now() : NaN);
        }
      } catch { /* the stack is stopping */ }
      await new Promise((r) => setTimeout(r, 5));
    }
  })();
  try {
    const chats = [];
    const floors = [];
    for (let i = 0; i < runs; i++) {
      // A fresh context per run: nothing cached from the previous one (the wasm is fetched and compiled again).
      const { page, close } = await openPage(browser, url, 'latencyReady');
      try {
        const before = new Set(accepted.keys());
        const chat = await page.evaluate(([a, e]) => window.latency.startToJoined(a, e), [authUrl, emulatorUrl]);
        const sid = [...accepted.keys()].find((k) => !before.has(k));
        chat.ms.agentAccepted = sid && accepted.get(sid) ? accepted.get(sid) - chat.start : undefined;
        chats.push(chat.ms);
        floors.push(await page.evaluate(([a, e]) => window.latency.floor(a, e), [authUrl, emulatorUrl]));
      } finally {
        await close();
      }
    }
    const m = (k) => median(chats.map((c) => c[k]).filter((x) => x !== undefined));
    return {
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
