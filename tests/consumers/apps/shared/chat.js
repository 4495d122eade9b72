// A web team's page, as the bundler apps (Vite, webpack, esbuild) build it: Carbon AI Chat's web component, the real
// Twilio Conversations SDK, and flexdesk from npm. No bundler configuration is needed for flexdesk.
import '@carbon/ai-chat/dist/es/web-components/cds-aichat-container/index.js';
import { Client } from '@twilio/conversations';
import { createTwilioFlexServiceDesk } from 'flexdesk';
import { customSendMessage, pageConfig } from './bot.js';

const { authServerUrl, twilsockUri } = pageConfig();
const chat = document.createElement('cds-aichat-container');
chat.messaging = { customSendMessage };
chat.serviceDeskFactory = createTwilioFlexServiceDesk({
  authServerUrl,
  // `{ Twilsock: { uri } }` points the SDK at the emulator; against Twilio it is `(token) => new Client(token)`.
  createConversationsClient: (token) => new Client(token, { Twilsock: { uri: twilsockUri } }),
  customerName: 'Consumer Customer',
});
document.body.appendChild(chat);
document.documentElement.dataset.app = 'ready';
