// webpack 5 with its defaults: no experiments (no asyncWebAssembly), no loaders, no plugins.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export default {
  mode: 'production',
  entry: './src/main.js',
  output: { path: path.join(here, 'dist'), clean: true },
  performance: { hints: false }, // the web chat is a large bundle; size warnings are not this app's point
};
