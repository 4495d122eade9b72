// flexdesk: a Twilio Flex service desk for Carbon AI Chat, in Rust compiled to WebAssembly.
//
//   import { createTwilioFlexServiceDesk } from 'flexdesk';
//   serviceDeskFactory: createTwilioFlexServiceDesk({ authServerUrl, createConversationsClient: (t) => new Client(t) })
//
// The wasm module is fetched once, on the first chat, from next to this file (new URL(..., import.meta.url)),
// which Vite, webpack 5 and esbuild (with the .wasm copied beside the bundle) resolve without plugins.
import init, { TwilioFlex } from './flexdesk.js';

let ready;

function load() {
  ready ??= init({ module_or_path: new URL('./flexdesk_bg.wasm', import.meta.url) });
  return ready;
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
  return async function serviceDeskFactory(params) {
    await load();
    const desk = new TwilioFlex(config, params.callback, params.persistedState ?? null);
    return {
      getName: () => desk.getName(),
      startChat: (connectMessage, options) => desk.startChat(connectMessage, options ?? {}),
      endChat: (info) => desk.endChat(info ?? {}),
      sendMessageToAgent: (message, messageID, additionalData) => desk.sendMessageToAgent(message, messageID, additionalData ?? {}),
      userTyping: (isTyping) => desk.userTyping(!!isTyping),
      userReadMessages: () => desk.userReadMessages(),
      areAnyAgentsOnline: (connectMessage) => desk.areAnyAgentsOnline(connectMessage),
      filesSelectedForUpload: (uploads) => desk.filesSelectedForUpload(uploads ?? []),
      screenShareStop: () => desk.screenShareStop(),
      reconnect: () => desk.reconnect(),
      /** Not part of the ServiceDesk contract: the chat's phase, for status displays and tests. */
      get phase() { return desk.phase; },
    };
  };
}

export { load as initFlexdesk };
