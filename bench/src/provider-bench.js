/**
 * The server provider benchmark: @vexil/server-provider's VexilProvider against the official
 * @openfeature/flagd-provider, both in-process, both connected to the same daemon over
 * flagd.sync, with the same 5,000-flag set, in the same run.
 *
 * Three views:
 * 1. through the OpenFeature client (`await client.getBooleanValue(...)`), which is what an
 *    application sees, next to the SDK ceiling: a provider that returns a constant. The SDK's own
 *    work per evaluation (context merging, hook contexts, freezing, several awaits) is most of the
 *    time there, so this ceiling bounds every ratio;
 * 2. at the provider (`await provider.resolveBooleanEvaluation(...)`), which isolates what a
 *    provider controls;
 * 3. memory with the flags loaded, each provider alone in a fresh process.
 *
 * Every provider runs in its own worker process (so the SDK's code is not shared, and neither
 * provider's garbage is collected on the other's time). The parent tells one worker at a time to
 * evaluate one case for a fixed time; the others sit idle. Rounds are interleaved, the order
 * rotates from round to round, and the figures are medians over rounds.
 *
 * Run with `npm run bench:provider` at the repository root (it builds first). Not a test.
 * Knobs: BENCH_QUICK=1, BENCH_ROUNDS, BENCH_CLIENT_MS, BENCH_PROVIDER_MS, BENCH_MEMORY_RUNS.
 */
import { fork } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { commitLabel, packageVersion, scratchRun, spawnNode, startDaemon, stop } from './daemon-lib.js';
import { CASE_FLAGS, makeContexts, makeFlagSet, toText } from './fixtures.js';
import { finishRun, fmtRate, fmtRatio, geomean, machine, median } from './harness.js';

const QUICK = process.env.BENCH_QUICK === '1';
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? (QUICK ? 3 : 7));
const CLIENT_MS = Number(process.env.BENCH_CLIENT_MS ?? (QUICK ? 300 : 1000)); // per provider, case and round
// Provider-level rates are 10-200x higher, so shorter runs still count millions of evaluations.
const PROVIDER_MS = Number(process.env.BENCH_PROVIDER_MS ?? (QUICK ? 200 : 400));
const WARMUP_MS = QUICK ? 200 : 400;
const MEMORY_RUNS = Number(process.env.BENCH_MEMORY_RUNS ?? (QUICK ? 2 : 5));
const TARGET = 2; // ours ÷ official evaluations per second, through the OpenFeature client (the issue)

const CHILD = fileURLToPath(new URL('./provider-bench-child.js', import.meta.url));
const BENCH_DIR = fileURLToPath(new URL('../', import.meta.url));
const PROVIDERS = ['ours', 'official', 'ceiling'];
const LABEL = { ours: 'ours', official: 'official', ceiling: 'SDK ceiling' };
const LEVELS = ['client', 'provider'];

// The same flags and the same kinds as core-bench.js (fixtures.js), inside the 5,000-flag set.
const CASES = [
  { id: 'static', title: 'static flag, boolean', flag: 'bench-static', type: 'boolean' },
  { id: 'fractional', title: 'fractional 50/50, boolean', flag: 'bench-rollout', type: 'boolean' },
  { id: 'ends_with_sem_ver', title: 'ends_with / sem_ver, string', flag: 'bench-semver', type: 'string' },
  { id: 'nested_fractional', title: 'fractional nested in if, string', flag: 'bench-nested-fractional', type: 'string' },
];

const t0 = performance.now();
const problems = [];
const notes = [];

// ---------------------------------------------------------------------------------------------
// Environment.

const env = {
  ...machine(),
  serverSdk: packageVersion('@openfeature/server-sdk'),
  flagdProvider: packageVersion('@openfeature/flagd-provider'),
  flagdCore: packageVersion('@openfeature/flagd-core'),
  grpcJs: packageVersion('@grpc/grpc-js'),
  commit: commitLabel(['providers/server/src', 'providers/core/src', 'daemon/src']),
  config: { quick: QUICK, rounds: ROUNDS, clientMs: CLIENT_MS, providerMs: PROVIDER_MS, warmupMs: WARMUP_MS, memoryRuns: MEMORY_RUNS, contexts: 1000 },
};

console.log('VexilProvider vs @openfeature/flagd-provider, in-process, same daemon and flags — interleaved rounds, medians; ratio > 1 is better for us');
console.log(
  `node ${env.node}, ${env.cpu} x${env.cpus}, server-sdk ${env.serverSdk}, flagd-provider ${env.flagdProvider} (flagd-core ${env.flagdCore}), ` +
    `grpc-js ${env.grpcJs}, ${ROUNDS} rounds of ${CLIENT_MS} ms (client) / ${PROVIDER_MS} ms (provider) per case, commit ${env.commit}`,
);

// ---------------------------------------------------------------------------------------------
// The daemon and the workers.

const { work, track, cleanup } = scratchRun('vexil-provider-bench-');

const setDoc = makeFlagSet(5000);
const flagDoc = { ...setDoc, flags: { ...CASE_FLAGS, ...setDoc.flags } };
const flagFile = join(work, 'flags.json');
writeFileSync(flagFile, toText(flagDoc));
const flagList = Object.entries(flagDoc.flags).map(([key, f]) => [key, typeof Object.values(f.variants)[0]]);
env.flagSet = { flags: flagList.length, chars: readFileSync(flagFile, 'utf8').length };
const keysFile = join(work, 'keys.json'); // for the memory children
writeFileSync(keysFile, JSON.stringify(flagList));

const daemon = await startDaemon(flagFile);
track(daemon.child);
const syncPort = daemon.ports.sync;

/** Forks one worker and resolves once its provider is READY, with `call(msg) → Promise<result>`. */
function startWorker(which) {
  const child = track(fork(CHILD, [which, String(syncPort), 'worker'], { cwd: BENCH_DIR, execArgv: ['--expose-gc'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
  const pending = new Map();
  let nextId = 0;
  let exited;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${which} worker: not ready within 30 s`)), 30_000);
    child.once('exit', (code, signal) => {
      exited = `${which} worker exited (${code ?? signal})`;
      clearTimeout(timer);
      reject(new Error(exited));
      for (const p of pending.values()) p.reject(new Error(exited));
    });
    child.on('message', (m) => {
      if (m.ready) {
        clearTimeout(timer);
        resolve({
          which,
          child,
          readyMs: m.readyMs,
          status: m.status,
          call(msg) {
            if (exited) return Promise.reject(new Error(exited));
            const id = ++nextId;
            return new Promise((res, rej) => {
              pending.set(id, { resolve: res, reject: rej });
              child.send({ ...msg, id });
            });
          },
        });
        return;
      }
      const p = pending.get(m.id);
      if (!p) return;
      pending.delete(m.id);
      if (m.error) p.reject(new Error(`${which}: ${m.error}`));
      else p.resolve(m.result);
    });
  });
}

const workers = {};
for (const w of PROVIDERS) workers[w] = await startWorker(w);
for (const w of ['ours', 'official']) {
  if (workers[w].status !== 'READY') problems.push(`${w}: provider status ${workers[w].status} after setProviderAndWait`);
}
console.log(`workers ready: ours ${workers.ours.readyMs.toFixed(0)} ms, official ${workers.official.readyMs.toFixed(0)} ms (connect + first 5,004-flag sync)`);

// ---------------------------------------------------------------------------------------------
// Sanity, before any timing: both real providers must resolve the same values, without errors,
// for the case flags on all 1,000 contexts and for every flag of the set on three contexts.

async function sanityCheck() {
  const allContexts = Array.from({ length: 1000 }, (_, i) => i);
  const caseFlags = CASES.map((c) => [c.flag, c.type]);
  const setContexts = [0, 333, 666];
  const [oursCases, officialCases, oursSet, officialSet] = await Promise.all([
    workers.ours.call({ cmd: 'check', flags: caseFlags, contextIndexes: allContexts }),
    workers.official.call({ cmd: 'check', flags: caseFlags, contextIndexes: allContexts }),
    workers.ours.call({ cmd: 'check', flags: flagList, contextIndexes: setContexts }),
    workers.official.call({ cmd: 'check', flags: flagList, contextIndexes: setContexts }),
  ]);
  const contexts = makeContexts(1000);
  const distributions = {};
  CASES.forEach((c, i) => {
    let valueDiffs = 0;
    let detailDiffs = 0;
    const seen = new Map();
    oursCases[i].forEach((a, j) => {
      const b = officialCases[i][j];
      if (a[3] || b[3]) {
        if (valueDiffs++ < 3) problems.push(`case ${c.id}: error: ours ${a[3] ?? '-'}, official ${b[3] ?? '-'} (ctx ${JSON.stringify(contexts[j])})`);
      } else if (a[0] !== b[0]) {
        if (valueDiffs++ < 3) problems.push(`case ${c.id}: ctx ${JSON.stringify(contexts[j])}: ours ${JSON.stringify(a[0])}, official ${JSON.stringify(b[0])}`);
      } else if (a[1] !== b[1] || a[2] !== b[2]) {
        if (detailDiffs++ < 2) notes.push(`case ${c.id}: same value, different details: ours ${a[1]}/${a[2]}, official ${b[1]}/${b[2]}`);
      }
      seen.set(a[0], (seen.get(a[0]) ?? 0) + 1);
    });
    if (valueDiffs > 0) problems.push(`case ${c.id}: ${valueDiffs} of 1000 contexts differ or fail`);
    if (seen.size < 2 && c.id !== 'static') problems.push(`case ${c.id}: every context resolves to the same value; the case exercises nothing`);
    distributions[c.id] = Object.fromEntries(seen);
  });
  let setDiffs = 0;
  const errors = { ours: 0, official: 0 };
  flagList.forEach(([key], i) => {
    setContexts.forEach((ci, j) => {
      const a = oursSet[i][j];
      const b = officialSet[i][j];
      if (a[3]) errors.ours++;
      if (b[3]) errors.official++;
      if ((a[3] ?? null) !== (b[3] ?? null) || (!a[3] && a[0] !== b[0])) {
        if (setDiffs++ < 3) problems.push(`set: ${key} ctx ${ci}: ours ${JSON.stringify(a)}, official ${JSON.stringify(b)}`);
      }
    });
  });
  if (setDiffs > 0) problems.push(`set: ${setDiffs} of ${flagList.length * setContexts.length} evaluations differ`);
  // flagd semantics: a disabled flag resolves to the default with reason DISABLED, not an error.
  const disabled = Object.values(flagDoc.flags).filter((f) => f.state === 'DISABLED').length;
  for (const w of ['ours', 'official']) if (errors[w] > 0) problems.push(`set: ${w} returned ${errors[w]} errors`);
  return { distributions, setEvaluations: flagList.length * setContexts.length, setErrors: errors, disabledFlags: disabled };
}

const sanity = await sanityCheck();
if (problems.length > 0) {
  const bar = '!'.repeat(100);
  console.error(`\n${bar}\n!!! WARNING: THE PROVIDERS DISAGREE OR FAIL; the comparison below is suspect:`);
  for (const p of problems) console.error(`!!!   ${p}`);
  console.error(bar);
} else {
  console.log(`sanity: ours and official agree on ${CASES.length} case flags x 1,000 contexts and ${sanity.setEvaluations} set evaluations`);
}
for (const n of notes) console.log(`note: ${n}`);

// ---------------------------------------------------------------------------------------------
// Throughput: interleaved rounds. In each round, for each level and case, every provider runs
// once, back to back; the order rotates by one each round. Round 0 is a warm-up, not recorded.

const rotate = (arr, k) => arr.map((_, i) => arr[(i + k) % arr.length]);
/** raw[level][case][provider] = evaluations/s per round */
const raw = Object.fromEntries(LEVELS.map((l) => [l, Object.fromEntries(CASES.map((c) => [c.id, Object.fromEntries(PROVIDERS.map((p) => [p, []]))]))]));

for (let round = 0; round <= ROUNDS; round++) {
  const warm = round === 0;
  const order = rotate(PROVIDERS, round);
  const tr = performance.now();
  const line = [];
  for (const level of LEVELS) {
    const ms = warm ? WARMUP_MS : level === 'client' ? CLIENT_MS : PROVIDER_MS;
    const ratios = [];
    for (const c of CASES) {
      const rate = {};
      for (const w of order) {
        const r = await workers[w].call({ cmd: 'run', level, type: c.type, flag: c.flag, ms });
        rate[w] = (r.n / r.ms) * 1000;
        if (!warm) raw[level][c.id][w].push(rate[w]);
      }
      ratios.push(fmtRatio(rate.ours / rate.official));
    }
    line.push(`${level} ours/official ${ratios.join(' ')}`);
  }
  const secs = ((performance.now() - tr) / 1000).toFixed(1);
  console.log(`${warm ? 'warm-up' : `round ${round}/${ROUNDS}`} (${order.join(', ')}; ${secs} s): ${line.join(' | ')}`);
}

await Promise.all(Object.values(workers).map((w) => w.call({ cmd: 'exit' }).catch(() => {})));

// ---------------------------------------------------------------------------------------------
// Memory: a fresh process per run and provider, one at a time, alternating which goes first.

const memRuns = { ours: [], official: [] };
for (let i = 0; i < MEMORY_RUNS; i++) {
  for (const w of i % 2 === 0 ? ['ours', 'official'] : ['official', 'ours']) {
    const proc = await spawnNode(CHILD, [w, String(syncPort), 'memory', keysFile], { cwd: BENCH_DIR, nodeArgs: ['--expose-gc'], isReady: (o) => 'which' in o, timeoutMs: 60_000 });
    track(proc.child);
    const m = proc.info;
    if (m.errors !== 0) problems.push(`memory ${w}: ${m.errors} evaluation errors while touching every flag`);
    memRuns[w].push(m);
    await stop(proc.child);
  }
  console.log(
    `memory run ${i + 1}/${MEMORY_RUNS}: heap used ours ${mb(memRuns.ours[i].loaded.heapUsed)}, official ${mb(memRuns.official[i].loaded.heapUsed)}; ` +
      `RSS ours ${mb(memRuns.ours[i].loaded.rss)}, official ${mb(memRuns.official[i].loaded.rss)}`,
  );
}

function mb(bytes) {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

// ---------------------------------------------------------------------------------------------
// Summary and tables.

const summary = { client: {}, provider: {} };
for (const level of LEVELS) {
  for (const c of CASES) {
    const r = raw[level][c.id];
    const med = Object.fromEntries(PROVIDERS.map((p) => [p, median(r[p])]));
    const paired = r.ours.map((x, i) => x / r.official[i]);
    summary[level][c.id] = {
      title: c.title,
      opsPerSec: med,
      oursMinMax: [Math.min(...r.ours), Math.max(...r.ours)],
      officialMinMax: [Math.min(...r.official), Math.max(...r.official)],
      oursOverOfficial: med.ours / med.official,
      oursOverOfficialRange: [Math.min(...paired), Math.max(...paired)],
      ceilingOverOfficial: med.ceiling / med.official,
      oursOverCeiling: med.ours / med.ceiling,
    };
  }
  const rows = Object.values(summary[level]);
  summary[level].geomean = {
    oursOverOfficial: geomean(rows.map((s) => s.oursOverOfficial)),
    ceilingOverOfficial: geomean(rows.map((s) => s.ceilingOverOfficial)),
    oursOverCeiling: geomean(rows.map((s) => s.oursOverCeiling)),
  };
}

const memKeys = [
  ['loaded', 'heapUsed', 'heap used, 5,004 flags loaded'],
  ['loaded', 'rss', 'RSS, 5,004 flags loaded'],
  ['evaluated', 'heapUsed', 'heap used, after evaluating every flag once'],
  ['evaluated', 'rss', 'RSS, after evaluating every flag once'],
];
const memory = {};
for (const [phase, field, title] of memKeys) {
  const ours = median(memRuns.ours.map((m) => m[phase][field]));
  const official = median(memRuns.official.map((m) => m[phase][field]));
  memory[`${phase}.${field}`] = {
    title,
    ours,
    official,
    officialOverOurs: official / ours,
    oursRange: [Math.min(...memRuns.ours.map((m) => m[phase][field])), Math.max(...memRuns.ours.map((m) => m[phase][field]))],
    officialRange: [Math.min(...memRuns.official.map((m) => m[phase][field])), Math.max(...memRuns.official.map((m) => m[phase][field]))],
  };
}
memory.baselineRss = { ours: median(memRuns.ours.map((m) => m.before.rss)), official: median(memRuns.official.map((m) => m.before.rss)) };

function printTable(headers, rows) {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const fmt = (r) => r.map((x, i) => (i === 0 ? String(x).padEnd(widths[i]) : String(x).padStart(widths[i]))).join('  ');
  console.log(fmt(headers));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) console.log(fmt(r));
}
const range = ([a, b]) => `${fmtRatio(a)} – ${fmtRatio(b)}`;

const cl = summary.client;
console.log(`\n1. Through the OpenFeature client (await client.getBooleanValue / getStringValue), evaluations/s, median of ${ROUNDS} rounds`);
printTable(
  ['case', 'ours', 'official', 'SDK ceiling', 'ours ÷ official', 'min – max', 'ceiling ÷ official', 'ours ÷ ceiling'],
  [
    ...CASES.map((c) => {
      const s = cl[c.id];
      return [c.title, fmtRate(s.opsPerSec.ours), fmtRate(s.opsPerSec.official), fmtRate(s.opsPerSec.ceiling), fmtRatio(s.oursOverOfficial), range(s.oursOverOfficialRange), fmtRatio(s.ceilingOverOfficial), fmtRatio(s.oursOverCeiling)];
    }),
    ['geometric mean', '', '', '', fmtRatio(cl.geomean.oursOverOfficial), '', fmtRatio(cl.geomean.ceilingOverOfficial), fmtRatio(cl.geomean.oursOverCeiling)],
  ],
);

const pr = summary.provider;
console.log(`\n2. Provider level (await provider.resolveBooleanEvaluation / resolveStringEvaluation), evaluations/s, median of ${ROUNDS} rounds`);
printTable(
  ['case', 'ours', 'official', 'constant provider', 'ours ÷ official', 'min – max'],
  [
    ...CASES.map((c) => {
      const s = pr[c.id];
      return [c.title, fmtRate(s.opsPerSec.ours), fmtRate(s.opsPerSec.official), fmtRate(s.opsPerSec.ceiling), fmtRatio(s.oursOverOfficial), range(s.oursOverOfficialRange)];
    }),
    ['geometric mean', '', '', '', fmtRatio(pr.geomean.oursOverOfficial), ''],
  ],
);

console.log(`\n3. Memory, each provider alone in a fresh process, minus that process's baseline before the provider was created; median of ${MEMORY_RUNS} runs`);
printTable(
  ['measure', 'ours', 'official', 'official ÷ ours'],
  memKeys.map(([phase, field]) => {
    const m = memory[`${phase}.${field}`];
    return [m.title, mb(m.ours), mb(m.official), fmtRatio(m.officialOverOurs)];
  }),
);
console.log(`   (baseline RSS with the SDK and the provider's modules imported: ours ${mb(memory.baselineRss.ours)}, official ${mb(memory.baselineRss.official)})`);

const met = cl.geomean.oursOverOfficial >= TARGET;
const verdict = {
  target: `ours ÷ official >= ${TARGET}x through the OpenFeature client (geometric mean)`,
  value: cl.geomean.oursOverOfficial,
  met,
  sdkBound: cl.geomean.ceilingOverOfficial,
  oursOverCeiling: cl.geomean.oursOverCeiling,
  providerLevel: pr.geomean.oursOverOfficial,
};
console.log(
  `\nTarget >= ${TARGET}x through the client: ${fmtRatio(verdict.value)} — ${met ? 'met' : 'NOT MET'}. ` +
    `The SDK alone (a provider returning a constant) reaches ${fmtRatio(verdict.sdkBound)} the official provider's rate here, so no provider can do better ` +
    `through this SDK; ours reaches ${fmtRatio(verdict.oursOverCeiling)} of that ceiling. At the provider, ours is ${fmtRatio(verdict.providerLevel)} the official one.`,
);

finishRun({
  t0,
  problems,
  file: 'provider-bench.json',
  results: {
    env,
    note: 'Medians of interleaved rounds on a possibly noisy shared machine: read the ratios, not the absolute rates.',
    sanity: { ok: problems.length === 0, problems, notes, ...sanity },
    cases: CASES,
    summary,
    memory,
    verdict,
    raw,
    memoryRuns: memRuns,
  },
});

await stop(daemon.child);
cleanup();
// The official provider's gRPC channel can keep a process alive after close; this one has
// nothing left to do, so it does not wait for anything.
process.exit(problems.length > 0 ? 1 : 0);
