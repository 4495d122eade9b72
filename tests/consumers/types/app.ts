// A web team's TypeScript app: imports flexdesk and hands it to Carbon AI Chat. Only has to type-check.
import type { PublicConfig } from '@carbon/ai-chat';
import { Client } from '@twilio/conversations';
import { createTwilioFlexServiceDesk } from 'flexdesk';

const config: PublicConfig = {
  serviceDeskFactory: createTwilioFlexServiceDesk({
    authServerUrl: 'https://chat-auth.example.com',
    createConversationsClient: (token: string) => new Client(token),
    customerName: 'Ada',
    transcript: () => [{ from: 'bot', text: 'Hello!' }],
  }),
};

export default config;
