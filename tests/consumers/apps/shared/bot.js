// What every consumer app shares besides flexdesk: a one-line "bot" for the web chat, and where the test's
// servers are. A real app has its own assistant and knows its auth server; the test passes both in the URL:
//   ?auth=<flexdesk auth server>&emulator=<Twilio emulator>   (the emulator stands in for Twilio's realtime host)

/** The auth server URL and the realtime (twilsock) URI of the emulator, from the page's query string. */
export function pageConfig(search = globalThis.location.search) {
  const q = new URLSearchParams(search);
  const authServerUrl = q.get('auth');
  const emulator = q.get('emulator');
  if (!authServerUrl || !emulator) throw new Error('open this page with ?auth=<auth server URL>&emulator=<emulator URL>');
  const twilsock = new URL('/v3/wsconnect', emulator);
  twilsock.protocol = twilsock.protocol === 'https:' ? 'wss:' : 'ws:';
  return { authServerUrl, twilsockUri: twilsock.href };
}

export const GREETING = 'Consumer app bot here. Type "agent" to talk to a person.';

/** `messaging.customSendMessage`: greets, and offers a human agent when asked (a `connect_to_agent` item). */
export async function customSendMessage(request, _options, instance) {
  const text = (request?.input?.text ?? '').trim();
  const generic = /agent/i.test(text)
    ? [
        { response_type: 'text', text: 'Let me connect you with a human agent.' },
        {
          response_type: 'connect_to_agent',
          message_to_human_agent: 'The customer asked the bot for a human agent.',
          agent_available: { message: 'An agent is available.' },
          agent_unavailable: { message: 'No agents are available right now.' },
          transfer_info: { summary_message_to_agent: [{ response_type: 'text', text: 'From a consumer app test.' }] },
        },
      ]
    : [{ response_type: 'text', text: GREETING }];
  await instance.messaging.addMessage({ output: { generic } });
}
