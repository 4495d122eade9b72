// issue 16, package hygiene: what `npm pack` of crates/flexdesk/pkg ships (exactly LICENSE, README, package.json,
// the types, the js and the wasm, at the crate's version), the `exports` conditions a bundler, Node or CommonJS
// tooling resolves through, and a README that documents every option and every error the wrapper throws.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { ROOT } from '../support/servers.mjs';
import { PKG, crateVersion, pack } from './support.mjs';

const run = promisify(execFile);
const skip = !existsSync(path.join(PKG, 'flexdesk_bg.wasm')) && 'crates/flexdesk/pkg is not built (bash scripts/build-wasm)';
const SHIPPED = ['LICENSE', 'README.md', 'flexdesk.d.ts', 'flexdesk.js', 'flexdesk_bg.wasm', 'flexdesk_bg.wasm.d.ts', 'index.d.ts', 'index.js', 'package.json',
  'transcript.d.ts', 'transcript.js', 'history.d.ts', 'history.js', 'locales.d.ts', 'locales.js', 'stored-list.js', 'rating.js', 'erase.js', 'sms.js'].sort();
const manifest = () => JSON.parse(readFileSync(path.join(PKG, 'package.json'), 'utf8'));

test('npm pack --dry-run lists exactly LICENSE, README, package.json, the types, the js and the wasm, at the crate version', { skip }, async () => {
  const { stdout } = await run('npm', ['pack', '--dry-run', '--json'], { cwd: PKG, env: { ...process.env, npm_config_loglevel: 'error' } });
  const [r] = JSON.parse(stdout);
  assert.equal(r.name, 'flexdesk');
  assert.deepEqual(r.files.map((f) => f.path).sort(), SHIPPED);
  const version = await crateVersion();
  assert.equal(r.version, version, "the package's version is the crate's (scripts/build-wasm writes it)");
  assert.equal(r.filename, `flexdesk-${version}.tgz`);
  // The source manifest holds no version of its own: only the build's copy does.
  assert.notEqual(JSON.parse(readFileSync(path.join(ROOT, 'crates/flexdesk/js/package.json'), 'utf8')).version, version);
});

test("the package's LICENSE is the repository's Apache-2.0 text, and package.json says so", { skip }, () => {
  const license = readFileSync(path.join(PKG, 'LICENSE'), 'utf8');
  assert.equal(license, readFileSync(path.join(ROOT, 'LICENSE'), 'utf8'));
  assert.match(license, /Apache License\s+Version 2\.0, January 2004/);
  assert.match(license, /END OF TERMS AND CONDITIONS/);
  assert.equal(manifest().license, 'Apache-2.0');
  assert.match(readFileSync(path.join(ROOT, 'Cargo.toml'), 'utf8'), /^license = "Apache-2\.0"$/m, "the crates' license");
});

test('package.json: exports with types, import and default; no side effects; files', { skip }, () => {
  const m = manifest();
  const dot = m.exports['.'];
  // Order matters to resolvers: `types` first, `default` last.
  assert.deepEqual(Object.keys(dot), ['types', 'import', 'default']);
  assert.deepEqual(dot, { types: './index.d.ts', import: './index.js', default: './index.js' });
  // The optional transcript module (issue 17): its own entry point, never loaded by the desk.
  assert.deepEqual(m.exports['./transcript'], { types: './transcript.d.ts', import: './transcript.js', default: './transcript.js' });
  // The optional history module (issue 23): the same, for `messaging.customLoadHistory`.
  assert.deepEqual(m.exports['./history'], { types: './history.d.ts', import: './history.js', default: './history.js' });
  // The languages (issue 29): loaded by the desk for its `locale`, and by the page for Carbon's own texts.
  assert.deepEqual(m.exports['./locales'], { types: './locales.d.ts', import: './locales.js', default: './locales.js' });
  assert.equal(m.types, './index.d.ts');
  assert.equal(m.type, 'module');
  assert.equal(m.sideEffects, false);
  for (const f of SHIPPED.filter((f) => f !== 'package.json')) assert.ok(m.files.includes(f), `files lists ${f}`);
  for (const target of [...Object.values(dot), ...Object.values(m.exports['./transcript']), ...Object.values(m.exports['./history']), ...Object.values(m.exports['./locales']), m.main, m.types]) assert.ok(existsSync(path.join(PKG, target)), `${target} exists`);
});

test('the packed tarball resolves for ESM (import), CommonJS tooling (require.resolve: the default condition) and types', { skip }, async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'flexdesk-pack-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const { tarball } = await pack(dir);
  const installed = path.join(dir, 'node_modules/flexdesk');
  await run('mkdir', ['-p', installed]);
  await run('tar', ['xzf', tarball, '-C', installed, '--strip-components=1']);
  const require = createRequire(path.join(dir, 'probe.cjs'));
  assert.equal(require.resolve('flexdesk'), path.join(installed, 'index.js'));
  assert.equal(require.resolve('flexdesk/package.json'), path.join(installed, 'package.json'));
  assert.equal(require.resolve('flexdesk/flexdesk_bg.wasm'), path.join(installed, 'flexdesk_bg.wasm'));
  assert.equal(require.resolve('flexdesk/transcript'), path.join(installed, 'transcript.js'));
  assert.equal(require.resolve('flexdesk/history'), path.join(installed, 'history.js'));
  writeFileSync(path.join(dir, 'probe.mjs'), "export const resolved = import.meta.resolve('flexdesk');\nexport * as desk from 'flexdesk';\n" +
    "export * as transcript from 'flexdesk/transcript';\nexport * as history from 'flexdesk/history';\n");
  const probe = await import(pathToFileURL(path.join(dir, 'probe.mjs')).href);
  assert.equal(probe.resolved, pathToFileURL(path.join(installed, 'index.js')).href);
  assert.equal(typeof probe.desk.createTwilioFlexServiceDesk, 'function');
  assert.equal(typeof probe.desk.initFlexdesk, 'function');
  assert.equal(typeof probe.transcript.recordTranscript, 'function');
  assert.equal(typeof probe.history.chatHistory, 'function');
  assert.throws(() => probe.desk.createTwilioFlexServiceDesk({ authServerUrl: 'chat-auth.example.com', createConversationsClient: () => ({}) }),
    /flexdesk: config\.authServerUrl must be an http\(s\) URL/);
});

test("the README documents every config option and every message the wrapper throws or logs", { skip }, () => {
  const readme = readFileSync(path.join(PKG, 'README.md'), 'utf8');
  const types = readFileSync(path.join(PKG, 'index.d.ts'), 'utf8');
  const config = types.match(/interface FlexdeskConfig \{([\s\S]*?)\n\}/)[1];
  const options = [...config.matchAll(/^\s{2}(\w+)\??:/gm)].map((m) => m[1]);
  assert.ok(options.length >= 7, `options found in index.d.ts: ${options}`);
  const rows = readme.split('\n').filter((l) => l.startsWith('| `'));
  for (const o of options) {
    const row = rows.find((l) => l.startsWith(`| \`${o}\` |`));
    assert.ok(row, `README's config reference has a row for ${o}`);
    assert.equal(row.split(' | ').length >= 4, true, `${o}: type, default and description`);
  }
  // Every literal 'flexdesk: …' message in the (readable) wrapper source, up to its first interpolation.
  const source = readFileSync(path.join(ROOT, 'crates/flexdesk/js/index.js'), 'utf8');
  const messages = [...source.matchAll(/['`](flexdesk: [^'`$]+)/g)].map((m) => m[1].replace(/\s+$/, ''));
  assert.ok(messages.length >= 4, `messages found: ${messages}`);
  for (const m of messages) assert.ok(readme.includes(m), `README mentions "${m}"`);
});
