// The desk's size by crate, and what each design crate the desk leaves out would cost (issue 27, item 2): the
// figures the trade-off in crates/flexdesk/js/README.md ("Browser support and size") is made on.
//
// Shares: twiggy (https://rustwasm.github.io/twiggy/) over the wasm as wasm-bindgen writes it, before wasm-opt
// strips the names; each item counts for the crate its symbol names (generic code counts for the crate that
// defines it: `alloc` holds the Vecs and maps of every crate). The gzipped share is that fraction of the shipped,
// optimised wasm: an estimate, since wasm-opt and gzip do not shrink every crate alike.
// Trials: each bench/trials/*.diff is applied to a scratch worktree of HEAD and built with scripts/build-wasm; the
// row is its wrapper + glue + wasm against this build's. A diff that no longer applies says so.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const TWIGGY = '0.8.0';

function ensureTwiggy(say) {
  const have = spawnSync('twiggy', ['--version'], { encoding: 'utf8' });
  if (have.status === 0 && have.stdout.includes(TWIGGY)) return;
  say(`installing twiggy ${TWIGGY} (cargo install; the size-by-crate table)`);
  execFileSync('cargo', ['install', 'twiggy', '--version', TWIGGY], { stdio: 'inherit' });
}

/** `flexdesk_core::session::Session::handle::h…` → `flexdesk_core`; sections and data under their own names. */
export function crateOf(name) {
  if (/^"function names"|^custom section/.test(name)) return null;
  if (/^data segment/.test(name)) return 'data (strings, tables)';
  const m = name.match(/^<?(?:&(?:mut )?)?([a-z_][a-z0-9_]*)(?:\[[0-9a-f]+\])?::/);
  if (m) return m[1] === '__rustc' ? 'std' : m[1];
  return 'wasm sections, glue shims';
}

export function shares(root, say) {
  ensureTwiggy(say);
  const out = mkdtempSync(path.join(tmpdir(), 'flexdesk-twiggy-'));
  try {
    execFileSync('wasm-bindgen', ['--target', 'web', '--out-dir', out, path.join(root, 'target/wasm32-unknown-unknown/wasm-release/flexdesk.wasm')]);
    const items = JSON.parse(execFileSync('twiggy', ['top', '-n', '1000000', '--format', 'json', path.join(out, 'flexdesk_bg.wasm')], { maxBuffer: 1 << 28 }));
    const by = new Map();
    let total = 0;
    for (const it of items) {
      const c = crateOf(it.name);
      if (!c) continue;
      by.set(c, (by.get(c) ?? 0) + it.shallow_size);
      total += it.shallow_size;
    }
    return [...by].sort((a, b) => b[1] - a[1]).map(([crate, bytes]) => ({ crate, bytes, fraction: bytes / total }));
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

const SIZE_LINE = /wasm \+ glue \+ wrapper: ([\d.]+) KiB gzipped/;

export function trials(root, say) {
  const dir = path.join(root, 'bench/trials');
  const diffs = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.diff')).sort() : [];
  const rows = [];
  for (const diff of diffs) {
    const name = diff.replace(/\.diff$/, '');
    const work = mkdtempSync(path.join(tmpdir(), 'flexdesk-trial-'));
    say(`size trial: ${name} (bench/trials/${diff})`);
    try {
      execFileSync('git', ['worktree', 'add', '--detach', '-q', work, 'HEAD'], { cwd: root });
      // The trial builds into target/trials, next to the real build, so its dependencies compile once.
      mkdirSync(path.join(root, 'target/trials'), { recursive: true });
      symlinkSync(path.join(root, 'target/trials'), path.join(work, 'target'));
      symlinkSync(path.join(root, 'node_modules'), path.join(work, 'node_modules'));
      const applied = spawnSync('git', ['apply', path.join(dir, diff)], { cwd: work, encoding: 'utf8' });
      if (applied.status !== 0) {
        rows.push({ name, error: 'the diff no longer applies to HEAD: ' + applied.stderr.trim().split('\n')[0] });
        continue;
      }
      // build-wasm fails over the budget, after printing the size: the size is what is wanted here.
      const built = spawnSync('bash', ['scripts/build-wasm'], { cwd: work, encoding: 'utf8', maxBuffer: 1 << 26 });
      const m = (built.stdout + built.stderr).match(SIZE_LINE);
      rows.push(m ? { name, gzip: Number(m[1]) * 1024 } : { name, error: 'the trial did not build: ' + (built.stderr.trim().split('\n').find((l) => l.startsWith('error')) ?? 'see scripts/build-wasm') });
    } finally {
      spawnSync('git', ['worktree', 'remove', '--force', work], { cwd: root });
      rmSync(work, { recursive: true, force: true });
    }
  }
  return rows;
}
