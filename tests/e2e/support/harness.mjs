// The e2e fixture: the page bundle built once per run (shared by the test files through a fingerprint), one
// headless Chromium per test file, and for every scenario a fresh emulator + auth server + page server on
// ephemeral ports, with a customer page and an agent console page in separate browser contexts. The customer page
// runs the real @twilio/conversations SDK (the demo's default) unless E2E_CLIENT=stand-in or a scenario lists its
// clients; a scenario fails if its page opened a realtime socket of the other client.
// On failure, screenshots of both pages and the servers' output go to test-results/e2e/<file>/<scenario>/.
import { after, before, test } from 'node:test';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { ensureWwwBuilt, wwwInputs, ROOT } from '../../../scripts/build-www.mjs';
import { startStack } from '../../support/servers.mjs';
import { startWwwServer } from '../../../www/serve.mjs';
import { CLIENT_KINDS, DEFAULT_CLIENT } from '../../../www/src/page-config.js';
import { CustomerPage } from './customer.mjs';
import { AgentConsole } from './agent-console.mjs';

export const RESULTS = path.join(ROOT, 'test-results', 'e2e');
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
];

function binaryBuilt(name) {
  return ['debug', 'release'].some((p) => existsSync(path.join(ROOT, 'target', p, name)));
}

/**
 * Why the e2e scenarios cannot run yet (a piece another engineer is building has not landed), or null.
 * Checked when the test file loads, so each scenario is reported as skipped with this reason.
 */
export function missingPrerequisite() {
  const inputs = wwwInputs();
  if (!existsSync(CHROMIUM)) return `no Chromium at ${CHROMIUM} (bash scripts/bootstrap installs it)`;
  if (!inputs.wasmDesk) return 'crates/flexdesk/pkg is not built (bash scripts/build-wasm)';
  if (!inputs.emulatorClient) return 'www/emulator-client/index.js (the Conversations stand-in) is missing';
  if (!inputs.conversationsSdk) return 'node_modules/@twilio/conversations is not installed (npm install)';
  for (const bin of ['flexdesk-emulator', 'flexdesk-auth']) {
    if (!binaryBuilt(bin)) return `target/*/${bin} is not built (cargo build --workspace --bins)`;
  }
  return null;
}

/**
 * The Conversations client a scenario's page runs unless the scenario lists its own: the page's default (the real
 * SDK), or E2E_CLIENT=stand-in|real-sdk to run the whole suite with one.
 */
export const SUITE_CLIENT = process.env.E2E_CLIENT || DEFAULT_CLIENT;
if (!CLIENT_KINDS.includes(SUITE_CLIENT)) throw new Error(`E2E_CLIENT must be one of ${CLIENT_KINDS.join(', ')}`);

/** For the scenarios that also keep the stand-in honest: one test per client. */
export const BOTH_CLIENTS = ['real-sdk', 'stand-in'];

// Where each client's realtime socket goes on the emulator: a scenario checks its page really used that client.
const REALTIME_PATH = { 'real-sdk': '/v3/wsconnect', 'stand-in': '/v1/realtime' };

const slug = (s) => s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 80);

/**
 * Registers the file-level hooks and returns `scenario(name, fn, options)`. `fileName` names the results folder.
 * `fn({ customer, agent, stack, page, t, client })` runs with a fresh stack; options: { timeout, authEnv,
 * emulatorEnv, pageConfig, skip, clients } (pageConfig: extra keys for the page's window.FLEXDESK_CONFIG, e.g.
 * { joinTimeoutMs }; skip: a reason string, for a scenario whose own prerequisite is missing; clients: the
 * Conversations clients to run it with, one test each, default [SUITE_CLIENT]; contextOptions: Playwright browser
 * context options for every page, e.g. { locale, timezoneId }; customerContextOptions: for the customer's pages only,
e.g. a phone from Playwright's `devices`).
 */
export function e2eSuite(fileName) {
  const missing = missingPrerequisite();
  let browser;
  if (!missing) {
    before(async () => {
      await ensureWwwBuilt();
      browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    });
    after(async () => {
      await browser?.close();
    });
  }

  return function scenario(name, fn, options = {}) {
    for (const client of options.clients ?? [SUITE_CLIENT]) {
      if (!CLIENT_KINDS.includes(client)) throw new Error(`unknown client ${client} for "${name}"`);
      registerScenario(`${name} [${client}]`, fn, { ...options, client });
    }
  };

  function registerScenario(name, fn, options) {
    const skip = missing ?? options.skip ?? false;
    test(name, { skip, timeout: options.timeout ?? 90_000 }, async (t) => {
      const dir = path.join(RESULTS, slug(fileName), slug(name));
      rmSync(dir, { recursive: true, force: true }); // evidence of an earlier failed run would mislead
      const env = await startScenario(browser, options);
      try {
        await fn({ ...env, t });
        // An uncaught error in either page is a bug even when everything the scenario looked at was right.
        const errors = env.pageErrors();
        if (errors.length) throw new Error(`uncaught errors in the page:\n${errors.join('\n')}`);
        env.checkClient();
      } catch (e) {
        await env.saveEvidence(dir).catch((err) => console.error(`could not save failure evidence: ${err.message}`));
        t.diagnostic(`screenshots and logs: ${dir}`);
        console.error(`[e2e] "${name}" failed; screenshots and logs in ${dir}`);
        throw e;
      } finally {
        await env.close();
      }
    });
  }
}

/** A fresh emulator + auth server + page server, and the two browser pages of one scenario. */
export async function startScenario(browser, { authEnv = {}, emulatorEnv = {}, pageConfig: extraPageConfig = {}, client = SUITE_CLIENT, demoIdentity, contextOptions = {}, customerContextOptions = {} } = {}) {
  const pageConfig = { ...extraPageConfig };
  const www = await startWwwServer({ pageConfig, demoIdentity });
  let stack;
  try {
    // As the demo (scripts/dev.mjs): the whole bot conversation is posted for the agent.
    stack = await startStack({ ALLOWED_ORIGINS: www.url, HANDOFF_TRANSCRIPT: 'full', ...authEnv }, { ALLOWED_ORIGINS: www.url, ...emulatorEnv });
  } catch (e) {
    await www.stop();
    throw e;
  }
  Object.assign(pageConfig, { authServerUrl: stack.auth.url, emulatorUrl: stack.emulator.url, client });

  const logs = { customer: [], agent: [] };
  const customerSockets = []; // realtime WebSocket URLs the customer pages opened
  const contexts = [];
  const pages = []; // [name, page]: every page a scenario opened, for the failure screenshots
  async function newPage(role) {
    const own = role === 'customer' ? customerContextOptions : {};
    const context = await browser.newContext({ viewport: { width: 1200, height: 800 }, ...contextOptions, ...own });
    contexts.push(context);
    const page = await context.newPage();
    pages.push([pages.some(([n]) => n === role) ? `${role}-${pages.length + 1}` : role, page]);
    page.on('console', (m) => logs[role].push(`[${m.type()}] ${m.text()}`));
    page.on('pageerror', (e) => logs[role].push(`[pageerror] ${e.stack ?? e.message}`));
    if (role === 'customer') page.on('websocket', (ws) => customerSockets.push(new URL(ws.url()).pathname));
    return page;
  }
  const customer = new CustomerPage(await newPage('customer'), www.url);
  const agent = new AgentConsole(await newPage('agent'), stack.emulator.url);

  return {
    customer,
    agent,
    stack,
    client,
    /** The customer's chat ran over the chosen client's endpoint, and never the other's. */
    checkClient() {
      const wrong = customerSockets.filter((p) => p !== REALTIME_PATH[client]);
      if (wrong.length) throw new Error(`the ${client} page opened WebSockets to ${wrong.join(', ')}`);
    },
    pageErrors: () => [...logs.customer, ...logs.agent].filter((l) => l.startsWith('[pageerror]')),
    www,
    newPage,
    logs,
    async saveEvidence(dir) {
      mkdirSync(dir, { recursive: true });
      for (const [name, p] of pages) {
        if (!p.isClosed()) await p.screenshot({ path: path.join(dir, `${name}.png`), fullPage: true }).catch(() => {});
      }
      for (const role of Object.keys(logs)) writeFileSync(path.join(dir, `${role}-console.log`), logs[role].join('\n'));
      writeFileSync(path.join(dir, 'emulator.log'), stack.emulator.output());
      writeFileSync(path.join(dir, 'auth.log'), stack.auth.output());
    },
    async close() {
      for (const c of contexts) await c.close().catch(() => {});
      await stack.stop();
      await www.stop();
    },
  };
}
