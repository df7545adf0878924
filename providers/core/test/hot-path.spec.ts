/**
 * The evaluation hot path's shortcuts against what they stand in for: `fractional`'s shorthand
 * hashes flagKey and targetingKey without joining them, flagd's `cat` skips the trim when
 * neither end can be a space, and `sem_ver` reads a plain `1.2.3` with one small regex. Each must
 * answer exactly what the joined string, the full trim and the full parse would; the references
 * here are written independently of the engine's code, or are the engine's general path.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bucketOf, compileRule } from '../src/index.js';
import { parseSemVer } from '../src/logic/sem-ver.js';
import { murmur3OfUtf8 } from './support.js';

// What Go's unicode.IsSpace calls space (the White_Space property), as strings.TrimSpace trims it.
const GO_SPACES = [0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x20, 0x85, 0xa0, 0x1680, 0x2000, 0x2001, 0x2002, 0x2003, 0x2004, 0x2005, 0x2006, 0x2007, 0x2008, 0x2009, 0x200a, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000];

function goTrimSpace(s: string): string {
  let i = 0;
  let j = s.length;
  while (i < j && GO_SPACES.includes(s.charCodeAt(i))) i++;
  while (j > i && GO_SPACES.includes(s.charCodeAt(j - 1))) j--;
  return s.slice(i, j);
}

// Mostly printable ASCII, with every Go space, the codes either side of the fast check's bounds,
// U+FEFF (not a space in Go), non-ASCII and surrogates.
const unit = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 0x21, max: 0x7e }) },
  { weight: 2, arbitrary: fc.constantFrom(...GO_SPACES) },
  { weight: 1, arbitrary: fc.constantFrom(0x00, 0x1f, 0x20, 0x21, 0x7f, 0x84, 0x85, 0x86, 0x9f, 0xa0, 0xfeff, 0x200b, 0xd800, 0xdc00) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 0xffff }) },
);
const text = fc.array(unit, { maxLength: 12 }).map((cs) => String.fromCharCode(...cs));

describe('cat (flagd) trims exactly as strings.TrimSpace does', () => {
  it('for any two joined values', () => {
    const rule = compileRule({ cat: [{ var: 'a' }, { var: 'b' }] });
    fc.assert(
      fc.property(text, text, (a, b) => rule({ a, b }) === goTrimSpace(a + b)),
      { numRuns: 5000 },
    );
  });
});

describe('fractional shorthand buckets on the UTF-8 bytes of flagKey + targetingKey', () => {
  const weights: [string, number][] = [['a', 17], ['b', 50], ['c', 33]];
  const expected = (flagKey: string, tk: string) => {
    const bucket = bucketOf(murmur3OfUtf8(flagKey + tk), 100);
    return bucket < 17 ? 'a' : bucket < 67 ? 'b' : 'c';
  };

  it('for any flag key and string targeting key, ASCII or not', () => {
    const keys = fc.oneof(fc.string({ maxLength: 30 }), fc.string({ unit: 'binary', maxLength: 30 }), text);
    fc.assert(
      fc.property(keys, keys, (flagKey, tk) => {
        const got = compileRule({ fractional: weights }, { flagKey })({ targetingKey: tk });
        return tk === '' ? got === null : got === expected(flagKey, tk);
      }),
      { numRuns: 3000 },
    );
  });

  it('joins a targeting key that is not a string as text, as before', () => {
    const rule = compileRule({ fractional: weights }, { flagKey: 'flag-' });
    expect(rule({ targetingKey: 12345 })).toBe(expected('flag-', '12345'));
    expect(rule({ targetingKey: true })).toBe(expected('flag-', 'true'));
    expect(rule({ targetingKey: 0 })).toBe(null);
    expect(rule({})).toBe(null);
  });
});

describe('sem_ver reads a plain version as the full parser does', () => {
  it('for any [vV]?N.N.N, leading zeros and 16+ digit parts included', () => {
    const part = fc.oneof(fc.stringMatching(/^[0-9]{1,3}$/), fc.stringMatching(/^[0-9]{14,17}$/), fc.constantFrom('0', '00', '01', '999999999999999', '9007199254740991', '9007199254740992'));
    fc.assert(
      fc.property(fc.constantFrom('', 'v', 'V', 'vv'), part, part, part, (v, a, b, c) => {
        const s = `${v}${a}.${b}.${c}`;
        // A trailing space keeps the plain regex out; the full path trims it and reads the rest.
        expect(parseSemVer(s)).toEqual(parseSemVer(`${s} `));
      }),
      { numRuns: 3000 },
    );
  });
});
