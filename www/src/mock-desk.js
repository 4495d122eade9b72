// TEMPORARY stand-in for the wasm flexdesk package while it is being written: lets the page and the launcher be
// checked end to end in the browser. Built only when crates/flexdesk/pkg is missing (see scripts/build-www.mjs).
export function createTwilioFlexServiceDesk(config) {
  return async ({ callback }) => ({
    getName: () => 'flexdesk mock',
    areAnyAgentsOnline: async () => true,
    startChat: async () => {
      console.info('[mock desk] transcript', config.transcript?.(), 'pre-engagement', JSON.stringify(config.preEngagement));
      setTimeout(() => callback.agentJoined({ id: 'mock-alice', nickname: 'Alice (mock)', user_type: 'human' }), 500);
    },
    endChat: async () => {},
    sendMessageToAgent: async (message) => {
      setTimeout(() => callback.agentReadMessages(), 200);
      setTimeout(() => callback.sendMessageToUser(`echo: ${message.input.text}`, 'mock-alice'), 300);
    },
    userTyping: async () => {},
    userReadMessages: async () => {},
  });
}
