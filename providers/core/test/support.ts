/** Helpers shared by the engine's tests: an independent hash reference and a value comparison. */

/** A deliberately naive MurmurHash3 x86_32 over bytes, written from the algorithm's description. */
export function murmur3Reference(bytes: Uint8Array, seed = 0): number {
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

/** MurmurHash3 x86_32 of a string's UTF-8 bytes, by the reference. */
export function murmur3OfUtf8(s: string): number {
  return murmur3Reference(new TextEncoder().encode(s));
}

/**
 * Equality of evaluation results: numbers by Object.is (NaN equals NaN, -0 differs from 0),
 * arrays element by element, objects by the same keys in any order.
 */
export function sameValue(a: unknown, b: unknown): boolean {
  if (typeof a === 'number' && typeof b === 'number') return Object.is(a, b);
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameValue(a[i], b[i])) return false;
    return true;
  }
  if (a !== null && b !== null && typeof a === 'object' && typeof b === 'object') {
    const ka = Object.keys(a).sort();
    const kb = Object.keys(b).sort();
    if (ka.length !== kb.length || ka.some((k, i) => k !== kb[i])) return false;
    return ka.every((k) => sameValue((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
  }
  return false;
}
