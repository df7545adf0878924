/**
 * Rollouts compiled to plain flagd JSON (daemon/src/rollouts/compile.ts): monotonic progressive
 * rollouts, schedules, and prerequisites checked against "evaluate A, then B" by hand and against
 * @openfeature/flagd-core evaluating the compiled JSON.
 */
import { FlagdCore } from '@openfeature/flagd-core';
import { Evaluator } from '@vexil/core';
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  MAX_STEPS,
  RolloutError,
  compilePrerequisites,
  inlineTargeting,
  linearSteps,
  progressiveTargeting,
  scheduledTargeting,
  type FlagDefinition,
  type Logic,
} from '../src/rollouts/compile.js';

const silent = { error() {}, warn() {}, info() {}, debug() {} };
const T0 = 1_800_000_000; // Unix seconds
const boolFlag = (targeting?: Logic): FlagDefinition => ({ state: 'ENABLED', variants: { on: true, off: false }, defaultVariant: 'off', ...(targeting === undefined ? {} : { targeting }) });

/** An engine whose clock reads `seconds`; evaluates flag `key` of `flags` for each targeting key. */
function engineAt(flags: Record<string, FlagDefinition>) {
  let nowMs = 0;
  const ev = new Evaluator({ now: () => nowMs });
  ev.setFlags({ flags });
  return (seconds: number, key: string, ctx: Record<string, unknown>) => {
    nowMs = seconds * 1000;
    return ev.resolveAny(key, ctx).variant;
  };
}

// Keys as applications send them; no white space at the end (see the prerequisite notes below).
const targetingKey = fc.string({ minLength: 1, maxLength: 24 }).map((s) => s.trimEnd()).filter((s) => s.length > 0);

describe('progressive rollouts', () => {
  const stepLists = fc
    .array(fc.tuple(fc.integer({ min: 1, max: 86_400 }), fc.integer({ min: 0, max: 10_000 })), { minLength: 1, maxLength: 20 })
    .map((raw) => {
      let at = T0;
      const percents = raw.map(([, p]) => p / 100).sort((a, b) => a - b);
      return raw.map(([gap], i) => ({ at: (at += gap), percent: percents[i] }));
    });

  it('is monotonic: a unit that has the feature at step k keeps it at step k+1 (property, random keys and steps)', () => {
    fc.assert(
      fc.property(stepLists, fc.array(targetingKey, { minLength: 1, maxLength: 40 }), (steps, keys) => {
        const at = engineAt({ f: { ...boolFlag(), targeting: progressiveTargeting(boolFlag(), { on: 'on', off: 'off', steps }) } });
        for (const key of keys) {
          let had = at(steps[0].at - 1, 'f', { targetingKey: key }) === 'on';
          expect(had).toBe(false); // before the first step nobody has it
          for (const s of steps) {
            const has = at(s.at, 'f', { targetingKey: key }) === 'on';
            if (had) expect(has).toBe(true);
            if (s.percent === 100) expect(has).toBe(true);
            if (s.percent === 0) expect(has).toBe(false);
            had = has;
          }
        }
      }),
      { numRuns: 200 },
    );
  });

  it('serves each step\'s share of units (2,000 keys, within 3 points)', () => {
    const steps = linearSteps(T0, 86_400, 10); // 10 % a day for 10 days
    expect(steps).toHaveLength(10);
    const at = engineAt({ f: { ...boolFlag(), targeting: progressiveTargeting(boolFlag(), { on: 'on', off: 'off', steps }) } });
    const keys = Array.from({ length: 2000 }, (_, i) => `user-${i}`);
    for (const s of steps) {
      const share = keys.filter((k) => at(s.at + 3600, 'f', { targetingKey: k }) === 'on').length / keys.length;
      expect(Math.abs(share * 100 - s.percent)).toBeLessThan(3);
    }
  });

  it('grows linearly with steps, and refuses more than MAX_STEPS with a clear error', () => {
    const size = (n: number) => JSON.stringify(progressiveTargeting(boolFlag(), { on: 'on', off: 'off', steps: linearSteps(T0, 60, 100 / n) })).length;
    const per = (size(40) - size(20)) / 20;
    expect(Math.abs(size(80) - size(40) - 40 * per)).toBeLessThan(40 * 8);
    expect(size(MAX_STEPS)).toBeLessThan(12_000);
    expect(() => linearSteps(T0, 60, 0.5)).toThrow(RolloutError);
    expect(() => progressiveTargeting(boolFlag(), { on: 'on', off: 'off', steps: Array.from({ length: MAX_STEPS + 1 }, (_, i) => ({ at: T0 + i, percent: 1 })) })).toThrow(
      /101 steps; at most 100 \(at \$\.steps\)/,
    );
  });

  it('refuses steps out of order, percents that go down, and unknown variants, naming where', () => {
    const bad = (steps: { at: number; percent: number }[], on = 'on') => () => progressiveTargeting(boolFlag(), { on, off: 'off', steps });
    expect(bad([{ at: T0, percent: 10 }, { at: T0, percent: 20 }])).toThrow(/\$\.steps\[1\]\.at/);
    expect(bad([{ at: T0, percent: 20 }, { at: T0 + 1, percent: 10 }])).toThrow(/never go down within a rollout \(at \$\.steps\[1\]\.percent\)/);
    expect(bad([{ at: T0, percent: 101 }])).toThrow(/\$\.steps\[0\]\.percent/);
    expect(bad([{ at: T0, percent: 10 }], 'nope')).toThrow(/"nope" is not one of the flag's variants \("on", "off"\) \(at \$\.on\)/);
  });

  describe('flagd-core evaluates the compiled JSON the same way', () => {
    afterEach(() => vi.useRealTimers());

    it('at every step, for 300 keys', () => {
      const steps = [
        { at: T0, percent: 5 },
        { at: T0 + 100, percent: 33.3 },
        { at: T0 + 200, percent: 70 },
        { at: T0 + 300, percent: 100 },
      ];
      const flags = { f: { ...boolFlag(), targeting: progressiveTargeting(boolFlag(), { on: 'on', off: 'off', steps }) } };
      const at = engineAt(flags);
      const core = new FlagdCore(undefined, silent);
      core.setConfigurations(JSON.stringify({ flags }));
      vi.useFakeTimers();
      for (const t of [T0 - 1, ...steps.map((s) => s.at + 1)]) {
        vi.setSystemTime(t * 1000);
        for (let i = 0; i < 300; i++) {
          const ctx = { targetingKey: `k${i}` };
          expect(core.resolveBooleanEvaluation('f', false, ctx).variant, `t=${t} k${i}`).toBe(at(t, 'f', ctx));
        }
      }
    });
  });
});

describe('scheduled changes', () => {
  it('keep the current targeting until T, then serve each change from its time on', () => {
    const flag = boolFlag({ if: [{ ends_with: [{ var: 'email' }, '@vexil.dev'] }, 'on', null] });
    const targeting = scheduledTargeting(flag, [
      { at: T0 + 100, serve: { variant: 'off' } }, // kill at T0+100
      { at: T0, serve: { on: 'on', off: 'off', percent: 50 } }, // 50 % at T0
    ]);
    const at = engineAt({ f: { ...flag, targeting } });
    const staff = { targetingKey: 'x', email: 'a@vexil.dev' };
    const others = Array.from({ length: 400 }, (_, i) => ({ targetingKey: `u${i}`, email: `u${i}@example.com` }));
    expect(at(T0 - 1, 'f', staff)).toBe('on');
    expect(at(T0 - 1, 'f', others[0])).toBe('off'); // null → the default variant
    const share = others.filter((c) => at(T0, 'f', c) === 'on').length / others.length;
    expect(share).toBeGreaterThan(0.4);
    expect(share).toBeLessThan(0.6);
    expect(at(T0 + 100, 'f', staff)).toBe('off');
    expect(others.every((c) => at(T0 + 100, 'f', c) === 'off')).toBe(true);
  });

  it('refuses two changes in the same second and unknown variants', () => {
    expect(() => scheduledTargeting(boolFlag(), [{ at: T0, serve: { variant: 'on' } }, { at: T0, serve: { variant: 'off' } }])).toThrow(/same second/);
    expect(() => scheduledTargeting(boolFlag(), [{ at: T0, serve: { variant: 'maybe' } }])).toThrow(/\$\.changes\[0\]\.serve\.variant/);
  });
});

// ---------------------------------------------------------------------------------------------
// Prerequisites. Keys with white space at their end are not generated: the inlined copy builds
// A's bucketing key with `cat`, which trims as flagd (Go) does, while flagd's default bucketing
// hashes flagKey + targetingKey untrimmed. That is the one place the compiled form can differ.

const VARIANTS = ['v0', 'v1', 'v2'];
const stringFlag = (targeting: Logic | undefined, defaultVariant: string, state: 'ENABLED' | 'DISABLED' = 'ENABLED'): FlagDefinition => ({
  state,
  variants: Object.fromEntries(VARIANTS.map((v) => [v, v])),
  defaultVariant,
  ...(targeting === undefined ? {} : { targeting }),
});

const variant = fc.constantFrom(...VARIANTS);
const weights = fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 3, maxLength: 3 }).filter((w) => w.some((x) => x > 0));
const targetingRule: fc.Arbitrary<Logic | undefined> = fc.oneof(
  fc.constant(undefined),
  weights.map((w): Logic => ({ fractional: VARIANTS.map((v, i) => [v, w[i]]) })),
  fc.tuple(variant, weights).map(([v, w]): Logic => ({ if: [{ ends_with: [{ var: 'email' }, '@vexil.dev'] }, v, { fractional: VARIANTS.map((x, i) => [x, w[i]]) }] })),
  fc.tuple(variant, variant).map(([a, b]): Logic => ({ if: [{ '==': [{ var: '$flagd.flagKey' }, 'A'] }, a, b] })),
  variant.map((v): Logic => ({ if: [{ in: [{ var: 'tier' }, ['pro', 'team']] }, v, null] })),
);
const flagArb = fc.tuple(targetingRule, variant, fc.constantFrom<'ENABLED' | 'DISABLED'>('ENABLED', 'ENABLED', 'ENABLED', 'DISABLED')).map(([t, d, s]) => stringFlag(t, d, s));
const context = fc.record(
  {
    targetingKey: targetingKey,
    email: fc.constantFrom('a@vexil.dev', 'b@example.com'),
    tier: fc.constantFrom('pro', 'free'),
  },
  { requiredKeys: [] },
);

/** "Evaluate A, then B" by hand, with the engine on the flags as written. */
function byHand(flags: Record<string, FlagDefinition>, rules: Parameters<typeof compilePrerequisites>[1], key: string, ctx: Record<string, unknown>): string | undefined {
  const ev = new Evaluator();
  ev.setFlags({ flags });
  const variantOf = (k: string): string | undefined => {
    const rule = rules[k];
    if (rule) {
      const met = rule.prerequisites.every((p) => {
        const d = ev.resolveAny(p.flag, ctx);
        const v = flags[p.flag].state === 'DISABLED' || d.errorCode !== undefined ? undefined : rules[p.flag] ? variantOf(p.flag) : d.variant;
        return v !== undefined && p.variants.includes(v);
      });
      if (!met) return rule.offVariant;
    }
    return ev.resolveAny(k, ctx).variant;
  };
  return variantOf(key);
}

describe('prerequisites', () => {
  it('B compiled equals "evaluate A, then B" by hand, and flagd-core agrees on the compiled JSON (property)', () => {
    fc.assert(
      fc.property(flagArb, flagArb, fc.subarray(VARIANTS, { minLength: 1 }), variant, fc.array(context, { minLength: 1, maxLength: 8 }), (A, B, required, off, contexts) => {
        const flags = { A, B };
        const rules = { B: { prerequisites: [{ flag: 'A', variants: required }], offVariant: off } };
        const compiled = { ...flags, ...compilePrerequisites(flags, rules) };
        const ev = new Evaluator();
        ev.setFlags({ flags: compiled });
        const core = new FlagdCore(undefined, silent);
        core.setConfigurations(JSON.stringify({ flags: compiled }));
        for (const ctx of contexts) {
          const ours = ev.resolveAny('B', ctx);
          if (B.state === 'DISABLED') {
            expect(ours.reason).toBe('DISABLED');
            continue;
          }
          expect(ours.variant, JSON.stringify({ compiled: compiled.B, ctx })).toBe(byHand(flags, rules, 'B', ctx));
          expect(core.resolveStringEvaluation('B', 'code-default', ctx).variant).toBe(ours.variant);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('a 3-deep chain (C needs B, B needs A) equals evaluating them in order', () => {
    fc.assert(
      fc.property(flagArb, flagArb, flagArb, variant, variant, fc.array(context, { minLength: 1, maxLength: 6 }), (A, B, C, needA, needB, contexts) => {
        const flags = { A, B, C };
        const rules = {
          C: { prerequisites: [{ flag: 'B', variants: [needB] }], offVariant: 'v0' },
          B: { prerequisites: [{ flag: 'A', variants: [needA] }], offVariant: 'v1' },
        };
        const compiled = { ...flags, ...compilePrerequisites(flags, rules) };
        const ev = new Evaluator();
        ev.setFlags({ flags: compiled });
        for (const ctx of contexts) {
          if (C.state === 'DISABLED') continue;
          expect(ev.resolveAny('C', ctx).variant).toBe(byHand(flags, rules, 'C', ctx));
        }
      }),
      { numRuns: 200 },
    );
  });

  it('the inlined copy buckets by A\'s key, not by the flag it sits in', () => {
    const split = { fractional: [['v0', 1], ['v1', 1], ['v2', 1]] } as Logic;
    const inlined = inlineTargeting('A', split);
    expect(inlined).toEqual({ if: [{ var: 'targetingKey' }, { fractional: [{ cat: ['A', { var: 'targetingKey' }] }, ['v0', 1], ['v1', 1], ['v2', 1]] }, null] });
    const ev = new Evaluator();
    ev.setFlags({ flags: { A: stringFlag(split, 'v0'), B: stringFlag(inlined, 'v0') } });
    for (let i = 0; i < 200; i++) {
      const ctx = { targetingKey: `user-${i}` };
      expect(ev.resolveAny('B', ctx).variant).toBe(ev.resolveAny('A', ctx).variant);
    }
    expect(ev.resolveAny('B', {}).variant).toBe('v0'); // no targeting key: A's default, as flagd
    expect(inlineTargeting('A', { var: '$flagd.flagKey' })).toBe('A');
    expect(inlineTargeting('A', { $ref: 'seg' }, { seg: { fractional: [['v0', 1]] } })).toMatchObject({ if: [{ var: 'targetingKey' }, { fractional: [{ cat: ['A', { var: 'targetingKey' }] }, ['v0', 1]] }, null] });
  });

  it('refuses cycles naming them, and missing prerequisites naming the flag', () => {
    const flags = { A: stringFlag(undefined, 'v0'), B: stringFlag(undefined, 'v0'), C: stringFlag(undefined, 'v0') };
    const need = (flag: string) => ({ prerequisites: [{ flag, variants: ['v1'] }], offVariant: 'v0' });
    expect(() => compilePrerequisites(flags, { A: need('B'), B: need('C'), C: need('A') })).toThrow(/prerequisites form a cycle: A -> B -> C -> A/);
    expect(() => compilePrerequisites(flags, { A: need('A') })).toThrow(/cycle: A -> A/);
    expect(() => compilePrerequisites(flags, { A: need('Z') })).toThrow(/flag "A" requires flag "Z", which does not exist/);
    expect(() => compilePrerequisites(flags, { A: { prerequisites: [{ flag: 'B', variants: ['nope'] }], offVariant: 'v0' } })).toThrow(/\$\.prerequisites\.A\.prerequisites\[0\]\.variants\[0\]/);
  });
});
