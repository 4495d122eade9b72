// Realistic fake Twilio configuration shared by `npm start` and the tests: the emulator and the auth server read
// the same variables, so the tokens the server mints verify in the emulator. None of these reach Twilio.
const sid = (prefix, n) => prefix + n.toString(16).padStart(32, '0');

export const FAKE_TWILIO_ENV = {
  TWILIO_ACCOUNT_SID: sid('AC', 0xf1e8),
  TWILIO_AUTH_TOKEN: 'f1e8de5c0ffee0000000000000000001',
  TWILIO_API_KEY_SID: sid('SK', 0xf1e8),
  TWILIO_API_KEY_SECRET: 'fakeApiKeySecret-not-a-real-secret-0001',
  TWILIO_CONVERSATIONS_SERVICE_SID: sid('IS', 0xf1e8),
  TWILIO_ADDRESS_SID: sid('IG', 0xf1e8),
  TWILIO_FLEX_FLOW_SID: sid('FO', 0xf1e8),
  TWILIO_WORKSPACE_SID: sid('WS', 0xf1e8),
  TWILIO_WORKFLOW_SID: sid('WW', 0xf1e8),
  TWILIO_QUEUE_SID: sid('WQ', 0xf1e8),
  SESSION_SECRET: 'dev-session-secret-change-me-0123456789abcdef',
};

/**
 * "Continue by SMS" on (docs/auth-server.md): the demo's and the e2e suite's auth server texts from Twilio's magic
 * test number +15005550006 (https://www.twilio.com/docs/iam/test-credentials; here only the emulator sees it) to
 * North America, the UK and Germany.
 */
export const DEMO_SMS_ENV = { TWILIO_SMS_NUMBER: '+15005550006', SMS_ALLOWED_CALLING_CODES: '1,44,49' };
