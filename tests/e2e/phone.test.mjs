// Issue 29, phones: the main paths in a phone's viewport with touch (Playwright's device emulation of a Pixel 7 in
// Chromium: 412×839, isMobile, hasTouch, a mobile user agent), as most web chat happens. The agent console stays a
// desktop page. Taps, not clicks, where a person taps.
import assert from 'node:assert/strict';
import { devices } from 'playwright-core';
import { e2eSuite } from './support/harness.mjs';
import { STRINGS } from './support/customer.mjs';
import { seen } from './support/wait.mjs';

const scenario = e2eSuite('phone');
const PHONE = devices['Pixel 7'];
// A 1×1 PNG, as a phone's photo picker would hand over a (much larger) photo.
const PHOTO = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64');

scenario('on a phone: ask for an agent, wait in line, chat both ways, send a photo, reload, end', async ({ customer, agent }) => {
  const page = customer.page;
  assert.equal(await page.evaluate(() => matchMedia('(pointer: coarse)').matches && navigator.maxTouchPoints > 0), true, 'a touch device');
  assert.equal(page.viewportSize().width, PHONE.viewport.width);

  await page.goto(customer.baseUrl + '/');
  await page.locator('#details [name="name"]').fill('Pat Phone');
  await (await seen(page.getByRole('button', { name: STRINGS.launcher }), 'the launcher')).tap();
  await customer.see(STRINGS.greeting);
  // Carbon opens full screen on a small viewport: the chat covers the page's width.
  const input = customer.inputBox().first();
  const box = await input.boundingBox();
  assert.ok(box && box.x >= 0 && box.x + box.width <= PHONE.viewport.width, `the input fits the screen: ${JSON.stringify(box)}`);

  await customer.askForAgent();
  await seen(page.getByText(/You're number\s*1\s*in line/), 'the queue position');
  await agent.open('Alice');
  const task = await agent.waitForIncomingTask('Pat Phone');
  await agent.accept(task);
  await customer.seeAgentInHeader('Alice');

  await customer.send('Hi from my phone');
  await agent.see('Hi from my phone');
  await agent.send('Hello Pat, how can I help?');
  await customer.see('Hello Pat, how can I help?');

  // The photo picker: the paperclip tapped, the file chooser answered.
  const paperclip = await seen(page.locator('label.cds-aichat--input-container__upload-button'), 'the paperclip');
  const [chooser] = await Promise.all([page.waitForEvent('filechooser'), paperclip.tap()]);
  await chooser.setFiles([{ name: 'IMG_2041.png', mimeType: 'image/png', buffer: PHOTO }]);
  await (await seen(page.getByRole('button', { name: 'Send message' }), 'the send button')).tap();
  await agent.seeAttachment('IMG_2041.png');

  // A reload (the phone's browser reloads a tab it had put away): the chat goes on with the same agent.
  await customer.returnToPage();
  await seen(page.getByText('Alice', { exact: true }), 'Alice in the chat header after the reload');
  await agent.send('Still there?');
  await customer.see('Still there?');
  await customer.send('Yes, still here');
  await agent.see('Yes, still here');

  await customer.disconnect();
  await agent.seeClosed(task);
}, { timeout: 150_000, customerContextOptions: PHONE });
