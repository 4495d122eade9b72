// Helpers for the quick reliability/security tests: a stack per test, JSON calls that keep every answer
// (so a test can grep all of them for secrets), and the fake secrets to look for.
import { startStack, routedTask } from '../support/servers.mjs';
import { FAKE_TWILIO_ENV } from '../support/fake-env.mjs';

export const SECRETS = [FAKE_TWILIO_ENV.TWILIO_API_KEY_SECRET, FAKE_TWILIO_ENV.TWILIO_AUTH_TOKEN, FAKE_TWILIO_ENV.SESSION_SECRET];

export async function stack(t, authEnv = {}) {
  const s = await startStack({ ALLOWED_ORIGINS: 'http://127.0.0.1:3000', ...authEnv });
  t.after(() => s.stop());
  const answers = [];
  const call = async (method, path, { body, headers = {}, raw } = {}) => {
    const init = { method, headers: { ...headers } };
    if (raw !== undefined) init.body = raw;
    else if (body !== undefined) {
      init.body = JSON.stringify(body);
      init.headers['content-type'] ??= 'application/json';
    }
    const res = await fetch(s.auth.url + path, init);
    const text = await res.text();
    answers.push(text);
    let json = null;
    try { json = JSON.parse(text); } catch { /* not JSON */ }
    return { status: res.status, json, text, headers: res.headers };
  };
  const start = async () => {
    const r = await call('POST', '/v1/sessions', { body: { customerName: 'Ada' } });
    if (r.status !== 201) throw new Error(`start: ${r.status} ${r.text}`);
    // Flex routes it a moment later (docs/emulator.md, "Flex's pipeline"): the customer then waits in the queue.
    await routedTask(s.emulator.url, r.json.conversationSid);
    return r.json;
  };
  const emu = async (method, path, body) => {
    const res = await fetch(s.emulator.url + path, { method, headers: { 'content-type': 'application/json' }, body: body && JSON.stringify(body) });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path} -> ${res.status} ${text}`);
    return text ? JSON.parse(text) : null;
  };
  return { ...s, call, start, emu, answers };
}
