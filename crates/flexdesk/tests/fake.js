// Fakes for the desk's browser tests: a Conversations client, a web chat callback and the auth server
// (window.fetch answers for it), each recording what the desk did so the tests can assert on it.

export const world = { requests: [], calls: [], clients: [], authStatus: {}, availability: 2 };
// Rejections nobody handled (the desk must catch every SDK promise it starts, e.g. a failed `typing()`).
world.unhandled = [];
globalThis.addEventListener?.('unhandledrejection', (e) => { world.unhandled.push(String(e.reason?.message ?? e.reason)); });

export function reset() {
  world.requests = []; world.calls = []; world.clients = []; world.authStatus = {}; world.availability = 2; world.throwIn = null; world.slowMs = 0; world.overlaps = 0; world.unhandled = []; world.mediaLinkQuery = undefined; world.temporaryUrlReads = 0;
  globalThis.fetch = async (input, init) => {
    const req = input instanceof Request ? input : new Request(input, init);
    const u = new URL(req.url);
    const text = await req.text();
    const body = text ? JSON.parse(text) : null;
    const method = req.method;
    world.requests.push({ method, path: u.pathname, body });
    const json = (status, v) => new Response(v === null ? null : JSON.stringify(v), { status, headers: { 'content-type': 'application/json' } });
    const refused = world.authStatus[u.pathname];
    if (refused) return json(refused, { error: { code: 'refused', message: `refused with ${refused}` } });
    if (u.pathname === '/v1/sessions') return json(201, {
      sessionId: 'sess-1', conversationSid: 'CH1', identity: 'me', token: 'tok-1', tokenExpiresAt: 9e9, sessionCredential: 'cred-1',
      mediaLinkQuery: world.mediaLinkQuery });
    if (u.pathname.endsWith('/token')) return json(200, { token: `tok-${world.requests.length}`, tokenExpiresAt: 9e9 });
    if (method === 'DELETE') return new Response(null, { status: 204 });
    if (u.pathname === '/v1/agents/availability') return json(200, { agentsAvailable: world.availability, tasksWaiting: 0, longestWaitSeconds: 0 });
    return json(404, { error: { code: 'not_found', message: 'no such route' } });
  };
}

class Emitter {
  constructor() { this.listeners = {}; }
  on(e, f) { (this.listeners[e] ??= []).push(f); return this; }
  emit(e, ...a) { for (const f of this.listeners[e] ?? []) f(...a); }
  // As the SDK's EventEmitter: the desk clears its listeners when it replaces a client.
  removeAllListeners() { this.listeners = {}; return this; }
  listenerCount() { return Object.values(this.listeners).reduce((n, l) => n + l.length, 0); }
}

class FakeConversation extends Emitter {
  constructor() {
    super();
    this.sid = 'CH1'; this.state = { current: 'active' }; this.sent = []; this.typingCount = 0; this.readIndex = null;
    this.participants = []; this.history = []; this.nextIndex = 0; this.failNext = 0;
  }
  sendMessage(body, attributes) {
    if (this.failNext > 0) { this.failNext--; return Promise.reject(new Error('network down')); }
    const index = this.nextIndex++;
    this.sent.push({ body, attributes, index });
    return Promise.resolve(index);
  }
  prepareMessage() {
    const msg = { attributes: null, media: [] };
    const b = {
      setBody() { return b; },
      setAttributes(a) { msg.attributes = a; return b; },
      addMedia(m) { msg.media.push(m); return b; },
      build: () => ({ send: () => { const index = this.nextIndex++; this.sent.push({ ...msg, index }); return Promise.resolve(index); } }),
    };
    return b;
  }
  // lib.d.ts: `typing(): Promise<void>`; `failTyping` makes it reject, as it does when the connection is down.
  typing() { this.typingCount++; return this.failTyping ? Promise.reject(new Error('typing failed: offline')) : Promise.resolve(); }
  advanceLastReadMessageIndex(i) { this.readIndex = i; return Promise.resolve(0); }
  getParticipants() { return Promise.resolve(this.participants); }
  getMessages() { return Promise.resolve({ items: this.history, hasPrevPage: false }); }
}

export class FakeClient extends Emitter {
  constructor(token) {
    super();
    this.token = token; this.tokens = [token]; this.shut = false;
    this.conversation = new FakeConversation();
    this.opened = new Promise((resolve) => { this.open = resolve; });
    world.clients.push(this);
  }
  getConversationBySid(sid) { return this.opened.then(() => (sid === 'CH1' ? this.conversation : Promise.reject(new Error('no such conversation')))); }
  updateToken(t) { this.tokens.push(t); return Promise.resolve(this); }
  shutdown() { this.shut = true; return Promise.resolve(); }
}

export function config(extra = {}) {
  // `strings` as js/index.js passes it (key and parameters in, the customer's text out): here the key and its
  // parameters as JSON, so the tests see which message the desk chose.
  const strings = (key, params) => `${key} ${JSON.stringify(params)}`;
  return { authServerUrl: 'http://auth.test', createConversationsClient: (t) => new FakeClient(t), customerName: 'Ada', strings, ...extra };
}

export function callback(persisted = null) {
  // With world.slowMs set, each callback's promise settles later, and a call made while another is still
  // pending counts as an overlap (Carbon AI Chat refuses overlapping human_agent events).
  let pending = 0;
  const record = (name) => (...args) => {
    world.calls.push({ name, args: JSON.parse(JSON.stringify(args ?? null)) });
    if (!world.slowMs) return Promise.resolve();
    if (pending > 0) world.overlaps++;
    pending++;
    return new Promise((r) => setTimeout(() => { pending--; r(); }, world.slowMs));
  };
  const cb = {};
  for (const n of ['updateCapabilities', 'updateAgentAvailability', 'agentJoined', 'agentReadMessages', 'agentTyping',
    'sendMessageToUser', 'beginTransferToAnotherAgent', 'agentLeftChat', 'agentEndedChat', 'setErrorStatus',
    'setFileUploadStatus', 'screenShareEnded',
    // The tab calls js/index.js adds to the callback it gives the desk (flexdesk-core TabCall).
    'announceChat', 'forgetChat', 'letGo', 'offerChat']) cb[n] = record(n);
  cb.persisted = persisted;
  cb.updatePersistedState = (s) => {
    // Like Carbon AI Chat 1.9.1, which stores `deepFreeze(cloneDeep(state))` (HumanAgentServiceImpl.ts
    // `updatePersistedState`; utils/lang/objectUtils.ts `deepFreeze` calls Object.getOwnPropertyNames): null and
    // undefined throw, other primitives are kept as they are.
    if (s === null || s === undefined) throw new TypeError('Cannot convert undefined or null to object');
    cb.persisted = s; world.calls.push({ name: 'updatePersistedState', args: [s] });
  };
  if (world.throwIn) cb[world.throwIn] = () => { throw new Error(`${world.throwIn} exploded`); };
  cb.persistedState = () => cb.persisted;
  return cb;
}

export const client = (i) => world.clients[i ?? world.clients.length - 1];
export const conv = () => client().conversation;
// Real Flex puts the agent's name on the Conversations User (`participant.getUser()` → `friendlyName`, SDK 2.x/3.x
// `Participant.getUser(): Promise<User>`), not in participant attributes.
export const agent = (identity, name) => ({ identity, attributes: { member_type: 'agent', avatar: `https://x/${identity}.png` },
  getUser: () => Promise.resolve({ identity, friendlyName: name }) });
export const message = (index, author, body, attributes = {}) => ({ index, author, body, attributes, attachedMedia: [] });
// A message with text and files (`attachedMedia`, each with its SID and a temporary URL fetched on use, as SDK
// `Media`: `sid`, `getContentTemporaryUrl()`, builds/lib.d.ts).
export const mediaMessage = (index, author, body, files) => ({ index, author, body, attributes: {},
  attachedMedia: files.map((f, i) => ({ sid: `ME${String(i + 1).padStart(32, '0')}`, filename: f, contentType: f.endsWith('.png') ? 'image/png' : 'application/pdf',
    getContentTemporaryUrl: () => { world.temporaryUrlReads++; return Promise.resolve(`https://media/${f}?fresh=1`); } })) });
// The auth server offers media links (`SessionCreated.mediaLinkQuery`, issue 23) from the next start on.
export const offerMediaLinks = (query) => { world.mediaLinkQuery = query; };
export const temporaryUrlReads = () => world.temporaryUrlReads;
export const tick = (ms = 0) => new Promise((r) => setTimeout(r, ms));
export const json = (v) => JSON.stringify(v);
export const file = (name, size, type) => new File([new Uint8Array(size)], name, { type });
export const calls = (name) => JSON.stringify(world.calls.filter((c) => c.name === name).map((c) => c.args));
// The names of every web chat call, in the order made.
export const callNames = () => JSON.stringify(world.calls.map((c) => c.name));
export const slowCallbacks = (ms) => { world.slowMs = ms; };
export const overlaps = () => world.overlaps;
export const throwIn = (name) => { world.throwIn = name; };
export const requests = () => JSON.stringify(world.requests);
export const refuseAuth = (path, status) => { world.authStatus[path] = status; };
export const setAvailability = (n) => { world.availability = n; };
export const openClient = () => client().open();
export const emitClient = (name, arg) => client().emit(name, arg);
export const emitConv = (name, arg) => conv().emit(name, arg);
export const convJson = () => JSON.stringify({ sent: conv().sent, typingCount: conv().typingCount, readIndex: conv().readIndex });
export const clientJson = () => JSON.stringify({ count: world.clients.length, tokens: client()?.tokens, shut: client()?.shut,
  oldListeners: world.clients.slice(0, -1).reduce((n, c) => n + c.listenerCount() + c.conversation.listenerCount(), 0) });
export const setConv = (key, value) => { conv()[key] = value; };
export const unhandled = () => JSON.stringify(world.unhandled);
export const connectMessage = () => ({ output: { generic: [{ response_type: 'connect_to_agent', message_to_human_agent: 'wants help',
  transfer_info: { additional_data: { skill: 'billing' } } }] } });
