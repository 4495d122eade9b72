// Issue 28, item 4: continue by SMS. Through the real web chat and the emulator: the customer leaves a number with the
// demo's "Text me instead", confirms it, and the web chat says the chat continues by SMS; the agent's next message is
// recorded by the emulator as an SMS to that number (from TWILIO_SMS_NUMBER); a text back from the phone reaches the
// agent console in the same chat.
import assert from 'node:assert/strict';
import { BOTH_CLIENTS, e2eSuite } from './support/harness.mjs';
import { connectCustomerToAgent } from './support/flows.mjs';
import { waitUntil } from './support/wait.mjs';
import { DEMO_SMS_ENV } from '../support/fake-env.mjs';

const scenario = e2eSuite('sms');
const PHONE = '+4915112345678';

const sentSms = async (stack) => (await (await fetch(`${stack.emulator.url}/admin/sms`)).json()).sent;
const smsParticipants = async (stack) =>
  (await (await fetch(`${stack.emulator.url}/admin/state`)).json()).conversations.flatMap((c) => c.participants).filter((p) => p.identity === null);

scenario('continue by SMS: the customer confirms a number, the agent\'s reply is texted to it, a text back reaches the agent', async (ctx) => {
  const { customer, agent, stack } = ctx;
  await connectCustomerToAgent(ctx);
  const page = customer.page;

  await page.getByRole('button', { name: 'Text me instead' }).click();
  await page.getByLabel('Your mobile number, with its country code').fill('+49 151 1234 5678');
  await page.getByRole('button', { name: 'Next' }).click();
  await page.getByText('Continue this chat by SMS to').waitFor();
  // Nothing leaves the page before the customer confirms.
  assert.deepEqual(await smsParticipants(stack), [], 'no SMS participant before the confirmation');

  await page.getByRole('button', { name: 'Yes, text me' }).click();
  await customer.see('This chat continues by SMS to +49•••••••••78');
  assert.equal((await smsParticipants(stack)).length, 1, 'one SMS participant in the chat\'s conversation');

  await agent.send('I will text you the tracking number.');
  const texted = await waitUntil(async () => (await sentSms(stack)).find((m) => m.body === 'I will text you the tracking number.'), {
    message: "the agent's message sent as an SMS",
  });
  assert.equal(texted.to, PHONE);
  assert.equal(texted.from, DEMO_SMS_ENV.TWILIO_SMS_NUMBER);

  const reply = await fetch(`${stack.emulator.url}/admin/sms`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ from: PHONE, body: 'Thanks, got it on my phone' }),
  });
  assert.equal(reply.status, 200, await reply.text());
  await agent.see('Thanks, got it on my phone');
}, { authEnv: DEMO_SMS_ENV, clients: BOTH_CLIENTS });
