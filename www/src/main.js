// The demo page: Carbon AI Chat's web component, a scripted bot, and flexdesk as the service desk that hands the
// conversation to a Twilio Flex agent (here: the local emulator's agent console).
import '@carbon/ai-chat/dist/es/web-components/cds-aichat-container/index.js';
import { createTwilioFlexServiceDesk, getAgentAvailability } from 'flexdesk';
import { conversationsClientFactory } from './conversations-client.js';
import { recordTranscript } from 'flexdesk/transcript';
import { Rating, Transcript, makeCustomSendMessage } from './bot.js';
import { readPageConfig } from './page-config.js';
import { demoIdentityToken, preEngagementForm, showSignedIn } from './pre-engagement.js';
import { withReadReceipts } from './read-receipt.js';
import { withTextMeInstead } from './text-me.js';
import { chatHistory } from 'flexdesk/history';
import { carbonStrings } from 'flexdesk/locales';

// Say a setup problem on the page too: a newcomer looks at the page, not at the console.
function showSetupError(e) {
  const banner = document.createElement('p');
  banner.className = 'config-error';
  banner.setAttribute('role', 'alert');
  banner.textContent = e.message;
  document.body.prepend(banner);
  throw e;
}
let config;
let createConversationsClient;
try {
  config = readPageConfig(window.FLEXDESK_CONFIG, location.search);
  // The real @twilio/conversations SDK by default (loaded when a chat with an agent starts), the emulator's stand-in
  // when the config or `?client=stand-in` asks.
  createConversationsClient = conversationsClientFactory(config);
} catch (e) {
  showSetupError(e);
}
// Tests and curious developers can tell which client this page runs.
document.documentElement.dataset.conversationsClient = config.client;
const transcript = new Transcript();
const rating = new Rating();
// The whole conversation (bot and agent parts) as text, for the header menu's "Download transcript" (issue 17).
let fullTranscript;
// The conversation so far, shown again after a reload (the package's flexdesk/history; the desk, reconnecting, adds
// only what the agent wrote after it).
const history = chatHistory();
const details = preEngagementForm(document.getElementById('details'));

const chat = document.createElement('cds-aichat-container');
chat.assistantName = 'Flexdesk demo bot';
chat.injectCarbonTheme = 'white';
// Defence in depth: agent and customer text is shown as text by the desk; any HTML that slips through is sanitised.
chat.shouldSanitizeHTML = true;
chat.header = {
  title: 'Flexdesk demo',
  // The demo's bot is scripted, not generative, and the agents are people: no "AI" label. (Carbon 1.9.1's label,
  // `cds-ai-label`, also nests interactive controls, axe's serious `nested-interactive`: tests/e2e/accessibility.test.mjs.)
  showAiLabel: false,
  menuOptions: [
    { text: 'Download transcript', handler: () => fullTranscript?.download('flexdesk-transcript.txt') },
    // Erase on request (issue 28): the last chat (with an agent or not), deleted at Twilio (the auth server's ERASE_ON_REQUEST).
    { text: 'Delete this conversation', handler: () => deleteLastChat() },
  ],
};
/** The menu's "Delete this conversation": the outcome's `erase()`, and a bot line saying what became of it. */
async function deleteLastChat() {
  const r = await window.flexdeskLastOutcome?.erase();
  const text = !r
    ? 'There is no finished chat to delete.'
    : r.erased
      ? `Your conversation with our agents was deleted (reference ${r.requestId}). The copy shown here stays on this page.`
      : r.code === 'already_erased'
        ? 'That conversation was deleted already.'
        : `The conversation could not be deleted (${r.code}).`;
  window.flexdeskChat?.messaging.addMessage({ output: { generic: [{ response_type: 'text', text }] } });
}
chat.messaging = {
  // Outside business hours the bot says when agents are back (the auth server's opensAt, in the customer's time zone).
  customSendMessage: makeCustomSendMessage(transcript, { agentAvailability: () => getAgentAvailability(config.authServerUrl), rating }),
  // A reload shows the conversation so far (the desk then reconnects to the agent and adds what came meanwhile).
  customLoadHistory: history.customLoadHistory,
};
chat.serviceDesk = { availabilityTimeoutSeconds: 10 };
// Carbon 1.9.1 gives the agent's picture `alt={languagePack.agent_ariaResponseUserAvatar}` (ResponseUserAvatar.tsx,
// MessageComponent.tsx), a key its English pack does not have (it has agent_ariaHumanAgentAvatar): without this the
// picture has no text alternative at all (axe's critical image-alt; tests/e2e/accessibility.test.mjs).
chat.strings = { agent_ariaResponseUserAvatar: 'Live agent avatar image', ...carbonStrings(config.locale) };
// In the customer's language (issue 29): Carbon formats numbers and plurals in its `locale`; its hand-off texts and the
// desk's come from flexdesk/locales (the bot's own lines stay English: it is the demo's scripted bot).
if (config.locale) chat.locale = config.locale;
// Back with the bot (issue 17): after a chat with an agent, the bot asks for a rating. It waits for the web chat's own
// "back with the assistant" line (Carbon adds it 1.5 s after the end) so the question comes last.
const BACK_WITH_BOT_MS = 1600;
function onChatEnd(outcome) {
  // Tests and curious developers can read how the last chat with an agent ended.
  window.flexdeskLastOutcome = outcome;
  const question = rating.ask(outcome);
  if (!question) return;
  setTimeout(() => {
    transcript.add('bot', question);
    window.flexdeskChat?.messaging.addMessage({ output: { generic: [{ response_type: 'text', text: question }] } });
  }, BACK_WITH_BOT_MS);
}
// The web chat creates the desk when it first opens, maybe before the visitor fills in their details: the
// pre-engagement object reads the form whenever the desk reads it.
const livePreEngagement = Object.defineProperties(
  {},
  Object.fromEntries(details.names.map((k) => [k, { enumerable: true, get: () => details.get()[k] }])),
);
// `?signed-in` (issue 17): a logged-in customer. No form: the demo server mints the identity token its back end would,
// and the agent sees the verified name.
const signedIn = config.signedIn
  ? { identityToken: demoIdentityToken(config.identityTokenUrl) }
  : {
      // Read by the desk at startChat, so edits to the form after the chat window opened are not lost.
      customerName: () => details.get().name || undefined,
      preEngagement: () => ({ ...livePreEngagement }),
    };
if (config.signedIn) {
  fetch(config.identityTokenUrl, { cache: 'no-store' })
    .then((r) => r.json())
    .then((who) => showSignedIn(document.getElementById('details'), who))
    .catch(() => showSignedIn(document.getElementById('details'), { name: 'a demo customer' }));
}
chat.serviceDeskFactory = withReadReceipts(withTextMeInstead((params) => {
  const factory = createTwilioFlexServiceDesk({
    authServerUrl: config.authServerUrl,
    createConversationsClient,
    ...signedIn,
    // The chat with the bot so far, for the agent (the package's recordTranscript, entries()).
    transcript: () => fullTranscript?.entries() ?? [],
    onChatEnd,
    ...(config.joinTimeoutMs !== undefined && { joinTimeoutMs: config.joinTimeoutMs }),
    ...(config.queuePollMs !== undefined && { queuePollMs: config.queuePollMs }),
    // "Are you still there?" after 5 minutes of the customer's silence with an agent (issue 28).
    idlePromptMs: config.idlePromptMs ?? 300_000,
    ...(config.idleCloseMs !== undefined && { idleCloseMs: config.idleCloseMs }),
    ...(config.strings !== undefined && { strings: config.strings }),
    ...(config.locale !== undefined && { locale: config.locale }),
  });
  return factory(params);
}));
// Tests and curious developers can reach the chat instance from the console.
chat.onBeforeRender = (instance) => {
  window.flexdeskChat = instance;
  fullTranscript = recordTranscript(instance, { labels: { bot: chat.assistantName } });
};
document.body.appendChild(chat);
