/**
 * Evaluation latency under management API reads (issue 7): OFREP single-flag evaluations against
 * a daemon serving a large flag file, first alone, then while viewers list the flags through
 * `GET /api/v1/flags` the way the dashboard does (every page, limit 5000). Before the list was
 * cached and paged, each list call re-read and re-parsed the whole file, and six of them stalled
 * evaluation for seconds; the figure that matters is the OFREP p50/p99 ratio between the phases.
 *
 * The readers run in worker threads (their own event loops), so reading the pages does not delay
 * the bench's own OFREP timing loop; on a 2-core machine they still compete for the CPU. Not a
 * test: `npm run bench:admin-reads`. Knobs: BENCH_FLAGS (default 105000), BENCH_READERS (6),
 * BENCH_SECONDS per phase (10), BENCH_QUICK=1 (20000 flags, 5 s).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { commitLabel, nowMs, rssKb, sleep, scratchRun, startDaemon, stop } from './daemon-lib.js';
import { finishRun, machine, median, quantile } from './harness.js';

const QUICK = process.env.BENCH_QUICK === '1';
const FLAGS = Number(process.env.BENCH_FLAGS ?? (QUICK ? 20_000 : 105_000));
const READERS = Number(process.env.BENCH_READERS ?? 6);
const SECONDS = Number(process.env.BENCH_SECONDS ?? (QUICK ? 5 : 10));

const t0 = performance.now();
const problems = [];
const run = scratchRun('vexil-admin-reads-bench-');
const file = join(run.work, 'flags.json');

// About 520 bytes a flag, as in the report (105,000 flags, 55 MB): targeting and some metadata.
const flags = {};
for (let i = 0; i < FLAGS; i++) {
  flags[`flag-${i}`] = {
    state: i % 7 === 0 ? 'DISABLED' : 'ENABLED',
    variants: { on: true, off: false },
    defaultVariant: 'off',
    targeting: { if: [{ in: [{ var: 'country' }, ['US', 'CA', 'GB', 'DE', 'FR']] }, 'on', { if: [{ ends_with: [{ var: 'email' }, '@example.com'] }, 'on', null] }] },
    metadata: {
      owner: `team-${i % 40}@example.com`,
      description: `Flag ${i}: rollout of feature ${i % 977} for the ${['checkout', 'search', 'profile', 'billing'][i % 4]} area, owned by team ${i % 40}`,
      createdAt: '2026-01-01T00:00:00.000Z',
      updatedAt: '2026-06-01T00:00:00.000Z',
    },
  };
}
// Compact, as in the report (55 MB for 105,000 flags).
const text = `${JSON.stringify({ flags, metadata: { flagSetId: 'bench' } })}\n`;
writeFileSync(file, text);
console.log(`flag file: ${FLAGS} flags, ${(text.length / 1e6).toFixed(1)} MB; ${READERS} list readers; ${SECONDS} s per phase`);

// The readers share one address: lift the per-address limit (600 a minute) so none is refused.
const daemon = run.track(await startDaemon(file, { extraArgs: ['--admin-rate-limit', '1000000'] }));
const ofrep = `http://127.0.0.1:${daemon.ports.ofrep}/ofrep/v1/evaluate/flags/`;
const api = `http://127.0.0.1:${daemon.ports.management}/api/v1`;
const body = JSON.stringify({ context: { targetingKey: 'user-7', country: 'DE', email: 'user-7@example.com' } });

/** Sequential OFREP evaluations of random flags for `seconds`: latency samples in ms. */
async function evaluations(seconds) {
  const samples = [];
  const end = nowMs() + seconds * 1000;
  let failures = 0;
  let firstFailure;
  while (nowMs() < end) {
    // Only enabled flags: a disabled one answers OFREP's flag-not-found style error, not a value.
    let n = Math.floor(Math.random() * FLAGS);
    if (n % 7 === 0) n = (n + 1) % FLAGS;
    const key = `flag-${n}`;
    const start = nowMs();
    const res = await fetch(ofrep + key, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    const answer = await res.text();
    samples.push(nowMs() - start);
    if (res.status !== 200 && failures++ === 0) firstFailure = `${key}: HTTP ${res.status} ${answer.slice(0, 200)}`;
  }
  if (failures > 0) problems.push(`${failures} OFREP evaluations did not answer 200 (first: ${firstFailure})`);
  return samples;
}

// A reader keeps only what it needs (the status and the nextCursor at the end of the body): a
// dashboard parses its pages on another machine, and parsing megabytes here would take the CPU
// from the daemon and overstate the slowdown.
const READER = `
const http = require('node:http');
const { parentPort, workerData } = require('node:worker_threads');
const now = () => Number(process.hrtime.bigint()) / 1e6;
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
let stopped = false;
parentPort.on('message', () => (stopped = true));
const get = (url) => new Promise((resolve, reject) => {
  http.get(url, { agent }, (res) => {
    let tail = Buffer.alloc(0);
    res.on('data', (c) => (tail = Buffer.concat([tail.subarray(-512), c]).subarray(-1024)));
    res.on('end', () => resolve({ status: res.statusCode, tail: tail.toString('utf8') }));
    res.on('error', reject);
  }).on('error', reject);
});
(async () => {
  const pages = [], walks = [];
  let errors = 0;
  while (!stopped) {
    const walkStart = now();
    let cursor, n = 0;
    do {
      const start = now();
      const res = await get(workerData.api + '/flags?limit=5000' + (cursor ? '&cursor=' + encodeURIComponent(cursor) : ''));
      pages.push(now() - start);
      if (res.status !== 200) { errors++; break; }
      n++;
      const m = /"nextCursor":"([^"]+)"}$/.exec(res.tail);
      cursor = m ? m[1] : undefined;
    } while (cursor !== undefined && !stopped);
    if (cursor === undefined && n === Math.ceil(workerData.flags / 5000)) walks.push(now() - walkStart);
    if (workerData.pauseMs > 0) await new Promise((r) => setTimeout(r, workerData.pauseMs));
  }
  agent.destroy();
  parentPort.postMessage({ pages, walks, errors });
})();
`;

/** Starts the readers: back to back (pauseMs 0, the worst case), or pausing between walks like a dashboard refreshing. */
function startReaders(pauseMs) {
  const workers = Array.from({ length: READERS }, () => new Worker(READER, { eval: true, workerData: { api, flags: FLAGS, pauseMs } }));
  const results = workers.map((w) => new Promise((resolve, reject) => (w.once('message', resolve), w.once('error', reject))));
  return async () => {
    for (const w of workers) w.postMessage('stop');
    const all = await Promise.all(results);
    await Promise.all(workers.map((w) => w.terminate()));
    return { pages: all.flatMap((r) => r.pages), walks: all.flatMap((r) => r.walks), errors: all.reduce((a, r) => a + r.errors, 0) };
  };
}

const stats = (xs) => ({ n: xs.length, p50Ms: median(xs), p99Ms: quantile(xs, 0.99), maxMs: xs.length ? Math.max(...xs) : NaN });

await evaluations(1); // warm-up: connections, compiled rules
// The first list after a change parses the whole file on the daemon's thread (as the file source
// did when it loaded it): timed on its own, then the phases measure the steady state.
const coldStart = nowMs();
let coldPages = 0;
for (let cursor; ; ) {
  const res = await fetch(`${api}/flags?limit=5000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
  const page = await res.json();
  coldPages++;
  if (res.status !== 200) {
    problems.push(`cold list: HTTP ${res.status}`);
    break;
  }
  cursor = page.nextCursor;
  if (cursor === undefined) break;
}
const coldMs = nowMs() - coldStart;
console.log(`first list after start, every page (${coldPages} pages, parse included): ${coldMs.toFixed(0)} ms`);
const rssBefore = rssKb(daemon.child.pid);
const alone = stats(await evaluations(SECONDS));
const rssMaxOf = async (phase) => {
  let max = rssKb(daemon.child.pid);
  const probe = setInterval(() => (max = Math.max(max, rssKb(daemon.child.pid))), 250);
  try {
    return { result: await phase(), max };
  } finally {
    clearInterval(probe);
  }
};
/** One loaded phase: OFREP timed while the readers list. */
async function underReads(pauseMs) {
  const stopReaders = startReaders(pauseMs);
  await sleep(200);
  const { result: evals, max } = await rssMaxOf(() => evaluations(SECONDS));
  const readers = await stopReaders();
  if (readers.errors > 0) problems.push(`${readers.errors} list pages did not answer 200`);
  if (readers.walks.length === 0) problems.push(`no reader finished listing every flag (pause ${pauseMs} ms)`);
  return { ofrep: stats(evals), page: stats(readers.pages), walk: stats(readers.walks), rssMaxKb: max };
}
const PACE_MS = 1_000;
const busy = await underReads(0);
const paced = await underReads(PACE_MS);
const rssMax = Math.max(busy.rssMaxKb, paced.rssMaxKb);
const ratio = (phase) => ({ p50: phase.ofrep.p50Ms / alone.p50Ms, p99: phase.ofrep.p99Ms / alone.p99Ms });
const f = (x) => (Number.isFinite(x) ? x.toFixed(1) : '–').padStart(10);
const row = (label, st) => console.log(`${label.padEnd(60)}${String(st.n).padStart(8)}${f(st.p50Ms)}${f(st.p99Ms)}${f(st.maxMs)}`);
console.log(`\n${'ms'.padEnd(60)}${'n'.padStart(8)}${'p50'.padStart(10)}${'p99'.padStart(10)}${'max'.padStart(10)}`);
row('OFREP evaluation, no admin reads', alone);
for (const [name, phase] of [[`${READERS} readers back to back`, busy], [`${READERS} readers, ${PACE_MS} ms between walks`, paced]]) {
  row(`OFREP evaluation, ${name}`, phase.ofrep);
  row(`  GET /api/v1/flags?limit=5000 (one page)`, phase.page);
  row(`  every page (${FLAGS} flags)`, phase.walk);
}
for (const [name, phase] of [['back to back', busy], ['paced', paced]]) {
  const r = ratio(phase);
  console.log(`OFREP under admin reads (${name}) ÷ alone: p50 ×${r.p50.toFixed(2)}, p99 ×${r.p99.toFixed(2)}`);
}
console.log(`daemon RSS: ${(rssBefore / 1024).toFixed(0)} MiB before the readers, ${(rssMax / 1024).toFixed(0)} MiB at most while they ran`);

await stop(daemon.child);
run.cleanup();
finishRun({
  t0,
  problems,
  file: 'admin-reads-latest.json',
  results: {
    env: { ...machine(), flags: FLAGS, megabytes: text.length / 1e6, readers: READERS, secondsPerPhase: SECONDS, commit: commitLabel(['daemon/src']) },
    note: 'One run on a possibly noisy shared machine; the readers and the daemon share its cores.',
    ofrep: { alone, backToBack: busy.ofrep, paced: paced.ofrep, ratio: { backToBack: ratio(busy), paced: ratio(paced) } },
    list: { firstWalkMs: coldMs, backToBack: { page: busy.page, allPages: busy.walk }, paced: { pauseMs: PACE_MS, page: paced.page, allPages: paced.walk } },
    rssKb: { before: rssBefore, max: rssMax },
  },
});
