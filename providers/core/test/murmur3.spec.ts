import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bucketOf, murmur3Utf8 } from '../src/index.js';

/** A deliberately naive MurmurHash3 x86_32 over bytes, written from the algorithm's description. */
function reference(bytes: Uint8Array, seed = 0): number {
  const c1 = 0xcc9e2d51n;
  const c2 = 0x1b873593n;
  const m32 = 0xffffffffn;
  const rotl = (x: bigint, r: bigint) => ((x << r) | (x >> (32n - r))) & m32;
  let h = BigInt(seed) & m32;
  const blocks = Math.floor(bytes.length / 4);
  for (let i = 0; i < blocks; i++) {
    let k = BigInt(bytes[4 * i] | (bytes[4 * i + 1] << 8) | (bytes[4 * i + 2] << 16)) + (BigInt(bytes[4 * i + 3]) << 24n);
    k = (k * c1) & m32;
    k = rotl(k, 15n);
    k = (k * c2) & m32;
    h ^= k;
    h = rotl(h, 13n);
    h = (h * 5n + 0xe6546b64n) & m32;
  }
  let k = 0n;
  const tail = bytes.length & 3;
  for (let j = tail - 1; j >= 0; j--) k = (k << 8n) | BigInt(bytes[blocks * 4 + j]);
  if (tail > 0) {
    k = (k * c1) & m32;
    k = rotl(k, 15n);
    k = (k * c2) & m32;
    h ^= k;
  }
  h ^= BigInt(bytes.length);
  h ^= h >> 16n;
  h = (h * 0x85ebca6bn) & m32;
  h ^= h >> 13n;
  h = (h * 0xc2b2ae35n) & m32;
  h ^= h >> 16n;
  return Number(h);
}

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
