// Signs the hand-off of a watsonx Assistant answer for flexdesk (docs/auth-server.md, "Hand-off trust"): routing
// keys and the bot transcript count only from `transfer_info.additional_data.handoff_token`, an HS256 JWT with
// `aud: "flexdesk-handoff"`, a short `exp` and a fresh `jti` (it routes one chat), signed with the auth server's
// HANDOFF_SECRET. Node's own crypto, no
// dependency. The shape of watsonx's answer: the Assistant v2 `message` API, `output.generic[]` items with
// `response_type: "connect_to_agent"`, `message_to_human_agent`, `topic`, `transfer_info`
// (https://cloud.ibm.com/apidocs/assistant-v2#message; the Node SDK's RuntimeResponseGenericRuntimeResponseTypeConnectToAgent,
// https://watson-developer-cloud.github.io/node-sdk/hsaylor-9718/interfaces/assistantv2.runtimeresponsegenericruntimeresponsetypeconnecttoagent.html).
import crypto from 'node:crypto';

/** flexdesk's own limits (crates/flexdesk-auth/src/chat/engagement.rs): a routing value of at most 200 characters, a token of at most 10 minutes. */
export const MAX_ROUTING_VALUE_CHARS = 200;
export const MAX_TOKEN_SECONDS = 600;
const ROUTING_KEYS = ['topic', 'skill', 'language'];

const b64 = (v) => Buffer.from(JSON.stringify(v)).toString('base64url');

/** An HS256 JWT of `claims` plus `aud`, `exp` (now + ttlSeconds, at most 10 minutes: the server refuses longer) and a random `jti`. */
export function signHandoff(claims, secret, { ttlSeconds = 300, now = Date.now() } = {}) {
  if (typeof secret !== 'string' || secret.length < 32) throw new Error('HANDOFF_SECRET must be at least 32 characters');
  if (!(ttlSeconds > 0 && ttlSeconds <= MAX_TOKEN_SECONDS)) throw new Error(`ttlSeconds must be 1..${MAX_TOKEN_SECONDS}`);
  const body = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ ...claims, aud: 'flexdesk-handoff', exp: Math.floor(now / 1000) + ttlSeconds, jti: crypto.randomUUID() })}`;
  return `${body}.${crypto.createHmac('sha256', secret).update(body).digest('base64url')}`;
}

/**
 * Default routing: watsonx's `topic` (the action or dialog node the hand-off came from) and whatever the assistant
 * put under `transfer_info.target.flexdesk` (`skill`, `language`), each a string of at most 200 characters.
 */
export function defaultRouting(item) {
  const target = item.transfer_info?.target?.flexdesk ?? {};
  const picked = { topic: item.topic, skill: target.skill, language: target.language };
  return Object.fromEntries(ROUTING_KEYS
    .filter((k) => typeof picked[k] === 'string' && picked[k] !== '')
    .map((k) => [k, picked[k].slice(0, MAX_ROUTING_VALUE_CHARS)]));
}

/**
 * A copy of a watsonx `message` answer in which every `connect_to_agent` item carries a signed hand-off:
 * `transfer_info.additional_data.handoff_token` with the routing keys and, when given, the transcript this back end
 * saw (lines `{ from: 'user' | 'bot', text }`). Unsigned routing keys the page could have written are not added.
 */
export function signConnectToAgent(answer, { secret, ttlSeconds, transcript, routing = defaultRouting, now } = {}) {
  const copy = structuredClone(answer);
  for (const item of copy?.output?.generic ?? []) {
    if (item.response_type !== 'connect_to_agent') continue;
    const claims = { ...routing(item) };
    if (transcript?.length) claims.transcript = transcript;
    item.transfer_info = { ...item.transfer_info, additional_data: {
      ...item.transfer_info?.additional_data, handoff_token: signHandoff(claims, secret, { ttlSeconds, now }) } };
  }
  return copy;
}

/** The plain-text lines of a watsonx answer's `text` items, as bot transcript lines. */
export function botLines(answer) {
  return (answer?.output?.generic ?? [])
    .filter((i) => i.response_type === 'text' && typeof i.text === 'string')
    .map((i) => ({ from: 'bot', text: i.text }));
}
