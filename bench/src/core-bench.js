/**
 * @vexil/core against @openfeature/flagd-core's FlagdCore, in one process, on identical inputs.
 *
 * Every case runs in interleaved rounds (the two engines alternate, and which one goes first
 * alternates too, so drift and noise land on both), and the figures are medians over rounds. The
 * ratios compare the two engines; absolute numbers depend on the machine and mean little.
 *
 * Run with `npm run bench` at the repository root (it builds first). Not part of the test run.
 * Environment knobs: BENCH_ROUNDS (default 15), BENCH_QUICK=1 (fewer rounds, shorter rounds).
 *
 * Next to the fractional case runs its floor: a loop that does nothing but hash the same keys
 * (murmur3Utf8 over flagKey + targetingKey, joined once beforehand, for the same 1,000 contexts).
 * No evaluation can bucket faster than that, so fractional ÷ floor says what is left to win.
 */
import { execSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

import { Evaluator, murmur3Utf8 } from '@vexil/core';
import { FlagdCore } from '@openfeature/flagd-core';

import { CASE_FLAGS, makeContexts, makeFlagSet, toText } from './fixtures.js';
import { calibrate, fmtMs, fmtRate, fmtRatio, geomean, machine, median, timeIt } from './harness.js';

const QUICK = process.env.BENCH_QUICK === '1';
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? (QUICK ? 5 : 15));
const EVAL_ROUND_SEC = QUICK ? 0.02 : 0.05; // per engine, per round
const LOAD_ROUND_SEC = QUICK ? 0.1 : 0.25;
const TARGETS = { evalGeomean: 3, evalEach: 5, load: 10, resync: 20 };

if (typeof globalThis.gc !== 'function') {
  console.warn('note: run with --expose-gc (npm run bench does) so the heap is collected between rounds');
}

// ---------------------------------------------------------------------------------------------
// Inputs, shared by both engines.

const contexts = makeContexts(1000);
const NC = contexts.length;
const setDoc = makeFlagSet(5000);
const setText = toText(setDoc);
// The evaluation cases resolve their four flags inside the big set, so the key lookup is realistic.
const evalText = toText({ ...setDoc, flags: { ...CASE_FLAGS, ...setDoc.flags } });

// One flag changed: a static flag's default variant flipped.
const changedDoc = structuredClone(setDoc);
const changedKey = Object.keys(changedDoc.flags).find((k) => k.startsWith('static-'));
changedDoc.flags[changedKey].defaultVariant = changedDoc.flags[changedKey].defaultVariant === 'on' ? 'off' : 'on';
const changedText = toText(changedDoc);

// Distinct string instances with the same text as setText (Buffer round trip: new flat strings).
const freshCopies = Array.from({ length: 4 }, () => Buffer.from(setText, 'utf8').toString('utf8'));

// FlagdCore in its default mode: json-logic-engine compiles rules with `new Function` (its
// fastest mode), and the default logger (debug is a no-op).
const ours = new Evaluator();
ours.setFlags(evalText);
const theirs = new FlagdCore();
theirs.setConfigurations(evalText);

// ---------------------------------------------------------------------------------------------
// Evaluation cases. Each engine gets its own loop literal, so neither shares JIT feedback with the
// other; both cycle through the same contexts and consume the same field of the result.

const EVAL_CASES = [
  {
    id: 'static',
    title: '1. static flag, boolean',
    flag: 'bench-static',
    type: 'boolean',
    ours(n) {
      let s = 0;
      let j = 0;
      for (let i = 0; i < n; i++) {
        if (ours.resolveBoolean('bench-static', false, contexts[j]).value === true) s++;
        if (++j === NC) j = 0;
      }
      return s;
    },
    theirs(n) {
      let s = 0;
      let j = 0;
      for (let i = 0; i < n; i++) {
        if (theirs.resolveBooleanEvaluation('bench-static', false, contexts[j]).value === true) s++;
        if (++j === NC) j = 0;
      }
      return s;
    },
  },
  {
    id: 'fractional',
    title: '2. fractional 50/50, boolean',
    flag: 'bench-rollout',
    type: 'boolean',
    ours(n) {
      let s = 0;
      let j = 0;
      for (let i = 0; i < n; i++) {
        if (ours.resolveBoolean('bench-rollout', false, contexts[j]).value === true) s++;
        if (++j === NC) j = 0;
      }
      return s;
    },
    theirs(n) {
      let s = 0;
      let j = 0;
      for (let i = 0; i < n; i++) {
        if (theirs.resolveBooleanEvaluation('bench-rollout', false, contexts[j]).value === true) s++;
        if (++j === NC) j = 0;
      }
      return s;
    },
  },
  {
    id: 'ends_with_sem_ver',
    title: '3. ends_with / sem_ver, string',
    flag: 'bench-semver',
    type: 'string',
    ours(n) {
      let s = 0;
      let j = 0;
      for (let i = 0; i < n; i++) {
        s += ours.resolveString('bench-semver', 'x', contexts[j]).value.length;
        if (++j === NC) j = 0;
      }
      return s;
    },
    theirs(n) {
      let s = 0;
      let j = 0;
      for (let i = 0; i < n; i++) {
        s += theirs.resolveStringEvaluation('bench-semver', 'x', contexts[j]).value.length;
        if (++j === NC) j = 0;
      }
      return s;
    },
  },
  {
    id: 'nested_fractional',
    title: '4. fractional inside if/in, string',
    flag: 'bench-nested-fractional',
    type: 'string',
    ours(n) {
      let s = 0;
      let j = 0;
      for (let i = 0; i < n; i++) {
        s += ours.resolveString('bench-nested-fractional', 'x', contexts[j]).value.length;
        if (++j === NC) j = 0;
      }
      return s;
    },
    theirs(n) {
      let s = 0;
      let j = 0;
      for (let i = 0; i < n; i++) {
        s += theirs.resolveStringEvaluation('bench-nested-fractional', 'x', contexts[j]).value.length;
        if (++j === NC) j = 0;
      }
      return s;
    },
  },
];

// ---------------------------------------------------------------------------------------------
// Sanity checks, once, before any timing.

const problems = [];
const notes = [];

function resolveBoth(flagKey, type, ctx) {
  if (type === 'boolean') return [ours.resolveBoolean(flagKey, false, ctx), theirs.resolveBooleanEvaluation(flagKey, false, ctx)];
  return [ours.resolveString(flagKey, '<default>', ctx), theirs.resolveStringEvaluation(flagKey, '<default>', ctx)];
}

function sanityCheck() {
  // Every evaluation case, every context: same value (and we note variant/reason differences).
  for (const c of EVAL_CASES) {
    let valueDiffs = 0;
    let detailDiffs = 0;
    const seen = new Map();
    for (const ctx of contexts) {
      const [a, b] = resolveBoth(c.flag, c.type, ctx);
      if (a.value !== b.value) {
        if (valueDiffs++ < 3) problems.push(`case ${c.id}: ctx ${JSON.stringify(ctx)}: ours ${JSON.stringify(a.value)}, theirs ${JSON.stringify(b.value)}`);
      } else if (a.variant !== b.variant || a.reason !== b.reason) {
        if (detailDiffs++ < 2) notes.push(`case ${c.id}: same value, different details: ours ${a.variant}/${a.reason}, theirs ${b.variant}/${b.reason}`);
      }
      seen.set(a.value, (seen.get(a.value) ?? 0) + 1);
    }
    if (valueDiffs > 0) problems.push(`case ${c.id}: ${valueDiffs} of ${NC} contexts resolve to different values`);
    c.distribution = Object.fromEntries(seen);
    if (seen.size < 2 && c.id !== 'static') problems.push(`case ${c.id}: every context resolves to the same value; the case exercises nothing`);
  }

  // The whole 5,000-flag set against a sample of contexts: the load cases load a set both engines
  // read the same way.
  let setDiffs = 0;
  for (const [key, flag] of Object.entries(setDoc.flags)) {
    const type = typeof Object.values(flag.variants)[0];
    for (let j = 0; j < NC; j += 40) {
      const [a, b] = resolveBoth(key, type, contexts[j]);
      if (a.value !== b.value && setDiffs++ < 3) {
        problems.push(`flag set: ${key}, ctx ${j}: ours ${JSON.stringify(a.value)}, theirs ${JSON.stringify(b.value)}`);
      }
    }
  }
  if (setDiffs > 0) problems.push(`flag set: ${setDiffs} flag/context pairs resolve to different values`);

  // Neither engine should complain about the documents (FlagdCore validates against flagd's schema
  // and reports at debug level; catch that with a capturing logger here only).
  const complaints = [];
  const capture = { debug: (...a) => complaints.push(a.join(' ')), info() {}, warn: (...a) => complaints.push(a.join(' ')), error: (...a) => complaints.push(a.join(' ')) };
  const probe = new FlagdCore(undefined, capture);
  probe.setConfigurations(setText);
  probe.setConfigurations(evalText);
  if (complaints.length > 0) problems.push(`FlagdCore complained while loading: ${complaints[0].slice(0, 300)}`);
  const loaded = new Evaluator().load(setText);
  if (loaded.warnings.length > 0) problems.push(`@vexil/core warned while loading: ${loaded.warnings[0].message}`);
  if (new Evaluator().load(evalText).warnings.length > 0) problems.push('@vexil/core warned while loading the evaluation set');

  // Change lists: unchanged re-sync reports nothing, a one-flag change reports that flag.
  const e = new Evaluator();
  const f = new FlagdCore();
  e.setFlags(setText);
  f.setConfigurations(setText);
  const same = [e.setFlags(setText), f.setConfigurations(setText), e.setFlags(freshCopies[0]), f.setConfigurations(freshCopies[0])];
  if (same.some((l) => l.length !== 0)) problems.push(`unchanged re-sync reported changes: ${same.map((l) => l.length).join(', ')}`);
  const one = [e.setFlags(changedText), f.setConfigurations(changedText)];
  if (one.some((l) => l.length !== 1 || l[0] !== changedKey)) problems.push(`one-flag re-sync: expected [${changedKey}], got ${JSON.stringify(one)}`);
  if (!freshCopies.every((s) => s === setText)) problems.push('fresh string copies differ from the original text');
}

// ---------------------------------------------------------------------------------------------
// Interleaved rounds.

let sink = 0;
const consume = (x) => {
  sink = (sink + x) | 0;
};

/**
 * Runs `rounds` rounds of both sides, `n.ours` / `n.theirs` operations each; even rounds run ours
 * first, odd rounds theirs first. Returns per-round seconds per operation for each side.
 */
function interleave(sides, n, rounds) {
  const perOp = { ours: [], theirs: [] };
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 === 0 ? ['ours', 'theirs'] : ['theirs', 'ours'];
    for (const side of order) {
      const t = timeIt(sides[side], n[side], consume);
      perOp[side].push(t / n[side]);
    }
  }
  return perOp;
}

/** Summary of one comparison: medians, ratio of medians, spread of the per-round paired ratios. */
function summarize(perOp) {
  const ratios = perOp.ours.map((o, i) => perOp.theirs[i] / o); // ours ops/s ÷ theirs ops/s
  const oursMed = median(perOp.ours);
  const theirsMed = median(perOp.theirs);
  return {
    oursSecPerOp: oursMed,
    theirsSecPerOp: theirsMed,
    oursOpsPerSec: 1 / oursMed,
    theirsOpsPerSec: 1 / theirsMed,
    ratio: theirsMed / oursMed,
    medianPairedRatio: median(ratios),
    minRatio: Math.min(...ratios),
    maxRatio: Math.max(...ratios),
    rounds: perOp.ours.length,
    roundsSecPerOp: perOp,
  };
}

function runEvalCase(c) {
  const sides = { ours: c.ours, theirs: c.theirs };
  const n = {
    ours: calibrate(c.ours, EVAL_ROUND_SEC, NC, NC, consume),
    theirs: calibrate(c.theirs, EVAL_ROUND_SEC, NC, NC, consume),
  };
  const s = summarize(interleave(sides, n, ROUNDS));
  return { id: c.id, title: c.title, flag: c.flag, opsPerRound: n, distribution: c.distribution, ...s };
}

function runLoadCase(id, title, sides, rounds = ROUNDS) {
  const n = {
    ours: calibrate(sides.ours, LOAD_ROUND_SEC, 1, 2, consume),
    theirs: calibrate(sides.theirs, LOAD_ROUND_SEC, 1, 2, consume),
  };
  return { id, title, opsPerRound: n, ...summarize(interleave(sides, n, rounds)) };
}

// ---------------------------------------------------------------------------------------------

const t0 = performance.now();
const require = createRequire(import.meta.url);
const env = {
  ...machine(),
  v8: process.versions.v8,
  flagdCore: require('@openfeature/flagd-core/package.json').version,
  flagdCoreMode: 'default (compiled: json-logic-engine with new Function)',
  vexilCore: JSON.parse(readFileSync(new URL('../../providers/core/package.json', import.meta.url), 'utf8')).version,
  commit: (() => {
    try {
      const head = execSync('git rev-parse --short HEAD', { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
      const dirty = execSync('git status --porcelain -- providers/core', { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
      return dirty ? `${head} (+ uncommitted changes in providers/core)` : head;
    } catch {
      return 'unknown';
    }
  })(),
  gcBetweenRounds: typeof globalThis.gc === 'function',
  rounds: ROUNDS,
  contexts: NC,
  flagSet: { flags: Object.keys(setDoc.flags).length, chars: setText.length },
};

console.log('@vexil/core vs @openfeature/flagd-core — interleaved rounds, medians; ratio = ours ops/s ÷ theirs ops/s');
console.log(
  `node ${env.node}, ${env.cpu} x${env.cpus}, flagd-core ${env.flagdCore} in its ${env.flagdCoreMode} mode, ${ROUNDS} rounds, ${NC} contexts, ` +
    `flag set: ${env.flagSet.flags} flags / ${(env.flagSet.chars / 1e6).toFixed(2)} MB of JSON, commit ${env.commit}`,
);

sanityCheck();
if (problems.length > 0) {
  const bar = '!'.repeat(100);
  console.error(`\n${bar}\n!!! WARNING: THE ENGINES DISAGREE OR AN INPUT IS BAD; the comparison below is suspect:`);
  for (const p of problems) console.error(`!!!   ${p}`);
  console.error(`${bar}\n`);
} else {
  console.log('sanity check: both engines agree on every case/context and on the 5,000-flag set sample');
}
for (const n of notes) console.log(`note: ${n}`);

// Warm both engines on every evaluation case before measuring any, so the JIT state reflects an
// application that evaluates all of them.
for (let pass = 0; pass < 2; pass++) {
  for (const c of EVAL_CASES) {
    for (const side of [c.ours, c.theirs]) {
      const end = performance.now() + (QUICK ? 50 : 150);
      while (performance.now() < end) consume(side(NC));
    }
  }
}

const evalResults = [];
for (const c of EVAL_CASES) evalResults.push(runEvalCase(c));

// The floor of case 2: only the hashing, interleaved with our case-2 loop so both see the same
// machine. The keys are joined (and flattened, by a Buffer round trip) before timing, so the loop
// measures the hash alone.
const floorKeys = contexts.map((ctx) => Buffer.from(`bench-rollout${ctx.targetingKey}`, 'utf8').toString('utf8'));
const fractionalCase = EVAL_CASES.find((c) => c.id === 'fractional');
function hashOnly(n) {
  let s = 0;
  let j = 0;
  for (let i = 0; i < n; i++) {
    s = (s + murmur3Utf8(floorKeys[j])) | 0;
    if (++j === NC) j = 0;
  }
  return s;
}
const floorRun = (() => {
  const sides = { ours: hashOnly, theirs: fractionalCase.ours };
  const n = { ours: calibrate(hashOnly, EVAL_ROUND_SEC, NC, NC, consume), theirs: calibrate(fractionalCase.ours, EVAL_ROUND_SEC, NC, NC, consume) };
  const s = summarize(interleave(sides, n, ROUNDS));
  return {
    id: 'fractional_floor',
    title: '2f. floor of 2: murmur3Utf8 only',
    floorSecPerOp: s.oursSecPerOp,
    fractionalSecPerOp: s.theirsSecPerOp,
    // How many floors one of our fractional evaluations costs (1 would be hashing and nothing else).
    fractionalOverFloor: s.ratio,
    minFractionalOverFloor: s.minRatio,
    maxFractionalOverFloor: s.maxRatio,
    rounds: s.rounds,
    roundsSecPerOp: { floor: s.roundsSecPerOp.ours, fractional: s.roundsSecPerOp.theirs },
  };
})();

// 5. Loading the 5,000-flag set into a fresh engine each time.
const load = runLoadCase('load', '5. load 5,000 flags (fresh engine each)', {
  ours(n) {
    let s = 0;
    for (let i = 0; i < n; i++) s += new Evaluator().setFlags(setText).length;
    return s;
  },
  theirs(n) {
    let s = 0;
    for (let i = 0; i < n; i++) s += new FlagdCore().setConfigurations(setText).length;
    return s;
  },
});

// 6. Re-syncing the same set: the identical string again.
function loadedPair() {
  const e = new Evaluator();
  e.setFlags(setText);
  const f = new FlagdCore();
  f.setConfigurations(setText);
  return [e, f];
}

let resync;
{
  const [e, f] = loadedPair();
  resync = runLoadCase('resync_unchanged', '6. re-sync, same string instance', {
    ours(n) {
      let s = 0;
      for (let i = 0; i < n; i++) s += e.setFlags(setText).length;
      return s;
    },
    theirs(n) {
      let s = 0;
      for (let i = 0; i < n; i++) s += f.setConfigurations(setText).length;
      return s;
    },
  });
}

// Informative: the same text in a different string instance, and a set with one flag changed.
let resyncFresh;
{
  const [e, f] = loadedPair();
  let je = 0;
  let jf = 0;
  resyncFresh = runLoadCase('resync_same_text_new_string', '6b. re-sync, same text, new string', {
    ours(n) {
      let s = 0;
      for (let i = 0; i < n; i++) {
        s += e.setFlags(freshCopies[je]).length;
        je = (je + 1) & 3;
      }
      return s;
    },
    theirs(n) {
      let s = 0;
      for (let i = 0; i < n; i++) {
        s += f.setConfigurations(freshCopies[jf]).length;
        jf = (jf + 1) & 3;
      }
      return s;
    },
  });
}

let resyncOne;
{
  const [e, f] = loadedPair();
  const texts = [changedText, setText];
  let je = 0;
  let jf = 0;
  resyncOne = runLoadCase('resync_one_flag_changed', '6c. re-sync, one flag changed', {
    ours(n) {
      let s = 0;
      for (let i = 0; i < n; i++) {
        s += e.setFlags(texts[je]).length;
        je ^= 1;
      }
      return s;
    },
    theirs(n) {
      let s = 0;
      for (let i = 0; i < n; i++) {
        s += f.setConfigurations(texts[jf]).length;
        jf ^= 1;
      }
      return s;
    },
  });
}

// The same flags in differently formatted text (pretty and compact, alternating): nothing can be
// recognised from the string, so the engine parses and compares flag by flag.
let resyncReformatted;
{
  const [e, f] = loadedPair();
  const texts = [JSON.stringify(JSON.parse(setText)), setText];
  let je = 0;
  let jf = 0;
  resyncReformatted = runLoadCase('resync_same_flags_reformatted', '6d. re-sync, same flags, reformatted', {
    ours(n) {
      let s = 0;
      for (let i = 0; i < n; i++) {
        s += e.setFlags(texts[je]).length;
        je ^= 1;
      }
      return s;
    },
    theirs(n) {
      let s = 0;
      for (let i = 0; i < n; i++) {
        s += f.setConfigurations(texts[jf]).length;
        jf ^= 1;
      }
      return s;
    },
  });
}

// ---------------------------------------------------------------------------------------------
// Report.

const pad = (s, w) => String(s).padEnd(w);
const lpad = (s, w) => String(s).padStart(w);
const spread = (r) => `[${fmtRatio(r.minRatio)} – ${fmtRatio(r.maxRatio)}]`;

console.log('\nEvaluation (ops/s, higher is better; each op resolves one flag for the next of the contexts)');
const ns = (secPerOp) => `${(secPerOp * 1e9).toFixed(1)} ns`;
console.log(`${pad('case', 36)}${lpad('ours', 14)}${lpad('flagd-core', 14)}${lpad('ours', 11)}${lpad('flagd-core', 12)}${lpad('ratio', 10)}   min – max ratio over rounds`);
for (const r of evalResults) {
  console.log(
    `${pad(r.title, 36)}${lpad(fmtRate(r.oursOpsPerSec), 14)}${lpad(fmtRate(r.theirsOpsPerSec), 14)}${lpad(ns(r.oursSecPerOp), 11)}${lpad(ns(r.theirsSecPerOp), 12)}${lpad(fmtRatio(r.ratio), 10)}   ${spread(r)}`,
  );
  if (r.id === 'fractional') {
    const f = floorRun;
    console.log(
      `${pad(f.title, 36)}${lpad(fmtRate(1 / f.floorSecPerOp), 14)}${lpad('', 14)}${lpad(ns(f.floorSecPerOp), 11)}${lpad('', 12)}${lpad('', 10)}` +
        `   case 2 (ours) is ${fmtRatio(f.fractionalOverFloor)} the floor [${fmtRatio(f.minFractionalOverFloor)} – ${fmtRatio(f.maxFractionalOverFloor)}] in the same rounds`,
    );
  }
}

console.log('\nLoading and re-syncing the 5,000-flag set (ms per operation, lower is better; ratio = theirs ms ÷ ours ms)');
console.log(`${pad('case', 36)}${lpad('ours', 14)}${lpad('flagd-core', 14)}${lpad('ratio', 14)}   min – max ratio over rounds`);
for (const r of [load, resync, resyncFresh, resyncOne, resyncReformatted]) {
  console.log(`${pad(r.title, 36)}${lpad(fmtMs(r.oursSecPerOp), 14)}${lpad(fmtMs(r.theirsSecPerOp), 14)}${lpad(fmtRatio(r.ratio), 14)}   ${spread(r)}`);
}

const evalGeomean = geomean(evalResults.map((r) => r.ratio));
const verdicts = [
  { name: 'evaluation, geometric mean of cases 1-4', value: evalGeomean, target: TARGETS.evalGeomean },
  ...evalResults.map((r) => ({ name: `evaluation, case ${r.title.split('.')[0]} (${r.id})`, value: r.ratio, target: TARGETS.evalEach })),
  { name: '5,000-flag load', value: load.ratio, target: TARGETS.load },
  { name: 'unchanged re-sync', value: resync.ratio, target: TARGETS.resync },
].map((v) => ({ ...v, met: v.value >= v.target }));

console.log('\nAgainst the targets');
for (const v of verdicts) {
  console.log(`${pad(v.name, 44)}${lpad(fmtRatio(v.value), 12)}   target >= ${v.target}x   ${v.met ? 'met' : 'NOT MET'}`);
}
console.log('(informative, no target: re-sync with the same text in a new string, with one flag changed, and with the same flags reformatted — see 6b, 6c and 6d above)');

const seconds = (performance.now() - t0) / 1000;
console.log(`\nbench time ${seconds.toFixed(1)} s; sink ${sink} (consumed results, ignore)`);
if (problems.length > 0) console.error('!!! WARNING: sanity check failed (see above); do not trust these ratios.');

const outDir = fileURLToPath(new URL('../results/', import.meta.url));
mkdirSync(outDir, { recursive: true });
const out = {
  env,
  note: 'Medians of interleaved rounds on a possibly noisy shared machine: the ratios matter, absolute times do not.',
  sanity: { ok: problems.length === 0, problems, notes },
  evaluation: evalResults,
  fractionalFloor: floorRun,
  load,
  resync: { unchanged: resync, sameTextNewString: resyncFresh, oneFlagChanged: resyncOne, sameFlagsReformatted: resyncReformatted },
  summary: { evalGeomean, loadRatio: load.ratio, resyncRatio: resync.ratio, targets: TARGETS, verdicts },
  benchSeconds: seconds,
};
writeFileSync(`${outDir}core-latest.json`, `${JSON.stringify(out, null, 2)}\n`);
console.log(`results written to bench/results/core-latest.json`);
