/**
 * Hardening: rules that cost far more than they weigh. `$ref`s that share evaluators expand to
 * exponentially large rules (the engine substitutes and compiles them as a DAG and refuses the
 * document past maxRefExpansion); iterating and concatenating operators that double their data per
 * element (evaluation stops at its budget with ERROR / GENERAL).
 */
import jsonLogic from 'json-logic-js';
import { describe, expect, it } from 'vitest';
import { DEFAULT_EVALUATION_BUDGET, Evaluator, FlagConfigError, MAX_REF_EXPANSION, compileRule, type EvaluationContext } from '../src/index.js';

/** The reported flag file: e0 a comparison, e1..eN each an `or` of two references to the one before. */
function bombDoc(levels: number, op = 'or'): Record<string, unknown> {
  const evaluators: Record<string, unknown> = { e0: { '==': [{ var: 'x' }, 1] } };
  for (let i = 1; i <= levels; i++) evaluators[`e${i}`] = { [op]: [{ $ref: `e${i - 1}` }, { $ref: `e${i - 1}` }] };
  return {
    $evaluators: evaluators,
    flags: { bomb: { state: 'ENABLED', variants: { on: 'on', off: 'off' }, defaultVariant: 'off', targeting: { if: [{ $ref: `e${levels}` }, 'on', 'off'] } } },
  };
}

const GOOD = {
  flags: {
    good: { state: 'ENABLED', variants: { a: 'a', b: 'b' }, defaultVariant: 'a', targeting: { if: [{ '==': [{ var: 'x' }, 1] }, 'b', null] } },
  },
};

/** Every `$ref` replaced by a fresh copy of its evaluator: the rule as flagd-core would see it. */
function inlined(node: unknown, evaluators: Record<string, unknown>): unknown {
  if (node === null || typeof node !== 'object') return node;
  if (Array.isArray(node)) return node.map((x) => inlined(x, evaluators));
  const obj = node as Record<string, unknown>;
  const keys = Object.keys(obj);
  if (keys.length === 1 && typeof obj.$ref === 'string') return inlined(evaluators[obj.$ref], evaluators);
  return Object.fromEntries(keys.map((k) => [k, inlined(obj[k], evaluators)]));
}

const ms = (f: () => void): number => {
  const t0 = performance.now();
  f();
  return performance.now() - t0;
};

describe('exponential $ref expansion', () => {
  it('refuses the reported 21-level file fast, naming the flag, and keeps serving the previous flags', () => {
    const text = JSON.stringify(bombDoc(21));
    expect(text.length).toBeLessThan(5000);
    const ev = new Evaluator();
    ev.load(GOOD);
    let err: unknown;
    const took = ms(() => {
      try {
        ev.load(text);
      } catch (e) {
        err = e;
      }
    });
    expect(took).toBeLessThan(500);
    expect(err).toBeInstanceOf(FlagConfigError);
    expect(err).toMatchObject({ code: 'RULE_TOO_LARGE', path: '$.flags.bomb.targeting' });
    expect((err as Error).message).toContain('flag "bomb"');
    expect((err as Error).message).toContain('maxRefExpansion');
    expect(ev.keys()).toEqual(['good']);
    expect(ev.resolveString('good', 'z', { x: 1 })).toMatchObject({ value: 'b', reason: 'TARGETING_MATCH' });
    // The array form names the flag by index, as every other error in that form does.
    const doc = bombDoc(21) as { flags: Record<string, Record<string, unknown>> };
    const arrayForm = { ...doc, flags: [{ key: 'bomb', ...doc.flags.bomb }] };
    expect(() => ev.load(arrayForm)).toThrow(expect.objectContaining({ code: 'RULE_TOO_LARGE', path: '$.flags[0].targeting' }));
  });

  it('counts all flags together: many flags sharing a large evaluator can add up past the limit', () => {
    const doc = bombDoc(12) as { $evaluators: Record<string, unknown>; flags: Record<string, unknown> };
    const one = doc.flags.bomb;
    const ev = new Evaluator();
    ev.load(doc);
    for (let i = 0; i < 100; i++) doc.flags[`bomb${i}`] = one;
    expect(() => ev.load(doc)).toThrow(expect.objectContaining({ code: 'RULE_TOO_LARGE' }));
    expect(ev.keys()).toEqual(['bomb']);
    // The limit is an option.
    expect(() => new Evaluator({ maxRefExpansion: 50 * MAX_REF_EXPANSION }).load(doc)).not.toThrow();
    expect(() => new Evaluator({ maxRefExpansion: 1000 }).load(bombDoc(12))).toThrow(expect.objectContaining({ code: 'RULE_TOO_LARGE' }));
  });

  it('loads, serialises and evaluates a DAG that fits as the inlined tree would', () => {
    // Moderate fan-out: levels that alternate `or` / `and` over two references and a comparison.
    const evaluators: Record<string, unknown> = { e0: { '>': [{ var: 'n' }, 3] } };
    for (let i = 1; i <= 8; i++) {
      const op = i % 2 ? 'or' : 'and';
      evaluators[`e${i}`] = { [op]: [{ $ref: `e${i - 1}` }, { '==': [{ var: `k${i}` }, i] }, { $ref: `e${i - 1}` }] };
    }
    const targeting = { if: [{ $ref: 'e8' }, 'yes', { in: [{ var: 'tag' }, ['a', 'b']] }, 'tagged', null] };
    const doc = {
      $evaluators: evaluators,
      flags: {
        dag: { state: 'ENABLED', variants: { yes: 'yes', tagged: 'tagged', no: 'no' }, defaultVariant: 'no', targeting },
        again: { state: 'ENABLED', variants: { yes: 'yes', tagged: 'tagged', no: 'no' }, defaultVariant: 'no', targeting: { if: [{ $ref: 'e8' }, 'yes', 'no'] } },
      },
    };
    const tree = inlined(targeting, evaluators);
    const ev = new Evaluator({ now: () => 0 });
    expect(ev.load(doc).warnings).toEqual([]);
    const flat = new Evaluator({ now: () => 0 });
    flat.load({ flags: { dag: { ...doc.flags.dag, targeting: tree } } });
    expect(JSON.stringify(ev.getDefinition('dag'))).toBe(JSON.stringify(flat.getDefinition('dag')));

    const contexts: EvaluationContext[] = [{}];
    for (let n = 0; n < 6; n++) {
      for (let mask = 0; mask < 64; mask += 7) {
        const ctx: EvaluationContext = { n, tag: mask % 3 ? 'a' : 'z' };
        for (let i = 1; i <= 8; i++) if (mask & (1 << (i % 6))) ctx[`k${i}`] = i;
        contexts.push(ctx);
      }
    }
    for (const ctx of contexts) {
      const want = jsonLogic.apply(tree as never, ctx);
      const got = ev.resolveString('dag', 'code', ctx);
      expect(got.value, JSON.stringify(ctx)).toBe(want === null ? 'no' : want);
      expect(got).toEqual(flat.resolveString('dag', 'code', ctx));
    }

    // A re-sync that changes a shared evaluator changes both flags; one that does not, neither.
    expect(ev.load(JSON.parse(JSON.stringify(doc))).changed).toEqual([]);
    const changed = JSON.parse(JSON.stringify(doc));
    changed.$evaluators.e0 = { '>': [{ var: 'n' }, 2] };
    expect(ev.load(changed).changed.sort()).toEqual(['again', 'dag']);
    changed.$evaluators.unused = { '==': [1, 1] };
    expect(ev.load(changed).changed).toEqual([]);
  });

  it('compiles a shared evaluator once, so a set near the limit still loads fast', () => {
    // 2^12 comparisons written out, 13 evaluators in the document.
    const doc = bombDoc(12, 'and');
    let loaded = new Evaluator();
    expect(ms(() => (loaded = new Evaluator()).load(doc))).toBeLessThan(200);
    expect(loaded.resolveString('bomb', 'z', { x: 1 }).value).toBe('on');
    expect(loaded.resolveString('bomb', 'z', { x: 2 }).value).toBe('off');
  });

  it('stops substituting a chain of references too deep to compile, and resolves that flag PARSE_ERROR', () => {
    const evaluators: Record<string, unknown> = { c0: { var: 'x' } };
    for (let i = 1; i <= 5000; i++) evaluators[`c${i}`] = { $ref: `c${i - 1}` };
    const ev = new Evaluator();
    const r = ev.load({ $evaluators: evaluators, flags: { deep: { state: 'ENABLED', variants: { a: 'a' }, defaultVariant: 'a', targeting: { $ref: 'c5000' } }, ...GOOD.flags } });
    expect(r.warnings).toMatchObject([{ code: 'INVALID_TARGETING' }]);
    expect(ev.resolveString('deep', 'z')).toMatchObject({ reason: 'ERROR', errorCode: 'PARSE_ERROR' });
    expect(ev.resolveString('good', 'z', { x: 1 }).value).toBe('b');
  });
});

describe('evaluation budget', () => {
  const flags = (targeting: unknown) => ({ flags: { r: { state: 'ENABLED', variants: { a: 'a', b: 'b' }, defaultVariant: 'b', targeting } } });
  const zeros = (n: number) => Array.from({ length: n }, () => 0);
  const budgetError = { value: 'z', reason: 'ERROR', errorCode: 'GENERAL', errorMessage: expect.stringContaining(`evaluation budget of ${DEFAULT_EVALUATION_BUDGET} steps exceeded`) };

  it.each([25, 29, 1000])('stops the doubling merge rule on %i elements quickly', (n) => {
    const ev = new Evaluator();
    ev.load(flags({ if: [{ in: ['q', { reduce: [{ var: 'xs' }, { merge: [{ var: 'accumulator' }, { var: 'accumulator' }] }, [1]] }] }, 'a', 'b'] }));
    let r: unknown;
    expect(ms(() => (r = ev.resolveString('r', 'z', { xs: zeros(n) })))).toBeLessThan(300);
    expect(r).toMatchObject(budgetError);
    expect((r as { errorMessage: string }).errorMessage).toContain("flag 'r'");
  });

  it.each([
    ['cat', { reduce: [{ var: 'xs' }, { cat: [{ var: 'accumulator' }, { var: 'accumulator' }] }, 'ab'] }],
    ['an array literal', { '==': [{ reduce: [{ var: 'xs' }, [{ var: 'accumulator' }, { var: 'accumulator' }], [1]] }, 'x'] }],
    ['map over an array literal', { '==': [{ reduce: [{ var: 'xs' }, { map: [[{ var: 'accumulator' }, { var: 'accumulator' }], { var: '' }] }, [1]] }, 'x'] }],
    ['nested iterations', { all: [{ var: 'xs' }, { all: [zeros(1000), { all: [zeros(1000), { '==': [{ var: '' }, 0] }] }] }] }],
    ['filter and merge', { reduce: [{ var: 'xs' }, { filter: [{ merge: [{ var: 'accumulator' }, { var: 'accumulator' }] }, true] }, [1]] }],
    ['a large accumulator read on every element', { reduce: [{ var: 'xs' }, { if: [{ '<': [{ var: 'current' }, 20] }, { merge: [{ var: 'accumulator' }, { var: 'accumulator' }] }, { if: [{ '==': [{ var: 'accumulator' }, 'x'] }, 1, { var: 'accumulator' }] }] }, [1]] }],
  ])('stops doubling or nesting through %s', (_name, rule) => {
    const ev = new Evaluator();
    ev.load(flags({ if: [rule, 'a', 'b'] }));
    const xs = Array.from({ length: 5000 }, (_, i) => i);
    let r: unknown;
    expect(ms(() => (r = ev.resolveString('r', 'z', { xs, ys: zeros(1000) })))).toBeLessThan(500);
    expect(r).toMatchObject(budgetError);
  });

  it('still runs ordinary iterations over 1,000 elements', () => {
    const ev = new Evaluator();
    const xs = Array.from({ length: 1000 }, (_, i) => i);
    // (a sum over 1,000 elements spends about 10,000 steps)
    ev.load({
      flags: {
        sum: { state: 'ENABLED', variants: { big: 'big', small: 'small' }, defaultVariant: 'small', targeting: { if: [{ '==': [{ reduce: [{ var: 'xs' }, { '+': [{ var: 'current' }, { var: 'accumulator' }] }, 0] }, 499500] }, 'big', 'small'] } },
        collect: { state: 'ENABLED', variants: { yes: 'yes', no: 'no' }, defaultVariant: 'no', targeting: { if: [{ in: [499, { reduce: [{ var: 'xs' }, { merge: [{ var: 'accumulator' }, [{ var: 'current' }]] }, []] }] }, 'yes', 'no'] } },
        mapped: { state: 'ENABLED', variants: { yes: 'yes', no: 'no' }, defaultVariant: 'no', targeting: { if: [{ in: [1998, { map: [{ filter: [{ var: 'xs' }, { '>': [{ var: '' }, 10] }] }, { '*': [{ var: '' }, 2] }] }] }, 'yes', 'no'] } },
        every: { state: 'ENABLED', variants: { yes: 'yes', no: 'no' }, defaultVariant: 'no', targeting: { if: [{ all: [{ var: 'xs' }, { '<': [{ var: '' }, 1000] }] }, 'yes', 'no'] } },
        joined: { state: 'ENABLED', variants: { yes: 'yes', no: 'no' }, defaultVariant: 'no', targeting: { if: [{ in: ['999', { cat: [{ var: 'xs' }, '-', { var: 'xs' }] }] }, 'yes', 'no'] } },
      },
    });
    expect(ev.resolveString('sum', 'z', { xs }).value).toBe('big');
    // Collecting with merge copies the accumulator every time (quadratic, in json-logic-js too):
    // 700 elements fit the default budget, 1,000 do not.
    expect(ev.resolveString('collect', 'z', { xs: xs.slice(0, 499) }).value).toBe('no');
    expect(ev.resolveString('collect', 'z', { xs: xs.slice(0, 700) }).value).toBe('yes');
    expect(ev.resolveString('mapped', 'z', { xs }).value).toBe('yes');
    expect(ev.resolveString('every', 'z', { xs }).value).toBe('yes');
    expect(ev.resolveString('joined', 'z', { xs }).value).toBe('yes');
  });

  it('is an option of the Evaluator and of compileRule, and resets for every evaluation', () => {
    const rule = { reduce: [{ var: 'xs' }, { '+': [{ var: 'current' }, { var: 'accumulator' }] }, 0] };
    const ev = new Evaluator({ evaluationBudget: 100 });
    ev.load(flags({ if: [{ '>': [rule, 0] }, 'a', 'b'] }));
    expect(ev.resolveString('r', 'z', { xs: [1, 2, 3] }).value).toBe('a');
    expect(ev.resolveString('r', 'z', { xs: zeros(200) })).toMatchObject({ reason: 'ERROR', errorCode: 'GENERAL', errorMessage: expect.stringContaining('evaluation budget of 100 steps') });
    for (let i = 0; i < 5; i++) expect(ev.resolveString('r', 'z', { xs: [1, 2, 3] }).value).toBe('a');
    expect(compileRule(rule)({ xs: [1, 2, 3] })).toBe(6);
    expect(() => compileRule(rule, { evaluationBudget: 10 })({ xs: zeros(100) })).toThrow(/evaluation budget of 10 steps/);
  });
});
