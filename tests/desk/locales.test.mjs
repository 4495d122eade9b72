// flexdesk/locales (issue 29): every shipped language has every text of the desk and of Carbon's hand-off, with the
// same parameters as the English, and Carbon's texts are valid ICU MessageFormat (parsed and formatted with
// intl-messageformat, the formatter Carbon AI Chat 1.9.1 bundles) whose keys Carbon's English pack has.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { ROOT } from '../support/servers.mjs';
import { CARBON, DESK, LANGUAGES, carbonStrings, resolveLocale } from '../../crates/flexdesk/js/locales.js';

const require = createRequire(import.meta.url);
const { IntlMessageFormat } = require(path.join(ROOT, 'node_modules/intl-messageformat'));
const { parse } = require(path.join(ROOT, 'node_modules/@formatjs/icu-messageformat-parser'));
/** The argument names of an ICU message (plural branches' words are text, not arguments). */
const icuArgs = (text) => {
  const names = new Set();
  const walk = (els) => els.forEach((e) => {
    if (e.value !== undefined && e.type !== 0) names.add(e.value);
    for (const o of Object.values(e.options ?? {})) walk(o.value);
    if (e.children) walk(e.children);
  });
  walk(parse(text));
  return [...names].sort();
};
const index = readFileSync(path.join(ROOT, 'crates/flexdesk/js/index.js'), 'utf8');
const english = Object.fromEntries([...index.slice(index.indexOf('const STRINGS = {'), index.indexOf('};', index.indexOf('const STRINGS = {')))
  .matchAll(/^\s+(\w+): (['"])(.*)\2,$/gm)].map((m) => [m[1], m[3]]));
const carbonPack = readFileSync(path.join(ROOT, 'node_modules/@carbon/ai-chat/dist/es/chat.languageUtils.js'), 'utf8');
const carbonEnglish = Object.fromEntries([...carbonPack.matchAll(/^var (agent_\w+) = "(.*)";$/gm)].map((m) => [m[1], m[2]]));
const params = (t) => [...new Set([...(typeof t === 'string' ? t : Object.values(t).join(' ')).matchAll(/\{(\w+)/g)].map((m) => m[1]))].sort();
const shipped = LANGUAGES.filter((l) => l !== 'en');

test('every language has every desk text, with the English parameters', () => {
  assert.equal(Object.keys(english).length, 22, 'the English defaults were read from index.js');
  for (const lang of shipped) {
    assert.deepEqual(Object.keys(DESK[lang]).sort(), Object.keys(english).sort(), lang);
    for (const [key, text] of Object.entries(DESK[lang])) {
      assert.deepEqual(params(text), params(english[key]), `${lang}.${key}`);
      if (typeof text === 'object') assert.ok(text.other, `${lang}.${key} has the "other" plural form`);
    }
  }
});

test("every language has the same Carbon keys, each in Carbon's English pack, valid ICU with the English arguments", () => {
  const keys = Object.keys(CARBON.de).sort();
  for (const lang of shipped) {
    assert.deepEqual(Object.keys(CARBON[lang]).sort(), keys, lang);
    for (const [key, text] of Object.entries(CARBON[lang])) {
      // agent_ariaResponseUserAvatar: the key Carbon 1.9.1 reads for the agent's picture but its pack lacks.
      const source = carbonEnglish[key] ?? (key === 'agent_ariaResponseUserAvatar' ? carbonEnglish.agent_ariaHumanAgentAvatar : undefined);
      assert.ok(source !== undefined, `${key} is a key of Carbon's language pack`);
      assert.deepEqual(icuArgs(text), icuArgs(source), `${lang}.${key} keeps Carbon's arguments`);
      const out = new IntlMessageFormat(text, lang).format({ position: 2, time: 3, personName: 'Alice', b: (c) => c.join('') });
      assert.equal(typeof (Array.isArray(out) ? out.join('') : out), 'string', `${lang}.${key} formats`);
    }
  }
  // The queue place reads right in each language (Carbon formats it in its locale).
  assert.equal(new IntlMessageFormat(CARBON.de.agent_connectingQueue, 'de').format({ position: 2, b: (c) => c.join('') }), 'Sie sind Nummer 2 in der Warteschlange.');
  assert.equal(new IntlMessageFormat(CARBON.fr.agent_connectingMinutes, 'fr').format({ time: 1, b: (c) => c.join('') }), 'Le temps d’attente actuel est de 1 minute.');
});

test('tags resolve to the shipped language, case and region forgiven; unknown ones to none', () => {
  assert.equal(resolveLocale('de-AT'), 'de');
  assert.equal(resolveLocale('pt'), 'pt-BR');
  assert.equal(resolveLocale('PT_br'), 'pt-BR');
  assert.equal(resolveLocale('en-us'), 'en');
  assert.equal(resolveLocale('ar'), null);
  assert.equal(resolveLocale(''), null);
  assert.deepEqual(carbonStrings('en'), {});
  assert.deepEqual(carbonStrings('ar'), {});
  assert.equal(carbonStrings('ja-JP').agent_startChat, '担当者に接続');
});

test('the desk takes `locale`: a wrong type is refused at once; an unknown tag is said once in the console, then English', async () => {
  const { createTwilioFlexServiceDesk } = await import('../../crates/flexdesk/js/index.js');
  // The light desk opens a BroadcastChannel for other tabs, which would keep this process alive: none here.
  const channel = globalThis.BroadcastChannel;
  globalThis.BroadcastChannel = undefined;
  const base = { authServerUrl: 'https://chat.example.com', createConversationsClient: () => null };
  assert.throws(() => createTwilioFlexServiceDesk({ ...base, locale: 7 }), /config\.locale must be a BCP 47 language tag/);
  const notes = [];
  const info = console.info;
  console.info = (...a) => notes.push(a.join(' '));
  try {
    const params = () => ({ callback: { persistedState: () => null }, instance: {} });
    await createTwilioFlexServiceDesk({ ...base, locale: 'tlh' })(params());
    await createTwilioFlexServiceDesk({ ...base, locale: 'tlh' })(params());
    await createTwilioFlexServiceDesk({ ...base, locale: 'de-CH' })(params());
  } finally {
    console.info = info;
    globalThis.BroadcastChannel = channel;
  }
  assert.deepEqual(notes, ['flexdesk: no texts for locale tlh, so English']);
});
