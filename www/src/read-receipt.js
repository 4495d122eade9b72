// Read receipts both ways, filling two gaps of Carbon AI Chat 1.9.1 around an unchanged desk:
// - agent → customer: the web chat accepts `callback.agentReadMessages()` but only logs it, so the page shows
//   "Read by <agent>" itself, in the chat's `beforeInputElement` slot;
// - customer → agent: the web chat never calls the desk's `userReadMessages()`, so the page calls it when an
//   agent message arrives while the chat window is open and the tab visible (or when they next become so).
import { intercept } from './intercept.js';

/** Pure state: what the receipt line says (null = hidden), given the events seen so far. */
export class ReceiptState {
  constructor() {
    this.agentName = null;
    this.userSentSinceJoin = false;
    this.text = null;
  }
  agentJoined(profile) {
    this.agentName = profile?.nickname || null;
    this.userSentSinceJoin = false;
    this.text = null;
  }
  userSent() {
    this.userSentSinceJoin = true;
    this.text = null;
  }
  agentRead() {
    // A read mark before the customer said anything to this agent is not news to the customer.
    if (this.userSentSinceJoin) this.text = `Read by ${this.agentName ?? 'the agent'}`;
  }
  ended() {
    this.agentName = null;
    this.userSentSinceJoin = false;
    this.text = null;
  }
}

/** Returns a serviceDeskFactory that behaves like `factory` and keeps a read-receipt line up to date. */
export function withReadReceipts(factory) {
  const state = new ReceiptState();
  const line = document.createElement('div');
  line.className = 'flexdesk-read-receipt';
  line.setAttribute('role', 'status');
  line.hidden = true;
  const render = () => {
    line.textContent = state.text ? `✓ ${state.text}` : '';
    line.hidden = !state.text;
  };
  const on = (fn) => (...args) => {
    fn(...args);
    render();
  };

  return async (params) => {
    params.instance?.writeableElements?.beforeInputElement?.appendChild(line);
    let desk = null;
    const seen = customerReadMarker(params.instance, () => desk);
    const callback = intercept(
      params.callback,
      {
        agentJoined: on((profile) => state.agentJoined(profile)),
        agentReadMessages: on(() => state.agentRead()),
        agentEndedChat: on(() => state.ended()),
        agentLeftChat: on(() => state.ended()),
      },
      // Once the web chat has added the agent's message, the customer may be looking at it.
      { sendMessageToUser: () => seen.messageShown() },
    );
    desk = await factory({ ...params, callback });
    return intercept(desk, {
      sendMessageToAgent: on(() => state.userSent()),
      endChat: on(() => state.ended()),
    });
  };
}

/**
 * Calls the desk's `userReadMessages()` when the customer can actually see the agent's newest message: the chat
 * window open and the tab visible, now or when they next become so.
 *
 * It deliberately does not listen to the web chat's `human_agent:receive` event: Carbon AI Chat 1.9.1 throws when a
 * desk callback fires that event while a listener of the previous one is still running.
 */
function customerReadMarker(instance, getDesk) {
  let unseen = false;
  const visible = () => document.visibilityState === 'visible' && instance?.getState?.().viewState?.mainWindow !== false;
  const markRead = () => {
    const desk = getDesk();
    if (typeof desk?.userReadMessages !== 'function') return;
    if (!visible()) {
      unseen = true;
      return;
    }
    unseen = false;
    desk.userReadMessages().catch((e) => console.warn('flexdesk demo: marking messages read failed', e));
  };
  // (Handlers return promises: the web chat warns about handlers that do not.)
  instance?.on?.({ type: 'view:change', handler: async () => void (unseen && markRead()) });
  document.addEventListener('visibilitychange', () => unseen && markRead());
  return { messageShown: markRead };
}
