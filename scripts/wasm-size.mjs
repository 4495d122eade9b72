#!/usr/bin/env node
// The wasm package's size, as a page pays it (gzip -9), and the budget check run by scripts/build-wasm.
//
//   node scripts/wasm-size.mjs [pkg dir]      exits 1 when the desk is over budget
//
// Before escalation a page loads only the wrapper (index.js); the desk itself (wasm-bindgen's glue and the
// .wasm) is loaded when a chat with an agent starts. The budget covers everything a page loads once it escalates:
// wrapper + glue + wasm: 60 KiB (issue 15; 40 KiB is the goal). Issue 28's contact-centre features with issue 23's and
// 26's rules (media links, the tab rules in the core, "Are you still there?", continue by SMS) took the desk from
// 57.6 to 61.5 KiB, and the budget was 62 KiB for a while; issue 27 brought it back to 57.7 KiB (wasm-opt flags in
// scripts/build-wasm, no B-tree set in the core, one future for every auth-server call) and the budget back to 60.
// README "Package size" and crates/flexdesk/js/README.md say where the bytes go. FLEXDESK_WASM_BUDGET_KB overrides
// it (tests use that to check the failure).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

export const BUDGET_KB = 60;
export const GOAL_KB = 40;
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Raw and gzipped bytes of the package's files, grouped by when a page loads them. */
export function measure(pkg = path.join(ROOT, 'crates/flexdesk/pkg')) {
  const file = (name, role) => {
    const bytes = readFileSync(path.join(pkg, name));
    return { name, role, raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length };
  };
  const files = [file('index.js', 'wrapper: loaded with the page'), file('flexdesk.js', 'wasm-bindgen glue: loaded at escalation'),
    file('flexdesk_bg.wasm', 'the desk: loaded at escalation')];
  const sum = (list, k) => list.reduce((a, f) => a + f[k], 0);
  const lazy = files.slice(1);
  return {
    files,
    beforeEscalation: { raw: files[0].raw, gzip: files[0].gzip },
    desk: { raw: sum(lazy, 'raw'), gzip: sum(lazy, 'gzip') },
    total: { raw: sum(files, 'raw'), gzip: sum(files, 'gzip') },
  };
}

const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const pkg = process.argv[2] ? path.resolve(process.argv[2]) : undefined;
  const budget = Number(process.env.FLEXDESK_WASM_BUDGET_KB || BUDGET_KB);
  const m = measure(pkg);
  const rel = path.relative(ROOT, pkg ?? path.join(ROOT, 'crates/flexdesk/pkg'));
  console.log(`[build-wasm] ${rel} (gzip -9):`);
  for (const f of m.files) console.log(`[build-wasm]   ${f.name.padEnd(17)} ${kib(f.raw).padStart(10)} raw ${kib(f.gzip).padStart(10)} gzipped  (${f.role})`);
  console.log(`[build-wasm] before escalation: ${kib(m.beforeEscalation.gzip)} gzipped (the wrapper alone)`);
  console.log(`[build-wasm] wasm + glue + wrapper: ${kib(m.total.gzip)} gzipped (${kib(m.total.raw)} raw); budget ${budget} KiB, goal ${GOAL_KB} KiB`);
  if (m.total.gzip > budget * 1024) {
    console.error(`[build-wasm] FAIL: the desk is ${kib(m.total.gzip)} gzipped, over its ${budget} KiB budget ` +
      '(twiggy top/dominators on the pre-wasm-opt file show where the bytes go; see crates/flexdesk/src/js.rs for the size rules).');
    process.exit(1);
  }
}
