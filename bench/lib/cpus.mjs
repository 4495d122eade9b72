// Which cores the servers and the load generator run on. On a small machine wrk and the server under test
// otherwise take turns on the same cores, and the scheduler's time slices, not the server, set the tail
// latency (on 2 cores the bare ceiling's own p99 was above 2 ms that way). So, as load-testing practice has it
// (a separate load machine), wrk gets the last core to itself with one thread and every server started by
// the bench runs on the others. BENCH_NO_PIN=1 turns this off; without `taskset` (util-linux) or with one
// core nothing is pinned. Both cases are printed with the results.
import { spawnSync } from 'node:child_process';
import os from 'node:os';

const cores = os.availableParallelism?.() ?? os.cpus().length;
const hasTaskset = () => spawnSync('taskset', ['--version'], { stdio: 'ignore' }).status === 0;

/** { server: 'cpu list', load: 'cpu list', loadThreads } or null when nothing is pinned. */
export const split =
  !process.env.BENCH_NO_PIN && cores >= 2 && hasTaskset()
    ? { server: cores === 2 ? '0' : `0-${cores - 2}`, load: String(cores - 1), loadThreads: 1 }
    : null;

/** `command args` to spawn so that it runs on the cores of `kind` ('server' or 'load'). */
export function pinned(kind, command, args) {
  return split ? ['taskset', ['-c', split[kind], command, ...args]] : [command, args];
}

/** One sentence for the report. */
export function describeSplit() {
  return split
    ? `wrk on core ${split.load}, the servers on core${split.server.length > 1 ? 's' : ''} ${split.server}`
    : 'nothing pinned: wrk and the servers share every core';
}
