// flexdesk/history: the conversation comes back after a reload, the bot's part and the agent's, in order, once.
//
//   import { chatHistory } from 'flexdesk/history';
//   const history = chatHistory();
//   chat.messaging = { customSendMessage, customLoadHistory: history.customLoadHistory };
//
// Why a page needs it: Carbon AI Chat 1.9.1 keeps no messages across a reload (`PersistedState` in AppState.ts has
// none) and brings them back only through `messaging.customLoadHistory(instance)`, which it calls once, when it first
// hydrates, before the human agent service starts and before it calls the desk's `reconnect`
// (ChatActionsImpl.ts `doHydrateChat` → HistoryService.ts `loadHistory`; a non-empty answer also stands in for the
// welcome). The desk, reconnecting, shows only the agent's messages after the last one it showed before the reload
// (`lastShown` in its saved state, ARCHITECTURE.md): everything up to there is this module's to restore, so the two
// together show each line once.
//
// What it keeps is what the web chat showed, as Carbon's own messages (so a restored agent message carries the
// agent's `response_user_profile`: name and picture, as before the reload), from Carbon's events on the instance
// that `customLoadHistory` receives: `send` and `receive` (the customer and the bot), `human_agent:send` (the
// customer to the agent, once the desk took it) and `human_agent:receive` (the agent's messages and Carbon's own
// status lines: joined, left, ended). Lines Carbon fires while the page has the chat suspended are not kept: Carbon
// does not show them (HumanAgentServiceImpl.ts `addMessages(…, !isSuspended())`; the tab that hands a chat to another
// tab suspends it first, so its "You disconnected" never shows, and must not come back on a reload either).
// "Restart conversation" forgets it all (Carbon clears its messages then: reducers.ts RESTART_CONVERSATION), so the
// bot's welcome comes back.
//
// Optional, like `flexdesk/transcript`: the desk never loads it (not in its size budget) and it needs no wasm.
// Messages are kept as data only and given back to Carbon, which renders them as it rendered them the first time.

import { storedList } from './stored-list.js';

const KEY = 'flexdesk-history';
/** sessionStorage is small (about 5 MB per origin, shared with the web chat's own state): the recent past only. */
const MAX_ITEMS = 200;
const MAX_STORED = 1_000_000; // characters of JSON

/**
 * Keeps the conversation of a Carbon AI Chat web chat so a reload shows it again. Returns
 * `{ customLoadHistory, clear(), stop() }`: give `customLoadHistory` to the web chat's `messaging` config.
 * - `storage` (default `sessionStorage`, per tab like the web chat's own state): where it is kept; `null`: memory only.
 * - `key` (default `'flexdesk-history'`): the storage key.
 * - `maxItems` (default 200): how many messages are kept, the newest.
 */
export function chatHistory({ storage = globalThis.sessionStorage, key = KEY, maxItems = MAX_ITEMS } = {}) {
  if (!(Number.isInteger(maxItems) && maxItems > 0)) throw new TypeError(`flexdesk/history: maxItems must be a positive whole number, got ${JSON.stringify(maxItems)}`);
  const list = storedList({ storage, key, maxItems, maxChars: MAX_STORED, valid: (i) => typeof i.time === 'string' && i.message && typeof i.message === 'object' });
  const items = list.items;
  const forget = list.clear;
  let listening = null; // { instance, handlers }

  // A message as Carbon's history wants it (HistoryItem: `{ message, time }`): a plain-data copy, as the web chat
  // freezes and keeps its own objects. The same message again (by id) replaces its first copy, in place.
  function keep(instance, message) {
    if (!message || typeof message !== 'object' || instance.getState?.().humanAgent?.isSuspended) return;
    let copy;
    try {
      copy = JSON.parse(JSON.stringify(message));
    } catch {
      return; // not plain data: nothing Carbon could restore either
    }
    const stamp = copy.history?.timestamp;
    const item = { message: copy, time: new Date(Number.isFinite(stamp) ? stamp : Date.now()).toISOString() };
    const at = copy.id ? items.findIndex((i) => i.message.id === copy.id) : -1;
    if (at >= 0) items[at] = item;
    else items.push(item);
    list.save();
  }

  function listen(instance) {
    if (listening?.instance === instance) return;
    stop();
    const handlers = [
      // The customer to the bot (the web chat's silent welcome request too: it marks the welcome when restored).
      { type: 'send', handler: (e) => void (e?.data?.input && keep(instance, e.data)) },
      // The bot, or whatever the page adds with messaging.addMessage.
      { type: 'receive', handler: (e) => void keep(instance, e?.data) },
      // The customer to the agent, fired once the desk took it (HumanAgentServiceImpl.ts sendMessageToAgent); a turn
      // of files only has an empty text (its uploads are separate messages, not in the event): nothing to restore.
      { type: 'human_agent:send', handler: (e) => void (e?.data?.input?.text && keep(instance, e.data)) },
      // The agent (with the agent's profile) and Carbon's status lines (their text is set before the event).
      { type: 'human_agent:receive', handler: (e) => void keep(instance, e?.data) },
      // Carbon has just cleared its messages and will ask the bot for the welcome again.
      { type: 'restartConversation', handler: () => void forget() },
    ];
    instance.on(handlers);
    listening = { instance, handlers };
  }

  function stop() {
    listening?.instance.off?.(listening.handlers);
    listening = null;
  }

  return {
    /** `messaging.customLoadHistory` for the web chat: what was kept, oldest first; from then on it keeps what is shown. */
    customLoadHistory: async (instance) => {
      if (instance && typeof instance.on === 'function') listen(instance);
      return items.map((i) => structuredClone(i));
    },
    /** Forgets what was kept (in storage too). */
    clear: forget,
    /** Stops keeping what the web chat shows (what was kept stays). */
    stop,
  };
}
