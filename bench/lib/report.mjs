// Turns one run's numbers into the printed table and bench/results.md, with each target marked met/missed.
import { BUDGET_KB } from '../../scripts/wasm-size.mjs';

const f = (n, digits = 0) => (n === undefined || n === null || Number.isNaN(n) ? 'n/a' : n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }));
const mib = (kb) => (kb ? `${f(kb / 1024, 1)} MiB` : 'n/a');
const mb = (bytes) => (bytes === null || bytes === undefined ? 'n/a' : `${f(bytes / 2 ** 20, 1)} MiB`);
const kib = (bytes) => `${f(bytes / 1024, 1)} KiB`;
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor((s.length - 1) / 2)] : undefined;
};

/** [what, target text, measured text, met?] for every target the run has figures for. */
export function targets(r) {
  const out = [];
  const fd = r.refresh?.flexdesk;
  const short = (met, text) => (met ? '' : ` — short by ${text}`);
  if (fd && r.refresh.node) {
    const x = fd.rps / r.refresh.node.rps;
    out.push(['token refresh req/s vs the Node anchor (webhooks healthy)', '≥ 30×', `${f(x, 1)}×${short(x >= 30, `${f(100 * (1 - x / 30), 0)} %`)}`, x >= 30]);
  }
  if (fd && r.refresh.ceiling) {
    const x = fd.rps / r.refresh.ceiling.rps;
    out.push(['token refresh req/s vs the ceiling (webhooks healthy)', '≥ 60 %', `${f(100 * x, 1)} %${short(x >= 0.6, `${f(100 * (0.6 - x), 1)} points`)}`, x >= 0.6]);
  }
  if (fd) {
    out.push(['token refresh p99 (flexdesk-auth, webhooks healthy)', '< 2 ms (idle machine)', `${f(fd.p99Ms, 2)} ms (${f(fd.p99Ms / 2, 1)}× the target; load ${f(r.machine.loadBefore, 1)} on ${r.machine.cores} cores${fd.roundsStealMs ? `; host steal ${fd.roundsStealMs.map((v) => f(v)).join(' / ')} ms in its rounds` : ''})`, fd.p99Ms < 2]);
    out.push(['flexdesk-auth peak RSS', '< 20 MB', `${mib(fd.rssKb)} (${f(fd.rssKb / 1024 / 20, 2)}× the target)`, fd.rssKb / 1024 < 20]);
  }
  if (r.paced) {
    const p = r.paced;
    const x = p.perSecond / p.ceiling;
    out.push([`start-chat throughput vs Twilio's published ${p.ceiling}/s (POST /v2/WebChats)`, '≥ 90 % of it, no 429 from Twilio', `${f(p.perSecond, 2)}/s = ${f(100 * x, 0)} %, ${p.twilioRejected} × 429`, x >= 0.9 && p.twilioRejected === 0]);
  }
  if (r.bundle) {
    out.push(['wasm + JS glue + wrapper, gzipped', `≤ ${BUDGET_KB} KiB`, `${kib(r.bundle.gzip)} (${f(r.bundle.gzip / 1024 / BUDGET_KB, 2)}× the target)`, r.bundle.gzip <= BUDGET_KB * 1024]);
  }
  // Issue 27: each figure with the floor it is measured against, from the same run; `null` = reported, no target.
  const l = r.latency;
  if (l?.weight) {
    const w = l.weight;
    out.push(['page weight before escalation: flexdesk + Twilio code, gzipped', '≤ 5 KiB', `${kib(w.beforeEscalation)} (floor: the wrapper alone, ${kib(r.bundle?.beforeEscalation.gzip ?? w.beforeEscalation)}; at escalation +${kib(w.atEscalation)}: glue, wasm and the SDK)`, w.beforeEscalation <= 5 * 1024]);
  }
  if (l?.lazyAgentMessageMs !== undefined) {
    const extra = l.lazyAgentMessageMs - l.agentMessageMs;
    out.push(["the lazy SDK import's extra time to the first agent message", 'reported', `${f(extra, 0)} ms (${f(l.lazyAgentMessageMs, 0)} vs ${f(l.agentMessageMs, 0)} ms from startChat; floor: the SDK's own load, ${f(l.lazySdkLoadMs, 0)} ms)`, null]);
  }
  if (l?.acceptToSdkEventMs !== undefined) {
    // The desk shows "Alice joined", and Flex keeps the agent's name on the Conversations User, not on the participant
    // (participant.getUser() → friendlyName): a named agent cannot be shown before the SDK has the User, so the
    // floor the target is judged against is the later of the two (bench/results.md notes say why).
    const floor = Math.max(l.acceptToSdkEventMs, l.acceptToSdkUserMs ?? 0);
    const x = l.acceptToJoinedMs / floor;
    const vsEvent = l.acceptToJoinedMs / l.acceptToSdkEventMs;
    out.push(["agent's accept → agentJoined", "≤ 2× the SDK's participant event with the agent's User (the name)", `${f(l.acceptToJoinedMs, 0)} ms (floor: the SDK's participantJoined ${f(l.acceptToSdkEventMs, 0)} ms after the accept, the agent's User ${f(l.acceptToSdkUserMs, 0)} ms; ${f(x, 1)}× the User, ${f(vsEvent, 1)}× the bare event)`, x <= 2]);
  }
  const q = r.queue?.rows;
  if (q?.length > 1) {
    const [lo, hi] = [q[0], q[q.length - 1]];
    const x = hi.perMinute / Math.max(lo.perMinute, 1);
    out.push([`Twilio calls per minute, ${f(hi.n)} vs ${f(lo.n)} waiting customers polling every ${f(r.queue.intervalMs / 1000)} s`, `≤ 2× (O(queues))`, `${f(hi.perMinute)} vs ${f(lo.perMinute)} per minute (${f(x, 2)}×; floor: ${f(lo.perMinute)} per minute for ${f(lo.n)}; the one-off lookups: ${f(hi.firstRound)} in ${f(hi.n)}'s first round)`, x <= 2 && q.every((row) => row.failed === 0)]);
  }
  const many = r.many;
  if (many?.distinct) {
    const d = many.distinct;
    const one = r.refresh?.flexdeskOff;
    out.push([`token refresh, ${f(d.sessions)} distinct sessions, webhooks off (each its own Twilio check)`, 'reported', `${f(d.rps)} req/s, p99 ${f(d.p99Ms, 2)} ms, ${f(d.twilioCalls)} Twilio calls${one ? ` (floor: one session, single-flight, ${f(one.rps)} req/s, p99 ${f(one.p99Ms, 2)} ms)` : ''}${d.failed ? `, ${d.failed} failed` : ''}`, null]);
  }
  if (many?.open) {
    const o = many.open;
    const d = many.distinct;
    out.push([`${f(o.sessions)} sessions open in one auth server`, 'reported', `RSS ${mib(o.rssAfterKb)} (${mib(o.rssBeforeKb)} before: ${f(o.bytesPerSession)} bytes per session); refresh p99 over all of them, webhooks off, ${f(o.p99Ms, 2)} ms at ${f(o.rps)} req/s${d ? ` (floor: ${f(d.sessions)} sessions, ${f(d.p99Ms, 2)} ms)` : ''}${o.failed ? `, ${o.failed} failed` : ''}`, null]);
  }
  if (r.redis?.perChat !== undefined) {
    const x = r.redis;
    out.push([`Redis commands per chat (start, ${x.refreshes} refreshes, end), REDIS_URL`, 'reported', `${f(x.perChat, 1)} (${Object.entries(x.byCommand).map(([k, n]) => `${k} ${f(n, 1)}`).join(', ')}; INFO commandstats over ${x.chats} chats)`, null]);
  }
  if (r.desk) {
    const d = r.desk;
    const row = (what, x) => [`${f(x.n)} messages ${what}`, '< 1 s', x.error ? `failed: ${x.error}` : `${f(x.ms)} ms${x.estimated ? ' (estimated, see below)' : ''} (${f(x.ms / 1000, 2)}× the target)`, !x.error && x.ms < 1000];
    out.push(row('agent → user', d.agentToUser));
    out.push(row('user → agent, paced', d.userToAgentPaced));
    out.push(row('user → agent, burst (all queued at once)', d.userToAgentBurst));
  }
  return out;
}

function refreshRows(r) {
  const rows = [];
  const names = {
    flexdesk: 'flexdesk-auth, webhooks healthy (no Twilio call)',
    flexdeskOff: 'flexdesk-auth, webhooks off (asks Twilio, single-flight)',
    node: 'Node anchor (Express + twilio)',
    ceiling: 'ceiling (bare axum + jsonwebtoken)',
  };
  for (const key of ['flexdesk', 'flexdeskOff', 'node', 'ceiling']) {
    const x = r.refresh?.[key];
    if (!x) continue;
    const rss = key.startsWith('flexdesk') && x.extraRssKb?.[0] ? `${mib(x.rssKb)} (+ emulator ${mib(x.extraRssKb[0])})` : mib(x.rssKb);
    const perRound = x.roundsRps?.length > 1 ? ` (${x.roundsRps.map((v) => f(v)).join(' / ')})` : '';
    const steal = x.roundsStealMs ? x.roundsStealMs.map((v) => f(v)).join(' / ') : 'n/a';
    rows.push(`| ${names[key]} | ${f(x.rps)}${perRound} | ${f(x.p50Ms, 2)} | ${f(x.p99Ms, 2)} | ${f(x.maxMs, 1)} | ${steal} | ${rss} | ${f(x.requests)} | ${x.failed} |`);
  }
  return rows;
}

/** The figures as markdown tables (printed by the run and embedded in results.md). */
export function table(r) {
  const lines = [];
  const m = r.machine;
  const la = (xs) => (xs ? xs.map((x) => f(x, 2)).join(' / ') : 'n/a');
  lines.push(`Machine: ${m.cores} cores, ${m.cpu}, ${f(m.memGiB, 0)} GiB memory; Node ${m.node}${r.desk ? `; Chromium ${r.desk.chromium}` : ''}; ${m.date}${r.quick ? ' — QUICK RUN, indicative only' : ''}`);
  lines.push('');
  const busy = Math.max(m.loadBefore ?? 0, m.loadAfter ?? 0) > m.cores / 2;
  lines.push(`Load: 1 / 5 / 15-minute load averages ${la(m.loadavgBefore)} before the run and ${la(m.loadavgAfter)} after, on ${m.cores} cores${busy ? ' — the machine was busy with other work during this run, so absolute figures (and p99 above all) are lower/slower than on an idle machine; ratios between rows of this run are the comparable part' : ''}.`);
  lines.push('');
  if (r.refresh) {
    const rounds = r.settings.rounds ?? 1;
    lines.push(`Token refresh, POST /v1/sessions/{id}/token — wrk, ${r.settings.connections} connections, ${r.settings.wrkThreads ?? 2} thread${(r.settings.wrkThreads ?? 2) > 1 ? 's' : ''}; ${r.settings.cpus ?? 'nothing pinned'}; ${r.settings.refresh.warmup} s warm-up + ${r.settings.refresh.seconds} s per server${rounds > 1 ? ` in ${rounds} interleaved rounds (p50/p99/max: the worst round's; req/s of each round in brackets)` : ''}; the other servers stopped during each round; host steal: CPU time the virtual machine's host took from it during the round (/proc/stat), which stalls any server alike and shows in p99 first`);
    lines.push('');
    lines.push('| server | req/s | p50 ms | p99 ms | max ms | host steal ms per round | peak RSS | requests | failed |');
    lines.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
    lines.push(...refreshRows(r));
    const failed = Object.values(r.refresh).filter((x) => x.failed > 0);
    if (failed.length) lines.push('', `**WARNING: some requests failed (socket errors, timeouts or non-2xx); those rows are not valid figures.**`);
    const { flexdesk: fd, flexdeskOff: off, node, ceiling } = r.refresh;
    if (fd && node && ceiling) {
      lines.push('');
      lines.push(`Ratios (req/s): flexdesk-auth with healthy webhooks = ${f(fd.rps / node.rps, 1)}× the Node anchor and ${f((100 * fd.rps) / ceiling.rps, 1)} % of the ceiling${off ? `; with webhooks off = ${f(off.rps / node.rps, 1)}× and ${f((100 * off.rps) / ceiling.rps, 1)} %` : ''}; the ceiling itself = ${f(ceiling.rps / node.rps, 1)}× the Node anchor.`);
    }
    lines.push('');
  }
  if (r.session) {
    const s = r.session;
    lines.push(`Session start capacity, POST /v1/sessions through flexdesk-auth to the emulator with Twilio's rates off on both sides (the server's own cost; real Twilio allows 5/s, below) — ${r.settings.session.warmup} s warm-up + ${r.settings.session.seconds} s, ${r.settings.connections} connections`);
    lines.push('');
    lines.push('| req/s | p50 ms | p99 ms | requests | failed | auth peak RSS | emulator peak RSS |');
    lines.push('| ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
    lines.push(`| ${f(s.rps)} | ${f(s.p50Ms, 2)} | ${f(s.p99Ms, 2)} | ${f(s.requests)} | ${s.failed} | ${mib(s.rssKb)} | ${mib(s.emulatorRssKb)} |`);
    if (s.failed > 0) lines.push('', '**WARNING: some session starts failed; the row is not a valid figure.**');
    lines.push('');
  }
  if (r.paced) {
    const p = r.paced;
    lines.push(`Start-chat throughput at Twilio's published rate — ${p.workers} customers starting chats back to back for ${f(p.seconds, 1)} s; flexdesk-auth paces POST /v2/WebChats at ${p.ceiling}/s, the emulator enforces ${p.ceiling}/s with 429 / 45780 as Twilio does`);
    lines.push('');
    lines.push('| chats started | per second | ceiling (Twilio, published) | of the ceiling | 503 twilio_busy (paced out) | other errors | 429 from "Twilio" | most in any 1 s at "Twilio" | p50 start latency |');
    lines.push('| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
    lines.push(`| ${f(p.created)} | ${f(p.perSecond, 2)} | ${p.ceiling}/s | ${f((100 * p.perSecond) / p.ceiling, 0)} % | ${p.busy} | ${p.other} | ${p.twilioRejected} | ${p.twilioMaxPerSecond} | ${f(p.p50Ms, 0)} ms |`);
    lines.push('');
  }
  if (r.latency) {
    const l = r.latency;
    const floor = l.floorAuthMs + l.floorHandshakeMs;
    lines.push(`Start to agent with the real @twilio/conversations SDK (UMD build) against the emulator, in headless Chromium — median of ${l.runs} chats, each in a fresh browser context (the wasm fetched and compiled each time); Twilio's rates off; the bench's agent accepts the task as soon as the emulator lists it (polled every 5 ms) and the customer's client has joined the conversation, then writes once`);
    lines.push('');
    lines.push('| from startChat to | ms | beside it |');
    lines.push('| --- | ---: | --- |');
    lines.push(`| the desk's POST /v1/sessions leaves (the wasm fetched, compiled and started first) / is answered | ${f(l.authSentMs, 0)} / ${f(l.authAnsweredMs, 0)} | |`);
    lines.push(`| "connecting": the desk has its token and creates the SDK client | ${f(l.connectingMs, 0)} | floor: one auth round trip (POST /v1/sessions) = ${f(l.floorAuthMs, 0)} ms |`);
    lines.push(`| the SDK connected (twilsock handshake done) | ${f(l.connectedMs, 0)} | floor: auth round trip + twilsock handshake (new Client → connected) = ${f(l.floorAuthMs, 0)} + ${f(l.floorHandshakeMs, 0)} = ${f(floor, 0)} ms |`);
    lines.push(`| startChat resolved | ${f(l.startResolvedMs, 0)} | |`);
    lines.push(`| the bench's agent accepted the task (its accept answered) | ${f(l.agentAcceptedMs, 0)} | not the desk's time: how soon the task was seen and accepted |`);
    lines.push(`| agentJoined (callback to the web chat) | ${f(l.agentJoinedMs, 0)} | ${f(l.agentJoinedMs - l.agentAcceptedMs, 0)} ms after the accept's answer (median of the runs' own gaps: ${f(l.acceptToJoinedMs, 0)} ms; the SDK's own participantJoined: ${f(l.acceptToSdkEventMs, 0)} ms after it, the agent's User, which holds the name: ${f(l.acceptToSdkUserMs, 0)} ms) |`);
    if (l.agentMessageMs !== undefined) {
      lines.push(`| the agent's first message shown (sendMessageToUser), SDK loaded with the page | ${f(l.agentMessageMs, 0)} | |`);
      lines.push(`| the same, SDK loaded by createConversationsClient when the chat starts (lazy) | ${f(l.lazyAgentMessageMs, 0)} | +${f(l.lazyAgentMessageMs - l.agentMessageMs, 0)} ms; the SDK's load itself: ${f(l.lazySdkLoadMs, 0)} ms; agentJoined ${f(l.lazyAgentJoinedMs, 0)} ms |`);
    }
    if (l.weight) lines.push(`| (lazy page) flexdesk + Twilio code fetched before startChat / at it, gzipped | ${kib(l.weight.beforeEscalation)} / ${kib(l.weight.atEscalation)} | ${l.weight.files.join(', ')} |`);
    lines.push(`| each run: connecting / connected / agentJoined | ${l.each.map((e) => `${f(e.connecting, 0)} / ${f(e.connected, 0)} / ${f(e.agentJoined, 0)}`).join(', ')} | floors: ${l.floors.map((x) => `${x.authMs} + ${x.handshakeMs}`).join(', ')} ms |`);
    lines.push('');
  }
  if (r.queue) {
    lines.push(`Queue position at scale: N waiting customers each poll GET /v1/sessions/{id}/queue once per ${f(r.queue.intervalMs / 1000)} s (the desk's default), spread over the interval; Twilio calls counted by the emulator (GET /admin/calls) over one interval after a first one in which each chat's task is looked up once`);
    lines.push('');
    lines.push('| waiting customers | Twilio calls, first interval | Twilio calls per minute after it | by route | failed polls |');
    lines.push('| ---: | ---: | ---: | --- | ---: |');
    const why = (x) => (x.failed ? ` (${x.failures.flatMap((round) => Object.entries(round).map(([k, n]) => `${k}: ${n}`)).join(', ')})` : '');
    for (const x of r.queue.rows) lines.push(`| ${f(x.n)} | ${f(x.firstRound)} | ${f(x.perMinute)} | ${Object.entries(x.byRoute).map(([k, n]) => `${k}: ${n}`).join('; ') || 'none'} | ${x.failed}${why(x)} |`);
    lines.push('');
  }
  if (r.bundle) {
    lines.push('Bundle (crates/flexdesk/pkg, gzip -9; the Conversations SDK excluded). A page loads only the wrapper until a');
    lines.push('chat with an agent starts; the glue and the wasm are fetched then (or when the bot offers an agent).');
    lines.push('');
    lines.push('| file | raw | gzipped | loaded |');
    lines.push('| --- | ---: | ---: | --- |');
    for (const x of r.bundle.files) lines.push(`| ${x.name} | ${kib(x.raw)} | ${kib(x.gzip)} | ${x.role ?? ''} |`);
    lines.push(`| **total** | **${kib(r.bundle.raw)}** | **${kib(r.bundle.gzip)}** | after escalation |`);
    if (r.bundle.beforeEscalation) lines.push(`| **before escalation** | ${kib(r.bundle.beforeEscalation.raw)} | **${kib(r.bundle.beforeEscalation.gzip)}** | the wrapper alone |`);
    lines.push('');
    if (r.bundle.crates) {
      lines.push('The wasm by crate (twiggy over the wasm before wasm-opt, grouped by the crate each symbol names; the gzipped');
      lines.push('figure is that share of the shipped wasm, an estimate: bench/lib/crates.mjs).');
      lines.push('');
      lines.push('| crate | bytes before wasm-opt | share | ≈ gzipped |');
      lines.push('| --- | ---: | ---: | ---: |');
      for (const x of r.bundle.crates) lines.push(`| ${x.crate} | ${f(x.bytes)} | ${f(100 * x.fraction, 1)} % | ${kib(x.gzipEstimate)} |`);
      lines.push('');
    }
    if (r.bundle.trials?.length) {
      lines.push('Design crates the desk leaves out, built (bench/trials/*.diff applied to this commit; same wrapper, glue and wasm');
      lines.push('measure as the bundle table):');
      lines.push('');
      lines.push(`| trial | wrapper + glue + wasm, gzipped | against this build | within the ${BUDGET_KB} KiB budget |`);
      lines.push('| --- | ---: | ---: | --- |');
      for (const x of r.bundle.trials) {
        if (x.error) lines.push(`| ${x.name} | — | — | ${x.error} |`);
        else lines.push(`| ${x.name} | ${kib(x.gzip)} | +${kib(x.gzip - r.bundle.gzip)} | ${x.gzip <= BUDGET_KB * 1024 ? 'yes' : 'no'} |`);
      }
      lines.push('');
    }
  }
  if (r.desk) {
    const d = r.desk;
    const cold = (k) => median(d.cold.map((c) => c[k]));
    lines.push(`Desk in headless Chromium (stand-in Conversations client and callback, no network)`);
    lines.push('');
    lines.push('| measure | result |');
    lines.push('| --- | ---: |');
    lines.push(`| cold start: wasm fetch + compile + instantiate (median of ${d.cold.length} fresh browsers) | ${f(cold('instantiateMs'), 1)} ms |`);
    lines.push(`| cold start: then startChat until the desk is connecting (client created, phase ${d.cold[0]?.phase}) | ${f(cold('startChatMs'), 1)} ms |`);
    lines.push(`| cold start total (each run: ${d.cold.map((c) => f(c.totalMs, 1)).join(', ')} ms) | ${f(cold('totalMs'), 1)} ms |`);
    const rate = (x) => (x.error ? x.error : `${f(x.ms, 1)} ms, ${f((x.n / x.ms) * 1000)} msg/s${x.estimated ? ' (estimated)' : ''}`);
    lines.push(`| ${f(d.agentToUser.n)} agent → user (messageAdded → sendMessageToUser) | ${rate(d.agentToUser)} |`);
    lines.push(`| ${f(d.userToAgentPaced.n)} user → agent, paced (each sent before the next) | ${rate(d.userToAgentPaced)} |`);
    lines.push(`| ${f(d.userToAgentBurst.n)} user → agent, burst (all sendMessageToAgent at once) | ${rate(d.userToAgentBurst)} |`);
    if (d.memory) {
      const mm = d.memory;
      lines.push(`| memory, chatting desk before any message: JS heap in use after GC / wasm linear memory | ${mb(mm.heapBefore)} / ${mb(mm.wasmBefore)} |`);
      lines.push(`| memory after ${f(mm.n)} agent messages shown: JS heap in use after GC / wasm linear memory | ${mb(mm.heapAfter)} / ${mb(mm.wasmAfter)} (+${mb(mm.heapAfter - mm.heapBefore)} heap, +${mb(mm.wasmAfter - mm.wasmBefore)} wasm) |`);
    }
    if (d.userToAgentBurst.measured?.length > 1 || d.userToAgentBurst.estimated) {
      const ms = d.userToAgentBurst.measured.map((x) => `${f(x.n)} → ${f(x.ms)} ms`).join(', ');
      lines.push(`| burst measured at smaller sizes${d.userToAgentBurst.estimated ? ` (10 000 extrapolated with t ∝ n^${f(d.userToAgentBurst.exponent, 2)})` : ''} | ${ms} |`);
    }
    lines.push('');
  }
  const t = targets(r);
  if (t.length) {
    lines.push('Targets');
    lines.push('');
    lines.push('| target | wanted | measured | |');
    lines.push('| --- | --- | --- | --- |');
    for (const [what, want, got, met] of t) lines.push(`| ${what} | ${want} | ${got} | ${met === null ? '' : met ? 'met' : '**missed**'} |`);
  }
  return lines.join('\n');
}

/** bench/results.md: the generated part, then the hand-written notes kept from the previous file. */
export function render(r, notes) {
  return [
    '# flexdesk benchmarks',
    '',
    'Written by `npm run bench` (`node bench/run.mjs`); everything above the notes is regenerated by each run.',
    'Figures are only comparable within one run: anything else running on the machine shares its cores.',
    'wrk runs on a core of its own and the servers on the others (`bench/lib/cpus.mjs`; `BENCH_NO_PIN=1`',
    'to share every core), so the load generator does not take the server\'s CPU time.',
    '',
    table(r),
    '',
    notes || '<!-- notes -->\n## Notes\n\n(none yet)\n',
  ].join('\n');
}
