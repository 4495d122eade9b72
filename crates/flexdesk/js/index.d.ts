import type { ServiceDesk, ServiceDeskFactoryParameters } from '@carbon/ai-chat';

/** The subset of `@twilio/conversations`' Client that flexdesk uses (the real Client satisfies it). */
export interface ConversationsClientLike {
  on(event: string, listener: (...args: any[]) => void): unknown;
  getConversationBySid(sid: string): Promise<unknown>;
  updateToken(token: string): Promise<unknown>;
  shutdown(): Promise<void>;
}

export interface FlexdeskConfig {
  /** Base URL of the flexdesk auth server, e.g. `https://chat-auth.example.com`. */
  authServerUrl: string;
  /** Creates the Conversations client for a token: `(token) => new Client(token)`. */
  createConversationsClient: (token: string) => ConversationsClientLike;
  /** Shown to the agent; a pre-chat payload's `customerName` / `name` wins. Default "Customer". Read at each `startChat`. */
  customerName?: string | (() => string | undefined);
  /** Pre-engagement data handed to Flex (routing and the agent's task). Read at each `startChat`. */
  preEngagement?: Record<string, unknown> | (() => Record<string, unknown> | undefined);
  /** Largest file the customer may send, in bytes. Default: Twilio's 16 MiB. */
  maxFileBytes?: number;
  /** File extensions the customer may send (`'pdf'` or `'.pdf'`). Default: the Flex web channel's list. */
  allowedFileTypes?: string[];
  /** The bot conversation before the hand-off, shown to the agent. */
  transcript?: () => Array<{ from: 'user' | 'bot'; text: string }>;
}

/**
 * A Carbon AI Chat `serviceDeskFactory` backed by Twilio Flex. The factory resolves at once with a light desk;
 * the wasm desk is loaded at the first `startChat` / `reconnect` (or `areAnyAgentsOnline`). If it cannot load,
 * the bot keeps working: `areAnyAgentsOnline` answers false, `startChat` tells the user chat is unavailable, and the
 * console says why.
 */
export function createTwilioFlexServiceDesk(
  config: FlexdeskConfig,
): (parameters: ServiceDeskFactoryParameters) => Promise<ServiceDesk>;

/** Loads the wasm desk ahead of the first chat (optional); rejects, after a console error, when it cannot. */
export function initFlexdesk(): Promise<unknown>;
