import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bucketOf, murmur3Utf8 } from '../src/index.js';
import { murmur3Concat } from '../src/murmur3.js';
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

/**
 * Strings that stress the ASCII fast path's edges, at every length so that every position relative
 * to a 4-byte block occurs: half of them all ASCII (the fast path), half mostly ASCII with
 * non-ASCII units, both halves of surrogate pairs and lone surrogates mixed in (the fallback).
 */
const asciiUnit = fc.integer({ min: 0, max: 0x7f });
const anyUnit = fc.oneof(
  { weight: 6, arbitrary: asciiUnit },
  { weight: 1, arbitrary: fc.integer({ min: 0x80, max: 0xffff }) },
  { weight: 1, arbitrary: fc.constantFrom(0x7f, 0x80, 0x7ff, 0x800, 0xd800, 0xdbff, 0xdc00, 0xdfff, 0xfffd, 0xffff) },
);
const units = (maxLength: number) =>
  fc.oneof(fc.array(asciiUnit, { maxLength }), fc.array(anyUnit, { maxLength })).map((cs) => String.fromCharCode(...cs));

describe('murmur3Concat (the ASCII fast path, hashing flagKey + targetingKey without joining them)', () => {
  it('equals the reference over the UTF-8 bytes of a + b, for any a and b', () => {
    fc.assert(
      fc.property(units(40), units(40), (a, b) => murmur3Concat(a, b) === reference(new TextEncoder().encode(a + b))),
      { numRuns: 5000 },
    );
  });

  it('keeps a surrogate pair split between a and b one character, and lone halves U+FFFD', () => {
    for (const [a, b] of [
      ['flag\ud83d', '\ude00user'],
      ['f\ud83d', 'x'],
      ['abc', '\ude00'],
      ['', '\ud83d\ude00'],
      ['\ud800', ''],
    ]) {
      expect(murmur3Concat(a, b), JSON.stringify([a, b])).toBe(reference(new TextEncoder().encode(a + b)));
    }
  });

  it('is murmur3Utf8 of the joined string, ASCII or not', () => {
    fc.assert(
      fc.property(units(30), units(30), fc.string({ unit: 'binary', maxLength: 30 }), (a, b, c) => {
        return murmur3Concat(a, b + c) === murmur3Utf8(a + b + c) && murmur3Concat(a + b, c) === murmur3Utf8(a + b + c);
      }),
      { numRuns: 3000 },
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
