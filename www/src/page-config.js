// The launcher (scripts/dev.mjs) or the test harness serves /config.js, which sets window.FLEXDESK_CONFIG with the
// URLs of the servers it started: the page never hard-codes a port.

/** Validates the injected config, so a misconfigured page says what is wrong instead of failing later. */
export function readPageConfig(raw) {
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
  return out;
}
