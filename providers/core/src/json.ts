/**
 * Reading untrusted flag set documents: parse, bound the nesting depth, copy objects handed in by
 * callers (so freezing them never touches the caller's data), and deep-freeze what the engine keeps.
 */
import { FlagConfigError, FlagConfigErrorCode, pathKey } from './errors.js';

/** Documents nesting deeper than this are refused; real flag sets stay far below it. */
export const MAX_DOCUMENT_DEPTH = 512;

/** The path, as segments, to the first value past the limit; undefined when there is none. Recursion is bounded by the limit. */
function tooDeep(value: any, depth: number): (string | number)[] | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  if (depth >= MAX_DOCUMENT_DEPTH) return [];
  // An index loop for arrays: for-in would make a string of every index.
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const p = tooDeep(value[i], depth + 1);
      if (p) return p.unshift(i), p;
    }
  } else {
    for (const k in value) {
      const p = tooDeep(value[k], depth + 1);
      if (p) return p.unshift(k), p;
    }
  }
  return undefined;
}

/** Throws NESTING_TOO_DEEP with the path of the first value past the limit. */
export function checkDepth(value: unknown): void {
  const p = tooDeep(value, 0);
  if (p) throw new FlagConfigError(FlagConfigErrorCode.NESTING_TOO_DEEP, p.reduce<string>(pathKey, '$'), `flag set nests deeper than ${MAX_DOCUMENT_DEPTH} levels`);
}

export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new FlagConfigError(FlagConfigErrorCode.INVALID_JSON, '$', `flag set is not valid JSON: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

/**
 * Copies a caller's object into plain JSON data, refusing what JSON cannot hold. Own enumerable
 * string keys only; `__proto__` is copied as an ordinary key (Object.fromEntries defines, never sets).
 */
export function copyJson(value: unknown, path = '$', depth = 0, ancestors: unknown[] = []): unknown {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      // ±Infinity is what JSON.parse makes of 1e999, so only NaN has no JSON spelling.
      if (Number.isNaN(value)) throw new FlagConfigError(FlagConfigErrorCode.NOT_JSON, path, 'NaN is not a JSON number');
      return value;
    case 'object':
      break;
    default:
      throw new FlagConfigError(FlagConfigErrorCode.NOT_JSON, path, `a ${typeof value} is not JSON data`);
  }
  if (value === null) return null;
  if (depth >= MAX_DOCUMENT_DEPTH) {
    throw new FlagConfigError(FlagConfigErrorCode.NESTING_TOO_DEEP, path, `flag set nests deeper than ${MAX_DOCUMENT_DEPTH} levels`);
  }
  if (ancestors.includes(value)) throw new FlagConfigError(FlagConfigErrorCode.NOT_JSON, path, 'the object contains itself (a cycle)');
  ancestors.push(value);
  try {
    if (Array.isArray(value)) return value.map((v, i) => copyJson(v, pathKey(path, i), depth + 1, ancestors));
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) {
      throw new FlagConfigError(FlagConfigErrorCode.NOT_JSON, path, 'only plain objects are JSON data');
    }
    return Object.fromEntries(
      Object.keys(value).map((k) => [k, copyJson((value as Record<string, unknown>)[k], pathKey(path, k), depth + 1, ancestors)]),
    );
  } finally {
    ancestors.pop();
  }
}

export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const k in value) deepFreeze((value as Record<string, unknown>)[k]);
  }
  return value;
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}
