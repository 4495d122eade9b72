// Scenario 7: files both ways, and files the desk refuses (too large, wrong type) with a clear message.
import { e2eSuite } from './support/harness.mjs';
import { connectCustomerToAgent } from './support/flows.mjs';
import { seen, notSeen } from './support/wait.mjs';

const scenario = e2eSuite('files');

// A real 1x1 PNG, so anything that decodes the image (console thumbnail, web chat preview) gets a valid one.
const PNG_1x1 = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==',
  'base64',
);

scenario('7. file upload both ways; too-large and wrong-type files refused with a clear message', async (ctx) => {
  const { customer, agent } = ctx;
  await connectCustomerToAgent(ctx);

  // Customer → agent.
  await customer.chooseFiles([{ name: 'broken-pole.png', mimeType: 'image/png', buffer: PNG_1x1 }]);
  await customer.clickSend();
  await agent.seeAttachment('broken-pole.png');

  // Agent → customer.
  await agent.attach({ name: 'return-label.pdf', mimeType: 'application/pdf', buffer: Buffer.from('%PDF-1.4\n% flexdesk test\n%%EOF\n') });
  await customer.see('return-label.pdf');

  // Too large: Flex web chat accepts at most 16 MiB per file.
  await customer.chooseFiles([{ name: 'huge-video.mp4', mimeType: 'video/mp4', buffer: Buffer.alloc(17 * 1024 * 1024, 1) }]);
  await seen(customer.page.getByText(/at most 16 MB|too large/i), 'a "file too large" message in the web chat');
  await customer.removeChosenFiles();

  // Wrong type: an executable is not among the allowed extensions.
  await customer.chooseFiles([{ name: 'setup.exe', mimeType: 'application/x-msdownload', buffer: Buffer.from('MZ not really') }]);
  await seen(customer.page.getByText(/"exe" cannot be sent/i), 'a "wrong file type" message in the web chat');
  await customer.removeChosenFiles();

  // Neither refused file reached the agent, and the chat still works.
  await customer.send('Did the photo arrive?');
  await agent.see('Did the photo arrive?');
  await notSeen(agent.page.getByText('huge-video.mp4'), 'the too-large file in the console', 200);
  await notSeen(agent.page.getByText('setup.exe'), 'the refused .exe in the console', 200);
});
