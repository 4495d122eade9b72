// The agent's side: the emulator's agent console page (<emulator>/console?agent=alice), driven through its UI
// like a person would. Roles and labels are the ones documented at the top of the emulator's console.html.
import { seen, waitUntil, firstShown } from './wait.mjs';

export class AgentConsole {
  constructor(page, emulatorUrl) {
    this.page = page;
    this.emulatorUrl = emulatorUrl;
  }

  /** Opens the console playing `agentName` ("Alice" or "Bob"). */
  async open(agentName) {
    await this.page.goto(`${this.emulatorUrl}/console?agent=${encodeURIComponent(agentName.toLowerCase())}`);
    await this.actAs(agentName);
  }

  /** Switches the "Agent" picker to `agentName`. */
  async actAs(agentName) {
    const picker = this.page.getByLabel('Agent', { exact: true });
    await waitUntil(async () => (await picker.locator('option').count()) > 0, { message: 'the console to load its agents' });
    await picker.selectOption({ label: agentName });
    this.agentName = agentName;
  }

  status() {
    return this.page.getByRole('status', { name: 'Console status' });
  }

  /** Waits for the console's status line to report `label: done` (and fails with its error otherwise). */
  async done(label) {
    const status = this.status();
    await waitUntil(
      async () => {
        const text = (await status.textContent()) ?? '';
        if (text.startsWith(`${label} failed`)) throw new Error(`the console says: ${text}`);
        return text === `${label}: done`;
      },
      { message: `the console to report "${label}: done"` },
    );
    // Clear it, so the next action of the same kind waits for its own result.
    await status.evaluate((el) => (el.textContent = ''));
  }

  /** Waits for a waiting chat from `customerName`; resolves to a handle used by the other methods. */
  async waitForIncomingTask(customerName, timeout = 15_000) {
    const item = this.page.getByRole('list', { name: 'Waiting chats' }).getByRole('listitem').filter({ hasText: customerName });
    await seen(item, `a waiting chat from ${customerName} in the console`, timeout);
    return { customerName, item };
  }

  async accept(task) {
    await (await seen(this.page.getByRole('button', { name: `Accept chat from ${task.customerName}` }), 'the Accept button')).click();
    await this.done('Accept');
    await this.openChat(task);
  }

  /** Makes the chat with the task's customer the open one (an agent may have several). */
  async openChat(task) {
    const open = await seen(this.page.getByRole('button', { name: `Open chat with ${task.customerName}` }), `${task.customerName} in Active chats`);
    if ((await open.getAttribute('aria-current')) !== 'true') await open.click();
    await seen(this.chat().getByText(`Chat with ${task.customerName}`), `the open chat with ${task.customerName}`);
  }

  chat() {
    return this.page.getByRole('region', { name: 'Chat' });
  }

  messages() {
    return this.page.getByRole('log', { name: 'Messages' });
  }

  /**
   * The console's "Task attributes — visible in Flex only with a plugin" panel, opened. A stock Flex agent does not
   * see task attributes (only the task's display name and the messages): a test that reads them here checks what
   * the task carries for a Flex plugin or for routing, not what an agent reads.
   */
  async pluginOnlyAttributes() {
    const panel = this.page.getByRole('region', { name: /visible in Flex only with a plugin/ });
    if (!(await firstShown(panel))) {
      await (await seen(this.chat().getByText('Task attributes — visible in Flex only with a plugin', { exact: true }), 'the plugin-only attributes summary')).click();
    }
    return seen(panel, 'the opened "Task attributes — visible in Flex only with a plugin" panel');
  }

  /** Text among the task attributes (plugin-only: see `pluginOnlyAttributes`). */
  async seeInPluginOnlyAttributes(text) {
    const panel = await this.pluginOnlyAttributes();
    await seen(panel.getByText(text), `"${text}" in the console's plugin-only task attributes`);
  }

  /** A line of the task's `transcript` attribute (plugin-only: see `pluginOnlyAttributes`). */
  async seeInTranscriptAttribute(text) {
    const panel = await this.pluginOnlyAttributes();
    await seen(panel.getByRole('list', { name: 'Transcript attribute' }).getByText(text), `"${text}" in the console's transcript attribute (plugin-only)`);
  }

  /**
   * The messages as the console shows them, top to bottom: { index, author, body } per article (body = the
   * message's own text, without the author line or the "Read" mark; file names for attachments).
   */
  async shownMessages() {
    return this.messages().evaluate((log) =>
      [...log.querySelectorAll('article[data-index]')].map((a) => ({
        index: Number(a.dataset.index),
        author: a.dataset.author,
        body: [...a.childNodes]
          .filter((n) => n.nodeType === Node.TEXT_NODE || n.tagName === 'A')
          .map((n) => n.textContent)
          .join(''),
        read: Boolean(a.querySelector('.read-mark')),
      })),
    );
  }

  /** Waits until a message whose text is exactly `text` is shown in the open chat. */
  async see(text, { timeout = 15_000 } = {}) {
    await seen(this.messages(), 'the console message log');
    return waitUntil(async () => (await this.shownMessages()).find((m) => m.body === text), {
      timeout,
      message: `"${text}" in the console's messages`,
    });
  }

  async countOf(text) {
    return (await this.shownMessages()).filter((m) => m.body === text).length;
  }

  /** Each text is shown, and in this order (the console lists messages by conversation index). */
  async expectInOrder(texts) {
    for (const t of texts) await this.see(t);
    const shown = (await this.shownMessages()).map((m) => m.body);
    const positions = texts.map((t) => shown.indexOf(t));
    for (let i = 1; i < positions.length; i++) {
      if (!(positions[i] > positions[i - 1])) {
        throw new Error(`the console shows ${JSON.stringify(texts[i])} before ${JSON.stringify(texts[i - 1])}: ${JSON.stringify(shown)}`);
      }
    }
  }

  textbox() {
    return this.page.getByRole('textbox', { name: 'Message' });
  }

  async send(text) {
    await this.textbox().fill(text);
    await this.page.getByRole('button', { name: 'Send', exact: true }).click();
    await this.done('Send');
  }

  /** Types into the reply box key by key (the customer should see "typing"), without sending. */
  async typeWithoutSending(text) {
    await this.textbox().pressSequentially(text, { delay: 40 });
  }

  async sendTyped() {
    await this.page.getByRole('button', { name: 'Send', exact: true }).click();
    await this.done('Send');
  }

  async seeCustomerTyping() {
    await seen(this.page.getByRole('status', { name: 'Typing indicator' }).getByText(/is typing/), '"… is typing" in the console');
  }

  /** The console marks everything read while the chat is open and visible; wait for the newest message to show. */
  async readChatUpTo(text) {
    await this.see(text);
  }

  async seeReadByCustomer(text) {
    await waitUntil(async () => (await this.shownMessages()).find((m) => m.body === text && m.read), {
      message: `the "Read" mark on "${text}" in the console`,
    });
    await seen(this.messages().getByLabel('Read by customer'), 'a "Read" mark in the console');
  }

  async transfer(task, toAgentName) {
    await this.openChat(task);
    await this.page.getByLabel('Transfer to').selectOption({ label: toAgentName });
    await this.page.getByRole('button', { name: 'Transfer', exact: true }).click();
    await this.done('Transfer');
  }

  /** Waits for a chat with `customerName` among this agent's active chats (e.g. after a transfer to them). */
  async waitForActiveChat(customerName, timeout = 15_000) {
    const task = { customerName };
    await seen(this.page.getByRole('button', { name: `Open chat with ${customerName}` }), `${customerName} in Active chats`, timeout);
    await this.openChat(task);
    return task;
  }

  async seeNoLongerIn(task) {
    await waitUntil(async () => !(await firstShown(this.page.getByRole('button', { name: `Open chat with ${task.customerName}` }))), {
      message: `${task.customerName} to leave ${this.agentName}'s active chats`,
    });
  }

  /** The agent's "Ended chats" entry for `customerName` (completed or canceled tasks; display name only). */
  endedChat(customerName) {
    return this.page.getByRole('list', { name: 'Ended chats' }).getByRole('listitem').filter({ hasText: customerName });
  }

  /**
   * The emulator's supervisor view (Flex Insights), opened from the console's link in a tab of its own: the task
   * attributes Insights reads (a chat's rating), which a stock Flex agent does not see. Close the page when done.
   */
  async openSupervisorView() {
    const [page] = await Promise.all([
      this.page.context().waitForEvent('page'),
      this.page.getByRole('link', { name: 'Supervisor view (Flex Insights)' }).click(),
    ]);
    await seen(page.getByRole('heading', { name: 'Supervisor view (Flex Insights)' }), 'the supervisor view');
    return page;
  }

  async end(task) {
    await this.openChat(task);
    await this.page.getByRole('button', { name: 'End chat' }).click();
    await this.done('End chat');
  }

  /** A chat the customer closed: it leaves the agent's active chats, or shows "The chat has ended." if still open. */
  async seeClosed(task) {
    await waitUntil(
      async () =>
        (await firstShown(this.messages().getByText('The chat has ended.'))) ||
        !(await firstShown(this.page.getByRole('button', { name: `Open chat with ${task.customerName}` }))),
      { message: `the console to show the chat with ${task.customerName} closed` },
    );
  }

  /**
   * A chat closed without the agent (e.g. the customer left) is in wrap-up: still in the agent's Active chats, marked
   * "Wrap-up", and not in Ended chats (a wrapping task is its worker's until completed, as in Flex).
   */
  async seeWrapUp(task) {
    const item = this.page.getByRole('list', { name: 'Active chats' }).getByRole('listitem').filter({ hasText: task.customerName });
    await seen(item.getByText('Wrap-up', { exact: true }), `${task.customerName} marked Wrap-up in Active chats`);
    if (await firstShown(this.endedChat(task.customerName))) throw new Error(`${task.customerName} is also in Ended chats while in wrap-up`);
  }

  /** Completes a chat in wrap-up: it leaves Active chats for Ended chats. */
  async complete(task) {
    await this.openChat(task);
    await (await seen(this.chat().getByRole('button', { name: 'Complete', exact: true }), 'the Complete button')).click();
    await this.done('Complete');
    await this.seeNoLongerIn(task);
    await seen(this.endedChat(task.customerName), `${task.customerName} in Ended chats`);
  }

  async setAvailable(agentName, available) {
    await this.actAs(agentName);
    const box = this.page.getByRole('checkbox', { name: 'Available' });
    if ((await box.isChecked()) === available) return;
    await box.setChecked(available);
    await this.done(available ? 'Available' : 'Unavailable');
  }

  async seeAttachment(filename) {
    await seen(this.messages().getByText(filename), `the attachment ${filename} in the console`);
  }

  /**
   * Sends files from the console, { name, mimeType, buffer } each (one or an array), in one message; with `text`,
   * that message carries the text too.
   */
  async attach(files, { text } = {}) {
    if (text !== undefined) await this.textbox().fill(text);
    await this.page.getByLabel('Attach file').setInputFiles(files);
    await this.page.getByRole('button', { name: 'Send file' }).click();
    await this.done('Send file');
  }
}
