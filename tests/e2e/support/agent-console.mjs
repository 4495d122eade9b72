// The agent's side: the emulator's agent console page (<emulator>/console), driven through its UI like a
// person would. Labels and roles follow the contract at the top of console.html / docs/emulator.md.
import { seen, notSeen, inVisualOrder, waitUntil } from './wait.mjs';

export class AgentConsole {
  constructor(page, emulatorUrl) {
    this.page = page;
    this.emulatorUrl = emulatorUrl;
    this.agentName = null;
  }

  /** Opens the console as `agentName` (e.g. "Alice"). */
  async open(agentName) {
    this.agentName = agentName;
    await this.page.goto(`${this.emulatorUrl}/console`);
    throw new Error('AgentConsole.open: the console page has not landed yet');
  }
}
