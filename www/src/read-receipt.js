// Read receipts the customer can see. Carbon AI Chat 1.9.1 accepts `callback.agentReadMessages()` from a service
// desk but only logs it (nothing appears in the chat), so the page shows "Read by <agent>" itself, in the chat's
// `beforeInputElement` slot. It wraps the desk factory: the desk is unchanged, the page watches the calls.

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

function intercept(target, hooks) {
  return new Proxy(target, {
    get(obj, prop) {
      const value = Reflect.get(obj, prop, obj);
      if (typeof value !== 'function') return value;
      const hook = hooks[prop];
      return (...args) => {
        hook?.(...args);
        return value.apply(obj, args);
      };
    },
  });
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
    const callback = intercept(params.callback, {
      agentJoined: on((profile) => state.agentJoined(profile)),
      agentReadMessages: on(() => state.agentRead()),
      agentEndedChat: on(() => state.ended()),
      agentLeftChat: on(() => state.ended()),
    });
    const desk = await factory({ ...params, callback });
    return intercept(desk, {
      sendMessageToAgent: on(() => state.userSent()),
      endChat: on(() => state.ended()),
    });
  };
}
