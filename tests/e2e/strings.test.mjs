// Issue 16 (integrators): the `strings` option reaches the customer in the real web chat page. The auth server
// refuses a second chat (too_many_sessions), and the customer reads the page's wording of that refusal, with its
// {retry} part in the page's words too, never the English default or the server's text.
import { e2eSuite } from './support/harness.mjs';
import { notSeen } from './support/wait.mjs';
import { secondCustomerRefused } from './support/flows.mjs';

const scenario = e2eSuite('strings');

const LATER = 'Réessayez un peu plus tard.';
const strings = {
  tooManySessions: 'Trop de discussions avec un conseiller sont ouvertes. {retry}',
  // Whatever Retry-After the server sends, the {retry} part is one of these three.
  retryLater: LATER,
  retryInAMinute: LATER,
  retryInMinutes: LATER,
};

scenario('a configured string is what the customer reads when the auth server refuses', async (ctx) => {
  const second = await secondCustomerRefused(ctx);
  await second.see(`Trop de discussions avec un conseiller sont ouvertes. ${LATER}`);
  await notSeen(second.page.getByText('Too many chats with an agent are open right now.'), 'the English default', 300);
  await notSeen(second.page.getByText(/too_many_sessions|HTTP 429/), 'raw server text', 300);
  // Back with the bot.
  await second.send('What are your opening hours?');
  await second.see('We are open Monday to Friday, 9:00 to 17:00.');
}, { authEnv: { MAX_OPEN_SESSIONS_PER_CLIENT: '1' }, pageConfig: { strings } });
