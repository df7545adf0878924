/**
 * Random inputs for abuse-bench.js: hostile JSON, evaluation contexts, flag definitions, tokens,
 * paths and raw-socket payloads. Every generator takes the caller's seeded PRNG (`prng` from
 * fixtures.js), so a worker's sequence of inputs depends only on ABUSE_SEED, not on timing.
 */

export const pick = (rnd, xs) => xs[Math.floor(rnd() * xs.length)];
export const int = (rnd, lo, hi) => lo + Math.floor(rnd() * (hi - lo + 1));
export const chance = (rnd, p) => rnd() < p;
/** URL-encodes any string: lone surrogates (which encodeURIComponent refuses) become U+FFFD. */
export const enc = (s) => encodeURIComponent(s.toWellFormed());

/** Keys that have tripped JSON handlers before: prototype pollution, empty, NUL, lone surrogates, RTL, emoji. */
const NASTY_KEYS = ['__proto__', 'constructor', 'prototype', 'hasOwnProperty', 'toString', '', '\u0000', '\ud800', '\udfff', '\u202e', 'ключ', '键', '🏁', 'a.b', '$ref', '$flagd', 'targetingKey', ' '];

/** Strings of every awkward kind, up to `max` characters. */
export function randomString(rnd, max = 64) {
  switch (int(rnd, 0, 7)) {
    case 0:
      return '';
    case 1:
      return pick(rnd, NASTY_KEYS);
    case 2:
      return 'x'.repeat(int(rnd, 1, max));
    case 3:
      // Random code points, surrogates included (JSON.stringify escapes lone ones).
      return Array.from({ length: int(rnd, 1, Math.min(max, 64)) }, () => String.fromCharCode(int(rnd, 0, 0xffff))).join('');
    case 4:
      return pick(rnd, ['1.2.3', 'v2.4.0', '3.0.0-beta.2', 'not.a.version', '99999999999999999999.0.0', '1.2']);
    case 5:
      return `user-${int(rnd, 0, 1e6)}@${pick(rnd, ['example.com', 'acme.io', 'x'])}`;
    case 6:
      return pick(rnd, ['true', 'null', '0', 'NaN', '{"a":1}', '<script>', '%00', '../../etc/passwd', '${jndi:x}']);
    default:
      return `s-${rnd().toString(36).slice(2)}`;
  }
}

export function randomNumber(rnd) {
  return pick(rnd, [0, -0, 1, -1, 0.5, 1e21, -1e21, Number.MAX_SAFE_INTEGER, Number.MAX_VALUE, Number.MIN_VALUE, 2 ** 53 + 1, int(rnd, -1e9, 1e9), rnd() * 100]);
}

/** Any JSON value, at most `depth` levels deep, with at most `width` members per container. */
export function randomJson(rnd, depth = 3, width = 6) {
  const kind = depth <= 0 ? int(rnd, 0, 3) : int(rnd, 0, 5);
  switch (kind) {
    case 0:
      return pick(rnd, [null, true, false]);
    case 1:
      return randomNumber(rnd);
    case 2:
    case 3:
      return randomString(rnd);
    case 4:
      return Array.from({ length: int(rnd, 0, width) }, () => randomJson(rnd, depth - 1, width));
    default: {
      const o = {};
      for (let i = int(rnd, 0, width); i > 0; i--) o[chance(rnd, 0.3) ? pick(rnd, NASTY_KEYS) : randomString(rnd, 16)] = randomJson(rnd, depth - 1, width);
      return o;
    }
  }
}

/** JSON text nested `depth` levels deep: `[[[...]]]` or `{"a":{"a":...}}`. */
export function deepJsonText(rnd, depth) {
  return chance(rnd, 0.5) ? `${'['.repeat(depth)}${']'.repeat(depth)}` : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
}

/**
 * A JSON text that a parser must survive: `__proto__` members (written as text, so they are own
 * keys and not a prototype change), duplicate keys, deep nesting, huge strings, non-JSON.
 * `limit` is the largest body the server should accept; some bodies go over it on purpose.
 */
export function hostileBodyText(rnd, limit) {
  switch (int(rnd, 0, 11)) {
    case 0:
      return deepJsonText(rnd, pick(rnd, [100, 1_000, 10_000, 50_000, Math.floor(limit / 5)]));
    case 1:
      return `{"__proto__":{"polluted":true,"state":"ENABLED"},"constructor":{"prototype":{"polluted":true}},"key":"${pick(rnd, ['abuse-fuzz-1', '__proto__', 'constructor'])}"}`;
    case 2:
      return `{"key":"a","key":"b","state":"ENABLED","state":"BOGUS","variants":{"on":true},"variants":null}`;
    case 3:
      // Just under and just over the limit.
      return JSON.stringify({ key: 'abuse-fuzz-big', state: 'ENABLED', variants: { on: 'x'.repeat(limit - int(rnd, -200, 200) - 80) } });
    case 4:
      return pick(rnd, ['', ' ', 'null', 'true', '[]', '"str"', '{', '{"a":', '{"a":1,}', "{'a':1}", 'NaN', '1e999', '\ufeff{}', '\u0000']);
    case 5:
      return JSON.stringify(randomJson(rnd, 6, 10));
    case 6:
      return `{"a":"${'\\u0000'.repeat(int(rnd, 1, 5000))}"}`;
    case 7:
      return `{"variants":{"${'k'.repeat(int(rnd, 1, 60_000))}":true},"state":"ENABLED","key":"abuse-fuzz-2"}`;
    case 8:
      return JSON.stringify({ key: 'abuse-fuzz-3', state: 'ENABLED', variants: Object.fromEntries(Array.from({ length: int(rnd, 1, 5000) }, (_, i) => [`v${i}`, i])), defaultVariant: 'v0' });
    case 9:
      return Buffer.from(Array.from({ length: int(rnd, 1, 4096) }, () => int(rnd, 0, 255))).toString('latin1');
    case 10:
      return JSON.stringify({ key: 'abuse-fuzz-4', state: 'ENABLED', variants: { on: true, off: false }, defaultVariant: 'on', targeting: randomRule(rnd, 4) });
    default:
      return JSON.stringify(randomJson(rnd, 2, 3)).slice(0, int(rnd, 0, 40));
  }
}

const OPERATORS = ['if', '==', '===', '!=', '<', '>', 'in', 'var', 'and', 'or', '!', 'cat', 'substr', 'merge', 'map', 'filter', 'reduce', 'all', 'some', 'none', 'fractional', 'sem_ver', 'starts_with', 'ends_with', '+', '*', '/', '%', 'max', 'min', 'missing', 'missing_some', 'no-such-op'];

/** A JSON Logic-shaped rule: real and unknown operators over random arguments. */
export function randomRule(rnd, depth) {
  if (depth <= 0 || chance(rnd, 0.25)) return chance(rnd, 0.5) ? { var: randomString(rnd, 12) } : randomJson(rnd, 0);
  const op = pick(rnd, OPERATORS);
  return { [op]: Array.from({ length: int(rnd, 0, 4) }, () => randomRule(rnd, depth - 1)) };
}

/** A flag definition the API should accept (mostly) or refuse with 400 (sometimes). */
export function randomFlag(rnd, key) {
  const type = int(rnd, 0, 3);
  const value = () => [chance(rnd, 0.5), randomString(rnd, 32), randomNumber(rnd), randomJson(rnd, 2, 3)][type];
  const variants = {};
  for (let i = int(rnd, 1, 5); i > 0; i--) variants[chance(rnd, 0.1) ? pick(rnd, NASTY_KEYS) : `v${i}`] = value();
  const names = Object.keys(variants);
  const flag = { state: chance(rnd, 0.8) ? 'ENABLED' : 'DISABLED', variants, defaultVariant: chance(rnd, 0.9) ? pick(rnd, names) : randomString(rnd, 8) };
  if (key !== undefined) flag.key = key;
  if (chance(rnd, 0.3)) flag.targeting = chance(rnd, 0.5) ? { if: [{ '==': [{ var: 'plan' }, 'pro'] }, pick(rnd, names), null] } : randomRule(rnd, 3);
  if (chance(rnd, 0.3)) flag.metadata = { owner: randomString(rnd, 20), team: 'abuse', n: int(rnd, 0, 9) };
  if (chance(rnd, 0.1)) flag.flagSetId = randomString(rnd, 20) || 'abuse';
  return flag;
}

/** An OFREP evaluation context: random types, large arrays, unicode and prototype keys. */
export function randomContext(rnd) {
  const ctx = {};
  if (chance(rnd, 0.8)) ctx.targetingKey = chance(rnd, 0.8) ? randomString(rnd, 40) : randomJson(rnd, 2);
  for (let i = int(rnd, 0, 8); i > 0; i--) {
    const key = chance(rnd, 0.4) ? pick(rnd, NASTY_KEYS) : pick(rnd, ['plan', 'email', 'country', 'appVersion', 'tier', 'groups', 'age', randomString(rnd, 24)]);
    ctx[key] = chance(rnd, 0.1) ? Array.from({ length: int(rnd, 1000, 20_000) }, (_, j) => (chance(rnd, 0.5) ? j : `g${j}`)) : randomJson(rnd, 3, 5);
  }
  return ctx;
}

/** An Authorization header value that is not one of the configured tokens (or none at all). */
export function badAuthorization(rnd) {
  return pick(rnd, [
    undefined,
    'Bearer',
    'Bearer ',
    `Bearer ${randomString(rnd, 40).replace(/[^\x21-\x7e]/g, 'z') || 'q'}`,
    `Bearer ${'t'.repeat(int(rnd, 8, 8000))}`,
    'Basic YWRtaW46YWRtaW4=',
    'Bearer a b',
    'bearer abuse-admin-token-x',
    `Bearer abuse-admin-token-0${int(rnd, 0, 9)}`,
    'Bearer\tnot-a-configured-token',
  ]);
}

/** The first `n` bytes of a request: a half-sent request line, headers or body. */
export function partialRequest(rnd, port) {
  const full = pick(rnd, [
    `POST /ofrep/v1/evaluate/flags/churn-marker HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n{"context":{"targetingKey":"`,
    `GET /vexil/v1/stream HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAccept: text/event-stream\r\n\r\n`,
    `PATCH /api/v1/flags/abuse-fuzz-1 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer abuse-editor-token-0\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\n5\r\n{"sta\r\n`,
    'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x12\x04\x00\x00\x00\x00\x00',
    'PRI * HTTP/2.0\r\n',
    `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Long: ${'a'.repeat(20_000)}`,
  ]);
  return full.slice(0, int(rnd, 1, full.length));
}

/** A whole request that is malformed on the wire (not through an HTTP client library). */
export function malformedRequest(rnd, port) {
  return pick(rnd, [
    `GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nX-Big: ${'h'.repeat(20_000)}\r\n\r\n`,
    `POST /ofrep/v1/evaluate/flags HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 50\r\n\r\n{"a":`,
    `POST /ofrep/v1/evaluate/flags HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n`,
    `GET /../../../../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n`,
    `GET /api/v1/flags/%ZZ%00%C0%AF HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer abuse-viewer-token-0\r\n\r\n`,
    `FOO\x00BAR / HTTP/1.1\r\n\r\n`,
    `GET / HTTP/9.9\r\n\r\n`,
    `\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03`,
    'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\xff\xff\xff\xff\xff\xff\xff\xff\xff',
    `GET /vexil/v1/stream?selector=${'%0A'.repeat(100)} HTTP/1.1\r\nHost: x\r\n\r\n`,
  ]);
}
