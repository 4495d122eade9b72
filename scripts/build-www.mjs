#!/usr/bin/env node
// Bundles the demo page (www/src/main.js) with esbuild into www/dist/ once; the static server then only serves
// files. The wasm desk (crates/flexdesk/pkg, made by `bash scripts/build-wasm`) is bundled as ESM and its
// flexdesk_bg.wasm copied next to the bundle, because its loader finds it with `new URL(..., import.meta.url)`.
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const WWW = path.join(ROOT, 'www');
export const DIST = path.join(WWW, 'dist');
const PKG = path.join(ROOT, 'crates/flexdesk/pkg');
const EMULATOR_CLIENT = path.join(WWW, 'emulator-client/index.js');
// The real Conversations SDK as published (UMD, self-contained): copied next to the bundle, loaded by the page only
// when it runs the real SDK (www/src/conversations-client.js), so the stand-in page does not pay for it.
const SDK_BUILD = path.join(ROOT, 'node_modules/@twilio/conversations/builds/twilio-conversations.min.js');

/** What a build would use, without building: lets the e2e tests skip with a reason when a piece is missing. */
export function wwwInputs() {
  return {
    wasmDesk: existsSync(path.join(PKG, 'index.js')) && existsSync(path.join(PKG, 'flexdesk_bg.wasm')),
    emulatorClient: existsSync(EMULATOR_CLIENT),
    conversationsSdk: existsSync(SDK_BUILD),
  };
}

/** Builds www/dist/app.js (and copies the desk's wasm next to it). */
export async function buildWww({ minify = false, quiet = false } = {}) {
  const inputs = wwwInputs();
  if (!inputs.wasmDesk) {
    throw new Error('crates/flexdesk/pkg is not built: run `bash scripts/build-wasm` first');
  }
  if (!inputs.emulatorClient) throw new Error('www/emulator-client/index.js is missing');
  if (!inputs.conversationsSdk) throw new Error(`${path.relative(ROOT, SDK_BUILD)} is missing: run npm install`);
  const stamp = fingerprint();
  rmSync(DIST, { recursive: true, force: true });
  mkdirSync(DIST, { recursive: true });
  const started = Date.now();
  const result = await build({
    entryPoints: [path.join(WWW, 'src/main.js')],
    outfile: path.join(DIST, 'app.js'),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify,
    sourcemap: true,
    legalComments: 'none',
    logLevel: 'error',
    define: { 'process.env.NODE_ENV': '"production"' },
    alias: {
      flexdesk: path.join(PKG, 'index.js'),
      'flexdesk/transcript': path.join(PKG, 'transcript.js'),
      'flexdesk/history': path.join(PKG, 'history.js'),
      'flexdesk/locales': path.join(PKG, 'locales.js'),
    },
  });
  copyFileSync(path.join(PKG, 'flexdesk_bg.wasm'), path.join(DIST, 'flexdesk_bg.wasm'));
  for (const file of [SDK_BUILD, `${SDK_BUILD}.map`]) {
    if (existsSync(file)) copyFileSync(file, path.join(DIST, path.basename(file)));
  }
  // Fingerprint of the inputs, computed before the build started reading them: ensureWwwBuilt() reuses this build.
  writeFileSync(STAMP, stamp);
  if (!quiet) console.log(`[build-www] www/dist/app.js built in ${Date.now() - started} ms`);
  return { ...inputs, warnings: result.warnings };
}

// Everything a build reads, by path, size and mtime: a cheap fingerprint to tell whether www/dist is current.
function fingerprint() {
  const files = [];
  const walk = (dir) => {
    if (!existsSync(dir)) return;
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(p);
      else files.push(p);
    }
  };
  walk(path.join(WWW, 'src'));
  walk(path.join(WWW, 'emulator-client'));
  walk(PKG);
  files.push(fileURLToPath(import.meta.url), path.join(ROOT, 'package-lock.json'), SDK_BUILD);
  const h = createHash('sha256');
  for (const f of files.sort()) {
    const st = statSync(f, { throwIfNoEntry: false });
    if (st) h.update(`${path.relative(ROOT, f)} ${st.size} ${st.mtimeMs}\n`);
  }
  return h.digest('hex');
}

const STAMP = path.join(DIST, '.fingerprint');

/**
 * Builds www/dist unless it is already current: test files running in separate processes (node --test) share one
 * build per run. A lock directory serialises concurrent callers; a stale lock (crashed builder) is broken.
 */
export async function ensureWwwBuilt(options = {}) {
  const want = fingerprint();
  const current = () => existsSync(STAMP) && readFileSync(STAMP, 'utf8') === want;
  if (current()) return { ...wwwInputs(), cached: true };
  const lock = path.join(os.tmpdir(), `flexdesk-www-build-${createHash('sha256').update(ROOT).digest('hex').slice(0, 12)}.lock`);
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch (e) {
      if (e.code !== 'EEXIST') throw e;
      const age = Date.now() - (statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if (age > 60_000) rmSync(lock, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`timed out waiting for another www build (lock ${lock})`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  try {
    if (current()) return { ...wwwInputs(), cached: true };
    const result = await buildWww(options);
    return { ...result, cached: false };
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  buildWww({ minify: process.argv.includes('--minify') }).catch((e) => {
    console.error(`[build-www] ${e.message}`);
    process.exit(1);
  });
}
