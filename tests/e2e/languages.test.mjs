// Issue 29, languages: per shipped language, the demo page with `?locale=` (the web chat's `locale` and strings from
// flexdesk/locales, the desk's `locale`) shows the customer the agent card, the queue position (Carbon's own text,
// formatted by Carbon in that locale) and a refusal (the desk's text) in that language, in the real web chat.
import { createRequire } from 'node:module';
import path from 'node:path';
import { e2eSuite } from './support/harness.mjs';
import { CustomerPage } from './support/customer.mjs';
import { seen } from './support/wait.mjs';
import { ROOT } from '../support/servers.mjs';
import { CARBON, DESK, LANGUAGES } from '../../crates/flexdesk/js/locales.js';

const { IntlMessageFormat } = createRequire(import.meta.url)(path.join(ROOT, 'node_modules/intl-messageformat'));
const scenario = e2eSuite('languages');
const loose = (text) => new RegExp(text.trim().replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/\s+/g, '\\s*'));

for (const lang of LANGUAGES.filter((l) => l !== 'en')) {
  scenario(`${lang}: the queue position and a refusal in ${lang}`, async ({ customer, agent, newPage, www }) => {
    const queue = new IntlMessageFormat(CARBON[lang].agent_connectingQueue, lang).format({ position: 1, b: (c) => c.join('') });
    const refusal = DESK[lang].tooManySessions.split('{retry}')[0];
    const connect = CARBON[lang].agent_startChat;
    // The first customer waits in line: Carbon's queue text, in the language.
    customer.query = `?locale=${lang}`; // the page's query: CustomerPage opens `${baseUrl}/${query}`
    await customer.open({ name: 'First Customer' });
    await customer.askForAgent({ connectButton: connect });
    await seen(customer.page.getByText(loose(queue)), `the queue position in ${lang} (${queue})`);
    await agent.open('Alice');
    await agent.waitForIncomingTask('First Customer');
    // A second one from the same address is refused (one open chat per client): the desk's text, in the language.
    const second = new CustomerPage(await newPage('customer'), www.url);
    second.query = `?locale=${lang}`;
    await second.open({ name: 'Second Customer' });
    await second.askForAgent({ connectButton: connect });
    await seen(second.page.getByText(loose(refusal)), `the refusal in ${lang} (${refusal})`);
  }, { authEnv: { MAX_OPEN_SESSIONS_PER_CLIENT: '1' }, timeout: 120_000 });
}
