// The consumer apps' fixture (consumers.test.mjs, in npm test and npm run check:consumers): a workspace with the bundlers and the web chat a web team
// uses, installed once from tests/consumers/package-lock.json into target/consumers (outside tests/, so its
// node_modules is never searched for tests; `npm ci` again only when the lock changes); flexdesk packed from
// crates/flexdesk/pkg with `npm pack` and installed from that tarball by file path on every run (never a link);
// a static file server; and the customer's and the agent's side of one chat.
import { execFile, spawn } from 'node:child_process';
import { cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ROOT } from '../support/servers.mjs';
import { waitUntil } from '../e2e/support/wait.mjs';

const run = promisify(execFile);
export const PKG = path.join(ROOT, 'crates/flexdesk/pkg');
export const SOURCE = path.join(ROOT, 'tests/consumers');
export const WORK = process.env.FLEXDESK_CONSUMERS_DIR ?? path.join(ROOT, 'target/consumers');
// Under `npm test` / `npm run`, npm passes its own project (npm_config_local_prefix, npm_package_*, ...) down: the
// workspace's npm commands must work on their own directory only. The user's npm config (registry, cache) stays.
export const ENV = Object.fromEntries(Object.entries(process.env).filter(([k]) =>
  !/^npm_(config_local_prefix|config_call|package_|lifecycle_|command$|execpath$|node_execpath$)/.test(k)));
Object.assign(ENV, { IBM_TELEMETRY_DISABLED: 'true', npm_config_audit: 'false', npm_config_fund: 'false' });

/** The crate's version (Cargo.toml), which the package must carry. */
export async function crateVersion() {
  const { stdout } = await run('cargo', ['metadata', '--no-deps', '--format-version', '1', '--offline'], { cwd: ROOT, maxBuffer: 64 << 20 });
  return JSON.parse(stdout).packages.find((p) => p.name === 'flexdesk').version;
}

const log = (msg) => process.stderr.write(`[consumers] ${msg}\n`);

/** Installs the consumer workspace's locked dependencies into WORK, unless they already are (one run at a time). */
export async function installWorkspace() {
  mkdirSync(WORK, { recursive: true });
  const lock = readFileSync(path.join(SOURCE, 'package-lock.json'), 'utf8');
  const installed = path.join(WORK, 'node_modules/.flexdesk-consumers-lock.json');
  const current = () => existsSync(installed) && readFileSync(installed, 'utf8') === lock;
  if (current()) return false;
  // Another run may be installing: mkdir is atomic; a lock older than 10 minutes is left over from a killed run.
  const guard = path.join(WORK, '.installing');
  await waitUntil(
    () => {
      try {
        mkdirSync(guard);
        return true;
      } catch {
        if (Date.now() - statSync(guard).mtimeMs > 600_000) rmSync(guard, { recursive: true, force: true });
        return false;
      }
    },
    { timeout: 900_000, interval: 1000, message: 'another run to finish installing the consumer workspace' },
  );
  try {
    if (current()) return false;
    for (const f of ['package.json', 'package-lock.json']) cpSync(path.join(SOURCE, f), path.join(WORK, f));
    log('installing the consumer workspace (npm ci, once per lock change)');
    const started = Date.now();
    await run('npm', ['ci', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: WORK, env: ENV, maxBuffer: 64 << 20 });
    writeFileSync(installed, lock);
    log(`installed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return true;
  } finally {
    rmSync(guard, { recursive: true, force: true });
  }
}

/** `npm pack` of the built package into `destination`; resolves to { tarball, name, version, files }. */
export async function pack(destination) {
  mkdirSync(destination, { recursive: true });
  const { stdout } = await run('npm', ['pack', PKG, '--json', '--pack-destination', destination], { cwd: destination, env: ENV });
  const [r] = JSON.parse(stdout);
  return { tarball: path.join(destination, r.filename), name: r.name, version: r.version, files: r.files.map((f) => f.path).sort() };
}

/**
 * A fresh run directory inside the workspace (WORK/run-XXXX): flexdesk packed there and installed from the tarball
 * by file path (`npm install <file>.tgz`: a copy in node_modules, never a link; its peers come from the workspace),
 * and the apps' sources copied to run/apps. Each run has its own, so runs never share build output or flexdesk.
 * Resolves to { run, apps, tarball, version, files, cleanup() }.
 */
export async function prepare() {
  if (!existsSync(path.join(PKG, 'flexdesk_bg.wasm'))) throw new Error('crates/flexdesk/pkg is not built (bash scripts/build-wasm)');
  await installWorkspace();
  // Directories of runs that were killed before they could clean up (a run takes minutes, not hours).
  for (const f of readdirSync(WORK)) {
    const old = path.join(WORK, f);
    if (f.startsWith('run-') && Date.now() - statSync(old).mtimeMs > 3 * 3600_000) rmSync(old, { recursive: true, force: true });
  }
  const dir = mkdtempSync(path.join(WORK, 'run-'));
  try {
    return await prepareRun(dir);
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

async function prepareRun(dir) {
  const packed = await pack(dir);
  // The run's own package root: Vite keeps its dependency cache in <root>/node_modules/.vite, per run.
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'flexdesk-consumer-run', private: true, type: 'module' }));
  await run('npm', ['install', '--no-save', '--no-package-lock', '--legacy-peer-deps', '--prefer-offline', '--no-audit', '--no-fund',
    '--loglevel=error', packed.tarball], { cwd: dir, env: ENV, maxBuffer: 64 << 20 });
  const installed = path.join(dir, 'node_modules/flexdesk');
  if (lstatSync(installed).isSymbolicLink()) throw new Error('flexdesk was linked, not installed from the tarball');
  const version = JSON.parse(readFileSync(path.join(installed, 'package.json'), 'utf8')).version;
  if (version !== packed.version) throw new Error(`installed flexdesk ${version}, packed ${packed.version}`);
  const apps = path.join(dir, 'apps');
  cpSync(path.join(SOURCE, 'apps'), apps, { recursive: true });
  return { ...packed, run: dir, apps, installed, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Runs a workspace binary (vite, webpack, ...) or node script in `cwd`; rejects with its output on failure. */
export async function tool(cwd, args, { timeout = 300_000 } = {}) {
  const started = Date.now();
  try {
    await run(process.execPath, args, { cwd, env: ENV, timeout, maxBuffer: 64 << 20 });
  } catch (e) {
    throw new Error(`${args.join(' ')} failed in ${cwd}:\n${e.stdout ?? ''}${e.stderr ?? ''}`);
  }
  return Date.now() - started;
}
export const bin = {
  vite: path.join(WORK, 'node_modules/vite/bin/vite.js'),
  webpack: path.join(WORK, 'node_modules/webpack/bin/webpack.js'),
};

/** A free TCP port on 127.0.0.1 (for servers that take a port, not 0). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

/** Starts a long-running workspace binary (the Vite dev or preview server) and waits until `url` answers. */
export async function startServer(cwd, args, url) {
  const child = spawn(process.execPath, args, { cwd, env: ENV, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (c) => (out += c));
  child.stderr.setEncoding('utf8').on('data', (c) => (out += c));
  const stop = () =>
    new Promise((done) => {
      if (child.exitCode !== null || child.signalCode !== null) return done();
      child.once('exit', () => done());
      child.kill('SIGTERM');
    });
  try {
    await waitUntil(
      async () => {
        if (child.exitCode !== null) throw new Error(`exited with ${child.exitCode}`);
        return (await fetch(url).catch(() => null))?.ok;
      },
      { timeout: 60_000, interval: 200, message: `${args.join(' ')} to serve ${url}` },
    );
  } catch (e) {
    await stop();
    throw new Error(`${e.message}\n${out}`);
  }
  return { url, output: () => out, stop };
}

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.png': 'image/png',
};

/** A plain static file server for `dir` (what a web host does; with `cors`, what a CDN does); `/` is index.html. */
export async function serveStatic(dir, { cors = false } = {}) {
  const server = http.createServer(async (req, res) => {
    const pathname = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    const file = path.join(dir, pathname.endsWith('/') ? `${pathname}index.html` : pathname);
    if (!file.startsWith(dir + path.sep) || !existsSync(file) || !statSync(file).isFile()) return res.writeHead(404).end('not found');
    const type = TYPES[path.extname(file)] ?? 'application/octet-stream';
    res.writeHead(200, { 'content-type': type, ...(cors ? { 'access-control-allow-origin': '*' } : {}) }).end(await readFile(file));
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${server.address().port}`, stop: () => new Promise((r) => server.close(r)) };
}

// `node tests/consumers/support.mjs install` (scripts/bootstrap): the workspace's npm ci, when its lock changed.
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url) && process.argv[2] === 'install') {
  await installWorkspace();
}
