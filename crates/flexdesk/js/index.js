// flexdesk: a Twilio Flex service desk for Carbon AI Chat, in Rust compiled to WebAssembly.
//
//   import { createTwilioFlexServiceDesk } from 'flexdesk';
//   serviceDeskFactory: createTwilioFlexServiceDesk({ authServerUrl, createConversationsClient: async (t) => { const sdk = await import('@twilio/conversations'); return new (sdk.Client ?? sdk.default.Client)(t); } })
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
  resumeChat: 'You have a chat with an agent open. Connect to carry on with it here.',
  continuedElsewhere: 'Your chat with an agent goes on in another tab. Connect to carry on with it here instead.',
  fileEmpty: 'This file is empty.',
  fileTooLarge: 'This file is {size} MB; files can be at most {max} MB.',
  fileType: 'Files of type "{type}" cannot be sent. Allowed: {allowed}.',
  fileNotSent: 'The file could not be sent.',
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
 * One chat wherever the customer is (issue 17): the desk's saved chat is kept in localStorage too, for every tab of
 * the origin, and the tab that takes the chat over says so on a BroadcastChannel. Carbon keeps its own state per tab
 * (sessionStorage) and hands a chat back only through `reconnect` after an agent joined, so a chat open elsewhere (or
 * still waiting before a reload) is offered again with a connect card: `startChat` then adopts it, same Flex task.
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
  const tab = Math.random();
  let owner = false; // this tab shows the shared chat and holds its connection
  // What the desk saves goes to this tab's web chat and to every tab, while this tab shows the chat. A tab that let
  // go keeps its own copy: it tells what its web chat shows of that chat.
  const cb = Object.create(callback, {
    updatePersistedState: {
      value(state, merge) {
        if (!owner) return;
        shared.set(state);
        owner = !!state?.sessionId; // the chat is over: nothing left to hand over
        return callback.updatePersistedState(state, merge);
      },
    },
  });
  const mine = () => {
    const s = callback.persistedState?.() ?? persistedState;
    return s && typeof s === 'object' && typeof s.sessionId === 'string' ? s : null;
  };
  // The chat this customer has open; without localStorage, this tab's own copy (a reload while waiting still finds it).
  const openChat = () => (shared.ok ? shared.get() : mine());
  const take = () => {
    owner = true;
    shared.bc?.postMessage({ taken: tab });
  };
  // A connect card for the shared chat (`key`: its text); the web chat asks `areAnyAgentsOnline`, then `startChat`.
  const offer = (key) =>
    openChat() &&
    instance?.messaging?.addMessage({
      output: { generic: [{ response_type: 'connect_to_agent', message_to_human_agent: '', agent_available: { message: say(config.strings, key, {}, texts) } }] },
    });
  let desk; // the wasm desk, once loaded and created
  let pending; // the promise of it
  const open = () =>
    (pending ??= initFlexdesk({ wasmUrl: config.wasmUrl })
      .then((glue) => {
        try {
          // The config as given, plus `strings` as the function the desk asks for each customer text, and
          // `onChatEnd` guarded: a hook that throws or rejects is logged, and the chat goes on.
          const strings = (key, params) => say(config.strings, key, params, texts);
          const hook = config.onChatEnd;
          const onChatEnd = hook && ((o) => (async () => hook(o))().catch((e) => console.warn('flexdesk: config.onChatEnd failed:', e)));
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
  // Another tab took the chat: let go of the connection (the chat goes on there), end it in this web chat without
  // saying it ended, and offer it with a card that says where it went.
  // Carbon 1.9.1 ends a chat from the page only with `instance.serviceDesk.endConversation()`, which is
  // `agentEndConversation(false)` (instance/ChatInstanceImpl.ts → HumanAgentServiceImpl.ts `endChat(false)`): it adds
  // "You disconnected from the live agent." (CHAT_WAS_ENDED, agent_conversationWasEnded) and, 1.5 s later, the
  // assistant's return line, both through `addMessages(…, !wasSuspended)` (`doEndChat`, humanAgentUtils.ts). So the
  // chat is suspended first (`updateIsSuspended(true)`, accepted while connecting or connected:
  // humanAgentReducers.ts HA_UPDATE_IS_SUSPENDED; `HA_END_CHAT` clears it again): the ending adds nothing, and the
  // card with `continuedElsewhere` is the last word, at once (no return line to wait for).
  if (shared.bc)
    shared.bc.onmessage = ({ data }) => {
      if (owner && data?.taken !== tab) {
        owner = false;
        during((d) => d.release());
        const desk = instance?.serviceDesk;
        Promise.resolve()
          .then(() => desk?.updateIsSuspended?.(true))
          .catch(() => {}) // an older web chat without it: the chat is still ended, with its default line
          .then(() => desk?.endConversation())
          .catch((error) => console.warn('flexdesk: ending the chat in the tab that let go failed:', error))
          .finally(() => offer('continuedElsewhere'));
      }
    };
  // A chat open elsewhere, or waiting before this reload, that this web chat will not reconnect: offer it, unless it
  // is over (ended while no tab had it): the auth server refuses its refresh then (401/404, docs/auth-server.md).
  const live = (chat) =>
    fetch(authApi(config.authServerUrl, `/v1/sessions/${encodeURIComponent(chat.sessionId)}/token`), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sessionCredential: chat.credential }),
    }).then((r) => r.status !== 401 && r.status !== 404, () => true);
  instance?.once?.({
    type: 'chat:ready',
    handler: async () => {
      const chat = openChat();
      if (!chat || instance.getState?.().humanAgent?.isConnected) return;
      if (await live(chat)) offer('resumeChat');
      else shared.set(null);
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
            // This customer's chat still open elsewhere: carry on with it (same task), with what this tab has shown.
            const chat = openChat();
            take();
            // Adopting reached the desk once called: an endChat meanwhile goes to it at once (Carbon waits 5 s for it,
            // END_CHAT_TIMEOUT_MS in HumanAgentServiceImpl.ts `doEndChat`; adopting may take a join timeout).
            // (Nothing awaiting `starting` runs before adoptChat below: promise callbacks wait for this code to finish.)
            if (chat) return reached(), d.adoptChat({ ...chat, lastShown: mine()?.sessionId === chat.sessionId ? mine().lastShown : null });
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
      const back = open().then((d) => (take(), d.reconnect()), () => false);
      const wait = (r) => desk || (r(true), down(true), back.then((b) => (b ? down(false) : callback.agentEndedChat())));
      return Promise.race([back, new Promise((r) => setTimeout(wait, config.joinTimeoutMs ?? 2e4, r))]);
    },
    /**
     * Not part of the ServiceDesk contract (issue 28, item 4): continue this chat by SMS to `phone`, a number the
     * customer typed and confirmed. Resolves `{ phone }` (masked) once the auth server added it, else `{ code }`;
     * never rejects. The desk decides (flexdesk-core `sms.rs`: a live chat, an E.164 number); this posts what it says
     * with the saved chat's credential (the number in the body, never the URL) and reports the answer back to it.
     */
    continueBySms: async (phone) => {
      const chat = mine();
      const number = desk && chat ? desk.smsRequest(String(phone ?? '')) : 'session_ended';
      if (!number.startsWith('+')) return { code: number };
      try {
        const res = await fetch(authApi(config.authServerUrl, `/v1/sessions/${encodeURIComponent(chat.sessionId)}/sms`), {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ sessionCredential: chat.credential, phone: number }),
        });
        const answer = await res.json().catch(() => null);
        if (!res.ok || typeof answer?.phone !== 'string') return { code: answer?.error?.code ?? 'unexpected_answer' };
        desk.smsAdded(answer.phone);
        return { phone: answer.phone };
      } catch {
        return { code: 'unreachable' };
      }
    },
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

