// The integrator's watsonx proxy, with flexdesk's hand-off signing: the page's Carbon AI Chat sends each message here
// (`messaging.customSendMessage`), this server asks watsonx Assistant and answers with watsonx's own answer, every
// `connect_to_agent` item signed (signer.mjs). The watsonx credentials and HANDOFF_SECRET stay here, as flexdesk's
// Twilio secrets stay in its auth server. A sketch to adapt, not a product: one process, transcripts in memory.
//
//   WATSONX_URL=https://api.us-south.assistant.watson.cloud.ibm.com/instances/<instance id>
//   WATSONX_APIKEY=...  WATSONX_ENVIRONMENT_ID=...  HANDOFF_SECRET=... (the auth server's)
//   ALLOWED_ORIGIN=https://www.example.com  PORT=4100  node server.mjs
//
// watsonx Assistant v2 (https://cloud.ibm.com/apidocs/assistant-v2): `POST {url}/v2/assistants/{environment_id}/sessions`
// makes a session, `POST {url}/v2/assistants/{environment_id}/sessions/{session_id}/message` sends `{ input }`; both take
// `?version=2021-11-27` and Basic auth `apikey:{apikey}` ("Authentication").
import http from 'node:http';
import { botLines, signConnectToAgent } from './signer.mjs';

const VERSION = '2021-11-27';
const MAX_BODY = 64 * 1024;
const MAX_LINES = 50;
const MAX_SESSIONS = 10_000;

export function createServer({ watsonxUrl, apikey, environmentId, handoffSecret, allowedOrigin, fetchImpl = fetch }) {
  for (const [k, v] of Object.entries({ watsonxUrl, apikey, environmentId, handoffSecret, allowedOrigin })) {
    if (!v) throw new Error(`${k} is required`);
  }
  const auth = 'Basic ' + Buffer.from(`apikey:${apikey}`).toString('base64');
  const base = `${watsonxUrl.replace(/\/$/, '')}/v2/assistants/${encodeURIComponent(environmentId)}`;
  // What this back end saw of each session, so the transcript it signs is its own, not the page's.
  const transcripts = new Map();
  const watsonx = async (path, body) => {
    const r = await fetchImpl(`${base}${path}?version=${VERSION}`, {
      method: 'POST', headers: { authorization: auth, 'content-type': 'application/json' }, body: JSON.stringify(body ?? {}),
    });
    if (!r.ok) throw Object.assign(new Error(`watsonx answered ${r.status}`), { status: 502 });
    return r.json();
  };
  const send = (res, status, body) => {
    res.writeHead(status, { 'content-type': 'application/json', 'access-control-allow-origin': allowedOrigin, vary: 'origin' });
    res.end(JSON.stringify(body));
  };
  return http.createServer(async (req, res) => {
    if (req.method === 'OPTIONS') {
      res.writeHead(204, { 'access-control-allow-origin': allowedOrigin, 'access-control-allow-methods': 'POST',
        'access-control-allow-headers': 'content-type', 'access-control-max-age': '600' });
      return res.end();
    }
    if (req.method !== 'POST' || req.url !== '/message') return send(res, 404, { error: 'POST /message' });
    let raw = '';
    for await (const chunk of req) {
      raw += chunk;
      if (raw.length > MAX_BODY) return send(res, 413, { error: 'body too large' });
    }
    let body;
    try { body = JSON.parse(raw); } catch { return send(res, 400, { error: 'body must be JSON: { sessionId?, input }' }); }
    try {
      let sessionId = typeof body.sessionId === 'string' && transcripts.has(body.sessionId) ? body.sessionId : null;
      if (!sessionId) {
        sessionId = (await watsonx('/sessions')).session_id;
        if (transcripts.size >= MAX_SESSIONS) transcripts.delete(transcripts.keys().next().value);
        transcripts.set(sessionId, []);
      }
      const lines = transcripts.get(sessionId);
      const text = body.input?.text;
      if (typeof text === 'string' && text) lines.push({ from: 'user', text });
      const answer = await watsonx(`/sessions/${encodeURIComponent(sessionId)}/message`, { input: body.input ?? {} });
      lines.push(...botLines(answer));
      lines.splice(0, Math.max(0, lines.length - MAX_LINES));
      send(res, 200, { sessionId, answer: signConnectToAgent(answer, { secret: handoffSecret, transcript: lines }) });
    } catch (e) {
      send(res, e.status ?? 502, { error: 'the assistant cannot be reached' });
    }
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const env = process.env;
  const server = createServer({ watsonxUrl: env.WATSONX_URL, apikey: env.WATSONX_APIKEY, environmentId: env.WATSONX_ENVIRONMENT_ID,
    handoffSecret: env.HANDOFF_SECRET, allowedOrigin: env.ALLOWED_ORIGIN });
  server.listen(Number(env.PORT ?? 4100), '127.0.0.1', () => console.log(`listening on http://127.0.0.1:${server.address().port}`));
}
