// The esbuild app's build, as a web team writes it: ES modules, split at dynamic imports. esbuild does not copy files that code
// finds with new URL(..., import.meta.url), so flexdesk's .wasm is copied next to the bundle (the one step a user
// adds for esbuild; see flexdesk's README). `format: 'esm'` is needed: flexdesk finds its .wasm from import.meta.url.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const dist = path.join(here, 'dist');
mkdirSync(dist, { recursive: true });
await build({
  entryPoints: [path.join(here, 'main.js')],
  bundle: true,
  format: 'esm',
  // The SDK's dynamic import becomes a chunk of its own, loaded when a chat with an agent starts.
  splitting: true,
  minify: true,
  outdir: dist,
  logLevel: 'warning',
});
const require = createRequire(import.meta.url);
copyFileSync(path.join(path.dirname(require.resolve('flexdesk/package.json')), 'flexdesk_bg.wasm'), path.join(dist, 'flexdesk_bg.wasm'));
copyFileSync(path.join(here, 'index.html'), path.join(dist, 'index.html'));
