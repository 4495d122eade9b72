// Must NOT type-check: the types catch a missing createConversationsClient and a wrong option type.
import { createTwilioFlexServiceDesk } from 'flexdesk';
createTwilioFlexServiceDesk({ authServerUrl: 'https://chat-auth.example.com' });
createTwilioFlexServiceDesk({ authServerUrl: 'https://x', createConversationsClient: () => ({}) as any, maxFileBytes: '1MB' });
