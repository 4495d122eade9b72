// The package README's install lines, run exactly as written in an empty directory (issue 25): its `npm install` line
// with the tarball `npm pack` makes, nothing else. The apps in consumers.test.mjs then take the same tarball to a
// working chat in each bundler.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ROOT } from '../support/servers.mjs';
import { ENV, crateVersion, pack } from './support.mjs';

const run = promisify(execFile);
const README = readFileSync(path.join(ROOT, 'crates/flexdesk/js/README.md'), 'utf8');
const skip = !existsSync(path.join(ROOT, 'crates/flexdesk/pkg/flexdesk_bg.wasm')) && 'crates/flexdesk/pkg is not built (bash scripts/build-wasm)';

/** The shell lines of the README's "Install" block. */
function installBlock() {
  const section = README.split(/^### Install$/m)[1];
  assert.ok(section, 'the package README has an "Install" section');
  const block = section.match(/```sh\n([\s\S]*?)```/);
  assert.ok(block, 'the Install section has a sh block');
  return block[1].split('\n').map((l) => l.replace(/\s+#.*$/, '').trim()).filter(Boolean);
}

test('the README names the tarball npm pack makes, at the crate version, and never `npm install flexdesk`', async () => {
  const version = await crateVersion();
  const lines = installBlock();
  assert.ok(lines.some((l) => l.includes(`npm pack ./crates/flexdesk/pkg`)), lines.join('\n'));
  const install = lines.find((l) => l.startsWith('npm install '));
  assert.ok(install?.includes(`./flexdesk-${version}.tgz`), `the install line installs ./flexdesk-${version}.tgz: ${install}`);
  assert.doesNotMatch(README, /npm (install|i) flexdesk\b(?!-)/, 'no install of the unowned registry name');
});

test("the README's install line works in an empty app and gives the package with its peers at the tested versions", { skip }, async () => {
  const version = await crateVersion();
  const install = installBlock().find((l) => l.startsWith('npm install '));
  const app = mkdtempSync(path.join(tmpdir(), 'flexdesk-readme-app-'));
  try {
    const packed = await pack(app);
    // The README copies the tarball into the app; `npm pack --pack-destination` put it there already.
    if (path.dirname(packed.tarball) !== app) copyFileSync(packed.tarball, path.join(app, path.basename(packed.tarball)));
    writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'readme-app', private: true, type: 'module' }));
    const [cmd, ...args] = install.split(/\s+/);
    // Exactly the README's arguments; only npm's own output and network politeness flags are added.
    await run(cmd, [...args, '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: app, env: ENV, maxBuffer: 64 << 20, timeout: 600_000 });
    const manifest = JSON.parse(readFileSync(path.join(app, 'package.json'), 'utf8'));
    assert.equal(manifest.dependencies.flexdesk, `file:flexdesk-${version}.tgz`);
    const installed = (name) => JSON.parse(readFileSync(path.join(app, 'node_modules', name, 'package.json'), 'utf8'));
    assert.equal(installed('flexdesk').version, version);
    const peers = installed('flexdesk').peerDependencies;
    assert.match(installed('@carbon/ai-chat').version, /^1\.9\./, `peer range ${peers['@carbon/ai-chat']}`);
    assert.match(installed('@twilio/conversations').version, /^3\.0\./, `peer range ${peers['@twilio/conversations']}`);
    // The app imports it by its name, as the README's examples do.
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', "const m = await import('flexdesk'); console.log(typeof m.createTwilioFlexServiceDesk)"], { cwd: app, env: ENV });
    assert.equal(stdout.trim(), 'function');
  } finally {
    rmSync(app, { recursive: true, force: true });
  }
});
