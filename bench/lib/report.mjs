// Turns one run's numbers into the printed table and bench/results.md, with each target marked met/missed.

const f = (n, digits = 0) => (n === undefined || n === null || Number.isNaN(n) ? 'n/a' : n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }));
const mib = (kb) => (kb ? `${f(kb / 1024, 1)} MiB` : 'n/a');
const kib = (bytes) => `${f(bytes / 1024, 1)} KiB`;
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor((s.length - 1) / 2)] : undefined;
};

/** [what, target text, measured text, met?] for every target the run has figures for. */
export function targets(r) {
  const out = [];
  const fd = r.refresh?.flexdesk;
  if (fd && r.refresh.node) {
    const x = fd.rps / r.refresh.node.rps;
    out.push(['token refresh req/s vs the Node anchor', '≥ 30×', `${f(x, 1)}×`, x >= 30]);
  }
  if (fd && r.refresh.ceiling) {
    const x = fd.rps / r.refresh.ceiling.rps;
    out.push(['token refresh req/s vs the ceiling', '≥ 60 %', `${f(100 * x, 1)} %`, x >= 0.6]);
  }
  if (fd) {
    out.push(['token refresh p99 (flexdesk-auth)', '< 2 ms', `${f(fd.p99Ms, 2)} ms (${f(fd.p99Ms / 2, 1)}× the target)`, fd.p99Ms < 2]);
    out.push(['flexdesk-auth peak RSS', '< 20 MB', `${mib(fd.rssKb)} (${f(fd.rssKb / 1024 / 20, 2)}× the target)`, fd.rssKb / 1024 < 20]);
  }
  if (r.bundle) {
    out.push(['wasm + JS glue + wrapper, gzipped', '≤ 60 KiB', `${kib(r.bundle.gzip)} (${f(r.bundle.gzip / 1024 / 60, 2)}× the target)`, r.bundle.gzip <= 60 * 1024]);
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
  const names = { flexdesk: 'flexdesk-auth (release)', node: 'Node anchor (Express + twilio)', ceiling: 'ceiling (bare axum + jsonwebtoken)' };
  for (const key of ['flexdesk', 'node', 'ceiling']) {
    const x = r.refresh?.[key];
    if (!x) continue;
    const rss = key === 'flexdesk' && x.extraRssKb?.[0] ? `${mib(x.rssKb)} (+ emulator ${mib(x.extraRssKb[0])})` : mib(x.rssKb);
    const perRound = x.roundsRps?.length > 1 ? ` (${x.roundsRps.map((v) => f(v)).join(' / ')})` : '';
    rows.push(`| ${names[key]} | ${f(x.rps)}${perRound} | ${f(x.p50Ms, 2)} | ${f(x.p99Ms, 2)} | ${f(x.maxMs, 1)} | ${rss} | ${f(x.requests)} | ${x.failed} |`);
  }
  return rows;
}

/** The figures as markdown tables (printed by the run and embedded in results.md). */
export function table(r) {
  const lines = [];
  const m = r.machine;
  lines.push(`Machine: ${m.cores} cores, ${m.cpu}, ${f(m.memGiB, 0)} GiB; Node ${m.node}${r.desk ? `; Chromium ${r.desk.chromium}` : ''}; ${m.date}; 1-min load average ${f(m.loadBefore, 1)} before, ${f(m.loadAfter, 1)} after${r.quick ? ' — QUICK RUN, indicative only' : ''}`);
  lines.push('');
  if (r.refresh) {
    const rounds = r.settings.rounds ?? 1;
    lines.push(`Token refresh, POST /v1/sessions/{id}/token — wrk, ${r.settings.connections} connections, 2 threads, ${r.settings.refresh.warmup} s warm-up + ${r.settings.refresh.seconds} s per server${rounds > 1 ? ` in ${rounds} interleaved rounds (p50/p99/max: the worst round's; req/s of each round in brackets)` : ''}`);
    lines.push('');
    lines.push('| server | req/s | p50 ms | p99 ms | max ms | peak RSS | requests | failed |');
    lines.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
    lines.push(...refreshRows(r));
    const failed = Object.values(r.refresh).filter((x) => x.failed > 0);
    if (failed.length) lines.push('', `**WARNING: some requests failed (socket errors, timeouts or non-2xx); those rows are not valid figures.**`);
    const { flexdesk: fd, node, ceiling } = r.refresh;
    if (fd && node && ceiling) {
      lines.push('');
      lines.push(`Ratios (req/s): flexdesk-auth = ${f(fd.rps / node.rps, 1)}× the Node anchor and ${f((100 * fd.rps) / ceiling.rps, 1)} % of the ceiling; the ceiling itself = ${f(ceiling.rps / node.rps, 1)}× the Node anchor.`);
    }
    lines.push('');
  }
  if (r.session) {
    const s = r.session;
    lines.push(`Session start, POST /v1/sessions through flexdesk-auth to the emulator — ${r.settings.session.warmup} s warm-up + ${r.settings.session.seconds} s, ${r.settings.connections} connections`);
    lines.push('');
    lines.push('| req/s | p50 ms | p99 ms | requests | failed | auth peak RSS | emulator peak RSS |');
    lines.push('| ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
    lines.push(`| ${f(s.rps)} | ${f(s.p50Ms, 2)} | ${f(s.p99Ms, 2)} | ${f(s.requests)} | ${s.failed} | ${mib(s.rssKb)} | ${mib(s.emulatorRssKb)} |`);
    if (s.failed > 0) lines.push('', '**WARNING: some session starts failed; the row is not a valid figure.**');
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
    for (const [what, want, got, met] of t) lines.push(`| ${what} | ${want} | ${got} | ${met ? 'met' : '**missed**'} |`);
  }
  return lines.join('\n');
}

/** bench/results.md: the generated part, then the hand-written notes kept from the previous file. */
export function render(r, notes) {
  return [
    '# flexdesk benchmarks',
    '',
    'Written by `npm run bench` (`node bench/run.mjs`); everything above the notes is regenerated by each run.',
    'Figures are only comparable within one run: the machine has 2 cores shared by the servers, wrk and',
    'anything else running, so wrk and the server under test compete for the same cores.',
    '',
    table(r),
    '',
    notes || '<!-- notes -->\n## Notes\n\n(none yet)\n',
  ].join('\n');
}
