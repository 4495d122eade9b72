// A TypeScript app's view of the installed tarball: the types resolve through package.json's `exports` (`types`
// condition), with Carbon AI Chat's own types for the factory it returns.
import type { PublicConfig, ServiceDeskFactoryParameters, ServiceDesk } from '@carbon/ai-chat';
import { createTwilioFlexServiceDesk, initFlexdesk, type FlexdeskConfig } from 'flexdesk';

const options: FlexdeskConfig = {
  authServerUrl: 'https://chat-auth.example.com',
  // The SDK is imported when a chat with an agent starts: a promise of the client type-checks.
  createConversationsClient: async (token: string) => new (await import('@twilio/conversations')).Client(token),
  customerName: () => 'Ada',
  preEngagement: { topic: 'billing' },
  transcript: () => [{ from: 'bot', text: 'Hello!' }],
  maxFileBytes: 1 << 20,
  allowedFileTypes: ['pdf'],
};
const factory: (p: ServiceDeskFactoryParameters) => Promise<ServiceDesk> = createTwilioFlexServiceDesk(options);
export const config: PublicConfig = { serviceDeskFactory: factory };
export const preload: Promise<unknown> = initFlexdesk();
