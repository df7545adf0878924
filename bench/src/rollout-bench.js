/**
 * What compiled rollouts cost to evaluate (issue 13): a 10-step progressive rollout and a 3-deep
 * prerequisite chain, next to a plain 50/50 `fractional`, in @vexil/core and in
 * @openfeature/flagd-core, in one process on identical inputs (1,000 contexts).
 *
 * Interleaved rounds (the engines alternate, which goes first alternates too); medians over rounds.
 * Two ratios per case: flagd-core ÷ ours (how much faster we are), and case ÷ plain fractional in
 * each engine (what the rollout adds). Not part of the test run: `npm run bench:rollouts`.
 * Environment knobs: BENCH_ROUNDS (default 9), BENCH_QUICK=1.
 */
import { Evaluator } from '@vexil/core';
import { FlagdCore } from '@openfeature/flagd-core';

import { makeContexts } from './fixtures.js';
import { calibrate, finishRun, fmtRatio, machine, median, timeIt } from './harness.js';

const { compilePrerequisites, linearSteps, progressiveTargeting } = await import(new URL('../../daemon/dist/rollouts/compile.js', import.meta.url).href);

const QUICK = process.env.BENCH_QUICK === '1';
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? (QUICK ? 3 : 9));
const ROUND_SEC = QUICK ? 0.02 : 0.05;
const t0 = performance.now();
const problems = [];

const contexts = makeContexts(1000);
const NC = contexts.length;
const DAY = 86_400;
const now = Math.floor(Date.now() / 1000);
const bool = (targeting) => ({ state: 'ENABLED', variants: { on: true, off: false }, defaultVariant: 'off', ...(targeting ? { targeting } : {}) });

// 10 % a day for 10 days, begun five days ago: evaluation lands on step 5 (both engines read the real clock).
const rollout = { on: 'on', off: 'off', steps: linearSteps(now - 5 * DAY + 60, DAY, 10) };
const written = {
  plain: bool({ fractional: [['on', 5000], ['off', 5000]] }),
  progressive: bool(progressiveTargeting(bool(), rollout)),
  chainA: bool({ fractional: [['on', 8000], ['off', 2000]] }),
  chainB: bool({ if: [{ ends_with: [{ var: 'email' }, '.com'] }, { fractional: [['on', 70], ['off', 30]] }, 'off'] }),
  chainC: bool({ fractional: [['on', 60], ['off', 40]] }),
};
const compiled = compilePrerequisites(written, {
  chainB: { prerequisites: [{ flag: 'chainA', variants: ['on'] }], offVariant: 'off' },
  chainC: { prerequisites: [{ flag: 'chainB', variants: ['on'] }], offVariant: 'off' },
});
const text = JSON.stringify({ flags: { ...written, ...compiled } });

const ours = new Evaluator();
ours.setFlags(text);
const theirs = new FlagdCore();
theirs.setConfigurations(text);

const CASES = [
  { id: 'plain', title: 'plain fractional 50/50', flag: 'plain' },
  { id: 'progressive', title: '10-step progressive rollout (on step 5)', flag: 'progressive' },
  { id: 'chain3', title: '3-deep prerequisite chain (C needs B needs A)', flag: 'chainC' },
];

// Both engines must agree on every context before anything is timed.
for (const c of CASES) {
  for (const ctx of contexts) {
    const a = ours.resolveBoolean(c.flag, false, ctx).value;
    const b = theirs.resolveBooleanEvaluation(c.flag, false, ctx).value;
    if (a !== b) {
      problems.push(`${c.id}: the engines disagree for ${ctx.targetingKey} (ours ${a}, flagd-core ${b})`);
      break;
    }
  }
}

let sink = 0;
const consume = (x) => {
  sink ^= x;
};
const loops = (flag) => ({
  ours(n) {
    let s = 0;
    for (let i = 0, j = 0; i < n; i++) {
      if (ours.resolveBoolean(flag, false, contexts[j]).value) s++;
      if (++j === NC) j = 0;
    }
    return s;
  },
  theirs(n) {
    let s = 0;
    for (let i = 0, j = 0; i < n; i++) {
      if (theirs.resolveBooleanEvaluation(flag, false, contexts[j]).value) s++;
      if (++j === NC) j = 0;
    }
    return s;
  },
});

const results = {};
for (const c of CASES) {
  const sides = loops(c.flag);
  const n = { ours: calibrate(sides.ours, ROUND_SEC, NC, NC, consume), theirs: calibrate(sides.theirs, ROUND_SEC, NC, NC, consume) };
  const per = { ours: [], theirs: [] };
  for (let r = 0; r < ROUNDS; r++) {
    const order = r % 2 === 0 ? ['ours', 'theirs'] : ['theirs', 'ours'];
    for (const side of order) per[side].push(timeIt(sides[side], n[side], consume) / n[side]);
  }
  results[c.id] = { title: c.title, oursNs: median(per.ours) * 1e9, theirsNs: median(per.theirs) * 1e9, ratios: per.ours.map((o, i) => per.theirs[i] / o) };
}

const ns = (x) => `${x.toFixed(0)} ns`;
console.log(`rollout bench: ${ROUNDS} interleaved rounds, 1,000 contexts; ${machine().node}, ${machine().cpu}`);
console.log('case                                              ours      flagd-core  flagd-core ÷ ours (min–max)   vs plain: ours / flagd-core');
for (const c of CASES) {
  const r = results[c.id];
  const lo = Math.min(...r.ratios);
  const hi = Math.max(...r.ratios);
  const vsPlainOurs = r.oursNs / results.plain.oursNs;
  const vsPlainTheirs = r.theirsNs / results.plain.theirsNs;
  console.log(
    `${r.title.padEnd(48)}  ${ns(r.oursNs).padStart(8)}  ${ns(r.theirsNs).padStart(10)}  ${fmtRatio(r.theirsNs / r.oursNs).padStart(8)} (${fmtRatio(lo)}–${fmtRatio(hi)})      ${fmtRatio(vsPlainOurs)} / ${fmtRatio(vsPlainTheirs)}`,
  );
}
console.log(`compiled sizes: progressive ${JSON.stringify(written.progressive.targeting).length} B, chain C ${JSON.stringify(compiled.chainC.targeting).length} B (sink ${sink & 1})`);

finishRun({ t0, problems, file: 'rollout-bench.json', results: { env: { ...machine(), rounds: ROUNDS }, results } });
