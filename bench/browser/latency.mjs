// startChat → "connecting" → agentJoined → the agent's first message with the real @twilio/conversations SDK (UMD
// build, unmodified) against the emulator's twilsock endpoint, and the physical floor: one auth round trip (POST
// /v1/sessions) plus the twilsock handshake (new Client(token) until connectionStateChanged 'connected'). Driven by
// bench/lib/latency.mjs, which plays the agent (accepts the task the moment it appears, then writes). Times are
// Date.now() so node and page share a clock.
//
// The SDK either came with the page (`eager`: loaded before the chat, as a page importing it statically) or is
// loaded by `createConversationsClient` when the chat starts (`lazy`, the README's way, issue 27): the difference is
// what the lazy import costs the first agent message.
import { createTwilioFlexServiceDesk } from '/pkg/index.js';

let sdk;
const loadSdk = () =>
  (sdk ??= new Promise((resolve, reject) => {
    const script = Object.assign(document.createElement('script'), { src: '/sdk/twilio-conversations.min.js' });
    script.onload = resolve;
    script.onerror = () => reject(new Error('the SDK did not load'));
    document.head.append(script);
  }));

const sdkClient = (token, emulatorUrl) =>
  new Twilio.Conversations.Client(token, { Twilsock: { uri: emulatorUrl.replace(/^http/, 'ws') + '/v3/wsconnect' } });

/** What the bench's agent writes once it accepted (bench/lib/latency.mjs). */
const AGENT_WORDS = 'Hello, this is Alice.';

const connectMessage = { output: { generic: [{ response_type: 'connect_to_agent', message_to_human_agent: 'bench' }] } };

window.latency = {
  /** The page as a visitor gets it: the SDK with it (`eager`), or not yet (`lazy`). */
  async load(lazy) {
    if (!lazy) await loadSdk();
    return true;
  },

  /**
   * One chat: startChat → client asked for (connecting) → SDK loaded (lazy) → connected → desk Waiting → agentJoined
   * → the agent's first message shown.
   */
  async startToJoined(authServerUrl, emulatorUrl) {
    const t = {};
    const stamp = (k) => (t[k] ??= Date.now());
    window.latency.joined = null;
    let joined, wrote;
    const agentJoined = new Promise((r) => (joined = r));
    const agentWrote = new Promise((r) => (wrote = r));
    const callback = new Proxy({}, { get: (_, name) => {
      if (name === 'persistedState') return () => null;
      return (...args) => {
        if (name === 'agentJoined') { stamp('agentJoined'); joined(); }
        // The bench agent's words (bench/lib/latency.mjs), not a status line.
        if (name === 'sendMessageToUser' && JSON.stringify(args).includes(AGENT_WORDS)) { stamp('agentMessage'); wrote(); }
        return Promise.resolve();
      };
    } });
    const factory = createTwilioFlexServiceDesk({
      authServerUrl, customerName: 'Bench',
      createConversationsClient: async (token) => {
        stamp('connecting');
        await loadSdk();
        stamp('sdkLoaded');
        const client = sdkClient(token, emulatorUrl);
        client.on('connectionStateChanged', (s) => { if (s === 'connected') stamp('connected'); });
        // The floor of "agents seen at once": when the SDK itself tells the page a participant other than the
        // customer joined (the Client re-emits each conversation's participantJoined).
        client.on('participantJoined', (p) => {
          if (!p.identity || p.identity === client.user?.identity) return;
          stamp('sdkAgentJoined');
          // When the agent's User (where Flex keeps the agent's name) reaches the desk: the desk asks for it with
          // `participant.getUser()`, so the page times that call without making one of its own.
          const getUser = p.getUser;
          p.getUser = function (...args) {
            return getUser.apply(this, args).then((u) => (stamp('sdkAgentUser'), u));
          };
        });
        // The bench's agent accepts once the customer's client is in the conversation (bench/lib/latency.mjs), so
        // the agent's arrival reaches the page as an event, as it does for a customer who waits.
        client.on('conversationJoined', (c) => { stamp('conversationJoined'); window.latency.joined = c.sid; });
        return client;
      },
    });
    const desk = await factory({ callback, persistedState: null });
    t.start = Date.now();
    await desk.startChat(connectMessage, {});
    stamp('startResolved');
    const timeout = new Promise((_, reject) => setTimeout(() => reject(new Error(`no agentJoined within 20 s (phase ${desk.phase})`)), 20000));
    await Promise.race([Promise.all([agentJoined, agentWrote]), timeout]);
    // The auth request as the browser saw it (after the lazy wasm load): when it left and when its answer was in.
    const auth = performance.getEntriesByType('resource').find((e) => e.name === `${authServerUrl}/v1/sessions`);
    if (auth) { t.authSent = performance.timeOrigin + auth.startTime; t.authAnswered = performance.timeOrigin + auth.responseEnd; }
    const rel = Object.fromEntries(Object.entries(t).map(([k, v]) => [k, v - t.start]));
    await desk.endChat({}).catch(() => {});
    return { start: t.start, ms: rel, conversationSid: window.latency.joined };
  },

  /** The floor's two parts, measured directly: one POST /v1/sessions, then the SDK's handshake with its token. */
  async floor(authServerUrl, emulatorUrl) {
    await loadSdk();
    const t0 = Date.now();
    const res = await fetch(`${authServerUrl}/v1/sessions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ customerName: 'Floor' }) });
    const session = await res.json();
    const t1 = Date.now();
    if (res.status !== 201) throw new Error(`POST /v1/sessions answered ${res.status}`);
    const client = sdkClient(session.token, emulatorUrl);
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('SDK did not connect within 10 s')), 10000);
      client.on('connectionStateChanged', (s) => { if (s === 'connected') { clearTimeout(timer); resolve(); } });
    });
    const t2 = Date.now();
    await client.shutdown().catch(() => {});
    await fetch(`${authServerUrl}/v1/sessions/${session.sessionId}`, { method: 'DELETE', headers: { authorization: `Bearer ${session.sessionCredential}` } }).catch(() => {});
    return { authMs: t1 - t0, handshakeMs: t2 - t1 };
  },
};
window.latencyReady = true;
