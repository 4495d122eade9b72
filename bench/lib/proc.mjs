// Spawning the servers under test and reading their memory. Every server prints
// `listening on http://127.0.0.1:PORT` once ready (the project's shared contract).
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { FAKE_TWILIO_ENV } from '../../tests/support/fake-env.mjs';
import { pinned } from './cpus.mjs';

/** Peak resident set (VmHWM) of a live process, in KiB; null once it is gone. */
export function peakRssKb(pid) {
  try {
    const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmHWM:\s+(\d+) kB/m);
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/**
 * Starts `command args` with the fake Twilio env plus `env`; resolves to { name, url, pid, stop(), output() }.
 * Only the last 16 KB of output is kept: a server that logs per request must not grow this process. `ready`: the
 * line that says it is ready (another program's than ours); its first group, if any, is the `url`.
 */
export function startServer(name, command, args = [], env = {}, { timeoutMs = 30000, cwd, ready = LISTENING } = {}) {
  // taskset execs the server, so the pid (and its memory read from /proc) stays the server's.
  const child = spawn(...pinned('server', command, args), {
    cwd,
    env: { ...process.env, ...FAKE_TWILIO_ENV, RUST_LOG: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const keep = (chunk) => {
    out = (out + chunk).slice(-16384);
  };
  child.stdout.setEncoding('utf8').on('data', keep);
  child.stderr.setEncoding('utf8').on('data', keep);
  const stop = () =>
    new Promise((done) => {
      if (child.exitCode !== null || child.signalCode !== null) return done();
      const kill = setTimeout(() => child.kill('SIGKILL'), 5000);
      child.once('exit', () => {
        clearTimeout(kill);
        done();
      });
      child.kill('SIGTERM');
    });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${name} did not print its listening line within ${timeoutMs} ms:\n${out}`));
    }, timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`${name}: cannot start ${command}: ${e.message}`));
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${code ?? signal}) before listening:\n${out}`));
    });
    const onData = () => {
      const m = out.match(ready);
      if (!m) return;
      clearTimeout(timer);
      child.removeAllListeners('exit');
      child.stdout.off('data', onData);
      resolve({ name, url: m[1], pid: child.pid, child, stop, output: () => out });
    };
    child.stdout.on('data', onData);
  });
}

const LISTENING = /^listening on (http:\/\/127\.0\.0\.1:\d+)/m;

/** Runs a command to completion with inherited output; rejects on a non-zero exit. */
export function run(command, args, { cwd, env = {}, quiet = false, timeoutMs = 20 * 60 * 1000 } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd,
      env: { ...process.env, ...env },
      stdio: ['ignore', quiet ? 'pipe' : 'inherit', quiet ? 'pipe' : 'inherit'],
    });
    let out = '';
    if (quiet) {
      child.stdout.setEncoding('utf8').on('data', (c) => (out += c));
      child.stderr.setEncoding('utf8').on('data', (c) => (out += c));
    }
    const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`${command} ${args.join(' ')} failed (${code ?? signal})${quiet ? `:\n${out.slice(-4000)}` : ''}`));
    });
  });
}
