// Types of the emulator's stand-in for `@twilio/conversations` 3.x. typecheck.ts proves, with tsc, that
// every member declared here is compatible with the real SDK's declaration of the same member.

export type JSONValue = null | string | number | boolean | { [key: string]: JSONValue } | JSONValue[];

export type ConnectionState = 'unknown' | 'disconnecting' | 'disconnected' | 'connecting' | 'connected' | 'denied' | 'error';
export type ParticipantUpdateReason = 'attributes' | 'lastReadMessageIndex' | 'lastReadTimestamp';
export type ConversationUpdateReason = 'attributes' | 'state' | 'friendlyName' | 'dateUpdated';

/** A promise with the SDK's `cancel()`. */
export interface CancellablePromise<T> extends Promise<T> {
  cancel(): void;
}

export interface SendMediaOptions {
  contentType: null | string;
  filename?: string;
  media: null | string | Blob | Uint8Array;
}

interface Listener<Events> {
  on<E extends keyof Events & string>(event: E, listener: Events[E]): this;
  once<E extends keyof Events & string>(event: E, listener: Events[E]): this;
  off<E extends keyof Events & string>(event: E, listener: Events[E]): this;
  addListener<E extends keyof Events & string>(event: E, listener: Events[E]): this;
  removeListener<E extends keyof Events & string>(event: E, listener: Events[E]): this;
  removeAllListeners(event?: keyof Events & string): this;
}

export interface ClientOptions {
  /** The emulator's http base URL, e.g. `http://127.0.0.1:4010` (the WebSocket is `/v1/realtime` there). */
  emulatorUrl: string;
  /** A WebSocket constructor where there is no global one (node 20: the `ws` package). */
  WebSocket?: unknown;
  /** Reconnect backoff bounds; default 200 ms doubling up to 5000 ms, with jitter. */
  backoff?: { minMs?: number; maxMs?: number };
  logLevel?: 'silent' | 'error' | 'warn' | 'info' | 'debug';
}

export type ClientEvents = {
  initialized: () => void;
  initFailed: ({ error }: { error?: { terminal: boolean; message: string; code?: number } }) => void;
  connectionStateChanged: (state: ConnectionState) => void;
  tokenAboutToExpire: () => void;
  tokenExpired: () => void;
};

export declare class Client implements Listener<ClientEvents> {
  constructor(token: string, options: ClientOptions);
  static readonly version: string;
  readonly version: string;
  connectionState: ConnectionState;
  updateToken(token: string): Promise<Client>;
  getConversationBySid(conversationSid: string): Promise<Conversation>;
  shutdown(): Promise<void>;
  on<E extends keyof ClientEvents & string>(event: E, listener: ClientEvents[E]): this;
  once<E extends keyof ClientEvents & string>(event: E, listener: ClientEvents[E]): this;
  off<E extends keyof ClientEvents & string>(event: E, listener: ClientEvents[E]): this;
  addListener<E extends keyof ClientEvents & string>(event: E, listener: ClientEvents[E]): this;
  removeListener<E extends keyof ClientEvents & string>(event: E, listener: ClientEvents[E]): this;
  removeAllListeners(event?: keyof ClientEvents & string): this;
}

export interface ConversationState {
  current: 'active' | 'inactive' | 'closed';
  dateUpdated: Date;
}

export interface Paginator<T> {
  hasNextPage: boolean;
  hasPrevPage: boolean;
  items: T[];
  nextPage(): Promise<Paginator<T>>;
  prevPage(): Promise<Paginator<T>>;
}

export type ConversationEvents = {
  participantJoined: (participant: Participant) => void;
  participantLeft: (participant: Participant) => void;
  participantUpdated: (data: { participant: Participant; updateReasons: ParticipantUpdateReason[] }) => void;
  messageAdded: (message: Message) => void;
  typingStarted: (participant: Participant) => void;
  typingEnded: (participant: Participant) => void;
  updated: (data: { conversation: Conversation; updateReasons: ConversationUpdateReason[] }) => void;
};

export interface LastMessage {
  index?: number;
  dateCreated?: Date;
}

export declare class Conversation implements Listener<ConversationEvents> {
  readonly sid: string;
  readonly uniqueName: string | null;
  readonly friendlyName: string | null;
  readonly attributes: JSONValue;
  readonly state: ConversationState | undefined;
  readonly dateCreated: Date | null;
  readonly dateUpdated: Date | null;
  readonly lastReadMessageIndex: number | null;
  readonly lastMessage: LastMessage | undefined;
  readonly status: 'notParticipating' | 'joined';
  sendMessage(message: null | string | FormData | SendMediaOptions, messageAttributes?: JSONValue): Promise<number>;
  prepareMessage(): MessageBuilder;
  typing(): Promise<void>;
  updateLastReadMessageIndex(index: number | null): Promise<number>;
  advanceLastReadMessageIndex(index: number): Promise<number>;
  setAllMessagesRead(): Promise<number>;
  setAllMessagesUnread(): Promise<number>;
  getMessages(pageSize?: number, anchor?: number, direction?: 'backwards' | 'forward'): Promise<Paginator<Message>>;
  getMessagesCount(): Promise<number>;
  getUnreadMessagesCount(): Promise<number | null>;
  getParticipants(): Promise<Participant[]>;
  getParticipantsCount(): Promise<number>;
  getParticipantBySid(participantSid: string): Promise<Participant | null>;
  getParticipantByIdentity(identity?: string | null): Promise<Participant | null>;
  getAttributes(): Promise<JSONValue>;
  on<E extends keyof ConversationEvents & string>(event: E, listener: ConversationEvents[E]): this;
  once<E extends keyof ConversationEvents & string>(event: E, listener: ConversationEvents[E]): this;
  off<E extends keyof ConversationEvents & string>(event: E, listener: ConversationEvents[E]): this;
  addListener<E extends keyof ConversationEvents & string>(event: E, listener: ConversationEvents[E]): this;
  removeListener<E extends keyof ConversationEvents & string>(event: E, listener: ConversationEvents[E]): this;
  removeAllListeners(event?: keyof ConversationEvents & string): this;
}

export declare class MessageBuilder {
  setBody(text: string): MessageBuilder;
  setAttributes(attributes: JSONValue): MessageBuilder;
  addMedia(payload: FormData | SendMediaOptions): MessageBuilder;
  build(): UnsentMessage;
  buildAndSend(): CancellablePromise<number | null>;
}

export declare class UnsentMessage {
  send(): CancellablePromise<number | null>;
}

export declare class Media {
  readonly sid: string;
  readonly filename: string | null;
  readonly contentType: string;
  readonly size: number;
  readonly category: 'media';
  getContentTemporaryUrl(): CancellablePromise<string | null>;
}

export declare class Message {
  readonly conversation: Conversation;
  readonly sid: string;
  readonly index: number;
  readonly author: string | null;
  readonly body: string | null;
  readonly subject: string | null;
  readonly contentSid: string | null;
  readonly lastUpdatedBy: string | null;
  readonly attributes: JSONValue;
  readonly type: 'text' | 'media';
  readonly media: Media | null;
  readonly attachedMedia: Media[] | null;
  readonly participantSid: string | null;
  readonly dateCreated: Date | null;
  readonly dateUpdated: Date | null;
  getParticipant(): Promise<Participant>;
}

export type ParticipantEvents = {
  typingStarted: (participant: Participant) => void;
  typingEnded: (participant: Participant) => void;
  updated: (data: { participant: Participant; updateReasons: ParticipantUpdateReason[] }) => void;
};

export declare class Participant implements Listener<ParticipantEvents> {
  readonly conversation: Conversation;
  readonly sid: string;
  readonly identity: string | null;
  readonly attributes: JSONValue;
  readonly isTyping: boolean;
  readonly lastReadMessageIndex: number | null;
  readonly lastReadTimestamp: Date | null;
  readonly dateCreated: Date | null;
  readonly dateUpdated: Date | null;
  readonly type: 'chat';
  /** The participant's Conversations User; `friendlyName` is the agent's display name (as Flex sets it). */
  getUser(): Promise<{ identity: string | null; friendlyName: string | null }>;
  on<E extends keyof ParticipantEvents & string>(event: E, listener: ParticipantEvents[E]): this;
  once<E extends keyof ParticipantEvents & string>(event: E, listener: ParticipantEvents[E]): this;
  off<E extends keyof ParticipantEvents & string>(event: E, listener: ParticipantEvents[E]): this;
  addListener<E extends keyof ParticipantEvents & string>(event: E, listener: ParticipantEvents[E]): this;
  removeListener<E extends keyof ParticipantEvents & string>(event: E, listener: ParticipantEvents[E]): this;
  removeAllListeners(event?: keyof ParticipantEvents & string): this;
}

export default Client;
