/**
 * Reading untrusted flag set documents: parse, bound the nesting depth, copy objects handed in by
 * callers (so freezing them never touches the caller's data), and deep-freeze what the engine keeps.
 */
import { FlagConfigError, FlagConfigErrorCode, pathKey } from './errors.js';

/** Documents nesting deeper than this are refused; real flag sets stay far below it. */
export const MAX_DOCUMENT_DEPTH = 512;

class DepthExceeded {
  readonly keys: (string | number)[] = [];
}

function pathOf(keys: (string | number)[]): string {
  let p = '$';
  for (let i = keys.length - 1; i >= 0; i--) p = pathKey(p, keys[i]);
  return p;
}

/** Throws NESTING_TOO_DEEP with the path of the first value past the limit. Recursion is bounded by the limit. */
export function checkDepth(value: unknown, depth = 0): void {
  if (value === null || typeof value !== 'object') return;
  if (depth >= MAX_DOCUMENT_DEPTH) throw new DepthExceeded();
  try {
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        try {
          checkDepth(value[i], depth + 1);
        } catch (e) {
          if (e instanceof DepthExceeded) e.keys.push(i);
          throw e;
        }
      }
    } else {
      for (const k in value) {
        if (!Object.prototype.hasOwnProperty.call(value, k)) continue;
        try {
          checkDepth((value as Record<string, unknown>)[k], depth + 1);
        } catch (e) {
          if (e instanceof DepthExceeded) e.keys.push(k);
          throw e;
        }
      }
    }
  } catch (e) {
    if (depth === 0 && e instanceof DepthExceeded) {
      throw new FlagConfigError(
        FlagConfigErrorCode.NESTING_TOO_DEEP,
        pathOf(e.keys),
        `flag set nests deeper than ${MAX_DOCUMENT_DEPTH} levels`,
      );
    }
    throw e;
  }
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
      if (!Number.isFinite(value)) throw new FlagConfigError(FlagConfigErrorCode.NOT_JSON, path, `${value} is not a JSON number`);
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
    for (const k of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[k]);
  }
  return value;
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}
