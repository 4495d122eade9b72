// Scenario 7: files both ways, and files the desk refuses (too large, wrong type) with a clear message.
import assert from 'node:assert/strict';
import { BOTH_CLIENTS, e2eSuite } from './support/harness.mjs';
import { connectCustomerToAgent } from './support/flows.mjs';
import { seen, notSeen, waitUntil } from './support/wait.mjs';

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

// Issue 23, defect 5: Twilio's temporary media URLs (`content_direct_temporary`) expire, and the desk used to put
// the one it read into the web chat, so an agent's file broke after minutes and in a restored history. Now every
// agent file is linked through the auth server (`GET /v1/media/{MediaSid}?…`), which redirects to a fresh temporary
// URL each time. The emulator's URLs last 2 s here (`POST /admin/faults` `mediaUrlTtlSeconds`).
scenario("an agent's file and image still open after Twilio's temporary URLs expired, and after a reload", async (ctx) => {
  const { customer, agent, stack } = ctx;
  const TTL_SECONDS = 2;
  const faults = await fetch(`${stack.emulator.url}/admin/faults`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ mediaUrlTtlSeconds: TTL_SECONDS }),
  });
  assert.equal(faults.status, 200, await faults.text());
  await connectCustomerToAgent(ctx);
  const PDF = Buffer.from('%PDF-1.4\n% flexdesk test\n%%EOF\n');
  await agent.attach({ name: 'return-label.pdf', mimeType: 'application/pdf', buffer: PDF });
  await agent.attach({ name: 'meter.png', mimeType: 'image/png', buffer: PNG_1x1 });
  const page = customer.page;
  const link = await seen(page.getByRole('link', { name: 'return-label.pdf' }), 'the file as a link');
  // Carbon's image tile (Image.tsx: `<img src={source} alt={altText || title}>`); the 1x1 image is too small for
  // `seen`, so its load is what is waited for.
  const image = page.locator('img[alt="meter.png"]');
  const loaded = (img) => waitUntil(() => img.first().evaluate((i) => i.complete && i.naturalWidth > 0).catch(() => false), { message: 'the image to load' });
  await loaded(image);
  const href = await link.getAttribute('href');
  const src = await image.first().getAttribute('src');
  for (const url of [href, src]) assert.ok(url.startsWith(`${stack.auth.url}/v1/media/ME`), `linked through the auth server: ${url}`);

  // Each open is redirected to a temporary URL that really expires: what the desk used to show.
  const first = await page.request.get(href, { maxRedirects: 0 });
  assert.equal(first.status(), 302);
  const temporary = first.headers().location;
  await new Promise((r) => setTimeout(r, (TTL_SECONDS + 1) * 1000));
  assert.equal((await page.request.get(temporary)).status(), 403, 'the temporary URL expired');

  // The customer's link still opens the file, and the image still loads: a fresh temporary URL each time.
  const opened = await page.request.get(href);
  assert.equal(opened.status(), 200);
  assert.deepEqual(Buffer.from(await opened.body()), PDF);
  const loads = (url) => page.evaluate((u) => new Promise((resolve) => {
    const img = new Image();
    img.onload = () => resolve(img.naturalWidth);
    img.onerror = () => resolve(0);
    img.src = u;
  }), url);
  assert.equal(await loads(src), 1, 'the image loads after its first temporary URL expired');

  // A reload: the history (`flexdesk/history`) restores the agent's part with the same links, long after they were
  // first shown, and the image renders.
  await customer.returnToPage();
  await loaded(page.locator('img[alt="meter.png"]'));
  assert.equal(await page.locator('img[alt="meter.png"]').first().getAttribute('src'), src, 'the restored image is the same link');
  const again = await page.request.get(await page.getByRole('link', { name: 'return-label.pdf' }).first().getAttribute('href'));
  assert.equal(again.status(), 200, 'the restored link opens the file');
}, { clients: BOTH_CLIENTS });
