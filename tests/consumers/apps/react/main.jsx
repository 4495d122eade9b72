// A React app with Carbon AI Chat's React component (ChatContainer) and flexdesk as its service desk.
// The factory is made once, outside the component: Carbon ends a chat with an agent when `serviceDeskFactory`
// changes, so it must keep its identity across renders (useMemo / useCallback with stable inputs does it too).
import { useState } from 'react';
import { createRoot } from 'react-dom/client';
import { ChatContainer } from '@carbon/ai-chat';
import { createTwilioFlexServiceDesk } from 'flexdesk';
import { customSendMessage, pageConfig } from '../shared/bot.js';

const { authServerUrl, twilsockUri } = pageConfig();
const serviceDeskFactory = createTwilioFlexServiceDesk({
  authServerUrl,
  // The SDK is imported when a chat with an agent starts, not with the page.
  createConversationsClient: async (token) => {
    const sdk = await import('@twilio/conversations');
    return new (sdk.Client ?? sdk.default.Client)(token, { Twilsock: { uri: twilsockUri } });
  },
  customerName: 'Consumer Customer',
});
const messaging = { customSendMessage };

function App() {
  const [renders, setRenders] = useState(0);
  // The test re-renders the app in the middle of the chat: the chat with the agent must survive it.
  window.rerenderApp = () => setRenders((n) => n + 1);
  return (
    <>
      <p data-renders={renders}>rendered {renders + 1} times</p>
      <ChatContainer messaging={messaging} serviceDeskFactory={serviceDeskFactory} />
    </>
  );
}

createRoot(document.getElementById('root')).render(<App />);
document.documentElement.dataset.app = 'ready';
