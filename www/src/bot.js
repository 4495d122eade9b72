// A small scripted bot standing in for an assistant back end: it answers through the web chat's
// `messaging.customSendMessage` hook, and keeps the transcript that flexdesk hands to the human agent.

const TRANSCRIPT_KEY = 'flexdesk-demo-transcript';

/** The bot side of the conversation so far, kept in sessionStorage so it survives a page reload. */
export class Transcript {
  constructor(storage = globalThis.sessionStorage) {
    this.storage = storage;
    try {
      this.lines = JSON.parse(storage?.getItem(TRANSCRIPT_KEY) ?? '[]');
    } catch {
      this.lines = [];
    }
  }

  add(from, text) {
    if (!text) return;
    this.lines.push({ from, text });
    this.storage?.setItem(TRANSCRIPT_KEY, JSON.stringify(this.lines));
  }

  /** A copy, so the desk cannot change what the page keeps. */
  get() {
    return this.lines.map((line) => ({ ...line }));
  }
}

const GREETING =
  "Hi! I'm the flexdesk demo bot. Ask me about opening hours or shipping, or type \"agent\" to talk to a person.";

const ANSWERS = [
  { match: /\b(hours?|open|opening|close)\b/i, text: 'We are open Monday to Friday, 9:00 to 17:00.' },
  { match: /\b(ship|shipping|deliver|delivery)\b/i, text: 'Standard shipping takes 3 to 5 working days and is free over $50.' },
];

export const AGENT_AVAILABLE_TEXT = 'An agent is available. Click the button below to chat with them.';
export const AGENT_UNAVAILABLE_TEXT = 'Sorry, no agents are available right now. Please try again during opening hours.';
const ESCALATE = /\b(agent|human|person|someone)\b/i;

function text(t) {
  return { response_type: 'text', text: t };
}

function menu() {
  return {
    response_type: 'option',
    title: 'You can also pick one:',
    options: [
      { label: 'Opening hours', value: { input: { text: 'What are your opening hours?' } } },
      { label: 'Shipping', value: { input: { text: 'How long does shipping take?' } } },
      { label: 'Talk to an agent', value: { input: { text: 'I want to talk to an agent' } } },
    ],
  };
}

/** The `connect_to_agent` item that makes the web chat ask the desk `areAnyAgentsOnline` and show its card. */
function connectToAgent(transcript) {
  const lastQuestion = [...transcript.get()].reverse().find((l) => l.from === 'user' && !ESCALATE.test(l.text));
  return {
    response_type: 'connect_to_agent',
    message_to_human_agent: 'The customer asked the bot for a human agent.',
    agent_available: { message: AGENT_AVAILABLE_TEXT },
    agent_unavailable: { message: AGENT_UNAVAILABLE_TEXT },
    transfer_info: {
      additional_data: { source: 'flexdesk demo bot' },
      summary_message_to_agent: [text(`Last question before escalation: ${lastQuestion?.text ?? '(none)'}`)],
    },
  };
}

/** What the bot answers to `userText` (generic items of a MessageResponse). */
export function reply(userText, transcript) {
  if (!userText) return [text(GREETING), menu()];
  if (ESCALATE.test(userText)) return [text('Let me connect you with a human agent.'), connectToAgent(transcript)];
  const answer = ANSWERS.find((a) => a.match.test(userText));
  if (answer) return [text(answer.text)];
  return [text("Sorry, I didn't get that. Try \"opening hours\", \"shipping\" or \"agent\"."), menu()];
}

/**
 * When agents are back, in the customer's own locale and time zone (the browser's): "Monday at 09:00" within the
 * week, with the date further out ("Monday 4 January at 09:00"). `locales` / `timeZone` are for tests.
 */
export function backAt(opensAt, { now = new Date(), locales, timeZone } = {}) {
  const withinWeek = opensAt.getTime() - now.getTime() < 6 * 24 * 3600 * 1000;
  const day = opensAt.toLocaleDateString(locales, { weekday: 'long', timeZone, ...(!withinWeek && { day: 'numeric', month: 'long' }) });
  const time = opensAt.toLocaleTimeString(locales, { hour: '2-digit', minute: '2-digit', timeZone });
  return `${day} at ${time}`;
}

/** The bot's "no agents" text outside business hours (issue 17). */
export function closedText(opensAt, options) {
  return opensAt
    ? `Our agents are away right now. They are back ${backAt(opensAt, options)}.`
    : 'Our agents are away right now. Please try again during opening hours.';
}

const RATING_KEY = 'flexdesk-demo-rating';

/**
 * Back with the bot after a chat with an agent (flexdesk's `onChatEnd`): the bot asks for a rating, hands the reply to
 * the desk (the outcome's `rate`, issue 28: it reaches the chat's Flex task for Flex Insights) and answers it. The
 * pending question is kept in sessionStorage, so a reload in between does not lose it (the outcome, and so the
 * rating's way to Flex, does not survive a reload: the reply is then only thanked).
 */
export class Rating {
  constructor(storage = globalThis.sessionStorage) {
    this.storage = storage;
    this.outcome = null;
  }

  /** The question to ask after `outcome` (`{ endedBy, agent, agentJoined, rate }`), or null when no agent joined. */
  ask(outcome) {
    if (!outcome?.agentJoined) return null;
    this.outcome = outcome;
    this.storage?.setItem(RATING_KEY, 'asked');
    return `How was your chat with ${outcome.agent?.name ?? 'our agent'}? Reply 1 to 5.`;
  }

  /**
   * The bot's answer when `userText` replies to the question (null otherwise: the bot answers as usual), once the
   * rating went to the desk. A rating Flex could not take is said, with the desk's reason.
   */
  async answer(userText) {
    if (this.storage?.getItem(RATING_KEY) !== 'asked') return null;
    this.storage.removeItem(RATING_KEY);
    const score = /^\s*([1-5])\s*$/.exec(userText)?.[1];
    if (!score) return null;
    const outcome = this.outcome;
    this.outcome = null;
    const result = outcome?.rate ? await outcome.rate({ score: Number(score) }).catch(() => null) : null;
    this.lastResult = result;
    return result && !result.recorded ? `Thanks for rating ${score}. (It could not be recorded: ${result.reason}.)` : `Thanks for rating ${score}.`;
  }
}

/** How long the bot waits for the availability answer before it offers the agent card anyway. */
const AVAILABILITY_WAIT_MS = 3000;

/**
 * `messaging.customSendMessage` for the web chat. `agentAvailability` (optional): `() => Promise<{ closed, opensAt }>`,
 * e.g. flexdesk's `getAgentAvailability(authServerUrl)`; asked before the bot offers an agent, so that outside business
 * hours the "no agents" text says when agents are back. `rating` (optional): a `Rating`, whose question the bot's
 * next answer may be.
 */
export function makeCustomSendMessage(transcript, { agentAvailability, rating } = {}) {
  return async (request, _options, instance) => {
    const userText = (request.input?.text ?? '').trim();
    if (userText) transcript.add('user', userText);
    const thanks = userText && (await rating?.answer(userText));
    const generic = thanks ? [text(thanks)] : reply(userText, transcript);
    const offer = generic.find((item) => item.response_type === 'connect_to_agent');
    if (offer && agentAvailability) {
      const answer = await Promise.race([
        Promise.resolve().then(agentAvailability).catch(() => null),
        new Promise((r) => setTimeout(r, AVAILABILITY_WAIT_MS, null)),
      ]);
      if (answer?.closed) offer.agent_unavailable = { message: closedText(answer.opensAt ?? null) };
    }
    for (const item of generic) if (item.response_type === 'text') transcript.add('bot', item.text);
    // A short pause so the bot's "typing" indicator shows like a real assistant's.
    await new Promise((r) => setTimeout(r, 150));
    await instance.messaging.addMessage({ output: { generic } });
  };
}
