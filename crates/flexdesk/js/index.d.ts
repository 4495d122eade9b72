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
  /**
   * Creates the Conversations client for a token, or a promise of it, so the SDK is imported only when a chat with an
   * agent starts: `async (token) => { const sdk = await import('@twilio/conversations'); return new (sdk.Client ?? sdk.default.Client)(token); }`.
   */
  createConversationsClient: (token: string) => ConversationsClientLike | Promise<ConversationsClientLike>;
  /** Shown to the agent; a pre-chat payload's `customerName` / `name` wins. Default "Customer". Read at each `startChat`. */
  customerName?: string | (() => string | undefined);
  /** Pre-engagement data handed to Flex (routing and the agent's task). Read at each `startChat`. */
  preEngagement?: Record<string, unknown> | (() => Record<string, unknown> | undefined);
  /** Largest file the customer may send, in bytes. Default: Twilio's 16 MiB. */
  maxFileBytes?: number;
  /** File extensions the customer may send (`'pdf'` or `'.pdf'`). Default: the Flex web channel's list. */
  allowedFileTypes?: string[];
  /**
   * How long one attempt to join the chat's conversation may take, in milliseconds (default 20000). The
   * Conversations SDK waits for its connection before it finds the conversation, which never happens while its
   * socket keeps failing: after this long the desk replaces the client (a few times), then tells the customer the
   * chat could not go on, so the web chat is never left waiting (after a reload it shows the chat as disconnected).
   */
  joinTimeoutMs?: number;
  /**
   * How often the customer's place in the queue is read again while they wait for an agent, in milliseconds (default
   * 30000, at least 1000). Each read is one `GET /v1/sessions/{id}/queue` to the auth server.
   */
  queuePollMs?: number;
  /**
   * "Are you still there?" (issue 28): while an agent is in the chat and the customer has sent nothing (no message,
   * file or typing) for this many milliseconds, the desk shows the `idlePrompt` text; any message keeps the chat. Off
   * unless set (at least 1000).
   */
  idlePromptMs?: number;
  /**
   * How long the question waits for an answer before the chat is closed with the `idleClosed` text (the agent reads
   * why: the auth server posts a line), in milliseconds (default 60000, at least 1000).
   */
  idleCloseMs?: number;
  /**
   * A signed-in customer's identity token: a JWT your back end signed (HS256 with the auth server's
   * `IDENTITY_JWT_SECRET`, or RS256/ES256 with a key of its `IDENTITY_JWKS_FILE` / `IDENTITY_JWKS_URL`), or a function
   * returning one or a promise of one, called at each `startChat` (so it can fetch a fresh one). The auth server
   * verifies it and shows the agent the token's name and email instead of the page's. Leave it out, or return
   * `undefined` / `''`, for a guest. A function that throws or rejects stops the start with a message to the customer.
   */
  identityToken?: string | (() => string | undefined | null | Promise<string | undefined | null>);
  /** The bot conversation before the hand-off, shown to the agent. */
  transcript?: () => Array<{ from: 'user' | 'bot'; text: string }>;
  /**
   * Where `flexdesk_bg.wasm` is served when not next to the package's `index.js` (a CDN, another path): an absolute
   * URL, or one relative to the page. It must be the same flexdesk version's file. Default: next to `index.js`.
   */
  wasmUrl?: string | URL;
  /**
   * Your wording of the texts the desk shows the customer (e.g. translated), by key; the keys left out keep the
   * English defaults (the package README lists each key, its default and its `{parameters}`). A string is a
   * template whose `{name}`s are filled in; a function gets the parameters and returns the text.
   */
  /**
   * The customer's language, a BCP 47 tag (`'de'`, `'pt-BR'`; the web chat's own `locale`): the desk's texts come from
   * `flexdesk/locales` for it (de, es, fr, it, nl, pt-BR, ja), English otherwise (an unknown tag is said once in the
   * console). `strings` still overrides each text. Give Carbon its own hand-off texts with `carbonStrings(locale)`.
   */
  locale?: string;
  strings?: Partial<Record<FlexdeskStringKey, string | ((params: Record<string, string>) => string)>>;
  /**
   * Called once per chat with an agent when it is over, however it ended (e.g. to have the bot ask for a rating).
   * Called after the web chat was told; not awaited. A hook that throws or rejects is logged, and the chat goes on.
   */
  onChatEnd?: (outcome: FlexdeskChatOutcome) => void | Promise<void>;
}

/** How a chat with an agent ended (`onChatEnd`). */
export interface FlexdeskChatOutcome {
  /**
   * `'agent'`: the agent (or Flex) closed it after an agent joined; `'customer'`: the customer ended it (also while
   * waiting); `'failure'`: it could not start or go on (refused, joining kept failing, the connection given up);
   * `'closedBeforeAgent'`: Flex closed it before any agent joined. `'idle'`: the customer did not answer "Are you
   * still there?" (`idlePromptMs`).
   */
  endedBy: 'agent' | 'customer' | 'failure' | 'closedBeforeAgent' | 'idle';
  /** The last agent in the chat, or `null` when none joined. */
  agent: { name: string } | null;
  /** Whether an agent ever joined the chat. */
  agentJoined: boolean;
  /**
   * Sends the customer's rating of this chat to the auth server, which writes it to the chat's Flex task for Flex
   * Insights (`conversations.conversation_measure_N`, the comment in `conversation_attribute_N`). Accepted once, within
   * the server's `RATING_WINDOW_SECONDS` (default 15 minutes) of the end, and only for a chat an agent joined.
   * Never rejects except on bad input (a `TypeError`). Not enumerable: the outcome stays plain data.
   */
  rate(rating: FlexdeskRating): Promise<FlexdeskRatingResult>;
  /**
   * Deletes this chat's conversation at Twilio (its messages, media and participants) through the auth server, with
   * the ended session's credential: "Delete this conversation". Needs `ERASE_ON_REQUEST=on` on the server; done once;
   * for any chat the auth server started, also one no agent joined. After the receipt the page's saved copy of this
   * chat is forgotten.
   * Not deleted: the Flex task's history, Flex Insights, the bot's logs, the transcript the page still shows or kept.
   * Never rejects. Not enumerable.
   */
  erase(): Promise<FlexdeskEraseResult>;
}

/** What became of an erasure (`FlexdeskChatOutcome.erase`). */
export type FlexdeskEraseResult =
  | {
      /** What was deleted: `'conversation'`, `'messages'`, `'participants'`, `'media'` (at Twilio), `'session'`. */
      erased: string[];
      /** When, RFC 3339. */
      at: string;
      /** The auth server's request id, to quote to support. */
      requestId: string;
    }
  | {
      /**
       * The auth server's error code (`'erase_not_enabled'`, `'already_erased'`, `'chat_not_ended'`,
       * `'invalid_credential'`, …), `'no_chat'` (the chat ended before the auth server answered its start: no
       * ticket) or `'unreachable'`.
       */
      code: string;
    };

/** A customer's rating of a chat with an agent (`FlexdeskChatOutcome.rate`). */
export interface FlexdeskRating {
  /** A whole number from 1 to 5. */
  score: number;
  /** What the customer wrote, at most 500 characters. */
  comment?: string;
}

/** What became of a rating. */
export type FlexdeskRatingResult =
  | { recorded: true }
  | {
      recorded: false;
      /**
       * Why: the auth server's error code (`'already_rated'`; `'rating_closed'`: too late, or the task no longer takes
       * it; `'chat_not_ended'`; `'rating_not_configured'`; …), `'no_agent'` (`agentJoined` false: nothing to rate) or
       * `'unreachable'`.
       */
      reason: string;
    };

/** Every text the desk may show the customer (see `strings`). */
export type FlexdeskStringKey =
  | 'unreachable'
  | 'tooManySessions'
  | 'rateLimited'
  | 'twilioBusy'
  | 'unavailable'
  | 'retryLater'
  | 'retryInAMinute'
  | 'retryInMinutes'
  | 'verificationRequired'
  | 'verificationFailed'
  | 'identityInvalid'
  | 'closedBeforeAgent'
  | 'chatFailed'
  | 'resumeChat'
  | 'continuedElsewhere'
  | 'fileEmpty'
  | 'fileTooLarge'
  | 'fileType'
  | 'fileNotSent'
  | 'idlePrompt'
  | 'idleClosed'
  | 'continuesBySms';

/**
 * A Carbon AI Chat `serviceDeskFactory` backed by Twilio Flex. The factory resolves at once with a light desk;
 * the wasm desk is loaded at the first `startChat` / `reconnect` (or `areAnyAgentsOnline`). If it cannot load,
 * the bot keeps working: `areAnyAgentsOnline` answers false, `startChat` tells the user chat is unavailable, and the
 * console says why.
 */
export function createTwilioFlexServiceDesk(
  config: FlexdeskConfig,
): (parameters: ServiceDeskFactoryParameters) => Promise<FlexdeskServiceDesk>;

/** What `continueBySms` resolves: the number the chat continues to, masked, or why not. */
export type FlexdeskSmsResult =
  | { phone: string; code?: undefined }
  | {
      phone?: undefined;
      /**
       * `phone_invalid` (not an international number), `phone_not_allowed` (a country the auth server does not text),
       * `phone_in_use` (that number already has an open chat by SMS), `sms_already_on` (this chat texts another number
       * already), `sms_not_configured` (the auth server's
       * `TWILIO_SMS_NUMBER` is unset), `session_ended` (no chat with an agent open), `unreachable`, or another of the
       * auth server's error codes.
       */
      code: string;
    };

/** The desk the factory resolves with: Carbon's `ServiceDesk`, plus what a page may call on it. */
export interface FlexdeskServiceDesk extends ServiceDesk {
  /**
   * Continue the open chat by SMS ("text me instead"), while waiting or chatting: the auth server adds `phone` to the
   * same Flex conversation, so the agent keeps the task and the history and the replies reach the phone. Ask the
   * customer to confirm the number first: it is sent as given (spaces, dashes, brackets and a leading `00` are fine;
   * it must include the country code). On success the web chat says the chat continues by SMS (`continuesBySms`
   * text). Never rejects.
   */
  continueBySms(phone: string): Promise<FlexdeskSmsResult>;
  /** The chat goes on by SMS too (the desk's mark in the saved chat, kept across a reload): a closed tab is then not the customer leaving it. */
  readonly continuesBySms: boolean;
  /** The chat's phase (`Idle`, `Starting`, `Waiting`, `Chatting`, `Ended`, ...), for status displays and tests. */
  readonly phase: string;
}

/** What the auth server says about agents now (`GET /v1/agents/availability`). */
export interface AgentAvailability {
  /** Agents available in the queue: `true` / `false`; `null` when the auth server could not be read. */
  available: boolean | null;
  /** Outside the business hours (the auth server's `BUSINESS_HOURS`, `BUSINESS_TZ`, `BUSINESS_HOLIDAYS`). */
  closed: boolean;
  /** When agents are back (when `closed`); `null` otherwise, or when nothing opens within 400 days. */
  opensAt: Date | null;
}

/**
 * Asks the auth server whether agents can take a chat now and, outside business hours, when they are back: for the
 * bot's "no agents" text. Never rejects; needs no wasm.
 */
export function getAgentAvailability(authServerUrl: string): Promise<AgentAvailability>;

/**
 * Loads the wasm desk ahead of the first chat (optional); rejects, after a console error, when it cannot.
 * `wasmUrl`: where `flexdesk_bg.wasm` is served when not next to `index.js` (as the `wasmUrl` option). The first
 * load decides; later calls return the same desk.
 */
export function initFlexdesk(options?: { wasmUrl?: string | URL }): Promise<unknown>;
