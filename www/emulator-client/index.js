// Stand-in for the subset of `@twilio/conversations` 3.x that flexdesk uses, talking to the local
// flexdesk-emulator over its realtime WebSocket (`/v1/realtime`, protocol in docs/emulator.md).
// Plain ES module, no dependencies, no build step: import it from a browser or from node (pass a
// WebSocket implementation as `options.WebSocket` where there is no global one).
//
//   const client = new Client(token, { emulatorUrl: 'http://127.0.0.1:4010' });
//   client.on('initialized', async () => { const conv = await client.getConversationBySid('CH…'); … });
//
// Types: index.d.ts, checked against the real SDK's types by typecheck.ts (`npx tsc -p tsconfig.json`).
//
// Over 600 lines because it mirrors each SDK class the desk uses (Client, Conversation, Participant, Message, Media,
// the paginator and message builder) in one dependency-free module a page imports as is, with no build step.

/** Minimal event emitter with the SDK's `on`/`once`/`off` (+ node-style aliases). */
class Emitter {
  #listeners = new Map();
  on(event, listener) {
    if (!this.#listeners.has(event)) this.#listeners.set(event, []);
    this.#listeners.get(event).push(listener);
    return this;
  }
  addListener(event, listener) {
    return this.on(event, listener);
  }
  once(event, listener) {
    const wrapped = (...args) => {
      this.off(event, wrapped);
      listener(...args);
    };
    wrapped.original = listener;
    return this.on(event, wrapped);
  }
  off(event, listener) {
    const list = this.#listeners.get(event);
    if (list) {
      const i = list.findIndex((l) => l === listener || l.original === listener);
      if (i >= 0) list.splice(i, 1);
    }
    return this;
  }
  removeListener(event, listener) {
    return this.off(event, listener);
  }
  removeAllListeners(event) {
    if (event === undefined) this.#listeners.clear();
    else this.#listeners.delete(event);
    return this;
  }
  emit(event, ...args) {
    const list = [...(this.#listeners.get(event) ?? [])];
    for (const l of list) {
      // A throwing listener must not break the client's own bookkeeping or the other listeners.
      try {
        l(...args);
      } catch (e) {
        setTimeout(() => {
          throw e;
        });
      }
    }
    return list.length > 0;
  }
}

/** Errors carry Twilio's `code` and HTTP-like `status` as the SDK's errors do. */
class ConversationsError extends Error {
  constructor(message, code, status) {
    super(message);
    this.name = 'ConversationsError';
    this.code = code;
    this.status = status;
  }
}

const TYPING_TIMEOUT_MS = 5000;
const TYPING_THROTTLE_MS = 1000;
const REQUEST_TIMEOUT_MS = 15000;
const READY_TIMEOUT_MS = 60000;
const toDate = (s) => (s ? new Date(s) : null);

/** A promise with the `cancel()` of the SDK's CancellablePromise. */
function cancellable(promise) {
  let cancelled = false;
  const p = new Promise((resolve, reject) => {
    promise.then(
      (v) => (cancelled ? reject(new Error('Promise cancelled')) : resolve(v)),
      (e) => reject(e),
    );
  });
  p.cancel = () => {
    cancelled = true;
  };
  return p;
}

export class Media {
  #conversation;
  constructor(data, conversation) {
    this.#conversation = conversation;
    this.sid = data.sid;
    this.filename = data.filename ?? null;
    this.contentType = data.contentType;
    this.size = data.size;
    this.category = data.category ?? 'media';
  }
  /** A short-lived URL (five minutes) to fetch the file from the emulator. */
  getContentTemporaryUrl() {
    return cancellable(this.#conversation._client._request({ type: 'mediaUrl', mediaSid: this.sid }).then((r) => r.url));
  }
}

export class Message extends Emitter {
  constructor(data, conversation) {
    super();
    this.conversation = conversation;
    this.sid = data.sid;
    this.index = data.index;
    this.author = data.author ?? null;
    this.body = data.body ?? null;
    this.attributes = data.attributes ?? {};
    this.type = data.type === 'media' ? 'media' : 'text';
    this.attachedMedia = (data.media ?? []).map((m) => new Media(m, conversation));
    this.participantSid = data.participantSid ?? null;
    this.dateCreated = toDate(data.dateCreated);
    this.dateUpdated = this.dateCreated;
    this.subject = null;
    this.contentSid = null;
    this.lastUpdatedBy = null;
  }
  /** The first attached media, as the SDK's deprecated `media` getter. */
  get media() {
    return this.attachedMedia[0] ?? null;
  }
  getParticipant() {
    const p = [...this.conversation._participants.values()].find((x) => x.sid === this.participantSid || x.identity === this.author);
    return p ? Promise.resolve(p) : Promise.reject(new ConversationsError('Participant not found', 50400, 404));
  }
}

export class Participant extends Emitter {
  constructor(data, conversation) {
    super();
    this.conversation = conversation;
    this.isTyping = false;
    this._typingTimer = null;
    this._update(data);
  }
  _update(data) {
    this.sid = data.sid;
    this.identity = data.identity ?? null;
    this.attributes = data.attributes ?? {};
    this.lastReadMessageIndex = data.lastReadMessageIndex ?? null;
    this.lastReadTimestamp = toDate(data.lastReadTimestamp);
    this.dateCreated = toDate(data.dateCreated);
    this.dateUpdated = toDate(data.dateUpdated);
    this.type = 'chat';
    return this;
  }
  /** The participant's Conversations User (`{identity, friendlyName}`), as the SDK's `getUser()` (`@twilio/conversations`
   * 3.0 `builds/lib.d.ts`: `Participant.getUser(): Promise<User>`, `User.friendlyName`); the agent's display name there
   * is our reading of Flex (no Twilio page states it). */
  getUser() {
    return this.conversation._client._request({ type: 'user', identity: this.identity }).then((r) => ({
      identity: r.identity,
      friendlyName: r.friendlyName ?? null,
    }));
  }
}

/** The SDK's Paginator: `items` in ascending index order; `prevPage` goes to older messages. */
class MessagePaginator {
  constructor(conversation, items, pageSize, hasOlder, hasNewer) {
    this.items = items;
    this.hasPrevPage = hasOlder;
    this.hasNextPage = hasNewer;
    this._conversation = conversation;
    this._pageSize = pageSize;
  }
  nextPage() {
    if (!this.hasNextPage) return Promise.reject(new Error('No next page'));
    const last = this.items[this.items.length - 1].index;
    return this._conversation.getMessages(this._pageSize, last + 1, 'forward');
  }
  prevPage() {
    if (!this.hasPrevPage) return Promise.reject(new Error('No previous page'));
    return this._conversation.getMessages(this._pageSize, this.items[0].index - 1, 'backwards');
  }
}

export class UnsentMessage {
  constructor(conversation, text, attributes, media) {
    this._conversation = conversation;
    this.text = text;
    this.attributes = attributes;
    this.media = media;
  }
  send() {
    return cancellable(this._conversation._send(this.text, this.attributes, this.media));
  }
}

export class MessageBuilder {
  constructor(conversation) {
    this._conversation = conversation;
    this._text = undefined;
    this._attributes = {};
    this._media = [];
  }
  setBody(text) {
    if (typeof text !== 'string') throw new TypeError('setBody expects a string');
    this._text = text;
    return this;
  }
  setAttributes(attributes) {
    this._attributes = attributes;
    return this;
  }
  addMedia(payload) {
    this._media.push(payload);
    return this;
  }
  build() {
    return new UnsentMessage(this._conversation, this._text, this._attributes, this._media);
  }
  buildAndSend() {
    return this.build().send();
  }
}

/** Reads SendMediaOptions `{contentType, filename, media}` or a FormData with a `file` field. */
async function mediaPayload(payload) {
  if (typeof FormData !== 'undefined' && payload instanceof FormData) {
    const file = payload.get('file') ?? [...payload.values()].find((v) => typeof v === 'object');
    if (!file) throw new ConversationsError('FormData media needs a file', 20001, 400);
    return { filename: file.name ?? 'file', contentType: file.type || 'application/octet-stream', data: file };
  }
  if (!payload || payload.media == null) throw new ConversationsError('addMedia needs { contentType, filename, media }', 20001, 400);
  const { media } = payload;
  const data = typeof media === 'string' ? new Blob([media], { type: payload.contentType ?? 'text/plain' }) : media;
  return { filename: payload.filename ?? 'file', contentType: payload.contentType ?? 'application/octet-stream', data };
}

export class Conversation extends Emitter {
  constructor(client, snapshot) {
    super();
    this._client = client;
    this.sid = snapshot.conversation.sid;
    /** identity → Participant */
    this._participants = new Map();
    /** index → Message (every message this object has seen) */
    this._messages = new Map();
    /** The highest message index seen: reconnects replay from here. */
    this._lastIndex = null;
    this._lastTyping = 0;
    this._applyConversation(snapshot.conversation);
    for (const p of snapshot.participants) this._participants.set(p.sid, new Participant(p, this));
    for (const m of snapshot.messages) this._remember(new Message(m, this));
  }

  get lastReadMessageIndex() {
    return this._me()?.lastReadMessageIndex ?? null;
  }
  get lastMessage() {
    if (this._lastIndex === null) return undefined;
    return { index: this._lastIndex, dateCreated: this._messages.get(this._lastIndex)?.dateCreated ?? undefined };
  }
  get status() {
    return this._me() ? 'joined' : 'notParticipating';
  }
  get createdBy() {
    return '';
  }

  _me() {
    return [...this._participants.values()].find((p) => p.identity === this._client._identity);
  }

  _applyConversation(c) {
    this.uniqueName = c.uniqueName ?? null;
    this.friendlyName = c.friendlyName ?? null;
    this.attributes = c.attributes ?? {};
    this.state = { current: c.state.current, dateUpdated: toDate(c.state.dateUpdated) };
    this.dateCreated = toDate(c.dateCreated);
    this.dateUpdated = toDate(c.dateUpdated);
  }

  _remember(message) {
    if (this._messages.has(message.index)) return false;
    this._messages.set(message.index, message);
    if (this._lastIndex === null || message.index > this._lastIndex) this._lastIndex = message.index;
    return true;
  }

  _participantByIdentity(identity) {
    return [...this._participants.values()].find((p) => p.identity === identity);
  }

  _endTyping(participant) {
    clearTimeout(participant._typingTimer);
    participant._typingTimer = null;
    if (!participant.isTyping) return;
    participant.isTyping = false;
    participant.emit('typingEnded', participant);
    this.emit('typingEnded', participant);
  }

  /** One server event (live, or synthesised from a replay snapshot). */
  _onEvent(ev) {
    switch (ev.event) {
      case 'messageAdded': {
        const message = new Message(ev.message, this);
        // Index order is the server's; an index already seen (replay overlap) is not re-emitted.
        if (!this._remember(message)) return;
        const author = this._participantByIdentity(message.author);
        if (author) this._endTyping(author);
        this.emit('messageAdded', message);
        return;
      }
      case 'participantJoined': {
        if (this._participants.has(ev.participant.sid)) return;
        const p = new Participant(ev.participant, this);
        this._participants.set(p.sid, p);
        this.emit('participantJoined', p);
        return;
      }
      case 'participantLeft': {
        const p = this._participants.get(ev.participant.sid);
        if (!p) return;
        this._endTyping(p);
        this._participants.delete(p.sid);
        this.emit('participantLeft', p);
        return;
      }
      case 'participantUpdated': {
        const p = this._participants.get(ev.participant.sid);
        if (!p) return;
        p._update(ev.participant);
        const args = { participant: p, updateReasons: ev.updateReasons };
        p.emit('updated', args);
        this.emit('participantUpdated', args);
        return;
      }
      case 'typing': {
        const p = this._participants.get(ev.participant.sid);
        if (!p) return;
        clearTimeout(p._typingTimer);
        p._typingTimer = setTimeout(() => this._endTyping(p), TYPING_TIMEOUT_MS);
        if (p.isTyping) return;
        p.isTyping = true;
        p.emit('typingStarted', p);
        this.emit('typingStarted', p);
        return;
      }
      case 'conversationUpdated': {
        this._applyConversation(ev.conversation);
        this.emit('updated', { conversation: this, updateReasons: ev.updateReasons });
        return;
      }
      default:
    }
  }

  /** After a reconnect: emit whatever changed while the socket was down, in a sensible order. */
  _applySnapshot(snapshot) {
    const fresh = new Map(snapshot.participants.map((p) => [p.sid, p]));
    for (const p of snapshot.participants) {
      const known = this._participants.get(p.sid);
      if (!known) {
        this._onEvent({ event: 'participantJoined', participant: p });
      } else {
        const reasons = [];
        if (known.lastReadMessageIndex !== (p.lastReadMessageIndex ?? null)) reasons.push('lastReadMessageIndex');
        if (JSON.stringify(known.attributes) !== JSON.stringify(p.attributes)) reasons.push('attributes');
        if (reasons.length) this._onEvent({ event: 'participantUpdated', participant: p, updateReasons: reasons });
      }
    }
    for (const m of snapshot.messages) this._onEvent({ event: 'messageAdded', message: m });
    for (const [sid, p] of [...this._participants]) {
      if (!fresh.has(sid)) this._onEvent({ event: 'participantLeft', participant: { sid: p.sid } });
    }
    const c = snapshot.conversation;
    const reasons = [];
    if (c.state.current !== this.state.current) reasons.push('state');
    if (JSON.stringify(c.attributes) !== JSON.stringify(this.attributes)) reasons.push('attributes');
    if (reasons.length) this._onEvent({ event: 'conversationUpdated', conversation: c, updateReasons: reasons });
  }

  _request(req) {
    return this._client._request({ ...req, conversationSid: this.sid });
  }

  async _send(text, attributes, mediaList) {
    const media = mediaList ?? [];
    if (text != null && text !== '' && media.length > 0) {
      throw new ConversationsError('A message cannot carry both text and media: send them as two messages', 50511, 400);
    }
    if (media.length > 1) throw new ConversationsError('At most one media per message', 50512, 400);
    const mediaSids = [];
    for (const m of media) mediaSids.push((await this._client._upload(await mediaPayload(m))).sid);
    const r = await this._request({ type: 'sendMessage', body: text ?? null, attributes: attributes ?? null, mediaSids });
    return r.index;
  }

  /** `sendMessage('text', attrs)` or `sendMessage({contentType, filename, media}, attrs)`; resolves to the index. */
  sendMessage(message, messageAttributes) {
    if (message == null) return Promise.reject(new ConversationsError('sendMessage needs a body or media', 50504, 400));
    if (typeof message === 'string') return this._send(message, messageAttributes, []);
    return this._send(undefined, messageAttributes, [message]);
  }

  prepareMessage() {
    return new MessageBuilder(this);
  }

  /** Tells the others this participant is typing (throttled: at most once a second). */
  typing() {
    const now = Date.now();
    if (now - this._lastTyping < TYPING_THROTTLE_MS) return Promise.resolve();
    this._lastTyping = now;
    return this._request({ type: 'typing' }).then(() => undefined);
  }

  updateLastReadMessageIndex(index) {
    return this._request({ type: 'setLastRead', index, advance: false }).then((r) => r.unreadCount);
  }
  advanceLastReadMessageIndex(index) {
    return this._request({ type: 'setLastRead', index, advance: true }).then((r) => r.unreadCount);
  }
  setAllMessagesRead() {
    return this._request({ type: 'setLastRead', all: true, advance: false }).then((r) => r.unreadCount);
  }
  setAllMessagesUnread() {
    return this._request({ type: 'setLastRead', index: null, advance: false }).then((r) => r.unreadCount);
  }

  /** SDK semantics: `backwards` (default) ends at `anchor` (default newest), `forward` starts there. */
  async getMessages(pageSize = 30, anchor, direction = 'backwards') {
    const r = await this._request({ type: 'getMessages', pageSize, anchor: anchor ?? null, direction });
    const items = r.messages.map((m) => this._messages.get(m.index) ?? new Message(m, this));
    return new MessagePaginator(this, items, pageSize, r.hasOlder, r.hasNewer);
  }

  async getMessagesCount() {
    return this._lastIndex === null ? 0 : this._lastIndex + 1;
  }

  async getUnreadMessagesCount() {
    const read = this.lastReadMessageIndex;
    if (read === null) return null;
    return [...this._messages.keys()].filter((i) => i > read).length;
  }

  async getParticipants() {
    const r = await this._request({ type: 'getParticipants' });
    for (const p of r.participants) this._participants.get(p.sid)?._update(p);
    return r.participants.map((p) => this._participants.get(p.sid) ?? new Participant(p, this));
  }

  async getParticipantsCount() {
    return (await this.getParticipants()).length;
  }
  async getParticipantBySid(sid) {
    return (await this.getParticipants()).find((p) => p.sid === sid) ?? null;
  }
  async getParticipantByIdentity(identity) {
    return (await this.getParticipants()).find((p) => p.identity === identity) ?? null;
  }
  async getAttributes() {
    return this.attributes;
  }
}

/**
 * `new Client(token, { emulatorUrl })`. Options: `emulatorUrl` (required: the emulator's http base URL),
 * `WebSocket` (an implementation, when there is no global one), `backoff` ({ minMs, maxMs }; default
 * 200..5000 ms), `logLevel` ('debug' logs frames to the console).
 */
export class Client extends Emitter {
  static version = 'emulator';
  static initialized = 'initialized';
  static initFailed = 'initFailed';
  static connectionStateChanged = 'connectionStateChanged';
  static tokenAboutToExpire = 'tokenAboutToExpire';
  static tokenExpired = 'tokenExpired';

  constructor(token, options = {}) {
    super();
    if (typeof token !== 'string' || token === '') throw new Error('A Conversations client needs an access token');
    if (!options.emulatorUrl) throw new Error('new Client(token, { emulatorUrl }) needs the emulator URL');
    this.version = 'emulator';
    this.connectionState = 'unknown';
    this.user = null;
    this._token = token;
    this._base = String(options.emulatorUrl).replace(/\/+$/, '');
    this._WebSocket = options.WebSocket ?? globalThis.WebSocket;
    if (!this._WebSocket) throw new Error('No WebSocket implementation: pass options.WebSocket');
    this._backoff = { minMs: 200, maxMs: 5000, ...(options.backoff ?? {}) };
    this._debug = options.logLevel === 'debug';
    this._identity = null;
    this._initialized = false;
    this._stopped = false;
    /** Waiting for a new token (expired or refused): no automatic reconnect until updateToken. */
    this._needsToken = false;
    this._attempt = 0;
    this._nextId = 1;
    this._pending = new Map();
    this._waiters = [];
    this._conversations = new Map();
    this._ws = null;
    this._retryTimer = null;
    setTimeout(() => this._connect(), 0);
  }

  _setState(state) {
    if (this.connectionState === state) return;
    this.connectionState = state;
    this.emit('connectionStateChanged', state);
  }

  _connect() {
    if (this._stopped) return;
    this._setState('connecting');
    const url = this._base.replace(/^http/, 'ws') + '/v1/realtime';
    let ws;
    try {
      ws = new this._WebSocket(url);
    } catch (e) {
      this._scheduleReconnect();
      return;
    }
    this._ws = ws;
    ws.onopen = () => this._sendFrame({ type: 'init', token: this._token });
    ws.onmessage = (e) => {
      let frame;
      try {
        frame = JSON.parse(typeof e.data === 'string' ? e.data : String(e.data));
      } catch {
        return;
      }
      if (this._debug) console.debug('[emulator-client] <=', frame);
      if (ws === this._ws) this._onFrame(frame, ws);
    };
    ws.onclose = () => {
      if (ws === this._ws) this._onClose();
    };
    ws.onerror = () => {}; // a close always follows; reconnection is handled there
  }

  _sendFrame(frame) {
    if (this._debug) console.debug('[emulator-client] =>', frame);
    this._ws.send(JSON.stringify(frame));
  }

  async _onFrame(frame, ws) {
    switch (frame.type) {
      case 'initialized':
        this._identity = frame.identity;
        this._attempt = 0;
        await this._resubscribe();
        // Dropped again while catching up: the next connection will catch up instead.
        if (ws !== this._ws) return;
        this._setState('connected');
        for (const w of this._waiters.splice(0)) w.resolve();
        if (!this._initialized) {
          this._initialized = true;
          this.emit('initialized');
        }
        return;
      case 'error':
        if (frame.terminal) {
          // The token was refused: retrying with the same token cannot help. Let go of the socket now, so an
          // updateToken() called from a listener below reconnects at once.
          this._needsToken = true;
          this._detach();
          const error = { terminal: true, message: frame.message, code: frame.code };
          this._setState('denied');
          if (frame.code === 20104) this.emit('tokenExpired');
          if (!this._initialized) this.emit('initFailed', { error });
          for (const w of this._waiters.splice(0)) w.reject(new ConversationsError(frame.message, frame.code, 401));
        }
        return;
      case 'result': {
        const p = this._pending.get(frame.id);
        if (!p) return;
        this._pending.delete(frame.id);
        clearTimeout(p.timer);
        if (frame.ok) p.resolve(frame);
        else p.reject(new ConversationsError(frame.error.message, frame.error.code, frame.error.status));
        return;
      }
      case 'event':
        this._conversations.get(frame.conversationSid)?._onEvent(frame);
        return;
      case 'tokenAboutToExpire':
        this.emit('tokenAboutToExpire');
        return;
      case 'tokenExpired':
        this._needsToken = true;
        this._detach();
        this._setState('disconnected');
        this.emit('tokenExpired');
        return;
      default:
    }
  }

  /** Re-subscribes every known conversation from the last index it saw and emits what was missed. */
  async _resubscribe() {
    for (const conv of this._conversations.values()) {
      try {
        const snap = await this._rawRequest({ type: 'subscribe', conversationSid: conv.sid, afterIndex: conv._lastIndex });
        conv._applySnapshot(snap);
      } catch (e) {
        // No longer a participant (e.g. removed while away): the conversation simply stops updating.
        if (this._debug) console.debug('[emulator-client] resubscribe failed', conv.sid, e);
      }
    }
  }

  /** Drops the current socket without reconnecting (the server is about to close it anyway). */
  _detach() {
    const ws = this._ws;
    if (!ws) return;
    this._ws = null;
    ws.onclose = null;
    try {
      ws.close();
    } catch {
      // already closing
    }
    this._failPending();
  }

  _failPending() {
    for (const [id, p] of this._pending) {
      clearTimeout(p.timer);
      p.reject(new ConversationsError('Connection lost before the emulator answered', 0, 503));
      this._pending.delete(id);
    }
    for (const conv of this._conversations.values()) {
      for (const p of conv._participants.values()) conv._endTyping(p);
    }
  }

  _onClose() {
    this._ws = null;
    this._failPending();
    if (this._stopped) return;
    if (this._needsToken) {
      if (this.connectionState !== 'denied') this._setState('disconnected');
      return;
    }
    this._setState('disconnected');
    this._scheduleReconnect();
  }

  _scheduleReconnect() {
    if (this._stopped || this._retryTimer) return;
    const { minMs, maxMs } = this._backoff;
    const base = Math.min(maxMs, minMs * 2 ** this._attempt);
    this._attempt += 1;
    const delay = base / 2 + Math.random() * (base / 2);
    this._retryTimer = setTimeout(() => {
      this._retryTimer = null;
      this._connect();
    }, delay);
  }

  /** Resolves when the socket is connected and authenticated. */
  _ready() {
    if (this._stopped) return Promise.reject(new ConversationsError('The client was shut down', 0, 0));
    if (this.connectionState === 'connected') return Promise.resolve();
    // Calls made while disconnected wait for the reconnection, but not forever.
    return new Promise((resolve, reject) => {
      const waiter = {
        resolve: () => {
          clearTimeout(waiter.timer);
          resolve();
        },
        reject: (e) => {
          clearTimeout(waiter.timer);
          reject(e);
        },
      };
      waiter.timer = setTimeout(() => {
        this._waiters = this._waiters.filter((w) => w !== waiter);
        reject(new ConversationsError(`Not connected to the emulator (state ${this.connectionState})`, 0, 503));
      }, READY_TIMEOUT_MS);
      this._waiters.push(waiter);
    });
  }

  _rawRequest(req) {
    return new Promise((resolve, reject) => {
      const id = this._nextId++;
      const timer = setTimeout(() => {
        this._pending.delete(id);
        reject(new ConversationsError(`The emulator did not answer ${req.type} in time`, 0, 504));
      }, REQUEST_TIMEOUT_MS);
      this._pending.set(id, { resolve, reject, timer });
      try {
        this._sendFrame({ ...req, id });
      } catch (e) {
        clearTimeout(timer);
        this._pending.delete(id);
        reject(e);
      }
    });
  }

  async _request(req) {
    await this._ready();
    return this._rawRequest(req);
  }

  async _upload({ filename, contentType, data }) {
    const res = await fetch(`${this._base}/v1/Media?filename=${encodeURIComponent(filename)}`, {
      method: 'POST',
      headers: { 'Content-Type': contentType, 'X-Twilio-Token': this._token },
      body: data,
    });
    const body = await res.json().catch(() => ({}));
    if (!res.ok) throw new ConversationsError(body.message ?? `Upload failed (${res.status})`, body.code ?? 0, res.status);
    return body;
  }

  async getConversationBySid(conversationSid) {
    const known = this._conversations.get(conversationSid);
    if (known) return known;
    await this._ready();
    const snap = await this._rawRequest({ type: 'subscribe', conversationSid, afterIndex: null });
    // Two concurrent calls for the same sid share one object.
    const again = this._conversations.get(snap.conversation.sid);
    if (again) return again;
    const conv = new Conversation(this, snap);
    this._conversations.set(conv.sid, conv);
    return conv;
  }

  /** Swaps the token: live if connected; otherwise reconnects with it (after expiry or refusal). */
  async updateToken(token) {
    if (typeof token !== 'string' || token === '') throw new Error('updateToken needs a token');
    this._token = token;
    if (this.connectionState === 'connected' && !this._needsToken) {
      await this._rawRequest({ type: 'updateToken', token });
      return this;
    }
    if (this._needsToken) {
      this._needsToken = false;
      this._attempt = 0;
      if (!this._ws && !this._retryTimer) this._connect();
    }
    await this._ready();
    return this;
  }

  async shutdown() {
    this._stopped = true;
    clearTimeout(this._retryTimer);
    this._retryTimer = null;
    for (const w of this._waiters.splice(0)) w.reject(new ConversationsError('The client was shut down', 0, 0));
    const ws = this._ws;
    this._ws = null;
    if (ws) {
      ws.onclose = null;
      ws.close(1000, 'shutdown');
    }
    for (const [, p] of this._pending) {
      clearTimeout(p.timer);
      p.reject(new ConversationsError('The client was shut down', 0, 0));
    }
    this._pending.clear();
    this._setState('disconnected');
  }
}

export default Client;
