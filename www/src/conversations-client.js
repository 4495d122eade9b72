// Which Conversations client the demo's desk uses. The desk only needs `createConversationsClient(token)`:
//  - 'real-sdk' (default): the production @twilio/conversations SDK (its published UMD build, copied next to the
//    bundle by scripts/build-www.mjs and loaded only when chosen), pointed at the emulator's twilsock endpoint. A real
//    deployment passes no `Twilsock` option and talks to Twilio.
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

/** Resolves to the `createConversationsClient` function for `config.client`. */
export async function conversationsClientFactory({ client, emulatorUrl }) {
  if (client === 'stand-in') return (token) => recorded(new StandInClient(token, { emulatorUrl }));
  if (client !== 'real-sdk') throw new Error(`unknown Conversations client ${JSON.stringify(client)}`);
  if (!globalThis.Twilio?.Conversations?.Client) await loadScript(SDK_SCRIPT);
  const { Client } = globalThis.Twilio.Conversations;
  const uri = twilsockUri(emulatorUrl);
  return (token) => recorded(new Client(token, { Twilsock: { uri } }));
}
