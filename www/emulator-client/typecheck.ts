// Compile-time proof that the stand-in (index.d.ts) keeps the shape of the real SDK for everything
// flexdesk uses. Each `Assert<…>` fails to compile if the two drift apart. Direction of each check:
// - values the stand-in hands out must fit where the real SDK's values are expected;
// - arguments flexdesk passes to the real SDK must be accepted by the stand-in.
import type * as Real from '@twilio/conversations';
import type * as Mine from './index.js';

type Assert<T extends true> = T;
type Fits<A, B> = [A] extends [B] ? true : false;
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Arg<F> = F extends (...args: infer P) => unknown ? P : never;
type Result<F> = F extends (...args: never[]) => infer R ? Awaited<R> : never;
/** Arguments accepted: what the real method takes, the stand-in takes. */
type Accepts<MineF, RealF> = Fits<Arg<RealF>, Arg<MineF>>;


// ---- Client ----------------------------------------------------------------------------------------
export type Client = [
  Assert<Fits<Mine.ConnectionState, Real.ConnectionState>>,
  Assert<Fits<Pick<Mine.Client, 'connectionState' | 'version'>, Pick<Real.Client, 'connectionState' | 'version'>>>,
  Assert<Fits<ConstructorParameters<typeof Real.Client>[0], ConstructorParameters<typeof Mine.Client>[0]>>,
  Assert<Accepts<Mine.Client['updateToken'], Real.Client['updateToken']>>,
  Assert<Accepts<Mine.Client['getConversationBySid'], Real.Client['getConversationBySid']>>,
  Assert<Accepts<Mine.Client['shutdown'], Real.Client['shutdown']>>,
  Assert<Fits<Result<Real.Client['getConversationBySid']>, Real.Conversation>>,
  Assert<Fits<Result<Mine.Client['getConversationBySid']>, Mine.Conversation>>,
  Assert<Fits<Result<Mine.Client['shutdown']>, Result<Real.Client['shutdown']>>>,
  Assert<Same<Arg<Mine.ClientEvents['connectionStateChanged']>, [Mine.ConnectionState]>>,
];

// ---- Conversation ------------------------------------------------------------------------------------
type ConversationData = 'sid' | 'uniqueName' | 'friendlyName' | 'attributes' | 'dateCreated' | 'dateUpdated' | 'lastReadMessageIndex' | 'lastMessage' | 'status';
export type Conversation = [
  Assert<Fits<Pick<Mine.Conversation, ConversationData>, Pick<Real.Conversation, ConversationData>>>,
  Assert<Fits<Mine.ConversationState, Real.ConversationState>>,
  Assert<Fits<Mine.Conversation['state'], Real.Conversation['state']>>,
  Assert<Accepts<Mine.Conversation['sendMessage'], (m: null | string | FormData | Real.SendMediaOptions, a?: Real.JSONValue) => unknown>>,
  Assert<Fits<Arg<Real.Conversation['sendMessage']>[0], Arg<Mine.Conversation['sendMessage']>[0]>>,
  Assert<Fits<Result<Mine.Conversation['sendMessage']>, Result<Real.Conversation['sendMessage']>>>,
  Assert<Accepts<Mine.Conversation['typing'], Real.Conversation['typing']>>,
  Assert<Fits<Result<Mine.Conversation['typing']>, Result<Real.Conversation['typing']>>>,
  Assert<Accepts<Mine.Conversation['updateLastReadMessageIndex'], Real.Conversation['updateLastReadMessageIndex']>>,
  Assert<Fits<Result<Mine.Conversation['updateLastReadMessageIndex']>, Result<Real.Conversation['updateLastReadMessageIndex']>>>,
  Assert<Accepts<Mine.Conversation['advanceLastReadMessageIndex'], Real.Conversation['advanceLastReadMessageIndex']>>,
  Assert<Fits<Result<Mine.Conversation['advanceLastReadMessageIndex']>, Result<Real.Conversation['advanceLastReadMessageIndex']>>>,
  Assert<Accepts<Mine.Conversation['setAllMessagesRead'], Real.Conversation['setAllMessagesRead']>>,
  Assert<Fits<Result<Mine.Conversation['setAllMessagesRead']>, Result<Real.Conversation['setAllMessagesRead']>>>,
  Assert<Accepts<Mine.Conversation['getMessages'], Real.Conversation['getMessages']>>,
  Assert<Fits<Result<Mine.Conversation['getMessages']>, Real.Paginator<Mine.Message>>>,
  Assert<Fits<Result<Real.Conversation['getMessages']>, Real.Paginator<Real.Message>>>,
  Assert<Accepts<Mine.Conversation['getParticipants'], Real.Conversation['getParticipants']>>,
  Assert<Fits<Result<Mine.Conversation['getParticipants']>, Mine.Participant[]>>,
  Assert<Fits<Result<Real.Conversation['getParticipants']>, Real.Participant[]>>,
  Assert<Accepts<Mine.Conversation['getUnreadMessagesCount'], Real.Conversation['getUnreadMessagesCount']>>,
  Assert<Fits<Result<Mine.Conversation['getUnreadMessagesCount']>, Result<Real.Conversation['getUnreadMessagesCount']>>>,
  Assert<Fits<Mine.ConversationUpdateReason, Real.ConversationUpdateReason>>,
  Assert<Fits<Mine.ParticipantUpdateReason, Real.ParticipantUpdateReason>>,
];

// ---- MessageBuilder / UnsentMessage --------------------------------------------------------------------
export type Builder = [
  Assert<Accepts<Mine.MessageBuilder['setBody'], Real.MessageBuilder['setBody']>>,
  Assert<Accepts<Mine.MessageBuilder['setAttributes'], Real.MessageBuilder['setAttributes']>>,
  Assert<Accepts<Mine.MessageBuilder['addMedia'], Real.MessageBuilder['addMedia']>>,
  Assert<Fits<Result<Mine.UnsentMessage['send']>, Result<Real.UnsentMessage['send']>>>,
  Assert<Fits<Result<Mine.MessageBuilder['buildAndSend']>, Result<Real.MessageBuilder['buildAndSend']>>>,
];

// ---- Message / Media / Participant ---------------------------------------------------------------------
type MessageData = 'sid' | 'index' | 'author' | 'body' | 'attributes' | 'type' | 'participantSid' | 'dateCreated' | 'dateUpdated' | 'subject' | 'contentSid' | 'lastUpdatedBy';
type MediaData = 'sid' | 'filename' | 'contentType' | 'size' | 'category';
type ParticipantData = 'sid' | 'identity' | 'attributes' | 'lastReadMessageIndex' | 'lastReadTimestamp' | 'isTyping' | 'dateCreated' | 'dateUpdated' | 'type';
export type Entities = [
  Assert<Fits<Pick<Mine.Message, MessageData>, Pick<Real.Message, MessageData>>>,
  Assert<Fits<Pick<Mine.Media, MediaData>, Pick<Real.Media, MediaData>>>,
  Assert<Fits<Result<Mine.Media['getContentTemporaryUrl']>, Result<Real.Media['getContentTemporaryUrl']>>>,
  Assert<Fits<Result<Real.Message['getParticipant']>, Real.Participant>>,
  Assert<Fits<Mine.Message['attachedMedia'], Mine.Media[] | null>>,
  Assert<Fits<Real.Message['attachedMedia'], Real.Media[] | null>>,
  Assert<Fits<Pick<Mine.Participant, ParticipantData>, Pick<Real.Participant, ParticipantData>>>,
  Assert<Fits<Mine.Paginator<Mine.Message>, Real.Paginator<Mine.Message>>>,
];

// A drift check that must itself be able to fail: a wrong type is rejected.
// @ts-expect-error — the stand-in's Message.index is a number, never a string.
export type MustFail = Assert<Fits<Pick<Mine.Message, 'index'>, { index: string }>>;

// ---- Events ----------------------------------------------------------------------------------------
// The SDK does not export its event maps, so events are checked with statements: (1) each event the
// stand-in emits is one the real SDK declares (registering it on a real object compiles), and (2) a
// listener written against the real SDK's argument types can be registered on the stand-in.
declare const real: { client: Real.Client; conversation: Real.Conversation; participant: Real.Participant };
declare const mine: { client: Mine.Client; conversation: Mine.Conversation; participant: Mine.Participant };
type RealMessageView = Pick<Real.Message, MessageData>;
type RealParticipantView = Pick<Real.Participant, ParticipantData>;
type RealConversationView = Pick<Real.Conversation, ConversationData | 'state'>;

const clientEvents: Record<keyof Mine.ClientEvents, unknown> = {
  initialized: [real.client.on('initialized', () => {}), mine.client.on('initialized', () => {})],
  initFailed: [
    real.client.on('initFailed', ({ error }) => error?.terminal),
    mine.client.on('initFailed', ({ error }: { error?: { terminal: boolean; message: string } }) => error?.terminal),
  ],
  connectionStateChanged: [
    real.client.on('connectionStateChanged', (s: Real.ConnectionState) => s),
    mine.client.on('connectionStateChanged', (s: Real.ConnectionState) => s),
  ],
  tokenAboutToExpire: [real.client.on('tokenAboutToExpire', () => {}), mine.client.on('tokenAboutToExpire', () => {})],
  tokenExpired: [real.client.on('tokenExpired', () => {}), mine.client.on('tokenExpired', () => {})],
};

const conversationEvents: Record<keyof Mine.ConversationEvents, unknown> = {
  messageAdded: [real.conversation.on('messageAdded', (m: Real.Message) => m), mine.conversation.on('messageAdded', (m: RealMessageView) => m)],
  participantJoined: [
    real.conversation.on('participantJoined', (p: Real.Participant) => p),
    mine.conversation.on('participantJoined', (p: RealParticipantView) => p),
  ],
  participantLeft: [
    real.conversation.on('participantLeft', (p: Real.Participant) => p),
    mine.conversation.on('participantLeft', (p: RealParticipantView) => p),
  ],
  participantUpdated: [
    real.conversation.on('participantUpdated', (d: { participant: Real.Participant; updateReasons: Real.ParticipantUpdateReason[] }) => d),
    mine.conversation.on('participantUpdated', (d: { participant: RealParticipantView; updateReasons: Real.ParticipantUpdateReason[] }) => d),
  ],
  typingStarted: [
    real.conversation.on('typingStarted', (p: Real.Participant) => p),
    mine.conversation.on('typingStarted', (p: RealParticipantView) => p),
  ],
  typingEnded: [real.conversation.on('typingEnded', (p: Real.Participant) => p), mine.conversation.on('typingEnded', (p: RealParticipantView) => p)],
  updated: [
    real.conversation.on('updated', (d: { conversation: Real.Conversation; updateReasons: Real.ConversationUpdateReason[] }) => d),
    mine.conversation.on('updated', (d: { conversation: RealConversationView; updateReasons: Real.ConversationUpdateReason[] }) => d),
  ],
};

const participantEvents: Record<keyof Mine.ParticipantEvents, unknown> = {
  typingStarted: [real.participant.on('typingStarted', () => {}), mine.participant.on('typingStarted', (p: RealParticipantView) => p)],
  typingEnded: [real.participant.on('typingEnded', () => {}), mine.participant.on('typingEnded', (p: RealParticipantView) => p)],
  updated: [
    real.participant.on('updated', () => {}),
    mine.participant.on('updated', (d: { participant: RealParticipantView; updateReasons: Real.ParticipantUpdateReason[] }) => d),
  ],
};

export const events = [clientEvents, conversationEvents, participantEvents];
