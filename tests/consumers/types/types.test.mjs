// The npm package type-checks in a consumer's TypeScript project (tsc --noEmit), and a wrong config does not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from '../../support/servers.mjs';

const dir = path.join(ROOT, 'tests/consumers/types');
const tsc = (project) => spawnSync(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', project], { encoding: 'utf8' });

test('a TypeScript app passes createTwilioFlexServiceDesk to serviceDeskFactory', { skip: !existsSync(path.join(ROOT, 'crates/flexdesk/pkg/index.d.ts')) && 'run scripts/build-wasm first' }, () => {
  const r = tsc(path.join(dir, 'tsconfig.json'));
  assert.equal(r.status, 0, r.stdout + r.stderr);
});

test('the types catch a missing authServerUrl', { skip: !existsSync(path.join(ROOT, 'crates/flexdesk/pkg/index.d.ts')) && 'run scripts/build-wasm first' }, () => {
  const bad = path.join(dir, 'bad.ts');
  const cfg = path.join(dir, 'tsconfig.bad.json');
  writeFileSync(bad, "import { createTwilioFlexServiceDesk } from 'flexdesk';\ncreateTwilioFlexServiceDesk({ createConversationsClient: (t: string) => null as any });\n");
  writeFileSync(cfg, JSON.stringify({ extends: './tsconfig.json', files: ['bad.ts'] }));
  try {
    const r = tsc(cfg);
    assert.notEqual(r.status, 0);
    assert.match(r.stdout, /authServerUrl/);
  } finally {
    rmSync(bad, { force: true });
    rmSync(cfg, { force: true });
  }
});
