/**
 * `cat` as flagd evaluates it. flagd's core (open-feature/flagd `core/go.mod` at 004ad08) pins
 * github.com/diegoholiveira/jsonlogic/v3 v3.5.3, whose `concat` (strings.go):
 * - returns a lone string argument as it is (`{"cat": "x"}`, or a `var` that yields a string);
 * - otherwise joins the argument list, null as "", and returns `strings.TrimSpace` of the result.
 * Go's TrimSpace trims what unicode.IsSpace calls space: JavaScript's white space and line
 * terminators except U+FEFF, plus U+0085. json-logic-js (plain JSON Logic, `flagdOperators:
 * false`) never trims, and neither does flagd-core (see flagd-core-differential.spec.ts).
 *
 * The expected values are read off that Go source, not taken from our output.
 */
import { describe, expect, it } from 'vitest';
import jsonLogic from 'json-logic-js';
import { Evaluator, compileRule } from '../src/index.js';

type Row = [name: string, rule: unknown, data: Record<string, unknown>, flagd: string];

const ROWS: Row[] = [
  ['a list is joined and trimmed', { cat: ['  a', 'b  '] }, {}, 'ab'],
  ['inner white space stays', { cat: [' a ', ' b '] }, {}, 'a  b'],
  ['a one-element list is trimmed too (v3.5.3)', { cat: [' x '] }, {}, 'x'],
  ['null joins as the empty string', { cat: [null, ' y'] }, {}, 'y'],
  ['numbers join as text', { cat: [' n', 1, ' '] }, {}, 'n1'],
  ['a lone string is returned as it is', { cat: ' lone ' }, {}, ' lone '],
  ['a lone var yielding a string is returned as it is', { cat: { var: 's' } }, { s: ' s ' }, ' s '],
  ['a lone var yielding a list is joined and trimmed', { cat: { var: 'xs' } }, { xs: [' p', 'q '] }, 'pq'],
  ['a var inside a list is trimmed with the rest', { cat: [{ var: 's' }, '!'] }, { s: ' s ' }, 's !'],
  ['tabs, newlines, NBSP, U+2028 and U+3000 are space', { cat: ['\t\n\u00a0\u2028\u3000z\r\v\f'] }, {}, 'z'],
  ['U+0085 (NEL) is space in Go', { cat: ['\u0085z\u0085'] }, {}, 'z'],
  ['U+FEFF is not space in Go', { cat: ['\ufeffz\ufeff'] }, {}, '\ufeffz\ufeff'],
  ['U+200B is not space in either', { cat: ['\u200bz'] }, {}, '\u200bz'],
  ['all white space gives the empty string', { cat: ['  ', ' '] }, {}, ''],
  ['a constant rule folds to the same answer', { cat: ['  c', 'onst  '] }, {}, 'const'],
];

describe('cat in flagd\'s dialect trims as diegoholiveira/jsonlogic v3.5.3 does', () => {
  it.each(ROWS)('%s', (_name, rule, data, flagd) => {
    expect(compileRule(rule)(data)).toBe(flagd);
  });

  it.each(ROWS)('plain JSON Logic keeps json-logic-js\'s answer: %s', (_name, rule, data) => {
    expect(compileRule(rule, { flagdOperators: false })(data)).toBe(jsonLogic.apply(rule as never, data));
  });

  it('a variant name built by cat matches after trimming, in a flag set', () => {
    const ev = new Evaluator();
    ev.setFlags({
      flags: {
        plan: {
          state: 'ENABLED',
          variants: { 'tier-pro': 'pro', 'tier-free': 'free' },
          defaultVariant: 'tier-free',
          targeting: { cat: ['tier-', { var: 'tier' }, ' '] },
        },
      },
    });
    expect(ev.resolveString('plan', 'none', { tier: 'pro' })).toMatchObject({ value: 'pro', variant: 'tier-pro', reason: 'TARGETING_MATCH' });
    // Untrimmed, "tier-pro " names no variant: that would be an ERROR, not a match.
    expect(ev.resolveString('plan', 'none', { tier: ' pro' })).toMatchObject({ reason: 'ERROR', errorCode: 'GENERAL' });
  });
});
