// Shared by the long suites: stack start-up, a bounded poll, and the one-line result every suite reports
// to the driver (`RESULT {"test","cases","faults","failures",...}` on stdout).
import { setTimeout as sleep } from 'node:timers/promises';

export { sleep };
export { ROOT, startStack, startBinary } from '../../support/servers.mjs';

/** Reports one suite's outcome to tests/reliability/campaign/run.mjs, and as readable text. */
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

/**
 * Whether a process's open file descriptors grow with the work done (a leak) rather than move with what is in
 * flight (noise). `fds`: counts sampled evenly through the soak; `idle`: the count before any work; `inFlight`: the
 * most descriptors the workload can hold open at once (sockets of the chats in progress and keep-alive pools).
 *
 * Every fd of both servers in the soak is a socket, and their number follows what is in flight: the wave a sample
 * falls on, and connection pools that refill and expire on their own clocks (reqwest keeps idle connections 90 s),
 * so the count steps between plateaus (auth 32 ↔ 43 for a minute or more). A least-squares slope over a 60 s run's
 * second half (6 samples) reads one such step as a +40 % trend. A leak instead adds with every chat, without bound:
 *  - ceiling: no sample above idle + inFlight (a leak of one fd per chat crosses it within the short run's minute,
 *    any leak at all within the long soak's thousands of chats);
 *  - floor: the lowest sample of the last third is not more than inFlight / 2 above the lowest of the first third
 *    (after a 10 % warm-up): a pool refill moves it by at most a pool's worth.
 * Returns the reason, or '' when bounded.
 */
export function fdsGrowth(fds, idle, inFlight) {
  const peak = Math.max(...fds);
  if (peak > idle + inFlight) return `peak ${peak} above idle ${idle} + ${inFlight} in flight`;
  const body = fds.slice(Math.ceil(fds.length / 10));
  if (body.length < 3) return '';
  const third = Math.max(1, Math.floor(body.length / 3));
  const firstMin = Math.min(...body.slice(0, third));
  const lastMin = Math.min(...body.slice(-third));
  if (lastMin - firstMin > inFlight / 2) return `floor rose from ${firstMin} to ${lastMin}`;
  return '';
}
