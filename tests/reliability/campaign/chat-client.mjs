// One customer on the emulator's realtime WebSocket (docs/emulator.md), as the desk uses it: init with the
// access token, subscribe, send messages tagged with a client id, and on any close reconnect and replay from
// the last index seen; a send whose answer was lost is re-sent only if the replay does not show it.
// Counts what it shows (agent messages by index) so the load test can find lost or duplicated messages.
import WebSocket from 'ws';

export class ChatClient {
  constructor({ wsUrl, token, conversationSid, identity, onError }) {
    Object.assign(this, { wsUrl, token, conversationSid, identity, onError });
    this.lastIndex = null;
    this.shown = new Map(); // agent message index → body
    this.pending = new Map(); // client id → body (sent, no answer yet)
    this.confirmed = new Set(); // client ids Twilio has
    this.reconnects = 0;
    this.closed = false;
    this.nextId = 1;
    this.waiting = new Map();
  }

  connect() {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(this.wsUrl);
      this.ws = ws;
      let ready = false;
      ws.on('open', () => ws.send(JSON.stringify({ type: 'init', token: this.token })));
      ws.on('message', (data) => {
        const f = JSON.parse(String(data));
        if (f.type === 'initialized') {
          this.request({ type: 'subscribe', conversationSid: this.conversationSid, afterIndex: this.lastIndex }).then((snap) => {
            for (const m of snap.messages ?? []) this.onMessage(m);
            // Whatever is still pending and not in the replay never reached Twilio: send it again.
            for (const [id, body] of this.pending) if (!this.confirmed.has(id)) this.send(body, id);
            ready = true;
            resolve();
          }, reject);
        } else if (f.type === 'result') {
          const w = this.waiting.get(f.id);
          this.waiting.delete(f.id);
          if (w) (f.ok ? w.resolve(f) : w.reject(new Error(JSON.stringify(f.error))));
        } else if (f.type === 'event' && f.event === 'messageAdded') {
          this.onMessage(f.message);
        } else if (f.type === 'error') {
          this.onError(`realtime error ${f.code}: ${f.message}`);
        }
      });
      ws.on('error', () => {});
      ws.on('close', () => {
        for (const w of this.waiting.values()) w.reject(new Error('socket closed'));
        this.waiting.clear();
        if (!ready) reject(new Error('closed before ready'));
        if (!this.closed && ws === this.ws) {
          // Dropped (a lagging socket is closed by the server with 1013): reconnect and replay.
          this.reconnects++;
          setTimeout(() => this.connect().catch((e) => this.onError(`reconnect: ${e.message}`)), 100 + Math.random() * 200);
        }
      });
    });
  }

  request(frame) {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      try {
        this.ws.send(JSON.stringify({ ...frame, id }));
      } catch (e) {
        this.waiting.delete(id);
        reject(e);
      }
    });
  }

  onMessage(m) {
    if (this.lastIndex === null || m.index > this.lastIndex) this.lastIndex = m.index;
    if (m.author === this.identity) {
      let cid;
      try { cid = JSON.parse(m.attributes ?? '{}').flexdeskId; } catch { /* not ours */ }
      if (cid) { this.confirmed.add(cid); this.pending.delete(cid); }
      return;
    }
    if (!this.shown.has(m.index)) this.shown.set(m.index, m.body);
  }

  /** Sends once; a lost answer is resolved by the replay on reconnect. */
  send(body, id = `c${this.nextId}`) {
    this.pending.set(id, body);
    return this.request({ type: 'sendMessage', conversationSid: this.conversationSid, body, attributes: { flexdeskId: id } })
      .then(() => { this.confirmed.add(id); this.pending.delete(id); })
      .catch(() => { /* socket dropped: the reconnect decides */ });
  }

  close() {
    this.closed = true;
    this.ws?.close();
  }
}
