// The stand-in's declared shape (www/emulator-client/index.d.ts) is proven against the real
// @twilio/conversations types by tsc; and the JS module really has every member the .d.ts declares.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from '../support/servers.mjs';
import * as standIn from '../../www/emulator-client/index.js';

test('tsc: the stand-in types fit the real SDK types', () => {
  const r = spawnSync('npx', ['tsc', '-p', 'www/emulator-client/tsconfig.json'], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(r.status, 0, `tsc failed:\n${r.stdout}\n${r.stderr}`);
});

test('every method declared in index.d.ts exists in index.js', () => {
  const dts = readFileSync(path.join(ROOT, 'www/emulator-client/index.d.ts'), 'utf8');
  const classes = [...dts.matchAll(/export declare class (\w+)[^{]*\{([\s\S]*?)\n\}/g)];
  assert.ok(classes.length >= 6, 'the .d.ts declares the SDK classes');
  for (const [, name, body] of classes) {
    const cls = standIn[name];
    assert.equal(typeof cls, 'function', `index.js exports class ${name}`);
    const methods = [...body.matchAll(/^\s+(\w+)(?:<[^>]*>)?\(/gm)].map((m) => m[1]);
    for (const m of methods) {
      assert.equal(typeof cls.prototype[m], 'function', `${name}.prototype.${m} exists`);
    }
  }
});
