// flexdesk: a Twilio Flex service desk for Carbon AI Chat, in Rust compiled to WebAssembly.
//
//   import { createTwilioFlexServiceDesk } from 'flexdesk';
//   serviceDeskFactory: createTwilioFlexServiceDesk({ authServerUrl, createConversationsClient: (t) => new Client(t) })
//
// This file is all a page loads until a customer asks for an agent. The desk itself (wasm-bindgen's glue
// `flexdesk.js` and `flexdesk_bg.wasm`, next to this file) is loaded on the first `startChat` or `reconnect`
// (or when the bot offers an agent: `areAnyAgentsOnline`), with a dynamic import and
// new URL(..., import.meta.url), which Vite, webpack 5 and esbuild resolve without plugins.
//
// A desk that cannot load (the .wasm missing, a Content-Security-Policy without 'wasm-unsafe-eval') never
// breaks the bot: the factory always resolves, `areAnyAgentsOnline` answers false, `startChat` fails like a chat
// that could not start, and the console says why.

const NAME = 'flexdesk (Twilio Flex)';
let loading;

/** Loads the desk's code once; a failure is reported and forgotten, so the next chat tries again. */
export function initFlexdesk() {
  const url = new URL('./flexdesk_bg.wasm', import.meta.url);
  loading ??= import('./flexdesk.js')
    .then(async (glue) => {
      await glue.default({ module_or_path: url });
      return glue;
    })
    .catch((error) => {
      loading = undefined;
      console.error(
        `flexdesk: the desk could not be loaded from ${url}, so chat with an agent is unavailable (the bot keeps working). ` +
          "Serve flexdesk_bg.wasm next to flexdesk's index.js as application/wasm, and allow 'wasm-unsafe-eval' in the " +
          'Content-Security-Policy script-src.',
        error,
      );
      throw error;
    });
  return loading;
}

/**
 * Returns a `serviceDeskFactory` for Carbon AI Chat. Config errors are thrown at once, not at the first chat.
 * @param {import('./index').FlexdeskConfig} config
 */
export function createTwilioFlexServiceDesk(config) {
  if (!config || typeof config !== 'object') {
    throw new TypeError('flexdesk: pass a config object: { authServerUrl, createConversationsClient }');
  }
  if (typeof config.authServerUrl !== 'string' || !/^https?:\/\//.test(config.authServerUrl)) {
    throw new TypeError(`flexdesk: config.authServerUrl must be an http(s) URL, got ${JSON.stringify(config.authServerUrl)}`);
  }
  if (typeof config.createConversationsClient !== 'function') {
    throw new TypeError('flexdesk: config.createConversationsClient must be a function (token) => Conversations Client');
  }
  return async (params) => lightDesk(config, params);
}

/** The `ServiceDesk` the web chat gets at once; it loads the real desk when a chat with an agent starts. */
function lightDesk(config, { callback, persistedState }) {
  let desk; // the wasm desk, once loaded and created
  let pending; // the promise of it
  const open = () =>
    (pending ??= initFlexdesk()
      .then((glue) => {
        try {
          return (desk = new glue.TwilioFlex(config, callback, persistedState ?? null));
        } catch (error) {
          console.error('flexdesk: the desk could not start:', error);
          throw error;
        }
      })
      .catch((error) => {
        pending = undefined;
        throw error;
      }));
  // Calls that only mean something during a chat: passed on, in order, once the desk exists; otherwise nothing.
  const during = (f) => (pending ? pending.then(f, () => {}) : Promise.resolve());
  const saved = () => {
    const s = persistedState && typeof persistedState === 'object' ? persistedState : callback.persistedState?.();
    return !!s && typeof s === 'object' && typeof s.sessionId === 'string';
  };
  // A chat saved by an earlier page: the desk looks at it at once (Carbon calls reconnect only when an agent had
  // joined; a chat saved while waiting is ended by the desk, so no agent accepts a chat with nobody there).
  if (saved()) open().catch(() => {});
  return {
    getName: () => NAME,
    startChat: (connectMessage, options) =>
      open().then(
        (d) => d.startChat(connectMessage, options ?? {}),
        () =>
          // Like a chat the auth server refused: a CONNECTING error (ErrorType.CONNECTING = 1) with our text, then
          // resolve (Carbon shows only its default text when startChat rejects).
          callback.setErrorStatus({ type: 1, messageToUser: 'Chat with an agent is not available right now. Please try again later.' }),
      ),
    endChat: (info) => during((d) => d.endChat(info ?? {})),
    sendMessageToAgent: (message, messageID, additionalData) =>
      during((d) => d.sendMessageToAgent(message, messageID, additionalData ?? {})),
    userTyping: (isTyping) => during((d) => d.userTyping(!!isTyping)),
    userReadMessages: () => during((d) => d.userReadMessages()),
    // Answered by the auth server without the wasm; `false` when the desk cannot load (no chat could start),
    // `null` when the availability cannot be read. Loading starts here: the bot has just offered an agent.
    areAnyAgentsOnline: async () => {
      const [loads, online] = await Promise.all([initFlexdesk().then(() => true, () => false), agentsOnline(config.authServerUrl)]);
      return loads && online;
    },
    filesSelectedForUpload: (uploads) => {
      if (desk) desk.filesSelectedForUpload(uploads ?? []);
      else during((d) => d.filesSelectedForUpload(uploads ?? []));
    },
    screenShareStop: () => Promise.resolve(),
    // Nothing saved: nothing to resume, and nothing to load.
    reconnect: () => (saved() ? open().then((d) => d.reconnect(), () => false) : Promise.resolve(false)),
    /** Not part of the ServiceDesk contract: the chat's phase, for status displays and tests. */
    get phase() {
      return desk ? desk.phase : 'Idle';
    },
  };
}

/**
 * `GET /v1/agents/availability`: `true` / `false` from the contact centre's queue statistics, `null` when unknown.
 * `agentsAvailable` is TaskRouter's `total_available_workers` for the configured queue: agents in an available
 * activity, whether or not they are busy with other chats (twilio-oai's description of that field). The queue is the
 * one the auth server is configured with (`TWILIO_QUEUE_SID`); the connect message's routing hints do not pick another.
 */
async function agentsOnline(authServerUrl) {
  try {
    const res = await fetch(`${authServerUrl.replace(/\/+$/, '')}/v1/agents/availability`);
    const a = res.ok ? await res.json() : null;
    return typeof a?.agentsAvailable === 'number' ? a.agentsAvailable > 0 : null;
  } catch {
    return null;
  }
}
