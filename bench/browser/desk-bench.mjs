// The desk's browser benchmarks, driven by bench/lib/browser.mjs through Playwright:
// window.flexdeskBench.coldStart() / .agentToUser(n) / .userToAgent(n), each resolving to plain numbers.
// Stand-ins (adapted from crates/flexdesk/tests/fake.js, minus the recording that would cost time):
// fetch answers the auth server's routes at once, a Conversations client whose conversation is joined
// at once, and a web chat callback that only counts.
import { createTwilioFlexServiceDesk, initFlexdesk } from '/pkg/index.js';

const AUTH = 'http://auth.bench';

// The wasm instance's linear memory, caught as the glue instantiates it (for the memory figure).
let wasmMemory = null;
for (const fn of ['instantiateStreaming', 'instantiate']) {
  const orig = WebAssembly[fn].bind(WebAssembly);
  WebAssembly[fn] = async (...args) => {
    const out = await orig(...args);
    // Found by type: scripts/build-wasm shortens the export names, `memory` included.
    wasmMemory ??= Object.values((out.instance ?? out).exports ?? {}).find((v) => v instanceof WebAssembly.Memory) ?? null;
    return out;
  };
}

const realFetch = globalThis.fetch.bind(globalThis);
globalThis.fetch = async (input, init) => {
  const req = input instanceof Request ? input : new Request(input, init);
  if (!req.url.startsWith(AUTH)) return realFetch(input, init); // the .wasm itself
  const path = new URL(req.url).pathname;
  const json = (status, v) => new Response(JSON.stringify(v), { status, headers: { 'content-type': 'application/json' } });
  if (path === '/v1/sessions') {
    return json(201, { sessionId: 's1', conversationSid: 'CH1', identity: 'me', token: 't1', tokenExpiresAt: 9e9, sessionCredential: 'c1' });
  }
  if (path.endsWith('/token')) return json(200, { token: 't2', tokenExpiresAt: 9e9 });
  if (req.method === 'DELETE') return new Response(null, { status: 204 });
  if (path === '/v1/agents/availability') return json(200, { agentsAvailable: 1, tasksWaiting: 0, longestWaitSeconds: 0 });
  return json(404, { error: { code: 'not_found', message: path } });
};

class Emitter {
  constructor() { this.listeners = {}; }
  on(e, f) { (this.listeners[e] ??= []).push(f); return this; }
  emit(e, a) { for (const f of this.listeners[e] ?? []) f(a); }
}

class Conversation extends Emitter {
  constructor() { super(); this.sid = 'CH1'; this.state = { current: 'active' }; this.sentCount = 0; this.onSent = null; }
  sendMessage() { const i = this.sentCount++; this.onSent?.(this.sentCount); return Promise.resolve(i); }
  typing() { return Promise.resolve(); }
  advanceLastReadMessageIndex() { return Promise.resolve(0); }
  getParticipants() { return Promise.resolve([]); }
  getMessages() { return Promise.resolve({ items: [], hasPrevPage: false }); }
}

class Client extends Emitter {
  constructor(token) { super(); this.token = token; this.conversation = new Conversation(); }
  getConversationBySid() { return Promise.resolve(this.conversation); }
  updateToken() { return Promise.resolve(this); }
  shutdown() { return Promise.resolve(); }
}

function countingCallback() {
  const cb = { shown: 0, onShown: null };
  const noop = () => Promise.resolve();
  for (const n of ['updateCapabilities', 'updateAgentAvailability', 'agentJoined', 'agentReadMessages', 'agentTyping',
    'beginTransferToAnotherAgent', 'agentLeftChat', 'agentEndedChat', 'setErrorStatus', 'setFileUploadStatus',
    'screenShareEnded', 'updatePersistedState']) cb[n] = noop;
  cb.sendMessageToUser = () => { cb.shown++; cb.onShown?.(cb.shown); return Promise.resolve(); };
  cb.persistedState = () => null;
  return cb;
}

const connectMessage = { output: { generic: [{ response_type: 'connect_to_agent', message_to_human_agent: 'help' }] } };
const agent = { identity: 'alice', attributes: { member_type: 'agent', friendlyName: 'Alice', avatar: 'https://x/a.png' } };
const tick = () => new Promise((r) => setTimeout(r, 0));

/** A desk with a started chat, its conversation joined and an agent in it. */
async function chatting() {
  let client;
  const factory = createTwilioFlexServiceDesk({ authServerUrl: AUTH, createConversationsClient: (t) => (client = new Client(t)) });
  const callback = countingCallback();
  const desk = await factory({ callback, persistedState: null });
  await desk.startChat(connectMessage, {});
  for (let i = 0; i < 20 && desk.phase !== 'Waiting'; i++) await tick();
  client.conversation.emit('participantJoined', agent);
  for (let i = 0; i < 20 && desk.phase !== 'Chatting'; i++) await tick();
  if (desk.phase !== 'Chatting') throw new Error(`desk did not reach Chatting (phase ${desk.phase})`);
  return { desk, callback, conversation: client.conversation };
}

/** Resolves when `count()` reaches `n`, or rejects after `ms` saying how far it got. */
function until(setHook, n, ms, what) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what}: timed out`)), ms);
    setHook((count) => { if (count >= n) { clearTimeout(timer); resolve(performance.now()); } });
  });
}

window.flexdeskBench = {
  /** A chatting desk kept on the page for the memory figure (bench/lib/browser.mjs reads the heap around it). */
  async memoryPrepare() {
    window.memoryChat = await chatting();
    return { wasmBytes: wasmMemory?.buffer.byteLength ?? null };
  },

  /** n agent messages through the prepared desk (all shown), then the wasm memory's size. */
  async memoryMessages(n) {
    const { callback, conversation } = window.memoryChat;
    const done = until((f) => (callback.onShown = f), n, 60000, 'memory: agent → user');
    for (let i = 0; i < n; i++) {
      conversation.emit('messageAdded', { index: i + 1, author: 'alice', body: `agent message ${i}`, attributes: {}, attachedMedia: [] });
    }
    await done;
    return { wasmBytes: wasmMemory?.buffer.byteLength ?? null, shown: callback.shown };
  },

  /** Fetch + compile + instantiate the wasm, then startChat until the desk is connecting to Twilio. */
  async coldStart() {
    const t0 = performance.now();
    await initFlexdesk();
    const tInit = performance.now();
    let tClient = null;
    const factory = createTwilioFlexServiceDesk({
      authServerUrl: AUTH,
      createConversationsClient: (t) => { tClient ??= performance.now(); return new Client(t); },
    });
    const desk = await factory({ callback: countingCallback(), persistedState: null });
    await desk.startChat(connectMessage, {});
    const tStarted = performance.now();
    if (tClient === null) throw new Error(`startChat resolved without creating a client (phase ${desk.phase})`);
    return { instantiateMs: tInit - t0, startChatMs: tClient - tInit, totalMs: tClient - t0, startResolvedMs: tStarted - t0, phase: desk.phase };
  },

  /** n agent messages emitted on the conversation → n sendMessageToUser callbacks. */
  async agentToUser(n) {
    const { callback, conversation } = await chatting();
    const done = until((f) => (callback.onShown = f), n, 30000, 'agent → user');
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
      conversation.emit('messageAdded', { index: i + 1, author: 'alice', body: `agent message ${i}`, attributes: {}, attachedMedia: [] });
    }
    const t1 = await done;
    return { n, ms: t1 - t0, shown: callback.shown };
  },

  /**
   * n sendMessageToAgent calls at once → n conversation.sendMessage calls. The desk's sends run as one
   * microtask chain, which no timer can interrupt: bench/lib/browser.mjs only asks for n it expects to finish.
   */
  async userToAgent(n) {
    const { desk, conversation } = await chatting();
    const done = until((f) => (conversation.onSent = f), n, 60000, 'user → agent');
    const t0 = performance.now();
    const calls = [];
    for (let i = 0; i < n; i++) calls.push(desk.sendMessageToAgent({ input: { text: `user message ${i}` } }, `m${i}`, {}));
    const t1 = await done;
    await Promise.all(calls);
    return { n, ms: t1 - t0, sent: conversation.sentCount, allResolvedMs: performance.now() - t0 };
  },

  /**
   * The same n messages paced as a person sends them: each sendMessageToAgent waits until the previous
   * message reached the conversation, so the desk's outbox never holds more than one.
   */
  async userToAgentPaced(n) {
    const { desk, conversation } = await chatting();
    let wake = null;
    conversation.onSent = () => wake?.();
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
      const sent = new Promise((r) => (wake = r));
      await desk.sendMessageToAgent({ input: { text: `user message ${i}` } }, `m${i}`, {});
      await sent;
    }
    return { n, ms: performance.now() - t0, sent: conversation.sentCount };
  },
};
window.flexdeskBenchReady = true;
