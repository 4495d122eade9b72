// flexdesk: a Twilio Flex service desk for Carbon AI Chat, in Rust compiled to WebAssembly.
//
//   import { createTwilioFlexServiceDesk } from 'flexdesk';
//   serviceDeskFactory: createTwilioFlexServiceDesk({ authServerUrl, createConversationsClient: (t) => new Client(t) })
//
// This file is all a page loads until a customer asks for an agent. The desk itself (wasm-bindgen's glue
// `flexdesk.js` and `flexdesk_bg.wasm`, next to this file, or the .wasm at the `wasmUrl` option) is loaded on the first `startChat` or `reconnect`
// (or when the bot offers an agent: `areAnyAgentsOnline`), with a dynamic import and
// new URL(..., import.meta.url), which Vite, webpack 5 and esbuild resolve without plugins.
//
// A desk that cannot load (the .wasm missing, a Content-Security-Policy without 'wasm-unsafe-eval') never
// breaks the bot: the factory always resolves, `areAnyAgentsOnline` answers false, `startChat` fails like a chat
// that could not start, and the console says why.

const NAME = 'flexdesk (Twilio Flex)';
let loading;

/**
 * Loads the desk's code once; a failure is reported and forgotten, so the next chat tries again.
 * `wasmUrl`: where `flexdesk_bg.wasm` is served, when not next to this file (a CDN, another path); relative URLs
 * are read against the page. The first load decides: later calls get the same desk.
 */
export function initFlexdesk(options) {
  if (loading) return loading;
  const wasmUrl = options?.wasmUrl;
  const where = wasmUrl ?? new URL('./flexdesk_bg.wasm', import.meta.url);
  loading = import('./flexdesk.js')
    .then(async (glue) => {
      await glue.default({ module_or_path: new URL(where, globalThis.document?.baseURI ?? import.meta.url) });
      return glue;
    })
    .catch((error) => {
      loading = undefined;
      console.error(
        `flexdesk: the desk could not be loaded from ${where}, so chat with an agent is unavailable (the bot keeps working). ` +
          "Serve flexdesk_bg.wasm next to flexdesk's index.js, or at the wasmUrl option (the same version; with CORS " +
          "headers from another origin), as application/wasm, and allow 'wasm-unsafe-eval' in the Content-Security-Policy script-src.",
        error,
      );
      throw error;
    });
  return loading;
}

/**
 * Every text the desk may show the customer, by key (the `strings` option), in English. The desk (flexdesk-core's
 * `texts.rs`) picks the key and its parameters; `{name}` stands for a parameter. A refusal's `{retry}` is the
 * text of its `retry` key (`retryLater`, `retryInAMinute`, `retryInMinutes`).
 */
const STRINGS = {
  unreachable: 'The chat service cannot be reached. Check your connection and try again.',
  tooManySessions: 'Too many chats with an agent are open right now. {retry}',
  rateLimited: 'Too many requests in a short time. {retry}',
  twilioBusy: "Our agents' system is busy. {retry}",
  unavailable: 'Chat with an agent is not available right now. {retry}',
  retryLater: 'Please try again later.',
  retryInAMinute: 'Please try again in a minute.',
  retryInMinutes: 'Please try again in about {minutes} minutes.',
  verificationRequired: 'Please confirm you are not a robot before asking for an agent.',
  verificationFailed: 'The check that you are not a robot failed. Please try again.',
  identityInvalid: 'We could not confirm that you are signed in. Please sign in again, then ask for an agent.',
  closedBeforeAgent: 'The chat was closed before an agent joined. Please try again later.',
  chatFailed: 'The chat with an agent could not be continued. Please try again later.',
  fileEmpty: 'This file is empty.',
  fileTooLarge: 'This file is {size} MB; files can be at most {max} MB.',
  fileType: 'Files of type "{type}" cannot be sent. Allowed: {allowed}.',
  fileNotSent: 'The file could not be sent.',
};

/**
 * A customer text in the page's wording (`config.strings[key]`: a template whose `{name}`s are filled in, or a
 * function of the parameters), else the English default. A `retry` parameter names the retry text's key.
 */
const has = (o, key) => !!o && Object.prototype.hasOwnProperty.call(o, key);
function say(strings, key, params = {}) {
  const { retry, ...rest } = params;
  if (has(STRINGS, retry)) params = { ...rest, retry: say(strings, retry, rest) };
  const own = has(strings, key) ? strings[key] : undefined;
  let custom = own;
  if (typeof own === 'function') {
    try {
      custom = own({ ...params });
    } catch (error) {
      console.warn(`flexdesk: config.strings.${key} threw, so the default text was shown:`, error);
    }
  }
  const text = typeof custom === 'string' ? custom : STRINGS[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (m, name) => params[name] ?? m);
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
  if (!(config.identityToken === undefined || typeof config.identityToken === 'string' || typeof config.identityToken === 'function')) {
    throw new TypeError('flexdesk: config.identityToken must be a string or a function returning one (or a promise of one)');
  }
  if (config.joinTimeoutMs !== undefined && !(Number.isInteger(config.joinTimeoutMs) && config.joinTimeoutMs > 0)) {
    throw new TypeError(`flexdesk: config.joinTimeoutMs must be a positive whole number of milliseconds, got ${JSON.stringify(config.joinTimeoutMs)}`);
  }
  if (config.queuePollMs !== undefined && !(Number.isInteger(config.queuePollMs) && config.queuePollMs >= 1000)) {
    throw new TypeError(`flexdesk: config.queuePollMs must be a whole number of milliseconds, at least 1000, got ${JSON.stringify(config.queuePollMs)}`);
  }
  if (!(config.wasmUrl === undefined || typeof config.wasmUrl === 'string' || config.wasmUrl instanceof URL)) {
    throw new TypeError('flexdesk: config.wasmUrl must be the URL of flexdesk_bg.wasm (a string or a URL)');
  }
  const strings = config.strings === undefined ? {} : config.strings;
  if (!strings || typeof strings !== 'object') throw new TypeError('flexdesk: config.strings must be an object of texts by key');
  for (const key in strings) {
    if (!has(STRINGS, key) || !/^(string|function)$/.test(typeof strings[key])) {
      throw new TypeError(`flexdesk: config.strings.${key} is not one of its keys (${Object.keys(STRINGS)}) with a string or a function (params) => string`);
    }
  }
  return async (params) => lightDesk(config, params);
}

/** The `ServiceDesk` the web chat gets at once; it loads the real desk when a chat with an agent starts. */
function lightDesk(config, { callback, persistedState }) {
  let desk; // the wasm desk, once loaded and created
  let pending; // the promise of it
  const open = () =>
    (pending ??= initFlexdesk({ wasmUrl: config.wasmUrl })
      .then((glue) => {
        try {
          // The config as given, plus `strings` as the function the desk asks for each customer text.
          const strings = (key, params) => say(config.strings, key, params);
          return (desk = new glue.TwilioFlex(Object.create(config, { strings: { value: strings } }), callback, persistedState ?? null));
        } catch (error) {
          console.error('flexdesk: the desk could not start:', error);
          throw error;
        }
      })
      .catch((error) => {
        pending = undefined;
        throw error;
      }));
  // A startChat still reading the identity token (it may be fetched): later calls wait until it reached the desk.
  let starting;
  // Calls that only mean something during a chat: passed on, in order, once the desk exists; otherwise nothing.
  const during = (f) => (pending ? Promise.all([pending, starting]).then(([d]) => f(d), () => {}) : Promise.resolve());
  const saved = () => {
    const s = persistedState && typeof persistedState === 'object' ? persistedState : callback.persistedState?.();
    return !!s && typeof s === 'object' && typeof s.sessionId === 'string';
  };
  // A chat saved by an earlier page: the desk looks at it at once (Carbon calls reconnect only when an agent had
  // joined; a chat saved while waiting is ended by the desk, so no agent accepts a chat with nobody there).
  if (saved()) open().catch(() => {});
  return {
    getName: () => NAME,
    startChat: (connectMessage, options) => {
      let reached;
      starting = new Promise((resolve) => (reached = resolve));
      return open()
        .then(
          async (d) => {
            // A signed-in customer's token, read now (a function can fetch a fresh one). Without one: a guest.
            let token;
            try {
              token = await (typeof config.identityToken === 'function' ? config.identityToken() : config.identityToken);
            } catch (error) {
              console.warn('flexdesk: config.identityToken failed, so the chat was not started:', error);
              return callback.setErrorStatus({ type: 1, messageToUser: say(config.strings, 'identityInvalid') });
            }
            const identityToken = typeof token === 'string' && token.trim() ? token.trim() : undefined;
            try {
              return d.startChat(connectMessage, { ...(options ?? {}), identityToken });
            } finally {
              reached();
            }
          },
          () =>
            // Like a chat the auth server refused: a CONNECTING error (ErrorType.CONNECTING = 1) with our text, then
            // resolve (Carbon shows only its default text when startChat rejects).
            callback.setErrorStatus({ type: 1, messageToUser: say(config.strings, 'unavailable', { retry: 'retryLater' }) }),
        )
        .finally(() => reached());
    },
    endChat: (info) => during((d) => d.endChat(info ?? {})),
    sendMessageToAgent: (message, messageID, additionalData) =>
      during((d) => d.sendMessageToAgent(message, messageID, additionalData ?? {})),
    userTyping: (isTyping) => during((d) => d.userTyping(!!isTyping)),
    userReadMessages: () => during((d) => d.userReadMessages()),
    // Answered by the auth server without the wasm; `false` when the desk cannot load (no chat could start),
    // `null` when the availability cannot be read. Loading starts here: the bot has just offered an agent.
    areAnyAgentsOnline: async () => {
      const [loads, online] = await Promise.all([initFlexdesk({ wasmUrl: config.wasmUrl }).then(() => true, () => false), agentsOnline(config.authServerUrl)]);
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
 * Whether agents can take a chat now, as the auth server says (`GET /v1/agents/availability`), for a page that wants
 * to say more than Carbon's card: `{ available, closed, opensAt }`. `available`: `true` / `false`, `null` when the
 * server cannot be read; `closed`: outside the business hours (`BUSINESS_HOURS`); `opensAt`: when agents are back, a
 * `Date` (format it in the customer's locale and time zone), or `null` when not closed or nothing opens soon.
 * Never rejects. Needs no wasm.
 * @param {string} authServerUrl
 */
export async function getAgentAvailability(authServerUrl) {
  try {
    const res = await fetch(`${String(authServerUrl).replace(/\/+$/, '')}/v1/agents/availability`);
    const a = res.ok ? await res.json() : null;
    const available = typeof a?.agentsAvailable === 'number' ? a.agentsAvailable > 0 : null;
    const opensAt = a?.closed === true && typeof a.opensAt === 'string' ? new Date(a.opensAt) : null;
    return { available, closed: a?.closed === true, opensAt: opensAt && !Number.isNaN(opensAt.getTime()) ? opensAt : null };
  } catch {
    return { available: null, closed: false, opensAt: null };
  }
}

/**
 * `GET /v1/agents/availability`: `true` / `false` from the contact centre's queue statistics, `null` when unknown.
 * `agentsAvailable` is TaskRouter's `total_available_workers` for the configured queue: agents in an available
 * activity, whether or not they are busy with other chats (twilio-oai's description of that field). The queue is the
 * one the auth server is configured with (`TWILIO_QUEUE_SID`); the connect message's routing hints do not pick another.
 */
async function agentsOnline(authServerUrl) {
  return (await getAgentAvailability(authServerUrl)).available;
}
