// The customer's side, driven like a person would: the demo page with the Carbon AI Chat web component.
// Carbon's UI lives in open shadow roots (Playwright's locators pierce them) and keeps hidden copies of some
// controls, so lookups are filtered to visible elements.
import { seen, inVisualOrder, waitUntil, firstShown } from './wait.mjs';

export const STRINGS = {
  launcher: 'Open the chat window',
  greeting: "Hi! I'm the flexdesk demo bot.",
  connectButton: 'Connect to agent',
  agentUnavailable: 'Sorry, no agents are available right now.',
  agentAvailable: 'An agent is available.',
  joined: (name) => `${name} connected.`,
  agentEndedChat: (name) => `${name} ended the chat.`,
  youDisconnected: 'You disconnected from the live agent.',
  disconnected: 'your connection to the live agent was lost',
  reconnected: 'The agent reconnected.',
  typing: 'The live agent is typing',
};

export class CustomerPage {
  constructor(page, baseUrl) {
    this.page = page;
    this.baseUrl = baseUrl;
    this.query = ''; // e.g. `?locale=de`: the page's query string when it is opened
  }

  /** Loads the page, optionally filling the "your details" form, opens the chat and waits for the bot's greeting. */
  async open(details = {}) {
    await this.page.goto(`${this.baseUrl}/${this.query ?? ''}`);
    for (const [name, value] of Object.entries(details)) {
      const field = this.page.locator(`#details [name="${name}"]`);
      if ((await field.evaluate((el) => el.tagName)) === 'SELECT') await field.selectOption(value);
      else await field.fill(value);
    }
    await (await seen(this.page.getByRole('button', { name: STRINGS.launcher }), 'the chat launcher')).click();
    await this.see(STRINGS.greeting);
  }

  /**
   * Comes back to the page (after a reload or navigating away): waits for the web chat and opens it if it came
   * back closed. The web chat keeps its state in sessionStorage, so the same tab resumes the same chat.
   */
  async returnToPage() {
    await this.page.goto(`${this.baseUrl}/${this.query ?? ''}`);
    const launcher = this.page.getByRole('button', { name: STRINGS.launcher });
    // Open: the input, or (a chat with an agent shown as disconnected has no input) the header's Disconnect button.
    const disconnect = this.page.getByRole('button', { name: 'Disconnect' });
    const state = await waitUntil(
      async () =>
        (await this.inputBox().count()) > 0 || (await firstShown(disconnect)) ? 'open' : (await firstShown(launcher)) ? 'closed' : null,
      { message: 'the web chat to render again' },
    );
    if (state === 'closed') await (await firstShown(launcher)).click();
  }

  /** Picks files with the web chat's upload button (as a person would in the file dialog). */
  async chooseFiles(files) {
    // The paperclip is a <label> for a visually hidden <input type=file aria-label="Add files to upload">.
    const button = await seen(this.page.locator('label.cds-aichat--input-container__upload-button'), 'the paperclip (upload) button');
    const [chooser] = await Promise.all([this.page.waitForEvent('filechooser'), button.click()]);
    await chooser.setFiles(files);
  }

  /** Removes every file waiting in the input area (the "Remove file" buttons). */
  async removeChosenFiles() {
    const remove = this.page.getByRole('button', { name: 'Remove file' });
    for (let item = await firstShown(remove); item; item = await firstShown(remove)) await item.click();
  }

  async clickSend() {
    await (await seen(this.page.getByRole('button', { name: 'Send message' }), 'the send button')).click();
  }

  inputBox() {
    return this.page.locator('textarea, [contenteditable="true"]').filter({ visible: true });
  }

  async see(text, { exact = false, timeout = 15_000 } = {}) {
    return seen(this.page.getByText(text, { exact }), `"${text}" in the web chat`, timeout);
  }

  /** Types into the chat input and presses Enter, as a person would. */
  async send(text) {
    const box = await seen(this.inputBox(), 'the chat input');
    await waitUntil(async () => !(await box.isDisabled()) && (await box.isEditable()), {
      message: 'the chat input to be enabled',
    });
    await box.fill(text);
    await box.press('Enter');
  }

  /** Types without sending (the agent should see "customer is typing"). */
  async typeWithoutSending(text) {
    const box = await seen(this.inputBox(), 'the chat input');
    await box.pressSequentially(text, { delay: 30 });
  }

  /** Asks the bot for a human; waits for the bot's request-agent card (or its no-agents text, when `expectCard` is false). */
  async askForAgent({ expectCard = true, connectButton = STRINGS.connectButton } = {}) {
    await this.send('I want to talk to an agent');
    if (!expectCard) return;
    const button = await seen(this.page.getByRole('button', { name: connectButton }), `the "${connectButton}" button`);
    await waitUntil(() => button.isEnabled(), { message: 'the "Connect to agent" button to be enabled' });
    await button.click();
  }

  /** The agent shown in the chat header (name, and avatar image if the desk passed one). */
  async seeAgentInHeader(name) {
    await this.see(STRINGS.joined(name));
    return seen(this.page.getByText(name, { exact: true }), `${name} in the chat header`);
  }

  async expectInOrder(texts) {
    const locators = [];
    for (const t of texts) locators.push(await this.see(t, { exact: true }));
    await inVisualOrder(locators, `messages ${JSON.stringify(texts)} in the web chat`);
  }

  typingIndicator() {
    return this.page.locator('.cds-aichat--received--loading').filter({ visible: true });
  }

  /** The read receipt line the demo page shows above the input ("✓ Read by Alice"). */
  readReceipt() {
    return this.page.locator('.flexdesk-read-receipt').filter({ visible: true });
  }

  /** Ends the chat from the web chat header, confirming the dialog. */
  async disconnect() {
    await (await seen(this.page.getByRole('button', { name: 'Disconnect' }), 'the Disconnect button')).click();
    const confirm = this.page.getByRole('button', { name: 'Disconnect', exact: true }).filter({ visible: true });
    // The confirmation dialog has its own Disconnect button; it is the last one on the page.
    await waitUntil(async () => (await confirm.count()) > 1, { message: 'the disconnect confirmation' });
    await confirm.last().click();
    await this.see(STRINGS.youDisconnected);
  }
}
