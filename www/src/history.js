// The conversation as the customer saw it, kept in sessionStorage and handed back to the web chat through
// `messaging.customLoadHistory`: Carbon AI Chat 1.9.1 keeps messages in memory only, so without this a reload
// mid-chat resumes the agent chat (the desk reconnects) in an empty window.

import { intercept } from './intercept.js';

const KEY = 'flexdesk-demo-history';
// sessionStorage is small (5 MB per origin, shared with the web chat's own state): keep the recent past only.
const MAX_ITEMS = 200;

export class ChatHistory {
  constructor(storage = globalThis.sessionStorage) {
    this.storage = storage;
    try {
      const saved = JSON.parse(storage?.getItem(KEY) ?? '[]');
      this.list = Array.isArray(saved) ? saved : [];
    } catch {
      this.list = [];
    }
  }

  add(message, time = new Date()) {
    // A plain-data copy: the web chat freezes and keeps its own objects.
    this.list.push({ message: JSON.parse(JSON.stringify(message)), time: time.toISOString() });
    if (this.list.length > MAX_ITEMS) this.list.splice(0, this.list.length - MAX_ITEMS);
    this.storage?.setItem(KEY, JSON.stringify(this.list));
  }

  /** Items in the web chat's HistoryItem shape, oldest first. */
  items() {
    return this.list.map((item) => structuredClone(item));
  }

  clear() {
    this.list = [];
    this.storage?.removeItem(KEY);
  }
}

/** An agent's message as the web chat's history wants it: a response carrying the agent's profile. */
export function agentMessageResponse(message, profile) {
  const response = typeof message === 'string' ? { output: { generic: [{ response_type: 'text', text: message }] } } : structuredClone(message);
  if (profile) response.message_options = { ...(response.message_options ?? {}), response_user_profile: profile };
  return response;
}

/** Records what the customer sends and what the bot answers (the agent side is recorded by the desk wrapper). */
export function recordBotConversation(instance, history) {
  const hasText = (request) => Boolean(request?.input?.text);
  instance.on({ type: 'send', handler: async (e) => void (hasText(e.data) && history.add(e.data)) });
  instance.on({ type: 'receive', handler: async (e) => void history.add(e.data) });
  instance.on({ type: 'human_agent:send', handler: async (e) => void (hasText(e.data) && history.add(e.data)) });
}

/** Wraps a serviceDeskFactory so the agent's messages (with the agent's name and avatar) go into `history`. */
export function withAgentHistory(factory, history) {
  return (params) => {
    let profile = null;
    const callback = intercept(params.callback, {
      agentJoined: (p) => (profile = p),
      sendMessageToUser: (message) => history.add(agentMessageResponse(message, profile)),
    });
    return factory({ ...params, callback });
  };
}
