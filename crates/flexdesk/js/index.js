// flexdesk: a Twilio Flex service desk for Carbon AI Chat, in Rust compiled to WebAssembly.
//
//   import { createTwilioFlexServiceDesk } from 'flexdesk';
//   serviceDeskFactory: createTwilioFlexServiceDesk({ authServerUrl, createConversationsClient: async (t) => { const sdk = await import('@twilio/conversations'); return new (sdk.Client ?? sdk.default.Client)(t); } })
//
// This file is all a page loads until a customer asks for an agent. The desk itself (wasm-bindgen's glue
// `flexdesk.js` and `flexdesk_bg.wasm`, next to this file, or the .wasm at the `wasmUrl` option) is loaded on the first `startChat` or `reconnect`
// (or when the bot offers an agent: `areAnyAgentsOnline`; or when the web chat is ready, if the customer has a chat open
// in another tab or saved before a reload: the desk decides whether to offer it), with a dynamic import and
// new URL(..., import.meta.url), which Vite, webpack 5 and esbuild resolve without plugins.
//
// A desk that cannot load (the .wasm missing, a Content-Security-Policy without 'wasm-unsafe-eval') never
// breaks the bot: the factory always resolves, `areAnyAgentsOnline` answers false, `startChat` fails like a chat
// that could not start, and the console says why.

const NAME = 'flexdesk (Twilio Flex)';
const PAGE = 1 + Math.random(); // this page among the tabs of the origin (a desk made twice in one page is one tab)
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
  resumeChat: 'You have a chat with an agent open. Connect to carry on with it here.',
  continuedElsewhere: 'Your chat with an agent goes on in another tab. Connect to carry on with it here instead.',
  fileEmpty: 'This file is empty.',
  fileTooLarge: 'This file is {size} MB; files can be at most {max} MB.',
  fileType: 'Files of type "{type}" cannot be sent. Allowed: {allowed}.',
  fileNotSent: 'The file could not be sent.',
  idlePrompt: 'Are you still there? Send a message to stay in the chat.',
  idleClosed: 'The chat was closed because there was no answer.',
  continuesBySms: "This chat continues by SMS to {phone}: the agent's replies reach your phone, and you can answer there.",
};

/** English: the texts until (or unless) a `locale`'s arrive from `./locales.js` (loaded with the desk, never in the .wasm). */
const ENGLISH = { table: STRINGS };
async function textsFor(locale) {
  if (!locale || /^en\b/i.test(locale)) return ENGLISH;
  try {
    return (await import('./locales.js')).textsFor(locale, STRINGS);
  } catch (error) {
    console.warn(`flexdesk: no texts for locale ${locale}, so English:`, error);
    return ENGLISH;
  }
}

/**
 * A customer text in the page's wording (`config.strings[key]`: a template whose `{name}`s are filled in, or a
 * function of the parameters), else the default of `texts` (the locale's, else English). A `retry` parameter names
 * the retry text's key. A locale's texts fill their own parameters (`locales.js`: numbers, plural forms).
 */
const has = (o, key) => !!o && Object.prototype.hasOwnProperty.call(o, key);
function say(strings, key, params = {}, texts = ENGLISH) {
  const { retry, ...rest } = params;
  if (has(STRINGS, retry)) params = { ...rest, retry: say(strings, retry, rest, texts) };
  const own = has(strings, key) ? strings[key] : undefined;
  let custom = own;
  if (typeof own === 'function') {
    try {
      custom = own({ ...params });
    } catch (error) {
      console.warn(`flexdesk: config.strings.${key} threw, so the default text was shown:`, error);
    }
  }
  const text = typeof custom === 'string' ? custom : texts.table[key] ?? key;
  return texts.fill ? texts.fill(text, params) : text.replace(/\{(\w+)\}/g, (m, name) => params[name] ?? m);
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
    throw new TypeError('flexdesk: config.createConversationsClient must be a function (token) => Conversations Client, or a promise of one');
  }
  if (!(config.transcript == null || typeof config.transcript === 'function')) {
    throw new TypeError('flexdesk: config.transcript must be a function () => [{ from, text }]');
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
  for (const key of ['idlePromptMs', 'idleCloseMs']) {
    if (config[key] !== undefined && !(Number.isInteger(config[key]) && config[key] >= 1000)) {
      throw new TypeError(`flexdesk: config.${key} must be a whole number of milliseconds, at least 1000, got ${JSON.stringify(config[key])}`);
    }
  }
  if (!(config.wasmUrl === undefined || typeof config.wasmUrl === 'string' || config.wasmUrl instanceof URL)) {
    throw new TypeError('flexdesk: config.wasmUrl must be the URL of flexdesk_bg.wasm (a string or a URL)');
  }
  if (!(config.onChatEnd === undefined || typeof config.onChatEnd === 'function')) {
    throw new TypeError('flexdesk: config.onChatEnd must be a function (outcome) => void');
  }
  const strings = config.strings === undefined ? {} : config.strings;
  if (!strings || typeof strings !== 'object') throw new TypeError('flexdesk: config.strings must be an object of texts by key');
  for (const key in strings) {
    if (!has(STRINGS, key) || !/^(string|function)$/.test(typeof strings[key])) {
      throw new TypeError(`flexdesk: config.strings.${key} is not one of its keys (${Object.keys(STRINGS)}) with a string or a function (params) => string`);
    }
  }
  if (!(config.locale === undefined || typeof config.locale === 'string')) {
    throw new TypeError(`flexdesk: config.locale must be a BCP 47 language tag like 'de' or 'pt-BR' (the web chat's locale), got ${JSON.stringify(config.locale)}`);
  }
  let texts;
  return async (params) => lightDesk(config, params, await (texts ??= textsFor(config.locale)));
}

/**
 * One chat wherever the customer is (issue 17): the browser side only. The desk's saved chat is kept in localStorage
 * too, for every tab of the origin, and the tabs talk on a BroadcastChannel; which tab holds the chat, when it is
 * offered with a connect card and when a tab lets go are the core's rules (flexdesk-core `session/tab.rs`).
 */
function sharedChat(url) {
  const key = `flexdesk:${url}`;
  let bc, ok;
  try {
    bc = new BroadcastChannel(key);
  } catch {}
  try {
    ok = !!localStorage;
  } catch {}
  return {
    bc,
    ok,
    get() {
      try {
        const s = JSON.parse(localStorage.getItem(key));
        return typeof s?.sessionId === 'string' ? s : null;
      } catch {
        return null;
      }
    },
    set(s) {
      try {
        s?.sessionId ? localStorage.setItem(key, JSON.stringify(s)) : localStorage.removeItem(key);
      } catch {}
    },
  };
}

/** The `ServiceDesk` the web chat gets at once; it loads the real desk when a chat with an agent starts. */
function lightDesk(config, { callback, instance, persistedState }, texts) {
  const shared = sharedChat(config.authServerUrl);
  const peers = new Set(); // the other pages of this origin with this desk: each can take the shared chat up
  // The callback the desk gets: the web chat's, every save also written to the copy every tab reads (the desk saves
  // only while this tab holds the chat), and the core's tab calls (flexdesk-core `TabCall`) carried out.
  // Suspended first, then ended: Carbon then adds no line of its own, and clears the suspension as it ends
  // (flexdesk-core `TabCall::LetGo` and `WebCall::ChatEndedQuietly` say why).
  const quietly = (end) => () =>
    Promise.resolve()
      .then(() => instance?.serviceDesk?.updateIsSuspended?.(true))
      .catch(() => {}) // an older web chat without it: the chat is still ended, with its default line
      .then(end)
      .catch((error) => console.warn('flexdesk: ending the chat quietly failed:', error));
  const cb = Object.create(callback, {
    updatePersistedState: {
      value(state, merge) {
        shared.set(state);
        return callback.updatePersistedState(state, merge);
      },
    },
    announceChat: { value: (sessionId) => shared.bc?.postMessage({ taken: sessionId }) },
    forgetChat: { value: () => shared.set(null) },
    // A connect card for the open chat; the web chat asks `areAnyAgentsOnline`, then `startChat`.
    offerChat: {
      value: (text) =>
        instance?.messaging?.addMessage({
          output: { generic: [{ response_type: 'connect_to_agent', message_to_human_agent: '', agent_available: { message: text } }] },
        }),
    },
    letGo: { value: quietly(() => instance?.serviceDesk?.endConversation()) },
    endQuietly: { value: quietly(() => callback.agentEndedChat()) },
  });
  const mine = () => {
    const s = callback.persistedState?.() ?? persistedState;
    return s && typeof s === 'object' && typeof s.sessionId === 'string' ? s : null;
  };
  // The chat this customer has open; without localStorage, this tab's own copy (a reload while waiting still finds it).
  const openChat = () => (shared.ok ? shared.get() : mine());
  let desk; // the wasm desk, once loaded and created
  let pending; // the promise of it
  // After an erasure: the copy every tab reads and the web chat's saved state, when they are still of that chat (a newer
  // chat's are kept).
  const forgetSaved = (sessionId) => {
    if (shared.get()?.sessionId === sessionId) shared.set(null);
    if (mine()?.sessionId === sessionId) callback.updatePersistedState(false, false);
  };
  const open = () =>
    (pending ??= initFlexdesk({ wasmUrl: config.wasmUrl })
      .then((glue) => {
        try {
          // The config as given, plus `strings` as the function the desk asks for each customer text, and
          // `onChatEnd` guarded: a hook that throws or rejects is logged, and the chat goes on.
          const strings = (key, params) => say(config.strings, key, params, texts);
          const hook = config.onChatEnd;
          const onChatEnd =
            hook && ((o) => (async () => hook(withRate(o, config.authServerUrl, forgetSaved)))().catch((e) => console.warn('flexdesk: config.onChatEnd failed:', e)));
          desk = new glue.TwilioFlex(Object.create(config, { strings: { value: strings }, onChatEnd: { value: onChatEnd } }), cb, persistedState ?? null);
          // Carbon never tells the desk the page suspended the chat (`instance.serviceDesk.updateIsSuspended`), but
          // drops agent messages meanwhile (HumanAgentServiceImpl.ts `sendMessageToUser`: `addMessages(…,
          // !isSuspended())`): the desk reads the flag now (Carbon keeps it across a reload) and on every change.
          const suspended = (state) => !!state?.humanAgent?.isSuspended;
          let was = suspended(instance?.getState?.());
          if (was) desk.setSuspended(true);
          instance?.on?.({
            type: 'state:change',
            handler: (event) => {
              const now = suspended(event?.newState);
              if (now !== was) desk?.setSuspended((was = now));
            },
          });
          return desk;
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
  // A chat saved by an earlier page: load the desk at once, Carbon may call reconnect.
  if (mine()) open().catch(() => {});
  // Another tab took a chat: the desk lets go if it is the one this tab holds (a tab without the desk holds none).
  // Pages also say hello and goodbye, so the last one to go knows it is the last (the beacon below).
  if (shared.bc)
    shared.bc.onmessage = ({ data }) => {
      if (data?.hi && data.hi !== PAGE) peers.add(data.hi), shared.bc.postMessage({ here: PAGE });
      if (data?.here && data.here !== PAGE) peers.add(data.here);
      if (data?.bye) peers.delete(data.bye);
      if (typeof data?.taken === 'string') desk?.chatTaken(data.taken);
    };
  // No ghost chats (issue 28): the last tab of this origin with the chat to go away (`pagehide`: closed, reloaded or
  // navigated away) tells the auth server, which ends the chat after its grace period unless a reload or another tab
  // refreshes it first (every take-up does: the core's check of a chat found, or the desk's resume). `sendBeacon`
  // outlives the page but sets no header, so the credential is in the body, as a string: `text/plain`, which needs no
  // CORS preflight (https://developer.mozilla.org/en-US/docs/Web/API/Navigator/sendBeacon). A page back from the
  // back/forward cache is a tab again and takes its chat up with a refresh.
  shared.bc?.postMessage({ hi: PAGE });
  const sessionUrl = (chat, what) =>
    authApi(config.authServerUrl, `/v1/sessions/${encodeURIComponent(chat.sessionId)}/${what}`);
  globalThis.addEventListener?.('pagehide', () => {
    shared.bc?.postMessage({ bye: PAGE });
    const chat = openChat();
    // A chat that goes on by SMS (`continueBySms`) is not left when its pages go: the phone is still in it.
    if (chat && !peers.size && !chat.bySms) navigator.sendBeacon?.(sessionUrl(chat, 'leave'), JSON.stringify({ sessionCredential: chat.credential }));
  });
  globalThis.addEventListener?.('pageshow', (e) => {
    const chat = e.persisted && (shared.bc?.postMessage({ hi: PAGE }), openChat());
    if (chat)
      fetch(sessionUrl(chat, 'token'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sessionCredential: chat.credential }) }).catch(() => {});
  });
  // A chat open elsewhere, or waiting before this reload: the desk checks it and offers it, or forgets it when it is
  // over. Only a chat found loads the desk here: a visitor without one loads nothing heavy before asking for an agent.
  instance?.once?.({
    type: 'chat:ready',
    handler: () => {
      const chat = openChat();
      const connected = !!instance.getState?.().humanAgent?.isConnected;
      if (chat) open().then((d) => d.chatFound(chat, connected), () => {});
    },
  });
  return {
    getName: () => NAME,
    startChat: (connectMessage, options) => {
      let reached;
      starting = new Promise((resolve) => (reached = resolve));
      return open()
        .then(
          async (d) => {
            // This customer's chat still open elsewhere: the desk carries on with it (same task); only a new chat needs
            // the identity token.
            const chat = openChat();
            // Adopting reached the desk once called: an endChat meanwhile goes to it at once (Carbon waits 5 s for it,
            // END_CHAT_TIMEOUT_MS in HumanAgentServiceImpl.ts `doEndChat`; adopting may take a join timeout).
            // (Nothing awaiting `starting` runs before adoptChat below: promise callbacks wait for this code to finish.)
            if (chat) return reached(), d.adoptChat(chat, mine());
            // A signed-in customer's token, read now (a function can fetch a fresh one). Without one: a guest.
            let token;
            try {
              token = await (typeof config.identityToken === 'function' ? config.identityToken() : config.identityToken);
            } catch (error) {
              console.warn('flexdesk: config.identityToken failed, so the chat was not started:', error);
              return callback.setErrorStatus({ type: 1, messageToUser: say(config.strings, 'identityInvalid', {}, texts) });
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
            callback.setErrorStatus({ type: 1, messageToUser: say(config.strings, 'unavailable', { retry: 'retryLater' }, texts) }),
        )
        .finally(() => reached());
    },
    endChat: (info) => during((d) => d.endChat(info ?? {})),
    sendMessageToAgent: (message, messageID, additionalData) =>
      during((d) => d.sendMessageToAgent(message, messageID, additionalData ?? {})),
    userTyping: (isTyping) => during((d) => d.userTyping(!!isTyping)),
    userReadMessages: () => during((d) => d.userReadMessages()),
    // Answered by the auth server without the wasm; `false` when the desk cannot load (no chat could start),
    // `null` when the availability cannot be read. Loading starts here: the bot has just offered an agent. Carbon
    // waits 5 s for the answer (HumanAgentServiceImpl.ts AVAILABILITY_TIMEOUT_MS, then "no agents"): a first
    // download still under way after 3 s counts as loading, not as failed.
    areAnyAgentsOnline: async () => {
      const loads = Promise.race([initFlexdesk({ wasmUrl: config.wasmUrl }).then(() => true, () => false), new Promise((r) => setTimeout(r, 3e3, true))]);
      // A chat already open needs no free agent to carry on.
      // Otherwise `GET /v1/agents/availability`: `true` / `false` from the contact centre's queue statistics, `null` when
      // unknown (`getAgentAvailability`, below, says what `agentsAvailable` counts).
      const online = openChat() ? true : (await getAgentAvailability(config.authServerUrl)).available;
      return (await loads) && online;
    },
    filesSelectedForUpload: (uploads) => {
      if (desk) desk.filesSelectedForUpload(uploads ?? []);
      else during((d) => d.filesSelectedForUpload(uploads ?? []));
    },
    screenShareStop: () => Promise.resolve(),
    // Nothing saved: nothing to resume, and nothing to load. Not a chat this desk can read (another version's shape):
    // Carbon ends it on `false`; saving `false` (as the desk forgets a chat, shell.rs `save_now`) lets the bot's welcome
    // come back. Carbon keeps the input disabled until `reconnect` settles (HumanAgentServiceImpl.ts
    // `handleHydration`, `setIsReconnecting`): a desk still loading after a join's wait answers "back, but
    // disconnected" (DISCONNECTED = 2), as the desk does for a slow join, and carries on once it arrives.
    reconnect: () => {
      if (!mine()) return callback.persistedState?.() && callback.updatePersistedState(false, false), Promise.resolve(false);
      const down = (isDisconnected) => callback.setErrorStatus({ type: 2, isDisconnected });
      const back = open().then((d) => d.reconnect(), () => false);
      const wait = (r) => desk || (r(true), down(true), back.then((b) => (b ? down(false) : callback.agentEndedChat())));
      return Promise.race([back, new Promise((r) => setTimeout(wait, config.joinTimeoutMs ?? 2e4, r))]);
    },
    /**
     * Not part of the ServiceDesk contract (issue 28, item 4): continue this chat by SMS to `phone`, a number the
     * customer typed and confirmed. Resolves `{ phone }` (masked) once the auth server added it, else `{ code }`;
     * never rejects. The desk decides (flexdesk-core `sms.rs`: a live chat, an E.164 number); `sms.js`, loaded only
     * when a page uses this (it is not in the page's first load), posts what it says with the saved chat's credential
     * (the number in the body, never the URL) and reports the answer back to it.
     */
    continueBySms: (phone) => import('./sms.js').then((m) => m.continueBySms(config.authServerUrl, desk, mine(), phone)),
    /** The chat goes on by SMS too (the core's mark, in the saved chat): a closed tab is not the customer leaving it. */
    get continuesBySms() {
      return mine()?.bySms === true;
    },
    /** Not part of the ServiceDesk contract: the chat's phase, for status displays and tests. */
    get phase() {
      return desk ? desk.phase : 'Idle';
    },
  };
}

/** An auth server URL: `path` under `authServerUrl` (with or without a trailing slash). */
const authApi = (authServerUrl, path) => String(authServerUrl).replace(/\/+$/, '') + path;

/**
 * Whether agents can take a chat now, as the auth server says (`GET /v1/agents/availability`), for a page that wants
 * to say more than Carbon's card: `{ available, closed, opensAt }`. `available`: `true` / `false`, `null` when the
 * server cannot be read; `closed`: outside the business hours (`BUSINESS_HOURS`); `opensAt`: when agents are back, a
 * `Date` (format it in the customer's locale and time zone), or `null` when not closed or nothing opens soon.
 * Never rejects. Needs no wasm. `agentsAvailable` is TaskRouter's `total_available_workers` for the configured queue:
 * agents in an available activity, whether or not they are busy with other chats (twilio-oai's description of that
 * field). The queue is the one the auth server is configured with (`TWILIO_QUEUE_SID`); the connect message's routing
 * hints do not pick another.
 * @param {string} authServerUrl
 */
export async function getAgentAvailability(authServerUrl) {
  try {
    const res = await fetch(authApi(authServerUrl, '/v1/agents/availability'));
    const a = res.ok ? await res.json() : null;
    const available = typeof a?.agentsAvailable === 'number' ? a.agentsAvailable > 0 : null;
    const opensAt = a?.closed === true && typeof a.opensAt === 'string' ? new Date(a.opensAt) : null;
    return { available, closed: a?.closed === true, opensAt: opensAt && !Number.isNaN(opensAt.getTime()) ? opensAt : null };
  } catch {
    return { available: null, closed: false, opensAt: null };
  }
}

/**
 * The page's outcome (issue 28): the desk's `ticket` (the ended session's id and credential, for every chat that had a
 * session) is taken off the object and kept in `rate` and `erase`, which are not enumerable, so the outcome stays plain
 * data. The requests are `rating.js`'s and `erase.js`'s, loaded only when the page uses them (not in its first load).
 */
function withRate({ ticket, ...outcome }, authServerUrl, forget) {
  return Object.defineProperties(outcome, {
    rate: { value: (rating) => import('./rating.js').then((m) => m.rateChat(authServerUrl, ticket, rating, outcome.agentJoined)) },
    erase: { value: () => import('./erase.js').then((m) => m.eraseChat(authServerUrl, ticket, forget)) },
  });
}
