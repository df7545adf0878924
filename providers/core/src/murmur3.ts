/**
 * MurmurHash3 x86_32 over the UTF-8 bytes of a string, seed 0: the hash flagd (Go) and the Java
 * provider use for `fractional`. Encoding inline (rather than through TextEncoder) keeps the
 * engine free of host APIs and allocates nothing per call. Lone surrogates encode as U+FFFD, as
 * WHATWG UTF-8 encoders and Go's JSON decoder both do.
 */
const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;

// Scratch space for the UTF-8 bytes. Evaluation is synchronous, so one buffer per module is safe;
// it only ever grows to the longest bucketing key seen.
let scratch = new Uint8Array(256);

function utf8Into(input: string): number {
  const max = input.length * 3; // UTF-16 unit -> at most 3 bytes (a pair -> 4 bytes for 2 units)
  if (scratch.length < max) scratch = new Uint8Array(Math.max(max, scratch.length * 2));
  const buf = scratch;
  let len = 0;
  for (let i = 0; i < input.length; i++) {
    let cp = input.charCodeAt(i);
    if (cp < 0x80) {
      buf[len++] = cp;
      continue;
    }
    if (cp < 0x800) {
      buf[len++] = 0xc0 | (cp >> 6);
      buf[len++] = 0x80 | (cp & 0x3f);
      continue;
    }
    if (cp >= 0xd800 && cp <= 0xdfff) {
      const next = i + 1 < input.length ? input.charCodeAt(i + 1) : 0;
      if (cp <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        cp = 0x10000 + ((cp - 0xd800) << 10) + (next - 0xdc00);
        i++;
        buf[len++] = 0xf0 | (cp >> 18);
        buf[len++] = 0x80 | ((cp >> 12) & 0x3f);
        buf[len++] = 0x80 | ((cp >> 6) & 0x3f);
        buf[len++] = 0x80 | (cp & 0x3f);
        continue;
      }
      cp = 0xfffd;
    }
    buf[len++] = 0xe0 | (cp >> 12);
    buf[len++] = 0x80 | ((cp >> 6) & 0x3f);
    buf[len++] = 0x80 | (cp & 0x3f);
  }
  return len;
}

export function murmur3Utf8(input: string, seed = 0): number {
  const len = utf8Into(input);
  const buf = scratch;
  let h = seed | 0;
  const blocks = len & ~3;
  for (let i = 0; i < blocks; i += 4) {
    let k = buf[i] | (buf[i + 1] << 8) | (buf[i + 2] << 16) | (buf[i + 3] << 24);
    k = Math.imul(k, C1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, C2);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  const rem = len & 3;
  if (rem !== 0) {
    let k = buf[blocks];
    if (rem > 1) k |= buf[blocks + 1] << 8;
    if (rem > 2) k |= buf[blocks + 2] << 16;
    k = Math.imul(k, C1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, C2);
    h ^= k;
  }
  h ^= len;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * flagd v2 bucketing: floor(hash × totalWeight / 2^32), exactly. The product can reach 2^63, past
 * a double's 53 bits, so it is split into 16-bit halves; every partial product stays exact.
 */
export function bucketOf(hash: number, totalWeight: number): number {
  const hi = hash >>> 16;
  const lo = hash & 0xffff;
  const a = hi * totalWeight; // < 2^47
  const b = lo * totalWeight; // < 2^47
  const a1 = Math.floor(a / 65536);
  const a0 = a - a1 * 65536;
  return a1 + Math.floor((a0 * 65536 + b) / 4294967296);
}
