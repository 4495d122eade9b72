// Shared by the long suites: stack start-up, a bounded poll, and the one-line result every suite reports
// to the driver (`RESULT {"test","cases","faults","failures",...}` on stdout).
import { setTimeout as sleep } from 'node:timers/promises';

export { sleep };
export { ROOT, startStack, startBinary } from '../tests/support/servers.mjs';

/** Reports one suite's outcome to reliability/run.mjs, and as readable text. */
export function report(result) {
  console.log(`RESULT ${JSON.stringify(result)}`);
  return result;
}

export async function until(what, fn, timeoutMs = 10000, everyMs = 50) {
  const end = Date.now() + timeoutMs;
  let last;
  while (Date.now() < end) {
    last = await fn();
    if (last) return last;
    await sleep(everyMs);
  }
  throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(last)}`);
}

/** Seconds from the environment (the driver's --long flag sets the long values). */
export function seconds(name, dflt) {
  const v = Number(process.env[name]);
  return Number.isFinite(v) && v > 0 ? v : dflt;
}

export async function json(url, init = {}) {
  const res = await fetch(url, { ...init, headers: { 'content-type': 'application/json', ...(init.headers ?? {}) } });
  const text = await res.text();
  let body = null;
  try { body = text ? JSON.parse(text) : null; } catch { body = text; }
  return { status: res.status, body, headers: res.headers, text };
}
