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
    // "Delete this conversation" (issue 28): the receipt, or a code.
    onChatEnd: async (outcome) => {
      const r = await outcome.erase();
      if ('erased' in r) console.log(r.erased.join(', '), r.at, r.requestId);
      else console.log(r.code);
    },
  }),
};

export default config;
