// `flexdesk-auth config check FILE` (docs/auth-server.md, "Environment files"): the binary itself, with no other
// configuration in its environment, as an admin runs it on a Docker/systemd env file before deploying.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ROOT } from '../support/servers.mjs';

const bin = path.join(ROOT, 'target/debug/flexdesk-auth');
// No Twilio settings at all: the check must not need a valid configuration.
const bare = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(TWILIO_|SESSION_|ALLOWED_|FLEX_)/.test(k)));
const check = (file) => spawnSync(bin, ['config', 'check', file], { env: bare, encoding: 'utf8', cwd: tmpdir() });

test('an inline-commented secret is named with its line, and its value is never printed', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'flexdesk-envfile-'));
  try {
    const file = path.join(dir, 'flexdesk-auth.env');
    writeFileSync(file, '# Twilio\nTWILIO_ACCOUNT_SID=AC0123456789abcdef0123456789abcdef\nTWILIO_AUTH_TOKEN=topsecretvalue # [AUTH_TOKEN]\n');
    const out = check(file);
    assert.equal(out.status, 1, out.stdout + out.stderr);
    assert.match(out.stdout, /flexdesk-auth\.env:3: TWILIO_AUTH_TOKEN: inline comment "# \[AUTH_TOKEN\]"/);
    assert.doesNotMatch(out.stdout + out.stderr, /topsecretvalue/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the shipped .env.example is clean, and a missing file is a usage error', () => {
  const out = check(path.join(ROOT, '.env.example'));
  assert.equal(out.status, 0, out.stdout + out.stderr);
  assert.match(out.stdout, /reads the same/);
  assert.equal(check(path.join(ROOT, 'no-such.env')).status, 2);
});

test('a .env line the server cannot read stops the start naming it, instead of dropping every setting after it', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'flexdesk-dotenv-'));
  try {
    writeFileSync(path.join(dir, '.env'), 'PORT=4999\nBUSINESS_HOURS=Mon-Fri 09:00-17:00\nSESSION_SECRET=set-after-the-bad-line\n');
    const out = spawnSync(bin, [], { env: bare, encoding: 'utf8', cwd: dir, timeout: 10_000 });
    assert.equal(out.status, 2, out.stdout + out.stderr);
    assert.match(out.stderr, /\.env cannot be read \(Error parsing line: 'Mon-Fri 09:00-17:00'/);
    assert.match(out.stderr, /nothing after that line was loaded/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
