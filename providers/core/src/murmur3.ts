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

/** One 4-byte block (little-endian in `k`) into the running hash. */
function mix(h: number, k: number): number {
  k = Math.imul(k, C1);
  h ^= Math.imul((k << 15) | (k >>> 17), C2);
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

/**
 * The 0-3 tail bytes (in `k`), the length, the finalizer. A tail of none leaves `k` 0, and
 * mixing 0 changes nothing, so the tail needs no test.
 */
function finish(h: number, k: number, len: number): number {
  k = Math.imul(k, C1);
  h ^= Math.imul((k << 15) | (k >>> 17), C2) ^ len;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * The hash of `a + b` without building it, when both are ASCII: a char code below 0x80 is its
 * own UTF-8 byte, so the codes are hashed as they are read, with no encoding pass and no buffer.
 * Whole 4-char blocks of each string are read four codes at a time; only the block that straddles
 * the seam is assembled char by char. Codes are ORed into `any` and tested once at the end, which
 * keeps the loops free of that branch; -1 (never a hash) means some code was not ASCII.
 */
function ascii(a: string, b: string, seed: number): number {
  const la = a.length;
  const lb = b.length;
  let h = seed | 0;
  let any = 0;
  let i = 0;
  for (; i + 4 <= la; i += 4) {
    const c0 = a.charCodeAt(i), c1 = a.charCodeAt(i + 1), c2 = a.charCodeAt(i + 2), c3 = a.charCodeAt(i + 3);
    any |= c0 | c1 | c2 | c3;
    h = mix(h, c0 | (c1 << 8) | (c2 << 16) | (c3 << 24));
  }
  // The last 0-3 codes of `a`, then as many of `b` as complete their block.
  let k = 0;
  let shift = 0;
  for (; i < la; i++, shift += 8) {
    const c = a.charCodeAt(i);
    any |= c;
    k |= c << shift;
  }
  let j = 0;
  if (shift !== 0) {
    for (; shift < 32 && j < lb; j++, shift += 8) {
      const c = b.charCodeAt(j);
      any |= c;
      k |= c << shift;
    }
    if (shift === 32) {
      h = mix(h, k);
      k = shift = 0;
    }
  }
  for (; j + 4 <= lb; j += 4) {
    const c0 = b.charCodeAt(j), c1 = b.charCodeAt(j + 1), c2 = b.charCodeAt(j + 2), c3 = b.charCodeAt(j + 3);
    any |= c0 | c1 | c2 | c3;
    h = mix(h, c0 | (c1 << 8) | (c2 << 16) | (c3 << 24));
  }
  for (; j < lb; j++, shift += 8) {
    const c = b.charCodeAt(j);
    any |= c;
    k |= c << shift;
  }
  return any > 0x7f ? -1 : finish(h, k, la + lb);
}

/** MurmurHash3 of `a + b`, as murmur3Utf8(a + b) gives, without the concatenation for ASCII keys (flagKey + targetingKey). */
export function murmur3Concat(a: string, b: string, seed = 0): number {
  const fast = ascii(a, b, seed);
  if (fast >= 0) return fast;
  // Not ASCII: encode the joined string, so a surrogate pair split between `a` and `b` stays one character.
  const len = utf8Into(a + b);
  const buf = scratch;
  let h = seed | 0;
  let i = 0;
  for (; i + 4 <= len; i += 4) h = mix(h, buf[i] | (buf[i + 1] << 8) | (buf[i + 2] << 16) | (buf[i + 3] << 24));
  let k = 0;
  for (let s = 0; i < len; s += 8) k |= buf[i++] << s;
  return finish(h, k, len);
}

export function murmur3Utf8(input: string, seed = 0): number {
  return murmur3Concat(input, '', seed);
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
