// flexdesk's rating of a chat with an agent (issue 28): the outcome's `rate()` (index.js) loads this module when the
// page rates. Internal: not one of the package's exports.

/**
 * Sends the customer's rating of the ended chat to the auth server (`POST /v1/sessions/{id}/rating`, with the ended
 * session's credential from `ticket`), which writes it to the chat's task for Flex Insights. Resolves
 * `{ recorded: true }`, or `{ recorded: false, reason }` with the server's code (`already_rated`, `rating_closed`,
 * `chat_not_ended`, `rating_not_configured`, …), `no_agent` (`agentJoined` false, the outcome's: nobody to rate, though
 * the ticket may still erase the chat) or `unreachable`. Rejects only on bad input: a TypeError saying what is wrong.
 */
export async function rateChat(authServerUrl, ticket, { score, comment } = {}, agentJoined = true) {
  if (!Number.isInteger(score) || score < 1 || score > 5) throw new TypeError('flexdesk: rate({ score }) takes a whole number from 1 to 5');
  if (comment !== undefined && (typeof comment !== 'string' || [...comment].length > 500)) {
    throw new TypeError('flexdesk: rate({ comment }) takes a string of at most 500 characters');
  }
  if (!ticket || !agentJoined) return { recorded: false, reason: 'no_agent' };
  const url = `${String(authServerUrl).replace(/\/+$/, '')}/v1/sessions/${encodeURIComponent(ticket.sessionId)}/rating`;
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sessionCredential: ticket.sessionCredential, score, ...(comment?.trim() && { comment }) }),
    });
    if (res.ok) return { recorded: true };
    const answer = await res.json().catch(() => null);
    return { recorded: false, reason: answer?.error?.code ?? `http_${res.status}` };
  } catch {
    return { recorded: false, reason: 'unreachable' };
  }
}
