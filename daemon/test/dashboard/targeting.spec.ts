/**
 * The dashboard's rule editing (static/targeting.js), run in Node: what the rollout slider and the
 * "add targeted rule" form write must mean, to @vexil/core, what the dashboard says it means.
 */
import { Evaluator } from '@vexil/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  booleanPair,
  buildCondition,
  describeSplit,
  jsonDiff,
  locateJsonError,
  parseJson,
  rolloutPercent,
  rolloutSplit,
  withRollout,
  withTargetedRule,
} from '../../src/servers/management/dashboard/static/targeting.js';

const PAIR = { on: 'on', off: 'off' };
const flagWith = (targeting: unknown) => ({
  flags: { f: { state: 'ENABLED', variants: { on: true, off: false }, defaultVariant: 'off', ...(targeting === undefined ? {} : { targeting }) } },
});

/** Loads the flag with `targeting` strictly (a warning would fail) and evaluates it for `contexts`. */
function evaluate(targeting: unknown, contexts: Record<string, string>[]): boolean[] {
  const ev = new Evaluator({ strict: true });
  ev.setFlags(flagWith(targeting));
  return contexts.map((c) => ev.resolveBoolean('f', false, c).value);
}

const users = Array.from({ length: 2000 }, (_, i) => ({ targetingKey: `user-${i}`, email: i % 10 === 0 ? `u${i}@vexil.dev` : `u${i}@example.com` }));

describe('rollout slider', () => {
  it('writes flagd\'s fractional with the percentage to the true variant and the rest to the false one', () => {
    expect(withRollout(undefined, 5, PAIR)).toEqual({ fractional: [['on', 5], ['off', 95]] });
    expect(withRollout({}, 100, { on: 'yes', off: 'no' })).toEqual({ fractional: [['yes', 100], ['no', 0]] });
    // Out of range and fractional inputs are clamped and rounded, never written as such.
    expect(withRollout(undefined, 140, PAIR)).toEqual({ fractional: [['on', 100], ['off', 0]] });
    expect(withRollout(undefined, 12.6, PAIR)).toEqual({ fractional: [['on', 13], ['off', 87]] });
  });

  it('serves about the chosen share, as @vexil/core buckets it', () => {
    const on = evaluate(withRollout(undefined, 5, PAIR), users).filter(Boolean).length;
    // 5 % of 2000 is 100; murmur3 bucketing over distinct keys stays well within ±50.
    expect(on).toBeGreaterThan(50);
    expect(on).toBeLessThan(150);
  });

  it('keeps a bucketing expression and the targeted rules in front of an existing rollout', () => {
    const bucketBy = { cat: [{ var: '$flagd.flagKey' }, { var: 'email' }] };
    expect(withRollout({ fractional: [bucketBy, ['on', 10], ['off', 90]] }, 30, PAIR)).toEqual({ fractional: [bucketBy, ['on', 30], ['off', 70]] });
    const rule = { ends_with: [{ var: 'email' }, '@vexil.dev'] };
    const before = { if: [rule, 'on', { fractional: [['on', 10], ['off', 90]] }] };
    const after = withRollout(before, 50, PAIR);
    expect(after).toEqual({ if: [rule, 'on', { fractional: [['on', 50], ['off', 50]] }] });
    expect(before.if[2]).toEqual({ fractional: [['on', 10], ['off', 90]] });
    // Rules with no rollout yet: the rollout becomes their "else".
    expect(withRollout({ if: [rule, 'on', null] }, 20, PAIR)).toEqual({ if: [rule, 'on', { fractional: [['on', 20], ['off', 80]] }] });
    expect(withRollout({ if: [rule, 'on'] }, 20, PAIR)).toEqual({ if: [rule, 'on', { fractional: [['on', 20], ['off', 80]] }] });
  });

  it('reads the current split and percentage back, including flagd\'s default weight of 1', () => {
    expect(rolloutPercent({ fractional: [['on', 5], ['off', 95]] }, PAIR)).toBe(5);
    expect(rolloutPercent({ if: [{ '==': [1, 1] }, 'off', { fractional: [['on', 1], ['off', 3]] }] }, PAIR)).toBe(25);
    expect(rolloutSplit({ fractional: [['a'], ['b']] })).toEqual([
      { variant: 'a', weight: 1, percent: 50 },
      { variant: 'b', weight: 1, percent: 50 },
    ]);
    expect(describeSplit(rolloutSplit({ fractional: [['on', 1], ['off', 2]] })!)).toBe('on 33.3 % · off 66.7 %');
    expect(rolloutSplit({ if: [{ '==': [1, 1] }, 'on', 'off'] })).toBeUndefined();
    expect(rolloutPercent({ fractional: [['on', { var: 'w' }], ['off', 5]] }, PAIR)).toBeUndefined();
  });

  it('offers itself only for a two-variant boolean flag', () => {
    expect(booleanPair({ enabled: true, killed: false })).toEqual({ on: 'enabled', off: 'killed' });
    expect(booleanPair({ on: true, off: false, maybe: true })).toBeUndefined();
    expect(booleanPair({ a: 'x', b: 'y' })).toBeUndefined();
  });
});

describe('add targeted rule', () => {
  const testers = buildCondition('email', 'ends_with', '@vexil.dev');

  it('puts the rule in front of the existing targeting, which still decides for everyone else', () => {
    const rollout = withRollout(undefined, 5, PAIR);
    const targeted = withTargetedRule(rollout, testers, 'on');
    expect(targeted).toEqual({ if: [{ ends_with: [{ var: 'email' }, '@vexil.dev'] }, 'on', rollout] });
    const plain = evaluate(rollout, users);
    const now = evaluate(targeted, users);
    users.forEach((u, i) => expect(now[i]).toBe(u.email.endsWith('@vexil.dev') ? true : plain[i]));
  });

  it('extends an existing if chain instead of nesting it, with the same meaning', () => {
    const first = withTargetedRule(undefined, testers, 'on');
    expect(first).toEqual({ if: [testers, 'on', null] });
    const staff = buildCondition('email', 'equals', 'boss@example.com');
    const second = withTargetedRule(first, staff, 'off');
    expect(second).toEqual({ if: [staff, 'off', testers, 'on', null] });
    const ctx = [{ targetingKey: 'a', email: 'boss@example.com' }, { targetingKey: 'b', email: 'x@vexil.dev' }, { targetingKey: 'c', email: 'x@example.com' }];
    expect(evaluate(second, ctx)).toEqual([false, true, false]);
  });

  it('builds every offered operator into a rule @vexil/core accepts', () => {
    const cases: [string, string, Record<string, string>, boolean][] = [
      ['starts_with', 'admin', { email: 'admin@x.io' }, true],
      ['equals', 'gold', { tier: 'gold' }, true],
      ['in_list', 'de, fr', { country: 'fr' }, true],
      ['in_list', 'de, fr', { country: 'us' }, false],
      ['contains', 'beta', { plan: 'pro-beta-2' }, true],
      ['sem_ver_gte', '2.0.0', { appVersion: '2.1.0' }, true],
      ['sem_ver_gte', '2.0.0', { appVersion: '1.9.9' }, false],
    ];
    for (const [op, value, ctx, expected] of cases) {
      const attr = Object.keys(ctx)[0];
      expect(evaluate(withTargetedRule(undefined, buildCondition(attr, op, value), 'on'), [{ targetingKey: 'k', ...ctx }]), `${op} ${value}`).toEqual([expected]);
    }
  });
});

describe('editor helpers', () => {
  it('says where a JSON syntax error is', () => {
    const bad = parseJson('{\n  "if": [\n    1,,\n  ]\n}');
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect({ line: bad.line, column: bad.column }).toEqual({ line: 3, column: 7 });
    expect(parseJson('{"a": 1}')).toEqual({ ok: true, value: { a: 1 } });
  });

  it('finds syntax errors where V8 does, and accepts exactly what JSON.parse accepts', () => {
    // Valid JSON with one character deleted, replaced or inserted.
    const mutated = fc
      .tuple(fc.json(), fc.nat(), fc.constantFrom('delete', 'replace', 'insert'), fc.constantFrom(...'{}[],:"\\ 0-eE.tnx'.split('')))
      .map(([text, at, how, ch]) => {
        const i = text.length === 0 ? 0 : at % text.length;
        if (how === 'delete') return text.slice(0, i) + text.slice(i + 1);
        if (how === 'replace') return text.slice(0, i) + ch + text.slice(i + 1);
        return text.slice(0, i) + ch + text.slice(i);
      });
    fc.assert(
      fc.property(mutated, (text) => {
        let v8: string | undefined;
        try {
          JSON.parse(text);
        } catch (err) {
          v8 = (err as Error).message;
        }
        const ours = locateJsonError(text);
        if (v8 === undefined) {
          expect(ours).toEqual({ offset: text.length, expected: 'valid JSON' });
        } else {
          expect(ours.expected, text).not.toBe('valid JSON');
          const at = /at position (\d+)/.exec(v8);
          if (at) expect(ours.offset, `${JSON.stringify(text)}: ${v8}`).toBe(Number(at[1]));
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('lists what an audit entry changed, path by path', () => {
    const before = { state: 'ENABLED', targeting: { fractional: [['on', 5], ['off', 95]] }, metadata: { 'odd key': 1 } };
    const after = { state: 'DISABLED', targeting: { fractional: [['on', 5], ['off', 95]] }, metadata: { 'odd key': 2, killedBy: 'ann' } };
    expect(jsonDiff(before, after)).toEqual([
      { path: '$.state', before: 'ENABLED', after: 'DISABLED' },
      { path: '$.metadata["odd key"]', before: 1, after: 2 },
      { path: '$.metadata.killedBy', before: undefined, after: 'ann' },
    ]);
    expect(jsonDiff(null, { a: 1 })).toEqual([{ path: '$', before: null, after: { a: 1 } }]);
  });
});
