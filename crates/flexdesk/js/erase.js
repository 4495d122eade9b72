// flexdesk's erasure of an ended chat (issue 28, item 5): the outcome's `erase()` (index.js) loads this module when
// the page asks. Internal: not one of the package's exports.

/**
 * Asks the auth server to delete the ended chat's conversation at Twilio (`POST /v1/sessions/{id}/erase`, with the
 * ended session's credential from `ticket`; the server needs `ERASE_ON_REQUEST=on`). Resolves the server's receipt
 * `{ erased, at, requestId }` and then calls `forget(sessionId)` (the page's saved copy of that chat), or `{ code }`:
 * the server's code (`erase_not_enabled`, `already_erased`, `chat_not_ended`, `invalid_credential`, …), `no_chat`
 * (no ticket: the chat ended before the auth server answered its start: refused, or ended while it was being created)
 * or `unreachable`. Never rejects. A chat no agent joined has a ticket too: its conversation holds the customer's messages.
 */
export async function eraseChat(authServerUrl, ticket, forget) {
  if (!ticket) return { code: 'no_chat' };
  const url = `${String(authServerUrl).replace(/\/+$/, '')}/v1/sessions/${encodeURIComponent(ticket.sessionId)}/erase`;
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sessionCredential: ticket.sessionCredential }),
    });
    const answer = await res.json().catch(() => null);
    if (!res.ok || !Array.isArray(answer?.erased)) return { code: answer?.error?.code ?? `http_${res.status}` };
    forget(ticket.sessionId);
    return { erased: answer.erased, at: answer.at, requestId: answer.requestId };
  } catch {
    return { code: 'unreachable' };
  }
}
