// Load from a second process on loopback: wrk with a fixed duration, after a warm-up run that is discarded.
import { fileURLToPath } from 'node:url';
import { split, pinned } from './cpus.mjs';
import { run } from './proc.mjs';

const LUA = fileURLToPath(new URL('../wrk/post.lua', import.meta.url));

async function wrkOnce(url, body, { seconds, connections, threads, requestsFile }) {
  const out = await run(
    ...pinned('load', 'wrk', ['-t', String(threads), '-c', String(connections), '-d', `${seconds}s`, '--timeout', '5s', '-s', LUA, url]),
    { quiet: true, env: { WRK_BODY: JSON.stringify(body), ...(requestsFile && { WRK_REQUESTS: requestsFile }) }, timeoutMs: (seconds + 30) * 1000 },
  );
  const line = out.split('\n').find((l) => l.startsWith('BENCH_JSON '));
  if (!line) throw new Error(`wrk printed no result line:\n${out}`);
  return JSON.parse(line.slice('BENCH_JSON '.length));
}

/**
 * POSTs `body` to `url` for `seconds` after `warmup` seconds of the same load (or, with `requestsFile`, the lines of
 * that file in turn: `path<TAB>body`, against `url`'s host; bench/wrk/post.lua).
 * Returns { rps, p50Ms, p90Ms, p99Ms, maxMs, requests, failed } where failed counts socket errors,
 * timeouts and non-2xx answers (a benchmark of error pages would be worthless, so callers check it).
 */
export const WRK_THREADS = split?.loadThreads ?? 2;

export async function load(url, body, { seconds = 10, warmup = 2, connections = 32, threads = WRK_THREADS, requestsFile } = {}) {
  if (warmup > 0) await wrkOnce(url, body, { seconds: warmup, connections, threads, requestsFile });
  const r = await wrkOnce(url, body, { seconds, connections, threads, requestsFile });
  const ms = (us) => us / 1000;
  return {
    rps: r.requests / (r.duration_us / 1e6),
    p50Ms: ms(r.p50_us),
    p90Ms: ms(r.p90_us),
    p99Ms: ms(r.p99_us),
    maxMs: ms(r.max_us),
    requests: r.requests,
    failed: r.connect_errors + r.read_errors + r.write_errors + r.non2xx + r.timeouts,
    raw: r,
  };
}
