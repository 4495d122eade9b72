// flexdesk/transcript: the whole conversation as plain text, the bot's part and the agent's, for the customer to
// download at any time.
//
//   import { recordTranscript } from 'flexdesk/transcript';
//   chat.onBeforeRender = (instance) => { transcript = recordTranscript(instance, { labels: { bot: 'Ada' } }); };
//   ... transcript.download();
//
// Optional: a page imports it only if it wants it. The desk never loads it (it is not part of the desk's size budget)
// and it needs no wasm: it listens to Carbon AI Chat's own events on the ChatInstance (`send`, `receive`,
// `human_agent:send`, `human_agent:receive`, `human_agent:endChat`), so it also works without flexdesk.
//
// What a customer, a bot or an agent wrote is untrusted: it is kept and given out as plain text only (control and
// bidirectional-override characters removed), never as HTML, and the download is a `text/plain` file.

import { storedList } from './stored-list.js';

const KEY = 'flexdesk-transcript';
/** Bounds, so the record stays small in session storage (shared with the web chat's own state). */
const MAX_ENTRIES = 500;
const MAX_TEXT = 4000; // characters per entry
const MAX_STORED = 200_000; // characters of JSON

// C0 controls but tab and newline, DEL, C1 controls, line/paragraph separators and bidi overrides/isolates.
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F\u2028\u2029\u202A-\u202E\u2066-\u2069]/g;

/** Plain text, one paragraph per line, bounded. */
function clean(text, max = MAX_TEXT) {
  const s = String(text ?? '')
    .replace(/\r\n?/g, '\n')
    .replace(UNSAFE, '')
    .trim();
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

// Carbon's own status lines for a chat with an agent (`agent_message_type`), as notes; the others are left out.
const STATUS = {
  agent_joined: (who) => `${who} joined the chat`,
  agent_left_chat: (who) => `${who} left the chat`,
  agent_ended_chat: (who) => `${who} ended the chat`,
  transfer_to_agent: (who) => `Transferred to ${who}`,
  user_ended_chat: () => 'You ended the chat',
  chat_was_ended: () => 'The chat with the agent was ended',
};

// A file the agent sent, as flexdesk shows it: a markdown link named after the file.
const FILE_LINK = /^\[((?:\\.|[^\]\\])*)\]\(<[^>]*>\)$/;

/** What one generic item of a message says, as text; other items as a short note in brackets. */
function describe(item) {
  const type = item?.response_type;
  if (type === 'text') {
    const text = String(item.text ?? '');
    const file = FILE_LINK.exec(text.trim());
    return file ? `[file: ${file[1].replace(/\\(.)/g, '$1')}]` : text;
  }
  if (type === 'option') {
    const labels = (Array.isArray(item.options) ? item.options : []).map((o) => o?.label).filter(Boolean);
    return [item.title, item.description, labels.length && `[options: ${labels.join(', ')}]`].filter(Boolean).join('\n');
  }
  if (type === 'connect_to_agent') return '[offered to connect you to an agent]';
  if (type === 'image' || type === 'video' || type === 'audio') {
    return `[${type}${item.title || item.alt_text ? `: ${item.title || item.alt_text}` : ''}]`;
  }
  if (type === 'button') return `[button${item.label ? `: ${item.label}` : ''}]`;
  if (type === 'pause' || !type) return '';
  return type === 'user_defined' ? '[custom content]' : `[${String(type).replace(/_/g, ' ')}]`;
}

const pad = (n) => String(n).padStart(2, '0');
/** Local time, `2025-01-31 14:05:09`. */
function stamp(t) {
  const d = new Date(t);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/**
 * Starts recording the conversation of a Carbon AI Chat `instance` (a ChatInstance, e.g. from `onBeforeRender`), and
 * returns `{ text(), download(filename), clear(), stop() }`.
 * - `storage` (default `sessionStorage`): where the record is kept, so it survives a reload; `null` keeps it in memory.
 * - `key` (default `'flexdesk-transcript'`): the storage key.
 * - `labels`: `{ user: 'You', bot: 'Bot', agent: 'Agent' }`, the names on the lines (the agent's is the name the web
 *   chat shows for them, when it has one; the bot's name, when its messages carry a `response_user_profile`).
 * - `now` (for tests): the clock, `() => milliseconds`.
 */
export function recordTranscript(instance, { storage = globalThis.sessionStorage, key = KEY, labels = {}, now = Date.now } = {}) {
  const names = { user: 'You', bot: 'Bot', agent: 'Agent', ...labels };
  // Each entry: `t` (ms), `who` (a name, '' for a note), `text`, and `from`: 'user' and 'bot' (the chat with the bot),
  // 'to_agent' and 'agent' (a chat with an agent), 'note'. Entries kept by an older version have none; only
  // `entries()` needs it.
  const list = storedList({ storage, key, maxItems: MAX_ENTRIES, maxChars: MAX_STORED, valid: (e) => typeof e.text === 'string' && Number.isFinite(e.t) });
  const entries = list.items;
  for (const e of entries) Object.assign(e, { who: clean(e.who, 100), text: clean(e.text) });

  /** One line: `who` is a name, or '' for a note. */
  function add(from, who, text) {
    const line = clean(text);
    if (!line) return;
    entries.push({ t: now(), who: clean(who, 100), text: line, from });
    list.save();
  }

  const nameOf = (profile, fallback) => (typeof profile?.nickname === 'string' && profile.nickname.trim()) || fallback;
  const items = (message) => (Array.isArray(message?.output?.generic) ? message.output.generic : []);
  // A silent request (the web chat's own, for the welcome) says nothing.
  const userText = (request) => (request?.history?.silent ? '' : request?.history?.label ?? request?.input?.text);

  const handlers = [
    // The customer to the bot (a chosen option shows as its label).
    { type: 'send', handler: (e) => void add('user', names.user, userText(e?.data)) },
    // The bot (or whatever the page adds with messaging.addMessage).
    {
      type: 'receive',
      handler: (e) => {
        const who = nameOf(e?.data?.message_options?.response_user_profile, names.bot);
        for (const item of items(e?.data)) add('bot', who, describe(item));
      },
    },
    // The customer to the agent: the text, then each file by name.
    {
      type: 'human_agent:send',
      handler: (e) => {
        add('to_agent', names.user, e?.data?.input?.text);
        for (const upload of Array.isArray(e?.files) ? e.files : []) add('to_agent', names.user, `[file: ${upload?.file?.name ?? 'file'}]`);
      },
    },
    // The agent, and Carbon's status lines (joined, left, ended) as notes.
    {
      type: 'human_agent:receive',
      handler: (e) => {
        const who = nameOf(e?.data?.message_options?.response_user_profile ?? e?.responseUserProfile, names.agent);
        for (const item of items(e?.data)) {
          const status = item?.agent_message_type;
          if (!status || status === 'from_agent') add('agent', who, describe(item));
          // flexdesk's own status line: a message from someone who is not an agent of the chat (the desk's shell.rs, NOTICE).
          else if (status === 'flexdesk_notice') add('note', '', describe(item));
          else if (STATUS[status]) add('note', '', STATUS[status](who));
        }
      },
    },
    { type: 'human_agent:endChat', handler: (e) => void add('note', '', e?.requestCancelled ? `No agent joined; back to ${names.bot}` : `Back to ${names.bot}`) },
  ];
  instance.on(handlers);

  const api = {
    /** The conversation so far, one line per message: `2025-01-31 14:05:09 You: text` (notes in parentheses). */
    text() {
      return entries
        .map((e) => {
          const body = e.text.replace(/\n/g, '\n    ');
          return `${stamp(e.t)} ${e.who ? `${e.who}: ${body}` : `(${body})`}`;
        })
        .join('\n')
        .concat(entries.length ? '\n' : '');
    },
    /** Has the browser save `text()` as a `text/plain` file. */
    download(filename = 'transcript.txt') {
      const url = URL.createObjectURL(new Blob([api.text()], { type: 'text/plain;charset=utf-8' }));
      const a = document.createElement('a');
      a.href = url;
      a.download = String(filename);
      a.rel = 'noopener';
      a.style.display = 'none';
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
    },
    /**
     * The customer's and the bot's lines, oldest first, as the desk's `transcript` option takes them
     * (`transcript: () => record.entries()`): `[{ from: 'user' | 'bot', text }]`. Chats with an agent and the notes are
     * left out (they are in the Flex conversation already), and so are lines kept by a version without `from`.
     */
    entries() {
      return entries.filter((e) => e.from === 'user' || e.from === 'bot').map((e) => ({ from: e.from, text: e.text }));
    },
    /** Forgets the record (in storage too). */
    clear: list.clear,
    /** Stops listening (the record stays). */
    stop() {
      instance.off?.(handlers);
    },
  };
  return api;
}
