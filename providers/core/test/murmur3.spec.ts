import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bucketOf, murmur3Utf8 } from '../src/index.js';
import { murmur3Reference as reference } from './support.js';

describe('murmur3Utf8', () => {
  it('matches published MurmurHash3 x86_32 vectors (seed 0)', () => {
    expect(murmur3Utf8('')).toBe(0);
    expect(murmur3Utf8('hello')).toBe(0x248bfa47);
    expect(murmur3Utf8('The quick brown fox jumps over the lazy dog')).toBe(0x2e4ff723);
  });

  it('hashes the UTF-8 bytes of non-ASCII keys, as flagd (Go) does', () => {
    for (const s of ['josé@example.com', 'ünïcödé', '用户-42', '👩🏽‍💻 dev', 'flagé']) {
      expect(murmur3Utf8(s), s).toBe(reference(new TextEncoder().encode(s)));
    }
  });

  it('encodes a lone surrogate as U+FFFD, like TextEncoder', () => {
    expect(murmur3Utf8('a\ud800b')).toBe(reference(new TextEncoder().encode('a\ud800b')));
    expect(murmur3Utf8('\udc00')).toBe(reference(new TextEncoder().encode('\udc00')));
  });

  it('agrees with the reference on arbitrary strings, including long ones', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (s) => murmur3Utf8(s) === reference(new TextEncoder().encode(s))),
      { numRuns: 2000 },
    );
  });
});

describe('bucketOf', () => {
  it('computes (hash × totalWeight) >> 32 exactly, even where the product passes 2^53', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 2147483647 }), (h, w) => {
        return bucketOf(h, w) === Number((BigInt(h) * BigInt(w)) >> 32n);
      }),
      { numRuns: 20000 },
    );
    expect(bucketOf(0xffffffff, 2147483647)).toBe(2147483646);
    expect(bucketOf(0xffffffff, 100)).toBe(99);
    expect(bucketOf(0, 100)).toBe(0);
  });
});
