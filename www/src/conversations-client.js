// Which Conversations client the demo's desk uses. The desk only needs `createConversationsClient(token)`, which may
// return a promise: the page loads the SDK when a chat with an agent starts, never with the page (issue 27; the e2e
// suite checks it by the page's requests, tests/e2e/page-weight.test.mjs).
//  - 'real-sdk' (default): the production @twilio/conversations SDK (its published UMD build, copied next to the
//    bundle by scripts/build-www.mjs), pointed at the emulator's twilsock endpoint. A real deployment passes no
//    `Twilsock` option and talks to Twilio, and with a bundler imports the SDK the README's way:
//    `async (token) => { const sdk = await import('@twilio/conversations'); return new (sdk.Client ?? sdk.default.Client)(token); }`.
//  - 'stand-in': the emulator's small JS stand-in (www/emulator-client/, over `/v1/realtime`); kept because its
//    frames are plain JSON, easy to read when debugging the desk.
import { Client as StandInClient } from '../emulator-client/index.js';

export const SDK_SCRIPT = '/dist/twilio-conversations.min.js';

/** The emulator's realtime endpoint for the real SDK (same host and port as its REST API). */
export function twilsockUri(emulatorUrl) {
  const url = new URL('/v3/wsconnect', emulatorUrl);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.toString();
}

function loadScript(src) {
  return new Promise((resolve, reject) => {
    const script = document.createElement('script');
    script.src = src;
    script.onload = () => resolve();
    script.onerror = () => reject(new Error(`could not load ${src} (is www/dist built? node scripts/build-www.mjs)`));
    document.head.appendChild(script);
  });
}

/**
 * Every client the page made, newest last, with when it was created and when it reached `initialized`
 * (`window.flexdeskClients`): for the e2e tests, which must know whether the customer's client was still starting
 * when the agent wrote, and for a developer looking at the console.
 */
function recorded(client) {
  const entry = { client, createdAt: Date.now(), initializedAt: null };
  client.on('initialized', () => {
    entry.initializedAt = Date.now();
  });
  (globalThis.flexdeskClients ??= []).push(entry);
  return client;
}

/** The `createConversationsClient` function for `config.client`. */
export function conversationsClientFactory({ client, emulatorUrl }) {
  if (client === 'stand-in') return (token) => recorded(new StandInClient(token, { emulatorUrl }));
  if (client !== 'real-sdk') throw new Error(`unknown Conversations client ${JSON.stringify(client)}`);
  const uri = twilsockUri(emulatorUrl);
  let sdk; // the SDK's script, loaded once, at the first chat with an agent (again after a failure)
  return async (token) => {
    sdk ??= globalThis.Twilio?.Conversations?.Client ? Promise.resolve() : loadScript(SDK_SCRIPT).catch((e) => {
      sdk = undefined;
      throw e;
    });
    await sdk;
    return recorded(new globalThis.Twilio.Conversations.Client(token, { Twilsock: { uri } }));
  };
}
