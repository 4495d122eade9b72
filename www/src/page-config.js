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
  return out;
}
