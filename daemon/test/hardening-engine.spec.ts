/**
 * The engine's hardening seen from the daemon's store: a source document whose `$ref`s expand
 * exponentially (the reported 4.9 KB file that took the daemon to a 4 GB heap) is refused fast
 * with RULE_TOO_LARGE and the source keeps serving its last good flags; a rule that doubles its
 * data per context element ends in ERROR / GENERAL.
 */
import { describe, expect, it } from 'vitest';
import { FlagStore } from '../src/store/flag-store.js';

const SOURCE = 'file:flags.json';

function bombText(levels: number): string {
  const evaluators: Record<string, unknown> = { e0: { '==': [{ var: 'x' }, 1] } };
  for (let i = 1; i <= levels; i++) evaluators[`e${i}`] = { or: [{ $ref: `e${i - 1}` }, { $ref: `e${i - 1}` }] };
  return JSON.stringify({
    $evaluators: evaluators,
    flags: { bomb: { state: 'ENABLED', variants: { on: 'on', off: 'off' }, defaultVariant: 'off', targeting: { if: [{ $ref: `e${levels}` }, 'on', 'off'] } } },
  });
}

const good = JSON.stringify({
  $evaluators: { isOne: { '==': [{ var: 'x' }, 1] } },
  flags: {
    good: { state: 'ENABLED', variants: { a: 'a', b: 'b' }, defaultVariant: 'a', targeting: { if: [{ $ref: 'isOne' }, 'b', null] } },
    doubling: {
      state: 'ENABLED',
      variants: { a: 'a', b: 'b' },
      defaultVariant: 'b',
      targeting: { if: [{ in: ['q', { reduce: [{ var: 'xs' }, { merge: [{ var: 'accumulator' }, { var: 'accumulator' }] }, [1]] }] }, 'a', 'b'] },
    },
  },
});

describe('the store with hostile rules', () => {
  it('refuses the 21-level $ref file in well under a second and keeps the last good flags', () => {
    const store = new FlagStore([SOURCE]);
    expect(store.update(SOURCE, good)).toMatchObject({ ok: true });
    const json = store.flagSetJson();
    const text = bombText(21);
    expect(text.length).toBeLessThan(5000);
    const t0 = performance.now();
    const r = store.update(SOURCE, text);
    expect(performance.now() - t0).toBeLessThan(500);
    expect(r).toMatchObject({ ok: false, error: { code: 'RULE_TOO_LARGE', path: '$.flags.bomb.targeting' } });
    expect(!r.ok && r.error.message).toContain('flag "bomb"');
    expect(store.flagSetJson()).toBe(json);
    expect(store.evaluator().resolveString('good', 'z', { x: 1 })).toMatchObject({ value: 'b', reason: 'TARGETING_MATCH' });
    expect(store.evaluator().keys().sort()).toEqual(['doubling', 'good']);
  });

  it('serves a shared evaluator that fits, written out in full, and ends a doubling rule with ERROR', () => {
    const store = new FlagStore([SOURCE]);
    expect(store.update(SOURCE, bombText(10))).toMatchObject({ ok: true });
    // The sync stream's document has the $refs inlined: 2^10 comparisons, bounded by maxRefExpansion.
    expect(store.flagSetJson().split('"==":').length - 1).toBe(1024);
    expect(store.evaluator().resolveString('bomb', 'z', { x: 1 }).value).toBe('on');

    store.update(SOURCE, good);
    const t0 = performance.now();
    const d = store.evaluator().resolveString('doubling', 'z', { xs: Array.from({ length: 29 }, () => 0) });
    expect(performance.now() - t0).toBeLessThan(500);
    expect(d).toMatchObject({ value: 'z', reason: 'ERROR', errorCode: 'GENERAL', errorMessage: expect.stringContaining('evaluation budget') });
  });
});
