import type { ChatInstance, HistoryItem } from '@carbon/ai-chat';

export interface ChatHistoryOptions {
  /** Where the conversation is kept so it survives a reload (default `sessionStorage`); `null` keeps it in memory only. */
  storage?: Pick<Storage, 'getItem' | 'setItem' | 'removeItem'> | null;
  /** The storage key (default `'flexdesk-history'`). */
  key?: string;
  /** How many messages are kept, the newest (default 200). */
  maxItems?: number;
}

export interface ChatHistory {
  /**
   * Give it to the web chat as `messaging.customLoadHistory`: the conversation kept so far (the bot's part and the
   * agent's, as the web chat showed them), oldest first; from then on it keeps what the web chat shows.
   */
  customLoadHistory(instance: ChatInstance): Promise<HistoryItem[]>;
  /** Forgets what was kept, in storage too. */
  clear(): void;
  /** Stops keeping what the web chat shows (what was kept stays). */
  stop(): void;
}

/**
 * Keeps the conversation of a Carbon AI Chat web chat (from its `send`, `receive`, `human_agent:send` and
 * `human_agent:receive` events) so a reload shows it again; with flexdesk reconnecting to the agent, each line once.
 */
export function chatHistory(options?: ChatHistoryOptions): ChatHistory;
