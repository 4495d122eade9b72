// startChat → "connecting" → agentJoined with the real @twilio/conversations SDK (UMD build, unmodified) against
// the emulator's twilsock endpoint, and the physical floor: one auth round trip (POST /v1/sessions) plus the twilsock
// handshake (new Client(token) until connectionStateChanged 'connected'). Driven by bench/lib/latency.mjs, which
// plays the agent (accepts the task the moment it appears). Times are Date.now() so node and page share a clock.
import { createTwilioFlexServiceDesk } from '/pkg/index.js';

const sdkClient = (token, emulatorUrl) =>
  new Twilio.Conversations.Client(token, { Twilsock: { uri: emulatorUrl.replace(/^http/, 'ws') + '/v3/wsconnect' } });

const connectMessage = { output: { generic: [{ response_type: 'connect_to_agent', message_to_human_agent: 'bench' }] } };

window.latency = {
  /** One chat: startChat → client created (connecting) → SDK connected → desk Waiting → agentJoined. */
  async startToJoined(authServerUrl, emulatorUrl) {
    const t = {};
    const stamp = (k) => (t[k] ??= Date.now());
    let joined;
    const agentJoined = new Promise((r) => (joined = r));
    const callback = new Proxy({}, { get: (_, name) => {
      if (name === 'persistedState') return () => null;
      return () => {
        if (name === 'agentJoined') { stamp('agentJoined'); joined(); }
        return Promise.resolve();
      };
    } });
    const factory = createTwilioFlexServiceDesk({
      authServerUrl, customerName: 'Bench',
      createConversationsClient: (token) => {
        stamp('connecting');
        const client = sdkClient(token, emulatorUrl);
        client.on('connectionStateChanged', (s) => { if (s === 'connected') stamp('connected'); });
        return client;
      },
    });
    const desk = await factory({ callback, persistedState: null });
    t.start = Date.now();
    await desk.startChat(connectMessage, {});
    stamp('startResolved');
    const timeout = new Promise((_, reject) => setTimeout(() => reject(new Error(`no agentJoined within 20 s (phase ${desk.phase})`)), 20000));
    await Promise.race([agentJoined, timeout]);
    // The auth request as the browser saw it (after the lazy wasm load): when it left and when its answer was in.
    const auth = performance.getEntriesByType('resource').find((e) => e.name === `${authServerUrl}/v1/sessions`);
    if (auth) { t.authSent = performance.timeOrigin + auth.startTime; t.authAnswered = performance.timeOrigin + auth.responseEnd; }
    const rel = Object.fromEntries(Object.entries(t).map(([k, v]) => [k, v - t.start]));
    await desk.endChat({}).catch(() => {});
    return { start: t.start, ms: rel };
  },

  /** The floor's two parts, measured directly: one POST /v1/sessions, then the SDK's handshake with its token. */
  async floor(authServerUrl, emulatorUrl) {
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
