// Fills this plain page's static folder the way a site without a bundler gets its files: flexdesk's package files
// exactly as the npm tarball has them (what a CDN serves from the package), the Conversations SDK's own browser build,
// and Carbon AI Chat as one ES module (its npm build imports bare package names, which a browser cannot resolve; a
// CDN's "+esm" build is this bundle).
import { build } from 'esbuild';
import { copyFileSync, cpSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const packageDir = (name) => path.dirname(require.resolve(`${name}/package.json`));
cpSync(packageDir('flexdesk'), path.join(here, 'flexdesk'), { recursive: true });
mkdirSync(path.join(here, 'vendor'), { recursive: true });
copyFileSync(path.join(packageDir('@twilio/conversations'), 'builds/twilio-conversations.min.js'), path.join(here, 'vendor/twilio-conversations.min.js'));
copyFileSync(path.join(here, '../shared/bot.js'), path.join(here, 'bot.js'));
await build({
  entryPoints: ['@carbon/ai-chat/dist/es/web-components/cds-aichat-container/index.js'],
  absWorkingDir: here,
  bundle: true,
  format: 'esm',
  minify: true,
  outfile: path.join(here, 'vendor/carbon-ai-chat.js'),
  logLevel: 'warning',
});
