// A web team's page, as the bundler apps (Vite, webpack, esbuild) build it: Carbon AI Chat's web component, the real
// Twilio Conversations SDK, and flexdesk from npm. No bundler configuration is needed for flexdesk. The SDK is imported
// when a chat with an agent starts (a chunk of its own), so a visitor who only talks to the bot never loads it.
import '@carbon/ai-chat/dist/es/web-components/cds-aichat-container/index.js';
import { createTwilioFlexServiceDesk } from 'flexdesk';
import { customSendMessage, pageConfig } from './bot.js';

const { authServerUrl, twilsockUri } = pageConfig();
const chat = document.createElement('cds-aichat-container');
chat.messaging = { customSendMessage };
chat.serviceDeskFactory = createTwilioFlexServiceDesk({
  authServerUrl,
  // `{ Twilsock: { uri } }` points the SDK at the emulator; against Twilio it is
  // `async (token) => { const sdk = await import('@twilio/conversations'); return new (sdk.Client ?? sdk.default.Client)(token); }`.
  createConversationsClient: async (token) => {
    const sdk = await import('@twilio/conversations');
    return new (sdk.Client ?? sdk.default.Client)(token, { Twilsock: { uri: twilsockUri } });
  },
  customerName: 'Consumer Customer',
});
document.body.appendChild(chat);
document.documentElement.dataset.app = 'ready';
