// Test 5: load and soak, HTTP-level: the auth server starts each chat, the customer side is a realtime
// WebSocket client (chat-client.mjs) and the agent answers through the emulator's agent API. Bounded:
// loopback only, a fixed number of chats, stops by itself.
//   load: LOAD_CHATS concurrent chats for LOAD_SECONDS, each side sending every LOAD_INTERVAL_MS; then every
//         message is counted on the other side (0 lost, 0 duplicated) and every request's errors. A start the auth
//         server refuses with Retry-After (503 twilio_busy: its pacing keeps to Twilio's 5 starts/s; 429) is tried
//         again after that wait, as a customer's desk tells its customer to: refused starts are reported on their
//         own, not as errors (issue 24, item 11); a chat that never starts within START_DEADLINE_SECONDS is one.
//   soak: SOAK_SECONDS of chats started and ended continuously (SOAK_CHATS at a time); RSS and open fds of both
//         servers sampled every SOAK_SAMPLE_SECONDS and printed; auth RSS must not trend up, and fds must stay
//         bounded (lib.mjs fdsGrowth: under idle + what the chats in flight hold, floor not rising).
import { readFileSync, readdirSync } from 'node:fs';
import { startStack, report, json, seconds, sleep, fdsGrowth } from './lib.mjs';
import { ChatClient } from './chat-client.mjs';

const mode = process.argv[2] ?? 'load';
const stack = await startStack({ RATE_LIMIT_BURST: '1000000', RATE_LIMIT_PER_MINUTE: '1000000', MAX_OPEN_SESSIONS: '0', RUST_LOG: 'warn' });
const wsUrl = stack.emulator.url.replace('http', 'ws') + '/v1/realtime';
let errors = 0;
const errorSamples = [];
const fail = (what) => { errors++; if (errorSamples.length < 10) errorSamples.push(what); };

async function emu(method, path, body) {
  const r = await json(stack.emulator.url + path, { method, body: body && JSON.stringify(body) });
  if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${r.text.slice(0, 200)}`);
  return r.body;
}

let refusedStarts = 0;
const startDeadlineMs = seconds('START_DEADLINE_SECONDS', 300) * 1000;

/** Starts one chat: session (again after Retry-After when refused for now), customer connected. */
async function startChat(n) {
  const until = Date.now() + startDeadlineMs;
  let s;
  for (;;) {
    s = await json(`${stack.auth.url}/v1/sessions`, { method: 'POST', body: JSON.stringify({ customerName: `Load ${n}` }) });
    const wait = Number(s.headers.get('retry-after'));
    if (![429, 503].includes(s.status) || !(wait > 0) || Date.now() + wait * 1000 > until) break;
    refusedStarts++;
    await sleep(wait * 1000);
  }
  if (s.status !== 201) throw new Error(`start: ${s.status} ${s.text}`);
  const c = new ChatClient({ wsUrl, token: s.body.token, conversationSid: s.body.conversationSid, identity: s.body.identity, onError: fail });
  await c.connect();
  return { n, session: s.body, client: c, agentSent: [], customerSent: [] };
}

async function acceptAll(chats) {
  // Flex routes a moment after the start (the last chats started late, after their Retry-After): wait for every task.
  const until = Date.now() + 15000;
  let byConv;
  do {
    byConv = new Map((await emu('GET', '/agent/api/state')).tasks.map((t) => [t.conversationSid, t]));
    if (chats.every((c) => byConv.has(c.session.conversationSid))) break;
    await sleep(200);
  } while (Date.now() < until);
  await pool(chats, 20, async (chat) => {
    const t = byConv.get(chat.session.conversationSid);
    if (!t) throw new Error(`no task for ${chat.session.conversationSid} after 15 s`);
    if (t.status !== 'assigned' && !t.agent) await emu('POST', `/agent/api/tasks/${t.sid}/accept`, { agent: 'alice' });
  });
}

async function pool(items, width, fn) {
  let i = 0;
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, async () => {
    while (i < items.length) {
      const item = items[i++];
      try { await fn(item); } catch (e) { fail(e.message); }
    }
  }));
}

/** Each chat alternates customer and agent messages until the deadline, with jitter. */
async function converse(chats, untilMs, intervalMs) {
  await Promise.all(chats.map(async (chat) => {
    await sleep(Math.random() * intervalMs);
    let i = 0;
    while (Date.now() < untilMs) {
      const body = `c${chat.n}-${i}`;
      chat.customerSent.push(body);
      chat.client.send(body, `id-${chat.n}-${i}`);
      const a = `a${chat.n}-${i}`;
      try {
        await emu('POST', `/agent/api/conversations/${chat.session.conversationSid}/messages`, { agent: 'alice', body: a });
        chat.agentSent.push(a);
      } catch (e) { fail(e.message); }
      i++;
      await sleep(intervalMs * (0.5 + Math.random()));
    }
  }));
}

/** Counts, after delivery settled: customer messages at the agent, agent messages shown to the customer. */
async function count(chats) {
  const deadline = Date.now() + 30000;
  let lost = 0, duplicated = 0, sent = 0, state;
  do {
    await sleep(500);
    state = new Map((await emu('GET', '/admin/state')).conversations.map((c) => [c.sid, c]));
    lost = 0; duplicated = 0; sent = 0;
    for (const chat of chats) {
      const bodies = state.get(chat.session.conversationSid).messages.map((m) => m.body);
      const atAgent = new Map();
      for (const b of bodies) atAgent.set(b, (atAgent.get(b) ?? 0) + 1);
      const shown = new Map();
      for (const b of chat.client.shown.values()) shown.set(b, (shown.get(b) ?? 0) + 1);
      for (const b of chat.customerSent) { sent++; const k = atAgent.get(b) ?? 0; if (!k) lost++; if (k > 1) duplicated += k - 1; }
      for (const b of chat.agentSent) { sent++; const k = shown.get(b) ?? 0; if (!k) lost++; if (k > 1) duplicated += k - 1; }
    }
  } while (lost > 0 && Date.now() < deadline);
  return { lost, duplicated, sent };
}

async function endChats(chats) {
  await pool(chats, 20, async (chat) => {
    chat.client.close();
    const r = await json(`${stack.auth.url}/v1/sessions/${chat.session.sessionId}`, {
      method: 'DELETE', body: JSON.stringify({ sessionCredential: chat.session.sessionCredential }) });
    if (r.status !== 204) fail(`end: ${r.status}`);
  });
}

function sample(child) {
  const pid = child.pid;
  const rss = Number(readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/)[1]);
  return { rssKb: rss, fds: readdirSync(`/proc/${pid}/fd`).length };
}

/** Least-squares slope per sample of the second half (after warm-up), relative to its mean. */
function trend(values) {
  const v = values.slice(Math.floor(values.length / 2));
  const n = v.length;
  if (n < 3) return 0;
  const mx = (n - 1) / 2, my = v.reduce((a, b) => a + b, 0) / n;
  let num = 0, den = 0;
  v.forEach((y, x) => { num += (x - mx) * (y - my); den += (x - mx) ** 2; });
  return (num / den) * n / (my || 1); // growth over the half, as a fraction of the mean
}

let result;
try {
  if (mode === 'load') {
    const n = Number(process.env.LOAD_CHATS ?? 100);
    const secs = seconds('LOAD_SECONDS', 30);
    const interval = Number(process.env.LOAD_INTERVAL_MS ?? 5000);
    const chats = [];
    await pool(Array.from({ length: n }, (_, i) => i), 20, async (i) => chats.push(await startChat(i)));
    await acceptAll(chats);
    const began = Date.now();
    await converse(chats, began + secs * 1000, interval);
    const c = await count(chats);
    const reconnects = chats.reduce((a, ch) => a + ch.client.reconnects, 0);
    await endChats(chats);
    const health = (await json(`${stack.auth.url}/healthz`)).status === 200;
    if (!health) fail('auth server unhealthy after the load');
    if (chats.length !== n) fail(`${n - chats.length} chats did not start`);
    console.log(`load: ${chats.length} concurrent chats for ${secs} s: ${c.sent} messages, ${c.lost} lost, ${c.duplicated} duplicated, ${refusedStarts} starts refused for now and retried after Retry-After, ${reconnects} socket reconnects, ${errors} errors ${errorSamples.join(' | ')}`);
    result = report({ test: `load (${n} chats, ${secs} s)`, cases: c.sent, faults: reconnects + refusedStarts, failures: errors + c.lost + c.duplicated,
      detail: `${c.lost} lost, ${c.duplicated} duplicated, ${refusedStarts} refused starts (retried), ${errors} errors, ${reconnects} reconnects (server closed lagging sockets)` });
  } else {
    const secs = seconds('SOAK_SECONDS', 60);
    const every = seconds('SOAK_SAMPLE_SECONDS', 5);
    const width = Number(process.env.SOAK_CHATS ?? 20);
    const samples = [];
    // Before any chat: what each server holds open idle (listeners, runtime).
    const idle = { auth: sample(stack.auth.child).fds, emulator: sample(stack.emulator.child).fds };
    // Per chat of a wave at most 4 sockets: the customer's WebSocket, the agent's API call, the auth server's
    // pooled connection to the emulator (kept 90 s idle by reqwest), this client's keep-alive connection to auth.
    const inFlight = 4 * width;
    const end = Date.now() + secs * 1000;
    let started = 0, messages = 0, lostTotal = 0, dupTotal = 0;
    const sampler = setInterval(() => {
      const s = { t: Math.round((secs * 1000 - (end - Date.now())) / 1000), auth: sample(stack.auth.child), emulator: sample(stack.emulator.child) };
      samples.push(s);
      console.log(`soak t=${s.t}s auth rss=${s.auth.rssKb} KB fds=${s.auth.fds}  emulator rss=${s.emulator.rssKb} KB fds=${s.emulator.fds}`);
    }, every * 1000);
    // Waves of chats: each wave lives a few seconds, talks, is counted and ended; then the next.
    while (Date.now() < end - 3000) {
      const wave = [];
      await pool(Array.from({ length: width }, () => started++), 10, async (i) => wave.push(await startChat(i)));
      await acceptAll(wave);
      await converse(wave, Math.min(end, Date.now() + 4000), 1000);
      const c = await count(wave);
      messages += c.sent; lostTotal += c.lost; dupTotal += c.duplicated;
      await endChats(wave);
    }
    clearInterval(sampler);
    // The emulator keeps every conversation (it is Twilio's store), so its memory grows with the chats held;
    // the auth server forgets ended sessions only as they expire. fds must stay flat for both.
    const t = {
      authRss: trend(samples.map((s) => s.auth.rssKb)), authFds: trend(samples.map((s) => s.auth.fds)),
      emuFds: trend(samples.map((s) => s.emulator.fds)), emuRss: trend(samples.map((s) => s.emulator.rssKb)),
    };
    // fds: bounded, not a slope (a 60 s slope read one wave's sockets as a +40 % trend; docs/reliability.md).
    const fdsAuth = fdsGrowth(samples.map((s) => s.auth.fds), idle.auth, inFlight);
    const fdsEmu = fdsGrowth(samples.map((s) => s.emulator.fds), idle.emulator, inFlight);
    const rising = [t.authRss > 0.10 && 'auth RSS', fdsAuth && `auth fds (${fdsAuth})`, fdsEmu && `emulator fds (${fdsEmu})`].filter(Boolean);
    const range = (k) => `${Math.min(...samples.map((s) => s[k].fds))}–${Math.max(...samples.map((s) => s[k].fds))}`;
    console.log(`soak: ${secs} s, ${started} chats, ${messages} messages, ${samples.length} samples; growth over the second half: ` +
      `auth RSS ${(t.authRss * 100).toFixed(1)} %, emulator RSS ${(t.emuRss * 100).toFixed(1)} % (keeps every conversation); ` +
      `fds idle → range (ceiling ${inFlight} above idle): auth ${idle.auth} → ${range('auth')}, emulator ${idle.emulator} → ${range('emulator')} ` +
      `(second-half slope, not a criterion: auth ${(t.authFds * 100).toFixed(1)} %, emulator ${(t.emuFds * 100).toFixed(1)} %)`);
    result = report({ test: `soak (${secs} s)`, cases: messages, faults: 0, failures: errors + lostTotal + dupTotal + rising.length,
      detail: `${started} chats; rising: ${rising.join(', ') || 'none'}; ${errors} errors ${errorSamples.join(' | ')}` });
  }
} finally {
  await stack.stop();
}
process.exit(result.failures === 0 ? 0 : 1);
