import type { ChatInstance } from '@carbon/ai-chat';

export interface TranscriptOptions {
  /** Where the record is kept so it survives a reload (default `sessionStorage`); `null` keeps it in memory only. */
  storage?: Pick<Storage, 'getItem' | 'setItem' | 'removeItem'> | null;
  /** The storage key (default `'flexdesk-transcript'`). */
  key?: string;
  /**
   * The names on the lines: `user` (default `'You'`), `bot` (default `'Bot'`; a bot message's `response_user_profile`
   * nickname wins), `agent` (default `'Agent'`, when the web chat has no name for the agent).
   */
  labels?: { user?: string; bot?: string; agent?: string };
  /** The clock, in milliseconds (for tests; default `Date.now`). */
  now?: () => number;
}

export interface Transcript {
  /** The conversation so far, as plain text: one line per message, `2025-01-31 14:05:09 You: …`, notes in parentheses. */
  text(): string;
  /** Has the browser save `text()` as a `text/plain` file (default name `transcript.txt`). */
  download(filename?: string): void;
  /**
   * The customer's and the bot's lines, oldest first, in the shape of the desk's `transcript` option
   * (`transcript: () => record.entries()`). Chats with an agent and the notes are left out (they are
   * in the Flex conversation already).
   */
  entries(): Array<{ from: 'user' | 'bot'; text: string }>;
  /** Forgets the record, in storage too. */
  clear(): void;
  /** Stops listening to the web chat (the record stays). */
  stop(): void;
}

/**
 * Records the whole conversation of a Carbon AI Chat instance (the bot's part and the agent's) from the web chat's
 * events (`send`, `receive`, `human_agent:send`, `human_agent:receive`, `human_agent:endChat`). Plain text only.
 */
export function recordTranscript(instance: ChatInstance, options?: TranscriptOptions): Transcript;
