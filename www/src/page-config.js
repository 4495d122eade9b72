// The launcher (scripts/dev.mjs) or the test harness serves /config.js, which sets window.FLEXDESK_CONFIG with the
// URLs of the servers it started: the page never hard-codes a port.

/** The Conversations clients the page can run (see conversations-client.js); the real SDK unless asked otherwise. */
export const CLIENT_KINDS = ['real-sdk', 'stand-in'];
export const DEFAULT_CLIENT = 'real-sdk';

/**
 * Validates the injected config, so a misconfigured page says what is wrong instead of failing later.
 * `search` (the page's query string) may choose the Conversations client: `?client=stand-in` overrides the config.
 */
export function readPageConfig(raw, search = '') {
  if (!raw || typeof raw !== 'object') {
    throw new Error('window.FLEXDESK_CONFIG is missing: serve this page with `npm start` (scripts/dev.mjs)');
  }
  const out = {};
  for (const key of ['authServerUrl', 'emulatorUrl']) {
    const value = raw[key];
    try {
      out[key] = new URL(value).toString().replace(/\/$/, '');
    } catch {
      throw new Error(`window.FLEXDESK_CONFIG.${key} must be an absolute URL, got ${JSON.stringify(value)}`);
    }
  }
  const fromQuery = new URLSearchParams(search).get('client');
  const client = fromQuery ?? raw.client ?? DEFAULT_CLIENT;
  if (!CLIENT_KINDS.includes(client)) {
    const where = fromQuery != null ? 'the ?client= parameter' : 'window.FLEXDESK_CONFIG.client';
    throw new Error(`${where} must be one of ${CLIENT_KINDS.join(', ')}, got ${JSON.stringify(client)}`);
  }
  out.client = client;
  // The demo's signed-in mode (issue 17): `?signed-in` makes the page a logged-in customer's, whose identity token the
  // demo server mints; the page then shows no details form.
  if (raw.identityTokenUrl !== undefined) out.identityTokenUrl = String(raw.identityTokenUrl);
  if (new URLSearchParams(search).has('signed-in')) {
    if (!out.identityTokenUrl) throw new Error('?signed-in needs a page server that mints the demo identity token (npm start does)');
    out.signedIn = true;
  }
  // A test can make the desk give up joining sooner than its 20 s default (the desk checks the value).
  if (raw.joinTimeoutMs !== undefined) out.joinTimeoutMs = raw.joinTimeoutMs;
  // A test can make the desk read the queue position more often than every 30 s (the desk checks the value).
  if (raw.queuePollMs !== undefined) out.queuePollMs = raw.queuePollMs;
  // "Are you still there?" (issue 28): a test asks sooner than the demo's 5 minutes (the desk checks the values).
  if (raw.idlePromptMs !== undefined) out.idlePromptMs = raw.idlePromptMs;
  if (raw.idleCloseMs !== undefined) out.idleCloseMs = raw.idleCloseMs;
  // A test can reword the desk's customer texts (the `strings` option; the desk checks the keys).
  if (raw.strings !== undefined) out.strings = raw.strings;
  // The customer's language (`?locale=de` or the config): the web chat's `locale` and texts, and the desk's.
  const locale = new URLSearchParams(search ?? '').get('locale') ?? raw.locale;
  if (locale !== undefined && locale !== null) {
    if (typeof locale !== 'string' || !/^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*$/.test(locale)) throw new Error(`locale must be a language tag like de or pt-BR, got ${JSON.stringify(locale)}`);
    out.locale = locale;
  }
  return out;
}
