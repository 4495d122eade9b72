// A tiny stand-in for the Twilio endpoints the auth server calls, for the node tests in tests/auth/ that need to see
// the raw requests (method, path, form fields, Authorization header). Its answers follow twilio-oai (flex v2
// CreateWebChannel: Twilio chooses the identity; conversations v1 service-scoped paths) and error 50377 for a closed
// conversation; behaviour beyond that is the emulator's job (tests/contract checks the emulator against the spec).
import http from 'node:http';
import { FAKE_TWILIO_ENV } from '../../../../tests/support/fake-env.mjs';

const CONVERSATION = 'CH' + '2'.repeat(32);
const IDENTITY = '4f0c7a52-9d1e-4b8e-a1d3-0c6f2e9b7d11'; // Twilio's WebChats identities are UUIDs

export async function startFakeTwilio() {
  const requests = [];
  const closed = new Set();
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const form = Object.fromEntries(new URLSearchParams(body));
      const url = new URL(req.url, 'http://x');
      requests.push({ method: req.method, path: url.pathname, form, authorization: req.headers.authorization });
      const send = (status, json) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(json));
      };
      if (req.method === 'POST' && url.pathname === '/v2/WebChats') {
        return send(201, { conversation_sid: CONVERSATION, identity: IDENTITY });
      }
      if (req.method === 'POST' && url.pathname === '/v1/Channels') {
        return send(201, { sid: CONVERSATION });
      }
      if (url.pathname === `/v1/Services/${FAKE_TWILIO_ENV.TWILIO_CONVERSATIONS_SERVICE_SID}/Conversations/${CONVERSATION}`) {
        if (req.method === 'POST' && closed.has(CONVERSATION)) {
          return send(400, { code: 50377, message: "Can't update conversation as it's in final closed state", more_info: 'https://www.twilio.com/docs/errors/50377', status: 400 });
        }
        if (req.method === 'POST' && form.State === 'closed') closed.add(CONVERSATION);
        return send(200, { sid: CONVERSATION, state: closed.has(CONVERSATION) ? 'closed' : 'active' });
      }
      if (req.method === 'GET' && url.pathname.endsWith('/RealTimeStatistics')) {
        return send(200, { total_available_workers: 2, longest_task_waiting_age: 7, tasks_by_status: { pending: 1, reserved: 0 } });
      }
      send(404, { code: 20404, message: 'The requested resource was not found', status: 404 });
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${server.address().port}`;
  return {
    url,
    requests,
    conversationSid: CONVERSATION,
    identity: IDENTITY,
    /** Simulates the agent ending the chat (conversation State=closed). */
    closeConversation: () => closed.add(CONVERSATION),
    /** Env for the auth server pointing every Twilio base URL here. */
    env: { TWILIO_FLEX_API_URL: url, TWILIO_CONVERSATIONS_API_URL: url, TWILIO_TASKROUTER_API_URL: url },
    stop: () => new Promise((resolve) => server.close(resolve)),
  };
}
