// flexdesk's "continue by SMS" request (issue 28, item 4): the desk's `continueBySms()` (index.js) loads this module
// when the page uses it. Internal: not one of the package's exports.

/**
 * Asks the desk (`smsRequest`: a live chat, an E.164 number) and posts the number it gives to the auth server
 * (`POST /v1/sessions/{id}/sms`, with the saved chat's session credential; the number in the body, never the URL),
 * then reports the answer back to the desk (`smsAdded`). Resolves `{ phone }` (masked) or `{ code }`; never rejects.
 */
export async function continueBySms(authServerUrl, desk, chat, phone) {
  const number = desk && chat ? desk.smsRequest(String(phone ?? '')) : 'session_ended';
  if (!number.startsWith('+')) return { code: number };
  const url = `${String(authServerUrl).replace(/\/+$/, '')}/v1/sessions/${encodeURIComponent(chat.sessionId)}/sms`;
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sessionCredential: chat.credential, phone: number }),
    });
    const answer = await res.json().catch(() => null);
    if (!res.ok || typeof answer?.phone !== 'string') return { code: answer?.error?.code ?? 'unexpected_answer' };
    desk.smsAdded(answer.phone);
    return { phone: answer.phone };
  } catch {
    return { code: 'unreachable' };
  }
}
